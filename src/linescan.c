/* SPDX-License-Identifier: ISC */
/* linescan.c: the bulk reader's block tests (see linescan.h). Two loops (CRLF lines; LF lines,
 * which it also converts), each stamped out once per vector width; only the way a 64-byte block
 * becomes three bit masks (its CRs, its LFs, its dots) differs. AVX2 is used where the CPU says
 * it has it (a run-time check: the binary runs on any x86-64), SSE2 otherwise (part of the
 * x86-64 baseline), a byte loop elsewhere. */
#include "linescan.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LINESCAN_X86 1
#include <immintrin.h>
#endif

size_t linescan_crlf_run_bytewise(const char *p, size_t n, bool lone_dot_ok)
{
	size_t i = 0, good = 0;
	while (i < n) {
		size_t start = i;
		while (i < n && p[i] != '\r' && p[i] != '\n')
			i++;
		if (i + 1 >= n || p[i] != '\r' || p[i + 1] != '\n')
			break;
		size_t len = i - start;
		if (len > LINESCAN_LINE_MAX || (!lone_dot_ok && len == 1 && p[start] == '.'))
			break;
		i += 2;
		good = i;
	}
	return good;
}

/* The loop. Across blocks it carries whether the last byte was a CR, an LF (a line starts
 * here; true at p, which is at a line's start) or a dot that began a line, and how many bytes
 * of the current line came before the block. A block is vouched for when no LF lacks its CR, no
 * CR lacks its LF, no line is a lone dot (unless allowed) and no line is too long; the first
 * block that is not ends the scan, and the answer is the last line end before it. Lines cross
 * blocks freely: only the first LF of a block can end a line begun before it, which is why the
 * length test looks at that one alone (a line within one block is under 64 bytes). */
#define LINESCAN_LOOP(masks, lone_dot_ok)                                                      \
	size_t good = 0, carried = 0;                                                          \
	uint64_t prev_cr = 0, prev_lf = 1, prev_dot = 0;                                       \
	for (size_t i = 0; i + 64 <= n; i += 64) {                                              \
		uint64_t cr, lf, dot;                                                          \
		masks(p + i, &cr, &lf, &dot);                                                  \
		uint64_t starts = (lf << 1) | prev_lf;                                         \
		uint64_t bad = (lf & ~((cr << 1) | prev_cr)) |                                 \
			       (cr & ~(lf >> 1) & ~(UINT64_C(1) << 63)) | (prev_cr & ~lf);      \
		if (!lone_dot_ok)                                                              \
			bad |= (dot & starts & (cr >> 1)) | (prev_dot & cr & 1);                \
		if (lf) {                                                                      \
			bad |= carried + (size_t)__builtin_ctzll(lf) > LINESCAN_LINE_MAX + 1;  \
			carried = (size_t)__builtin_clzll(lf);                                 \
		} else {                                                                       \
			carried += 64;                                                         \
			bad |= carried > LINESCAN_LINE_MAX + 1;                                \
		}                                                                              \
		if (bad)                                                                       \
			break;                                                                 \
		if (lf)                                                                        \
			good = i + 64 - carried;                                               \
		prev_cr = cr >> 63;                                                            \
		prev_lf = lf >> 63;                                                            \
		prev_dot = (dot & starts) >> 63;                                               \
	}                                                                                      \
	return good;

/* Copies 64 bytes (two 32-byte moves: no call): the LF loop's unit, which writes a segment of a
 * block and lets the next segment write over what went past it. */
static inline void copy64(char *o, const char *s)
{
	memcpy(o, s, 32);
	memcpy(o + 32, s + 32, 32);
}

/* The LF loop: the same carries; a block is vouched for when it holds no CR, no lone dot line
 * and no line too long. While the input goes on a block further and out has room for a block
 * and its CRs and a block's overrun (192 bytes), a block is copied in segments ended by its
 * LFs, each segment 64 bytes wide so that no length is a branch, a CR put before each LF; the
 * head of a line that goes on into the next block is written already, and taken only with its
 * LF. After that (the last blocks, or out nearly full) each whole line is copied with memcpy,
 * from the end of the last whole line, as long as it fits. */
#define LINESCAN_LF_LOOP(masks, lone_dot_ok)                                                   \
	size_t good = 0, carried = 0, line = 0; /* line: where the next line to copy starts */ \
	char *o = out, *oe = out + room;	/* o: just after the last whole line written */  \
	char *w = n >= 128 && room >= 192 ? out : NULL; /* segments: where p + i goes */       \
	uint64_t prev_lf = 1, prev_dot = 0;                                                    \
	for (size_t i = 0; i + 64 <= n; i += 64) {                                              \
		uint64_t cr, lf, dot;                                                          \
		masks(p + i, &cr, &lf, &dot);                                                  \
		uint64_t starts = (lf << 1) | prev_lf;                                         \
		uint64_t bad = cr;                                                             \
		if (!lone_dot_ok)                                                              \
			bad |= (dot & starts & (lf >> 1)) | (prev_dot & lf & 1);                \
		if (lf) {                                                                      \
			bad |= carried + (size_t)__builtin_ctzll(lf) > LINESCAN_LINE_MAX;      \
			carried = (size_t)__builtin_clzll(lf);                                 \
		} else {                                                                       \
			carried += 64;                                                         \
			bad |= carried > LINESCAN_LINE_MAX;                                    \
		}                                                                              \
		if (bad)                                                                       \
			break;                                                                 \
		if (w && (i + 128 > n || (size_t)(oe - w) < 192))                              \
			w = NULL;	/* lines from o from now on */                         \
		if (w) {                                                                       \
			size_t pos = 0;                                                        \
			for (uint64_t m = lf; m; m &= m - 1) {                                 \
				size_t j = (size_t)__builtin_ctzll(m);                         \
				copy64(w, p + i + pos);                                        \
				w += j - pos;                                                  \
				*w++ = '\r';                                                   \
				pos = j;	/* the LF begins the next segment */           \
				o = w + 1;                                                     \
				line = good = i + j + 1;                                       \
			}                                                                      \
			copy64(w, p + i + pos);                                                \
			w += 64 - pos;                                                         \
		} else {                                                                       \
			for (uint64_t m = lf; m; m &= m - 1) {                                 \
				size_t end = i + (size_t)__builtin_ctzll(m);                   \
				size_t len = end - line;                                       \
				if ((size_t)(oe - o) < len + 2) {                              \
					n = 0;	/* full: no more blocks */                     \
					break;                                                 \
				}                                                              \
				memcpy(o, p + line, len);                                      \
				o += len;                                                      \
				*o++ = '\r';                                                   \
				*o++ = '\n';                                                   \
				line = good = end + 1;                                         \
			}                                                                      \
		}                                                                              \
		prev_lf = lf >> 63;                                                            \
		prev_dot = (dot & starts) >> 63;                                               \
	}                                                                                      \
	*taken = good;                                                                         \
	return (size_t)(o - out);

static inline void masks_bytewise(const char *p, uint64_t *cr, uint64_t *lf, uint64_t *dot)
{
	uint64_t c = 0, l = 0, d = 0;
	for (unsigned j = 0; j < 64; j++) {
		c |= (uint64_t)(p[j] == '\r') << j;
		l |= (uint64_t)(p[j] == '\n') << j;
		d |= (uint64_t)(p[j] == '.') << j;
	}
	*cr = c, *lf = l, *dot = d;
}

static size_t scan_portable(const char *p, size_t n, bool lone_dot_ok)
{
	if (lone_dot_ok) {
		LINESCAN_LOOP(masks_bytewise, true)
	}
	LINESCAN_LOOP(masks_bytewise, false)
}

static size_t lf_portable(const char *p, size_t n, bool lone_dot_ok, char *out, size_t room,
			  size_t *taken)
{
	if (lone_dot_ok) {
		LINESCAN_LF_LOOP(masks_bytewise, true)
	}
	LINESCAN_LF_LOOP(masks_bytewise, false)
}

#ifdef LINESCAN_X86
static inline uint64_t eq16x4(const char *p, char c)
{
	const __m128i v = _mm_set1_epi8(c);
	uint64_t m = 0;
	for (unsigned k = 0; k < 4; k++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, v)) << (16 * k);
	}
	return m;
}

static inline void masks_sse2(const char *p, uint64_t *cr, uint64_t *lf, uint64_t *dot)
{
	*cr = eq16x4(p, '\r'), *lf = eq16x4(p, '\n'), *dot = eq16x4(p, '.');
}

static size_t scan_sse2(const char *p, size_t n, bool lone_dot_ok)
{
	if (lone_dot_ok) {
		LINESCAN_LOOP(masks_sse2, true)
	}
	LINESCAN_LOOP(masks_sse2, false)
}

static size_t lf_sse2(const char *p, size_t n, bool lone_dot_ok, char *out, size_t room,
		      size_t *taken)
{
	if (lone_dot_ok) {
		LINESCAN_LF_LOOP(masks_sse2, true)
	}
	LINESCAN_LF_LOOP(masks_sse2, false)
}

__attribute__((target("avx2"))) static inline void masks_avx2(const char *p, uint64_t *cr,
							       uint64_t *lf, uint64_t *dot)
{
	__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	const __m256i vcr = _mm256_set1_epi8('\r'), vlf = _mm256_set1_epi8('\n'),
		      vdot = _mm256_set1_epi8('.');
#define EQ64(v)                                                                              \
	((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, v)) |                  \
	 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, v)) << 32)
	*cr = EQ64(vcr), *lf = EQ64(vlf), *dot = EQ64(vdot);
#undef EQ64
}

__attribute__((target("avx2"))) static size_t scan_avx2(const char *p, size_t n, bool lone_dot_ok)
{
	if (lone_dot_ok) {
		LINESCAN_LOOP(masks_avx2, true)
	}
	LINESCAN_LOOP(masks_avx2, false)
}

__attribute__((target("avx2"))) static size_t lf_avx2(const char *p, size_t n, bool lone_dot_ok,
						     char *out, size_t room, size_t *taken)
{
	if (lone_dot_ok) {
		LINESCAN_LF_LOOP(masks_avx2, true)
	}
	LINESCAN_LF_LOOP(masks_avx2, false)
}
#endif

typedef size_t scan_fn(const char *p, size_t n, bool lone_dot_ok);
typedef size_t lf_fn(const char *p, size_t n, bool lone_dot_ok, char *out, size_t room,
		     size_t *taken);

static const struct impl {
	const char *name;
	scan_fn *fn;
	lf_fn *lf;
} impls[] = {
#ifdef LINESCAN_X86
	{ "avx2", scan_avx2, lf_avx2 },
	{ "sse2", scan_sse2, lf_sse2 },
#endif
	{ "portable", scan_portable, lf_portable },
};

static const struct impl *chosen;

static bool usable(const struct impl *i)
{
#ifdef LINESCAN_X86
	if (i->fn == scan_avx2) {
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
	}
#endif
	(void)i;
	return true;
}

static const struct impl *choose(void)
{
	if (!chosen) {
		size_t k = 0;
		while (!usable(&impls[k]))
			k++;	/* the last one, portable, is always usable */
		chosen = &impls[k];
	}
	return chosen;
}

size_t linescan_crlf_run(const char *p, size_t n, bool lone_dot_ok)
{
	return choose()->fn(p, n, lone_dot_ok);
}

size_t linescan_lf_to_crlf(const char *p, size_t n, bool lone_dot_ok, char *out, size_t room,
			   size_t *taken)
{
	return choose()->lf(p, n, lone_dot_ok, out, room, taken);
}

const char *linescan_impl(void)
{
	return choose()->name;
}

bool linescan_force(const char *impl)
{
	for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++)
		if (strcmp(impls[k].name, impl) == 0 && usable(&impls[k])) {
			chosen = &impls[k];
			return true;
		}
	return false;
}

const char *linescan_line_break(const char *p, const char *e)
{
#ifdef LINESCAN_X86
	const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
	for (; e - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf),
									 _mm_cmpeq_epi8(v, cr)));
		if (mask)
			return p + __builtin_ctz(mask);
	}
	for (; p < e; p++)
		if (*p == '\n' || *p == '\r')
			return p;
	return e;
#else
	const char *lf = memchr(p, '\n', (size_t)(e - p));
	const char *stop = lf ? lf : e;
	const char *cr = memchr(p, '\r', (size_t)(stop - p));
	return cr ? cr : stop;
#endif
}
