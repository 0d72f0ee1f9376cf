/* SPDX-License-Identifier: ISC */
/* log.h: where diagnostics are written: status and error lines and warnings on stderr, the SMTP
 * transcript of -v (stderr) and -X (a file), and the delivery records. Every one of them is
 * escaped here (buf_put_escaped's rule), never by the callers, the progress line's CR included.
 * It never decides policy. */
#ifndef POSTIE_LOG_H
#define POSTIE_LOG_H

#include <stdbool.h>
#include <stdio.h>

/* Transcript destinations: stderr when verbose, and file (not owned; NULL for none). */
void log_set_transcript(bool verbose, FILE *file);
bool log_transcript_enabled(void);

/* One transcript line, as "<prefix> <text>" (text without its line break). */
void log_transcript(const char *prefix, const char *text, size_t len);

/* Where delivery records go: syslog (facility mail) when use_syslog, and file (appended, not
 * owned; NULL for none). */
void log_set_records(bool use_syslog, FILE *file);

/* One record line as it is given (cut and escaped here): the delivery record's shape is
 * log_delivery's; this is for a line that has no message to describe (pickup's refusals). */
void log_record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "postie: ..." on stderr: the one error line of cmd/postie.c, and what a run reports as it
 * goes (refused recipients, queued entries). */
void log_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The progress line on stderr, redrawn in place: CR, "postie: ", the text, and a line break
 * only when last (the line's final state). */
void log_progress(bool last, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One delivery record of a message or a queue entry, the one line format for every outcome:
 * "id=ID from=<SENDER> nrcpt=N size=N relay=URL status=STATUS[ reply=REPLY]" (id "-" when
 * NULL, no reply when NULL). */
void log_delivery(const char *id, const char *sender, size_t nrcpt, unsigned long long size,
		  const char *relay, const char *status, const char *reply);

/* "postie: warning: ..." on stderr. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "postie: out of memory" on stderr, for the dying allocators (util.c): one write(2) of a
 * constant, nothing allocated, no stdio, so it works when nothing else can and is
 * async-signal-safe. */
void log_out_of_memory(void);

#endif
