/* SPDX-License-Identifier: ISC */
/* privenv.h: the environment a privileged (setgid) postie keeps: an allow list, applied first
 * thing in main, before any library reads a variable. It never copies or interprets a value. */
#ifndef POSTIE_PRIVENV_H
#define POSTIE_PRIVENV_H

#include <stdbool.h>

/* True when the process was started with privileges its caller does not have: the kernel's
 * AT_SECURE (set-group-ID or set-user-ID exec, file capabilities) or, as a second opinion,
 * real and effective IDs that differ. */
bool privenv_privileged(void);

/* Whether one "NAME=value" entry may stay in a privileged run's environment: NAME is on the
 * allow list (see privenv.c and ENVIRONMENT in postie(1)) and value passes its check (no path
 * in a locale name or TZ). An entry without '=' is never kept. */
bool privenv_allowed(const char *entry);

/* The entries of env (NULL-terminated) that privenv_allowed keeps, in their order, the first of
 * each name only (the one getenv(3) would find). Returns a new NULL-terminated array owned by
 * the caller; its strings are env's own, not copies. */
char **privenv_reduce(char *const *env);

/* When privenv_privileged(), replaces environ by privenv_reduce(environ) for the rest of the
 * process. Call it before anything reads the environment: setlocale, popt, libcurl, OpenSSL. */
void privenv_apply(void);

/* The environment as the caller gave it, before privenv_apply (environ when it was not called):
 * only for a child that runs after the privilege is given up for good (a password-command),
 * which may need what the user's session has (DBUS_SESSION_BUS_ADDRESS, GPG_TTY). */
char *const *privenv_caller(void);

#endif
