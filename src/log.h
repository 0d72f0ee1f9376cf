/* log.h: where diagnostics are written: status and error lines and warnings on stderr, the SMTP
 * transcript of -v (stderr) and -X (a file), and the delivery records. Every one of them is
 * escaped here (buf_put_escaped's rule), never by the callers; the one other stderr writer is
 * app.c's progress line, which redraws itself with CR and holds no outside text. It never
 * decides policy. */
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

/* One delivery record: "id=... from=<...> nrcpt=N size=N relay=... status=... reply=...". */
void log_record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "postie: ..." on stderr: the one error line of cmd/postie.c, and what a run reports as it
 * goes (refused recipients, queued entries). */
void log_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "postie: warning: ..." on stderr. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "postie: out of memory" on stderr, for the dying allocators (util.c): one write(2) of a
 * constant, nothing allocated, no stdio, so it works when nothing else can and is
 * async-signal-safe. */
void log_out_of_memory(void);

#endif
