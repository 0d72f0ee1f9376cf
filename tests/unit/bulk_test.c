/* SPDX-License-Identifier: ISC */
/* bulk_test.c: the body's bulk path (message.c's body_bulk) against the line-by-line reader.
 * Each input of a table of tricky messages is read through message_open_stream both ways, for
 * every split of it into two reads, every read size, and random splits, with input buffers
 * small enough to put lines across their boundary; the bodies must be the same bytes. It
 * compares paths only: what those bytes must be is for the bats suites (fidelity.bats,
 * dots.bats...). It reads from memory only: no file, no socket, no process. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "tap.h"
#include "util.h"

static const volatile sig_atomic_t never_cancelled = 0;

/* Reads come in pieces: [0, split) first when split is set, then chunk bytes at a time, or
 * when seed is set, a random 1..chunk bytes at a time. */
struct source {
	const char *data;
	size_t len, pos, split, chunk;
	uint32_t seed;
};

static ssize_t read_pieces(void *ctx, void *buf, size_t n)
{
	struct source *s = ctx;
	size_t k = s->len - s->pos;
	if (s->split && s->pos < s->split) {
		k = s->split - s->pos;
	} else {
		size_t c = s->chunk;
		if (s->seed) {
			s->seed = s->seed * 1103515245u + 12345u;
			c = 1 + (s->seed >> 8) % s->chunk;
		}
		if (k > c)
			k = c;
	}
	if (k > n)
		k = n;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

struct run {
	bool line_by_line, ignore_dots, extract;
	size_t input_buffer, out_chunk;
};

/* What message_read gives, or "open failed: <code>"; the header part (generated Date and
 * Message-ID differ between runs) is replaced by its length. */
static char *read_all(const char *in, size_t len, struct source src, const struct run *r)
{
	struct strlist operands = {0}, none = {0};
	strlist_add(&operands, "root");
	struct message_opts o = {
		.extract = r->extract, .ignore_dots = r->ignore_dots, .login = "root",
		.domain = "example.net", .operands = &operands, .to = &none, .cc = &none,
		.bcc = &none, .attach = &none, .headers = &none, .cancel = &never_cancelled,
		.line_by_line = r->line_by_line, .input_buffer = r->input_buffer,
	};
	src.data = in;
	src.len = len;
	src.pos = 0;
	struct message *m = NULL;
	struct diag d = {0};
	struct buf out = {0};
	int rc = message_open_stream(&m, &o, read_pieces, &src, &d);
	if (rc != EX_OK) {
		buf_printf(&out, "open failed: %d", rc);
		strlist_free(&operands);
		return buf_steal(&out);
	}
	char *piece = xmalloc(r->out_chunk);
	ssize_t got;
	while ((got = message_read(m, piece, r->out_chunk, &d)) > 0) {
		if ((size_t)got > r->out_chunk) {
			buf_puts(&out, "[read overran its buffer]");
			break;
		}
		buf_append(&out, piece, (size_t)got);
	}
	if (got < 0)
		buf_puts(&out, "[read failed]");
	if (!message_input_done(m))
		buf_puts(&out, "[input not done]");
	free(piece);
	message_free(m);
	strlist_free(&operands);
	buf_putc(&out, '\0');
	out.len--;
	const char *body = out.len ? strstr(out.data, "\r\n\r\n") : NULL;
	struct buf shown = {0};
	buf_printf(&shown, "[header of %zu bytes]", body ? (size_t)(body - out.data) : out.len);
	if (body)
		buf_append(&shown, body, out.len - (size_t)(body - out.data));
	buf_free(&out);
	return buf_steal(&shown);
}

static size_t failures;

/* Both paths with the same reads and buffers; reports only the first few differences. */
static void compare(const char *what, const char *in, size_t len, struct source src, struct run r)
{
	r.line_by_line = true;
	char *slow = read_all(in, len, src, &r);
	r.line_by_line = false;
	char *fast = read_all(in, len, src, &r);
	if (strcmp(slow, fast) != 0 && failures++ < 5) {
		printf("# %s: split %zu, chunk %zu, seed %u, buffer %zu, out %zu, -i %d, -t %d\n",
		       what, src.split, src.chunk, src.seed, r.input_buffer, r.out_chunk,
		       r.ignore_dots, r.extract);
		tap_diag_str("line by line", slow);
		tap_diag_str("bulk", fast);
	}
	free(slow);
	free(fast);
}

/* Every split into two reads, every read size up to the input's, and seeds random splits (only
 * random ones for a long input), for each buffer size, -i or not, and two output sizes. */
static void compare_all(const char *what, const char *in, size_t len, bool exhaustive,
			uint32_t seeds)
{
	static const size_t buffers[] = { 0, 5, 16, 100, 1100 };
	static const size_t outs[] = { 65536, 7, 5000 };
	for (size_t b = 0; b < sizeof buffers / sizeof *buffers; b++) {
		for (int flags = 0; flags < 4; flags++) {
			for (size_t oc = 0; oc < sizeof outs / sizeof *outs; oc++) {
				struct run r = { .ignore_dots = flags & 1, .extract = flags & 2,
						 .input_buffer = buffers[b], .out_chunk = outs[oc] };
				if (exhaustive) {
					for (size_t split = 1; split < len; split++)
						compare(what, in, len, (struct source){ .split = split, .chunk = len }, r);
					for (size_t chunk = 1; chunk <= len; chunk++)
						compare(what, in, len, (struct source){ .chunk = chunk }, r);
				}
				for (uint32_t seed = 1; seed <= seeds; seed++)
					compare(what, in, len, (struct source){ .chunk = exhaustive ? 9 : 70000, .seed = seed }, r);
			}
		}
	}
}

#define S(lit) lit, sizeof lit - 1

static const struct {
	const char *in;
	size_t len;
	const char *what;
} cases[] = {
	{ S(""), "empty input" },
	{ S("To: a@b\n\nbody\n"), "LF lines" },
	{ S("To: a@b\r\n\r\nbody\r\nmore\r\n"), "CRLF lines" },
	{ S("To: a@b\n\nno final newline"), "no final line break" },
	{ S("To: a@b\n\n.\nafter the dot\n"), "a lone dot ends the input unless -i" },
	{ S("To: a@b\n\n.\r\nafter\r\n"), "a lone dot with CRLF" },
	{ S("To: a@b\n\n..\n.x\n. \n.\n"), "dots at line starts that are not lone" },
	{ S("To: a@b\n\nx\n.\n"), "a lone dot as the last line" },
	{ S("To: a@b\n\nx\n."), "a lone dot with no line break at the end" },
	{ S("To: a@b\n\na\rb\r\nc\r\r\nd\n\re\r"), "bare CRs in the body" },
	{ S("To: a@b\n\na\r\n\r.\r\n.\rz\n"), "a bare CR before a dot" },
	{ S("To: a@b\n\na\0b\n\0\n\r\0\n"), "NUL in the body" },
	{ S("To: a@b\r\nSubject: x\r\n\r\n\r\n\n\r\n"), "empty body lines" },
	{ S("To: a@b\nthis is no field\nsecond\n"), "the header ends without a blank line" },
	{ S("To: a@b\nno field\r.\rnext\n.\n"), "a first body line with lone CRs" },
	{ S("From me Thu Jan  1 00:00:00 1970\n>From x\nTo: a@b\n\nFrom here\n>From there\n"),
	  "mbox From_ lines in the header and the body" },
	{ S("Resent-To: r@b\nResent-From: s@b\nTo: a@b\n\nbody\n.\n"), "a Resent- block" },
	{ S("To: a@b\n\n\n"), "one empty body line" },
	{ S("To: a@b\n"), "a header only" },
	{ S("\n"), "a blank line only" },
	{ S("\r\n.\r\n"), "an empty header and a lone dot" },
	{ S("To: a@b\n\nx\r"), "a CR at the very end" },
	{ S("To: a@b\n\n\r\n\r\r\n\n\r"), "CR and LF in every order" },
};

/* Lines of every kind, long ones included, for random splits over many buffers. */
static char *long_input(size_t *len, uint32_t seed)
{
	struct buf b = {0};
	buf_puts(&b, "To: a@b\r\nSubject: long\r\n\r\n");
	static const char *const ends[] = { "\r\n", "\n", "\r", "\r\r\n", "\n\r" };
	while (b.len < 300000) {
		seed = seed * 1103515245u + 12345u;
		unsigned kind = (seed >> 16) % 100;
		size_t n = kind < 80 ? (seed >> 4) % 80 : kind < 95 ? 990 + (seed >> 4) % 20 :
			   1000 + (seed >> 4) % 3000;
		if (kind % 7 == 0)
			buf_putc(&b, '.');
		for (size_t i = 0; i < n; i++)
			buf_putc(&b, i % 9 == 8 && kind % 3 ? ' ' : (char)('a' + i % 26));
		if (kind == 42)
			buf_putc(&b, '\0');
		buf_puts(&b, kind < 90 ? ends[kind % 2] : ends[kind % 5]);
	}
	*len = b.len;
	return buf_steal(&b);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t before = failures;
		compare_all(cases[i].what, cases[i].in, cases[i].len, true, 20);
		ok(failures == before, "bulk and line by line agree: %s", cases[i].what);
	}
	/* a lone dot and a CRLF at every offset round a small buffer's boundary */
	for (size_t pad = 0; pad < 20; pad++) {
		struct buf b = {0};
		buf_puts(&b, "To: a@b\n\n");
		for (size_t i = 0; i < pad; i++)
			buf_putc(&b, 'x');
		buf_puts(&b, "\r\n.\r\n..\n.\n");
		size_t before = failures;
		compare_all("padded", b.data, b.len, true, 20);
		ok(failures == before, "bulk and line by line agree with %zu bytes before a dot", pad);
		buf_free(&b);
	}
	/* lines about the 998-octet limit, where the line-by-line path cuts */
	for (size_t n = 996; n <= 1000; n++) {
		struct buf b = {0};
		buf_puts(&b, "To: a@b\n\n");
		for (int end = 0; end < 2; end++) {
			for (size_t i = 0; i < n; i++)
				buf_putc(&b, i == n / 2 ? ' ' : 'y');
			buf_puts(&b, end ? "\n" : "\r\n");
		}
		size_t before = failures;
		compare_all("at the limit", b.data, b.len, false, 20);
		ok(failures == before, "bulk and line by line agree on lines of %zu bytes", n);
		buf_free(&b);
	}
	/* long runs of CRLF lines, where the block test and the direct read take over, with a lone
	 * dot (the end unless -i), a bare LF or a lone CR at offsets round the 64-byte blocks */
	static const char *const spoilers[] = { ".\r\n", "\n", "\r", ".\n" };
	for (size_t s = 0; s < sizeof spoilers / sizeof *spoilers; s++) {
		size_t before = failures;
		for (size_t at = 70000; at < 70000 + 130; at += 11) {
			struct buf b = {0};
			buf_puts(&b, "To: a@b\r\n\r\n");
			while (b.len < at)
				buf_puts(&b, "line of text\r\n");
			buf_puts(&b, spoilers[s]);
			for (int i = 0; i < 200; i++)
				buf_puts(&b, "after\r\n");
			compare_all("a long CRLF run", b.data, b.len, false, 2);
			buf_free(&b);
		}
		ok(failures == before, "bulk and line by line agree on a long CRLF run, then %s",
		   s == 0 ? "a lone dot" : s == 1 ? "a bare LF" : s == 2 ? "a lone CR" : "a lone dot with LF");
	}
	for (uint32_t seed = 1; seed <= 3; seed++) {
		size_t len;
		char *in = long_input(&len, seed);
		size_t before = failures;
		compare_all("long", in, len, false, 20);
		ok(failures == before, "bulk and line by line agree on 300 kB of mixed lines (%u)", seed);
		free(in);
	}
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
