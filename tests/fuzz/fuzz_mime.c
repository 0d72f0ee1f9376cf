/* SPDX-License-Identifier: ISC */
/* fuzz_mime.c: libFuzzer target for the MIME encoders and the classifier. The first two bytes
 * pick the chunk sizes and, the first modulo 5, which one check the rest goes to (all five on
 * every input made the target run at 3,854 exec/s): base64 or quoted-printable (either CR mode) in
 * those chunks, which must equal the one-call output, stay within the promised bounds and line
 * lengths, and decode back with the strict decoders below. The classifier must agree with
 * itself however it is fed and with a plain reference. File-name parameters get the input as
 * a name and must keep their lines short and their folds well-formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "util.h"

#include "harness.h"

#define CHECK(cond)                \
	do {                       \
		if (!(cond))       \
			abort();   \
	} while (0)

struct chunker {
	uint32_t state;
	size_t max;
};

HARNESS static size_t chunk_len(struct chunker *c, size_t left)
{
	c->state = c->state * 1103515245u + 12345u;
	size_t k = (c->state >> 16) % c->max + 1;
	return k < left ? k : left;
}

enum encoder { ENC_B64, ENC_QP, ENC_QP_KEEP_CR };

/* Encodes data in chunks (ch NULL: one call) into out; aborts when a call writes past its
 * bound. Each call writes to the end of one allocation, at bound(k) bytes from its end, so
 * that ASan sees the first byte past the bound as it would in an allocation of its own (one
 * allocation per call made the target cost a malloc and a free per chunk). */
HARNESS static void encode(enum encoder which, const uint8_t *data, size_t n, struct chunker *ch,
		   struct buf *out)
{
	struct mime_b64 b;
	struct mime_qp q;
	mime_b64_init(&b);
	mime_qp_init(&q, which == ENC_QP_KEEP_CR ? MIME_QP_KEEP_CR : 0);
	size_t most = ch ? (ch->max < n ? ch->max : n) : n;
	size_t room = which == ENC_B64 ? mime_b64_bound(most) : mime_qp_bound(most);
	char *area = xmalloc(room ? room : 1);
	size_t pos = 0;
	while (pos < n) {
		size_t k = ch ? chunk_len(ch, n - pos) : n - pos;
		size_t bound = which == ENC_B64 ? mime_b64_bound(k) : mime_qp_bound(k);
		CHECK(bound <= room);
		char *o = area + (room - bound);
		size_t got = which == ENC_B64 ? mime_b64_encode(&b, data + pos, k, o)
					      : mime_qp_encode(&q, data + pos, k, o);
		CHECK(got <= bound);
		buf_append(out, o, got);
		pos += k;
	}
	free(area);
	char fin[MIME_QP_FINISH_MAX];
	size_t got = which == ENC_B64 ? mime_b64_finish(&b, fin) : mime_qp_finish(&q, fin);
	CHECK(got <= (which == ENC_B64 ? MIME_B64_FINISH_MAX : MIME_QP_FINISH_MAX));
	buf_append(out, fin, got);
}

HARNESS static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Lines of exactly 76 characters but the last, each ended by CRLF; '=' only at the end. */
HARNESS static void b64_decode(const char *s, size_t len, struct buf *out)
{
	size_t pos = 0;
	while (pos < len) {
		const char *eol = memchr(s + pos, '\r', len - pos);
		CHECK(eol && eol + 1 < s + len && eol[1] == '\n');
		size_t n = (size_t)(eol - (s + pos));
		bool last = eol + 2 == s + len;
		CHECK(n > 0 && n % 4 == 0 && (n == 76 || (n < 76 && last)));
		for (size_t i = 0; i < n; i += 4) {
			const char *q = s + pos + i;
			bool end = last && i + 4 == n;
			int v0 = b64_value(q[0]), v1 = b64_value(q[1]);
			int v2 = end && q[2] == '=' && q[3] == '=' ? 0 : b64_value(q[2]);
			int v3 = end && q[3] == '=' ? 0 : b64_value(q[3]);
			CHECK(v0 >= 0 && v1 >= 0 && v2 >= 0 && v3 >= 0);
			unsigned long g = (unsigned long)v0 << 18 | (unsigned long)v1 << 12 |
					  (unsigned long)v2 << 6 | (unsigned long)v3;
			size_t k = end && q[2] == '=' ? 1 : end && q[3] == '=' ? 2 : 3;
			char bytes[3] = { (char)(g >> 16), (char)(g >> 8), (char)g };
			buf_append(out, bytes, k);
		}
		pos += n + 2;
	}
}

HARNESS static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Lines of at most 76 characters, CRLF only as a pair, nothing but '=' hex pairs and safe
 * characters, no white space at a line's end, no lone "." line, no line starting "From ". */
HARNESS static void qp_decode(const char *s, size_t len, struct buf *out)
{
	size_t column = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (column == 0) {
			CHECK(!(c == '.' && (i + 1 == len || s[i + 1] == '\r')));
			CHECK(!(len - i >= 5 && memcmp(s + i, "From ", 5) == 0));
		}
		if (c == '\r') {
			CHECK(i + 1 < len && s[i + 1] == '\n');
			CHECK(i == 0 || (s[i - 1] != ' ' && s[i - 1] != '\t'));
			buf_append(out, "\r\n", 2);
			i++;
			column = 0;
		} else if (c == '=') {
			if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
				CHECK(column + 1 <= 76);
				i += 2;
				column = 0;
				continue;
			}
			CHECK(i + 2 < len && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0);
			buf_putc(out, (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2])));
			i += 2;
			column += 3;
		} else {
			CHECK((c >= 33 && c <= 126) || c == ' ' || c == '\t');
			buf_putc(out, c);
			column++;
		}
		CHECK(column <= 76);
	}
	CHECK(len == 0 || (s[len - 1] != ' ' && s[len - 1] != '\t'));
}

HARNESS static void qp_expected(const uint8_t *in, size_t n, bool keep_cr, struct buf *out)
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

HARNESS static bool same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

HARNESS static void check_encoder(enum encoder which, const uint8_t *data, size_t n, struct chunker ch)
{
	struct buf one = {0}, cut = {0}, dec = {0}, want = {0};
	encode(which, data, n, NULL, &one);
	encode(which, data, n, &ch, &cut);
	CHECK(same(&one, &cut));
	if (which == ENC_B64) {
		b64_decode(one.data, one.len, &dec);
		buf_append(&want, data, n);
	} else {
		qp_decode(one.data, one.len, &dec);
		qp_expected(data, n, which == ENC_QP_KEEP_CR, &want);
	}
	CHECK(same(&dec, &want));
	buf_free(&one);
	buf_free(&cut);
	buf_free(&dec);
	buf_free(&want);
}

/* A reference written another way: decode code points and check their ranges. */
HARNESS static bool ref_utf8(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t b = s[i];
		size_t len;
		uint32_t cp, min;
		if (b < 0x80) {
			i++;
			continue;
		} else if ((b & 0xE0) == 0xC0) {
			len = 2, cp = b & 0x1F, min = 0x80;
		} else if ((b & 0xF0) == 0xE0) {
			len = 3, cp = b & 0x0F, min = 0x800;
		} else if ((b & 0xF8) == 0xF0) {
			len = 4, cp = b & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

HARNESS static void check_classifier(const uint8_t *data, size_t n, struct chunker ch)
{
	struct mime_class one, cut;
	mime_class_init(&one);
	mime_class_feed(&one, data, n);
	mime_class_finish(&one);
	mime_class_init(&cut);
	for (size_t pos = 0; pos < n;) {
		size_t k = chunk_len(&ch, n - pos);
		mime_class_feed(&cut, data + pos, k);
		pos += k;
	}
	mime_class_finish(&cut);
	CHECK(one.has_8bit == cut.has_8bit && one.utf8_valid == cut.utf8_valid &&
	      one.has_nul == cut.has_nul && one.has_bare_cr == cut.has_bare_cr &&
	      one.longest_line == cut.longest_line && one.size == cut.size && one.size == n);

	bool has_8bit = false, has_nul = false, bare_cr = false;
	size_t line = 0, longest = 0;
	for (size_t i = 0; i < n; i++) {
		has_8bit |= data[i] >= 0x80;
		has_nul |= data[i] == 0;
		if (data[i] == '\r' || data[i] == '\n') {
			bare_cr |= data[i] == '\r' && (i + 1 == n || data[i + 1] != '\n');
			longest = line > longest ? line : longest;
			line = 0;
		} else {
			line++;
		}
	}
	longest = line > longest ? line : longest;
	CHECK(one.has_8bit == has_8bit && one.has_nul == has_nul && one.has_bare_cr == bare_cr);
	CHECK(one.longest_line == longest && one.utf8_valid == ref_utf8(data, n));
}

/* Lines within 78 columns (but a plain name= that cannot fold), each fold "\n ", no CR/NUL. */
HARNESS static void check_value(const char *field, const char *value, bool may_be_long)
{
	size_t column = strlen(field) + 1;
	CHECK(value[0] == ' ');
	for (const char *p = value; *p; p++) {
		CHECK(*p != '\r' && (unsigned char)*p < 0x80 && (*p >= 32 || *p == '\n'));
		if (*p == '\n') {
			CHECK(p[1] == ' ');
			column = 0;
		} else {
			column++;
		}
		CHECK(column <= 78 || may_be_long);
		CHECK(column <= 998);
	}
}

HARNESS static void check_params(const uint8_t *data, size_t n)
{
	if (n > 400)
		n = 400;
	char *name = xstrndup((const char *)data, n);
	bool plain = true;
	for (const char *p = name; *p; p++)
		plain = plain && *p >= 32 && *p <= 126;
	plain = plain && !strstr(name, "=?");
	char *ct = mime_content_type_value("application/octet-stream", name);
	char *cd = mime_content_disposition_value("attachment", name);
	check_value("Content-Type", ct, plain);
	check_value("Content-Disposition", cd, false);
	free(ct);
	free(cd);
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct chunker ch = { (uint32_t)data[0] * 2654435761u, (size_t)data[1] % 80 + 1 };
	unsigned pick = data[0] % 5;
	data += 2;
	size -= 2;
	switch (pick) {
	case 0:
		check_encoder(ENC_B64, data, size, ch);
		break;
	case 1:
		check_encoder(ENC_QP, data, size, ch);
		break;
	case 2:
		check_encoder(ENC_QP_KEEP_CR, data, size, ch);
		break;
	case 3:
		check_classifier(data, size, ch);
		break;
	default:
		check_params(data, size);
		break;
	}
	return 0;
}
