/* SPDX-License-Identifier: ISC */
/* cli.c: the option table and its parsing (see cli.h). Sendmail's glued-only options (-q30m,
 * -oem, -e*, -A*) are rewritten before popt sees them, so that no option argument is ever taken
 * for a recipient and no recipient for an option argument. */
#include "cli.h"

#include <popt.h>
#include <stdlib.h>
#include <string.h>

enum opt_code {
	OPT_EXTRACT = 1, OPT_IGNORE_DOTS, OPT_SENDER, OPT_FULL_NAME, OPT_VERBOSE, OPT_TRANSCRIPT,
	OPT_CONFIG, OPT_MODE, OPT_SENDMAIL_O, OPT_SUBJECT, OPT_CC, OPT_BCC, OPT_TO, OPT_HELP,
	OPT_VERSION, OPT_IGNORED, OPT_IGNORED_ARG, OPT_INIT_ALIASES, OPT_QUEUE, OPT_JSON,
	OPT_ACCOUNT, OPT_SERVERINFO, OPT_ATTACH, OPT_HEADER, OPT_NO_PROGRESS, OPT_DUE, OPT_DELETE,
	OPT_REQUEUE,
	OPT_AUTHORIZE
};

/* Long names exist only where sendmail has none to clash with. */
static const struct poptOption option_table[] = {
	{ NULL, 't', POPT_ARG_NONE, NULL, OPT_EXTRACT, "also take recipients from To, Cc and Bcc", NULL },
	{ NULL, 'i', POPT_ARG_NONE, NULL, OPT_IGNORE_DOTS, "a line with a lone '.' does not end the input", NULL },
	{ "from", 'f', POPT_ARG_STRING, NULL, OPT_SENDER, "envelope sender ('' or <> for the null sender)", "ADDR" },
	{ NULL, 'r', POPT_ARG_STRING, NULL, OPT_SENDER, "same as -f", "ADDR" },
	{ NULL, 'F', POPT_ARG_STRING, NULL, OPT_FULL_NAME, "full name in a generated From", "NAME" },
	{ "verbose", 'v', POPT_ARG_NONE, NULL, OPT_VERBOSE, "print the SMTP transcript on stderr", NULL },
	{ NULL, 'X', POPT_ARG_STRING, NULL, OPT_TRANSCRIPT, "append the SMTP transcript to FILE", "FILE" },
	{ "config", 'C', POPT_ARG_STRING, NULL, OPT_CONFIG, "configuration file", "FILE" },
	{ NULL, 'b', POPT_ARG_STRING, NULL, OPT_MODE, "mode: -bm send (default), -bp queue, -bs SMTP, -bv verify, -bi aliases", "MODE" },
	{ NULL, 'o', POPT_ARG_STRING, NULL, OPT_SENDMAIL_O, "-oi is -i; other -o options are ignored", "OPT" },
	{ "subject", 's', POPT_ARG_STRING, NULL, OPT_SUBJECT, "compose a message with this subject", "SUBJECT" },
	{ "cc", 'c', POPT_ARG_STRING, NULL, OPT_CC, "compose a message with this Cc recipient", "ADDR" },
	{ "bcc", '\0', POPT_ARG_STRING, NULL, OPT_BCC, "compose a message with this Bcc recipient", "ADDR" },
	{ "to", '\0', POPT_ARG_STRING, NULL, OPT_TO, "compose a message with this To recipient", "ADDR" },
	{ "attach", 'a', POPT_ARG_STRING, NULL, OPT_ATTACH, "compose a message with FILE attached", "FILE" },
	{ "header", '\0', POPT_ARG_STRING, NULL, OPT_HEADER, "compose a message with this header field", "'NAME: VALUE'" },
	{ "no-progress", '\0', POPT_ARG_NONE, NULL, OPT_NO_PROGRESS, "no progress line on a terminal", NULL },
	{ "help", '\0', POPT_ARG_NONE, NULL, OPT_HELP, "show this help", NULL },
	{ "version", '\0', POPT_ARG_NONE, NULL, OPT_VERSION, "show versions and compiled-in paths", NULL },
	{ NULL, 'I', POPT_ARG_NONE, NULL, OPT_INIT_ALIASES, "check the aliases file, as -bi", NULL },
	{ "flush", '\0', POPT_ARG_NONE, NULL, OPT_QUEUE, "attempt every queue entry now, also -q[INTERVAL]", NULL },
	{ "due", '\0', POPT_ARG_NONE, NULL, OPT_DUE, "with -q: only the entries whose retry time has come", NULL },
	{ "delete", '\0', POPT_ARG_NONE, NULL, OPT_DELETE, "delete these queue entries (queued or failed)", "ID..." },
	{ "requeue", '\0', POPT_ARG_NONE, NULL, OPT_REQUEUE, "put these entries of failed/ back into the queue", "ID..." },
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, "with -bp: list the queue as JSON", NULL },
	{ "account", '\0', POPT_ARG_STRING, NULL, OPT_ACCOUNT, "use this account of the config", "NAME" },
	{ "serverinfo", '\0', POPT_ARG_NONE, NULL, OPT_SERVERINFO, "show what the relay offers and exit", NULL },
	{ "authorize", '\0', POPT_ARG_NONE, NULL, OPT_AUTHORIZE, "get and store the account's OAuth2 tokens", NULL },
	/* accepted and ignored: DSN and BODY need parameters libcurl 7.88 cannot send */
	{ NULL, 'B', POPT_ARG_STRING, NULL, OPT_IGNORED_ARG, "body type (ignored)", "TYPE" },
	{ NULL, 'N', POPT_ARG_STRING, NULL, OPT_IGNORED_ARG, "DSN notify (ignored)", "DSN" },
	{ NULL, 'R', POPT_ARG_STRING, NULL, OPT_IGNORED_ARG, "DSN return (ignored)", "RET" },
	{ NULL, 'V', POPT_ARG_STRING, NULL, OPT_IGNORED_ARG, "DSN envelope id (ignored)", "ENVID" },
	{ NULL, 'L', POPT_ARG_STRING, NULL, OPT_IGNORED_ARG, "syslog tag (ignored)", "TAG" },
	{ NULL, 'h', POPT_ARG_STRING, NULL, OPT_IGNORED_ARG, "hop count (ignored)", "N" },
	{ NULL, 'O', POPT_ARG_STRING, NULL, OPT_IGNORED_ARG, "sendmail option (ignored)", "OPT" },
	{ NULL, 'G', POPT_ARG_NONE, NULL, OPT_IGNORED, "gateway submission (ignored)", NULL },
	{ NULL, 'U', POPT_ARG_NONE, NULL, OPT_IGNORED, "initial user submission (ignored)", NULL },
	{ NULL, 'm', POPT_ARG_NONE, NULL, OPT_IGNORED, "me too (ignored)", NULL },
	{ NULL, 'n', POPT_ARG_NONE, NULL, OPT_IGNORED, "no aliasing (ignored)", NULL },
	POPT_TABLEEND
};

static const struct poptOption *find_short(char c)
{
	for (const struct poptOption *opt = option_table; opt->longName || opt->shortName; opt++)
		if (opt->shortName == c)
			return opt;
	return NULL;
}

static const struct poptOption *find_long(const char *name, size_t len)
{
	for (const struct poptOption *opt = option_table; opt->longName || opt->shortName; opt++)
		if (opt->longName && strlen(opt->longName) == len && strncmp(opt->longName, name, len) == 0)
			return opt;
	return NULL;
}

static bool takes_arg(const struct poptOption *opt)
{
	return opt && (opt->argInfo & POPT_ARG_MASK) != POPT_ARG_NONE;
}

/* -q's glued word after the q: an interval or a flag of sendmail's (-q30m, -qf, -qp), which
 * are ignored, or a selection: -qIsubstr, -qRsubstr, -qSsubstr, and -q!I... for the others. */
static int parse_queue_word(struct cli_opts *o, const char *word, struct diag *d)
{
	const char *rest = word + 2;
	bool negate = *rest == '!';
	if (negate)
		rest++;
	char kind = *rest;
	if (kind != 'I' && kind != 'R' && kind != 'S') {
		if (negate)
			return diag_set(d, EX_USAGE, "%s: -q! needs I, R or S, as in -q!Rexample.org", word);
		return EX_OK;
	}
	if (!rest[1])
		return diag_set(d, EX_USAGE, "%s: needs a substring, as in -q%s%cexample.org", word,
				negate ? "!" : "", kind);
	o->select = xreallocarray(o->select, o->nselect + 1, sizeof *o->select);
	o->select[o->nselect++] = (struct cli_select){ kind, negate, xstrdup(rest + 1) };
	return EX_OK;
}

/* Walks the words as popt will, skipping option arguments, so that an argument is never taken
 * for an option nor an option for an argument (see cli.h). */
const char **cli_rewrite_sendmail_words(int argc, const char *const *argv, int *new_argc,
					struct cli_opts *o, struct diag *d)
{
	const char **out = xcalloc((size_t)argc + 1, sizeof *out);
	int n = 0;
	out[n++] = argv[0];
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (options_done || w[0] != '-' || w[1] == '\0') {
			out[n++] = w;
			continue;
		}
		if (strcmp(w, "--") == 0) {
			options_done = true;
			out[n++] = w;
			continue;
		}
		if (w[1] == '-') {
			const char *eq = strchr(w + 2, '=');
			const struct poptOption *opt = find_long(w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2));
			out[n++] = w;
			if (!eq && takes_arg(opt) && i + 1 < argc)
				out[n++] = argv[++i];
			continue;
		}
		if (w[1] == 'q') {
			/* -q, -q30m, -qR...: the interval is a daemon's business; never the next word */
			if (parse_queue_word(o, w, d) != EX_OK) {
				free(out);
				return NULL;
			}
			out[n++] = "--flush";
			continue;
		}
		if (w[1] == 'e' || w[1] == 'A')
			continue;
		out[n++] = w;
		/* a cluster such as -ti or -tfme@x: the first letter that takes an argument takes
		 * the rest of the word, or the next word when the rest is empty */
		for (const char *c = w + 1; *c; c++) {
			if (takes_arg(find_short(*c))) {
				if (c[1] == '\0' && i + 1 < argc)
					out[n++] = argv[++i];
				break;
			}
		}
	}
	out[n] = NULL;
	*new_argc = n;
	return out;
}

static int check_value(const char *what, const char *value, struct diag *d)
{
	if (!has_line_break(value, strlen(value)))
		return EX_OK;
	struct buf b = {0};
	buf_put_escaped(&b, value);
	diag_set(d, EX_USAGE, "%s '%s': contains a line break (CR or LF)", what, b.data);
	buf_free(&b);
	return EX_USAGE;
}

static void set_string(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static int apply_mode(struct cli_opts *o, const char *mode, struct diag *d)
{
	if (strcmp(mode, "m") == 0)
		return EX_OK;
	if (strcmp(mode, "p") == 0) {
		o->mode = MODE_QUEUE_LIST;
		return EX_OK;
	}
	if (strcmp(mode, "v") == 0) {
		o->mode = MODE_VERIFY;
		return EX_OK;
	}
	if (strcmp(mode, "i") == 0) {
		o->mode = MODE_ALIASES;
		return EX_OK;
	}
	if (strcmp(mode, "s") == 0) {
		o->mode = MODE_SMTP;
		return EX_OK;
	}
	return diag_set(d, EX_USAGE, "-b%s: unknown mode (postie knows -bm, -bs, -bp, -bv, -bi)", mode);
}

static int apply_option(struct cli_opts *o, int code, const char *arg, struct diag *d)
{
	switch (code) {
	case OPT_EXTRACT:
		o->extract = true;
		break;
	case OPT_IGNORE_DOTS:
		o->ignore_dots = true;
		break;
	case OPT_SENDER:
		o->sender_given = true;
		set_string(&o->sender, arg);
		return check_value("sender", arg, d);
	case OPT_FULL_NAME:
		set_string(&o->full_name, arg);
		return check_value("full name", arg, d);
	case OPT_VERBOSE:
		o->verbose = true;
		break;
	case OPT_TRANSCRIPT:
		set_string(&o->transcript_file, arg);
		break;
	case OPT_CONFIG:
		set_string(&o->config_file, arg);
		break;
	case OPT_MODE:
		return apply_mode(o, arg, d);
	case OPT_SENDMAIL_O:
		if (strcmp(arg, "i") == 0)
			o->ignore_dots = true;
		else if (strcmp(arg, "dq") == 0)
			o->delivery = 1;
		else if (strcmp(arg, "di") == 0 || strcmp(arg, "db") == 0)
			o->delivery = 0;
		break;
	case OPT_SUBJECT:
		o->compose = true;
		set_string(&o->subject, arg);
		return check_value("subject", arg, d);
	case OPT_CC:
		o->compose = true;
		strlist_add(&o->cc, arg);
		return check_value("recipient", arg, d);
	case OPT_BCC:
		o->compose = true;
		strlist_add(&o->bcc, arg);
		return check_value("recipient", arg, d);
	case OPT_TO:
		o->compose = true;
		strlist_add(&o->to, arg);
		return check_value("recipient", arg, d);
	case OPT_HELP:
		o->mode = MODE_HELP;
		break;
	case OPT_VERSION:
		o->mode = MODE_VERSION;
		break;
	case OPT_INIT_ALIASES:
		o->mode = MODE_ALIASES;
		break;
	case OPT_QUEUE:
		o->mode = MODE_QUEUE_RUN;
		break;
	case OPT_DUE:
		o->due = true;
		break;
	case OPT_DELETE:
		o->mode = MODE_QUEUE_DELETE;
		break;
	case OPT_REQUEUE:
		o->mode = MODE_QUEUE_REQUEUE;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_ACCOUNT:
		set_string(&o->account, arg);
		break;
	case OPT_SERVERINFO:
		o->mode = MODE_SERVERINFO;
		break;
	case OPT_AUTHORIZE:
		o->mode = MODE_AUTHORIZE;
		break;
	case OPT_ATTACH:
		o->compose = true;
		strlist_add(&o->attach, arg);
		break;
	case OPT_HEADER:
		o->compose = true;
		strlist_add(&o->headers, arg);
		return check_value("header", arg, d);
	case OPT_NO_PROGRESS:
		o->no_progress = true;
		break;
	case OPT_IGNORED:
	case OPT_IGNORED_ARG:
		break;
	}
	return EX_OK;
}

int cli_parse(int argc, const char *const *argv, struct cli_opts *o, struct diag *d)
{
	memset(o, 0, sizeof *o);
	o->delivery = -1;
	const char *prog = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	prog = prog ? prog + 1 : (argc > 0 && argv[0] ? argv[0] : "postie");
	if (strcmp(prog, "mailq") == 0)
		o->mode = MODE_QUEUE_LIST;
	else if (strcmp(prog, "newaliases") == 0)
		o->mode = MODE_ALIASES;

	int n;
	const char **words = cli_rewrite_sendmail_words(argc > 0 ? argc : 1,
							argc > 0 ? argv : (const char *const[]){ "postie", NULL },
							&n, o, d);
	if (!words) {
		o->error = CLI_ERROR_OTHER;
		return d->code;
	}
	poptContext ctx = poptGetContext("postie", n, words, option_table, 0);
	int rc = EX_OK, code;
	while (rc == EX_OK && (code = poptGetNextOpt(ctx)) > 0) {
		char *arg = poptGetOptArg(ctx);
		rc = apply_option(o, code, arg ? arg : "", d);
		free(arg);
	}
	if (rc == EX_OK && code < -1) {
		const char *bad = poptBadOption(ctx, 0);
		if (code == POPT_ERROR_BADOPT) {
			rc = diag_set(d, EX_USAGE, "unknown option %s", bad);
			o->error = CLI_ERROR_UNKNOWN_OPTION;
		}
		else if (code == POPT_ERROR_NOARG)
			rc = diag_set(d, EX_USAGE, "option %s needs an argument", bad);
		else
			rc = diag_set(d, EX_USAGE, "%s: %s", bad, poptStrerror(code));
	}
	for (const char *arg; rc == EX_OK && (arg = poptGetArg(ctx));) {
		strlist_add(&o->operands, arg);
		rc = check_value("recipient", arg, d);
	}
	poptFreeContext(ctx);
	free(words);
	if (rc == EX_OK && o->due && o->mode != MODE_QUEUE_RUN)
		rc = diag_set(d, EX_USAGE, "--due: only with -q or --flush");
	else if (rc == EX_OK && o->nselect && o->mode != MODE_QUEUE_RUN)
		rc = diag_set(d, EX_USAGE, "-q%s%c%s: selects the entries of a queue run only",
			      o->select[0].negate ? "!" : "", o->select[0].kind, o->select[0].text);
	else if (rc == EX_OK && (o->mode == MODE_QUEUE_DELETE || o->mode == MODE_QUEUE_REQUEUE) &&
		 o->operands.n == 0)
		rc = diag_set(d, EX_USAGE, "%s: give the IDs of the entries (mailq lists them)",
			      o->mode == MODE_QUEUE_DELETE ? "--delete" : "--requeue");
	if (rc != EX_OK && o->error == CLI_ERROR_NONE)
		o->error = CLI_ERROR_OTHER;
	return rc;
}

void cli_free(struct cli_opts *o)
{
	free(o->sender);
	free(o->full_name);
	free(o->subject);
	free(o->config_file);
	free(o->transcript_file);
	free(o->account);
	strlist_free(&o->operands);
	strlist_free(&o->to);
	strlist_free(&o->cc);
	strlist_free(&o->bcc);
	strlist_free(&o->attach);
	strlist_free(&o->headers);
	for (size_t i = 0; i < o->nselect; i++)
		free(o->select[i].text);
	free(o->select);
	memset(o, 0, sizeof *o);
}

void cli_print_help(FILE *out)
{
	fputs("Usage: postie [options] [--] recipient...\n"
	      "       ... | postie -s SUBJECT [-c ADDR] [--bcc ADDR] recipient...\n"
	      "Reads a message on standard input and relays it to the configured smarthost.\n\n",
	      out);
	for (const struct poptOption *opt = option_table; opt->longName || opt->shortName; opt++) {
		char left[64];
		int n = 0;
		if (opt->shortName)
			n += snprintf(left + n, sizeof left - (size_t)n, "-%c", opt->shortName);
		if (opt->longName)
			n += snprintf(left + n, sizeof left - (size_t)n, "%s--%s", opt->shortName ? ", " : "",
				      opt->longName);
		if (opt->argDescrip)
			snprintf(left + n, sizeof left - (size_t)n, " %s", opt->argDescrip);
		fprintf(out, "  %-24s %s\n", left, opt->descrip);
	}
	fputs("\nAlso accepted: -oi (same as -i), -odq (queue only), -odi and -odb (send now),\n"
	      "other -o* and -e* -A* (ignored), -q[INTERVAL] (same as --flush), and -qISUBSTR,\n"
	      "-qRSUBSTR, -qSSUBSTR: a queue run of the entries whose ID, a recipient or the sender\n"
	      "holds SUBSTR (-q!I, -q!R, -q!S: the others).\n"
	      "Exit status follows sysexits(3): 0 sent or queued, 64 usage, 65 data, 66 no input,\n"
	      "67 unknown user, 68 unknown host, 69 unavailable, 75 try again later, 76 protocol,\n"
	      "77 permission (authentication), 78 config.\n",
	      out);
}
