/* SPDX-License-Identifier: ISC */
/* lineio.c: line splitting over a fixed buffer (see lineio.h). A bare CR counts as a line break
 * so that no lone CR or LF can reach the wire, where lax receivers would take it for one; in the
 * header's mode the caller gets it as data and must replace it. */
#include "lineio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct lineio {
	lineio_read_fn fn;
	void *ctx;
	int fd;
	const volatile sig_atomic_t *cancel;
	size_t start, end;	/* unread bytes are buf[start, end) */
	size_t cap;		/* the size of buf: LINEIO_BUFSIZE, less in tests */
	bool eof;
	bool lone_cr_breaks;
	char buf[];
};

static ssize_t read_fd(void *ctx, void *buf, size_t n)
{
	struct lineio *r = ctx;
	for (;;) {
		ssize_t got = read(r->fd, buf, n);
		if (got >= 0 || errno != EINTR || (r->cancel && *r->cancel))
			return got;
	}
}

struct lineio *lineio_new(lineio_read_fn fn, void *ctx)
{
	return lineio_new_sized(fn, ctx, LINEIO_BUFSIZE);
}

struct lineio *lineio_new_sized(lineio_read_fn fn, void *ctx, size_t cap)
{
	if (cap < 2)
		cap = 2;
	struct lineio *r = xmalloc(sizeof *r + cap);
	r->fn = fn;
	r->ctx = ctx;
	r->fd = -1;
	r->start = r->end = 0;
	r->cap = cap;
	r->eof = false;
	r->lone_cr_breaks = true;
	r->cancel = NULL;
	return r;
}

void lineio_set_cancel(struct lineio *r, const volatile sig_atomic_t *flag)
{
	r->cancel = flag;
}

void lineio_set_lone_cr_breaks(struct lineio *r, bool on)
{
	r->lone_cr_breaks = on;
}

struct lineio *lineio_fd(int fd)
{
	return lineio_fd_sized(fd, LINEIO_BUFSIZE);
}

struct lineio *lineio_fd_sized(int fd, size_t cap)
{
	struct lineio *r = lineio_new_sized(read_fd, NULL, cap);
	r->ctx = r;
	r->fd = fd;
	return r;
}

void lineio_free(struct lineio *r)
{
	free(r);
}

/* Moves the unread bytes to the front and reads more behind them. */
static int refill(struct lineio *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	ssize_t got = r->fn(r->ctx, r->buf + r->end, r->cap - r->end);
	if (got < 0)
		return -1;
	if (got == 0)
		r->eof = true;
	r->end += (size_t)got;
	return 0;
}

int lineio_next(struct lineio *r, const char **p, size_t *len, bool *eol)
{
	for (;;) {
		char *s = r->buf + r->start, *e = r->buf + r->end;
		/* memchr twice beats a byte loop: both are vectorised */
		char *lf = memchr(s, '\n', (size_t)(e - s));
		char *cr = r->lone_cr_breaks ? memchr(s, '\r', (size_t)((lf ? lf : e) - s)) : NULL;
		char *brk = cr ? cr : lf;
		if (brk && brk == lf && !r->lone_cr_breaks) {
			*p = s;
			*len = (size_t)(lf - s) - (lf > s && lf[-1] == '\r');
			*eol = true;
			r->start = (size_t)(lf - r->buf) + 1;
			return 1;
		}
		if (brk) {
			if (*brk == '\r' && brk + 1 == e && !r->eof) {
				/* a CR at the end of the buffer: only the next byte tells CRLF
				 * from a lone CR */
				if (r->start == 0 && r->end == r->cap) {
					*p = s;
					*len = (size_t)(brk - s);
					*eol = false;
					r->start = (size_t)(brk - r->buf);
					return 1;
				}
				if (refill(r) < 0)
					return -1;
				continue;
			}
			*p = s;
			*len = (size_t)(brk - s);
			*eol = true;
			size_t skip = (*brk == '\r' && brk + 1 < e && brk[1] == '\n') ? 2 : 1;
			r->start = (size_t)(brk - r->buf) + skip;
			return 1;
		}
		if (r->eof) {
			if (s == e)
				return 0;
			*p = s;
			*len = (size_t)(e - s);
			*eol = false;
			r->start = r->end;
			return 1;
		}
		if (r->start == 0 && r->end == r->cap) {
			/* a CR kept as data may be the first half of a CRLF */
			bool hold_cr = !r->lone_cr_breaks && e[-1] == '\r';
			*p = s;
			*len = (size_t)(e - s) - hold_cr;
			*eol = false;
			r->start = r->end - hold_cr;
			return 1;
		}
		if (refill(r) < 0)
			return -1;
	}
}

void lineio_buffered(const struct lineio *r, const char **p, size_t *len)
{
	*p = r->buf + r->start;
	*len = r->end - r->start;
}

void lineio_consume(struct lineio *r, size_t n)
{
	if (n > r->end - r->start)
		n = r->end - r->start;
	r->start += n;
}

ssize_t lineio_read_into(struct lineio *r, char *buf, size_t n)
{
	if (r->eof)
		return 0;
	if (n > r->cap)
		n = r->cap;
	ssize_t got = r->fn(r->ctx, buf, n);
	if (got == 0)
		r->eof = true;
	return got;
}

void lineio_unread(struct lineio *r, const char *p, size_t len)
{
	if (len > r->cap)
		len = r->cap;	/* never: the callers give back at most what one read gave */
	memmove(r->buf, p, len);
	r->start = 0;
	r->end = len;
}

size_t lineio_capacity(const struct lineio *r)
{
	return r->cap;
}
