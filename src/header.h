/* SPDX-License-Identifier: ISC */
/* header.h: the header block of a message: a push parser fed one logical line at a time, lookups
 * and edits that keep every untouched field byte for byte, serialisation with CRLF, and the
 * encoders for generated fields (RFC 2047 encoded-words, folding, RFC 5322 dates).
 * It reads no input itself and knows nothing of envelopes or SMTP. */
#ifndef POSTIE_HEADER_H
#define POSTIE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

#define HEADER_NONE ((size_t)-1)

struct header;

/* An empty header block; header_free releases it (NULL is fine). */
struct header *header_new(void);
void header_free(struct header *h);

/* What header_push_line made of a line. */
enum header_line {
	HEADER_LINE_FIELD,	/* "Name: value": a new field */
	HEADER_LINE_CONT,	/* starts with space or tab and continues the previous field */
	HEADER_LINE_NOT		/* not part of a header: the caller treats it as the first body
				 * line (a continuation with no field before it is one too) */
};

/* Push parser: feeds one line, without its line ending (the reader has already split lines
 * and turned CRLF, LF and lone CR into line breaks). A field name is one or more printable
 * ASCII characters other than ':' (RFC 5322 ftext), optionally followed by white space (the
 * obsolete syntax), then ':'; a name of more than 997 characters, which no line could hold with
 * its colon, makes no field. The line is copied; the header keeps it exactly. */
enum header_line header_push_line(struct header *h, const char *line, size_t len);

/* Number of fields, and field i (0-based): its name as written (NUL-terminated, no colon; the
 * white space the obsolete syntax allows before the colon is left out here, yet written back by
 * header_write) and its raw value: everything after the colon, continuation lines joined with "\n" (so folding is
 * kept and can be parsed as FWS). Both point into h and live until h is edited or freed. */
size_t header_count(const struct header *h);
const char *header_name(const struct header *h, size_t i);
const char *header_value(const struct header *h, size_t i);

/* Index of the first field at or after index from whose name equals name (ASCII
 * case-insensitive), or HEADER_NONE. */
size_t header_find(const struct header *h, const char *name, size_t from);

/* Removes field i; removes every field named name and returns how many. */
void header_remove_at(struct header *h, size_t i);
size_t header_remove_all(struct header *h, const char *name);

/* Appends a field. value is what follows the colon, normally starting with a space; lines of a
 * folded value are separated by "\n" followed by a space or tab. Must not hold CR or NUL, nor an
 * LF that is not followed by white space (callers check user values first). */
void header_append(struct header *h, const char *name, const char *value);

/* Inserts a field before field i (at the end when i is header_count or more); same rules for
 * value as header_append. Indices from i on move up by one. */
void header_insert(struct header *h, size_t i, const char *name, const char *value);

/* Replaces the value of field i (same rules as header_append), keeping its name and position. */
void header_set_value(struct header *h, size_t i, const char *value);

/* Appends the header block to out: every field as "Name:value" with each "\n" written as
 * "\r\n", each field ended by "\r\n". The blank line that ends the header is not written.
 * No line passes 998 octets (RFC 5322 2.1.1): a longer one is folded before its last space or
 * tab that fits and has a word before and after it (unfolding gives the same field back), the
 * first line no earlier than after "Name:" (the obsolete white space before the colon is left
 * out if it would push the colon past 998); where there is none, CRLF SPACE goes in at 998, as
 * Postfix's smtp_line_length_limit does, never inside a UTF-8 sequence. Lines within the limit
 * are written byte for byte. */
void header_write(const struct header *h, struct buf *out);

/* Bytes the block holds so far (for the caller's size limit): what header_write gives for it
 * when no line is over 998 octets, a few bytes less (the added folds) when some are. */
size_t header_bytes(const struct header *h);

/* Encodes text (UTF-8, NUL-terminated) as the value of an unstructured field named name
 * (Subject, Comments): ASCII text is kept as it is and folded at white space so that lines stay
 * under 78 columns where possible; text with 8-bit bytes becomes RFC 2047 encoded-words
 * (=?UTF-8?B?...?= or Q, each at most 75 characters, never splitting a UTF-8 sequence), one per
 * folded line. Returns a new value starting with a space (caller frees), for header_append. */
char *header_encode_unstructured(const char *name, const char *text);

/* The same for text that may not be UTF-8: text that is not well-formed UTF-8 is labelled
 * fallback_charset instead (the locale's charset, or "unknown-8bit"; NULL: UTF-8 anyway), its
 * words cut between the characters mbrlen finds in the current locale. */
char *header_encode_unstructured_charset(const char *name, const char *text,
					 const char *fallback_charset);

/* Encodes text as an RFC 5322 phrase (a display name): as is when it is all atext and spaces,
 * a quoted string (with \" and \\) when it is other printable ASCII, encoded-words when it has
 * 8-bit bytes. Returns a new string (caller frees); never empty for non-empty text. */
char *header_encode_phrase(const char *text);

/* The same, with fallback_charset as for header_encode_unstructured_charset. */
char *header_encode_phrase_charset(const char *text, const char *fallback_charset);

/* Formats t as an RFC 5322 date-time in the local zone ("Sat, 28 Nov 2026 17:48:10 +0100"),
 * with English day and month names whatever the locale. Returns a new string (caller frees). */
char *header_format_date(time_t t);

#endif
