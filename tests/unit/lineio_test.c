/* SPDX-License-Identifier: ISC */
/* lineio_test.c: line splitting and line-ending normalisation, fed in every chunk size from 1
 * byte up, so that a CR or CRLF falling across two reads is covered. */
#include <stdlib.h>
#include <string.h>

#include "lineio.h"
#include "tap.h"
#include "util.h"

struct source {
	const char *data;
	size_t len, pos, chunk;
};

static ssize_t read_chunks(void *ctx, void *buf, size_t n)
{
	struct source *s = ctx;
	size_t k = s->len - s->pos;
	if (k > s->chunk)
		k = s->chunk;
	if (k > n)
		k = n;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

/* Lines joined with "\n" for each break, and "$" when the input ended without one. */
static char *split_mode(const char *in, size_t len, size_t chunk, bool lone_cr_breaks)
{
	struct source src = { in, len, 0, chunk };
	struct lineio *r = lineio_new(read_chunks, &src);
	lineio_set_lone_cr_breaks(r, lone_cr_breaks);
	struct buf out = {0};
	const char *p;
	size_t n;
	bool eol = true;
	int got;
	while ((got = lineio_next(r, &p, &n, &eol)) == 1) {
		buf_append(&out, p, n);
		if (eol)
			buf_putc(&out, '\n');
	}
	if (!eol)
		buf_putc(&out, '$');
	lineio_free(r);
	return buf_steal(&out);
}

static char *split(const char *in, size_t len, size_t chunk)
{
	return split_mode(in, len, chunk, true);
}

static const struct {
	const char *in, *want, *what;
} cases[] = {
	{ "", "", "empty input gives nothing" },
	{ "a\n", "a\n", "LF" },
	{ "a\r\n", "a\n", "CRLF" },
	{ "a\r", "a\n", "a lone CR at the end is a line break" },
	{ "a\rb\n", "a\nb\n", "a lone CR inside is a line break" },
	{ "a\r\r\nb", "a\n\nb$", "CR CR LF is two breaks" },
	{ "a\n\rb", "a\n\nb$", "LF CR is two breaks" },
	{ "a\nb\r\nc\rd", "a\nb\nc\nd$", "mixed endings and no final break" },
	{ "\n\n", "\n\n", "empty lines" },
	{ ".\r\n..\r\n.x\n", ".\n..\n.x\n", "dots are not interpreted" },
	{ "\r\n", "\n", "a lone CRLF" },
};

/* The header's mode: only LF and CRLF end a line, a lone CR is data ("\r" in want). */
static const struct {
	const char *in, *want, *what;
} header_cases[] = {
	{ "a\rb\n", "a\rb\n", "a lone CR inside is data" },
	{ "a\r\n", "a\n", "CRLF is still one break" },
	{ "a\r\r\nb", "a\r\nb$", "CR CR LF is data then a break" },
	{ "a\n\rb\n", "a\n\rb\n", "LF CR: the CR starts the next line" },
	{ "a\r", "a\r$", "a lone CR at the end is data" },
	{ "\r\n\n", "\n\n", "empty lines" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof header_cases / sizeof header_cases[0]; i++) {
		for (size_t chunk = 1; chunk <= 5; chunk++) {
			char *got = split_mode(header_cases[i].in, strlen(header_cases[i].in), chunk, false);
			is_str(got, header_cases[i].want, "header mode: %s (reads of %zu bytes)",
			       header_cases[i].what, chunk);
			free(got);
		}
	}

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t chunk = 1; chunk <= 5; chunk++) {
			char *got = split(cases[i].in, strlen(cases[i].in), chunk);
			is_str(got, cases[i].want, "%s (reads of %zu bytes)", cases[i].what, chunk);
			free(got);
		}
	}

	/* a line longer than the buffer comes out in pieces that join up again */
	size_t big = LINEIO_BUFSIZE * 2 + 17;
	char *line = xmalloc(big + 2);
	memset(line, 'x', big);
	line[big] = '\r';
	line[big + 1] = '\n';
	char *got = split(line, big + 2, 4096);
	ok(strlen(got) == big + 1 && got[big] == '\n' && strspn(got, "x") == big,
	   "a line of %zu bytes is split into pieces and rejoined", big);
	free(got);

	/* a CR as the last byte of a full buffer, followed by LF in the next read */
	memset(line, 'y', LINEIO_BUFSIZE - 1);
	line[LINEIO_BUFSIZE - 1] = '\r';
	line[LINEIO_BUFSIZE] = '\n';
	line[LINEIO_BUFSIZE + 1] = 'z';
	got = split(line, LINEIO_BUFSIZE + 2, LINEIO_BUFSIZE + 2);
	ok(strlen(got) == LINEIO_BUFSIZE + 2 && got[LINEIO_BUFSIZE - 1] == '\n' &&
		   got[LINEIO_BUFSIZE] == 'z',
	   "CRLF across the end of a full buffer is one break");
	free(got);
	got = split_mode(line, LINEIO_BUFSIZE + 2, LINEIO_BUFSIZE + 2, false);
	ok(strlen(got) == LINEIO_BUFSIZE + 2 && got[LINEIO_BUFSIZE - 1] == '\n' &&
		   got[LINEIO_BUFSIZE] == 'z',
	   "header mode: CRLF across the end of a full buffer is one break, the CR held back");
	free(got);
	free(line);

	struct source empty = { "", 0, 0, 1 };
	struct lineio *r = lineio_new(read_chunks, &empty);
	const char *p;
	size_t n;
	bool eol;
	is_int(lineio_next(r, &p, &n, &eol), 0, "end of input is 0");
	is_int(lineio_next(r, &p, &n, &eol), 0, "and stays 0");
	lineio_free(r);
	return done_testing();
}
