/* SPDX-License-Identifier: ISC */
/* progress.h: the progress line of a large send on a terminal: bytes sent, rate, time left.
 * It holds only numbers, writes through log.h (log_progress) and never decides what is sent. */
#ifndef POSTIE_PROGRESS_H
#define POSTIE_PROGRESS_H

#include <stdbool.h>
#include <time.h>

/* Below this a send is too short for a line worth redrawing. */
#define PROGRESS_MIN_BYTES (4ULL * 1024 * 1024)

struct progress {
	unsigned long long total, sent;	/* total: the message's estimated size */
	struct timespec start, last;
	bool shown;
};

/* Whether a send of total bytes shows the line: stderr a terminal, a large message, and the
 * caller did not say --no-progress. */
bool progress_wanted(unsigned long long total, bool no_progress);

/* Starts the clock of p (its total set by the caller). */
void progress_start(struct progress *p);

/* The submitter's progress callback (ctx is a struct progress): redraws the line at most
 * four times a second, and at the end. */
void progress_show(void *ctx, unsigned long long sent);

/* Ends the line with the totals and a line break, when it was shown at all. */
void progress_end(struct progress *p);

#endif
