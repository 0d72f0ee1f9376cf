/* SPDX-License-Identifier: ISC */
/* fuzz_linescan.c: libFuzzer differential target for linescan.h. The first two bytes choose
 * whether a lone "." is allowed, where the input sits against a 64-byte boundary and how much
 * room the LF conversion gets (none, a few bytes, about the input's size, always enough); the
 * rest is the block. For every implementation this build and CPU can use (linescan_force: avx2,
 * sse2, portable), linescan_crlf_run must give a line end no further than the byte-by-byte
 * reference, and no shorter than the last line end before the reference's block, and
 * linescan_lf_to_crlf must take such a prefix of the LF lines that fit and write exactly their
 * trivial conversion (each LF made CRLF) within its room. linescan_crlf_run_bytewise must equal
 * the reference here, written again. The input and the output each end their own allocation,
 * so that ASan sees a read or write one byte past them. It compares and aborts, never prints. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linescan.h"

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                    \
	do {                           \
		if (!(cond))           \
			abort();       \
	} while (0)

/* The longest prefix of whole lines ended by eol ("\r\n" or "\n"), with no other CR or LF, none
 * over LINESCAN_LINE_MAX bytes and, unless dot_ok, none a lone "."; for LF lines, also no more
 * than fit in room once each LF is made CRLF (room is ignored for CRLF lines). */
HARNESS static size_t reference(const char *p, size_t n, bool crlf, bool dot_ok, size_t room)
{
	size_t good = 0, wrote = 0, start = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n')
			continue;
		size_t len = i - start, end;
		if (crlf) {
			if (p[i] != '\r' || i + 1 >= n || p[i + 1] != '\n')
				break;
			end = i + 2;
		} else {
			if (p[i] != '\n' || wrote + len + 2 > room)
				break;
			end = i + 1;
		}
		if (len > LINESCAN_LINE_MAX || (!dot_ok && len == 1 && p[start] == '.'))
			break;
		wrote += len + 2;
		good = end;
		start = end;
		i = end - 1;
	}
	return good;
}

/* The last line end (just after an LF) in [p, p + limit), or 0. */
HARNESS static size_t last_line_end(const char *p, size_t limit)
{
	for (size_t i = limit; i > 0; i--)
		if (p[i - 1] == '\n')
			return i;
	return 0;
}

HARNESS static void check_crlf(const char *p, size_t n, bool dot_ok, size_t want)
{
	size_t got = linescan_crlf_run(p, n, dot_ok);
	check(got <= want);
	check(got >= last_line_end(p, want & ~(size_t)63));
	check(got == 0 || p[got - 1] == '\n');
}

HARNESS static void check_lf(const char *p, size_t n, bool dot_ok, size_t room)
{
	size_t want = reference(p, n, false, dot_ok, room);
	char *out = malloc(room ? room : 1);
	check(out);
	size_t taken = (size_t)-1;
	size_t wrote = linescan_lf_to_crlf(p, n, dot_ok, out, room, &taken);
	check(taken <= want);
	check(taken >= last_line_end(p, want & ~(size_t)63));
	check(taken == 0 || p[taken - 1] == '\n');
	check(wrote <= room);
	/* exactly p[0, taken) with each LF made CRLF */
	size_t k = 0;
	for (size_t i = 0; i < taken; i++) {
		if (p[i] == '\n') {
			check(k + 2 <= wrote && out[k] == '\r' && out[k + 1] == '\n');
			k += 2;
		} else {
			check(k < wrote && out[k] == p[i]);
			k++;
		}
	}
	check(k == wrote);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const impls[] = { "avx2", "sse2", "portable" };
	static const char *detected;
	if (!detected)
		detected = linescan_impl();
	if (size < 2)
		return 0;
	bool dot_ok = data[0] & 1;
	size_t offset = (size_t)(data[0] >> 1 & 3) * 21;	/* 0, 21, 42, 63 bytes past a boundary */
	unsigned room_kind = data[0] >> 3 & 3;
	size_t n = size - 2;
	size_t room = room_kind == 0 ? data[1] % 8		/* none or a few bytes */
		      : room_kind == 1 ? (size_t)data[1] * 4	/* up to 1,020 */
		      : room_kind == 2 ? n + data[1] % 64	/* about the input's size */
				       : 2 * n;			/* always enough */
	/* the block ends its allocation, which starts on a 64-byte boundary */
	void *area;
	check(posix_memalign(&area, 64, offset + n ? offset + n : 1) == 0);
	char *p = (char *)area + offset;
	if (n)
		memcpy(p, data + 2, n);

	size_t want = reference(p, n, true, dot_ok, 0);
	check(linescan_crlf_run_bytewise(p, n, dot_ok) == want);
	size_t first = 0;
	while (first < n && p[first] != '\r' && p[first] != '\n')
		first++;
	check(linescan_line_break(p, p + n) == p + first);
	for (size_t i = 0; i < sizeof impls / sizeof *impls; i++) {
		if (!linescan_force(impls[i]))
			continue;
		check(strcmp(linescan_impl(), impls[i]) == 0);
		check_crlf(p, n, dot_ok, want);
		check_lf(p, n, dot_ok, room);
	}
	check(linescan_force(detected));
	free(area);
	return 0;
}
