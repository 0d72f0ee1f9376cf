/* SPDX-License-Identifier: ISC */
/* broker_test.c: the token broker's frames (broker.h) through their own interface: requests
 * parsed and formatted, malformed ones refused, replies both ways, and broker_answer with a
 * source of its own: only an access token, or one error line, ever comes back. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "tap.h"

#define F(s) s, sizeof s - 1	/* a frame literal and its length, NULs included */

static const struct {
	const char *frame;
	size_t len;
	int want;		/* EX_OK or EX_USAGE */
	enum broker_op op;
	const char *account, *old;
	const char *what;
} requests[] = {
	{ F("token\0work"), EX_OK, BROKER_TOKEN, "work", NULL, "a token request" },
	{ F("token\0"), EX_OK, BROKER_TOKEN, "", NULL, "the top level is the empty name" },
	{ F("renew\0work\0at-1"), EX_OK, BROKER_RENEW, "work", "at-1", "a renew request" },
	{ F("renew\0\0at-1"), EX_OK, BROKER_RENEW, "", "at-1", "a renew of the top level" },
	{ F(""), EX_USAGE, 0, NULL, NULL, "an empty frame" },
	{ F("token"), EX_USAGE, 0, NULL, NULL, "no NUL after the operation" },
	{ F("tokens\0work"), EX_USAGE, 0, NULL, NULL, "an unknown operation" },
	{ F("TOKEN\0work"), EX_USAGE, 0, NULL, NULL, "operations are lower case" },
	{ F("token\0work\0"), EX_USAGE, 0, NULL, NULL, "a token request with a field too many" },
	{ F("token\0work\0at-1"), EX_USAGE, 0, NULL, NULL, "a token request with an old token" },
	{ F("renew\0work"), EX_USAGE, 0, NULL, NULL, "renew without the old token" },
	{ F("renew\0work\0"), EX_USAGE, 0, NULL, NULL, "renew with an empty old token" },
	{ F("renew\0work\0a\0b"), EX_USAGE, 0, NULL, NULL, "renew with a field too many" },
	{ F("token\0wo rk"), EX_USAGE, 0, NULL, NULL, "a blank in the name" },
	{ F("token\0work\n"), EX_USAGE, 0, NULL, NULL, "a control byte in the name" },
	{ F("token\0w\xc3\xa9"), EX_USAGE, 0, NULL, NULL, "a byte beyond ASCII in the name" },
	{ F("renew\0work\0a\tb"), EX_USAGE, 0, NULL, NULL, "a control byte in the old token" },
};

/* A source of the test's own: account "work" and the top level; "down" fails as a token
 * endpoint that is down does, "revoked" as invalid_grant does. */
struct fake {
	int bearers, forgets;
	char forgot[64];
	const char *token;	/* what bearer gives */
};

static const struct account work = { .name = "work" }, top = { .name = NULL },
			    down = { .name = "down" }, revoked = { .name = "revoked" };

static const struct account *fake_lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "work") == 0)
		return &work;
	if (strcmp(name, "down") == 0)
		return &down;
	if (strcmp(name, "revoked") == 0)
		return &revoked;
	return *name ? NULL : &top;
}

static int fake_bearer(void *ctx, const struct account *a, char **token, struct diag *d)
{
	struct fake *f = ctx;
	f->bearers++;
	if (a == &down)
		return diag_set(d, EX_TEMPFAIL, "account 'down': token endpoint https://t/: HTTP 500");
	if (a == &revoked)
		return diag_set(d, EX_NOPERM, "account 'revoked': the authorization was revoked or has "
				"expired (invalid_grant): run postie --authorize --account revoked");
	*token = xstrdup(f->token);
	return EX_OK;
}

static int fake_forget(void *ctx, const struct account *a, const char *old, struct diag *d)
{
	(void)a;
	(void)d;
	struct fake *f = ctx;
	f->forgets++;
	snprintf(f->forgot, sizeof f->forgot, "%s", old);
	return EX_OK;
}

/* broker_answer's reply to frame, parsed: *code and the text (caller frees). */
static char *answer(struct fake *f, const char *frame, size_t len, int *code)
{
	struct broker_source src = { fake_lookup, fake_bearer, fake_forget, f };
	char out[BROKER_FRAME_MAX];
	size_t n = broker_answer(&src, frame, len, out, sizeof out);
	char *text = NULL;
	struct diag d = {0};
	if (broker_parse_reply(out, n, code, &text, &d) != EX_OK) {
		*code = -1;
		return xstrdup(d.msg);
	}
	return text;
}

int main(void)
{
	for (size_t i = 0; i < sizeof requests / sizeof *requests; i++) {
		struct broker_request req;
		struct diag d = {0};
		int rc = broker_parse_request(requests[i].frame, requests[i].len, &req, &d);
		is_int(rc, requests[i].want, "%s", requests[i].what);
		if (rc == EX_OK) {
			ok(req.op == requests[i].op, "%s: operation", requests[i].what);
			is_str(req.account, requests[i].account, "%s: account", requests[i].what);
			is_str(req.old_token ? req.old_token : "(null)",
			       requests[i].old ? requests[i].old : "(null)", "%s: old token",
			       requests[i].what);
		} else {
			ok(!req.account && !req.old_token, "%s: nothing kept", requests[i].what);
			ok(!strstr(d.msg, "at-1"), "%s: the old token is not quoted", requests[i].what);
		}
		broker_request_clear(&req);
	}

	/* a frame over the bound is refused as it is, whatever it holds */
	char *big = xmalloc(BROKER_FRAME_MAX + 3);
	memcpy(big, "renew\0work\0", 11);
	memset(big + 11, 'a', BROKER_FRAME_MAX + 2 - 11);
	big[BROKER_FRAME_MAX + 2] = '\0';	/* big + 11 is also a string, for the formatter */
	struct broker_request req;
	struct diag d = {0};
	is_int(broker_parse_request(big, BROKER_FRAME_MAX + 1, &req, &d), EX_USAGE,
	       "a frame over BROKER_FRAME_MAX is refused");
	char name[BROKER_ACCOUNT_MAX + 8] = "token";
	memset(name + 6, 'n', BROKER_ACCOUNT_MAX + 1);
	is_int(broker_parse_request(name, 6 + BROKER_ACCOUNT_MAX + 1, &req, &d), EX_USAGE,
	       "an account name over BROKER_ACCOUNT_MAX is refused");
	is_int(broker_parse_request(name, 6 + BROKER_ACCOUNT_MAX, &req, &d), EX_OK,
	       "one of BROKER_ACCOUNT_MAX bytes is taken");
	broker_request_clear(&req);

	/* formatting: what parses back, and nothing the parser would refuse */
	char out[BROKER_FRAME_MAX];
	size_t n = broker_format_request(BROKER_RENEW, "work", "at-1", out, sizeof out);
	is_int((int)n, 15, "a renew frame's length");
	ok(n == 15 && memcmp(out, "renew\0work\0at-1", 15) == 0, "a renew frame's bytes");
	n = broker_format_request(BROKER_TOKEN, "", NULL, out, sizeof out);
	ok(n == 6 && memcmp(out, "token\0", 6) == 0, "a token frame for the top level");
	is_int((int)broker_format_request(BROKER_TOKEN, "wo rk", NULL, out, sizeof out), 0,
	       "a name the parser refuses is not formatted");
	is_int((int)broker_format_request(BROKER_RENEW, "work", NULL, out, sizeof out), 0,
	       "renew needs the old token");
	is_int((int)broker_format_request(BROKER_TOKEN, "work", "x", out, sizeof out), 0,
	       "token takes none");
	is_int((int)broker_format_request(BROKER_RENEW, "work", big + 11, out, sizeof out), 0,
	       "a frame over the bound is not formatted");
	free(big);

	/* replies */
	int code;
	char *text;
	n = broker_format_reply(EX_OK, "at-2", out, sizeof out);
	ok(n == 7 && memcmp(out, "00\0at-2", 7) == 0, "a token reply's bytes");
	n = broker_format_reply(EX_TEMPFAIL, "line one\nline two", out, sizeof out);
	is_int(broker_parse_reply(out, n, &code, &text, &d), EX_OK, "an error reply parses");
	is_int(code, EX_TEMPFAIL, "its code");
	is_str(text, "line one?line two", "its line, control bytes shown as '?'");
	free(text);
	static const struct {
		const char *frame;
		size_t len;
		const char *what;
	} bad[] = {
		{ F("0"), "too short" }, { F("00\0"), "a success without a token" },
		{ F("7a\0x"), "not two digits" }, { F("75x"), "no NUL after the code" },
		{ F("42\0x"), "not a sysexits code" }, { F("75\0a\0b"), "a NUL in the line" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		is_int(broker_parse_reply(bad[i].frame, bad[i].len, &code, &text, &d), EX_PROTOCOL,
		       "reply refused: %s", bad[i].what);
		ok(text == NULL, "reply refused: %s: no text", bad[i].what);
	}

	/* broker_answer: the source's token, its error line, or why the request is refused */
	struct fake f = { .token = "at-9" };
	text = answer(&f, F("token\0work"), &code);
	is_int(code, EX_OK, "a token for work");
	is_str(text, "at-9", "the source's access token, nothing else");
	free(text);
	text = answer(&f, F("renew\0\0at-8"), &code);
	is_int(code, EX_OK, "renew of the top level");
	is_int(f.forgets, 1, "renew forgets the refused token first");
	is_str(f.forgot, "at-8", "the token the relay refused");
	free(text);
	text = answer(&f, F("token\0other"), &code);
	is_int(code, EX_CONFIG, "an account the source does not serve");
	is_str(text, "the system configuration has no OAuth2 account 'other'", "says which");
	free(text);
	text = answer(&f, F("token\0down"), &code);
	is_int(code, EX_TEMPFAIL, "the token endpoint down: 75");
	is_str(text, "account 'down': token endpoint https://t/: HTTP 500", "its line");
	free(text);
	text = answer(&f, F("token\0revoked"), &code);
	is_int(code, EX_NOPERM, "invalid_grant: 77");
	ok(strstr(text, "run postie --authorize --account revoked") != NULL, "with what to run");
	free(text);
	int before = f.bearers;
	text = answer(&f, F("bogus\0work"), &code);
	is_int(code, EX_USAGE, "a malformed request: 64");
	is_int(f.bearers, before, "and the source is not asked");
	free(text);
	f.token = "bad token";
	text = answer(&f, F("token\0work"), &code);
	is_int(code, EX_PROTOCOL, "a token that could not cross as one is not sent");
	free(text);
	return done_testing();
}
