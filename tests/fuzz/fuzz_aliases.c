/* fuzz_aliases.c: libFuzzer target for the aliases parser and the expansion: any bytes give
 * EX_OK or EX_CONFIG with a message; every name the text could define expands without a crash,
 * a leak, a duplicate in the result or a loop that never ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"
#include "util.h"

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const locals[] = { "localhost", "example.net" };

HARNESS static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* No string twice in out: sorted, equal strings would be neighbours (a scan of every pair made
 * the check quadratic in the targets, costlier than the expansion it checks). */
HARNESS static void check_no_duplicate(const struct strlist *out)
{
	if (out->n < 2)
		return;
	char **sorted = xmalloc(out->n * sizeof *sorted);
	memcpy(sorted, out->v, out->n * sizeof *sorted);
	qsort(sorted, out->n, sizeof *sorted, by_bytes);
	for (size_t i = 1; i < out->n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			abort();
	free(sorted);
}

HARNESS static void expand(const struct aliases *a, const char *addr)
{
	struct strlist out = {0};
	struct diag d = {0};
	int rc = aliases_expand(a, addr, locals, 2, &out, &d);
	if (rc != EX_OK && (rc != EX_CONFIG || !d.msg[0]))
		abort();
	check_no_duplicate(&out);
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
		/* Every "name:" at the start of a line, bare and at a local domain. */
		const char *p = (const char *)data, *end = p + size;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end;
			const char *colon = memchr(p, ':', (size_t)(eol - p));
			if (colon && colon - p < 80) {
				char *name = strndup(p, (size_t)(colon - p));
				char *at = malloc(strlen(name) + 16);
				strcpy(at, name);
				strcat(at, "@LocalHost");
				expand(a, name);
				expand(a, at);
				free(name);
				free(at);
			}
			p = nl ? nl + 1 : end;
		}
		expand(a, "nobody-in-particular");
		expand(a, "someone@example.org");
		(void)aliases_count(a);
	}
	strlist_free(&warnings);
	aliases_free(a);
	return 0;
}
