/* SPDX-License-Identifier: ISC */
/* config.h: the configuration files -> one read-only struct config, and the choice of the account
 * a message uses. Which files are read, in what order and with what privilege, and what a key
 * means, live here; nothing else parses configuration. It never opens network connections. */
#ifndef POSTIE_CONFIG_H
#define POSTIE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define CONFIG_DEFAULT_RELAY "smtp://localhost:25"
#define CONFIG_DEFAULT_TIMEOUT 60		/* seconds */
#define CONFIG_DEFAULT_QUEUE_LIFETIME (5L * 86400)
#define CONFIG_DEFAULT_MAX_RECIPIENTS 1000	/* RFC 5321 asks servers for at least 100 */

enum tls_mode {
	TLS_REQUIRED,		/* STARTTLS must succeed (smtp://), or implicit TLS (smtps://) */
	TLS_OPPORTUNISTIC,	/* STARTTLS when the server offers it */
	TLS_OFF,		/* never TLS; only with smtp:// */
};

enum oauth2_grant {
	OAUTH2_GRANT_DEVICE,		/* RFC 8628: a person enters a code elsewhere (--authorize) */
	OAUTH2_GRANT_CLIENT_CREDENTIALS, /* the application's own secret, no person */
};

enum delivery_mode {
	DELIVERY_NOW,		/* submit at once; a temporary failure is the caller's exit status */
	DELIVERY_QUEUE,		/* put into the queue for a later queue run */
};

/* The effective settings of one account (or of the top level): the defaults, overridden by the
 * top-level keys of every file (later files win key by key), overridden by the account's own
 * keys (merged over every file the same way). Every pointer is owned by the struct config it
 * came from and is valid until the next config_parse, config_finish or config_free on it. */
struct account {
	const char *name;		/* the account's name; NULL for the top-level settings */
	const char *const *relay;	/* URLs in failover order, at least one */
	size_t nrelay;
	bool loopback;			/* every relay is loopback (config_relay_is_loopback): only
					 * then may a password go without TLS */
	enum tls_mode tls;		/* default TLS_REQUIRED; TLS_OPPORTUNISTIC when tls is not set
					 * and every relay is loopback */
	bool tls_verify;		/* default true */
	const char *tls_ca_file;	/* paths with ~/ expanded, or NULL when unset */
	const char *tls_cert;
	const char *tls_key;
	const char *user;		/* SASL user name, or NULL */
	const char *password;		/* the secret as written, or NULL; see config_password */
	const char *password_command;	/* the command line as written, or NULL */
	const char *netrc;		/* netrc file to read ("yes" became ~/.netrc), or NULL */
	const char *auth;		/* SASL mechanism in upper case, or NULL for auto */
	bool oauth2;			/* the secret is an OAuth2 bearer token (also when
					 * oauth2_provider is set) */
	/* Built-in OAuth2 (oauth2.h): the token comes from the provider, not from password. */
	const char *oauth2_provider;	/* "google", "microsoft", "custom", or NULL */
	bool oauth2_system;		/* the system's OAuth2: oauth2-provider, the connection keys
					 * and the other oauth2- keys all from the system file */
	const char *oauth2_client_id;	/* or NULL */
	const char *oauth2_client_secret;	/* as written, or NULL */
	const char *oauth2_client_secret_command; /* the command line as written, or NULL */
	bool oauth2_client_secret_hidden; /* the command comes from a file the user cannot read */
	const char *oauth2_scope;	/* or NULL for the provider's default */
	enum oauth2_grant oauth2_grant;	/* default OAUTH2_GRANT_DEVICE */
	const char *oauth2_device_url;	/* https:// URLs overriding the preset's, or NULL */
	const char *oauth2_token_url;
	const char *oauth2_state;	/* path, or NULL for the default (oauth2_state_path) */
	const char *from;		/* default sender as written (may hold a display name), or NULL */
	const char *domain;		/* qualification domain, or NULL (the caller uses the FQDN) */
	const char *aliases;		/* aliases(5) file, or NULL */
	const char *const *local_domains; /* names that are local; without local_domains_set */
	size_t nlocal_domains;		/* only "localhost": the caller adds the host name and */
	bool local_domains_set;		/* its FQDN */
	bool rewrite_headers;		/* default true */
	bool received;			/* prepend a Received field; default true */
	long timeout;			/* seconds; default CONFIG_DEFAULT_TIMEOUT */
	long max_recipients;		/* per SMTP transaction; default CONFIG_DEFAULT_MAX_RECIPIENTS */
	const char *queue;		/* queue directory, or NULL for the compiled-in one */
	long queue_lifetime;		/* seconds; default CONFIG_DEFAULT_QUEUE_LIFETIME */
	enum delivery_mode delivery;	/* default DELIVERY_NOW */
	bool syslog;			/* default true */
	const char *logfile;		/* or NULL */
	int logfile_fd;			/* logfile already open (the system file's, opened with its
					 * privilege; owned by the config: dup it), or -1 */
	bool password_command_hidden;	/* it comes from a file the real user cannot read */
	const char *secrets_note;	/* why the system file's secrets were left out of this
					 * account (SECRETS in postie.conf(5)), or NULL */
};

struct config_state;

/* Zero-initialise it (or let config_load do it); release it with config_free. */
struct config {
	struct strlist files;		/* every file read, in order (for messages and reports) */
	struct config_state *st;	/* private to config*.c (config_int.h) */
};

/* The whole sequence for a program run:
 *     config_load_system(c, d);      the system file, with the setgid group if there is one
 *     config_drop_privileges(d);     for good, before anything the user controls is opened
 *     config_load_user(c, cli_path, d);
 *     config_finish(c, d);
 * Each step returns EX_OK or an error (below); stop at the first error. c is always safe to
 * config_free afterwards. Never called twice on one struct config. */
int config_load(struct config *c, const char *cli_path, struct diag *d);

/* Reads SYSCONFDIR/postie.conf into c (zeroing c first); a missing file is not an error.
 * Errors: EX_CONFIG ("file:line: what is wrong", "file: <errno text>", a file that holds a
 * password and is readable beyond its owner and the group postie). */
int config_load_system(struct config *c, struct diag *d);

/* True when the system file exists but this process, with whatever group it holds, may not
 * read it (EACCES): a caller under NoNewPrivileges=, or without the setgid bit. */
bool config_system_unreadable(void);

/* True when c holds a file other than the system file: the user's own (-C, $POSTIE_CONFIG,
 * ~/.config/postie/config). */
bool config_has_user_file(const struct config *c);

/* Gives up a setgid group for good: real, effective and saved group IDs all become the real
 * one. Does nothing when they already are. Errors: EX_OSERR when the kernel refuses or the
 * group could be regained. */
int config_drop_privileges(struct diag *d);

/* Reads the user's file into c, over what is there: cli_path (-C) when not NULL, else
 * $POSTIE_CONFIG when set and not empty (either must exist: "FILE: no such file"), else
 * $XDG_CONFIG_HOME/postie/config or ~/.config/postie/config (optional). Refuses to run with a
 * group privilege (EX_SOFTWARE): call config_drop_privileges first.
 * Errors: as config_load_system, the permission rule being "owner only". */
int config_load_user(struct config *c, const char *cli_path, struct diag *d);

/* config_parse for the text of the system file: its credentials stay with its own connection
 * settings (see config_finish), and when hidden (the real user cannot read it) no error quotes
 * a value of it. For tests; the program uses config_load_system. */
int config_parse_system(struct config *c, const char *name, const char *text, size_t len,
			bool hidden, struct diag *d);

/* Reads and parses one file over what c holds, as config_load does for each file; system
 * selects the permission rule of the system file. Missing file: EX_CONFIG "FILE: no such file".
 * For tests; the program uses the functions above. */
int config_parse_file(struct config *c, const char *path, bool system, struct diag *d);

/* Parses the text of one file over what c already holds (c zeroed before the first call);
 * name is used in messages and added to c->files. Later calls win key by key; a relay list set
 * in this text replaces the earlier one. No permission check (there is no file).
 * Errors: EX_CONFIG "name:line: what is wrong". Call config_finish after the last one. */
int config_parse(struct config *c, const char *name, const char *text, size_t len, struct diag *d);

/* Computes the effective settings of the top level and of every account and checks what no
 * single line can. The secrets rule is applied here: when a file the user controls sets any of
 * relay, tls, tls-verify, tls-ca-file, tls-cert, tls-key, user, auth or oauth2 for an account,
 * the credentials that account would take from the system file (user, password,
 * password-command, netrc, tls-cert, tls-key; with oauth2-provider, oauth2-token-url and
 * oauth2-device-url among those settings, also oauth2-client-secret[-command], oauth2-state) are left out and secrets_note says why. Then: tls off with a user and a relay that is not loopback, tls off with an
 * smtps:// relay, oauth2 with a mechanism that is not XOAUTH2 or OAUTHBEARER.
 * Errors: EX_CONFIG "file:line: what is wrong" (the line of the key at fault). */
int config_finish(struct config *c, struct diag *d);

/* True when url is a valid relay URL (smtp:// or smtps://, host, optional port, no user@)
 * whose host is on this machine by its very spelling, so that a password sent there in clear
 * text crosses no network: the name localhost (any case, with or without one trailing dot), an
 * IPv4 address of 127.0.0.0/8 in dotted-quad form, or ::1 in brackets in any of its textual
 * forms (also ::ffff:127.x.y.z). Anything else is false, even a name that resolves to
 * loopback (127.example.net, localhost.example.org, foo.localhost): what a name resolves to is
 * the resolver's say, and may change. Also false for an invalid URL. */
bool config_relay_is_loopback(const char *url);

/* The settings to use: the account named account_name (--account) when not NULL; else the
 * first account (in the order the files name them) whose own `from` has the addr-spec sender
 * (domain compared case-insensitively); else the top-level settings. The result belongs to c.
 * Returns NULL with EX_CONFIG in d for an unknown name ("no account 'x' in FILES"), EX_SOFTWARE
 * when config_finish has not succeeded. */
const struct account *config_pick(const struct config *c, const char *account_name,
				  const char *sender, struct diag *d);

/* True when a file read into c sets oauth2-provider, at the top level or in an account. */
bool config_has_oauth2(const struct config *c);

/* Appends the account names, in order, to out (the caller owns out). */
void config_account_names(const struct config *c, struct strlist *out);

/* The secret of account a, fetched only now: its `password`, or the first line of the output of
 * its `password-command`, or NULL (*out) when it has neither. The command runs through
 * secret_from_command (secret.h): without a shell (argv as config_split_command makes it), stdin
 * from /dev/null, an environment without POSTIE_*
 * variables, and a->timeout seconds before it is killed. The caller owns *out and releases it
 * with config_secret_free. Errors: EX_CONFIG "password-command 'ARGV0': WHY[: STDERR LINE]"
 * (cannot run, exit status, signal, timeout, empty first line); EX_OSERR (pipe, fork);
 * EX_SOFTWARE when called with a group privilege. */
int config_password(const struct account *a, char **out, struct diag *d);

/* Runs command, the value of configuration key key (password-command,
 * oauth2-client-secret-command), as secret.c does, after refusing to run it with a group
 * privilege, and sets *out to the secret (config_secret_free). Errors name key, as
 * config_password's do. */
int config_secret_command(const char *key, const char *command, long timeout, bool hidden,
			  char **out, struct diag *d);

/* config_secret_command for the token broker (broker.h), which keeps the setgid group: the
 * command (from the system file only: the broker holds no other) runs with the group, in a
 * fixed environment (PATH=/usr/local/bin:/usr/bin:/bin, LC_ALL=C, nothing of the caller's),
 * and its errors never name it or repeat its stderr. Errors: as config_secret_command's. */
int config_secret_command_privileged(const char *key, const char *command, long timeout,
				     char **out, struct diag *d);

/* After the token broker is started: wipes the oauth2-client-secret values of the system file
 * from c (and from the accounts that took them), so that the user's process never holds one;
 * the broker, which has its own copy, is the only one that sends them. */
void config_forget_system_client_secrets(struct config *c);

/* Wipes and frees a secret from config_password (wipe_free); NULL is fine. */
void config_secret_free(char *secret);

/* Splits cmd into argv (appended to *argv, which the caller owns) like a POSIX shell splits
 * words: blanks separate, '...' is literal, "..." keeps blanks with \" \\ \$ \` as escapes, and
 * a backslash outside quotes escapes the next byte. No expansion of $, ~ or globs. An unquoted
 * | ; & < > ( ) or ` is refused, since without a shell it would not mean what it seems to.
 * Errors: EX_CONFIG with what is wrong in d (no file:line; the caller adds it), and *argv as it
 * was. */
int config_split_command(const char *cmd, struct strlist *argv, struct diag *d);

/* A duration: digits with an optional unit s, m, h or d (5d, 12h, 30m, 90s, 300), from one
 * second to 366 days. Returns true and sets *seconds, or false. */
bool config_duration(const char *text, long *seconds);

/* Releases everything c owns (secrets wiped) and zeroes it. */
void config_free(struct config *c);

/* --- the environment, an input of the configuration (config_env.c) ----------------------- */

/* What a run takes from the host and the caller beside the files, resolved once for account a:
 * the names a message is written with, and where its queue is. */
struct config_env {
	char *domain;			/* a's `domain`, else the host's fully qualified name */
	char *login;			/* the caller's login name, the sender of last resort */
	char *full_name;		/* $NAME or GECOS, for a From -F does not name; or NULL */
	char legacy_charset[48];	/* what names composed text that is not UTF-8 */
	char *received_host;		/* the host a Received field names, or NULL for none */
	char *queue_dir;		/* a's `queue`, else the default for the caller */
	struct strlist local_domains;	/* what counts as this machine */
};

/* Fills e for account a from the host (its name: one resolver lookup at most, and only when a
 * needs it), the caller's uid and environment ($NAME, $HOME, $XDG_STATE_HOME) and the locale.
 * Cannot fail; release e with config_env_free. */
void config_env_load(struct config_env *e, const struct account *a);
void config_env_free(struct config_env *e);

#endif
