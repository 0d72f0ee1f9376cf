/* SPDX-License-Identifier: ISC */
/* mime_test.c: the MIME building blocks against known answers and against strict decoders
 * written here, with the input cut at every position or in random chunk sizes, so that no
 * state carried between calls goes untested. It writes only under a mkdtemp directory. */
#include "mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

/* --- helpers ------------------------------------------------------------------------------- */

/* A small deterministic generator, so a failure can be replayed. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* Cut points for n bytes: random chunks of 1 to max bytes. */
static size_t next_chunk(size_t left, size_t max)
{
	size_t k = rng() % max + 1;
	return k < left ? k : left;
}

enum encoder { ENC_B64, ENC_QP, ENC_QP_KEEP_CR };

/* Encodes in through the streaming encoder, cut at the given points (cuts[i] is the end of
 * chunk i, the last one n; NULL cuts with max_chunk 0 means one call). Checks every call's
 * output against the bound; *bound_ok turns false when one exceeds it. */
static char *encode_cut(enum encoder which, const unsigned char *in, size_t n, size_t max_chunk,
			size_t cut, bool *bound_ok)
{
	struct mime_b64 b;
	struct mime_qp q;
	mime_b64_init(&b);
	mime_qp_init(&q, which == ENC_QP_KEEP_CR ? MIME_QP_KEEP_CR : 0);
	struct buf out = {0};
	size_t pos = 0;
	while (pos < n) {
		size_t k = n - pos;
		if (cut && pos < cut)
			k = cut - pos;
		else if (max_chunk)
			k = next_chunk(n - pos, max_chunk);
		size_t bound = which == ENC_B64 ? mime_b64_bound(k) : mime_qp_bound(k);
		char *o = xmalloc(bound);
		size_t got = which == ENC_B64 ? mime_b64_encode(&b, in + pos, k, o)
					      : mime_qp_encode(&q, in + pos, k, o);
		if (got > bound && bound_ok)
			*bound_ok = false;
		buf_append(&out, o, got);
		free(o);
		pos += k;
	}
	char fin[MIME_QP_FINISH_MAX + MIME_B64_FINISH_MAX];
	size_t got = which == ENC_B64 ? mime_b64_finish(&b, fin) : mime_qp_finish(&q, fin);
	size_t max = which == ENC_B64 ? MIME_B64_FINISH_MAX : MIME_QP_FINISH_MAX;
	if (got > max && bound_ok)
		*bound_ok = false;
	buf_append(&out, fin, got);
	return buf_steal(&out);
}

static int b64_value(char c)
{
	const char *alphabet =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* Strict base64 decoder for the encoder's output: lines of 76 characters (the last one
 * shorter) each ended by CRLF, padding only at the very end. Returns false on anything else. */
static bool b64_decode(const char *s, struct buf *out)
{
	size_t len = strlen(s);
	const char *end = s + len;
	while (s < end) {
		const char *eol = strstr(s, "\r\n");
		if (!eol)
			return false;
		size_t n = (size_t)(eol - s);
		if (n == 0 || n > 76 || n % 4 != 0 || (n < 76 && eol + 2 != end))
			return false;
		for (size_t i = 0; i < n; i += 4) {
			int v[4];
			int pad = 0;
			for (int j = 0; j < 4; j++) {
				if (s[i + j] == '=' && j >= 2 && i + 4 == n && eol + 2 == end) {
					v[j] = 0;
					pad++;
				} else if (pad || (v[j] = b64_value(s[i + j])) < 0) {
					return false;
				}
			}
			unsigned long g = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
					  (unsigned long)v[2] << 6 | (unsigned long)v[3];
			char bytes[3] = { (char)(g >> 16), (char)(g >> 8), (char)g };
			buf_append(out, bytes, (size_t)(3 - pad));
		}
		s = eol + 2;
	}
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;	/* the encoder writes upper case only */
}

/* Strict quoted-printable decoder for the encoder's output: every line at most 76 characters,
 * never a lone CR or LF, no white space before a line end, no lone "." line or "From " start,
 * =XX in upper case, and literal only what RFC 2045 lets stand. Returns false otherwise. */
static bool qp_decode(const char *s, size_t len, struct buf *out)
{
	size_t column = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool line_start = column == 0;
		if (c == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n')
				return false;
			if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				return false;
			buf_append(out, "\r\n", 2);
			i++;
			column = 0;
			continue;
		}
		if (line_start && c == '.' && (i + 1 == len || s[i + 1] == '\r'))
			return false;
		if (line_start && len - i >= 5 && memcmp(s + i, "From ", 5) == 0)
			return false;
		if (c == '=') {
			if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
				if (column + 1 > 76)
					return false;
				i += 2;
				column = 0;
				continue;
			}
			if (i + 2 >= len || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
				return false;
			buf_putc(out, (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2])));
			i += 2;
			column += 3;
		} else if ((c >= 33 && c <= 126) || c == ' ' || c == '\t') {
			buf_putc(out, c);
			column++;
		} else {
			return false;
		}
		if (column > 76)
			return false;
	}
	if (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		return false;	/* a transport may add a line break after it */
	return true;
}

/* What the QP encoder promises to give back: LF and CRLF (and a lone CR unless kept) as CRLF. */
static void qp_expected(const unsigned char *in, size_t n, bool keep_cr, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') {
			buf_append(out, "\r\n", 2);
			i++;
		} else if (in[i] == '\n' || (in[i] == '\r' && !keep_cr)) {
			buf_append(out, "\r\n", 2);
		} else {
			buf_putc(out, (char)in[i]);
		}
	}
}

/* Encodes, decodes and compares; true when all of it holds. */
static bool qp_round_trip(const unsigned char *in, size_t n, bool keep_cr, size_t max_chunk,
			  size_t cut)
{
	bool bound_ok = true;
	char *enc = encode_cut(keep_cr ? ENC_QP_KEEP_CR : ENC_QP, in, n, max_chunk, cut,
			       &bound_ok);
	struct buf got = {0}, want = {0};
	bool ok = qp_decode(enc, strlen(enc), &got);
	qp_expected(in, n, keep_cr, &want);
	ok = ok && bound_ok && got.len == want.len &&
	     (got.len == 0 || memcmp(got.data, want.data, got.len) == 0);
	free(enc);
	buf_free(&got);
	buf_free(&want);
	return ok;
}

/* --- base64 -------------------------------------------------------------------------------- */

static void test_base64_vectors(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		/* RFC 4648 section 10 */
		{ "", "" },
		{ "f", "Zg==\r\n" },
		{ "fo", "Zm8=\r\n" },
		{ "foo", "Zm9v\r\n" },
		{ "foob", "Zm9vYg==\r\n" },
		{ "fooba", "Zm9vYmE=\r\n" },
		{ "foobar", "Zm9vYmFy\r\n" },
		/* 57 bytes fill a line exactly; one more starts another */
		{ "123456789012345678901234567890123456789012345678901234567",
		  "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3\r\n" },
		{ "123456789012345678901234567890123456789012345678901234567x",
		  "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3\r\n"
		  "eA==\r\n" },
		{ "\xff\xfe\xfd\xfc", "//79/A==\r\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].in);
		char *got = encode_cut(ENC_B64, (const unsigned char *)cases[i].in, n, 0, 0, NULL);
		is_str(got, cases[i].want, "base64 of %zu bytes in one call: %.*s", n,
		       (int)strcspn(cases[i].want, "\r"), cases[i].want);
		free(got);
		bool all_cuts = true;
		for (size_t cut = 1; cut < n; cut++) {
			got = encode_cut(ENC_B64, (const unsigned char *)cases[i].in, n, 0, cut,
					 NULL);
			all_cuts = all_cuts && strcmp(got, cases[i].want) == 0;
			free(got);
		}
		ok(all_cuts, "base64 of %zu bytes: the same when cut at every position", n);
	}
}

static void test_base64_random(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 56, 57, 58, 113, 114, 1000, 65536, 200003 };
	static const size_t chunks[] = { 1, 2, 3, 7, 56, 57, 58, 4096, 70000 };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		size_t n = sizes[s];
		unsigned char *data = xmalloc(n);
		for (size_t i = 0; i < n; i++)
			data[i] = (unsigned char)rng();
		char *one = encode_cut(ENC_B64, data, n, 0, 0, NULL);
		struct buf dec = {0};
		bool decoded = b64_decode(one, &dec);
		ok(decoded && dec.len == n && (n == 0 || memcmp(dec.data, data, n) == 0),
		   "base64 of %zu random bytes decodes back (76-column lines, CRLF)", n);
		buf_free(&dec);
		bool same = true, bound_ok = true;
		for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
			char *cut = encode_cut(ENC_B64, data, n, chunks[c], 0, &bound_ok);
			same = same && strcmp(cut, one) == 0;
			free(cut);
		}
		ok(same && bound_ok,
		   "base64 of %zu random bytes: random chunks give the one-call output, within "
		   "the bound", n);
		free(one);
		free(data);
	}
}

static void test_base64_reuse(void)
{
	struct mime_b64 e;
	char out[64];
	mime_b64_init(&e);
	size_t n = mime_b64_encode(&e, "fo", 2, out);
	n += mime_b64_finish(&e, out + n);
	out[n] = '\0';
	is_str(out, "Zm8=\r\n", "base64: finish pads and ends the line");
	n = mime_b64_encode(&e, "foo", 3, out);
	n += mime_b64_finish(&e, out + n);
	out[n] = '\0';
	is_str(out, "Zm9v\r\n", "base64: the encoder starts afresh after finish");
	is_int(mime_b64_finish(&e, out), 0, "base64: finish on no input writes nothing");
}

/* --- quoted-printable ---------------------------------------------------------------------- */

static void test_qp_known(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
		{ "", "", "nothing in, nothing out" },
		{ "hello\n", "hello\r\n", "LF becomes CRLF" },
		{ "hello\r\n", "hello\r\n", "CRLF stays" },
		{ "a\rb", "a\r\nb", "a lone CR is a line break" },
		{ "no break", "no break", "no final line break is added" },
		{ "a=b\n", "a=3Db\r\n", "'=' is encoded" },
		{ "caf\xc3\xa9\n", "caf=C3=A9\r\n", "8-bit bytes are encoded" },
		{ "a\x01\x7f" "b\n", "a=01=7Fb\r\n", "controls and DEL are encoded" },
		{ "a\tb\n", "a\tb\r\n", "a TAB inside a line stays" },
		{ "trailing  \n", "trailing =20\r\n", "a space before a line break is encoded" },
		{ "tab\t\r\n", "tab=09\r\n", "a TAB before a line break is encoded" },
		{ "end ", "end=20", "a space at the end of input is encoded" },
		{ " \n \n", "=20\r\n=20\r\n", "lines of one space" },
		{ ".\n", "=2E\r\n", "a lone dot line is encoded" },
		{ "..x\n.\r\n", "=2E.x\r\n=2E\r\n", "a leading dot is encoded" },
		{ "a.\n", "a.\r\n", "a dot elsewhere stays" },
		{ "From here\n", "=46rom here\r\n", "a line starting with \"From \" is encoded" },
		{ "x\nFrom me", "x\r\n=46rom me", "\"From \" after a line break" },
		{ "From\n", "From\r\n", "\"From\" without the space stays" },
		{ "Fro", "Fro", "a prefix of \"From \" at the end stays" },
		{ "Frog\n", "Frog\r\n", "\"Frog\" stays" },
		{ "a From b\n", "a From b\r\n", "\"From \" inside a line stays" },
		{ "\n\n", "\r\n\r\n", "empty lines" },
		{ "\r\r\n", "\r\n\r\n", "CR CR LF is two breaks" },
		/* 76 characters fit exactly on a last line; a 77th needs a soft break */
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
		  "a 76-character line stays whole" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\r\n"
		  "xx\r\n",
		  "a 77-character line gets a soft break after 75" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\n",
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=3D\r\n",
		  "an encoded byte may end a line at column 76" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=y\n",
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\r\n"
		  "=3Dy\r\n",
		  "an encoded byte is never split by a soft break" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.x\n",
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\r\n"
		  "=2Ex\r\n",
		  "a dot after a soft break is encoded" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx  y\n",
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx =\r\n"
		  " y\r\n",
		  "a space before a soft break stays" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const unsigned char *in = (const unsigned char *)cases[i].in;
		size_t n = strlen(cases[i].in);
		char *got = encode_cut(ENC_QP, in, n, 0, 0, NULL);
		is_str(got, cases[i].want, "quoted-printable: %s", cases[i].what);
		free(got);
		bool all_cuts = true;
		for (size_t cut = 1; cut < n; cut++) {
			got = encode_cut(ENC_QP, in, n, 0, cut, NULL);
			all_cuts = all_cuts && strcmp(got, cases[i].want) == 0;
			free(got);
		}
		ok(all_cuts, "quoted-printable: %s, cut at every position", cases[i].what);
	}
}

static void test_qp_keep_cr(void)
{
	char *nul = encode_cut(ENC_QP, (const unsigned char *)"a\0\n", 3, 0, 0, NULL);
	is_str(nul, "a=00\r\n", "quoted-printable: NUL is encoded");
	free(nul);
	char *b64 = encode_cut(ENC_B64, (const unsigned char *)"\0\0\0\0", 4, 0, 0, NULL);
	is_str(b64, "AAAAAA==\r\n", "base64: NUL bytes");
	free(b64);
	char *got = encode_cut(ENC_QP_KEEP_CR, (const unsigned char *)"a\rb\r\nc\r", 7, 0, 0,
			       NULL);
	is_str(got, "a=0Db\r\nc=0D", "quoted-printable with MIME_QP_KEEP_CR: a lone CR is =0D");
	free(got);
	got = encode_cut(ENC_QP_KEEP_CR, (const unsigned char *)"a\r\nb", 4, 0, 2, NULL);
	is_str(got, "a\r\nb", "MIME_QP_KEEP_CR: CRLF cut between CR and LF is one line break");
	free(got);
}

static void test_qp_round_trips(void)
{
	static const char *const inputs[] = {
		"trailing spaces   \nand tabs\t\t\r\nmixed \t \n",
		"= signs == everywhere =3D =\n=\r\n",
		"caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 \xf0\x9f\x98\x80 and \xff\xfe invalid\n",
		".\n..\n.x\nx.\n.",
		"From a\nFrom\nFrom  \n>From x\nFrom ",
		"CRLF\r\nLF\nCR\rCRCRLF\r\r\nLFCR\n\rend",
		"chunk boundary =3D between = and hex",
		"\x00\x01\x02\x7f\x80\t \t",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		const unsigned char *in = (const unsigned char *)inputs[i];
		size_t n = strlen(inputs[i]);
		if (i == sizeof inputs / sizeof inputs[0] - 1)
			n = 8;	/* holds a NUL */
		for (int keep = 0; keep < 2; keep++) {
			bool ok_all = qp_round_trip(in, n, keep, 0, 0);
			for (size_t cut = 1; cut < n; cut++)
				ok_all = ok_all && qp_round_trip(in, n, keep, 0, cut);
			for (int r = 0; r < 20; r++)
				ok_all = ok_all && qp_round_trip(in, n, keep, 5, 0);
			ok(ok_all, "quoted-printable round trip%s of input %zu, whole, cut at every "
			   "position and in random chunks", keep ? " (keeping CRs)" : "", i);
		}
	}

	/* Long lines of every kind of byte near the soft-break columns. */
	static const char fill[] = { 'x', ' ', '\t', '=', '.', '\x80', 'F' };
	bool ok_all = true;
	for (size_t f = 0; f < sizeof fill; f++) {
		for (size_t len = 70; len < 160; len++) {
			unsigned char line[200];
			for (size_t k = 0; k < len; k++)
				line[k] = (k % 7 == 3) ? (unsigned char)fill[f] : 'a';
			line[len] = '\n';
			ok_all = ok_all && qp_round_trip(line, len + 1, false, 0, 0) &&
				 qp_round_trip(line, len + 1, false, 3, 0);
			for (size_t k = 0; k < len; k++)
				line[k] = (unsigned char)fill[f];
			ok_all = ok_all && qp_round_trip(line, len + 1, false, 0, 0) &&
				 qp_round_trip(line, len + 1, true, 7, 0) &&
				 qp_round_trip(line, len, false, 0, 0);
		}
	}
	ok(ok_all, "quoted-printable: long lines of spaces, tabs, '=', dots and 8-bit bytes stay "
	   "within 76 columns and decode back");

	ok_all = true;
	for (int r = 0; r < 300; r++) {
		size_t n = rng() % 3000;
		unsigned char *data = xmalloc(n + 1);
		static const char alphabet[] = "ab .=\t\r\n\x80\xc3\xa9" "From ";
		for (size_t i = 0; i < n; i++)
			data[i] = r % 2 ? (unsigned char)alphabet[rng() % (sizeof alphabet - 1)]
					: (unsigned char)rng();
		ok_all = ok_all && qp_round_trip(data, n, r % 3 == 0, rng() % 100 + 1, 0);
		free(data);
	}
	ok(ok_all, "quoted-printable: 300 random inputs in random chunks decode back");
}

/* --- the classifier ------------------------------------------------------------------------ */

struct class_result {
	bool has_8bit, utf8_valid, has_nul, has_bare_cr;
	size_t longest_line;
};

static struct mime_class classify(const unsigned char *in, size_t n, size_t cut, size_t step)
{
	struct mime_class c;
	mime_class_init(&c);
	if (step) {
		for (size_t i = 0; i < n; i += step)
			mime_class_feed(&c, in + i, n - i < step ? n - i : step);
	} else {
		mime_class_feed(&c, in, cut);
		mime_class_feed(&c, in + cut, n - cut);
	}
	mime_class_finish(&c);
	return c;
}

static bool same_class(const struct mime_class *a, const struct mime_class *b)
{
	return a->has_8bit == b->has_8bit && a->utf8_valid == b->utf8_valid &&
	       a->has_nul == b->has_nul && a->has_bare_cr == b->has_bare_cr &&
	       a->longest_line == b->longest_line && a->size == b->size;
}

static void test_utf8(void)
{
	static const struct {
		const char *in;
		bool valid;
		const char *what;
	} cases[] = {
		{ "plain ASCII", true, "ASCII" },
		{ "\xc3\xa9", true, "U+00E9, two bytes" },
		{ "\xc2\x80", true, "U+0080, the smallest two-byte value" },
		{ "\xdf\xbf", true, "U+07FF" },
		{ "\xe0\xa0\x80", true, "U+0800, the smallest three-byte value" },
		{ "\xe2\x82\xac", true, "U+20AC, three bytes" },
		{ "\xed\x9f\xbf", true, "U+D7FF, just below the surrogates" },
		{ "\xee\x80\x80", true, "U+E000, just above the surrogates" },
		{ "\xef\xbf\xbf", true, "U+FFFF" },
		{ "\xf0\x90\x80\x80", true, "U+10000, the smallest four-byte value" },
		{ "\xf0\x9f\x98\x80", true, "U+1F600" },
		{ "\xf4\x8f\xbf\xbf", true, "U+10FFFF, the largest" },
		{ "\xef\xbb\xbf" "BOM", true, "a byte order mark" },
		{ "\xc0\x80", false, "overlong NUL" },
		{ "\xc1\xbf", false, "overlong two-byte" },
		{ "\xe0\x80\xaf", false, "overlong three-byte '/'" },
		{ "\xe0\x9f\xbf", false, "overlong U+07FF in three bytes" },
		{ "\xf0\x80\x80\xaf", false, "overlong four-byte" },
		{ "\xf0\x8f\xbf\xbf", false, "overlong U+FFFF in four bytes" },
		{ "\xed\xa0\x80", false, "surrogate U+D800" },
		{ "\xed\xbf\xbf", false, "surrogate U+DFFF" },
		{ "\xf4\x90\x80\x80", false, "U+110000, past the end" },
		{ "\xf5\x80\x80\x80", false, "lead byte F5" },
		{ "\xff", false, "byte FF" },
		{ "\x80", false, "a lone continuation byte" },
		{ "a\xbf" "b", false, "a continuation byte after ASCII" },
		{ "\xc3", false, "a sequence cut by the end" },
		{ "\xe2\x82", false, "a three-byte sequence cut by the end" },
		{ "\xc3" "a", false, "a sequence cut by ASCII" },
		{ "\xe2\x82\n", false, "a sequence cut by a line break" },
		{ "\xc3\xc3\xa9", false, "a lead byte where a continuation belongs" },
		{ "\xc3\xa9\xa9", false, "one continuation too many" },
		{ "x\xf0\x9f\x98\x80y\xe2\x82\xacz", true, "mixed" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const unsigned char *in = (const unsigned char *)cases[i].in;
		size_t n = strlen(cases[i].in);
		struct mime_class whole = classify(in, n, n, 0);
		is_int(whole.utf8_valid, cases[i].valid, "UTF-8 %s: %s", cases[i].what,
		       cases[i].valid ? "valid" : "invalid");
		bool same = true;
		for (size_t cut = 0; cut <= n; cut++) {
			struct mime_class c = classify(in, n, cut, 0);
			same = same && same_class(&c, &whole);
		}
		struct mime_class bytewise = classify(in, n, 0, 1);
		ok(same && same_class(&bytewise, &whole),
		   "UTF-8 %s: the same split at every position and byte by byte", cases[i].what);
	}
}

static void test_classifier(void)
{
	static const struct {
		const char *in;
		size_t len;
		struct class_result want;
		const char *what;
	} cases[] = {
		{ "", 0, { false, true, false, false, 0 }, "empty" },
		{ "ab\ncde\n", 7, { false, true, false, false, 3 }, "longest line without its LF" },
		{ "ab\r\ncde\r\n", 9, { false, true, false, false, 3 }, "CRLF is one break" },
		{ "abcd\ne", 6, { false, true, false, false, 4 }, "no final break" },
		{ "ab\ncdefg", 8, { false, true, false, false, 5 }, "the last line counts" },
		{ "a\rbc", 4, { false, true, false, true, 2 }, "a bare CR ends a line" },
		{ "abc\r", 4, { false, true, false, true, 3 }, "a CR at the very end is bare" },
		{ "a\r\r\n", 4, { false, true, false, true, 1 }, "CR CR LF holds a bare CR" },
		{ "a\0b\n", 4, { false, true, true, false, 3 }, "NUL counts as a byte" },
		{ "\xc3\xa9t\xc3\xa9\n", 6, { true, true, false, false, 5 }, "octets, not characters" },
		{ "\xe9t\xe9\n", 4, { true, false, false, false, 3 }, "Latin-1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const unsigned char *in = (const unsigned char *)cases[i].in;
		size_t n = cases[i].len;
		struct mime_class c = classify(in, n, n, 0);
		bool same = true;
		for (size_t cut = 0; cut <= n; cut++) {
			struct mime_class d = classify(in, n, cut, 0);
			same = same && same_class(&c, &d);
		}
		ok(c.has_8bit == cases[i].want.has_8bit && c.utf8_valid == cases[i].want.utf8_valid &&
		   c.has_nul == cases[i].want.has_nul &&
		   c.has_bare_cr == cases[i].want.has_bare_cr &&
		   c.longest_line == cases[i].want.longest_line && c.size == n && same,
		   "classifier: %s", cases[i].what);
	}

	/* The line-length threshold, and a long line fed in pieces. */
	static const size_t lengths[] = { 998, 999, 70000 };
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		size_t n = lengths[i];
		unsigned char *line = xmalloc(n + 1);
		memset(line, 'x', n);
		line[n] = '\n';
		struct mime_class c = classify(line, n + 1, 0, 333);
		is_int(c.longest_line, n, "classifier: a %zu-octet line fed in pieces", n);
		free(line);
	}
}

static void test_decisions(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *charset, *encoding, *type;
		const char *what;
	} cases[] = {
		{ "hello\n", 6, "us-ascii", "7bit", "text/plain", "ASCII text" },
		{ "", 0, "us-ascii", "7bit", "text/plain", "an empty body" },
		{ "caf\xc3\xa9\n", 6, "utf-8", "8bit", "text/plain", "UTF-8 text" },
		{ "caf\xe9\n", 5, "utf-8", "quoted-printable", "application/octet-stream",
		  "Latin-1 text" },
		{ "a\0b", 3, "us-ascii", "quoted-printable", "application/octet-stream", "a NUL" },
		{ "a\rb", 3, "us-ascii", "7bit", "text/plain", "a bare CR (the reader makes it a break)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mime_class c = classify((const unsigned char *)cases[i].in, cases[i].len,
					       cases[i].len, 0);
		is_str(mime_text_charset(&c), cases[i].charset, "charset for %s", cases[i].what);
		is_str(mime_encoding_name(mime_text_encoding(&c)), cases[i].encoding,
		       "transfer encoding for %s", cases[i].what);
		is_str(mime_type_by_content(&c), cases[i].type, "type by content for %s",
		       cases[i].what);
	}
	for (size_t n = 998; n <= 999; n++) {
		for (int eight = 0; eight < 2; eight++) {
			unsigned char *line = xmalloc(n + 1);
			memset(line, 'x', n);
			if (eight)
				memcpy(line, "\xc3\xa9", 2);
			line[n] = '\n';
			struct mime_class c = classify(line, n + 1, n + 1, 0);
			is_str(mime_encoding_name(mime_text_encoding(&c)),
			       n > 998 ? "quoted-printable" : (eight ? "8bit" : "7bit"),
			       "a %zu-octet %s line: %s", n, eight ? "UTF-8" : "ASCII",
			       n > 998 ? "quoted-printable" : "kept as it is");
			free(line);
		}
	}
	is_str(mime_encoding_name(MIME_BASE64), "base64", "the base64 encoding's name");
}

/* --- mime.types ---------------------------------------------------------------------------- */

static char tmpdir[64];

static char *write_fixture(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static void test_mime_types(void)
{
	char *sys = write_fixture("mime.types",
				  "# a comment line\n"
				  "\n"
				  "text/plain\t\t\ttxt text  # trailing comment\n"
				  "text/csv csv\n"
				  "application/json json\n"
				  "application/spdx+json spdx.json\n"
				  "application/x-only-type\n"
				  "application/gzip gz\n"
				  "application/x-csh csh\n"
				  "text/x-csh csh\n"
				  "image/JPEG JPG jpeg\n"
				  "noslash ext1\n"
				  "application/pdf pdf");
	char *user = write_fixture("user.types", "text/x-mine csv mine\n");
	struct mime_types *t = mime_types_new();
	struct diag d = {0};
	is_int(mime_types_load(t, user, &d), EX_OK, "mime.types: a user file loads");
	is_int(mime_types_load(t, sys, &d), EX_OK, "mime.types: the system file loads after it");
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ "notes.txt", "text/plain" },
		{ "NOTES.TXT", "text/plain" },
		{ "readme.Text", "text/plain" },
		{ "summary.csv", "text/x-mine" },	/* the file loaded first wins */
		{ "a.mine", "text/x-mine" },
		{ "backup.tar.gz", "application/gzip" },
		{ "sbom.spdx.json", "application/spdx+json" },
		{ "data.json", "application/json" },
		{ "run.csh", "application/x-csh" },	/* the first line wins */
		{ "photo.jpg", "image/JPEG" },
		{ "/var/log/x.d/report.pdf", "application/pdf" },
		{ "doc.pdf", "application/pdf" },		/* the last line has no LF */
		{ "backup.log", NULL },
		{ "Makefile", NULL },
		{ ".txt", NULL },
		{ "dir.txt/file", NULL },
		{ "file.", NULL },
		{ "x.ext1", NULL },				/* "noslash" is no type */
		{ "x.#", NULL },
		{ "", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_str(mime_types_lookup(t, cases[i].name), cases[i].want, "mime.types: \"%s\"",
		       cases[i].name);

	char *missing = xasprintf("%s/no-such-file", tmpdir);
	is_int(mime_types_load(t, missing, &d), EX_OK, "mime.types: a missing file is no error");
	is_int(mime_types_load(t, tmpdir, &d), EX_IOERR, "mime.types: a directory is a read error");
	ok(strstr(d.msg, tmpdir) != NULL, "mime.types: the error names the file");
	is_str(mime_types_lookup(t, "notes.txt"), "text/plain", "mime.types: still usable after");
	mime_types_free(t);

	t = mime_types_new();
	is_str(mime_types_lookup(t, "notes.txt"), NULL, "mime.types: an empty table knows nothing");
	mime_types_free(t);
	mime_types_free(NULL);

	if (access(MIME_TYPES_PATH, R_OK) == 0) {
		t = mime_types_new();
		is_int(mime_types_load(t, MIME_TYPES_PATH, &d), EX_OK, "the system's mime.types loads");
		is_str(mime_types_lookup(t, "x.pdf"), "application/pdf",
		       "the system's mime.types knows .pdf");
		mime_types_free(t);
	} else {
		ok(1, "# SKIP no %s", MIME_TYPES_PATH);
		ok(1, "# SKIP no %s", MIME_TYPES_PATH);
	}
	unlink(sys);
	unlink(user);
	free(sys);
	free(user);
	free(missing);
}

/* --- parameters ---------------------------------------------------------------------------- */

static size_t longest_line(const char *field, const char *value)
{
	size_t longest = 0, column = strlen(field) + 1;
	for (const char *p = value;; p++) {
		if (*p == '\n' || !*p) {
			if (column > longest)
				longest = column;
			if (!*p)
				return longest;
			column = 0;
		} else {
			column++;
		}
	}
}

/* Decodes what mime_param_* wrote for attribute back to the value, the way a reader would:
 * RFC 2231 sections in order, percent-decoded, or RFC 2047 words inside the quotes. Returns
 * NULL when it is not well-formed. Only for the encoder's own output. */
static char *param_decode(const char *value, const char *attribute)
{
	struct buf unfolded = {0}, got = {0};
	for (const char *p = value; *p; p++)
		if (*p != '\n')
			buf_putc(&unfolded, *p);
	char *s = unfolded.data;
	size_t alen = strlen(attribute);
	bool found = false;
	for (unsigned section = 0;; section++) {
		char *hit = NULL;
		char head[64];
		for (char *p = s; (p = strstr(p, attribute)); p++) {
			if (p == s || p[-1] != ' ')
				continue;
			const char *rest = p + alen;
			if (section == 0 && (*rest == '=' || !strncmp(rest, "*=", 2))) {
				hit = p;
				break;
			}
			snprintf(head, sizeof head, "*%u", section);
			if (!strncmp(rest, head, strlen(head)) &&
			    (rest[strlen(head)] == '=' || rest[strlen(head)] == '*')) {
				hit = p;
				break;
			}
		}
		if (!hit)
			break;
		found = true;
		char *v = hit + alen;
		bool extended = false;
		while (*v != '=') {
			extended = *v == '*' && v[1] == '=';
			v++;
		}
		v++;
		bool continued = hit[alen] == '*' && hit[alen + 1] != '=';
		if (extended) {
			if (section == 0) {
				if (strncmp(v, "utf-8''", 7) != 0)
					goto bad;
				v += 7;
			}
			for (; *v && *v != ';'; v++) {
				if (*v == '%') {
					int hi = hex_value(v[1]), lo = hex_value(v[2]);
					if (hi < 0 || lo < 0)
						goto bad;
					buf_putc(&got, (char)(hi << 4 | lo));
					v += 2;
				} else {
					buf_putc(&got, *v);
				}
			}
		} else {
			if (*v++ != '"')
				goto bad;
			struct buf raw = {0};
			for (; *v && *v != '"'; v++) {
				if (*v == '\\')
					v++;
				buf_putc(&raw, *v);
			}
			if (*v != '"') {
				buf_free(&raw);
				goto bad;
			}
			/* encoded-words, with the spaces between them dropped */
			char *r = raw.data ? raw.data : (char *)"";
			if (!strncmp(r, "=?UTF-8?B?", 10)) {
				for (char *w = strtok(r, " "); w; w = strtok(NULL, " ")) {
					size_t wl = strlen(w);
					if (wl < 12 || wl > 75 || strncmp(w, "=?UTF-8?B?", 10) ||
					    strcmp(w + wl - 2, "?=")) {
						buf_free(&raw);
						goto bad;
					}
					w[wl - 2] = '\0';
					char *lined = xasprintf("%s\r\n", w + 10);
					bool fine = b64_decode(lined, &got);
					free(lined);
					if (!fine) {
						buf_free(&raw);
						goto bad;
					}
				}
			} else {
				buf_puts(&got, r);
			}
			buf_free(&raw);
		}
		if (!continued)
			break;
	}
	buf_free(&unfolded);
	if (!found) {
		buf_free(&got);
		return NULL;
	}
	if (!got.data)
		buf_puts(&got, "");
	return buf_steal(&got);
bad:
	buf_free(&unfolded);
	buf_free(&got);
	return NULL;
}

/* Thirty Greek capital omegas make a name too long for one line in either form. */
#define OMEGA10 "\xce\xa9\xce\xa9\xce\xa9\xce\xa9\xce\xa9\xce\xa9\xce\xa9\xce\xa9\xce\xa9\xce\xa9"

static void test_params(void)
{
	static const struct {
		const char *name, *type, *disposition, *what;
	} cases[] = {
		{ "report.csv",
		  " text/csv; name=\"report.csv\"",
		  " attachment; filename=\"report.csv\"",
		  "an ASCII name is a quoted string" },
		{ "a \"b\" c\\d.txt",
		  " text/plain; name=\"a \\\"b\\\" c\\\\d.txt\"",
		  " attachment; filename=\"a \\\"b\\\" c\\\\d.txt\"",
		  "quotes and backslashes are escaped" },
		{ "",
		  " text/plain; name=\"\"",
		  " attachment; filename=\"\"",
		  "an empty name" },
		{ "\xc3\xa9t\xc3\xa9.txt",
		  " text/plain; name=\"=?UTF-8?B?w6l0w6kudHh0?=\"",
		  " attachment; filename*=utf-8''%C3%A9t%C3%A9.txt",
		  "a non-ASCII name: RFC 2231 and RFC 2047" },
		{ "=?UTF-8?B?Zm9v?=",
		  " text/plain; name=\"=?UTF-8?B?PT9VVEYtOD9CP1ptOXY/PQ==?=\"",
		  " attachment;\n filename*=utf-8''%3D%3FUTF-8%3FB%3FZm9v%3F%3D",
		  "an ASCII name that looks encoded is encoded" },
		{ "a b;c'd%e*f\tg",
		  " text/plain; name=\"=?UTF-8?B?YSBiO2MnZCVlKmYJZw==?=\"",
		  " attachment; filename*=utf-8''a%20b%3Bc%27d%25e%2Af%09g",
		  "a TAB makes even an ASCII name extended; specials are escaped" },
		{ OMEGA10 OMEGA10 OMEGA10,
		  " text/plain;\n"
		  " name=\"=?UTF-8?B?zqnOqc6pzqnOqc6pzqnOqc6pzqnOqc6pzqnOqc6pzqnOqc6pzqnOqc6p?=\n"
		  " =?UTF-8?B?zqnOqc6pzqnOqc6pzqnOqc6p?=\"",
		  " attachment;\n"
		  " filename*0*=utf-8''%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9;\n"
		  " filename*1*=%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9;\n"
		  " filename*2*=%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9%CE%A9;\n"
		  " filename*3*=%CE%A9",
		  "a long non-ASCII name: continuations, whole characters each" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *type = i == 0 ? "text/csv" : "text/plain";
		char *ct = mime_content_type_value(type, cases[i].name);
		char *cd = mime_content_disposition_value("attachment", cases[i].name);
		is_str(ct, cases[i].type, "Content-Type: %s", cases[i].what);
		is_str(cd, cases[i].disposition, "Content-Disposition: %s", cases[i].what);
		free(ct);
		free(cd);
	}

	/* Every line fits and every name decodes back, whatever its length and bytes. */
	static const char *const pieces[] = { "a", "Z", " ", "\"", "\\", ".", "%", "'", "*",
					      "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					      "=?", "\t", "\xff" };
	bool fits = true, decodes = true;
	for (int r = 0; r < 500; r++) {
		struct buf name = {0};
		size_t n = rng() % (r < 400 ? 60 : 250);
		for (size_t k = 0; k < n; k++)
			buf_puts(&name, pieces[rng() % (sizeof pieces / sizeof pieces[0])]);
		if (!name.data)
			buf_puts(&name, "");
		bool ascii = true;
		for (const char *p = name.data; *p; p++)
			ascii = ascii && *p >= 32 && *p <= 126;
		char *ct = mime_content_type_value("application/octet-stream", name.data);
		char *cd = mime_content_disposition_value("attachment", name.data);
		/* A plain name too long for a line stays whole in name= (quoted strings do not
		 * fold); everything else keeps to 78 columns. */
		if (!ascii || strstr(name.data, "=?") || strlen(name.data) < 40)
			fits = fits && longest_line("Content-Type", ct) <= 78;
		fits = fits && longest_line("Content-Disposition", cd) <= 78;
		char *back_ct = param_decode(ct, "name");
		char *back_cd = param_decode(cd, "filename");
		decodes = decodes && back_ct && back_cd && strcmp(back_ct, name.data) == 0 &&
			  strcmp(back_cd, name.data) == 0;
		if (!decodes) {
			tap_diag_str("name", name.data);
			tap_diag_str("Content-Type", ct);
			tap_diag_str("Content-Disposition", cd);
			break;
		}
		free(back_ct);
		free(back_cd);
		free(ct);
		free(cd);
		buf_free(&name);
	}
	ok(fits, "parameters: 500 random names keep their lines within 78 columns");
	ok(decodes, "parameters: 500 random names decode back from both fields");

	/* The low-level call continues a value that is already long. */
	struct buf out = {0};
	buf_puts(&out, " multipart/mixed");
	size_t column = strlen("Content-Type:") + out.len;
	mime_param_rfc2231(&out, &column, "boundary", "=_postie_0123456789ABCDEF0123456789ABCDEF");
	is_str(out.data, " multipart/mixed;\n boundary=\"=_postie_0123456789ABCDEF0123456789ABCDEF\"",
	       "parameters: a boundary that does not fit is folded onto its own line");
	is_int(column, strlen(" boundary=\"=_postie_0123456789ABCDEF0123456789ABCDEF\""),
	       "parameters: the column follows");
	buf_free(&out);
}

/* --- boundaries ---------------------------------------------------------------------------- */

static void test_boundary(void)
{
	char a[MIME_BOUNDARY_SIZE], b[MIME_BOUNDARY_SIZE];
	struct diag d = {0};
	is_int(mime_boundary(a, &d), EX_OK, "boundary: made");
	is_int(mime_boundary(b, &d), EX_OK, "boundary: made again");
	is_int(strlen(a), 41, "boundary: 41 characters");
	ok(strncmp(a, "=_postie_", 9) == 0, "boundary: starts with =_postie_");
	ok(strspn(a + 9, "0123456789ABCDEF") == 32, "boundary: then 32 hex digits");
	ok(strcmp(a, b) != 0, "boundary: two differ");
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/mime_test.XXXXXX",
		 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 40 ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_base64_vectors();
	test_base64_random();
	test_base64_reuse();
	test_qp_known();
	test_qp_keep_cr();
	test_qp_round_trips();
	test_utf8();
	test_classifier();
	test_decisions();
	test_mime_types();
	test_params();
	test_boundary();
	rmdir(tmpdir);
	return done_testing();
}
