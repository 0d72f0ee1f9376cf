/* SPDX-License-Identifier: ISC */
/* address_test.c: table-driven tests of the address-list scanner, addr_parse_one, the envelope
 * check and the small helpers. Each row holds its input next to what must come out of it. */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "tap.h"

/* Inputs may hold NUL bytes, so every row carries its length. */
#define IN(s) s, sizeof(s) - 1

#define MAX_MAILBOXES 4

struct want {
	const char *name;
	const char *addr;
	const char *src;	/* the text between src_begin and src_end */
};

struct list_case {
	const char *input;
	size_t len;
	struct want mailboxes[MAX_MAILBOXES];	/* in order; the first with addr NULL ends them */
	const char *error;	/* expected in the diag after those mailboxes; NULL: the list ends */
};

static const struct list_case list_cases[] = {
	/* plain addresses */
	{IN("a@b"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("  a@b \t "), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("user+tag@sub.example.org"), {{NULL, "user+tag@sub.example.org", "user+tag@sub.example.org"}}, NULL},
	{IN("a@B.Example"), {{NULL, "a@B.Example", "a@B.Example"}}, NULL},
	{IN(""), {{0}}, NULL},
	{IN("   "), {{0}}, NULL},
	/* display names */
	{IN("Name <a@b>"), {{"Name", "a@b", "a@b"}}, NULL},
	{IN("John Q. Public <jqp@x.org>"), {{"John Q. Public", "jqp@x.org", "jqp@x.org"}}, NULL},
	{IN("\"Doe, John\" <j@x>"), {{"Doe, John", "j@x", "j@x"}}, NULL},
	{IN("\"Doe, John\" <j@x>, b@y"), {{"Doe, John", "j@x", "j@x"}, {NULL, "b@y", "b@y"}}, NULL},
	{IN("\"\" <a@b>"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("Jöhn Dœ <j@x>"), {{"Jöhn Dœ", "j@x", "j@x"}}, NULL},
	{IN("<a@b>"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("< a @ b >"), {{NULL, "a@b", "a @ b"}}, NULL},
	/* comments */
	{IN("a@b (Comment)"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("(c) a@b"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("a@b (outer (inner) still), c@d"), {{NULL, "a@b", "a@b"}, {NULL, "c@d", "c@d"}}, NULL},
	{IN("John (the (real) man) Doe <j@x>"), {{"John Doe", "j@x", "j@x"}}, NULL},
	{IN("a@b (a \\) quoted paren, \"and a quote)"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("a(x)@(y)b"), {{NULL, "a@b", "a(x)@(y)b"}}, NULL},
	/* quoted local parts */
	{IN("\"john doe\"@x"), {{NULL, "\"john doe\"@x", "\"john doe\"@x"}}, NULL},
	{IN("\"john\"@x"), {{NULL, "john@x", "\"john\"@x"}}, NULL},
	{IN("\"a\\\"b\"@x"), {{NULL, "\"a\\\"b\"@x", "\"a\\\"b\"@x"}}, NULL},
	{IN("\"a\\b\"@x"), {{NULL, "ab@x", "\"a\\b\"@x"}}, NULL},
	{IN("\"a\\\\b\"@x"), {{NULL, "\"a\\\\b\"@x", "\"a\\\\b\"@x"}}, NULL},
	{IN("\"a@b\"@x"), {{NULL, "\"a@b\"@x", "\"a@b\"@x"}}, NULL},
	{IN("\"\"@x"), {{NULL, "\"\"@x", "\"\"@x"}}, NULL},
	{IN("\"john doe\".x@y"), {{NULL, "\"john doe.x\"@y", "\"john doe\".x@y"}}, NULL},
	{IN("a . b @ c . d"), {{NULL, "a.b@c.d", "a . b @ c . d"}}, NULL},
	/* groups */
	{IN("undisclosed-recipients:;"), {{0}}, NULL},
	{IN("undisclosed-recipients: ;, a@b"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("team: a@x, b@y;, c@z"), {{NULL, "a@x", "a@x"}, {NULL, "b@y", "b@y"}, {NULL, "c@z", "c@z"}}, NULL},
	{IN("team: a@x, b@y ; , c@z"), {{NULL, "a@x", "a@x"}, {NULL, "b@y", "b@y"}, {NULL, "c@z", "c@z"}}, NULL},
	{IN("\"The Team\": , A <a@x>,, ;"), {{"A", "a@x", "a@x"}}, NULL},
	{IN("Team <t@x>, g: ;, z@z"), {{"Team", "t@x", "t@x"}, {NULL, "z@z", "z@z"}}, NULL},
	/* folding */
	{IN("a@x,\r\n b@y"), {{NULL, "a@x", "a@x"}, {NULL, "b@y", "b@y"}}, NULL},
	{IN("a@x,\n\tb@y"), {{NULL, "a@x", "a@x"}, {NULL, "b@y", "b@y"}}, NULL},
	{IN("\"folded\r\n name\" <a@b>"), {{"folded name", "a@b", "a@b"}}, NULL},
	{IN("Long\n Name\n <a@b>"), {{"Long Name", "a@b", "a@b"}}, NULL},
	{IN("a@b (folded\r\n\tcomment)"), {{NULL, "a@b", "a@b"}}, NULL},
	/* bare local names */
	{IN("root"), {{NULL, "root", "root"}}, NULL},
	{IN("root (Cron Daemon)"), {{NULL, "root", "root"}}, NULL},
	{IN("Root <root> (x)"), {{"Root", "root", "root"}}, NULL},
	{IN("\"john doe\""), {{NULL, "\"john doe\"", "\"john doe\""}}, NULL},
	{IN("root, a@b"), {{NULL, "root", "root"}, {NULL, "a@b", "a@b"}}, NULL},
	/* empty elements */
	{IN("a@x,,b@y,"), {{NULL, "a@x", "a@x"}, {NULL, "b@y", "b@y"}}, NULL},
	{IN(",, ,a@x"), {{NULL, "a@x", "a@x"}}, NULL},
	{IN(","), {{0}}, NULL},
	/* null address, domain literals, routes, UTF-8 */
	{IN("<>"), {{NULL, "", ""}}, NULL},
	{IN("Nobody <>"), {{"Nobody", "", ""}}, NULL},
	{IN("a@[127.0.0.1]"), {{NULL, "a@[127.0.0.1]", "a@[127.0.0.1]"}}, NULL},
	{IN("a@[ 127.0.0.1 ]"), {{NULL, "a@[127.0.0.1]", "a@[ 127.0.0.1 ]"}}, NULL},
	{IN("a@[IPv6:::1]"), {{NULL, "a@[IPv6:::1]", "a@[IPv6:::1]"}}, NULL},
	{IN("<@route:a@b>"), {{NULL, "a@b", "a@b"}}, NULL},
	{IN("X <@r1,@r2.example : a@b>"), {{"X", "a@b", "a@b"}}, NULL},
	{IN("jöhn@exämple.org"), {{NULL, "jöhn@exämple.org", "jöhn@exämple.org"}}, NULL},
	{IN("δοκιμή@παράδειγμα.δοκιμή"), {{NULL, "δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@παράδειγμα.δοκιμή"}}, NULL},
	/* errors, some after good mailboxes */
	{IN("a@b, <c@d"), {{NULL, "a@b", "a@b"}}, "missing '>'"},
	{IN("\"abc@x"), {{0}}, "unbalanced '\"'"},
	{IN("<a@b"), {{0}}, "missing '>'"},
	{IN("<a"), {{0}}, "missing '>'"},
	{IN("a@b>"), {{0}}, "unexpected '>' after the address"},
	{IN("(abc a@b"), {{0}}, "unbalanced '('"},
	{IN("a@b (x (y)"), {{0}}, "unbalanced '('"},
	{IN("a@b)"), {{0}}, "unbalanced ')'"},
	{IN("a@[1.2.3.4"), {{0}}, "unbalanced '['"},
	{IN("a@b]"), {{0}}, "unexpected ']'"},
	{IN("a@"), {{0}}, "missing domain"},
	{IN("a@ (c)"), {{0}}, "missing domain"},
	{IN("@b"), {{0}}, "missing local part"},
	{IN("a@@b"), {{0}}, "missing domain"},
	{IN("a@b@c"), {{0}}, "unexpected '@' after the address"},
	{IN("a@x\nb@y"), {{0}}, "line break not followed by white space"},
	{IN("a@x,\rb@y"), {{NULL, "a@x", "a@x"}}, "line break not followed by white space"},
	{IN("a@x,\r b@y"), {{NULL, "a@x", "a@x"}}, "line break not followed by white space"},
	{IN("a@x\r\n"), {{0}}, "line break not followed by white space"},
	{IN("\"a\nb\"@x"), {{0}}, "line break not followed by white space in a quoted string"},
	{IN("a@b (x\ny)"), {{0}}, "line break not followed by white space in a comment"},
	{IN("a\0@b"), {{0}}, "NUL byte"},
	{IN("\"a\0\"@b"), {{0}}, "NUL byte in a quoted string"},
	{IN("(a\0) a@b"), {{0}}, "NUL byte in a comment"},
	{IN("a@b\x01"), {{0}}, "control character 0x01"},
	{IN("a\x7f@b"), {{0}}, "control character 0x7f"},
	{IN("a@b\x1b[31m"), {{0}}, "control character 0x1b"},
	{IN("a b@c"), {{0}}, "unquoted space in the local part"},
	{IN("\"a\"b@c"), {{0}}, "unquoted space in the local part"},
	{IN("John Doe"), {{0}}, "a name without an address"},
	{IN("<a@b> x"), {{0}}, "unexpected 'x' after the address"},
	{IN("<a@b> <c@d>"), {{0}}, "unexpected '<' after the address"},
	{IN("a@b \"x\""), {{0}}, "unexpected '\"' after the address"},
	{IN("<a@b c>"), {{0}}, "unexpected 'c' in an angle address"},
	{IN("a..b@c"), {{0}}, "misplaced '.' in the local part"},
	{IN(".a@c"), {{0}}, "misplaced '.' in the local part"},
	{IN("a.@c"), {{0}}, "misplaced '.' in the local part"},
	{IN("."), {{0}}, "misplaced '.' in the local part"},
	{IN("a@b..c"), {{0}}, "misplaced '.' in the domain"},
	{IN("a@.b"), {{0}}, "misplaced '.' in the domain"},
	{IN("a@b."), {{0}}, "misplaced '.' in the domain"},
	{IN("a@[]"), {{0}}, "empty domain literal"},
	{IN("a@[1.2\\.3]"), {{0}}, "unexpected '\\' in a domain literal"},
	{IN("a@[1[2]"), {{0}}, "unexpected '[' in a domain literal"},
	{IN("\\a@b"), {{0}}, "unexpected '\\'"},
	{IN("<@route a@b>"), {{0}}, "missing ':' after the route"},
	{IN("g: a@b"), {{0}}, "group not closed with ';'"},
	{IN("g: a@b,"), {{0}}, "group not closed with ';'"},
	{IN("g:"), {{0}}, "group not closed with ';'"},
	{IN("g: h: a@b;;"), {{0}}, "a group inside a group"},
	{IN("g: a@b, h: c@d;"), {{0}}, "a group inside a group"},
	{IN(": a@b;"), {{0}}, "a group without a name"},
	{IN("g: a@b; h@i"), {{0}}, "unexpected 'h' after a group"},
	{IN("a@b; c@d"), {{0}}, "unexpected 'c' after a group"},
};

static char *span(const char *begin, const char *end)
{
	return begin && end && begin <= end ? xstrndup(begin, (size_t)(end - begin)) : NULL;
}

/* Test names must stay on one TAP line: control bytes are shown as \xNN. */
static void label_of(const char *s, size_t n, char *out, size_t size)
{
	size_t used = 0;
	for (size_t i = 0; i < n && used + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			used += (size_t)snprintf(out + used, size - used, "\\x%02x", c);
		else
			out[used++] = (char)c;
	}
	out[used] = '\0';
}

static void test_list(const struct list_case *c)
{
	const char *pos = c->input, *end = c->input + c->len;
	size_t i = 0;
	int rc;
	char label[200];

	label_of(c->input, c->len, label, sizeof label);

	for (;;) {
		struct mailbox mb;
		struct diag d = {0};
		const char *before = pos;
		rc = addr_next(&pos, end, &mb, &d);
		if (rc <= 0) {
			if (c->error) {
				is_int(rc, -1, "[%s] ends with an error", label);
				ok(d.code == EX_DATAERR && strncmp(d.msg, "bad address syntax: ", 20) == 0 &&
					   strstr(d.msg, c->error),
				   "[%s] error says \"%s\" (got \"%s\")", label, c->error, d.msg);
				is_int(pos - before, 0, "[%s] the cursor stays where the error is", label);
			} else {
				is_int(rc, 0, "[%s] ends cleanly%s%s", label, d.code ? ": " : "", d.msg);
				ok(pos == end, "[%s] the cursor is at the end", label);
			}
			break;
		}
		const struct want *w = i < MAX_MAILBOXES ? &c->mailboxes[i] : NULL;
		if (!w || !w->addr) {
			ok(0, "[%s] unexpected mailbox %zu: %s", label, i, mb.addr);
			mailbox_clear(&mb);
			break;
		}
		char *src = span(mb.src_begin, mb.src_end);
		ok(pos > before && pos <= end, "[%s] #%zu: the cursor advances within the input", label, i);
		ok(mb.src_begin >= before && mb.src_end <= pos, "[%s] #%zu: the source span lies in what was consumed",
		   label, i);
		is_str(mb.name, w->name, "[%s] #%zu: name", label, i);
		is_str(mb.addr, w->addr, "[%s] #%zu: addr", label, i);
		is_str(src, w->src, "[%s] #%zu: source text", label, i);
		free(src);
		mailbox_clear(&mb);
		ok(!mb.name && !mb.addr, "[%s] #%zu: mailbox_clear zeroes it", label, i);
		i++;
	}
	size_t wanted = 0;
	while (wanted < MAX_MAILBOXES && c->mailboxes[wanted].addr)
		wanted++;
	is_int(i, wanted, "[%s] yields %zu mailboxes", label, wanted);
}

struct one_case {
	const char *input;
	const char *name;
	const char *addr;
	const char *src;
	const char *error;	/* NULL when it must parse */
};

static const struct one_case one_cases[] = {
	{"", NULL, "", "", NULL},
	{"  ", NULL, "", "", NULL},
	{"<>", NULL, "", "", NULL},
	{" <> (bounce)", NULL, "", "", NULL},
	{"root", NULL, "root", "root", NULL},
	{"root (Cron Daemon)", NULL, "root", "root", NULL},
	{"a@b", NULL, "a@b", "a@b", NULL},
	{"Joe Q. <joe@x>", "Joe Q.", "joe@x", "joe@x", NULL},
	{"\"joe\"@x", NULL, "joe@x", "\"joe\"@x", NULL},
	{"Root <root> (x)", "Root", "root", "root", NULL},
	{"a@b, c@d", NULL, NULL, NULL, "unexpected ',' after the address"},
	{"a@b,", NULL, NULL, NULL, "unexpected ',' after the address"},
	{",", NULL, NULL, NULL, "unexpected ',' where one address was expected"},
	{";", NULL, NULL, NULL, "unexpected ';' where one address was expected"},
	{"g: a@b;", NULL, NULL, NULL, "a group where one address was expected"},
	{"a@b;", NULL, NULL, NULL, "unexpected ';' after the address"},
	{"a b@c", NULL, NULL, NULL, "unquoted space in the local part"},
	{"<a@b", NULL, NULL, NULL, "missing '>'"},
	{"(x", NULL, NULL, NULL, "unbalanced '('"},
	{"a@b\r\n", NULL, NULL, NULL, "line break not followed by white space"},
};

static void test_one(const struct one_case *c)
{
	struct mailbox mb;
	struct diag d = {0};
	int rc = addr_parse_one(c->input, &mb, &d);
	char label[200];

	label_of(c->input, strlen(c->input), label, sizeof label);

	if (c->error) {
		is_int(rc, EX_DATAERR, "parse_one [%s] fails", label);
		ok(strstr(d.msg, c->error) != NULL, "parse_one [%s] says \"%s\" (got \"%s\")", label, c->error,
		   d.msg);
		ok(!mb.name && !mb.addr, "parse_one [%s] leaves nothing to free", label);
		return;
	}
	is_int(rc, EX_OK, "parse_one [%s] parses%s%s", label, d.code ? ": " : "", d.msg);
	is_str(mb.name, c->name, "parse_one [%s]: name", label);
	is_str(mb.addr, c->addr, "parse_one [%s]: addr", label);
	char *src = span(mb.src_begin, mb.src_end);
	is_str(src, c->src, "parse_one [%s]: source text", label);
	ok(mb.src_begin >= c->input && mb.src_end <= c->input + strlen(c->input),
	   "parse_one [%s]: source span inside the text", label);
	free(src);
	mailbox_clear(&mb);
}

struct envelope_case {
	const char *addr;
	const char *error;	/* NULL when it must be accepted */
};

static const struct envelope_case envelope_cases[] = {
	{"a@b", NULL},
	{"\"john doe\"@x", NULL},
	{"\"a\\\"b\"@x", NULL},
	{"\"<a>\"@x", NULL},
	{"a@[127.0.0.1]", NULL},
	{"a@[IPv6:::1]", NULL},
	{"user+tag@sub.example.org", NULL},
	{"first.last@b-c.example", NULL},
	{"jöhn@exämple.org", NULL},
	{"x\r\nRSET", "control character"},
	{"a@b\r\nRCPT TO:<evil@x>", "control character"},
	{"a@b\n", "control character"},
	{"a\t@b", "control character"},
	{"a@b\x01", "control character"},
	{"a@b>", "forbidden character in the domain"},
	{"<a@b", "forbidden character in the local part"},
	{"a b@c", "unquoted space in the local part"},
	{"a@b c", "space in the domain"},
	{"a@b .c", "space in the domain"},
	{"a@b. c", "space in the domain"},
	{"", "empty address"},
	{"@b", "empty local part"},
	{"a@", "empty domain"},
	{"root", "no domain"},
	{"\"a@b\"", "no domain"},
	{"a@b@c", "forbidden character in the domain"},
	{"\"a\"b@c", "forbidden character after the quoted local part"},
	{"\"a@b", "unbalanced '\"'"},
	{"a..b@c", "misplaced '.'"},
	{".a@c", "misplaced '.'"},
	{"a.@c", "misplaced '.'"},
	{"a@b..c", "empty label"},
	{"a@b.", "empty label"},
	{"a@.b", "empty label"},
	{"a@-b", "starting or ending with '-'"},
	{"a@b-", "starting or ending with '-'"},
	{"a@[1.2.3.4", "bad domain literal"},
	{"a@[]", "bad domain literal"},
	{"a@[1 2]", "forbidden character in the domain literal"},
	{"a@b!c", "forbidden character in the domain"},
	{"a@[1>]", "forbidden character in the domain literal"},
	{"a@[<1]", "forbidden character in the domain literal"},
};

static void test_envelope(const char *addr, const char *error, const char *name)
{
	struct diag d = {0};
	int rc = addr_check_envelope(addr, &d);
	char label[200];

	label_of(name, strlen(name), label, sizeof label);

	if (!error) {
		is_int(rc, EX_OK, "envelope accepts %s%s%s", label, d.code ? ": " : "", d.msg);
		return;
	}
	is_int(rc, EX_DATAERR, "envelope refuses %s", label);
	ok(strstr(d.msg, error) != NULL, "envelope refusal of %s says \"%s\" (got \"%s\")", label, error, d.msg);
	ok(strchr(d.msg, '\r') == NULL && strchr(d.msg, '\n') == NULL && strchr(d.msg, '\x01') == NULL,
	   "envelope refusal of %s shows the address escaped", label);
}

static char *repeat(char c, size_t n, const char *suffix)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++)
		buf_putc(&b, c);
	buf_puts(&b, suffix);
	return buf_steal(&b);
}

/* A domain of exactly n octets made of 63-octet labels (and a shorter last one). */
static char *domain_of(size_t n)
{
	struct buf b = {0};
	while (b.len < n) {
		if (b.len)
			buf_putc(&b, '.');
		size_t left = n - b.len;
		for (size_t i = 0; i < 63 && i < left; i++)
			buf_putc(&b, 'd');
	}
	return buf_steal(&b);
}

static void test_envelope_lengths(void)
{
	const char *too_long = "longer than 254 octets, the most an SMTP path holds";
	char *huge = repeat('a', 64 * 1024, "@b");
	test_envelope(huge, too_long, "a 64 KiB address");
	free(huge);

	/* a local part over RFC 5321's 64 octets (VERP, SRS) passes; the 256-octet path is kept */
	char *local65 = repeat('a', 65, "@b");
	char *local252 = repeat('a', 252, "@b");
	char *local253 = repeat('a', 253, "@b");
	test_envelope(local65, NULL, "a local part of 65 octets");
	test_envelope(local252, NULL, "an address of 254 octets");
	test_envelope(local253, too_long, "an address of 255 octets");
	free(local65);
	free(local252);
	free(local253);

	char *quoted = repeat('q', 253, "\"@b");
	quoted[0] = '"';
	test_envelope(quoted, too_long, "a quoted local part of 254 octets, 256 in all");
	free(quoted);

	char *d252 = domain_of(252), *d255 = domain_of(255), *d256 = domain_of(256);
	char *a252 = xasprintf("a@%s", d252), *a255 = xasprintf("a@%s", d255);
	char *a256 = xasprintf("a@%s", d256);
	is_int(strlen(d255), 255, "the long domain has 255 octets");
	test_envelope(a252, NULL, "a domain of 252 octets, 254 in all");
	test_envelope(a255, too_long, "a domain of 255 octets, 257 in all");
	test_envelope(a256, "domain longer than 255 octets", "a domain of 256 octets");
	free(d252);
	free(d255);
	free(d256);
	free(a252);
	free(a255);
	free(a256);

	char *label64 = repeat('l', 64, ".example");
	char *a64 = xasprintf("a@%s", label64);
	test_envelope(a64, "domain label longer than 63 octets", "a label of 64 octets");
	free(label64);
	free(a64);
}

static void test_helpers(void)
{
	static const struct {
		const char *addr;
		bool bare;
		const char *qualified;	/* with "example.org" */
		const char *key;
	} cases[] = {
		{"root", true, "root@example.org", "root"},
		{"Root", true, "Root@example.org", "Root"},
		{"a@b", false, "a@b", "a@b"},
		{"", false, "", ""},
		{"\"a@b\"", true, "\"a@b\"@example.org", "\"a@b\""},
		{"\"A@B\"@X.Y", false, "\"A@B\"@X.Y", "\"A@B\"@x.y"},
		{"John.Doe@Example.ORG", false, "John.Doe@Example.ORG", "John.Doe@example.org"},
		{"a@[IPv6:ABCD::1]", false, "a@[IPv6:ABCD::1]", "a@[ipv6:abcd::1]"},
		{"Ö@ÄB.de", false, "Ö@ÄB.de", "Ö@Äb.de"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *q = addr_qualify(cases[i].addr, "example.org");
		char *k = addr_dedup_key(cases[i].addr);
		is_int(addr_is_bare(cases[i].addr), cases[i].bare, "addr_is_bare [%s]", cases[i].addr);
		is_str(q, cases[i].qualified, "addr_qualify [%s]", cases[i].addr);
		is_str(k, cases[i].key, "addr_dedup_key [%s]", cases[i].addr);
		free(q);
		free(k);
	}
}

/* Which envelope addresses need SMTPUTF8, with and without a converter of domains to A-labels. */
static void test_needs_smtputf8(void)
{
	static const struct {
		const char *addr;
		bool plain, converted;	/* the answer with domain_to_alabel false, true */
	} cases[] = {
		{"a@example.org", false, false},
		{"", false, false},
		{"root", false, false},
		{"j\xc3\xb6ran@example.org", true, true},
		{"j\xc3\xb6ran", true, true},
		{"\"j\xc3\xb6 @x\"@example.org", true, true},
		{"\"a@\xc3\xb6\"@example.org", true, true},	/* the '@' inside the quotes is no domain */
		{"u@b\xc3\xbc" "cher.example", true, false},
		{"u@xn--bcher-kva.example", false, false},
		{"u@b\xfc" "cher.example", true, true},	/* Latin-1, not UTF-8: no A-label */
		{"u@b\xc3", true, true},		/* a cut sequence */
		{"u@[192.0.2.1]", false, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		is_int(addr_needs_smtputf8(cases[i].addr, false), cases[i].plain,
		       "addr_needs_smtputf8 [%s] without A-labels", cases[i].addr);
		is_int(addr_needs_smtputf8(cases[i].addr, true), cases[i].converted,
		       "addr_needs_smtputf8 [%s] with A-labels", cases[i].addr);
	}
}

/* A list can be walked in pieces: the cursor left after one call is all the next one needs. */
static void test_cursor_resumes(void)
{
	static const char text[] = "a@x, g: b@y, c@z;, d@w";
	const char *pos = text, *end = text + sizeof text - 1;
	const char *want[] = {"b@y", "c@z", "d@w"};
	struct mailbox mb;
	struct diag d = {0};

	is_int(addr_next(&pos, end, &mb, &d), 1, "resume: first mailbox");
	is_str(mb.addr, "a@x", "resume: a@x");
	mailbox_clear(&mb);
	for (size_t i = 0; i < 3; i++) {
		/* a fresh copy of the rest: nothing may depend on the earlier calls */
		char *rest = xstrdup(pos);
		const char *p = rest;
		is_int(addr_next(&p, rest + strlen(rest), &mb, &d), 1, "resume: mailbox %zu", i + 2);
		is_str(mb.addr, want[i], "resume: %s", want[i]);
		pos += p - rest;
		mailbox_clear(&mb);
		free(rest);
	}
	is_int(addr_next(&pos, end, &mb, &d), 0, "resume: then the end");
}

int main(void)
{
	for (size_t i = 0; i < sizeof list_cases / sizeof list_cases[0]; i++)
		test_list(&list_cases[i]);
	for (size_t i = 0; i < sizeof one_cases / sizeof one_cases[0]; i++)
		test_one(&one_cases[i]);
	for (size_t i = 0; i < sizeof envelope_cases / sizeof envelope_cases[0]; i++)
		test_envelope(envelope_cases[i].addr, envelope_cases[i].error, envelope_cases[i].addr);
	test_envelope_lengths();
	test_helpers();
	test_needs_smtputf8();
	test_cursor_resumes();
	return done_testing();
}
