/* SPDX-License-Identifier: ISC */
/* trust.c: the StrictModes walk (see trust.h). It reads the file system and the user and group
 * databases, and nothing else: what a refusal means is the caller's business. */
#include "trust.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The rules for one component. last: it is the path itself, not a directory walked through;
 * only then does a sticky directory lose its excuse, since nothing of the user's lies below. */
static int check_component(const char *shown, const struct stat *st, uid_t uid, bool last,
			   struct diag *d)
{
	if (st->st_uid != uid && st->st_uid != 0) {
		struct passwd *pw = getpwuid(st->st_uid);
		return diag_set(d, EX_NOPERM, "%s is %sowned by uid %ld%s%s%s, not by %s", shown,
				S_ISLNK(st->st_mode) ? "a symbolic link " : "", (long)st->st_uid,
				pw ? " (" : "", pw ? pw->pw_name : "", pw ? ")" : "",
				uid == 0 ? "root" : "you or root");
	}
	if (S_ISLNK(st->st_mode))
		return EX_OK;	/* its mode means nothing; its target is walked next */
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return EX_OK;
	if (!last && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return EX_OK;	/* the next component's owner is checked: others cannot move it */
	unsigned mode = (unsigned)(st->st_mode & 07777);
	if (st->st_mode & S_IWOTH)
		return diag_set(d, EX_NOPERM, "%s is writable by others (mode %04o)", shown, mode);
	/* a group of one is still a group: its members can change tomorrow (OpenSSH agrees) */
	struct group *gr = getgrgid(st->st_gid);
	if (gr)
		return diag_set(d, EX_NOPERM, "%s is writable by its group %s (mode %04o)", shown,
				gr->gr_name, mode);
	return diag_set(d, EX_NOPERM, "%s is writable by its group gid %ld (mode %04o)", shown,
			(long)st->st_gid, mode);
}

/* The target of the link at path (malloc'd), or NULL with errno. */
static char *read_link(const char *path)
{
	for (size_t size = 256;; size *= 2) {
		char *target = xmalloc(size);
		ssize_t n = readlink(path, target, size);
		if (n < 0) {
			free(target);
			return NULL;
		}
		if ((size_t)n < size) {
			target[n] = '\0';
			return target;
		}
		free(target);
	}
}

/* Whether a component other than "" is left in rest. */
static bool more_components(const char *rest)
{
	return rest[strspn(rest, "/")] != '\0';
}

int path_check_trusted(const char *path, uid_t uid, struct diag *d)
{
	char *todo;	/* what is left to walk starts at rest, inside todo */
	if (*path == '/') {
		todo = xstrdup(path);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return diag_set(d, EX_NOINPUT, "the working directory: %s", strerror(errno));
		todo = xasprintf("%s/%s", cwd, path);
		free(cwd);
	}
	/* the physical path walked and checked so far: no link, ".", ".." or "//" in it, so that
	 * ".." is its dirname; empty for / */
	struct buf done = {0};
	buf_puts(&done, "");
	struct stat st;
	int links = 0, rc;
	if (lstat("/", &st) < 0)
		rc = diag_set(d, EX_NOINPUT, "/: %s", strerror(errno));
	else
		rc = check_component("/", &st, uid, false, d);
	const char *rest = todo;
	while (rc == EX_OK) {
		rest += strspn(rest, "/");
		size_t n = strcspn(rest, "/");
		if (n == 0)
			break;
		const char *name = rest;
		rest += n;
		if (n == 1 && name[0] == '.')
			continue;
		if (n == 2 && name[0] == '.' && name[1] == '.') {
			char *slash = strrchr(done.data, '/');
			done.len = slash ? (size_t)(slash - done.data) : 0;
			done.data[done.len] = '\0';
			continue;
		}
		size_t parent = done.len;
		buf_putc(&done, '/');
		buf_append(&done, name, n);
		if (lstat(done.data, &st) < 0) {
			rc = diag_set(d, EX_NOINPUT, "%s: %s", done.data, strerror(errno));
			break;
		}
		rc = check_component(done.data, &st, uid, false, d);
		if (rc != EX_OK)
			break;
		if (S_ISLNK(st.st_mode)) {
			char *target = NULL;
			if (++links > TRUST_MAX_LINKS)
				errno = ELOOP;
			else
				target = read_link(done.data);
			if (!target) {
				rc = diag_set(d, EX_NOINPUT, "%s: %s", done.data, strerror(errno));
				break;
			}
			/* the walk goes on from the link's directory, or from / */
			done.len = *target == '/' ? 0 : parent;
			done.data[done.len] = '\0';
			char *next = xasprintf("%s/%s", target, rest);
			free(target);
			free(todo);
			todo = next;
			rest = todo;
		} else if (!S_ISDIR(st.st_mode) && more_components(rest)) {
			rc = diag_set(d, EX_NOINPUT, "%s: %s", done.data, strerror(ENOTDIR));
		}
	}
	if (rc == EX_OK) {
		/* the end of the walk again, as the path itself: no sticky excuse */
		const char *final = done.len ? done.data : "/";
		if (lstat(final, &st) < 0)
			rc = diag_set(d, EX_NOINPUT, "%s: %s", final, strerror(errno));
		else
			rc = check_component(final, &st, uid, true, d);
	}
	buf_free(&done);
	free(todo);
	return rc;
}
