/* SPDX-License-Identifier: ISC */
/* run.h: one invocation's context, below every mode: the configuration and the account in use,
 * the environment's names, the logfile and transcript, the queue, the signal flag, and the
 * factory of submitters. It never sends, queues or prints a message itself. */
#ifndef POSTIE_RUN_H
#define POSTIE_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "util.h"

struct aliases;
struct broker;
struct message_opts;
struct progress;
struct queue;
struct submitter;
struct submit_outcome;

/* What a run needs from the configuration, in one place. */
struct run {
	struct config cfg;
	const struct account *acct;	/* the settings in use, owned by cfg */
	struct config_env env;		/* domain, login, queue dir... for acct */
	enum delivery_mode delivery;	/* -odq / -odi, else acct's `delivery`: resolved once */
	FILE *transcript;
	FILE *logfile;
	struct queue *queue;
	struct diag queue_error;	/* why queue is NULL */
	time_t now;
	const volatile sig_atomic_t *cancel;	/* non-zero once a signal asked postie to stop */
	struct aliases *aliases;	/* the account's aliases file, or NULL */
	bool maildrop;			/* a user's message through the system configuration:
					 * what cannot be sent now goes to the system queue */
	struct broker *broker;		/* a setgid run's token broker (broker.h), or NULL */
	struct diag broker_error;	/* why a setgid run that wanted one has none */
};

/* The current time; POSTIE_NOW (seconds since the epoch) replaces it so that tests can move
 * through backoff and expiry without sleeping. */
time_t run_now(void);

/* Loads the configuration the options name (config_load's sequence; in a setgid run that sends
 * and whose system file has an OAuth2 account, the token broker is started before the group is
 * given up, and the system file's client secrets are wiped from this process once it runs),
 * picks the account (--account, else -f's address),
 * opens the transcript (-X) and the logfile, resolves the environment and reads the aliases.
 * Returns EX_OK, or a status with d; r is always safe to run_close. */
int run_open(struct run *r, const struct cli_opts *o, struct diag *d);

/* Opens the queue; a send goes on without it (and says so if it then needs it). Returns EX_OK
 * or the status kept in r->queue_error. */
int run_open_queue(struct run *r);

/* Releases what run_open took: the transcript, the logfile (records and transcript point
 * nowhere after), the queue, the aliases, the configuration and the environment's names. */
void run_close(struct run *r);

/* From now on SIGTERM, SIGINT and SIGHUP stop the transfer (a fully read message is queued):
 * returns the flag they set, the one r->cancel points at. */
const volatile sig_atomic_t *run_catch_signals(void);

/* -bs: a pipe the signal handler also writes a byte to, so that a poll wakes even when the
 * signal came between its check of the flag and the poll. Returns its read end, or 0 (smtpd's
 * "none") when no pipe could be made; run_signal_pipe_close closes it. */
int run_signal_pipe_open(void);
void run_signal_pipe_close(void);

/* A submitter for account a (progress: the progress line's state, or NULL for none). The
 * secret (password, or the output of password-command, or the OAuth2 access token: from the
 * broker for the system's OAuth2 when the run has one, else from oauth2_bearer) is fetched
 * only now, handed to libcurl, and wiped. The system's OAuth2 without a broker, for a user:
 * EX_TEMPFAIL (kept for root's run). Returns EX_OK with *out (free with submitter_free), or config_password's error. */
int run_submitter(const struct run *r, const struct account *a, struct progress *progress,
		  struct submitter **out, struct diag *d);

/* Whether a send through account a that ended in out gets one more try with a new token: a
 * has oauth2-provider and the relay refused the token (disposition_auth_refused). */
bool run_token_refused(const struct account *a, const struct submit_outcome *out);

/* For run_token_refused: forgets the access token old sent (oauth2_forget_access, or the
 * broker's renew request: one that another process has already replaced is left alone) and
 * makes *out anew with a token
 * refreshed now; old stays the caller's to free. Returns EX_OK with *out, or the error of the
 * refresh (the token endpoint down: EX_TEMPFAIL; invalid_grant: EX_NOPERM ...) with *out NULL
 * and d. */
int run_renew_token(const struct run *r, const struct account *a, struct progress *progress,
		    const struct submitter *old, struct submitter **out, struct diag *d);

/* The relay refused a's token again after run_renew_token: out's reason and d's message get
 * what to run, as for invalid_grant; the status stays EX_NOPERM (queued, exit 77). */
void run_token_refused_again(const struct account *a, struct submit_outcome *out,
			     struct diag *d);

/* Fills what the run knows of the message options: the account's From, the environment's
 * names, the aliases and local domains, the cancel flag, and full_name when the caller left it
 * NULL. The caller fills what it was given (the command line, or -bs's envelope). */
void run_message_opts(const struct run *r, struct message_opts *mo);

#endif
