/* SPDX-License-Identifier: ISC */
/* aliases_test.c: the aliases(5) parser and the expansion: several targets, nesting, loops,
 * default:, refused targets, continuation lines, comments, duplicates and local domains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aliases.h"
#include "tap.h"

static const char *const locals[] = { "localhost", "host.example.net" };

static const char sample[] =
	"# /etc/aliases for tests\n"
	"postmaster: root\n"
	"MAILER-DAEMON: postmaster\n"
	"root: alice, Bob Builder <bob@example.org>,\n"
	"\tcarol@localhost\n"
	"  , dave@Example.ORG\n"
	"\n"
	"   # an indented comment inside nothing\n"
	"alice: alice@mail.example.com\n"
	"carol: carol@example.org, alice\r\n"
	"loop1: loop2\n"
	"loop2: loop3, x@example.org\n"
	"loop3: loop1\n"
	"self: self, copy@example.org\n"
	"web: |/usr/bin/procmail, /var/log/web, :include:/etc/web.list, \"|/bin/sh -c x\", webmaster@example.org\n"
	"onlypipe: |/bin/cat\n"
	"team: alice, root, alice@localhost, ALICE\n"
	"deep1: deep2\n";

/* Expands addr through a and returns the result joined with ", " (static). */
static const char *expand(const struct aliases *a, const char *addr)
{
	static char joined[2048];
	struct strlist out = {0};
	struct diag d = {0};
	int rc = aliases_expand(a, addr, locals, 2, &out, &d);
	joined[0] = '\0';
	if (rc != EX_OK)
		snprintf(joined, sizeof joined, "error %d: %s", rc, d.msg);
	for (size_t i = 0; rc == EX_OK && i < out.n; i++)
		snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? ", " : "", out.v[i]);
	strlist_free(&out);
	return joined;
}

static const struct {
	const char *addr, *want;
} expansions[] = {
	{ "root", "alice@mail.example.com, bob@example.org, carol@example.org, dave@Example.ORG" },
	{ "ROOT", "alice@mail.example.com, bob@example.org, carol@example.org, dave@Example.ORG" },
	{ "root@localhost", "alice@mail.example.com, bob@example.org, carol@example.org, dave@Example.ORG" },
	{ "root@HOST.example.net", "alice@mail.example.com, bob@example.org, carol@example.org, dave@Example.ORG" },
	{ "root@example.org", "root@example.org" },
	{ "postmaster", "alice@mail.example.com, bob@example.org, carol@example.org, dave@Example.ORG" },
	{ "mailer-daemon@localhost", "alice@mail.example.com, bob@example.org, carol@example.org, dave@Example.ORG" },
	{ "nobody", "nobody" },
	{ "nobody@localhost", "nobody" },
	{ "Someone@LOCALHOST", "Someone" },
	{ "stranger@example.com", "stranger@example.com" },
	{ "loop1", "loop1, x@example.org" },
	{ "loop2", "loop2, x@example.org" },
	{ "self", "self, copy@example.org" },
	{ "web", "webmaster@example.org" },
	{ "onlypipe", "onlypipe" },
	{ "team", "alice@mail.example.com, bob@example.org, carol@example.org, dave@Example.ORG" },
	{ "deep1", "deep2" },
	{ "\"quoted name\"@localhost", "\"quoted name\"" },
};

static int parse(const char *text, struct aliases **a, struct strlist *warnings, struct diag *d)
{
	memset(d, 0, sizeof *d);
	return aliases_parse(a, "aliases", text, strlen(text), warnings, d);
}

static const struct {
	const char *text, *error;
} errors[] = {
	{ "root alice\n", "aliases:1: no ':' after the alias name" },
	{ ": alice\n", "aliases:1: '' is not an alias name" },
	{ "my name: alice\n", "aliases:1: 'my name' is not an alias name" },
	{ "root@localhost: alice\n", "aliases:1: 'root@localhost' is not an alias name" },
	{ "  alice\n", "aliases:1: a continuation line without an alias before it" },
	{ "root:\n", "aliases:1: alias 'root' has no target" },
	{ "root: ,\n  ,\n", "aliases:1: alias 'root' has no target" },
	{ "root: <>\n", "aliases:1: alias 'root': the null address <> is not a target" },
	{ "root: a,\n b c d e\n", "aliases:2: alias 'root': bad address syntax: " },
	{ "root: a\n\nx: y\nROOT: b\n", "aliases:4: alias 'ROOT' given twice (first at line 1)" },
	{ "root: a\nb: c\nroot: d\n", "aliases:3: alias 'root' given twice (first at line 1)" },
	{ "root: a\0b\n", "aliases:1: NUL byte in line" },
	{ "root: a@b@c\n", "aliases:1: alias 'root': bad address syntax: " },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
		struct aliases *a = (struct aliases *)1;
		struct strlist w = {0};
		struct diag d = {0};
		size_t len = strlen(errors[i].text);
		if (i == sizeof errors / sizeof errors[0] - 2)
			len = 10;	/* the NUL case */
		int rc = aliases_parse(&a, "aliases", errors[i].text, len, &w, &d);
		is_int(rc, EX_CONFIG, "error %zu is EX_CONFIG", i);
		ok(a == NULL, "error %zu gives no aliases", i);
		size_t n = strlen(errors[i].error);
		ok(strncmp(d.msg, errors[i].error, n) == 0, "error %zu: %s", i, errors[i].error);
		if (strncmp(d.msg, errors[i].error, n) != 0)
			tap_diag_str("got", d.msg);
		strlist_free(&w);
	}
}

static void test_sample(void)
{
	struct aliases *a = NULL;
	struct strlist w = {0};
	struct diag d;
	is_int(parse(sample, &a, &w, &d), EX_OK, "the sample parses");
	if (!a) {
		printf("#   %s\n", d.msg);
		return;
	}
	is_int(aliases_count(a), 12, "12 usable aliases (onlypipe is dropped)");
	is_int(w.n, 5, "five refused targets");
	is_str(w.n > 0 ? w.v[0] : NULL, "aliases:15: alias 'web': target '|/usr/bin/procmail' refused: postie never runs commands", "a pipe is refused");
	is_str(w.n > 1 ? w.v[1] : NULL, "aliases:15: alias 'web': target '/var/log/web' refused: postie never writes to files", "a file is refused");
	is_str(w.n > 2 ? w.v[2] : NULL, "aliases:15: alias 'web': target ':include:/etc/web.list' refused: postie does not read :include: lists", ":include: is refused");
	is_str(w.n > 3 ? w.v[3] : NULL, "aliases:15: alias 'web': target '\"|/bin/sh -c x\"' refused: postie never runs commands", "a quoted pipe is refused");
	is_str(w.n > 4 ? w.v[4] : NULL, "aliases:16: alias 'onlypipe': target '|/bin/cat' refused: postie never runs commands", "with its line");

	for (size_t i = 0; i < sizeof expansions / sizeof expansions[0]; i++)
		is_str(expand(a, expansions[i].addr), expansions[i].want, "%s", expansions[i].addr);

	/* The caller may collect several recipients in one list: duplicates are skipped. */
	struct strlist out = {0};
	aliases_expand(a, "alice", locals, 2, &out, &d);
	aliases_expand(a, "carol", locals, 2, &out, &d);
	aliases_expand(a, "nobody", locals, 2, &out, &d);
	aliases_expand(a, "NOBODY@localhost", locals, 2, &out, &d);
	aliases_expand(a, "carol@EXAMPLE.org", locals, 2, &out, &d);
	is_int(out.n, 3, "expansions into one list skip what it holds");
	is_str(out.n == 3 ? out.v[2] : NULL, "nobody", "bare names compared case-insensitively");
	strlist_free(&out);

	is_str(expand(NULL, "root@localhost"), "root", "without aliases a local address becomes bare");
	is_str(expand(NULL, "root@example.org"), "root@example.org", "and others stay");
	aliases_free(a);
	strlist_free(&w);
}

static void test_default(void)
{
	struct aliases *a = NULL;
	struct strlist w = {0};
	struct diag d;
	is_int(parse("root: admin\nDefault: catch@example.org, root\nlist: nosuch, root\n", &a, &w, &d),
	       EX_OK, "default: parses");
	is_int(aliases_count(a), 3, "and counts");
	is_str(expand(a, "someone"), "catch@example.org, admin", "default: catches an unknown name");
	is_str(expand(a, "someone@localhost"), "catch@example.org, admin", "and an unknown name @ a local domain");
	is_str(expand(a, "someone@example.org"), "someone@example.org", "but not a remote address");
	is_str(expand(a, "root"), "admin", "a name with an entry uses it");
	is_str(expand(a, "list"), "nosuch, admin", "default: does not catch an alias target");
	is_str(expand(a, "default"), "catch@example.org, admin", "default itself");
	aliases_free(a);

	is_int(parse("default: x\n", &a, &w, &d), EX_OK, "a default: to a local name");
	is_str(expand(a, "y"), "x", "reaches it");
	is_str(expand(a, "x"), "x", "and does not catch its own target again");
	aliases_free(a);
	is_int(parse("default: |/bin/cat\n", &a, &w, &d), EX_OK, "a default: with only a pipe");
	is_str(expand(a, "y"), "y", "catches nothing");
	aliases_free(a);
	strlist_free(&w);
}

static void test_depth(void)
{
	char text[4096] = "";
	for (int i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "a%d: a%d\n", i, i + 1);
	struct aliases *a = NULL;
	struct strlist w = {0};
	struct diag d;
	is_int(parse(text, &a, &w, &d), EX_OK, "a chain of 40 aliases parses");
	is_str(expand(a, "a10"), "a40", "30 levels expand");
	is_str(expand(a, "a0"), "error 78: aliases: alias 'a32' nests deeper than 32 levels", "40 levels are too deep");
	aliases_free(a);

	/* Each name is expanded once per call: a lattice stays linear. */
	text[0] = '\0';
	for (int i = 0; i < 60; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "m%d: m%d, m%d, n%d\n", i, i + 1, i + 1, i);
	is_int(parse(text, &a, &w, &d), EX_OK, "a lattice parses");
	is_str(expand(a, "m50"), "m60, n59, n58, n57, n56, n55, n54, n53, n52, n51, n50",
	       "and expands depth first, each name once");
	ok(strncmp(expand(a, "m30"), "m60, n59, n58", 13) == 0, "30 levels of two paths each: linear, not 2^30");
	ok(strncmp(expand(a, "m0"), "error", 5) == 0, "60 levels are too deep for it");
	aliases_free(a);
	strlist_free(&w);
}

/* 20,000 targets, each given again with its domain in capitals: each is kept once, in the order
 * of the file. The time it takes is bench/recipients' to measure, not a test's (the old scan of
 * the output for every target took 7.8 s of CPU for 20,000, 316 s for 150,000). */
static void test_many_targets(void)
{
	enum { N = 20000 };
	struct buf text = {0};
	buf_puts(&text, "big: ");
	for (int i = 0; i < N; i++)
		buf_printf(&text, "%su%d@example.org,\n U%d@example.org, u%d@EXAMPLE.ORG", i ? ",\n " : "",
			   i, i, i);
	buf_puts(&text, "\n");
	struct aliases *a = NULL;
	struct strlist w = {0}, out = {0};
	struct diag d = {0};
	is_int(aliases_parse(&a, "aliases", text.data, text.len, &w, &d), EX_OK,
	       "an alias of %d targets parses", 3 * N);
	is_int(aliases_expand(a, "big", locals, 2, &out, &d), EX_OK, "and expands");
	is_int(out.n, 2 * N, "to each local part once (a capital U is another recipient)");
	size_t in_order = 0;
	char want[64];
	for (size_t i = 0; i < out.n; i++) {
		snprintf(want, sizeof want, "%s%zu@example.org", i % 2 ? "U" : "u", i / 2);
		in_order += strcmp(out.v[i], want) == 0;
	}
	is_int(in_order, 2 * N, "in the order of the file, as first written");
	strlist_free(&out);
	strlist_free(&w);
	aliases_free(a);
	buf_free(&text);
}

static void test_local_name(void)
{
	char *n = aliases_local_name("root", locals, 2);
	is_str(n, "root", "a bare name is local");
	free(n);
	n = aliases_local_name("Root@LocalHost", locals, 2);
	is_str(n, "Root", "a local domain is compared case-insensitively");
	free(n);
	n = aliases_local_name("\"a@b\"@localhost", locals, 2);
	is_str(n, "\"a@b\"", "a quoted local part with '@'");
	free(n);
	ok(aliases_local_name("root@example.org", locals, 2) == NULL, "a remote address is not");
	ok(aliases_local_name("root@localhost", locals, 0) == NULL, "nor one when no domain is local");
	ok(aliases_local_name("", locals, 2) == NULL, "nor the null address");
}

static void test_load(void)
{
	struct aliases *a = (struct aliases *)1;
	struct strlist w = {0};
	struct diag d = {0};
	is_int(aliases_load(&a, "/nonexistent/aliases", &w, &d), EX_CONFIG, "a missing file");
	is_str(d.msg, "/nonexistent/aliases: No such file or directory", "is named");
	ok(a == NULL, "and gives nothing");
	is_int(aliases_load(&a, "/", &w, &d), EX_CONFIG, "a directory");
	is_str(d.msg, "/: not a regular file", "is refused");
	char path[] = "/tmp/aliases_test.XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "root: a@example.org\nx: |/bin/cat, root\n";
	ok(fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1), "a file is written");
	close(fd);
	is_int(aliases_load(&a, path, &w, &d), EX_OK, "and loads");
	is_int(aliases_count(a), 2, "with its two aliases");
	is_str(expand(a, "x"), "a@example.org", "which expand");
	is_int(w.n, 1, "and its warning");
	ok(w.n == 1 && strncmp(w.v[0], path, strlen(path)) == 0, "names the file");
	aliases_free(a);
	strlist_free(&w);
	unlink(path);
	ok(aliases_count(NULL) == 0, "NULL counts 0");
	aliases_free(NULL);
}

int main(void)
{
	test_sample();
	test_errors();
	test_default();
	test_depth();
	test_local_name();
	test_many_targets();
	test_load();
	return done_testing();
}
