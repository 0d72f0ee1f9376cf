/* SPDX-License-Identifier: ISC */
/* linescan.h: finds, in a block of message body, how far it is made of lines that need no change
 * on their way to the wire: the bulk reader's test, done 64 bytes at a time with the vector unit
 * the CPU has (chosen at run time), so that the common case costs a fraction of an instruction a
 * byte. It knows only bytes: no state outlives a call, nothing is read or written. */
#ifndef POSTIE_LINESCAN_H
#define POSTIE_LINESCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The longest line postie sends as it is, without its CRLF (RFC 5322 2.1.1); message.c cuts
 * longer ones. */
#define LINESCAN_LINE_MAX 998

/* The length of the longest prefix of [p, p + n) that is whole CRLF lines, each of at most
 * LINESCAN_LINE_MAX bytes before its CRLF, with no other CR or LF in it, and, unless
 * lone_dot_ok, none of them a lone ".". p must be at the start of a line. The prefix ends just
 * after an LF, or is 0. It may stop short of the longest such prefix by up to 127 bytes (the
 * block it cannot vouch for, and a tail under a block): the caller takes those lines its own
 * way, so the answer is never too long, only sometimes short. */
size_t linescan_crlf_run(const char *p, size_t n, bool lone_dot_ok);

/* The same for LF lines, which need a CR each: converts the longest prefix of [p, p + n) that is
 * whole lines ended by a bare LF, each of at most LINESCAN_LINE_MAX bytes before it, with no CR
 * anywhere and, unless lone_dot_ok, none a lone ".", into the same lines ended by CRLF in out,
 * which has room bytes; it stops before a line that does not fit. *taken is what it took of p
 * (0 or just after an LF); returns the bytes written. Bytes of out past those may be written
 * too (the head of a line not taken). It may stop short as linescan_crlf_run does. p must be at
 * the start of a line. */
size_t linescan_lf_to_crlf(const char *p, size_t n, bool lone_dot_ok, char *out, size_t room,
			   size_t *taken);

/* The same test byte by byte: the reference the vector code is checked against (unit test and
 * fuzz target), and the fallback where no vector code is built. Returns the longest prefix. */
size_t linescan_crlf_run_bytewise(const char *p, size_t n, bool lone_dot_ok);

/* Which implementation linescan_crlf_run uses on this CPU: "avx2", "sse2" or "portable". */
const char *linescan_impl(void);

/* For tests: use the named implementation from now on ("avx2" only where the CPU has it).
 * Returns false, changing nothing, for a name it cannot use. */
bool linescan_force(const char *impl);

/* The first CR or LF in [p, e), or e. */
const char *linescan_line_break(const char *p, const char *e);

#endif
