/* SPDX-License-Identifier: ISC */
/* privenv_test.c: the allow list of a setgid run's environment, entry by entry, and the
 * reduction of a whole environment (order, duplicates, entries without '='). */
#include <stdlib.h>
#include <string.h>

#include "privenv.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char *entry;
	bool kept;
	const char *what;
} cases[] = {
	/* what postie needs */
	{ "HOME=/home/u", true, "HOME" },
	{ "XDG_CONFIG_HOME=/home/u/.config", true, "XDG_CONFIG_HOME" },
	{ "XDG_STATE_HOME=/home/u/.local/state", true, "XDG_STATE_HOME" },
	{ "POSTIE_CONFIG=/home/u/p.conf", true, "POSTIE_CONFIG" },
	{ "PATH=/usr/bin:/bin", true, "PATH, for the password-command" },
	{ "LOGNAME=u", true, "LOGNAME" },
	{ "USER=u", true, "USER" },
	{ "NAME=Zoë Müller", true, "NAME, the display name" },
	{ "TERM=xterm", true, "TERM" },
	{ "TMPDIR=/home/u/tmp", true, "TMPDIR" },
	{ "HOME=", true, "an empty value" },
	/* locales: names, never paths */
	{ "LANG=en_US.UTF-8", true, "LANG" },
	{ "LC_ALL=C", true, "LC_ALL=C" },
	{ "LC_CTYPE=sr_RS@latin", true, "a locale with a modifier" },
	{ "LC_TELEPHONE=de_DE.utf8", true, "LC_TELEPHONE" },
	{ "LANG=", true, "an empty LANG" },
	{ "LANG=/home/u/locale", false, "a locale path" },
	{ "LC_ALL=../../../home/u/l", false, "a relative locale path" },
	{ "LC_CTYPE=..", false, "a locale name of dots" },
	{ "LC_MESSAGES=en US", false, "a locale name with a space" },
	/* TZ: rules and zone names, never a file of the user's */
	{ "TZ=UTC", true, "TZ=UTC" },
	{ "TZ=Europe/Paris", true, "a zone name" },
	{ "TZ=:Europe/Paris", true, "a zone name after ':'" },
	{ "TZ=CET-1CEST,M3.5.0,M10.5.0/3", true, "a POSIX rule with a time" },
	{ "TZ=/home/u/zone", false, "an absolute zone file" },
	{ "TZ=:/home/u/zone", false, "an absolute zone file after ':'" },
	{ "TZ=../../../home/u/zone", false, "a zone name stepping out" },
	{ "TZ=Europe/../../../tmp/z", false, "a '..' inside" },
	{ "TZ=Europe/..", false, "a '..' at the end" },
	/* what a library would read: a file written or read, a connection redirected */
	{ "SSLKEYLOGFILE=/tmp/keys", false, "SSLKEYLOGFILE" },
	{ "OPENSSL_CONF=/tmp/o.cnf", false, "OPENSSL_CONF" },
	{ "OPENSSL_ENGINES=/tmp/e", false, "OPENSSL_ENGINES" },
	{ "OPENSSL_MODULES=/tmp/m", false, "OPENSSL_MODULES" },
	{ "SSL_CERT_FILE=/tmp/ca.pem", false, "SSL_CERT_FILE" },
	{ "SSL_CERT_DIR=/tmp/ca", false, "SSL_CERT_DIR" },
	{ "CURL_CA_BUNDLE=/tmp/ca.pem", false, "CURL_CA_BUNDLE" },
	{ "CURL_HOME=/tmp", false, "CURL_HOME" },
	{ "all_proxy=socks5://127.0.0.1:1", false, "all_proxy" },
	{ "ALL_PROXY=socks5://127.0.0.1:1", false, "ALL_PROXY" },
	{ "smtp_proxy=socks5://127.0.0.1:1", false, "smtp_proxy" },
	{ "NO_PROXY=*", false, "NO_PROXY" },
	{ "GCONV_PATH=/tmp", false, "GCONV_PATH" },
	{ "LOCPATH=/tmp", false, "LOCPATH" },
	{ "NLSPATH=/tmp/%N", false, "NLSPATH" },
	{ "HOSTALIASES=/tmp/h", false, "HOSTALIASES" },
	{ "RES_OPTIONS=debug", false, "RES_OPTIONS" },
	{ "LOCALDOMAIN=evil.example", false, "LOCALDOMAIN" },
	{ "TZDIR=/tmp", false, "TZDIR" },
	{ "MALLOC_TRACE=/tmp/m", false, "MALLOC_TRACE" },
	{ "KRB5_CONFIG=/tmp/k", false, "KRB5_CONFIG" },
	{ "POSTIE_NOW=1000000000", false, "POSTIE_NOW, a test hook" },
	/* names are matched whole */
	{ "PATHX=/tmp", false, "a name that starts like one on the list" },
	{ "PAT=/tmp", false, "a name that is the start of one on the list" },
	{ "path=/tmp", false, "a name in another case" },
	{ "LC_EVIL=x", false, "an LC_ name glibc does not know" },
	{ "HOME", false, "an entry without '='" },
	{ "=x", false, "an entry without a name" },
	{ "", false, "an empty entry" },
};

/* The reduced environment joined with '|'. */
static char *reduce(char **env)
{
	char **kept = privenv_reduce(env);
	struct buf b = {0};
	for (size_t i = 0; kept[i]; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", kept[i]);
	free(kept);
	return buf_steal(&b);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		is_int(privenv_allowed(cases[i].entry), cases[i].kept, "%s %s", cases[i].what,
		       cases[i].kept ? "is kept" : "is dropped");

	char *env[] = { "SSLKEYLOGFILE=/tmp/keys", "PATH=/usr/bin", "HOME=/h", "LANG=/tmp/l",
			"OPENSSL_CONF=/tmp/o", "PATH=/tmp/evil", "LANG=C.UTF-8", "noequals", "TZ=UTC",
			NULL };
	char *got = reduce(env);
	is_str(got, "PATH=/usr/bin|HOME=/h|LANG=C.UTF-8|TZ=UTC",
	       "reduce keeps the allowed entries in order, the first of each name");
	free(got);

	char **kept = privenv_reduce(env);
	ok(kept[0] == env[1], "the kept strings are the environment's own, not copies");
	free(kept);

	char *empty[] = { NULL };
	got = reduce(empty);
	is_str(got, "", "an empty environment stays empty");
	free(got);
	got = reduce(NULL);
	is_str(got, "", "no environment at all gives an empty one");
	free(got);

	char *none[] = { "SSLKEYLOGFILE=/tmp/k", "all_proxy=socks5://x", NULL };
	kept = privenv_reduce(none);
	ok(kept[0] == NULL, "nothing allowed gives an empty, NULL-terminated array");
	free(kept);

	ok(!privenv_privileged(), "a test program run by its own user is not privileged");
	return done_testing();
}
