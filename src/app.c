/* app.c: the modes (see app.h). Data flows one way: options and configuration -> message ->
 * envelope -> submission, with the message's bytes teed into a spool file on the way so that
 * a failed send ends in the queue or in failed/, never nowhere. Nothing here parses mail or
 * speaks SMTP. */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "address.h"
#include "aliases.h"
#include "config.h"
#include "disposition.h"
#include "log.h"
#include "maildrop.h"
#include "message.h"
#include "oauth2.h"
#include "pickup.h"
#include "queue.h"
#include "smtpd.h"
#include "submit.h"
#include "user.h"
#include "trust.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* How long a send may go on delivering the queue over its connection afterwards. */
#define FLUSH_AFTER_SEND_SECONDS 20

/* Set by SIGTERM, SIGINT and SIGHUP: the transfer stops, a fully read message is queued. */
static volatile sig_atomic_t interrupted;

/* -bs only: the handler also writes a byte here, so that smtpd's poll wakes even when the
 * signal came between its check of the flag and the poll. */
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

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a read of stdin must return so that postie can stop */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The current time; POSTIE_NOW (seconds since the epoch) replaces it so that tests can move
 * through backoff and expiry without sleeping. */
static time_t now_time(void)
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

/* The host's fully qualified name, or its plain name when the resolver knows no better. */
static char *host_fqdn(void)
{
	char host[256] = "localhost";
	if (gethostname(host, sizeof host - 1) < 0 || !*host)
		strcpy(host, "localhost");
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME }, *res = NULL;
	char *name = NULL;
	if (!strchr(host, '.') && getaddrinfo(host, NULL, &hints, &res) == 0 && res &&
	    res->ai_canonname && strchr(res->ai_canonname, '.'))
		name = xstrdup(res->ai_canonname);
	if (res)
		freeaddrinfo(res);
	return name ? name : xstrdup(host);
}

/* What names composed text that is not UTF-8: the charset of the locale (LC_CTYPE, which main
 * took from the environment), where such text most likely comes from, unless that is UTF-8
 * (the text is then not what it claims) or ASCII (which has no 8-bit characters): then
 * unknown-8bit (RFC 1428). A name that is not a plain MIME token counts as unknown too. */
static const char *legacy_charset(void)
{
	const char *set = nl_langinfo(CODESET);
	if (!set || !*set || strlen(set) > 40)
		return "unknown-8bit";
	char squashed[48];
	size_t n = 0;
	for (const char *c = set; *c; c++) {
		bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			  (*c >= '0' && *c <= '9') || strchr("._:+-", *c);
		if (!ok)
			return "unknown-8bit";
		if (*c != '-' && *c != '_')
			squashed[n++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	}
	squashed[n] = '\0';
	static const char *const not_legacy[] = { "UTF8", "ANSIX3.41968", "USASCII", "ASCII",
						   "646", "ISO646US" };
	for (size_t i = 0; i < sizeof not_legacy / sizeof *not_legacy; i++)
		if (strcmp(squashed, not_legacy[i]) == 0)
			return "unknown-8bit";
	return set;
}

/* A host name fit for a Received field: letters, digits, '-' and '.', else "localhost". */
static char *trace_host(const char *fqdn)
{
	bool ok = fqdn && *fqdn;
	for (const char *c = fqdn; ok && *c; c++)
		ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		     (*c >= '0' && *c <= '9') || *c == '-' || *c == '.';
	return xstrdup(ok ? fqdn : "localhost");
}

static char *default_queue_dir(void)
{
	if (geteuid() == 0)
		return xstrdup(LOCALSTATEDIR "/spool/postie");
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/postie/queue", xdg);
	const char *home = getenv("HOME");
	if (home && *home == '/')
		return xasprintf("%s/.local/state/postie/queue", home);
	struct passwd *pw = getpwuid(getuid());
	return xasprintf("%s/.local/state/postie/queue", pw && pw->pw_dir ? pw->pw_dir : "/");
}

/* What a run needs from the configuration, in one place. */
struct run {
	struct config cfg;
	const struct account *acct;	/* the settings in use, owned by cfg */
	char *domain;
	char *login;
	char *full_name;		/* $NAME or GECOS, for a From -F does not name; or NULL */
	char legacy_charset[48];	/* what names composed text that is not UTF-8 */
	char *received_host;		/* the host a Received field names, or NULL for none */
	char *queue_dir;
	FILE *transcript;
	FILE *logfile;
	struct queue *queue;
	struct diag queue_error;	/* why queue is NULL */
	time_t now;
	struct aliases *aliases;	/* the account's aliases file, or NULL */
	struct strlist local_domains;	/* what counts as this machine */
	bool maildrop;			/* a user's message through the system configuration:
					 * what cannot be sent now goes to the system queue */
};

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

static int run_open(struct run *r, const struct cli_opts *o, struct diag *d)
{
	memset(r, 0, sizeof *r);
	r->now = now_time();
	int rc = config_load(&r->cfg, o->config_file, d);
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
	/* one resolver lookup at most: with no DNS it may take the resolver's whole timeout */
	char *fqdn = !r->acct->domain || !r->acct->local_domains_set || r->acct->received
		     ? host_fqdn() : NULL;
	r->domain = xstrdup(r->acct->domain ? r->acct->domain : fqdn);
	r->login = user_login(getuid(), true);
	r->full_name = user_full_name(getuid(), getenv("NAME"));
	/* copied: the next nl_langinfo call may overwrite its buffer */
	snprintf(r->legacy_charset, sizeof r->legacy_charset, "%s", legacy_charset());
	if (r->acct->received)
		r->received_host = trace_host(fqdn);
	r->queue_dir = r->acct->queue ? xstrdup(r->acct->queue) : default_queue_dir();
	for (size_t i = 0; i < r->acct->nlocal_domains; i++)
		strlist_add(&r->local_domains, r->acct->local_domains[i]);
	if (!r->acct->local_domains_set) {
		/* localhost, the host name and its FQDN */
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) == 0 && *host)
			strlist_add(&r->local_domains, host);
		if (strcmp(fqdn, host) != 0)
			strlist_add(&r->local_domains, fqdn);
	}
	free(fqdn);
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

/* Opens the queue; a send goes on without it (and says so if it then needs it). */
static int run_open_queue(struct run *r)
{
	if (!r->queue && !r->queue_error.code)
		queue_open(&r->queue, r->queue_dir, &r->queue_error);
	return r->queue ? EX_OK : r->queue_error.code;
}

static void run_close(struct run *r)
{
	log_set_transcript(false, NULL);
	log_set_records(false, NULL);
	if (r->transcript)
		fclose(r->transcript);
	if (r->logfile)
		fclose(r->logfile);
	queue_close(r->queue);
	aliases_free(r->aliases);
	strlist_free(&r->local_domains);
	config_free(&r->cfg);
	free(r->domain);
	free(r->login);
	free(r->full_name);
	free(r->received_host);
	free(r->queue_dir);
}

/* The progress line of a large send on a terminal: bytes sent, rate, time left. */
#define PROGRESS_MIN_BYTES (4ULL * 1024 * 1024)

struct progress {
	unsigned long long total, sent;
	struct timespec start, last;
	bool shown;
};

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* The progress line is the one stderr line not written through log.c: it redraws itself with
 * a CR, and holds only numbers. */
static void show_progress(void *ctx, unsigned long long sent)
{
	struct progress *p = ctx;
	p->sent = sent;
	if (p->shown && seconds_since(&p->last) < 0.25 && sent < p->total)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	double elapsed = seconds_since(&p->start);
	double rate = elapsed > 0 ? (double)sent / elapsed : 0;
	unsigned long long total = p->total > sent ? p->total : sent;
	double left = rate > 0 ? (double)(total - sent) / rate : 0;
	fprintf(stderr, "\rpostie: sent %.1f of %.1f MiB, %.1f MiB/s, %.0f s left ",
		(double)sent / 1048576.0, (double)total / 1048576.0, rate / 1048576.0, left);
	p->shown = true;
}

static void end_progress(struct progress *p)
{
	if (!p->shown)
		return;
	double elapsed = seconds_since(&p->start);
	fprintf(stderr, "\rpostie: sent %.1f MiB in %.1f s, %.1f MiB/s%20s\n", (double)p->sent / 1048576.0,
		elapsed, elapsed > 0 ? (double)p->sent / 1048576.0 / elapsed : 0.0, "");
}

/* A submitter for account a. The secret (password, or the output of password-command) is
 * fetched only now, handed to libcurl, and wiped. */
static int submitter_for(struct run *r, const struct account *a, struct submitter **out,
			 struct progress *progress, struct diag *d)
{
	struct submit_params sp = {
		.urls = a->relay,
		.nurls = a->nrelay,
		.helo = r->domain,
		.timeout = a->timeout,
		.cancel = &interrupted,
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
		.progress = progress ? show_progress : NULL,
		.progress_ctx = progress,
		.max_rcpts = (size_t)a->max_recipients,
	};
	char *secret = NULL;
	*out = NULL;
	if (a->password || a->password_command) {
		int rc = config_password(a, &secret, d);
		if (rc != EX_OK)
			return rc;
	}
	/* issue 19: built-in OAuth2 (oauth2.h): the token source gives a fresh bearer token */
	if (a->oauth2_provider) {
		int rc = oauth2_bearer(a, &secret, d);
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

/* --- sending one message with its spool ----------------------------------------------- */

/* What became of one message: for -bs, the reply to its final dot. */
struct delivery_report {
	bool sent;		/* the relay accepted it (for at least one recipient) */
	bool unkept;		/* and deferred others, which could not be queued either */
	char queued_id[64];	/* it is in the queue (not failed/) under this id */
	int code;		/* the relay's refusal of the whole message, or 0 */
	char text[1024];	/* that refusal's text, after the code */
};

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
};

static ssize_t tee_read(void *ctx, char *buf, size_t n, struct diag *d)
{
	struct tee *t = ctx;
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

/* The next batch of recipients gets the message from the spool, whole. */
static int tee_rewind(void *ctx, struct diag *d)
{
	struct tee *t = ctx;
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

static void fill_meta(struct queue_meta *m, const struct envelope *env, const char *relay,
		      const char *account, time_t created)
{
	memset(m, 0, sizeof *m);
	m->sender = xstrdup(env->sender);
	m->relay = xstrdup(relay);
	m->account = account ? xstrdup(account) : NULL;
	m->created = created;
	m->next_attempt = created;
}

static void report_queued(struct delivery_report *rep, const char *id);

/* Hands the message to the system queue: what commit does for a user's message through the
 * system configuration. Its envelope is the resolved one; pickup completes it again, trusting
 * only the recipients, the message and the uid. No failed/ of the system queue takes it: a
 * permanent failure is the caller's exit status. */
static int commit_drop(struct tee *t, const struct envelope *env, char *const *rcpts, size_t n,
		       bool failed, bool keep_spool, char **id_out, struct diag *d)
{
	if (failed)
		return diag_set(d, EX_CANTCREAT, "the system queue keeps no failed message of a user");
	struct maildrop_entry e = { .sender_given = true, .sender = env->sender, .ignore_dots = true,
				    .created = time(NULL) };
	for (size_t i = 0; i < n; i++)
		strlist_add(&e.rcpts, rcpts[i]);
	char name[64];
	int rc = maildrop_put_commit(t->drop, &e, name, sizeof name, d);
	strlist_free(&e.rcpts);
	if (!keep_spool) {
		maildrop_put_discard(t->drop);
		t->drop = NULL;
	}
	if (rc == EX_OK && id_out)
		*id_out = xstrdup(name);
	if (rc == EX_OK)
		report_queued(t->report, name);
	return rc;
}

/* Commits the spool (or a copy of it, when keep_spool) with the given recipients. */
static int commit(struct tee *t, const struct envelope *env, const char *relay, time_t now,
		  char *const *rcpts, size_t n, long attempts, const char *last_error, bool failed,
		  bool keep_spool, char **id_out, struct diag *d)
{
	if (t->drop)
		return commit_drop(t, env, rcpts, n, failed, keep_spool, id_out, d);
	struct queue_meta m;
	fill_meta(&m, env, t->primary ? t->primary : relay, t->account, now);
	for (size_t i = 0; i < n; i++)
		strlist_add(&m.rcpts, rcpts[i]);
	m.attempts = attempts;
	m.next_attempt = attempts ? now + disposition_backoff(attempts) : now;
	m.expires = now + t->lifetime;
	m.last_error = last_error ? xstrdup(last_error) : NULL;
	int rc;
	if (keep_spool) {
		rc = spool_commit_copy(t->spool, &m, failed, d);
	} else {
		rc = spool_commit(t->spool, &m, failed, d);
		t->spool = NULL;
	}
	if (rc == EX_OK && id_out)
		*id_out = xstrdup(m.id);
	if (rc == EX_OK && !failed)
		report_queued(t->report, m.id);
	queue_meta_free(&m);
	return rc;
}

/* The delivery record of a message or a queue entry: one line format for every outcome. */
static void record(const char *id, const char *sender, size_t nrcpt, unsigned long long size,
		   const char *relay, const char *status, const char *reply)
{
	log_record("id=%s from=<%s> nrcpt=%zu size=%llu relay=%s status=%s%s%s", id ? id : "-",
		   sender, nrcpt, size, relay, status, reply ? " reply=" : "", reply ? reply : "");
}

/* Which entries a queue run attempts, and what it says of them. */
struct run_scope {
	bool due_only;		/* only those whose retry time has come (and the expired ones) */
	const char *only_relay;	/* only those recorded for this relay, or NULL */
	const struct cli_select *select;	/* -qI, -qR, -qS; none selects all */
	size_t nselect;
	time_t deadline;	/* no entry is started at or after it; 0 for none */
	bool report;		/* a line on stderr for each entry delivered or deferred */
};

static int flush_queue(struct run *r, struct submitter *reuse, const struct run_scope *scope,
		       struct diag *d);

/* The line that says why recipient i of out did not get the message: "<relay> refused <addr>:
 * <the relay's reply>", or "<relay> cannot take <addr>: <why>" when postie never sent it. */
static char *refusal_line(const char *relay, const char *rcpt, const struct submit_outcome *out,
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
	const char *problem = tee_problem(t, r);
	if ((temp.n || perm.n) && !problem && tee_drain(t, &why) != EX_OK)
		problem = why.msg;
	if (!problem && t->spool_failed)
		problem = t->spool_error.msg;
	unsigned long long size = t->spool ? spool_size(t->spool) : 0;
	char *temp_lost = NULL, *perm_kept = NULL;
	if (temp.n) {
		char *id = NULL;
		if (!problem && commit(t, env, relay, r->now, temp.v, temp.n, disp->attempts, temp_reply,
				       false, perm.n > 0, &id, &why) == EX_OK) {
			log_status("queued as %s for %zu recipient%s, delivered by 'postie -q'",
				id, temp.n, temp.n == 1 ? "" : "s");
			record(id, env->sender, temp.n, size, relay, "queued", temp_reply);
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
		if (!problem && commit(t, env, relay, r->now, perm.v, perm.n, disp->attempts, perm_reply,
				       true, false, &id, &why) == EX_OK) {
			perm_kept = xasprintf("saved as %s/failed/%s.msg", queue_path(r->queue), id);
			record(id, env->sender, perm.n, size, relay, "failed", perm_reply);
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
	const char *problem = tee_problem(t, r);
	if (!problem && tee_drain(t, &why) != EX_OK)
		problem = why.msg;
	if (!problem && t->spool_failed)
		problem = t->spool_error.msg;
	char *id = NULL;
	unsigned long long size = t->spool ? spool_size(t->spool) : 0;
	const char *reason = out->reason[0] ? out->reason : d->msg;
	char *last_error = xasprintf("%s %s", relay, reason);
	int rc;
	if (problem) {
		rc = diag_set(d, status == EX_OK ? EX_TEMPFAIL : status,
			      "%s %s (%s); not queued (%s): the message was not accepted", relay,
			      permanent ? "refused it" : "unavailable", reason, problem);
	} else if (commit(t, env, relay, r->now, env->rcpt, env->nrcpt, disp->attempts, last_error,
			  permanent, false, &id, &why) != EX_OK) {
		rc = diag_set(d, permanent ? status : EX_TEMPFAIL,
			      "%s %s (%s); not queued (%s): the message was not accepted", relay,
			      permanent ? "refused it" : "unavailable", reason, why.msg);
	} else if (permanent) {
		record(id, env->sender, env->nrcpt, size, relay, "failed", reason);
		char *shown = xstrdup(d->msg);
		rc = diag_set(d, disp->exit_status, "%s; saved as %s/failed/%s.msg", shown,
			      queue_path(r->queue), id);
		free(shown);
	} else if (disp->exit_status != EX_OK) {
		/* kept for a later run, but the status tells the caller something needs fixing */
		record(id, env->sender, env->nrcpt, size, relay, "queued", reason);
		char *shown = xstrdup(d->msg);
		rc = diag_set(d, disp->exit_status, "%s; queued as %s, delivered by 'postie -q' once fixed",
			      shown, id);
		free(shown);
	} else {
		record(id, env->sender, env->nrcpt, size, relay, "queued", reason);
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

/* Sends an opened message now (or, with queue_only, only queues it), with its bytes teed into a
 * spool file; on failure keeps it in the queue or in failed/ as the contract says. *sub is
 * created at the first use and reused after (the caller frees it). Returns the exit status. */
static int deliver_message(struct run *r, struct message *msg, bool queue_only,
			   struct progress *progress, struct submitter **sub,
			   struct delivery_report *rep, struct diag *d)
{
	struct submit_outcome out = {0};
	struct tee t = { .msg = msg, .account = r->acct->name, .primary = r->acct->relay[0],
			 .lifetime = r->acct->queue_lifetime, .report = rep };
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

	if (queue_only) {
		struct diag why = {0};
		char *id = NULL;
		const char *problem = tee_problem(&t, r);
		if (!problem && tee_drain(&t, &why) != EX_OK)
			problem = why.msg;
		unsigned long long spool_bytes = t.spool ? spool_size(t.spool) : 0;
		if (!problem && commit(&t, env, relay, r->now, env->rcpt, env->nrcpt, 0, NULL, false,
				       false, &id, &why) != EX_OK)
			problem = why.msg;
		if (problem)
			rc = diag_set(d, EX_TEMPFAIL, "not queued (%s): the message was not accepted", problem);
		else
			rc = EX_OK, record(id, env->sender, env->nrcpt, spool_bytes, relay, "queued", "delivery queue");
		free(id);
		spool_discard(t.spool);
		maildrop_put_discard(t.drop);
		return rc;
	}

	enum disp_verdict *verdict = xcalloc(env->nrcpt ? env->nrcpt : 1, sizeof *verdict);
	struct disposition disp;
	rc = *sub ? EX_OK : submitter_for(r, r->acct, sub, progress, d);
	if (rc != EX_OK) {
		/* no secret: keep the message for a later run rather than drop it */
		snprintf(out.reason, sizeof out.reason, "%s", d->msg);
		out.status = rc;
		decide_send(r, &t, env, &out, verdict, &disp);
		rc = settle_failure(r, &t, env, &out, verdict, &disp, relay, d);
	} else {
		if (progress)
			clock_gettime(CLOCK_MONOTONIC, &progress->start);
		rc = submitter_send(*sub, env->sender, env->rcpt, env->nrcpt, tee_read, tee_rewind, &t,
				    &out, d);
		if (progress)
			end_progress(progress);
		relay = submitter_url(*sub);
		unsigned long long size = t.spool ? spool_size(t.spool) : 0;
		decide_send(r, &t, env, &out, verdict, &disp);
		if (rc == EX_OK) {
			record(t.spool ? spool_id(t.spool) : NULL, env->sender, env->nrcpt, size, relay, "sent", NULL);
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
	return rc;
}

static void report_queued(struct delivery_report *rep, const char *id)
{
	if (rep)
		snprintf(rep->queued_id, sizeof rep->queued_id, "%s", id);
}

static struct message_opts message_opts_for(const struct run *r, const struct cli_opts *o)
{
	return (struct message_opts){
		.extract = o->extract,
		/* a composed body is read to its end, as mail(1) reads one that is not typed:
		 * "find . | postie -s list me" must not end at find's first line */
		.ignore_dots = o->ignore_dots || (o->compose && !isatty(STDIN_FILENO)),
		.compose = o->compose,
		.subject = o->subject,
		.full_name = o->full_name ? o->full_name : r->full_name,
		.legacy_charset = r->legacy_charset,
		.received_host = r->received_host,
		.uid = (unsigned long)getuid(),
		.sender_given = o->sender_given,
		.sender = o->sender,
		.default_from = r->acct->from,
		.login = r->login,
		.domain = r->domain,
		.operands = &o->operands,
		.to = &o->to,
		.cc = &o->cc,
		.bcc = &o->bcc,
		.attach = &o->attach,
		.headers = &o->headers,
		.cancel = &interrupted,
		.aliases = r->aliases,
		.local_domains = (const char *const *)r->local_domains.v,
		.nlocal_domains = r->local_domains.n,
		.rewrite_headers = r->acct->rewrite_headers,
	};
}

/* A caller who cannot read the system configuration (not root; the setgid bit ignored under
 * NoNewPrivileges=, or not installed) does not try to send: the message, its recipients and
 * the options that shape it go to the system queue as they are, and root's pickup completes
 * them with the configuration (pickup.h). A composed message needs that configuration now. */
static int hand_over(const struct cli_opts *o, const struct diag *why, struct diag *d)
{
	struct maildrop_put *p = NULL;
	char name[64];
	int rc = config_drop_privileges(d);
	if (rc == EX_OK && !o->extract && o->operands.n == 0)
		rc = diag_set(d, EX_USAGE, "no recipients: give them as arguments, or -t");
	if (rc == EX_OK)
		rc = maildrop_put_open(MAILDROP_DIR, &p, d);
	if (rc == EX_OK) {
		catch_signals();
		rc = maildrop_put_read(p, STDIN_FILENO, o->ignore_dots, &interrupted, d);
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

int app_send(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	struct message *msg = NULL;
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
	catch_signals();
	struct message_opts mo = message_opts_for(&r, o);
	rc = message_open(&msg, &mo, 0, d);
	if (rc != EX_OK && interrupted)
		rc = diag_set(d, EX_TEMPFAIL, "interrupted before the whole message was read; nothing was queued");
	if (rc != EX_OK)
		goto done;
	bool queue_only = o->delivery == 1 || (o->delivery == -1 && r.acct->delivery == DELIVERY_QUEUE);
	/* a progress line only for a large send to a person watching */
	struct progress progress = { .total = message_size_estimate(msg) };
	bool want_progress = !o->no_progress && isatty(2) && progress.total >= PROGRESS_MIN_BYTES;
	if (!queue_only) {
		rc = submit_global_init(d);
		if (rc != EX_OK)
			goto done;
		curl_ready = true;
	}
	struct delivery_report rep;
	rc = deliver_message(&r, msg, queue_only, want_progress ? &progress : NULL, &sub, &rep, d);
	if (rep.sent && r.queue && sub && !interrupted) {
		/* what is due only: a send does not override the backoff of other entries */
		struct run_scope scope = { .due_only = true, .only_relay = r.acct->relay[0],
					   .deadline = r.now + FLUSH_AFTER_SEND_SECONDS };
		struct diag ignored;
		flush_queue(&r, sub, &scope, &ignored);
	}
done:
	submitter_free(sub);
	if (curl_ready)
		submit_global_cleanup();
	message_free(msg);
	run_close(&r);
	return rc;
}

/* --- the queue ------------------------------------------------------------------------ */

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

/* One libcurl handle per account, so that a run delivers over one connection per relay. An
 * account whose handle could not be made (its password-command failed) is remembered with
 * why, so that the run neither retries it for each entry nor says so more than once. */
struct handles {
	const struct account **acct;
	struct submitter **v;	/* NULL: could not be made, see why */
	struct diag *why;
	size_t n;
};

static struct submitter *handle_for(struct handles *h, struct run *r, const struct account *a,
				    struct diag *d)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->acct[i] == a) {
			if (!h->v[i])
				*d = h->why[i];
			return h->v[i];
		}
	struct submitter *sub = NULL;
	struct diag why = {0};
	if (submitter_for(r, a, &sub, NULL, &why) != EX_OK) {
		sub = NULL;
		*d = why;
		log_status("%s; its queue entries stay queued", why.msg);
	}
	h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
	h->acct = xreallocarray(h->acct, h->n + 1, sizeof *h->acct);
	h->why = xreallocarray(h->why, h->n + 1, sizeof *h->why);
	h->acct[h->n] = a;
	h->why[h->n] = why;
	return h->v[h->n++] = sub;
}

static void copy_meta(struct queue_meta *dst, const struct queue_meta *src)
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

/* Delivers one locked entry through account a and records the outcome: removed, updated, or
 * moved to failed/, as disposition_decide says. Before a byte is sent the entry is claimed
 * (queue_claim): its attempt is counted on disk first, so that a queue that cannot record the
 * outcome is never sent from, and a run that dies in flight is seen by the next. Returns what
 * became of it: 's' sent, 'q' still queued (why in *said), 'f' failed (said on stderr), 'x'
 * not sent because its attempt cannot be recorded, 'e' attempted but its outcome not
 * recorded (for both, why in *said: the run stops there). */
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
			copy_meta(&next, m);
			free(next.last_error);
			next.last_error = xasprintf("refused: %s", why.msg);
			for (size_t k = 0; k < m->rcpts.n; k++)
				strlist_add(&next.rcpts, m->rcpts.v[k]);
			queue_move_failed(l, &next, &d);
			queue_meta_free(&next);
			return 'f';
		}
	}
	long long expiry = entry_expiry(r, m);
	if (disposition_expired(expiry, r->now)) {
		copy_meta(&next, m);
		free(next.last_error);
		char lifetime[48];
		long long kept = expiry - m->created;
		duration_text(kept < 1 ? 1 : kept > 0x7fffffffL ? 0x7fffffffL : (long)kept, lifetime,
			      sizeof lifetime);
		next.last_error = xasprintf("expired after %s in the queue; last error: %s", lifetime,
					    m->last_error ? m->last_error : "none");
		for (size_t k = 0; k < m->rcpts.n; k++)
			strlist_add(&next.rcpts, m->rcpts.v[k]);
		int rc = queue_move_failed(l, &next, &d);
		log_status("queue entry %s expired; %s", m->id,
			rc == EX_OK ? "moved to failed/" : d.msg);
		record(m->id, m->sender, m->rcpts.n, m->size, m->relay, "failed", "expired");
		queue_meta_free(&next);
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

	copy_meta(&next, m);
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
		copy_meta(&failed, m);
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
		record(m->id, m->sender, perm.n, m->size, relay, "failed", perm_reply);
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
		next.last_error = xasprintf("%s %s", relay, out.reason[0] ? out.reason : d.msg);
		for (size_t i = 0; i < out.nrcpt && out.status == EX_OK; i++)
			if (out.rcpt_code[i] >= 400 && out.rcpt_code[i] < 500 && out.rcpt_reply[i]) {
				free(next.last_error);
				next.last_error = xasprintf("%s refused <%s>: %s", relay,
							    m->rcpts.v[i], out.rcpt_reply[i]);
				break;
			}
		if (queue_update(l, &next, &why) != EX_OK) {
			recorded = false;
			diag_set(said, EX_TEMPFAIL, "queue entry %s: %s%s; the next run sends it again",
				 m->id, disp.delivered ? "delivered in part, but that cannot be recorded: "
						       : "its outcome cannot be recorded: ", why.msg);
		} else {
			diag_set(said, EX_TEMPFAIL, "%s", next.last_error);
		}
		record(m->id, m->sender, next.rcpts.n, m->size, relay, "deferred", next.last_error);
		result = recorded ? 'q' : 'e';
	} else if (perm.n) {
		result = recorded ? 'f' : 'e';
	} else {
		if (queue_remove(l, &why) != EX_OK) {
			recorded = false;
			diag_set(said, EX_TEMPFAIL, "queue entry %s: delivered, but it cannot be removed "
				 "(%s); the next run sends it again", m->id, why.msg);
		}
		record(m->id, m->sender, m->rcpts.n, m->size, relay, "sent", NULL);
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
static bool entry_selected(const struct run_scope *scope, const struct queue_meta *m)
{
	for (const char *kind = "IRS"; *kind; kind++) {
		bool given = false, satisfied = false;
		for (size_t i = 0; i < scope->nselect; i++) {
			const struct cli_select *sel = &scope->select[i];
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
 * administrator can put the account back (or move the entry); the run says so each time. */
static void keep_without_account(struct run *r, struct queue_lock *l, const struct diag *why)
{
	const struct queue_meta *m = queue_lock_meta(l);
	struct queue_meta next;
	struct diag d;
	copy_meta(&next, m);
	for (size_t i = 0; i < m->rcpts.n; i++)
		strlist_add(&next.rcpts, m->rcpts.v[i]);
	next.attempts = m->attempts + 1;
	next.next_attempt = r->now + disposition_backoff(next.attempts);
	free(next.last_error);
	next.last_error = xstrdup(why->msg);
	if (queue_update(l, &next, &d) == EX_OK)
		log_status("queue entry %s: %s; it stays in the queue, unsent", m->id,
			why->msg);
	else
		log_status("queue entry %s: %s; unsent (%s)", m->id, why->msg, d.msg);
	record(m->id, m->sender, m->rcpts.n, m->size, m->relay, "deferred", why->msg);
	queue_meta_free(&next);
}

/* Attempts the entries of the queue that scope selects (all of them, whatever their backoff,
 * unless scope->due_only), oldest first, each through its own account, until the deadline. */
static int flush_queue(struct run *r, struct submitter *reuse, const struct run_scope *scope,
		       struct diag *d)
{
	struct queue_meta *list = NULL;
	size_t n = 0;
	struct strlist problems = {0}, removed = {0};
	/* what runs that died left: the envelope of a delivered entry, an update's temporary */
	queue_sweep_removed(r->queue, &removed);
	for (size_t i = 0; scope->report && i < removed.n; i++)
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
		h.v[0] = reuse;
		h.acct[0] = r->acct;
		h.n = 1;
	}
	size_t attempted = 0, waiting = 0, unselected = 0;
	for (size_t i = 0; rc == EX_OK && i < n && !interrupted; i++) {
		if (scope->deadline && time(NULL) >= scope->deadline)
			break;
		if (scope->only_relay && strcmp(list[i].relay, scope->only_relay) != 0)
			continue;
		if (!entry_selected(scope, &list[i])) {
			unselected++;
			continue;
		}
		if (scope->due_only && list[i].next_attempt > r->now && entry_expiry(r, &list[i]) > r->now) {
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
		 * then this run leaves it to the backoff (at most one attempt among the runs of
		 * one moment, such as three concurrent postie -q) */
		const struct queue_meta *m = queue_lock_meta(l);
		bool expired = disposition_expired(entry_expiry(r, m), r->now);
		if ((scope->due_only && m->next_attempt > r->now && !expired) ||
		    m->attempts != list[i].attempts) {
			queue_unlock(l);
			continue;
		}
		attempted++;
		const struct account *a = entry_account(r, m, &why);
		if (!a && !expired) {
			keep_without_account(r, l, &why);
			queue_unlock(l);
			continue;
		}
		struct diag said = {0};
		size_t nrcpt = m->rcpts.n;
		char *id = xstrdup(m->id);
		/* an expired entry goes to failed/ before its account is used */
		char result = deliver_entry(r, &h, l, a ? a : r->acct, &said);
		if (scope->report && result == 's')
			log_status("queue entry %s: delivered to %zu recipient%s", id,
				nrcpt, nrcpt == 1 ? "" : "s");
		else if (scope->report && result == 'q')
			log_status("queue entry %s: deferred: %s", id, said.msg);
		free(id);
		queue_unlock(l);
		if (result == 'x' || result == 'e')	/* the queue cannot record: stop sending */
			rc = diag_set(d, EX_TEMPFAIL, "%s", said.msg);
	}
	if (scope->report && rc == EX_OK && attempted == 0 && !interrupted) {
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
	for (size_t i = reuse ? 1 : 0; i < h.n; i++)
		submitter_free(h.v[i]);
	free(h.v);
	free(h.acct);
	free(h.why);
	strlist_free(&problems);
	queue_list_free(list, n);
	return rc;
}

/* Root's run takes the system queue's maildrop into its queue first (pickup.h), with the
 * configuration it runs with. A refusal is always said; what was picked up with report. */
static void pick_up_system_queue(struct run *r, bool report, struct diag *d)
{
	struct pickup_params p = {
		.maildrop = MAILDROP_DIR,
		.refused = MAILDROP_REFUSED_DIR,
		.max_bytes = MAILDROP_MAX_BYTES,
		.queue = r->queue,
		.cfg = &r->cfg,
		.domain = r->domain,
		.received_host = r->received_host,
		.aliases = r->aliases,
		.local_domains = (const char *const *)r->local_domains.v,
		.nlocal_domains = r->local_domains.n,
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

/* -q: sweep tmp/, then attempt the entries. Each step is one call, in this order. */
int app_queue_run(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	int rc = run_open(&r, o, d);
	if (rc == EX_OK && run_open_queue(&r) != EX_OK)
		rc = diag_set(d, r.queue_error.code, "%s", r.queue_error.msg);
	if (rc == EX_OK) {
		catch_signals();
		struct strlist swept = {0};
		queue_sweep_tmp(r.queue, &swept);
		for (size_t i = 0; i < swept.n; i++)
			log_status("%s: removed, a spool file untouched for a day: "
				   "its run did not finish", swept.v[i]);
		strlist_free(&swept);
	}
	/* entries handed over by other means join the queue here, before it is listed */
	struct diag pickup_error = {0};
	if (rc == EX_OK && geteuid() == 0)
		pick_up_system_queue(&r, o->verbose || isatty(STDERR_FILENO), &pickup_error);
	if (rc == EX_OK)
		rc = submit_global_init(d);
	if (rc == EX_OK) {
		struct run_scope scope = {
			.due_only = o->due,
			.select = o->select,
			.nselect = o->nselect,
			/* under cron (no terminal, no -v) a run that moved nothing prints nothing */
			.report = o->verbose || isatty(STDERR_FILENO),
		};
		rc = flush_queue(&r, NULL, &scope, d);
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

/* --- managing entries: --delete, --requeue -------------------------------------------- */

static int delete_entry(struct run *r, const char *id, struct diag *d)
{
	struct queue_lock *l = NULL;
	bool failed;
	int rc = queue_lock_any(r->queue, id, &l, &failed, d);
	if (rc != EX_OK)
		return rc;
	const struct queue_meta *m = queue_lock_meta(l);
	rc = queue_remove(l, d);
	if (rc == EX_OK) {
		log_status("queue entry %s: deleted%s", m->id, failed ? " from failed/" : "");
		record(m->id, m->sender, m->rcpts.n, m->size, m->relay, "deleted", NULL);
	}
	queue_unlock(l);
	return rc;
}

/* Back from failed/ with its recipients, a new backoff and a new expiry, as if queued now. */
static int requeue_entry(struct run *r, const char *id, struct diag *d)
{
	struct queue_lock *l = NULL;
	bool failed;
	int rc = queue_lock_any(r->queue, id, &l, &failed, d);
	if (rc != EX_OK)
		return rc;
	const struct queue_meta *m = queue_lock_meta(l);
	if (!failed) {
		rc = diag_set(d, EX_USAGE, "queue entry %s: not in failed/: it is queued, and "
			      "'postie -q' attempts it now", m->id);
		queue_unlock(l);
		return rc;
	}
	struct queue_meta next;
	copy_meta(&next, m);
	for (size_t i = 0; i < m->rcpts.n; i++)
		strlist_add(&next.rcpts, m->rcpts.v[i]);
	next.attempts = 0;
	next.next_attempt = r->now;
	struct diag ignored;
	const struct account *a = entry_account(r, m, &ignored);
	if (!a)
		a = r->acct;	/* the run will say the account is gone */
	next.expires = r->now + a->queue_lifetime;
	rc = queue_requeue(l, &next, d);
	if (rc == EX_OK) {
		log_status("queue entry %s: back in the queue from failed/, "
			"delivered by 'postie -q'", m->id);
		record(m->id, m->sender, m->rcpts.n, m->size, m->relay, "requeued", NULL);
	}
	queue_meta_free(&next);
	queue_unlock(l);
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
	return manage_entries(o, delete_entry, d);
}

int app_queue_requeue(const struct cli_opts *o, struct diag *d)
{
	return manage_entries(o, requeue_entry, d);
}

/* --- listing -------------------------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void format_age(long long seconds, char *out, size_t n)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 120)
		snprintf(out, n, "%llds", seconds);
	else if (seconds < 7200)
		snprintf(out, n, "%lldm", seconds / 60);
	else if (seconds < 172800)
		snprintf(out, n, "%lldh", seconds / 3600);
	else
		snprintf(out, n, "%lldd", seconds / 86400);
}

static void list_text(const struct run *r, const struct queue_meta *list, size_t n, bool failed)
{
	unsigned long long bytes = 0;
	for (size_t i = 0; i < n; i++) {
		const struct queue_meta *m = &list[i];
		char when[32], age[32], next[32];
		time_t created = (time_t)m->created;
		struct tm tm;
		/* a tampered entry may hold a time no calendar can show */
		if (localtime_r(&created, &tm))
			strftime(when, sizeof when, "%a %b %e %H:%M:%S", &tm);
		else
			snprintf(when, sizeof when, "%-19s", "?");
		format_age(r->now - m->created, age, sizeof age);
		format_age(m->next_attempt - r->now, next, sizeof next);
		printf("%-26s %9llu %s  %s\n", m->id, m->size, when, *m->sender ? m->sender : "<>");
		const char *plural = m->attempts == 1 ? "" : "s";
		if (failed) {
			printf("  (age %s, %ld attempt%s: %s)\n", age, m->attempts, plural,
			       m->last_error ? m->last_error : "no error recorded");
		} else {
			bool due = m->next_attempt <= r->now;
			printf("  (age %s, %ld attempt%s, next %s%s)\n", age, m->attempts, plural,
			       due ? "now" : "in ", due ? "" : next);
			if (m->last_error)
				printf("  (%s)\n", m->last_error);
		}
		for (size_t k = 0; k < m->rcpts.n; k++)
			printf("%*s%s\n", 57, "", m->rcpts.v[k]);
		putchar('\n');
		bytes += m->size;
	}
	printf("-- %llu Kbytes in %zu Request%s.\n", (bytes + 1023) / 1024, n, n == 1 ? "" : "s");
}

static void list_json(const struct run *r, const struct queue_meta *list, size_t n, bool failed,
		      bool *first)
{
	for (size_t i = 0; i < n; i++) {
		const struct queue_meta *m = &list[i];
		printf("%s\n  {\"id\": ", *first ? "" : ",");
		*first = false;
		json_string(m->id);
		printf(", \"state\": \"%s\", \"size\": %llu, \"created\": %lld, \"age\": %lld, "
		       "\"sender\": ", failed ? "failed" : "queued", m->size, m->created, (long long)r->now - m->created);
		json_string(m->sender);
		printf(", \"recipients\": [");
		for (size_t k = 0; k < m->rcpts.n; k++) {
			printf("%s", k ? ", " : "");
			json_string(m->rcpts.v[k]);
		}
		printf("], \"attempts\": %ld, \"next_attempt\": %lld, \"relay\": ", m->attempts, m->next_attempt);
		json_string(m->relay);
		printf(", \"last_error\": ");
		if (m->last_error)
			json_string(m->last_error);
		else
			printf("null");
		printf("}");
	}
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
		bool first = true;
		printf("[");
		list_json(&r, queued, nq, false, &first);
		list_json(&r, failed, nf, true, &first);
		printf("%s]\n", first ? "" : "\n");
	} else if (rc == EX_OK) {
		if (nq == 0) {
			printf("Mail queue is empty\n");
		} else {
			printf("%-26s %9s %-19s  %s\n", "-Queue ID-", "--Size--", "---Arrival Time---",
			       "-Sender/Recipient-------");
			list_text(&r, queued, nq, false);
		}
		if (nf) {
			printf("\nFailed, not retried (%s/failed):\n", queue_path(r.queue));
			list_text(&r, failed, nf, true);
		}
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
		rc = submitter_for(&r, r.acct, &sub, NULL, d);
		if (rc == EX_OK) {
			if (r.acct->name)
				printf("account: %s\n", r.acct->name);
			rc = submitter_serverinfo(sub, stdout, d);
		}
		submitter_free(sub);
		submit_global_cleanup();
	}
	run_close(&r);
	return rc;
}

/* --- sendmail -bs --------------------------------------------------------------------- */

struct smtp_session {
	struct run *r;
	const struct cli_opts *o;
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
	char *local = aliases_local_name(mb.addr, (const char *const *)ss->r->local_domains.v,
					 ss->r->local_domains.n);
	char *q = addr_qualify(local ? local : mb.addr, ss->r->domain);
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
	struct cli_opts plain = { .sender_given = true, .sender = (char *)sender, .ignore_dots = true,
				  .delivery = ss->o->delivery };
	struct message_opts mo = message_opts_for(r, &plain);
	mo.operands = &operands;
	struct session_stream st = { read, stream };
	struct message *msg = NULL;
	struct diag d = {0};
	r->now = now_time();
	int rc = message_open_stream(&msg, &mo, session_read, &st, &d);
	if (rc != EX_OK) {
		snprintf(reply, replylen, "%s %s", rc == EX_IOERR ? "4.3.0" : "5.6.0", d.msg);
		return rc == EX_IOERR ? 451 : 554;
	}
	bool queue_only = plain.delivery == 1 || (plain.delivery == -1 && r->acct->delivery == DELIVERY_QUEUE);
	struct delivery_report rep;
	rc = deliver_message(r, msg, queue_only, NULL, &ss->sub, &rep, &d);
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

int app_smtp(const struct cli_opts *o, struct diag *d)
{
	struct run r;
	struct smtp_session ss = { .r = &r, .o = o };
	int rc = run_open(&r, o, d);
	bool curl_ready = false;
	if (rc == EX_OK) {
		/* fds 0-2 are open, so a pipe is never 0, smtpd's "none" */
		int fds[2];
		if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
			signal_pipe_r = fds[0];
			signal_pipe_w = fds[1];
		}
		catch_signals();
		rc = submit_global_init(d);
		curl_ready = rc == EX_OK;
	}
	if (rc == EX_OK) {
		struct smtpd_params p = {
			.domain = r.domain,
			.max_rcpts = 1000,
			.timeout = r.acct->timeout,
			.cancel = &interrupted,
			.cancel_fd = signal_pipe_r > 0 ? signal_pipe_r : 0,
			.check_rcpt = session_rcpt,
			.check_sender = session_sender,
			.deliver = session_deliver,
			.ctx = &ss,
		};
		rc = smtpd_run(&p, 0, 1, d);
		if (ss.sent_any && r.queue && ss.sub && !interrupted) {
			struct run_scope scope = { .due_only = true, .only_relay = r.acct->relay[0],
						   .deadline = now_time() + FLUSH_AFTER_SEND_SECONDS };
			struct diag ignored;
			flush_queue(&r, ss.sub, &scope, &ignored);
		}
	}
	submitter_free(ss.sub);
	if (curl_ready)
		submit_global_cleanup();
	run_close(&r);
	if (signal_pipe_r >= 0) {
		int w = signal_pipe_w;
		signal_pipe_w = -1;	/* the handler stops writing before the close */
		close(w);
		close(signal_pipe_r);
		signal_pipe_r = -1;
	}
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
							    (const char *const *)r.local_domains.v,
							    r.local_domains.n, &targets, &why)
					   : diag_set(&why, EX_NOUSER, "the null address cannot be a recipient");
			for (size_t k = 0; erc == EX_OK && k < targets.n; k++) {
				char *q = addr_qualify(targets.v[k], r.domain);
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
