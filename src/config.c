/* SPDX-License-Identifier: ISC */
/* config.c: every file's layers resolved into each account's settings (the secrets rule) and
 * the account picked. Never reads or parses; never lets a system secret follow a user's relay. */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "secret.h"

static const char *const default_relay[] = { CONFIG_DEFAULT_RELAY };
static const char *const default_local_domains[] = { "localhost" };

/* --- effective settings ---------------------------------------------------------------------- */

static const struct layer *from_layer(const struct layer *top, const struct layer *acct,
				      enum key k)
{
	if (acct && acct->set[k])
		return acct;
	return top->set[k] ? top : NULL;
}

/* What says where an account connects and how it proves who it is. */
static const enum key connection_keys[] = {
	K_RELAY, K_TLS, K_TLS_VERIFY, K_TLS_CA_FILE, K_TLS_CERT, K_TLS_KEY, K_USER, K_AUTH, K_OAUTH2,
	/* where the client secret and the refresh token are sent */
	K_OAUTH2_PROVIDER, K_OAUTH2_TOKEN_URL, K_OAUTH2_DEVICE_URL,
};

/* The first of connection_keys that the account takes from a file the user controls (the
 * user's file, -C, $POSTIE_CONFIG), or K_COUNT when the system file alone says where and how
 * it connects. Defaults count as the system's: no user put them there. */
static enum key moved_by_user(const struct layer *top, const struct layer *acct)
{
	for (size_t i = 0; i < sizeof connection_keys / sizeof *connection_keys; i++) {
		const struct layer *l = from_layer(top, acct, connection_keys[i]);
		if (l && !l->at[connection_keys[i]].system)
			return connection_keys[i];
	}
	return K_COUNT;
}

/* Whether the account's built-in OAuth2 is the system's, whose tokens only root and the
 * setgid program's broker use (LOCALSTATEDIR/lib/postie/oauth2): oauth2-provider, every
 * connection key and every other oauth2- key come from the system file (or are defaults).
 * A file the user controls that sets any of them makes it the user's own OAuth2 account, with
 * its state under $XDG_STATE_HOME: the system's tokens never follow a user's setting. */
static bool system_oauth2(const struct layer *top, const struct layer *acct)
{
	static const enum key oauth2_keys[] = { K_OAUTH2_PROVIDER, K_OAUTH2_CLIENT_ID,
		K_OAUTH2_CLIENT_SECRET, K_OAUTH2_CLIENT_SECRET_COMMAND, K_OAUTH2_SCOPE,
		K_OAUTH2_GRANT, K_OAUTH2_DEVICE_URL, K_OAUTH2_TOKEN_URL, K_OAUTH2_STATE };
	const struct layer *l = from_layer(top, acct, K_OAUTH2_PROVIDER);
	if (!l || !l->at[K_OAUTH2_PROVIDER].system || moved_by_user(top, acct) != K_COUNT)
		return false;
	for (size_t i = 0; i < sizeof oauth2_keys / sizeof *oauth2_keys; i++)
		if ((l = from_layer(top, acct, oauth2_keys[i])) && !l->at[oauth2_keys[i]].system)
			return false;
	return true;
}

/* The secrets rule (postie.conf(5), SECRETS), the one place it is decided: a credential from the
 * system file (user, password, password-command, netrc, tls-cert, tls-key) is used only with the
 * relay, TLS and authentication settings the system file gives the same account. When a file
 * the user controls changes any of them, the account is the user's own and keeps only the
 * credentials the user gave; *note (owned by the caller) then says so, for -v. secret is the
 * layer password and password-command come from. */
static void keep_system_secrets_home(const struct layer *top, const struct layer *acct,
				     const struct layer *secret, struct account *a, char **note)
{
	enum key moved = moved_by_user(top, acct);
	if (moved == K_COUNT)
		return;
	bool dropped = false;
	const struct layer *l;
#define DROP(k, field) \
	if (a->field && (l = from_layer(top, acct, (k))) && l->at[(k)].system) { \
		a->field = NULL; \
		dropped = true; \
	}
	DROP(K_USER, user)
	DROP(K_NETRC, netrc)
	DROP(K_TLS_CERT, tls_cert)
	DROP(K_TLS_KEY, tls_key)
	DROP(K_OAUTH2_CLIENT_SECRET, oauth2_client_secret)
	DROP(K_OAUTH2_CLIENT_SECRET_COMMAND, oauth2_client_secret_command)
	DROP(K_OAUTH2_STATE, oauth2_state)
#undef DROP
	if ((a->password && secret->at[K_PASSWORD].system) ||
	    (a->password_command && secret->at[K_PASSWORD_COMMAND].system)) {
		a->password = a->password_command = NULL;
		dropped = true;
	}
	if (!dropped)
		return;
	const struct origin *at = &from_layer(top, acct, moved)->at[moved];
	*note = xasprintf("%s%s%s does not use the system file's secrets: its %s is set in %s:%zu",
			  acct ? "account '" : "the default account", acct ? acct->name : "",
			  acct ? "'" : "", config_key_names[moved], at->file, at->line);
}

/* What built-in OAuth2 needs that no single line can say. */
static int oauth2_checks(const struct layer *top, const struct layer *acct,
			 const struct account *a, const char *in, struct diag *d)
{
	const struct origin *at = &from_layer(top, acct, K_OAUTH2_PROVIDER)->at[K_OAUTH2_PROVIDER];
	bool custom = strcmp(a->oauth2_provider, "custom") == 0;
	bool cc = a->oauth2_grant == OAUTH2_GRANT_CLIENT_CREDENTIALS;
	if (!a->oauth2_client_id)
		return config_bad(d, at, "oauth2-provider %s needs oauth2-client-id%s",
				  a->oauth2_provider, in);
	if (custom && !a->oauth2_token_url)
		return config_bad(d, at, "oauth2-provider custom needs oauth2-token-url%s", in);
	if (cc && strcmp(a->oauth2_provider, "google") == 0)
		return config_bad(d, at, "oauth2-provider google has no client-credentials grant "
				  "for mail (a service account needs a signed JWT)%s", in);
	/* the provider gives the token; a password beside it would never be used */
	if (a->password || a->password_command)
		return config_bad(d, at, "oauth2-provider gets the token itself: drop password and "
				  "password-command%s", in);
	if (cc && !a->oauth2_client_secret && !a->oauth2_client_secret_command)
		return config_bad(d, at, "oauth2-grant client-credentials needs "
				  "oauth2-client-secret or oauth2-client-secret-command%s", in);
	return EX_OK;
}

static int effective(const struct layer *top, const struct layer *acct, struct account *a,
		     char **note, struct diag *d)
{
	const struct layer *l;
	memset(a, 0, sizeof *a);
	a->name = acct ? acct->name : NULL;

#define STR(k) ((l = from_layer(top, acct, (k))) ? l->str[(k)] : NULL)
#define NUM(k, dflt) ((l = from_layer(top, acct, (k))) ? l->num[(k)] : (dflt))
	if ((l = from_layer(top, acct, K_RELAY))) {
		a->relay = (const char *const *)l->relay.v;
		a->nrelay = l->relay.n;
	} else {
		a->relay = default_relay;
		a->nrelay = 1;
	}
	bool loopback = true, implicit_tls = false;
	for (size_t i = 0; i < a->nrelay; i++) {
		loopback = loopback && config_relay_is_loopback(a->relay[i]);
		implicit_tls = implicit_tls || strncmp(a->relay[i], "smtps://", 8) == 0;
	}
	a->loopback = loopback;
	a->tls = (enum tls_mode)NUM(K_TLS, loopback ? TLS_OPPORTUNISTIC : TLS_REQUIRED);
	a->tls_verify = NUM(K_TLS_VERIFY, 1);
	a->tls_ca_file = STR(K_TLS_CA_FILE);
	a->tls_cert = STR(K_TLS_CERT);
	a->tls_key = STR(K_TLS_KEY);
	a->user = STR(K_USER);
	/* password and password-command are one setting: the nearer section that gives either. */
	const struct layer *secret = top;
	if (acct && (acct->set[K_PASSWORD] || acct->set[K_PASSWORD_COMMAND]))
		secret = acct;
	a->password = secret->set[K_PASSWORD] ? secret->str[K_PASSWORD] : NULL;
	a->password_command =
		secret->set[K_PASSWORD_COMMAND] ? secret->str[K_PASSWORD_COMMAND] : NULL;
	a->netrc = STR(K_NETRC);
	a->auth = STR(K_AUTH);
	a->oauth2 = NUM(K_OAUTH2, 0);
	a->from = STR(K_FROM);
	a->domain = STR(K_DOMAIN);
	a->aliases = STR(K_ALIASES);
	if ((l = from_layer(top, acct, K_LOCAL_DOMAINS))) {
		a->local_domains = (const char *const *)l->local_domains.v;
		a->nlocal_domains = l->local_domains.n;
		a->local_domains_set = true;
	} else {
		a->local_domains = default_local_domains;
		a->nlocal_domains = 1;
	}
	a->rewrite_headers = NUM(K_REWRITE_HEADERS, 1);
	a->received = NUM(K_RECEIVED, 1);
	a->timeout = NUM(K_TIMEOUT, CONFIG_DEFAULT_TIMEOUT);
	a->max_recipients = NUM(K_MAX_RECIPIENTS, CONFIG_DEFAULT_MAX_RECIPIENTS);
	a->queue = STR(K_QUEUE);
	a->queue_lifetime = NUM(K_QUEUE_LIFETIME, CONFIG_DEFAULT_QUEUE_LIFETIME);
	a->delivery = (enum delivery_mode)NUM(K_DELIVERY, DELIVERY_NOW);
	a->syslog = NUM(K_SYSLOG, 1);
	a->logfile = STR(K_LOGFILE);
	a->logfile_fd = -1;
	if ((l = from_layer(top, acct, K_LOGFILE)) && l->at[K_LOGFILE].system && l->logfile_open)
		a->logfile_fd = l->logfile_fd;
	a->password_command_hidden =
		a->password_command && secret->at[K_PASSWORD_COMMAND].hidden;
	/* built-in OAuth2; the client secret is one setting like the password */
	a->oauth2_provider = STR(K_OAUTH2_PROVIDER);
	a->oauth2_system = system_oauth2(top, acct);
	a->oauth2 = a->oauth2 || a->oauth2_provider;
	a->oauth2_client_id = STR(K_OAUTH2_CLIENT_ID);
	const struct layer *client = top;
	if (acct && (acct->set[K_OAUTH2_CLIENT_SECRET] || acct->set[K_OAUTH2_CLIENT_SECRET_COMMAND]))
		client = acct;
	a->oauth2_client_secret = client->str[K_OAUTH2_CLIENT_SECRET];
	a->oauth2_client_secret_command = client->str[K_OAUTH2_CLIENT_SECRET_COMMAND];
	a->oauth2_client_secret_hidden = a->oauth2_client_secret_command &&
					 client->at[K_OAUTH2_CLIENT_SECRET_COMMAND].hidden;
	a->oauth2_scope = STR(K_OAUTH2_SCOPE);
	a->oauth2_grant = (enum oauth2_grant)NUM(K_OAUTH2_GRANT, OAUTH2_GRANT_DEVICE);
	a->oauth2_device_url = STR(K_OAUTH2_DEVICE_URL);
	a->oauth2_token_url = STR(K_OAUTH2_TOKEN_URL);
	a->oauth2_state = STR(K_OAUTH2_STATE);
	const enum key oauth2_keys[] = { K_OAUTH2_CLIENT_ID, K_OAUTH2_CLIENT_SECRET,
		K_OAUTH2_CLIENT_SECRET_COMMAND, K_OAUTH2_SCOPE, K_OAUTH2_GRANT, K_OAUTH2_DEVICE_URL,
		K_OAUTH2_TOKEN_URL, K_OAUTH2_STATE };
	const struct layer *stray = NULL;
	enum key stray_key = K_COUNT;
	for (size_t i = 0; i < sizeof oauth2_keys / sizeof *oauth2_keys && !stray; i++)
		if ((stray = from_layer(top, acct, oauth2_keys[i])))
			stray_key = oauth2_keys[i];
#undef STR
#undef NUM
	keep_system_secrets_home(top, acct, secret, a, note);

	char in[128] = "";
	if (acct)
		snprintf(in, sizeof in, " (account '%s')", acct->name);
	if (a->tls == TLS_OFF && implicit_tls)
		return config_bad(d, &from_layer(top, acct, K_TLS)->at[K_TLS],
				  "tls off contradicts an smtps:// relay, which is always TLS%s",
				  in);
	if (a->tls == TLS_OFF && !loopback &&
	    (a->user || a->password || a->password_command || a->netrc))
		return config_bad(d, &from_layer(top, acct, K_TLS)->at[K_TLS],
				  "tls off with a login would send the password in clear text; "
				  "allowed only when every relay is loopback%s", in);
	if (a->oauth2 && a->auth && strcmp(a->auth, "XOAUTH2") != 0 &&
	    strcmp(a->auth, "OAUTHBEARER") != 0)
		return config_bad(d, from_layer(top, acct, K_OAUTH2)
					     ? &from_layer(top, acct, K_OAUTH2)->at[K_OAUTH2]
					     : &from_layer(top, acct, K_OAUTH2_PROVIDER)->at[K_OAUTH2_PROVIDER],
				  "oauth2 yes needs auth auto, XOAUTH2 or OAUTHBEARER, not %s%s",
				  from_layer(top, acct, K_AUTH)->at[K_AUTH].hidden ? "the one set"
										   : a->auth,
				  in);
	if (stray && !a->oauth2_provider)
		return config_bad(d, &stray->at[stray_key], "%s needs oauth2-provider%s",
				  config_key_names[stray_key], in);
	if (a->oauth2_provider)
		return oauth2_checks(top, acct, a, in, d);
	return EX_OK;
}

static void free_notes(struct config_state *st)
{
	if (!st->notes)
		return;
	for (size_t i = 0; i < st->nnotes; i++)
		free(st->notes[i]);
	free(st->notes);
	st->notes = NULL;
	st->nnotes = 0;
}

int config_finish(struct config *c, struct diag *d)
{
	if (!c->st)
		c->st = xcalloc(1, sizeof *c->st);
	struct config_state *st = c->st;
	free_notes(st);
	free(st->eff);
	st->eff = xcalloc(st->nacct + 1, sizeof *st->eff);
	st->notes = xcalloc(st->nacct + 1, sizeof *st->notes);
	st->nnotes = st->nacct + 1;
	st->finished = false;
	int rc = effective(&st->top, NULL, &st->eff[0], &st->notes[0], d);
	for (size_t i = 0; i < st->nacct && rc == EX_OK; i++)
		rc = effective(&st->top, &st->acct[i], &st->eff[i + 1], &st->notes[i + 1], d);
	for (size_t i = 0; i <= st->nacct; i++)
		st->eff[i].secrets_note = st->notes[i];
	st->finished = rc == EX_OK;
	return rc;
}

const struct account *config_pick(const struct config *c, const char *account_name,
				  const char *sender, struct diag *d)
{
	const struct config_state *st = c->st;
	if (!st || !st->finished) {
		diag_set(d, EX_SOFTWARE, "configuration used before config_finish");
		return NULL;
	}
	if (account_name) {
		for (size_t i = 0; i < st->nacct; i++)
			if (strcmp(st->acct[i].name, account_name) == 0)
				return &st->eff[i + 1];
		struct buf files = {0};
		for (size_t i = 0; i < c->files.n; i++)
			buf_printf(&files, "%s%s", i ? ", " : "", c->files.v[i]);
		if (files.len)
			diag_set(d, EX_CONFIG, "no account '%s' in %s", account_name, files.data);
		else
			diag_set(d, EX_CONFIG, "no account '%s': no configuration file was read",
				 account_name);
		buf_free(&files);
		return NULL;
	}
	if (sender && *sender) {
		char *key = addr_dedup_key(sender);
		const struct account *found = NULL;
		for (size_t i = 0; i < st->nacct && !found; i++)
			if (st->acct[i].from_key && strcmp(st->acct[i].from_key, key) == 0)
				found = &st->eff[i + 1];
		free(key);
		if (found)
			return found;
	}
	return &st->eff[0];
}

bool config_has_oauth2(const struct config *c)
{
	const struct config_state *st = c->st;
	for (size_t i = 0; st && i <= st->nacct; i++)
		if ((i ? &st->acct[i - 1] : &st->top)->set[K_OAUTH2_PROVIDER])
			return true;
	return false;
}

void config_account_names(const struct config *c, struct strlist *out)
{
	if (!c->st)
		return;
	for (size_t i = 0; i < c->st->nacct; i++)
		strlist_add(out, c->st->acct[i].name);
}

void config_free(struct config *c)
{
	struct config_state *st = c->st;
	if (st) {
		config_layer_free(&st->top);
		for (size_t i = 0; i < st->nacct; i++)
			config_layer_free(&st->acct[i]);
		free(st->acct);
		free_notes(st);
		free(st->eff);
		free(st);
	}
	strlist_free(&c->files);
	memset(c, 0, sizeof *c);
}

/* --- the secret ------------------------------------------------------------------------------ */

int config_password(const struct account *a, char **out, struct diag *d)
{
	*out = NULL;
	if (a->password) {
		*out = xstrdup(a->password);
		return EX_OK;
	}
	if (!a->password_command)
		return EX_OK;
	return config_secret_command("password-command", a->password_command, a->timeout,
				     a->password_command_hidden, out, d);
}

/* Runs command (split as config_split_command does) through secret_from_command with env (NULL:
 * the caller's environment). */
static int run_secret_command(const char *key, const char *command, long timeout, bool hidden,
			      char *const *env, char **out, struct diag *d)
{
	*out = NULL;
	struct strlist args = {0};
	struct diag split = {0};
	int rc = config_split_command(command, &args, &split);
	if (rc != EX_OK)
		return diag_set(d, EX_CONFIG, "%s: %s", key, split.msg);
	/* a strlist is not NULL-terminated; an argv must be */
	char **argv = xcalloc(args.n + 1, sizeof *argv);
	for (size_t i = 0; i < args.n; i++)
		argv[i] = args.v[i];
	struct secret_command cmd = { key, argv, timeout, hidden, env };
	rc = secret_from_command(&cmd, out, d);
	free(argv);
	strlist_free(&args);
	return rc;
}

int config_secret_command(const char *key, const char *command, long timeout, bool hidden,
			  char **out, struct diag *d)
{
	*out = NULL;
	if (getegid() != getgid())
		return diag_set(d, EX_SOFTWARE, "%s run with a group privilege", key);
	return run_secret_command(key, command, timeout, hidden, NULL, out, d);
}

int config_secret_command_privileged(const char *key, const char *command, long timeout,
				     char **out, struct diag *d)
{
	/* nothing of the caller's: not their PATH, which would choose what runs with the group */
	char *const env[] = { (char *)"PATH=/usr/local/bin:/usr/bin:/bin", (char *)"LC_ALL=C",
			      NULL };
	return run_secret_command(key, command, timeout, true, env, out, d);
}

void config_forget_system_client_secrets(struct config *c)
{
	struct config_state *st = c->st;
	if (!st)
		return;
	for (size_t i = 0; i <= st->nacct; i++) {
		struct layer *l = i ? &st->acct[i - 1] : &st->top;
		char *s = l->str[K_OAUTH2_CLIENT_SECRET];
		if (!s || !l->at[K_OAUTH2_CLIENT_SECRET].system)
			continue;
		for (size_t k = 0; st->eff && k <= st->nacct; k++)
			if (st->eff[k].oauth2_client_secret == s)
				st->eff[k].oauth2_client_secret = NULL;
		wipe_free(s);
		l->str[K_OAUTH2_CLIENT_SECRET] = NULL;
	}
}

void config_secret_free(char *secret)
{
	wipe_free(secret);
}
