/* log.h: the one place that writes diagnostics other than the final error line: warnings on
 * stderr and the SMTP transcript of -v (stderr) and -X (a file). It never decides policy. */
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

/* "postie: warning: ..." on stderr. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
