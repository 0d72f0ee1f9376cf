/* SPDX-License-Identifier: ISC */
/* broker.h: the token broker of a setgid run: a child that keeps the group postie, holds the
 * system file's OAuth2 accounts and answers the user's process with access tokens only, over a
 * socketpair; and the frames they exchange (parsed and formatted here, pure). It never sends
 * a refresh token or a client secret, and never reads a file the user controls. */
#ifndef POSTIE_BROKER_H
#define POSTIE_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "util.h"

/* The largest frame either side sends or takes (one SOCK_SEQPACKET datagram). */
#define BROKER_FRAME_MAX 16384
/* The longest account name a request may carry. */
#define BROKER_ACCOUNT_MAX 255

/* --- frames (pure) --------------------------------------------------------------------------- */

enum broker_op {
	BROKER_TOKEN,		/* "token\0ACCOUNT": an access token fresh for a send */
	BROKER_RENEW,		/* "renew\0ACCOUNT\0OLDTOKEN": OLDTOKEN was refused; a new one */
};

/* A parsed request. The strings are owned by it (release with broker_request_clear, which
 * wipes old_token); account "" is the top-level settings. */
struct broker_request {
	enum broker_op op;
	char *account;
	char *old_token;	/* BROKER_RENEW only, else NULL */
};

/* Parses one request frame of len bytes. A frame is the operation, NUL, the account name
 * (printable ASCII, at most BROKER_ACCOUNT_MAX bytes, "" for the top level), and for renew NUL
 * and the old token (1 to BROKER_FRAME_MAX bytes, printable ASCII); nothing else, no trailing
 * NUL. Errors: EX_USAGE "WHAT" (no secret quoted), req zeroed then. */
int broker_parse_request(const char *frame, size_t len, struct broker_request *req,
			 struct diag *d);
void broker_request_clear(struct broker_request *req);

/* A request frame into out (size n, at least BROKER_FRAME_MAX); returns its length, or 0 when
 * the fields do not fit the rules above. old is NULL for BROKER_TOKEN. */
size_t broker_format_request(enum broker_op op, const char *account, const char *old, char *out,
			     size_t n);

/* A reply frame: two digits, NUL, then the access token (code 00) or one error line (a
 * sysexits code, the line made printable and cut to fit). Returns its length (never 0). */
size_t broker_format_reply(int code, const char *text, char *out, size_t n);

/* Parses a reply frame: *code the status (EX_OK or a sysexits code from 64 to 78), *text the
 * token or the line (caller's, wipe_free). Errors: EX_PROTOCOL "the token broker's answer is
 * not one" for anything else, *text NULL then. */
int broker_parse_reply(const char *frame, size_t len, int *code, char **text, struct diag *d);

/* What answers a request: the account of that name (NULL: none the broker serves), a token
 * for it, a renewal of it. The real broker's go to the system file and oauth2.h; a test's or
 * the fuzz target's are its own. */
struct broker_source {
	const struct account *(*lookup)(void *ctx, const char *name);
	int (*bearer)(void *ctx, const struct account *a, char **token, struct diag *d);
	int (*forget)(void *ctx, const struct account *a, const char *old, struct diag *d);
	void *ctx;
};

/* Answers one request frame into out (size n, at least BROKER_FRAME_MAX) and returns the
 * reply's length: a malformed request, an account the source does not serve, or a failure of
 * the source each get an error reply; a reply never holds more than an access token. */
size_t broker_answer(const struct broker_source *src, const char *frame, size_t len, char *out,
		     size_t n);

/* --- the broker process ---------------------------------------------------------------------- */

struct broker;

/* Starts the broker for the system file's configuration c (as config_load_system left it:
 * config_finish is done on the child's own copy), before the caller gives up its group: a
 * child that keeps it and serves c's OAuth2 accounts whose every key comes from the system
 * file, until the caller's end closes. c stays the caller's. Returns EX_OK with *out, or
 * EX_OSERR (socketpair, fork) with *out NULL. */
int broker_start(struct config *c, struct broker **out, struct diag *d);

/* Asks b for a token for account a (a->name, or the top level): op BROKER_TOKEN, or
 * BROKER_RENEW with old, the token the relay refused. *token is the caller's (wipe_free).
 * Errors: the broker's (EX_TEMPFAIL for the token endpoint down, EX_NOPERM with the line to
 * run ...), EX_TEMPFAIL "the token broker ..." when it is gone or answers nonsense. */
int broker_ask(struct broker *b, const struct account *a, enum broker_op op, const char *old,
	       char **token, struct diag *d);

/* Closes the caller's end, which ends the broker, and waits for it. NULL is fine. */
void broker_close(struct broker *b);

#endif
