/* SPDX-License-Identifier: ISC */
/* tokenstate.h: one account's OAuth2 tokens on disk (JSON), written atomically, under a lock.
 * It knows no token endpoint and no configuration file, and never shows a token. */
#ifndef POSTIE_TOKENSTATE_H
#define POSTIE_TOKENSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "util.h"

/* What an account holds. Strings are owned by the struct (malloc'd) and wiped when cleared. */
struct oauth2_token {
	char *access_token;	/* or NULL */
	char *refresh_token;	/* or NULL (client credentials have none) */
	time_t expires_at;	/* when the access token lapses (seconds since the epoch), 0 unknown */
	time_t obtained_at;	/* when the last token response came */
	time_t refreshed_at;	/* when the refresh token was last used, 0 never */
};

/* Wipes and frees what t holds and zeroes it. */
void oauth2_token_clear(struct oauth2_token *t);

/* Makes jansson allocate through functions that wipe every block they free, so that a token
 * parsed from JSON leaves no copy in freed memory. Idempotent; call before any json_ use. */
void tokenstate_json_init(void);

/* Parses a state file's text into t (cleared first). Errors: EX_DATAERR "not JSON" / "not an
 * object" / "FIELD is not a string|number" (no value is ever quoted). */
int tokenstate_parse(const char *text, size_t len, struct oauth2_token *t, struct diag *d);

/* The JSON text of t (one object, one line). The caller owns it and releases it with
 * wipe_free. */
char *tokenstate_format(const struct oauth2_token *t);

/* Reads path into t. *found is false (and EX_OK returned) when there is no such file.
 * Errors: EX_CONFIG "PATH: why" (unreadable, not a regular file, too large, readable by others
 * than its owner, or not what tokenstate_parse takes). */
int tokenstate_read(const char *path, struct oauth2_token *t, bool *found, struct diag *d);

/* Replaces path with t, so that either the old or the new file is there at every moment: the
 * new text goes to a temporary file in the same directory (mode 0600), is fsync'd, renamed over
 * path, and the directory is fsync'd. Missing directories are made (0700).
 * Errors: EX_CANTCREAT "PATH: why"; path is untouched then. */
int tokenstate_write(const char *path, const struct oauth2_token *t, struct diag *d);

/* tokenstate_write with the new file made mode (0640 for the system's shared state, whose
 * directory gives it the group). */
int tokenstate_write_mode(const char *path, const struct oauth2_token *t, mode_t mode,
			  struct diag *d);

/* Takes the exclusive lock of path's state: flock(2) on PATH.lock (made 0600 when missing),
 * waiting for another process that holds it. *fd is the lock, for tokenstate_unlock.
 * Errors: EX_CANTCREAT "PATH.lock: why". */
int tokenstate_lock(const char *path, int *fd, struct diag *d);

/* How long tokenstate_lock waits for another holder, in seconds. */
#define TOKENSTATE_LOCK_WAIT 125

/* tokenstate_lock with PATH.lock made mode when missing; one that exists but that this process
 * may only read (a shared state's, made by root) is opened read-only, which flock(2) takes.
 * It waits wait seconds at most (0: TOKENSTATE_LOCK_WAIT) for another holder, then fails with
 * EX_TEMPFAIL "PATH.lock: held by another run for N seconds". */
int tokenstate_lock_mode(const char *path, mode_t mode, long wait, int *fd, struct diag *d);
void tokenstate_unlock(int fd);

/* Checks that the directory of path may hold the system's shared state (0640 files of the
 * group postie, written by the setgid program's token broker and by root): a directory (not a
 * link), owned by root, that others cannot enter. Root makes it when it is missing:
 * root:postie 02770, its parents 0755. The files in it may belong to the user whose broker
 * wrote them last; none of them can reach the file by its path, so cannot read, chmod or link
 * it. Errors: EX_CONFIG "DIR: why", EX_CANTCREAT. */
int tokenstate_shared_dir(const char *path, struct diag *d);

/* Root only (else EX_OK and nothing done): makes old's directory 0755 when it is root's and
 * 0700 (an earlier release made it so; the broker must pass through it); when path is missing
 * and old is a regular file, moves old to path (rename), made root:postie 0640, and removes
 * old's lock file. For the
 * state of an earlier release (LOCALSTATEDIR/lib/postie/oauth2-NAME.json).
 * Errors: EX_CANTCREAT "PATH: why". */
int tokenstate_migrate(const char *old, const char *path, struct diag *d);

#endif
