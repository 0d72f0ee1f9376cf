/* SPDX-License-Identifier: ISC */
/* deliver.c: one message, sent now or kept (see deliver.h): the tee into the spool, or, for a
 * regular file on stdin, the copy into the spool made only when the message is kept (and its
 * reading again for another batch); the commit to the queue or failed/, the settling of each
 * recipient, the report. What a reply means is disposition.c's; it never parses mail, speaks
 * SMTP or runs the queue. */
#include "deliver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "disposition.h"
#include "infile.h"
#include "log.h"
#include "maildrop.h"
#include "message.h"
#include "progress.h"
#include "queue.h"
#include "submit.h"
#include "user.h"

struct tee {
	struct delivery_report *report;	/* where the queued id goes, or NULL */
	const char *account;	/* the config account, recorded in queue entries */
	const char *primary;	/* the first relay URL, recorded in queue entries */
	long lifetime;		/* the account's queue-lifetime: an entry's expiry is fixed with it */
	struct message *msg;
	struct spool *spool;
	struct maildrop_put *drop;	/* instead of spool, for the system queue */
	bool spool_failed;
	struct diag spool_error;
	bool replay;		/* reading the spool back, for a further batch of recipients */
	unsigned long long replay_off;
	/* a regular file on stdin: nothing teed; the file is read again when needed */
	struct infile *file;
	unsigned long long bytes;	/* what the first reading gave, the header included */
	bool copied;			/* the spool holds the whole message */
	struct message *again;		/* the replay's reader, over again_pass */
	struct infile_pass *again_pass;
};

static ssize_t tee_read(void *ctx, char *buf, size_t n, struct diag *d)
{
	struct tee *t = ctx;
	if (t->replay && t->file) {
		ssize_t got = message_read(t->again, buf, n, d);
		if (got < 0 && errno == EILSEQ)
			diag_set(d, EX_TEMPFAIL, "stdin: the file changed after postie read it: the "
				 "message cannot be sent again as it was read");
		return got;
	}
	if (t->replay) {
		for (;;) {
			int fd = t->spool ? spool_fd(t->spool) : maildrop_put_fd(t->drop);
			ssize_t got = pread(fd, buf, n, (off_t)t->replay_off);
			if (got >= 0) {
				t->replay_off += (unsigned long long)got;
				return got;
			}
			if (errno != EINTR)
				return diag_set(d, EX_IOERR, "reading the spool: %s", strerror(errno)), -1;
		}
	}
	ssize_t got = message_read(t->msg, buf, n, d);
	if (got > 0)
		t->bytes += (unsigned long long)got;
	if (t->file)
		return got;
	if (got > 0 && t->spool && !t->spool_failed &&
	    spool_write(t->spool, buf, (size_t)got, &t->spool_error) != EX_OK)
		t->spool_failed = true;
	if (got > 0 && t->drop && !t->spool_failed &&
	    maildrop_put_write(t->drop, buf, (size_t)got, &t->spool_error) != EX_OK)
		t->spool_failed = true;	/* the send goes on; only a later queueing fails */
	return got;
}

/* Reads the rest of the message into the spool, so that what is kept is always the whole
 * message, never the part the relay saw before it failed. */
static int tee_drain(struct tee *t, struct diag *d)
{
	char chunk[65536];
	for (;;) {
		ssize_t got = tee_read(t, chunk, sizeof chunk, d);
		if (got < 0)
			return d->code;
		if (got == 0)
			return EX_OK;
	}
}

static void tee_release_again(struct tee *t)
{
	char note[256];
	message_free(t->again);
	infile_pass_end(t->again_pass, note, sizeof note);
	t->again = NULL;
	t->again_pass = NULL;
}

/* The next batch of recipients gets the message from the spool, whole; or from the file it
 * came from, the same bytes as the first reading took (a change fails that reading). */
static int tee_rewind(void *ctx, struct diag *d)
{
	struct tee *t = ctx;
	if (t->file) {
		if (!t->replay && tee_drain(t, d) != EX_OK)
			return d->code;
		tee_release_again(t);
		t->again_pass = infile_pass_new(t->file, true, true);
		t->again = message_again(t->msg, infile_pass_read, t->again_pass);
		t->replay = true;
		return EX_OK;
	}
	if (!t->replay && (t->spool || t->drop) && !t->spool_failed && tee_drain(t, d) != EX_OK)
		return d->code;
	if ((!t->spool && !t->drop) || t->spool_failed)
		return diag_set(d, EX_TEMPFAIL, "the message cannot be read again: no spool file");
	t->replay = true;
	t->replay_off = 0;
	return EX_OK;
}

/* Why the message could not be kept, or NULL when the spool is whole. */
static const char *tee_problem(const struct tee *t, const struct run *r)
{
	if (!t->spool && !t->drop)
		return r->queue_error.msg[0] ? r->queue_error.msg : "no queue";
	if (t->spool_failed)
		return t->spool_error.msg;
	return NULL;
}

/* A regular file on stdin, into the spool: the header as the message holds it, then the body
 * read again from the file by the same rules: what a tee would have written. When the file is
 * not what was read any more, one line says so, and it is kept as it is now (infile.h). */
static int tee_copy(struct tee *t, struct diag *d)
{
	if (t->copied)
		return EX_OK;
	struct infile_pass *pass = infile_pass_new(t->file, message_input_done(t->msg), false);
	struct message *again = message_again(t->msg, infile_pass_read, pass);
	char chunk[65536];
	int rc = EX_OK;
	for (;;) {
		ssize_t got = message_read(again, chunk, sizeof chunk, d);
		if (got < 0) {
			rc = d->code;
			break;
		}
		if (got == 0)
			break;
		if (spool_write(t->spool, chunk, (size_t)got, &t->spool_error) != EX_OK) {
			t->spool_failed = true;
			break;
		}
	}
	message_free(again);
	char note[256];
	if (infile_pass_end(pass, note, sizeof note))
		log_status("%s", note);
	t->copied = rc == EX_OK && !t->spool_failed;
	return rc;
}

/* Before a commit: the rest of the message read into the spool. Returns why it cannot be kept
 * (its text in t, r or why), or NULL when the spool holds the whole message. */
static const char *tee_complete(struct tee *t, const struct run *r, struct diag *why)
{
	const char *problem = tee_problem(t, r);
	if (!problem && (t->file ? tee_copy(t, why) : tee_drain(t, why)) != EX_OK)
		problem = why->msg;
	if (!problem && t->spool_failed)
		problem = t->spool_error.msg;
	return problem;
}

/* The message's size: the spool's, or what the first reading gave while nothing is copied. */
static unsigned long long tee_size(const struct tee *t)
{
	if (t->file && !t->copied)
		return t->bytes;
	return t->spool ? spool_size(t->spool) : 0;
}

static void report_queued(struct delivery_report *rep, const char *id)
{
	if (rep)
		snprintf(rep->queued_id, sizeof rep->queued_id, "%s", id);
}

/* What one commit keeps: the message, for these recipients, in the queue or in failed/. */
struct keep {
	char *const *rcpts;
	size_t n;
	long attempts;		/* made so far: the next one waits their backoff */
	const char *last_error;	/* or NULL */
	bool failed;		/* into failed/, not the queue */
	bool keep_spool;	/* a copy: another commit of the same spool follows */
};

/* Hands the message to the system queue: what commit does for a user's message through the
 * system configuration. Its envelope is the resolved one; pickup completes it again, trusting
 * only the recipients, the message and the uid. No failed/ of the system queue takes it: a
 * permanent failure is the caller's exit status. */
static int commit_drop(struct tee *t, const struct envelope *env, const struct keep *k,
		       char **id_out, struct diag *d)
{
	if (k->failed)
		return diag_set(d, EX_CANTCREAT, "the system queue keeps no failed message of a user");
	struct maildrop_entry e = { .sender_given = true, .sender = env->sender, .ignore_dots = true,
				    .created = time(NULL) };
	for (size_t i = 0; i < k->n; i++)
		strlist_add(&e.rcpts, k->rcpts[i]);
	char name[64];
	int rc = maildrop_put_commit(t->drop, &e, name, sizeof name, d);
	strlist_free(&e.rcpts);
	if (!k->keep_spool) {
		maildrop_put_discard(t->drop);
		t->drop = NULL;
	}
	if (rc == EX_OK && id_out)
		*id_out = xstrdup(name);
	if (rc == EX_OK)
		report_queued(t->report, name);
	return rc;
}

/* Commits the spool (or a copy of it, when k->keep_spool) as k says, for the relay it was
 * meant for; *id_out gets the entry's id. */
static int commit(struct tee *t, const struct run *r, const struct envelope *env,
		  const char *relay, const struct keep *k, char **id_out, struct diag *d)
{
	if (t->drop)
		return commit_drop(t, env, k, id_out, d);
	struct queue_meta m = {
		.sender = xstrdup(env->sender),
		.relay = xstrdup(t->primary ? t->primary : relay),
		.account = t->account ? xstrdup(t->account) : NULL,
		.created = r->now,
		.attempts = k->attempts,
		.next_attempt = k->attempts ? r->now + disposition_backoff(k->attempts) : r->now,
		.expires = r->now + t->lifetime,
		.last_error = k->last_error ? xstrdup(k->last_error) : NULL,
	};
	for (size_t i = 0; i < k->n; i++)
		strlist_add(&m.rcpts, k->rcpts[i]);
	int rc;
	if (k->keep_spool) {
		rc = spool_commit_copy(t->spool, &m, k->failed, d);
	} else {
		rc = spool_commit(t->spool, &m, k->failed, d);
		t->spool = NULL;
	}
	if (rc == EX_OK && id_out)
		*id_out = xstrdup(m.id);
	if (rc == EX_OK && !k->failed)
		report_queued(t->report, m.id);
	queue_meta_free(&m);
	return rc;
}

char *refusal_line(const char *relay, const char *rcpt, const struct submit_outcome *out,
		   size_t i)
{
	const char *reply = i < out->nrcpt && out->rcpt_reply[i] ? out->rcpt_reply[i] : "no reply";
	bool unsent = i < out->nrcpt && out->rcpt_unsent && out->rcpt_unsent[i];
	return xasprintf("%s %s <%s>: %s", relay, unsent ? "cannot take" : "refused", rcpt, reply);
}

/* After the transaction, when its recipients part ways (disposition.h: DISP_PER_RECIPIENT):
 * those to retry are queued for themselves only; those failed are kept in failed/. The last
 * line of a failure goes to d, which the caller reports with the status; the others are
 * printed. */
static int settle_recipients(struct run *r, struct tee *t, const struct envelope *env,
			     const struct submit_outcome *out, const enum disp_verdict *verdict,
			     const struct disposition *disp, const char *relay, struct diag *d)
{
	struct strlist temp = {0}, perm = {0};
	char *temp_reply = NULL, *perm_reply = NULL;
	bool accepted = out->status == EX_OK;
	for (size_t i = 0; i < env->nrcpt; i++) {
		if (verdict[i] == DISP_DELIVERED)
			continue;
		const char *reply = i < out->nrcpt && out->rcpt_reply[i] ? out->rcpt_reply[i] : NULL;
		char *line;
		if (reply || accepted)
			line = refusal_line(relay, env->rcpt[i], out, i);
		else	/* accepted at RCPT, then the message as a whole failed */
			line = xasprintf("%s unavailable for <%s> (%s)", relay, env->rcpt[i],
					 out->reason[0] ? out->reason : "no reply");
		log_status("%s", line);
		if (verdict[i] == DISP_FAILED) {
			strlist_add(&perm, env->rcpt[i]);
			if (!perm_reply)
				perm_reply = xstrdup(line);
		} else {
			strlist_add(&temp, env->rcpt[i]);
			if (!temp_reply)
				temp_reply = xstrdup(line);
		}
		free(line);
	}
	int rc = disp->exit_status;
	struct diag why = {0};
	const char *problem = temp.n || perm.n ? tee_complete(t, r, &why) : NULL;
	unsigned long long size = tee_size(t);
	char *temp_lost = NULL, *perm_kept = NULL;
	if (temp.n) {
		char *id = NULL;
		struct keep k = { .rcpts = temp.v, .n = temp.n, .attempts = disp->attempts,
				  .last_error = temp_reply, .keep_spool = perm.n > 0 };
		if (!problem && commit(t, r, env, relay, &k, &id, &why) == EX_OK) {
			log_status("queued as %s for %zu recipient%s, delivered by 'postie -q'",
				id, temp.n, temp.n == 1 ? "" : "s");
			log_delivery(id, env->sender, temp.n, size, relay, "queued", temp_reply);
		} else {
			temp_lost = xasprintf("%zu recipient%s not queued (%s): the message was not delivered to %s",
					      temp.n, temp.n == 1 ? "" : "s", problem ? problem : why.msg,
					      temp.n == 1 ? "it" : "them");
			rc = EX_TEMPFAIL;
			if (t->report)
				t->report->unkept = true;
		}
		free(id);
	}
	if (perm.n) {
		char *id = NULL;
		struct keep k = { .rcpts = perm.v, .n = perm.n, .attempts = disp->attempts,
				  .last_error = perm_reply, .failed = true };
		if (!problem && commit(t, r, env, relay, &k, &id, &why) == EX_OK) {
			perm_kept = xasprintf("saved as %s/failed/%s.msg", queue_path(r->queue), id);
			log_delivery(id, env->sender, perm.n, size, relay, "failed", perm_reply);
		} else {
			perm_kept = xasprintf("not saved (%s)", problem ? problem : why.msg);
		}
		free(id);
	}
	if (temp_lost && perm_kept)
		log_status("%s", perm_kept);
	if (rc != EX_OK)
		diag_set(d, rc, "%s", temp_lost ? temp_lost : perm_kept);
	free(temp_lost);
	free(perm_kept);
	strlist_free(&temp);
	strlist_free(&perm);
	free(temp_reply);
	free(perm_reply);
	return rc;
}

/* The message failed, and what becomes of it is not a matter of its recipients (else
 * settle_recipients): refused for good (failed/), or temporary (the queue), as disp says; an
 * input that could not be read whole is kept nowhere. */
static int settle_failure(struct run *r, struct tee *t, const struct envelope *env,
			  const struct submit_outcome *out, const enum disp_verdict *verdict,
			  const struct disposition *disp, const char *relay, struct diag *d)
{
	int status = out->status;
	if (disp->scope == DISP_NOT_KEPT) {
		if (out->cancelled)
			return diag_set(d, EX_TEMPFAIL,
					"interrupted before the whole message was read; nothing was queued");
		return status;	/* a read error: the caller still has the message */
	}
	if (disp->scope == DISP_PER_RECIPIENT)
		return settle_recipients(r, t, env, out, verdict, disp, relay, d);

	bool permanent = disp->failed > 0;
	struct diag why = {0};
	const char *problem = tee_complete(t, r, &why);
	char *id = NULL;
	unsigned long long size = tee_size(t);
	const char *reason = out->reason[0] ? out->reason : d->msg;
	char *last_error = xasprintf("%s %s", relay, reason);
	struct keep k = { .rcpts = env->rcpt, .n = env->nrcpt, .attempts = disp->attempts,
			  .last_error = last_error, .failed = permanent };
	int rc;
	if (problem) {
		rc = diag_set(d, status == EX_OK ? EX_TEMPFAIL : status,
			      "%s %s (%s); not queued (%s): the message was not accepted", relay,
			      permanent ? "refused it" : "unavailable", reason, problem);
	} else if (commit(t, r, env, relay, &k, &id, &why) != EX_OK) {
		rc = diag_set(d, permanent ? status : EX_TEMPFAIL,
			      "%s %s (%s); not queued (%s): the message was not accepted", relay,
			      permanent ? "refused it" : "unavailable", reason, why.msg);
	} else if (permanent) {
		log_delivery(id, env->sender, env->nrcpt, size, relay, "failed", reason);
		char *shown = xstrdup(d->msg);
		rc = diag_set(d, disp->exit_status, "%s; saved as %s/failed/%s.msg", shown,
			      queue_path(r->queue), id);
		free(shown);
	} else if (disp->exit_status != EX_OK) {
		/* kept for a later run, but the status tells the caller something needs fixing */
		log_delivery(id, env->sender, env->nrcpt, size, relay, "queued", reason);
		char *shown = xstrdup(d->msg);
		rc = diag_set(d, disp->exit_status, "%s; queued as %s, delivered by 'postie -q' once fixed",
			      shown, id);
		free(shown);
	} else {
		log_delivery(id, env->sender, env->nrcpt, size, relay, "queued", reason);
		log_status("%s unavailable (%s); queued as %s, delivered by 'postie -q'",
			relay, reason, id);
		rc = EX_OK;
	}
	free(id);
	free(last_error);
	return rc;
}

/* The one rule (disposition.h) applied to a send's outcome; verdict has env->nrcpt slots. */
static void decide_send(const struct run *r, const struct tee *t, const struct envelope *env,
			const struct submit_outcome *out, enum disp_verdict *verdict,
			struct disposition *disp)
{
	struct disposition_input in = {
		.out = out,
		.nrcpt = env->nrcpt,
		.from_queue = false,
		.input_whole = message_input_done(t->msg),
		.attempts = 0,
		.now = r->now,
	};
	disposition_decide(&in, verdict, disp);
}

/* One submitter_send of the message, with the progress line around it. */
static int send_once(struct submitter *sub, struct tee *t, const struct envelope *env,
		     struct progress *progress, struct submit_outcome *out, struct diag *d)
{
	if (progress)
		progress_start(progress);
	int rc = submitter_send(sub, env->sender, env->rcpt, env->nrcpt, tee_read, tee_rewind, t,
				out, d);
	if (progress)
		progress_end(progress);
	return rc;
}

/* -odq, `delivery queue`: the whole message into the queue, nothing sent. */
static int queue_only(struct run *r, struct tee *t, const struct envelope *env, struct diag *d)
{
	struct diag why = {0};
	char *id = NULL;
	const char *problem = tee_complete(t, r, &why);
	unsigned long long spool_bytes = tee_size(t);
	struct keep k = { .rcpts = env->rcpt, .n = env->nrcpt };
	if (!problem && commit(t, r, env, t->primary, &k, &id, &why) != EX_OK)
		problem = why.msg;
	int rc = EX_OK;
	if (problem)
		rc = diag_set(d, EX_TEMPFAIL, "not queued (%s): the message was not accepted", problem);
	else
		log_delivery(id, env->sender, env->nrcpt, spool_bytes, t->primary, "queued",
			     "delivery queue");
	free(id);
	return rc;
}

int deliver_message(struct run *r, struct message *msg, struct infile *in,
		    struct progress *progress, struct submitter **sub, struct delivery_report *rep,
		    struct diag *d)
{
	struct submit_outcome out = {0};
	struct tee t = { .msg = msg, .account = r->acct->name, .primary = r->acct->relay[0],
			 .lifetime = r->acct->queue_lifetime, .report = rep,
			 .file = r->maildrop ? NULL : in };
	const struct envelope *env = message_envelope(msg);
	const char *relay = t.primary;
	int rc;
	memset(rep, 0, sizeof *rep);
	if (r->maildrop) {
		if (maildrop_put_open(MAILDROP_DIR, &t.drop, &r->queue_error) != EX_OK)
			t.drop = NULL;
	} else if (run_open_queue(r) == EX_OK &&
		   spool_create(r->queue, r->now, &t.spool, &r->queue_error) != EX_OK) {
		t.spool = NULL;
	}

	if (r->delivery == DELIVERY_QUEUE) {
		rc = queue_only(r, &t, env, d);
		spool_discard(t.spool);
		maildrop_put_discard(t.drop);
		tee_release_again(&t);
		return rc;
	}

	enum disp_verdict *verdict = xcalloc(env->nrcpt ? env->nrcpt : 1, sizeof *verdict);
	struct disposition disp;
	rc = *sub ? EX_OK : run_submitter(r, r->acct, progress, sub, d);
	if (rc == EX_OK) {
		rc = send_once(*sub, &t, env, progress, &out, d);
		if (rc != EX_OK && run_token_refused(r->acct, &out)) {
			/* a stale token: one refresh and one retry; AUTH comes before MAIL, so
			 * nothing of the message was read yet */
			submit_outcome_free(&out);
			memset(&out, 0, sizeof out);
			struct submitter *old = *sub;
			rc = run_renew_token(r, r->acct, progress, old, sub, d);
			submitter_free(old);
			if (rc == EX_OK) {
				rc = send_once(*sub, &t, env, progress, &out, d);
				if (rc != EX_OK && run_token_refused(r->acct, &out))
					run_token_refused_again(r->acct, &out, d);
			}
		}
	}
	if (rc != EX_OK && !*sub) {
		/* no secret: keep the message for a later run rather than drop it */
		snprintf(out.reason, sizeof out.reason, "%s", d->msg);
		out.status = rc;
		decide_send(r, &t, env, &out, verdict, &disp);
		rc = settle_failure(r, &t, env, &out, verdict, &disp, relay, d);
	} else {
		relay = submitter_url(*sub);
		unsigned long long size = tee_size(&t);
		decide_send(r, &t, env, &out, verdict, &disp);
		if (rc == EX_OK) {
			log_delivery(t.spool ? spool_id(t.spool) : NULL, env->sender, env->nrcpt, size,
				     relay, "sent", NULL);
			rep->sent = true;
			rc = settle_recipients(r, &t, env, &out, verdict, &disp, relay, d);
		} else {
			rc = settle_failure(r, &t, env, &out, verdict, &disp, relay, d);
			if (!rep->queued_id[0]) {
				rep->code = out.reply_code;
				snprintf(rep->text, sizeof rep->text, "%s", out.reply_text);
			}
		}
	}
	free(verdict);
	submit_outcome_free(&out);
	spool_discard(t.spool);
	maildrop_put_discard(t.drop);
	tee_release_again(&t);
	return rc;
}

int hand_over(const struct cli_opts *o, const struct diag *why, struct diag *d)
{
	struct maildrop_put *p = NULL;
	char name[64];
	int rc = config_drop_privileges(d);
	if (rc == EX_OK && !o->extract && o->operands.n == 0)
		rc = diag_set(d, EX_USAGE, "no recipients: give them as arguments, or -t");
	if (rc == EX_OK)
		rc = maildrop_put_open(MAILDROP_DIR, &p, d);
	if (rc == EX_OK) {
		const volatile sig_atomic_t *cancel = run_catch_signals();
		rc = maildrop_put_read(p, STDIN_FILENO, o->ignore_dots, cancel, d);
	}
	if (rc == EX_OK) {
		/* -F, else the caller's $NAME; pickup takes the GECOS name of the uid otherwise */
		char *name_env = o->full_name || !getenv("NAME") ? NULL
				 : user_full_name(getuid(), getenv("NAME"));
		struct maildrop_entry e = {
			.created = time(NULL), .sender_given = o->sender_given, .sender = o->sender,
			.full_name = o->full_name ? o->full_name : name_env, .extract = o->extract,
			.ignore_dots = o->ignore_dots, .rcpts = o->operands,
		};
		rc = maildrop_put_commit(p, &e, name, sizeof name, d);
		free(name_env);
	}
	maildrop_put_discard(p);
	if (rc != EX_OK) {
		char *what = xstrdup(d->msg);
		rc = diag_set(d, rc == EX_USAGE || rc == EX_DATAERR ? rc : EX_TEMPFAIL,
			      "%s; not handed to the system queue (%s): the message was not accepted",
			      why->msg, what);
		free(what);
		return rc;
	}
	log_status("%s; handed to the system queue as %s, delivered by root's 'postie -q'",
		   why->msg, name);
	return EX_OK;
}
