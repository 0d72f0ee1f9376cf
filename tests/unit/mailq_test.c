/* SPDX-License-Identifier: ISC */
/* mailq_test.c: the queue listing as pure formatting, as tables: ages, the text listing
 * (queued, failed, empty) and the JSON listing, with the escaping of odd bytes in its strings.
 * Times are shown in UTC (TZ is set here), so that the arrival column is the same anywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailq.h"
#include "queue.h"
#include "tap.h"

static const struct { long long seconds; const char *want; } ages[] = {
	{ -5, "0s" }, { 0, "0s" }, { 119, "119s" }, { 120, "2m" }, { 7199, "119m" },
	{ 7200, "2h" }, { 172799, "47h" }, { 172800, "2d" }, { 10 * 86400 + 5, "10d" },
};

/* An entry of the tables: at most two recipients, NULL-terminated. */
struct entry {
	const char *id, *sender, *relay, *last_error;
	const char *rcpts[3];
	long long created, next_attempt;
	long attempts;
	unsigned long long size;
};

static struct queue_meta meta(const struct entry *e)
{
	struct queue_meta m = {
		.id = (char *)e->id, .sender = (char *)e->sender, .relay = (char *)e->relay,
		.last_error = (char *)e->last_error, .created = e->created,
		.next_attempt = e->next_attempt, .attempts = e->attempts, .size = e->size,
	};
	size_t n = 0;
	while (n < 2 && e->rcpts[n])
		n++;
	m.rcpts.v = (char **)e->rcpts;
	m.rcpts.n = n;
	return m;
}

#define NOW 345600LL	/* Mon Jan  5 00:00:00 1970 UTC */

static const struct entry plain = {
	.id = "Q1", .sender = "ann@example.org", .relay = "smtp://relay:25",
	.last_error = "smtp://relay:25 unavailable (connection refused)",
	.rcpts = { "bob@example.org", "cy@example.net" },
	.created = NOW - 3600, .next_attempt = NOW + 300, .attempts = 1, .size = 1500,
};
static const struct entry due_null_sender = {
	.id = "Q2", .sender = "", .relay = "smtp://relay:25",
	.rcpts = { "dan@example.org" },
	.created = NOW - 90, .next_attempt = NOW, .attempts = 0, .size = 600,
};
static const struct entry failed_one = {
	.id = "F1", .sender = "ann@example.org", .relay = "smtp://relay:25",
	.last_error = "smtp://relay:25 refused <eve@example.org>: 550 5.1.1 no such user",
	.rcpts = { "eve@example.org" },
	.created = NOW - 3 * 86400, .next_attempt = NOW - 86400, .attempts = 3, .size = 100,
};
static const struct entry odd = {
	.id = "Q3", .sender = "a\"b\\c@example.org", .relay = "smtp://r\x01:25",
	.last_error = "line\nbreak\ttab\x1f\x7f caf\xc3\xa9",
	.rcpts = { "\x1b[31m@example.org" },
	.created = NOW - 10, .next_attempt = NOW + 5, .attempts = 2, .size = 7,
};

static const struct entry bad_utf8 = {
	.id = "Q4", .sender = "caf\xe9@example.org", .relay = "smtp://relay:25",
	.last_error = "cut \xc3 csi \xc2\x9b surrogate \xed\xa0\x80 ok \xc3\xa9 \\x41",
	.rcpts = { "\xff@example.org" },
	.created = NOW - 10, .next_attempt = NOW + 5, .attempts = 1, .size = 9,
};

struct listing {
	const char *name;
	const struct entry *queued[2], *failed[2];
	const char *want_text;
	const char *want_json;
};

static const struct listing listings[] = {
	{ "an empty queue", { NULL }, { NULL }, "Mail queue is empty\n", "[]\n" },
	{ "one queued entry waiting, one due with the null sender", { &plain, &due_null_sender },
	  { NULL },
	  "-Queue ID-                  --Size-- ---Arrival Time---   -Sender/Recipient-------\n"
	  "Q1                              1500 Sun Jan  4 23:00:00  ann@example.org\n"
	  "  (age 60m, 1 attempt, next in 5m)\n"
	  "  (smtp://relay:25 unavailable (connection refused))\n"
	  "                                                         bob@example.org\n"
	  "                                                         cy@example.net\n"
	  "\n"
	  "Q2                               600 Sun Jan  4 23:58:30  <>\n"
	  "  (age 90s, 0 attempts, next now)\n"
	  "                                                         dan@example.org\n"
	  "\n"
	  "-- 3 Kbytes in 2 Requests.\n",
	  "[\n"
	  "  {\"id\": \"Q1\", \"state\": \"queued\", \"size\": 1500, \"created\": 342000, \"age\": 3600, "
	  "\"sender\": \"ann@example.org\", \"recipients\": [\"bob@example.org\", \"cy@example.net\"], "
	  "\"attempts\": 1, \"next_attempt\": 345900, \"relay\": \"smtp://relay:25\", "
	  "\"last_error\": \"smtp://relay:25 unavailable (connection refused)\"},\n"
	  "  {\"id\": \"Q2\", \"state\": \"queued\", \"size\": 600, \"created\": 345510, \"age\": 90, "
	  "\"sender\": \"\", \"recipients\": [\"dan@example.org\"], \"attempts\": 0, "
	  "\"next_attempt\": 345600, \"relay\": \"smtp://relay:25\", \"last_error\": null}\n"
	  "]\n" },
	{ "nothing queued, one failed: the failed block alone", { NULL }, { &failed_one },
	  "Mail queue is empty\n"
	  "\n"
	  "Failed, not retried (/q/failed):\n"
	  "F1                               100 Fri Jan  2 00:00:00  ann@example.org\n"
	  "  (age 3d, 3 attempts: smtp://relay:25 refused <eve@example.org>: 550 5.1.1 no such user)\n"
	  "                                                         eve@example.org\n"
	  "\n"
	  "-- 1 Kbytes in 1 Request.\n",
	  "[\n"
	  "  {\"id\": \"F1\", \"state\": \"failed\", \"size\": 100, \"created\": 86400, \"age\": 259200, "
	  "\"sender\": \"ann@example.org\", \"recipients\": [\"eve@example.org\"], \"attempts\": 3, "
	  "\"next_attempt\": 259200, \"relay\": \"smtp://relay:25\", "
	  "\"last_error\": \"smtp://relay:25 refused <eve@example.org>: 550 5.1.1 no such user\"}\n"
	  "]\n" },
	{ "odd bytes: JSON escapes quotes, backslashes and controls, passes DEL and UTF-8",
	  { &odd }, { &failed_one },
	  NULL,	/* the text listing shows what it is given; the terminal is log.c's concern */
	  "[\n"
	  "  {\"id\": \"Q3\", \"state\": \"queued\", \"size\": 7, \"created\": 345590, \"age\": 10, "
	  "\"sender\": \"a\\\"b\\\\c@example.org\", \"recipients\": [\"\\u001B[31m@example.org\"], "
	  "\"attempts\": 2, \"next_attempt\": 345605, \"relay\": \"smtp://r\\u0001:25\", "
	  "\"last_error\": \"line\\nbreak\\ttab\\u001F\x7f caf\xc3\xa9\"},\n"
	  "  {\"id\": \"F1\", \"state\": \"failed\", \"size\": 100, \"created\": 86400, \"age\": 259200, "
	  "\"sender\": \"ann@example.org\", \"recipients\": [\"eve@example.org\"], \"attempts\": 3, "
	  "\"next_attempt\": 259200, \"relay\": \"smtp://relay:25\", "
	  "\"last_error\": \"smtp://relay:25 refused <eve@example.org>: 550 5.1.1 no such user\"}\n"
	  "]\n" },
	{ "invalid UTF-8 (and C1 controls) as the text \\xNN: the listing stays valid JSON",
	  { &bad_utf8 }, { NULL },
	  NULL,
	  "[\n"
	  "  {\"id\": \"Q4\", \"state\": \"queued\", \"size\": 9, \"created\": 345590, \"age\": 10, "
	  "\"sender\": \"caf\\\\xe9@example.org\", \"recipients\": [\"\\\\xff@example.org\"], "
	  "\"attempts\": 1, \"next_attempt\": 345605, \"relay\": \"smtp://relay:25\", "
	  "\"last_error\": \"cut \\\\xc3 csi \\\\xc2\\\\x9b surrogate \\\\xed\\\\xa0\\\\x80 ok \xc3\xa9 \\\\x41\"}\n"
	  "]\n" },
};

static size_t metas(const struct entry *const *in, struct queue_meta *out)
{
	size_t n = 0;
	while (n < 2 && in[n]) {
		out[n] = meta(in[n]);
		n++;
	}
	return n;
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof ages / sizeof *ages; i++) {
		char got[32];
		mailq_age(ages[i].seconds, got, sizeof got);
		is_str(got, ages[i].want, "an age of %lld seconds is %s", ages[i].seconds, ages[i].want);
	}
	for (size_t i = 0; i < sizeof listings / sizeof *listings; i++) {
		const struct listing *l = &listings[i];
		struct queue_meta q[2], f[2];
		size_t nq = metas(l->queued, q), nf = metas(l->failed, f);
		char *text = NULL;
		size_t len = 0;
		FILE *out;
		if (l->want_text) {
			out = open_memstream(&text, &len);
			mailq_text(out, q, nq, f, nf, "/q/failed", (time_t)NOW);
			fclose(out);
			is_str(text, l->want_text, "text: %s", l->name);
			free(text);
			text = NULL;
		}
		out = open_memstream(&text, &len);
		mailq_json(out, q, nq, f, nf, (time_t)NOW);
		fclose(out);
		is_str(text, l->want_json, "json: %s", l->name);
		free(text);
	}
	return done_testing();
}
