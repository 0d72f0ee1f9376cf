/* submit.c: the SMTP transaction through libcurl (see submit.h). libcurl neither says which stage
 * failed nor gives the reply text, so the debug callback follows the dialogue: the last command
 * sent and the last complete reply before postie's own QUIT. */
#include "submit.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum stage { STAGE_CONNECT, STAGE_GREETING, STAGE_EHLO, STAGE_AUTH, STAGE_STARTTLS, STAGE_MAIL,
	     STAGE_RCPT, STAGE_DATA, STAGE_EOD, STAGE_QUIT, STAGE_OTHER };

struct submitter {
	CURL *curl;
	char *url;		/* the configured URL plus "/<helo>" for libcurl */
	char *shown_url;	/* the configured URL, for messages */
	long timeout;
	char errbuf[CURL_ERROR_SIZE];

	/* per transaction */
	submit_read_fn read;
	void *read_ctx;
	struct diag read_diag;
	bool read_failed;
	enum stage stage;	/* what the next reply answers */
	char *stage_arg;	/* the RCPT address the reply answers */
	bool quit_sent;
	struct buf reply;	/* the reply being received (lines joined with " / ") */
	bool reply_open;
	long reply_code;
	enum stage reply_stage;	/* the stage of the last complete reply */
	char *reply_arg;
	struct buf failed;	/* the last complete reply with a 4xx/5xx code, before QUIT */
	long failed_code;
	enum stage failed_stage;
	char *failed_arg;
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

static void set_string(char **slot, const char *s, size_t n)
{
	free(*slot);
	*slot = s ? xstrndup(s, n) : NULL;
}

/* Which stage a command starts; arg is the RCPT address. */
static enum stage stage_of_command(const char *line, size_t len, const char **arg, size_t *arglen)
{
	*arg = NULL;
	*arglen = 0;
	if (len >= 4 && (ascii_ncasecmp(line, "EHLO", 4) == 0 || ascii_ncasecmp(line, "HELO", 4) == 0))
		return STAGE_EHLO;
	if (len >= 4 && ascii_ncasecmp(line, "AUTH", 4) == 0)
		return STAGE_AUTH;
	if (len >= 8 && ascii_ncasecmp(line, "STARTTLS", 8) == 0)
		return STAGE_STARTTLS;
	if (len >= 10 && ascii_ncasecmp(line, "MAIL FROM:", 10) == 0)
		return STAGE_MAIL;
	if (len >= 8 && ascii_ncasecmp(line, "RCPT TO:", 8) == 0) {
		const char *lt = memchr(line, '<', len), *gt = lt ? memchr(lt, '>', len - (size_t)(lt - line)) : NULL;
		if (lt && gt) {
			*arg = lt + 1;
			*arglen = (size_t)(gt - lt - 1);
		}
		return STAGE_RCPT;
	}
	if (len >= 4 && ascii_ncasecmp(line, "DATA", 4) == 0)
		return STAGE_DATA;
	if (len >= 4 && ascii_ncasecmp(line, "QUIT", 4) == 0)
		return STAGE_QUIT;
	return STAGE_OTHER;
}

static void trim_eol(const char **p, size_t *n)
{
	while (*n && ((*p)[*n - 1] == '\n' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* A reply line: "250-..." continues, "250 ..." (or "250") ends the reply. */
static void on_reply_line(struct submitter *s, const char *line, size_t len)
{
	if (!s->reply_open) {
		buf_reset(&s->reply);
		s->reply_open = true;
	} else {
		buf_puts(&s->reply, " / ");
	}
	bool last = len < 4 || line[3] != '-';
	if (len >= 4 && line[3] == '-') {
		/* show continuation lines as "250 text" so the joined reply reads well */
		buf_append(&s->reply, line, 3);
		buf_putc(&s->reply, ' ');
		buf_append(&s->reply, line + 4, len - 4);
	} else {
		buf_append(&s->reply, line, len);
	}
	if (!last)
		return;
	s->reply_open = false;
	long code = 0;
	for (size_t i = 0; i < 3 && i < len && line[i] >= '0' && line[i] <= '9'; i++)
		code = code * 10 + (line[i] - '0');
	s->reply_code = code;
	s->reply_stage = s->stage;
	set_string(&s->reply_arg, s->stage_arg, s->stage_arg ? strlen(s->stage_arg) : 0);
	if (s->stage == STAGE_DATA && code == 354)
		s->stage = STAGE_EOD;	/* the next reply answers the final dot */
	if (code >= 400 && !s->quit_sent) {
		buf_reset(&s->failed);
		buf_append(&s->failed, s->reply.data, s->reply.len);
		s->failed_code = code;
		s->failed_stage = s->reply_stage;
		set_string(&s->failed_arg, s->reply_arg, s->reply_arg ? strlen(s->reply_arg) : 0);
	}
}

static void on_command(struct submitter *s, const char *line, size_t len)
{
	const char *arg;
	size_t arglen;
	enum stage st = stage_of_command(line, len, &arg, &arglen);
	if (st == STAGE_QUIT) {
		/* libcurl's own QUIT after a failure: the stage that failed stays the one named */
		s->quit_sent = true;
	} else if (st != STAGE_OTHER || s->stage != STAGE_AUTH) {
		s->stage = st;
		set_string(&s->stage_arg, arg, arglen);
	}
	if (!log_transcript_enabled())
		return;
	/* AUTH and whatever follows it until the server's reply carry secrets */
	if (st == STAGE_AUTH) {
		const char *sp = memchr(line + 5 < line + len ? line + 5 : line + len, ' ', len > 5 ? len - 5 : 0);
		size_t keep = sp ? (size_t)(sp - line) : len;
		struct buf b = {0};
		buf_append(&b, line, keep);
		if (sp)
			buf_puts(&b, " <redacted>");
		log_transcript("-->", b.data, b.len);
		buf_free(&b);
	} else if (s->stage == STAGE_AUTH) {
		log_transcript("-->", "<redacted>", 10);
	} else {
		log_transcript("-->", line, len);
	}
}

static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *ud)
{
	struct submitter *s = ud;
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	/* a callback may carry several lines (pipelined commands, a multi-line reply) */
	const char *p = data, *end = data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t n = (size_t)(next - p);
		trim_eol(&p, &n);
		if (type == CURLINFO_HEADER_IN) {
			on_reply_line(s, p, n);
			if (log_transcript_enabled())
				log_transcript("<--", p, n);
		} else {
			on_command(s, p, n);
		}
		p = next;
	}
	return 0;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct submitter *s = ud;
	ssize_t got = s->read(s->read_ctx, buf, size * nitems, &s->read_diag);
	if (got < 0) {
		/* never a silent end of data: a short message must not be sent as complete */
		s->read_failed = true;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

struct submitter *submitter_new(const struct submit_params *p)
{
	struct submitter *s = xcalloc(1, sizeof *s);
	s->shown_url = xstrdup(p->url);
	size_t n = strlen(p->url);
	while (n && p->url[n - 1] == '/')
		n--;
	/* libcurl takes the EHLO name from the URL's path */
	s->url = xasprintf("%.*s/%s", (int)n, p->url, p->helo);
	s->timeout = p->timeout;
	s->curl = curl_easy_init();
	return s;
}

void submitter_free(struct submitter *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	free(s->url);
	free(s->shown_url);
	free(s->stage_arg);
	free(s->reply_arg);
	free(s->failed_arg);
	buf_free(&s->reply);
	buf_free(&s->failed);
	free(s);
}

static const char *stage_name(enum stage st)
{
	switch (st) {
	case STAGE_CONNECT:
		return "the connection";
	case STAGE_GREETING:
		return "the greeting";
	case STAGE_EHLO:
		return "EHLO";
	case STAGE_AUTH:
		return "authentication";
	case STAGE_STARTTLS:
		return "STARTTLS";
	case STAGE_MAIL:
		return "MAIL FROM";
	case STAGE_RCPT:
		return "RCPT TO";
	case STAGE_DATA:
		return "DATA";
	case STAGE_EOD:
		return "the message";
	default:
		return "the session";
	}
}

/* Turns the server's refusal into the status and the one line the user sees. */
static int refused(struct submitter *s, struct diag *d)
{
	long code = s->failed_code;
	int status;
	if (code >= 400 && code < 500)
		status = EX_TEMPFAIL;
	else if (s->failed_stage == STAGE_RCPT)
		status = EX_NOUSER;
	else if (s->failed_stage == STAGE_AUTH && (code == 535 || code == 534 || code == 530))
		status = EX_NOPERM;
	else if (code >= 500 && code < 600)
		status = EX_UNAVAILABLE;
	else
		status = EX_PROTOCOL;
	if (s->failed_stage == STAGE_RCPT && s->failed_arg)
		return diag_set(d, status, "%s refused <%s>: %s", s->shown_url, s->failed_arg,
				s->failed.data);
	if (s->failed_stage == STAGE_GREETING || s->failed_stage == STAGE_CONNECT)
		return diag_set(d, status, "%s refused the connection: %s", s->shown_url, s->failed.data);
	return diag_set(d, status, "%s refused %s: %s", s->shown_url, stage_name(s->failed_stage),
			s->failed.data);
}

static int curl_failure(struct submitter *s, CURLcode rc, struct diag *d)
{
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return diag_set(d, EX_NOHOST, "%s: unknown host (%s)", s->shown_url, why);
	case CURLE_COULDNT_CONNECT:
		return diag_set(d, EX_TEMPFAIL, "%s: cannot connect (%s)", s->shown_url, why);
	case CURLE_OPERATION_TIMEDOUT:
		return diag_set(d, EX_TEMPFAIL, "%s: timed out waiting for %s (%s)", s->shown_url,
				s->stage == STAGE_CONNECT ? "the connection" : stage_name(s->stage), why);
	case CURLE_LOGIN_DENIED:
		return diag_set(d, EX_NOPERM, "%s: authentication failed (%s)", s->shown_url, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return diag_set(d, EX_CONFIG, "%s: %s", s->shown_url, why);
	case CURLE_WEIRD_SERVER_REPLY:
		if (s->reply_code == 0)
			return diag_set(d, EX_PROTOCOL, "%s: not an SMTP server (%s)", s->shown_url, why);
		return diag_set(d, EX_PROTOCOL, "%s: unexpected reply to %s: %s", s->shown_url,
				stage_name(s->reply_stage), s->reply.data ? s->reply.data : why);
	default:
		return diag_set(d, EX_TEMPFAIL, "%s: connection lost during %s (%s)", s->shown_url,
				stage_name(s->stage), why);
	}
}

static void reset_transaction(struct submitter *s)
{
	s->read_failed = false;
	s->read_diag.code = EX_OK;
	s->read_diag.msg[0] = '\0';
	s->stage = STAGE_GREETING;
	set_string(&s->stage_arg, NULL, 0);
	s->quit_sent = false;
	s->reply_open = false;
	s->reply_code = 0;
	buf_reset(&s->reply);
	buf_reset(&s->failed);
	s->failed_code = 0;
	s->errbuf[0] = '\0';
}

int submitter_send(struct submitter *s, const char *sender, char *const *rcpt, size_t nrcpt,
		   submit_read_fn read, void *ctx, struct diag *d)
{
	if (!s->curl)
		return diag_set(d, EX_SOFTWARE, "libcurl could not make a handle");
	reset_transaction(s);
	s->read = read;
	s->read_ctx = ctx;

	struct curl_slist *list = NULL, *tail = NULL;
	for (size_t i = 0; i < nrcpt; i++) {
		/* append behind the tail: curl_slist_append walks the whole list every time */
		struct curl_slist *node = curl_slist_append(NULL, rcpt[i]);
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
	curl_easy_setopt(c, CURLOPT_URL, s->url);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_PROXY, "");	/* ALL_PROXY must not redirect system mail */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->timeout);
	curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout);
	/* a stalled DATA phase: less than 1 byte/s for a whole timeout ends it */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->timeout);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, s);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);	/* the debug callback needs it; it prints nothing */
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, s);

	CURLcode rc = curl_easy_perform(c);
	int status = EX_OK;
	if (s->read_failed)
		status = diag_set(d, s->read_diag.code ? s->read_diag.code : EX_IOERR, "%s",
				  s->read_diag.msg);
	else if (rc != CURLE_OK && s->failed_code)
		status = refused(s, d);	/* a 5xx to EHLO that HELO then passed is no failure */
	else if (rc != CURLE_OK)
		status = curl_failure(s, rc, d);

	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(list);
	free(from);
	return status;
}
