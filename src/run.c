/* SPDX-License-Identifier: ISC */
/* run.c: one invocation's context (see run.h): configuration, account, environment, logfile,
 * transcript, queue, signals, submitters. It never sends, queues or prints a message. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "aliases.h"
#include "broker.h"
#include "disposition.h"
#include "log.h"
#include "maildrop.h"
#include "message.h"
#include "oauth2.h"
#include "privenv.h"
#include "progress.h"
#include "queue.h"
#include "submit.h"
#include "trust.h"

/* Set by SIGTERM, SIGINT and SIGHUP: the transfer stops, a fully read message is queued. */
static volatile sig_atomic_t interrupted;

/* -bs only: the handler also writes a byte here (run_signal_pipe_open). */
static int signal_pipe_r = -1;
static volatile sig_atomic_t signal_pipe_w = -1;

static void on_signal(int sig)
{
	interrupted = sig;
	int fd = signal_pipe_w;
	if (fd >= 0) {
		int saved = errno;
		if (write(fd, "", 1) < 0) {
			/* full (a byte is already there) or closed: either way nothing to do */
		}
		errno = saved;
	}
}

const volatile sig_atomic_t *run_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a read of stdin must return so that postie can stop */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return &interrupted;
}

int run_signal_pipe_open(void)
{
	/* fds 0-2 are open, so a pipe is never 0, smtpd's "none" */
	int fds[2];
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
		signal_pipe_r = fds[0];
		signal_pipe_w = fds[1];
	}
	return signal_pipe_r > 0 ? signal_pipe_r : 0;
}

void run_signal_pipe_close(void)
{
	if (signal_pipe_r < 0)
		return;
	int w = signal_pipe_w;
	signal_pipe_w = -1;	/* the handler stops writing before the close */
	close(w);
	close(signal_pipe_r);
	signal_pipe_r = -1;
}

time_t run_now(void)
{
	const char *fake = getenv("POSTIE_NOW");
	if (fake && *fake) {
		char *end;
		long long t = strtoll(fake, &end, 10);
		if (!*end && t > 0)
			return (time_t)t;
	}
	return time(NULL);
}

/* The account's logfile for appending: the descriptor the configuration opened while it held
 * the system file's group, or the file opened now with the user's own rights. */
static FILE *open_logfile(const struct account *a)
{
	if (a->logfile_fd < 0)
		return fopen(a->logfile, "ae");
	int fd = fcntl(a->logfile_fd, F_DUPFD_CLOEXEC, 3);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!f && fd >= 0)
		close(fd);
	return f;
}

/* config_load's sequence, with the token broker started between the system file and the
 * group's end: a setgid run whose system file has an OAuth2 account, in a mode that sends.
 * A broker that cannot start leaves the run without one (run_bearer says so at need). */
static int load_config(struct run *r, const struct cli_opts *o, struct diag *d)
{
	int rc = config_load_system(&r->cfg, d);
	bool sends = o->mode == MODE_SEND || o->mode == MODE_SMTP || o->mode == MODE_QUEUE_RUN;
	if (rc == EX_OK && sends && privenv_privileged() && getegid() != getgid() &&
	    config_has_oauth2(&r->cfg) &&
	    broker_start(&r->cfg, &r->broker, &r->broker_error) != EX_OK)
		r->broker = NULL;
	if (rc == EX_OK)
		rc = config_drop_privileges(d);
	if (rc == EX_OK)
		rc = config_load_user(&r->cfg, o->config_file, d);
	if (rc == EX_OK)
		rc = config_finish(&r->cfg, d);
	/* the broker has its own copy; the user's process keeps none */
	if (rc == EX_OK && r->broker)
		config_forget_system_client_secrets(&r->cfg);
	return rc;
}

int run_open(struct run *r, const struct cli_opts *o, struct diag *d)
{
	memset(r, 0, sizeof *r);
	r->now = run_now();
	r->cancel = &interrupted;
	int rc = load_config(r, o, d);
	if (rc != EX_OK)
		return rc;
	/* an account named by --account, else the one whose from is -f's address */
	struct mailbox mb = {0};
	struct diag ignored;
	const char *sender = NULL;
	if (o->sender_given && addr_parse_one(o->sender, &mb, &ignored) == EX_OK && *mb.addr)
		sender = mb.addr;
	r->acct = config_pick(&r->cfg, o->account, sender, d);
	mailbox_clear(&mb);
	if (!r->acct)
		return d->code;
	/* -odq queues, -odi and -odb send now; without either the account's `delivery` says */
	r->delivery = o->delivery == 1 ? DELIVERY_QUEUE
		    : o->delivery == 0 ? DELIVERY_NOW : r->acct->delivery;
	if (o->transcript_file) {
		r->transcript = fopen(o->transcript_file, "ae");
		if (!r->transcript)
			return diag_set(d, EX_CANTCREAT, "%s: %s", o->transcript_file, strerror(errno));
	}
	log_set_transcript(o->verbose, r->transcript);
	if (r->acct->secrets_note && log_transcript_enabled())
		log_transcript("postie:", r->acct->secrets_note, strlen(r->acct->secrets_note));
	if (r->acct->logfile) {
		r->logfile = open_logfile(r->acct);
		if (!r->logfile)
			return diag_set(d, EX_CANTCREAT, "logfile %s: %s", r->acct->logfile, strerror(errno));
	}
	log_set_records(r->acct->syslog, r->logfile);
	config_env_load(&r->env, r->acct);
	/* the system queue takes what a user sends through the system configuration; through a
	 * file of their own, or with no system queue installed, their own queue does */
	r->maildrop = geteuid() != 0 && !config_has_user_file(&r->cfg) &&
		      maildrop_available(MAILDROP_DIR);
	if (r->acct->aliases) {
		/* read with a privilege (root; a group, should a caller ever still hold one), the
		 * file must be root's all the way: not another user's to edit, nor the user's own to
		 * point at what only the privilege may read. A missing file is left to
		 * aliases_load, which says so as it always has. */
		struct diag why;
		if ((geteuid() == 0 || getegid() != getgid()) &&
		    path_check_trusted(r->acct->aliases, 0, &why) == EX_NOPERM)
			return diag_set(d, EX_CONFIG, "aliases %s: %s", r->acct->aliases, why.msg);
		struct strlist warnings = {0};
		rc = aliases_load(&r->aliases, r->acct->aliases, &warnings, d);
		for (size_t i = 0; i < warnings.n; i++)
			log_warn("%s", warnings.v[i]);
		strlist_free(&warnings);
	}
	return rc;
}

int run_open_queue(struct run *r)
{
	if (!r->queue && !r->queue_error.code)
		queue_open(&r->queue, r->env.queue_dir, &r->queue_error);
	return r->queue ? EX_OK : r->queue_error.code;
}

void run_close(struct run *r)
{
	log_set_transcript(false, NULL);
	log_set_records(false, NULL);
	if (r->transcript)
		fclose(r->transcript);
	if (r->logfile)
		fclose(r->logfile);
	queue_close(r->queue);
	broker_close(r->broker);
	r->broker = NULL;
	aliases_free(r->aliases);
	config_free(&r->cfg);
	config_env_free(&r->env);
}

/* The access token for a send through a (renew: old was refused): from the broker for the
 * system's OAuth2, else from the state this process may use itself (root's, the user's own). */
static int run_bearer(const struct run *r, const struct account *a, const char *renew,
		      char **token, struct diag *d)
{
	*token = NULL;
	if (r->broker && a->oauth2_system)
		return broker_ask(r->broker, a, renew ? BROKER_RENEW : BROKER_TOKEN, renew, token, d);
	int rc = renew ? oauth2_forget_access(a, renew, d) : EX_OK;
	if (rc == EX_OK)
		rc = oauth2_bearer(a, token, d);
	/* the system's tokens without a broker (no setgid bit, or it could not start): not the
	 * user's to read; kept for root's run rather than failed */
	if ((rc == EX_CONFIG || rc == EX_CANTCREAT) && a->oauth2_system && geteuid() != 0) {
		char *why = xstrdup(r->broker_error.code ? r->broker_error.msg : d->msg);
		rc = diag_set(d, EX_TEMPFAIL, "account '%s': its OAuth2 tokens are the system's, "
			      "for root and the setgid postie only (%s)",
			      a->name ? a->name : "default", why);
		free(why);
	}
	return rc;
}

static int make_submitter(const struct run *r, const struct account *a,
			  struct progress *progress, const char *renew, struct submitter **out,
			  struct diag *d)
{
	struct submit_params sp = {
		.urls = a->relay,
		.nurls = a->nrelay,
		.helo = r->env.domain,
		.timeout = a->timeout,
		.cancel = r->cancel,
		.tls = a->tls == TLS_REQUIRED ? SUBMIT_TLS_REQUIRED
		     : a->tls == TLS_OPPORTUNISTIC ? SUBMIT_TLS_OPPORTUNISTIC : SUBMIT_TLS_OFF,
		.tls_verify = a->tls_verify,
		.tls_ca_file = a->tls_ca_file,
		.tls_cert = a->tls_cert,
		.tls_key = a->tls_key,
		.user = a->user,
		.oauth2 = a->oauth2,
		.auth = a->auth,
		.netrc = a->netrc,
		.progress = progress ? progress_show : NULL,
		.progress_ctx = progress,
		.max_rcpts = (size_t)a->max_recipients,
	};
	/* a provider's relays expect its mechanism (XOAUTH2 for Google and Microsoft); libcurl
	 * alone would pick OAUTHBEARER when both are offered. An explicit auth wins. */
	const struct oauth2_preset *preset =
		a->oauth2_provider ? oauth2_preset_find(a->oauth2_provider) : NULL;
	if (!a->auth && preset && preset->mechanism)
		sp.auth = preset->mechanism;
	char *secret = NULL;
	*out = NULL;
	if (a->password || a->password_command) {
		int rc = config_password(a, &secret, d);
		if (rc != EX_OK)
			return rc;
	}
	/* built-in OAuth2: the token source gives a bearer token that is fresh for this send */
	if (a->oauth2_provider) {
		int rc = run_bearer(r, a, renew, &secret, d);
		if (rc != EX_OK)
			return rc;
	}
	sp.secret = secret;
	/* a password never travels without TLS: opportunistic is not enough beyond loopback (tls
	 * off with a password is refused there by config_finish) */
	if ((secret || a->netrc) && sp.tls == SUBMIT_TLS_OPPORTUNISTIC && !a->loopback) {
		sp.tls = SUBMIT_TLS_REQUIRED;
		sp.tls_for_secret = true;
	}
	*out = submitter_new(&sp);
	config_secret_free(secret);
	return EX_OK;
}

int run_submitter(const struct run *r, const struct account *a, struct progress *progress,
		  struct submitter **out, struct diag *d)
{
	return make_submitter(r, a, progress, NULL, out, d);
}

bool run_token_refused(const struct account *a, const struct submit_outcome *out)
{
	return a->oauth2_provider && disposition_auth_refused(out);
}

int run_renew_token(const struct run *r, const struct account *a, struct progress *progress,
		    const struct submitter *old, struct submitter **out, struct diag *d)
{
	*out = NULL;
	const char *refused = submitter_bearer(old);
	if (!refused || !*refused)
		return run_submitter(r, a, progress, out, d);
	return make_submitter(r, a, progress, refused, out, d);
}

void run_token_refused_again(const struct account *a, struct submit_outcome *out,
			     struct diag *d)
{
	const char *name = a->name ? a->name : "default";
	char *shown = xasprintf("%s, even with a refreshed token: run postie --authorize --account %s",
				out->reason, name);
	snprintf(out->reason, sizeof out->reason, "%s", shown);
	free(shown);
	shown = xstrdup(d->msg);
	diag_set(d, EX_NOPERM, "%s, even with a refreshed token: run postie --authorize --account %s",
		 shown, name);
	free(shown);
	out->status = EX_NOPERM;
}

void run_message_opts(const struct run *r, struct message_opts *mo)
{
	if (!mo->full_name)
		mo->full_name = r->env.full_name;
	mo->legacy_charset = r->env.legacy_charset;
	mo->received_host = r->env.received_host;
	mo->uid = (unsigned long)getuid();
	mo->default_from = r->acct->from;
	mo->login = r->env.login;
	mo->domain = r->env.domain;
	mo->cancel = r->cancel;
	mo->aliases = r->aliases;
	mo->local_domains = (const char *const *)r->env.local_domains.v;
	mo->nlocal_domains = r->env.local_domains.n;
	mo->rewrite_headers = r->acct->rewrite_headers;
}
