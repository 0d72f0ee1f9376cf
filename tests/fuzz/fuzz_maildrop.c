/* SPDX-License-Identifier: ISC */
/* fuzz_maildrop.c: libFuzzer target for the maildrop entry's envelope reader, which root runs on
 * what any user wrote. What parses must format to text that parses to the same entry, and that
 * text must format to itself. It checks invariants only; it never prints. */
#include "maildrop.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                    \
	do {                           \
		if (!(cond))           \
			abort();       \
	} while (0)

static bool same(const char *a, const char *b)
{
	return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

static void check_clean(const char *s)
{
	for (; s && *s; s++)
		check(*s != '\n' && *s != '\r');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildrop_entry a, b;
	struct diag d = {0};
	if (maildrop_entry_parse((const char *)data, size, &a, &d) != EX_OK) {
		check(d.code == EX_DATAERR && d.msg[0] != '\0');
		return 0;
	}
	check(a.rcpts.n > 0 || a.extract);
	check(a.uid != (uid_t)-1);
	check_clean(a.sender);
	check_clean(a.full_name);
	for (size_t i = 0; i < a.rcpts.n; i++) {
		check(*a.rcpts.v[i] != '\0');
		check_clean(a.rcpts.v[i]);
	}
	struct buf t1 = {0}, t2 = {0};
	maildrop_entry_format(&a, &t1);
	struct diag d2 = {0};
	check(maildrop_entry_parse(t1.data, t1.len, &b, &d2) == EX_OK);
	check(a.uid == b.uid && a.created == b.created && a.sender_given == b.sender_given);
	check(same(a.sender, b.sender) && same(a.full_name, b.full_name));
	check(a.extract == b.extract && a.ignore_dots == b.ignore_dots && a.rcpts.n == b.rcpts.n);
	for (size_t i = 0; i < a.rcpts.n; i++)
		check(strcmp(a.rcpts.v[i], b.rcpts.v[i]) == 0);
	maildrop_entry_format(&b, &t2);
	check(t1.len == t2.len && memcmp(t1.data, t2.data, t1.len) == 0);
	buf_free(&t1);
	buf_free(&t2);
	maildrop_entry_free(&a);
	maildrop_entry_free(&b);
	return 0;
}
