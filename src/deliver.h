/* SPDX-License-Identifier: ISC */
/* deliver.h: one message, delivered now or kept: its bytes teed into a spool file on the way to
 * the relay (or, from a regular file, copied there only when kept), then sent, queued, or saved
 * in failed/ as disposition.h says; and the hand-over to
 * the system queue of a caller who cannot read the configuration. It never runs the queue. */
#ifndef POSTIE_DELIVER_H
#define POSTIE_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "run.h"
#include "util.h"

struct infile;
struct message;
struct progress;
struct submit_outcome;
struct submitter;

/* What became of one message: for -bs, the reply to its final dot. */
struct delivery_report {
	bool sent;		/* the relay accepted it (for at least one recipient) */
	bool unkept;		/* and deferred others, which could not be queued either */
	char queued_id[64];	/* it is in the queue (not failed/) under this id */
	int code;		/* the relay's refusal of the whole message, or 0 */
	char text[1024];	/* that refusal's text, after the code */
};

/* Sends an opened message now (or, when r->delivery is DELIVERY_QUEUE, only queues it), with
 * its bytes teed into a spool file; on failure keeps it in the queue or in failed/ as the
 * contract says. When in is not NULL (msg was opened through infile_read, and
 * infile_set_body was told where its body starts), nothing is teed: the file is read again
 * into the spool only when the message is kept, and for each further batch of recipients (the
 * maildrop of a user's message still tees). *sub is created at the first use and reused after
 * (the caller frees it); progress is the progress line's state, or NULL. Fills *rep; returns
 * the exit status, with d (the line that sums up what was not delivered). */
int deliver_message(struct run *r, struct message *msg, struct infile *in,
		    struct progress *progress, struct submitter **sub, struct delivery_report *rep,
		    struct diag *d);

/* The line that says why recipient i of out did not get the message: "<relay> refused <addr>:
 * <the relay's reply>", or "<relay> cannot take <addr>: <why>" when postie never sent it. The
 * caller frees it. */
char *refusal_line(const char *relay, const char *rcpt, const struct submit_outcome *out,
		   size_t i);

/* A caller who cannot read the system configuration (why says so) does not try to send: the
 * message on fd 0, its recipients and the options that shape it go to the system queue as they
 * are, and root's pickup completes them (pickup.h). Returns EX_OK with a status line, or a
 * status with d ("...; not handed to the system queue (...)"). */
int hand_over(const struct cli_opts *o, const struct diag *why, struct diag *d);

#endif
