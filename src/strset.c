/* SPDX-License-Identifier: ISC */
/* strset.c: the recipient set behind strset.h: FNV-1a over the string with the case-insensitive
 * part lowercased, linear probing, the table doubled at half full. It must never treat two
 * recipients as the same unless strset_same() does, nor keep a pointer to a caller's string. */
#include "strset.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "util.h"

#define STRSET_FIRST_CAP 64

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Where s's case-insensitive part starts, and whether s is a bare name: a bare name folds whole,
 * an address from its domain on, an address without a domain ("", the null address) not at all. */
static size_t fold_start(const char *s, bool *bare)
{
	*bare = addr_is_bare(s);
	if (*bare)
		return 0;
	const char *at = addr_domain_at(s);
	return at ? (size_t)(at - s) + 1 : strlen(s);
}

static uint64_t hash_of(const char *s, size_t fold)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a, 64 bits */
	for (size_t i = 0; s[i]; i++)
		h = (h ^ (i < fold ? (unsigned char)s[i] : lower((unsigned char)s[i]))) *
		    1099511628211ULL;
	return h;
}

/* a and b with the same fold and bareness: the same recipient? */
static bool same_folded(const char *a, const char *b, size_t fold)
{
	return memcmp(a, b, fold) == 0 && ascii_casecmp(a + fold, b + fold) == 0;
}

bool strset_same(const char *a, const char *b)
{
	bool bare_a, bare_b;
	size_t fold_a = fold_start(a, &bare_a), fold_b = fold_start(b, &bare_b);
	/* the '@' is found by quotes and backslashes, which case does not change: two strings
	 * that may be the same have it at the same place */
	return bare_a == bare_b && fold_a == fold_b && same_folded(a, b, fold_a);
}

/* The slot that holds the entry like (s, hash, fold, bare), or the free slot where it goes.
 * The table has a free slot (it is never more than half full). */
static size_t probe(const struct strset *set, const char *s, uint64_t hash, size_t fold, bool bare)
{
	size_t mask = set->cap - 1, j = (size_t)hash & mask;
	for (;; j = (j + 1) & mask) {
		const struct strset_entry *e = &set->slot[j];
		if (!e->s || (e->hash == hash && e->fold == fold && e->bare == bare &&
			      same_folded(e->s, s, fold)))
			return j;
	}
}

static void grow(struct strset *set)
{
	size_t cap = set->cap ? set->cap * 2 : STRSET_FIRST_CAP;
	struct strset_entry *slot = xcalloc(cap, sizeof *slot);
	for (size_t i = 0; i < set->cap; i++) {
		if (!set->slot[i].s)
			continue;
		size_t j = (size_t)set->slot[i].hash & (cap - 1);
		while (slot[j].s)
			j = (j + 1) & (cap - 1);
		slot[j] = set->slot[i];
	}
	free(set->slot);
	set->slot = slot;
	set->cap = cap;
}

bool strset_add(struct strset *set, const char *s)
{
	if ((set->used + 1) * 2 > set->cap)
		grow(set);
	bool bare;
	size_t fold = fold_start(s, &bare);
	uint64_t hash = hash_of(s, fold);
	struct strset_entry *e = &set->slot[probe(set, s, hash, fold, bare)];
	if (e->s)
		return false;
	*e = (struct strset_entry){ .s = xstrdup(s), .hash = hash, .fold = fold, .bare = bare };
	set->used++;
	return true;
}

bool strset_has(const struct strset *set, const char *s)
{
	if (!set->used)
		return false;
	bool bare;
	size_t fold = fold_start(s, &bare);
	return set->slot[probe(set, s, hash_of(s, fold), fold, bare)].s != NULL;
}

void strset_free(struct strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i].s);
	free(set->slot);
	*set = (struct strset){0};
}
