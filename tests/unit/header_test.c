/* SPDX-License-Identifier: ISC */
/* header_test.c: the header block's push parser, lookups, edits, byte-exact serialisation and
 * encoders, with the inputs the fuzzer once tripped on. It must not depend on the host's locale
 * or time zone: it sets both itself. */
#include "header.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* --- helpers ------------------------------------------------------------------------------- */

static struct header *header_from_lines(const char *const *lines)
{
	struct header *h = header_new();
	for (; *lines; lines++)
		header_push_line(h, *lines, strlen(*lines));
	return h;
}

/* The serialised block as a string the test owns. */
static char *written(const struct header *h)
{
	struct buf out = {0};
	header_write(h, &out);
	return buf_steal(&out);
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Longest physical line of "Name:" + value, counted as the field would be written. */
static size_t longest_line(const char *name, const char *value)
{
	size_t longest = 0, column = strlen(name) + 1;
	for (const char *p = value;; p++) {
		if (*p == '\n' || *p == '\0') {
			if (column > longest)
				longest = column;
			if (*p == '\0')
				return longest;
			column = 0;
		} else {
			column++;
		}
	}
}

/* True when some line after the first holds nothing but white space. */
static bool has_blank_line(const char *value)
{
	for (const char *p = strchr(value, '\n'); p; p = strchr(p + 1, '\n')) {
		const char *q = p + 1;
		while (is_wsp(*q))
			q++;
		if (*q == '\n' || *q == '\0')
			return true;
	}
	return false;
}

static char *unfolded(const char *value)
{
	struct buf out = {0};
	for (const char *p = value; *p; p++)
		if (*p != '\n')
			buf_putc(&out, *p);
	return buf_steal(&out);
}

static int base64_digit(char c)
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

/* Appends the decoding of n base64 characters to out; false on bad input. */
static bool base64_decode(const char *s, size_t n, struct buf *out)
{
	if (n % 4)
		return false;
	for (size_t i = 0; i < n; i += 4) {
		int d[4];
		for (int k = 0; k < 4; k++)
			d[k] = s[i + k] == '=' ? 0 : base64_digit(s[i + k]);
		if (d[0] < 0 || d[1] < 0 || d[2] < 0 || d[3] < 0)
			return false;
		unsigned long group = (unsigned long)d[0] << 18 | (unsigned long)d[1] << 12 |
				      (unsigned long)d[2] << 6 | (unsigned long)d[3];
		buf_putc(out, (char)(group >> 16));
		if (s[i + 2] != '=')
			buf_putc(out, (char)(group >> 8 & 0xff));
		if (s[i + 3] != '=')
			buf_putc(out, (char)(group & 0xff));
	}
	return true;
}

/* Strict RFC 3629 check, written apart from header.c's so that the two can disagree. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned long cp;
		size_t len;
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xE0) == 0xC0) {
			cp = s[i] & 0x1F, len = 2;
		} else if ((s[i] & 0xF0) == 0xE0) {
			cp = s[i] & 0x0F, len = 3;
		} else if ((s[i] & 0xF8) == 0xF0) {
			cp = s[i] & 0x07, len = 4;
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
		static const unsigned long smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < smallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/* Checks a value made of encoded-words: each at most 75 characters and (when the text was
 * valid UTF-8) valid UTF-8 on its own, lines within 76 columns, separators as given, and the
 * decoded words joined back into text. */
static void check_encoded_words(const char *label, const char *name, const char *value,
				const char *text, const char *separator, bool text_is_utf8)
{
	struct buf decoded = {0};
	bool words_ok = true, sizes_ok = true, utf8_ok = true;
	const char *p = value;
	if (name)
		words_ok = *p++ == ' ';
	while (words_ok && *p) {
		const char *end = strstr(p, "?=");
		if (strncmp(p, "=?UTF-8?B?", 10) != 0 || !end) {
			words_ok = false;
			break;
		}
		end += 2;
		if (end - p > 75)
			sizes_ok = false;
		size_t before = decoded.len;
		if (!base64_decode(p + 10, (size_t)(end - 2 - (p + 10)), &decoded))
			words_ok = false;
		if (!valid_utf8((unsigned char *)decoded.data + before, decoded.len - before))
			utf8_ok = false;
		p = end;
		if (*p) {
			if (strncmp(p, separator, strlen(separator)) != 0)
				words_ok = false;
			p += strlen(separator);
		}
	}
	ok(words_ok, "%s: encoded-words separated by the separator", label);
	ok(sizes_ok, "%s: every encoded-word is at most 75 characters", label);
	if (text_is_utf8)
		ok(utf8_ok, "%s: no encoded-word splits a UTF-8 sequence", label);
	if (name)
		ok(longest_line(name, value) <= 76, "%s: lines stay within 76 columns", label);
	ok(decoded.data && strcmp(decoded.data, text) == 0, "%s: decodes back to the text", label);
	buf_free(&decoded);
}

/* --- push parser --------------------------------------------------------------------------- */

static void test_push_line(void)
{
	static const struct {
		const char *line;
		enum header_line want;
		const char *name, *value;
	} cases[] = {
		{"Subject: hello", HEADER_LINE_FIELD, "Subject", " hello"},
		{"Subject:no space", HEADER_LINE_FIELD, "Subject", "no space"},
		{"X-Tab:\tvalue", HEADER_LINE_FIELD, "X-Tab", "\tvalue"},
		{"To: a@b  ", HEADER_LINE_FIELD, "To", " a@b  "},
		{"Empty:", HEADER_LINE_FIELD, "Empty", ""},
		{"Subject : obsolete", HEADER_LINE_FIELD, "Subject", " obsolete"},
		{"Subject\t \t: obsolete tabs", HEADER_LINE_FIELD, "Subject", " obsolete tabs"},
		{"X-Odd!#$%&'*+/=?^_`{|}~: v", HEADER_LINE_FIELD, "X-Odd!#$%&'*+/=?^_`{|}~", " v"},
		{"X:a:b", HEADER_LINE_FIELD, "X", "a:b"},
		{"From nobody Sat Nov 28 17:48:10 2026", HEADER_LINE_NOT, NULL, NULL},
		{">From nobody", HEADER_LINE_NOT, NULL, NULL},
		{"From:", HEADER_LINE_FIELD, "From", ""},
		{"garbage", HEADER_LINE_NOT, NULL, NULL},
		{": no name", HEADER_LINE_NOT, NULL, NULL},
		{" leading continuation", HEADER_LINE_NOT, NULL, NULL},
		{"\tleading tab", HEADER_LINE_NOT, NULL, NULL},
		{"", HEADER_LINE_NOT, NULL, NULL},
		{"Na\001me: control in name", HEADER_LINE_NOT, NULL, NULL},
		{"N\xc3\xa4me: 8-bit in name", HEADER_LINE_NOT, NULL, NULL},
		{"Name x: space inside the name", HEADER_LINE_NOT, NULL, NULL},
		{"Subject \t", HEADER_LINE_NOT, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct header *h = header_new();
		enum header_line got = header_push_line(h, cases[i].line, strlen(cases[i].line));
		is_int(got, cases[i].want, "push \"%s\" gives %d", cases[i].line, cases[i].want);
		if (cases[i].want == HEADER_LINE_FIELD) {
			is_int(header_count(h), 1, "push \"%s\" stores one field", cases[i].line);
			is_str(header_name(h, 0), cases[i].name, "name of \"%s\"", cases[i].line);
			is_str(header_value(h, 0), cases[i].value, "value of \"%s\"", cases[i].line);
			char *bytes = written(h);
			char *want = xasprintf("%s\r\n", cases[i].line);
			is_str(bytes, want, "\"%s\" is written back as it came", cases[i].line);
			free(want);
			free(bytes);
		} else {
			is_int(header_count(h), 0, "push \"%s\" stores nothing", cases[i].line);
			is_int(header_bytes(h), 0, "push \"%s\" counts no bytes", cases[i].line);
		}
		header_free(h);
	}
}

static void test_continuation(void)
{
	struct header *h = header_new();
	is_int(header_push_line(h, "Subject: one", 12), HEADER_LINE_FIELD, "field line");
	is_int(header_push_line(h, "\ttwo", 4), HEADER_LINE_CONT, "tab continues");
	is_int(header_push_line(h, "   three ", 9), HEADER_LINE_CONT, "spaces continue");
	is_int(header_push_line(h, " ", 1), HEADER_LINE_CONT, "a line of one space continues");
	is_int(header_push_line(h, "To: x", 5), HEADER_LINE_FIELD, "next field");
	is_int(header_push_line(h, "", 0), HEADER_LINE_NOT, "empty line is not header");
	is_int(header_count(h), 2, "two fields");
	is_str(header_value(h, 0), " one\n\ttwo\n   three \n ", "continuations joined with \\n");
	char *bytes = written(h);
	is_str(bytes, "Subject: one\r\n\ttwo\r\n   three \r\n \r\nTo: x\r\n",
	       "folded field written with CRLF");
	is_int(header_bytes(h), strlen(bytes), "header_bytes is the written length");
	free(bytes);
	header_free(h);
}

static void test_exact_serialisation(void)
{
	static const char *const lines[] = {
		"Received: from x by y;",
		"\tSat, 28 Nov 2026 17:48:10 +0100",
		"Subject:no space",
		"X-Tab:\tvalue",
		"To: a@example.org   ",
		"Cc :  obsolete spacing ",
		"X-Empty:",
		"X-Eight-Bit: caf\xc3\xa9 \xff",
		NULL,
	};
	struct header *h = header_from_lines(lines);
	char *bytes = written(h);
	is_str(bytes,
	       "Received: from x by y;\r\n\tSat, 28 Nov 2026 17:48:10 +0100\r\n"
	       "Subject:no space\r\nX-Tab:\tvalue\r\nTo: a@example.org   \r\n"
	       "Cc :  obsolete spacing \r\nX-Empty:\r\nX-Eight-Bit: caf\xc3\xa9 \xff\r\n",
	       "odd spacing survives byte for byte");
	is_int(header_bytes(h), strlen(bytes), "header_bytes matches the written length");
	char *again = written(h);
	is_str(again, bytes, "writing twice gives the same bytes");
	free(again);
	free(bytes);

	/* A NUL inside a line is kept too: the value reads short, the wire bytes do not. */
	header_push_line(h, "X-Nul: a\0b", 10);
	struct buf out = {0};
	header_write(h, &out);
	ok(out.len >= 12 && memcmp(out.data + out.len - 12, "X-Nul: a\0b\r\n", 12) == 0,
	   "NUL inside a value is written back");
	is_int(header_bytes(h), out.len, "header_bytes counts the NUL line");
	is_str(header_value(h, header_count(h) - 1), " a", "the value reads up to the NUL");
	buf_free(&out);
	header_free(h);
}

/* --- lines over 998 octets ------------------------------------------------------------------ */

/* n copies of c, as a string the caller frees. */
static char *rep(char c, size_t n)
{
	char *s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* True when no line of the wire text is longer than 998 octets before its CRLF. */
static bool lines_fit(const char *wire)
{
	for (const char *p = wire; *p;) {
		const char *crlf = strstr(p, "\r\n");
		size_t n = crlf ? (size_t)(crlf - p) : strlen(p);
		if (n > 998)
			return false;
		p += n + (crlf ? 2 : 0);
	}
	return true;
}

/* Parses wire text (CRLF lines) back into a header, as the reader would. */
static struct header *parse_wire(const char *wire)
{
	struct header *h = header_new();
	for (const char *p = wire; *p;) {
		const char *crlf = strstr(p, "\r\n");
		size_t n = crlf ? (size_t)(crlf - p) : strlen(p);
		header_push_line(h, p, n);
		p += n + (crlf ? 2 : 0);
	}
	return h;
}

/* s without its line breaks, and without any white space at all when squeeze is set. */
static char *flattened(const char *s, bool squeeze)
{
	struct buf out = {0};
	buf_append(&out, "", 0);
	for (; *s; s++)
		if (*s != '\n' && !(squeeze && is_wsp(*s)))
			buf_putc(&out, *s);
	return buf_steal(&out);
}

/* header -> wire -> header: the same names in the same order, and each value the same once
 * unfolded (RFC 5322 2.2.3); where a hard break had to add a space, the same but for white
 * space. Returns the number of fields that differ. */
static size_t round_trip_differences(const struct header *h, bool hard_breaks)
{
	char *wire = written(h);
	struct header *back = parse_wire(wire);
	size_t differ = header_count(back) == header_count(h) ? 0 : 1;
	for (size_t i = 0; !differ && i < header_count(h); i++) {
		char *a = flattened(header_value(h, i), hard_breaks);
		char *b = flattened(header_value(back, i), hard_breaks);
		differ += strcmp(header_name(h, i), header_name(back, i)) != 0 || strcmp(a, b) != 0;
		free(a);
		free(b);
	}
	header_free(back);
	free(wire);
	return differ;
}

static void test_long_lines(void)
{
	char *x3000 = rep('x', 3000), *x997 = rep('x', 997), *x991 = rep('x', 991);
	char *s989 = rep('s', 989), *a995 = rep('a', 995);
	struct buf words = {0};
	for (int i = 0; i < 400; i++)
		buf_printf(&words, "%sword%03d", i ? " " : "", i);
	struct {
		char *line, *want, *what;
		bool hard;
	} cases[] = {
		{ xasprintf("Subject: %s", x3000),
		  xasprintf("Subject:\r\n %s\r\n %s\r\n %s\r\n xxxxxxxxx\r\n", x997, x997, x997),
		  xstrdup("no white space but after the colon: fold there, then CRLF SPACE at 998"), true },
		{ xasprintf("X-Long:%s", x3000),
		  xasprintf("X-Long:%s\r\n %s\r\n %s\r\n xxxxxxxxxxxxxxx\r\n", x991, x997, x997),
		  xstrdup("no white space at all: CRLF SPACE at 998 as Postfix"), true },
		{ xasprintf("Subject: %s", s989), xasprintf("Subject: %s\r\n", s989),
		  xstrdup("a line of exactly 998 octets is left as it is"), false },
		{ xasprintf("Subject: %s y", s989), xasprintf("Subject: %s\r\n y\r\n", s989),
		  xstrdup("a line of 1000 octets folds at its last white space"), false },
		{ xasprintf("X:%s\xc3\xa9zz", a995), xasprintf("X:%s\r\n \xc3\xa9zz\r\n", a995),
		  xstrdup("a hard break never splits a UTF-8 sequence"), true },
		{ xasprintf("Subject: a %s   ", x3000),
		  xasprintf("Subject: a\r\n %s\r\n %s\r\n %s\r\n xxxxxxxxx   \r\n", x997, x997, x997),
		  xstrdup("trailing white space is no fold point"), true },
		{ xasprintf("Subject: %s", words.data), NULL,
		  xstrdup("3200 octets of words fold at white space only"), false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct header *h = header_new();
		header_push_line(h, cases[i].line, strlen(cases[i].line));
		char *got = written(h);
		if (cases[i].want)
			is_str(got, cases[i].want, "%s", cases[i].what);
		ok(lines_fit(got), "%s: every line within 998 octets", cases[i].what);
		is_int(round_trip_differences(h, cases[i].hard), 0, "%s: parses back to the same field",
		       cases[i].what);
		free(got);
		header_free(h);
		free(cases[i].line);
		free(cases[i].want);
		free(cases[i].what);
	}

	/* a long continuation line folds too, and the word fold changes nothing once unfolded */
	struct header *h = header_new();
	char *cont = xasprintf("\t%s", words.data);
	header_push_line(h, "Received: from a", 16);
	header_push_line(h, cont, strlen(cont));
	header_push_line(h, "To: b@example.org", 17);
	char *got = written(h);
	ok(lines_fit(got), "a long continuation line is folded within 998 octets");
	ok(strncmp(got, "Received: from a\r\n\tword000 ", 27) == 0, "the first line is kept");
	is_int(round_trip_differences(h, false), 0, "and the block parses back to the same fields");
	ok(header_bytes(h) < strlen(got), "header_bytes counts the bytes before folding");
	free(got);
	free(cont);
	header_free(h);

	/* a name that no line can hold is no field; white space before a colon that would push
	 * it past the line's end is left out */
	h = header_new();
	char *name998 = xasprintf("%s: v", x3000 + 3000 - 998);
	is_int(header_push_line(h, name998, strlen(name998)), HEADER_LINE_NOT,
	       "a 998-character field name makes no field");
	char *name997 = xasprintf("%s: v", x3000 + 3000 - 997);
	is_int(header_push_line(h, name997, strlen(name997)), HEADER_LINE_FIELD,
	       "a 997-character field name still does");
	header_remove_at(h, 0);
	char *spaced = xasprintf("X%s: v", x3000);
	memset(spaced + 1, ' ', 3000);
	is_int(header_push_line(h, spaced, strlen(spaced)), HEADER_LINE_FIELD,
	       "3000 spaces before the colon are the obsolete syntax");
	got = written(h);
	is_str(got, "X: v\r\n", "and are left out when written, where they cannot fit");
	free(got);
	free(spaced);
	free(name997);
	free(name998);
	header_free(h);

	buf_free(&words);
	free(x3000);
	free(x997);
	free(x991);
	free(s989);
	free(a995);
}

/* The round trip on blocks of every shape the parser accepts. */
static void test_round_trip(void)
{
	static const char *const blocks[][6] = {
		{ "From: a@x", "To: b@x,", "\tc@x", "Subject: s", NULL },
		{ "Subject:", " ", "X-Empty:", NULL },
		{ "Cc :  obsolete spacing ", "X-Tab:\tvalue\t", NULL },
		{ "X-Eight-Bit: caf\xc3\xa9 \xff", " \t continued", NULL },
	};
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		struct header *h = header_from_lines(blocks[i]);
		is_int(round_trip_differences(h, false), 0, "block %zu: header -> wire -> header", i);
		char *wire = written(h);
		struct header *back = parse_wire(wire);
		char *again = written(back);
		is_str(again, wire, "block %zu: the wire text is written back byte for byte", i);
		free(again);
		free(wire);
		header_free(back);
		header_free(h);
	}
}

/* --- lookups and edits --------------------------------------------------------------------- */

static void test_find(void)
{
	static const char *const lines[] = {"From: a@x", "TO: b@x", "Subject: s",
					    "to : c@x", "X-To: no", NULL};
	struct header *h = header_from_lines(lines);
	static const struct {
		const char *name;
		size_t from, want;
	} cases[] = {
		{"to", 0, 1},	       {"To", 2, 3},	   {"TO", 4, HEADER_NONE},
		{"from", 0, 0},	       {"subject", 1, 2}, {"Bcc", 0, HEADER_NONE},
		{"To", 99, HEADER_NONE}, {"X-To", 0, 4},	   {"X-T", 0, HEADER_NONE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_int(header_find(h, cases[i].name, cases[i].from), cases[i].want,
		       "find \"%s\" from %zu", cases[i].name, cases[i].from);
	is_str(header_name(h, 3), "to", "obsolete name reads without its white space");
	header_free(h);
}

static void test_remove(void)
{
	static const char *const lines[] = {
		"From: a@x",  "Bcc: hidden@x,", "  more@x", "To: b@x",
		"BCC : c@x",  "Subject: keep",  "bcc:",	    NULL,
	};
	struct header *h = header_from_lines(lines);
	is_int(header_remove_all(h, "Bcc"), 3, "remove_all drops every Bcc, any case, folded");
	char *bytes = written(h);
	is_str(bytes, "From: a@x\r\nTo: b@x\r\nSubject: keep\r\n", "every other byte is kept");
	is_int(header_bytes(h), strlen(bytes), "header_bytes follows removals");
	free(bytes);
	is_int(header_remove_all(h, "Bcc"), 0, "nothing left to remove");

	header_remove_at(h, 1);
	bytes = written(h);
	is_str(bytes, "From: a@x\r\nSubject: keep\r\n", "remove_at drops the field at its index");
	free(bytes);
	header_remove_at(h, 7);
	is_int(header_count(h), 2, "remove_at out of range does nothing");
	header_remove_at(h, 1);
	header_remove_at(h, 0);
	is_int(header_count(h), 0, "all removed");
	is_int(header_bytes(h), 0, "no bytes left");
	header_free(h);
}

static void test_set_and_append(void)
{
	static const char *const lines[] = {"To : root", "Subject: old", "X: y", NULL};
	struct header *h = header_from_lines(lines);
	header_set_value(h, 0, " root@example.org");
	header_set_value(h, 1, " new\n folded");
	header_set_value(h, 9, " ignored");
	header_append(h, "Date", " Sat, 28 Nov 2026 17:48:10 +0100");
	header_append(h, "X-Folded", " a\n\tb");
	header_append(h, "X-Empty", "");
	char *bytes = written(h);
	is_str(bytes,
	       "To : root@example.org\r\nSubject: new\r\n folded\r\nX: y\r\n"
	       "Date: Sat, 28 Nov 2026 17:48:10 +0100\r\nX-Folded: a\r\n\tb\r\nX-Empty:\r\n",
	       "set_value keeps name and place; append adds at the end");
	is_int(header_bytes(h), strlen(bytes), "header_bytes follows edits");
	is_int(header_find(h, "date", 0), 3, "appended field is found");
	is_str(header_value(h, 1), " new\n folded", "set value reads back");
	free(bytes);
	header_free(h);
	/* in a child, so that a crash is this check failing, not the whole program dying */
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		header_free(NULL);
		_exit(0);
	}
	int status = -1;
	ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		   WEXITSTATUS(status) == 0,
	   "header_free(NULL) returns");
}

static void test_insert(void)
{
	static const char *const lines[] = {"Resent-To: a", "From: b", NULL};
	struct header *h = header_from_lines(lines);
	header_insert(h, 1, "Resent-Date", " d");
	header_insert(h, 0, "Received", " by h;\n\tdate");
	header_insert(h, 99, "X-Last", " z");
	char *bytes = written(h);
	is_str(bytes, "Received: by h;\r\n\tdate\r\nResent-To: a\r\nResent-Date: d\r\nFrom: b\r\n"
	       "X-Last: z\r\n", "insert puts a field before index i, past the end at the end");
	is_int(header_bytes(h), strlen(bytes), "header_bytes follows inserts");
	is_int(header_find(h, "from", 0), 3, "later fields move up by one");
	free(bytes);
	header_free(h);
}

/* Text that is not UTF-8 is named by the fallback charset, UTF-8 text never is. */
static void test_charset_fallback(void)
{
	static const struct {
		const char *text, *fallback, *unstructured, *phrase;
	} cases[] = {
		{"caf\xe9", "ISO-8859-1", " =?ISO-8859-1?B?Y2Fm6Q==?=", "=?ISO-8859-1?B?Y2Fm6Q==?="},
		{"caf\xe9", "unknown-8bit", " =?unknown-8bit?B?Y2Fm6Q==?=", "=?unknown-8bit?B?Y2Fm6Q==?="},
		{"caf\xe9", NULL, " =?UTF-8?B?Y2Fm6Q==?=", "=?UTF-8?B?Y2Fm6Q==?="},
		{"caf\xc3\xa9", "ISO-8859-1", " =?UTF-8?B?Y2Fmw6k=?=", "=?UTF-8?B?Y2Fmw6k=?="},
		{"plain", "ISO-8859-1", " plain", "plain"},
		{"a, b", "ISO-8859-1", " a, b", "\"a, b\""},
		/* an overlong sequence and a lone continuation byte are not UTF-8 */
		{"\xc0\xaf", "KOI8-R", " =?KOI8-R?B?wK8=?=", "=?KOI8-R?B?wK8=?="},
		{"x\x80", "KOI8-R", " =?KOI8-R?B?eIA=?=", "=?KOI8-R?B?eIA=?="},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = header_encode_unstructured_charset("Subject", cases[i].text, cases[i].fallback);
		is_str(got, cases[i].unstructured, "unstructured %zu with fallback %s", i,
		       cases[i].fallback ? cases[i].fallback : "(none)");
		free(got);
		got = header_encode_phrase_charset(cases[i].text, cases[i].fallback);
		is_str(got, cases[i].phrase, "phrase %zu with fallback %s", i,
		       cases[i].fallback ? cases[i].fallback : "(none)");
		free(got);
	}
	/* a long Latin-1 subject: words of at most 75 characters that decode back */
	struct buf text = {0};
	for (int i = 0; i < 30; i++)
		buf_puts(&text, "cr\xe8" "me br\xfbl\xe9" "e ");
	char *got = header_encode_unstructured_charset("Subject", text.data, "ISO-8859-1");
	const char *p = got + 1;
	bool words_ok = true, sizes_ok = true;
	struct buf decoded = {0};
	while (words_ok && *p) {
		const char *end = strstr(p + 2, "?=");
		words_ok = strncmp(p, "=?ISO-8859-1?B?", 15) == 0 && end;
		if (!words_ok)
			break;
		end += 2;
		sizes_ok = sizes_ok && end - p <= 75;
		words_ok = base64_decode(p + 15, (size_t)(end - 2 - (p + 15)), &decoded);
		p = end;
		if (*p && strncmp(p, "\n ", 2) == 0)
			p += 2;
		else if (*p)
			words_ok = false;
	}
	ok(words_ok, "long Latin-1 subject: ISO-8859-1 encoded-words, one a line");
	ok(sizes_ok, "long Latin-1 subject: every encoded-word is at most 75 characters");
	ok(longest_line("Subject", got) <= 76, "long Latin-1 subject: lines within 76 columns");
	ok(decoded.data && strcmp(decoded.data, text.data) == 0, "long Latin-1 subject decodes back");
	free(got);
	buf_free(&decoded);
	buf_free(&text);
}

/* --- encoders ------------------------------------------------------------------------------ */

static void test_unstructured_ascii(void)
{
	static const struct {
		const char *name, *text, *want;
	} exact[] = {
		{"Subject", "Hello", " Hello"},
		{"Subject", "", " "},
		{"Subject", "  spaced  out  ", "   spaced  out  "},
		{"Subject", "tab\there", " tab\there"},
		/* 9 + 69 = 78 columns fit; one more word goes to the next line. */
		{"Subject",
		 "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg",
		 " aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg"},
		{"Subject",
		 "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg h",
		 " aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg\n h"},
		/* The break goes before the run of white space, never inside it. */
		{"Subject",
		 "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg   \th",
		 " aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg\n   \th"},
		/* Trailing white space is never folded onto a line of its own: the last word
		 * moves down with it instead. */
		{"Subject",
		 "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg          ",
		 " aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff\n ggggggggg          "},
		{"Subject", "x                                                                       "
			    "          ",
		 " x                                                                       "
		 "          "},
	};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
		char *got = header_encode_unstructured(exact[i].name, exact[i].text);
		is_str(got, exact[i].want, "unstructured ASCII case %zu", i);
		free(got);
	}

	static const struct {
		const char *name, *text;
		bool folds;
	} folded[] = {
		{"Subject", "The quick brown fox jumps over the lazy dog and then keeps running "
			    "far beyond the seventy-eighth column of this header line, again and "
			    "again, until the fold has happened at least twice in a row.",
		 true},
		{"Subject", "short then "
			    "a-single-word-longer-than-seventy-eight-columns-which-may-not-be-split-"
			    "anywhere-at-all and then more words after it",
		 true},
		{"Subject", "a-single-word-longer-than-seventy-eight-columns-which-may-not-be-split-"
			    "anywhere-at-all",
		 false},
		{"X-A-Rather-Long-Field-Name-Indeed", "words\tseparated\tby\ttabs and spaces "
						      "and  doubled  spaces  and  so  on and so "
						      "forth until it folds",
		 true},
		{"Subject", "  leading spaces then a long line of words that must fold at some "
			    "point because it is long",
		 true},
	};
	for (size_t i = 0; i < sizeof folded / sizeof folded[0]; i++) {
		char *got = header_encode_unstructured(folded[i].name, folded[i].text);
		char *want_unfolded = xasprintf(" %s", folded[i].text);
		char *flat = unfolded(got);
		is_str(flat, want_unfolded, "long ASCII case %zu unfolds to the text", i);
		ok(!has_blank_line(got), "long ASCII case %zu has no blank line", i);
		ok((strchr(got, '\n') != NULL) == folded[i].folds, "long ASCII case %zu %s", i,
		   folded[i].folds ? "is folded" : "cannot fold");
		/* Only a word longer than a line may stretch one. */
		bool has_long_word = strstr(folded[i].text, "single-word") != NULL;
		if (!has_long_word)
			ok(longest_line(folded[i].name, got) <= 78,
			   "long ASCII case %zu keeps lines within 78 columns", i);
		else
			ok(strstr(got, "\na-single") == NULL && strstr(flat, "-split-anywhere"),
			   "long ASCII case %zu keeps the long word whole", i);
		free(flat);
		free(want_unfolded);
		free(got);
	}
}

static void test_unstructured_encoded(void)
{
	char *got = header_encode_unstructured("Subject", "Gr\xc3\xbc\xc3\x9f" "e");
	is_str(got, " =?UTF-8?B?R3LDvMOfZQ==?=", "short UTF-8 text is one encoded-word");
	free(got);

	/* 4-byte, 3-byte and 2-byte sequences in a row, long enough for several words, so that
	 * every cut position relative to a sequence comes up. */
	struct buf long_text = {0};
	for (int i = 0; i < 40; i++)
		buf_puts(&long_text, "\xf0\x9f\x93\xa7 \xe2\x82\xac caf\xc3\xa9 ");
	struct buf mixed = {0};
	for (int i = 0; i < 30; i++)
		buf_puts(&mixed, "na\xc3\xafve ");
	const struct {
		const char *label, *name, *text;
		bool utf8;
	} cases[] = {
		{"long UTF-8", "Subject", long_text.data, true},
		{"mostly ASCII", "Subject", mixed.data, true},
		{"long name", "X-An-Extremely-Long-Field-Name-That-Leaves-Little-Room", mixed.data,
		 true},
		{"invalid UTF-8", "Subject", "\xff\xfe abc \xc3 \xe2\x82 \xed\xa0\x80 \xf4\x90\x80\x80"
					     " \xc0\xaf end \xf0\x9f\x93",
		 false},
		{"control byte", "Subject", "bell\a and\r\nnewline", true},
		{"looks encoded", "Subject", "=?UTF-8?B?Zm9v?= is not mine", true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = header_encode_unstructured(cases[i].name, cases[i].text);
		check_encoded_words(cases[i].label, cases[i].name, got, cases[i].text, "\n ",
				    cases[i].utf8);
		free(got);
	}
	got = header_encode_unstructured("Subject", long_text.data);
	ok(strchr(got, '\n') != NULL, "long UTF-8 text is folded between encoded-words");
	free(got);

	/* A name so long no encoded-word fits beside it: one sequence still goes there. */
	char name[100];
	memset(name, 'N', 99);
	name[99] = '\0';
	got = header_encode_unstructured(name, "\xf0\x9f\x93\xa7\xf0\x9f\x93\xa7");
	is_str(got, " =?UTF-8?B?8J+Tpw==?=\n =?UTF-8?B?8J+Tpw==?=",
	       "a huge name leaves one sequence on the first line");
	free(got);
	buf_free(&long_text);
	buf_free(&mixed);
}

static void test_phrase(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"John Smith", "John Smith"},
		{"o'Neil {x} #1", "o'Neil {x} #1"},
		{"John Q. Public", "\"John Q. Public\""},
		{"Smith, John", "\"Smith, John\""},
		{"say \"hi\" \\o/", "\"say \\\"hi\\\" \\\\o/\""},
		{"   ", "\"   \""},
		{"", ""},
		{"J\xc3\xbcrgen", "=?UTF-8?B?SsO8cmdlbg==?="},
		{"=?x?", "=?UTF-8?B?PT94Pw==?="},
		{"tab\there", "=?UTF-8?B?dGFiCWhlcmU=?="},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = header_encode_phrase(cases[i].text);
		is_str(got, cases[i].want, "phrase \"%s\"", cases[i].text);
		free(got);
	}
	struct buf text = {0};
	for (int i = 0; i < 20; i++)
		buf_puts(&text, "Fran\xc3\xa7ois \xe6\x97\xa5\xe6\x9c\xac ");
	char *got = header_encode_phrase(text.data);
	check_encoded_words("long phrase", NULL, got, text.data, " ", true);
	ok(strchr(got, '\n') == NULL, "a phrase is never folded");
	free(got);
	buf_free(&text);
}

static void test_format_date(void)
{
	static const struct {
		const char *tz;
		time_t t;
		const char *want;
	} cases[] = {
		{"UTC", 1795884490, "Sat, 28 Nov 2026 16:48:10 +0000"},
		{"Europe/Berlin", 1795884490, "Sat, 28 Nov 2026 17:48:10 +0100"},
		{"Europe/Berlin", 1783166400, "Sat, 04 Jul 2026 14:00:00 +0200"},
		{"EST5EDT", 1795884490, "Sat, 28 Nov 2026 11:48:10 -0500"},
		{"EST5EDT", 1783166400, "Sat, 04 Jul 2026 08:00:00 -0400"},
		{"IST-5:30", 1772442307, "Mon, 02 Mar 2026 14:35:07 +0530"},
		{"NST3:30", 1772442307, "Mon, 02 Mar 2026 05:35:07 -0330"},
		{"UTC", 0, "Thu, 01 Jan 1970 00:00:00 +0000"},
	};
	const char *locales[] = {"C", "C.UTF-8"};
	for (size_t l = 0; l < sizeof locales / sizeof locales[0]; l++) {
		if (!setlocale(LC_ALL, locales[l])) {
			ok(1, "# SKIP locale %s not installed", locales[l]);
			continue;
		}
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			setenv("TZ", cases[i].tz, 1);
			tzset();
			char *got = header_format_date(cases[i].t);
			is_str(got, cases[i].want, "date in %s under locale %s", cases[i].tz,
			       locales[l]);
			free(got);
		}
	}
	setlocale(LC_ALL, "C");
}

int main(void)
{
	test_push_line();
	test_continuation();
	test_exact_serialisation();
	test_long_lines();
	test_round_trip();
	test_find();
	test_remove();
	test_set_and_append();
	test_insert();
	test_unstructured_ascii();
	test_unstructured_encoded();
	test_phrase();
	test_charset_fallback();
	test_format_date();
	return done_testing();
}
