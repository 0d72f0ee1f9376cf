/* SPDX-License-Identifier: ISC */
/* submit.h: envelope + a pull reader -> one SMTP transaction through libcurl, and the result as
 * a sysexits status with the server's own reply. The only module that includes curl.h; it knows
 * nothing of configuration files, headers or the queue. */
#ifndef POSTIE_SUBMIT_H
#define POSTIE_SUBMIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "util.h"

enum submit_tls {
	SUBMIT_TLS_REQUIRED,		/* smtp:// must upgrade with STARTTLS */
	SUBMIT_TLS_OPPORTUNISTIC,	/* smtp:// upgrades when the server offers STARTTLS */
	SUBMIT_TLS_OFF			/* smtp:// stays plain (smtps:// is TLS whatever this says) */
};

/* Everything a submitter needs; strings are copied, so the caller may free them after
 * submitter_new. */
struct submit_params {
	const char *const *urls;	/* "smtp://host[:port]" or "smtps://...", tried in order */
	size_t nurls;			/* when one cannot be reached or answers 4xx before MAIL */
	const char *helo;		/* the EHLO name */
	long timeout;			/* seconds to connect and to wait for each reply */
	const volatile sig_atomic_t *cancel;	/* when it becomes non-zero, the transfer stops */
	enum submit_tls tls;
	bool tls_for_secret;		/* tls is REQUIRED only because a password goes to a relay
					 * that is not loopback: the error says so */
	bool tls_verify;		/* false: no certificate or host name check (warned) */
	const char *tls_ca_file;	/* replaces the system trust store, or NULL */
	const char *tls_cert, *tls_key;	/* a client certificate, or NULL */
	const char *user;		/* SASL user, or NULL for no AUTH */
	const char *secret;		/* the password, or the bearer token when oauth2; wiped by
					 * submitter_free */
	bool oauth2;
	const char *auth;		/* a SASL mechanism to insist on, or NULL for the best offered */
	const char *netrc;		/* a netrc file for user and password, or NULL */
	/* called now and then during DATA with the bytes sent so far, or NULL */
	void (*progress)(void *ctx, unsigned long long sent);
	void *progress_ctx;
	size_t max_rcpts;		/* recipients per transaction; more go out in further
					 * transactions on the same connection; 0 for no limit */
};

/* Where a transaction ended: the stage whose reply (or whose lack of one) stopped it. */
enum submit_stage {
	SUBMIT_NOT_SENT,	/* nothing was attempted: no handle (a secret could not be had) */
	SUBMIT_CONNECT,		/* the connection could not be made (refused, unknown host, timeout) */
	SUBMIT_GREETING,	/* the server's greeting */
	SUBMIT_EHLO,
	SUBMIT_TLS,		/* STARTTLS or the TLS handshake and certificate check */
	SUBMIT_AUTH,
	SUBMIT_MAIL,
	SUBMIT_RCPT,		/* every RCPT TO of the transaction was refused */
	SUBMIT_DATA,		/* the reply to DATA, or the bytes of the message being sent */
	SUBMIT_AFTER_DOT,	/* the reply to the final dot: the server has the whole message */
	SUBMIT_INPUT,		/* the message could not be read (the reader's own failure) */
	SUBMIT_SESSION,		/* anything else of the dialogue */
	SUBMIT_ACCEPTED		/* 250 after the final dot for at least one recipient */
};

/* What became of each recipient, and of the message, in one transaction. The typed fields
 * (status, stage, reply_code, rcpt_code, dropped_after_dot, cancelled) are what a decision is
 * made from (disposition.h); the texts are only for people. */
struct submit_outcome {
	int status;		/* what submitter_send returned (EX_OK, EX_TEMPFAIL, ...) */
	enum submit_stage stage;	/* where it ended; SUBMIT_NOT_SENT when nothing was tried */
	bool dropped_after_dot;	/* the connection was lost (or timed out) after the final dot,
				 * before its reply: the relay may have the message */
	size_t nrcpt;
	int *rcpt_code;		/* the reply code to each RCPT TO, 0 when none came */
	char **rcpt_reply;	/* the reply text to each refused RCPT TO, else NULL */
	bool *rcpt_unsent;	/* true: refused by postie, never sent (an address that needs
				 * SMTPUTF8, which the relay does not offer): code 553 and a
				 * "5.6.7 ..." reply of postie's own */
	char reason[1024];	/* what failed, without the relay: "refused the message: 554 ..." */
	int reply_code;		/* the server's refusal that ended the transaction, or 0 when it
				 * ended without a reply (lost connection, timeout, TLS, input) */
	char reply_text[1024];	/* its text after the code ("5.7.1 no"), lines joined by " / " */
	bool cancelled;		/* stopped through params.cancel */
};

void submit_outcome_free(struct submit_outcome *o);

/* Where the message bytes come from: like message_read (count, 0 at the end, -1 with d). */
typedef ssize_t (*submit_read_fn)(void *ctx, char *buf, size_t n, struct diag *d);

/* Starts the message over from its first byte, for the next batch of recipients. Returns
 * EX_OK, or an error with d when the message cannot be read again. */
typedef int (*submit_rewind_fn)(void *ctx, struct diag *d);

struct submitter;

/* One libcurl handle; its connection is reused by later sends. Free with submitter_free. */
struct submitter *submitter_new(const struct submit_params *p);
void submitter_free(struct submitter *s);

/* Sends one message: MAIL FROM:<sender> ("" is the null sender), one RCPT TO per recipient,
 * DATA from read(ctx). More than max_rcpts recipients go out in several transactions, the
 * message read again through rewind(ctx) for each; a batch that fails as a whole leaves its
 * recipients with the failure's code (0 for a temporary one) in out. The addresses must have passed addr_check_envelope. Recipients the
 * server refuses are skipped and the others still get the message; out (freed with
 * submit_outcome_free) says what each RCPT TO was answered.
 * An address that needs SMTPUTF8 (addr_needs_smtputf8) goes out only when the relay offers it
 * (libcurl then adds SMTPUTF8 to MAIL FROM); otherwise such a recipient is refused without
 * being sent (rcpt_unsent), and such a sender refuses the whole message (EX_UNAVAILABLE,
 * stage SUBMIT_MAIL, reply_code 553: permanent). To know, a connection's first message with such an address sends a NOOP
 * first, to read the EHLO reply. When every recipient is refused that way: EX_NOUSER.
 * Returns EX_OK when the server accepted the message (250 after the final dot) for at least
 * one recipient; otherwise d
 * holds the status and "<url> refused <rcpt>: 550 5.1.1 no such user"-style text:
 * EX_TEMPFAIL for a 4xx reply, a refused connection, a timeout or a lost connection;
 * EX_NOUSER for a 5xx reply to RCPT; EX_UNAVAILABLE for other 5xx replies; EX_NOHOST for an
 * unknown host; EX_NOPERM for a refused authentication; EX_PROTOCOL for a reply that is not
 * SMTP; the reader's own status when it failed. */
int submitter_send(struct submitter *s, const char *sender, char *const *rcpt, size_t nrcpt,
		   submit_read_fn read, submit_rewind_fn rewind, void *ctx,
		   struct submit_outcome *out, struct diag *d);

/* The URL of the relay last tried, for messages. */
const char *submitter_url(const struct submitter *s);

/* The bearer token s sends (params.oauth2), or NULL: only for oauth2_forget_access to compare
 * with the stored one; never to be shown. */
const char *submitter_bearer(const struct submitter *s);

/* The first URL of the list: what the queue records an entry for. */
const char *submitter_primary_url(const struct submitter *s);

/* Connects, prints the greeting, the EHLO capabilities and, for TLS, the protocol, cipher and
 * the certificate's subject, issuer and expiry to out; sends no mail. Returns EX_OK or the
 * status of the failure with d, as submitter_send. */
int submitter_serverinfo(struct submitter *s, FILE *out, struct diag *d);

/* Appends libcurl's version and TLS backend ("libcurl 7.88.1 (OpenSSL/3.0.15)") to out. */
void submit_library_version(struct buf *out);

/* curl_global_init / curl_global_cleanup, once per process. */
int submit_global_init(struct diag *d);
void submit_global_cleanup(void);

#endif
