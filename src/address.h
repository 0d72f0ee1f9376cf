/* SPDX-License-Identifier: ISC */
/* address.h: RFC 5322 address lists (display names, quoted strings, comments, groups, angle
 * addresses, folded lines) for operands, flags and header fields alike, plus the checks an
 * address must pass before it may become an SMTP envelope string. It never allocates state
 * between calls and knows nothing of aliases or configuration. */
#ifndef POSTIE_ADDRESS_H
#define POSTIE_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* One mailbox found in an address list. */
struct mailbox {
	char *name;	/* display name, unquoted and with comments removed; NULL when none */
	char *addr;	/* the addr-spec in canonical form: CFWS removed, the local part quoted only
			 * when it is not a dot-atom ("john doe"@x keeps its quotes), domain as
			 * written; a bare local name has no '@'; "" is the null address <> */
	const char *src_begin;	/* where the addr-spec stands in the parsed text: [begin, end), */
	const char *src_end;	/* inside the angle brackets when there are any */
};

/* Scans the next mailbox of the address list in [*pos, end) and advances *pos past it and past
 * the comma that follows. Groups ("undisclosed-recipients:;", "team: a@x, b@y;") yield their
 * members one by one; an empty group yields nothing. CR LF or LF followed by white space is
 * folding (white space); any other CR, LF or NUL, or any other control byte outside a quoted
 * string or comment, is an error. Empty list elements (",,") are skipped.
 * Returns 1 and fills *mb (release it with mailbox_clear), 0 when the list holds no further
 * mailbox, or -1 with d filled (EX_DATAERR, "bad address syntax: <why>") on a syntax error. */
int addr_next(const char **pos, const char *end, struct mailbox *mb, struct diag *d);

/* Parses text (NUL-terminated) as exactly one mailbox: an addr-spec, a bare local name,
 * "Name <addr>", "<>" or "" (both give the null address, addr ""). Used for -f and the like.
 * Returns EX_OK and fills *mb, or EX_DATAERR with d filled. */
int addr_parse_one(const char *text, struct mailbox *mb, struct diag *d);

/* Releases what a mailbox owns and zeroes it. */
void mailbox_clear(struct mailbox *mb);

/* Checks that addr (canonical form, NUL-terminated) can be sent as an SMTP envelope address:
 * not empty, no CR, LF, NUL or other control byte, no space or '<' '>' outside a quoted local
 * part, a domain of at most 255 octets and the whole at most 254 (a 256-octet SMTP path), an
 * '@' with a non-empty domain made of labels (or a [literal]). libcurl 7.88 sends whatever it
 * is given, so this check is what stands between a header and SMTP command injection.
 * Returns EX_OK, or EX_DATAERR with d filled ("<addr>: <why>", the address shown escaped). */
int addr_check_envelope(const char *addr, struct diag *d);

/* The '@' between the local part and the domain of a canonical address (a quoted local part
 * may hold '@' itself), or NULL for a bare name. Points into addr. */
const char *addr_domain_at(const char *addr);

/* True when addr has no '@' (a bare local name such as "root"). */
bool addr_is_bare(const char *addr);

/* Returns a new string (caller frees): addr itself when it has a domain, else addr@domain. */
char *addr_qualify(const char *addr, const char *domain);

/* Returns a new string (caller frees): addr with its domain lowercased, the key under which two
 * envelope addresses are the same recipient (local parts stay case-sensitive, RFC 5321 2.4). */
char *addr_dedup_key(const char *addr);

/* True when addr cannot go out in an SMTP envelope without SMTPUTF8 (RFC 6531): its local part
 * holds a byte of 0x80 or up, or its domain does and will not become an A-label on the way
 * (domain_to_alabel false: nothing converts it; true: a domain that is well-formed UTF-8 is
 * converted, one that is not would be sent as it is). */
bool addr_needs_smtputf8(const char *addr, bool domain_to_alabel);

#endif
