/* SPDX-License-Identifier: ISC */
/* lineio.h: splits a byte stream into lines through one fixed buffer, treating LF, CRLF and a
 * lone CR alike as one line break (a lone CR can be made plain data, for the header). It never holds more than one buffer of input, so a line longer
 * than the buffer comes out in pieces; it interprets nothing (no dots, no headers). */
#ifndef POSTIE_LINEIO_H
#define POSTIE_LINEIO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LINEIO_BUFSIZE (64 * 1024)

/* Where the bytes come from: like read(2), returns the count, 0 at the end, -1 with errno. */
typedef ssize_t (*lineio_read_fn)(void *ctx, void *buf, size_t n);

struct lineio;

/* A reader over fn(ctx); lineio_fd reads a file descriptor (EINTR is retried). Free with
 * lineio_free (NULL is fine); the fd is not closed. */
struct lineio *lineio_new(lineio_read_fn fn, void *ctx);
struct lineio *lineio_fd(int fd);

/* The same with a buffer of cap bytes (at least 2) instead of LINEIO_BUFSIZE: tests make it
 * small to reach the buffer's boundaries with short inputs. */
struct lineio *lineio_new_sized(lineio_read_fn fn, void *ctx, size_t cap);
struct lineio *lineio_fd_sized(int fd, size_t cap);
void lineio_free(struct lineio *r);

/* When *flag becomes non-zero, a read interrupted by a signal (EINTR) fails instead of being
 * retried: how SIGTERM stops postie waiting on its input. */
void lineio_set_cancel(struct lineio *r, const volatile sig_atomic_t *flag);

/* Whether a lone CR (one not followed by LF) ends a line: true from lineio_new. When false, only
 * LF and CRLF do, and a lone CR is returned inside the piece; a CR at the end of a full buffer
 * is held back, so that a CRLF across two reads is still one break. */
void lineio_set_lone_cr_breaks(struct lineio *r, bool on);

/* The bytes read but not yet returned: [*p, *p + *len), valid until the next call on r. It never
 * reads: a caller that can take whole lines faster than lineio_next looks here, then says how
 * much it took with lineio_consume (what lineio_next would have returned for those bytes is the
 * caller's to reproduce). */
void lineio_buffered(const struct lineio *r, const char **p, size_t *len);

/* Marks the first n buffered bytes as read (n is capped at what is buffered). */
void lineio_consume(struct lineio *r, size_t n);

/* Reads up to n bytes of new input (n capped at the buffer's size) straight into buf, bypassing
 * the buffer, which must be empty (lineio_buffered gives 0): one read of the source, as a refill
 * would do it. Returns the count, 0 at the end of input (as 0 from every later call), -1 on a
 * read error (errno set). A caller that can take such bytes as they stand saves their copy; what
 * it cannot take it gives back with lineio_unread. */
ssize_t lineio_read_into(struct lineio *r, char *buf, size_t n);

/* Gives bytes back: they become the buffered input, read again before anything new. The buffer
 * must be empty and len at most the size of the buffer: what lineio_read_into returned, or what
 * was taken with lineio_buffered and consumed, fits. */
void lineio_unread(struct lineio *r, const char *p, size_t len);

/* The size of the buffer: the most lineio_unread takes. */
size_t lineio_capacity(const struct lineio *r);

/* The next piece of input: [*p, *p + *len) without the line break, valid until the next call.
 * *eol is true when a line break followed the piece; false when the line goes on in the next
 * piece (a line longer than the buffer) or the input ended without a final break.
 * Returns 1 for a piece, 0 at the end of input, -1 on a read error (errno set). */
int lineio_next(struct lineio *r, const char **p, size_t *len, bool *eol);

#endif
