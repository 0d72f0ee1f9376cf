/* SPDX-License-Identifier: ISC */
/* submit.c: the SMTP transaction through libcurl (see submit.h). libcurl neither says which stage
 * failed nor gives the reply text, so the debug callback hands the dialogue to dialogue.c: the
 * last command sent and the last complete reply before postie's own QUIT. */
#include "submit.h"

#include <curl/curl.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "dialogue.h"
#include "log.h"

/* Postfix's words for the same refusal (smtp_proto.c, 3.7), with RFC 6531's status code */
#define NO_SMTPUTF8 "5.6.7 SMTPUTF8 is required, but was not offered by the relay"

struct submitter {
	CURL *curl;
	struct strlist urls;	/* as configured, in failover order */
	size_t cur;		/* the one tried last */
	char *shown_url;	/* urls.v[cur], for messages */
	char *helo;
	long timeout;
	const volatile sig_atomic_t *cancel;
	enum submit_tls tls;
	bool tls_for_secret;
	bool tls_verify;
	char *tls_ca_file, *tls_cert, *tls_key;
	char *user, *secret, *auth, *netrc;
	bool oauth2;
	bool warned_verify;
	void (*progress)(void *ctx, unsigned long long sent);
	void *progress_ctx;
	/* serverinfo: what the server said, kept while collecting */
	bool collecting;
	struct strlist greeting, ehlo;
	char *tls_line;
	char errbuf[CURL_ERROR_SIZE];

	/* per transaction */
	submit_read_fn read;
	void *read_ctx;
	struct diag read_diag;
	bool read_failed;
	struct dialogue dl;	/* the stage, the last reply, the refusal */
	struct submit_outcome *outcome;
	const size_t *rcpt_idx;	/* the batch in flight: RCPT k is the outcome's rcpt_idx[k] */
	size_t rcpt_count;
	size_t max_rcpts;

	/* SMTPUTF8 (RFC 6531): whether the EHLO of the connection libcurl holds offered it */
	int smtputf8;		/* 1 yes, 0 no, -1 not known (no connection, or it failed) */
	bool utf8_counted;	/* this transaction sends UTF-8 addresses, counting on it */
	bool utf8_withdrawn;	/* ...and a new connection's EHLO did not offer it */
};

int submit_global_init(struct diag *d)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return diag_set(d, EX_SOFTWARE, "libcurl could not be initialised");
	return EX_OK;
}

void submit_global_cleanup(void)
{
	curl_global_cleanup();
}

void submit_library_version(struct buf *out)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	buf_printf(out, "libcurl %s (%s)", v->version, v->ssl_version ? v->ssl_version : "no TLS");
}

static void trim_eol(const char **p, size_t *n)
{
	while (*n && ((*p)[*n - 1] == '\n' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* A complete reply, as dialogue.c followed it: what submit.c keeps of it. */
static void on_reply(struct submitter *s)
{
	const struct dialogue *dl = &s->dl;
	if (dl->reply_stage == DIALOGUE_EHLO && dl->reply_code == 250) {
		/* EHLO, or HELO after a refused EHLO: no extensions at all */
		s->smtputf8 = dl->reply_smtputf8;
		if (s->utf8_counted && !s->smtputf8)
			s->utf8_withdrawn = true;
	}
	if (s->outcome && dl->reply_rcpt > 0 && dl->reply_rcpt <= s->rcpt_count) {
		size_t k = s->rcpt_idx[dl->reply_rcpt - 1];
		s->outcome->rcpt_code[k] = (int)dl->reply_code;
		if (dl->reply_code >= 400) {
			free(s->outcome->rcpt_reply[k]);
			s->outcome->rcpt_reply[k] = xstrndup(dl->reply.data, dl->reply.len);
		}
	}
}

/* A reply line: serverinfo keeps the greeting's and EHLO's lines as they came. */
static void on_reply_line(struct submitter *s, const char *line, size_t len)
{
	enum dialogue_stage st = s->dl.stage;
	if (s->collecting && (st == DIALOGUE_GREETING || st == DIALOGUE_EHLO)) {
		char *l = xstrndup(line, len);
		strlist_add(st == DIALOGUE_GREETING ? &s->greeting : &s->ehlo, l);
		free(l);
	}
	if (dialogue_reply_line(&s->dl, line, len))
		on_reply(s);
}

static void on_command(struct submitter *s, const char *line, size_t len)
{
	struct buf shown = {0};
	bool transcript = log_transcript_enabled();
	enum dialogue_stage st = dialogue_command(&s->dl, line, len, transcript ? &shown : NULL);
	if (st == DIALOGUE_EHLO && s->collecting)
		strlist_free(&s->ehlo);	/* after STARTTLS the second EHLO is what counts */
	if (transcript)
		log_transcript("-->", shown.data ? shown.data : "", shown.len);
	buf_free(&shown);
}

static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *ud)
{
	(void)curl;
	struct submitter *s = ud;
	if (type == CURLINFO_TEXT && s->collecting && size > 20 &&
	    strncmp(data, "SSL connection using ", 21) == 0) {
		size_t n = size;
		const char *p = data + 21;
		n -= 21;
		trim_eol(&p, &n);
		free(s->tls_line);
		s->tls_line = xstrndup(p, n);
	}
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	/* a callback may carry several lines (pipelined commands, a multi-line reply) */
	const char *p = data, *end = data + size, *line;
	size_t n;
	while ((line = dialogue_next_line(&p, end, &n))) {
		if (type == CURLINFO_HEADER_IN) {
			on_reply_line(s, line, n);
			if (log_transcript_enabled())
				log_transcript("<--", line, n);
		} else {
			on_command(s, line, n);
		}
	}
	return 0;
}

static bool cancelled(const struct submitter *s)
{
	return s->cancel && *s->cancel;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal;
	struct submitter *s = ud;
	if (s->progress && ulnow > 0)
		s->progress(s->progress_ctx, (unsigned long long)ulnow);
	return cancelled(s) ? 1 : 0;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct submitter *s = ud;
	if (cancelled(s))
		return CURL_READFUNC_ABORT;
	/* MAIL and RCPT are out already; what can still be kept from that relay is the message */
	if (s->utf8_withdrawn)
		return CURL_READFUNC_ABORT;
	ssize_t got = s->read(s->read_ctx, buf, size * nitems, &s->read_diag);
	if (got < 0) {
		/* never a silent end of data: a short message must not be sent as complete */
		s->read_failed = true;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

static char *copy_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct submitter *submitter_new(const struct submit_params *p)
{
	struct submitter *s = xcalloc(1, sizeof *s);
	for (size_t i = 0; i < p->nurls; i++)
		strlist_add(&s->urls, p->urls[i]);
	s->shown_url = xstrdup(p->nurls ? p->urls[0] : "");
	s->helo = xstrdup(p->helo);
	s->timeout = p->timeout;
	s->cancel = p->cancel;
	s->tls = p->tls;
	s->tls_for_secret = p->tls_for_secret;
	s->tls_verify = p->tls_verify;
	s->tls_ca_file = copy_or_null(p->tls_ca_file);
	s->tls_cert = copy_or_null(p->tls_cert);
	s->tls_key = copy_or_null(p->tls_key);
	s->user = copy_or_null(p->user);
	s->secret = copy_or_null(p->secret);
	s->auth = copy_or_null(p->auth);
	s->netrc = copy_or_null(p->netrc);
	s->oauth2 = p->oauth2;
	s->progress = p->progress;
	s->progress_ctx = p->progress_ctx;
	s->max_rcpts = p->max_rcpts;
	s->smtputf8 = -1;
	s->curl = curl_easy_init();
	return s;
}

const char *submitter_url(const struct submitter *s)
{
	return s->shown_url;
}

const char *submitter_bearer(const struct submitter *s)
{
	return s->oauth2 ? s->secret : NULL;
}

const char *submitter_primary_url(const struct submitter *s)
{
	return s->urls.n ? s->urls.v[0] : "";
}

void submit_outcome_free(struct submit_outcome *o)
{
	for (size_t i = 0; i < o->nrcpt; i++)
		free(o->rcpt_reply[i]);
	free(o->rcpt_reply);
	free(o->rcpt_code);
	free(o->rcpt_unsent);
	memset(o, 0, sizeof *o);
}

void submitter_free(struct submitter *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	strlist_free(&s->urls);
	free(s->shown_url);
	free(s->helo);
	free(s->tls_ca_file);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->user);
	wipe_free(s->secret);
	free(s->auth);
	free(s->netrc);
	strlist_free(&s->greeting);
	strlist_free(&s->ehlo);
	free(s->tls_line);
	dialogue_free(&s->dl);
	free(s);
}

/* The stage of the outcome (submit.h) that an internal stage stands for. */
static enum submit_stage outcome_stage(enum dialogue_stage st)
{
	switch (st) {
	case DIALOGUE_CONNECT:
		return SUBMIT_CONNECT;
	case DIALOGUE_GREETING:
		return SUBMIT_GREETING;
	case DIALOGUE_EHLO:
		return SUBMIT_EHLO;
	case DIALOGUE_AUTH:
		return SUBMIT_AUTH;
	case DIALOGUE_STARTTLS:
		return SUBMIT_TLS;
	case DIALOGUE_MAIL:
		return SUBMIT_MAIL;
	case DIALOGUE_RCPT:
		return SUBMIT_RCPT;
	case DIALOGUE_DATA:
		return SUBMIT_DATA;
	case DIALOGUE_EOD:
		return SUBMIT_AFTER_DOT;
	default:
		return SUBMIT_SESSION;
	}
}

/* Records where the transaction ended, for a failure that came with no reply code. */
static void ended_without_reply(struct submitter *s, enum submit_stage st, bool after_dot)
{
	if (!s->outcome)
		return;
	s->outcome->stage = st;
	s->outcome->dropped_after_dot = after_dot;
	s->outcome->reply_code = 0;
	s->outcome->reply_text[0] = '\0';
}

/* Sets the outcome's reason and d's message ("<url> <reason>" or "<url>: <reason>"). */
static int fail(struct submitter *s, struct diag *d, int status, bool refusal, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(struct submitter *s, struct diag *d, int status, bool refusal, const char *fmt, ...)
{
	char reason[sizeof s->outcome->reason];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (s->outcome)
		memcpy(s->outcome->reason, reason, sizeof reason);
	return diag_set(d, status, "%s%s %s", s->shown_url, refusal ? "" : ":", reason);
}

/* Turns the server's refusal into the status and the one line the user sees. */
static int refused(struct submitter *s, struct diag *d)
{
	long code = s->dl.failed_code;
	if (s->outcome) {
		s->outcome->reply_code = (int)code;
		const char *text = s->dl.failed.data ? s->dl.failed.data : "";
		snprintf(s->outcome->reply_text, sizeof s->outcome->reply_text, "%s",
			 strlen(text) > 4 ? text + 4 : "");
		s->outcome->stage = s->dl.failed_stage == DIALOGUE_CONNECT ? SUBMIT_GREETING
								      : outcome_stage(s->dl.failed_stage);
		s->outcome->dropped_after_dot = false;
	}
	int status;
	if (code >= 400 && code < 500)
		status = EX_TEMPFAIL;
	else if (s->dl.failed_stage == DIALOGUE_RCPT)
		status = EX_NOUSER;
	else if (s->dl.failed_stage == DIALOGUE_AUTH && (code == 535 || code == 534 || code == 530))
		status = EX_NOPERM;
	else if (code >= 500 && code < 600)
		status = EX_UNAVAILABLE;
	else
		status = EX_PROTOCOL;
	if (s->dl.failed_stage == DIALOGUE_RCPT && s->dl.failed_arg)
		return fail(s, d, status, true, "refused <%s>: %s", s->dl.failed_arg, s->dl.failed.data);
	if (s->dl.failed_stage == DIALOGUE_GREETING || s->dl.failed_stage == DIALOGUE_CONNECT)
		return fail(s, d, status, true, "refused the connection: %s", s->dl.failed.data);
	return fail(s, d, status, true, "refused %s: %s", dialogue_stage_name(s->dl.failed_stage),
		    s->dl.failed.data);
}

static int curl_failure(struct submitter *s, CURLcode rc, struct diag *d)
{
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	enum submit_stage at = outcome_stage(s->dl.stage);
	bool after_dot = s->dl.stage == DIALOGUE_EOD;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		ended_without_reply(s, SUBMIT_CONNECT, false);
		break;
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		ended_without_reply(s, SUBMIT_TLS, false);
		break;
	case CURLE_LOGIN_DENIED:
		ended_without_reply(s, SUBMIT_AUTH, false);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
		ended_without_reply(s, outcome_stage(s->dl.reply_stage), false);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		/* a timeout before the greeting is the connection's */
		ended_without_reply(s, s->dl.reply_code == 0 && s->dl.stage == DIALOGUE_GREETING
					       ? SUBMIT_CONNECT : at, after_dot);
		break;
	default:
		ended_without_reply(s, at, after_dot && rc != CURLE_ABORTED_BY_CALLBACK);
		break;
	}
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return fail(s, d, EX_NOHOST, false, "unknown host (%s)", why);
	case CURLE_COULDNT_CONNECT:
		return fail(s, d, EX_TEMPFAIL, false, "cannot connect (%s)", why);
	case CURLE_OPERATION_TIMEDOUT:
		return fail(s, d, EX_TEMPFAIL, false, "timed out waiting for %s (%s)",
			    dialogue_stage_name(s->dl.stage), why);
	case CURLE_LOGIN_DENIED:
		return fail(s, d, EX_NOPERM, false, "authentication failed (%s)", why);
	/* the server and the configuration disagree: someone has to look (or it is an attack) */
	case CURLE_USE_SSL_FAILED:
		if (s->tls_for_secret)
			return fail(s, d, EX_CONFIG, false,
				    "offers no STARTTLS, and a password goes without TLS only to a "
				    "loopback relay (%s)", why);
		return fail(s, d, EX_CONFIG, false, "offers no STARTTLS and tls is required (%s)", why);
	case CURLE_PEER_FAILED_VERIFICATION:
		return fail(s, d, EX_CONFIG, false, "TLS certificate not trusted (%s)", why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return fail(s, d, EX_TEMPFAIL, false, "TLS handshake failed (%s)", why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return fail(s, d, EX_CONFIG, false, "%s", why);
	case CURLE_WEIRD_SERVER_REPLY:
		if (s->dl.reply_code == 0)
			return fail(s, d, EX_PROTOCOL, false, "not an SMTP server (%s)", why);
		return fail(s, d, EX_PROTOCOL, false, "unexpected reply to %s: %s",
			    dialogue_stage_name(s->dl.reply_stage), s->dl.reply.data ? s->dl.reply.data : why);
	case CURLE_ABORTED_BY_CALLBACK:
		return fail(s, d, EX_TEMPFAIL, false, "interrupted during %s",
			    dialogue_stage_name(s->dl.stage));
	default:
		return fail(s, d, EX_TEMPFAIL, false, "connection lost during %s (%s)",
			    dialogue_stage_name(s->dl.stage), why);
	}
}

static void reset_transaction(struct submitter *s)
{
	s->read_failed = false;
	s->read_diag.code = EX_OK;
	s->read_diag.msg[0] = '\0';
	dialogue_start(&s->dl);
	s->errbuf[0] = '\0';
}

/* The options of one connection attempt to urls.v[cur]: grouped here, the only place that
 * sets them. */
static void set_connection_options(struct submitter *s)
{
	CURL *c = s->curl;
	const char *url = s->urls.v[s->cur];
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	/* libcurl takes the EHLO name from the URL's path */
	char *full = xasprintf("%.*s/%s", (int)n, url, s->helo);
	curl_easy_setopt(c, CURLOPT_URL, full);
	free(full);
	free(s->shown_url);
	s->shown_url = xstrdup(url);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	/* Never a proxy, in any run: postie has no proxy setting, and all_proxy is meant for the
	 * web. A setgid run does not even see the variables (privenv.c); this keeps the rest. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->timeout);
	curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout);
	/* a stalled DATA phase: less than 1 byte/s for a whole timeout ends it */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->timeout);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);	/* the debug callback needs it; it prints nothing */
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);

	/* TLS */
	long use_ssl = s->tls == SUBMIT_TLS_REQUIRED ? CURLUSESSL_ALL
		     : s->tls == SUBMIT_TLS_OPPORTUNISTIC ? CURLUSESSL_TRY : CURLUSESSL_NONE;
	curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	if (s->tls_ca_file) {
		/* replaces the system trust store: no CA directory beside it */
		curl_easy_setopt(c, CURLOPT_CAINFO, s->tls_ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	if (s->tls_cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, s->tls_cert);
	if (s->tls_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, s->tls_key);

	/* AUTH: the secret goes through setopt, never argv or the environment */
	if (s->user)
		curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
	if (s->secret && s->oauth2)
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, s->secret);
	else if (s->secret)
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret);
	if (s->auth) {
		char *opt = xasprintf("AUTH=%s", s->auth);
		curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, opt);
		free(opt);
	}
	if (s->netrc) {
		curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
		curl_easy_setopt(c, CURLOPT_NETRC_FILE, s->netrc);
	}
	if (!s->tls_verify && !s->warned_verify) {
		s->warned_verify = true;
		log_warn("tls-verify is off: the certificate of %s is not checked", url);
	}
}

/* A failure that another relay may not have: nothing of the message was read yet, and the
 * dialogue broke off before MAIL FROM. */
static bool worth_next_relay(const struct submitter *s, CURLcode rc)
{
	if (rc == CURLE_OK || s->read_failed || cancelled(s) || s->dl.stage >= DIALOGUE_MAIL)
		return false;
	if (s->dl.failed_code)
		return s->dl.failed_code >= 400 && s->dl.failed_code < 500;
	return true;
}

static CURLcode perform_with_failover(struct submitter *s, struct submit_outcome *out)
{
	CURLcode rc = CURLE_OK;
	for (s->cur = 0; s->cur < s->urls.n; s->cur++) {
		reset_transaction(s);
		for (size_t i = 0; i < s->rcpt_count; i++)
			out->rcpt_code[s->rcpt_idx[i]] = 0;
		set_connection_options(s);
		rc = curl_easy_perform(s->curl);
		if (rc != CURLE_OK)
			s->smtputf8 = -1;	/* libcurl closes a connection that failed */
		if (!worth_next_relay(s, rc) || s->cur + 1 == s->urls.n)
			break;
	}
	if (s->cur == s->urls.n)
		s->cur--;
	return rc;
}

/* One transaction for the recipients rcpt[idx[0]], ..., rcpt[idx[n - 1]] of out. */
static int send_transaction(struct submitter *s, const char *sender, char *const *rcpt,
			    const size_t *idx, size_t n, struct submit_outcome *out, struct diag *d)
{
	s->rcpt_idx = idx;
	s->rcpt_count = n;
	s->utf8_withdrawn = false;
	struct curl_slist *list = NULL, *tail = NULL;
	for (size_t j = 0; j < n; j++) {
		/* append behind the tail: curl_slist_append walks the whole list every time */
		struct curl_slist *node = curl_slist_append(NULL, rcpt[idx[j]]);
		if (!node) {
			curl_slist_free_all(list);
			return diag_set(d, EX_OSERR, "out of memory");
		}
		if (tail)
			tail->next = node;
		else
			list = node;
		tail = node;
	}
	char *from = xasprintf("<%s>", sender);
	CURL *c = s->curl;
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, s);
	/* a refused recipient must not cost the others their copy */
#if defined(HAVE_CURLOPT_MAIL_RCPT_ALLOWFAILS)
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#elif defined(HAVE_CURLOPT_MAIL_RCPT_ALLLOWFAILS)
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	CURLcode rc = perform_with_failover(s, out);

	int status = EX_OK;
	out->cancelled = cancelled(s);
	if (s->utf8_withdrawn) {
		/* the relay was asked for UTF-8 addresses it cannot take; nothing was delivered */
		for (size_t j = 0; j < n; j++)
			out->rcpt_code[idx[j]] = 0;
		status = fail(s, d, EX_TEMPFAIL, false, "no longer offers SMTPUTF8; nothing was sent");
	} else if (s->read_failed && !out->cancelled) {
		status = diag_set(d, s->read_diag.code ? s->read_diag.code : EX_IOERR, "%s",
				  s->read_diag.msg);
		snprintf(out->reason, sizeof out->reason, "%s", s->read_diag.msg);
		ended_without_reply(s, SUBMIT_INPUT, false);
	} else if (out->cancelled && rc != CURLE_OK) {
		ended_without_reply(s, outcome_stage(s->dl.stage), false);
		status = fail(s, d, EX_TEMPFAIL, false, "interrupted during %s",
			      dialogue_stage_name(s->dl.stage));
	}
	else if (rc != CURLE_OK && s->dl.failed_code)
		status = refused(s, d);	/* a 5xx to EHLO that HELO then passed is no failure */
	else if (rc != CURLE_OK)
		status = curl_failure(s, rc, d);

	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(list);
	free(from);
	return status;
}

/* Whether libcurl turns a UTF-8 domain into an A-label in this process: it converts from the
 * locale's character set, with libidn2 when it was built with it. */
static bool curl_makes_alabels(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	return (v->features & CURL_VERSION_IDN) && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

static size_t discard_cb(char *p, size_t size, size_t n, void *ud);

/* Connects (or keeps the connection libcurl holds) and sends NOOP, only to read the EHLO
 * reply: libcurl sends MAIL and RCPT right after it, with no chance to drop an address. The
 * connection stays open for the transaction that follows. */
static int learn_extensions(struct submitter *s, struct submit_outcome *out, struct diag *d)
{
	CURL *c = s->curl;
	s->rcpt_count = 0;
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, NULL);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "NOOP");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	CURLcode rc = perform_with_failover(s, out);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	out->cancelled = cancelled(s);
	if (out->cancelled && rc != CURLE_OK)
		return fail(s, d, EX_TEMPFAIL, false, "interrupted during %s",
			    dialogue_stage_name(s->dl.stage));
	if (rc != CURLE_OK && s->dl.failed_code)
		return refused(s, d);
	if (rc != CURLE_OK)
		return curl_failure(s, rc, d);
	return EX_OK;
}

/* RFC 6531: without SMTPUTF8 no envelope address may hold UTF-8. The addresses that need it
 * are refused here, by postie, when the relay does not offer it: a recipient alone (the others
 * still get the message), the sender with the whole message. Fills send_idx with the
 * recipients that go out and *nsend with their number. Returns EX_OK, or the status of the
 * whole message with d. */
static int check_utf8_envelope(struct submitter *s, const char *sender, char *const *rcpt,
			       size_t nrcpt, struct submit_outcome *out, size_t *send_idx,
			       size_t *nsend, struct diag *d)
{
	bool alabels = curl_makes_alabels();
	bool sender_needs = addr_needs_smtputf8(sender, alabels), any = sender_needs;
	for (size_t i = 0; i < nrcpt; i++) {
		out->rcpt_unsent[i] = addr_needs_smtputf8(rcpt[i], alabels);
		any = any || out->rcpt_unsent[i];
	}
	s->utf8_counted = false;
	*nsend = 0;
	if (any && s->smtputf8 < 0) {
		int st = learn_extensions(s, out, d);
		if (st != EX_OK) {
			memset(out->rcpt_unsent, 0, nrcpt * sizeof *out->rcpt_unsent);
			return st;
		}
	}
	if (!any || s->smtputf8 > 0) {
		memset(out->rcpt_unsent, 0, nrcpt * sizeof *out->rcpt_unsent);
		for (size_t i = 0; i < nrcpt; i++)
			send_idx[(*nsend)++] = i;
		s->utf8_counted = any;
		return EX_OK;
	}
	if (sender_needs) {
		memset(out->rcpt_unsent, 0, nrcpt * sizeof *out->rcpt_unsent);
		out->reply_code = 553;	/* RFC 6531 3.5: "mailbox name not allowed" */
		out->stage = SUBMIT_MAIL;
		snprintf(out->reply_text, sizeof out->reply_text, "%s", NO_SMTPUTF8);
		return fail(s, d, EX_UNAVAILABLE, true, "cannot take mail from <%s>: %s", sender,
			    NO_SMTPUTF8);
	}
	const char *last = NULL;
	for (size_t i = 0; i < nrcpt; i++) {
		if (!out->rcpt_unsent[i]) {
			send_idx[(*nsend)++] = i;
			continue;
		}
		out->rcpt_code[i] = 553;
		out->rcpt_reply[i] = xstrdup(NO_SMTPUTF8);
		last = rcpt[i];
	}
	if (*nsend == 0) {
		out->stage = SUBMIT_RCPT;
		return fail(s, d, EX_NOUSER, true, "cannot take <%s>: %s", last, NO_SMTPUTF8);
	}
	return EX_OK;
}

int submitter_send(struct submitter *s, const char *sender, char *const *rcpt, size_t nrcpt,
		   submit_read_fn read, submit_rewind_fn rewind, void *ctx,
		   struct submit_outcome *out, struct diag *d)
{
	memset(out, 0, sizeof *out);
	out->nrcpt = nrcpt;
	out->rcpt_code = xcalloc(nrcpt, sizeof *out->rcpt_code);
	out->rcpt_reply = xcalloc(nrcpt, sizeof *out->rcpt_reply);
	out->rcpt_unsent = xcalloc(nrcpt, sizeof *out->rcpt_unsent);
	if (!s->curl || !s->urls.n)
		return out->status = diag_set(d, EX_SOFTWARE, "libcurl could not make a handle");
	s->outcome = out;
	s->read = read;
	s->read_ctx = ctx;
	size_t *idx = xcalloc(nrcpt ? nrcpt : 1, sizeof *idx), nsend;
	int status = check_utf8_envelope(s, sender, rcpt, nrcpt, out, idx, &nsend, d);
	if (status != EX_OK) {
		s->outcome = NULL;
		free(idx);
		return out->status = status;
	}
	size_t batch = s->max_rcpts && nsend > s->max_rcpts ? s->max_rcpts : nsend;
	bool any_sent = false;
	struct diag last = {0};
	/* libcurl counts every reply of a transfer against one limit (300 KiB in 7.88), and
	 * servers cap recipients per transaction: a long list goes out in batches */
	for (size_t base = 0; base < nsend; base += batch) {
		size_t n = nsend - base < batch ? nsend - base : batch;
		struct diag bd = {0};
		int st;
		if (base > 0 && (!rewind || rewind(ctx, &bd) != EX_OK)) {
			st = bd.code ? bd.code : EX_TEMPFAIL;
			snprintf(out->reason, sizeof out->reason, "%s",
				 bd.msg[0] ? bd.msg : "the message cannot be read again");
			out->stage = SUBMIT_INPUT;
			out->reply_code = 0;
			out->dropped_after_dot = false;
		} else {
			st = send_transaction(s, sender, rcpt, idx + base, n, out, &bd);
		}
		if (st == EX_OK) {
			any_sent = true;
			continue;
		}
		status = st;
		last = bd;
		if (batch == nsend)
			break;
		/* the batch failed as a whole: each of its recipients carries the failure */
		bool permanent = (st == EX_UNAVAILABLE || st == EX_NOUSER) && out->reply_code >= 500;
		for (size_t j = base; j < base + n; j++) {
			size_t i = idx[j];
			if (out->rcpt_code[i] >= 400)
				continue;
			out->rcpt_code[i] = permanent ? out->reply_code : 0;
			free(out->rcpt_reply[i]);
			out->rcpt_reply[i] = xstrdup(out->reason);
		}
		if (out->cancelled || st == EX_IOERR)
			break;
	}
	s->outcome = NULL;
	s->utf8_counted = false;
	s->rcpt_idx = NULL;	/* idx goes: no later perform may count replies into it */
	s->rcpt_count = 0;
	free(idx);
	if (any_sent) {
		out->stage = SUBMIT_ACCEPTED;
		return out->status = EX_OK;
	}
	*d = last;
	return out->status = status;
}

static size_t discard_cb(char *p, size_t size, size_t n, void *ud)
{
	(void)p, (void)ud;
	return size * n;
}

/* Prints the certificate fields libcurl reports for the server's own certificate. */
static void print_certificate(CURL *c, FILE *out)
{
	struct curl_certinfo *ci = NULL;
	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
		return;
	static const char *const wanted[] = { "Subject:", "Issuer:", "Expire date:" };
	for (size_t w = 0; w < 3; w++)
		for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
			if (strncmp(l->data, wanted[w], strlen(wanted[w])) == 0)
				fprintf(out, "  %s\n", l->data);
}

int submitter_serverinfo(struct submitter *s, FILE *out, struct diag *d)
{
	struct submit_outcome none = {0};
	s->outcome = &none;
	s->collecting = true;
	CURL *c = s->curl;
	/* no MAIL: libcurl runs EHLO, STARTTLS and AUTH, then this one command */
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, NULL);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "NOOP");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	CURLcode rc = perform_with_failover(s, &none);
	int status = EX_OK;
	if (rc != CURLE_OK && s->dl.failed_code)
		status = refused(s, d);
	else if (rc != CURLE_OK)
		status = curl_failure(s, rc, d);
	fprintf(out, "relay: %s\n", s->shown_url);
	for (size_t i = 0; i < s->greeting.n; i++)
		fprintf(out, "%s %s\n", i ? "         " : "greeting:", s->greeting.v[i]);
	if (s->ehlo.n) {
		fprintf(out, "capabilities:\n");
		for (size_t i = 1; i < s->ehlo.n; i++) {
			const char *cap = s->ehlo.v[i];
			fprintf(out, "  %s\n", strlen(cap) > 4 ? cap + 4 : cap);
		}
		for (size_t i = 1; i < s->ehlo.n; i++) {
			const char *cap = s->ehlo.v[i];
			if (strlen(cap) > 9 && ascii_ncasecmp(cap + 4, "AUTH ", 5) == 0)
				fprintf(out, "auth mechanisms: %s\n", cap + 9);
		}
	}
	if (s->tls_line) {
		fprintf(out, "tls: %s\n", s->tls_line);
		print_certificate(c, out);
	} else if (status == EX_OK) {
		fprintf(out, "tls: none\n");
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 0L);
	s->collecting = false;
	s->outcome = NULL;
	return status;
}
