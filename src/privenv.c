/* SPDX-License-Identifier: ISC */
/* privenv.c: the allow list of a privileged run's environment (see privenv.h). Everything not
 * named here goes, whatever a library might make of it; nothing here reads a value's file. */
#include "privenv.h"

#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

/* Any value will do: postie reads these only after config_drop_privileges (the user's own
 * files, the queue, the password-command's PATH), or only for text it shows. */
static bool any_value(const char *v)
{
	(void)v;
	return true;
}

/* A locale name such as "en_US.UTF-8" or "sr_RS@latin", never a path: glibc takes a name with
 * a '/' for a locale directory, and setlocale runs while postie still holds its group. */
static bool locale_name(const char *v)
{
	if (*v == '.')
		return false;
	for (; *v; v++) {
		char c = *v;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("_.-@+", c)))
			return false;
	}
	return true;
}

/* A POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3") or a zone name under the system's zoneinfo
 * directory ("Europe/Paris", ":Europe/Paris"), never a file of the user's: no absolute path
 * and no ".." step out of the directory. TZDIR is not on the list, so the directory is the
 * system's. */
static bool zone_name(const char *v)
{
	if (*v == ':')
		v++;
	if (*v == '/')
		return false;
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static const struct {
	const char *name;
	bool (*ok)(const char *value);
} allowed[] = {
	/* where the user's configuration and queue are: read after the group is given up */
	{ "HOME", any_value },
	{ "XDG_CONFIG_HOME", any_value },
	{ "XDG_STATE_HOME", any_value },
	{ "POSTIE_CONFIG", any_value },
	/* the password-command is looked up in PATH, after the group is given up */
	{ "PATH", any_value },
	/* the login name when the uid has no passwd entry, the display name, the terminal */
	{ "LOGNAME", any_value },
	{ "USER", any_value },
	{ "NAME", any_value },
	{ "TERM", any_value },
	/* composed bodies over 256 KiB (glibc itself drops TMPDIR from a setgid program) */
	{ "TMPDIR", any_value },
	/* the character set of names and subjects, and of IDN host names */
	{ "LANG", locale_name },
	{ "LC_ALL", locale_name },
	{ "LC_CTYPE", locale_name },
	{ "LC_COLLATE", locale_name },
	{ "LC_MESSAGES", locale_name },
	{ "LC_MONETARY", locale_name },
	{ "LC_NUMERIC", locale_name },
	{ "LC_TIME", locale_name },
	{ "LC_ADDRESS", locale_name },
	{ "LC_IDENTIFICATION", locale_name },
	{ "LC_MEASUREMENT", locale_name },
	{ "LC_NAME", locale_name },
	{ "LC_PAPER", locale_name },
	{ "LC_TELEPHONE", locale_name },
	/* the zone of the Date header and of the logfile's times */
	{ "TZ", zone_name },
	/* Not POSTIE_NOW: a test hook, and a setgid program's clock is the system's. */
};

bool privenv_privileged(void)
{
	return getauxval(AT_SECURE) != 0 || getuid() != geteuid() || getgid() != getegid();
}

bool privenv_allowed(const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq)
		return false;
	size_t n = (size_t)(eq - entry);
	for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
		if (strlen(allowed[i].name) == n && memcmp(allowed[i].name, entry, n) == 0)
			return allowed[i].ok(eq + 1);
	return false;
}

/* Whether kept[0..n) already holds a variable named like entry (up to its '='). */
static bool name_taken(char *const *kept, size_t n, const char *entry)
{
	size_t len = strcspn(entry, "=");
	for (size_t i = 0; i < n; i++)
		if (strncmp(kept[i], entry, len) == 0 && kept[i][len] == '=')
			return true;
	return false;
}

char **privenv_reduce(char *const *env)
{
	size_t total = 0;
	while (env && env[total])
		total++;
	char **kept = xcalloc(total + 1, sizeof *kept);
	size_t n = 0;
	for (size_t i = 0; i < total; i++)
		if (privenv_allowed(env[i]) && !name_taken(kept, n, env[i]))
			kept[n++] = env[i];
	kept[n] = NULL;
	return kept;
}

/* The caller's environment as exec gave it, kept for what runs without the privilege. */
static char **caller_environ;

void privenv_apply(void)
{
	/* The old array and its strings stay where the kernel put them; the new array lives as
	 * long as the process, as environ must. */
	caller_environ = environ;
	if (privenv_privileged())
		environ = privenv_reduce(environ);
}

char *const *privenv_caller(void)
{
	return caller_environ ? caller_environ : environ;
}
