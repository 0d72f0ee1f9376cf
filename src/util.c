/* SPDX-License-Identifier: ISC */
/* util.c: the error report, the dying allocators and the byte buffer shared by every module.
 * Nothing here knows about mail. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int diag_set(struct diag *d, int code, const char *fmt, ...)
{
	if (d) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof d->msg, fmt, ap);
		va_end(ap);
		d->code = code;
	}
	return code;
}

static void *oom(void)
{
	log_out_of_memory();
	exit(EX_OSERR);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom();
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return oom();
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return oom();
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void wipe_free(char *s)
{
	if (!s)
		return;
	/* explicit_bzero, unlike memset, is not dropped for memory that is about to be freed */
	explicit_bzero(s, strlen(s));
	free(s);
}

static void buf_reserve(struct buf *b, size_t more)
{
	if (more > (size_t)-1 - b->len - 1)
		oom();
	size_t need = b->len + more + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n >= 0) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Below U+00A0 are the C1 controls, which some terminals obey as they obey ESC (U+009B is
 * CSI), and the overlong forms of ASCII. */
size_t utf8_printable_len(const unsigned char *p, size_t n)
{
	static const unsigned long least[] = { 0, 0, 0xa0, 0x800, 0x10000 };
	size_t len;
	unsigned long cp;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < least[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void buf_put_escaped_n(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k;
		if (c >= 0x20 && c < 0x7f) {
			buf_putc(b, (char)c);
			i++;
		} else if (c == '\r' || c == '\n' || c == '\t') {
			buf_puts(b, c == '\r' ? "\\r" : c == '\n' ? "\\n" : "\\t");
			i++;
		} else if (c >= 0x80 && (k = utf8_printable_len(p + i, n - i)) > 0) {
			buf_append(b, p + i, k);
			i += k;
		} else {
			buf_printf(b, "\\x%02x", c);
			i++;
		}
	}
}

void buf_put_escaped(struct buf *b, const char *s)
{
	buf_put_escaped_n(b, s, strlen(s));
}

char *buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void strlist_add(struct strlist *l, const char *s)
{
	/* doubling at each power of two: 100,000 recipients must not cost a realloc each */
	if ((l->n & (l->n - 1)) == 0)
		l->v = xreallocarray(l->v, l->n ? l->n * 2 : 1, sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool has_line_break(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return true;
	return false;
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int ascii_ncasecmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int x = lower((unsigned char)a[i]), y = lower((unsigned char)b[i]);
		if (x != y || !x)
			return x - y;
	}
	return 0;
}

int ascii_casecmp(const char *a, const char *b)
{
	return ascii_ncasecmp(a, b, (size_t)-1);
}

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int read_small_file(const char *path, size_t max, bool missing_ok, struct buf *out,
		    struct stat *st, struct diag *d)
{
	/* O_NONBLOCK: a FIFO put in a file's place must not hang postie */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return -1;
		return diag_set(d, EX_CONFIG, "%s: %s", path, strerror(errno));
	}
	struct stat local;
	if (!st)
		st = &local;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return diag_set(d, EX_CONFIG, "%s: not a regular file", path);
	}
	char chunk[8192];
	int rc = EX_OK;
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = diag_set(d, EX_CONFIG, "%s: %s", path, strerror(errno));
			break;
		}
		if (got == 0)
			break;
		if (out->len + (size_t)got > max) {
			rc = diag_set(d, EX_CONFIG, "%s: larger than %zu bytes", path, max);
			break;
		}
		buf_append(out, chunk, (size_t)got);
	}
	explicit_bzero(chunk, sizeof chunk);
	close(fd);
	return rc;
}
