/* SPDX-License-Identifier: ISC */
/* mime.h: the MIME building blocks a composed message needs: streaming base64 and
 * quoted-printable encoders, a body classifier and the encoding rule built on it, content types
 * from mime.types, file-name parameters (RFC 2231 and RFC 2047) and multipart boundaries.
 * It reads no message and writes no header: callers put the pieces together. Nothing here
 * allocates in proportion to the data that streams through it. */
#ifndef POSTIE_MIME_H
#define POSTIE_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* --- base64 (RFC 2045 6.8) ------------------------------------------------------------------ */

/* Encoder state. The caller owns it (on the stack or inside its own struct); the fields are
 * private. No resources are held, so there is nothing to free. */
struct mime_b64 {
	unsigned char held[2];	/* input bytes waiting for a full group of three */
	unsigned char nheld;
	unsigned char column;	/* characters on the current output line, 0..72 */
};

/* Bytes mime_b64_finish may write at most: a last group and its line break. */
#define MIME_B64_FINISH_MAX 6

/* Starts (or restarts) an encoder. */
void mime_b64_init(struct mime_b64 *e);

/* The most output mime_b64_encode can write for n more input bytes, whatever the state.
 * n must be below SIZE_MAX / 2. */
size_t mime_b64_bound(size_t n);

/* Encodes n bytes at in (any chunking gives the same output) into out, which must have room
 * for mime_b64_bound(n) bytes. Output lines hold 76 characters and end in CRLF; up to two
 * input bytes are held back for the next call. Returns the bytes written. Cannot fail. */
size_t mime_b64_encode(struct mime_b64 *e, const void *in, size_t n, char *out);

/* Writes the held bytes as a padded last group and ends a partial last line with CRLF, into out
 * (room for MIME_B64_FINISH_MAX bytes). Returns the bytes written: 0 for empty input, else the
 * whole output ends in CRLF. The encoder is then ready for new input. */
size_t mime_b64_finish(struct mime_b64 *e, char *out);

/* --- quoted-printable (RFC 2045 6.7) ------------------------------------------------------- */

/* Flags for mime_qp_init. */
enum {
	/* A CR not followed by LF is data, written "=0D". Without it, such a CR is a line
	 * break, as lineio.h's reader treats it. */
	MIME_QP_KEEP_CR = 1
};

/* Encoder state, owned by the caller; the fields are private. Nothing to free. */
struct mime_qp {
	unsigned flags;
	unsigned char held[5];	/* undecided input bytes of the current line (see mime.c) */
	unsigned char nheld;
	unsigned char column;	/* characters on the current output line */
	bool cr;		/* a CR was the last input byte: a line break or data, by what follows */
};

/* Bytes mime_qp_finish may write at most. */
#define MIME_QP_FINISH_MAX 64

/* Starts (or restarts) an encoder; flags is 0 or MIME_QP_KEEP_CR. */
void mime_qp_init(struct mime_qp *e, unsigned flags);

/* The most output mime_qp_encode can write for n more input bytes. n must be below
 * SIZE_MAX / 8. */
size_t mime_qp_bound(size_t n);

/* Encodes n bytes of text at in (any chunking gives the same output) into out, which must have
 * room for mime_qp_bound(n) bytes. LF and CRLF (and a lone CR, unless MIME_QP_KEEP_CR) are line
 * breaks and come out as CRLF. '=', DEL, bytes >= 0x80 and controls other than TAB are written
 * =XX; so are a space or TAB before a line break, a '.' that starts an output line (no line is
 * a lone dot) and the 'F' of a line that starts with "From ". Soft line breaks ("=" CRLF) keep
 * every output line at 76 characters or fewer. A few bytes are held back until what follows is
 * known. Returns the bytes written. Cannot fail. */
size_t mime_qp_encode(struct mime_qp *e, const void *in, size_t n, char *out);

/* Writes the held bytes (the input's last line, which had no line break) into out (room for
 * MIME_QP_FINISH_MAX bytes). Adds no line break: an input that ended without one decodes
 * without one. Returns the bytes written; the encoder is then ready for new input. */
size_t mime_qp_finish(struct mime_qp *e, char *out);

/* --- the body classifier -------------------------------------------------------------------- */

/* What a body holds, fed in chunks. The caller owns it; the result fields are valid after
 * mime_class_finish, the others are private. Nothing to free. */
struct mime_class {
	/* results */
	bool has_8bit;		/* a byte >= 0x80 */
	bool utf8_valid;	/* well-formed UTF-8 (RFC 3629): no overlongs, surrogates, values
				 * past U+10FFFF or cut sequences; sequences may straddle chunks */
	bool has_nul;
	bool has_bare_cr;	/* a CR not followed by LF (also one at the very end) */
	size_t longest_line;	/* in octets, without the line break; LF, CRLF and a bare CR
				 * each end a line */
	unsigned long long size;	/* bytes fed */
	/* private */
	size_t line;
	unsigned char need;	/* continuation bytes the current UTF-8 sequence still needs */
	unsigned char lo, hi;	/* the range the next continuation byte must fall in */
	bool cr;
};

/* Starts (or restarts) a classifier. */
void mime_class_init(struct mime_class *c);

/* Feeds the next n bytes. Cannot fail. */
void mime_class_feed(struct mime_class *c, const void *p, size_t n);

/* Ends the input: counts the last line and judges a sequence or CR left open. */
void mime_class_finish(struct mime_class *c);

/* Content-Transfer-Encoding values. */
enum mime_encoding {
	MIME_7BIT,
	MIME_8BIT,
	MIME_QUOTED_PRINTABLE,
	MIME_BASE64
};

/* The value's name ("7bit", "8bit", "quoted-printable", "base64"); a static string. */
const char *mime_encoding_name(enum mime_encoding enc);

/* Longest line an 8bit or 7bit body may hold (RFC 5322 2.1.1), without its CRLF. */
#define MIME_MAX_LINE 998

/* The text body rule (issue 6), from a finished classifier: quoted-printable when a line is
 * longer than MIME_MAX_LINE octets, the body is not valid UTF-8 or holds a NUL; otherwise 8bit
 * with 8-bit bytes and 7bit without. */
enum mime_encoding mime_text_encoding(const struct mime_class *c);

/* The text body's charset: "utf-8" when it has 8-bit bytes, else "us-ascii" (static strings). */
const char *mime_text_charset(const struct mime_class *c);

/* The type of a file mime.types does not know, judged by its content (all of it or its first
 * bytes, through a finished classifier): "text/plain" for valid UTF-8 without NUL, else
 * "application/octet-stream" (static strings). */
const char *mime_type_by_content(const struct mime_class *c);

/* --- content types from file names ---------------------------------------------------------- */

#define MIME_TYPES_PATH "/etc/mime.types"

/* A table of file-name extensions and their types, loaded from mime.types(5) files. */
struct mime_types;

/* An empty table; mime_types_free releases it (NULL is fine). */
struct mime_types *mime_types_new(void);
void mime_types_free(struct mime_types *t);

/* Adds the entries of a mime.types file ("type/subtype ext ext ..." lines; '#' starts a
 * comment) to t. An extension already in the table keeps its type, and the first line wins
 * within a file, so load the file that should take precedence first (~/.mime.types before
 * /etc/mime.types). A missing file (ENOENT) adds nothing and is EX_OK. Returns EX_OK, or with
 * d filled: EX_NOINPUT when the file cannot be opened, EX_IOERR on a read error (what was read
 * before the error stays in the table). */
int mime_types_load(struct mime_types *t, const char *path, struct diag *d);

/* The type for a file name (a path is fine: only the part after the last '/' counts), matched
 * on its extension without regard to ASCII case; the longest extension that matches wins
 * ("a.spdx.json" before "a.json"). A name that only starts with a dot has no extension.
 * Returns a string owned by t (valid until it is freed), or NULL when none matches. */
const char *mime_types_lookup(const struct mime_types *t, const char *filename);

/* --- parameters ---------------------------------------------------------------------------- */

/* Values are built in header.h's convention, ready for header_append: they start with a space,
 * and folded lines are joined by "\n" and a space. Lines stay within 78 columns where the
 * syntax allows, counting from column, the width of what is already on the current line
 * ("Content-Type:" and the value so far). Both update *column. */

/* Appends "; attribute=value" to out for a modern reader (RFC 2045 and RFC 2231): a quoted
 * string (with \" and \\) when value is printable ASCII and holds no "=?", otherwise
 * attribute*=utf-8''%XX... percent-encoding; a parameter too long for one line is split into
 * RFC 2231 continuations (attribute*0=..., attribute*0*=...), never inside a UTF-8 sequence. */
void mime_param_rfc2231(struct buf *out, size_t *column, const char *attribute,
			const char *value);

/* Appends "; attribute=value" for old readers that know no RFC 2231: a quoted string when
 * value is printable ASCII without "=?", otherwise RFC 2047 encoded-words (=?UTF-8?B?...?=,
 * each whole UTF-8 sequences, folded between words) inside the quotes. Not standard, yet what
 * such readers understand; send it in Content-Type's name= next to a Content-Disposition
 * filename from mime_param_rfc2231, which modern readers prefer. */
void mime_param_rfc2047(struct buf *out, size_t *column, const char *attribute,
			const char *value);

/* The value of an attachment's Content-Type field: " type; name=..." (mime_param_rfc2047).
 * filename is the name to show (the caller strips directories), as UTF-8. Returns a new
 * string (caller frees). */
char *mime_content_type_value(const char *type, const char *filename);

/* The value of a Content-Disposition field: " disposition; filename=..."
 * (mime_param_rfc2231). Returns a new string (caller frees). */
char *mime_content_disposition_value(const char *disposition, const char *filename);

/* --- multipart boundaries -------------------------------------------------------------------- */

#define MIME_BOUNDARY_PREFIX "=_postie_"
/* The prefix, 32 hex digits and a NUL. */
#define MIME_BOUNDARY_SIZE (sizeof MIME_BOUNDARY_PREFIX - 1 + 32 + 1)

/* Writes a new boundary, "=_postie_" and 128 random bits in hex, into out. No base64 or
 * quoted-printable output can hold it ("=_" is neither), and no other text will by chance.
 * '=' is a tspecial: quote it in the field (boundary="..."). Returns EX_OK, or EX_OSERR with d
 * filled when the kernel gives no random bytes. */
int mime_boundary(char out[MIME_BOUNDARY_SIZE], struct diag *d);

#endif
