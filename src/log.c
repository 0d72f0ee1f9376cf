/* SPDX-License-Identifier: ISC */
/* log.c: the status lines, warnings, transcript and records (see log.h). Secrets are redacted
 * before they get here (submit.c); this file only escapes and writes. */
#include "log.h"

#include <stdarg.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* A record is cut here before it is escaped, as syslog lines have always been: a relay's reply
 * of 300 KiB must not make one. */
#define RECORD_MAX 2047

static bool transcript_verbose;
static FILE *transcript_file;
static bool records_syslog;
static FILE *records_file;

/* Every line goes through here: prefix, then text by buf_put_escaped's rule, so that no byte
 * from the user, a file or a relay reaches a terminal or a log as a control. */
static void put_line(FILE *f, const char *prefix, const char *text, size_t len)
{
	struct buf b = {0};
	buf_puts(&b, prefix);
	buf_put_escaped_n(&b, text, len);
	buf_putc(&b, '\n');
	fwrite(b.data, 1, b.len, f);
	buf_free(&b);
}

static void put_formatted(FILE *f, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void put_formatted(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	struct buf text = {0};
	buf_vprintf(&text, fmt, ap);
	put_line(f, prefix, text.data ? text.data : "", text.len);
	buf_free(&text);
}

void log_status(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_formatted(stderr, "postie: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_formatted(stderr, "postie: warning: ", fmt, ap);
	va_end(ap);
}

void log_out_of_memory(void)
{
	static const char line[] = "postie: out of memory\n";
	(void)write_all(STDERR_FILENO, line, sizeof line - 1);	/* nothing left to report to */
}

void log_progress(bool last, const char *fmt, ...)
{
	struct buf text = {0}, b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	buf_puts(&b, "\rpostie: ");
	buf_put_escaped_n(&b, text.data ? text.data : "", text.len);
	if (last)
		buf_putc(&b, '\n');
	fwrite(b.data, 1, b.len, stderr);
	buf_free(&text);
	buf_free(&b);
}

void log_set_records(bool use_syslog, FILE *file)
{
	if (use_syslog && !records_syslog)
		openlog("postie", LOG_PID, LOG_MAIL);
	else if (!use_syslog && records_syslog)
		closelog();
	records_syslog = use_syslog;
	records_file = file;
}

void log_record(const char *fmt, ...)
{
	struct buf raw = {0}, line = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&raw, fmt, ap);
	va_end(ap);
	buf_put_escaped_n(&line, raw.data ? raw.data : "", raw.len < RECORD_MAX ? raw.len : RECORD_MAX);
	if (records_syslog)
		syslog(LOG_INFO, "%s", line.data ? line.data : "");
	if (records_file) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
		fprintf(records_file, "%s postie[%ld]: %s\n", stamp, (long)getpid(),
			line.data ? line.data : "");
		fflush(records_file);
	}
	buf_free(&raw);
	buf_free(&line);
}

void log_delivery(const char *id, const char *sender, size_t nrcpt, unsigned long long size,
		  const char *relay, const char *status, const char *reply)
{
	log_record("id=%s from=<%s> nrcpt=%zu size=%llu relay=%s status=%s%s%s", id ? id : "-",
		   sender, nrcpt, size, relay, status, reply ? " reply=" : "", reply ? reply : "");
}

void log_set_transcript(bool verbose, FILE *file)
{
	transcript_verbose = verbose;
	transcript_file = file;
}

bool log_transcript_enabled(void)
{
	return transcript_verbose || transcript_file;
}

void log_transcript(const char *prefix, const char *text, size_t len)
{
	struct buf p = {0};
	buf_printf(&p, "%s ", prefix);
	if (transcript_verbose)
		put_line(stderr, p.data, text, len);
	if (transcript_file) {
		put_line(transcript_file, p.data, text, len);
		fflush(transcript_file);
	}
	buf_free(&p);
}
