/* SPDX-License-Identifier: ISC */
/* user_test.c: where the caller's home directory is found (user_home_dir): $HOME when absolute,
 * else the passwd entry, else none; one case per shape of $HOME. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "user.h"

/* What user_home_dir must fall back to: the passwd entry's directory when it is absolute. */
static const char *passwd_home(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : NULL;
}

static const struct {
	const char *home;	/* $HOME, or NULL for unset */
	const char *want;	/* NULL: the passwd entry's */
	const char *what;
} cases[] = {
	{ "/home/somebody", "/home/somebody", "an absolute $HOME is taken as it is" },
	{ "/", "/", "the root directory is a home" },
	{ "/srv/with space/", "/srv/with space/", "an absolute $HOME is not tidied" },
	{ "relative/home", NULL, "a relative $HOME is not trusted: the passwd entry" },
	{ "~", NULL, "a $HOME of ~ is not a path: the passwd entry" },
	{ "", NULL, "an empty $HOME: the passwd entry" },
	{ NULL, NULL, "no $HOME: the passwd entry" },
};

int main(void)
{
	const char *pw = passwd_home();
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		if (cases[i].home)
			setenv("HOME", cases[i].home, 1);
		else
			unsetenv("HOME");
		char *got = user_home_dir();
		const char *want = cases[i].want ? cases[i].want : pw;
		is_str(got, want, "%s", cases[i].what);
		free(got);
	}
	return done_testing();
}
