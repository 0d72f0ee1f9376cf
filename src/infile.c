/* SPDX-License-Identifier: ISC */
/* infile.c: a regular file on stdin, read once to send and again only to keep or resend (see
 * infile.h): the fingerprint of the bytes the first reading took, and the passes that check a
 * second reading against it. */
#include "infile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* --- fingerprint ---------------------------------------------------------------------- */

#define FP_MUL 0x9E3779BAull	/* even: x + lo32(x) * FP_MUL keeps lo32(x) * (FP_MUL + 1), odd */
#define FP_MIX 0xFF51AFD7ED558CCDull
#define STRIPE (8 * FINGERPRINT_LANES)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FP_AVX2 1
#include <immintrin.h>
#endif

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

/* Each step is a bijection of a lane for a given word (the low half is multiplied by an odd
 * number, then the high half recovered; x ^ x >> 32 undoes itself), so a change of one word
 * always changes the lane's final value. The multiply is 32 x 32 -> 64 bits, which the vector
 * units have (the 64 x 64 one they lack). */
static inline uint64_t step(uint64_t lane, uint64_t w)
{
	uint64_t x = lane ^ w;
	x += (x & 0xFFFFFFFFu) * FP_MUL;
	return x ^ (x >> 32);
}

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= FP_MIX;
	return x ^ (x >> 29);
}

static void stripes_portable(uint64_t *lane, const unsigned char *p, size_t n)
{
	for (; n >= STRIPE; p += STRIPE, n -= STRIPE)
		for (unsigned i = 0; i < FINGERPRINT_LANES; i++)
			lane[i] = step(lane[i], load64(p + 8 * i));
}

#ifdef FP_AVX2
__attribute__((target("avx2"))) static inline __m256i step4(__m256i lane, const unsigned char *p)
{
	const __m256i k = _mm256_set1_epi64x((long long)FP_MUL);
	__m256i x = _mm256_xor_si256(lane, _mm256_loadu_si256((const __m256i *)(const void *)p));
	x = _mm256_add_epi64(x, _mm256_mul_epu32(x, k));
	return _mm256_xor_si256(x, _mm256_srli_epi64(x, 32));
}

__attribute__((target("avx2"))) static void stripes_avx2(uint64_t *lane, const unsigned char *p,
							 size_t n)
{
	__m256i a = _mm256_loadu_si256((const __m256i *)(void *)lane);
	__m256i b = _mm256_loadu_si256((const __m256i *)(void *)(lane + 4));
	__m256i c = _mm256_loadu_si256((const __m256i *)(void *)(lane + 8));
	__m256i d = _mm256_loadu_si256((const __m256i *)(void *)(lane + 12));
	for (; n >= STRIPE; p += STRIPE, n -= STRIPE) {
		a = step4(a, p);
		b = step4(b, p + 32);
		c = step4(c, p + 64);
		d = step4(d, p + 96);
	}
	_mm256_storeu_si256((__m256i *)(void *)lane, a);
	_mm256_storeu_si256((__m256i *)(void *)(lane + 4), b);
	_mm256_storeu_si256((__m256i *)(void *)(lane + 8), c);
	_mm256_storeu_si256((__m256i *)(void *)(lane + 12), d);
}
#endif

static int use_avx2 = -1;	/* unknown yet */

void fingerprint_portable(bool portable)
{
	use_avx2 = portable ? 0 : -1;
}

static void stripes(uint64_t *lane, const unsigned char *p, size_t n)
{
#ifdef FP_AVX2
	if (use_avx2 < 0) {
		__builtin_cpu_init();
		use_avx2 = __builtin_cpu_supports("avx2");
	}
	if (use_avx2) {
		stripes_avx2(lane, p, n);
		return;
	}
#endif
	stripes_portable(lane, p, n);
}

void fingerprint_update(struct fingerprint *f, const void *data, size_t n)
{
	const unsigned char *p = data;
	f->count += n;
	if (f->npending) {
		size_t take = sizeof f->pending - f->npending < n ? sizeof f->pending - f->npending : n;
		memcpy(f->pending + f->npending, p, take);
		f->npending += take;
		p += take;
		n -= take;
		if (f->npending < sizeof f->pending)
			return;
		stripes(f->lane, f->pending, sizeof f->pending);
		f->npending = 0;
	}
	size_t whole = n - n % STRIPE;
	stripes(f->lane, p, whole);
	memcpy(f->pending, p + whole, n - whole);
	f->npending = n - whole;
}

uint64_t fingerprint_value(const struct fingerprint *f)
{
	uint64_t h = mix(f->count + FP_MIX);
	for (unsigned i = 0; i < FINGERPRINT_LANES; i++)
		h = mix(h ^ mix(f->lane[i] + (uint64_t)i));
	unsigned char tail[STRIPE] = {0};
	memcpy(tail, f->pending, f->npending);
	for (size_t i = 0; i < f->npending; i += 8)
		h = mix(step(h, load64(tail + i)));
	return h;
}

/* --- the file ------------------------------------------------------------------------- */

struct infile {
	int fd;
	off_t origin;			/* fd's offset when postie started: offsets count from it */
	unsigned long long size0;	/* the file's size then, from origin */
	const volatile sig_atomic_t *cancel;
	struct fingerprint first;	/* of every byte the first reading took */
	bool eof;			/* the first reading saw the end of the file */
	unsigned long long body;	/* where the body starts */
};

struct infile *infile_open(int fd, const volatile sig_atomic_t *cancel)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	off_t at = lseek(fd, 0, SEEK_CUR);
	if (at < 0 || st.st_size <= at)
		return NULL;
	struct infile *in = xcalloc(1, sizeof *in);
	in->fd = fd;
	in->origin = at;
	in->size0 = (unsigned long long)(st.st_size - at);
	in->cancel = cancel;
	return in;
}

void infile_free(struct infile *in)
{
	free(in);
}

ssize_t infile_read(void *ctx, void *buf, size_t n)
{
	struct infile *in = ctx;
	for (;;) {
		ssize_t got = read(in->fd, buf, n);
		if (got > 0)
			fingerprint_update(&in->first, buf, (size_t)got);
		if (got == 0 && n > 0)
			in->eof = true;
		if (got >= 0 || errno != EINTR || (in->cancel && *in->cancel))
			return got;
	}
}

void infile_set_body(struct infile *in, size_t unused)
{
	in->body = in->first.count - (unused < in->first.count ? unused : in->first.count);
}

bool infile_first_ended(const struct infile *in)
{
	return in->eof;
}

/* --- passes --------------------------------------------------------------------------- */

struct infile_pass {
	struct infile *in;
	unsigned long long pos;		/* the next byte to read, from origin */
	struct fingerprint fp;		/* of [0, pos) while pos is below the first reading's end */
	bool whole, strict;
	bool checked, changed;		/* the first reading's bytes compared; found different */
	bool eof;			/* this pass saw the end of the file */
};

static ssize_t pread_retry(int fd, void *buf, size_t n, off_t at)
{
	for (;;) {
		ssize_t got = pread(fd, buf, n, at);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}

/* At the end of what the first reading took: are they the same bytes? */
static void check(struct infile_pass *p)
{
	if (p->checked)
		return;
	p->checked = true;
	p->changed = p->fp.count != p->in->first.count ||
		     fingerprint_value(&p->fp) != fingerprint_value(&p->in->first);
}

/* Reads [pos, to) only to fingerprint it; stops early at the end of the file. */
static void fingerprint_span(struct infile_pass *p, unsigned long long to)
{
	char chunk[65536];
	while (p->pos < to) {
		size_t want = to - p->pos < sizeof chunk ? (size_t)(to - p->pos) : sizeof chunk;
		ssize_t got = pread_retry(p->in->fd, chunk, want, p->in->origin + (off_t)p->pos);
		if (got <= 0) {
			p->checked = p->changed = true;	/* shorter now, or unreadable */
			return;
		}
		fingerprint_update(&p->fp, chunk, (size_t)got);
		p->pos += (unsigned long long)got;
	}
}

struct infile_pass *infile_pass_new(struct infile *in, bool whole, bool strict)
{
	struct infile_pass *p = xcalloc(1, sizeof *p);
	p->in = in;
	p->whole = whole;
	p->strict = strict;
	fingerprint_span(p, in->body);	/* the header's bytes, which the message holds */
	p->pos = in->body;
	if (p->fp.count == in->first.count)
		check(p);
	return p;
}

ssize_t infile_pass_read(void *ctx, void *buf, size_t n)
{
	struct infile_pass *p = ctx;
	unsigned long long end = p->in->first.count;
	if (p->checked && p->changed && p->strict) {
		errno = EILSEQ;
		return -1;
	}
	if (p->checked && !p->changed && p->whole)
		return 0;	/* the message is what the first reading took */
	if (p->pos < end && end - p->pos < n)
		n = (size_t)(end - p->pos);	/* stop at the check */
	ssize_t got = pread_retry(p->in->fd, buf, n, p->in->origin + (off_t)p->pos);
	if (got < 0)
		return -1;
	if (got == 0) {
		p->eof = true;
		if (!p->checked)
			p->checked = p->changed = true;		/* it got shorter */
		if (p->strict) {
			errno = EILSEQ;
			return -1;
		}
		return 0;
	}
	if (p->pos < end)
		fingerprint_update(&p->fp, buf, (size_t)got);
	p->pos += (unsigned long long)got;
	if (p->pos == end)
		check(p);
	return got;
}

bool infile_pass_end(struct infile_pass *p, char *note, size_t notesz)
{
	note[0] = '\0';
	if (!p)
		return false;
	struct infile *in = p->in;
	/* the reader stopped (a lone dot) before the end of what the first reading took */
	if (!p->checked) {
		fingerprint_span(p, in->first.count);
		check(p);
	}
	struct stat st;
	unsigned long long now = fstat(in->fd, &st) == 0 && st.st_size > in->origin ?
				 (unsigned long long)(st.st_size - in->origin) : 0;
	/* the extent of the message, when it ends with the file */
	bool to_end = p->whole ? in->eof : p->eof;
	unsigned long long kept = p->whole ? in->first.count : p->pos;
	if (p->changed)
		snprintf(note, notesz, "stdin: the file changed after postie read it (its first "
			 "%llu bytes are not those read): kept as it is now", in->first.count);
	else if (to_end && (kept != in->size0 || kept != now))
		snprintf(note, notesz, "stdin: the file changed size while postie sent it (%llu "
			 "bytes at the start, %llu read, %llu now): kept as read", in->size0, kept,
			 now);
	free(p);
	return note[0] != '\0';
}
