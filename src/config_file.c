/* SPDX-License-Identifier: ISC */
/* config_file.c: which files are read, in what order, with what privilege (system file, group
 * dropped, user's file). It never reads a user's file with privilege, and never parses a line. */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		rc = config_parse_text(c, path, text.data ? text.data : "", text.len, system,
				       hidden, d);
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
