/* SPDX-License-Identifier: ISC */
/* tokenstate.c: the token state file (see tokenstate.h): JSON through jansson, atomic
 * replacement, flock. It never prints a token, never leaves one in freed memory it allocated. */
#include "tokenstate.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX (64 * 1024)

#ifdef POSTIE_GROUP
#define STATE_GROUP POSTIE_GROUP	/* ./configure --with-setgid-group */
#else
#define STATE_GROUP "postie"
#endif

void oauth2_token_clear(struct oauth2_token *t)
{
	wipe_free(t->access_token);
	wipe_free(t->refresh_token);
	memset(t, 0, sizeof *t);
}

/* jansson frees through free(); its blocks hold tokens, so wipe them first. */
static void *json_malloc_wiping(size_t n)
{
	return xmalloc(n ? n : 1);
}

static void json_free_wiping(void *p)
{
	if (!p)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void tokenstate_json_init(void)
{
	static bool done;
	if (!done)
		json_set_alloc_funcs(json_malloc_wiping, json_free_wiping);
	done = true;
}

static int take_string(json_t *obj, const char *key, char **out, struct diag *d)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return EX_OK;
	if (!json_is_string(v))
		return diag_set(d, EX_DATAERR, "%s is not a string", key);
	*out = xstrndup(json_string_value(v), json_string_length(v));
	return EX_OK;
}

static int take_time(json_t *obj, const char *key, time_t *out, struct diag *d)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return EX_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return diag_set(d, EX_DATAERR, "%s is not a number of seconds", key);
	*out = (time_t)json_integer_value(v);
	return EX_OK;
}

int tokenstate_parse(const char *text, size_t len, struct oauth2_token *t, struct diag *d)
{
	tokenstate_json_init();
	oauth2_token_clear(t);
	json_error_t err;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return diag_set(d, EX_DATAERR, "not JSON (line %d)", err.line);
	int rc = EX_OK;
	if (!json_is_object(root))
		rc = diag_set(d, EX_DATAERR, "not a JSON object");
	if (rc == EX_OK)
		rc = take_string(root, "access_token", &t->access_token, d);
	if (rc == EX_OK)
		rc = take_string(root, "refresh_token", &t->refresh_token, d);
	if (rc == EX_OK)
		rc = take_time(root, "expires_at", &t->expires_at, d);
	if (rc == EX_OK)
		rc = take_time(root, "obtained_at", &t->obtained_at, d);
	if (rc == EX_OK)
		rc = take_time(root, "refreshed_at", &t->refreshed_at, d);
	json_decref(root);
	if (rc != EX_OK)
		oauth2_token_clear(t);
	return rc;
}

char *tokenstate_format(const struct oauth2_token *t)
{
	tokenstate_json_init();
	json_t *root = json_object();
	if (t->access_token)
		json_object_set_new(root, "access_token", json_string(t->access_token));
	if (t->refresh_token)
		json_object_set_new(root, "refresh_token", json_string(t->refresh_token));
	json_object_set_new(root, "expires_at", json_integer((json_int_t)t->expires_at));
	json_object_set_new(root, "obtained_at", json_integer((json_int_t)t->obtained_at));
	json_object_set_new(root, "refreshed_at", json_integer((json_int_t)t->refreshed_at));
	char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	/* jansson fails only for want of memory; the caller frees with wipe_free, i.e. free():
	 * the block came from xmalloc */
	return text ? text : xstrdup("{}");
}

int tokenstate_read(const char *path, struct oauth2_token *t, bool *found, struct diag *d)
{
	struct buf text = {0};
	struct stat st;
	*found = false;
	oauth2_token_clear(t);
	int rc = read_small_file(path, STATE_MAX, true, &text, &st, d);
	if (rc == -1)
		return EX_OK;
	if (rc != EX_OK)
		return rc;
	if (st.st_mode & 0007) {
		explicit_bzero(text.data, text.len);
		buf_free(&text);
		return diag_set(d, EX_CONFIG, "%s: readable by others: chmod 600 it", path);
	}
	struct diag why = {0};
	rc = tokenstate_parse(text.data, text.len, t, &why);
	explicit_bzero(text.data, text.len);
	buf_free(&text);
	if (rc != EX_OK)
		return diag_set(d, EX_CONFIG, "%s: %s", path, why.msg);
	*found = true;
	return EX_OK;
}

/* mkdir -p of the directories above path, each made 0700. */
static int make_parents(const char *path)
{
	char *dir = xstrdup(path);
	int rc = 0;
	for (char *p = dir + 1; *p && rc == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	free(dir);
	return rc;
}

/* The directory part of path ("." when none), for the caller to free. */
static char *dir_of(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	return dir;
}

static int fsync_dir_of(const char *path)
{
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int tokenstate_write(const char *path, const struct oauth2_token *t, struct diag *d)
{
	return tokenstate_write_mode(path, t, 0600, d);
}

int tokenstate_write_mode(const char *path, const struct oauth2_token *t, mode_t mode,
			  struct diag *d)
{
	if (make_parents(path) != 0)
		return diag_set(d, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	char *tmp = xasprintf("%s.tmpXXXXXX", path);
	/* mkstemp makes it 0600 */
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return diag_set(d, EX_CANTCREAT, "%s: %s", path, strerror(e));
	}
	char *text = tokenstate_format(t);
	size_t n = strlen(text);
	int rc = EX_OK;
	if (fchmod(fd, mode) != 0 || write_all(fd, text, n) != 0 || write_all(fd, "\n", 1) != 0 ||
	    fsync(fd) != 0)
		rc = diag_set(d, EX_CANTCREAT, "%s: %s", tmp, strerror(errno));
	wipe_free(text);
	if (close(fd) != 0 && rc == EX_OK)
		rc = diag_set(d, EX_CANTCREAT, "%s: %s", tmp, strerror(errno));
	if (rc == EX_OK && rename(tmp, path) != 0)
		rc = diag_set(d, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	if (rc != EX_OK)
		unlink(tmp);
	else if (fsync_dir_of(path) != 0)
		rc = diag_set(d, EX_CANTCREAT, "%s: fsync of its directory: %s", path,
			      strerror(errno));
	free(tmp);
	return rc;
}

int tokenstate_lock(const char *path, int *fd, struct diag *d)
{
	return tokenstate_lock_mode(path, 0600, 0, fd, d);
}

int tokenstate_lock_mode(const char *path, mode_t mode, long wait, int *fd, struct diag *d)
{
	*fd = -1;
	if (make_parents(path) != 0)
		return diag_set(d, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	char *lock = xasprintf("%s.lock", path);
	int l = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	/* a shared state's lock made by another (root, 0640): its group may read it, and
	 * flock(2) needs no more */
	if (l < 0 && errno == EACCES)
		l = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int rc = EX_OK;
	if (l < 0) {
		rc = diag_set(d, EX_CANTCREAT, "%s: %s", lock, strerror(errno));
	} else {
		/* a bounded wait: a holder stopped (SIGSTOP: a broker runs as its caller, who may
		 * stop it) must not hold every other run, root's too, for ever */
		const struct timespec step = { 0, 50 * 1000 * 1000 };
		long steps = (wait > 0 ? wait : TOKENSTATE_LOCK_WAIT) * 20;
		int r;
		while ((r = flock(l, LOCK_EX | LOCK_NB)) != 0 &&
		       (errno == EWOULDBLOCK || errno == EINTR) && steps-- > 0)
			nanosleep(&step, NULL);
		if (r != 0 && (errno == EWOULDBLOCK || errno == EINTR)) {
			rc = diag_set(d, EX_TEMPFAIL, "%s: held by another run for %ld seconds", lock,
				      wait > 0 ? wait : TOKENSTATE_LOCK_WAIT);
			close(l);
		} else if (r != 0) {
			rc = diag_set(d, EX_CANTCREAT, "%s: %s", lock, strerror(errno));
			close(l);
		} else {
			*fd = l;
		}
	}
	free(lock);
	return rc;
}

void tokenstate_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* mkdir -p of dir's parents, 0755 (root's LOCALSTATEDIR/lib/postie). */
static void make_public_parents(const char *dir)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			break;
		*s = '/';
	}
	free(p);
}

int tokenstate_shared_dir(const char *path, struct diag *d)
{
	char *dir = dir_of(path);
	struct stat st;
	int rc = EX_OK;
	if (lstat(dir, &st) != 0 && errno == ENOENT && geteuid() == 0) {
		struct group *g = getgrnam(STATE_GROUP);
		make_public_parents(dir);
		if (mkdir(dir, 0700) != 0 || chown(dir, 0, g ? g->gr_gid : 0) != 0 ||
		    chmod(dir, 02770) != 0)
			rc = diag_set(d, EX_CANTCREAT, "%s: %s", dir, strerror(errno));
	}
	if (rc == EX_OK && lstat(dir, &st) != 0)
		rc = diag_set(d, EX_CONFIG, "%s: %s (as root: mkdir -m 2770 %s; chgrp " STATE_GROUP
			      " %s)", dir, strerror(errno), dir, dir);
	else if (rc == EX_OK && (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & S_IRWXO)))
		rc = diag_set(d, EX_CONFIG, "%s: the system's token state must be in a directory "
			      "of root's that others cannot enter (root:" STATE_GROUP " 02770)", dir);
	free(dir);
	return rc;
}

int tokenstate_migrate(const char *old, const char *path, struct diag *d)
{
	struct stat st;
	if (geteuid() != 0)
		return EX_OK;
	/* an earlier release made old's directory 0700: the broker must pass through it */
	char *dir = dir_of(old);
	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	    (st.st_mode & 0777) == 0700 && chmod(dir, 0755) != 0) {
		int rc = diag_set(d, EX_CANTCREAT, "%s: %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	free(dir);
	if (lstat(path, &st) == 0 || errno != ENOENT ||
	    lstat(old, &st) != 0 || !S_ISREG(st.st_mode))
		return EX_OK;
	struct group *g = getgrnam(STATE_GROUP);
	if (rename(old, path) != 0)
		return errno == ENOENT ? EX_OK : diag_set(d, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	if (chown(path, 0, g ? g->gr_gid : 0) != 0 || chmod(path, 0640) != 0)
		return diag_set(d, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	char *lock = xasprintf("%s.lock", old);
	unlink(lock);
	free(lock);
	return EX_OK;
}
