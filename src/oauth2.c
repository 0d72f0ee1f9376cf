/* SPDX-License-Identifier: ISC */
/* oauth2.c: the submission's token source (see oauth2.h): presets, the device and
 * client-credentials grants, refresh under the state's lock. It never puts a token or a secret
 * in a message, a transcript line, an argv or an environment. */
#include "oauth2.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "user.h"

#define BODY_MAX (64 * 1024)

/* Checked against the providers' documentation (see the report of issue 19):
 * Google: the token endpoint takes refresh_token grants for https://mail.google.com/, but its
 * "TV and limited-input device" flow supports a limited set of scopes that leaves Gmail out, so
 * the preset has no device endpoint. Microsoft: the v2.0 endpoints of the identity platform;
 * SMTP AUTH wants https://outlook.office.com/SMTP.Send (offline_access for a refresh token),
 * app-only SMTP the .default scope of https://outlook.office365.com. Both want XOAUTH2. */
static const struct oauth2_preset presets[] = {
	{ "google", NULL, "https://oauth2.googleapis.com/token", "https://mail.google.com/", NULL,
	  "XOAUTH2",
	  "Google's device flow does not grant the Gmail scope https://mail.google.com/: store a "
	  "refresh token obtained another way in the oauth2-state file, or set oauth2-device-url" },
	{ "microsoft", "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	  "offline_access https://outlook.office.com/SMTP.Send",
	  "https://outlook.office365.com/.default", "XOAUTH2", NULL },
};

const struct oauth2_preset *oauth2_preset_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof presets / sizeof *presets; i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

/* --- the client ------------------------------------------------------------------------------ */

char *oauth2_state_path(const struct account *a, struct diag *d)
{
	const char *name = a->name ? a->name : "default";
	if (a->oauth2_state)
		return xstrdup(a->oauth2_state);
	if (a->oauth2_system)
		return xasprintf("%s/lib/postie/oauth2/%s.json", LOCALSTATEDIR, name);
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/postie/oauth2-%s.json", xdg, name);
	char *home = user_home_dir();
	if (!home) {
		diag_set(d, EX_CONFIG, "no home directory for the OAuth2 state: set oauth2-state");
		return NULL;
	}
	char *path = xasprintf("%s/.local/state/postie/oauth2-%s.json", home, name);
	free(home);
	return path;
}

/* The client secret of a, when it has one. privileged: in the token broker, which keeps the
 * setgid group; the command comes from the system file and runs there with the group, in
 * config_secret_command_privileged's fixed environment. */
static int fetch_client_secret(const struct account *a, bool privileged, struct oauth2_client *c,
			       struct diag *d)
{
	if (c->client_secret || (!a->oauth2_client_secret && !a->oauth2_client_secret_command))
		return EX_OK;
	if (a->oauth2_client_secret) {
		c->client_secret = xstrdup(a->oauth2_client_secret);
		return EX_OK;
	}
	if (privileged)
		return config_secret_command_privileged("oauth2-client-secret-command",
							a->oauth2_client_secret_command, a->timeout,
							&c->client_secret, d);
	return config_secret_command("oauth2-client-secret-command", a->oauth2_client_secret_command,
				     a->timeout, a->oauth2_client_secret_hidden, &c->client_secret, d);
}

static int client_resolve(const struct account *a, struct oauth2_client *c, struct diag *d)
{
	memset(c, 0, sizeof *c);
	c->account = a->name ? a->name : "default";
	if (!a->oauth2_provider)
		return diag_set(d, EX_CONFIG, "account '%s' has no oauth2-provider", c->account);
	const struct oauth2_preset *p = oauth2_preset_find(a->oauth2_provider);
	c->grant = a->oauth2_grant;
	bool cc = c->grant == OAUTH2_GRANT_CLIENT_CREDENTIALS;
	const char *device = a->oauth2_device_url ? a->oauth2_device_url : p ? p->device_url : NULL;
	const char *token = a->oauth2_token_url ? a->oauth2_token_url : p ? p->token_url : NULL;
	const char *scope = a->oauth2_scope ? a->oauth2_scope
			  : !p ? NULL : cc ? p->app_scope : p->scope;
	if (!token)
		return diag_set(d, EX_CONFIG, "account '%s': no oauth2-token-url", c->account);
	/* app-only tokens are a tenant's: "common" cannot issue them */
	if (cc && !a->oauth2_token_url && p && strcmp(p->name, "microsoft") == 0)
		return diag_set(d, EX_CONFIG, "account '%s': client credentials need the tenant's "
				"token URL: oauth2-token-url https://login.microsoftonline.com/"
				"TENANT/oauth2/v2.0/token", c->account);
	c->device_url = device ? xstrdup(device) : NULL;
	c->token_url = xstrdup(token);
	c->scope = scope ? xstrdup(scope) : NULL;
	c->client_id = xstrdup(a->oauth2_client_id ? a->oauth2_client_id : "");
	c->no_device = p && !a->oauth2_device_url ? p->no_device : NULL;
	c->tls_verify = a->tls_verify;
	c->tls_ca_file = a->tls_ca_file;
	c->timeout = a->timeout;
	c->state_path = oauth2_state_path(a, d);
	if (!c->state_path)
		return d->code;
	/* the system's state: 0640 files in root's 02770 directory of the group postie, shared
	 * by root's runs and the setgid program's broker; the default place takes over the
	 * file an earlier release kept beside it */
	c->state_mode = a->oauth2_system ? 0640 : 0600;
	if (!a->oauth2_system)
		return EX_OK;
	int rc = tokenstate_shared_dir(c->state_path, d);
	if (rc == EX_OK && !a->oauth2_state) {
		char *old = xasprintf("%s/lib/postie/oauth2-%s.json", LOCALSTATEDIR, c->account);
		rc = tokenstate_migrate(old, c->state_path, d);
		free(old);
	}
	return rc;
}

int oauth2_client_open(const struct account *a, bool fetch_secret, struct oauth2_client *c,
		       struct diag *d)
{
	int rc = client_resolve(a, c, d);
	if (rc == EX_OK && fetch_secret)
		rc = fetch_client_secret(a, false, c, d);
	return rc;
}

void oauth2_client_close(struct oauth2_client *c)
{
	free(c->device_url);
	free(c->token_url);
	free(c->scope);
	free(c->client_id);
	wipe_free(c->client_secret);
	free(c->state_path);
	memset(c, 0, sizeof *c);
}

/* --- parsing (pure) -------------------------------------------------------------------------- */

void oauth2_device_clear(struct oauth2_device *dev)
{
	wipe_free(dev->device_code);
	free(dev->user_code);
	free(dev->verification_uri);
	free(dev->verification_uri_complete);
	memset(dev, 0, sizeof *dev);
}

static char *json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) && json_string_length(v) > 0
		       ? xstrndup(json_string_value(v), json_string_length(v))
		       : NULL;
}

static bool digits_value(const char *s, long max, long *out)
{
	long n = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (max - (*s - '0')) / 10)
			return false;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return true;
}

/* A number of seconds: an integer, or a string of digits (some endpoints quote them). */
static long json_seconds(json_t *obj, const char *key, long dflt)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 100000000)
		return (long)json_integer_value(v);
	if (json_is_string(v)) {
		long n;
		if (digits_value(json_string_value(v), 99999999, &n))
			return n;
	}
	return dflt;
}

int oauth2_parse_device(const char *body, size_t len, struct oauth2_device *dev, struct diag *d)
{
	tokenstate_json_init();
	memset(dev, 0, sizeof *dev);
	json_t *root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return diag_set(d, EX_PROTOCOL, "not a JSON object");
	}
	dev->device_code = json_str(root, "device_code");
	dev->user_code = json_str(root, "user_code");
	dev->verification_uri = json_str(root, "verification_uri");
	if (!dev->verification_uri)
		dev->verification_uri = json_str(root, "verification_url");
	dev->verification_uri_complete = json_str(root, "verification_uri_complete");
	dev->interval = json_seconds(root, "interval", 5);
	if (dev->interval < 1)
		dev->interval = 5;
	dev->expires_in = json_seconds(root, "expires_in", 900);
	json_decref(root);
	const char *missing = !dev->device_code ? "device_code"
			      : !dev->user_code ? "user_code"
			      : !dev->verification_uri ? "verification_uri" : NULL;
	if (missing) {
		oauth2_device_clear(dev);
		return diag_set(d, EX_PROTOCOL, "%s is missing", missing);
	}
	return EX_OK;
}

int oauth2_parse_token(long http, const char *body, size_t len, time_t now,
		       struct oauth2_token *t, char *error, size_t n)
{
	tokenstate_json_init();
	if (n)
		*error = '\0';
	json_t *root = json_loadb(body, len, 0, NULL);
	char *access = NULL;
	int rc;
	if (json_is_object(root) && http == 200 && (access = json_str(root, "access_token"))) {
		wipe_free(t->access_token);
		t->access_token = access;
		char *refresh = json_str(root, "refresh_token");
		if (refresh) {
			wipe_free(t->refresh_token);
			t->refresh_token = refresh;
		}
		t->expires_at = now + json_seconds(root, "expires_in", 3600);
		t->obtained_at = now;
		rc = EX_OK;
	} else {
		const char *code = "";
		json_t *e = json_is_object(root) ? json_object_get(root, "error") : NULL;
		if (json_is_string(e))
			code = json_string_value(e);
		if (n)
			snprintf(error, n, "%s", code);
		if (http >= 500 || http == 429 || strcmp(code, "temporarily_unavailable") == 0 ||
		    strcmp(code, "authorization_pending") == 0 || strcmp(code, "slow_down") == 0 ||
		    strcmp(code, "expired_token") == 0)
			rc = EX_TEMPFAIL;
		else if (strcmp(code, "invalid_grant") == 0 || strcmp(code, "access_denied") == 0)
			rc = EX_NOPERM;
		else if (*code || (http >= 400 && http < 500))
			rc = EX_CONFIG;
		else
			rc = EX_PROTOCOL;
	}
	json_decref(root);
	return rc;
}

bool oauth2_token_fresh(const struct oauth2_token *t, time_t now, long margin)
{
	return t->access_token && *t->access_token && t->expires_at > now + margin;
}

/* --- HTTPS ----------------------------------------------------------------------------------- */

struct reply_sink {
	struct buf *body;
	bool too_large;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct reply_sink *s = arg;
	size_t n = size * nmemb;
	if (s->body->len + n > BODY_MAX) {
		s->too_large = true;
		return 0;
	}
	buf_append(s->body, p, n);
	return n;
}

static void form_add(struct buf *form, CURL *h, const char *key, const char *value)
{
	if (!value)
		return;
	char *esc = curl_easy_escape(h, value, 0);
	buf_printf(form, "%s%s=%s", form->len ? "&" : "", key, esc ? esc : "");
	if (esc) {
		explicit_bzero(esc, strlen(esc));
		curl_free(esc);
	}
}

static void wipe_buf(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

/* One form POST to url (RFC 6749's x-www-form-urlencoded). The fields come as a NULL-terminated
 * list of key, value pairs (a NULL value is left out); what says which grant it is, shown in
 * the transcript, is the first pair. *http is the status, 0 when there was no reply.
 * Errors: EX_TEMPFAIL "token endpoint URL: WHY" (the message is d's; the caller adds the
 * account). */
/* The endpoint as an error line names it: in the token broker the line goes to a user who may
 * not read the system file, which may hold a tenant or a key in its URLs, so not the URL. */
static const char *endpoint(const struct oauth2_client *c, const char *url)
{
	return c->hide_urls ? "of the system file" : url;
}

/* How long a run waits for another that holds the state's lock: the holder's refresh (a secret
 * command and a request, each within the account's timeout) and a margin. */
static long lock_wait(const struct oauth2_client *c)
{
	return c->timeout > 0 ? 2 * c->timeout + 5 : 0;
}

static int post_form(const struct oauth2_client *c, const char *url, const char *const *fields,
		     long *http, struct buf *body, struct diag *d)
{
	*http = 0;
	CURL *h = curl_easy_init();
	if (!h)
		return diag_set(d, EX_OSERR, "curl_easy_init failed");
	struct buf form = {0};
	for (size_t i = 0; fields[i]; i += 2)
		form_add(&form, h, fields[i], fields[i + 1]);
	char errbuf[CURL_ERROR_SIZE] = "";
	struct reply_sink sink = { body, false };
	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data ? form.data : "");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout > 0 ? c->timeout : 60L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->tls_ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->tls_ca_file);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	if (log_transcript_enabled()) {
		/* the grant and the URL; never the form, which holds the secrets */
		char *line = xasprintf("POST %s (%s=%s)", url, fields[0], fields[1]);
		log_transcript("oauth2>", line, strlen(line));
		free(line);
	}
	CURLcode cr = curl_easy_perform(h);
	int rc = EX_OK;
	if (cr == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
		if (log_transcript_enabled()) {
			char *line = xasprintf("HTTP %ld", *http);
			log_transcript("oauth2<", line, strlen(line));
			free(line);
		}
	} else if (sink.too_large) {
		rc = diag_set(d, EX_PROTOCOL, "token endpoint %s: reply larger than %d bytes",
			      endpoint(c, url), BODY_MAX);
	} else {
		rc = diag_set(d, EX_TEMPFAIL, "token endpoint %s: %s", endpoint(c, url),
			      *errbuf && !c->hide_urls ? errbuf : curl_easy_strerror(cr));
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	wipe_buf(&form);
	return rc;
}

/* The words for a token endpoint's refusal (rc from oauth2_parse_token). */
static int refusal(const struct oauth2_client *c, int rc, long http, const char *error,
		   struct diag *d)
{
	struct buf shown = {0};
	buf_put_escaped_n(&shown, error, strnlen(error, 64));
	if (rc == EX_NOPERM && strcmp(error, "invalid_grant") == 0)
		diag_set(d, rc, "account '%s': the authorization was revoked or has expired "
			 "(invalid_grant): run postie --authorize --account %s", c->account,
			 c->account);
	else if (rc == EX_TEMPFAIL)
		diag_set(d, rc, "account '%s': token endpoint %s: HTTP %ld%s%s", c->account,
			 endpoint(c, c->token_url), http, shown.len ? " " : "", shown.data ? shown.data : "");
	else if (rc == EX_PROTOCOL)
		diag_set(d, rc, "account '%s': token endpoint %s: HTTP %ld without a token",
			 c->account, endpoint(c, c->token_url), http);
	else
		diag_set(d, rc, "account '%s': token endpoint %s refused: %s (HTTP %ld)",
			 c->account, endpoint(c, c->token_url), shown.len ? shown.data : "no error code", http);
	buf_free(&shown);
	return rc;
}

/* A token request: POST fields to the token endpoint, the reply into t. error gets the OAuth
 * error code for the caller's own cases (pending, slow_down). */
static int token_request(const struct oauth2_client *c, const char *const *fields,
			 struct oauth2_token *t, char *error, size_t n, struct diag *d)
{
	struct buf body = {0};
	long http;
	struct diag why = {0};
	*error = '\0';
	int rc = post_form(c, c->token_url, fields, &http, &body, &why);
	if (rc != EX_OK) {
		wipe_buf(&body);
		return diag_set(d, rc, "account '%s': %s", c->account, why.msg);
	}
	rc = oauth2_parse_token(http, body.data ? body.data : "", body.len, time(NULL), t, error, n);
	wipe_buf(&body);
	if (log_transcript_enabled() && *error) {
		struct buf shown = {0};
		buf_put_escaped_n(&shown, error, strnlen(error, 64));
		log_transcript("oauth2<", shown.data, shown.len);
		buf_free(&shown);
	}
	return rc == EX_OK ? EX_OK : refusal(c, rc, http, error, d);
}

/* --- grants ---------------------------------------------------------------------------------- */

int oauth2_device_start(const struct oauth2_client *c, struct oauth2_device *dev, struct diag *d)
{
	memset(dev, 0, sizeof *dev);
	if (!c->device_url)
		return diag_set(d, EX_CONFIG, "account '%s': %s", c->account,
				c->no_device ? c->no_device : "no oauth2-device-url");
	const char *fields[] = { "client_id", c->client_id, "scope", c->scope, NULL };
	struct buf body = {0};
	long http;
	struct diag why = {0};
	int rc = post_form(c, c->device_url, fields, &http, &body, &why);
	if (rc != EX_OK) {
		wipe_buf(&body);
		return diag_set(d, rc, "account '%s': %s", c->account, why.msg);
	}
	if (http != 200) {
		char error[64];
		struct oauth2_token none = {0};
		rc = oauth2_parse_token(http, body.data ? body.data : "", body.len, 0, &none, error,
					sizeof error);
		oauth2_token_clear(&none);
		wipe_buf(&body);
		struct buf shown = {0};
		buf_put_escaped(&shown, error);
		diag_set(d, rc == EX_OK ? EX_PROTOCOL : rc,
			 "account '%s': device endpoint %s: HTTP %ld%s%s", c->account, c->device_url,
			 http, shown.len ? " " : "", shown.len ? shown.data : "");
		buf_free(&shown);
		return d ? d->code : rc;
	}
	rc = oauth2_parse_device(body.data ? body.data : "", body.len, dev, &why);
	wipe_buf(&body);
	if (rc != EX_OK)
		return diag_set(d, rc, "account '%s': device endpoint %s: %s", c->account,
				c->device_url, why.msg);
	return EX_OK;
}

static void sleep_seconds(long s)
{
	struct timespec ts = { s, 0 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int oauth2_device_poll(const struct oauth2_client *c, const struct oauth2_device *dev,
		       struct oauth2_token *t, struct diag *d)
{
	long interval = dev->interval > 0 ? dev->interval : 5;
	time_t deadline = time(NULL) + (dev->expires_in > 0 ? dev->expires_in : 900);
	const char *fields[] = { "grant_type", "urn:ietf:params:oauth:grant-type:device_code",
				 "device_code", dev->device_code, "client_id", c->client_id,
				 "client_secret", c->client_secret, NULL };
	for (;;) {
		sleep_seconds(interval);
		if (time(NULL) >= deadline)
			break;
		char error[64];
		struct diag why = {0};
		int rc = token_request(c, fields, t, error, sizeof error, &why);
		if (rc == EX_OK)
			return EX_OK;
		if (strcmp(error, "authorization_pending") == 0)
			continue;
		if (strcmp(error, "slow_down") == 0) {
			interval += 5;	/* RFC 8628 3.5 */
			continue;
		}
		if (strcmp(error, "access_denied") == 0)
			return diag_set(d, EX_NOPERM, "account '%s': the authorization was denied "
					"(access_denied)", c->account);
		if (strcmp(error, "expired_token") == 0)
			break;
		*d = why;
		return why.code;
	}
	return diag_set(d, EX_TEMPFAIL, "account '%s': the code expired before it was entered "
			"(expired_token): run postie --authorize --account %s again", c->account,
			c->account);
}

int oauth2_client_credentials(const struct oauth2_client *c, struct oauth2_token *t,
			      struct diag *d)
{
	const char *fields[] = { "grant_type", "client_credentials", "client_id", c->client_id,
				 "client_secret", c->client_secret, "scope", c->scope, NULL };
	char error[64];
	return token_request(c, fields, t, error, sizeof error, d);
}

static int refresh(const struct oauth2_client *c, struct oauth2_token *t, struct diag *d)
{
	const char *fields[] = { "grant_type", "refresh_token", "refresh_token", t->refresh_token,
				 "client_id", c->client_id, "client_secret", c->client_secret,
				 NULL };
	char error[64];
	int rc = token_request(c, fields, t, error, sizeof error, d);
	if (rc == EX_OK)
		t->refreshed_at = t->obtained_at;
	return rc;
}

int oauth2_store(const struct oauth2_client *c, const struct oauth2_token *t, struct diag *d)
{
	int lock;
	int rc = tokenstate_lock_mode(c->state_path, c->state_mode, lock_wait(c), &lock, d);
	if (rc == EX_OK)
		rc = tokenstate_write_mode(c->state_path, t, c->state_mode, d);
	tokenstate_unlock(lock);
	return rc;
}

/* --- the token for a send -------------------------------------------------------------------- */

/* oauth2_bearer, and with force a refresh (or a new client-credentials token) whatever the
 * stored token's expiry; *expires_at gets the expiry of the token given. privileged: as
 * fetch_client_secret's. */
static int bearer(const struct account *a, bool force, bool privileged, char **token,
		  time_t *expires_at, struct diag *d)
{
	*token = NULL;
	struct oauth2_client c;
	struct oauth2_token t = {0};
	bool found;
	int lock = -1;
	int rc = oauth2_client_open(a, false, &c, d);
	c.hide_urls = privileged;
	if (rc == EX_OK)
		rc = tokenstate_read(c.state_path, &t, &found, d);
	if (rc == EX_OK && !force && found &&
	    oauth2_token_fresh(&t, time(NULL), OAUTH2_REFRESH_MARGIN))
		goto out;
	if (rc == EX_OK)
		rc = tokenstate_lock_mode(c.state_path, c.state_mode, lock_wait(&c), &lock, d);
	/* another process may have refreshed while this one waited for the lock */
	if (rc == EX_OK)
		rc = tokenstate_read(c.state_path, &t, &found, d);
	if (rc != EX_OK || (!force && oauth2_token_fresh(&t, time(NULL), OAUTH2_REFRESH_MARGIN)))
		goto out;
	if (c.grant == OAUTH2_GRANT_DEVICE && !t.refresh_token) {
		rc = diag_set(d, EX_NOPERM, "account '%s': no OAuth2 token stored in %s: run "
			      "postie --authorize --account %s", c.account, c.state_path, c.account);
		goto out;
	}
	rc = fetch_client_secret(a, privileged, &c, d);
	if (rc == EX_OK)
		rc = c.grant == OAUTH2_GRANT_CLIENT_CREDENTIALS ? oauth2_client_credentials(&c, &t, d)
								 : refresh(&c, &t, d);
	if (rc == EX_OK)
		rc = tokenstate_write_mode(c.state_path, &t, c.state_mode, d);
out:
	if (rc == EX_OK) {
		*token = xstrdup(t.access_token);
		*expires_at = t.expires_at;
	}
	tokenstate_unlock(lock);
	oauth2_token_clear(&t);
	oauth2_client_close(&c);
	return rc;
}

int oauth2_bearer(const struct account *a, char **token, struct diag *d)
{
	time_t expires_at;
	return bearer(a, false, false, token, &expires_at, d);
}

int oauth2_bearer_privileged(const struct account *a, char **token, struct diag *d)
{
	time_t expires_at;
	return bearer(a, false, true, token, &expires_at, d);
}

int oauth2_refresh_now(const struct account *a, time_t *expires_at, struct diag *d)
{
	char *token = NULL;
	int rc = bearer(a, true, false, &token, expires_at, d);
	wipe_free(token);
	return rc;
}

int oauth2_forget_access(const struct account *a, const char *token, struct diag *d)
{
	struct oauth2_client c;
	struct oauth2_token t = {0};
	bool found = false;
	int lock = -1;
	int rc = client_resolve(a, &c, d);
	if (rc == EX_OK)
		rc = tokenstate_lock_mode(c.state_path, c.state_mode, lock_wait(&c), &lock, d);
	if (rc == EX_OK)
		rc = tokenstate_read(c.state_path, &t, &found, d);
	if (rc == EX_OK && found && t.access_token && token && strcmp(t.access_token, token) == 0) {
		t.expires_at = 0;
		rc = tokenstate_write_mode(c.state_path, &t, c.state_mode, d);
	}
	tokenstate_unlock(lock);
	oauth2_token_clear(&t);
	oauth2_client_close(&c);
	return rc;
}

static void utc_time(time_t t, char *out, size_t n)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "%lld", (long long)t);
}

int oauth2_describe(const struct account *a, time_t now, struct buf *out, struct diag *d)
{
	struct oauth2_client c;
	struct oauth2_token t = {0};
	bool found = false;
	int rc = client_resolve(a, &c, d);
	if (rc != EX_OK)
		return rc;
	buf_printf(out, "oauth2: provider %s, %s grant, state %s\n", a->oauth2_provider,
		   c.grant == OAUTH2_GRANT_DEVICE ? "device" : "client-credentials", c.state_path);
	rc = tokenstate_read(c.state_path, &t, &found, d);
	char when[32];
	if (rc == EX_OK && (!found || !t.access_token)) {
		buf_printf(out, "oauth2: no token stored: run postie --authorize --account %s\n",
			   c.account);
	} else if (rc == EX_OK) {
		utc_time(t.expires_at, when, sizeof when);
		if (t.expires_at > now)
			buf_printf(out, "oauth2: access token expires %s (in %lld s)\n", when,
				   (long long)(t.expires_at - now));
		else
			buf_printf(out, "oauth2: access token expired %s (%lld s ago)\n", when,
				   (long long)(now - t.expires_at));
		if (!t.refresh_token) {
			buf_printf(out, "oauth2: no refresh token\n");
		} else if (t.refreshed_at) {
			utc_time(t.refreshed_at, when, sizeof when);
			buf_printf(out, "oauth2: refresh token stored, last used %s\n", when);
		} else {
			buf_printf(out, "oauth2: refresh token stored, not used yet\n");
		}
	}
	oauth2_token_clear(&t);
	oauth2_client_close(&c);
	return rc;
}

int oauth2_check(const struct account *a, struct buf *out, struct diag *d)
{
	int rc = oauth2_describe(a, time(NULL), out, d);
	if (rc != EX_OK)
		return rc;
	time_t expires_at = 0;
	rc = oauth2_refresh_now(a, &expires_at, d);
	if (rc != EX_OK) {
		buf_printf(out, "oauth2: refresh failed\n");
		return rc;
	}
	char when[32];
	utc_time(expires_at, when, sizeof when);
	buf_printf(out, "oauth2: refresh worked: the access token now expires %s (in %lld s)\n",
		   when, (long long)(expires_at - time(NULL)));
	return EX_OK;
}
