/* SPDX-License-Identifier: ISC */
/* fuzz_queue.c: libFuzzer target for the queue's envelope file reader. What parses must format
 * to text that parses to the same entry, and that text must format to itself. It checks
 * invariants only; it must never print, and it aborts on the first broken one. */
#include "queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                    \
	do {                           \
		if (!(cond))           \
			abort();       \
	} while (0)

static bool same_string(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A value read from one line: no control byte can be in it. */
static void check_clean(const char *s)
{
	for (; s && *s; s++)
		check((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void check_same(const struct queue_meta *a, const struct queue_meta *b)
{
	check(same_string(a->id, b->id));
	check(same_string(a->sender, b->sender));
	check(same_string(a->relay, b->relay));
	check(same_string(a->account, b->account));
	check(same_string(a->last_error, b->last_error));
	check(a->created == b->created && a->next_attempt == b->next_attempt);
	check(a->expires == b->expires);
	check(a->attempts == b->attempts && a->size == b->size);
	check(a->rcpts.n == b->rcpts.n);
	for (size_t i = 0; i < a->rcpts.n; i++)
		check(strcmp(a->rcpts.v[i], b->rcpts.v[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_meta first, second;
	struct diag d = {0};
	if (queue_meta_parse((const char *)data, size, &first, &d) != EX_OK) {
		check(d.code == EX_DATAERR && d.msg[0] != '\0');
		return 0;
	}
	/* what the reader promises: an id, a sender, a relay and at least one recipient */
	check(first.id && *first.id && first.sender && first.relay && first.rcpts.n > 0);
	check(first.attempts >= 0 && first.attempts <= 1000000);
	check(first.created >= 0 && first.next_attempt >= 0 && first.expires >= 0);
	check_clean(first.id);
	check_clean(first.sender);
	check_clean(first.relay);
	check_clean(first.account);
	check_clean(first.last_error);
	for (size_t i = 0; i < first.rcpts.n; i++) {
		check(*first.rcpts.v[i] != '\0');
		check_clean(first.rcpts.v[i]);
	}

	struct buf text = {0}, again = {0};
	queue_meta_format(&first, &text);
	check(text.len > 0 && text.data[text.len - 1] == '\n');
	check(memchr(text.data, '\0', text.len) == NULL);
	struct diag d2 = {0};
	check(queue_meta_parse(text.data, text.len, &second, &d2) == EX_OK);
	check_same(&first, &second);
	queue_meta_format(&second, &again);
	check(again.len == text.len && memcmp(again.data, text.data, text.len) == 0);

	buf_free(&text);
	buf_free(&again);
	queue_meta_free(&first);
	queue_meta_free(&second);
	return 0;
}
