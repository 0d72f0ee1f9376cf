/* SPDX-License-Identifier: ISC */
/* app.h: one function per mode; the orchestrator that turns parsed options into configuration,
 * message and submission. Its status lines go out through log.h; the error that ends a mode goes
 * up in struct diag, which cmd/postie.c prints once. */
#ifndef POSTIE_APP_H
#define POSTIE_APP_H

#include "cli.h"
#include "util.h"

/* Sends the message on fd 0 as the options say. Returns EX_OK or a sysexits status with d. */
int app_send(const struct cli_opts *o, struct diag *d);

/* -q, --flush: attempts every entry of the queue now (with --due only those whose retry time
 * has come; with -qI, -qR, -qS those selected), oldest first, each through its own account,
 * one connection per account. One line per entry on stderr on a terminal or with -v. */
int app_queue_run(const struct cli_opts *o, struct diag *d);

/* --delete ID...: removes each entry, from q/ or failed/. A line on stderr for each; the status
 * of the last that could not be removed (EX_NOINPUT: no such entry; EX_TEMPFAIL: being
 * delivered; EX_USAGE: not an id). */
int app_queue_delete(const struct cli_opts *o, struct diag *d);

/* --requeue ID...: moves each entry of failed/ back into the queue with its recipients, due now,
 * its attempts reset and a new expiry. Statuses as app_queue_delete. */
int app_queue_requeue(const struct cli_opts *o, struct diag *d);

/* -bp, mailq: lists the queue and failed/ (as JSON with --json). */
int app_queue_list(const struct cli_opts *o, struct diag *d);

/* --serverinfo: connects to the relay and prints what it offers; sends nothing. */
int app_serverinfo(const struct cli_opts *o, struct diag *d);

/* -bv: prints what each recipient expands to and the relay it would use; sends nothing.
 * EX_NOUSER when one is invalid. */
int app_verify(const struct cli_opts *o, struct diag *d);

/* -bi, -I, newaliases: checks the aliases file and prints how many aliases it holds. */
int app_aliases(const struct cli_opts *o, struct diag *d);

/* -bs: speaks SMTP on stdin and stdout; what it accepts goes through the same engine and
 * queue as a normal send. */
int app_smtp(const struct cli_opts *o, struct diag *d);

/* --authorize [--account NAME]: obtains the account's first OAuth2 tokens (the device grant:
 * prints where to go and the code to enter, then polls; or the client-credentials grant) and
 * stores them (src/authorize.c). Errors: as oauth2.h's grants. */
int app_authorize(const struct cli_opts *o, struct diag *d);

/* Prints postie's version, libcurl's and the compiled-in paths. */
int app_version(struct diag *d);

#endif
