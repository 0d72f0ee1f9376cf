/* SPDX-License-Identifier: ISC */
/* config_parse.c: the text of postie.conf, line by line, onto the layer of each section (the key
 * table lives here). It never opens a file, never resolves accounts, never shows a password. */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"

const char *const config_key_names[K_COUNT] = {
	[K_RELAY] = "relay", [K_TLS] = "tls", [K_TLS_VERIFY] = "tls-verify",
	[K_TLS_CA_FILE] = "tls-ca-file", [K_TLS_CERT] = "tls-cert", [K_TLS_KEY] = "tls-key",
	[K_USER] = "user", [K_PASSWORD] = "password", [K_PASSWORD_COMMAND] = "password-command",
	[K_NETRC] = "netrc", [K_AUTH] = "auth", [K_OAUTH2] = "oauth2", [K_FROM] = "from",
	[K_DOMAIN] = "domain", [K_ALIASES] = "aliases", [K_LOCAL_DOMAINS] = "local-domains",
	[K_REWRITE_HEADERS] = "rewrite-headers", [K_TIMEOUT] = "timeout", [K_QUEUE] = "queue",
	[K_QUEUE_LIFETIME] = "queue-lifetime", [K_DELIVERY] = "delivery", [K_SYSLOG] = "syslog",
	[K_LOGFILE] = "logfile", [K_MAX_RECIPIENTS] = "max-recipients", [K_RECEIVED] = "received",
	[K_OAUTH2_PROVIDER] = "oauth2-provider", [K_OAUTH2_CLIENT_ID] = "oauth2-client-id",
	[K_OAUTH2_CLIENT_SECRET] = "oauth2-client-secret",
	[K_OAUTH2_CLIENT_SECRET_COMMAND] = "oauth2-client-secret-command",
	[K_OAUTH2_SCOPE] = "oauth2-scope", [K_OAUTH2_GRANT] = "oauth2-grant",
	[K_OAUTH2_DEVICE_URL] = "oauth2-device-url", [K_OAUTH2_TOKEN_URL] = "oauth2-token-url",
	[K_OAUTH2_STATE] = "oauth2-state",
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* --- layers ------------------------------------------------------------------------------- */

void config_layer_free(struct layer *l)
{
	if (l->logfile_open)
		close(l->logfile_fd);
	free(l->name);
	for (int k = 0; k < K_COUNT; k++)
		wipe_free(l->str[k]);
	strlist_free(&l->relay);
	strlist_free(&l->local_domains);
	free(l->from_key);
	memset(l, 0, sizeof *l);
}

static struct layer *account_layer(struct config_state *st, const char *name)
{
	for (size_t i = 0; i < st->nacct; i++)
		if (strcmp(st->acct[i].name, name) == 0)
			return &st->acct[i];
	st->acct = xreallocarray(st->acct, st->nacct + 1, sizeof *st->acct);
	struct layer *l = &st->acct[st->nacct++];
	memset(l, 0, sizeof *l);
	l->name = xstrdup(name);
	return l;
}

static void set_str(struct layer *l, enum key k, char *owned)
{
	wipe_free(l->str[k]);
	l->str[k] = owned;
}

static void mark(struct layer *l, enum key k, const struct origin *at)
{
	l->set[k] = true;
	l->at[k] = *at;
}

static int apply_relay(struct layer *l, const struct origin *at, const char *value,
		       struct diag *d)
{
	const char *h, *e;
	if (!config_relay_url_ok(value, &h, &e))
		return config_bad_value(d, at, "relay", value,
					"is not smtp://host[:port] or smtps://host[:port]");
	/* Lines of one file and section add up to a failover list; a later file starts over. */
	if (!l->set[K_RELAY] || l->at[K_RELAY].pass != at->pass)
		strlist_free(&l->relay);
	strlist_add(&l->relay, value);
	return EX_OK;
}

static int apply_local_domains(struct layer *l, const struct origin *at, const char *value,
			       struct diag *d)
{
	struct strlist list = {0};
	const char *p = value;
	while (*p) {
		size_t n = strcspn(p, ", \t");
		if (n > 0) {
			if (!config_domain_ok(p, n)) {
				strlist_free(&list);
				if (at->hidden)
					return config_bad_value(
						d, at, "local-domains", value,
						"holds a name that is not a domain name");
				return config_bad(d, at,
						  "local-domains: '%.*s' is not a domain name",
						  (int)n, p);
			}
			char *one = xstrndup(p, n);
			strlist_add(&list, one);
			free(one);
		}
		p += n;
		p += strspn(p, ", \t");
	}
	if (list.n == 0)
		return config_bad(d, at, "local-domains needs at least one domain");
	strlist_free(&l->local_domains);
	l->local_domains = list;
	return EX_OK;
}

static int apply_from(struct layer *l, const struct origin *at, const char *value,
		      struct diag *d)
{
	struct mailbox mb;
	struct diag why = {0};
	if (addr_parse_one(value, &mb, &why) != EX_OK) {
		if (at->hidden)
			return config_bad_value(d, at, "from", value, "is not an address");
		return config_bad(d, at, "from '%s': %s", value, why.msg);
	}
	if (*mb.addr == '\0') {
		mailbox_clear(&mb);
		return config_bad_value(d, at, "from", value, "is the null address");
	}
	free(l->from_key);
	l->from_key = addr_dedup_key(mb.addr);
	mailbox_clear(&mb);
	set_str(l, K_FROM, xstrdup(value));
	return EX_OK;
}

/* The two ways to give a secret are one setting: the later replaces the earlier, but one file
 * section giving both is a mistake worth reporting. */
static int apply_secret(struct layer *l, enum key k, const struct origin *at, const char *value,
			struct diag *d)
{
	enum key other = k == K_PASSWORD ? K_PASSWORD_COMMAND
			 : k == K_PASSWORD_COMMAND ? K_PASSWORD
			 : k == K_OAUTH2_CLIENT_SECRET ? K_OAUTH2_CLIENT_SECRET_COMMAND
						       : K_OAUTH2_CLIENT_SECRET;
	if (l->set[other] && l->at[other].pass == at->pass)
		return config_bad(d, at, "%s and %s (line %zu) both given; keep one",
				  config_key_names[k], config_key_names[other], l->at[other].line);
	if (k == K_PASSWORD_COMMAND || k == K_OAUTH2_CLIENT_SECRET_COMMAND) {
		struct strlist argv = {0};
		struct diag why = {0};
		int rc = config_split_command(value, &argv, &why);
		strlist_free(&argv);
		if (rc != EX_OK && at->hidden)
			return config_bad_value(d, at, config_key_names[k], value,
						"is not a command line (quoting or shell syntax)");
		if (rc != EX_OK)
			return config_bad(d, at, "%s: %s", config_key_names[k], why.msg);
	}
	l->set[other] = false;
	set_str(l, other, NULL);
	set_str(l, k, xstrdup(value));
	return EX_OK;
}


static int apply_key(struct config_state *st, struct layer *l, const struct origin *at,
		     const char *key, const char *value, struct diag *d)
{
	int k = 0;
	while (k < K_COUNT && strcmp(key, config_key_names[k]) != 0)
		k++;
	if (k == K_COUNT) {
		/* a stray secret on a line of its own is not a key to show */
		if (at->hidden)
			return config_bad(d, at, "unknown key (not shown)");
		/* a file of garbage must not put escape sequences on the terminal */
		struct buf shown = {0};
		buf_put_escaped(&shown, key);
		int rc = config_bad(d, at, "unknown key '%.200s'", shown.data);
		buf_free(&shown);
		return rc;
	}
	if (*value == '\0')
		return config_bad(d, at, "%s needs a value", key);
	/* mailq and postie -q list and deliver one queue, whatever account an entry names */
	if (k == K_QUEUE && l->name)
		return config_bad(d, at, "queue is one directory for every account: set it outside "
				  "account sections (account '%s')", l->name);
	/* A password may hold any byte a line can; a message never shows it. */
	if (k != K_PASSWORD && k != K_OAUTH2_CLIENT_SECRET && config_has_control(value))
		return config_bad(d, at, "%s holds a control character", key);

	int rc = EX_OK;
	char *path = NULL;
	switch ((enum key)k) {
	case K_RELAY:
		rc = apply_relay(l, at, value, d);
		break;
	case K_TLS:
		if (strcmp(value, "required") == 0)
			l->num[k] = TLS_REQUIRED;
		else if (strcmp(value, "opportunistic") == 0)
			l->num[k] = TLS_OPPORTUNISTIC;
		else if (strcmp(value, "off") == 0)
			l->num[k] = TLS_OFF;
		else
			rc = config_bad_value(d, at, key, value,
					      "is not required, opportunistic or off");
		break;
	case K_DELIVERY:
		if (strcmp(value, "now") == 0)
			l->num[k] = DELIVERY_NOW;
		else if (strcmp(value, "queue") == 0)
			l->num[k] = DELIVERY_QUEUE;
		else
			rc = config_bad_value(d, at, key, value, "is not now or queue");
		break;
	case K_TLS_VERIFY:
	case K_OAUTH2:
	case K_REWRITE_HEADERS:
	case K_SYSLOG:
	case K_RECEIVED:
		rc = config_yes_no(at, key, value, &l->num[k], d);
		break;
	case K_TLS_CA_FILE:
	case K_TLS_CERT:
	case K_TLS_KEY:
	case K_ALIASES:
	case K_QUEUE:
	case K_LOGFILE:
		rc = config_path_value(at, key, value, &path, d);
		if (rc == EX_OK)
			set_str(l, k, path);
		break;
	case K_NETRC:
		if (strcmp(value, "no") == 0) {
			set_str(l, k, NULL);
		} else if (strcmp(value, "yes") != 0 && *value != '/' && *value != '~') {
			rc = config_bad_value(d, at, key, value, "is not yes, no or a path");
		} else {
			rc = config_path_value(at, key,
					       strcmp(value, "yes") == 0 ? "~/.netrc" : value,
					       &path, d);
			if (rc == EX_OK)
				set_str(l, k, path);
		}
		break;
	case K_USER:
		set_str(l, k, xstrdup(value));
		break;
	case K_PASSWORD:
		st->pass_has_password = true;
		rc = apply_secret(l, K_PASSWORD, at, value, d);
		break;
	case K_PASSWORD_COMMAND:
		rc = apply_secret(l, K_PASSWORD_COMMAND, at, value, d);
		break;
	case K_AUTH:
		if (ascii_casecmp(value, "auto") == 0) {
			set_str(l, k, NULL);
		} else if (config_sasl_mech_ok(value)) {
			char *mech = xstrdup(value);
			for (char *q = mech; *q; q++)
				if (*q >= 'a' && *q <= 'z')
					*q = (char)(*q - 'a' + 'A');
			set_str(l, k, mech);
		} else {
			rc = config_bad_value(d, at, key, value,
					      "is not auto or a SASL mechanism name");
		}
		break;
	case K_FROM:
		rc = apply_from(l, at, value, d);
		break;
	case K_DOMAIN:
		if (!config_domain_ok(value, strlen(value)))
			rc = config_bad_value(d, at, key, value, "is not a domain name");
		else
			set_str(l, k, xstrdup(value));
		break;
	case K_LOCAL_DOMAINS:
		rc = apply_local_domains(l, at, value, d);
		break;
	case K_MAX_RECIPIENTS:
		if (!config_bounded_number(value, 1000000, &l->num[k]))
			rc = config_bad_value(d, at, key, value, "is not a number (1-1000000)");
		break;
	case K_TIMEOUT:
		if (!config_bounded_number(value, 86400, &l->num[k]))
			rc = config_bad_value(d, at, key, value,
					      "is not a number of seconds (1-86400)");
		break;
	case K_QUEUE_LIFETIME:
		if (!config_duration(value, &l->num[k]))
			rc = config_bad_value(d, at, key, value, "is not a duration like 5d, 12h, "
					      "30m, 90s or seconds (at most 366d)");
		break;
	case K_OAUTH2_PROVIDER:
		if (strcmp(value, "google") != 0 && strcmp(value, "microsoft") != 0 &&
		    strcmp(value, "custom") != 0)
			rc = config_bad_value(d, at, key, value, "is not google, microsoft or custom");
		else
			set_str(l, k, xstrdup(value));
		break;
	case K_OAUTH2_GRANT:
		if (strcmp(value, "device") == 0)
			l->num[k] = OAUTH2_GRANT_DEVICE;
		else if (strcmp(value, "client-credentials") == 0)
			l->num[k] = OAUTH2_GRANT_CLIENT_CREDENTIALS;
		else
			rc = config_bad_value(d, at, key, value, "is not device or client-credentials");
		break;
	case K_OAUTH2_DEVICE_URL:
	case K_OAUTH2_TOKEN_URL:
		/* the client secret and the tokens cross it: never without TLS */
		if (ascii_ncasecmp(value, "https://", 8) != 0 || value[8] == '\0' ||
		    strpbrk(value, " \t"))
			rc = config_bad_value(d, at, key, value, "is not an https:// URL");
		else
			set_str(l, k, xstrdup(value));
		break;
	case K_OAUTH2_CLIENT_ID:
	case K_OAUTH2_SCOPE:
		set_str(l, k, xstrdup(value));
		break;
	case K_OAUTH2_CLIENT_SECRET:
	case K_OAUTH2_CLIENT_SECRET_COMMAND:
		rc = apply_secret(l, (enum key)k, at, value, d);
		break;
	case K_OAUTH2_STATE:
		rc = config_path_value(at, key, value, &path, d);
		if (rc == EX_OK)
			set_str(l, k, path);
		break;
	case K_COUNT:
		break;
	}
	if (rc == EX_OK)
		mark(l, (enum key)k, at);
	return rc;
}

/* --- one file's text ------------------------------------------------------------------------ */

/* Splits one line into key and value in place. The value is the rest of the line, trimmed; in
 * double quotes it keeps spaces and '#', with \" and \\ as escapes. Returns NULL on success or
 * what is wrong. */
static const char *split_line(char *line, char **key, char **value)
{
	char *p = line;
	while (is_space(*p))
		p++;
	*key = p;
	while (*p && !is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (is_space(*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && is_space(end[-1]))
		*--end = '\0';
	if (*p != '"') {
		*value = p;
		return NULL;
	}
	char *out = p, *in = p + 1;
	*value = p;
	for (;; in++) {
		if (*in == '\0')
			return "unterminated quoted value";
		if (*in == '"')
			break;
		if (*in == '\\') {
			in++;
			if (*in != '"' && *in != '\\')
				return "only \\\" and \\\\ are escapes in a quoted value";
		}
		*out++ = *in;
	}
	if (in[1] != '\0')
		return "text after the closing quote";
	*out = '\0';
	return NULL;
}

/* config_parse, for a text that comes from the system file (system) and that the real user
 * may not be able to read (hidden). */
int config_parse_text(struct config *c, const char *name, const char *text, size_t len,
		      bool system, bool hidden, struct diag *d)
{
	if (!c->st)
		c->st = xcalloc(1, sizeof *c->st);
	struct config_state *st = c->st;
	st->finished = false;
	st->pass++;
	st->pass_has_password = false;
	strlist_add(&c->files, name);
	struct origin at = { c->files.v[c->files.n - 1], 0, st->pass, system, hidden };
	struct layer *section = &st->top;

	const char *p = text, *end = text + len;
	int rc = EX_OK;
	while (p < end && rc == EX_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		at.line++;
		if (memchr(p, '\0', (size_t)(eol - p)))
			return config_bad(d, &at, "NUL byte in line");
		size_t n = (size_t)(eol - p);
		char *line = xstrndup(p, n);
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		char *key, *value;
		const char *why = split_line(line, &key, &value);
		if (why) {
			rc = config_bad(d, &at, "%s", why);
		} else if (*key == '\0' || *key == '#') {
			/* blank or comment */
		} else if (strcmp(key, "account") == 0) {
			if (*value == '\0')
				rc = config_bad(d, &at, "account needs a name");
			else if (!config_account_name_ok(value))
				rc = config_bad_value(d, &at, "account", value,
						      "is not a name of letters, digits and -_.@+");
			else
				section = account_layer(st, value);
		} else {
			rc = apply_key(st, section, &at, key, value, d);
		}
		explicit_bzero(line, n);
		free(line);
		p = nl ? nl + 1 : end;
	}
	return rc;
}

int config_parse(struct config *c, const char *name, const char *text, size_t len, struct diag *d)
{
	return config_parse_text(c, name, text, len, false, false, d);
}

int config_parse_system(struct config *c, const char *name, const char *text, size_t len,
			bool hidden, struct diag *d)
{
	return config_parse_text(c, name, text, len, true, hidden, d);
}
