/* SPDX-License-Identifier: ISC */
/* strset_test.c: the recipient set: its rule of sameness (the one aliases.c and the envelope
 * used before it, bare names caseless, addresses by local part exactly and domain caseless),
 * growth far past its first table, slots shared by colliding hashes, and copies it owns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "strset.h"
#include "tap.h"

/* The rule as aliases.c's scan of its output applied it before strset existed. */
static bool same_by_old_rule(const char *a, const char *b)
{
	if (addr_is_bare(a) != addr_is_bare(b))
		return false;
	if (addr_is_bare(a))
		return ascii_casecmp(a, b) == 0;
	char *ka = addr_dedup_key(a), *kb = addr_dedup_key(b);
	bool same = strcmp(ka, kb) == 0;
	free(ka);
	free(kb);
	return same;
}

static const struct {
	const char *a, *b;
	bool same;
	const char *why;
} pairs[] = {
	{ "root", "root", true, "a bare name is itself" },
	{ "root", "ROOT", true, "bare names compare without case" },
	{ "Post.Master", "post.master", true, "every letter of a bare name" },
	{ "root", "root@example.org", false, "a bare name is not an address" },
	{ "root", "roots", false, "a longer bare name is another" },
	{ "a@example.org", "a@example.org", true, "an address is itself" },
	{ "a@example.org", "a@EXAMPLE.Org", true, "the domain compares without case" },
	{ "a@example.org", "A@example.org", false, "the local part keeps its case (RFC 5321 2.4)" },
	{ "Ab@x.y", "aB@X.Y", false, "even with the domain's case changed too" },
	{ "a@example.org", "a@example.org.", false, "another domain" },
	{ "a@b@C", "a@b@c", true, "only the first '@' starts the domain" },
	{ "A@b@c", "a@b@c", false, "and what is before it is the local part" },
	{ "\"A@B\"@x.org", "\"A@B\"@X.ORG", true, "a quoted '@' is the local part's" },
	{ "\"A@B\"@x.org", "\"a@b\"@x.org", false, "and keeps its case" },
	{ "\"A@B\"", "\"a@b\"", true, "a quoted bare name is bare: caseless" },
	{ "\"a@b\"", "a@b", false, "quotes are part of the name" },
	{ "\"a\\\"@B\"@c", "\"a\\\"@b\"@C", false, "an escaped quote does not end the quoted part" },
	{ "\"a\\\"@b\"@c", "\"a\\\"@b\"@C", true, "and the domain after it compares caseless" },
	{ "", "", true, "the null address is itself" },
	{ "", "a", false, "and no bare name" },
	{ "@x", "@X", true, "an empty local part, the domain caseless" },
	{ "a@", "a@", true, "an empty domain" },
	{ "\xc3\xa9@x", "\xc3\x89@x", false, "no case outside ASCII in the local part" },
	{ "a@\xc3\xa9.fr", "a@\xc3\x89.fr", false, "nor in the domain" },
	{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9T\xc3\xa9", true, "ASCII case in a UTF-8 bare name" },
};
#define NPAIRS (sizeof pairs / sizeof *pairs)

static void test_rule(void)
{
	for (size_t i = 0; i < NPAIRS; i++) {
		ok(strset_same(pairs[i].a, pairs[i].b) == pairs[i].same, "%s", pairs[i].why);
		ok(strset_same(pairs[i].b, pairs[i].a) == pairs[i].same, "%s (swapped)", pairs[i].why);
		ok(same_by_old_rule(pairs[i].a, pairs[i].b) == pairs[i].same,
		   "%s: the rule of the scan it replaces", pairs[i].why);
		struct strset set = {0};
		ok(strset_add(&set, pairs[i].a), "%s: the first is new", pairs[i].why);
		ok(strset_add(&set, pairs[i].b) == !pairs[i].same, "%s: the second %s", pairs[i].why,
		   pairs[i].same ? "is not added" : "is added");
		ok(strset_has(&set, pairs[i].b), "%s: and is found", pairs[i].why);
		strset_free(&set);
	}
	/* every string of the table against every other: the set agrees with the old rule */
	size_t disagree = 0;
	for (size_t i = 0; i < 2 * NPAIRS; i++)
		for (size_t j = 0; j < 2 * NPAIRS; j++) {
			const char *a = i % 2 ? pairs[i / 2].b : pairs[i / 2].a;
			const char *b = j % 2 ? pairs[j / 2].b : pairs[j / 2].a;
			disagree += strset_same(a, b) != same_by_old_rule(a, b);
		}
	is_int(disagree, 0, "every pair of the table's strings: the same verdict as the old rule");
}

static void test_growth(void)
{
	enum { N = 100000 };
	struct strset set = {0};
	char s[64];
	size_t added = 0;
	for (int i = 0; i < N; i++) {
		snprintf(s, sizeof s, "u%d@Example.ORG", i);
		added += strset_add(&set, s);
	}
	is_int(added, N, "100,000 distinct addresses are each new");
	is_int(set.used, N, "and held");
	ok(set.cap >= 2 * (size_t)N && (set.cap & (set.cap - 1)) == 0,
	   "in a table at most half full, a power of two (%zu slots)", set.cap);
	size_t found = 0, again = 0, other_case = 0;
	for (int i = 0; i < N; i++) {
		snprintf(s, sizeof s, "u%d@example.org", i);
		found += strset_has(&set, s);
		again += strset_add(&set, s);
		snprintf(s, sizeof s, "U%d@example.org", i);
		other_case += strset_has(&set, s);
	}
	is_int(found, N, "every one is found after the table grew, its domain in another case");
	is_int(again, 0, "and none is added twice");
	is_int(other_case, 0, "a local part in another case is another recipient");
	strset_free(&set);
	ok(set.used == 0 && set.cap == 0 && !set.slot, "strset_free leaves it empty");
	ok(!strset_has(&set, "u1@example.org"), "and an empty set holds nothing");
	ok(strset_add(&set, "u1@example.org"), "and can be used again");
	strset_free(&set);
}

static void test_collisions(void)
{
	/* 32 strings in the first table of 64 (half full, the most it holds): many share a first
	 * slot and probe on; each must be found where its probe ends, and a lookup of a missing
	 * one must stop at a free slot */
	struct strset set = {0};
	char s[32];
	for (int i = 0; i < 32; i++) {
		snprintf(s, sizeof s, "%c@x", 'a' + i % 26);
		if (i >= 26)
			snprintf(s, sizeof s, "n%d", i);
		strset_add(&set, s);
	}
	is_int(set.cap, 64, "32 entries keep the first table");
	size_t home_shared = 0;
	for (size_t i = 0; i < set.cap; i++)
		if (set.slot[i].s && (set.slot[i].hash & (set.cap - 1)) != i)
			home_shared++;
	ok(home_shared > 0, "some entries sit past their first slot (%zu of 32)", home_shared);
	size_t found = 0;
	for (int i = 0; i < 26; i++) {
		snprintf(s, sizeof s, "%c@X", 'a' + i);
		found += strset_has(&set, s);
	}
	for (int i = 26; i < 32; i++) {
		snprintf(s, sizeof s, "N%d", i);
		found += strset_has(&set, s);
	}
	is_int(found, 32, "each is found by its equivalent, past the others in its way");
	ok(!strset_has(&set, "A@x") && !strset_has(&set, "n32") && !strset_has(&set, "a"),
	   "what is not there is not found");
	/* the 33rd entry doubles the table: the probes are rebuilt */
	ok(strset_add(&set, "n32"), "a 33rd entry");
	is_int(set.cap, 128, "doubles the table");
	ok(strset_has(&set, "z@X") && strset_has(&set, "N26") && strset_has(&set, "N31") &&
	   strset_has(&set, "n32"),
	   "and the old entries are still found");
	strset_free(&set);
}

static void test_owns_copies(void)
{
	struct strset set = {0};
	char s[] = "x@example.org";
	strset_add(&set, s);
	s[0] = 'y';
	ok(strset_has(&set, "x@example.org"), "the set keeps its own copy");
	ok(!strset_has(&set, s), "not the caller's string");
	strset_free(&set);
}

int main(void)
{
	test_rule();
	test_growth();
	test_collisions();
	test_owns_copies();
	return done_testing();
}
