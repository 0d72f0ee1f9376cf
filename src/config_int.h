/* SPDX-License-Identifier: ISC */
/* config_int.h: what the config*.c files share: the key table, origins, layers, one-value checks.
 * Only config*.c include it; nothing in it is the module's interface (that is config.h). */
#ifndef POSTIE_CONFIG_INT_H
#define POSTIE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "util.h"

enum key {
	K_RELAY, K_TLS, K_TLS_VERIFY, K_TLS_CA_FILE, K_TLS_CERT, K_TLS_KEY, K_USER, K_PASSWORD,
	K_PASSWORD_COMMAND, K_NETRC, K_AUTH, K_OAUTH2, K_FROM, K_DOMAIN, K_ALIASES,
	K_LOCAL_DOMAINS, K_REWRITE_HEADERS, K_TIMEOUT, K_QUEUE, K_QUEUE_LIFETIME, K_DELIVERY,
	K_SYSLOG, K_LOGFILE, K_MAX_RECIPIENTS, K_RECEIVED,
	/* built-in OAuth2 (oauth2.h) */
	K_OAUTH2_PROVIDER, K_OAUTH2_CLIENT_ID, K_OAUTH2_CLIENT_SECRET, K_OAUTH2_CLIENT_SECRET_COMMAND,
	K_OAUTH2_SCOPE, K_OAUTH2_GRANT, K_OAUTH2_DEVICE_URL, K_OAUTH2_TOKEN_URL, K_OAUTH2_STATE,
	K_COUNT
};

/* The key names of postie.conf(5), indexed by enum key (config_parse.c). */
extern const char *const config_key_names[K_COUNT];

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

/* --- messages (config_value.c) ------------------------------------------------------------ */

/* "file:line: " + the printf-formatted message in d; returns EX_CONFIG. */
int config_bad(struct diag *d, const struct origin *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "file:line: KEY 'VALUE' WHAT" in d; returns EX_CONFIG. From a file the real user cannot read
 * (at->hidden) the value is left out, so that a protected file cannot be read back through its
 * error messages. */
int config_bad_value(struct diag *d, const struct origin *at, const char *key, const char *value,
		     const char *what);

/* --- one value (config_value.c): pure checks and conversions, no layer, no file ----------- */

/* True when s holds a control character other than TAB (DEL included). */
bool config_has_control(const char *s);

/* An absolute path, or ~/path (~ alone too) with user_home_dir put in: *out (the caller owns it).
 * Errors: EX_CONFIG through config_bad_value (not absolute, no home directory for ~). */
int config_path_value(const struct origin *at, const char *key, const char *value, char **out,
		      struct diag *d);

/* yes -> 1, no -> 0 in *out. Errors: EX_CONFIG through config_bad_value. */
int config_yes_no(const struct origin *at, const char *key, const char *value, long *out,
		  struct diag *d);

/* smtp://host[:port][/] or smtps://host[:port][/], host a name, an IPv4 address or [IPv6], port
 * 1-65535. On success [*host, *host_end) is the host (without brackets). */
bool config_relay_url_ok(const char *url, const char **host, const char **host_end);

/* A domain for EHLO, Message-ID and qualification: the len bytes at s are labels of letters,
 * digits and hyphens (1-63 each, 253 in all). */
bool config_domain_ok(const char *s, size_t len);

/* RFC 4422 3.1: 1-20 letters, digits, '-' and '_' (any case accepted here). */
bool config_sasl_mech_ok(const char *s);

/* An account name: 1-64 of letters, digits and -_.@+ */
bool config_account_name_ok(const char *s);

/* Decimal digits only, from 1 to max; sets *out (untouched on failure). */
bool config_bounded_number(const char *text, long max, long *out);

/* --- the text (config_parse.c) ------------------------------------------------------------ */

/* config_parse, for a text that comes from the system file (system) and that the real user may
 * not be able to read (hidden). Sets c->st->pass_has_password when this text sets `password`. */
int config_parse_text(struct config *c, const char *name, const char *text, size_t len,
		      bool system, bool hidden, struct diag *d);

/* Releases what l owns (string values wiped, the logfile closed) and zeroes it. */
void config_layer_free(struct layer *l);

#endif
