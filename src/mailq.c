/* SPDX-License-Identifier: ISC */
/* mailq.c: the queue listing, text and JSON (see mailq.h): formatting only, of what it is
 * given. It never opens the queue, reads the clock or decides anything about an entry. */
#include "mailq.h"

#include <jansson.h>
#include <string.h>

#include "queue.h"
#include "util.h"

/* A JSON string of s (NULL: ""). jansson takes only UTF-8, so a byte that is not part of
 * well-formed UTF-8 for U+00A0 and up (and C1 controls) becomes the text \xNN, by the rule of
 * every line postie writes (buf_put_escaped_n); jansson escapes the rest. */
static json_t *json_text(const char *s)
{
	if (!s)
		s = "";
	struct buf b = {0};
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t k = p[i] < 0x80 ? 1 : utf8_printable_len(p + i, n - i);
		if (k) {
			buf_append(&b, p + i, k);
			i += k;
		} else {
			buf_printf(&b, "\\x%02x", p[i]);
			i++;
		}
	}
	json_t *j = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return j;
}

void mailq_age(long long seconds, char *out, size_t n)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 120)
		snprintf(out, n, "%llds", seconds);
	else if (seconds < 7200)
		snprintf(out, n, "%lldm", seconds / 60);
	else if (seconds < 172800)
		snprintf(out, n, "%lldh", seconds / 3600);
	else
		snprintf(out, n, "%lldd", seconds / 86400);
}

static void list_text(FILE *out, const struct queue_meta *list, size_t n, bool failed, time_t now)
{
	unsigned long long bytes = 0;
	for (size_t i = 0; i < n; i++) {
		const struct queue_meta *m = &list[i];
		char when[32], age[32], next[32];
		time_t created = (time_t)m->created;
		struct tm tm;
		/* a tampered entry may hold a time no calendar can show */
		if (localtime_r(&created, &tm))
			strftime(when, sizeof when, "%a %b %e %H:%M:%S", &tm);
		else
			snprintf(when, sizeof when, "%-19s", "?");
		mailq_age(now - m->created, age, sizeof age);
		mailq_age(m->next_attempt - now, next, sizeof next);
		fprintf(out, "%-26s %9llu %s  %s\n", m->id, m->size, when, *m->sender ? m->sender : "<>");
		const char *plural = m->attempts == 1 ? "" : "s";
		if (failed) {
			fprintf(out, "  (age %s, %ld attempt%s: %s)\n", age, m->attempts, plural,
				m->last_error ? m->last_error : "no error recorded");
		} else {
			bool due = m->next_attempt <= now;
			fprintf(out, "  (age %s, %ld attempt%s, next %s%s)\n", age, m->attempts, plural,
				due ? "now" : "in ", due ? "" : next);
			if (m->last_error)
				fprintf(out, "  (%s)\n", m->last_error);
		}
		for (size_t k = 0; k < m->rcpts.n; k++)
			fprintf(out, "%*s%s\n", 57, "", m->rcpts.v[k]);
		putc('\n', out);
		bytes += m->size;
	}
	fprintf(out, "-- %llu Kbytes in %zu Request%s.\n", (bytes + 1023) / 1024, n, n == 1 ? "" : "s");
}

void mailq_text(FILE *out, const struct queue_meta *queued, size_t nq,
		const struct queue_meta *failed, size_t nf, const char *failed_dir, time_t now)
{
	if (nq == 0) {
		fprintf(out, "Mail queue is empty\n");
	} else {
		fprintf(out, "%-26s %9s %-19s  %s\n", "-Queue ID-", "--Size--", "---Arrival Time---",
			"-Sender/Recipient-------");
		list_text(out, queued, nq, false, now);
	}
	if (nf) {
		fprintf(out, "\nFailed, not retried (%s):\n", failed_dir);
		list_text(out, failed, nf, true, now);
	}
}

/* One entry as a JSON object, its keys in the order the listing has always had. */
static json_t *entry_json(const struct queue_meta *m, bool failed, time_t now)
{
	json_t *o = json_object();
	json_t *rcpts = json_array();
	for (size_t k = 0; k < m->rcpts.n; k++)
		json_array_append_new(rcpts, json_text(m->rcpts.v[k]));
	json_object_set_new(o, "id", json_text(m->id));
	json_object_set_new(o, "state", json_string(failed ? "failed" : "queued"));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "created", json_integer(m->created));
	json_object_set_new(o, "age", json_integer((long long)now - m->created));
	json_object_set_new(o, "sender", json_text(m->sender));
	json_object_set_new(o, "recipients", rcpts);
	json_object_set_new(o, "attempts", json_integer(m->attempts));
	json_object_set_new(o, "next_attempt", json_integer(m->next_attempt));
	json_object_set_new(o, "relay", json_text(m->relay));
	json_object_set_new(o, "last_error", m->last_error ? json_text(m->last_error) : json_null());
	return o;
}

/* Each entry on a line of its own, so that a person can read the listing too. */
static void list_json(FILE *out, const struct queue_meta *list, size_t n, bool failed, time_t now,
		      bool *first)
{
	for (size_t i = 0; i < n; i++) {
		json_t *o = entry_json(&list[i], failed, now);
		fprintf(out, "%s\n  ", *first ? "" : ",");
		*first = false;
		json_dumpf(o, out, JSON_PRESERVE_ORDER);
		json_decref(o);
	}
}

void mailq_json(FILE *out, const struct queue_meta *queued, size_t nq,
		const struct queue_meta *failed, size_t nf, time_t now)
{
	bool first = true;
	fprintf(out, "[");
	list_json(out, queued, nq, false, now, &first);
	list_json(out, failed, nf, true, now, &first);
	fprintf(out, "%s]\n", first ? "" : "\n");
}
