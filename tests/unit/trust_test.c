/* SPDX-License-Identifier: ISC */
/* trust_test.c: path_check_trusted on a scratch tree of directories, files and links with
 * other owners and modes: what passes, what is refused and the line that says why. Root only
 * (it chowns); a user other than root is simulated with uids nobody has. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"
#include "tap.h"

#define USER ((uid_t)4321)	/* the user whose queue it is: no entry in /etc/passwd */

static char base[1024];
static uid_t other;		/* another user: nobody, whose name the lines show */
static const char *other_name, *root_group;

/* Strings the checks below return, freed at the end. */
static struct strlist pool;

static const char *keep(char *s)
{
	strlist_add(&pool, s);
	free(s);
	return pool.v[pool.n - 1];
}

static const char *at(const char *rel)
{
	return keep(xasprintf("%s%s%s", base, *rel ? "/" : "", rel));
}

static void dir(const char *rel, uid_t owner, mode_t mode)
{
	if (mkdir(at(rel), 0700) < 0 || chown(at(rel), owner, 0) < 0 || chmod(at(rel), mode) < 0)
		printf("# setup %s: %s\n", rel, strerror(errno));
}

static void file(const char *rel, uid_t owner, mode_t mode)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || fchown(fd, owner, 0) < 0 || fchmod(fd, mode) < 0)
		printf("# setup %s: %s\n", rel, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void link_to(const char *rel, const char *target, uid_t owner)
{
	if (symlink(target, at(rel)) < 0 || lchown(at(rel), owner, 0) < 0)
		printf("# setup %s: %s\n", rel, strerror(errno));
}

/* The result of a check: "ok", or "<code>: <message>" with the base shown as B. */
static const char *check(const char *path, uid_t uid)
{
	struct diag d = {0};
	int rc = path_check_trusted(path, uid, &d);
	if (rc == EX_OK)
		return "ok";
	struct buf out = {0};
	buf_printf(&out, "%d: ", rc);
	size_t n = strlen(base);
	for (const char *m = d.msg; *m;) {
		if (strncmp(m, base, n) == 0) {
			buf_putc(&out, 'B');
			m += n;
		} else {
			buf_putc(&out, *m++);
		}
	}
	return keep(buf_steal(&out));
}

int main(void)
{
	if (geteuid() != 0) {
		const char *ci = getenv("CI");
		printf("1..0 # SKIP needs root to give files other owners\n");
		return ci && strcmp(ci, "true") == 0 ? 1 : 0;
	}
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = getgrgid(0);
	other = pw ? pw->pw_uid : 65534;
	other_name = xstrdup(pw ? pw->pw_name : "?");
	root_group = xstrdup(gr ? gr->gr_name : "gid 0");
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof base, "%s/trust_test.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		printf("Bail out! mkdtemp %s: %s\n", base, strerror(errno));
		return 1;
	}
	chmod(base, 0755);
	is_str(check(base, USER), "ok", "the scratch base is trusted (else nothing below is)");

	dir("u", USER, 0700);
	dir("u/q", USER, 0700);
	dir("o", other, 0755);
	dir("o/u", USER, 0700);
	dir("w", 0, 0777);
	dir("w/u", USER, 0700);
	dir("g", 0, 0775);
	dir("g/u", USER, 0700);
	dir("s", 0, 01777);
	dir("s/u", USER, 0700);
	dir("s/o", other, 0700);
	dir("s/r", 0, 0755);
	dir("s/r/u", USER, 0700);
	dir("t", 0, 01755);
	dir("t/u", USER, 0700);
	file("u/f", USER, 0600);
	file("u/f666", USER, 0666);
	file("u/f640", USER, 0640);
	file("u/f620", USER, 0620);
	link_to("u/link", "q", USER);
	link_to("u/abs", at("u/q"), USER);
	link_to("u/bad", at("w/u"), USER);
	link_to("u/rel", "../w/u", USER);
	link_to("u/loop", "loop", USER);
	link_to("u/rootlink", "/", 0);
	link_to("s/olink", at("u/q"), other);
	link_to("s/ulink", at("u/q"), USER);

	/* what passes */
	is_str(check("/", USER), "ok", "/ itself");
	is_str(check(at("u/q"), USER), "ok", "the user's own directories below root's");
	is_str(check(at("u/f"), USER), "ok", "the user's own file, mode 0600");
	is_str(check(at("u/f640"), USER), "ok", "a file its group may read but not write");
	is_str(check(at("s/u"), USER), "ok", "the user's directory in a sticky 1777 directory");
	is_str(check(at("s/r/u"), USER), "ok", "root's directory in a sticky one, then the user's");
	is_str(check(at("t/u"), USER), "ok", "a sticky directory nobody else can write");
	is_str(check(at("t"), USER), "ok", "... is fine as the path itself too");
	is_str(check(at("o"), other), "ok", "nobody's directory, seen by nobody");
	is_str(check(at("u/link"), USER), "ok", "the user's relative link to the user's directory");
	is_str(check(at("u/abs"), USER), "ok", "the user's absolute link to the user's directory");
	is_str(check(at("u/rootlink/tmp/.."), USER), "ok", "root's link to /, then a sticky /tmp and ..");
	is_str(check(at("s/ulink"), USER), "ok", "the user's link in a sticky directory");
	is_str(check(at("u/./q//"), USER), "ok", ". and repeated slashes");
	is_str(check(at("u/q/../q"), USER), "ok", "..");
	is_str(check(at("u/q/../../u"), USER), "ok", ".. twice");

	/* owners */
	is_str(check(at("u/q"), other), "77: B/u is owned by uid 4321, not by you or root",
	       "another user's directory: the first component not owned is named");
	is_str(check(at("o/u"), USER),
	       keep(xasprintf("77: B/o is owned by uid %ld (%s), not by you or root", (long)other,
			      other_name)),
	       "a parent owned by another user (named)");
	is_str(check(at("u/q"), 0), "77: B/u is owned by uid 4321, not by root",
	       "root: only root's components are trusted");
	is_str(check(at("s/o"), USER),
	       keep(xasprintf("77: B/s/o is owned by uid %ld (%s), not by you or root", (long)other,
			      other_name)),
	       "another user's directory in a sticky one");
	is_str(check(at("s/olink"), USER),
	       keep(xasprintf("77: B/s/olink is a symbolic link owned by uid %ld (%s), not by you "
			      "or root", (long)other, other_name)),
	       "another user's link in a sticky directory, to the user's own directory");

	/* modes */
	is_str(check(at("w/u"), USER), "77: B/w is writable by others (mode 0777)",
	       "a parent that others can write, not sticky");
	is_str(check(at("g/u"), USER),
	       keep(xasprintf("77: B/g is writable by its group %s (mode 0775)", root_group)),
	       "a parent that its group can write");
	is_str(check(at("s"), USER), "77: B/s is writable by others (mode 1777)",
	       "a sticky 1777 directory as the path itself");
	is_str(check(at("s/u/.."), USER), "77: B/s is writable by others (mode 1777)",
	       "... also when reached by ..");
	is_str(check(at("u/f666"), USER), "77: B/u/f666 is writable by others (mode 0666)",
	       "a file others can write");
	is_str(check(at("u/f620"), USER),
	       keep(xasprintf("77: B/u/f620 is writable by its group %s (mode 0620)", root_group)),
	       "a file its group can write");

	/* links are walked */
	is_str(check(at("u/bad"), USER), "77: B/w is writable by others (mode 0777)",
	       "the user's absolute link into a directory others can write");
	is_str(check(at("u/rel"), USER), "77: B/w is writable by others (mode 0777)",
	       "the user's relative link into it");
	is_str(check(at("u/loop"), USER), "66: B/u/loop: Too many levels of symbolic links",
	       "a loop of links");

	/* what cannot be examined */
	is_str(check(at("u/missing"), USER), "66: B/u/missing: No such file or directory",
	       "a missing component");
	is_str(check(at("u/f/x"), USER), "66: B/u/f: Not a directory", "a file in the middle");

	/* relative paths start at the working directory */
	if (chdir(at("u")) == 0) {
		is_str(check("q", USER), "ok", "a relative path below the user's directory");
		is_str(check("../w/u", USER), "77: B/w is writable by others (mode 0777)",
		       "a relative path through a directory others can write");
	}
	if (chdir(at("w/u")) == 0)
		is_str(check(".", USER), "77: B/w is writable by others (mode 0777)",
		       "the working directory's parents are checked");
	if (chdir("/") < 0)
		return 1;

	if (system(keep(xasprintf("rm -rf '%s'", base))) != 0)
		printf("# could not remove %s\n", base);
	strlist_free(&pool);
	free((char *)other_name);
	free((char *)root_group);
	return done_testing();
}
