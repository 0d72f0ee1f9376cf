/* SPDX-License-Identifier: ISC */
/* strset.h: a set of recipients under the envelope's rule of sameness, in linear time (an
 * open-addressing hash table). It owns copies of its strings; it never parses or checks one. */
#ifndef POSTIE_STRSET_H
#define POSTIE_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One stored string, its hash and where its case-insensitive part starts. */
struct strset_entry {
	char *s;		/* NULL: a free slot */
	uint64_t hash;
	size_t fold;		/* s[0, fold) compares exactly, s[fold..] ASCII case-insensitively */
	bool bare;
};

/* Zero-initialise it (struct strset set = {0}); strset_free releases it and leaves it empty. */
struct strset {
	struct strset_entry *slot;
	size_t cap;		/* 0 or a power of two, at least twice used */
	size_t used;
};

/* True when a and b (canonical addresses or bare names, NUL-terminated) name the same
 * recipient: two bare names (no '@' outside a quoted local part, addr_is_bare) compared ASCII
 * case-insensitively; two addresses with their local parts byte for byte (RFC 5321 2.4) and their
 * domains ASCII case-insensitively (addr_dedup_key); a bare name and an address never. */
bool strset_same(const char *a, const char *b);

/* Adds a copy of s unless the set holds a string strset_same() as s. Returns true when s was
 * new. The cost does not grow with the size of the set. */
bool strset_add(struct strset *set, const char *s);

/* True when the set holds a string strset_same() as s. */
bool strset_has(const struct strset *set, const char *s);

/* Releases every copy and the table. */
void strset_free(struct strset *set);

#endif
