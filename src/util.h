/* SPDX-License-Identifier: ISC */
/* util.h: what every module shares: the error report (struct diag), the allocators that die
 * with EX_OSERR instead of returning NULL, and a growable byte buffer. No policy lives here. */
#ifndef POSTIE_UTIL_H
#define POSTIE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sysexits.h>

/* An error on its way up to the one place that reports it (cmd/postie.c).
 * code is a sysexits(3) status (EX_OK when there is no error); msg is the text printed after
 * "postie: ". The caller owns the struct; functions only fill it. */
struct diag {
	int code;
	char msg[1024];
};

/* Fills d (if not NULL) with code and a printf-formatted message; returns code so that callers
 * can write `return diag_set(d, EX_USAGE, "...")`. */
int diag_set(struct diag *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Allocators: on failure they print "postie: out of memory" (log_out_of_memory) and
 * exit(EX_OSERR). They are the only exception to "src/ never exits": there is nothing useful a
 * caller could do instead. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrites the string s with zeros up to its NUL and frees it: for a secret, or anything read
 * from a file that may hold one. NULL is fine. */
void wipe_free(char *s);

/* A growable byte buffer; data is always NUL-terminated (the NUL is not counted in len).
 * Zero-initialise it (struct buf b = {0}); buf_free releases it and leaves it empty. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* The length of the well-formed UTF-8 sequence at p (n bytes left, n >= 1) when it encodes
 * U+00A0 or above, else 0. */
size_t utf8_printable_len(const unsigned char *p, size_t n);

/* Appends the n bytes at s as text safe for a terminal or a log, by the one rule of every line
 * postie writes: CR, LF and TAB as \r, \n and \t; every other byte below 0x20, DEL, and every
 * byte that is not part of well-formed UTF-8 for U+00A0 and up (C1 controls such as U+009B,
 * CSI, stray or truncated sequences, surrogates) as \xNN. Printable ASCII and UTF-8 names
 * stay as they are, and so does a backslash: text escaped once is left alone the second time.
 * buf_put_escaped takes a NUL-terminated s. */
void buf_put_escaped_n(struct buf *b, const char *s, size_t n);
void buf_put_escaped(struct buf *b, const char *s);

/* Returns the contents as a malloc'd string owned by the caller and leaves b empty. */
char *buf_steal(struct buf *b);

/* A list of strings that owns them; zero-initialise it. */
struct strlist {
	char **v;
	size_t n;
};
void strlist_add(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

/* write(2) until all n bytes are written (EINTR retried). Returns 0, or -1 with errno. */
int write_all(int fd, const void *p, size_t n);

/* Reads the regular file path, at most max bytes, into out (appended). st (may be NULL) gets
 * its fstat. A missing file returns -1 when missing_ok, else an error. Errors: EX_CONFIG with
 * "path: why" ("not a regular file", "larger than N bytes", errno text). The read buffer is
 * wiped: configuration files hold secrets. */
int read_small_file(const char *path, size_t max, bool missing_ok, struct buf *out,
		    struct stat *st, struct diag *d);

/* True when s (n bytes) holds a CR, an LF or a NUL: what a command-line value may never hold,
 * since it would end a header line or an SMTP command. */
bool has_line_break(const char *s, size_t n);

/* ASCII case-insensitive comparisons that do not depend on the locale. */
int ascii_casecmp(const char *a, const char *b);
int ascii_ncasecmp(const char *a, const char *b, size_t n);

#endif
