/* fuzz_header.c: libFuzzer target for header.c: pushes the input's lines until the header ends,
 * edits and writes the block, and runs the encoders on the input. It checks invariants only;
 * it must never print, and it aborts on the first broken one. */
#include "header.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                    \
	do {                           \
		if (!(cond))           \
			abort();       \
	} while (0)

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static char *written(const struct header *h, size_t *len)
{
	struct buf out = {0};
	header_write(h, &out);
	*len = out.len;
	return buf_steal(&out);
}

/* header_bytes is exactly what header_write gives, and writing is repeatable. */
static void check_written(const struct header *h)
{
	size_t len1, len2;
	char *first = written(h, &len1), *second = written(h, &len2);
	check(len1 == header_bytes(h));
	check(len1 == len2 && memcmp(first, second, len1) == 0);
	free(first);
	free(second);
}

static int base64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static void base64_decode(const char *s, size_t n, struct buf *out)
{
	check(n % 4 == 0);
	for (size_t i = 0; i < n; i += 4) {
		unsigned long group = 0;
		for (int k = 0; k < 4; k++) {
			int d = s[i + k] == '=' ? 0 : base64_digit((unsigned char)s[i + k]);
			check(d >= 0);
			group = group << 6 | (unsigned long)d;
		}
		buf_putc(out, (char)(group >> 16));
		if (s[i + 2] != '=')
			buf_putc(out, (char)(group >> 8 & 0xff));
		if (s[i + 3] != '=')
			buf_putc(out, (char)(group & 0xff));
	}
}

static bool valid_utf8(const unsigned char *s, size_t n)
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
static void check_encoded_words(const char *value, const char *separator, const char *text,
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
static void check_lines(const char *name, const char *value, size_t limit)
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

static bool is_plain(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (!(*p >= 32 && *p <= 126) && *p != '\t')
			return false;
	return strstr(text, "=?") == NULL;
}

static void check_unstructured(const char *name, const char *text, const char *fallback)
{
	char *value = fallback ? header_encode_unstructured_charset(name, text, fallback)
			       : header_encode_unstructured(name, text);
	check(value[0] == ' ');
	if (is_plain(text)) {
		struct buf flat = {0};
		for (const char *p = value; *p; p++)
			if (*p != '\n')
				buf_putc(&flat, *p);
		check(strcmp(flat.data + 1, text) == 0);
		buf_free(&flat);
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

static void check_phrase(const char *text, const char *fallback)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct header *h = header_new();
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
		pos += len + 1;
	}
	check_written(h);

	for (size_t i = 0; i < header_count(h); i++) {
		const char *name = header_name(h, i);
		check(*name);
		for (const char *p = name; *p; p++)
			check(*p > 32 && *p < 127 && *p != ':');
		size_t found = header_find(h, name, 0);
		check(found <= i && ascii_casecmp(header_name(h, found), name) == 0);
		check(header_value(h, i) != NULL);
	}
	char *first_name = header_count(h) ? xstrdup(header_name(h, 0)) : NULL;

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

	char *copy = xstrndup(text, size);	/* stops at the first NUL, as a C caller's would */
	check_unstructured("Subject", copy, NULL);
	if (first_name)
		check_unstructured(first_name, copy, NULL);
	check_phrase(copy, NULL);
	/* text that is not UTF-8, named by a fallback charset: single-byte ones and unknown-8bit */
	check_unstructured("Subject", copy, "ISO-8859-1");
	check_phrase(copy, "unknown-8bit");
	free(copy);
	free(first_name);

	if (size >= sizeof(time_t)) {
		time_t t;
		memcpy(&t, data, sizeof t);
		free(header_format_date(t));
	}
	return 0;
}
