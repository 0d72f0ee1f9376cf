/* SPDX-License-Identifier: ISC */
/* cli.h: argv -> struct cli_opts, with sendmail's options in their real meaning. The only file
 * that includes popt.h; it checks values for line breaks but interprets no address. */
#ifndef POSTIE_CLI_H
#define POSTIE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

enum cli_mode {
	MODE_SEND,		/* -bm, the default */
	MODE_HELP,		/* --help */
	MODE_VERSION,		/* --version */
	MODE_QUEUE_RUN,		/* -q, --flush */
	MODE_QUEUE_DELETE,	/* --delete ID... */
	MODE_QUEUE_REQUEUE,	/* --requeue ID... */
	MODE_QUEUE_LIST,	/* -bp, mailq */
	MODE_SERVERINFO,	/* --serverinfo */
	MODE_VERIFY,		/* -bv */
	MODE_ALIASES,		/* -bi, -I, newaliases */
	MODE_SMTP,		/* -bs */
	MODE_AUTHORIZE		/* --authorize: OAuth2 tokens for an account (authorize.c) */
};

/* One selection of a queue run, sendmail's -qI, -qR, -qS (and -q!I, -q!R, -q!S). */
struct cli_select {
	char kind;		/* 'I' the queue id, 'R' a recipient, 'S' the sender */
	bool negate;		/* -q!X: the entries that do not hold text */
	char *text;		/* a substring, never empty */
};

/* The kind of usage error cli_parse found: what a caller decides from, never the message. */
enum cli_error {
	CLI_ERROR_NONE,
	CLI_ERROR_UNKNOWN_OPTION,	/* an option postie does not know: worth a pointer to --help */
	CLI_ERROR_OTHER			/* any other: a missing argument, a bad value or mode, a line
					 * break in a value, an option given where it means nothing */
};

struct cli_opts {
	enum cli_mode mode;
	enum cli_error error;	/* set by cli_parse when it returns EX_USAGE, else CLI_ERROR_NONE */
	bool extract;		/* -t: recipients from the header too */
	bool ignore_dots;	/* -i, -oi: a lone "." line does not end the input */
	bool verbose;		/* -v */
	bool sender_given;	/* -f or -r was given (possibly empty: the null sender) */
	char *sender;		/* -f / -r */
	char *full_name;	/* -F */
	char *subject;		/* -s */
	char *config_file;	/* -C */
	char *transcript_file;	/* -X */
	struct strlist operands;	/* recipients as given, each possibly a comma list */
	struct strlist to, cc, bcc;	/* --to, -c, --bcc */
	bool compose;		/* the mail -s front end is in use: stdin is the body only */
	int delivery;		/* -odq: 1 (queue only); -odi, -odb: 0 (now); else -1 (config) */
	bool no_progress;	/* --no-progress */
	struct strlist attach;	/* -a, --attach */
	struct strlist headers;	/* --header */
	bool json;		/* --json: machine-readable queue listing */
	char *account;		/* --account */
	bool due;		/* --due: a queue run attempts only the entries that are due */
	struct cli_select *select;	/* -qI, -qR, -qS, in the order given */
	size_t nselect;
};

/* Parses argv (argv[0] picks the personality: "mailq", "newaliases"). Returns EX_OK, or
 * EX_USAGE with d filled ("unknown option -x", "-s: contains a line break") and o->error
 * saying which kind of error it was. o is always safe to cli_free. */
int cli_parse(int argc, const char *const *argv, struct cli_opts *o, struct diag *d);
void cli_free(struct cli_opts *o);

/* The first step of cli_parse, exposed for its unit test: rewrites sendmail's words that popt
 * cannot express into ones it can. -q[INTERVAL] (the interval glued, never the next word)
 * becomes --flush, and a glued selection (-qISUBSTR, -qRSUBSTR, -qSSUBSTR, -q!I..., -q!R...,
 * -q!S...) is added to o->select; -e* and -A* (glued-only, ignored) are dropped. Every other
 * word is kept, and an option's argument (glued, or the next word) is never rewritten, nor
 * is anything after "--". Returns a new argv of *new_argc words and a NULL (the pointers are
 * argv's own, or literals; free only the array), or NULL with d (EX_USAGE) for a -q word
 * that selects nothing ("-qI", "-q!x"). */
const char **cli_rewrite_sendmail_words(int argc, const char *const *argv, int *new_argc,
					struct cli_opts *o, struct diag *d);

/* The --help text. */
void cli_print_help(FILE *out);

#endif
