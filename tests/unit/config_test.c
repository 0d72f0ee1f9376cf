/* config_test.c: the configuration parser: values, quoting, and every error with its line. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tap.h"

static int parse(const char *text, struct config *c, struct diag *d)
{
	memset(c, 0, sizeof *c);
	memset(d, 0, sizeof *d);
	return config_parse(c, "test.conf", text, strlen(text), d);
}

static const struct {
	const char *text, *error;
} errors[] = {
	{ "nonsense value\n", "test.conf:1: unknown key 'nonsense'" },
	{ "\n\nrelay\n", "test.conf:3: relay needs a value" },
	{ "relay http://x\n", "test.conf:1: relay 'http://x' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://\n", "test.conf:1: relay 'smtp://' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h:0\n", "test.conf:1: relay 'smtp://h:0' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h:65536\n", "test.conf:1: relay 'smtp://h:65536' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h x\n", "test.conf:1: relay 'smtp://h x' is not smtp://host[:port] or smtps://host[:port]" },
	{ "relay smtp://h/path\n", "test.conf:1: relay 'smtp://h/path' is not smtp://host[:port] or smtps://host[:port]" },
	{ "domain -\n", NULL },
	{ "domain a..b\n", "test.conf:1: domain 'a..b' is not a domain name" },
	{ "domain a/b\n", "test.conf:1: domain 'a/b' is not a domain name" },
	{ "timeout 0\n", "test.conf:1: timeout '0' is not a number of seconds (1-86400)" },
	{ "timeout 5s\n", "test.conf:1: timeout '5s' is not a number of seconds (1-86400)" },
	{ "from \"open\n", "test.conf:1: unterminated quoted value" },
	{ "from \"a\" b\n", "test.conf:1: text after the closing quote" },
	{ "from \"a\\nb\"\n", "test.conf:1: only \\\" and \\\\ are escapes in a quoted value" },
};

int main(void)
{
	struct config c;
	struct diag d;

	is_int(parse("relay smtp://mail.example.org:587\nfrom a@example.org\ndomain example.org\ntimeout 30\n", &c, &d),
	       EX_OK, "a plain file parses");
	is_str(c.relay, "smtp://mail.example.org:587", "relay");
	is_str(c.from, "a@example.org", "from");
	is_str(c.domain, "example.org", "domain");
	is_int(c.timeout, 30, "timeout");
	config_free(&c);

	is_int(parse("# comment\r\n\r\n\t relay \t smtps://[::1]:465/ \r\n", &c, &d), EX_OK,
	       "CRLF lines, comments, blank lines and spacing");
	is_str(c.relay, "smtps://[::1]:465/", "an IPv6 relay with a trailing slash");
	config_free(&c);

	is_int(parse("from \"Name # not a comment \\\"q\\\" \\\\ end\"\n", &c, &d), EX_OK, "a quoted value");
	is_str(c.from, "Name # not a comment \"q\" \\ end", "keeps spaces and # and unescapes");
	config_free(&c);

	is_int(parse("from a@x\nfrom b@x\n", &c, &d), EX_OK, "a repeated key");
	is_str(c.from, "b@x", "the last value wins");
	config_free(&c);

	is_int(parse("relay smtp://h\0x\n", &c, &d), EX_OK, "parse stops at the string's NUL here");
	config_free(&c);

	memset(&c, 0, sizeof c);
	is_int(config_parse(&c, "test.conf", "relay a\0b\n", 10, &d), EX_CONFIG, "a NUL byte is an error");
	is_str(d.msg, "test.conf:1: NUL byte in line", "and says so");
	config_free(&c);

	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
		int rc = parse(errors[i].text, &c, &d);
		if (errors[i].error) {
			is_int(rc, EX_CONFIG, "error %zu is EX_CONFIG", i);
			is_str(d.msg, errors[i].error, "error %zu names file:line", i);
		} else {
			ok(rc == EX_OK || rc == EX_CONFIG, "case %zu does not crash", i);
		}
		config_free(&c);
	}
	return done_testing();
}
