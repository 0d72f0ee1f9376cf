/* SPDX-License-Identifier: ISC */
/* aliases.h: an aliases(5) file -> the expansion of local names, recursive, in file order,
 * without duplicates and with loops stopped. It never runs a command, never writes a file and
 * never prints: refused targets come back as warnings for the caller to log. */
#ifndef POSTIE_ALIASES_H
#define POSTIE_ALIASES_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define ALIASES_MAX_DEPTH 32	/* nesting levels before expansion gives up */

struct aliases;

/* Parses the text of an aliases file; name is used in messages. The format:
 *   name: target, target      a name, a colon, an address list (full addresses or bare names)
 *     target                  a line that begins with white space continues the entry
 *   # comment                 a line whose first non-blank is '#'; blank lines are ignored
 *   default: target           the catch-all for a local name that has no entry of its own
 * Names are compared case-insensitively; a name given twice is an error. A `|command`,
 * `/file` or `:include:file` target is refused: a warning "name:line: alias 'x': target 'T'
 * refused: ..." is appended to warnings (the caller owns the list and prints it through
 * log_warn) and the target is dropped; an entry left with no target is dropped too, so the name
 * stays an ordinary local name.
 * Returns EX_OK and *out (release it with aliases_free), or EX_CONFIG with d saying
 * "name:line: what is wrong" and *out NULL. */
int aliases_parse(struct aliases **out, const char *name, const char *text, size_t len,
		  struct strlist *warnings, struct diag *d);

/* Reads path (a regular file, at most 4 MiB) and parses it as aliases_parse does.
 * Errors: EX_CONFIG ("path: <errno text>", "path: not a regular file", or a parse error). */
int aliases_load(struct aliases **out, const char *path, struct strlist *warnings,
		 struct diag *d);

/* Releases a; NULL is fine. */
void aliases_free(struct aliases *a);

/* The number of entries (default: included), for newaliases-style reports. */
size_t aliases_count(const struct aliases *a);

/* If addr (a canonical addr-spec as address.h gives it) is a local name -- bare, or @ one of
 * local_domains (compared case-insensitively) -- returns its local part as a new string (the
 * caller frees), else NULL. */
char *aliases_local_name(const char *addr, const char *const *local_domains, size_t nlocal);

/* Expands addr and appends the result to out (the caller owns it), skipping what out already
 * holds (bare names compared case-insensitively, addresses by addr_dedup_key). An address that
 * is not local is appended unchanged. A local name is replaced by its entry's targets, each
 * expanded the same way, in the order of the file; one without an entry is replaced by
 * default:'s targets when addr itself is that name (default: never catches the targets of
 * another alias, nor its own), and otherwise appended bare, for the caller to qualify with its
 * domain. A name met again inside its own expansion (a loop) is appended bare instead of being
 * expanded again; each name is expanded once per call. a may be NULL (no aliases file): then
 * only the local-domain rule applies.
 * Errors: EX_CONFIG "file: alias 'x' nests deeper than 32 levels". */
int aliases_expand(const struct aliases *a, const char *addr, const char *const *local_domains,
		   size_t nlocal, struct strlist *out, struct diag *d);

#endif
