/* SPDX-License-Identifier: ISC */
/* config_test.c: the configuration: every key valid and invalid, quoting, accounts and their
 * inheritance, layering over several files, the account choice, the TLS rules and what counts as
 * a loopback relay, durations, password-command and the permission rule for files that hold a
 * password. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static struct config c;
static struct diag d;

/* Parses each part of texts (parts separated by "--" lines) as file1.conf, file2.conf... and
 * finishes; c holds the result. */
static int load(const char *texts)
{
	config_free(&c);
	memset(&d, 0, sizeof d);
	int rc = EX_OK, n = 0;
	const char *t = texts;
	while (rc == EX_OK) {
		const char *sep = strstr(t, "\n--\n");
		size_t len = sep ? (size_t)(sep - t) + 1 : strlen(t);
		char name[32];
		snprintf(name, sizeof name, "file%d.conf", ++n);
		rc = config_parse(&c, name, t, len, &d);
		if (!sep)
			break;
		t = sep + 4;
	}
	return rc == EX_OK ? config_finish(&c, &d) : rc;
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

/* One field of a as text, for the tables. */
static const char *field(const struct account *a, const char *name)
{
	static char out[1024];
	static const char *const tls[] = { "required", "opportunistic", "off" };
	const char *s = NULL;
	out[0] = '\0';
	if (strcmp(name, "relay") == 0 || strcmp(name, "local-domains") == 0) {
		const char *const *v = name[0] == 'r' ? a->relay : a->local_domains;
		size_t n = name[0] == 'r' ? a->nrelay : a->nlocal_domains;
		for (size_t i = 0; i < n; i++)
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "", v[i]);
		if (name[0] == 'l' && !a->local_domains_set)
			strcat(out, " (default)");
		return out;
	}
	if (strcmp(name, "tls") == 0) return tls[a->tls];
	if (strcmp(name, "tls-verify") == 0) return yn(a->tls_verify);
	if (strcmp(name, "oauth2") == 0) return yn(a->oauth2);
	if (strcmp(name, "rewrite-headers") == 0) return yn(a->rewrite_headers);
	if (strcmp(name, "syslog") == 0) return yn(a->syslog);
	if (strcmp(name, "received") == 0) return yn(a->received);
	if (strcmp(name, "delivery") == 0) return a->delivery == DELIVERY_NOW ? "now" : "queue";
	if (strcmp(name, "oauth2-grant") == 0)
		return a->oauth2_grant == OAUTH2_GRANT_DEVICE ? "device" : "client-credentials";
	if (strcmp(name, "oauth2-system") == 0) return yn(a->oauth2_system);
	if (strcmp(name, "timeout") == 0 || strcmp(name, "queue-lifetime") == 0) {
		snprintf(out, sizeof out, "%ld", name[0] == 't' ? a->timeout : a->queue_lifetime);
		return out;
	}
	if (strcmp(name, "tls-ca-file") == 0) s = a->tls_ca_file;
	else if (strcmp(name, "tls-cert") == 0) s = a->tls_cert;
	else if (strcmp(name, "tls-key") == 0) s = a->tls_key;
	else if (strcmp(name, "user") == 0) s = a->user;
	else if (strcmp(name, "password") == 0) s = a->password;
	else if (strcmp(name, "password-command") == 0) s = a->password_command;
	else if (strcmp(name, "netrc") == 0) s = a->netrc;
	else if (strcmp(name, "auth") == 0) s = a->auth;
	else if (strcmp(name, "from") == 0) s = a->from;
	else if (strcmp(name, "domain") == 0) s = a->domain;
	else if (strcmp(name, "aliases") == 0) s = a->aliases;
	else if (strcmp(name, "queue") == 0) s = a->queue;
	else if (strcmp(name, "logfile") == 0) s = a->logfile;
	else if (strcmp(name, "name") == 0) s = a->name;
	else if (strcmp(name, "oauth2-provider") == 0) s = a->oauth2_provider;
	else if (strcmp(name, "oauth2-client-id") == 0) s = a->oauth2_client_id;
	else if (strcmp(name, "oauth2-client-secret") == 0) s = a->oauth2_client_secret;
	else if (strcmp(name, "oauth2-client-secret-command") == 0) s = a->oauth2_client_secret_command;
	else if (strcmp(name, "oauth2-scope") == 0) s = a->oauth2_scope;
	else if (strcmp(name, "oauth2-device-url") == 0) s = a->oauth2_device_url;
	else if (strcmp(name, "oauth2-token-url") == 0) s = a->oauth2_token_url;
	else if (strcmp(name, "oauth2-state") == 0) s = a->oauth2_state;
	else return "?field";
	return s ? s : "(null)";
}

/* Texts are NUL-separated files; the account is picked by name (NULL: top level). */
static const struct {
	const char *texts, *account, *field, *want;
} values[] = {
	/* defaults */
	{ "", NULL, "relay", CONFIG_DEFAULT_RELAY },
	{ "", NULL, "tls", "opportunistic" },
	{ "", NULL, "tls-verify", "yes" },
	{ "", NULL, "timeout", "60" },
	{ "", NULL, "queue-lifetime", "432000" },
	{ "", NULL, "delivery", "now" },
	{ "", NULL, "syslog", "yes" },
	{ "", NULL, "rewrite-headers", "yes" },
	{ "", NULL, "received", "yes" },
	{ "", NULL, "oauth2", "no" },
	{ "", NULL, "local-domains", "localhost (default)" },
	{ "", NULL, "auth", "(null)" },
	{ "", NULL, "netrc", "(null)" },
	{ "", NULL, "from", "(null)" },
	/* every key */
	{ "relay smtp://mail.example.org:587", NULL, "relay", "smtp://mail.example.org:587" },
	{ "relay smtps://[2001:db8::1]:465/", NULL, "relay", "smtps://[2001:db8::1]:465/" },
	{ "relay smtp://a\nrelay smtps://b:465\n", NULL, "relay", "smtp://a,smtps://b:465" },
	{ "tls required", NULL, "tls", "required" },
	{ "tls opportunistic", NULL, "tls", "opportunistic" },
	{ "relay smtp://127.0.0.1\ntls off", NULL, "tls", "off" },
	{ "tls-verify no", NULL, "tls-verify", "no" },
	{ "tls-ca-file /etc/ssl/ca.pem", NULL, "tls-ca-file", "/etc/ssl/ca.pem" },
	{ "tls-cert /c.pem", NULL, "tls-cert", "/c.pem" },
	{ "tls-key ~/k.pem", NULL, "tls-key", "/home/tester/k.pem" },
	{ "tls-key ~", NULL, "tls-key", "/home/tester" },
	{ "user alice@example.org", NULL, "user", "alice@example.org" },
	{ "password s3cret", NULL, "password", "s3cret" },
	{ "password a#b=c d", NULL, "password", "a#b=c d" },
	{ "password \"  p#ss = w \\\"q\\\" \\\\ \"", NULL, "password", "  p#ss = w \"q\" \\ " },
	{ "password \"\x01\x7f\"", NULL, "password", "\x01\x7f" },
	{ "password-command pass show mail", NULL, "password-command", "pass show mail" },
	{ "password x\n--\npassword-command y\n--\npassword z\n", NULL, "password", "z" },
	{ "password x\n--\npassword-command y\n", NULL, "password-command", "y" },
	{ "password x\n--\npassword-command y\n", NULL, "password", "(null)" },
	{ "netrc yes", NULL, "netrc", "/home/tester/.netrc" },
	{ "netrc /etc/netrc", NULL, "netrc", "/etc/netrc" },
	{ "netrc yes\n--\nnetrc no\n", NULL, "netrc", "(null)" },
	{ "auth auto", NULL, "auth", "(null)" },
	{ "auth plain", NULL, "auth", "PLAIN" },
	{ "auth CRAM-MD5", NULL, "auth", "CRAM-MD5" },
	{ "auth PLAIN\n--\nauth auto\n", NULL, "auth", "(null)" },
	{ "oauth2 yes", NULL, "oauth2", "yes" },
	{ "oauth2 yes\nauth xoauth2", NULL, "auth", "XOAUTH2" },
	{ "from alice@example.org", NULL, "from", "alice@example.org" },
	{ "from \"Alice A <alice@example.org>\"", NULL, "from", "Alice A <alice@example.org>" },
	{ "from Alice A <alice@example.org>", NULL, "from", "Alice A <alice@example.org>" },
	{ "from root", NULL, "from", "root" },
	{ "domain example.org", NULL, "domain", "example.org" },
	{ "aliases /etc/aliases", NULL, "aliases", "/etc/aliases" },
	{ "local-domains a.example, b.example  c", NULL, "local-domains", "a.example,b.example,c" },
	{ "local-domains localhost", NULL, "local-domains", "localhost" },
	{ "rewrite-headers no", NULL, "rewrite-headers", "no" },
	{ "received no", NULL, "received", "no" },
	{ "timeout 30", NULL, "timeout", "30" },
	{ "timeout 86400", NULL, "timeout", "86400" },
	{ "queue /var/spool/postie", NULL, "queue", "/var/spool/postie" },
	{ "queue-lifetime 12h", NULL, "queue-lifetime", "43200" },
	{ "queue-lifetime 90", NULL, "queue-lifetime", "90" },
	{ "delivery queue", NULL, "delivery", "queue" },
	{ "syslog no", NULL, "syslog", "no" },
	{ "logfile /var/log/postie.log", NULL, "logfile", "/var/log/postie.log" },
	/* layout */
	{ "# comment\r\n\r\n\t relay \t smtps://[::1]:465/ \r\n", NULL, "relay", "smtps://[::1]:465/" },
	{ "from a@x\nfrom b@x\n", NULL, "from", "b@x" },
	{ "  # indented comment\nuser u", NULL, "user", "u" },
	/* the TLS default follows the relays */
	{ "relay smtp://mail.example.org", NULL, "tls", "required" },
	{ "relay smtp://localhost:2525", NULL, "tls", "opportunistic" },
	{ "relay smtp://LOCALHOST", NULL, "tls", "opportunistic" },
	{ "relay smtp://127.1.2.3:25", NULL, "tls", "opportunistic" },
	{ "relay smtp://[::1]:25", NULL, "tls", "opportunistic" },
	{ "relay smtp://[::ffff:127.0.0.1]", NULL, "tls", "opportunistic" },
	{ "relay smtp://128.0.0.1", NULL, "tls", "required" },
	{ "relay smtp://localhost.example.org", NULL, "tls", "required" },
	{ "relay smtp://127.0.0.1\nrelay smtp://mail.example.org\n", NULL, "tls", "required" },
	{ "relay smtp://127.0.0.1\ntls required\n", NULL, "tls", "required" },
	{ "relay smtp://127.0.0.1\nuser u\ntls off\n", NULL, "tls", "off" },
	/* accounts inherit the top level of every file */
	{ "user top\nrelay smtp://top\naccount work\nfrom w@example.org\n", "work", "user", "top" },
	{ "user top\nrelay smtp://top\naccount work\nfrom w@example.org\n", "work", "relay", "smtp://top" },
	{ "user top\naccount work\nuser mine\n", "work", "user", "mine" },
	{ "user top\naccount work\nuser mine\n", NULL, "user", "top" },
	{ "account work\nuser w\n--\nuser top\ntimeout 5\n", "work", "timeout", "5" },
	{ "account work\nrelay smtp://a\nrelay smtp://b\n", "work", "relay", "smtp://a,smtp://b" },
	{ "account work\nrelay smtp://a\naccount home\nuser h\naccount work\nrelay smtp://b\n", "work", "relay", "smtp://a,smtp://b" },
	{ "relay smtp://top1\nrelay smtp://top2\naccount work\nuser w\n", "work", "relay", "smtp://top1,smtp://top2" },
	{ "account work\nuser w\n", "work", "name", "work" },
	{ "account a.b-c_d@e+f\n", "a.b-c_d@e+f", "name", "a.b-c_d@e+f" },
	{ "password top\naccount work\npassword-command cmd\n", "work", "password", "(null)" },
	{ "password top\naccount work\npassword-command cmd\n", NULL, "password", "top" },
	{ "password-command top\naccount work\npassword mine\n", "work", "password-command", "(null)" },
	{ "password-command top\naccount work\nuser u\n", "work", "password-command", "top" },
	/* later files win key by key; a relay list starts over */
	{ "relay smtp://a\nrelay smtp://b\nfrom x@y\n--\nrelay smtp://c\n", NULL, "relay", "smtp://c" },
	{ "relay smtp://a\nrelay smtp://b\nfrom x@y\n--\nrelay smtp://c\n", NULL, "from", "x@y" },
	{ "relay smtp://a\n--\nuser u\n", NULL, "relay", "smtp://a" },
	{ "account w\nuser one\ndomain one.example\n--\naccount w\nuser two\n", "w", "user", "two" },
	{ "account w\nuser one\ndomain one.example\n--\naccount w\nuser two\n", "w", "domain", "one.example" },
	{ "account w\nrelay smtp://a\nrelay smtp://b\n--\naccount w\nrelay smtp://c\n", "w", "relay", "smtp://c" },
	{ "tls-verify no\n--\ntls-verify yes\n", NULL, "tls-verify", "yes" },
	/* built-in OAuth2 */
	{ "", NULL, "oauth2-provider", "(null)" },
	{ "", NULL, "oauth2-grant", "device" },
	{ "", NULL, "oauth2-state", "(null)" },
#define MS "oauth2-provider microsoft\noauth2-client-id cid\n"
	{ MS, NULL, "oauth2-provider", "microsoft" },
	{ MS, NULL, "oauth2", "yes" },
	{ MS, NULL, "oauth2-system", "no" },
	{ MS, NULL, "oauth2-client-id", "cid" },
	{ MS "oauth2-scope a b", NULL, "oauth2-scope", "a b" },
	{ MS "oauth2-client-secret \"s e\"", NULL, "oauth2-client-secret", "s e" },
	{ MS "oauth2-client-secret-command pass show x", NULL, "oauth2-client-secret-command", "pass show x" },
	{ MS "oauth2-client-secret a\n--\noauth2-client-secret-command b", NULL, "oauth2-client-secret", "(null)" },
	{ MS "oauth2-grant client-credentials\noauth2-client-secret s\n", NULL, "oauth2-grant", "client-credentials" },
	{ MS "oauth2-device-url https://h/d", NULL, "oauth2-device-url", "https://h/d" },
	{ MS "oauth2-token-url HTTPS://h/t", NULL, "oauth2-token-url", "HTTPS://h/t" },
	{ MS "oauth2-state /var/lib/x.json", NULL, "oauth2-state", "/var/lib/x.json" },
	{ "oauth2-provider google\noauth2-client-id g\n", NULL, "oauth2-provider", "google" },
	{ "oauth2-provider custom\noauth2-client-id c\noauth2-token-url https://t/\n", NULL, "oauth2-provider", "custom" },
	{ "account w\n" MS "--\naccount w\noauth2-scope s\n", "w", "oauth2-client-id", "cid" },
};

static const struct {
	const char *texts, *error;
} errors[] = {
	{ "nonsense value\n", "file1.conf:1: unknown key 'nonsense'" },
	{ "oauth2-provider yahoo\n", "file1.conf:1: oauth2-provider 'yahoo' is not google, microsoft or custom" },
	{ "oauth2-grant password\n", "file1.conf:1: oauth2-grant 'password' is not device or client-credentials" },
	{ "oauth2-token-url http://t/\n", "file1.conf:1: oauth2-token-url 'http://t/' is not an https:// URL" },
	{ "oauth2-device-url https://\n", "file1.conf:1: oauth2-device-url 'https://' is not an https:// URL" },
	{ "oauth2-state state.json\n", "file1.conf:1: oauth2-state 'state.json' is not an absolute path or ~/path" },
	{ "oauth2-client-secret a\noauth2-client-secret-command b\n", "file1.conf:2: oauth2-client-secret-command and oauth2-client-secret (line 1) both given; keep one" },
	{ "oauth2-client-secret-command 'a\n", "file1.conf:1: oauth2-client-secret-command: " },
	{ "\noauth2-client-id c\n", "file1.conf:2: oauth2-client-id needs oauth2-provider" },
	{ "oauth2-provider microsoft\n", "file1.conf:1: oauth2-provider microsoft needs oauth2-client-id" },
	{ "oauth2-provider microsoft\noauth2-client-id c\npassword-command tok\n", "file1.conf:1: oauth2-provider gets the token itself: drop password and password-command" },
	{ "oauth2-provider custom\noauth2-client-id c\n", "file1.conf:1: oauth2-provider custom needs oauth2-token-url" },
	{ "oauth2-provider google\noauth2-client-id c\noauth2-grant client-credentials\noauth2-client-secret s\n", "file1.conf:1: oauth2-provider google has no client-credentials grant for mail" },
	{ "oauth2-provider microsoft\noauth2-client-id c\noauth2-grant client-credentials\n", "file1.conf:1: oauth2-grant client-credentials needs oauth2-client-secret or oauth2-client-secret-command" },
	{ "account w\noauth2-provider microsoft\noauth2-client-id c\nauth PLAIN\n", "file1.conf:2: oauth2 yes needs auth auto, XOAUTH2 or OAUTHBEARER, not PLAIN (account 'w')" },
	{ "\n\nrelay\n", "file1.conf:3: relay needs a value" },
	{ "user \"\"\n", "file1.conf:1: user needs a value" },
	{ "relay http://x\n", "file1.conf:1: relay 'http://x' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://\n", "file1.conf:1: relay 'smtp://' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h:0\n", "file1.conf:1: relay 'smtp://h:0' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h:65536\n", "file1.conf:1: relay 'smtp://h:65536' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h x\n", "file1.conf:1: relay 'smtp://h x' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h/path\n", "file1.conf:1: relay 'smtp://h/path' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://[]\n", "file1.conf:1: relay 'smtp://[]' is not smtp://host[:port] or smtps://host[:port]" },
	{ "tls maybe\n", "file1.conf:1: tls 'maybe' is not required, opportunistic or off" },
	{ "tls-verify off\n", "file1.conf:1: tls-verify 'off' is not yes or no" },
	{ "tls-ca-file ca.pem\n", "file1.conf:1: tls-ca-file 'ca.pem' is not an absolute path or ~/path" },
	{ "tls-cert ~bob/c\n", "file1.conf:1: tls-cert '~bob/c' is not an absolute path or ~/path" },
	{ "tls-key k\n", "file1.conf:1: tls-key 'k' is not an absolute path or ~/path" },
	{ "user \"a\x01b\"\n", "file1.conf:1: user holds a control character" },
	{ "password\n", "file1.conf:1: password needs a value" },
	{ "queue /q\naccount w\nqueue /w\n", "file1.conf:3: queue is one directory for every account: set it outside account sections (account 'w')" },
	{ "password a\npassword-command b\n", "file1.conf:2: password-command and password (line 1) both given; keep one" },
	{ "account w\npassword-command b\naccount v\naccount w\npassword a\n", "file1.conf:5: password and password-command (line 2) both given; keep one" },
	{ "password-command\n", "file1.conf:1: password-command needs a value" },
	{ "password-command 'open\n", "file1.conf:1: password-command: unterminated single quote" },
	{ "password-command \"open\n", "file1.conf:1: unterminated quoted value" },
	{ "password-command gpg -d f | head -1\n", "file1.conf:1: password-command: unquoted '|': the command runs without a shell (quote it, or run sh -c '...')" },
	{ "password-command a\\\n", "file1.conf:1: password-command: a backslash at the end" },
	{ "netrc maybe\n", "file1.conf:1: netrc 'maybe' is not yes, no or a path" },
	{ "netrc ~x/.netrc\n", "file1.conf:1: netrc '~x/.netrc' is not an absolute path or ~/path" },
	{ "auth PL AIN\n", "file1.conf:1: auth 'PL AIN' is not auto or a SASL mechanism name" },
	{ "auth ABCDEFGHIJKLMNOPQRSTU\n", "file1.conf:1: auth 'ABCDEFGHIJKLMNOPQRSTU' is not auto or a SASL mechanism name" },
	{ "oauth2 1\n", "file1.conf:1: oauth2 '1' is not yes or no" },
	{ "from \"a b@c\"\n", "file1.conf:1: from 'a b@c': bad address syntax: " },
	{ "from <>\n", "file1.conf:1: from '<>' is the null address" },
	{ "domain a..b\n", "file1.conf:1: domain 'a..b' is not a domain name" },
	{ "domain a/b\n", "file1.conf:1: domain 'a/b' is not a domain name" },
	{ "aliases aliases\n", "file1.conf:1: aliases 'aliases' is not an absolute path or ~/path" },
	{ "local-domains a, b_c\n", "file1.conf:1: local-domains: 'b_c' is not a domain name" },
	{ "local-domains ,\n", "file1.conf:1: local-domains needs at least one domain" },
	{ "rewrite-headers true\n", "file1.conf:1: rewrite-headers 'true' is not yes or no" },
	{ "received off\n", "file1.conf:1: received 'off' is not yes or no" },
	{ "timeout 0\n", "file1.conf:1: timeout '0' is not a number of seconds (1-86400)" },
	{ "timeout 5s\n", "file1.conf:1: timeout '5s' is not a number of seconds (1-86400)" },
	{ "timeout 86401\n", "file1.conf:1: timeout '86401' is not a number of seconds (1-86400)" },
	{ "timeout 99999999999999999999\n", "file1.conf:1: timeout '99999999999999999999' is not a number of seconds (1-86400)" },
	{ "timeout -5\n", "file1.conf:1: timeout '-5' is not a number of seconds (1-86400)" },
	{ "queue spool\n", "file1.conf:1: queue 'spool' is not an absolute path or ~/path" },
	{ "queue-lifetime 5y\n", "file1.conf:1: queue-lifetime '5y' is not a duration like 5d, 12h, 30m, 90s or seconds (at most 366d)" },
	{ "delivery later\n", "file1.conf:1: delivery 'later' is not now or queue" },
	{ "syslog on\n", "file1.conf:1: syslog 'on' is not yes or no" },
	{ "logfile log\n", "file1.conf:1: logfile 'log' is not an absolute path or ~/path" },
	{ "from \"open\n", "file1.conf:1: unterminated quoted value" },
	{ "from \"a\" b\n", "file1.conf:1: text after the closing quote" },
	{ "from \"a\\nb\"\n", "file1.conf:1: only \\\" and \\\\ are escapes in a quoted value" },
	{ "account\n", "file1.conf:1: account needs a name" },
	{ "account a b\n", "file1.conf:1: account 'a b' is not a name of letters, digits and -_.@+" },
	{ "account w\nrelayy smtp://x\n", "file1.conf:2: unknown key 'relayy'" },
	{ "user u\n--\n\nnope\n", "file2.conf:2: unknown key 'nope'" },
	/* what no single line can say */
	{ "relay smtp://mail.example.org\nuser u\ntls off\n", "file1.conf:3: tls off with a login would send the password in clear text; allowed only when every relay is loopback" },
	{ "tls off\nrelay smtp://mail.example.org\nnetrc yes\n", "file1.conf:1: tls off with a login would send the password in clear text; allowed only when every relay is loopback" },
	{ "relay smtp://127.0.0.1\nrelay smtp://mail.example.org\nuser u\ntls off\n", "file1.conf:4: tls off with a login would send the password in clear text; allowed only when every relay is loopback" },
	{ "tls off\nrelay smtp://127.0.0.1\naccount w\nrelay smtp://mx.example\npassword p\n", "file1.conf:1: tls off with a login would send the password in clear text; allowed only when every relay is loopback (account 'w')" },
	{ "relay smtp://mail.example.org\ntls off\n--\nuser u\n", "file1.conf:2: tls off with a login would send the password in clear text; allowed only when every relay is loopback" },
	{ "relay smtps://127.0.0.1\ntls off\n", "file1.conf:2: tls off contradicts an smtps:// relay, which is always TLS" },
	{ "oauth2 yes\nauth plain\n", "file1.conf:1: oauth2 yes needs auth auto, XOAUTH2 or OAUTHBEARER, not PLAIN" },
};

static const struct {
	const char *text;
	long seconds;	/* 0: invalid */
} durations[] = {
	{ "5d", 432000 }, { "12h", 43200 }, { "30m", 1800 }, { "90s", 90 }, { "300", 300 },
	{ "1", 1 }, { "366d", 31622400 }, { "367d", 0 }, { "0", 0 }, { "0s", 0 }, { "", 0 },
	{ "d", 0 }, { "5 d", 0 }, { "5D", 0 }, { "5dd", 0 }, { "-5", 0 }, { "1h30m", 0 },
	{ "31622400", 31622400 }, { "31622401", 0 }, { "99999999999999999999999", 0 },
};

static const struct {
	const char *cmd, *argv;	/* argv words joined with '|', or the error */
	bool ok;
} splits[] = {
	{ "pass show mail", "pass|show|mail", true },
	{ "  a\t b  ", "a|b", true },
	{ "printf '%s\\n' 'a b'", "printf|%s\\n|a b", true },
	{ "a \"b \\\"c\\\" \\\\ \\$ \\n\"", "a|b \"c\" \\ $ \\n", true },
	{ "a\\ b c\\'d", "a b|c'd", true },
	{ "a'b'\"c\"d", "abcd", true },
	{ "a '' \"\"", "a||", true },
	{ "echo $HOME ~ *", "echo|$HOME|~|*", true },
	{ "sh -c 'a | b; c'", "sh|-c|a | b; c", true },
	{ "a \\| b", "a|||b", true },
	{ "", "no command", false },
	{ "   ", "no command", false },
	{ "a 'b", "unterminated single quote", false },
	{ "a \"b", "unterminated double quote", false },
	{ "a \\", "a backslash at the end", false },
	{ "a > f", "unquoted '>': the command runs without a shell (quote it, or run sh -c '...')", false },
	{ "a;b", "unquoted ';': the command runs without a shell (quote it, or run sh -c '...')", false },
	{ "a `b`", "unquoted '`': the command runs without a shell (quote it, or run sh -c '...')", false },
	{ "(a)", "unquoted '(': the command runs without a shell (quote it, or run sh -c '...')", false },
};

static const struct account *pick(const char *name, const char *sender)
{
	memset(&d, 0, sizeof d);
	return config_pick(&c, name, sender, &d);
}

/* config_relay_is_loopback: the host is parsed whole; a prefix of a name is not loopback. */
static const struct {
	const char *url;
	bool loopback;
} loopbacks[] = {
	{ "smtp://localhost", true },
	{ "smtp://LOCALHOST", true },
	{ "smtp://LocalHost:25", true },
	{ "smtp://localhost.", true },
	{ "smtp://localhost.:2525/", true },
	{ "smtps://localhost:465", true },
	{ "smtp://localhost:25", true },
	{ "smtp://127.0.0.1", true },
	{ "smtp://127.0.0.1:25", true },
	{ "smtp://127.1.2.3", true },
	{ "smtp://127.255.255.255:587/", true },
	{ "smtp://[::1]", true },
	{ "smtp://[::1]:25", true },
	{ "smtp://[0:0:0:0:0:0:0:1]:25", true },
	{ "smtp://[::ffff:127.0.0.1]", true },
	/* names that begin like loopback, and are not */
	{ "smtp://127.example.net", false },
	{ "smtp://127.example.net:25", false },
	{ "smtp://localhost.mail.example.com", false },
	{ "smtp://localhost.mail.example.com:25", false },
	{ "smtp://localhost2.localhost", false },
	{ "smtp://localhost2.localhost:25", false },
	{ "smtp://foo.localhost", false },
	{ "smtp://localhost..", false },
	{ "smtp://127.0.0.1.example.com", false },
	{ "smtp://127.0.0.1.example.com:25", false },
	{ "smtp://127.0.0.1.", false },
	{ "smtp://1270.0.0.1", false },
	{ "smtp://127.1", false },
	{ "smtp://0127.0.0.1", false },
	{ "smtp://127.000.000.001", false },
	{ "smtp://128.0.0.1", false },
	{ "smtp://[::2]", false },
	{ "smtp://[::2]:25", false },
	{ "smtp://[::ffff:128.0.0.1]", false },
	{ "smtp://mail.example.org", false },
	/* not a relay URL: no user@, no other scheme, no stray port */
	{ "smtp://user@localhost", false },
	{ "smtp://user@127.0.0.1:25", false },
	{ "smtp://mail.example.org@localhost", false },
	{ "smtp://localhost@mail.example.org", false },
	{ "http://localhost", false },
	{ "localhost", false },
	{ "localhost:25", false },
	{ "127.0.0.1", false },
	{ "smtp://localhost:0", false },
	{ "smtp://localhost:65536", false },
	{ "smtp://localhost:25x", false },
	{ "smtp://[::1", false },
	{ "smtp://::1", false },
	{ "", false },
};

static void test_loopback(void)
{
	for (size_t i = 0; i < sizeof loopbacks / sizeof loopbacks[0]; i++)
		ok(config_relay_is_loopback(loopbacks[i].url) == loopbacks[i].loopback,
		   "loopback: '%s' is %s", loopbacks[i].url, loopbacks[i].loopback ? "loopback" : "not");
	/* the account's field, with which a password is allowed without TLS: every relay */
	is_int(load("relay smtp://127.0.0.1\nrelay smtp://[::1]:25\nrelay smtp://localhost\n"),
	       EX_OK, "three loopback relays parse");
	ok(pick(NULL, NULL)->loopback, "loopback: an account whose relays are all loopback");
	is_int(load("relay smtp://127.0.0.1\nrelay smtp://localhost2.localhost\n"), EX_OK,
	       "a loopback and another relay parse");
	ok(!pick(NULL, NULL)->loopback, "loopback: not when one relay of the list is not");
	is_int(load(""), EX_OK, "no relay parses");
	ok(pick(NULL, NULL)->loopback, "loopback: the default relay, " CONFIG_DEFAULT_RELAY);
}

static void test_values(void)
{
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		int rc = load(values[i].texts);
		is_int(rc, EX_OK, "values %zu parses", i);
		if (rc != EX_OK) {
			printf("#   %s\n", d.msg);
			continue;
		}
		const struct account *a = pick(values[i].account, NULL);
		ok(a != NULL, "values %zu: account %s exists", i, values[i].account ? values[i].account : "(top)");
		if (a)
			is_str(field(a, values[i].field), values[i].want, "values %zu: %s", i, values[i].field);
	}
}

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
		int rc = load(errors[i].texts);
		is_int(rc, EX_CONFIG, "errors %zu is EX_CONFIG", i);
		size_t n = strlen(errors[i].error);
		ok(strncmp(d.msg, errors[i].error, n) == 0, "errors %zu: %s", i, errors[i].error);
		if (strncmp(d.msg, errors[i].error, n) != 0)
			tap_diag_str("got", d.msg);
	}

	memset(&d, 0, sizeof d);
	config_free(&c);
	is_int(config_parse(&c, "test.conf", "relay a\0b\n", 10, &d), EX_CONFIG, "a NUL byte is an error");
	is_str(d.msg, "test.conf:1: NUL byte in line", "and says so");

	/* A password never appears in a message, even one about its own line. */
	load("password \"s3cret\" x\n");
	ok(strstr(d.msg, "s3cret") == NULL, "a bad password line does not show the password");
	load("password s3cret\npassword-command \"s3cret\"\n");
	ok(strstr(d.msg, "s3cret") == NULL, "password and password-command together: no secret shown");
	load("oauth2-client-secret \"s3cret\" x\n");
	ok(strstr(d.msg, "s3cret") == NULL, "a bad oauth2-client-secret line does not show the secret");
}

static void test_pick(void)
{
	is_int(load("relay smtp://top.example\nfrom top@example.org\n"
		    "account work\nfrom \"Me <Me@Work.Example>\"\nrelay smtp://work.example\n"
		    "account home\nfrom me@home.example\nrelay smtp://home.example\n"
		    "account again\nfrom me@home.example\n"
		    "account inherits\nuser i\n"),
	       EX_OK, "accounts parse");
	const struct account *a = pick("home", NULL);
	is_str(a ? a->name : NULL, "home", "--account picks by name");
	a = pick("home", "Me@work.example");
	is_str(a ? a->name : NULL, "home", "--account wins over the sender");
	a = pick(NULL, "Me@work.EXAMPLE");
	is_str(a ? a->name : NULL, "work", "the sender picks the account whose from it is (domain case-insensitive)");
	is_str(a ? a->relay[0] : NULL, "smtp://work.example", "with that account's relay");
	a = pick(NULL, "me@work.example");
	is_str(a ? field(a, "name") : NULL, "(null)", "local parts are case-sensitive");
	a = pick(NULL, "me@home.example");
	is_str(a ? a->name : NULL, "home", "the first account with that from wins");
	a = pick(NULL, "top@example.org");
	ok(a && a->name == NULL, "an account that inherits from is not picked by it");
	a = pick(NULL, "stranger@example.org");
	ok(a && a->name == NULL && strcmp(a->relay[0], "smtp://top.example") == 0,
	   "an unknown sender gets the top level");
	a = pick(NULL, NULL);
	ok(a && a->name == NULL, "no name and no sender: the top level");
	a = pick(NULL, "");
	ok(a && a->name == NULL, "the null sender: the top level");
	a = pick("nope", NULL);
	ok(a == NULL, "an unknown account name fails");
	is_int(d.code, EX_CONFIG, "with EX_CONFIG");
	is_str(d.msg, "no account 'nope' in file1.conf", "naming the files read");

	struct strlist names = {0};
	config_account_names(&c, &names);
	is_int(names.n, 4, "four account names");
	is_str(names.n == 4 ? names.v[3] : NULL, "inherits", "in file order");
	strlist_free(&names);

	load("user a\n--\nuser b\n");
	ok(pick("x", NULL) == NULL, "unknown name with two files");
	is_str(d.msg, "no account 'x' in file1.conf, file2.conf", "lists both files");

	config_free(&c);
	ok(pick(NULL, NULL) == NULL, "pick before finish fails");
	is_int(d.code, EX_SOFTWARE, "with EX_SOFTWARE");
	memset(&d, 0, sizeof d);
	is_int(config_finish(&c, &d), EX_OK, "finish with no file");
	ok(pick("x", NULL) == NULL, "unknown name with no file");
	is_str(d.msg, "no account 'x': no configuration file was read", "says no file was read");
}

/* The secrets rule: a system file's credentials stay with the system file's connection
 * settings. Each row: the system file, the user's file, the account, a field, its value. */
static const struct {
	const char *system, *user, *account, *field, *want;
} secrets[] = {
	/* nothing moved: the system's credentials are used */
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "from me@example.org\n", NULL, "password", "pw" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "timeout 9\ndomain x.example\n", NULL, "user", "alice" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\naccount w\nfrom w@example.org\n", "", "w", "password", "pw" },
	/* every connection key, set by the user, drops every system credential */
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "relay smtp://evil.example\n", NULL, "password", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "relay smtp://evil.example\n", NULL, "user", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword-command pass x\n", "tls opportunistic\n", NULL, "password-command", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "tls-verify no\n", NULL, "password", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "tls-ca-file /tmp/ca.pem\n", NULL, "password", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "tls-cert /tmp/c.pem\n", NULL, "password", "(null)" },
	{ "relay smtp://mx.example\ntls-cert /etc/c.pem\ntls-key /etc/k.pem\n", "tls-key /tmp/k.pem\n", NULL, "tls-cert", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "user bob\n", NULL, "password", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "auth PLAIN\n", NULL, "password", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "oauth2 yes\n", NULL, "password", "(null)" },
	{ "relay smtp://mx.example\nnetrc /etc/postie.netrc\n", "relay smtp://evil.example\n", NULL, "netrc", "(null)" },
	{ "relay smtp://mx.example\ntls-cert /etc/c.pem\ntls-key /etc/k.pem\n", "relay smtp://evil.example\n", NULL, "tls-key", "(null)" },
	/* an account the user writes inherits the top level's secrets only if it moves nothing */
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "account evil\nrelay smtp://evil.example\n", "evil", "password", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "account mine\nfrom me@example.org\n", "mine", "password", "pw" },
	/* a system account reopened by the user */
	{ "account w\nrelay smtp://mx.example\nuser alice\npassword pw\n", "account w\nrelay smtp://evil.example\n", "w", "password", "(null)" },
	{ "account w\nrelay smtp://mx.example\nuser alice\npassword pw\n", "relay smtp://evil.example\n", "w", "password", "pw" },
	{ "relay smtp://mx.example\naccount w\nuser alice\npassword pw\n", "relay smtp://evil.example\n", "w", "password", "(null)" },
	/* what the user gives is the user's to use */
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "relay smtp://mine.example\nuser me\npassword mine\n", NULL, "password", "mine" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "relay smtp://mine.example\npassword mine\n", NULL, "user", "(null)" },
	/* without a credential from the system there is nothing to drop and nothing to say */
	{ "relay smtp://mx.example\n", "relay smtp://mine.example\n", NULL, "note", "(null)" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "relay smtp://evil.example\n", NULL, "note",
	  "the default account does not use the system file's secrets: its relay is set in user.conf:1" },
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "account e\nfrom e@x.example\ntls off\n", "e", "note",
	  "account 'e' does not use the system file's secrets: its tls is set in user.conf:3" },
	/* a user's tls off no longer trips over a login it does not get */
	{ "relay smtp://mx.example\nuser alice\npassword pw\n", "relay smtp://evil.example\ntls off\n", NULL, "tls", "off" },
	/* the client secret and the token state go only where the system file sends them */
#define SYS_OAUTH "relay smtp://mx.example\noauth2-provider microsoft\noauth2-client-id c\noauth2-client-secret cs\noauth2-state /var/lib/postie/s.json\n"
	{ SYS_OAUTH, "", NULL, "oauth2-client-secret", "cs" },
	{ SYS_OAUTH, "", NULL, "oauth2-system", "yes" },
	{ SYS_OAUTH, "oauth2-token-url https://evil.example/t\n", NULL, "oauth2-client-secret", "(null)" },
	{ SYS_OAUTH, "oauth2-token-url https://evil.example/t\n", NULL, "oauth2-state", "(null)" },
	{ SYS_OAUTH, "oauth2-device-url https://evil.example/d\n", NULL, "oauth2-client-secret", "(null)" },
	{ SYS_OAUTH, "oauth2-provider custom\noauth2-token-url https://t.example/\n", NULL, "oauth2-client-secret", "(null)" },
	{ SYS_OAUTH, "oauth2-provider google\n", NULL, "oauth2-system", "no" },
	{ SYS_OAUTH, "oauth2-scope other\n", NULL, "oauth2-client-secret", "cs" },
	/* the system's tokens (the broker's) only with every connection and oauth2- key the
	 * system file's; any other setting of the user's makes the OAuth2 account the user's own */
	{ SYS_OAUTH, "relay smtp://other.example\n", NULL, "oauth2-system", "no" },
	{ SYS_OAUTH, "user someone@example.org\n", NULL, "oauth2-system", "no" },
	{ SYS_OAUTH, "oauth2-scope other\n", NULL, "oauth2-system", "no" },
	{ SYS_OAUTH, "oauth2-state /tmp/mine.json\n", NULL, "oauth2-system", "no" },
	{ SYS_OAUTH, "oauth2-client-id mine\n", NULL, "oauth2-system", "no" },
	{ SYS_OAUTH, "from me@example.org\ntimeout 9\n", NULL, "oauth2-system", "yes" },
};

static void test_secrets(void)
{
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
		config_free(&c);
		memset(&d, 0, sizeof d);
		int rc = config_parse_system(&c, "system.conf", secrets[i].system,
					     strlen(secrets[i].system), false, &d);
		if (rc == EX_OK)
			rc = config_parse(&c, "user.conf", secrets[i].user, strlen(secrets[i].user), &d);
		if (rc == EX_OK)
			rc = config_finish(&c, &d);
		is_int(rc, EX_OK, "secrets %zu parses", i);
		if (rc != EX_OK) {
			tap_diag_str("error", d.msg);
			continue;
		}
		const struct account *a = pick(secrets[i].account, NULL);
		const char *got = !a ? "(no account)"
				: strcmp(secrets[i].field, "note") == 0
				? (a->secrets_note ? a->secrets_note : "(null)")
				: field(a, secrets[i].field);
		is_str(got, secrets[i].want, "secrets %zu: %s", i, secrets[i].field);
	}

	/* once the broker runs, the user's process keeps none of the system's client secrets; a
	 * user's own stays */
	config_free(&c);
	memset(&d, 0, sizeof d);
	const char *mine = "account own\noauth2-provider custom\noauth2-client-id o\n"
			   "oauth2-token-url https://t.example/\noauth2-client-secret own-secret\n";
	int frc = config_parse_system(&c, "system.conf", SYS_OAUTH, strlen(SYS_OAUTH), false, &d);
	if (frc == EX_OK)
		frc = config_parse(&c, "user.conf", mine, strlen(mine), &d);
	if (frc == EX_OK)
		frc = config_finish(&c, &d);
	is_int(frc, EX_OK, "a system and a user OAuth2 account");
	config_forget_system_client_secrets(&c);
	is_str(field(pick(NULL, NULL), "oauth2-client-secret"), "(null)",
	       "the system's client secret is forgotten");
	is_str(field(pick("own", NULL), "oauth2-client-secret"), "own-secret",
	       "the user's own is kept");
	ok(config_has_oauth2(&c), "config_has_oauth2 sees oauth2-provider");

	/* a hidden system file: its errors name the line and the key, never a value */
	static const struct {
		const char *text, *error;
	} hidden[] = {
		{ "relay smtp://u:s3cret@mx\n", "sys.conf:1: relay is not smtp://host[:port] or smtps://host[:port] (the value is not shown)" },
		{ "s3cret\n", "sys.conf:1: unknown key (not shown)" },
		{ "tls s3cret\n", "sys.conf:1: tls is not required, opportunistic or off (the value is not shown)" },
		{ "from <s3cret\n", "sys.conf:1: from is not an address (the value is not shown)" },
		{ "local-domains ok.example s3cret!\n", "sys.conf:1: local-domains holds a name that is not a domain name (the value is not shown)" },
		{ "password-command s3cret|x\n", "sys.conf:1: password-command is not a command line (quoting or shell syntax) (the value is not shown)" },
		{ "account s3cret!\n", "sys.conf:1: account is not a name of letters, digits and -_.@+ (the value is not shown)" },
		{ "timeout s3cret\n", "sys.conf:1: timeout is not a number of seconds (1-86400) (the value is not shown)" },
		{ "queue s3cret\n", "sys.conf:1: queue is not an absolute path or ~/path (the value is not shown)" },
		{ "oauth2 yes\nauth S3CRET\n", "sys.conf:1: oauth2 yes needs auth auto, XOAUTH2 or OAUTHBEARER, not the one set" },
	};
	for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
		config_free(&c);
		memset(&d, 0, sizeof d);
		int rc = config_parse_system(&c, "sys.conf", hidden[i].text, strlen(hidden[i].text),
					     true, &d);
		if (rc == EX_OK)
			rc = config_finish(&c, &d);
		is_int(rc, EX_CONFIG, "hidden %zu is EX_CONFIG", i);
		is_str(d.msg, hidden[i].error, "hidden %zu: the message", i);
		ok(strstr(d.msg, "s3cret") == NULL && strstr(d.msg, "S3CRET") == NULL,
		   "hidden %zu: no value in it", i);
	}
}

static void test_durations_and_splits(void)
{
	for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		long s = -1;
		bool ok_ = config_duration(durations[i].text, &s);
		if (durations[i].seconds)
			ok(ok_ && s == durations[i].seconds, "duration '%s' is %ld s", durations[i].text, durations[i].seconds);
		else
			ok(!ok_, "duration '%s' is refused", durations[i].text);
	}
	for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
		struct strlist argv = {0};
		struct diag why = {0};
		int rc = config_split_command(splits[i].cmd, &argv, &why);
		char joined[512] = "";
		for (size_t j = 0; j < argv.n; j++)
			snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", j ? "|" : "", argv.v[j]);
		is_int(rc, splits[i].ok ? EX_OK : EX_CONFIG, "split %zu status", i);
		is_str(splits[i].ok ? joined : why.msg, splits[i].argv, "split %zu: %s", i, splits[i].cmd);
		strlist_free(&argv);
	}
}

/* Runs the password of the top level of text; returns the status, the secret in *out. */
static int password_of(const char *text, char **out)
{
	*out = NULL;
	if (load(text) != EX_OK)
		return -1;
	memset(&d, 0, sizeof d);
	return config_password(pick(NULL, NULL), out, &d);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_password(void)
{
	char *pw;
	is_int(password_of("user u\n", &pw), EX_OK, "no secret at all is fine");
	ok(pw == NULL, "and gives NULL");
	is_int(password_of("password \"a # b\"\n", &pw), EX_OK, "password");
	is_str(pw, "a # b", "is returned as a copy");
	config_secret_free(pw);

	is_int(password_of("password-command printf '%s\\n' 'my secret # = x' 'second line'\n", &pw),
	       EX_OK, "a command that prints a secret with spaces");
	is_str(pw, "my secret # = x", "gives its first line");
	config_secret_free(pw);

	is_int(password_of("password-command printf \"%s|%s\\r\\n\" \"a \\\"b\\\"\" 'c\"d'\n", &pw),
	       EX_OK, "quotes in argv");
	is_str(pw, "a \"b\"|c\"d", "reach the command unchanged, CR LF removed");
	config_secret_free(pw);

	is_int(password_of("password-command printf tail-without-newline\n", &pw), EX_OK,
	       "output without a line break");
	is_str(pw, "tail-without-newline", "is the secret");
	config_secret_free(pw);

	is_int(password_of("password-command sh -c 'echo \"no such key\" >&2; echo partial; exit 3'\n", &pw),
	       EX_CONFIG, "a failing command is EX_CONFIG");
	is_str(d.msg, "password-command 'sh': exited with status 3: no such key", "with its status and stderr");
	ok(pw == NULL, "and no secret");

	is_int(password_of("password-command sh -c 'kill -TERM $$'\n", &pw), EX_CONFIG, "a killed command");
	is_str(d.msg, "password-command 'sh': killed by signal 15 (Terminated)", "says which signal");

	double t0 = now();
	is_int(password_of("timeout 1\npassword-command sh -c 'echo wait >&2; sleep 30'\n", &pw),
	       EX_CONFIG, "a command past the timeout");
	is_str(d.msg, "password-command 'sh': timed out after 1 s: wait", "is killed and says so");
	ok(now() - t0 < 5, "within the timeout (%.1f s)", now() - t0);

	t0 = now();
	is_int(password_of("password-command sh -c 'echo early; sleep 30 & exit 0'\n", &pw), EX_OK,
	       "a command whose child keeps the pipe open");
	is_str(pw, "early", "is done when it exits");
	ok(now() - t0 < 5, "without waiting for the child (%.1f s)", now() - t0);
	config_secret_free(pw);

	is_int(password_of("password-command true\n", &pw), EX_CONFIG, "a command that prints nothing");
	is_str(d.msg, "password-command 'true': printed nothing", "is an error");
	is_int(password_of("password-command printf '\\nlater\\n'\n", &pw), EX_CONFIG, "an empty first line");
	is_str(d.msg, "password-command 'printf': printed an empty first line", "is an error");

	is_int(password_of("password-command /nonexistent/cmd arg\n", &pw), EX_CONFIG, "a missing command");
	is_str(d.msg, "password-command '/nonexistent/cmd': cannot run: No such file or directory", "cannot run");
	is_int(password_of("password-command no-such-command-postie-test\n", &pw), EX_CONFIG, "a command not in PATH");
	is_str(d.msg, "password-command 'no-such-command-postie-test': cannot run: No such file or directory",
	       "cannot run either");

	is_int(password_of("password-command cat\n", &pw), EX_CONFIG, "stdin is /dev/null");
	is_str(d.msg, "password-command 'cat': printed nothing", "so cat ends at once");

	setenv("POSTIE_CONFIG_TEST", "leak", 1);
	setenv("OTHER_TEST_VAR", "kept", 1);
	is_int(password_of("password-command sh -c 'echo \"${POSTIE_CONFIG_TEST-none}:$OTHER_TEST_VAR\"'\n", &pw),
	       EX_OK, "the environment");
	is_str(pw, "none:kept", "is passed on without POSTIE_* variables");
	config_secret_free(pw);
	unsetenv("POSTIE_CONFIG_TEST");
	unsetenv("OTHER_TEST_VAR");

	is_int(password_of("password-command sh -c 'echo \"$0|$1\"' 'x y' '$HOME'\n", &pw), EX_OK,
	       "no expansion");
	is_str(pw, "x y|$HOME", "of $");
	config_secret_free(pw);

	is_int(password_of("account w\npassword-command echo acct\n", &pw), EX_OK, "top level");
	ok(pw == NULL, "has no secret when only the account has one");
	memset(&d, 0, sizeof d);
	is_int(config_password(pick("w", NULL), &pw, &d), EX_OK, "the account's command");
	is_str(pw, "acct", "runs");
	config_secret_free(pw);
	config_secret_free(NULL);
}

static char tmpdir[256];

static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
		abort();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, mode) < 0)
		abort();
	close(fd);
	return path;
}

static void test_files(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/config_test.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();

	char *p644 = write_file("p644", "user u\npassword s3cret\n", 0644);
	char *p640 = write_file("p640", "account a\npassword s3cret\n", 0640);
	char *p604 = write_file("p604", "password-command x\npassword s3cret\n", 0604);
	char *p600 = write_file("p600", "password s3cret\n", 0600);
	char *p400 = write_file("p400", "password s3cret\n", 0400);
	char *n644 = write_file("n644", "user u\npassword-command pass show x\n", 0644);
	char *bad = write_file("bad", "\nrelayy x\n", 0644);
	char want[1024];

	config_free(&c);
	memset(&d, 0, sizeof d);
	is_int(config_parse_file(&c, p644, false, &d), EX_CONFIG, "a 0644 file with a password is refused");
	snprintf(want, sizeof want, "%s: holds a password and can be read by others than its owner (chmod 600 %s)", p644, p644);
	is_str(d.msg, want, "naming the file and the fix");
	ok(strstr(d.msg, "s3cret") == NULL, "without the password");
	config_free(&c);
	is_int(config_parse_file(&c, p640, false, &d), EX_CONFIG, "a 0640 user file with a password is refused");
	config_free(&c);
	is_int(config_parse_file(&c, p604, false, &d), EX_CONFIG, "as is a 0604 one");
	config_free(&c);
	is_int(config_parse_file(&c, p600, false, &d), EX_OK, "a 0600 file with a password is read");
	config_free(&c);
	is_int(config_parse_file(&c, p400, false, &d), EX_OK, "and a 0400 one");
	config_free(&c);
	is_int(config_parse_file(&c, n644, false, &d), EX_OK, "a 0644 file with password-command is read");
	config_free(&c);
	is_int(config_parse_file(&c, p644, true, &d), EX_CONFIG, "a 0644 system file with a password is refused");
	config_free(&c);
	struct group *g = getgrnam("postie");
	if (!g) {
		is_int(config_parse_file(&c, p640, true, &d), EX_CONFIG,
		       "a 0640 system file is refused when there is no group postie");
		snprintf(want, sizeof want, "%s: holds a password and can be read by others than its owner (chmod 600 %s)", p640, p640);
		is_str(d.msg, want, "with the fix");
	} else {
		ok(chown(p640, (uid_t)-1, g->gr_gid) == 0, "chgrp postie");
		is_int(config_parse_file(&c, p640, true, &d), EX_OK, "a 0640 system file of group postie is read");
		config_free(&c);
		ok(chown(p640, (uid_t)-1, 0) == 0, "chgrp root");
		is_int(config_parse_file(&c, p640, true, &d), EX_CONFIG, "a 0640 system file of another group is not");
	}
	config_free(&c);

	snprintf(want, sizeof want, "%s:2: unknown key 'relayy'", bad);
	is_int(config_parse_file(&c, bad, false, &d), EX_CONFIG, "a file's error");
	is_str(d.msg, want, "names the path and the line");
	config_free(&c);
	snprintf(want, sizeof want, "%s/none: no such file", tmpdir);
	char *none = NULL;
	if (asprintf(&none, "%s/none", tmpdir) < 0)
		abort();
	is_int(config_parse_file(&c, none, false, &d), EX_CONFIG, "a missing file");
	is_str(d.msg, want, "is named");
	config_free(&c);
	is_int(config_parse_file(&c, tmpdir, false, &d), EX_CONFIG, "a directory");
	snprintf(want, sizeof want, "%s: not a regular file", tmpdir);
	is_str(d.msg, want, "is not a regular file");
	config_free(&c);

	/* The user's file: -C, else $POSTIE_CONFIG, else XDG, else ~/.config. */
	char *user = write_file("user", "domain user.example\n", 0600);
	char *xdg = NULL;
	if (asprintf(&xdg, "%s/postie", tmpdir) < 0 || mkdir(xdg, 0700) < 0)
		abort();
	char *xdgfile = write_file("postie/config", "domain xdg.example\n", 0600);
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	unsetenv("POSTIE_CONFIG");
	memset(&c, 0, sizeof c);
	is_int(config_load_user(&c, NULL, &d), EX_OK, "the XDG file");
	is_int(config_finish(&c, &d), EX_OK, "finishes");
	is_str(pick(NULL, NULL)->domain, "xdg.example", "is read");
	is_str(c.files.n ? c.files.v[c.files.n - 1] : NULL, xdgfile, "and listed");
	config_free(&c);
	setenv("POSTIE_CONFIG", user, 1);
	is_int(config_load_user(&c, NULL, &d), EX_OK, "POSTIE_CONFIG");
	config_finish(&c, &d);
	is_str(pick(NULL, NULL)->domain, "user.example", "replaces it");
	config_free(&c);
	is_int(config_load_user(&c, xdgfile, &d), EX_OK, "-C");
	config_finish(&c, &d);
	is_str(pick(NULL, NULL)->domain, "xdg.example", "wins over POSTIE_CONFIG");
	config_free(&c);
	setenv("POSTIE_CONFIG", none, 1);
	is_int(config_load_user(&c, NULL, &d), EX_CONFIG, "a missing POSTIE_CONFIG file");
	snprintf(want, sizeof want, "%s: no such file", none);
	is_str(d.msg, want, "is an error");
	config_free(&c);
	unsetenv("POSTIE_CONFIG");
	setenv("XDG_CONFIG_HOME", none, 1);
	is_int(config_load_user(&c, NULL, &d), EX_OK, "a missing default user file is fine");
	is_int(c.files.n, 0, "and nothing is listed");
	config_free(&c);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", none, 1);
	is_int(config_load_user(&c, NULL, &d), EX_OK, "a missing ~/.config/postie/config is fine");
	config_free(&c);
	setenv("HOME", "/home/tester", 1);

	is_int(config_drop_privileges(&d), EX_OK, "dropping no privilege is a no-op");

	unlink(p644); unlink(p640); unlink(p604); unlink(p600); unlink(p400); unlink(n644);
	unlink(bad); unlink(user); unlink(xdgfile); rmdir(xdg); rmdir(tmpdir);
	free(p644); free(p640); free(p604); free(p600); free(p400); free(n644); free(bad);
	free(none); free(user); free(xdg); free(xdgfile);
}

int main(void)
{
	setenv("HOME", "/home/tester", 1);
	test_values();
	test_errors();
	test_loopback();
	test_pick();
	test_secrets();
	test_durations_and_splits();
	test_password();
	test_files();
	config_free(&c);
	return done_testing();
}
