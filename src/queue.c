/* SPDX-License-Identifier: ISC */
/* queue.c: the spool on disk (see queue.h). An entry is two files with the same id: <id>.msg,
 * the exact bytes, written once; and <id>.env, the envelope and delivery state, replaced
 * atomically. The .env file is renamed last, so an entry exists only once it is complete. */
#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

#define ENV_MAX_BYTES (16 * 1024 * 1024)

struct queue {
	char *dir;
};

struct spool {
	struct queue *q;
	char *id;
	char *tmp_path;
	int fd;
	unsigned long long size;
	int write_errno;	/* of the write that failed, or 0 */
};

struct queue_lock {
	struct queue *q;
	const char *sub;	/* "q" or "failed": where it was locked */
	char *id;
	int fd;		/* the message file, flock'ed */
	struct queue_meta meta;
};

void queue_meta_free(struct queue_meta *m)
{
	free(m->id);
	free(m->sender);
	strlist_free(&m->rcpts);
	free(m->relay);
	free(m->account);
	free(m->last_error);
	memset(m, 0, sizeof *m);
}

/* --- directories ---------------------------------------------------------------------- */

static int check_dir(const char *path, struct diag *d)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return diag_set(d, EX_CANTCREAT, "queue %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return diag_set(d, EX_CANTCREAT, "queue %s: not a directory", path);
	if (st.st_uid != geteuid())
		return diag_set(d, EX_NOPERM, "queue %s: owned by uid %ld, not by uid %ld", path,
				(long)st.st_uid, (long)geteuid());
	if (st.st_mode & 022)
		return diag_set(d, EX_NOPERM, "queue %s: writable by others (chmod 700 %s)", path, path);
	return EX_OK;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *path, struct diag *d)
{
	char *p = xstrdup(path);
	int rc = EX_OK;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = diag_set(d, EX_CANTCREAT, "queue %s: %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* Whether only the user and root can change what path names (see trust.h): a queue below a
 * directory that another user owns or can write could be renamed away by them, taking the
 * user's mail with it, or swapped for one of theirs. */
static int check_trusted(const char *dir, const char *path, struct diag *d)
{
	struct diag why;
	if (path_check_trusted(path, getuid(), &why) == EX_OK)
		return EX_OK;
	return diag_set(d, why.code == EX_NOPERM ? EX_NOPERM : EX_CANTCREAT, "queue %s: %s", dir,
			why.msg);
}

/* Checks the deepest part of dir that exists, before anything is created below it: postie
 * makes no directory in a place another user controls. A path that fails otherwise than by
 * a missing component is left to make_dirs, which says why. */
static int check_existing_part(const char *dir, struct diag *d)
{
	char *p = xstrdup(dir);
	struct stat st;
	int found;
	while ((found = stat(p, &st)) < 0 && errno == ENOENT && strcmp(p, "/") != 0) {
		char *slash = strrchr(p, '/');
		slash[slash == p] = '\0';	/* "/a" -> "/" */
	}
	int rc = found == 0 ? check_trusted(dir, p, d) : EX_OK;
	free(p);
	return rc;
}

int queue_open(struct queue **out, const char *dir, struct diag *d)
{
	*out = NULL;
	if (!dir || *dir != '/')
		return diag_set(d, EX_CONFIG, "queue '%s': not an absolute path", dir ? dir : "");
	int rc = check_existing_part(dir, d);
	if (rc == EX_OK)
		rc = make_dirs(dir, d);
	if (rc == EX_OK)
		rc = check_trusted(dir, dir, d);	/* again, with what make_dirs created */
	if (rc == EX_OK)
		rc = check_dir(dir, d);
	static const char *const subdirs[] = { "tmp", "q", "failed" };
	for (size_t i = 0; rc == EX_OK && i < 3; i++) {
		char *sub = xasprintf("%s/%s", dir, subdirs[i]);
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			rc = diag_set(d, EX_CANTCREAT, "queue %s: %s", sub, strerror(errno));
		else
			rc = check_dir(sub, d);
		free(sub);
	}
	if (rc != EX_OK)
		return rc;
	struct queue *q = xcalloc(1, sizeof *q);
	q->dir = xstrdup(dir);
	*out = q;
	return EX_OK;
}

void queue_close(struct queue *q)
{
	if (!q)
		return;
	free(q->dir);
	free(q);
}

const char *queue_path(const struct queue *q)
{
	return q->dir;
}

static char *entry_path(const struct queue *q, const char *sub, const char *id, const char *ext)
{
	return xasprintf("%s/%s/%s.%s", q->dir, sub, id, ext);
}

static int fsync_dir(const struct queue *q, const char *sub, struct diag *d)
{
	char *path = xasprintf("%s/%s", q->dir, sub);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = EX_OK;
	if (fd < 0 || fsync(fd) < 0)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* --- envelope files ------------------------------------------------------------------- */

/* A value that must stay on its line: control bytes become spaces. */
static void put_line(struct buf *out, const char *key, const char *value)
{
	buf_puts(out, key);
	buf_putc(out, ' ');
	for (const char *c = value; *c; c++)
		buf_putc(out, ((unsigned char)*c < 0x20 || *c == 0x7f) ? ' ' : *c);
	buf_putc(out, '\n');
}

void queue_meta_format(const struct queue_meta *m, struct buf *out)
{
	buf_printf(out, "postie-queue %d\n", QUEUE_FORMAT_VERSION);
	put_line(out, "id", m->id);
	buf_printf(out, "created %lld\n", m->created);
	buf_printf(out, "sender <%s>\n", m->sender);
	for (size_t i = 0; i < m->rcpts.n; i++)
		buf_printf(out, "rcpt <%s>\n", m->rcpts.v[i]);
	put_line(out, "relay", m->relay ? m->relay : "");
	if (m->account)
		put_line(out, "account", m->account);
	buf_printf(out, "attempts %ld\n", m->attempts);
	if (m->claimed)
		buf_printf(out, "claimed %lld\n", m->claimed);
	buf_printf(out, "next-attempt %lld\n", m->next_attempt);
	if (m->expires)
		buf_printf(out, "expires %lld\n", m->expires);
	if (m->last_error)
		put_line(out, "last-error", m->last_error);
	buf_printf(out, "size %llu\n", m->size);
}

static bool parse_number(const char *s, long long *out)
{
	if (!*s)
		return false;
	long long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (0x7fffffffffffffffLL - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

/* "<addr>" -> addr; the brackets must be there and nothing may hold a control byte. */
static char *unbracket(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || s[0] != '<' || s[n - 1] != '>')
		return NULL;
	return xstrndup(s + 1, n - 2);
}

static bool valid_id(const char *id)
{
	if (!*id || strlen(id) > 64)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || *c == '-'))
			return false;
	return true;
}

int queue_meta_parse(const char *text, size_t len, struct queue_meta *m, struct diag *d)
{
	memset(m, 0, sizeof *m);
	const char *p = text, *end = text + len;
	size_t lineno = 0;
	bool have[6] = { false };	/* version, id, created, sender, relay, size */
	int rc = EX_OK;
	while (p < end && rc == EX_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			rc = diag_set(d, EX_DATAERR, "line %zu: no line end", lineno + 1);
			break;
		}
		lineno++;
		char *line = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
		char *sp = strchr(line, ' ');
		const char *key = line, *value = sp ? sp + 1 : "";
		if (sp)
			*sp = '\0';
		for (const char *c = value; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				rc = diag_set(d, EX_DATAERR, "line %zu: control byte", lineno);
		long long num;
		if (rc != EX_OK) {
		} else if (lineno == 1) {
			if (strcmp(key, "postie-queue") != 0 || !parse_number(value, &num) ||
			    num != QUEUE_FORMAT_VERSION)
				rc = diag_set(d, EX_DATAERR, "not a postie queue entry of version %d",
					      QUEUE_FORMAT_VERSION);
			have[0] = true;
		} else if (strcmp(key, "id") == 0 && !m->id) {
			if (!valid_id(value))
				rc = diag_set(d, EX_DATAERR, "line %zu: bad id", lineno);
			else
				m->id = xstrdup(value);
			have[1] = true;
		} else if (strcmp(key, "created") == 0 && parse_number(value, &num)) {
			m->created = num;
			have[2] = true;
		} else if (strcmp(key, "sender") == 0 && !m->sender && (m->sender = unbracket(value))) {
			have[3] = true;
		} else if (strcmp(key, "rcpt") == 0) {
			char *r = unbracket(value);
			if (!r || !*r)
				rc = diag_set(d, EX_DATAERR, "line %zu: bad recipient", lineno);
			else
				strlist_add(&m->rcpts, r);
			free(r);
		} else if (strcmp(key, "relay") == 0 && !m->relay) {
			m->relay = xstrdup(value);
			have[4] = true;
		} else if (strcmp(key, "account") == 0 && !m->account) {
			m->account = xstrdup(value);
		} else if (strcmp(key, "attempts") == 0 && parse_number(value, &num)) {
			m->attempts = (long)(num > 1000000 ? 1000000 : num);
		} else if (strcmp(key, "claimed") == 0 && parse_number(value, &num)) {
			m->claimed = num;
		} else if (strcmp(key, "next-attempt") == 0 && parse_number(value, &num)) {
			m->next_attempt = num;
		} else if (strcmp(key, "expires") == 0 && parse_number(value, &num)) {
			m->expires = num;
		} else if (strcmp(key, "last-error") == 0 && !m->last_error) {
			m->last_error = xstrdup(value);
		} else if (strcmp(key, "size") == 0 && parse_number(value, &num)) {
			m->size = (unsigned long long)num;
			have[5] = true;
		} else {
			rc = diag_set(d, EX_DATAERR, "line %zu: unexpected '%.40s'", lineno, key);
		}
		free(line);
	}
	if (rc == EX_OK) {
		for (size_t i = 0; i < 6; i++)
			if (!have[i])
				rc = diag_set(d, EX_DATAERR, "incomplete entry");
		if (rc == EX_OK && m->rcpts.n == 0)
			rc = diag_set(d, EX_DATAERR, "no recipients");
	}
	if (rc != EX_OK)
		queue_meta_free(m);
	return rc;
}

/* Opens path without following links and checks it is a regular file with one link, owned by
 * the effective user: anything else was not written by postie. O_NONBLOCK keeps a FIFO put in
 * its place from holding the run until a writer comes; on a regular file it changes nothing. */
static int open_checked(const char *path, int flags, int *fd_out, struct diag *d)
{
	int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return diag_set(d, EX_TEMPFAIL, "%s: gone", path);
		if (errno == ELOOP)
			return diag_set(d, EX_DATAERR, "%s: a symbolic link", path);
		return diag_set(d, EX_DATAERR, "%s: %s", path, strerror(errno));
	}
	struct stat st;
	int rc = EX_OK;
	if (fstat(fd, &st) < 0)
		rc = diag_set(d, EX_IOERR, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = diag_set(d, EX_DATAERR, "%s: not a regular file", path);
	else if (st.st_nlink != 1)
		rc = diag_set(d, EX_DATAERR, "%s: has %ld links", path, (long)st.st_nlink);
	else if (st.st_uid != geteuid())
		rc = diag_set(d, EX_DATAERR, "%s: owned by uid %ld", path, (long)st.st_uid);
	if (rc != EX_OK) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return EX_OK;
}

static int read_meta(const struct queue *q, const char *sub, const char *id, struct queue_meta *m,
		     struct diag *d)
{
	char *path = entry_path(q, sub, id, "env");
	int fd = -1;
	int rc = open_checked(path, O_RDONLY, &fd, d);
	struct buf text = {0};
	while (rc == EX_OK) {
		char chunk[4096];
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			rc = diag_set(d, EX_IOERR, "%s: %s", path, strerror(errno));
		else if (got == 0)
			break;
		else if (text.len + (size_t)got > ENV_MAX_BYTES)
			rc = diag_set(d, EX_DATAERR, "%s: too large", path);
		else
			buf_append(&text, chunk, (size_t)got);
	}
	if (fd >= 0)
		close(fd);
	if (rc == EX_OK) {
		struct diag why;
		if (memchr(text.data ? text.data : "", '\0', text.len))
			rc = diag_set(d, EX_DATAERR, "%s: NUL byte", path);
		else if (queue_meta_parse(text.data ? text.data : "", text.len, m, &why) != EX_OK)
			rc = diag_set(d, EX_DATAERR, "%s: %s", path, why.msg);
		else if (strcmp(m->id, id) != 0) {
			queue_meta_free(m);
			rc = diag_set(d, EX_DATAERR, "%s: id does not match its file name", path);
		}
	}
	buf_free(&text);
	free(path);
	return rc;
}

/* Writes meta as sub/<id>.env through a temporary file and a rename. */
static int write_meta(const struct queue *q, const char *sub, struct queue_meta *meta, struct diag *d)
{
	struct buf text = {0};
	queue_meta_format(meta, &text);
	char *tmp = entry_path(q, "tmp", meta->id, "env");
	char *final = entry_path(q, sub, meta->id, "env");
	int rc = EX_OK;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", tmp, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && rc == EX_OK)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", tmp, strerror(errno));
	if (rc == EX_OK && rename(tmp, final) < 0)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", final, strerror(errno));
	if (rc != EX_OK)
		unlink(tmp);
	if (rc == EX_OK)
		rc = fsync_dir(q, sub, d);
	free(tmp);
	free(final);
	buf_free(&text);
	return rc;
}

/* --- spool ---------------------------------------------------------------------------- */

static char *new_id(time_t now)
{
	unsigned int rnd = 0;
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
		rnd = (unsigned int)getpid() * 2654435761u ^ (unsigned int)now;
	struct tm tm;
	gmtime_r(&now, &tm);
	/* digits and hex only: an id is also a file name and a word in messages */
	return xasprintf("%04d%02d%02d-%02d%02d%02d-%08x", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd);
}

int spool_create(struct queue *q, time_t now, struct spool **out, struct diag *d)
{
	*out = NULL;
	for (int tries = 0; tries < 10; tries++) {
		char *id = new_id(now);
		char *path = entry_path(q, "tmp", id, "msg");
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			/* held until the spool is closed, past its rename into q/: the sweep of
			 * tmp/ and the report of half entries leave a locked file alone */
			flock(fd, LOCK_EX | LOCK_NB);
			struct spool *s = xcalloc(1, sizeof *s);
			s->q = q;
			s->id = id;
			s->tmp_path = path;
			s->fd = fd;
			*out = s;
			return EX_OK;
		}
		int e = errno;
		free(id);
		free(path);
		if (e != EEXIST)
			return diag_set(d, EX_CANTCREAT, "queue %s/tmp: %s", q->dir, strerror(e));
	}
	return diag_set(d, EX_CANTCREAT, "queue %s/tmp: no free file name", q->dir);
}

const char *spool_id(const struct spool *s)
{
	return s->id;
}

int spool_fd(const struct spool *s)
{
	return s->fd;
}

unsigned long long spool_size(const struct spool *s)
{
	return s->size;
}

int spool_write(struct spool *s, const void *p, size_t n, struct diag *d)
{
	if (s->write_errno)
		return diag_set(d, EX_IOERR, "queue %s: %s", s->tmp_path, strerror(s->write_errno));
	if (write_all(s->fd, p, n) < 0) {
		s->write_errno = errno ? errno : EIO;
		return diag_set(d, EX_IOERR, "queue %s: %s", s->tmp_path, strerror(s->write_errno));
	}
	s->size += n;
	return EX_OK;
}

/* Moves a message file to sub/<id>.msg and writes sub/<id>.env last. When the envelope cannot
 * be written, a new entry is undone (the caller still has the message and says so), but a
 * moved one is left where it is: on disk, never lost. */
static int commit_files(struct queue *q, const char *tmp_msg, struct queue_meta *meta,
			const char *sub, bool undo_on_error, struct diag *d)
{
	char *msg = entry_path(q, sub, meta->id, "msg");
	int rc = EX_OK;
	if (rename(tmp_msg, msg) < 0)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", msg, strerror(errno));
	if (rc == EX_OK)
		rc = write_meta(q, sub, meta, d);
	if (rc != EX_OK && undo_on_error)
		unlink(msg);
	free(msg);
	return rc;
}

int spool_commit(struct spool *s, struct queue_meta *meta, bool failed, struct diag *d)
{
	int rc = EX_OK;
	if (s->write_errno)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", s->tmp_path, strerror(s->write_errno));
	else if (fsync(s->fd) < 0)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", s->tmp_path, strerror(errno));
	if (rc == EX_OK) {
		free(meta->id);
		meta->id = xstrdup(s->id);
		meta->size = s->size;
		rc = commit_files(s->q, s->tmp_path, meta, failed ? "failed" : "q", true, d);
	}
	spool_discard(s);
	return rc;
}

/* Copies the bytes of fd into a new entry. */
static int commit_copy_of(struct queue *q, int fd, struct queue_meta *meta, bool failed,
			  struct diag *d)
{
	struct spool *copy = NULL;
	int rc = spool_create(q, time(NULL), &copy, d);
	char chunk[65536];
	off_t off = 0;
	while (rc == EX_OK) {
		ssize_t got = pread(fd, chunk, sizeof chunk, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = diag_set(d, EX_IOERR, "queue: reading an entry: %s", strerror(errno));
			break;
		}
		if (got == 0)
			break;
		off += got;
		rc = spool_write(copy, chunk, (size_t)got, d);
	}
	if (rc == EX_OK)
		return spool_commit(copy, meta, failed, d);
	spool_discard(copy);
	return rc;
}

int spool_commit_copy(struct spool *s, struct queue_meta *meta, bool failed, struct diag *d)
{
	return commit_copy_of(s->q, s->fd, meta, failed, d);
}

int queue_lock_copy(struct queue_lock *l, struct queue_meta *meta, bool failed, struct diag *d)
{
	return commit_copy_of(l->q, l->fd, meta, failed, d);
}

void spool_discard(struct spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	unlink(s->tmp_path);	/* gone already after a commit: ENOENT is fine */
	free(s->tmp_path);
	free(s->id);
	free(s);
}

/* --- listing and delivery ------------------------------------------------------------- */

static int compare_meta(const void *a, const void *b)
{
	const struct queue_meta *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Opens name in dir if it is a regular file untouched for at least seconds that no run holds
 * locked, and takes its lock (operation: LOCK_SH or LOCK_EX); else returns -1. A run that is
 * writing, committing, removing or moving a queue file holds the lock of its message file, even
 * when its input has been silent for a long time. */
static int open_stale_unlocked(int dir, const char *name, time_t seconds, int operation)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
	    && st.st_mtime + seconds <= time(NULL) && flock(fd, operation | LOCK_NB) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Whether id.has in dir lacks its id.lacks, is older than QUEUE_ORPHAN_SECONDS and is not
 * locked; if so it is described in problems. Such half an entry is never sent, nor deleted: it
 * is left for the administrator. A fresh half may be a commit whose run has just died. */
static bool old_half_entry(DIR *dir, const char *path, const char *id, const char *has,
			   const char *lacks, struct strlist *problems)
{
	char *have = xasprintf("%s.%s", id, has), *want = xasprintf("%s.%s", id, lacks);
	struct stat st;
	int fd = -1;
	bool old = fstatat(dirfd(dir), want, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT
		&& (fd = open_stale_unlocked(dirfd(dir), have, QUEUE_ORPHAN_SECONDS, LOCK_SH)) >= 0;
	if (fd >= 0)
		close(fd);
	if (old) {
		char *text = xasprintf("%s/%s: its %s file %s is missing", path, have,
				       strcmp(lacks, "env") == 0 ? "envelope" : "message", want);
		strlist_add(problems, text);
		free(text);
	}
	free(have);
	free(want);
	return old;
}

int queue_list(struct queue *q, bool failed, struct queue_meta **out, size_t *n,
	       struct strlist *problems, struct diag *d)
{
	const char *sub = failed ? "failed" : "q";
	char *path = xasprintf("%s/%s", q->dir, sub);
	DIR *dir = opendir(path);
	*out = NULL;
	*n = 0;
	if (!dir) {
		int rc = diag_set(d, EX_IOERR, "queue %s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	struct queue_meta *list = NULL;
	size_t count = 0;
	struct strlist messages = {0};
	struct dirent *e;
	while ((e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		if (len < 5)
			continue;
		bool env = strcmp(e->d_name + len - 4, ".env") == 0;
		char *id = xstrndup(e->d_name, len - 4);
		struct queue_meta m;
		struct diag why;
		if (!env) {
			if (strcmp(e->d_name + len - 4, ".msg") == 0 && valid_id(id))
				strlist_add(&messages, id);
		} else if (!valid_id(id)) {
			char *text = xasprintf("%s/%s: not a queue file name", path, e->d_name);
			strlist_add(problems, text);
			free(text);
		} else if (old_half_entry(dir, path, id, "env", "msg", problems)) {
			/* not listed: it can never be delivered */
		} else if (read_meta(q, sub, id, &m, &why) == EX_OK) {
			list = xreallocarray(list, count + 1, sizeof *list);
			list[count++] = m;
		} else if (why.code != EX_TEMPFAIL) {
			strlist_add(problems, why.msg);
		}
		free(id);
	}
	/* after the listing: a .env created meanwhile is then seen */
	for (size_t i = 0; i < messages.n; i++)
		old_half_entry(dir, path, messages.v[i], "msg", "env", problems);
	strlist_free(&messages);
	closedir(dir);
	free(path);
	if (count)
		qsort(list, count, sizeof *list, compare_meta);
	*out = list;
	*n = count;
	return EX_OK;
}

void queue_list_free(struct queue_meta *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		queue_meta_free(&list[i]);
	free(list);
}

void queue_sweep_tmp(struct queue *q, struct strlist *removed)
{
	char *path = xasprintf("%s/tmp", q->dir);
	DIR *dir = opendir(path);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;	/* "." and "..": postie's names never start with a dot */
		int fd = open_stale_unlocked(dirfd(dir), e->d_name, QUEUE_TMP_SECONDS, LOCK_EX);
		if (fd < 0)
			continue;
		if (unlinkat(dirfd(dir), e->d_name, 0) == 0) {
			char *gone = xasprintf("%s/%s", path, e->d_name);
			strlist_add(removed, gone);
			free(gone);
		}
		close(fd);
	}
	if (dir)
		closedir(dir);
	free(path);
}

/* Whether no run holds the message file of entry id in tmp/, q/ or failed/ (a missing file is
 * held by nobody). The locks taken are kept in fds[3] (-1 for none) until the caller closes
 * them, so that no run can start writing the entry's envelope meanwhile. */
static bool entry_unlocked(const struct queue *q, const char *id, int fds[3])
{
	static const char *const subs[] = { "tmp", "q", "failed" };
	bool free_ = true;
	for (size_t i = 0; i < 3; i++) {
		fds[i] = -1;
		char *path = entry_path(q, subs[i], id, "msg");
		int fd = free_ ? open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) : -1;
		free(path);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			free_ = false;
			continue;
		}
		fds[i] = fd;
	}
	return free_;
}

/* The temporary envelope files of tmp/ that a run killed while writing one left (write_meta
 * writes tmp/<id>.env, then renames it): the run writing one holds its entry's lock, so one
 * whose entry nobody holds is a leftover, removed at once. */
static void sweep_tmp_envelopes(struct queue *q, struct strlist *removed)
{
	char *path = xasprintf("%s/tmp", q->dir);
	DIR *dir = opendir(path);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".env") != 0)
			continue;
		char *id = xstrndup(e->d_name, len - 4);
		int fds[3];
		if (valid_id(id) && entry_unlocked(q, id, fds) && unlinkat(dirfd(dir), e->d_name, 0) == 0) {
			char *gone = xasprintf("%s/%s", path, e->d_name);
			strlist_add(removed, gone);
			free(gone);
		}
		for (size_t i = 0; valid_id(id) && i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		free(id);
	}
	if (dir)
		closedir(dir);
	free(path);
}

/* The lone envelope files of sub (see queue_sweep_removed). */
static void sweep_lone_envelopes(struct queue *q, const char *sub, struct strlist *removed)
{
	char *path = xasprintf("%s/%s", q->dir, sub);
	DIR *dir = opendir(path);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".env") != 0)
			continue;
		char *id = xstrndup(e->d_name, len - 4);
		char *msg = xasprintf("%s.msg", id);
		struct stat st;
		if (valid_id(id) && fstatat(dirfd(dir), msg, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT && unlinkat(dirfd(dir), e->d_name, 0) == 0) {
			char *gone = xasprintf("%s/%s", path, e->d_name);
			strlist_add(removed, gone);
			free(gone);
		}
		free(msg);
		free(id);
	}
	if (dir)
		closedir(dir);
	free(path);
}

void queue_sweep_removed(struct queue *q, struct strlist *removed)
{
	sweep_lone_envelopes(q, "q", removed);
	sweep_lone_envelopes(q, "failed", removed);
	sweep_tmp_envelopes(q, removed);
}

/* Locks entry id of sub (q/ or failed/); see queue_lock. *busy tells a lock held by another
 * run from an entry that is not there (both EX_TEMPFAIL). */
static int lock_in(struct queue *q, const char *sub, const char *id, struct queue_lock **out,
		   bool *busy, struct diag *d)
{
	*out = NULL;
	*busy = false;
	char *path = entry_path(q, sub, id, "msg");
	int fd = -1;
	int rc = open_checked(path, O_RDONLY, &fd, d);
	free(path);
	if (rc != EX_OK)
		return rc;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		*busy = true;
		return diag_set(d, EX_TEMPFAIL, "queue entry %s: %s by another run", id,
				strcmp(sub, "q") == 0 ? "being delivered" : "being changed");
	}
	/* the file opened may have been removed (or moved) by the run that held the lock until
	 * now: what is locked must still be what the directory names */
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_nlink != 1) {
		close(fd);
		return diag_set(d, EX_TEMPFAIL, "queue entry %s: gone", id);
	}
	struct queue_lock *l = xcalloc(1, sizeof *l);
	l->q = q;
	l->sub = strcmp(sub, "failed") == 0 ? "failed" : "q";
	l->id = xstrdup(id);
	l->fd = fd;
	/* read after locking: a run that finished meanwhile removed the envelope first */
	rc = read_meta(q, sub, id, &l->meta, d);
	if (rc != EX_OK) {
		queue_unlock(l);
		return rc;
	}
	*out = l;
	return EX_OK;
}

int queue_lock(struct queue *q, const char *id, struct queue_lock **out, struct diag *d)
{
	*out = NULL;
	if (!valid_id(id))
		return diag_set(d, EX_DATAERR, "queue entry '%s': not a queue id", id);
	bool busy;
	return lock_in(q, "q", id, out, &busy, d);
}

int queue_lock_any(struct queue *q, const char *id, struct queue_lock **out, bool *failed,
		   struct diag *d)
{
	*out = NULL;
	*failed = false;
	if (!valid_id(id)) {
		struct buf shown = {0};
		buf_put_escaped(&shown, id);
		int rc = diag_set(d, EX_USAGE, "'%s': not a queue id (mailq lists them)", shown.data);
		buf_free(&shown);
		return rc;
	}
	bool busy;
	int rc = lock_in(q, "q", id, out, &busy, d);
	if (rc == EX_TEMPFAIL && !busy) {
		/* not in q/ (or only half of it): perhaps in failed/ */
		*failed = true;
		rc = lock_in(q, "failed", id, out, &busy, d);
		if (rc == EX_TEMPFAIL && !busy)
			rc = diag_set(d, EX_NOINPUT, "queue entry %s: not in %s/q nor in %s/failed", id,
				      q->dir, q->dir);
	}
	return rc;
}

const struct queue_meta *queue_lock_meta(const struct queue_lock *l)
{
	return &l->meta;
}

int queue_lock_fd(struct queue_lock *l)
{
	lseek(l->fd, 0, SEEK_SET);
	return l->fd;
}

int queue_update(struct queue_lock *l, struct queue_meta *meta, struct diag *d)
{
	free(meta->id);
	meta->id = xstrdup(l->id);
	return write_meta(l->q, l->sub, meta, d);
}

int queue_claim(struct queue_lock *l, long long now, long long next_attempt, struct diag *d)
{
	struct queue_meta m = l->meta;	/* shallow: only the numbers differ */
	m.attempts = l->meta.attempts + 1;
	m.claimed = now;
	m.next_attempt = next_attempt;
	int rc = write_meta(l->q, l->sub, &m, d);
	if (rc != EX_OK)
		return d->code = EX_TEMPFAIL;
	l->meta.attempts = m.attempts;
	l->meta.claimed = m.claimed;
	l->meta.next_attempt = m.next_attempt;
	return EX_OK;
}

int queue_remove(struct queue_lock *l, struct diag *d)
{
	char *env = entry_path(l->q, l->sub, l->id, "env");
	char *msg = entry_path(l->q, l->sub, l->id, "msg");
	int rc = EX_OK;
	/* the message first: a crash then leaves an envelope without a message, which cannot be
	 * sent (a run locks the message file) and which the next run removes; the other order
	 * would leave a message without an envelope, which looks like a commit cut short and
	 * stays. A sweep of another run may remove the envelope meanwhile: ENOENT is fine. */
	if (unlink(msg) < 0)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", msg, strerror(errno));
	else if (unlink(env) < 0 && errno != ENOENT)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", env, strerror(errno));
	if (rc == EX_OK)
		rc = fsync_dir(l->q, l->sub, d);
	free(env);
	free(msg);
	return rc;
}

/* Moves the locked entry from where it is to sub with meta as its envelope: its envelope file
 * is unlinked first, so that no run sees it in both places. */
static int move_entry(struct queue_lock *l, struct queue_meta *meta, const char *sub,
		      struct diag *d)
{
	free(meta->id);
	meta->id = xstrdup(l->id);
	char *env = entry_path(l->q, l->sub, l->id, "env");
	char *msg = entry_path(l->q, l->sub, l->id, "msg");
	int rc = EX_OK;
	if (unlink(env) < 0)
		rc = diag_set(d, EX_IOERR, "queue %s: %s", env, strerror(errno));
	if (rc == EX_OK)
		rc = commit_files(l->q, msg, meta, sub, false, d);
	if (rc == EX_OK)
		rc = fsync_dir(l->q, l->sub, d);
	free(env);
	free(msg);
	return rc;
}

int queue_move_failed(struct queue_lock *l, struct queue_meta *meta, struct diag *d)
{
	return move_entry(l, meta, "failed", d);
}

int queue_requeue(struct queue_lock *l, struct queue_meta *meta, struct diag *d)
{
	if (strcmp(l->sub, "failed") != 0)
		return diag_set(d, EX_SOFTWARE, "queue entry %s: not in failed/", l->id);
	return move_entry(l, meta, "q", d);
}

void queue_unlock(struct queue_lock *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	queue_meta_free(&l->meta);
	free(l->id);
	free(l);
}
