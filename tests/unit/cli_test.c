/* SPDX-License-Identifier: ISC */
/* cli_test.c: sendmail's historic words on the command line, as two tables. The first is argv in,
 * argv out of cli_rewrite_sendmail_words (what popt will see, and the -q selections taken); the
 * second is argv in, struct cli_opts out of cli_parse, odd and hostile words included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

#define MAXW 8

/* The words of an argv joined by "|", so that a row reads as one string. */
static void join(struct buf *b, const char *const *w, int n)
{
	buf_reset(b);
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(b, '|');
		buf_puts(b, w[i]);
	}
}

/* The selections of o as "I:text", "!R:text", joined by ",". */
static void selections(struct buf *b, const struct cli_opts *o)
{
	buf_reset(b);
	for (size_t i = 0; i < o->nselect; i++)
		buf_printf(b, "%s%s%c:%s", i ? "," : "", o->select[i].negate ? "!" : "", o->select[i].kind,
			   o->select[i].text);
}

struct rewrite_row {
	const char *name;
	const char *argv[MAXW];	/* after argv[0] "postie"; ends at the first NULL */
	const char *want;	/* the new argv after argv[0], joined by "|"; NULL: an error */
	const char *want_select;	/* the selections taken, as selections() writes them */
	const char *want_msg;	/* the error's message, when want is NULL */
};

static const struct rewrite_row rewrite_rows[] = {
	{ "no words", { NULL }, "", "", NULL },
	{ "recipients pass", { "bob@example.org", "carol" }, "bob@example.org|carol", "", NULL },
	{ "-oi, -oem, -odq pass: -o takes the glued rest", { "-oi", "-oem", "-odq", "bob" },
	  "-oi|-oem|-odq|bob", "", NULL },
	{ "-o with its argument apart: the argument is never rewritten", { "-o", "-q", "bob" },
	  "-o|-q|bob", "", NULL },
	{ "-bs, -bp, -bm pass", { "-bs", "-bp", "-bm" }, "-bs|-bp|-bm", "", NULL },
	{ "-q alone is --flush", { "-q" }, "--flush", "", NULL },
	{ "-q30m: the interval is glued, and dropped", { "-q30m", "bob" }, "--flush|bob", "", NULL },
	{ "-q 30m: the next word is never the interval", { "-q", "30m" }, "--flush|30m", "", NULL },
	{ "-qf and -qp, sendmail's flags, are --flush", { "-qf", "-qp" }, "--flush|--flush", "", NULL },
	{ "-qIsubstr selects by queue id", { "-qIabc" }, "--flush", "I:abc", NULL },
	{ "-qR and -qS select by recipient and sender", { "-qRexample.org", "-qSalice" },
	  "--flush|--flush", "R:example.org,S:alice", NULL },
	{ "-q!R selects the others", { "-q!Rexample.org" }, "--flush", "!R:example.org", NULL },
	{ "-qRS: the kind is the first letter, the rest is the text", { "-qRSx" }, "--flush", "R:Sx",
	  NULL },
	{ "-qI without a substring is an error", { "-qI" }, NULL, "", "-qI: needs a substring, as in -qIexample.org" },
	{ "-q!S without a substring is an error", { "-q!S" }, NULL, "",
	  "-q!S: needs a substring, as in -q!Sexample.org" },
	{ "-q! without I, R or S is an error", { "-q!" }, NULL, "",
	  "-q!: -q! needs I, R or S, as in -q!Rexample.org" },
	{ "-q!x is an error", { "-q!x" }, NULL, "", "-q!x: -q! needs I, R or S, as in -q!Rexample.org" },
	{ "a selection taken before an error stays in o", { "-qIa", "-qR" }, NULL, "I:a",
	  "-qR: needs a substring, as in -qRexample.org" },
	{ "-FCronDaemon passes: -F takes the glued rest", { "-FCronDaemon", "bob" },
	  "-FCronDaemon|bob", "", NULL },
	{ "-F with its argument apart, which looks like -q", { "-F", "-qIx", "bob" }, "-F|-qIx|bob",
	  "", NULL },
	{ "-B8BITMIME and -B 8BITMIME pass", { "-B8BITMIME", "-B", "8BITMIME" },
	  "-B8BITMIME|-B|8BITMIME", "", NULL },
	{ "-e* and -A* are dropped, glued only", { "-em", "-e", "-Ac", "-A", "bob" }, "bob", "", NULL },
	{ "a cluster: the first letter with an argument takes the rest", { "-tfme@x", "-q" },
	  "-tfme@x|--flush", "", NULL },
	{ "a cluster that ends in such a letter takes the next word", { "-tif", "-q", "bob" },
	  "-tif|-q|bob", "", NULL },
	{ "-f at the end keeps nothing after it", { "bob", "-f" }, "bob|-f", "", NULL },
	{ "--from takes the next word, which is never rewritten", { "--from", "-q", "bob" },
	  "--from|-q|bob", "", NULL },
	{ "--from=-q is one word", { "--from=-q", "-q" }, "--from=-q|--flush", "", NULL },
	{ "a long option without an argument takes nothing", { "--json", "-q" }, "--json|--flush", "",
	  NULL },
	{ "an unknown long option takes nothing", { "--nonsense", "-q" }, "--nonsense|--flush", "",
	  NULL },
	{ "after --, nothing is rewritten", { "--", "-q", "-em", "-qI" }, "--|-q|-em|-qI", "", NULL },
	{ "- alone and the empty word are operands", { "-", "", "-q" }, "-||--flush", "", NULL },
	{ "an unknown short option passes for popt to refuse", { "-x", "-q" }, "-x|--flush", "", NULL },
	{ "a control character is no option letter", { "-\n", "-\x1b[2J" }, "-\n|-\x1b[2J", "", NULL },
	{ "a selection keeps a line break as it is given", { "-qIa\r\nb" }, "--flush", "I:a\r\nb",
	  NULL },
	{ "---x is a long option named -x", { "---x", "-q" }, "---x|--flush", "", NULL },
};

static void test_rewrite(void)
{
	struct buf got = {0}, sel = {0};
	for (size_t r = 0; r < sizeof rewrite_rows / sizeof *rewrite_rows; r++) {
		const struct rewrite_row *row = &rewrite_rows[r];
		const char *argv[MAXW + 1] = { "postie" };
		int argc = 1;
		while (argc <= MAXW && row->argv[argc - 1]) {
			argv[argc] = row->argv[argc - 1];
			argc++;
		}
		struct cli_opts o = {0};
		struct diag d = {0};
		int n = -1;
		const char **out = cli_rewrite_sendmail_words(argc, argv, &n, &o, &d);
		if (row->want) {
			ok(out != NULL, "rewrite: %s: no error", row->name);
			if (out) {
				is_str(out[0], "postie", "rewrite: %s: argv[0] kept", row->name);
				ok(out[n] == NULL, "rewrite: %s: the new argv ends with NULL", row->name);
				join(&got, out + 1, n - 1);
				is_str(got.data ? got.data : "", row->want, "rewrite: %s: the words", row->name);
			}
		} else {
			ok(out == NULL, "rewrite: %s: an error", row->name);
			is_int(d.code, EX_USAGE, "rewrite: %s: EX_USAGE", row->name);
			is_str(d.msg, row->want_msg, "rewrite: %s: the message", row->name);
		}
		selections(&sel, &o);
		is_str(sel.data ? sel.data : "", row->want_select, "rewrite: %s: the selections", row->name);
		free(out);
		cli_free(&o);
	}
	buf_free(&got);
	buf_free(&sel);
}

/* A long selection: nothing is cut. */
static void test_rewrite_long_word(void)
{
	size_t len = 100000;
	char *w = malloc(len + 5);
	memcpy(w, "-q!S", 4);
	memset(w + 4, 'a', len);
	w[len + 4] = '\0';
	const char *argv[] = { "postie", w, NULL };
	struct cli_opts o = {0};
	struct diag d = {0};
	int n;
	const char **out = cli_rewrite_sendmail_words(2, argv, &n, &o, &d);
	ok(out && n == 2 && strcmp(out[1], "--flush") == 0, "rewrite: a 100000-byte -q!S word is --flush");
	ok(o.nselect == 1 && o.select[0].negate && o.select[0].kind == 'S' && strlen(o.select[0].text) == len,
	   "rewrite: ...and its whole text is the selection");
	free(out);
	cli_free(&o);
	free(w);
}

enum { ANY = -2 };

struct parse_row {
	const char *name;
	const char *argv[MAXW];	/* argv[0] included */
	int rc;
	const char *msg;	/* d.msg when rc is not EX_OK */
	enum cli_error error;
	int mode;		/* enum cli_mode, or ANY */
	int ignore_dots;	/* 0 or 1, or ANY */
	int delivery;		/* -1, 0, 1, or ANY */
	const char *full_name;	/* or NULL for none */
	const char *operands;	/* joined by "|" */
};

static const struct parse_row parse_rows[] = {
	{ "-oi is -i", { "postie", "-oi", "bob" }, EX_OK, "", CLI_ERROR_NONE, MODE_SEND, 1, -1, NULL, "bob" },
	{ "-o i is -i too", { "postie", "-o", "i", "bob" }, EX_OK, "", CLI_ERROR_NONE, MODE_SEND, 1, -1, NULL, "bob" },
	{ "-oem is ignored", { "postie", "-oem", "bob" }, EX_OK, "", CLI_ERROR_NONE, MODE_SEND, 0, -1, NULL, "bob" },
	{ "-odq queues only", { "postie", "-odq", "bob" }, EX_OK, "", CLI_ERROR_NONE, MODE_SEND, 0, 1, NULL, "bob" },
	{ "-odi and -odb send now, the last one wins", { "postie", "-odq", "-odb", "bob" }, EX_OK, "",
	  CLI_ERROR_NONE, MODE_SEND, 0, 0, NULL, "bob" },
	{ "-bs is the SMTP mode", { "postie", "-bs" }, EX_OK, "", CLI_ERROR_NONE, MODE_SMTP, 0, -1, NULL, "" },
	{ "-bp lists the queue", { "postie", "-bp" }, EX_OK, "", CLI_ERROR_NONE, MODE_QUEUE_LIST, 0, -1, NULL, "" },
	{ "-bz is an unknown mode", { "postie", "-bz", "bob" }, EX_USAGE,
	  "-bz: unknown mode (postie knows -bm, -bs, -bp, -bv, -bi)", CLI_ERROR_OTHER, ANY, ANY, ANY, NULL, NULL },
	{ "-q30m is a queue run, the interval dropped", { "postie", "-q30m" }, EX_OK, "", CLI_ERROR_NONE,
	  MODE_QUEUE_RUN, 0, -1, NULL, "" },
	{ "-qIx is a queue run", { "postie", "-qIx" }, EX_OK, "", CLI_ERROR_NONE, MODE_QUEUE_RUN, 0, -1, NULL, "" },
	{ "-qI alone is a usage error", { "postie", "-qI" }, EX_USAGE,
	  "-qI: needs a substring, as in -qIexample.org", CLI_ERROR_OTHER, ANY, ANY, ANY, NULL, NULL },
	{ "a selection without a queue run is a usage error", { "postie", "-qIx", "-bp" }, EX_USAGE,
	  "-qIx: selects the entries of a queue run only", CLI_ERROR_OTHER, ANY, ANY, ANY, NULL, NULL },
	{ "-FCronDaemon is the full name", { "postie", "-FCronDaemon", "bob" }, EX_OK, "", CLI_ERROR_NONE,
	  MODE_SEND, 0, -1, "CronDaemon", "bob" },
	{ "-F 'Cron Daemon' takes the next word", { "postie", "-F", "Cron Daemon", "bob" }, EX_OK, "",
	  CLI_ERROR_NONE, MODE_SEND, 0, -1, "Cron Daemon", "bob" },
	{ "-F -q: the name is -q, no queue run", { "postie", "-F", "-q", "bob" }, EX_OK, "", CLI_ERROR_NONE,
	  MODE_SEND, 0, -1, "-q", "bob" },
	{ "a full name with a line break is refused", { "postie", "-FCron\nBcc: x", "bob" }, EX_USAGE,
	  "full name 'Cron\\nBcc: x': contains a line break (CR or LF)", CLI_ERROR_OTHER, ANY, ANY, ANY,
	  NULL, NULL },
	{ "-B8BITMIME is ignored", { "postie", "-B8BITMIME", "bob" }, EX_OK, "", CLI_ERROR_NONE, MODE_SEND,
	  0, -1, NULL, "bob" },
	{ "-B 8BITMIME is ignored, the type not taken for a recipient", { "postie", "-B", "8BITMIME", "bob" },
	  EX_OK, "", CLI_ERROR_NONE, MODE_SEND, 0, -1, NULL, "bob" },
	{ "-em and -Ac are dropped", { "postie", "-em", "-Ac", "bob" }, EX_OK, "", CLI_ERROR_NONE, MODE_SEND,
	  0, -1, NULL, "bob" },
	{ "-- ends the options: -q is a recipient", { "postie", "--", "-q", "bob" }, EX_OK, "",
	  CLI_ERROR_NONE, MODE_SEND, 0, -1, NULL, "-q|bob" },
	{ "an unknown option says so in its kind", { "postie", "-x", "bob" }, EX_USAGE, "unknown option -x",
	  CLI_ERROR_UNKNOWN_OPTION, ANY, ANY, ANY, NULL, NULL },
	{ "an unknown long option too", { "postie", "--nonsense" }, EX_USAGE, "unknown option --nonsense",
	  CLI_ERROR_UNKNOWN_OPTION, ANY, ANY, ANY, NULL, NULL },
	{ "a missing argument is another kind", { "postie", "bob", "-f" }, EX_USAGE,
	  "option -f needs an argument", CLI_ERROR_OTHER, ANY, ANY, ANY, NULL, NULL },
	{ "--due without -q is another kind", { "postie", "--due" }, EX_USAGE, "--due: only with -q or --flush",
	  CLI_ERROR_OTHER, ANY, ANY, ANY, NULL, NULL },
	{ "a recipient with a line break is refused", { "postie", "bob\r\nRSET" }, EX_USAGE,
	  "recipient 'bob\\r\\nRSET': contains a line break (CR or LF)", CLI_ERROR_OTHER, ANY, ANY, ANY,
	  NULL, NULL },
	{ "the mailq personality lists the queue", { "/usr/bin/mailq" }, EX_OK, "", CLI_ERROR_NONE,
	  MODE_QUEUE_LIST, 0, -1, NULL, "" },
	{ "the newaliases personality checks the aliases", { "newaliases" }, EX_OK, "", CLI_ERROR_NONE,
	  MODE_ALIASES, 0, -1, NULL, "" },
	{ "- and the empty word are recipients for the address parser to judge", { "postie", "-", "" },
	  EX_OK, "", CLI_ERROR_NONE, MODE_SEND, 0, -1, NULL, "-|" },
};

static void test_parse(void)
{
	struct buf got = {0};
	for (size_t r = 0; r < sizeof parse_rows / sizeof *parse_rows; r++) {
		const struct parse_row *row = &parse_rows[r];
		int argc = 0;
		while (argc < MAXW && row->argv[argc])
			argc++;
		struct cli_opts o;
		struct diag d = {0};
		int rc = cli_parse(argc, row->argv, &o, &d);
		is_int(rc, row->rc, "parse: %s: status", row->name);
		is_int(o.error, row->error, "parse: %s: the kind of error", row->name);
		if (row->rc != EX_OK)
			is_str(d.msg, row->msg, "parse: %s: the message", row->name);
		if (row->mode != ANY)
			is_int(o.mode, row->mode, "parse: %s: mode", row->name);
		if (row->ignore_dots != ANY)
			is_int(o.ignore_dots, row->ignore_dots, "parse: %s: ignore_dots", row->name);
		if (row->delivery != ANY)
			is_int(o.delivery, row->delivery, "parse: %s: delivery", row->name);
		if (row->rc == EX_OK)
			is_str(o.full_name, row->full_name, "parse: %s: full name", row->name);
		if (row->operands) {
			join(&got, (const char *const *)o.operands.v, (int)o.operands.n);
			is_str(got.data ? got.data : "", row->operands, "parse: %s: operands", row->name);
		}
		cli_free(&o);
	}
	buf_free(&got);
}

/* No argv at all (execve with an empty argv): the postie personality, no crash. */
static void test_parse_no_argv(void)
{
	struct cli_opts o;
	struct diag d = {0};
	int rc = cli_parse(0, NULL, &o, &d);
	is_int(rc, EX_OK, "parse: argc 0 is the postie personality");
	is_int(o.mode, MODE_SEND, "parse: argc 0 sends");
	cli_free(&o);
}

int main(void)
{
	test_rewrite();
	test_rewrite_long_word();
	test_parse();
	test_parse_no_argv();
	return done_testing();
}
