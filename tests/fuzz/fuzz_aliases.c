/* fuzz_aliases.c: libFuzzer target for the aliases parser and the expansion: any bytes give
 * EX_OK or EX_CONFIG with a message; every name the text could define expands without a crash,
 * a leak, a duplicate in the result or a loop that never ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const locals[] = { "localhost", "example.net" };

static void expand(const struct aliases *a, const char *addr)
{
	struct strlist out = {0};
	struct diag d = {0};
	int rc = aliases_expand(a, addr, locals, 2, &out, &d);
	if (rc != EX_OK && (rc != EX_CONFIG || !d.msg[0]))
		abort();
	for (size_t i = 0; i < out.n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(out.v[j], out.v[i]) == 0)
				abort();
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
