/* SPDX-License-Identifier: ISC */
/* queue.h: the spool: durable entries of (resolved envelope, exact message bytes), written,
 * listed, locked, updated and moved. It knows nothing of SMTP, libcurl or configuration; it
 * never sends and never decides when an entry is due (the caller passes the time). */
#ifndef POSTIE_QUEUE_H
#define POSTIE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

#define QUEUE_FORMAT_VERSION 1

/* The envelope and the delivery state of an entry (the ".env" file). */
struct queue_meta {
	char *id;
	char *sender;		/* "" is the null sender */
	struct strlist rcpts;	/* the recipients still to deliver */
	char *relay;		/* the relay URL it was meant for */
	char *account;		/* the config account, or NULL */
	long long created, next_attempt;
	long long expires;	/* when it is given up, fixed when it is written; 0: not stored
				 * (an entry of an older postie) */
	long attempts;
	long long claimed;	/* when a run claimed it for an attempt whose outcome it has not
				 * recorded yet; 0: none. Set and unlocked means that run died
				 * with the attempt in flight */
	char *last_error;	/* one line, or NULL */
	unsigned long long size;	/* bytes of the message file */
};

void queue_meta_free(struct queue_meta *m);

struct queue;
struct spool;
struct queue_lock;

/* Opens the queue at dir, creating dir (and missing parents), tmp/, q/ and failed/ with mode
 * 0700. Refuses a dir (or subdirectory) that is not a directory owned by the effective user or
 * that others can write, and a dir that anyone but the real user and root could rename or
 * swap: path_check_trusted (trust.h) on the part that exists before anything is created, and
 * on dir once created. Returns EX_OK with *out (free with queue_close), or EX_CANTCREAT /
 * EX_NOPERM with d naming the path ("queue DIR: /srv/shared is writable by others (mode
 * 0777)"). */
int queue_open(struct queue **out, const char *dir, struct diag *d);
void queue_close(struct queue *q);
const char *queue_path(const struct queue *q);

/* --- writing ------------------------------------------------------------------------ */

/* Starts an entry: tmp/<id>.msg, created 0600 with O_EXCL. The id sorts by creation time. */
int spool_create(struct queue *q, time_t now, struct spool **out, struct diag *d);
const char *spool_id(const struct spool *s);
int spool_write(struct spool *s, const void *p, size_t n, struct diag *d);
unsigned long long spool_size(const struct spool *s);

/* The spool file's descriptor, for reading the message back (pread), owned by the spool. */
int spool_fd(const struct spool *s);

/* Makes the entry durable: fsyncs the message, writes the envelope file (meta, with meta->id and
 * meta->size taken from the spool), renames both into q/ (or failed/ when failed is true) and
 * fsyncs that directory. The spool is consumed whatever happens. Returns EX_OK, or EX_IOERR /
 * EX_CANTCREAT with d; on error nothing is left behind in q/ or failed/. */
int spool_commit(struct spool *s, struct queue_meta *meta, bool failed, struct diag *d);

/* Commits a copy of the spool's bytes as a second entry (for a message whose recipients are
 * split between the queue and failed/); the spool stays open. */
int spool_commit_copy(struct spool *s, struct queue_meta *meta, bool failed, struct diag *d);

/* Removes the temporary file and frees the spool (NULL is fine). */
void spool_discard(struct spool *s);

/* --- reading ------------------------------------------------------------------------ */

/* Lists the entries of q/ (or failed/), oldest first, reading each envelope file. Entries that
 * cannot be read or fail the checks are skipped and described in *problems (one line each,
 * caller frees). So is half an entry (a message file without its envelope file, or the
 * reverse) that is older than QUEUE_ORPHAN_SECONDS and not locked: a run committing, removing
 * or moving an entry holds its message file's lock. Returns EX_OK with *out and *n (free with
 * queue_list_free). */
#define QUEUE_ORPHAN_SECONDS 3600
int queue_list(struct queue *q, bool failed, struct queue_meta **out, size_t *n,
	       struct strlist *problems, struct diag *d);
void queue_list_free(struct queue_meta *list, size_t n);

/* Removes what runs that ended abnormally (killed, or a crash of the machine) left in tmp/:
 * regular files not modified for QUEUE_TMP_SECONDS and not locked. None holds an accepted
 * message, since a message is accepted only once it is renamed out of tmp/ (or taken by the
 * relay), and a live run holds its spool's lock however long its input is silent. Adds each
 * removed path to *removed. */
#define QUEUE_TMP_SECONDS (24 * 3600)
void queue_sweep_tmp(struct queue *q, struct strlist *removed);

/* Removes the envelope files of q/ and failed/ whose message file is gone: what a removal cut
 * short by a crash leaves (queue_remove unlinks the message first). Only a removal makes one: a commit
 * or a move writes the message file before the envelope file. No run can send such an entry
 * (there is no message to lock), so there is no wait: it goes at once. So do the temporary
 * envelope files of tmp/ whose entry no run holds (an update cut short). Adds each removed
 * path to *removed. */
void queue_sweep_removed(struct queue *q, struct strlist *removed);

/* Locks entry id of q/ for delivery: opens its message file with O_NOFOLLOW, checks it is a
 * regular file with one link owned by the effective user, takes an exclusive non-blocking
 * flock on it, then reads and checks the envelope file the same way. Returns EX_OK with *out;
 * EX_TEMPFAIL when another run holds it or it is gone (delivered meanwhile); EX_DATAERR with d
 * when it fails a check (tampered: it is not sent). */
int queue_lock(struct queue *q, const char *id, struct queue_lock **out, struct diag *d);

/* Locks entry id for its management (deleting it, putting it back), wherever it is: q/, else
 * failed/ (*failed says which), with the checks and the lock of queue_lock. Returns EX_OK with
 * *out; EX_USAGE for a word that is no queue id; EX_NOINPUT when neither holds it; EX_TEMPFAIL
 * when a run is delivering it; EX_DATAERR when it fails a check. d names the entry. */
int queue_lock_any(struct queue *q, const char *id, struct queue_lock **out, bool *failed,
		   struct diag *d);
const struct queue_meta *queue_lock_meta(const struct queue_lock *l);

/* The locked message's fd, positioned at its start (owned by the lock). */
int queue_lock_fd(struct queue_lock *l);

/* Rewrites the envelope file atomically (write, fsync, rename, fsync dir). meta->claimed is
 * written as given: an update that records an attempt's outcome passes 0. */
int queue_update(struct queue_lock *l, struct queue_meta *meta, struct diag *d);

/* Claims the locked entry for one attempt, before a byte of it is sent: its envelope is
 * rewritten with attempts + 1, claimed = now and next_attempt (the retry time should the
 * attempt never be recorded), written, fsync'd, renamed and the directory fsync'd, as
 * queue_update. This both survives a crash (the attempt is counted, the next run knows a run
 * died with it in flight) and proves that the outcome can be recorded. The lock's meta is
 * updated. Returns EX_OK, or EX_TEMPFAIL with d carrying the errno text ("queue
 * /q/tmp/X.env: No space left on device"): the entry must then not be sent. */
int queue_claim(struct queue_lock *l, long long now, long long next_attempt, struct diag *d);

/* The entry is delivered, or deleted: removes both files (from q/ or failed/, where it was
 * locked), the message file first. A run killed in between leaves an envelope file without
 * its message, which no run can send (there is nothing to lock) and which queue_list removes;
 * never a message file without its envelope, which would look like a commit cut short. */
int queue_remove(struct queue_lock *l, struct diag *d);

/* Moves the entry to failed/ with meta as its envelope. */
int queue_move_failed(struct queue_lock *l, struct queue_meta *meta, struct diag *d);

/* Moves an entry locked in failed/ back into q/ with meta as its envelope, as
 * queue_move_failed does the other way: the old envelope file is removed first, so that a crash
 * between the steps leaves half an entry (reported, never sent) rather than two entries. */
int queue_requeue(struct queue_lock *l, struct queue_meta *meta, struct diag *d);

/* Commits a copy of the locked entry's message as a new entry with meta (in failed/ when
 * failed): for recipients that leave an entry while others stay. */
int queue_lock_copy(struct queue_lock *l, struct queue_meta *meta, bool failed, struct diag *d);

/* Releases the lock and frees l (NULL is fine). */
void queue_unlock(struct queue_lock *l);

/* Parses the text of an envelope file (exposed for tests and fuzzing). */
int queue_meta_parse(const char *text, size_t len, struct queue_meta *m, struct diag *d);
/* Formats meta as envelope file text. */
void queue_meta_format(const struct queue_meta *m, struct buf *out);

#endif
