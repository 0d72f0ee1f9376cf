/* app.h: one function per mode; the orchestrator that turns parsed options into configuration,
 * message and submission. It prints nothing itself: errors go up in struct diag. */
#ifndef POSTIE_APP_H
#define POSTIE_APP_H

#include "cli.h"
#include "util.h"

/* Sends the message on fd 0 as the options say. Returns EX_OK or a sysexits status with d. */
int app_send(const struct cli_opts *o, struct diag *d);

/* -q, --flush: delivers every due entry of the queue, oldest first, one connection per relay. */
int app_queue_run(const struct cli_opts *o, struct diag *d);

/* -bp, mailq: lists the queue and failed/ (as JSON with --json). */
int app_queue_list(const struct cli_opts *o, struct diag *d);

/* --serverinfo: connects to the relay and prints what it offers; sends nothing. */
int app_serverinfo(const struct cli_opts *o, struct diag *d);

/* Prints postie's version, libcurl's and the compiled-in paths. */
int app_version(struct diag *d);

#endif
