/* SPDX-License-Identifier: ISC */
/* disposition.c: the one rule for what a reply means (see disposition.h). It must never look
 * at the text of a reply, read a file or the clock, or print: only the typed outcome counts. */
#include "disposition.h"

#include <string.h>

#include "util.h"

long disposition_backoff(long attempts)
{
	long delay = DISPOSITION_BACKOFF_FIRST;
	for (long i = 1; i < attempts && delay < DISPOSITION_BACKOFF_MAX; i++)
		delay *= 2;
	return delay < DISPOSITION_BACKOFF_MAX ? delay : DISPOSITION_BACKOFF_MAX;
}

bool disposition_expired(long long expires, long long now)
{
	return expires != 0 && expires <= now;
}

/* Statuses of a failure that is kept for a later run but that someone has to fix first: the
 * caller is told with the status rather than with a plain "queued". */
static bool needs_fixing(int status)
{
	return status == EX_CONFIG || status == EX_NOPERM || status == EX_SOFTWARE ||
	       status == EX_OSERR;
}

bool disposition_auth_refused(const struct submit_outcome *o)
{
	return o->status == EX_NOPERM && o->stage == SUBMIT_AUTH && !o->cancelled;
}

void disposition_decide(const struct disposition_input *in, enum disp_verdict *rcpt,
			struct disposition *d)
{
	const struct submit_outcome *o = in->out;
	int status = o->status;
	memset(d, 0, sizeof *d);
	d->attempts = in->attempts + 1;
	d->next_attempt = in->now + disposition_backoff(d->attempts);
	d->maybe_delivered = o->dropped_after_dot;

	/* the caller's input broke: what was read is not the message, so nothing is kept */
	if (!in->from_queue && status != EX_OK &&
	    (status == EX_IOERR || (o->cancelled && !in->input_whole))) {
		d->scope = DISP_NOT_KEPT;
		for (size_t i = 0; i < in->nrcpt; i++)
			rcpt[i] = DISP_RETRY;
		d->retry = in->nrcpt;
		d->exit_status = o->cancelled ? EX_TEMPFAIL : status;
		return;
	}

	bool accepted = status == EX_OK;
	/* a refusal of the message itself, with a code: a 5xx (a 535 to AUTH is EX_NOPERM and
	 * is retried once the account is fixed), or a code that is no SMTP code at all */
	d->whole_refused = !accepted && !o->cancelled && o->reply_code != 0 &&
			   (status == EX_UNAVAILABLE || status == EX_PROTOCOL);
	bool every_rcpt_refused = in->nrcpt > 0 && o->nrcpt == in->nrcpt;
	bool any_rcpt_failed = false;
	for (size_t i = 0; i < in->nrcpt; i++) {
		int code = i < o->nrcpt ? o->rcpt_code[i] : 0;
		if (code < 400)
			every_rcpt_refused = false;
		if (accepted && code >= 200 && code < 400)
			rcpt[i] = DISP_DELIVERED;
		else if (code >= 500)
			rcpt[i] = DISP_FAILED;	/* the relay's word on this recipient is final */
		else if (d->whole_refused)
			rcpt[i] = DISP_FAILED;
		else
			rcpt[i] = DISP_RETRY;	/* a 4xx, or no reply: the transaction broke off */
		if (rcpt[i] == DISP_FAILED && code >= 500)
			any_rcpt_failed = true;
		if (rcpt[i] == DISP_DELIVERED)
			d->delivered++;
		else if (rcpt[i] == DISP_RETRY)
			d->retry++;
		else
			d->failed++;
	}
	bool mixed = (d->delivered != 0) + (d->retry != 0) + (d->failed != 0) > 1;
	if (accepted || mixed || (every_rcpt_refused && any_rcpt_failed)) {
		d->scope = DISP_PER_RECIPIENT;
		d->exit_status = d->failed ? EX_NOUSER : EX_OK;
		return;
	}
	d->scope = DISP_WHOLE;
	if (d->failed)
		d->exit_status = status;
	else
		d->exit_status = needs_fixing(status) ? status : EX_OK;
}
