/* SPDX-License-Identifier: ISC */
/* oauth2_test.c: the pure parts of the OAuth2 token source: token and device responses, what an
 * error code means, expiry arithmetic with an injected time, the state file round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oauth2.h"
#include "tap.h"

#define NOW 1700000000

static const struct {
	long http;
	const char *body;
	int want_rc;
	const char *want_error, *want_access, *want_refresh;
	long want_expires_in;
	const char *what;
} tokens[] = {
	{ 200, "{\"access_token\":\"at\",\"refresh_token\":\"rt2\",\"expires_in\":3599}", EX_OK, "",
	  "at", "rt2", 3599, "a token with a rotated refresh token" },
	{ 200, "{\"access_token\":\"at\",\"expires_in\":60}", EX_OK, "", "at", "rt-old", 60,
	  "no refresh_token in the reply: the old one is kept" },
	{ 200, "{\"access_token\":\"at\"}", EX_OK, "", "at", "rt-old", 3600,
	  "no expires_in: an hour" },
	{ 200, "{\"access_token\":\"at\",\"expires_in\":\"120\"}", EX_OK, "", "at", "rt-old", 120,
	  "expires_in as a string of digits" },
	{ 400, "{\"error\":\"authorization_pending\"}", EX_TEMPFAIL, "authorization_pending", NULL,
	  NULL, 0, "pending is temporary" },
	{ 400, "{\"error\":\"slow_down\"}", EX_TEMPFAIL, "slow_down", NULL, NULL, 0, "slow_down" },
	{ 400, "{\"error\":\"expired_token\"}", EX_TEMPFAIL, "expired_token", NULL, NULL, 0,
	  "expired_token: authorize again later" },
	{ 400, "{\"error\":\"invalid_grant\",\"error_description\":\"revoked\"}", EX_NOPERM,
	  "invalid_grant", NULL, NULL, 0, "invalid_grant is a permission failure" },
	{ 400, "{\"error\":\"access_denied\"}", EX_NOPERM, "access_denied", NULL, NULL, 0, "denied" },
	{ 401, "{\"error\":\"invalid_client\"}", EX_CONFIG, "invalid_client", NULL, NULL, 0,
	  "a wrong client id or secret is a configuration error" },
	{ 400, "{\"error\":\"invalid_scope\"}", EX_CONFIG, "invalid_scope", NULL, NULL, 0, "scope" },
	{ 503, "<html>down</html>", EX_TEMPFAIL, "", NULL, NULL, 0, "5xx without JSON is temporary" },
	{ 429, "{}", EX_TEMPFAIL, "", NULL, NULL, 0, "429 is temporary" },
	{ 400, "{\"error\":\"temporarily_unavailable\"}", EX_TEMPFAIL, "temporarily_unavailable",
	  NULL, NULL, 0, "temporarily_unavailable" },
	{ 200, "{\"token_type\":\"Bearer\"}", EX_PROTOCOL, "", NULL, NULL, 0,
	  "200 without an access token" },
	{ 200, "[1,2]", EX_PROTOCOL, "", NULL, NULL, 0, "not an object" },
	{ 200, "{\"access_token\":\"\"}", EX_PROTOCOL, "", NULL, NULL, 0, "an empty access token" },
	{ 400, "{\"error\":7}", EX_CONFIG, "", NULL, NULL, 0, "an error that is not a string" },
};

static void test_tokens(void)
{
	for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++) {
		struct oauth2_token t = {0};
		t.refresh_token = strdup("rt-old");
		char error[64];
		int rc = oauth2_parse_token(tokens[i].http, tokens[i].body, strlen(tokens[i].body), NOW,
					    &t, error, sizeof error);
		is_int(rc, tokens[i].want_rc, "token %zu: %s", i, tokens[i].what);
		is_str(error, tokens[i].want_error, "token %zu: error code", i);
		if (tokens[i].want_access) {
			is_str(t.access_token, tokens[i].want_access, "token %zu: access token", i);
			is_str(t.refresh_token, tokens[i].want_refresh, "token %zu: refresh token", i);
			is_int((long)(t.expires_at - NOW), tokens[i].want_expires_in, "token %zu: expiry", i);
			is_int((long)t.obtained_at, NOW, "token %zu: obtained now", i);
		} else {
			ok(t.access_token == NULL, "token %zu: no access token", i);
		}
		oauth2_token_clear(&t);
	}
}

static void test_device(void)
{
	struct oauth2_device dev;
	struct diag d = {0};
	const char *rfc = "{\"device_code\":\"dc\",\"user_code\":\"WDJB-MJHT\",\"verification_uri\":"
			  "\"https://example.com/device\",\"verification_uri_complete\":"
			  "\"https://example.com/device?user_code=WDJB-MJHT\",\"expires_in\":1800,"
			  "\"interval\":5}";
	is_int(oauth2_parse_device(rfc, strlen(rfc), &dev, &d), EX_OK, "RFC 8628 3.2's example");
	is_str(dev.user_code, "WDJB-MJHT", "user code");
	is_str(dev.verification_uri_complete, "https://example.com/device?user_code=WDJB-MJHT",
	       "the complete URI");
	is_int(dev.interval, 5, "interval");
	is_int(dev.expires_in, 1800, "expires_in");
	oauth2_device_clear(&dev);

	const char *google = "{\"device_code\":\"dc\",\"user_code\":\"GQVQ-JKEC\",\"verification_url\":"
			     "\"https://www.google.com/device\",\"expires_in\":1800}";
	is_int(oauth2_parse_device(google, strlen(google), &dev, &d), EX_OK, "Google's spelling");
	is_str(dev.verification_uri, "https://www.google.com/device", "verification_url taken");
	ok(dev.verification_uri_complete == NULL, "no complete URI");
	is_int(dev.interval, 5, "no interval: 5 seconds (RFC 8628 3.2)");
	oauth2_device_clear(&dev);

	const char *bad = "{\"device_code\":\"dc\",\"verification_uri\":\"https://x\"}";
	is_int(oauth2_parse_device(bad, strlen(bad), &dev, &d), EX_PROTOCOL, "no user code");
	is_str(d.msg, "user_code is missing", "says which");
	is_int(oauth2_parse_device("nope", 4, &dev, &d), EX_PROTOCOL, "not JSON");
}

static void test_fresh(void)
{
	struct oauth2_token t = {0};
	ok(!oauth2_token_fresh(&t, NOW, 120), "no token is not fresh");
	t.access_token = strdup("at");
	t.expires_at = NOW + 121;
	ok(oauth2_token_fresh(&t, NOW, 120), "121 s left with a 120 s margin: fresh");
	t.expires_at = NOW + 120;
	ok(!oauth2_token_fresh(&t, NOW, 120), "120 s left: refreshed");
	t.expires_at = NOW - 5;
	ok(!oauth2_token_fresh(&t, NOW, 0), "expired");
	oauth2_token_clear(&t);
}

static void test_state(void)
{
	char dir[] = "/tmp/oauth2_test.XXXXXX";
	ok(mkdtemp(dir) != NULL, "a temporary directory");
	char *path = xasprintf("%s/sub/dir/oauth2-w.json", dir);
	struct oauth2_token t = { strdup("at \"1\""), strdup("rt\\2"), NOW + 60, NOW, NOW - 10 };
	struct diag d = {0};
	is_int(tokenstate_write(path, &t, &d), EX_OK, "written, directories made");
	struct stat st;
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	struct oauth2_token back = {0};
	bool found;
	is_int(tokenstate_read(path, &back, &found, &d), EX_OK, "read back");
	ok(found, "found");
	is_str(back.access_token, "at \"1\"", "access token round trip");
	is_str(back.refresh_token, "rt\\2", "refresh token round trip");
	is_int((long)back.expires_at, NOW + 60, "expires_at");
	is_int((long)back.obtained_at, NOW, "obtained_at");
	is_int((long)back.refreshed_at, NOW - 10, "refreshed_at");
	oauth2_token_clear(&back);

	/* a replacement leaves no temporary file behind */
	wipe_free(t.refresh_token);
	t.refresh_token = strdup("rt3");
	is_int(tokenstate_write(path, &t, &d), EX_OK, "replaced");
	char *cmd = xasprintf("test $(ls -A %s/sub/dir | wc -l) -eq 1", dir);
	is_int(system(cmd), 0, "only the state file is in its directory");
	free(cmd);
	tokenstate_read(path, &back, &found, &d);
	is_str(back.refresh_token, "rt3", "the new refresh token");
	oauth2_token_clear(&back);

	chmod(path, 0644);
	is_int(tokenstate_read(path, &back, &found, &d), EX_CONFIG, "readable by others: refused");
	char *missing = xasprintf("%s/none.json", dir);
	is_int(tokenstate_read(missing, &back, &found, &d), EX_OK, "a missing file is no error");
	ok(!found, "and not found");

	is_int(tokenstate_parse("{\"access_token\": 5}", 19, &back, &d), EX_DATAERR, "a number");
	is_str(d.msg, "access_token is not a string", "says which field, not its value");
	is_int(tokenstate_parse("{\"a\":1,\"a\":2}", 13, &back, &d), EX_DATAERR, "duplicate keys");

	int lock;
	is_int(tokenstate_lock(path, &lock, &d), EX_OK, "locked");
	tokenstate_unlock(lock);
	oauth2_token_clear(&t);
	cmd = xasprintf("rm -rf %s", dir);
	system(cmd);
	free(cmd);
	free(missing);
	free(path);
}

/* A relay's refusal of a token: the stored one lapses, unless another process replaced it. */
static void test_forget(void)
{
	char dir[] = "/tmp/oauth2_forget.XXXXXX";
	ok(mkdtemp(dir) != NULL, "a temporary directory");
	char *path = xasprintf("%s/s.json", dir);
	struct account a = {0};
	a.name = "w";
	a.oauth2_provider = "custom";
	a.oauth2_client_id = "c";
	a.oauth2_token_url = "https://t.example/";
	a.oauth2_state = path;
	struct oauth2_token t = { strdup("at-1"), strdup("rt-1"), NOW + 3600, NOW, 0 };
	struct diag d = {0};
	tokenstate_write(path, &t, &d);
	is_int(oauth2_forget_access(&a, "at-other", &d), EX_OK, "another token: nothing to do");
	struct oauth2_token back = {0};
	bool found;
	tokenstate_read(path, &back, &found, &d);
	is_int((long)back.expires_at, NOW + 3600, "a replaced token is left alone");
	oauth2_token_clear(&back);
	is_int(oauth2_forget_access(&a, "at-1", &d), EX_OK, "the refused token");
	tokenstate_read(path, &back, &found, &d);
	is_int((long)back.expires_at, 0, "lapses");
	is_str(back.refresh_token, "rt-1", "the refresh token stays");
	oauth2_token_clear(&back);

	/* what --serverinfo would say */
	struct buf out = {0};
	is_int(oauth2_describe(&a, NOW, &out, &d), EX_OK, "described");
	char *want = xasprintf("oauth2: provider custom, device grant, state %s\n"
			       "oauth2: access token expired 1970-01-01T00:00:00Z (1700000000 s ago)\n"
			       "oauth2: refresh token stored, not used yet\n", path);
	is_str(out.data, want, "lapsed token, unused refresh token");
	free(want);
	buf_reset(&out);
	t.expires_at = NOW + 90;
	t.refreshed_at = NOW - 60;
	tokenstate_write(path, &t, &d);
	oauth2_describe(&a, NOW, &out, &d);
	ok(strstr(out.data, "oauth2: access token expires 2023-11-14T22:14:50Z (in 90 s)\n") != NULL,
	   "expiry in UTC and seconds");
	ok(strstr(out.data, "oauth2: refresh token stored, last used 2023-11-14T22:12:20Z\n") != NULL,
	   "when the refresh token was last used");
	ok(strstr(out.data, "at-1") == NULL && strstr(out.data, "rt-1") == NULL, "no token shown");
	buf_reset(&out);
	unlink(path);
	oauth2_describe(&a, NOW, &out, &d);
	ok(strstr(out.data, "oauth2: no token stored: run postie --authorize --account w\n") != NULL,
	   "nothing stored: what to run");
	buf_free(&out);
	oauth2_token_clear(&t);
	char *cmd = xasprintf("rm -rf %s", dir);
	ok(system(cmd) == 0, "cleaned up");
	free(cmd);
	free(path);
}

static void test_presets(void)
{
	const struct oauth2_preset *g = oauth2_preset_find("google");
	const struct oauth2_preset *m = oauth2_preset_find("microsoft");
	ok(g && !g->device_url && g->no_device, "google: no device endpoint, and why");
	is_str(g ? g->token_url : NULL, "https://oauth2.googleapis.com/token", "google token URL");
	is_str(g ? g->scope : NULL, "https://mail.google.com/", "google scope");
	is_str(m ? m->device_url : NULL, "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	       "microsoft device URL");
	is_str(m ? m->scope : NULL, "offline_access https://outlook.office.com/SMTP.Send",
	       "microsoft scope");
	is_str(m ? m->mechanism : NULL, "XOAUTH2", "microsoft mechanism");
	ok(oauth2_preset_find("custom") == NULL, "custom has no preset");
}

int main(void)
{
	test_tokens();
	test_device();
	test_fresh();
	test_state();
	test_forget();
	test_presets();
	return done_testing();
}
