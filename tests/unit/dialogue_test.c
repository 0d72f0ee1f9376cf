/* SPDX-License-Identifier: ISC */
/* dialogue_test.c: the SMTP dialogue tracker as a table: each row a transcript ("> " a command
 * sent, "< " a reply line read, one debug callback each) and what must come out of it: the
 * stage, the last reply, the refusal, the code to each RCPT TO by its index, and the commands
 * as the transcript shows them (AUTH redacted). Then the line splitting of one callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialogue.h"
#include "tap.h"

enum { ANY = -1 };

struct row {
	const char *name;
	const char *script;	/* "> cmd" and "< reply" lines, separated by '\n' */
	enum dialogue_stage stage;	/* what the next reply would answer */
	long reply_code;	/* of the last complete reply */
	int reply_stage;	/* enum dialogue_stage, or ANY */
	const char *reply;	/* its text, joined; NULL: not checked */
	long failed_code;	/* the refusal, 0 for none */
	int failed_stage;	/* enum dialogue_stage, or ANY */
	const char *failed;	/* its text; NULL: not checked */
	const char *failed_arg;	/* its RCPT address, or NULL */
	const char *rcpt;	/* "k:code" for each reply to the RCPT TO number k, joined by "," */
	const char *shown;	/* each command as the transcript shows it, joined by "|" */
	int smtputf8;		/* the last reply names SMTPUTF8: 0, 1, or ANY */
};

static const struct row rows[] = {
	{ "a 421 greeting is the refusal, and libcurl's QUIT after it changes nothing",
	  "< 421 4.3.2 try later\n> QUIT\n< 221 2.0.0 bye",
	  DIALOGUE_GREETING, 221, DIALOGUE_GREETING, "221 2.0.0 bye",
	  421, DIALOGUE_GREETING, "421 4.3.2 try later", NULL, "", "QUIT", ANY },
	{ "a 554 greeting", "< 554 5.3.2 go away",
	  DIALOGUE_GREETING, 554, DIALOGUE_GREETING, "554 5.3.2 go away",
	  554, DIALOGUE_GREETING, "554 5.3.2 go away", NULL, "", "", ANY },
	{ "a multi-line greeting is one reply",
	  "< 220-mail.example.org\n< 220-second line\n< 220 ready",
	  DIALOGUE_GREETING, 220, DIALOGUE_GREETING, "220 mail.example.org / 220 second line / 220 ready",
	  0, ANY, NULL, NULL, "", "", ANY },
	{ "EHLO's multi-line reply, naming SMTPUTF8",
	  "< 220 hi\n> EHLO client.example.org\n< 250-mail.example.org\n< 250-SMTPUTF8\n< 250 SIZE 1000",
	  DIALOGUE_EHLO, 250, DIALOGUE_EHLO, "250 mail.example.org / 250 SMTPUTF8 / 250 SIZE 1000",
	  0, ANY, NULL, NULL, "", "EHLO client.example.org", 1 },
	{ "SMTPUTF8 in any case, last line, or with a parameter",
	  "< 220 hi\n> EHLO c\n< 250-x\n< 250 smtputf8",
	  DIALOGUE_EHLO, 250, DIALOGUE_EHLO, NULL, 0, ANY, NULL, NULL, "", "EHLO c", 1 },
	{ "SMTPUTF8X and SMTPUTF8 in the greeting are no SMTPUTF8",
	  "< 220-SMTPUTF8\n< 220 hi\n> EHLO c\n< 250-x\n< 250 SMTPUTF8X",
	  DIALOGUE_EHLO, 250, DIALOGUE_EHLO, NULL, 0, ANY, NULL, NULL, "", "EHLO c", 0 },
	{ "EHLO refused, HELO passes: the 502 stays the refusal on record",
	  "< 220 hi\n> EHLO c\n< 502 5.5.1 no\n> HELO c\n< 250 ok",
	  DIALOGUE_EHLO, 250, DIALOGUE_EHLO, "250 ok", 502, DIALOGUE_EHLO, "502 5.5.1 no", NULL, "",
	  "EHLO c|HELO c", 0 },
	{ "STARTTLS refused with 454",
	  "< 220 hi\n> EHLO c\n< 250 STARTTLS\n> STARTTLS\n< 454 4.7.0 TLS not available",
	  DIALOGUE_STARTTLS, 454, DIALOGUE_STARTTLS, NULL, 454, DIALOGUE_STARTTLS,
	  "454 4.7.0 TLS not available", NULL, "", "EHLO c|STARTTLS", ANY },
	{ "AUTH PLAIN: the initial response is redacted, the 535 is the refusal",
	  "< 220 hi\n> EHLO c\n< 250 AUTH PLAIN\n> AUTH PLAIN AGFsaWNlAHNlY3JldA==\n< 535 5.7.8 bad credentials",
	  DIALOGUE_AUTH, 535, DIALOGUE_AUTH, NULL, 535, DIALOGUE_AUTH, "535 5.7.8 bad credentials", NULL,
	  "", "EHLO c|AUTH PLAIN <redacted>", ANY },
	{ "AUTH LOGIN: the mechanism shows, every response after it is redacted, MAIL is plain again",
	  "> AUTH LOGIN\n< 334 VXNlcm5hbWU6\n> YWxpY2U=\n< 334 UGFzc3dvcmQ6\n> c2VjcmV0\n< 235 2.7.0 ok\n"
	  "> MAIL FROM:<a@example.org>\n< 250 ok",
	  DIALOGUE_MAIL, 250, DIALOGUE_MAIL, "250 ok", 0, ANY, NULL, NULL, "",
	  "AUTH LOGIN|<redacted>|<redacted>|MAIL FROM:<a@example.org>", ANY },
	{ "a QUIT in the middle of AUTH is shown redacted too, and AUTH stays the stage",
	  "> AUTH LOGIN\n< 334 VXNlcm5hbWU6\n> QUIT\n< 221 bye",
	  DIALOGUE_AUTH, 221, DIALOGUE_AUTH, NULL, 0, ANY, NULL, NULL, "", "AUTH LOGIN|<redacted>", ANY },
	{ "AUTH with two spaces: the rest is redacted from the second",
	  "> AUTH  PLAIN secret", DIALOGUE_AUTH, 0, ANY, NULL, 0, ANY, NULL, NULL, "",
	  "AUTH  <redacted>", ANY },
	{ "AUTH alone, and AUTH XOAUTH2 with its token",
	  "> AUTH\n< 501 syntax\n> AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2tlbgEB\n< 235 ok",
	  DIALOGUE_AUTH, 235, DIALOGUE_AUTH, NULL, 501, DIALOGUE_AUTH, "501 syntax", NULL, "",
	  "AUTH|AUTH XOAUTH2 <redacted>", ANY },
	{ "MAIL 451",
	  "< 220 hi\n> EHLO c\n< 250 ok\n> MAIL FROM:<a@example.org>\n< 451 4.3.0 try later\n> QUIT\n< 221 bye",
	  DIALOGUE_MAIL, 221, DIALOGUE_MAIL, NULL, 451, DIALOGUE_MAIL, "451 4.3.0 try later", NULL, "",
	  "EHLO c|MAIL FROM:<a@example.org>|QUIT", ANY },
	{ "RCPT: each reply by its recipient's index; the last refusal names its address",
	  "> MAIL FROM:<a@example.org>\n< 250 ok\n> RCPT TO:<b@example.org>\n< 250 ok\n"
	  "> RCPT TO:<c@example.org>\n< 550 5.1.1 no such user\n> RCPT TO:<d@example.org>\n"
	  "< 452 4.2.2 full\n> DATA\n< 354 go ahead\n< 250 2.0.0 queued as X",
	  DIALOGUE_EOD, 250, DIALOGUE_EOD, "250 2.0.0 queued as X", 452, DIALOGUE_RCPT, "452 4.2.2 full",
	  "d@example.org", "1:250,2:550,3:452", "MAIL FROM:<a@example.org>|RCPT TO:<b@example.org>|"
	  "RCPT TO:<c@example.org>|RCPT TO:<d@example.org>|DATA", ANY },
	{ "a multi-line RCPT refusal is one reply to one index",
	  "> RCPT TO:<b@x>\n< 550-5.1.1 no such user\n< 550 5.1.1 really\n> RCPT TO:<c@x>\n< 250 ok",
	  DIALOGUE_RCPT, 250, DIALOGUE_RCPT, NULL, 550, DIALOGUE_RCPT,
	  "550 5.1.1 no such user / 550 5.1.1 really", "b@x", "1:550,2:250", NULL, ANY },
	{ "a RCPT reply after QUIT counts for no index",
	  "> RCPT TO:<b@x>\n< 550 no\n> QUIT\n< 221 bye",
	  DIALOGUE_RCPT, 221, DIALOGUE_RCPT, NULL, 550, DIALOGUE_RCPT, "550 no", "b@x", "1:550", NULL, ANY },
	{ "RCPT TO without brackets: no address",
	  "> RCPT TO:b@x\n< 550 no", DIALOGUE_RCPT, 550, DIALOGUE_RCPT, NULL, 550, DIALOGUE_RCPT, "550 no",
	  NULL, "1:550", NULL, ANY },
	{ "RCPT TO with > before <: no address",
	  "> RCPT TO:>b@x<\n< 550 no", DIALOGUE_RCPT, 550, ANY, NULL, 550, ANY, NULL, NULL, "1:550", NULL,
	  ANY },
	{ "RCPT TO:<> is the empty address",
	  "> RCPT TO:<>\n< 550 no", DIALOGUE_RCPT, 550, DIALOGUE_RCPT, NULL, 550, DIALOGUE_RCPT, "550 no", "",
	  "1:550", NULL, ANY },
	{ "DATA 554",
	  "> RCPT TO:<b@x>\n< 250 ok\n> DATA\n< 554 5.7.1 no thanks",
	  DIALOGUE_DATA, 554, DIALOGUE_DATA, NULL, 554, DIALOGUE_DATA, "554 5.7.1 no thanks", NULL, "1:250",
	  NULL, ANY },
	{ "the final dot refused",
	  "> DATA\n< 354 go ahead\n< 554 5.7.1 spam",
	  DIALOGUE_EOD, 554, DIALOGUE_EOD, NULL, 554, DIALOGUE_EOD, "554 5.7.1 spam", NULL, "", "DATA", ANY },
	{ "the final dot accepted in a multi-line reply",
	  "> DATA\n< 354 go ahead\n< 250-2.0.0 ok\n< 250 queued as X",
	  DIALOGUE_EOD, 250, DIALOGUE_EOD, "250 2.0.0 ok / 250 queued as X", 0, ANY, NULL, NULL, "", "DATA",
	  ANY },
	{ "354 to something else than DATA moves nothing",
	  "> MAIL FROM:<a@x>\n< 354 what", DIALOGUE_MAIL, 354, DIALOGUE_MAIL, NULL, 0, ANY, NULL, NULL, "",
	  NULL, ANY },
	{ "a multi-line 354 to DATA moves on at its end only",
	  "> DATA\n< 354-go\n< 354 ahead", DIALOGUE_EOD, 354, DIALOGUE_DATA, "354 go / 354 ahead", 0, ANY, NULL,
	  NULL, "", NULL, ANY },
	{ "commands in lower case", "> mail from:<a@x>\n< 250 ok\n> rcpt to:<b@x>\n< 250 ok\n> data",
	  DIALOGUE_DATA, 250, DIALOGUE_RCPT, NULL, 0, ANY, NULL, NULL, "1:250", NULL, ANY },
	{ "NOOP is another stage; its refusal is the session's",
	  "< 220 hi\n> EHLO c\n< 250 ok\n> NOOP\n< 500 what", DIALOGUE_OTHER, 500, DIALOGUE_OTHER, NULL, 500,
	  DIALOGUE_OTHER, "500 what", NULL, "", "EHLO c|NOOP", ANY },
	{ "a reply without a code has code 0 and is no refusal",
	  "< hello there", DIALOGUE_GREETING, 0, DIALOGUE_GREETING, "hello there", 0, ANY, NULL, NULL, "", "",
	  ANY },
	{ "a code of four digits reads as its first three",
	  "< 9999 what", DIALOGUE_GREETING, 999, ANY, NULL, 999, DIALOGUE_GREETING, "9999 what", NULL, "", "",
	  ANY },
	{ "short replies: a lone digit, two digits, an empty line",
	  "< 4\n< 25\n<", DIALOGUE_GREETING, 0, ANY, "", 0, ANY, NULL, NULL, "", "", ANY },
	{ "a continuation that never ends leaves the last complete reply",
	  "< 220 hi\n> EHLO c\n< 250-a\n< 250-b", DIALOGUE_EHLO, 220, DIALOGUE_GREETING, NULL, 0, ANY, NULL,
	  NULL, "", "EHLO c", ANY },
	{ "a line of three bytes and a dash ends nothing; 250- alone goes on",
	  "< 250-\n< 250 x", DIALOGUE_GREETING, 250, ANY, "250  / 250 x", 0, ANY, NULL, NULL, "", "", ANY },
	{ "a command that is not one is OTHER; an unknown command is shown as it is",
	  "> XYZZY\n> \n> MAI", DIALOGUE_OTHER, 0, ANY, NULL, 0, ANY, NULL, NULL, "", "XYZZY||MAI", ANY },
	{ "control bytes pass to the transcript as they are (log.c escapes them)",
	  "> MAIL FROM:<a\x1b[2J@x>", DIALOGUE_MAIL, 0, ANY, NULL, 0, ANY, NULL, NULL, "",
	  "MAIL FROM:<a\x1b[2J@x>", ANY },
};

/* Plays a row's script, one line a callback; collects the RCPT codes and the shown commands. */
static void play(struct dialogue *dl, const char *script, struct buf *rcpt, struct buf *shown)
{
	const char *p = script, *end = script + strlen(script), *line;
	size_t n;
	bool first_cmd = true;
	while ((line = dialogue_next_line(&p, end, &n))) {
		const char *text = n >= 2 ? line + 2 : line + n;
		size_t len = n >= 2 ? n - 2 : 0;
		if (line[0] == '>') {
			if (!first_cmd)
				buf_putc(shown, '|');
			first_cmd = false;
			dialogue_command(dl, text, len, shown);
		} else if (dialogue_reply_line(dl, text, len) && dl->reply_rcpt) {
			buf_printf(rcpt, "%s%zu:%ld", rcpt->len ? "," : "", dl->reply_rcpt, dl->reply_code);
		}
	}
}

static void test_rows(void)
{
	for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
		const struct row *row = &rows[r];
		struct dialogue dl = {0};
		struct buf rcpt = {0}, shown = {0};
		dialogue_start(&dl);
		play(&dl, row->script, &rcpt, &shown);
		is_int(dl.stage, row->stage, "%s: stage", row->name);
		is_int(dl.reply_code, row->reply_code, "%s: reply code", row->name);
		if (row->reply_stage != ANY)
			is_int(dl.reply_stage, row->reply_stage, "%s: the stage the reply answered", row->name);
		if (row->reply)
			is_str(dl.reply.data ? dl.reply.data : "", row->reply, "%s: reply text", row->name);
		is_int(dl.failed_code, row->failed_code, "%s: refusal code", row->name);
		if (row->failed_stage != ANY)
			is_int(dl.failed_stage, row->failed_stage, "%s: refusal stage", row->name);
		if (row->failed)
			is_str(dl.failed.data ? dl.failed.data : "", row->failed, "%s: refusal text", row->name);
		if (row->failed_code && row->failed_stage == DIALOGUE_RCPT)
			is_str(dl.failed_arg, row->failed_arg, "%s: refused address", row->name);
		is_str(rcpt.data ? rcpt.data : "", row->rcpt, "%s: the reply to each RCPT", row->name);
		if (row->shown)
			is_str(shown.data ? shown.data : "", row->shown, "%s: the commands shown", row->name);
		if (row->smtputf8 != ANY)
			is_int(dl.reply_smtputf8, row->smtputf8, "%s: SMTPUTF8 offered", row->name);
		buf_free(&rcpt);
		buf_free(&shown);
		dialogue_free(&dl);
	}
}

/* dialogue_command without a transcript changes the same state and shows nothing. */
static void test_no_transcript(void)
{
	struct dialogue dl = {0};
	dialogue_start(&dl);
	is_int(dialogue_command(&dl, "AUTH PLAIN c2VjcmV0", 19, NULL), DIALOGUE_AUTH, "no transcript: AUTH");
	is_int(dialogue_command(&dl, "c2VjcmV0", 8, NULL), DIALOGUE_OTHER, "no transcript: a response is OTHER");
	is_int(dl.stage, DIALOGUE_AUTH, "no transcript: ...and leaves AUTH the stage");
	is_int(dialogue_command(&dl, "RCPT TO:<b@x>", 13, NULL), DIALOGUE_RCPT, "no transcript: RCPT");
	is_str(dl.stage_arg, "b@x", "no transcript: the RCPT address");
	is_int(dl.rcpt_sent, 1, "no transcript: one RCPT counted");
	dialogue_free(&dl);
}

/* A new connection attempt forgets the old dialogue but for the last reply's stage. */
static void test_start_again(void)
{
	struct dialogue dl = {0};
	struct buf rcpt = {0}, shown = {0};
	dialogue_start(&dl);
	play(&dl, "> RCPT TO:<b@x>\n< 550 no\n> QUIT", &rcpt, &shown);
	dialogue_start(&dl);
	is_int(dl.stage, DIALOGUE_GREETING, "start again: the greeting is next");
	is_int(dl.failed_code, 0, "start again: no refusal");
	is_int(dl.reply_code, 0, "start again: no reply");
	is_int(dl.rcpt_sent, 0, "start again: no RCPT sent");
	ok(!dl.quit_sent && !dl.stage_arg && !dl.reply_open && dl.reply.len == 0 && dl.failed.len == 0,
	   "start again: no QUIT, no address, no reply text, no refusal text");
	is_int(dl.reply_stage, DIALOGUE_RCPT, "start again: the last reply's stage stays (with code 0)");
	buf_reset(&rcpt);
	play(&dl, "< 220 hi\n> RCPT TO:<c@x>\n< 250 ok", &rcpt, &shown);
	is_str(rcpt.data, "1:250", "start again: RCPT indexes start over");
	buf_free(&rcpt);
	buf_free(&shown);
	dialogue_free(&dl);
	ok(dl.stage_arg == NULL && dl.reply.data == NULL && dl.failed.data == NULL, "dialogue_free zeroes");
}

struct split_row {
	const char *name;
	const char *bytes;	/* one callback */
	size_t len;
	const char *want;	/* the lines, joined by "|" */
};

#define BYTES(s) s, sizeof s - 1

static const struct split_row split_rows[] = {
	{ "one line with CRLF", BYTES("250 ok\r\n"), "250 ok" },
	{ "several lines in one callback", BYTES("250-a\r\n250-b\r\n250 c\r\n"), "250-a|250-b|250 c" },
	{ "LF alone ends a line too", BYTES("250-a\n250 b\n"), "250-a|250 b" },
	{ "a piece without LF is a whole line", BYTES("250 ok"), "250 ok" },
	{ "a last piece without LF is a line", BYTES("250-a\r\n250 b"), "250-a|250 b" },
	{ "every CR before the LF goes", BYTES("250 ok\r\r\r\n"), "250 ok" },
	{ "a CR inside a line stays", BYTES("250 o\rk\r\n"), "250 o\rk" },
	{ "an empty line is a line", BYTES("\r\n\n"), "|" },
	{ "a NUL is a byte of the line", BYTES("250 a\0b\r\n"), "250 a" },
	{ "nothing is no line", BYTES(""), "" },
};

static void test_split(void)
{
	for (size_t r = 0; r < sizeof split_rows / sizeof *split_rows; r++) {
		const struct split_row *row = &split_rows[r];
		struct buf got = {0};
		const char *p = row->bytes, *end = row->bytes + row->len, *line;
		size_t n, count = 0;
		while ((line = dialogue_next_line(&p, end, &n))) {
			if (count++)
				buf_putc(&got, '|');
			buf_append(&got, line, n);
		}
		ok(p == end, "split: %s: every byte taken", row->name);
		/* compare up to a NUL: the row with one checks its length below */
		is_str(got.data ? got.data : "", row->want, "split: %s", row->name);
		buf_free(&got);
	}
	/* the NUL row: the line is 7 bytes, the NUL inside it */
	const char nul[] = "250 a\0b\r\n";
	const char *p = nul, *line;
	size_t n;
	line = dialogue_next_line(&p, nul + sizeof nul - 1, &n);
	ok(line == nul && n == 7, "split: a NUL is a byte of the line: 7 bytes");
}

/* Several reply lines in one callback, as the tracker sees them. */
static void test_one_callback_reply(void)
{
	struct dialogue dl = {0};
	dialogue_start(&dl);
	dialogue_command(&dl, "EHLO c", 6, NULL);
	const char cb[] = "250-mail.example.org\r\n250-SMTPUTF8\r\n250 SIZE 10\r\n";
	const char *p = cb, *line;
	size_t n;
	int complete = 0;
	while ((line = dialogue_next_line(&p, cb + sizeof cb - 1, &n)))
		complete += dialogue_reply_line(&dl, line, n);
	is_int(complete, 1, "one callback, three lines: one reply");
	is_str(dl.reply.data, "250 mail.example.org / 250 SMTPUTF8 / 250 SIZE 10", "...joined");
	ok(dl.reply_smtputf8, "...SMTPUTF8 seen");
	dialogue_free(&dl);
}

static void test_stage_names(void)
{
	static const struct {
		enum dialogue_stage st;
		const char *name;
	} names[] = {
		{ DIALOGUE_CONNECT, "the connection" }, { DIALOGUE_GREETING, "the greeting" },
		{ DIALOGUE_EHLO, "EHLO" }, { DIALOGUE_AUTH, "authentication" },
		{ DIALOGUE_STARTTLS, "STARTTLS" }, { DIALOGUE_MAIL, "MAIL FROM" },
		{ DIALOGUE_RCPT, "RCPT TO" }, { DIALOGUE_DATA, "DATA" }, { DIALOGUE_EOD, "the message" },
		{ DIALOGUE_QUIT, "the session" }, { DIALOGUE_OTHER, "the session" },
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		is_str(dialogue_stage_name(names[i].st), names[i].name, "stage name %d", (int)names[i].st);
	ok(DIALOGUE_MAIL > DIALOGUE_STARTTLS && DIALOGUE_EOD > DIALOGUE_MAIL && DIALOGUE_OTHER > DIALOGUE_MAIL,
	   "from DIALOGUE_MAIL on, the transaction began (submit.c's failover reads it so)");
}

int main(void)
{
	test_rows();
	test_no_transcript();
	test_start_again();
	test_split();
	test_one_callback_reply();
	test_stage_names();
	return done_testing();
}
