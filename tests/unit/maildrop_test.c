/* SPDX-License-Identifier: ISC */
/* maildrop_test.c: the envelope block of a maildrop entry, what root's pickup trusts least:
 * every key, and every way a user could write one wrong, refused with its reason. */
#include <stdlib.h>
#include <string.h>

#include "maildrop.h"
#include "tap.h"

#define HEAD "postie-maildrop 1\n"

static const struct {
	const char *in;
	int want;		/* EX_OK or EX_DATAERR */
	const char *err;	/* the reason, for a refusal */
	const char *what;
} cases[] = {
	{ HEAD "uid 33\ncreated 5\nflags -\nrcpt a@example.org\n\n", EX_OK, NULL, "the smallest entry" },
	{ HEAD "uid 33\nflags ti\n\n", EX_OK, NULL, "-t needs no recipient" },
	{ HEAD "uid 0\nsender \nflags i\nrcpt b\n\n", EX_OK, NULL, "an empty sender is the null sender" },
	{ "postie-maildrop 2\nuid 1\nflags -\nrcpt a\n\n", EX_DATAERR, "not a postie maildrop entry", "another version" },
	{ "", EX_DATAERR, "not a postie maildrop entry", "nothing" },
	{ HEAD "flags -\nrcpt a\n\n", EX_DATAERR, "the envelope lacks its uid", "no uid" },
	{ HEAD "uid 1\nrcpt a\n\n", EX_DATAERR, "the envelope lacks its flags", "no flags" },
	{ HEAD "uid 1\nflags -\n\n", EX_DATAERR, "no recipients", "no recipient and no -t" },
	{ HEAD "uid 1\nuid 2\nflags -\nrcpt a\n\n", EX_DATAERR, "line 3: a bad uid", "a second uid" },
	{ HEAD "uid -1\nflags -\nrcpt a\n\n", EX_DATAERR, "line 2: a bad uid", "a negative uid" },
	{ HEAD "uid 4294967295\nflags -\nrcpt a\n\n", EX_DATAERR, "line 2: a bad uid", "(uid_t)-1" },
	{ HEAD "uid 99999999999999999999999\nflags -\nrcpt a\n\n", EX_DATAERR, "line 2: a bad uid", "an overflow" },
	{ HEAD "uid 1\nflags x\nrcpt a\n\n", EX_DATAERR, "line 3: an unknown flag", "an unknown flag" },
	{ HEAD "uid 1\nflags -\nrcpt \n\n", EX_DATAERR, "line 4: an empty recipient", "an empty recipient" },
	{ HEAD "uid 1\nflags -\nrelay smtp://evil\nrcpt a\n\n", EX_DATAERR, "line 4: an unknown key", "no relay can be named" },
	{ HEAD "uid 1\nflags -\nrcpt a\r\n\n", EX_DATAERR, "line 4: a NUL or CR", "a CR" },
	{ HEAD "uid 1\nflags -\nrcpt a\n", EX_DATAERR, "the envelope has no end", "no blank line" },
	{ HEAD "uid 1\nflags -\nrcpt a", EX_DATAERR, "line 4: no line break", "a cut line" },
	{ HEAD "uid 1\nsender a\nsender b\nflags -\nrcpt a\n\n", EX_DATAERR, "line 4: a second sender", "two senders" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct maildrop_entry e;
		struct diag d = {0};
		int rc = maildrop_entry_parse(cases[i].in, strlen(cases[i].in), &e, &d);
		is_int(rc, cases[i].want, "%s", cases[i].what);
		if (cases[i].err)
			is_str(d.msg, cases[i].err, "%s: the reason", cases[i].what);
		if (rc == EX_OK)
			maildrop_entry_free(&e);
	}

	struct maildrop_entry e;
	struct diag d = {0};
	const char *text = HEAD "uid 33\ncreated 7\nsender x@y\nfull-name A B\nflags ti\nrcpt a, b\nrcpt c\n\n";
	is_int(maildrop_entry_parse(text, strlen(text), &e, &d), EX_OK, "a full entry parses");
	is_int((int)e.uid, 33, "its uid");
	ok(e.sender_given && strcmp(e.sender, "x@y") == 0, "its sender");
	is_str(e.full_name, "A B", "its full name");
	ok(e.extract && e.ignore_dots, "its flags");
	is_int((int)e.rcpts.n, 2, "its recipients, a comma list kept whole");
	is_str(e.rcpts.v[0], "a, b", "the first as given");
	struct buf b = {0};
	maildrop_entry_format(&e, &b);
	is_str(b.data, text, "formats to the same text");
	buf_free(&b);
	maildrop_entry_free(&e);
	return done_testing();
}
