/* SPDX-License-Identifier: ISC */
/* user.h: who a submitting user is, for the fields written in their name and the paths kept in
 * their home: the login name, the full name and the home directory, from the passwd entry of a
 * uid and (for the caller itself) the environment. It
 * never decides what may be sent, and never trusts the environment for another uid. */
#ifndef POSTIE_USER_H
#define POSTIE_USER_H

#include <stdbool.h>
#include <sys/types.h>

/* The login name of uid: its passwd entry's; else, when from_env (the caller's own uid),
 * $LOGNAME or $USER, else "nobody"; else "uid1234", which is still someone. Free it. */
char *user_login(uid_t uid, bool from_env);

/* The name for a generated From when -F gives none, found as Postfix's fullname() and sendmail
 * find it: name_env ($NAME of the caller; pass NULL for another uid) when it is set (set and
 * empty: no name), else the GECOS field of uid's passwd entry up to its first ',' (or ';' or
 * '%', where both stop too), each '&' the login name with its first letter capitalised.
 * Control characters become spaces, runs of white space one, the ends trimmed (as Postfix's
 * clean_ascii_cntrl_space). NULL for none; else free it. */
char *user_full_name(uid_t uid, const char *name_env);

/* The caller's home directory, where ~ and the per-user default paths point: $HOME when it is
 * set and absolute, else the passwd entry of the real uid when its directory is absolute, else
 * NULL (no home: the caller says so or picks its own fallback). Free it. */
char *user_home_dir(void);

#endif
