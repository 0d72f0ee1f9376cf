/* config.c: reads the configuration files (see config.h): `key value` lines, `#` comments,
 * `account NAME` sections, layered system -> user, and runs password-command. It never prints,
 * never echoes a password (or any value of a file the user cannot read) in a message, never
 * reads a user-controlled file with privilege, and never lets a system credential follow
 * connection settings that a user chose (keep_system_secrets_home). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "secret.h"
#include "trust.h"
#include "user.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_BYTES (1024 * 1024)
#ifdef POSTIE_GROUP
#define SECRET_GROUP POSTIE_GROUP	/* ./configure --with-setgid-group */
#else
#define SECRET_GROUP "postie"
#endif

enum key {
	K_RELAY, K_TLS, K_TLS_VERIFY, K_TLS_CA_FILE, K_TLS_CERT, K_TLS_KEY, K_USER, K_PASSWORD,
	K_PASSWORD_COMMAND, K_NETRC, K_AUTH, K_OAUTH2, K_FROM, K_DOMAIN, K_ALIASES,
	K_LOCAL_DOMAINS, K_REWRITE_HEADERS, K_TIMEOUT, K_QUEUE, K_QUEUE_LIFETIME, K_DELIVERY,
	K_SYSLOG, K_LOGFILE, K_MAX_RECIPIENTS, K_RECEIVED, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	[K_RELAY] = "relay", [K_TLS] = "tls", [K_TLS_VERIFY] = "tls-verify",
	[K_TLS_CA_FILE] = "tls-ca-file", [K_TLS_CERT] = "tls-cert", [K_TLS_KEY] = "tls-key",
	[K_USER] = "user", [K_PASSWORD] = "password", [K_PASSWORD_COMMAND] = "password-command",
	[K_NETRC] = "netrc", [K_AUTH] = "auth", [K_OAUTH2] = "oauth2", [K_FROM] = "from",
	[K_DOMAIN] = "domain", [K_ALIASES] = "aliases", [K_LOCAL_DOMAINS] = "local-domains",
	[K_REWRITE_HEADERS] = "rewrite-headers", [K_TIMEOUT] = "timeout", [K_QUEUE] = "queue",
	[K_QUEUE_LIFETIME] = "queue-lifetime", [K_DELIVERY] = "delivery", [K_SYSLOG] = "syslog",
	[K_LOGFILE] = "logfile", [K_MAX_RECIPIENTS] = "max-recipients", [K_RECEIVED] = "received",
};

/* Where a key got its value: the file (a string owned by config.files), the line, which
 * config_parse call (pass) it was, so that a relay list knows when to start over, whether that
 * file is the system's (its secrets may go only where it says), and whether the real user may
 * read it (when not, no message quotes a value from it). */
struct origin {
	const char *file;
	size_t line;
	size_t pass;
	bool system;
	bool hidden;
};

/* The keys one section (top level or one account) sets, merged over every file. */
struct layer {
	char *name;			/* account name; NULL for the top level */
	bool set[K_COUNT];
	struct origin at[K_COUNT];
	char *str[K_COUNT];		/* string-valued keys (NULL for auth auto and netrc no) */
	long num[K_COUNT];		/* bools, enums and numbers */
	struct strlist relay;
	struct strlist local_domains;
	char *from_key;			/* addr_dedup_key of from's addr-spec */
	bool logfile_open;		/* logfile_fd is the system file's logfile, opened before */
	int logfile_fd;			/* the group privilege was given up */
};

struct config_state {
	struct layer top;
	struct layer *acct;
	size_t nacct;
	struct account *eff;		/* [0] the top level, [1 + i] acct[i] */
	char **notes;			/* eff[i].secrets_note, owned here */
	size_t nnotes;
	bool finished;
	size_t pass;
	bool pass_has_password;		/* the current config_parse set `password` */
};

static const char *const default_relay[] = { CONFIG_DEFAULT_RELAY };
static const char *const default_local_domains[] = { "localhost" };

/* --- small helpers ------------------------------------------------------------------------ */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int bad(struct diag *d, const struct origin *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "file:line: " + the message, EX_CONFIG. */
static int bad(struct diag *d, const struct origin *at, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return diag_set(d, EX_CONFIG, "%s:%zu: %s", at->file, at->line, what);
}

/* "file:line: KEY 'VALUE' WHAT", EX_CONFIG; from a file the real user cannot read, the value is
 * left out, so that a protected file cannot be read back through its error messages. */
static int bad_value(struct diag *d, const struct origin *at, const char *key, const char *value,
		     const char *what)
{
	if (at->hidden)
		return bad(d, at, "%s %s (the value is not shown)", key, what);
	return bad(d, at, "%s '%.200s' %s", key, value, what);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

/* An absolute path, or ~/path (~ alone too) with the home directory put in. */
static int path_value(const struct origin *at, const char *key, const char *value, char **out,
		      struct diag *d)
{
	if (*value == '/') {
		*out = xstrdup(value);
		return EX_OK;
	}
	if (value[0] == '~' && (value[1] == '/' || value[1] == '\0')) {
		char *home = user_home_dir();
		if (!home)
			return bad_value(d, at, key, value, "has no home directory to put in for ~");
		*out = xasprintf("%s%s", home, value + 1);
		free(home);
		return EX_OK;
	}
	return bad_value(d, at, key, value, "is not an absolute path or ~/path");
}

static int yes_no(const struct origin *at, const char *key, const char *value, long *out,
		  struct diag *d)
{
	if (strcmp(value, "yes") == 0)
		*out = 1;
	else if (strcmp(value, "no") == 0)
		*out = 0;
	else
		return bad_value(d, at, key, value, "is not yes or no");
	return EX_OK;
}

/* smtp://host[:port] or smtps://host[:port], host a name, an IPv4 address or [IPv6]. On
 * success [*host, *host_end) is the host (without brackets). */
static bool relay_url_ok(const char *url, const char **host, const char **host_end)
{
	const char *p;
	if (strncmp(url, "smtp://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "smtps://", 8) == 0)
		p = url + 8;
	else
		return false;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close || close == p + 1)
			return false;
		for (const char *q = p + 1; q < close; q++)
			if (!(*q == ':' || *q == '.' || (*q >= '0' && *q <= '9') ||
			      (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F')))
				return false;
		*host = p + 1;
		*host_end = close;
		p = close + 1;
	} else {
		*host = p;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_')
			p++;
		if (p == *host)
			return false;
		*host_end = p;
	}
	if (*p == ':') {
		p++;
		long port = 0;
		const char *digits = p;
		while (*p >= '0' && *p <= '9' && port <= 65535)
			port = port * 10 + (*p++ - '0');
		if (p == digits || port < 1 || port > 65535)
			return false;
	}
	if (*p == '/')
		p++;
	return *p == '\0';
}

/* The host is parsed out of the URL (relay_url_ok: scheme, host, port; no user@), then compared
 * whole: a prefix ("127.", "localhost") would let 127.example.net or localhost2.localhost in. */
bool config_relay_is_loopback(const char *url)
{
	const char *h, *e;
	if (!relay_url_ok(url, &h, &e))
		return false;
	char host[256];
	size_t n = (size_t)(e - h);
	if (n >= sizeof host)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	if (ascii_casecmp(host, "localhost") == 0 || ascii_casecmp(host, "localhost.") == 0)
		return true;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* A domain for EHLO, Message-ID and qualification: labels of letters, digits and hyphens. */
static bool domain_ok(const char *s, size_t len)
{
	size_t label = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* RFC 4422 3.1: 1-20 of upper-case letters, digits, '-' and '_' (any case accepted here). */
static bool sasl_mech_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n >= 1 && n <= 20;
}

static bool account_name_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '@' || c == '+'))
			return false;
	}
	return n >= 1 && n <= 64;
}

bool config_duration(const char *text, long *seconds)
{
	const char *p = text;
	long n = 0;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n > 366L * 86400)
			return false;
	}
	long unit = 1;
	switch (*p) {
	case '\0': break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	default: return false;
	}
	if (*p != '\0' || n < 1 || n > 366L * 86400 / unit)
		return false;
	*seconds = n * unit;
	return true;
}

/* --- password-command words ----------------------------------------------------------------- */

int config_split_command(const char *cmd, struct strlist *argv, struct diag *d)
{
	struct buf word = {0};
	bool in_word = false;
	int rc = EX_OK;
	const char *p = cmd;
	size_t before = argv->n;
	for (;;) {
		char c = *p;
		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (in_word)
				strlist_add(argv, word.data ? word.data : "");
			buf_reset(&word);
			in_word = false;
			if (c == '\0')
				break;
			p++;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *close = strchr(p + 1, '\'');
			if (!close) {
				rc = diag_set(d, EX_CONFIG, "unterminated single quote");
				goto out;
			}
			buf_append(&word, p + 1, (size_t)(close - p - 1));
			p = close + 1;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0') {
					rc = diag_set(d, EX_CONFIG, "unterminated double quote");
					goto out;
				}
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' ||
						   p[1] == '`'))
					p++;
				buf_putc(&word, *p);
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0') {
				rc = diag_set(d, EX_CONFIG, "a backslash at the end");
				goto out;
			}
			buf_putc(&word, p[1]);
			p += 2;
		} else if (strchr("|;&<>()`", c)) {
			rc = diag_set(d, EX_CONFIG,
				      "unquoted '%c': the command runs without a shell (quote it, or "
				      "run sh -c '...')", c);
			goto out;
		} else {
			buf_putc(&word, c);
			p++;
		}
	}
	if (argv->n == before)
		rc = diag_set(d, EX_CONFIG, "no command");
out:
	while (rc != EX_OK && argv->n > before)
		free(argv->v[--argv->n]);
	if (word.data)
		explicit_bzero(word.data, word.cap);
	buf_free(&word);
	return rc;
}

/* --- layers ------------------------------------------------------------------------------- */

static void layer_free(struct layer *l)
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
	if (!relay_url_ok(value, &h, &e))
		return bad_value(d, at, "relay", value,
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
			if (!domain_ok(p, n)) {
				strlist_free(&list);
				if (at->hidden)
					return bad_value(d, at, "local-domains", value,
							 "holds a name that is not a domain name");
				return bad(d, at, "local-domains: '%.*s' is not a domain name",
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
		return bad(d, at, "local-domains needs at least one domain");
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
			return bad_value(d, at, "from", value, "is not an address");
		return bad(d, at, "from '%s': %s", value, why.msg);
	}
	if (*mb.addr == '\0') {
		mailbox_clear(&mb);
		return bad_value(d, at, "from", value, "is the null address");
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
	enum key other = k == K_PASSWORD ? K_PASSWORD_COMMAND : K_PASSWORD;
	if (l->set[other] && l->at[other].pass == at->pass)
		return bad(d, at, "%s and %s (line %zu) both given; keep one", key_names[k],
			   key_names[other], l->at[other].line);
	if (k == K_PASSWORD_COMMAND) {
		struct strlist argv = {0};
		struct diag why = {0};
		int rc = config_split_command(value, &argv, &why);
		strlist_free(&argv);
		if (rc != EX_OK && at->hidden)
			return bad_value(d, at, "password-command", value,
					 "is not a command line (quoting or shell syntax)");
		if (rc != EX_OK)
			return bad(d, at, "password-command: %s", why.msg);
	}
	l->set[other] = false;
	set_str(l, other, NULL);
	set_str(l, k, xstrdup(value));
	return EX_OK;
}

/* Decimal digits only, from 1 to max; sets *out (untouched on failure). */
static bool bounded_number(const char *text, long max, long *out)
{
	long n = 0;
	for (const char *q = text; *q; q++) {
		if (*q < '0' || *q > '9' || n > max)
			return false;
		n = n * 10 + (*q - '0');
	}
	if (n < 1 || n > max)
		return false;
	*out = n;
	return true;
}

static int apply_key(struct config_state *st, struct layer *l, const struct origin *at,
		     const char *key, const char *value, struct diag *d)
{
	int k = 0;
	while (k < K_COUNT && strcmp(key, key_names[k]) != 0)
		k++;
	if (k == K_COUNT) {
		/* a stray secret on a line of its own is not a key to show */
		if (at->hidden)
			return bad(d, at, "unknown key (not shown)");
		/* a file of garbage must not put escape sequences on the terminal */
		struct buf shown = {0};
		buf_put_escaped(&shown, key);
		int rc = bad(d, at, "unknown key '%.200s'", shown.data);
		buf_free(&shown);
		return rc;
	}
	if (*value == '\0')
		return bad(d, at, "%s needs a value", key);
	/* mailq and postie -q list and deliver one queue, whatever account an entry names */
	if (k == K_QUEUE && l->name)
		return bad(d, at, "queue is one directory for every account: set it outside account "
			   "sections (account '%s')", l->name);
	/* A password may hold any byte a line can; a message never shows it. */
	if (k != K_PASSWORD && has_control(value))
		return bad(d, at, "%s holds a control character", key);

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
			rc = bad_value(d, at, key, value, "is not required, opportunistic or off");
		break;
	case K_DELIVERY:
		if (strcmp(value, "now") == 0)
			l->num[k] = DELIVERY_NOW;
		else if (strcmp(value, "queue") == 0)
			l->num[k] = DELIVERY_QUEUE;
		else
			rc = bad_value(d, at, key, value, "is not now or queue");
		break;
	case K_TLS_VERIFY:
	case K_OAUTH2:
	case K_REWRITE_HEADERS:
	case K_SYSLOG:
	case K_RECEIVED:
		rc = yes_no(at, key, value, &l->num[k], d);
		break;
	case K_TLS_CA_FILE:
	case K_TLS_CERT:
	case K_TLS_KEY:
	case K_ALIASES:
	case K_QUEUE:
	case K_LOGFILE:
		rc = path_value(at, key, value, &path, d);
		if (rc == EX_OK)
			set_str(l, k, path);
		break;
	case K_NETRC:
		if (strcmp(value, "no") == 0) {
			set_str(l, k, NULL);
		} else if (strcmp(value, "yes") != 0 && *value != '/' && *value != '~') {
			rc = bad_value(d, at, key, value, "is not yes, no or a path");
		} else {
			rc = path_value(at, key, strcmp(value, "yes") == 0 ? "~/.netrc" : value,
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
		} else if (sasl_mech_ok(value)) {
			char *mech = xstrdup(value);
			for (char *q = mech; *q; q++)
				if (*q >= 'a' && *q <= 'z')
					*q = (char)(*q - 'a' + 'A');
			set_str(l, k, mech);
		} else {
			rc = bad_value(d, at, key, value, "is not auto or a SASL mechanism name");
		}
		break;
	case K_FROM:
		rc = apply_from(l, at, value, d);
		break;
	case K_DOMAIN:
		if (!domain_ok(value, strlen(value)))
			rc = bad_value(d, at, key, value, "is not a domain name");
		else
			set_str(l, k, xstrdup(value));
		break;
	case K_LOCAL_DOMAINS:
		rc = apply_local_domains(l, at, value, d);
		break;
	case K_MAX_RECIPIENTS:
		if (!bounded_number(value, 1000000, &l->num[k]))
			rc = bad_value(d, at, key, value, "is not a number (1-1000000)");
		break;
	case K_TIMEOUT:
		if (!bounded_number(value, 86400, &l->num[k]))
			rc = bad_value(d, at, key, value, "is not a number of seconds (1-86400)");
		break;
	case K_QUEUE_LIFETIME:
		if (!config_duration(value, &l->num[k]))
			rc = bad_value(d, at, key, value, "is not a duration like 5d, 12h, 30m, 90s "
				       "or seconds (at most 366d)");
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
static int parse_text(struct config *c, const char *name, const char *text, size_t len,
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
			return bad(d, &at, "NUL byte in line");
		size_t n = (size_t)(eol - p);
		char *line = xstrndup(p, n);
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		char *key, *value;
		const char *why = split_line(line, &key, &value);
		if (why) {
			rc = bad(d, &at, "%s", why);
		} else if (*key == '\0' || *key == '#') {
			/* blank or comment */
		} else if (strcmp(key, "account") == 0) {
			if (*value == '\0')
				rc = bad(d, &at, "account needs a name");
			else if (!account_name_ok(value))
				rc = bad_value(d, &at, "account", value, "is not a name of letters, "
					       "digits and -_.@+");
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
	return parse_text(c, name, text, len, false, false, d);
}

int config_parse_system(struct config *c, const char *name, const char *text, size_t len,
			bool hidden, struct diag *d)
{
	return parse_text(c, name, text, len, true, hidden, d);
}

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
			  acct ? "'" : "", key_names[moved], at->file, at->line);
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
#undef STR
#undef NUM
	keep_system_secrets_home(top, acct, secret, a, note);

	char in[128] = "";
	if (acct)
		snprintf(in, sizeof in, " (account '%s')", acct->name);
	if (a->tls == TLS_OFF && implicit_tls)
		return bad(d, &from_layer(top, acct, K_TLS)->at[K_TLS],
			   "tls off contradicts an smtps:// relay, which is always TLS%s", in);
	if (a->tls == TLS_OFF && !loopback &&
	    (a->user || a->password || a->password_command || a->netrc))
		return bad(d, &from_layer(top, acct, K_TLS)->at[K_TLS],
			   "tls off with a login would send the password in clear text; allowed "
			   "only when every relay is loopback%s", in);
	if (a->oauth2 && a->auth && strcmp(a->auth, "XOAUTH2") != 0 &&
	    strcmp(a->auth, "OAUTHBEARER") != 0)
		return bad(d, &from_layer(top, acct, K_OAUTH2)->at[K_OAUTH2],
			   "oauth2 yes needs auth auto, XOAUTH2 or OAUTHBEARER, not %s%s",
			   from_layer(top, acct, K_AUTH)->at[K_AUTH].hidden ? "the one set" : a->auth,
			   in);
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

void config_account_names(const struct config *c, struct strlist *out)
{
	if (!c->st)
		return;
	for (size_t i = 0; i < c->st->nacct; i++)
		strlist_add(out, c->st->acct[i].name);
}

/* --- files ------------------------------------------------------------------------------------ */

/* Reads a whole config file (bounded) and its status from the open descriptor.
 * Returns EX_OK, EX_CONFIG, or -1 when it does not exist. */
static int read_file(const char *path, struct buf *out, struct stat *st, struct diag *d)
{
	return read_small_file(path, CONFIG_MAX_BYTES, true, out, st, d);
}

/* A file that holds a password is readable by its owner only; the system file also by the
 * group postie, which a setgid postie runs with. */
static int check_secret_mode(const char *path, const struct stat *st, bool system,
			     struct diag *d)
{
	if (!(st->st_mode & (S_IRGRP | S_IROTH)))
		return EX_OK;
	struct group *g = system ? getgrnam(SECRET_GROUP) : NULL;
	if (g && !(st->st_mode & S_IROTH) && st->st_gid == g->gr_gid)
		return EX_OK;
	if (g)
		return diag_set(d, EX_CONFIG,
				"%s: holds a password and can be read by others than its owner and "
				"the group " SECRET_GROUP " (chmod 640 %s; chgrp " SECRET_GROUP " %s)",
				path, path, path);
	return diag_set(d, EX_CONFIG,
			"%s: holds a password and can be read by others than its owner (chmod 600 %s)",
			path, path);
}

/* Reads path over c. Returns EX_OK, an error, or -1 when the file does not exist. A file read
 * with a privilege (root, or the setgid group) must be root's all the way up (trust.h): were a
 * user's own file or directory accepted, a link of theirs could have the privilege read a file
 * meant for the group. */
static int load_file(struct config *c, const char *path, bool system, struct diag *d)
{
	struct buf text = {0};
	struct stat st;
	int rc = read_file(path, &text, &st, d);
	struct diag why = {0};
	/* checked once the file is known to be a regular one, and before a line of it is parsed */
	if (rc == EX_OK && (geteuid() == 0 || getegid() != getgid()) &&
	    path_check_trusted(path, 0, &why) == EX_NOPERM)
		rc = diag_set(d, EX_CONFIG, "%s: %s", path, why.msg);
	if (rc == EX_OK) {
		/* access(2) asks about the real user: with a setgid privilege, what the user alone
		 * could read */
		bool hidden = system && access(path, R_OK) != 0;
		rc = parse_text(c, path, text.data ? text.data : "", text.len, system, hidden, d);
		if (rc == EX_OK && c->st->pass_has_password)
			rc = check_secret_mode(path, &st, system, d);
	}
	if (text.data)
		explicit_bzero(text.data, text.cap);
	buf_free(&text);
	return rc;
}

int config_parse_file(struct config *c, const char *path, bool system, struct diag *d)
{
	int rc = load_file(c, path, system, d);
	return rc == -1 ? diag_set(d, EX_CONFIG, "%s: no such file", path) : rc;
}

/* Opens the logfile the system file gives l, while the process may still hold the group that
 * a root:postie 0660 log needs. Only root creates it; a failure is left for the caller's own
 * open, which then reports it. */
static void open_system_logfile(struct layer *l)
{
	if (!l->set[K_LOGFILE] || !l->at[K_LOGFILE].system || !l->str[K_LOGFILE])
		return;
	int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	if (geteuid() == 0)
		flags |= O_CREAT;
	int fd = open(l->str[K_LOGFILE], flags, 0640);
	struct stat st;
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	l->logfile_fd = fd;
	l->logfile_open = true;
}

int config_load_system(struct config *c, struct diag *d)
{
	memset(c, 0, sizeof *c);
	c->st = xcalloc(1, sizeof *c->st);
	int rc = load_file(c, SYSCONFDIR "/postie.conf", true, d);
	if (rc != EX_OK && rc != -1)
		return rc;
	open_system_logfile(&c->st->top);
	for (size_t i = 0; i < c->st->nacct; i++)
		open_system_logfile(&c->st->acct[i]);
	return EX_OK;
}

bool config_system_unreadable(void)
{
	int fd = open(SYSCONFDIR "/postie.conf", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == EACCES;
}

bool config_has_user_file(const struct config *c)
{
	for (size_t i = 0; i < c->files.n; i++)
		if (strcmp(c->files.v[i], SYSCONFDIR "/postie.conf") != 0)
			return true;
	return false;
}

int config_drop_privileges(struct diag *d)
{
	gid_t rgid, egid, sgid;
	if (getresgid(&rgid, &egid, &sgid) < 0)
		return diag_set(d, EX_OSERR, "getresgid: %s", strerror(errno));
	if (egid == rgid && sgid == rgid)
		return EX_OK;
	if (setresgid(rgid, rgid, rgid) < 0)
		return diag_set(d, EX_OSERR, "cannot give up group %lu: %s", (unsigned long)egid,
				strerror(errno));
	gid_t r2, e2, s2;
	if (getresgid(&r2, &e2, &s2) < 0 || r2 != rgid || e2 != rgid || s2 != rgid ||
	    getegid() != getgid())
		return diag_set(d, EX_OSERR, "group %lu is still held", (unsigned long)egid);
	/* Root may change groups at will; anyone else must not get the group back. */
	if (geteuid() != 0 && setegid(egid) == 0)
		return diag_set(d, EX_OSERR, "group %lu could be regained", (unsigned long)egid);
	return EX_OK;
}

static char *user_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/postie/config", xdg);
	char *home = user_home_dir();
	char *path = home ? xasprintf("%s/.config/postie/config", home) : NULL;
	free(home);
	return path;
}

int config_load_user(struct config *c, const char *cli_path, struct diag *d)
{
	if (getegid() != getgid())
		return diag_set(d, EX_SOFTWARE, "user configuration read with a group privilege");
	if (!c->st)
		c->st = xcalloc(1, sizeof *c->st);
	const char *env = getenv("POSTIE_CONFIG");
	if (cli_path)
		return config_parse_file(c, cli_path, false, d);
	if (env && *env)
		return config_parse_file(c, env, false, d);
	char *path = user_config_path();
	int rc = path ? load_file(c, path, false, d) : EX_OK;
	free(path);
	return rc == -1 ? EX_OK : rc;
}

int config_load(struct config *c, const char *cli_path, struct diag *d)
{
	int rc = config_load_system(c, d);
	if (rc == EX_OK)
		rc = config_drop_privileges(d);
	if (rc == EX_OK)
		rc = config_load_user(c, cli_path, d);
	if (rc == EX_OK)
		rc = config_finish(c, d);
	return rc;
}

void config_free(struct config *c)
{
	struct config_state *st = c->st;
	if (st) {
		layer_free(&st->top);
		for (size_t i = 0; i < st->nacct; i++)
			layer_free(&st->acct[i]);
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
	if (getegid() != getgid())
		return diag_set(d, EX_SOFTWARE, "password-command run with a group privilege");
	struct strlist args = {0};
	struct diag split = {0};
	int rc = config_split_command(a->password_command, &args, &split);
	if (rc != EX_OK)
		return diag_set(d, EX_CONFIG, "password-command: %s", split.msg);
	/* a strlist is not NULL-terminated; an argv must be */
	char **argv = xcalloc(args.n + 1, sizeof *argv);
	for (size_t i = 0; i < args.n; i++)
		argv[i] = args.v[i];
	struct secret_command cmd = { argv, a->timeout, a->password_command_hidden };
	rc = secret_from_command(&cmd, out, d);
	free(argv);
	strlist_free(&args);
	return rc;
}

void config_secret_free(char *secret)
{
	wipe_free(secret);
}
