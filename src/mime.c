/* SPDX-License-Identifier: ISC */
/* mime.c: MIME encoders, the body classifier, mime.types lookups, file-name parameters and
 * boundaries (see mime.h). It must never hold a body: state is a few bytes per stream. */
#include "mime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char b64_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hex_digits[16] = "0123456789ABCDEF";

#define B64_LINE 76
#define B64_LINE_INPUT (B64_LINE / 4 * 3)	/* 57 bytes make a full line */
#define QP_LINE 76
#define FOLD_COLUMNS 78

/* --- base64 ---------------------------------------------------------------------------------- */

/* Writes groups = n / 3 full groups of in as 4 * groups characters. */
static void b64_groups(char *out, const unsigned char *in, size_t groups)
{
	for (size_t i = 0; i < groups; i++, in += 3, out += 4) {
		unsigned long v = (unsigned long)in[0] << 16 | (unsigned long)in[1] << 8 | in[2];
		out[0] = b64_alphabet[v >> 18];
		out[1] = b64_alphabet[(v >> 12) & 63];
		out[2] = b64_alphabet[(v >> 6) & 63];
		out[3] = b64_alphabet[v & 63];
	}
}

/* The last one or two bytes of an input, padded. */
static void b64_tail(char *out, const unsigned char *in, size_t n)
{
	unsigned long v = (unsigned long)in[0] << 16 | (n > 1 ? (unsigned long)in[1] << 8 : 0);
	out[0] = b64_alphabet[v >> 18];
	out[1] = b64_alphabet[(v >> 12) & 63];
	out[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
	out[3] = '=';
}

void mime_b64_init(struct mime_b64 *e)
{
	e->nheld = 0;
	e->column = 0;
}

size_t mime_b64_bound(size_t n)
{
	size_t chars = ((n + 2) / 3 + 1) * 4;
	return chars + 2 * (chars / B64_LINE + 1);
}

/* One group at the current column, ending the line when it is full. */
static char *b64_put_group(struct mime_b64 *e, char *o, const unsigned char *group)
{
	b64_groups(o, group, 1);
	o += 4;
	e->column += 4;
	if (e->column == B64_LINE) {
		*o++ = '\r';
		*o++ = '\n';
		e->column = 0;
	}
	return o;
}

size_t mime_b64_encode(struct mime_b64 *e, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	char *o = out;
	if (e->nheld) {
		unsigned char group[3] = { e->held[0], e->held[1], 0 };
		size_t have = e->nheld;
		while (have < 3 && n > 0) {
			group[have++] = *p++;
			n--;
		}
		if (have < 3) {
			memcpy(e->held, group, have);
			e->nheld = (unsigned char)have;
			return 0;
		}
		e->nheld = 0;
		o = b64_put_group(e, o, group);
	}
	while (e->column != 0 && n >= 3) {
		o = b64_put_group(e, o, p);
		p += 3;
		n -= 3;
	}
	/* The column is 0 here unless the input ran out: whole lines go straight through. */
	while (n >= B64_LINE_INPUT) {
		b64_groups(o, p, B64_LINE_INPUT / 3);
		o[B64_LINE] = '\r';
		o[B64_LINE + 1] = '\n';
		o += B64_LINE + 2;
		p += B64_LINE_INPUT;
		n -= B64_LINE_INPUT;
	}
	while (n >= 3) {
		o = b64_put_group(e, o, p);
		p += 3;
		n -= 3;
	}
	memcpy(e->held, p, n);
	e->nheld = (unsigned char)n;
	return (size_t)(o - out);
}

size_t mime_b64_finish(struct mime_b64 *e, char *out)
{
	char *o = out;
	if (e->nheld) {
		b64_tail(o, e->held, e->nheld);
		o += 4;
		e->column += 4;
	}
	if (e->column) {
		*o++ = '\r';
		*o++ = '\n';
	}
	mime_b64_init(e);
	return (size_t)(o - out);
}

/* --- quoted-printable -------------------------------------------------------------------------
 * Bytes of the current line wait in e->held until what follows them is known: whether a line
 * break comes next (a space before it must be encoded; the last character of a line may use
 * column 76, others leave room for a soft break's '='), and at the start of a line whether it
 * reads "From ". Only those few bytes are ever held. */

static const char from_line[5] = { 'F', 'r', 'o', 'm', ' ' };

static bool qp_literal(unsigned char c)
{
	return (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
}

void mime_qp_init(struct mime_qp *e, unsigned flags)
{
	e->flags = flags;
	e->nheld = 0;
	e->column = 0;
	e->cr = false;
}

size_t mime_qp_bound(size_t n)
{
	/* Each byte gives at most "=XX" and a soft break; the held ones and a break come extra. */
	return 6 * n + MIME_QP_FINISH_MAX;
}

/* Does the held text start with "From "? When the line goes on past what is held
 * (line_complete false), a prefix of it counts too: better an 'F' encoded for nothing. */
static bool qp_from_line(const struct mime_qp *e, bool line_complete)
{
	size_t n = e->nheld < sizeof from_line ? e->nheld : sizeof from_line;
	if (line_complete && n < sizeof from_line)
		return false;
	return memcmp(e->held, from_line, n) == 0;
}

/* Writes the first held byte; last says that a line break or the end of input follows it. */
static char *qp_put_first(struct mime_qp *e, char *o, bool last, bool line_complete)
{
	unsigned char c = e->held[0];
	for (int pass = 0; pass < 2; pass++) {
		bool encode = !qp_literal(c) || (last && (c == ' ' || c == '\t')) ||
			      (e->column == 0 && c == '.') ||
			      (e->column == 0 && c == 'F' && qp_from_line(e, line_complete));
		size_t width = encode ? 3 : 1;
		if (e->column + width > (size_t)(last ? QP_LINE : QP_LINE - 1)) {
			*o++ = '=';
			*o++ = '\r';
			*o++ = '\n';
			e->column = 0;
			continue;	/* column 0 may change what must be encoded */
		}
		if (encode) {
			*o++ = '=';
			*o++ = hex_digits[c >> 4];
			*o++ = hex_digits[c & 15];
		} else {
			*o++ = (char)c;
		}
		e->column = (unsigned char)(e->column + width);
		break;
	}
	e->nheld--;
	memmove(e->held, e->held + 1, e->nheld);
	return o;
}

/* Writes held bytes while their successor is known, except that a line start that may read
 * "From " waits for its fifth byte. */
static char *qp_drain(struct mime_qp *e, char *o)
{
	while (e->nheld >= 2) {
		if (e->column == 0 && e->nheld < sizeof from_line && qp_from_line(e, false))
			break;
		o = qp_put_first(e, o, false, false);
	}
	return o;
}

/* The line ends here (a break, or the end of input): writes everything held. */
static char *qp_end_line(struct mime_qp *e, char *o)
{
	while (e->nheld)
		o = qp_put_first(e, o, e->nheld == 1, true);
	return o;
}

static char *qp_hard_break(struct mime_qp *e, char *o)
{
	o = qp_end_line(e, o);
	*o++ = '\r';
	*o++ = '\n';
	e->column = 0;
	return o;
}

static char *qp_data(struct mime_qp *e, char *o, unsigned char c)
{
	e->held[e->nheld++] = c;
	return qp_drain(e, o);
}

size_t mime_qp_encode(struct mime_qp *e, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	char *o = out;
	for (size_t i = 0; i < n; i++) {
		/* The common case in short: a held byte that stands as itself, in the middle of
		 * a line, followed by a byte that will too. */
		if (e->nheld == 1 && !e->cr && e->column > 0) {
			unsigned char h = e->held[0];
			size_t col = e->column;
			while (i < n && p[i] >= 33 && p[i] <= 126 && p[i] != '=' &&
			       qp_literal(h) && col < QP_LINE - 1) {
				*o++ = (char)h;
				col++;
				h = p[i++];
			}
			e->held[0] = h;
			e->column = (unsigned char)col;
			if (i == n)
				break;
		}
		unsigned char c = p[i];
		if (e->cr) {
			e->cr = false;
			if (c == '\n') {
				o = qp_hard_break(e, o);
				continue;
			}
			if (e->flags & MIME_QP_KEEP_CR)
				o = qp_data(e, o, '\r');
			else
				o = qp_hard_break(e, o);
		}
		if (c == '\r')
			e->cr = true;
		else if (c == '\n')
			o = qp_hard_break(e, o);
		else
			o = qp_data(e, o, c);
	}
	return (size_t)(o - out);
}

size_t mime_qp_finish(struct mime_qp *e, char *out)
{
	char *o = out;
	if (e->cr) {
		if (e->flags & MIME_QP_KEEP_CR)
			o = qp_data(e, o, '\r');
		else
			o = qp_hard_break(e, o);
	}
	o = qp_end_line(e, o);
	mime_qp_init(e, e->flags);
	return (size_t)(o - out);
}

/* --- the body classifier ---------------------------------------------------------------------- */

void mime_class_init(struct mime_class *c)
{
	memset(c, 0, sizeof *c);
	c->utf8_valid = true;
}

static void class_end_line(struct mime_class *c)
{
	if (c->line > c->longest_line)
		c->longest_line = c->line;
	c->line = 0;
}

/* Starts a UTF-8 sequence at lead byte b (>= 0x80), or marks the input invalid (RFC 3629's
 * table: C0, C1 and F5..FF never occur; E0, ED, F0 and F4 narrow the second byte). */
static void class_lead(struct mime_class *c, unsigned char b)
{
	c->lo = 0x80;
	c->hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF) {
		c->need = 1;
	} else if (b >= 0xE0 && b <= 0xEF) {
		c->need = 2;
		if (b == 0xE0)
			c->lo = 0xA0;	/* overlong */
		else if (b == 0xED)
			c->hi = 0x9F;	/* surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		c->need = 3;
		if (b == 0xF0)
			c->lo = 0x90;	/* overlong */
		else if (b == 0xF4)
			c->hi = 0x8F;	/* past U+10FFFF */
	} else {
		c->utf8_valid = false;
	}
}

/* Printable ASCII, TAB and the other controls but NUL, CR and LF: bytes that only lengthen
 * the line. */
static bool class_plain(unsigned char b)
{
	return b != 0 && b < 0x80 && b != '\r' && b != '\n';
}

void mime_class_feed(struct mime_class *c, const void *data, size_t n)
{
	const unsigned char *p = data, *end = p + n;
	c->size += n;
	while (p < end) {
		if (c->cr) {
			c->cr = false;
			if (*p != '\n')
				c->has_bare_cr = true;
		}
		if (c->need == 0) {
			const unsigned char *run = p;
			while (p < end && class_plain(*p))
				p++;
			c->line += (size_t)(p - run);
			if (p == end)
				break;
		}
		unsigned char b = *p++;
		if (c->need) {
			if (b >= c->lo && b <= c->hi) {
				c->need--;
				c->lo = 0x80;
				c->hi = 0xBF;
				c->line++;
				continue;
			}
			c->utf8_valid = false;	/* cut short; b starts afresh */
			c->need = 0;
		}
		if (b == '\n') {
			class_end_line(c);
		} else if (b == '\r') {
			class_end_line(c);
			c->cr = true;
		} else {
			c->line++;
			if (b == 0) {
				c->has_nul = true;
			} else if (b >= 0x80) {
				c->has_8bit = true;
				class_lead(c, b);
			}
		}
	}
}

void mime_class_finish(struct mime_class *c)
{
	if (c->need)
		c->utf8_valid = false;
	c->need = 0;
	if (c->cr)
		c->has_bare_cr = true;
	c->cr = false;
	class_end_line(c);
}

const char *mime_encoding_name(enum mime_encoding enc)
{
	switch (enc) {
	case MIME_7BIT:
		return "7bit";
	case MIME_8BIT:
		return "8bit";
	case MIME_QUOTED_PRINTABLE:
		return "quoted-printable";
	case MIME_BASE64:
		return "base64";
	}
	return "7bit";
}

enum mime_encoding mime_text_encoding(const struct mime_class *c)
{
	if (c->longest_line > MIME_MAX_LINE || !c->utf8_valid || c->has_nul)
		return MIME_QUOTED_PRINTABLE;
	return c->has_8bit ? MIME_8BIT : MIME_7BIT;
}

const char *mime_text_charset(const struct mime_class *c)
{
	return c->has_8bit ? "utf-8" : "us-ascii";
}

const char *mime_type_by_content(const struct mime_class *c)
{
	return c->utf8_valid && !c->has_nul ? "text/plain" : "application/octet-stream";
}

/* --- mime.types ------------------------------------------------------------------------------- */

struct mime_type_entry {
	char *ext;		/* lower case */
	size_t type;		/* index into types */
	size_t order;		/* when it was added: the first one wins */
};

struct mime_types {
	struct mime_type_entry *entries;
	size_t count, cap;
	char **types;
	size_t ntypes, types_cap;
};

struct mime_types *mime_types_new(void)
{
	return xcalloc(1, sizeof(struct mime_types));
}

void mime_types_free(struct mime_types *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->count; i++)
		free(t->entries[i].ext);
	for (size_t i = 0; i < t->ntypes; i++)
		free(t->types[i]);
	free(t->entries);
	free(t->types);
	free(t);
}

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int entry_cmp(const void *a, const void *b)
{
	const struct mime_type_entry *x = a, *y = b;
	int r = strcmp(x->ext, y->ext);
	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Adds one line's entries: a type followed by extensions; a type alone adds nothing. */
static void types_add_line(struct mime_types *t, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *save = NULL, *word;
	const char *type = NULL;
	size_t type_index = 0;
	for (word = strtok_r(line, " \t\r\n\v\f", &save); word;
	     word = strtok_r(NULL, " \t\r\n\v\f", &save)) {
		if (!type) {
			if (!strchr(word, '/'))
				return;	/* not a type: ignore the line */
			type = word;
			continue;
		}
		if (type_index == 0) {
			if (t->ntypes == t->types_cap) {
				t->types_cap = t->types_cap ? 2 * t->types_cap : 64;
				t->types = xreallocarray(t->types, t->types_cap, sizeof *t->types);
			}
			t->types[t->ntypes++] = xstrdup(type);
			type_index = t->ntypes;	/* one past, so 0 means "not stored yet" */
		}
		if (t->count == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 256;
			t->entries = xreallocarray(t->entries, t->cap, sizeof *t->entries);
		}
		struct mime_type_entry *en = &t->entries[t->count];
		en->ext = xstrdup(word);
		ascii_lower(en->ext);
		en->type = type_index - 1;
		en->order = t->count;
		t->count++;
	}
}

int mime_types_load(struct mime_types *t, const char *path, struct diag *d)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return EX_OK;
		return diag_set(d, EX_NOINPUT, "%s: %s", path, strerror(errno));
	}
	int rc = EX_OK;
	char *line = NULL;
	size_t cap = 0;
	int err = 0;
	for (;;) {
		errno = 0;
		if (getline(&line, &cap, f) == -1) {
			err = errno;
			break;
		}
		types_add_line(t, line);
	}
	if (ferror(f))
		rc = diag_set(d, EX_IOERR, "%s: %s", path, strerror(err ? err : EIO));
	free(line);
	fclose(f);
	/* Sorted by extension, then by arrival: lookups take the first of equal keys. */
	if (t->count)
		qsort(t->entries, t->count, sizeof *t->entries, entry_cmp);
	return rc;
}

/* The first entry for ext (lower case), or NULL. */
static const struct mime_type_entry *types_find(const struct mime_types *t, const char *ext)
{
	size_t lo = 0, hi = t->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->entries[mid].ext, ext) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->count && strcmp(t->entries[lo].ext, ext) == 0)
		return &t->entries[lo];
	return NULL;
}

const char *mime_types_lookup(const struct mime_types *t, const char *filename)
{
	const char *base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	char *lower = xstrdup(base);
	ascii_lower(lower);
	const char *type = NULL;
	/* From the first dot on, so that the longest extension is tried first; a leading dot
	 * marks a hidden file, not an extension. */
	for (char *dot = strchr(lower + (lower[0] == '.'), '.'); dot && !type;
	     dot = strchr(dot + 1, '.')) {
		const struct mime_type_entry *en = types_find(t, dot + 1);
		if (en)
			type = t->types[en->type];
	}
	free(lower);
	return type;
}

/* --- parameters ------------------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s (at most avail bytes), or 1 for a byte that
 * starts none: such a byte stands alone. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	struct mime_class c;
	mime_class_init(&c);
	if (s[0] < 0x80)
		return 1;
	class_lead(&c, s[0]);
	if (!c.utf8_valid)
		return 1;
	size_t n = (size_t)c.need + 1;
	if (avail < n)
		return 1;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < c.lo || s[i] > c.hi)
			return 1;
		c.lo = 0x80;
		c.hi = 0xBF;
	}
	return n;
}

/* Printable ASCII and no "=?", which readers could take for an encoded-word. */
static bool is_plain_value(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 32 || *p > 126)
			return false;
	return strstr(v, "=?") == NULL;
}

/* RFC 5987's attr-char: what an extended value may hold unencoded. */
static bool is_attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$&+-.^_`|~", c));
}

static size_t quoted_len(const unsigned char *s, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
	return len;
}

static void put_quoted(struct buf *out, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, (char)s[i]);
	}
}

static size_t percent_len(const unsigned char *s, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += is_attr_char(s[i]) ? 1 : 3;
	return len;
}

static void put_percent(struct buf *out, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_attr_char(s[i])) {
			buf_putc(out, (char)s[i]);
		} else {
			char esc[3] = { '%', hex_digits[s[i] >> 4], hex_digits[s[i] & 15] };
			buf_append(out, esc, 3);
		}
	}
}

/* Starts a parameter of width characters (including a ';' that may follow it): on the current
 * line when it fits, else on a new one. */
static void param_start(struct buf *out, size_t *column, size_t width)
{
	buf_putc(out, ';');
	if (*column + 2 + width <= FOLD_COLUMNS) {
		buf_putc(out, ' ');
		*column += 2;
	} else {
		buf_puts(out, "\n ");
		*column = 1;
	}
}

#define RFC2231_CHARSET "utf-8''"

void mime_param_rfc2231(struct buf *out, size_t *column, const char *attribute,
			const char *value)
{
	const unsigned char *v = (const unsigned char *)value;
	size_t len = strlen(value), attr_len = strlen(attribute);
	bool plain = is_plain_value(value);
	/* attribute="..." or attribute*=utf-8''..., and a ';' that may follow */
	size_t whole = plain ? attr_len + 3 + quoted_len(v, len) + 1
			     : attr_len + 2 + strlen(RFC2231_CHARSET) + percent_len(v, len) + 1;
	if (1 + whole <= FOLD_COLUMNS) {
		param_start(out, column, whole);
		buf_printf(out, plain ? "%s=\"" : "%s*=" RFC2231_CHARSET, attribute);
		if (plain) {
			put_quoted(out, v, len);
			buf_putc(out, '"');
		} else {
			put_percent(out, v, len);
		}
		*column += whole - 1;
		return;
	}
	/* Continuations, one a line: attribute*N="..." or attribute*N*=..., each a whole
	 * number of characters (quoted pairs and UTF-8 sequences are never split). */
	size_t pos = 0;
	for (unsigned section = 0; pos < len || section == 0; section++) {
		char head[64];
		snprintf(head, sizeof head, plain ? "*%u=\"" : "*%u*=", section);
		size_t used = 1 + attr_len + strlen(head) + (plain ? 1 : 0) + 1;
		if (!plain && section == 0)
			used += strlen(RFC2231_CHARSET);
		size_t room = used < FOLD_COLUMNS ? FOLD_COLUMNS - used : 0;
		size_t take = 0, width = 0;
		while (pos + take < len) {
			size_t seq = plain ? 1 : utf8_len(v + pos + take, len - pos - take);
			size_t w = plain ? quoted_len(v + pos + take, seq)
					 : percent_len(v + pos + take, seq);
			if (take > 0 && width + w > room)
				break;
			take += seq;
			width += w;
		}
		buf_puts(out, ";\n ");
		buf_puts(out, attribute);
		buf_puts(out, head);
		if (!plain && section == 0)
			buf_puts(out, RFC2231_CHARSET);
		if (plain) {
			put_quoted(out, v + pos, take);
			buf_putc(out, '"');
		} else {
			put_percent(out, v + pos, take);
		}
		*column = used - 1 + width;
		pos += take;
	}
}

#define EW_PREFIX "=?UTF-8?B?"
#define EW_SUFFIX "?="
#define EW_OVERHEAD (sizeof EW_PREFIX - 1 + sizeof EW_SUFFIX - 1)
#define EW_MAX 75
/* Longest quoted-string we keep on one line: RFC 5322's hard limit, with room to spare. */
#define QUOTED_MAX 900

void mime_param_rfc2047(struct buf *out, size_t *column, const char *attribute,
			const char *value)
{
	const unsigned char *v = (const unsigned char *)value;
	size_t len = strlen(value), attr_len = strlen(attribute);
	if (is_plain_value(value) && quoted_len(v, len) <= QUOTED_MAX) {
		size_t width = attr_len + 3 + quoted_len(v, len) + 1;
		param_start(out, column, width);
		buf_printf(out, "%s=\"", attribute);
		put_quoted(out, v, len);
		buf_putc(out, '"');
		*column += width - 1;
		return;
	}
	/* attribute="=?UTF-8?B?...?=<fold>=?UTF-8?B?...?=": every line, '";' included, fits. */
	size_t one_word = EW_OVERHEAD + (len + 2) / 3 * 4;
	param_start(out, column, attr_len + 2 + (one_word <= EW_MAX ? one_word + 2 : EW_MAX));
	buf_printf(out, "%s=\"", attribute);
	*column += attr_len + 2;
	size_t pos = 0;
	do {
		if (pos > 0) {
			buf_puts(out, "\n ");
			*column = 1;
		}
		size_t room = FOLD_COLUMNS - *column - 2;	/* the closing '"' and a ';' */
		if (room > EW_MAX)
			room = EW_MAX;
		size_t capacity = room > EW_OVERHEAD ? (room - EW_OVERHEAD) / 4 * 3 : 0;
		size_t take = 0;
		while (pos + take < len) {
			size_t seq = utf8_len(v + pos + take, len - pos - take);
			if (take > 0 && take + seq > capacity)
				break;
			take += seq;
		}
		char enc[4 * 8];
		buf_puts(out, EW_PREFIX);
		size_t done = 0;
		while (done + 3 <= take) {
			size_t groups = (take - done) / 3;
			if (groups > sizeof enc / 4)
				groups = sizeof enc / 4;
			b64_groups(enc, v + pos + done, groups);
			buf_append(out, enc, groups * 4);
			done += groups * 3;
		}
		if (done < take) {
			b64_tail(enc, v + pos + done, take - done);
			buf_append(out, enc, 4);
		}
		buf_puts(out, EW_SUFFIX);
		*column += EW_OVERHEAD + (take + 2) / 3 * 4;
		pos += take;
	} while (pos < len);
	buf_putc(out, '"');
	*column += 1;
}

char *mime_content_type_value(const char *type, const char *filename)
{
	struct buf out = {0};
	buf_printf(&out, " %s", type);
	size_t column = strlen("Content-Type:") + out.len;
	mime_param_rfc2047(&out, &column, "name", filename);
	return buf_steal(&out);
}

char *mime_content_disposition_value(const char *disposition, const char *filename)
{
	struct buf out = {0};
	buf_printf(&out, " %s", disposition);
	size_t column = strlen("Content-Disposition:") + out.len;
	mime_param_rfc2231(&out, &column, "filename", filename);
	return buf_steal(&out);
}

/* --- boundaries ------------------------------------------------------------------------------ */

int mime_boundary(char out[MIME_BOUNDARY_SIZE], struct diag *d)
{
	unsigned char rnd[16];
	size_t got = 0;
	while (got < sizeof rnd) {
		ssize_t r = getrandom(rnd + got, sizeof rnd - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return diag_set(d, EX_OSERR, "cannot get random bytes for a MIME boundary: %s",
					r < 0 ? strerror(errno) : "no data");
		got += (size_t)r;
	}
	char *o = out;
	memcpy(o, MIME_BOUNDARY_PREFIX, sizeof MIME_BOUNDARY_PREFIX - 1);
	o += sizeof MIME_BOUNDARY_PREFIX - 1;
	for (size_t i = 0; i < sizeof rnd; i++) {
		*o++ = hex_digits[rnd[i] >> 4];
		*o++ = hex_digits[rnd[i] & 15];
	}
	*o = '\0';
	return EX_OK;
}
