/* SPDX-License-Identifier: ISC */
/* stamp.c: the fields postie writes itself into a header: From and Resent-From from the
 * sender and the user's name, Date, Message-ID, the Resent- block's missing fields, Received.
 * It never decides whether a field is wanted: message.c does, by the rules of its modes. */
#include "stamp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

char *stamp_message_id(const char *domain)
{
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		rnd = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&rnd;
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	return xasprintf("<%04d%02d%02d%02d%02d%02d.%ld.%016llx@%s>", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)getpid(),
			 (unsigned long long)rnd, domain);
}

/* The value of a generated From or Resent-From: " Jane Doe <jane@example.org>" with the
 * user's name (quoted or encoded as a phrase needs), else " jane@example.org". */
static char *sender_field_value(const struct message_opts *o, const char *sender)
{
	char *fallback = NULL;
	if (*sender == '\0')
		sender = fallback = xasprintf("%s@%s", o->login, o->domain);
	char *value;
	if (o->full_name && *o->full_name) {
		char *phrase = header_encode_phrase_charset(o->full_name, o->legacy_charset);
		value = xasprintf(" %s <%s>", phrase, sender);
		free(phrase);
	} else {
		value = xasprintf(" %s", sender);
	}
	free(fallback);
	return value;
}

void stamp_append_from(struct header *h, const struct message_opts *o, const char *sender)
{
	char *value = sender_field_value(o, sender);
	header_append(h, "From", value);
	free(value);
}

static char *date_value(void)
{
	char *date = header_format_date(time(NULL));
	char *value = xasprintf(" %s", date);
	free(date);
	return value;
}

static char *message_id_value(const char *domain)
{
	char *id = stamp_message_id(domain);
	char *value = xasprintf(" %s", id);
	free(id);
	return value;
}

void stamp_append_date_and_id(struct header *h, const char *domain, bool only_missing,
			      bool want_date, bool want_id)
{
	if (want_date && (!only_missing || header_find(h, "Date", 0) == HEADER_NONE)) {
		char *value = date_value();
		header_append(h, "Date", value);
		free(value);
	}
	if (want_id && (!only_missing || header_find(h, "Message-ID", 0) == HEADER_NONE)) {
		char *value = message_id_value(domain);
		header_append(h, "Message-ID", value);
		free(value);
	}
}

/* Whether field name is within fields first..last. */
static bool block_has(const struct header *h, size_t first, size_t last, const char *name)
{
	size_t i = header_find(h, name, first);
	return i != HEADER_NONE && i <= last;
}

void stamp_complete_resent(struct header *h, size_t first, size_t last,
			   const struct message_opts *o, const char *sender)
{
	size_t at = last + 1;
	if (!block_has(h, first, last, "Resent-Date")) {
		char *value = date_value();
		header_insert(h, at++, "Resent-Date", value);
		free(value);
	}
	if (!block_has(h, first, last, "Resent-From")) {
		char *value = sender_field_value(o, sender);
		header_insert(h, at++, "Resent-From", value);
		free(value);
	}
	if (!block_has(h, first, last, "Resent-Message-ID")) {
		char *value = message_id_value(o->domain);
		header_insert(h, at++, "Resent-Message-ID", value);
		free(value);
	}
}

/* Prepends the trace field of a local submission, as Postfix's pickup does: the host and the
 * submitting uid, which the message may be traced back to when it comes from the queue of a
 * machine with many users (RFC 5321 4.4; the uid, not the login, as Postfix does). */
void stamp_prepend_received(struct header *h, const struct message_opts *o)
{
	if (!o->received_host)
		return;
	char *date = header_format_date(time(NULL));
	char *value = xasprintf(" by %s (postie, from userid %lu);\n\t%s", o->received_host,
				o->uid, date);
	header_insert(h, 0, "Received", value);
	free(value);
	free(date);
}
