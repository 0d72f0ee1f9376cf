/* SPDX-License-Identifier: ISC */
/* secret.h: a secret fetched from a command (first line of stdout, bounded, timed, no shell).
 * It knows no configuration file and no account, and never shows a secret. */
#ifndef POSTIE_SECRET_H
#define POSTIE_SECRET_H

#include <stdbool.h>

#include "util.h"

/* A command that prints a secret, and the limits it runs under. */
struct secret_command {
	const char *key;	/* the configuration key it comes from, which its errors name */
	char *const *argv;	/* NULL-terminated; argv[0] looked up in $PATH, never a shell */
	long timeout;		/* seconds before it is killed */
	bool hidden;		/* it comes from a file the real user cannot read: no message
				 * names it or repeats what it printed on stderr */
	char *const *env;	/* the child's whole environment (NULL-terminated), or NULL for
				 * the caller's (below) */
};

/* Runs cmd with stdin from /dev/null, cmd->env or else the caller's environment
 * (privenv_caller) without its POSTIE_* variables, signals unblocked and SIGPIPE at its default, and sets *secret to the first
 * line of its stdout (without the line break; at most 16 KiB of stdout is kept). The caller owns
 * *secret and releases it with wipe_free. Run it only without a group privilege: the child is
 * the user's own.
 * Errors: EX_CONFIG "KEY 'ARGV0': WHY[: FIRST STDERR LINE]" (cannot run, exit
 * status, signal, timeout, printed nothing, an empty first line or a NUL byte; ARGV0 and the
 * stderr line left out when hidden); EX_OSERR "KEY: ..." (pipe, fork, poll). *secret is NULL
 * then. */
int secret_from_command(const struct secret_command *cmd, char **secret, struct diag *d);

#endif
