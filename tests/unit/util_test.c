/* SPDX-License-Identifier: ISC */
/* util_test.c: the one escaping rule of every line postie writes (buf_put_escaped), byte by
 * byte: controls, DEL, C1 controls and malformed UTF-8 escaped; ASCII and UTF-8 names kept. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"

static const struct {
	const char *in;
	size_t len;	/* 0: strlen(in) */
	const char *want, *what;
} cases[] = {
	{ "plain text, with ' and \" and ~", 0, "plain text, with ' and \" and ~", "printable ASCII is kept" },
	{ "", 0, "", "empty" },
	{ "a\rb\nc\td", 0, "a\\rb\\nc\\td", "CR, LF and TAB by name" },
	{ "\x1b[2J\x07", 0, "\\x1b[2J\\x07", "ESC and BEL" },
	{ "\x01\x1f", 0, "\\x01\\x1f", "the ends of the C0 range" },
	{ "a\x7f" "b", 0, "a\\x7fb", "DEL" },
	{ "a\0b", 3, "a\\x00b", "a NUL inside the length" },
	{ "back\\slash \\x1b", 0, "back\\slash \\x1b", "a backslash is kept: escaping twice changes nothing" },
	{ "Zo\xc3\xab M\xc3\xbcller", 0, "Zo\xc3\xab M\xc3\xbcller", "UTF-8 names stay readable" },
	{ "\xc2\xa0\xe2\x98\x83\xf0\x9f\x93\xa7", 0, "\xc2\xa0\xe2\x98\x83\xf0\x9f\x93\xa7",
	  "U+00A0, U+2603 and U+1F4E7 are kept" },
	{ "\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf", "U+10FFFF is kept" },
	{ "\xc2\x9b" "2J", 0, "\\xc2\\x9b2J", "U+009B (CSI, a C1 control) is escaped" },
	{ "\xc2\x80\xc2\x9f", 0, "\\xc2\\x80\\xc2\\x9f", "the ends of the C1 range" },
	{ "caf\xe9", 0, "caf\\xe9", "a Latin-1 byte is not UTF-8" },
	{ "\x9b", 0, "\\x9b", "a lone continuation byte" },
	{ "\xe2\x98", 0, "\\xe2\\x98", "a sequence cut short by the end" },
	{ "\xe2\x98" "x", 0, "\\xe2\\x98x", "a sequence cut short by ASCII" },
	{ "\xc0\x9b", 0, "\\xc0\\x9b", "an overlong form of ESC" },
	{ "\xe0\x80\x9b", 0, "\\xe0\\x80\\x9b", "a three-byte overlong form" },
	{ "\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "a surrogate" },
	{ "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80", "beyond U+10FFFF" },
	{ "\xf5\x80\x80\x80", 0, "\\xf5\\x80\\x80\\x80", "a lead byte past F4" },
	{ "\xff\xfe", 0, "\\xff\\xfe", "bytes never in UTF-8" },
	{ "\xc3\xa9\xc3", 3, "\xc3\xa9\\xc3", "the length is obeyed, not the NUL" },
};

static char *escaped(const char *in, size_t len)
{
	struct buf b = {0};
	buf_put_escaped_n(&b, in, len ? len : strlen(in));
	return buf_steal(&b);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *got = escaped(cases[i].in, cases[i].len);
		is_str(got, cases[i].want, "%s", cases[i].what);
		free(got);
	}

	struct buf b = {0};
	buf_puts(&b, "key '");
	buf_put_escaped(&b, "a\x1b" "b");
	buf_putc(&b, '\'');
	is_str(b.data, "key 'a\\x1bb'", "buf_put_escaped appends a NUL-terminated string");
	buf_free(&b);

	buf_printf(&b, "%s=%d", "n", 42);
	buf_printf(&b, ", %s", "more");
	is_str(b.data, "n=42, more", "buf_printf appends, through buf_vprintf");
	is_int(b.len, 10, "and counts what it appended");
	buf_free(&b);
	return done_testing();
}
