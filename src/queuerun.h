/* SPDX-License-Identifier: ISC */
/* queuerun.h: the queue run (a pass over the queue, not to be confused with struct run, the
 * invocation): which entries are due or expired, their backoff, one connection per account,
 * the outcome of each recorded; root's pickup of the system queue; --delete and --requeue.
 * It never reads a message from the caller. */
#ifndef POSTIE_QUEUERUN_H
#define POSTIE_QUEUERUN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cli.h"
#include "run.h"
#include "util.h"

struct submitter;

/* Which entries one pass over the queue attempts, and what it says of them. */
struct queue_pass {
	bool due_only;		/* only those whose retry time has come (and the expired ones) */
	const char *only_relay;	/* only those recorded for this relay, or NULL */
	const struct cli_select *select;	/* -qI, -qR, -qS; none selects all */
	size_t nselect;
	time_t deadline;	/* no entry is started at or after it; 0 for none */
	bool report;		/* a line on stderr for each entry delivered or deferred */
};

/* Attempts the entries of r's open queue that p selects (all of them, whatever their backoff,
 * unless p->due_only), oldest first, each through its own account, until the deadline or a
 * signal. reuse, when not NULL, is the connection of r->acct (the caller keeps it). Returns
 * EX_OK, or EX_TEMPFAIL with d when the queue cannot record an outcome (the pass stops). */
int queue_pass_run(struct run *r, struct submitter *reuse, const struct queue_pass *p,
		   struct diag *d);

/* After a send that reached the relay over sub (r->acct's connection): what is due for that
 * relay goes over the same connection, no entry started at or after deadline (the caller's
 * clock plus QUEUE_PASS_AFTER_SEND_SECONDS); a send does not override the backoff of other
 * entries. Nothing without an open queue, or after a signal. What it cannot deliver stays
 * queued, unsaid: the send's own status stands. */
#define QUEUE_PASS_AFTER_SEND_SECONDS 20
void queue_pass_after_send(struct run *r, struct submitter *sub, time_t deadline);

/* Root's pass takes the system queue's maildrop into r's queue first (pickup.h), with the
 * configuration it runs with. A refusal is always said; what was picked up with report. d gets
 * root's own failure to take it. */
void queue_pass_pickup(struct run *r, bool report, struct diag *d);

/* --delete: removes entry id from q/ or failed/, with a status line and a record. Errors:
 * EX_NOINPUT no such entry, EX_TEMPFAIL being delivered, EX_USAGE not an id. */
int queue_entry_delete(struct run *r, const char *id, struct diag *d);

/* --requeue: moves entry id back from failed/ with its recipients, a new backoff and a new
 * expiry, as if queued now. Errors as queue_entry_delete; EX_USAGE when it is not in failed/. */
int queue_entry_requeue(struct run *r, const char *id, struct diag *d);

#endif
