/* SPDX-License-Identifier: ISC */
/* trust.h: whether anyone but a user and root can change what a path names, the question
 * OpenSSH's StrictModes asks of ~/.ssh. It only looks (lstat, readlink); it never opens,
 * creates or changes a file, and it decides nothing about what a caller does with the answer. */
#ifndef POSTIE_TRUST_H
#define POSTIE_TRUST_H

#include <sys/types.h>

#include "util.h"

#define TRUST_MAX_LINKS 40	/* symbolic links followed before giving up, as Linux does */

/* Checks that only uid and root can change what path names. path and every directory above
 * it, up to /, must be owned by uid or by root, and writable neither by its group nor by
 * others. A sticky directory that others can write (/tmp) is accepted on the way, not as
 * path itself: the next component below it is then one of uid's or root's, which the other
 * writers cannot rename or remove. The mode of path is checked whatever its type (a file that
 * others can write is refused too).
 * Symbolic links are followed where the kernel would follow them, each must be owned by uid
 * or root, and the directories of its target are checked in turn, so that no link another
 * user owns can later point the path elsewhere. A relative path starts at the working
 * directory. Nothing is created: a missing component is an error.
 * Returns EX_OK; EX_NOPERM with d naming the component and why:
 *   "/home/bob is owned by uid 1001 (alice), not by you or root"
 *   "/srv/shared is writable by others (mode 0777)"
 *   "/srv/team is writable by its group users (mode 0775)"
 *   "/home/bob/q is a symbolic link owned by uid 1001 (alice), not by you or root";
 * or EX_NOINPUT with "component: errno text" when a component cannot be examined (missing,
 * not a directory, too many links). The message never repeats path: callers say what it is. */
int path_check_trusted(const char *path, uid_t uid, struct diag *d);

#endif
