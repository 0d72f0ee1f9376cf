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

struct cli_opts {
	enum cli_mode mode;
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
 * EX_USAGE with d filled ("unknown option -x", "-s: contains a line break"). o is always
 * safe to cli_free. */
int cli_parse(int argc, const char *const *argv, struct cli_opts *o, struct diag *d);
void cli_free(struct cli_opts *o);

/* The --help text. */
void cli_print_help(FILE *out);

#endif
