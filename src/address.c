/* SPDX-License-Identifier: ISC */
/* address.c: the RFC 5322 address-list scanner behind address.h (a cursor over the caller's bytes
 * that keeps no state between calls) and the checks an envelope address must pass. It must never
 * read past the end it is given, nor let a CR, LF, NUL or control byte through to SMTP. */
#include "address.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

#define ADDR_PATH_MAX 256	/* RFC 5321 4.5.3.1.3: a reverse- or forward-path, brackets included */

/* Character classes written out by hand: <ctype.h> answers by locale, and an address must parse
 * the same way whatever LC_CTYPE says. */
static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext; bytes of 0x80 and up count too, as RFC 6532 allows UTF-8 there. */
static bool is_atext(unsigned char c)
{
	if (c >= 0x80 || is_ascii_alnum(c))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* What may never stand in an address, not even inside quotes or comments, unless it is folding. */
static bool is_line_or_nul(unsigned char c)
{
	return c == '\r' || c == '\n' || c == '\0';
}

struct scanner {
	const char *p;
	const char *end;
	struct diag *d;
};

static int fail(struct scanner *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every syntax error goes through here so that they all read "bad address syntax: ...". */
static int fail(struct scanner *s, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	diag_set(s->d, EX_DATAERR, "bad address syntax: %s", why);
	return -1;
}

/* Names the byte the scanner stopped at, so that the user can find it in a long header. */
static int unexpected(struct scanner *s, const char *where)
{
	if (s->p == s->end)
		return fail(s, "unexpected end %s", where);
	unsigned char c = (unsigned char)*s->p;
	if (c == '\r' || c == '\n')
		return fail(s, "line break not followed by white space %s", where);
	if (c == '\0')
		return fail(s, "NUL byte %s", where);
	if (is_ctl(c))
		return fail(s, "control character 0x%02x %s", c, where);
	if (c == ')')
		return fail(s, "unbalanced ')' %s", where);
	if (c >= 0x80)
		return fail(s, "unexpected byte 0x%02x %s", c, where);
	return fail(s, "unexpected '%c' %s", c, where);
}

/* Length of the line break at p (p < end) when it is folding: CR LF or LF followed by a space or
 * a tab. The blank after it is left in place because inside a quoted string it is kept. */
static size_t fold_break_len(const struct scanner *s, const char *p)
{
	if (*p == '\n' && p + 1 < s->end && is_wsp((unsigned char)p[1]))
		return 1;
	if (*p == '\r' && p + 2 < s->end && p[1] == '\n' && is_wsp((unsigned char)p[2]))
		return 2;
	return 0;
}

/* Skips a comment, nested ones included (s->p is at its '('). A depth counter rather than
 * recursion, so that "((((..." cannot exhaust the stack. */
static int skip_comment(struct scanner *s)
{
	size_t depth = 0;

	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		size_t fold = fold_break_len(s, s->p);
		if (fold) {
			s->p += fold;
			continue;
		}
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth == 0) {
				s->p++;
				return 0;
			}
		} else if (c == '\\') {
			if (s->p + 1 == s->end)
				break;
			s->p++;
			if (is_line_or_nul((unsigned char)*s->p))
				return unexpected(s, "in a comment");
		} else if (is_line_or_nul(c)) {
			return unexpected(s, "in a comment");
		}
		s->p++;
	}
	return fail(s, "unbalanced '('");
}

/* Skips CFWS: blanks, folding line breaks and comments. */
static int skip_cfws(struct scanner *s)
{
	while (s->p < s->end) {
		size_t fold;
		if (is_wsp((unsigned char)*s->p))
			s->p++;
		else if ((fold = fold_break_len(s, s->p)) != 0)
			s->p += fold;
		else if (*s->p == '(') {
			if (skip_comment(s) < 0)
				return -1;
		} else
			break;
	}
	return 0;
}

/* Appends the content of the quoted string at s->p (at its '"') to out, unquoted and unfolded. */
static int scan_quoted(struct scanner *s, struct buf *out)
{
	s->p++;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		size_t fold = fold_break_len(s, s->p);
		if (fold) {
			s->p += fold;
			continue;
		}
		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c == '\\') {
			if (s->p + 1 == s->end)
				break;
			s->p++;
			c = (unsigned char)*s->p;
		}
		if (is_line_or_nul(c))
			return unexpected(s, "in a quoted string");
		buf_putc(out, (char)c);
		s->p++;
	}
	return fail(s, "unbalanced '\"'");
}

/* The run of words and dots that opens an address. Whether it is a display name ('<' or ':'
 * follows) or a local part ('@' or the end of the address follows) is only known after it, so
 * both readings are built on the way. */
struct words {
	struct buf phrase;	/* decoded; one space wherever CFWS stood between two tokens */
	struct buf local;	/* decoded words and dots, nothing between them */
	const char *begin;	/* where the first token starts (NULL when there is none) */
	const char *end;	/* where the last token ends */
	size_t count;		/* atoms and quoted strings */
	bool adjacent;		/* two words with no '.' between them: cannot be a local part */
	bool bad_dot;		/* a leading, trailing or doubled '.' */
};

static void words_free(struct words *w)
{
	buf_free(&w->phrase);
	buf_free(&w->local);
}

static int collect_words(struct scanner *s, struct words *w)
{
	enum { NOTHING, WORD, DOT } prev = NOTHING;

	for (;;) {
		const char *before = s->p;
		if (skip_cfws(s) < 0)
			return -1;
		if (s->p == s->end)
			break;
		bool spaced = w->begin && s->p != before;
		const char *token = s->p;
		unsigned char c = (unsigned char)*s->p;
		if (c == '"' || is_atext(c)) {
			if (prev == WORD)
				w->adjacent = true;
			if (spaced)
				buf_putc(&w->phrase, ' ');
			size_t mark = w->phrase.len;
			if (c == '"') {
				if (scan_quoted(s, &w->phrase) < 0)
					return -1;
			} else {
				while (s->p < s->end && is_atext((unsigned char)*s->p))
					s->p++;
				buf_append(&w->phrase, token, (size_t)(s->p - token));
			}
			if (w->phrase.len > mark)
				buf_append(&w->local, w->phrase.data + mark, w->phrase.len - mark);
			w->count++;
			prev = WORD;
		} else if (c == '.') {
			if (prev != WORD)
				w->bad_dot = true;
			if (spaced)
				buf_putc(&w->phrase, ' ');
			buf_putc(&w->phrase, '.');
			buf_putc(&w->local, '.');
			s->p++;
			prev = DOT;
		} else {
			break;
		}
		if (!w->begin)
			w->begin = token;
		w->end = s->p;
	}
	if (prev == DOT)
		w->bad_dot = true;
	return 0;
}

/* RFC 5322 dot-atom-text: what a local part may be written as without quotes. */
static bool is_dot_atom(const char *text, size_t n)
{
	bool need_atext = true;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '.') {
			if (need_atext)
				return false;
			need_atext = true;
		} else if (is_atext((unsigned char)text[i])) {
			need_atext = false;
		} else {
			return false;
		}
	}
	return !need_atext;
}

/* Appends a decoded local part in canonical form: as it is when it is a dot-atom, else quoted
 * with only '"' and '\' escaped, so "john"@x and john@x become one address. */
static void put_local(struct buf *out, const char *local, size_t n)
{
	if (is_dot_atom(local, n)) {
		buf_append(out, local, n);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (local[i] == '"' || local[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, local[i]);
	}
	buf_putc(out, '"');
}

static int scan_domain_literal(struct scanner *s, struct buf *out, const char **last)
{
	size_t opening = out->len;

	buf_putc(out, '[');
	s->p++;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		size_t fold = fold_break_len(s, s->p);
		if (fold) {
			s->p += fold;
		} else if (is_wsp(c)) {
			s->p++;
		} else if (c == ']') {
			if (out->len == opening + 1)
				return fail(s, "empty domain literal");
			buf_putc(out, ']');
			s->p++;
			*last = s->p;
			return 0;
		} else if ((c >= 33 && c <= 126 && c != '[' && c != '\\') || c >= 0x80) {
			buf_putc(out, (char)c);
			s->p++;
		} else {
			return unexpected(s, "in a domain literal");
		}
	}
	return fail(s, "unbalanced '['");
}

/* Appends the domain at s (after its '@') to out as written but without CFWS, and sets *last to
 * where its last token ends (the end of the addr-spec in the source). */
static int scan_domain(struct scanner *s, struct buf *out, const char **last)
{
	if (skip_cfws(s) < 0)
		return -1;
	if (s->p < s->end && *s->p == '[')
		return scan_domain_literal(s, out, last);

	for (bool first = true;; first = false) {
		const char *atom = s->p;
		while (s->p < s->end && is_atext((unsigned char)*s->p))
			s->p++;
		if (s->p == atom) {
			if (!first || (s->p < s->end && *s->p == '.'))
				return fail(s, "misplaced '.' in the domain");
			if (s->p == s->end || !is_ctl((unsigned char)*s->p))
				return fail(s, "missing domain");
			return unexpected(s, "in the domain");
		}
		buf_append(out, atom, (size_t)(s->p - atom));
		*last = s->p;
		if (skip_cfws(s) < 0)
			return -1;
		if (s->p == s->end || *s->p != '.')
			return 0;
		buf_putc(out, '.');
		s->p++;
		if (skip_cfws(s) < 0)
			return -1;
	}
}

/* Completes the addr-spec whose local part w holds: "@domain" follows when s is at '@', else it
 * is a bare local name. */
static int finish_addr_spec(struct scanner *s, const struct words *w, struct mailbox *mb)
{
	bool has_domain = s->p < s->end && *s->p == '@';
	const char *src_end = w->end;
	struct buf addr = {0};

	if (w->adjacent)
		return fail(s, has_domain ? "unquoted space in the local part"
					  : "a name without an address");
	if (w->bad_dot)
		return fail(s, "misplaced '.' in the local part");
	if (w->count == 0)
		return fail(s, "missing local part");
	put_local(&addr, w->local.data, w->local.len);
	if (has_domain) {
		buf_putc(&addr, '@');
		s->p++;
		if (scan_domain(s, &addr, &src_end) < 0) {
			buf_free(&addr);
			return -1;
		}
	}
	mb->addr = buf_steal(&addr);
	mb->src_begin = w->begin;
	mb->src_end = src_end;
	return 0;
}

/* Skips an obsolete source route ("@relay1,@relay2:" at the start of an angle address), which
 * RFC 5321 says to ignore. */
static int skip_route(struct scanner *s)
{
	struct buf ignored = {0};
	const char *unused;
	int rc = -1;

	for (;;) {
		s->p++;
		buf_reset(&ignored);
		if (scan_domain(s, &ignored, &unused) < 0 || skip_cfws(s) < 0)
			goto out;
		while (s->p < s->end && *s->p == ',') {
			s->p++;
			if (skip_cfws(s) < 0)
				goto out;
		}
		if (s->p < s->end && *s->p == '@')
			continue;
		if (s->p < s->end && *s->p == ':') {
			s->p++;
			rc = 0;
		} else {
			fail(s, "missing ':' after the route");
		}
		goto out;
	}
out:
	buf_free(&ignored);
	return rc;
}

/* Scans an angle address (s->p is at its '<'): "<>", "<addr-spec>", "<bare>", "<@route:addr-spec>". */
static int scan_angle(struct scanner *s, struct mailbox *mb)
{
	struct words w = {0};
	int rc = -1;

	s->p++;
	if (skip_cfws(s) < 0)
		return -1;
	if (s->p < s->end && *s->p == '>') {
		mb->addr = xstrdup("");
		mb->src_begin = mb->src_end = s->p;
		s->p++;
		return 0;
	}
	if (s->p < s->end && *s->p == '@' && skip_route(s) < 0)
		return -1;
	if (collect_words(s, &w) < 0)
		goto out;
	if (s->p < s->end && w.count == 0 && !w.bad_dot && *s->p != '@') {
		unexpected(s, "in an angle address");
		goto out;
	}
	if (finish_addr_spec(s, &w, mb) < 0 || skip_cfws(s) < 0)
		goto out;
	if (s->p == s->end) {
		fail(s, "missing '>'");
		goto out;
	}
	if (*s->p != '>') {
		unexpected(s, "in an angle address");
		goto out;
	}
	s->p++;
	rc = 0;
out:
	words_free(&w);
	return rc;
}

enum element { ELEMENT_MAILBOX, ELEMENT_GROUP };

/* Scans one address (s is past any CFWS and not at ',', ';' or the end): a mailbox into *mb, or
 * a group's name and colon (*kind becomes ELEMENT_GROUP and the members follow). */
static int scan_address(struct scanner *s, struct mailbox *mb, enum element *kind)
{
	struct words w = {0};
	int rc = -1;

	*kind = ELEMENT_MAILBOX;
	if (collect_words(s, &w) < 0)
		goto out;
	if (s->p < s->end && *s->p == '<') {
		if (w.phrase.len)
			mb->name = xstrdup(w.phrase.data);
		rc = scan_angle(s, mb);
	} else if (s->p < s->end && *s->p == ':') {
		if (w.count == 0) {
			fail(s, "a group without a name");
			goto out;
		}
		s->p++;
		*kind = ELEMENT_GROUP;
		rc = 0;
	} else if (s->p == s->end || *s->p == '@' || *s->p == ',' || *s->p == ';') {
		rc = finish_addr_spec(s, &w, mb);
	} else {
		unexpected(s, "in the address");
	}
out:
	words_free(&w);
	if (rc < 0)
		mailbox_clear(mb);
	return rc;
}

/* After a group's ';': the list goes on after a ',' or ends. */
static int finish_group(struct scanner *s)
{
	if (skip_cfws(s) < 0)
		return -1;
	if (s->p == s->end)
		return 0;
	if (*s->p == ',') {
		s->p++;
		return 0;
	}
	return unexpected(s, "after a group");
}

enum after_mailbox { AFTER_END, AFTER_COMMA, AFTER_GROUP };

/* After a mailbox: the end of the list, a ',' or the ';' that closes a group (each consumed). */
static int finish_mailbox(struct scanner *s, enum after_mailbox *after)
{
	if (skip_cfws(s) < 0)
		return -1;
	if (s->p == s->end) {
		*after = AFTER_END;
		return 0;
	}
	if (*s->p == ',') {
		s->p++;
		*after = AFTER_COMMA;
		return 0;
	}
	if (*s->p == ';') {
		s->p++;
		*after = AFTER_GROUP;
		return finish_group(s);
	}
	return unexpected(s, "after the address");
}

/* A group's members come back one call at a time and nothing survives between calls, so the
 * whole group is checked when its name is read (s is a copy: this only looks ahead). An unclosed
 * or nested group is reported then, and a later ';' can be taken as the end of a group without
 * knowing that one is open. */
static int check_group(struct scanner s)
{
	for (;;) {
		if (skip_cfws(&s) < 0)
			return -1;
		if (s.p == s.end)
			return fail(&s, "group not closed with ';'");
		if (*s.p == ',') {
			s.p++;
			continue;
		}
		if (*s.p == ';') {
			s.p++;
			return finish_group(&s);
		}
		struct mailbox member = {0};
		enum element kind;
		enum after_mailbox after;
		if (scan_address(&s, &member, &kind) < 0)
			return -1;
		mailbox_clear(&member);
		if (kind == ELEMENT_GROUP)
			return fail(&s, "a group inside a group");
		if (finish_mailbox(&s, &after) < 0)
			return -1;
		if (after == AFTER_GROUP)
			return 0;
		if (after == AFTER_END)
			return fail(&s, "group not closed with ';'");
	}
}

int addr_next(const char **pos, const char *end, struct mailbox *mb, struct diag *d)
{
	struct scanner s = {*pos, end, d};

	memset(mb, 0, sizeof *mb);
	for (;;) {
		if (skip_cfws(&s) < 0)
			return -1;
		if (s.p == s.end) {
			*pos = s.p;
			return 0;
		}
		if (*s.p == ',') {
			s.p++;
			continue;
		}
		if (*s.p == ';') {
			s.p++;
			if (finish_group(&s) < 0)
				return -1;
			continue;
		}
		enum element kind;
		if (scan_address(&s, mb, &kind) < 0)
			return -1;
		if (kind == ELEMENT_GROUP) {
			if (check_group(s) < 0)
				return -1;
			continue;
		}
		enum after_mailbox after;
		if (finish_mailbox(&s, &after) < 0) {
			mailbox_clear(mb);
			return -1;
		}
		*pos = s.p;
		return 1;
	}
}

int addr_parse_one(const char *text, struct mailbox *mb, struct diag *d)
{
	struct scanner s = {text, text + strlen(text), d};
	enum element kind;

	memset(mb, 0, sizeof *mb);
	if (skip_cfws(&s) < 0)
		return EX_DATAERR;
	if (s.p == s.end) {
		mb->addr = xstrdup("");
		mb->src_begin = mb->src_end = s.p;
		return EX_OK;
	}
	if (*s.p == ',' || *s.p == ';') {
		unexpected(&s, "where one address was expected");
		return EX_DATAERR;
	}
	if (scan_address(&s, mb, &kind) < 0)
		return EX_DATAERR;
	if (kind == ELEMENT_GROUP) {
		fail(&s, "a group where one address was expected");
		return EX_DATAERR;
	}
	if (skip_cfws(&s) < 0 || (s.p < s.end && unexpected(&s, "after the address") < 0)) {
		mailbox_clear(mb);
		return EX_DATAERR;
	}
	return EX_OK;
}

void mailbox_clear(struct mailbox *mb)
{
	free(mb->name);
	free(mb->addr);
	memset(mb, 0, sizeof *mb);
}

/* The '@' that separates local part and domain in a canonical address, or NULL. A quoted local
 * part may hold '@' itself ("a@b"@x), so it is stepped over first. */
const char *addr_domain_at(const char *addr)
{
	const char *p = addr;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		if (*p)
			p++;
	}
	return strchr(p, '@');
}

static const char *local_part_problem(const char *addr, const char **after)
{
	const char *p = addr;

	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (!*p)
				return "unbalanced '\"' in the local part";
			if (*p == '\\') {
				p++;
				if (!*p)
					return "unbalanced '\"' in the local part";
				if ((unsigned char)*p >= 0x80)
					return "quoted pair of a non-ASCII byte";
			}
		}
		p++;
	} else {
		bool need_atext = true;
		for (; *p && *p != '@'; p++) {
			if (*p == '.') {
				if (need_atext)
					return "misplaced '.' in the local part";
				need_atext = true;
			} else if (is_atext((unsigned char)*p)) {
				need_atext = false;
			} else if (*p == ' ') {
				return "unquoted space in the local part";
			} else {
				return "forbidden character in the local part";
			}
		}
		if (p == addr)
			return "empty local part";
		if (need_atext)
			return "misplaced '.' in the local part";
	}
	*after = p;
	return NULL;
}

static const char *domain_problem(const char *domain)
{
	size_t n = strlen(domain);

	if (n == 0)
		return "empty domain";
	if (n > 255)
		return "domain longer than 255 octets";
	if (domain[0] == '[') {
		if (n < 3 || domain[n - 1] != ']')
			return "bad domain literal";
		for (size_t i = 1; i < n - 1; i++) {
			unsigned char c = (unsigned char)domain[i];
			/* RFC 5322 dtext allows '<' and '>', but in "RCPT TO:<...>" they would
			 * end the path early */
			if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\' || c == '<' || c == '>')
				return "forbidden character in the domain literal";
		}
		return NULL;
	}
	for (const char *label = domain;; label++) {
		const char *p = label;
		while (*p && *p != '.') {
			unsigned char c = (unsigned char)*p;
			if (!is_ascii_alnum(c) && c != '-' && c != '_' && c < 0x80)
				return c == ' ' ? "space in the domain" : "forbidden character in the domain";
			p++;
		}
		if (p == label)
			return "empty label in the domain";
		if (p - label > 63)
			return "domain label longer than 63 octets";
		if (*label == '-' || p[-1] == '-')
			return "domain label starting or ending with '-'";
		if (!*p)
			return NULL;
		label = p;
	}
}

static const char *envelope_problem(const char *addr)
{
	const char *after_local = NULL;
	const char *why;

	for (const char *p = addr; *p; p++)
		if (is_ctl((unsigned char)*p))
			return "control character in the address";
	why = local_part_problem(addr, &after_local);
	if (why)
		return why;
	if (!*after_local)
		return "no domain";
	if (*after_local != '@')
		return "forbidden character after the quoted local part";
	why = domain_problem(after_local + 1);
	if (why)
		return why;
	/* RFC 5321's 64-octet local part is only what every server must take: VERP and SRS
	 * senders are longer, and relays accept them. Its 256-octet path, brackets included, is
	 * the limit kept. */
	if (strlen(addr) > ADDR_PATH_MAX - 2)
		return "longer than 254 octets, the most an SMTP path holds";
	return NULL;
}

/* Copies s into out for an error message: control bytes as \xNN (the message may reach a
 * terminal or a log), cut with "..." when it does not fit. size must be at least 4. */
static void escape_for_message(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char piece[8];
		if (is_ctl(c)) {
			snprintf(piece, sizeof piece, "\\x%02x", c);
		} else {
			piece[0] = (char)c;
			piece[1] = '\0';
		}
		size_t len = strlen(piece);
		if (n + len + 4 > size) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
}

int addr_check_envelope(const char *addr, struct diag *d)
{
	char shown[200];

	if (!*addr)
		return diag_set(d, EX_DATAERR, "empty address");
	const char *why = envelope_problem(addr);
	if (!why)
		return EX_OK;
	escape_for_message(addr, shown, sizeof shown);
	return diag_set(d, EX_DATAERR, "%s: %s", shown, why);
}

bool addr_is_bare(const char *addr)
{
	/* "" is the null address <>, not a local name waiting for a domain. */
	return *addr && !addr_domain_at(addr);
}

char *addr_qualify(const char *addr, const char *domain)
{
	if (!addr_is_bare(addr))
		return xstrdup(addr);
	return xasprintf("%s@%s", addr, domain);
}

char *addr_dedup_key(const char *addr)
{
	char *key = xstrdup(addr);
	char *at = (char *)addr_domain_at(key);

	if (at)
		for (char *p = at + 1; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return key;
}

static bool has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}

bool addr_needs_smtputf8(const char *addr, bool domain_to_alabel)
{
	const char *at = addr_domain_at(addr);
	size_t local_len = at ? (size_t)(at - addr) : strlen(addr);
	if (has_8bit(addr, local_len))
		return true;	/* a local part has no ASCII form (RFC 6531 3.2) */
	if (!at || !has_8bit(at + 1, strlen(at + 1)))
		return false;
	if (!domain_to_alabel)
		return true;
	/* IDNA works on Unicode: a domain that is not UTF-8 would go out as it is */
	struct mime_class c;
	mime_class_init(&c);
	mime_class_feed(&c, at + 1, strlen(at + 1));
	mime_class_finish(&c);
	return !c.utf8_valid;
}
