/* submit.h: envelope + a pull reader -> one SMTP transaction through libcurl, and the result as
 * a sysexits status with the server's own reply. The only module that includes curl.h; it knows
 * nothing of configuration files, headers or the queue. */
#ifndef POSTIE_SUBMIT_H
#define POSTIE_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

struct submit_params {
	const char *url;	/* "smtp://host[:port]" or "smtps://..." as configured */
	const char *helo;	/* the EHLO name */
	long timeout;		/* seconds to connect and to wait for each reply */
};

/* Where the message bytes come from: like message_read (count, 0 at the end, -1 with d). */
typedef ssize_t (*submit_read_fn)(void *ctx, char *buf, size_t n, struct diag *d);

struct submitter;

/* One libcurl handle; its connection is reused by later sends. Free with submitter_free. */
struct submitter *submitter_new(const struct submit_params *p);
void submitter_free(struct submitter *s);

/* Sends one message: MAIL FROM:<sender> ("" is the null sender), one RCPT TO per recipient,
 * DATA from read(ctx). The addresses must have passed addr_check_envelope.
 * Returns EX_OK when the server accepted the message (250 after the final dot); otherwise d
 * holds the status and "<url> refused <rcpt>: 550 5.1.1 no such user"-style text:
 * EX_TEMPFAIL for a 4xx reply, a refused connection, a timeout or a lost connection;
 * EX_NOUSER for a 5xx reply to RCPT; EX_UNAVAILABLE for other 5xx replies; EX_NOHOST for an
 * unknown host; EX_NOPERM for a refused authentication; EX_PROTOCOL for a reply that is not
 * SMTP; the reader's own status when it failed. */
int submitter_send(struct submitter *s, const char *sender, char *const *rcpt, size_t nrcpt,
		   submit_read_fn read, void *ctx, struct diag *d);

/* Appends libcurl's version and TLS backend ("libcurl 7.88.1 (OpenSSL/3.0.15)") to out. */
void submit_library_version(struct buf *out);

/* curl_global_init / curl_global_cleanup, once per process. */
int submit_global_init(struct diag *d);
void submit_global_cleanup(void);

#endif
