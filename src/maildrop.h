/* SPDX-License-Identifier: ISC */
/* maildrop.h: the system queue's drop area, where any local user hands a message to root's queue
 * with no setuid or setgid bit: writing an entry, and reading one back with every check. It never
 * sends, never reads configuration and never completes a message (pickup.h does). */
#ifndef POSTIE_MAILDROP_H
#define POSTIE_MAILDROP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* The system queue: root's own queue (tmp/, q/, failed/, each 0700), the maildrop (1733) that
 * users write to, and refused/ (0700) where pickup moves what it will not take. */
#define SYSTEM_QUEUE_DIR LOCALSTATEDIR "/spool/postie"
#define MAILDROP_DIR SYSTEM_QUEUE_DIR "/maildrop"
#define MAILDROP_REFUSED_DIR SYSTEM_QUEUE_DIR "/refused"

/* The largest entry (envelope and message) a user may hand over, and root's pickup reads:
 * 64 MiB unless the build defines it (CPPFLAGS=-DMAILDROP_MAX_BYTES=...). */
#ifndef MAILDROP_MAX_BYTES
#define MAILDROP_MAX_BYTES (64ULL * 1024 * 1024)
#endif

/* A writer's temporary file (only where the file system has no O_TMPFILE) older than this is
 * one whose writer died or lingers on purpose: pickup removes it (an unlocked one after a
 * minute). */
#define MAILDROP_TMP_SECONDS 600

/* What an entry says besides its message: nothing in it is trusted beyond the recipients and
 * the uid, which must be the file's owner; pickup qualifies, expands and checks the rest with
 * the system configuration. */
struct maildrop_entry {
	uid_t uid;		/* the submitter */
	long long created;	/* when it was handed over (for the log only) */
	bool sender_given;	/* -f/-r given; "" is then the null sender */
	char *sender;
	char *full_name;	/* -F, or NULL */
	bool extract;		/* -t: the recipients of the header count too */
	bool ignore_dots;	/* -i: a lone "." line does not end the message */
	struct strlist rcpts;	/* as given: each may be a comma list or a bare local name */
};

void maildrop_entry_free(struct maildrop_entry *e);

/* Whether dir is a maildrop a user may hand a message to: a directory of root's with the sticky
 * bit, below directories only root can change (trust.h). False when it is absent (postie was
 * not installed by root): the caller then keeps the message in the user's own queue. */
bool maildrop_available(const char *dir);

/* --- handing over (any user) ------------------------------------------------------- */

struct maildrop_put;

/* Starts an entry in the maildrop dir: an anonymous file (O_TMPFILE, or a name unlinked at
 * once) that takes the message's bytes. Errors: EX_TEMPFAIL/EX_CANTCREAT with d
 * ("system queue DIR: Permission denied"); EX_UNAVAILABLE when dir does not exist. */
int maildrop_put_open(const char *dir, struct maildrop_put **out, struct diag *d);

/* Appends message bytes. EX_DATAERR past MAILDROP_MAX_BYTES, EX_IOERR with errno text. */
int maildrop_put_write(struct maildrop_put *p, const void *buf, size_t n, struct diag *d);

/* Appends the message on fd as it is, its line breaks made LF, up to its end or, without
 * ignore_dots, a lone "." line (sendmail's rule, which the entry then no longer holds). Stops
 * when *cancel becomes non-zero (EX_TEMPFAIL). Errors as maildrop_put_write; EX_IOERR for a read
 * error. */
int maildrop_put_read(struct maildrop_put *p, int fd, bool ignore_dots,
		      const volatile sig_atomic_t *cancel, struct diag *d);

/* The bytes file, for reading the message back with pread (owned by p). */
int maildrop_put_fd(const struct maildrop_put *p);
unsigned long long maildrop_put_size(const struct maildrop_put *p);

/* Makes an entry of e (its uid is replaced by the real uid) and the bytes written so far: a new
 * file created 0600 with O_EXCL under an unpredictable temporary name, written, fsync'd, then
 * renamed (never replacing) to its entry name, so that pickup never sees half an entry. p stays
 * open (a second entry may be made of it). *name (size n) gets the entry's name.
 * Errors: EX_DATAERR for a value holding a line break, EX_IOERR / EX_CANTCREAT with errno. */
int maildrop_put_commit(struct maildrop_put *p, const struct maildrop_entry *e, char *name,
			size_t n, struct diag *d);

/* Closes the bytes file and frees p (NULL is fine). */
void maildrop_put_discard(struct maildrop_put *p);

/* --- picking up (root) ------------------------------------------------------------- */

/* The names of the complete entries of dir, oldest first (names sort by time). A writer's
 * temporary file that no writer holds (see MAILDROP_TMP_SECONDS) is removed, and added to
 * *removed; a temporary name that is no regular file is listed, for maildrop_open to refuse. A missing
 * dir is an empty list. Errors: EX_IOERR / EX_NOPERM with d. */
int maildrop_list(const char *dir, time_t now, struct strlist *names, struct strlist *removed,
		  struct diag *d);

struct maildrop_item;

/* Opens entry name of dir for pickup: without following a link and without blocking on a
 * FIFO, it must be a regular file with one link, at most max bytes, locked by no other run
 * (flock), still the file the name gives once locked, and its envelope must parse and claim its
 * owner's uid. Returns EX_OK with *out; EX_TEMPFAIL when another run has it or it is gone;
 * EX_DATAERR when it is refused: it is then removed (a symbolic link, a FIFO, any file that is
 * not regular) or moved into aside (a hard link, whose other names then stay refused, and
 * everything else), and d says what and where
 * ("NAME: a symbolic link; removed", "NAME: claims uid 0 but is owned by uid 65534 (nobody);
 * moved to DIR/NAME"). */
int maildrop_open(const char *dir, const char *name, const char *aside, unsigned long long max,
		  struct maildrop_item **out, struct diag *d);

const struct maildrop_entry *maildrop_item_entry(const struct maildrop_item *it);
const char *maildrop_item_name(const struct maildrop_item *it);

/* Reads the message after the envelope, at most the entry's bound in all: a lineio_read_fn
 * (ctx is the item). Past the bound it fails with EFBIG. */
ssize_t maildrop_item_read(void *ctx, void *buf, size_t n);

/* Moves the entry aside (into the dir given to maildrop_open) with why for the report; d says
 * where it went. The item stays to be closed. */
int maildrop_item_refuse(struct maildrop_item *it, struct diag *d);

/* The entry is in root's queue: removes it from the maildrop. */
int maildrop_item_remove(struct maildrop_item *it, struct diag *d);

/* Releases the lock and frees it (NULL is fine). */
void maildrop_item_close(struct maildrop_item *it);

/* Parses an envelope block (exposed for tests and fuzzing): text up to and including the blank
 * line that ends it. Errors: EX_DATAERR with what is wrong. */
int maildrop_entry_parse(const char *text, size_t len, struct maildrop_entry *e, struct diag *d);
/* Formats e as an envelope block (ending with its blank line). */
void maildrop_entry_format(const struct maildrop_entry *e, struct buf *out);

#endif
