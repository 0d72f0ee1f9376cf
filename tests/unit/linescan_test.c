/* SPDX-License-Identifier: ISC */
/* linescan_test.c: each implementation of linescan_crlf_run and linescan_lf_to_crlf this CPU
 * can run (avx2, sse2, portable) against a byte-by-byte reference, on inputs built to put
 * every rule at a 64-byte block's edges: CR and LF split across blocks, lone dots at a block's last byte, lines of 997 to
 * 1000 bytes, bare CR and LF, and random inputs over a small alphabet. The contract checked: the
 * answer ends a run of whole good lines (the reference takes all of it), is never longer than the
 * reference's, and is short of it by no more than the lines of the block where the reference
 * stops (every block before that one is vouched for). Memory only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linescan.h"
#include "tap.h"
#include "util.h"

static size_t failures;

/* The end of the last whole line of p that ends at or before limit (p starts a line). */
static size_t last_line_end(const char *p, size_t limit)
{
	size_t e = 0;
	for (size_t i = 0; i < limit; i++)
		if (p[i] == '\n')
			e = i + 1;
	return e;
}

static void check(const char *impl, const char *what, const char *p, size_t n, bool dot_ok)
{
	size_t want = linescan_crlf_run_bytewise(p, n, dot_ok);
	size_t got = linescan_crlf_run(p, n, dot_ok);
	size_t floor = last_line_end(p, want & ~(size_t)63);
	bool good = got <= want && got >= floor && linescan_crlf_run_bytewise(p, got, dot_ok) == got;
	if (!good && failures++ < 5)
		printf("# %s, %s: n %zu, -i %d: got %zu, reference %zu, at least %zu\n", impl, what, n,
		       dot_ok, got, want, floor);
}

/* The LF reference: the longest prefix of whole good LF lines that fits in room once converted,
 * and its conversion. */
static size_t lf_reference(const char *p, size_t n, bool dot_ok, size_t room, struct buf *out,
			   size_t *ends, size_t *nends)
{
	size_t i = 0, good = 0;
	*nends = 0;
	while (i < n) {
		size_t start = i;
		while (i < n && p[i] != '\r' && p[i] != '\n')
			i++;
		if (i >= n || p[i] != '\n')
			break;
		size_t len = i - start;
		if (len > LINESCAN_LINE_MAX || (!dot_ok && len == 1 && p[start] == '.') ||
		    out->len + len + 2 > room)
			break;
		buf_append(out, p + start, len);
		buf_puts(out, "\r\n");
		good = ++i;
		ends[(*nends)++] = good;
	}
	return good;
}

static void check_lf(const char *impl, const char *what, const char *p, size_t n, bool dot_ok,
		     size_t room)
{
	static size_t ends[4096];
	size_t nends;
	struct buf want = {0};
	size_t want_taken = lf_reference(p, n, dot_ok, room, &want, ends, &nends);
	char *out = xmalloc(room + 1);
	size_t taken = (size_t)-1;
	size_t wrote = linescan_lf_to_crlf(p, n, dot_ok, out, room, &taken);
	/* at least the lines that end before the block where the reference stops */
	size_t floor = 0;
	for (size_t k = 0; k < nends && ends[k] <= (want_taken & ~(size_t)63); k++)
		floor = ends[k];
	bool good = taken <= want_taken && taken >= floor && wrote <= room &&
		    (taken == 0 || p[taken - 1] == '\n') && memcmp(out, want.data ? want.data : "", wrote) == 0;
	/* what it wrote is the reference's conversion of what it took */
	size_t lines = 0;
	for (size_t k = 0; k < taken; k++)
		lines += p[k] == '\n';
	good = good && wrote == taken + lines;
	if (!good && failures++ < 5)
		printf("# %s, %s (LF): n %zu, -i %d, room %zu: took %zu wrote %zu, reference %zu\n",
		       impl, what, n, dot_ok, room, taken, wrote, want_taken);
	free(out);
	buf_free(&want);
}

static void check_both(const char *impl, const char *what, const char *p, size_t n)
{
	check(impl, what, p, n, false);
	check(impl, what, p, n, true);
}

/* 64-byte-aligned copies, and unaligned ones: the loads are unaligned, and must be. */
static void check_at_offsets(const char *impl, const char *what, const char *p, size_t n)
{
	char *copy = xmalloc(n + 64);
	for (size_t off = 0; off < 3; off++) {
		memcpy(copy + off, p, n);
		check_both(impl, what, copy + off, n);
	}
	free(copy);
}

/* Good CRLF lines of len bytes up to n, then the given tail. */
static size_t fill_lines(char *p, size_t n, size_t len)
{
	size_t i = 0;
	while (i + len + 2 <= n) {
		memset(p + i, 'a', len);
		i += len;
		p[i++] = '\r';
		p[i++] = '\n';
	}
	return i;
}

static void edges(const char *impl)
{
	char buf[4096];
	size_t before = failures;
	/* every rule, placed at every offset round the first block boundaries */
	static const char *const spoilers[] = { "\n", "\r", "\rx", ".\r\n", "\r\r\n", "\n\n", ".\n", "..\r\n" };
	for (size_t s = 0; s < sizeof spoilers / sizeof *spoilers; s++)
		for (size_t at = 0; at < 200; at++) {
			size_t i = fill_lines(buf, at, 5);
			memset(buf + i, 'b', at - i);
			size_t k = strlen(spoilers[s]);
			memcpy(buf + at, spoilers[s], k);
			size_t j = fill_lines(buf + at + k, 300, 7);
			check_at_offsets(impl, spoilers[s], buf, at + k + j);
		}
	ok(failures == before, "%s: a bad byte at every offset up to 200 stops the run at the right line", impl);

	before = failures;
	for (size_t len = 990; len <= 1002; len++)
		for (size_t lead = 0; lead < 70; lead += 3) {
			size_t i = fill_lines(buf, lead, 3);
			memset(buf + i, 'c', len);
			memcpy(buf + i + len, "\r\nzz\r\n", 6);
			check_at_offsets(impl, "long line", buf, i + len + 6);
			check_at_offsets(impl, "long line cut", buf, i + len + 1);
		}
	ok(failures == before, "%s: lines of 990 to 1002 bytes: 998 passes, 999 does not", impl);

	before = failures;
	for (size_t n = 0; n <= 260; n++) {
		size_t i = fill_lines(buf, n, 1);
		memset(buf + i, 'd', n - i);
		check_at_offsets(impl, "short lines", buf, n);
		i = fill_lines(buf, n, 0);
		memset(buf + i, '\r', n - i);
		check_at_offsets(impl, "empty lines", buf, n);
	}
	ok(failures == before, "%s: every length up to 260 of short and empty lines", impl);

	/* a run of good lines is taken whole when it fills the blocks */
	size_t i = fill_lines(buf, 4096, 62);
	ok(i == 4096 && linescan_crlf_run(buf, 4096, false) == 4096,
	   "%s: 4096 bytes of 64-byte lines are one run", impl);
	memset(buf, 'x', 4096);
	for (size_t k = 62; k + 2 < 4096; k += 64)
		buf[k] = '.', buf[k + 1] = '\r', buf[k + 2] = '\n';
	memcpy(buf, ".\r\n", 3);
	ok(linescan_crlf_run(buf, 4096, false) == 0, "%s: a lone dot line first stops at once", impl);
}

static void random_inputs(const char *impl)
{
	static const char alphabet[] = "ab.\r\n\r\n\r\n";
	char buf[3000];
	uint32_t seed = 7;
	size_t before = failures;
	for (int round = 0; round < 20000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 8) % sizeof buf;
		/* mostly good lines, so that the runs are long enough to reach later blocks */
		size_t i = fill_lines(buf, (seed >> 3) % (n + 1), 1 + (seed >> 20) % 70);
		for (; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		check_both(impl, "random", buf, n);
	}
	ok(failures == before, "%s: 20,000 random inputs agree with the reference", impl);
}

/* LF lines of len bytes up to n. */
static size_t fill_lf_lines(char *p, size_t n, size_t len)
{
	size_t i = 0;
	while (i + len + 1 <= n) {
		memset(p + i, 'a', len);
		i += len;
		p[i++] = '\n';
	}
	return i;
}

static void lf_lines(const char *impl)
{
	char buf[4096];
	size_t before = failures;
	static const char *const spoilers[] = { "\r", "\r\n", ".\n", "..\n", "\n\n", "x" };
	for (size_t s = 0; s < sizeof spoilers / sizeof *spoilers; s++)
		for (size_t at = 0; at < 200; at++) {
			size_t i = fill_lf_lines(buf, at, 4);
			memset(buf + i, 'b', at - i);
			size_t k = strlen(spoilers[s]);
			memcpy(buf + at, spoilers[s], k);
			size_t j = fill_lf_lines(buf + at + k, 300, 6);
			for (int dot_ok = 0; dot_ok < 2; dot_ok++) {
				check_lf(impl, spoilers[s], buf, at + k + j, dot_ok, 4096);
				check_lf(impl, spoilers[s], buf, at + k + j, dot_ok, at);
			}
		}
	ok(failures == before, "%s: LF lines: a bad byte at every offset up to 200, and short room", impl);

	before = failures;
	for (size_t len = 990; len <= 1002; len++)
		for (size_t lead = 0; lead < 70; lead += 3) {
			size_t i = fill_lf_lines(buf, lead, 3);
			memset(buf + i, 'c', len);
			memcpy(buf + i + len, "\nzz\n", 4);
			for (size_t n = i + len; n <= i + len + 4; n++)
				check_lf(impl, "long LF line", buf, n, false, 4096);
		}
	ok(failures == before, "%s: LF lines of 990 to 1002 bytes: 998 passes, 999 does not", impl);

	before = failures;
	size_t total = fill_lf_lines(buf, 400, 5);
	total += fill_lf_lines(buf + total, 400, 0);
	for (size_t room = 0; room <= 900; room++)
		check_lf(impl, "every room", buf, total, false, room);
	ok(failures == before, "%s: LF lines: every room from 0 to 900 bytes is kept to", impl);

	before = failures;
	static const char alphabet[] = "ab.\n\n\n\r";
	uint32_t seed = 11;
	for (int round = 0; round < 20000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 8) % 3000;
		size_t i = fill_lf_lines(buf, (seed >> 3) % (n + 1), 1 + (seed >> 20) % 70);
		for (; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		check_lf(impl, "random", buf, n, round & 1, round & 2 ? 4096 : (seed >> 4) % 4000);
	}
	ok(failures == before, "%s: LF lines: 20,000 random inputs and rooms agree with the reference", impl);
}

int main(void)
{
	const char *detected = linescan_impl();
	printf("# this CPU uses %s\n", detected);
	static const char *const impls[] = { "avx2", "sse2", "portable" };
	for (size_t k = 0; k < sizeof impls / sizeof *impls; k++) {
		if (!linescan_force(impls[k])) {
			printf("# %s: not on this CPU or build\n", impls[k]);
			continue;
		}
		edges(impls[k]);
		random_inputs(impls[k]);
		lf_lines(impls[k]);
	}
	ok(!linescan_force("none"), "an unknown implementation is refused");

	const char *e = "abc\r\n";
	ok(linescan_line_break(e, e + 5) == e + 3, "linescan_line_break finds the CR");
	ok(linescan_line_break(e, e + 3) == e + 3, "linescan_line_break gives the end when there is none");
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
