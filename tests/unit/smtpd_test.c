/* SPDX-License-Identifier: ISC */
/* smtpd_test.c: whole sessions of sendmail -bs: the dialogue is written to a pipe and closed,
 * smtpd_run answers into a temporary file, and the exact reply bytes, the exit code and what
 * the stub deliver() read are compared. Also the command parser alone, table-driven. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smtpd.h"
#include "tap.h"
#include "util.h"

#define SMTPD_OUT_FLUSH_FOR_TESTS 4096	/* smtpd.c's SMTPD_OUT_FLUSH */

/* exposed by smtpd.c for tests and fuzzing */
int smtpd_parse_describe(const char *line, size_t len, char *out, size_t outlen);

#define DOMAIN "mx.example.net"
#define G "220 " DOMAIN " postie ESMTP\r\n"
#define HELO_OK "250 " DOMAIN "\r\n"
#define MAIL_OK "250 2.1.0 Ok\r\n"
#define RCPT_OK "250 2.1.5 Ok\r\n"
#define GO "354 End data with <CR><LF>.<CR><LF>\r\n"
#define QUEUED "250 2.0.0 queued as X\r\n"
#define BYE "221 2.0.0 Bye\r\n"

/* What the callbacks do, and what deliver() saw. */
struct stub {
	int code;		/* deliver's reply: 250 "2.0.0 queued as X" unless set */
	const char *text;
	size_t chunk;		/* deliver reads this many bytes at a time (0: 4096) */
	bool read_nothing;	/* deliver returns without reading */
	struct buf log;		/* per delivery: "sender>rcpt,rcpt:content|" */
	ssize_t last_read;	/* deliver's last read result, and errno after it */
	int last_errno;
};

/* Bare names are qualified with example.net, as postie's own check does. */
static char *qualify(const char *addr)
{
	return *addr && !strchr(addr, '@') ? xasprintf("%s@example.net", addr) : xstrdup(addr);
}

static int stub_sender(void *ctx, const char *addr, char **out, char *reply, size_t len)
{
	(void)ctx;
	if (strcmp(addr, "spam@example.org") == 0) {
		snprintf(reply, len, "5.7.1 sender refused");
		return 553;
	}
	*out = qualify(addr);
	return 250;
}

static int stub_rcpt(void *ctx, const char *addr, char **out, char *reply, size_t len)
{
	(void)ctx;
	if (strcmp(addr, "bad@example.org") == 0) {
		snprintf(reply, len, "5.1.1 <%s>: no such user", addr);
		return 550;
	}
	*out = qualify(addr);
	return 250;
}

static int stub_deliver(void *ctx, const char *sender, char *const *rcpts, size_t nrcpt,
			smtpd_read_fn rd, void *stream, char *reply, size_t len)
{
	struct stub *st = ctx;
	buf_printf(&st->log, "%s>", sender);
	for (size_t i = 0; i < nrcpt; i++)
		buf_printf(&st->log, "%s%s", i ? "," : "", rcpts[i]);
	buf_putc(&st->log, ':');
	ssize_t n = 0;
	if (!st->read_nothing) {
		char chunk[4096];
		size_t want = st->chunk ? st->chunk : sizeof chunk;
		while ((n = rd(stream, chunk, want)) > 0)
			buf_append(&st->log, chunk, (size_t)n);
		st->last_read = n;
		st->last_errno = n < 0 ? errno : 0;
	}
	buf_putc(&st->log, '|');
	if (n < 0) {
		snprintf(reply, len, "4.3.0 read failed");
		return 451;
	}
	snprintf(reply, len, "%s", st->text ? st->text : "2.0.0 queued as X");
	return st->code ? st->code : 250;
}

static struct smtpd_params params(struct stub *st)
{
	struct smtpd_params p = {
		.domain = DOMAIN,
		.size_limit = 0,
		.max_rcpts = 100,
		.timeout = 5,
		.check_rcpt = stub_rcpt,
		.check_sender = stub_sender,
		.deliver = stub_deliver,
		.ctx = st,
	};
	return p;
}

/* Runs a session on input (len bytes) through a pipe, closed after writing unless keep_open;
 * returns the replies (caller frees) and the exit code in *rc. With trickle, a child writes
 * the input a byte at a time, so that reads end anywhere in a line. */
static char *session_run(const struct smtpd_params *p, const char *in, size_t len, bool keep_open,
			 bool trickle, int *rc, struct diag *d)
{
	int fds[2];
	pid_t child = -1;
	if (pipe(fds) < 0) {
		perror("pipe");
		exit(99);
	}
	if (trickle) {
		child = fork();
		if (child == 0) {
			close(fds[0]);
			for (size_t i = 0; i < len; i++) {
				if (write(fds[1], in + i, 1) != 1)
					_exit(1);
				usleep(20);
			}
			_exit(0);
		}
		close(fds[1]);
	} else {
		if (len && write(fds[1], in, len) != (ssize_t)len) {
			perror("write");
			exit(99);
		}
		if (!keep_open)
			close(fds[1]);
	}
	FILE *out = tmpfile();
	if (!out) {
		perror("tmpfile");
		exit(99);
	}
	memset(d, 0, sizeof *d);
	*rc = smtpd_run(p, fds[0], fileno(out), d);
	close(fds[0]);
	if (keep_open && !trickle)
		close(fds[1]);
	if (child > 0)
		waitpid(child, NULL, 0);
	struct buf b = {0};
	char chunk[4096];
	size_t n;
	rewind(out);
	while ((n = fread(chunk, 1, sizeof chunk, out)) > 0)
		buf_append(&b, chunk, n);
	fclose(out);
	return buf_steal(&b);
}

static char *session_with(const struct smtpd_params *p, const char *in, size_t len,
			  bool keep_open, int *rc, struct diag *d)
{
	return session_run(p, in, len, keep_open, false, rc, d);
}

static char *session(const struct smtpd_params *p, const char *in, int *rc, struct diag *d)
{
	return session_with(p, in, strlen(in), false, rc, d);
}

/* --- whole dialogues, table-driven ---------------------------------------------------- */

static const struct {
	const char *what, *in, *want, *delivered;	/* delivered: NULL to skip */
	int rc;
	unsigned long long size_limit;
	size_t max_rcpts;
} dialogues[] = {
	{ "the tutorial session, verbatim",
	  "HELO localhost\r\nMAIL FROM: philip\r\nRCPT TO: philip\r\nDATA\r\n"
	  "Subject: hello\r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE,
	  "philip@example.net>philip@example.net:Subject: hello\r\n|", EX_OK, 0, 0 },
	{ "the tutorial session typed with bare LFs, as a script pipes it",
	  "HELO localhost\nMAIL FROM: philip\nRCPT TO: philip\nDATA\nSubject: hello\n.\nQUIT\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE,
	  "philip@example.net>philip@example.net:Subject: hello\r\n|", EX_OK, 0, 0 },
	{ "EHLO advertises the extensions and the size limit",
	  "EHLO client.example\r\nQUIT\r\n",
	  G "250-" DOMAIN "\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n" BYE, "", EX_OK, 10485760, 0 },
	{ "EHLO advertises a plain SIZE without a limit",
	  "ehlo client.example\r\nquit\r\n",
	  G "250-" DOMAIN "\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n" BYE, "", EX_OK, 0, 0 },
	{ "three messages in one session, with RSET between them",
	  "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\none\r\n.\r\n"
	  "RSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\n"
	  "RCPT TO:<d@example.org>\r\nDATA\r\ntwo\r\n.\r\nRSET\r\n"
	  "MAIL FROM:<>\r\nRCPT TO:<e@example.org>\r\nDATA\r\nthree\r\n.\r\nQUIT\r\n",
	  G "250-" DOMAIN "\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n"
	  MAIL_OK RCPT_OK GO QUEUED "250 2.0.0 Ok\r\n" MAIL_OK RCPT_OK RCPT_OK GO QUEUED
	  "250 2.0.0 Ok\r\n" MAIL_OK RCPT_OK GO QUEUED BYE,
	  "a@example.org>b@example.org:one\r\n|a@example.org>c@example.org,d@example.org:two\r\n|"
	  ">e@example.org:three\r\n|", EX_OK, 0, 0 },
	{ "messages follow each other without RSET: the transaction resets after the dot",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n1\r\n.\r\n"
	  "MAIL FROM:<c@x>\r\nRCPT TO:<d@x>\r\nDATA\r\n2\r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED MAIL_OK RCPT_OK GO QUEUED BYE,
	  "a@x>b@x:1\r\n|c@x>d@x:2\r\n|", EX_OK, 0, 0 },
	{ "RSET drops the open transaction",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nRSET\r\nDATA\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK "250 2.0.0 Ok\r\n503 5.5.1 Error: need MAIL command\r\n" BYE,
	  "", EX_OK, 0, 0 },
	{ "MAIL without HELO is accepted, as Postfix does",
	  "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
	  G MAIL_OK RCPT_OK GO QUEUED BYE, "a@x>b@x:x\r\n|", EX_OK, 0, 0 },
	{ "EHLO in the middle drops the open transaction",
	  "EHLO c\r\nMAIL FROM:<a@x>\r\nHELO c\r\nRCPT TO:<b@x>\r\nQUIT\r\n",
	  G "250-" DOMAIN "\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n" MAIL_OK HELO_OK
	  "503 5.5.1 Error: need MAIL command\r\n" BYE, "", EX_OK, 0, 0 },
	{ "MAIL parameters are accepted and ignored; SIZE under the limit passes",
	  "HELO c\r\nMAIL FROM:<a@x> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<b@x> NOTIFY=NEVER\r\n"
	  "QUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK BYE, "", EX_OK, 1000, 0 },
	{ "MAIL with a SIZE over the limit gets 552 5.3.4",
	  "HELO c\r\nMAIL FROM:<a@x> SIZE=1001\r\nRCPT TO:<b@x>\r\nQUIT\r\n",
	  G HELO_OK "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
	  "503 5.5.1 Error: need MAIL command\r\n" BYE, "", EX_OK, 1000, 0 },
	{ "content over the SIZE limit is read to the dot and refused with 552",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n0123456789\r\n0123456789\r\n"
	  ".\r\nNOOP\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO
	  "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n" BYE,
	  NULL /* how much deliver got before the read failed depends on the reads */, EX_OK, 16,
	  0 },
	{ "verbs are case-insensitive, and so are FROM: and TO:",
	  "helo c\r\nmail from:<a@x>\r\nrcpt to:<b@x>\r\nQuit\r\n",
	  G HELO_OK MAIL_OK RCPT_OK BYE, "", EX_OK, 0, 0 },
	{ "NOOP, HELP and VRFY answer 250, 214 and 252",
	  "NOOP\r\nNOOP anything\r\nHELP\r\nHELP MAIL\r\nVRFY philip\r\nQUIT\r\n",
	  G "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
	  "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT\r\n"
	  "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT\r\n"
	  "252 2.5.2 Cannot verify the address; send mail to it and delivery will be attempted\r\n"
	  BYE, "", EX_OK, 0, 0 },
	{ "RCPT before MAIL gets 503 5.5.1",
	  "HELO c\r\nRCPT TO:<b@x>\r\nQUIT\r\n",
	  G HELO_OK "503 5.5.1 Error: need MAIL command\r\n" BYE, "", EX_OK, 0, 0 },
	{ "DATA before MAIL gets 503 5.5.1",
	  "HELO c\r\nDATA\r\nQUIT\r\n",
	  G HELO_OK "503 5.5.1 Error: need MAIL command\r\n" BYE, "", EX_OK, 0, 0 },
	{ "DATA before RCPT gets 503 5.5.1",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nDATA\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK "503 5.5.1 Error: need RCPT command\r\n" BYE, "", EX_OK, 0, 0 },
	{ "DATA after every RCPT was refused gets 554 5.5.1",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bad@example.org>\r\nDATA\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK "550 5.1.1 <bad@example.org>: no such user\r\n"
	  "554 5.5.1 Error: no valid recipients\r\n" BYE, "", EX_OK, 0, 0 },
	{ "a nested MAIL gets 503 5.5.1 and the first transaction goes on",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nMAIL FROM:<c@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nx\r\n.\r\n"
	  "QUIT\r\n",
	  G HELO_OK MAIL_OK "503 5.5.1 Error: nested MAIL command\r\n" RCPT_OK GO QUEUED BYE,
	  "a@x>b@x:x\r\n|", EX_OK, 0, 0 },
	{ "an unknown command gets 500 5.5.2",
	  "HELO c\r\nFROB x\r\n\r\nQUIT\r\n",
	  G HELO_OK "500 5.5.2 Error: command not recognized\r\n"
	  "500 5.5.2 Error: command not recognized\r\n" BYE, "", EX_OK, 0, 0 },
	{ "commands known but not offered get 502 5.5.1",
	  "EXPN staff\r\nSTARTTLS\r\nQUIT\r\n",
	  G "502 5.5.1 Error: command not implemented\r\n"
	  "502 5.5.1 Error: command not implemented\r\n" BYE, "", EX_OK, 0, 0 },
	{ "bad syntax gets 501",
	  "HELO\r\nMAIL TO:<a@x>\r\nMAIL FROM:<a@x\r\nMAIL FROM:\r\nMAIL FROM:<a@x>\r\n"
	  "RCPT TO:<>\r\nRCPT TO:<b@x> =x\r\nDATA now\r\nQUIT\r\n",
	  G "501 5.5.4 Syntax: HELO hostname\r\n501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
	  "501 5.1.7 Bad sender address syntax\r\n501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
	  MAIL_OK "501 5.1.3 Bad recipient address syntax\r\n501 5.5.4 Bad parameter syntax\r\n"
	  "501 5.5.4 Syntax: DATA\r\n" BYE, "", EX_OK, 0, 0 },
	{ "a control character in a command gets 500 5.5.2",
	  "NOOP \x01\r\nHELO a\rb\r\nQUIT\r\n",
	  G "500 5.5.2 Error: bad syntax\r\n500 5.5.2 Error: bad syntax\r\n" BYE, "", EX_OK, 0, 0 },
	{ "a refused recipient gets check_rcpt's code and text; the others go on",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bad@example.org>\r\nRCPT TO:<b@x>\r\nDATA\r\n"
	  "x\r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK "550 5.1.1 <bad@example.org>: no such user\r\n" RCPT_OK GO QUEUED BYE,
	  "a@x>b@x:x\r\n|", EX_OK, 0, 0 },
	{ "a refused sender gets check_sender's code and text",
	  "HELO c\r\nMAIL FROM:<spam@example.org>\r\nRCPT TO:<b@x>\r\nQUIT\r\n",
	  G HELO_OK "553 5.7.1 sender refused\r\n503 5.5.1 Error: need MAIL command\r\n" BYE,
	  "", EX_OK, 0, 0 },
	{ "a RCPT past max_rcpts gets 452 4.5.3 and the message goes to the first ones",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nRCPT TO:<c@x>\r\nRCPT TO:<d@x>\r\n"
	  "DATA\r\nx\r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK RCPT_OK "452 4.5.3 Error: too many recipients\r\n" GO QUEUED
	  BYE, "a@x>b@x,c@x:x\r\n|", EX_OK, 0, 2 },
	{ "a source route is ignored",
	  "HELO c\r\nMAIL FROM:<@relay.example:a@x>\r\nRCPT TO:<@r1,@r2:b@x>\r\nDATA\r\nx\r\n.\r\n"
	  "QUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE, "a@x>b@x:x\r\n|", EX_OK, 0, 0 },
	{ "a quoted local part may hold > and spaces",
	  "HELO c\r\nMAIL FROM:<\"a> b\"@x>\r\nRCPT TO: <b@x>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE, "\"a> b\"@x>b@x:x\r\n|", EX_OK, 0, 0 },
	{ "dot-stuffed lines arrive unstuffed, other dots untouched",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n..x\r\n..\r\n...\r\na.b\r\n"
	  ". \r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE, "a@x>b@x:.x\r\n.\r\n..\r\na.b\r\n \r\n|",
	  EX_OK, 0, 0 },
	{ "bare LFs in the content become CRLF, bare CRs stay, and .LF ends it",
	  "HELO c\nMAIL FROM:<a@x>\nRCPT TO:<b@x>\nDATA\none\ntwo\rthree\r\n\n.\nQUIT\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE, "a@x>b@x:one\r\ntwo\rthree\r\n\r\n|",
	  EX_OK, 0, 0 },
	{ "an empty message is delivered empty",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE, "a@x>b@x:|", EX_OK, 0, 0 },
	{ "\".\" that is not at a line start does not end the content",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nx.\r\n\r.\r\n.\r\nQUIT\r\n",
	  G HELO_OK MAIL_OK RCPT_OK GO QUEUED BYE, "a@x>b@x:x.\r\n\r.\r\n|", EX_OK, 0, 0 },
	{ "the input ending mid-DATA: deliver's read fails, no 250, EX_PROTOCOL",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nhalf a mess",
	  G HELO_OK MAIL_OK RCPT_OK GO, "a@x>b@x:half a mess|", EX_PROTOCOL, 0, 0 },
	{ "the input ending right after a final-looking dot without its line end",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nx\r\n.",
	  G HELO_OK MAIL_OK RCPT_OK GO, "a@x>b@x:x\r\n|", EX_PROTOCOL, 0, 0 },
	{ "the input ending after a dot and a CR",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nx\r\n.\r",
	  G HELO_OK MAIL_OK RCPT_OK GO, "a@x>b@x:x\r\n|", EX_PROTOCOL, 0, 0 },
	{ "the input ending without QUIT: replies written, EX_PROTOCOL",
	  "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\n",
	  G HELO_OK MAIL_OK RCPT_OK, "", EX_PROTOCOL, 0, 0 },
	{ "a last command without its line end is dropped",
	  "HELO c\r\nQUIT", G HELO_OK, "", EX_PROTOCOL, 0, 0 },
	{ "empty input: the greeting, then EX_PROTOCOL", "", G, "", EX_PROTOCOL, 0, 0 },
	{ "nothing is read after QUIT",
	  "QUIT\r\nNOOP\r\n", G BYE, "", EX_OK, 0, 0 },
	{ "a DATA refused while its content was pipelined: the lines are taken as commands",
	  "HELO c\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n",
	  G HELO_OK "503 5.5.1 Error: need MAIL command\r\n"
	  "500 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: command not recognized\r\n"
	  BYE, "", EX_OK, 0, 0 },
};

static void test_dialogues(bool trickle)
{
	const char *how = trickle ? " (a byte per read)" : "";
	for (size_t i = 0; i < sizeof dialogues / sizeof dialogues[0]; i++) {
		struct stub st = {0};
		struct smtpd_params p = params(&st);
		p.size_limit = dialogues[i].size_limit;
		if (dialogues[i].max_rcpts)
			p.max_rcpts = dialogues[i].max_rcpts;
		int rc;
		struct diag d;
		char *out = session_run(&p, dialogues[i].in, strlen(dialogues[i].in), false, trickle,
					&rc, &d);
		is_str(out, dialogues[i].want, "%s: replies%s", dialogues[i].what, how);
		is_int(rc, dialogues[i].rc, "%s: exit code%s", dialogues[i].what, how);
		if (dialogues[i].delivered)
			is_str(st.log.data ? st.log.data : "", dialogues[i].delivered,
			       "%s: delivered%s", dialogues[i].what, how);
		free(out);
		buf_free(&st.log);
	}
}

/* --- sessions that need more than a row ----------------------------------------------- */

static void test_end_of_input(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	int rc;
	struct diag d;
	char *out = session(&p, "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nhalf", &rc,
			    &d);
	is_int(st.last_read, -1, "input ending mid-DATA: deliver's read returns -1");
	is_int(st.last_errno, EPIPE, "input ending mid-DATA: with errno EPIPE");
	is_str(d.msg, "input ended in the middle of DATA: the message was dropped",
	       "input ending mid-DATA: the message");
	ok(strstr(out, "250 2.0.0") == NULL, "input ending mid-DATA: no 250 after the 354");
	free(out);
	buf_free(&st.log);

	out = session(&p, "HELO c\r\nMAIL FROM:<a@x>\r\n", &rc, &d);
	is_str(d.msg, "input ended without QUIT: the open transaction was dropped",
	       "input ending without QUIT inside a transaction: the message");
	is_int(d.code, EX_PROTOCOL, "input ending without QUIT: d's code");
	free(out);
	out = session(&p, "HELO c\r\n", &rc, &d);
	is_str(d.msg, "input ended without QUIT", "input ending without QUIT between transactions");
	free(out);
	buf_free(&st.log);
}

static void test_long_lines(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	int rc;
	struct diag d;
	struct buf in = {0};
	/* 1500 octets with the CRLF, then commands that must still work */
	buf_puts(&in, "NOOP ");
	for (int i = 0; i < 1493; i++)
		buf_putc(&in, 'x');
	buf_puts(&in, "\r\nHELO c\r\n");
	char *out = session(&p, in.data, &rc, &d);
	is_str(out, G "500 5.5.6 Error: line too long\r\n" HELO_OK,
	       "a 1500-octet command gets 500 5.5.6 and the next one is answered");
	free(out);

	/* the limit: 998 octets and CRLF pass, 999 do not, a bare LF counted as CRLF */
	for (size_t n = 997; n <= 1000; n++) {
		buf_reset(&in);
		buf_puts(&in, "NOOP ");
		for (size_t i = 5; i < n; i++)
			buf_putc(&in, 'x');
		buf_puts(&in, n % 2 ? "\r\nQUIT\r\n" : "\nQUIT\n");
		out = session(&p, in.data, &rc, &d);
		is_str(out, n <= 998 ? G "250 2.0.0 Ok\r\n" BYE
				     : G "500 5.5.6 Error: line too long\r\n" BYE,
		       "a command of %zu octets before its line end", n);
		free(out);
	}

	/* far longer than the input buffer, CR and LF split across reads */
	buf_reset(&in);
	buf_puts(&in, "MAIL FROM:<");
	for (int i = 0; i < 100000; i++)
		buf_putc(&in, 'a');
	buf_puts(&in, ">\r\nQUIT\r\n");
	/* (a pipe holds 64 KiB: a child writes it) */
	int fds[2];
	if (pipe(fds) < 0)
		exit(99);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(write(fds[1], in.data, in.len) == (ssize_t)in.len ? 0 : 1);
	}
	close(fds[1]);
	FILE *f = tmpfile();
	rc = smtpd_run(&p, fds[0], fileno(f), &d);
	close(fds[0]);
	struct buf b = {0};
	char chunk[512];
	size_t n;
	rewind(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	waitpid(pid, NULL, 0);
	is_str(b.data, G "500 5.5.6 Error: line too long\r\n" BYE,
	       "a 100 kB command gets one 500 and the session goes on");
	is_int(rc, EX_OK, "a 100 kB command: QUIT still ends with EX_OK");
	buf_free(&b);

	/* inside DATA a long line is content */
	buf_reset(&in);
	buf_puts(&in, "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n");
	for (int i = 0; i < 3000; i++)
		buf_putc(&in, 'y');
	buf_puts(&in, "\r\n.\r\nQUIT\r\n");
	out = session(&p, in.data, &rc, &d);
	is_str(out, G MAIL_OK RCPT_OK GO QUEUED BYE, "a 3000-octet line inside DATA is content");
	is_int((long)st.log.len, (long)strlen("a@x>b@x:") + 3000 + 2 + 1,
	       "a 3000-octet line inside DATA arrives whole");
	free(out);
	buf_free(&in);
	buf_free(&st.log);
}

static void test_deliver_reads(void)
{
	static const char *in = "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nab\ncd\r\n..e\n"
				".\r\nNOOP\r\nQUIT\r\n";
	for (size_t chunk = 1; chunk <= 4; chunk++) {
		struct stub st = { .chunk = chunk };
		struct smtpd_params p = params(&st);
		int rc;
		struct diag d;
		char *out = session(&p, in, &rc, &d);
		is_str(st.log.data, "a@x>b@x:ab\r\ncd\r\n.e\r\n|",
		       "deliver reading %zu bytes at a time gets the same content", chunk);
		is_str(out, G MAIL_OK RCPT_OK GO QUEUED "250 2.0.0 Ok\r\n" BYE,
		       "deliver reading %zu bytes at a time: the replies", chunk);
		free(out);
		buf_free(&st.log);
	}

	struct stub st = { .read_nothing = true };
	struct smtpd_params p = params(&st);
	int rc;
	struct diag d;
	char *out = session(&p, in, &rc, &d);
	is_str(out, G MAIL_OK RCPT_OK GO QUEUED "250 2.0.0 Ok\r\n" BYE,
	       "a deliver that reads nothing: smtpd reads the content to the dot itself");
	free(out);
	buf_free(&st.log);
}

static void test_relay_replies(void)
{
	static const struct {
		int code;
		const char *text, *want, *what;
	} cases[] = {
		{ 451, "4.3.0 relay busy", "451 4.3.0 relay busy\r\n", "the relay's 451" },
		{ 554, "5.7.1 no", "554 5.7.1 no\r\n", "the relay's 554" },
		{ 250, "2.0.0 Ok: sent", "250 2.0.0 Ok: sent\r\n", "250 when sent" },
		{ 554, "5.7.1 first\nsecond", "554-5.7.1 first\r\n554 second\r\n",
		  "a text of two lines makes a multi-line reply" },
		{ 550, "550-5.7.1 first\r\n550 5.7.1 second\r\n",
		  "550-5.7.1 first\r\n550 5.7.1 second\r\n",
		  "a multi-line text with its codes keeps them once" },
		{ 451, "", "451 4.0.0 Delivery failed, try again later\r\n",
		  "an empty 4xx text gets a default" },
		{ 550, "evil\r\n250 ok", "550-evil\r\n550 ok\r\n",
		  "a text cannot forge a reply with another code" },
		{ 550, "tab\there \x01", "550 tab here  \r\n",
		  "control characters in a text become spaces" },
		{ 554, "\r\n", "554 5.0.0 Delivery failed\r\n", "a blank text gets a default" },
		{ 99, "nonsense", "451 4.3.0 Error: internal error delivering the message\r\n",
		  "a code out of range becomes 451" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct stub st = { .code = cases[i].code, .text = cases[i].text };
		struct smtpd_params p = params(&st);
		int rc;
		struct diag d;
		char *out = session(&p, "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nx\r\n.\r\n"
					"QUIT\r\n", &rc, &d);
		struct buf want = {0};
		buf_printf(&want, G MAIL_OK RCPT_OK GO "%s" BYE, cases[i].want);
		is_str(out, want.data, "deliver's reply is the final-dot reply: %s", cases[i].what);
		free(out);
		buf_free(&want);
		buf_free(&st.log);
	}
}

static volatile sig_atomic_t cancel_flag;

static void on_alarm(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

static void test_timeout_and_cancel(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	p.timeout = 1;
	int rc;
	struct diag d;
	char *out = session_with(&p, "HELO c\r\n", 8, true, &rc, &d);
	is_str(out, G HELO_OK "421 4.4.2 " DOMAIN " timeout\r\n",
	       "a client that stops sending gets 421 4.4.2 after the timeout");
	is_int(rc, EX_TEMPFAIL, "a timeout returns EX_TEMPFAIL");
	is_str(d.msg, "timed out after 1 s waiting for the SMTP client", "a timeout: the message");
	free(out);

	static const char *mid = "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nhalf";
	out = session_with(&p, mid, strlen(mid), true, &rc, &d);
	is_str(out, G MAIL_OK RCPT_OK GO "421 4.4.2 " DOMAIN " timeout\r\n",
	       "a timeout inside DATA gets 421 and no final-dot reply");
	is_int(rc, EX_TEMPFAIL, "a timeout inside DATA returns EX_TEMPFAIL");
	is_int(st.last_errno, ETIMEDOUT, "a timeout inside DATA: deliver's read fails ETIMEDOUT");
	free(out);
	buf_free(&st.log);

	/* a signal interrupting the wait, with the flag set by its handler */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	p.timeout = 30;
	p.cancel = &cancel_flag;
	cancel_flag = 0;
	alarm(1);
	out = session_with(&p, "NOOP\r\n", 6, true, &rc, &d);
	alarm(0);
	is_str(out, G "250 2.0.0 Ok\r\n421 4.3.2 " DOMAIN " shutting down\r\n",
	       "a cancel while waiting for a command gets 421");
	is_int(rc, EX_TEMPFAIL, "a cancel returns EX_TEMPFAIL");
	free(out);

	cancel_flag = 0;
	alarm(1);
	out = session_with(&p, mid, strlen(mid), true, &rc, &d);
	alarm(0);
	is_str(out, G MAIL_OK RCPT_OK GO "421 4.3.2 " DOMAIN " shutting down\r\n",
	       "a cancel inside DATA gets 421 and no final-dot reply");
	is_int(rc, EX_TEMPFAIL, "a cancel inside DATA returns EX_TEMPFAIL");
	is_int(st.last_errno, ECANCELED, "a cancel inside DATA: deliver's read fails ECANCELED");
	free(out);
	buf_free(&st.log);
}

static void test_write_error(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	int in[2], outp[2];
	if (pipe(in) < 0 || pipe(outp) < 0)
		exit(99);
	static const char dialogue[] = "HELO c\r\nQUIT\r\n";
	if (write(in[1], dialogue, sizeof dialogue - 1) < 0)
		exit(99);
	close(in[1]);
	close(outp[0]);
	struct diag d = {0};
	int rc = smtpd_run(&p, in[0], outp[1], &d);
	is_int(rc, EX_IOERR, "a reader that went away: EX_IOERR");
	is_str(d.msg, "cannot write the SMTP reply: Broken pipe", "a reader that went away: message");
	close(in[0]);
	close(outp[1]);
}

/* Replies larger than a pipe holds, into a non-blocking pipe that a child drains late. */
static void test_nonblocking_output(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	struct buf in = {0};
	for (int i = 0; i < 6000; i++)
		buf_puts(&in, "NOOP\r\n");
	buf_puts(&in, "QUIT\r\n");
	int infd[2], outfd[2];
	if (pipe(infd) < 0 || pipe(outfd) < 0)
		exit(99);
	pid_t writer = fork();
	if (writer == 0) {
		close(infd[0]);
		_exit(write(infd[1], in.data, in.len) == (ssize_t)in.len ? 0 : 1);
	}
	close(infd[1]);
	pid_t reader = fork();
	if (reader == 0) {
		close(outfd[1]);
		usleep(200000);
		size_t total = 0;
		char chunk[4096];
		ssize_t n;
		while ((n = read(outfd[0], chunk, sizeof chunk)) > 0)
			total += (size_t)n;
		_exit(total == strlen(G) + 6000 * strlen("250 2.0.0 Ok\r\n") + strlen(BYE) ? 0 : 1);
	}
	close(outfd[0]);
	fcntl(outfd[1], F_SETFL, fcntl(outfd[1], F_GETFL) | O_NONBLOCK);
	struct diag d = {0};
	int rc = smtpd_run(&p, infd[0], outfd[1], &d);
	close(infd[0]);
	close(outfd[1]);
	int status;
	waitpid(writer, &status, 0);
	waitpid(reader, &status, 0);
	is_int(rc, EX_OK, "a non-blocking output that fills up: the session ends with EX_OK");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a non-blocking output that fills up: every reply arrives");
	buf_free(&in);
}

/* --- the parser alone ----------------------------------------------------------------- */

static const struct {
	const char *in, *want;
	int code;
} commands[] = {
	{ "HELO localhost", "HELO localhost", 0 },
	{ "EHLO  client.example  ", "EHLO client.example", 0 },
	{ "MAIL FROM:<a@example.org>", "MAIL <a@example.org>", 0 },
	{ "MAIL FROM: philip", "MAIL <philip>", 0 },
	{ "MAIL FROM:philip", "MAIL <philip>", 0 },
	{ "MAIL FROM: <a@x> SIZE=42", "MAIL <a@x> SIZE=42", 0 },
	{ "MAIL FROM:<> BODY=8BITMIME", "MAIL <>", 0 },
	{ "MAIL FROM:<a@x> SIZE=99999999999999999999999", "MAIL <a@x> SIZE=18446744073709551615",
	  0 },
	{ "MAIL FROM:<a@x> SIZE=1x", "501 5.5.4 Bad SIZE parameter", 501 },
	{ "MAIL FROM:<a@x> SIZE", "501 5.5.4 Bad SIZE parameter", 501 },
	{ "MAIL FROM:<a@x> X=", "501 5.5.4 Bad parameter syntax", 501 },
	{ "MAIL FROM:<a@x> -X", "501 5.5.4 Bad parameter syntax", 501 },
	{ "MAIL FROM:<a@x>X", "501 5.1.7 Bad sender address syntax", 501 },
	{ "MAIL FROM:<a <b>", "501 5.1.7 Bad sender address syntax", 501 },
	{ "MAIL FROM:a>", "501 5.1.7 Bad sender address syntax", 501 },
	{ "MAIL FROM:<@route>", "501 5.1.7 Bad sender address syntax", 501 },
	{ "MAIL FROM:<@route:>", "501 5.1.7 Bad sender address syntax", 501 },
	{ "MAIL FROM:<\"a\\\"b\"@x>", "MAIL <\"a\\\"b\"@x>", 0 },
	{ "MAIL FROM", "501 5.5.4 Syntax: MAIL FROM:<address>", 501 },
	{ "MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>", 501 },
	{ "RCPT TO: philip", "RCPT <philip>", 0 },
	{ "RCPT TO:<Postmaster>", "RCPT <Postmaster>", 0 },
	{ "RCPT TO:<>", "501 5.1.3 Bad recipient address syntax", 501 },
	{ "RCPT TO:", "501 5.5.4 Syntax: RCPT TO:<address>", 501 },
	{ "RCPT FROM:<a@x>", "501 5.5.4 Syntax: RCPT TO:<address>", 501 },
	{ "RCPT TO:<b@x> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x", "RCPT <b@x>", 0 },
	{ "DATA", "DATA", 0 },
	{ "data ", "DATA", 0 },
	{ "DATA x", "501 5.5.4 Syntax: DATA", 501 },
	{ "RSET x", "501 5.5.4 Syntax: RSET", 501 },
	{ "QUIT x", "501 5.5.4 Syntax: QUIT", 501 },
	{ "NOOP x y", "NOOP x y", 0 },
	{ "VRFY", "501 5.5.4 Syntax: VRFY address", 501 },
	{ "VRFY philip", "VRFY philip", 0 },
	{ "HELP", "HELP", 0 },
	{ "", "500 5.5.2 Error: command not recognized", 500 },
	{ " HELO x", "500 5.5.2 Error: command not recognized", 500 },
	{ "HELOX", "500 5.5.2 Error: command not recognized", 500 },
	{ "MAILFROM:<a@x>", "500 5.5.2 Error: command not recognized", 500 },
	{ "EXPN list", "UNOFFERED list", 0 },
};

static void test_parser(void)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		char out[256];
		int code = smtpd_parse_describe(commands[i].in, strlen(commands[i].in), out,
						sizeof out);
		is_str(out, commands[i].want, "parse \"%s\"", commands[i].in);
		is_int(code, commands[i].code, "parse \"%s\": code", commands[i].in);
	}
	char out[64];
	is_int(smtpd_parse_describe("HELO a\0b", 8, out, sizeof out), 500,
	       "a NUL inside a command is refused");
}

/* A client that sends commands but never reads a reply: its pipe or socket fills up, and the
 * session must end after the timeout instead of blocking in write(2) for ever (SIGALRM's
 * default action ends the test program if it does not). */
static void test_client_not_reading(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	p.timeout = 1;
	FILE *in = tmpfile();
	if (!in)
		exit(99);
	for (int i = 0; i < 100000; i++)
		fputs("NOOP\r\n", in);
	fflush(in);
	signal(SIGALRM, SIG_DFL);
	for (int sock = 0; sock <= 1; sock++) {
		const char *what = sock ? "a socket" : "a pipe";
		int outfd[2];
		if ((sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, outfd) : pipe(outfd)) < 0)
			exit(99);
		rewind(in);
		struct diag d = {0};
		alarm(30);
		int rc = smtpd_run(&p, fileno(in), outfd[1], &d);
		alarm(0);
		is_int(rc, EX_TEMPFAIL, "a client that reads no reply, through %s: EX_TEMPFAIL", what);
		is_str(d.msg, "timed out after 1 s writing to the SMTP client",
		       "a client that reads no reply, through %s: the message", what);
		close(outfd[0]);
		close(outfd[1]);
	}
	fclose(in);
}

/* A cancel that comes while replies are being written (a client pipelining without a pause)
 * ends the session with what was pending and a 421. */
static void test_cancel_while_writing(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	int wake[2];
	if (pipe(wake) < 0 || write(wake[1], "", 1) != 1)
		exit(99);
	p.cancel_fd = wake[0];
	struct buf in = {0};
	for (int i = 0; i < 2000; i++)
		buf_puts(&in, "NOOP\r\n");
	int rc;
	struct diag d;
	char *out = session_with(&p, in.data, in.len, true, &rc, &d);
	struct buf want = {0};
	buf_puts(&want, G);
	size_t k = 0;
	while (want.len <= SMTPD_OUT_FLUSH_FOR_TESTS) {
		buf_puts(&want, "250 2.0.0 Ok\r\n");
		k++;
	}
	buf_puts(&want, "421 4.3.2 " DOMAIN " shutting down\r\n");
	is_str(out, want.data, "a cancel while writing: the %zu pending replies, then 421", k);
	is_int(rc, EX_TEMPFAIL, "a cancel while writing returns EX_TEMPFAIL");
	free(out);
	buf_free(&want);
	buf_free(&in);
	close(wake[0]);
	close(wake[1]);
}

/* The cancel descriptor alone (its byte written, the flag not seen yet: the signal came between
 * the check and the poll) ends the wait at once with the cancel's 421, not the timeout's. */
static void test_cancel_fd(void)
{
	struct stub st = {0};
	struct smtpd_params p = params(&st);
	static const volatile sig_atomic_t never = 0;
	int wake[2];
	if (pipe(wake) < 0 || write(wake[1], "", 1) != 1)
		exit(99);
	p.timeout = 30;
	p.cancel = &never;
	p.cancel_fd = wake[0];
	int rc;
	struct diag d;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *out = session_with(&p, "NOOP\r\n", 6, true, &rc, &d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	is_str(out, G "250 2.0.0 Ok\r\n421 4.3.2 " DOMAIN " shutting down\r\n",
	       "a readable cancel descriptor while waiting for a command gets 421");
	is_int(rc, EX_TEMPFAIL, "a readable cancel descriptor returns EX_TEMPFAIL");
	ok(t1.tv_sec - t0.tv_sec < 10, "a readable cancel descriptor: no wait for the timeout");
	free(out);
	close(wake[0]);
	close(wake[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_parser();
	test_dialogues(false);
	test_dialogues(true);
	test_end_of_input();
	test_long_lines();
	test_deliver_reads();
	test_relay_replies();
	test_timeout_and_cancel();
	test_write_error();
	test_nonblocking_output();
	test_client_not_reading();
	test_cancel_fd();
	test_cancel_while_writing();
	return done_testing();
}
