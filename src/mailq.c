/* mailq.c: the queue listing, text and JSON (see mailq.h): formatting only, of what it is
 * given. It never opens the queue, reads the clock or decides anything about an entry. */
#include "mailq.h"

#include "queue.h"

static void json_string(FILE *out, const char *s)
{
	putc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			putc(c, out);
	}
	putc('"', out);
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

static void list_json(FILE *out, const struct queue_meta *list, size_t n, bool failed, time_t now,
		      bool *first)
{
	for (size_t i = 0; i < n; i++) {
		const struct queue_meta *m = &list[i];
		fprintf(out, "%s\n  {\"id\": ", *first ? "" : ",");
		*first = false;
		json_string(out, m->id);
		fprintf(out, ", \"state\": \"%s\", \"size\": %llu, \"created\": %lld, \"age\": %lld, "
			"\"sender\": ", failed ? "failed" : "queued", m->size, m->created,
			(long long)now - m->created);
		json_string(out, m->sender);
		fprintf(out, ", \"recipients\": [");
		for (size_t k = 0; k < m->rcpts.n; k++) {
			fprintf(out, "%s", k ? ", " : "");
			json_string(out, m->rcpts.v[k]);
		}
		fprintf(out, "], \"attempts\": %ld, \"next_attempt\": %lld, \"relay\": ", m->attempts,
			m->next_attempt);
		json_string(out, m->relay);
		fprintf(out, ", \"last_error\": ");
		if (m->last_error)
			json_string(out, m->last_error);
		else
			fprintf(out, "null");
		fprintf(out, "}");
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
