/* log.c: warnings and the SMTP transcript (see log.h). Secrets are redacted before they get
 * here (submit.c); this file only writes. */
#include "log.h"

#include <stdarg.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static bool transcript_verbose;
static FILE *transcript_file;
static bool records_syslog;
static FILE *records_file;

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
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	if (records_syslog)
		syslog(LOG_INFO, "%s", line);
	if (records_file) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
		fprintf(records_file, "%s postie[%ld]: %s\n", stamp, (long)getpid(), line);
		fflush(records_file);
	}
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
	if (transcript_verbose)
		fprintf(stderr, "%s %.*s\n", prefix, (int)len, text);
	if (transcript_file) {
		fprintf(transcript_file, "%s %.*s\n", prefix, (int)len, text);
		fflush(transcript_file);
	}
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("postie: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
