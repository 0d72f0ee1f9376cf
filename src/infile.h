/* SPDX-License-Identifier: ISC */
/* infile.h: the message's input when it is a regular file, which postie can read a second time
 * instead of teeing every byte into the spool: the first reading, with a fingerprint (count and
 * a 64-bit checksum) of the raw bytes it took; later passes that read the file again from where
 * the body starts and tell whether the bytes the first reading took are still there. It knows
 * nothing of mail, the queue or SMTP: message.c interprets the bytes, deliver.c decides. */
#ifndef POSTIE_INFILE_H
#define POSTIE_INFILE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A running checksum of a byte stream: the same for every split of the stream into updates
 * (zero-initialise it). Cheap (sixteen independent 64-bit lanes, a 32 x 32-bit multiply a word,
 * four lanes at a time where the CPU has AVX2, the same values either way); it finds changes
 * made by accident (an editor, a writer appending), not by an adversary. */
#define FINGERPRINT_LANES 16
struct fingerprint {
	uint64_t lane[FINGERPRINT_LANES];
	unsigned long long count;	/* bytes taken so far */
	unsigned char pending[8 * FINGERPRINT_LANES];	/* a stripe not yet whole */
	size_t npending;
};
void fingerprint_update(struct fingerprint *f, const void *p, size_t n);
/* The checksum of what was taken so far (f is left as it is: more may follow). */
uint64_t fingerprint_value(const struct fingerprint *f);
/* For tests: the portable lanes from now on (true), or the vector ones where the CPU has them. */
void fingerprint_portable(bool portable);

struct infile;

/* fd as a file postie may read again: a regular file that is not empty and can be seeked (a
 * pipe, a FIFO, a socket, a tty do not qualify, nor does a /proc file that says it is empty).
 * Returns NULL when it does not qualify: the caller then tees. Reading starts at fd's offset.
 * cancel (may be NULL): once set, a read interrupted by a signal fails rather than retries. */
struct infile *infile_open(int fd, const volatile sig_atomic_t *cancel);
void infile_free(struct infile *in);

/* The first reading, a lineio_read_fn (read(2) on fd, counted and fingerprinted). */
ssize_t infile_read(void *ctx, void *buf, size_t n);

/* Says where the body starts: unused bytes of what infile_read returned so far are not yet
 * the message's (the reader holds them in its buffer); the body starts before them. */
void infile_set_body(struct infile *in, size_t unused);

/* Whether the first reading saw the end of the file. */
bool infile_first_ended(const struct infile *in);

/* One more reading of the body, from where it started, with pread: a lineio_read_fn over the
 * returned pass (free with infile_pass_end). When whole is true (the first reading is over: the
 * message is the bytes it took), the pass ends where the first reading ended, if those bytes
 * are unchanged; when false, or when they changed, it reads on to the end of the file as it is
 * now. strict: a change makes the pass fail (-1, errno EILSEQ) at that point instead of
 * reading on. */
struct infile_pass;
struct infile_pass *infile_pass_new(struct infile *in, bool whole, bool strict);
ssize_t infile_pass_read(void *ctx, void *buf, size_t n);

/* Ends a pass: when the file is no longer what the first reading took (the bytes it took
 * changed, or the file's size is not the one they make), writes one line saying so into note
 * (size notesz) and returns true; else returns false with note "". Frees p (NULL is fine). */
bool infile_pass_end(struct infile_pass *p, char *note, size_t notesz);

#endif
