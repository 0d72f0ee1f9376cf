/* SPDX-License-Identifier: ISC */
/* bs.c: -bs glue (see bs.h): addresses of MAIL and RCPT checked as an operand would be, each
 * message opened from the DATA stream and handed to deliver_message, its outcome turned into
 * the reply to the final dot. It never writes a reply of 250 for mail that is not safe. */
#include "bs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "aliases.h"
#include "deliver.h"
#include "log.h"
#include "message.h"
#include "queue.h"
#include "queuerun.h"
#include "smtpd.h"
#include "submit.h"

struct smtp_session {
	struct run *r;
	struct submitter *sub;	/* one connection to the relay for the whole session */
	bool sent_any;
};

/* Parses, qualifies and checks an address from MAIL FROM or RCPT TO. */
static int session_address(struct smtp_session *ss, const char *addr, bool null_ok, char **out,
			   char *reply, size_t replylen)
{
	struct mailbox mb;
	struct diag why;
	if (addr_parse_one(addr, &mb, &why) != EX_OK) {
		snprintf(reply, replylen, "5.1.%d %s", null_ok ? 7 : 3, why.msg);
		return 553;
	}
	if (!*mb.addr) {
		mailbox_clear(&mb);
		if (!null_ok) {
			snprintf(reply, replylen, "5.1.3 the null address cannot be a recipient");
			return 553;
		}
		*out = xstrdup("");
		return 250;
	}
	const struct strlist *local_domains = &ss->r->env.local_domains;
	char *local = aliases_local_name(mb.addr, (const char *const *)local_domains->v,
					 local_domains->n);
	char *q = addr_qualify(local ? local : mb.addr, ss->r->env.domain);
	mailbox_clear(&mb);
	if (addr_check_envelope(q, &why) != EX_OK) {
		snprintf(reply, replylen, "5.1.%d %s", null_ok ? 7 : 3, why.msg);
		free(q);
		free(local);
		return 553;
	}
	if (local && !null_ok) {
		/* a local recipient stays a bare name, as an operand would: the message's aliases
		 * expand it at delivery, then it is qualified */
		free(q);
		*out = local;
	} else {
		free(local);
		*out = q;
	}
	return 250;
}

static int session_sender(void *ctx, const char *addr, char **out, char *reply, size_t replylen)
{
	int code = session_address(ctx, addr, true, out, reply, replylen);
	if (code == 250)
		snprintf(reply, replylen, "2.1.0 Ok");
	return code;
}

static int session_rcpt(void *ctx, const char *addr, char **out, char *reply, size_t replylen)
{
	int code = session_address(ctx, addr, false, out, reply, replylen);
	if (code == 250)
		snprintf(reply, replylen, "2.1.5 Ok");
	return code;
}

struct session_stream {
	smtpd_read_fn read;
	void *stream;
};

static ssize_t session_read(void *ctx, void *buf, size_t n)
{
	struct session_stream *st = ctx;
	return st->read(st->stream, buf, n);
}

/* One message of the session: the same engine and queue as a normal send. The reply to the
 * final dot is 250 only when the relay took it or it is durably queued. */
static int session_deliver(void *ctx, const char *sender, char *const *rcpts, size_t nrcpt,
			   smtpd_read_fn read, void *stream, char *reply, size_t replylen)
{
	struct smtp_session *ss = ctx;
	struct run *r = ss->r;
	struct strlist operands = { .v = (char **)rcpts, .n = nrcpt };
	/* the envelope smtpd took is the whole input: no -t, and DATA's end is its own */
	struct message_opts mo = { .sender_given = true, .sender = sender, .ignore_dots = true,
				   .operands = &operands };
	run_message_opts(r, &mo);
	struct session_stream st = { read, stream };
	struct message *msg = NULL;
	struct diag d = {0};
	r->now = run_now();
	int rc = message_open_stream(&msg, &mo, session_read, &st, &d);
	if (rc != EX_OK) {
		snprintf(reply, replylen, "%s %s", rc == EX_IOERR ? "4.3.0" : "5.6.0", d.msg);
		return rc == EX_IOERR ? 451 : 554;
	}
	struct delivery_report rep;
	rc = deliver_message(r, msg, NULL, NULL, &ss->sub, &rep, &d);
	message_free(msg);
	/* a read error is the session's end, which smtpd reports itself */
	if (rc != EX_OK && rc != EX_IOERR && d.msg[0])
		log_status("%s", d.msg);
	if (rep.unkept) {
		/* a 250 would drop them: better the client sends again, and some get it twice */
		if (rep.sent)
			ss->sent_any = true;
		snprintf(reply, replylen, "4.3.0 not delivered to every recipient, and the rest could"
			 " not be queued; send it again later");
		return 451;
	}
	if (rep.queued_id[0]) {
		snprintf(reply, replylen, "2.0.0 Ok: queued as %s", rep.queued_id);
		return 250;
	}
	if (rep.sent) {
		ss->sent_any = true;
		snprintf(reply, replylen, "2.0.0 Ok: sent");
		return 250;
	}
	if (rep.code >= 400 && rep.code < 600) {
		snprintf(reply, replylen, "%s", rep.text);
		return rep.code;
	}
	snprintf(reply, replylen, "4.3.0 %s", d.msg[0] ? d.msg : "not delivered");
	return 451;
}

int bs_serve(struct run *r, int cancel_fd, struct diag *d)
{
	struct smtp_session ss = { .r = r };
	struct smtpd_params p = {
		.domain = r->env.domain,
		.max_rcpts = 1000,
		.timeout = r->acct->timeout,
		.cancel = r->cancel,
		.cancel_fd = cancel_fd,
		.check_rcpt = session_rcpt,
		.check_sender = session_sender,
		.deliver = session_deliver,
		.ctx = &ss,
	};
	int rc = smtpd_run(&p, 0, 1, d);
	if (ss.sent_any)
		queue_pass_after_send(r, ss.sub, run_now() + QUEUE_PASS_AFTER_SEND_SECONDS);
	submitter_free(ss.sub);
	return rc;
}
