/* SPDX-License-Identifier: ISC */
/* queuerun.c: a pass over the queue (see queuerun.h): due and expiry, backoff, a handle per
 * account, each entry's outcome written back before the next; pickup, --delete, --requeue.
 * What a reply means is disposition.c's, the storage queue.c's; it never reads the caller's
 * message. */
#include "queuerun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "address.h"
#include "deliver.h"
#include "disposition.h"
#include "log.h"
#include "maildrop.h"
#include "pickup.h"
#include "queue.h"
#include "submit.h"

struct fd_reader {
	int fd;
};

static int rewind_fd(void *ctx, struct diag *d)
{
	struct fd_reader *f = ctx;
	if (lseek(f->fd, 0, SEEK_SET) < 0)
		return diag_set(d, EX_IOERR, "rereading a queue entry: %s", strerror(errno));
	return EX_OK;
}

static ssize_t read_fd(void *ctx, char *buf, size_t n, struct diag *d)
{
	struct fd_reader *f = ctx;
	for (;;) {
		ssize_t got = read(f->fd, buf, n);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return diag_set(d, EX_IOERR, "reading a queue entry: %s", strerror(errno)), -1;
	}
}

/* One libcurl handle per account, so that a pass delivers over one connection per relay. An
 * account whose handle could not be made (its password-command failed) is remembered with
 * why, so that the pass neither retries it for each entry nor says so more than once. */
struct handles {
	const struct account **acct;
	struct submitter **v;	/* NULL: could not be made, see why */
	struct diag *why;
	struct submitter *reuse;	/* the caller's: never freed here */
	bool *refused;		/* the relay refused its token even after a refresh: the pass
				 * sends nothing more through it (why says so) */
	size_t n;
};

static struct submitter *handle_for(struct handles *h, struct run *r, const struct account *a,
				    struct diag *d)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->acct[i] == a) {
			if (!h->v[i] || h->refused[i]) {
				*d = h->why[i];
				return NULL;
			}
			return h->v[i];
		}
	struct submitter *sub = NULL;
	struct diag why = {0};
	if (run_submitter(r, a, NULL, &sub, &why) != EX_OK) {
		sub = NULL;
		*d = why;
		log_status("%s; its queue entries stay queued", why.msg);
	}
	h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
	h->acct = xreallocarray(h->acct, h->n + 1, sizeof *h->acct);
	h->why = xreallocarray(h->why, h->n + 1, sizeof *h->why);
	h->refused = xreallocarray(h->refused, h->n + 1, sizeof *h->refused);
	h->acct[h->n] = a;
	h->why[h->n] = why;
	h->refused[h->n] = false;
	return h->v[h->n++] = sub;
}

/* The relay refused the token a's handle sent (run_token_refused): the handle made anew with a
 * refreshed token, and entry fr sent once more through it into *out (emptied first). Returns
 * the handle to speak of: the new one, or NULL when no token could be had (out and d then say
 * why, and the account's later entries stay queued). A second refusal is worded as
 * run_token_refused_again says, and the pass sends nothing more through that account. */
static struct submitter *resend_with_new_token(struct handles *h, struct run *r,
					       const struct account *a, const struct queue_meta *m,
					       struct fd_reader *fr, struct submit_outcome *out,
					       struct diag *d)
{
	size_t i = 0;
	while (h->acct[i] != a)
		i++;
	submit_outcome_free(out);
	memset(out, 0, sizeof *out);
	struct diag why = {0};
	struct submitter *old = h->v[i];
	int rc = run_renew_token(r, a, NULL, old, &h->v[i], &why);
	if (old != h->reuse)
		submitter_free(old);
	if (rc != EX_OK) {
		h->why[i] = why;
		*d = why;
		out->status = why.code;
		snprintf(out->reason, sizeof out->reason, "%s", why.msg);
		log_status("%s; its queue entries stay queued", why.msg);
		return NULL;
	}
	if (rewind_fd(fr, d) != EX_OK) {
		out->status = d->code;
		snprintf(out->reason, sizeof out->reason, "%s", d->msg);
		return h->v[i];
	}
	submitter_send(h->v[i], m->sender, m->rcpts.v, m->rcpts.n, read_fd, rewind_fd, fr, out, d);
	if (run_token_refused(a, out)) {
		run_token_refused_again(a, out, d);
		h->refused[i] = true;
		h->why[i] = *d;
		log_status("%s; its queue entries stay queued", d->msg);
	}
	return h->v[i];
}

/* A copy of src to write back, with its recipients when with_rcpts (else none yet). */
static void copy_meta(struct queue_meta *dst, const struct queue_meta *src, bool with_rcpts)
{
	memset(dst, 0, sizeof *dst);
	dst->id = xstrdup(src->id);
	dst->sender = xstrdup(src->sender);
	dst->relay = xstrdup(src->relay);
	dst->account = src->account ? xstrdup(src->account) : NULL;
	dst->created = src->created;
	dst->next_attempt = src->next_attempt;
	dst->expires = src->expires;
	dst->attempts = src->attempts;
	dst->last_error = src->last_error ? xstrdup(src->last_error) : NULL;
	dst->size = src->size;
	for (size_t i = 0; with_rcpts && i < src->rcpts.n; i++)
		strlist_add(&dst->rcpts, src->rcpts.v[i]);
}

/* "5 days", "12 hours", "30 minutes" or "90 seconds". */
static void duration_text(long seconds, char *out, size_t n)
{
	static const struct { long unit; const char *name; } units[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" },
	};
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		if (seconds % units[i].unit == 0 || units[i].unit == 1) {
			long k = seconds / units[i].unit;
			snprintf(out, n, "%ld %s%s", k, units[i].name, k == 1 ? "" : "s");
			return;
		}
	}
}

/* The account an entry goes through: the one it records, as the configuration names it now,
 * or the top-level settings for an entry that records none. NULL with d when that account is
 * no longer configured: an entry is never sent with the settings of another. */
static const struct account *entry_account(const struct run *r, const struct queue_meta *m,
					   struct diag *d)
{
	return config_pick(&r->cfg, m->account, NULL, d);
}

/* When an entry is given up: the time fixed in it when it was written, or, for an entry of an
 * older postie that stored none, its creation plus the queue-lifetime of its account as
 * configured now (of the top-level settings when that account is gone). */
static long long entry_expiry(const struct run *r, const struct queue_meta *m)
{
	if (m->expires)
		return m->expires;
	struct diag ignored;
	const struct account *a = entry_account(r, m, &ignored);
	if (!a)
		a = config_pick(&r->cfg, NULL, NULL, &ignored);
	long lifetime = a ? a->queue_lifetime : CONFIG_DEFAULT_QUEUE_LIFETIME;
	/* a tampered created time must not overflow */
	return m->created > 0x7fffffffffffffffLL - lifetime ? 0x7fffffffffffffffLL
							    : m->created + lifetime;
}

static bool entry_expired(const struct run *r, const struct queue_meta *m)
{
	return disposition_expired(entry_expiry(r, m), r->now);
}

/* Whether pass p leaves entry m to its backoff: only what is due, and its retry time has not
 * come, and it has not expired (an expired entry goes to failed/ now). */
static bool entry_waits(const struct run *r, const struct queue_pass *p, const struct queue_meta *m)
{
	return p->due_only && m->next_attempt > r->now && !entry_expired(r, m);
}

/* Moves a locked entry to failed/ for good, with last_error (taken), before any attempt. */
static int fail_entry(struct queue_lock *l, char *last_error, struct diag *d)
{
	struct queue_meta next;
	copy_meta(&next, queue_lock_meta(l), true);
	free(next.last_error);
	next.last_error = last_error;
	int rc = queue_move_failed(l, &next, d);
	queue_meta_free(&next);
	return rc;
}

/* The text an entry keeps of its deferral: the first recipient refused with a 4xx, else the
 * reason of the whole transaction. The caller frees it. */
static char *deferral_text(const char *relay, const struct queue_meta *m,
			   const struct submit_outcome *out, const struct diag *d)
{
	for (size_t i = 0; i < out->nrcpt && out->status == EX_OK; i++)
		if (out->rcpt_code[i] >= 400 && out->rcpt_code[i] < 500 && out->rcpt_reply[i])
			return refusal_line(relay, m->rcpts.v[i], out, i);
	return xasprintf("%s %s", relay, out->reason[0] ? out->reason : d->msg);
}

/* Delivers one locked entry through account a and records the outcome: removed, updated, or
 * moved to failed/, as disposition_decide says. Before a byte is sent the entry is claimed
 * (queue_claim): its attempt is counted on disk first, so that a queue that cannot record the
 * outcome is never sent from, and a pass that dies in flight is seen by the next. Returns what
 * became of it: 's' sent, 'q' still queued (why in *said), 'f' failed (said on stderr), 'x'
 * not sent because its attempt cannot be recorded, 'e' attempted but its outcome not
 * recorded (for both, why in *said: the pass stops there). */
static char deliver_entry(struct run *r, struct handles *h, struct queue_lock *l,
			  const struct account *a, struct diag *said)
{
	const struct queue_meta *m = queue_lock_meta(l);
	struct queue_meta next;
	struct diag d = {0}, why = {0};
	char result;

	for (size_t i = 0; i < m->rcpts.n; i++) {
		if (addr_check_envelope(m->rcpts.v[i], &why) != EX_OK ||
		    (*m->sender && addr_check_envelope(m->sender, &why) != EX_OK)) {
			log_status("queue entry %s: %s; moved to failed/", m->id, why.msg);
			fail_entry(l, xasprintf("refused: %s", why.msg), &d);
			return 'f';
		}
	}
	long long expiry = entry_expiry(r, m);
	if (disposition_expired(expiry, r->now)) {
		char lifetime[48];
		long long kept = expiry - m->created;
		duration_text(kept < 1 ? 1 : kept > 0x7fffffffL ? 0x7fffffffL : (long)kept, lifetime,
			      sizeof lifetime);
		int rc = fail_entry(l, xasprintf("expired after %s in the queue; last error: %s",
						 lifetime, m->last_error ? m->last_error : "none"), &d);
		log_status("queue entry %s expired; %s", m->id,
			rc == EX_OK ? "moved to failed/" : d.msg);
		log_delivery(m->id, m->sender, m->rcpts.n, m->size, m->relay, "failed", "expired");
		return 'f';
	}

	/* the claim: the attempt is on disk before a byte goes out, or nothing goes out */
	long long claimed_before = m->claimed;
	long attempts_before = m->attempts;
	if (queue_claim(l, r->now, r->now + disposition_backoff(attempts_before + 1), &why) != EX_OK) {
		diag_set(said, EX_TEMPFAIL, "queue entry %s not sent: its attempt cannot be recorded (%s)",
			 m->id, why.msg);
		return 'x';
	}
	if (claimed_before)
		log_status("queue entry %s: a run that did not finish was sending it; sent again, so "
			   "a recipient may get it twice", m->id);

	struct submit_outcome out = {0};
	struct submitter *sub = handle_for(h, r, a, &d);
	if (sub) {
		struct fd_reader fr = { queue_lock_fd(l) };
		submitter_send(sub, m->sender, m->rcpts.v, m->rcpts.n, read_fd, rewind_fd, &fr, &out, &d);
		if (run_token_refused(a, &out))
			sub = resend_with_new_token(h, r, a, m, &fr, &out, &d);
	} else {
		out.status = d.code;
		snprintf(out.reason, sizeof out.reason, "%s", d.msg);
	}
	/* the relay of the entry's account as configured now (man postie(1), THE QUEUE) */
	const char *relay = sub ? submitter_url(sub) : m->relay;
	enum disp_verdict *verdict = xcalloc(m->rcpts.n ? m->rcpts.n : 1, sizeof *verdict);
	struct disposition disp;
	struct disposition_input in = {
		.out = &out, .nrcpt = m->rcpts.n, .from_queue = true, .input_whole = true,
		.attempts = attempts_before, .now = r->now,
	};
	disposition_decide(&in, verdict, &disp);

	copy_meta(&next, m, false);
	next.attempts = disp.attempts;
	next.next_attempt = disp.next_attempt;
	if (sub) {
		free(next.relay);
		next.relay = xstrdup(submitter_primary_url(sub));
	}
	struct strlist perm = {0};
	char *perm_reply = NULL;
	for (size_t i = 0; i < m->rcpts.n; i++) {
		if (verdict[i] == DISP_DELIVERED)
			continue;
		if (verdict[i] == DISP_RETRY) {
			strlist_add(&next.rcpts, m->rcpts.v[i]);
			continue;
		}
		strlist_add(&perm, m->rcpts.v[i]);
		if (!perm_reply && !disp.whole_refused)
			perm_reply = refusal_line(relay, m->rcpts.v[i], &out, i);
	}
	if (disp.whole_refused)	/* a 5xx to MAIL, DATA or the message: every recipient fails */
		perm_reply = xasprintf("%s %s", relay, out.reason);
	bool recorded = true;
	int rc;
	if (perm.n) {
		struct queue_meta failed;
		copy_meta(&failed, m, false);
		free(failed.last_error);
		failed.last_error = xstrdup(perm_reply);
		for (size_t i = 0; i < perm.n; i++)
			strlist_add(&failed.rcpts, perm.v[i]);
		failed.attempts = next.attempts;
		if (next.rcpts.n)
			rc = queue_lock_copy(l, &failed, true, &why);
		else
			rc = queue_move_failed(l, &failed, &why);
		log_status("queue entry %s: %s; %s", m->id, perm_reply,
			rc == EX_OK ? "moved to failed/" : why.msg);
		log_delivery(m->id, m->sender, perm.n, m->size, relay, "failed", perm_reply);
		if (rc != EX_OK && next.rcpts.n) {
			/* not in failed/: they stay queued rather than vanish */
			for (size_t i = 0; i < perm.n; i++)
				strlist_add(&next.rcpts, perm.v[i]);
		} else if (rc != EX_OK) {
			recorded = false;
			diag_set(said, EX_TEMPFAIL, "queue entry %s: its outcome cannot be recorded (%s)",
				 m->id, why.msg);
		}
		queue_meta_free(&failed);
	}
	if (next.rcpts.n) {
		free(next.last_error);
		next.last_error = deferral_text(relay, m, &out, &d);
		if (queue_update(l, &next, &why) != EX_OK) {
			recorded = false;
			diag_set(said, EX_TEMPFAIL, "queue entry %s: %s%s; the next run sends it again",
				 m->id, disp.delivered ? "delivered in part, but that cannot be recorded: "
						       : "its outcome cannot be recorded: ", why.msg);
		} else {
			diag_set(said, EX_TEMPFAIL, "%s", next.last_error);
		}
		log_delivery(m->id, m->sender, next.rcpts.n, m->size, relay, "deferred", next.last_error);
		result = recorded ? 'q' : 'e';
	} else if (perm.n) {
		result = recorded ? 'f' : 'e';
	} else {
		if (queue_remove(l, &why) != EX_OK) {
			recorded = false;
			diag_set(said, EX_TEMPFAIL, "queue entry %s: delivered, but it cannot be removed "
				 "(%s); the next run sends it again", m->id, why.msg);
		}
		log_delivery(m->id, m->sender, m->rcpts.n, m->size, relay, "sent", NULL);
		result = recorded ? 's' : 'e';
	}
	strlist_free(&perm);
	free(perm_reply);
	free(verdict);
	submit_outcome_free(&out);
	queue_meta_free(&next);
	return result;
}

/* Whether haystack holds needle, case ignored. */
static bool holds_text(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = haystack; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

/* Whether the selections pick entry m, as sendmail's do: an entry must satisfy each kind given
 * (I, R, S), and one selection of a kind is enough; -q!X is satisfied by an entry that does not
 * hold the text (no recipient holds it, for R). */
static bool entry_selected(const struct queue_pass *p, const struct queue_meta *m)
{
	for (const char *kind = "IRS"; *kind; kind++) {
		bool given = false, satisfied = false;
		for (size_t i = 0; i < p->nselect; i++) {
			const struct cli_select *sel = &p->select[i];
			if (sel->kind != *kind)
				continue;
			given = true;
			bool holds = false;
			if (*kind == 'I')
				holds = holds_text(m->id, sel->text);
			else if (*kind == 'S')
				holds = holds_text(m->sender, sel->text);
			for (size_t k = 0; *kind == 'R' && k < m->rcpts.n && !holds; k++)
				holds = holds_text(m->rcpts.v[k], sel->text);
			satisfied = satisfied || holds != sel->negate;
		}
		if (given && !satisfied)
			return false;
	}
	return true;
}

/* An entry whose account is gone stays queued, retried on the usual backoff, so that the
 * administrator can put the account back (or move the entry); the pass says so each time. */
static void keep_without_account(struct run *r, struct queue_lock *l, const struct diag *why)
{
	const struct queue_meta *m = queue_lock_meta(l);
	struct queue_meta next;
	struct diag d;
	copy_meta(&next, m, true);
	next.attempts = m->attempts + 1;
	next.next_attempt = r->now + disposition_backoff(next.attempts);
	free(next.last_error);
	next.last_error = xstrdup(why->msg);
	if (queue_update(l, &next, &d) == EX_OK)
		log_status("queue entry %s: %s; it stays in the queue, unsent", m->id,
			why->msg);
	else
		log_status("queue entry %s: %s; unsent (%s)", m->id, why->msg, d.msg);
	log_delivery(m->id, m->sender, m->rcpts.n, m->size, m->relay, "deferred", why->msg);
	queue_meta_free(&next);
}

int queue_pass_run(struct run *r, struct submitter *reuse, const struct queue_pass *p,
		   struct diag *d)
{
	struct queue_meta *list = NULL;
	size_t n = 0;
	struct strlist problems = {0}, removed = {0};
	/* what runs that died left: the envelope of a delivered entry, an update's temporary */
	queue_sweep_removed(r->queue, &removed);
	for (size_t i = 0; p->report && i < removed.n; i++)
		log_status("%s: removed, left by a run that did not finish", removed.v[i]);
	strlist_free(&removed);
	int rc = queue_list(r->queue, false, &list, &n, &problems, d);
	for (size_t i = 0; i < problems.n; i++)
		log_status("%s: refused, not sent", problems.v[i]);
	struct handles h = {0};
	if (reuse) {
		h.v = xmalloc(sizeof *h.v);
		h.acct = xmalloc(sizeof *h.acct);
		h.why = xcalloc(1, sizeof *h.why);
		h.refused = xcalloc(1, sizeof *h.refused);
		h.v[0] = h.reuse = reuse;
		h.acct[0] = r->acct;
		h.n = 1;
	}
	size_t attempted = 0, waiting = 0, unselected = 0;
	for (size_t i = 0; rc == EX_OK && i < n && !*r->cancel; i++) {
		if (p->deadline && time(NULL) >= p->deadline)
			break;
		if (p->only_relay && strcmp(list[i].relay, p->only_relay) != 0)
			continue;
		if (!entry_selected(p, &list[i])) {
			unselected++;
			continue;
		}
		if (entry_waits(r, p, &list[i])) {
			waiting++;
			continue;
		}
		struct queue_lock *l = NULL;
		struct diag why = {0};
		int lrc = queue_lock(r->queue, list[i].id, &l, &why);
		if (lrc == EX_TEMPFAIL)
			continue;	/* another run has it, or delivered it meanwhile */
		if (lrc != EX_OK) {
			log_status("%s: refused, not sent", why.msg);
			continue;
		}
		/* read again under the lock: a run may have attempted it since the listing, and
		 * then this pass leaves it to the backoff (at most one attempt among the runs of
		 * one moment, such as three concurrent postie -q) */
		const struct queue_meta *m = queue_lock_meta(l);
		if (entry_waits(r, p, m) || m->attempts != list[i].attempts) {
			queue_unlock(l);
			continue;
		}
		attempted++;
		const struct account *a = entry_account(r, m, &why);
		if (!a && !entry_expired(r, m)) {
			keep_without_account(r, l, &why);
			queue_unlock(l);
			continue;
		}
		struct diag said = {0};
		size_t nrcpt = m->rcpts.n;
		char *id = xstrdup(m->id);
		/* an expired entry goes to failed/ before its account is used */
		char result = deliver_entry(r, &h, l, a ? a : r->acct, &said);
		if (p->report && result == 's')
			log_status("queue entry %s: delivered to %zu recipient%s", id,
				nrcpt, nrcpt == 1 ? "" : "s");
		else if (p->report && result == 'q')
			log_status("queue entry %s: deferred: %s", id, said.msg);
		free(id);
		queue_unlock(l);
		if (result == 'x' || result == 'e')	/* the queue cannot record: stop sending */
			rc = diag_set(d, EX_TEMPFAIL, "%s", said.msg);
	}
	if (p->report && rc == EX_OK && attempted == 0 && !*r->cancel) {
		/* a person who asked for a run learns why nothing happened */
		if (n == 0 && problems.n == 0)
			log_status("the queue is empty");
		else if (waiting)
			log_status("nothing is due: %zu %s for %s retry time ('postie -q' "
				"attempts %s now)", waiting, waiting == 1 ? "entry waits" : "entries wait",
				waiting == 1 ? "its" : "their", waiting == 1 ? "it" : "them");
		else if (unselected == n)
			log_status("no queue entry is selected (%zu in the queue)", n);
	}
	for (size_t i = 0; i < h.n; i++)
		if (h.v[i] != reuse)
			submitter_free(h.v[i]);
	free(h.v);
	free(h.acct);
	free(h.why);
	free(h.refused);
	strlist_free(&problems);
	queue_list_free(list, n);
	return rc;
}

void queue_pass_after_send(struct run *r, struct submitter *sub, time_t deadline)
{
	if (!r->queue || !sub || *r->cancel)
		return;
	struct queue_pass p = { .due_only = true, .only_relay = r->acct->relay[0],
				.deadline = deadline };
	struct diag ignored;
	queue_pass_run(r, sub, &p, &ignored);
}

void queue_pass_pickup(struct run *r, bool report, struct diag *d)
{
	struct pickup_params p = {
		.maildrop = MAILDROP_DIR,
		.refused = MAILDROP_REFUSED_DIR,
		.max_bytes = MAILDROP_MAX_BYTES,
		.queue = r->queue,
		.cfg = &r->cfg,
		.domain = r->env.domain,
		.received_host = r->env.received_host,
		.aliases = r->aliases,
		.local_domains = (const char *const *)r->env.local_domains.v,
		.nlocal_domains = r->env.local_domains.n,
		.now = r->now,
	};
	struct strlist picked = {0}, refused = {0};
	pickup_run(&p, &picked, &refused, d);
	for (size_t i = 0; i < refused.n; i++) {
		log_status("%s", refused.v[i]);
		log_record("id=- status=refused reply=%s", refused.v[i]);
	}
	for (size_t i = 0; report && i < picked.n; i++)
		log_status("%s", picked.v[i]);
	strlist_free(&picked);
	strlist_free(&refused);
}

/* What --delete or --requeue does to one locked entry (failed: it is in failed/). */
typedef int entry_action(struct run *r, struct queue_lock *l, bool failed, struct diag *d);

/* The preamble both share: entry id locked wherever it is (q/ or failed/), act on it, unlock. */
static int with_entry(struct run *r, const char *id, entry_action *act, struct diag *d)
{
	struct queue_lock *l = NULL;
	bool failed;
	int rc = queue_lock_any(r->queue, id, &l, &failed, d);
	if (rc != EX_OK)
		return rc;
	rc = act(r, l, failed, d);
	queue_unlock(l);
	return rc;
}

static int delete_locked(struct run *r, struct queue_lock *l, bool failed, struct diag *d)
{
	(void)r;	/* an entry_action: delete needs nothing of the run */
	const struct queue_meta *m = queue_lock_meta(l);
	int rc = queue_remove(l, d);
	if (rc == EX_OK) {
		log_status("queue entry %s: deleted%s", m->id, failed ? " from failed/" : "");
		log_delivery(m->id, m->sender, m->rcpts.n, m->size, m->relay, "deleted", NULL);
	}
	return rc;
}

static int requeue_locked(struct run *r, struct queue_lock *l, bool failed, struct diag *d)
{
	const struct queue_meta *m = queue_lock_meta(l);
	if (!failed)
		return diag_set(d, EX_USAGE, "queue entry %s: not in failed/: it is queued, and "
				"'postie -q' attempts it now", m->id);
	struct queue_meta next;
	copy_meta(&next, m, true);
	next.attempts = 0;
	next.next_attempt = r->now;
	struct diag ignored;
	const struct account *a = entry_account(r, m, &ignored);
	if (!a)
		a = r->acct;	/* the pass will say the account is gone */
	next.expires = r->now + a->queue_lifetime;
	int rc = queue_requeue(l, &next, d);
	if (rc == EX_OK) {
		log_status("queue entry %s: back in the queue from failed/, "
			"delivered by 'postie -q'", m->id);
		log_delivery(m->id, m->sender, m->rcpts.n, m->size, m->relay, "requeued", NULL);
	}
	queue_meta_free(&next);
	return rc;
}

int queue_entry_delete(struct run *r, const char *id, struct diag *d)
{
	return with_entry(r, id, delete_locked, d);
}

int queue_entry_requeue(struct run *r, const char *id, struct diag *d)
{
	return with_entry(r, id, requeue_locked, d);
}
