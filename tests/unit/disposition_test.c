/* SPDX-License-Identifier: ISC */
/* disposition_test.c: the one rule for what a reply means, as a table: each row a typed
 * outcome of a transaction (status, stage, reply code, the code to each RCPT) and what must
 * become of each recipient, the scope, the exit status of a send and the next retry. */
#include <stdio.h>
#include <string.h>

#include "disposition.h"
#include "tap.h"

#define MAXR 4
#define NOW 1000000LL

struct row {
	const char *name;
	int status;
	enum submit_stage stage;
	int reply_code;
	bool cancelled, dropped_after_dot;
	bool from_queue, input_whole;
	size_t nrcpt;
	int no_outcome;		/* 1: nothing was tried (out->nrcpt is 0) */
	int rcpt_code[MAXR];
	const char *want;	/* one letter per recipient: d delivered, r retry, f failed */
	enum disp_scope scope;
	int exit_status;
	bool whole_refused, maybe_delivered;
};

static const struct row rows[] = {
	/* accepted */
	{ "accepted for every recipient", EX_OK, SUBMIT_ACCEPTED, 0, false, false, false, true,
	  2, 0, { 250, 250 }, "dd", DISP_PER_RECIPIENT, EX_OK, false, false },
	{ "251 (forwarded) is accepted too", EX_OK, SUBMIT_ACCEPTED, 0, false, false, true, true,
	  1, 0, { 251 }, "d", DISP_PER_RECIPIENT, EX_OK, false, false },
	{ "accepted, one 452: that one retried", EX_OK, SUBMIT_ACCEPTED, 0, false, false, false, true,
	  3, 0, { 250, 452, 250 }, "drd", DISP_PER_RECIPIENT, EX_OK, false, false },
	{ "accepted, one 550: that one failed, 67", EX_OK, SUBMIT_ACCEPTED, 0, false, false, false,
	  true, 3, 0, { 250, 550, 250 }, "dfd", DISP_PER_RECIPIENT, EX_NOUSER, false, false },
	{ "accepted, one never answered (a later batch broke off): retried", EX_OK, SUBMIT_ACCEPTED,
	  0, false, false, true, true, 2, 0, { 250, 0 }, "dr", DISP_PER_RECIPIENT, EX_OK, false, false },
	{ "accepted, a 452 and a 550", EX_OK, SUBMIT_ACCEPTED, 0, false, false, false, true,
	  3, 0, { 250, 452, 550 }, "drf", DISP_PER_RECIPIENT, EX_NOUSER, false, false },
	/* refused at RCPT, every recipient */
	{ "every RCPT 550: each failed, 67", EX_NOUSER, SUBMIT_RCPT, 550, false, false, false, true,
	  2, 0, { 550, 550 }, "ff", DISP_PER_RECIPIENT, EX_NOUSER, false, false },
	{ "every RCPT refused, 452 and 550: apart", EX_NOUSER, SUBMIT_RCPT, 550, false, false, false,
	  true, 2, 0, { 452, 550 }, "rf", DISP_PER_RECIPIENT, EX_NOUSER, false, false },
	{ "the only RCPT 452: queued, 0", EX_TEMPFAIL, SUBMIT_RCPT, 452, false, false, false, true,
	  1, 0, { 452 }, "r", DISP_WHOLE, EX_OK, false, false },
	/* the connection and the greeting */
	{ "refused connection: retried, 0", EX_TEMPFAIL, SUBMIT_CONNECT, 0, false, false, false, true,
	  1, 0, { 0 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "unknown host: retried, as Postfix defers it", EX_NOHOST, SUBMIT_CONNECT, 0, false, false, false,
	  true, 1, 0, { 0 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "421 greeting: retried", EX_TEMPFAIL, SUBMIT_GREETING, 421, false, false, false, true,
	  2, 0, { 0, 0 }, "rr", DISP_WHOLE, EX_OK, false, false },
	{ "554 greeting: failed, 69", EX_UNAVAILABLE, SUBMIT_GREETING, 554, false, false, false, true,
	  2, 0, { 0, 0 }, "ff", DISP_WHOLE, EX_UNAVAILABLE, true, false },
	{ "999 greeting (no SMTP code): failed, 76", EX_PROTOCOL, SUBMIT_GREETING, 999, false, false,
	  false, true, 1, 0, { 0 }, "f", DISP_WHOLE, EX_PROTOCOL, true, false },
	{ "no SMTP at all (no code): retried", EX_PROTOCOL, SUBMIT_GREETING, 0, false, false, false,
	  true, 1, 0, { 0 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "TLS certificate not trusted: kept, 78", EX_CONFIG, SUBMIT_TLS, 0, false, false, false, true,
	  1, 0, { 0 }, "r", DISP_WHOLE, EX_CONFIG, false, false },
	{ "535 to AUTH: kept for the fixed account, 77", EX_NOPERM, SUBMIT_AUTH, 535, false, false,
	  false, true, 1, 0, { 0 }, "r", DISP_WHOLE, EX_NOPERM, false, false },
	/* MAIL, DATA and the final dot */
	{ "451 to MAIL: retried", EX_TEMPFAIL, SUBMIT_MAIL, 451, false, false, false, true,
	  1, 0, { 0 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "553 to MAIL: failed, 69", EX_UNAVAILABLE, SUBMIT_MAIL, 553, false, false, false, true,
	  2, 0, { 0, 0 }, "ff", DISP_WHOLE, EX_UNAVAILABLE, true, false },
	{ "554 to DATA after a 452 RCPT: all failed", EX_UNAVAILABLE, SUBMIT_DATA, 554, false, false,
	  true, true, 2, 0, { 250, 452 }, "ff", DISP_WHOLE, EX_UNAVAILABLE, true, false },
	{ "554 after the dot: failed, 69", EX_UNAVAILABLE, SUBMIT_AFTER_DOT, 554, false, false, false,
	  true, 1, 0, { 250 }, "f", DISP_WHOLE, EX_UNAVAILABLE, true, false },
	{ "451 after the dot: retried", EX_TEMPFAIL, SUBMIT_AFTER_DOT, 451, false, false, false, true,
	  1, 0, { 250 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "dropped mid-DATA: retried", EX_TEMPFAIL, SUBMIT_DATA, 0, false, false, false, true,
	  1, 0, { 250 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "dropped after the dot: retried, a copy may be there", EX_TEMPFAIL, SUBMIT_AFTER_DOT, 0, false,
	  true, true, true, 1, 0, { 250 }, "r", DISP_WHOLE, EX_OK, false, true },
	{ "451 to DATA after a 550 RCPT: that one failed, the other retried", EX_TEMPFAIL, SUBMIT_DATA,
	  451, false, false, false, true, 2, 0, { 550, 250 }, "fr", DISP_PER_RECIPIENT, EX_NOUSER,
	  false, false },
	/* nothing tried, the input, a signal */
	{ "no handle (password-command failed): kept, its status", EX_CONFIG, SUBMIT_NOT_SENT, 0,
	  false, false, false, true, 2, 1, { 0 }, "rr", DISP_WHOLE, EX_CONFIG, false, false },
	{ "no handle in a queue run: retried", EX_TEMPFAIL, SUBMIT_NOT_SENT, 0, false, false, true,
	  true, 1, 1, { 0 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "the caller's input failed: not kept, 74", EX_IOERR, SUBMIT_INPUT, 0, false, false, false,
	  false, 1, 0, { 250 }, "r", DISP_NOT_KEPT, EX_IOERR, false, false },
	{ "a queue file that cannot be read: the entry stays", EX_IOERR, SUBMIT_INPUT, 0, false, false,
	  true, true, 1, 0, { 250 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "interrupted before the end of the input: not kept, 75", EX_TEMPFAIL, SUBMIT_DATA, 0, true,
	  false, false, false, 1, 0, { 250 }, "r", DISP_NOT_KEPT, EX_TEMPFAIL, false, false },
	{ "interrupted once the input was whole: queued", EX_TEMPFAIL, SUBMIT_DATA, 0, true, false,
	  false, true, 1, 0, { 250 }, "r", DISP_WHOLE, EX_OK, false, false },
	{ "interrupted after a 554 was read: never a refusal", EX_UNAVAILABLE, SUBMIT_DATA, 554, true,
	  false, true, true, 1, 0, { 250 }, "r", DISP_WHOLE, EX_OK, false, false },
};

static const char *scope_name(enum disp_scope s)
{
	return s == DISP_WHOLE ? "whole" : s == DISP_PER_RECIPIENT ? "per-recipient" : "not-kept";
}

int main(void)
{
	for (size_t k = 0; k < sizeof rows / sizeof *rows; k++) {
		const struct row *t = &rows[k];
		int codes[MAXR];
		memcpy(codes, t->rcpt_code, sizeof codes);
		struct submit_outcome out = {
			.status = t->status, .stage = t->stage, .reply_code = t->reply_code,
			.cancelled = t->cancelled, .dropped_after_dot = t->dropped_after_dot,
			.nrcpt = t->no_outcome ? 0 : t->nrcpt, .rcpt_code = t->no_outcome ? NULL : codes,
		};
		struct disposition_input in = {
			.out = &out, .nrcpt = t->nrcpt, .from_queue = t->from_queue,
			.input_whole = t->input_whole, .attempts = 2, .now = NOW,
		};
		enum disp_verdict v[MAXR];
		struct disposition d;
		disposition_decide(&in, v, &d);
		char got[MAXR + 1] = "";
		for (size_t i = 0; i < t->nrcpt; i++)
			got[i] = v[i] == DISP_DELIVERED ? 'd' : v[i] == DISP_RETRY ? 'r' : 'f';
		got[t->nrcpt] = '\0';
		is_str(got, t->want, "%s: the recipients", t->name);
		is_str(scope_name(d.scope), scope_name(t->scope), "%s: the scope", t->name);
		is_int(d.exit_status, t->exit_status, "%s: the exit status", t->name);
		ok(d.whole_refused == t->whole_refused, "%s: whole refused is %d", t->name,
		   t->whole_refused);
		ok(d.maybe_delivered == t->maybe_delivered, "%s: maybe delivered is %d", t->name,
		   t->maybe_delivered);
		size_t nd = 0, nr = 0, nf = 0;
		for (const char *c = t->want; *c; c++)
			nd += *c == 'd', nr += *c == 'r', nf += *c == 'f';
		ok(d.delivered == nd && d.retry == nr && d.failed == nf, "%s: the counts", t->name);
		is_int(d.attempts, 3, "%s: the attempt is counted", t->name);
		is_int(d.next_attempt, NOW + 240, "%s: the third attempt waits four minutes", t->name);
	}

	static const struct { long attempts, delay; } backoff[] = {
		{ 1, 60 }, { 2, 120 }, { 3, 240 }, { 6, 1920 }, { 7, 3600 }, { 8, 3600 }, { 1000000, 3600 },
	};
	for (size_t k = 0; k < sizeof backoff / sizeof *backoff; k++)
		is_int(disposition_backoff(backoff[k].attempts), backoff[k].delay,
		       "the backoff after attempt %ld is %ld seconds", backoff[k].attempts,
		       backoff[k].delay);

	ok(!disposition_expired(0, NOW), "an entry that records no expiry has not expired");
	ok(!disposition_expired(NOW + 1, NOW), "an entry expiring a second later has not");
	ok(disposition_expired(NOW, NOW), "an entry expiring now has");

	/* what a relay's refusal of the credentials is: the trigger of one refresh and retry */
	static const struct {
		const char *name;
		int status;
		enum submit_stage stage;
		bool cancelled, refused;
	} auth[] = {
		{ "535 to AUTH", EX_NOPERM, SUBMIT_AUTH, false, true },
		{ "AUTH given up after a 334 error challenge", EX_NOPERM, SUBMIT_AUTH, false, true },
		{ "a 454 to AUTH (temporary)", EX_TEMPFAIL, SUBMIT_AUTH, false, false },
		{ "a 5xx to MAIL", EX_UNAVAILABLE, SUBMIT_MAIL, false, false },
		{ "no secret could be had", EX_NOPERM, SUBMIT_NOT_SENT, false, false },
		{ "interrupted during AUTH", EX_NOPERM, SUBMIT_AUTH, true, false },
		{ "accepted", EX_OK, SUBMIT_ACCEPTED, false, false },
	};
	for (size_t k = 0; k < sizeof auth / sizeof *auth; k++) {
		struct submit_outcome o = { .status = auth[k].status, .stage = auth[k].stage,
					    .cancelled = auth[k].cancelled };
		ok(disposition_auth_refused(&o) == auth[k].refused, "%s: the credentials %s refused",
		   auth[k].name, auth[k].refused ? "are" : "are not");
	}
	return done_testing();
}
