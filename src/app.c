/* SPDX-License-Identifier: ISC */
/* app.c: the modes (see app.h), each one function that wires the rooms below together: the run
 * context (run.h), one message (deliver.h), the queue run (queuerun.h), the listing (mailq.h)
 * and -bs (bs.h). Data flows one way: options and configuration -> message -> envelope ->
 * submission. Nothing here parses mail, speaks SMTP or decides what a reply means. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "aliases.h"
#include "bs.h"
#include "config.h"
#include "deliver.h"
#include "infile.h"
#include "log.h"
#include "maildrop.h"
#include "mailq.h"
#include "message.h"
#include "oauth2.h"
#include "progress.h"
#include "queue.h"
#include "queuerun.h"
#include "run.h"
#include "submit.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* The message options of the command line; the run fills the rest (run_message_opts). */
static struct message_opts message_opts_for(const struct run *r, const struct cli_opts *o)
{
	struct message_opts mo = {
		.extract = o->extract,
		/* a composed body is read to its end, as mail(1) reads one that is not typed:
		 * "find . | postie -s list me" must not end at find's first line */
		.ignore_dots = o->ignore_dots || (o->compose && !isatty(STDIN_FILENO)),
		.compose = o->compose,
		.subject = o->subject,
		.full_name = o->full_name,
		.sender_given = o->sender_given,
		.sender = o->sender,
		.operands = &o->operands,
		.to = &o->to,
		.cc = &o->cc,
		.bcc = &o->bcc,
		.attach = &o->attach,
		.headers = &o->headers,
	};
	run_message_opts(r, &mo);
	return mo;
}

int app_send(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	struct message *msg = NULL;
	struct infile *in = NULL;
	struct submitter *sub = NULL;
	bool curl_ready = false;
	int rc = run_open(&r, o, d);
	if (rc == EX_CONFIG && geteuid() != 0 && !o->compose && config_system_unreadable() &&
	    maildrop_available(MAILDROP_DIR)) {
		struct diag why = *d;
		run_close(&r);
		return hand_over(o, &why, d);
	}
	if (rc != EX_OK)
		goto done;
	run_catch_signals();
	struct message_opts mo = message_opts_for(&r, o);
	/* a regular file is read again when the message must be kept, rather than teed; a
	 * composed body is read whole at once, into its own buffer */
	in = o->compose ? NULL : infile_open(STDIN_FILENO, r.cancel);
	rc = in ? message_open_stream(&msg, &mo, infile_read, in, d) : message_open(&msg, &mo, 0, d);
	if (rc == EX_OK && in)
		infile_set_body(in, message_unused_input(msg));
	if (rc != EX_OK && *r.cancel)
		rc = diag_set(d, EX_TEMPFAIL, "interrupted before the whole message was read; nothing was queued");
	if (rc != EX_OK)
		goto done;
	/* a progress line only for a large send to a person watching */
	struct progress progress = { .total = message_size_estimate(msg) };
	bool want_progress = progress_wanted(progress.total, o->no_progress);
	if (r.delivery == DELIVERY_NOW) {
		rc = submit_global_init(d);
		if (rc != EX_OK)
			goto done;
		curl_ready = true;
	}
	struct delivery_report rep;
	rc = deliver_message(&r, msg, in, want_progress ? &progress : NULL, &sub, &rep, d);
	if (rep.sent)
		queue_pass_after_send(&r, sub, r.now + QUEUE_PASS_AFTER_SEND_SECONDS);
done:
	submitter_free(sub);
	if (curl_ready)
		submit_global_cleanup();
	message_free(msg);
	infile_free(in);
	run_close(&r);
	return rc;
}

/* -q: sweep tmp/, then attempt the entries. Each step is one call, in this order. */
int app_queue_run(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	int rc = run_open(&r, o, d);
	if (rc == EX_OK && run_open_queue(&r) != EX_OK)
		rc = diag_set(d, r.queue_error.code, "%s", r.queue_error.msg);
	if (rc == EX_OK) {
		run_catch_signals();
		struct strlist swept = {0};
		queue_sweep_tmp(r.queue, &swept);
		for (size_t i = 0; i < swept.n; i++)
			log_status("%s: removed, a spool file untouched for a day: "
				   "its run did not finish", swept.v[i]);
		strlist_free(&swept);
	}
	/* under cron (no terminal, no -v) a run that moved nothing prints nothing */
	bool report = o->verbose || isatty(STDERR_FILENO);
	/* entries handed over by other means join the queue here, before it is listed */
	struct diag pickup_error = {0};
	if (rc == EX_OK && geteuid() == 0)
		queue_pass_pickup(&r, report, &pickup_error);
	if (rc == EX_OK)
		rc = submit_global_init(d);
	if (rc == EX_OK) {
		struct queue_pass pass = {
			.due_only = o->due,
			.select = o->select,
			.nselect = o->nselect,
			.report = report,
		};
		rc = queue_pass_run(&r, NULL, &pass, d);
		submit_global_cleanup();
	}
	/* root's own failure to take the system queue's mail is said, with its errno */
	if (pickup_error.code && rc == EX_OK)
		rc = diag_set(d, pickup_error.code, "%s", pickup_error.msg);
	else if (pickup_error.code)
		log_status("%s", pickup_error.msg);
	run_close(&r);
	return rc;
}

/* Each ID in turn, whatever became of the others: a line for each that failed, the last one
 * as the error line, and its status. */
static int manage_entries(const struct cli_opts *o, int (*act)(struct run *, const char *,
							    struct diag *), struct diag *d)
{
	struct run r;
	int rc = run_open(&r, o, d);
	if (rc == EX_OK && run_open_queue(&r) != EX_OK)
		rc = diag_set(d, r.queue_error.code, "%s", r.queue_error.msg);
	for (size_t i = 0; rc == EX_OK && i < o->operands.n; i++) {
		struct diag why = {0};
		int erc = act(&r, o->operands.v[i], &why);
		if (erc == EX_OK)
			continue;
		if (d->code)
			log_status("%s", d->msg);
		*d = why;
	}
	run_close(&r);
	return rc != EX_OK ? rc : d->code;
}

int app_queue_delete(const struct cli_opts *o, struct diag *d)
{
	return manage_entries(o, queue_entry_delete, d);
}

int app_queue_requeue(const struct cli_opts *o, struct diag *d)
{
	return manage_entries(o, queue_entry_requeue, d);
}

int app_queue_list(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	struct queue_meta *queued = NULL, *failed = NULL;
	size_t nq = 0, nf = 0;
	struct strlist problems = {0};
	int rc = run_open(&r, o, d);
	if (rc == EX_OK && run_open_queue(&r) != EX_OK)
		rc = diag_set(d, r.queue_error.code, "%s", r.queue_error.msg);
	if (rc == EX_OK)
		rc = queue_list(r.queue, false, &queued, &nq, &problems, d);
	if (rc == EX_OK)
		rc = queue_list(r.queue, true, &failed, &nf, &problems, d);
	if (rc == EX_OK && o->json) {
		mailq_json(stdout, queued, nq, failed, nf, r.now);
	} else if (rc == EX_OK) {
		char *failed_dir = xasprintf("%s/failed", queue_path(r.queue));
		mailq_text(stdout, queued, nq, failed, nf, failed_dir, r.now);
		free(failed_dir);
	}
	for (size_t i = 0; i < problems.n; i++)
		log_status("%s", problems.v[i]);
	strlist_free(&problems);
	queue_list_free(queued, nq);
	queue_list_free(failed, nf);
	run_close(&r);
	return rc;
}

int app_serverinfo(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	struct submitter *sub = NULL;
	int rc = run_open(&r, o, d);
	if (rc == EX_OK)
		rc = submit_global_init(d);
	if (rc == EX_OK) {
		if (r.acct->name)
			printf("account: %s\n", r.acct->name);
		if (r.acct->oauth2_provider) {
			/* the token state first, and a refresh tried: the relay needs its token */
			struct buf lines = {0};
			rc = oauth2_check(r.acct, &lines, d);
			if (lines.data)
				fputs(lines.data, stdout);
			buf_free(&lines);
		}
		if (rc == EX_OK)
			rc = run_submitter(&r, r.acct, NULL, &sub, d);
		if (rc == EX_OK)
			rc = submitter_serverinfo(sub, stdout, d);
		submitter_free(sub);
		submit_global_cleanup();
	}
	run_close(&r);
	return rc;
}

int app_smtp(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	int rc = run_open(&r, o, d);
	bool curl_ready = false;
	int cancel_fd = 0;
	if (rc == EX_OK) {
		cancel_fd = run_signal_pipe_open();
		run_catch_signals();
		rc = submit_global_init(d);
		curl_ready = rc == EX_OK;
	}
	if (rc == EX_OK)
		rc = bs_serve(&r, cancel_fd, d);
	if (curl_ready)
		submit_global_cleanup();
	run_close(&r);
	run_signal_pipe_close();
	return rc;
}

int app_verify(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	int rc = run_open(&r, o, d);
	if (rc == EX_OK && o->operands.n == 0)
		rc = diag_set(d, EX_USAGE, "no recipients: -bv checks the addresses given as arguments");
	bool any_invalid = false;
	for (size_t i = 0; rc == EX_OK && i < o->operands.n; i++) {
		const char *text = o->operands.v[i];
		const char *pos = text, *end = text + strlen(text);
		struct mailbox mb;
		struct diag why = {0};
		int got;
		while ((got = addr_next(&pos, end, &mb, &why)) == 1) {
			struct strlist targets = {0};
			struct buf shown = {0};
			int erc = *mb.addr ? aliases_expand(r.aliases, mb.addr,
							    (const char *const *)r.env.local_domains.v,
							    r.env.local_domains.n, &targets, &why)
					   : diag_set(&why, EX_NOUSER, "the null address cannot be a recipient");
			for (size_t k = 0; erc == EX_OK && k < targets.n; k++) {
				char *q = addr_qualify(targets.v[k], r.env.domain);
				erc = addr_check_envelope(q, &why);
				buf_printf(&shown, "%s%s", k ? ", " : "", q);
				free(q);
			}
			if (erc == EX_OK) {
				printf("%s... deliverable: %s via %s (%s%s)\n", *mb.addr ? mb.addr : "<>",
				       shown.data, r.acct->relay[0], r.acct->name ? "account " : "top-level settings",
				       r.acct->name ? r.acct->name : "");
			} else {
				printf("%s... invalid: %s\n", *mb.addr ? mb.addr : "<>", why.msg);
				any_invalid = true;
			}
			buf_free(&shown);
			strlist_free(&targets);
			mailbox_clear(&mb);
		}
		if (got < 0) {
			printf("%s... invalid: %s\n", text, why.msg);
			any_invalid = true;
		}
	}
	fflush(stdout);	/* the report before the error line that sums it up */
	if (rc == EX_OK && any_invalid)
		rc = diag_set(d, EX_NOUSER, "some recipients are invalid");
	run_close(&r);
	return rc;
}
int app_aliases(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	int rc = run_open(&r, o, d);
	if (rc == EX_OK && !r.acct->aliases)
		printf("postie: no aliases file is configured\n");
	else if (rc == EX_OK)
		printf("postie: %s: %zu alias%s\n", r.acct->aliases, aliases_count(r.aliases),
		       aliases_count(r.aliases) == 1 ? "" : "es");
	run_close(&r);
	return rc;
}

int app_version(struct diag *d)
{
	(void)d;	/* the modes' one signature: this one cannot fail */
	struct buf lib = {0};
	submit_library_version(&lib);
	printf("postie %s\n%s\n"
	       "system config: %s/postie.conf\n"
	       "user config:   $XDG_CONFIG_HOME/postie/config (~/.config/postie/config)\n"
	       "queue:         %s/spool/postie (root), $XDG_STATE_HOME/postie/queue (others)\n"
	       "system queue:  %s (maildrop %s)\n",
	       PACKAGE_VERSION, lib.data, SYSCONFDIR, LOCALSTATEDIR, SYSTEM_QUEUE_DIR, MAILDROP_DIR);
	buf_free(&lib);
	return EX_OK;
}
