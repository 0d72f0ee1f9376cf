/* SPDX-License-Identifier: ISC */
/* smtpd.h: sendmail -bs: the server side of an SMTP dialogue on two file descriptors (stdin and
 * stdout), RFC 5321 replies, and the DATA content handed on as a stream. It knows nothing of
 * relays, queues or headers: the caller's callbacks check recipients and deliver. */
#ifndef POSTIE_SMTPD_H
#define POSTIE_SMTPD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

#define SMTPD_LINE_MAX 1000		/* octets, CRLF included (RFC 5321 4.5.3.1.4) */
#define SMTPD_REPLY_MAX 512

/* The DATA content as a stream: dot-unstuffed bytes with their CRLF line ends, up to and not
 * including the final ".". Like read(2): the count, 0 at the final dot, -1 when the input
 * ended or timed out before it (errno EPIPE or ETIMEDOUT). */
typedef ssize_t (*smtpd_read_fn)(void *stream, void *buf, size_t n);

struct smtpd_params {
	const char *domain;		/* in the greeting and the HELO/EHLO reply */
	unsigned long long size_limit;	/* advertised with SIZE; 0 for none (plain "SIZE") */
	size_t max_rcpts;		/* a RCPT past this many gets 452 */
	long timeout;			/* seconds to wait for a command, or for the client to
					 * take a reply; then 421 (if it can) and the end */
	const volatile sig_atomic_t *cancel;	/* set by a signal: 421 and the end */
	int cancel_fd;			/* 0 for none, or a descriptor that turns readable when
					 * cancel is set (a pipe the signal handler writes to) */

	/* Checks one recipient of RCPT TO (the address between the brackets, possibly a bare
	 * name). Returns a reply code: 250 with *out set (the address as it will be delivered,
	 * malloc'd, caller of smtpd frees nothing: smtpd frees it), or 550/553/501 with a text
	 * in reply (without the code). */
	int (*check_rcpt)(void *ctx, const char *addr, char **out, char *reply, size_t replylen);

	/* Checks the sender of MAIL FROM ("" for <>): 250 with *out set as above, or a code
	 * and reply text. */
	int (*check_sender)(void *ctx, const char *addr, char **out, char *reply, size_t replylen);

	/* Delivers one message: reads the content through read(stream, ...) (it must read to
	 * the end, or smtpd reads the rest itself and discards it), then returns the reply code
	 * to the final dot (250 only when the message was accepted by the relay or durably
	 * queued; the relay's own 4xx or 5xx otherwise) with its text in reply. */
	int (*deliver)(void *ctx, const char *sender, char *const *rcpts, size_t nrcpt,
		       smtpd_read_fn read, void *stream, char *reply, size_t replylen);
	void *ctx;
};

/* Runs the dialogue: greeting, then commands until QUIT. Replies are written in order, flushed
 * before every read that could block (so pipelined commands are answered in order).
 * Returns EX_OK after QUIT; EX_PROTOCOL (with d) when the input ended without QUIT (an open
 * transaction is dropped: nothing without a 250 is delivered); EX_TEMPFAIL after a timeout or
 * a cancel (421 sent), or when the client takes no reply for the timeout; EX_IOERR when the
 * output cannot be written. */
int smtpd_run(const struct smtpd_params *p, int in_fd, int out_fd, struct diag *d);

#endif
