/* log.c: warnings and the SMTP transcript (see log.h). Secrets are redacted before they get
 * here (submit.c); this file only writes. */
#include "log.h"

#include <stdarg.h>

static bool transcript_verbose;
static FILE *transcript_file;

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
