/* SPDX-License-Identifier: ISC */
/* fuzz_aliases.c: libFuzzer target for the aliases parser and the expansion: any bytes give
 * EX_OK or EX_CONFIG with a message; every name the text could define expands (bare or at a
 * local domain, as the input's size says) without a crash,
 * a leak, a duplicate in the result (by the rule aliases.h gives) or a loop that never ends;
 * the recipient set (strset.h) agrees with that rule on every target. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "aliases.h"
#include "strset.h"
#include "util.h"

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const locals[] = { "localhost", "example.net" };

HARNESS static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The key under which the duplicate check aliases.h describes sees s, computed apart from
 * strset: bare names caseless, addresses by addr_dedup_key, the two kinds never equal. */
HARNESS static char *rule_key(const char *s)
{
	if (addr_is_bare(s)) {
		char *k = xasprintf("b%s", s);
		for (char *p = k; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		return k;
	}
	char *dedup = addr_dedup_key(s);
	char *k = xasprintf("a%s", dedup);
	free(dedup);
	return k;
}

/* No recipient twice in out by that rule (sorted, equal keys would be neighbours: a scan of
 * every pair made the check quadratic in the targets, costlier than the expansion), and
 * strset agrees with the rule on each target and on the same with its ASCII letters' case
 * swapped: strset_same() against the target, strset_has() against the set of them all. */
HARNESS static void check_result(const struct strlist *out)
{
	char **keys = xmalloc((out->n + 1) * sizeof *keys);
	for (size_t i = 0; i < out->n; i++)
		keys[i] = rule_key(out->v[i]);
	qsort(keys, out->n, sizeof *keys, by_bytes);
	for (size_t i = 1; i < out->n; i++)
		if (strcmp(keys[i - 1], keys[i]) == 0)
			abort();
	struct strset set = {0};
	for (size_t i = 0; i < out->n; i++)
		if (!strset_add(&set, out->v[i]))
			abort();	/* no duplicate: each is new */
	for (size_t i = 0; i < out->n; i++) {
		char *swapped = xstrdup(out->v[i]);
		for (char *p = swapped; *p; p++)
			if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
				*p = (char)(*p ^ 0x20);
		char *k1 = rule_key(out->v[i]), *k2 = rule_key(swapped);
		bool in_out = bsearch(&k2, keys, out->n, sizeof *keys, by_bytes) != NULL;
		if (strset_same(out->v[i], swapped) != (strcmp(k1, k2) == 0) ||
		    strset_has(&set, swapped) != in_out || !strset_has(&set, out->v[i]))
			abort();
		free(k1);
		free(k2);
		free(swapped);
	}
	strset_free(&set);
	for (size_t i = 0; i < out->n; i++)
		free(keys[i]);
	free(keys);
}

HARNESS static void expand(const struct aliases *a, const char *addr)
{
	struct strlist out = {0};
	struct diag d = {0};
	int rc = aliases_expand(a, addr, locals, 2, &out, &d);
	if (rc != EX_OK && (rc != EX_CONFIG || !d.msg[0]))
		abort();
	check_result(&out);
	strlist_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aliases *a = NULL;
	struct strlist warnings = {0};
	struct diag d = {0};
	int rc = aliases_parse(&a, "fuzz", (const char *)data, size, &warnings, &d);
	if (rc != EX_OK && (rc != EX_CONFIG || !d.msg[0] || a))
		abort();
	if (rc == EX_OK) {
		if (!a)
			abort();
		/* Every "name:" at the start of a line, bare or at a local domain: which, by the
		 * parity of its line's number and the input's size, so that each name is tried both
		 * ways as the mutator changes the size (both ways on every input: 3,660 exec/s). */
		const char *p = (const char *)data, *end = p + size;
		size_t lineno = size;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end;
			const char *colon = memchr(p, ':', (size_t)(eol - p));
			if (colon && colon - p < 80) {
				char *name = strndup(p, (size_t)(colon - p));
				char *at = malloc(strlen(name) + 16);
				strcpy(at, name);
				strcat(at, "@LocalHost");
				expand(a, lineno % 2 ? name : at);
				free(name);
				free(at);
			}
			p = nl ? nl + 1 : end;
			lineno++;
		}
		expand(a, "nobody-in-particular");
		expand(a, "someone@example.org");
		(void)aliases_count(a);
	}
	strlist_free(&warnings);
	aliases_free(a);
	return 0;
}
