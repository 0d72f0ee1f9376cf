/* SPDX-License-Identifier: ISC */
/* secret_test.c: secret_from_command through its own interface (an argv and limits, no account):
 * the first line kept, each way a command can fail, and what a hidden command leaves out. */
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "tap.h"

static const struct {
	const char *argv[6];
	long timeout;
	bool hidden;
	int want_rc;
	const char *want;	/* the secret (EX_OK) or the message (an error) */
	const char *what;
} cases[] = {
	{ { "printf", "s3cret\\nsecond\\n" }, 5, false, EX_OK, "s3cret",
	  "the first line of stdout is the secret" },
	{ { "printf", "crlf\\r\\n" }, 5, false, EX_OK, "crlf", "a CR before the LF is not kept" },
	{ { "printf", "a\\000b\\n" }, 5, false, EX_CONFIG, "password-command 'printf': printed a NUL byte",
	  "a NUL byte in the first line is refused" },
	{ { "sh", "-c", "echo nope >&2; exit 4" }, 5, false, EX_CONFIG,
	  "password-command 'sh': exited with status 4: nope", "a failure names the command and its stderr" },
	{ { "sh", "-c", "echo nope >&2; exit 4" }, 5, true, EX_CONFIG,
	  "password-command '(not shown)': exited with status 4",
	  "a hidden command is not named, and its stderr is not repeated" },
	{ { "/nonexistent/secret-cmd" }, 5, true, EX_CONFIG,
	  "password-command '(not shown)': cannot run: No such file or directory",
	  "a hidden command that cannot run is not named either" },
	{ { "sh", "-c", "sleep 30" }, 1, false, EX_CONFIG, "password-command 'sh': timed out after 1 s",
	  "the timeout is the caller's" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct diag d = {0};
		char *secret = (char *)"untouched";
		struct secret_command cmd = { "password-command", (char *const *)cases[i].argv, cases[i].timeout,
					      cases[i].hidden, NULL };
		int rc = secret_from_command(&cmd, &secret, &d);
		is_int(rc, cases[i].want_rc, "%s: status", cases[i].what);
		if (cases[i].want_rc == EX_OK) {
			is_str(secret, cases[i].want, "%s", cases[i].what);
		} else {
			is_str(d.msg, cases[i].want, "%s", cases[i].what);
			ok(secret == NULL, "%s: no secret", cases[i].what);
		}
		if (rc == EX_OK)
			wipe_free(secret);
	}

	/* the broker's command: the environment given, and nothing of the caller's */
	setenv("POSTIE_TEST_CALLER", "leaked", 1);
	char *const argv[] = { (char *)"sh", (char *)"-c",
			       (char *)"echo \"$PATH|${POSTIE_TEST_CALLER-none}|${HOME-none}\"", NULL };
	char *const env[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	struct secret_command cmd = { "oauth2-client-secret-command", argv, 5, true, env };
	struct diag d = {0};
	char *secret = NULL;
	is_int(secret_from_command(&cmd, &secret, &d), EX_OK, "a given environment: status");
	is_str(secret, "/usr/bin:/bin|none|none", "a given environment is the child's whole one");
	wipe_free(secret);
	return done_testing();
}
