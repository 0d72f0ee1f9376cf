/* SPDX-License-Identifier: ISC */
/* fuzz_header.c: libFuzzer target for header.c: pushes the input's lines until the header ends,
 * edits and writes the block, checks the round trip header -> wire -> header, and runs the
 * encoders on the input, the first byte picking one of those groups. It checks invariants only;
 * it must never print, and it aborts on the first broken one. */
#include "header.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                    \
	do {                           \
		if (!(cond))           \
			abort();       \
	} while (0)

HARNESS static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

HARNESS static char *written(const struct header *h, size_t *len)
{
	struct buf out = {0};
	header_write(h, &out);
	*len = out.len;
	return buf_steal(&out);
}

#define WIRE_LINE_MAX 998

/* Calls fn(line, len, ctx) for each CRLF-ended line of wire[0, n); checks that it ends in CRLF. */
HARNESS static void for_each_line(const char *wire, size_t n, void (*fn)(const char *, size_t, void *),
			  void *ctx)
{
	const char *p = wire, *end = wire + n;
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		check(lf && lf > p && lf[-1] == '\r');
		fn(p, (size_t)(lf - 1 - p), ctx);
		p = lf + 1;
	}
}

HARNESS static void check_fits(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	(void)line;
	check(len <= WIRE_LINE_MAX);
}

/* header_bytes is what header_write gives when no line needs folding (and never more), no
 * written line passes 998 octets, and writing is repeatable. */
HARNESS static void check_written(const struct header *h)
{
	size_t len1, len2;
	char *first = written(h, &len1), *second = written(h, &len2);
	check(len1 >= header_bytes(h));
	check(len1 == len2 && memcmp(first, second, len1) == 0);
	for_each_line(first, len1, check_fits, NULL);
	free(first);
	free(second);
}

HARNESS static void push_back(const char *line, size_t len, void *ctx)
{
	/* every written line is a field or a continuation again, never the body */
	check(header_push_line(ctx, line, len) != HEADER_LINE_NOT);
}

/* value without its line breaks, and without white space at all when squeeze is set. A plain
 * loop: buf_putc, instrumented library code, a call a byte, was a quarter of the target's time. */
HARNESS static char *flattened(const char *value, bool squeeze)
{
	char *out = xmalloc(strlen(value) + 1), *o = out;
	for (const char *p = value; *p; p++)
		if (*p != '\n' && !(squeeze && is_wsp((unsigned char)*p)))
			*o++ = *p;
	*o = '\0';
	return out;
}

/* header -> wire -> header gives the same fields: the same names in the same order, each value
 * the same once unfolded, or the same but for white space where a line was too long (a hard
 * break adds a space). h must hold no CR or NUL (the reader makes them spaces). */
HARNESS static void check_round_trip(const struct header *h, bool long_lines)
{
	size_t len;
	char *wire = written(h, &len);
	struct header *back = header_new();
	for_each_line(wire, len, push_back, back);
	check(header_count(back) == header_count(h));
	for (size_t i = 0; i < header_count(h); i++) {
		check(strcmp(header_name(h, i), header_name(back, i)) == 0);
		char *a = flattened(header_value(h, i), long_lines);
		char *b = flattened(header_value(back, i), long_lines);
		check(strcmp(a, b) == 0);
		free(a);
		free(b);
	}
	if (!long_lines)
		check(len == header_bytes(h));
	header_free(back);
	free(wire);
}

HARNESS static int base64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

HARNESS static void base64_decode(const char *s, size_t n, struct buf *out)
{
	check(n % 4 == 0);
	for (size_t i = 0; i < n; i += 4) {
		unsigned long group = 0;
		for (int k = 0; k < 4; k++) {
			int d = s[i + k] == '=' ? 0 : base64_digit((unsigned char)s[i + k]);
			check(d >= 0);
			group = group << 6 | (unsigned long)d;
		}
		char bytes[3];
		size_t k = 0;
		bytes[k++] = (char)(group >> 16);
		if (s[i + 2] != '=')
			bytes[k++] = (char)(group >> 8 & 0xff);
		if (s[i + 3] != '=')
			bytes[k++] = (char)(group & 0xff);
		buf_append(out, bytes, k);
	}
}

HARNESS static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = s[i] < 0x80 ? 1 : (s[i] & 0xE0) == 0xC0 ? 2 : (s[i] & 0xF0) == 0xE0 ? 3
				     : (s[i] & 0xF8) == 0xF0 ? 4 : 0;
		if (len == 0 || i + len > n)
			return false;
		unsigned long cp = len == 1 ? s[i] : s[i] & (0x7F >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		static const unsigned long smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < smallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/* value is encoded-words joined by separator: each at most 75 characters, in UTF-8 when the
 * text is UTF-8 (then each word is valid UTF-8), else in fallback when there is one, and
 * together the text again. */
HARNESS static void check_encoded_words(const char *value, const char *separator, const char *text,
				const char *fallback)
{
	bool text_is_utf8 = valid_utf8((const unsigned char *)text, strlen(text));
	char prefix[64];
	snprintf(prefix, sizeof prefix, "=?%s?B?", text_is_utf8 || !fallback ? "UTF-8" : fallback);
	size_t prefix_len = strlen(prefix);
	struct buf decoded = {0};
	const char *p = value;
	while (*p) {
		check(strncmp(p, prefix, prefix_len) == 0);
		const char *end = strstr(p + prefix_len, "?=");
		check(end && end + 2 - p <= 75);
		size_t before = decoded.len;
		base64_decode(p + prefix_len, (size_t)(end - p - prefix_len), &decoded);
		check(decoded.len > before);
		if (text_is_utf8)
			check(valid_utf8((unsigned char *)decoded.data + before,
					 decoded.len - before));
		p = end + 2;
		if (*p) {
			check(strncmp(p, separator, strlen(separator)) == 0);
			p += strlen(separator);
		}
	}
	check(decoded.len == strlen(text) && memcmp(decoded.data, text, decoded.len) == 0);
	buf_free(&decoded);
}

/* Physical lines of "Name:" + value: none blank after the first, and none longer than limit
 * unless it holds a single word that no fold could shorten. */
HARNESS static void check_lines(const char *name, const char *value, size_t limit)
{
	const char *line = value;
	size_t column0 = strlen(name) + 1;
	for (;;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t words = 0;
		for (size_t i = 0; i < len; i++)
			if (!is_wsp((unsigned char)line[i]) &&
			    (i == 0 || is_wsp((unsigned char)line[i - 1])))
				words++;
		if (line != value)
			check(words > 0);
		if (column0 + len > limit)
			check(words <= 1);
		if (!end)
			break;
		line = end + 1;
		column0 = 0;
	}
}

HARNESS static bool is_plain(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (!(*p >= 32 && *p <= 126) && *p != '\t')
			return false;
	return strstr(text, "=?") == NULL;
}

HARNESS static void check_unstructured(const char *name, const char *text, const char *fallback)
{
	char *value = fallback ? header_encode_unstructured_charset(name, text, fallback)
			       : header_encode_unstructured(name, text);
	check(value[0] == ' ');
	if (is_plain(text)) {
		char *flat = flattened(value, false);
		check(strcmp(flat + 1, text) == 0);
		free(flat);
		check_lines(name, value, 78);
	} else {
		check_encoded_words(value + 1, "\n ", text, fallback);
		if (strlen(name) < 40)
			check_lines(name, value, 76);
	}
	struct header *h = header_new();
	header_append(h, name, value);
	check_written(h);
	header_free(h);
	free(value);
}

HARNESS static void check_phrase(const char *text, const char *fallback)
{
	char *phrase = fallback ? header_encode_phrase_charset(text, fallback) : header_encode_phrase(text);
	check(!*text == !*phrase);
	if (phrase[0] == '=' && phrase[1] == '?') {
		check_encoded_words(phrase, " ", text, fallback);
	} else if (phrase[0] == '"') {
		struct buf unquoted = {0};
		const char *p = phrase + 1;
		for (; *p && *p != '"'; p++) {
			if (*p == '\\')
				p++;
			check(*p);
			buf_putc(&unquoted, *p);
		}
		check(p[0] == '"' && p[1] == '\0');
		check(strcmp(unquoted.data ? unquoted.data : "", text) == 0);
		buf_free(&unquoted);
	} else {
		check(strcmp(phrase, text) == 0);
	}
	free(phrase);
}

/* Pushes the lines of text[0, size) into h until the header ends; clean (when not NULL) gets the
 * same lines as the reader gives them (CR and NUL made spaces). Returns whether a line was longer
 * than a wire line may be. */
HARNESS static bool parse(struct header *h, struct header *clean, const char *text, size_t size)
{
	struct buf line = {0};
	bool long_lines = false;
	size_t pos = 0;
	while (pos < size) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (text + pos)) : size - pos;
		size_t before = header_count(h);
		enum header_line kind = header_push_line(h, text + pos, len);
		if (kind == HEADER_LINE_NOT) {
			check(header_count(h) == before);
			break;
		}
		check(header_count(h) == before + (kind == HEADER_LINE_FIELD));
		if (clean) {
			buf_reset(&line);
			buf_append(&line, text + pos, len);
			for (size_t i = 0; i < line.len; i++)
				if (line.data[i] == '\r' || line.data[i] == '\0')
					line.data[i] = ' ';
			check(header_push_line(clean, line.data, line.len) == kind);
		}
		long_lines |= len > WIRE_LINE_MAX;
		pos += len + 1;
	}
	buf_free(&line);
	return long_lines;
}

/* The header read from text: written, round trip, names found again. */
HARNESS static void check_block(const char *text, size_t size)
{
	struct header *h = header_new();
	struct header *clean = header_new();
	bool long_lines = parse(h, clean, text, size);
	check_written(h);
	check_round_trip(clean, long_lines);
	header_free(clean);
	for (size_t i = 0; i < header_count(h); i++) {
		const char *name = header_name(h, i);
		check(*name);
		for (const char *p = name; *p; p++)
			check(*p > 32 && *p < 127 && *p != ':');
		size_t found = header_find(h, name, 0);
		check(found <= i && ascii_casecmp(header_name(h, found), name) == 0);
		check(header_value(h, i) != NULL);
	}
	header_free(h);
}

/* The header read from text, edited: each edit written well and found again. */
HARNESS static void check_edits(const char *text, size_t size)
{
	struct header *h = header_new();
	parse(h, NULL, text, size);
	header_remove_all(h, "Bcc");
	check(header_find(h, "bcc", 0) == HEADER_NONE);
	check_written(h);
	if (header_count(h)) {
		header_set_value(h, 0, " set\n\tfolded");
		check(strcmp(header_value(h, 0), " set\n\tfolded") == 0);
		header_remove_at(h, header_count(h) - 1);
	}
	header_append(h, "X-Fuzz", " appended");
	check(header_find(h, "x-fuzz", 0) != HEADER_NONE);
	check_written(h);
	size_t count = header_count(h);
	header_insert(h, 0, "Received", " by h;\n\tdate");
	header_insert(h, 1 + count / 2, "X-Inserted", " middle");
	check(header_count(h) == count + 2 && header_find(h, "received", 0) == 0);
	check(header_find(h, "x-inserted", 0) != HEADER_NONE);
	check_written(h);
	header_free(h);
}

/* The first byte picks one group of checks for the rest (all on every input ran at 4,216 exec/s). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned pick = data[0] % 6;
	data++;
	size--;
	const char *text = (const char *)data;
	if (pick == 0) {
		check_block(text, size);
		return 0;
	}
	if (pick == 1) {
		check_edits(text, size);
		return 0;
	}
	char *copy = xstrndup(text, size);	/* stops at the first NUL, as a C caller's would */
	if (pick == 2) {
		/* the input's first field name, as a name the encoder may be given */
		struct header *h = header_new();
		parse(h, NULL, text, size);
		check_unstructured("Subject", copy, NULL);
		if (header_count(h))
			check_unstructured(header_name(h, 0), copy, NULL);
		header_free(h);
	} else if (pick == 3) {
		check_phrase(copy, NULL);
	} else if (pick == 4) {
		/* text that is not UTF-8, named by a fallback charset: single-byte ones and unknown-8bit */
		check_unstructured("Subject", copy, "ISO-8859-1");
	} else {
		check_phrase(copy, "unknown-8bit");
		if (size >= sizeof(time_t)) {
			time_t t;
			memcpy(&t, data, sizeof t);
			free(header_format_date(t));
		}
	}
	free(copy);
	return 0;
}
