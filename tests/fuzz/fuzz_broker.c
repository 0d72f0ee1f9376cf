/* SPDX-License-Identifier: ISC */
/* fuzz_broker.c: libFuzzer target for what the token broker takes from the user's process: any
 * bytes as a request frame, answered by broker_answer with a source of the target's own (no
 * fork, no network, no file). The reply always parses; a success comes only from a request
 * that parses and carries the source's access token and nothing else; the secrets the source
 * holds beside it never appear unless the request itself held them; a request that parses formats back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct account work = { .name = "work" }, top = { .name = NULL },
			    down = { .name = "down" };
static const char ACCESS[] = "at-fuzz", REFRESH[] = "rt-never-sent", SECRET[] = "cs-never-sent";

static const struct account *lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "work") == 0)
		return &work;
	if (strcmp(name, "down") == 0)
		return &down;
	return *name ? NULL : &top;
}

static int bearer(void *ctx, const struct account *a, char **token, struct diag *d)
{
	(void)ctx;
	if (a == &down)
		return diag_set(d, EX_TEMPFAIL, "account 'down': token endpoint down");
	*token = xstrdup(ACCESS);
	return EX_OK;
}

static int forget(void *ctx, const struct account *a, const char *old, struct diag *d)
{
	(void)ctx;
	(void)a;
	if (!old || !*old)
		abort();	/* the parser never hands over an empty old token */
	(void)d;
	return EX_OK;
}

static HARNESS bool holds(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *frame = (const char *)data;
	static char out[BROKER_FRAME_MAX];
	struct broker_source src = { lookup, bearer, forget, NULL };
	size_t n = broker_answer(&src, frame, size, out, sizeof out);
	if (n < 3 || n > sizeof out)
		abort();
	int code;
	char *text = NULL;
	struct diag d = {0};
	if (broker_parse_reply(out, n, &code, &text, &d) != EX_OK)
		abort();
	/* an error line may quote the account name asked for, the requester's own bytes */
	if ((holds(out, n, REFRESH) && !holds(frame, size, REFRESH)) ||
	    (holds(out, n, SECRET) && !holds(frame, size, SECRET)))
		abort();
	struct broker_request req;
	int parsed = broker_parse_request(frame, size, &req, &d);
	if (code == EX_OK && (parsed != EX_OK || strcmp(text, ACCESS) != 0))
		abort();
	if (parsed != EX_OK && code != EX_USAGE)
		abort();
	if (parsed == EX_OK) {
		static char again[BROKER_FRAME_MAX];
		size_t m = broker_format_request(req.op, req.account, req.old_token, again,
						 sizeof again);
		if (m != size || memcmp(again, frame, size) != 0)
			abort();
	}
	broker_request_clear(&req);
	wipe_free(text);
	return 0;
}
