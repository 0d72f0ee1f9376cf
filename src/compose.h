/* SPDX-License-Identifier: ISC */
/* compose.h: the body of a message composed by the mail -s front end: stdin read whole into a
 * bounded store (so its MIME labels are known before the header is written), the attachments
 * opened and typed, and the body streamed out, quoted-printable or base64 where needed. It
 * never holds more than the store's memory limit and one chunk; it writes no header field but
 * its own MIME ones. */
#ifndef POSTIE_COMPOSE_H
#define POSTIE_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "header.h"
#include "lineio.h"
#include "util.h"

#define COMPOSE_MEMORY_LIMIT (256 * 1024)

struct composer;

/* Opens every attachment first (a missing or unreadable file, or a directory: EX_NOINPUT
 * naming it, before any input is read), then reads the text body from in until its end (or a
 * lone "." line unless ignore_dots) into memory that spills to an unlinked file in $TMPDIR.
 * Text that is not UTF-8 is labelled legacy_charset (the locale's, or "unknown-8bit"; NULL:
 * utf-8 all the same); the string must outlive the composer.
 * Returns EX_OK with *out (free with composer_free), or EX_NOINPUT, EX_IOERR, EX_CANTCREAT with d. */
int composer_open(struct composer **out, struct lineio *in, bool ignore_dots,
		  const struct strlist *attachments, const char *legacy_charset, struct diag *d);

/* Appends the MIME fields of the message to h: MIME-Version, and Content-Type and
 * Content-Transfer-Encoding of the text (charset utf-8 with 8-bit bytes that are UTF-8,
 * legacy_charset with others, else us-ascii;
 * quoted-printable for a line over 998 octets or text that is not UTF-8, else 8bit or 7bit),
 * or multipart/mixed with its boundary when there are attachments. */
void composer_header_fields(struct composer *c, struct header *h);

/* The body as it goes on the wire (CRLF lines): returns the count, 0 at the end, -1 with d. */
ssize_t composer_read(struct composer *c, char *buf, size_t n, struct diag *d);

/* About how many bytes composer_read will give (for a progress line). */
unsigned long long composer_size_estimate(const struct composer *c);

void composer_free(struct composer *c);

#endif
