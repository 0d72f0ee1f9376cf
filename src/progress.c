/* SPDX-License-Identifier: ISC */
/* progress.c: the progress line (see progress.h): it only measures and formats numbers; the
 * writing, CR and all, is log.c's. It must never print outside text nor decide policy. */
#include "progress.h"

#include <unistd.h>

#include "log.h"

bool progress_wanted(unsigned long long total, bool no_progress)
{
	return !no_progress && isatty(STDERR_FILENO) && total >= PROGRESS_MIN_BYTES;
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

void progress_start(struct progress *p)
{
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

void progress_show(void *ctx, unsigned long long sent)
{
	struct progress *p = ctx;
	p->sent = sent;
	if (p->shown && seconds_since(&p->last) < 0.25 && sent < p->total)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	double elapsed = seconds_since(&p->start);
	double rate = elapsed > 0 ? (double)sent / elapsed : 0;
	unsigned long long total = p->total > sent ? p->total : sent;
	double left = rate > 0 ? (double)(total - sent) / rate : 0;
	log_progress(false, "sent %.1f of %.1f MiB, %.1f MiB/s, %.0f s left ",
		     (double)sent / 1048576.0, (double)total / 1048576.0, rate / 1048576.0, left);
	p->shown = true;
}

void progress_end(struct progress *p)
{
	if (!p->shown)
		return;
	double elapsed = seconds_since(&p->start);
	log_progress(true, "sent %.1f MiB in %.1f s, %.1f MiB/s%20s", (double)p->sent / 1048576.0,
		     elapsed, elapsed > 0 ? (double)p->sent / 1048576.0 / elapsed : 0.0, "");
}
