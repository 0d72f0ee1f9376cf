/* SPDX-License-Identifier: ISC */
/* user.c: the login name, full name and home directory of a submitting user, from passwd and
 * the caller's own environment. It never reads another user's environment and never decides
 * what may be sent. */
#include "user.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

char *user_login(uid_t uid, bool from_env)
{
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name && *pw->pw_name)
		return xstrdup(pw->pw_name);
	if (!from_env)
		return xasprintf("uid%lu", (unsigned long)uid);
	const char *env = getenv("LOGNAME");
	if (!env || !*env)
		env = getenv("USER");
	return xstrdup(env && *env ? env : "nobody");
}

/* Takes ownership of s; NULL when nothing is left. */
static char *clean_name(char *s)
{
	size_t out = 0;
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		bool space = c < 0x20 || c == 0x7f || c == ' ';
		if (space && (out == 0 || s[out - 1] == ' '))
			continue;
		s[out++] = space ? ' ' : (char)c;
	}
	while (out > 0 && s[out - 1] == ' ')
		out--;
	s[out] = '\0';
	if (out == 0) {
		free(s);
		return NULL;
	}
	return s;
}

char *user_full_name(uid_t uid, const char *name_env)
{
	if (name_env)
		return clean_name(xstrdup(name_env));
	struct passwd *pw = getpwuid(uid);
	if (!pw || !pw->pw_gecos)
		return NULL;
	struct buf name = {0};
	buf_puts(&name, "");
	for (const char *c = pw->pw_gecos; *c && !strchr(",;%", *c); c++) {
		if (*c != '&') {
			buf_putc(&name, *c);
		} else if (pw->pw_name && *pw->pw_name) {
			char first = pw->pw_name[0];
			buf_putc(&name, first >= 'a' && first <= 'z' ? (char)(first - 'a' + 'A') : first);
			buf_puts(&name, pw->pw_name + 1);
		}
	}
	return clean_name(buf_steal(&name));
}

char *user_home_dir(void)
{
	const char *home = getenv("HOME");
	if (home && *home == '/')
		return xstrdup(home);
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_dir && *pw->pw_dir == '/')
		return xstrdup(pw->pw_dir);
	return NULL;
}
