/* SPDX-License-Identifier: ISC */
/* header.c: the header block as an ordered array of fields that keep their exact bytes, and the
 * encoders for the fields postie generates. It must never rewrite a field nobody edited. */
#include "header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Longest line we aim for (RFC 5322 2.1.1), and the stricter limit RFC 2047 2 sets on lines
 * that hold encoded-words, which also caps each encoded-word at 75 characters. */
#define FOLD_COLUMNS 78
#define WIRE_LINE_MAX 998
#define ENCODED_LINE_COLUMNS 76
#define ENCODED_WORD_MAX 75
#define ENCODED_WORD_CHARSET "UTF-8"
/* "=?" charset "?B?" ... "?=" */
#define ENCODED_WORD_FRAME (sizeof "=?" "?B?" "?=" - 1)

struct field {
	char *name;		/* as written, without the obsolete white space before the colon */
	char *space_before_colon;	/* that white space, usually "", kept for serialisation */
	struct buf value;	/* after the colon; may hold NUL bytes, so lengths come from here */
	size_t wire_len;	/* what header_write gives for this field, CRLFs included */
};

struct header {
	struct field *fields;
	size_t count;
	size_t cap;
	size_t wire_len;	/* sum of the fields' wire_len */
};

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 ftext: printable ASCII except ':'. */
static bool is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static size_t count_newlines(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += s[i] == '\n';
	return count;
}

/* Each "\n" in a value goes out as "\r\n", hence one extra byte per newline. */
static void field_update_wire_len(struct header *h, struct field *f)
{
	h->wire_len -= f->wire_len;
	f->wire_len = strlen(f->name) + strlen(f->space_before_colon) + 1 + f->value.len +
		      count_newlines(f->value.data, f->value.len) + 2;
	h->wire_len += f->wire_len;
}

static void field_clear(struct field *f)
{
	free(f->name);
	free(f->space_before_colon);
	buf_free(&f->value);
}

struct header *header_new(void)
{
	return xcalloc(1, sizeof(struct header));
}

void header_free(struct header *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->count; i++)
		field_clear(&h->fields[i]);
	free(h->fields);
	free(h);
}

static struct field *add_field(struct header *h, const char *name, size_t name_len,
			       const char *space, size_t space_len, const char *value,
			       size_t value_len)
{
	if (h->count == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->fields = xreallocarray(h->fields, h->cap, sizeof *h->fields);
	}
	struct field *f = &h->fields[h->count++];
	memset(f, 0, sizeof *f);
	f->name = xstrndup(name, name_len);
	f->space_before_colon = xstrndup(space, space_len);
	/* Appending even zero bytes allocates, so header_value never sees a NULL. */
	buf_append(&f->value, value, value_len);
	field_update_wire_len(h, f);
	return f;
}

enum header_line header_push_line(struct header *h, const char *line, size_t len)
{
	if (len == 0)
		return HEADER_LINE_NOT;
	if (is_wsp((unsigned char)line[0])) {
		if (h->count == 0)
			return HEADER_LINE_NOT;
		struct field *last = &h->fields[h->count - 1];
		buf_putc(&last->value, '\n');
		buf_append(&last->value, line, len);
		/* Incremental: recounting the whole value would be quadratic in continuations. */
		last->wire_len += len + 2;
		h->wire_len += len + 2;
		return HEADER_LINE_CONT;
	}
	size_t name_len = 0;
	while (name_len < len && is_ftext((unsigned char)line[name_len]))
		name_len++;
	size_t colon = name_len;
	while (colon < len && is_wsp((unsigned char)line[colon]))
		colon++;
	/* No name, or something other than white space before the colon ("From nobody ..."). */
	if (name_len == 0 || colon == len || line[colon] != ':')
		return HEADER_LINE_NOT;
	/* A name that leaves no room on its line could never be written as one (RFC 5322 2.1.1). */
	if (name_len + 1 > WIRE_LINE_MAX)
		return HEADER_LINE_NOT;
	add_field(h, line, name_len, line + name_len, colon - name_len, line + colon + 1,
		  len - colon - 1);
	return HEADER_LINE_FIELD;
}

size_t header_count(const struct header *h)
{
	return h->count;
}

const char *header_name(const struct header *h, size_t i)
{
	return i < h->count ? h->fields[i].name : NULL;
}

const char *header_value(const struct header *h, size_t i)
{
	return i < h->count ? h->fields[i].value.data : NULL;
}

size_t header_find(const struct header *h, const char *name, size_t from)
{
	for (size_t i = from; i < h->count; i++)
		if (ascii_casecmp(h->fields[i].name, name) == 0)
			return i;
	return HEADER_NONE;
}

void header_remove_at(struct header *h, size_t i)
{
	if (i >= h->count)
		return;
	h->wire_len -= h->fields[i].wire_len;
	field_clear(&h->fields[i]);
	memmove(&h->fields[i], &h->fields[i + 1], (h->count - i - 1) * sizeof *h->fields);
	h->count--;
}

size_t header_remove_all(struct header *h, const char *name)
{
	size_t kept = 0;
	for (size_t i = 0; i < h->count; i++) {
		if (ascii_casecmp(h->fields[i].name, name) == 0) {
			h->wire_len -= h->fields[i].wire_len;
			field_clear(&h->fields[i]);
		} else {
			h->fields[kept++] = h->fields[i];
		}
	}
	size_t removed = h->count - kept;
	h->count = kept;
	return removed;
}

void header_append(struct header *h, const char *name, const char *value)
{
	add_field(h, name, strlen(name), "", 0, value, strlen(value));
}

void header_insert(struct header *h, size_t i, const char *name, const char *value)
{
	if (i > h->count)
		i = h->count;
	add_field(h, name, strlen(name), "", 0, value, strlen(value));
	struct field added = h->fields[h->count - 1];
	memmove(&h->fields[i + 1], &h->fields[i], (h->count - 1 - i) * sizeof *h->fields);
	h->fields[i] = added;
}

void header_set_value(struct header *h, size_t i, const char *value)
{
	if (i >= h->count)
		return;
	struct field *f = &h->fields[i];
	buf_reset(&f->value);
	buf_puts(&f->value, value);
	field_update_wire_len(h, f);
}

/* Writes one physical line of a field, p[0, len), folded where it would pass WIRE_LINE_MAX:
 * before the last space or tab that fits, follows a word and has a word after it, which is a
 * fold (RFC 5322 2.2.3: unfolding gives the field back); with no such place, as Postfix's
 * smtp_line_length_limit does, CRLF SPACE at the limit (moved back so as not to split a UTF-8
 * sequence). A fold may not come before p[min_cut]: the end of "Name:" on a first line. */
static void put_wire_line(struct buf *out, const char *p, size_t len, size_t min_cut)
{
	size_t last_word = len;	/* index of the last byte that is not white space */
	while (last_word > 0 && is_wsp((unsigned char)p[last_word - 1]))
		last_word--;
	size_t added = 0;	/* the space a hard break put before p on this line */
	if (min_cut == 0)
		min_cut = 1;
	while (added + len > WIRE_LINE_MAX) {
		size_t room = WIRE_LINE_MAX - added, cut = 0;
		for (size_t k = room; k >= min_cut; k--) {
			if (k + 1 < last_word && is_wsp((unsigned char)p[k]) &&
			    !is_wsp((unsigned char)p[k - 1])) {
				cut = k;
				break;
			}
		}
		bool hard = cut == 0;
		if (hard) {
			cut = room;
			for (int back = 0; back < 3 && cut > 1 && ((unsigned char)p[cut] & 0xC0) == 0x80; back++)
				cut--;
			if (((unsigned char)p[cut] & 0xC0) == 0x80)
				cut = room;
		}
		buf_append(out, p, cut);
		p += cut;
		len -= cut;
		last_word = last_word > cut ? last_word - cut : 0;
		added = hard && !is_wsp((unsigned char)p[0]);
		buf_append(out, added ? "\r\n " : "\r\n", added ? 3 : 2);
		min_cut = 1;
	}
	buf_append(out, p, len);
}

void header_write(const struct header *h, struct buf *out)
{
	struct buf line = {0};
	for (size_t i = 0; i < h->count; i++) {
		const struct field *f = &h->fields[i];
		buf_reset(&line);
		buf_puts(&line, f->name);
		/* the obsolete white space before the colon means nothing: dropped if it would
		 * push the colon past the line's end, where no fold could bring it back */
		if (strlen(f->name) + strlen(f->space_before_colon) + 1 <= WIRE_LINE_MAX)
			buf_puts(&line, f->space_before_colon);
		buf_putc(&line, ':');
		size_t min_cut = line.len;
		const char *p = f->value.data, *end = p + f->value.len;
		for (;;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl : end;
			buf_append(&line, p, (size_t)(stop - p));
			put_wire_line(out, line.data, line.len, min_cut);
			buf_append(out, "\r\n", 2);
			if (!nl)
				break;
			buf_reset(&line);
			min_cut = 1;
			p = nl + 1;
		}
	}
	buf_free(&line);
}

size_t header_bytes(const struct header *h)
{
	return h->wire_len;
}

/* --- encoders ------------------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates or values past
 * U+10FFFF) starting at s, or 1 for a byte that starts none: such bytes are encoded alone. */
static size_t utf8_sequence_len(const unsigned char *s, size_t avail)
{
	unsigned char lead = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;	/* allowed range of the second byte */
	if (lead < 0x80)
		return 1;
	if (lead >= 0xC2 && lead <= 0xDF) {
		n = 2;
	} else if (lead >= 0xE0 && lead <= 0xEF) {
		n = 3;
		if (lead == 0xE0)
			lo = 0xA0;
		else if (lead == 0xED)
			hi = 0x9F;
	} else if (lead >= 0xF0 && lead <= 0xF4) {
		n = 4;
		if (lead == 0xF0)
			lo = 0x90;
		else if (lead == 0xF4)
			hi = 0x8F;
	} else {
		return 1;
	}
	if (avail < n || s[1] < lo || s[1] > hi)
		return 1;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 1;
	return n;
}

static void put_base64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned long group = (unsigned long)p[i] << 16;
		if (i + 1 < n)
			group |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			group |= p[i + 2];
		char quad[4] = {
			alphabet[(group >> 18) & 63],
			alphabet[(group >> 12) & 63],
			i + 1 < n ? alphabet[(group >> 6) & 63] : '=',
			i + 2 < n ? alphabet[group & 63] : '=',
		};
		buf_append(out, quad, 4);
	}
}

/* How many bytes of text fit in one B encoded-word of at most room characters. */
static size_t encoded_word_capacity(size_t room, size_t overhead)
{
	if (room <= overhead)
		return 0;
	return (room - overhead) / 4 * 3;
}

/* Whether text is well-formed UTF-8 all through. */
static bool is_utf8_text(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text);
	for (size_t pos = 0; pos < len;) {
		size_t seq = utf8_sequence_len(p + pos, len - pos);
		if (seq == 1 && p[pos] >= 0x80)
			return false;
		pos += seq;
	}
	return true;
}

/* Length of the character at s: a UTF-8 sequence, or for text in another charset (the
 * locale's, which is what names it) what mbrlen says; a byte either cannot place stands
 * alone, so a word is never cut inside a character it can see. */
static size_t char_len(const unsigned char *s, size_t avail, bool utf8)
{
	if (utf8 || s[0] < 0x80)
		return utf8_sequence_len(s, avail);
	mbstate_t state;
	memset(&state, 0, sizeof state);
	size_t n = mbrlen((const char *)s, avail, &state);
	return n == 0 || n > avail ? 1 : n;
}

/* Writes all of text as B encoded-words in charset joined by separator, cutting only between
 * characters. The first word gets at most first_room characters (the rest of the first line),
 * the others ENCODED_WORD_MAX; a word always takes at least one character, so a tiny
 * first_room gives a short overlong first line rather than an endless loop. */
static void put_encoded_words(struct buf *out, const char *text, size_t first_room,
			      const char *separator, const char *charset)
{
	const unsigned char *p = (const unsigned char *)text;
	bool utf8 = ascii_casecmp(charset, ENCODED_WORD_CHARSET) == 0;
	size_t len = strlen(text), pos = 0, overhead = ENCODED_WORD_FRAME + strlen(charset);
	size_t capacity = encoded_word_capacity(first_room, overhead);
	while (pos < len) {
		size_t word_len = 0;
		while (pos + word_len < len) {
			size_t seq = char_len(p + pos + word_len, len - pos - word_len, utf8);
			if (word_len > 0 && word_len + seq > capacity)
				break;
			word_len += seq;
		}
		if (pos > 0)
			buf_puts(out, separator);
		buf_printf(out, "=?%s?B?", charset);
		put_base64(out, p + pos, word_len);
		buf_puts(out, "?=");
		pos += word_len;
		capacity = encoded_word_capacity(ENCODED_WORD_MAX, overhead);
	}
}

/* The charset that names text in encoded-words: UTF-8 when it is UTF-8, else fallback. */
static const char *text_charset(const char *text, const char *fallback)
{
	return fallback && *fallback && !is_utf8_text(text) ? fallback : ENCODED_WORD_CHARSET;
}

/* Text a reader could take for an encoded-word must be encoded itself (RFC 2047 5), or it
 * would not read back as written. */
static bool looks_encoded(const char *text)
{
	return strstr(text, "=?") != NULL;
}

/* Printable ASCII, space and tab: what may stand in a field as it is. */
static bool is_plain_text(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (!(*p >= 32 && *p <= 126) && *p != '\t')
			return false;
	return !looks_encoded(text);
}

/* Folds value (which starts with its leading space) into out: a line break goes only before
 * the first white space after a word and only when a word follows later, so no line is blank
 * or ends in added white space, and no word is split. Greedy: each line takes as many words as
 * fit in FOLD_COLUMNS; a word longer than that stays whole on its own line. */
static void put_folded(struct buf *out, const char *value, size_t first_column)
{
	size_t len = strlen(value);
	size_t last_word_byte = 0;
	for (size_t i = 0; i < len; i++)
		if (!is_wsp((unsigned char)value[i]))
			last_word_byte = i;

	size_t start = 0, column = first_column;
	while (column + (len - start) > FOLD_COLUMNS) {
		size_t cut = 0;	/* 0: none found; a cut is never at 0, the leading space */
		for (size_t j = start + 1; j < last_word_byte; j++) {
			bool cuttable = is_wsp((unsigned char)value[j]) &&
					!is_wsp((unsigned char)value[j - 1]);
			if (!cuttable)
				continue;
			if (column + (j - start) <= FOLD_COLUMNS || cut == 0)
				cut = j;
			if (column + (j - start) >= FOLD_COLUMNS)
				break;
		}
		if (cut == 0)
			break;
		buf_append(out, value + start, cut - start);
		buf_putc(out, '\n');
		start = cut;
		column = 0;
	}
	buf_append(out, value + start, len - start);
}

char *header_encode_unstructured(const char *name, const char *text)
{
	return header_encode_unstructured_charset(name, text, NULL);
}

char *header_encode_unstructured_charset(const char *name, const char *text,
					 const char *fallback_charset)
{
	struct buf out = {0};
	size_t first_column = strlen(name) + 1;	/* "Name:" */
	if (is_plain_text(text)) {
		char *value = xasprintf(" %s", text);
		put_folded(&out, value, first_column);
		free(value);
		return buf_steal(&out);
	}
	buf_putc(&out, ' ');
	size_t used = first_column + 1;
	size_t first_room = used < ENCODED_LINE_COLUMNS ? ENCODED_LINE_COLUMNS - used : 0;
	if (first_room > ENCODED_WORD_MAX)
		first_room = ENCODED_WORD_MAX;
	put_encoded_words(&out, text, first_room, "\n ", text_charset(text, fallback_charset));
	return buf_steal(&out);
}

char *header_encode_phrase(const char *text)
{
	return header_encode_phrase_charset(text, NULL);
}

char *header_encode_phrase_charset(const char *text, const char *fallback_charset)
{
	if (!*text)
		return xstrdup("");
	bool all_atext_or_space = true, has_atext = false;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (is_atext(*p))
			has_atext = true;
		else if (*p != ' ')
			all_atext_or_space = false;
	}
	if (all_atext_or_space && has_atext && !looks_encoded(text))
		return xstrdup(text);

	struct buf out = {0};
	bool printable = !looks_encoded(text);
	for (const unsigned char *p = (const unsigned char *)text; *p && printable; p++)
		printable = *p >= 32 && *p <= 126;
	if (printable) {
		buf_putc(&out, '"');
		for (const char *p = text; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(&out, '\\');
			buf_putc(&out, *p);
		}
		buf_putc(&out, '"');
	} else {
		put_encoded_words(&out, text, ENCODED_WORD_MAX, " ", text_charset(text, fallback_charset));
	}
	return buf_steal(&out);
}

char *header_format_date(time_t t)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	/* glibc's localtime_r reads TZ only once; tzset makes a changed TZ count. */
	tzset();
	if (!localtime_r(&t, &tm)) {
		/* Only for a time_t beyond struct tm's years, which time(NULL) never gives. */
		time_t epoch = 0;
		gmtime_r(&epoch, &tm);
		tm.tm_gmtoff = 0;
	}
	long offset = tm.tm_gmtoff;
	char sign = offset < 0 ? '-' : '+';
	if (offset < 0)
		offset = -offset;
	return xasprintf("%s, %02d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday % 7],
			 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, sign, offset / 3600, offset / 60 % 60);
}
