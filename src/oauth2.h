/* SPDX-License-Identifier: ISC */
/* oauth2.h: the submission's token source: an account's OAuth2 client (presets, grants, refresh)
 * over HTTPS with libcurl, and its tokens kept through tokenstate.h. Part of the submission side
 * (with submit.c, one of the files that may include curl.h); it never shows a token or secret. */
#ifndef POSTIE_OAUTH2_H
#define POSTIE_OAUTH2_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "tokenstate.h"
#include "util.h"

/* An access token that lapses within this many seconds is refreshed before it is used. */
#define OAUTH2_REFRESH_MARGIN 120

/* What a provider publishes. device_url is NULL when its device flow cannot grant mail. */
struct oauth2_preset {
	const char *name;
	const char *device_url;
	const char *token_url;
	const char *scope;		/* for the device grant */
	const char *app_scope;		/* for the client-credentials grant, or NULL */
	const char *mechanism;		/* the SASL mechanism its relays expect */
	const char *no_device;		/* why device_url is NULL, or NULL */
};

/* The preset named name ("google", "microsoft"), or NULL ("custom" and unknown names). */
const struct oauth2_preset *oauth2_preset_find(const char *name);

/* An account's client, resolved from its settings and the preset. Release with
 * oauth2_client_close. */
struct oauth2_client {
	const char *account;		/* the account's name for messages ("default" for none) */
	char *device_url, *token_url, *scope, *client_id;
	char *client_secret;		/* fetched from the command now, or NULL; wiped */
	enum oauth2_grant grant;
	bool tls_verify;
	const char *tls_ca_file;
	long timeout;
	char *state_path;
	mode_t state_mode;		/* of its files: 0640 for the system's shared state, else 0600 */
	const char *no_device;		/* the preset's reason, when device_url is NULL */
	bool hide_urls;			/* error lines leave the URLs out (the token broker's) */
};

/* Where account a keeps its tokens: its oauth2-state, else, for an account of the system file
 * (a->oauth2_system), LOCALSTATEDIR/lib/postie/oauth2/NAME.json, else $XDG_STATE_HOME/postie/oauth2-NAME.json
 * (~/.local/state when unset). NAME is the account's name or "default". Caller frees. NULL
 * with EX_CONFIG in d when there is no home directory to put it in. */
char *oauth2_state_path(const struct account *a, struct diag *d);

/* Resolves a's client; for the system's state (a->oauth2_system), checks its directory and,
 * as root, makes it or takes over an earlier release's file (tokenstate_shared_dir,
 * tokenstate_migrate). Runs oauth2-client-secret-command (through secret_from_command) when
 * fetch_secret. Errors: EX_CONFIG (no oauth2-provider, the command fails), EX_OSERR. */
int oauth2_client_open(const struct account *a, bool fetch_secret, struct oauth2_client *c,
		       struct diag *d);
void oauth2_client_close(struct oauth2_client *c);

/* A device authorization response (RFC 8628 3.2). Strings owned, device_code wiped. */
struct oauth2_device {
	char *device_code, *user_code, *verification_uri, *verification_uri_complete;
	long interval;			/* seconds, 5 when not given */
	long expires_in;		/* seconds */
};
void oauth2_device_clear(struct oauth2_device *dev);

/* Parses a device authorization response. Google spells it verification_url; both are taken.
 * Errors: EX_PROTOCOL "WHAT is missing" / "not JSON". */
int oauth2_parse_device(const char *body, size_t len, struct oauth2_device *dev, struct diag *d);

/* Parses a token endpoint response (RFC 6749 5.1 / 5.2) got with HTTP status http at time now.
 * On success (EX_OK) t gets the access token, the refresh token when given (else it keeps the
 * one it holds: no rotation), expires_at = now + expires_in (3600 when not given) and
 * obtained_at = now. Otherwise *error (size n) gets the OAuth error code ("" when none) and the
 * status is what it means: EX_TEMPFAIL for 5xx, 429, temporarily_unavailable, slow_down and
 * authorization_pending; EX_NOPERM for invalid_grant, access_denied and expired_token; EX_CONFIG
 * for invalid_client, unauthorized_client, invalid_scope, unsupported_grant_type and other 4xx;
 * EX_PROTOCOL for a body that is not a token response. d gets no message: the caller words it. */
int oauth2_parse_token(long http, const char *body, size_t len, time_t now,
		       struct oauth2_token *t, char *error, size_t n);

/* True when t holds an access token that is valid beyond now + margin. */
bool oauth2_token_fresh(const struct oauth2_token *t, time_t now, long margin);

/* Asks for a device code (RFC 8628 3.1). Errors: as oauth2_fetch_token. */
int oauth2_device_start(const struct oauth2_client *c, struct oauth2_device *dev, struct diag *d);

/* Polls the token endpoint for dev until the person has answered: every interval seconds,
 * 5 more after each slow_down (RFC 8628 3.5), until a token (EX_OK, in t), expired_token or the
 * code's own expiry (EX_TEMPFAIL "... expired"), access_denied (EX_NOPERM). */
int oauth2_device_poll(const struct oauth2_client *c, const struct oauth2_device *dev,
		       struct oauth2_token *t, struct diag *d);

/* The client-credentials grant (RFC 6749 4.4) into t. Errors: as oauth2_bearer. */
int oauth2_client_credentials(const struct oauth2_client *c, struct oauth2_token *t,
			      struct diag *d);

/* Stores t for c under the lock (tokenstate_write). */
int oauth2_store(const struct oauth2_client *c, const struct oauth2_token *t, struct diag *d);

/* The access token to send for account a, fresh for OAUTH2_REFRESH_MARGIN seconds: the stored
 * one, else refreshed (or, for client credentials, fetched anew) under the state's lock, after
 * reading the state again so that a token another process has just refreshed is used as it is;
 * a rotated refresh token is stored before the function returns. *token is the caller's
 * (wipe_free). Errors: EX_TEMPFAIL "account 'NAME': token endpoint URL: WHY" (cannot connect,
 * timeout, 5xx, 429); EX_NOPERM "account 'NAME': the authorization was revoked or has expired
 * (invalid_grant): run postie --authorize --account NAME" (and when nothing is stored);
 * EX_CONFIG (client errors, the state file), EX_CANTCREAT (writing the state). */
int oauth2_bearer(const struct account *a, char **token, struct diag *d);

/* oauth2_bearer in the token broker (broker.h), which keeps the setgid group: an
 * oauth2-client-secret-command runs there with the group, through
 * config_secret_command_privileged. Errors: as oauth2_bearer. */
int oauth2_bearer_privileged(const struct account *a, char **token, struct diag *d);

/* For --serverinfo: refreshes a's access token now (or, for client credentials, gets a new
 * one), under the lock as oauth2_bearer does, whatever its expiry; *expires_at gets the new
 * token's expiry. A failure leaves the stored tokens as they were. Errors: as oauth2_bearer. */
int oauth2_refresh_now(const struct account *a, time_t *expires_at, struct diag *d);

/* What a's token state says, for --serverinfo: lines
 * appended to out, each "oauth2: ...": the provider, grant and state file; whether an access
 * token is stored and when it expires (UTC, and in how many seconds from now); whether a
 * refresh token is stored and when it was last used. Never a token. Errors: as tokenstate_read
 * (out then holds the first line). */
int oauth2_describe(const struct account *a, time_t now, struct buf *out, struct diag *d);

/* --serverinfo's part for an OAuth2 account: oauth2_describe's lines, then an
 * oauth2_refresh_now and a line saying whether it worked ("oauth2: refresh worked: the access
 * token now expires ..." or "oauth2: refresh failed"). Never a token. Errors: the refresh's
 * (d says why), or oauth2_describe's. */
int oauth2_check(const struct account *a, struct buf *out, struct diag *d);

/* For a relay that refused token (535, or a 334 error challenge): marks the stored access token
 * as lapsed, under the lock, when it is still token, so that the next oauth2_bearer refreshes
 * (one refresh and one retry: the caller's part). A token already replaced by another process
 * is left alone. Errors: as tokenstate_read and tokenstate_write. */
int oauth2_forget_access(const struct account *a, const char *token, struct diag *d);

#endif
