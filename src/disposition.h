/* SPDX-License-Identifier: ISC */
/* disposition.h: what a relay's answer means, decided in one place: for each recipient
 * delivered, retried later or failed for good, the exit status of a send and the next retry
 * time. A pure function of the typed outcome (submit.h) and the entry's attempt count: it
 * reads no file, no clock and no configuration, and it never prints. */
#ifndef POSTIE_DISPOSITION_H
#define POSTIE_DISPOSITION_H

#include <stdbool.h>
#include <stddef.h>

#include "submit.h"

#define DISPOSITION_BACKOFF_FIRST 60	/* seconds before the first retry */
#define DISPOSITION_BACKOFF_MAX 3600	/* the backoff doubles up to this */

enum disp_verdict {
	DISP_DELIVERED,		/* the relay took it for this recipient */
	DISP_RETRY,		/* kept in the queue, tried again after the backoff */
	DISP_FAILED		/* refused for good: kept in failed/, never retried */
};

enum disp_scope {
	DISP_WHOLE,		/* one verdict for the message (rcpt[] all hold it) */
	DISP_PER_RECIPIENT,	/* the recipients part ways: some delivered, or refused apart */
	DISP_NOT_KEPT		/* the caller's input could not be read whole (a read error, or
				 * interrupted before its end): nothing is kept, the caller still
				 * has the message; rcpt[] all hold DISP_RETRY */
};

/* What the decision is made from. */
struct disposition_input {
	const struct submit_outcome *out;	/* out->status is what submitter_send returned;
						 * an outcome of nothing sent (stage NOT_SENT,
						 * nrcpt 0) is a temporary failure of status */
	size_t nrcpt;			/* the recipients of the message (out->nrcpt may be 0) */
	bool from_queue;		/* the bytes come from a queue entry, not from the caller:
					 * a read error keeps the entry as it is */
	bool input_whole;		/* the caller's input was read to its end */
	long attempts;			/* the attempts made before this one */
	long long now;
};

/* The decision. */
struct disposition {
	enum disp_scope scope;
	size_t delivered, retry, failed;	/* how many recipients have each verdict */
	bool whole_refused;	/* the relay refused the message itself (a 5xx to the
				 * greeting, MAIL, DATA or the final dot, or no SMTP code) */
	bool maybe_delivered;	/* the connection dropped after the final dot: a retry may
				 * deliver a second copy */
	int exit_status;	/* of a send, before keeping it: EX_OK (sent, or queued), the
				 * submit status for a refusal or for a failure that is kept but
				 * needs someone to fix the configuration, EX_NOUSER when a
				 * recipient failed; for DISP_NOT_KEPT the input's status */
	long attempts;		/* attempts after this one */
	long long next_attempt;	/* when the retried recipients are due */
};

/* Decides, for each of in->nrcpt recipients, rcpt[i] (the caller's array), and fills *d.
 * The rule: a 2xx/3xx to a recipient's RCPT in a message the relay accepted is delivered; a
 * 5xx to a recipient's RCPT fails that recipient; a refusal of the message itself with a 5xx
 * (or a code outside SMTP's) fails every recipient not already failed; anything else (4xx,
 * no reply, lost connection, timeout, TLS, authentication, a secret that could not be had)
 * is retried. An interrupted transfer is never a refusal. */
void disposition_decide(const struct disposition_input *in, enum disp_verdict *rcpt,
			struct disposition *d);

/* Whether the relay refused the credentials themselves: a 535/534/530 to AUTH, or AUTH ended
 * without a code (a 334 error challenge libcurl gave up on), before any recipient was taken.
 * For a bearer token this means the token is stale: one refresh and one retry (run.h). */
bool disposition_auth_refused(const struct submit_outcome *o);

/* The delay before the retry that follows attempt number attempts (>= 1): one minute,
 * doubling up to an hour. */
long disposition_backoff(long attempts);

/* Whether an entry that expires at expires (0: never recorded) is given up at now. */
bool disposition_expired(long long expires, long long now);

#endif
