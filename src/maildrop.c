/* SPDX-License-Identifier: ISC */
/* maildrop.c: the drop area of the system queue (see maildrop.h), after Postfix's maildrop and
 * OpenSMTPD's offline queue. It creates, checks, moves and removes files; it never trusts what a
 * file says about who wrote it (the owner is the proof) and never follows a link. */
#include "maildrop.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "lineio.h"
#include "trust.h"

#define MAILDROP_MAGIC "postie-maildrop 1"
#define MAILDROP_MAX_ENVELOPE (1024 * 1024)
#define TMP_PREFIX "t."

void maildrop_entry_free(struct maildrop_entry *e)
{
	free(e->sender);
	free(e->full_name);
	strlist_free(&e->rcpts);
	memset(e, 0, sizeof *e);
}

bool maildrop_available(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || !(st.st_mode & S_ISVTX))
		return false;
	char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	struct diag ignored;
	bool ok = path_check_trusted(parent, 0, &ignored) == EX_OK;
	free(parent);
	return ok;
}

/* 32 hex digits from the kernel's generator: a name no other user can guess or take first. */
static int random_hex(char out[33], struct diag *d)
{
	unsigned char raw[16];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return diag_set(d, EX_OSERR, "getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return EX_OK;
}

/* --- the envelope block ----------------------------------------------------------------- */

void maildrop_entry_format(const struct maildrop_entry *e, struct buf *out)
{
	buf_printf(out, "%s\nuid %lu\ncreated %lld\n", MAILDROP_MAGIC, (unsigned long)e->uid,
		   e->created);
	if (e->sender_given)
		buf_printf(out, "sender %s\n", e->sender ? e->sender : "");
	if (e->full_name)
		buf_printf(out, "full-name %s\n", e->full_name);
	buf_printf(out, "flags %s%s%s\n", e->extract ? "t" : "", e->ignore_dots ? "i" : "",
		   e->extract || e->ignore_dots ? "" : "-");
	for (size_t i = 0; i < e->rcpts.n; i++)
		buf_printf(out, "rcpt %s\n", e->rcpts.v[i]);
	buf_putc(out, '\n');
}

static bool parse_ulong(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned digit = (unsigned)(s[i] - '0');
		if (v > (max - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

int maildrop_entry_parse(const char *text, size_t len, struct maildrop_entry *e, struct diag *d)
{
	memset(e, 0, sizeof *e);
	const char *p = text, *end = text + len;
	bool have_uid = false, have_flags = false, first = true, ended = false;
	int rc = EX_OK;
	for (unsigned line = 1; p < end && rc == EX_OK; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			rc = diag_set(d, EX_DATAERR, "line %u: no line break", line);
			break;
		}
		size_t n = (size_t)(nl - p);
		const char *l = p;
		p = nl + 1;
		if (memchr(l, '\0', n) || memchr(l, '\r', n)) {
			rc = diag_set(d, EX_DATAERR, "line %u: a NUL or CR", line);
			break;
		}
		if (first) {
			first = false;
			if (n != strlen(MAILDROP_MAGIC) || memcmp(l, MAILDROP_MAGIC, n) != 0)
				rc = diag_set(d, EX_DATAERR, "not a postie maildrop entry");
			continue;
		}
		if (n == 0) {
			ended = true;
			break;
		}
		const char *sp = memchr(l, ' ', n);
		size_t klen = sp ? (size_t)(sp - l) : n;
		const char *v = sp ? sp + 1 : l + n;
		size_t vlen = (size_t)(l + n - v);
		unsigned long long num = 0;
#define KEY(s) (klen == strlen(s) && memcmp(l, s, klen) == 0)
		if (KEY("uid")) {
			if (have_uid || !parse_ulong(v, vlen, (uid_t)-1 - 1ULL, &num))
				rc = diag_set(d, EX_DATAERR, "line %u: a bad uid", line);
			e->uid = (uid_t)num;
			have_uid = true;
		} else if (KEY("created")) {
			if (!parse_ulong(v, vlen, 0x7fffffffffffffffULL, &num))
				rc = diag_set(d, EX_DATAERR, "line %u: a bad time", line);
			e->created = (long long)num;
		} else if (KEY("sender")) {
			if (e->sender_given)
				rc = diag_set(d, EX_DATAERR, "line %u: a second sender", line);
			e->sender_given = true;
			free(e->sender);
			e->sender = xstrndup(v, vlen);
		} else if (KEY("full-name")) {
			free(e->full_name);
			e->full_name = xstrndup(v, vlen);
		} else if (KEY("flags")) {
			have_flags = true;
			for (size_t i = 0; i < vlen && rc == EX_OK; i++) {
				if (v[i] == 't')
					e->extract = true;
				else if (v[i] == 'i')
					e->ignore_dots = true;
				else if (v[i] != '-')
					rc = diag_set(d, EX_DATAERR, "line %u: an unknown flag", line);
			}
		} else if (KEY("rcpt")) {
			if (vlen == 0)
				rc = diag_set(d, EX_DATAERR, "line %u: an empty recipient", line);
			else {
				char *r = xstrndup(v, vlen);
				strlist_add(&e->rcpts, r);
				free(r);
			}
		} else {
			rc = diag_set(d, EX_DATAERR, "line %u: an unknown key", line);
		}
#undef KEY
	}
	if (rc == EX_OK && first)
		rc = diag_set(d, EX_DATAERR, "not a postie maildrop entry");
	if (rc == EX_OK && !ended)
		rc = diag_set(d, EX_DATAERR, "the envelope has no end");
	if (rc == EX_OK && (!have_uid || !have_flags))
		rc = diag_set(d, EX_DATAERR, "the envelope lacks its %s", have_uid ? "flags" : "uid");
	if (rc == EX_OK && e->rcpts.n == 0 && !e->extract)
		rc = diag_set(d, EX_DATAERR, "no recipients");
	if (rc != EX_OK)
		maildrop_entry_free(e);
	return rc;
}

/* --- handing over ----------------------------------------------------------------------- */

struct maildrop_put {
	int dfd;		/* the maildrop, O_PATH: a user may search it, not read it */
	int fd;			/* the message's bytes, in a file with no name */
	unsigned long long size;
	char *dir;
};

int maildrop_put_open(const char *dir, struct maildrop_put **out, struct diag *d)
{
	*out = NULL;
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return diag_set(d, errno == ENOENT ? EX_UNAVAILABLE : EX_CANTCREAT,
				"system queue %s: %s", dir, strerror(errno));
	int fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* no O_TMPFILE on this file system: a name of our own, gone at once */
		char rnd[33], name[40];
		if (random_hex(rnd, d) != EX_OK) {
			close(dfd);
			return d->code;
		}
		snprintf(name, sizeof name, TMP_PREFIX "%s", rnd);
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			unlinkat(dfd, name, 0);
	}
	if (fd < 0) {
		int err = errno;
		close(dfd);
		return diag_set(d, err == ENOSPC || err == EDQUOT ? EX_TEMPFAIL : EX_CANTCREAT,
				"system queue %s: %s", dir, strerror(err));
	}
	struct maildrop_put *p = xcalloc(1, sizeof *p);
	p->dfd = dfd;
	p->fd = fd;
	p->dir = xstrdup(dir);
	*out = p;
	return EX_OK;
}

int maildrop_put_write(struct maildrop_put *p, const void *buf, size_t n, struct diag *d)
{
	if (p->size + n > MAILDROP_MAX_BYTES)
		return diag_set(d, EX_DATAERR, "system queue %s: the message is larger than the %llu "
				"bytes it takes", p->dir, (unsigned long long)MAILDROP_MAX_BYTES);
	if (write_all(p->fd, buf, n) < 0)
		return diag_set(d, EX_IOERR, "system queue %s: %s", p->dir, strerror(errno));
	p->size += n;
	return EX_OK;
}

int maildrop_put_read(struct maildrop_put *p, int fd, bool ignore_dots,
		      const volatile sig_atomic_t *cancel, struct diag *d)
{
	struct lineio *in = lineio_fd(fd);
	lineio_set_cancel(in, cancel);
	bool at_bol = true;
	int rc = EX_OK;
	for (;;) {
		const char *line;
		size_t len;
		bool eol;
		int got = lineio_next(in, &line, &len, &eol);
		if (got < 0) {
			rc = cancel && *cancel
				? diag_set(d, EX_TEMPFAIL, "interrupted before the whole message was read; "
					   "nothing was queued")
				: diag_set(d, EX_IOERR, "reading the message: %s", strerror(errno));
			break;
		}
		if (got == 0)
			break;
		if (!ignore_dots && at_bol && eol && len == 1 && line[0] == '.')
			break;
		rc = maildrop_put_write(p, line, len, d);
		if (rc == EX_OK && eol)
			rc = maildrop_put_write(p, "\n", 1, d);
		if (rc != EX_OK)
			break;
		at_bol = eol;
	}
	lineio_free(in);
	return rc;
}

int maildrop_put_fd(const struct maildrop_put *p)
{
	return p->fd;
}

unsigned long long maildrop_put_size(const struct maildrop_put *p)
{
	return p->size;
}

static bool has_break(const char *s)
{
	return s && has_line_break(s, strlen(s));
}

int maildrop_put_commit(struct maildrop_put *p, const struct maildrop_entry *e, char *name,
			size_t n, struct diag *d)
{
	bool bad = has_break(e->sender) || has_break(e->full_name);
	for (size_t i = 0; i < e->rcpts.n; i++)
		bad = bad || has_break(e->rcpts.v[i]) || !*e->rcpts.v[i];
	if (bad)
		return diag_set(d, EX_DATAERR, "a sender, name or recipient holds a line break or is empty");
	struct maildrop_entry mine = *e;
	mine.uid = getuid();
	struct buf env = {0};
	maildrop_entry_format(&mine, &env);
	if (env.len + p->size > MAILDROP_MAX_BYTES) {
		buf_free(&env);
		return diag_set(d, EX_DATAERR, "system queue %s: the message is larger than the %llu "
				"bytes it takes", p->dir, (unsigned long long)MAILDROP_MAX_BYTES);
	}
	char rnd[33], tmp[40], final[64];
	int rc = random_hex(rnd, d);
	if (rc != EX_OK) {
		buf_free(&env);
		return rc;
	}
	snprintf(tmp, sizeof tmp, TMP_PREFIX "%s", rnd);
	/* names sort by time, so that pickup takes the oldest first */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(final, sizeof final, "%012llx%08lx.%s", (unsigned long long)ts.tv_sec,
		 (unsigned long)ts.tv_nsec, rnd);
	/* a file with no name until it is whole: nothing half-written ever shows in the maildrop,
	 * where a name would wake the path unit (DirectoryNotEmpty=) for nothing */
	bool named = false;
	int fd = openat(p->dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		named = true;
		fd = openat(p->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			flock(fd, LOCK_EX | LOCK_NB);	/* pickup leaves a locked one alone */
	}
	if (fd < 0) {
		buf_free(&env);
		return diag_set(d, errno == ENOSPC || errno == EDQUOT ? EX_TEMPFAIL : EX_CANTCREAT,
				"system queue %s: %s", p->dir, strerror(errno));
	}
	const char *what = "write";
	int err = 0;
	if (write_all(fd, env.data, env.len) < 0)
		err = errno;
	char chunk[65536];
	for (unsigned long long off = 0; !err && off < p->size;) {
		ssize_t got = pread(p->fd, chunk, sizeof chunk, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err = got < 0 ? errno : EIO;
			what = "reread";
			break;
		}
		if (write_all(fd, chunk, (size_t)got) < 0)
			err = errno;
		off += (unsigned long long)got;
	}
	if (!err && fsync(fd) < 0)
		err = errno, what = "fsync";
	if (!err && !named) {
		/* linkat never replaces a name, and needs no privilege through /proc */
		char self[64];
		snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, self, p->dfd, final, AT_SYMLINK_FOLLOW) < 0)
			err = errno, what = "link";
	}
	if (close(fd) < 0 && !err)
		err = errno, what = "close";
	/* never replacing: a name is taken once, and the sticky bit keeps others' names theirs */
	if (!err && named && renameat2(p->dfd, tmp, p->dfd, final, RENAME_NOREPLACE) < 0)
		err = errno, what = "rename";
	buf_free(&env);
	if (err) {
		if (named)
			unlinkat(p->dfd, tmp, 0);
		return diag_set(d, err == ENOSPC || err == EDQUOT ? EX_TEMPFAIL : EX_IOERR,
				"system queue %s: %s: %s", p->dir, what, strerror(err));
	}
	/* the directory too when we may read it (root); a user may not, as with Postfix's
	 * postdrop: the entry's own fsync has to do */
	int dir = openat(p->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		fsync(dir);
		close(dir);
	}
	snprintf(name, n, "%s", final);
	return EX_OK;
}

void maildrop_put_discard(struct maildrop_put *p)
{
	if (!p)
		return;
	close(p->fd);
	close(p->dfd);
	free(p->dir);
	free(p);
}

/* --- picking up ------------------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a temporary file is no writer's any more: unlocked for a minute
 * (a writer locks it as soon as it is created); or older than MAILDROP_TMP_SECONDS, locked or
 * not, since a writer copies a finished message there and is done in seconds. A name left
 * there would wake the path unit again and again. */
static bool stale_tmp(int dfd, const char *name, time_t now)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (st.st_mtime + MAILDROP_TMP_SECONDS < now)
		return true;
	if (st.st_mtime + 60 >= now)
		return false;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool unlocked = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return unlocked;
}

int maildrop_list(const char *dir, time_t now, struct strlist *names, struct strlist *removed,
		  struct diag *d)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT)
		return EX_OK;
	if (dfd < 0)
		return diag_set(d, EX_IOERR, "system queue %s: %s", dir, strerror(errno));
	DIR *dh = fdopendir(dfd);
	if (!dh) {
		close(dfd);
		return diag_set(d, EX_IOERR, "system queue %s: %s", dir, strerror(errno));
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dh))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0) {
			strlist_add(names, de->d_name);
			continue;
		}
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
			strlist_add(names, de->d_name);	/* no writer's: maildrop_open refuses it */
			continue;
		}
		if (stale_tmp(dfd, de->d_name, now) && unlinkat(dfd, de->d_name, 0) == 0)
			strlist_add(removed, de->d_name);
		errno = 0;
	}
	int err = errno;
	closedir(dh);
	if (err)
		return diag_set(d, EX_IOERR, "system queue %s: %s", dir, strerror(err));
	if (names->n > 1)
		qsort(names->v, names->n, sizeof *names->v, cmp_names);
	return EX_OK;
}

struct maildrop_item {
	int dfd, fd;
	char *name;
	char *aside;
	struct maildrop_entry e;
	unsigned long long left;	/* bytes still allowed */
};

const struct maildrop_entry *maildrop_item_entry(const struct maildrop_item *it)
{
	return &it->e;
}

const char *maildrop_item_name(const struct maildrop_item *it)
{
	return it->name;
}

void maildrop_item_close(struct maildrop_item *it)
{
	if (!it)
		return;
	if (it->fd >= 0)
		close(it->fd);	/* and with it the lock */
	close(it->dfd);
	free(it->name);
	free(it->aside);
	maildrop_entry_free(&it->e);
	free(it);
}

static const char *kind_of(mode_t mode)
{
	return S_ISFIFO(mode) ? "a FIFO" : S_ISDIR(mode) ? "a directory" : S_ISSOCK(mode) ? "a socket"
	     : S_ISLNK(mode) ? "a symbolic link" : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
	     : "not a regular file";
}

static int refuse_aside(struct maildrop_item *it, const char *why, struct diag *d);

/* Removes what no user may leave in the maildrop: a name of a file that is not theirs to hand
 * over, or no file at all. Its content is never read, and no second name of it is kept. */
static int refuse_remove(struct maildrop_item *it, const char *why, bool dir, struct diag *d)
{
	if (unlinkat(it->dfd, it->name, dir ? AT_REMOVEDIR : 0) < 0)
		return refuse_aside(it, why, d);	/* a directory with something in it */
	return diag_set(d, EX_DATAERR, "%s: %s; removed", it->name, why);
}

/* The root-only directory refused entries go to, created when first needed. */
static int open_aside(const char *aside, struct diag *d)
{
	if (mkdir(aside, 0700) < 0 && errno != EEXIST)
		return diag_set(d, EX_CANTCREAT, "%s: %s", aside, strerror(errno)), -1;
	int fd = open(aside, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return diag_set(d, EX_CANTCREAT, "%s: %s", aside, strerror(errno)), -1;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return diag_set(d, EX_CANTCREAT, "%s: not a directory of yours with mode 0700", aside), -1;
	}
	return fd;
}

static int refuse_aside(struct maildrop_item *it, const char *why, struct diag *d)
{
	struct diag ad = {0};
	int afd = open_aside(it->aside, &ad);
	if (afd < 0)
		return diag_set(d, EX_DATAERR, "%s: %s; left in place (%s)", it->name, why, ad.msg);
	int rc;
	if (renameat(it->dfd, it->name, afd, it->name) < 0)
		rc = diag_set(d, EX_DATAERR, "%s: %s; left in place: %s", it->name, why, strerror(errno));
	else
		rc = diag_set(d, EX_DATAERR, "%s: %s; moved to %s/%s", it->name, why, it->aside, it->name);
	close(afd);
	return rc;
}

int maildrop_item_refuse(struct maildrop_item *it, struct diag *d)
{
	char why[sizeof d->msg];
	snprintf(why, sizeof why, "%s", d->msg);
	return refuse_aside(it, why, d);
}

int maildrop_item_remove(struct maildrop_item *it, struct diag *d)
{
	if (unlinkat(it->dfd, it->name, 0) < 0)
		return diag_set(d, EX_IOERR, "%s: %s", it->name, strerror(errno));
	int dir = openat(it->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		fsync(dir);
		close(dir);
	}
	return EX_OK;
}

ssize_t maildrop_item_read(void *ctx, void *buf, size_t n)
{
	struct maildrop_item *it = ctx;
	if (it->left == 0) {
		/* at the bound: one more byte means the file grew past it */
		char probe;
		ssize_t got = read(it->fd, &probe, 1);
		if (got > 0) {
			errno = EFBIG;
			return -1;
		}
		return got;
	}
	if (n > it->left)
		n = (size_t)it->left;
	for (;;) {
		ssize_t got = read(it->fd, buf, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got > 0)
			it->left -= (unsigned long long)got;
		return got;
	}
}

/* The owner's name for a report: "uid 65534 (nobody)". */
static void describe_uid(uid_t uid, char *out, size_t n)
{
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name)
		snprintf(out, n, "uid %lu (%s)", (unsigned long)uid, pw->pw_name);
	else
		snprintf(out, n, "uid %lu", (unsigned long)uid);
}

/* Reads the envelope block from the start of it->fd and leaves fd just after it. */
static int read_envelope(struct maildrop_item *it, unsigned long long size, struct diag *d)
{
	struct buf text = {0};
	char chunk[8192];
	size_t end = 0;
	int rc = EX_OK;
	for (;;) {
		ssize_t got = read(it->fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = diag_set(d, EX_IOERR, "%s", strerror(errno));
			break;
		}
		size_t from = text.len > 0 ? text.len - 1 : 0;
		buf_append(&text, chunk, (size_t)got);
		size_t magic = strlen(MAILDROP_MAGIC "\n");
		size_t cmp = text.len < magic ? text.len : magic;
		if (memcmp(text.data, MAILDROP_MAGIC "\n", cmp) != 0 || (got == 0 && text.len < magic)) {
			rc = diag_set(d, EX_DATAERR, "not a postie maildrop entry");
			break;
		}
		char *hit = NULL;
		for (size_t i = from; i + 1 < text.len; i++)
			if (text.data[i] == '\n' && text.data[i + 1] == '\n') {
				hit = text.data + i;
				break;
			}
		if (hit) {
			end = (size_t)(hit - text.data) + 2;
			break;
		}
		if (got == 0 || text.len > MAILDROP_MAX_ENVELOPE) {
			rc = diag_set(d, EX_DATAERR, "the envelope has no end");
			break;
		}
	}
	if (rc == EX_OK)
		rc = maildrop_entry_parse(text.data, end, &it->e, d);
	if (rc == EX_OK && lseek(it->fd, (off_t)end, SEEK_SET) < 0)
		rc = diag_set(d, EX_IOERR, "%s", strerror(errno));
	if (rc == EX_OK)
		it->left = size > end ? size - end : 0;
	buf_free(&text);
	return rc;
}

int maildrop_open(const char *dir, const char *name, const char *aside, unsigned long long max,
		  struct maildrop_item **out, struct diag *d)
{
	*out = NULL;
	struct maildrop_item *it = xcalloc(1, sizeof *it);
	it->fd = -1;
	it->name = xstrdup(name);
	it->aside = xstrdup(aside);
	it->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (it->dfd < 0) {
		int err = errno;
		free(it->name);
		free(it->aside);
		free(it);
		return diag_set(d, EX_IOERR, "system queue %s: %s", dir, strerror(err));
	}
	int rc = EX_OK;
	struct stat st, now;
	/* O_NONBLOCK: a FIFO would otherwise hold the run until someone writes to it */
	it->fd = openat(it->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (it->fd < 0) {
		if (errno == ENOENT)
			rc = EX_TEMPFAIL;	/* picked up by another run meanwhile */
		else if (errno == ELOOP)
			rc = refuse_remove(it, "a symbolic link", false, d);
		else if (errno == ENXIO)
			rc = refuse_remove(it, "a socket", false, d);
		else
			rc = diag_set(d, EX_DATAERR, "%s: %s; left in place", name, strerror(errno));
		goto out;
	}
	if (fstat(it->fd, &st) < 0) {
		rc = diag_set(d, EX_DATAERR, "%s: %s; left in place", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = refuse_remove(it, kind_of(st.st_mode), S_ISDIR(st.st_mode), d);
		goto out;
	}
	if (flock(it->fd, LOCK_EX | LOCK_NB) < 0) {
		rc = EX_TEMPFAIL;	/* another run is picking it up */
		goto out;
	}
	/* under the lock: still the file the name gives, or another run has taken it */
	if (fstatat(it->dfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != st.st_ino ||
	    now.st_dev != st.st_dev) {
		rc = EX_TEMPFAIL;
		goto out;
	}
	if (fstat(it->fd, &st) < 0) {
		rc = diag_set(d, EX_DATAERR, "%s: %s; left in place", name, strerror(errno));
		goto out;
	}
	if (st.st_nlink != 1) {
		char why[64];
		snprintf(why, sizeof why, "a hard link (%lu links)", (unsigned long)st.st_nlink);
		/* moved, not removed: with its other names in the maildrop, removing this one
		 * would make the last look like a file of one link */
		rc = refuse_aside(it, why, d);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		char why[128];
		snprintf(why, sizeof why, "%llu bytes, over the bound of %llu",
			 (unsigned long long)st.st_size, max);
		rc = refuse_aside(it, why, d);
		goto out;
	}
	struct diag why = {0};
	if (read_envelope(it, (unsigned long long)st.st_size, &why) != EX_OK) {
		rc = refuse_aside(it, why.msg, d);
		goto out;
	}
	if (it->e.uid != st.st_uid) {
		char owner[160], claim[64];
		describe_uid(st.st_uid, owner, sizeof owner);
		snprintf(claim, sizeof claim, "uid %lu", (unsigned long)it->e.uid);
		char text[300];
		snprintf(text, sizeof text, "claims %s but is owned by %s", claim, owner);
		rc = refuse_aside(it, text, d);
		goto out;
	}
	*out = it;
	return EX_OK;
out:
	maildrop_item_close(it);
	return rc;
}
