/* SPDX-License-Identifier: ISC */
/* mailq.h: the listing of the queue, text (sendmail's mailq) and JSON, as pure formatting: the
 * entries and the time in, bytes out. It never reads the queue nor the clock itself. */
#ifndef POSTIE_MAILQ_H
#define POSTIE_MAILQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct queue_meta;

/* An age as mailq shows it: "59s" up to two minutes, then minutes ("5m"), hours ("3h") up to two
 * days, then days ("4d"); a negative age is "0s". */
void mailq_age(long long seconds, char *out, size_t n);

/* The text listing: "Mail queue is empty" or the queued entries under sendmail's heading, then
 * the failed ones under "Failed, not retried (FAILED_DIR):", each with its size, arrival (local
 * time), sender, age, attempts, next attempt or last error, and recipients; a total line after
 * each block. now is the time the ages are measured from. */
void mailq_text(FILE *out, const struct queue_meta *queued, size_t nq,
		const struct queue_meta *failed, size_t nf, const char *failed_dir, time_t now);

/* The JSON listing, through jansson: one array of objects, each on a line of its own (queued
 * first, then failed; "state" says which) with id, state, size, created, age, sender,
 * recipients, attempts, next_attempt, relay and last_error (null when none). Always valid
 * JSON: a byte that is not part of well-formed UTF-8 for U+00A0 and up becomes the text \xNN
 * (as buf_put_escaped_n writes it); jansson escapes '"', '\' and control bytes. */
void mailq_json(FILE *out, const struct queue_meta *queued, size_t nq,
		const struct queue_meta *failed, size_t nf, time_t now);

#endif
