/* SPDX-License-Identifier: ISC */
/* smtpd.c: the server side of sendmail -bs (see smtpd.h): command parsing, the session state,
 * replies and the DATA stream. It must never hold a whole message, nor decide about addresses
 * or delivery: the caller's callbacks do that.
 *
 * Decisions where RFC 5321 or the clients leave room:
 * - MAIL is accepted without HELO/EHLO, as Postfix does (smtpd_helo_required = no): scripts that
 *   pipe a dialogue into sendmail -bs often skip the greeting.
 * - A command line may end in LF alone, and so may the final "." of DATA (".\n" after a line
 *   that ended in LF or CRLF), since a script writing to a pipe often sends bare LFs. Nothing
 *   can be smuggled onward through this: the content handed to deliver() has every line end
 *   made CRLF, and the client is a local user who could submit the same bytes directly.
 * - A bare LF inside DATA becomes CRLF (smtpd.h promises CRLF line ends); a bare CR is content.
 * - A last command line without its line end (the input ended in it) is dropped, as a server
 *   drops a command cut off by a lost connection.
 * - A timeout of 0 or less waits for ever; max_rcpts 0 is no limit.
 * - The advertised SIZE is enforced on the content: past it, deliver()'s read fails with EFBIG,
 *   the rest of the content is read and discarded, and the final dot gets 552 5.3.4.
 * - The parameters of MAIL and RCPT are checked for syntax and otherwise ignored (only SIZE is
 *   looked at). EXPN, TURN, ETRN, STARTTLS, AUTH and BDAT get 502 (known, not offered). */
#include "smtpd.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Exposed for tests and fuzzing (not part of the interface, hence no header): parses one
 * command line (without its line end) as smtpd_run would, and writes into out a canonical
 * description of the command ("MAIL <addr> SIZE=n", "RCPT <addr>", "HELO arg", "DATA", ...)
 * or, when the line is refused at parse time, the reply it gets ("501 5.5.4 ..."). Returns 0
 * for a command, else that reply's code. Pure: no allocation, no state. */
int smtpd_parse_describe(const char *line, size_t len, char *out, size_t outlen);

#define SMTPD_BUFSIZE (16 * 1024)	/* input buffer: must hold more than one whole line */
#define SMTPD_OUT_FLUSH 4096		/* replies pending past this are written at once */
#define SMTPD_WRITE_CHUNK 4096		/* <= PIPE_BUF: a pipe that polls writable takes it whole */
#define SMTPD_CANCEL_GRACE_MS 1000	/* after a cancel, how long the last replies may take */

enum verb {
	V_HELO, V_EHLO, V_MAIL, V_RCPT, V_DATA, V_RSET, V_NOOP, V_HELP, V_VRFY, V_QUIT,
	V_UNOFFERED,
};

struct command {
	enum verb verb;
	const char *arg;		/* HELO/EHLO/VRFY/HELP/NOOP text, the MAIL/RCPT address */
	size_t arg_len;			/* (without brackets or source route; 0 for <>) */
	bool has_size;
	unsigned long long size;	/* MAIL's SIZE=, saturated at ULLONG_MAX */
	int code;			/* non-zero: the line is refused with code and text */
	const char *text;
};

enum data_state { DATA_LINE_START, DATA_IN_LINE, DATA_END, DATA_FAILED };

struct smtpd {
	const struct smtpd_params *p;
	const char *domain;
	int in_fd, out_fd;
	struct diag *d;
	int fatal;			/* EX_* once the session must end (d filled), else EX_OK */
	int fatal_errno;		/* why, for the DATA stream's errno */
	bool eof;
	size_t start, end;		/* unread input is in[start, end) */
	struct buf out;			/* replies not written yet */
	bool out_socket;		/* out_fd is a socket: written with MSG_DONTWAIT */
	bool out_failed;		/* the output timed out or failed: nothing more is written */
	bool stopping;			/* the cancel descriptor became readable */

	/* the transaction */
	bool in_mail;
	char *sender;
	struct strlist rcpts;
	size_t rcpt_tries;

	/* the DATA stream */
	enum data_state dstate;
	int derrno;			/* errno of a failed stream */
	bool last_cr;			/* the last content byte handed out was a CR */
	bool pending_lf;		/* a CR of an added CRLF went out, its LF not yet */
	bool too_big;
	unsigned long long dsize;

	char in[SMTPD_BUFSIZE];
};

/* --- parsing ------------------------------------------------------------------------- */

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int refuse(struct command *c, int code, const char *text)
{
	c->code = code;
	c->text = text;
	return code;
}

/* ESMTP parameters after the address: "KEYWORD[=VALUE]" separated by spaces (RFC 5321
 * 4.1.2). Only SIZE is interpreted. */
static int parse_params(const char *p, const char *e, bool mail, struct command *c)
{
	while (p < e) {
		while (p < e && *p == ' ')
			p++;
		if (p == e)
			break;
		const char *kw = p;
		if (!is_alnum((unsigned char)*p))
			return refuse(c, 501, "5.5.4 Bad parameter syntax");
		while (p < e && (is_alnum((unsigned char)*p) || *p == '-'))
			p++;
		size_t kwlen = (size_t)(p - kw);
		const char *val = NULL, *vend = NULL;
		if (p < e && *p == '=') {
			val = ++p;
			while (p < e && *p != ' ' && *p != '=' && (unsigned char)*p > 0x20
			       && (unsigned char)*p < 0x7f)
				p++;
			vend = p;
			if (val == vend)
				return refuse(c, 501, "5.5.4 Bad parameter syntax");
		}
		if (p < e && *p != ' ')
			return refuse(c, 501, "5.5.4 Bad parameter syntax");
		if (mail && kwlen == 4 && ascii_ncasecmp(kw, "SIZE", 4) == 0) {
			if (!val)
				return refuse(c, 501, "5.5.4 Bad SIZE parameter");
			unsigned long long n = 0;
			for (const char *q = val; q < vend; q++) {
				if (*q < '0' || *q > '9')
					return refuse(c, 501, "5.5.4 Bad SIZE parameter");
				unsigned digit = (unsigned)(*q - '0');
				n = n > (~0ULL - digit) / 10 ? ~0ULL : n * 10 + digit;
			}
			c->has_size = true;
			c->size = n;
		}
	}
	return 0;
}

/* The path of MAIL FROM: / RCPT TO:, in the strict "<addr>" form or the lax ones older
 * clients and tutorials use (" addr", "addr", " <addr>"), then the parameters. */
static int parse_path(const char *p, const char *e, bool mail, struct command *c)
{
	const char *bad = mail ? "5.1.7 Bad sender address syntax"
			       : "5.1.3 Bad recipient address syntax";
	const char *usage = mail ? "5.5.4 Syntax: MAIL FROM:<address>"
				 : "5.5.4 Syntax: RCPT TO:<address>";
	while (p < e && *p == ' ')
		p++;
	if (p == e)
		return refuse(c, 501, usage);
	const char *a, *ae;
	if (*p == '<') {
		a = ++p;
		bool quoted = false;
		for (; p < e; p++) {
			if (quoted && *p == '\\' && p + 1 < e)
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (!quoted && *p == '>')
				break;
			else if (!quoted && (*p == '<' || *p == ' '))
				return refuse(c, 501, bad);
		}
		if (p == e)
			return refuse(c, 501, bad);
		ae = p++;
		if (p < e && *p != ' ')
			return refuse(c, 501, bad);
		/* a source route ("@a,@b:user@c") may be ignored (RFC 5321 4.1.1.3) */
		if (a < ae && *a == '@') {
			const char *colon = memchr(a, ':', (size_t)(ae - a));
			if (!colon)
				return refuse(c, 501, bad);
			a = colon + 1;
			if (a == ae)
				return refuse(c, 501, bad);
		}
	} else {
		a = p;
		while (p < e && *p != ' ')
			p++;
		ae = p;
		if (memchr(a, '<', (size_t)(ae - a)) || memchr(a, '>', (size_t)(ae - a)))
			return refuse(c, 501, bad);
	}
	for (const char *q = a; q < ae; q++)
		if (is_ctl((unsigned char)*q))
			return refuse(c, 501, bad);
	if (a == ae && !mail)
		return refuse(c, 501, bad);
	c->arg = a;
	c->arg_len = (size_t)(ae - a);
	return parse_params(p, e, mail, c);
}

static int parse_command(const char *line, size_t len, struct command *c)
{
	static const struct {
		const char *name;
		enum verb verb;
	} verbs[] = {
		{ "HELO", V_HELO }, { "EHLO", V_EHLO }, { "MAIL", V_MAIL }, { "RCPT", V_RCPT },
		{ "DATA", V_DATA }, { "RSET", V_RSET }, { "NOOP", V_NOOP }, { "HELP", V_HELP },
		{ "VRFY", V_VRFY }, { "QUIT", V_QUIT }, { "EXPN", V_UNOFFERED },
		{ "TURN", V_UNOFFERED }, { "ETRN", V_UNOFFERED }, { "STARTTLS", V_UNOFFERED },
		{ "AUTH", V_UNOFFERED }, { "BDAT", V_UNOFFERED },
	};
	memset(c, 0, sizeof *c);
	const char *e = line + len;
	while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (const char *q = line; q < e; q++)
		if (is_ctl((unsigned char)*q) && *q != '\t')
			return refuse(c, 500, "5.5.2 Error: bad syntax");
	const char *v = line;
	while (v < e && *v != ' ')
		v++;
	size_t vlen = (size_t)(v - line);
	size_t i;
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strlen(verbs[i].name) == vlen && ascii_ncasecmp(line, verbs[i].name, vlen) == 0)
			break;
	if (i == sizeof verbs / sizeof verbs[0])
		return refuse(c, 500, "5.5.2 Error: command not recognized");
	c->verb = verbs[i].verb;
	const char *a = v;
	while (a < e && *a == ' ')
		a++;
	switch (c->verb) {
	case V_HELO:
	case V_EHLO:
		if (a == e)
			return refuse(c, 501, c->verb == V_HELO ? "5.5.4 Syntax: HELO hostname"
								: "5.5.4 Syntax: EHLO hostname");
		break;
	case V_VRFY:
		if (a == e)
			return refuse(c, 501, "5.5.4 Syntax: VRFY address");
		break;
	case V_DATA:
	case V_RSET:
	case V_QUIT:
		if (a != e)
			return refuse(c, 501, c->verb == V_DATA   ? "5.5.4 Syntax: DATA"
					      : c->verb == V_RSET ? "5.5.4 Syntax: RSET"
								  : "5.5.4 Syntax: QUIT");
		break;
	case V_MAIL:
	case V_RCPT: {
		const char *kw = c->verb == V_MAIL ? "FROM:" : "TO:";
		size_t kwlen = strlen(kw);
		if ((size_t)(e - a) < kwlen || ascii_ncasecmp(a, kw, kwlen) != 0)
			return refuse(c, 501, c->verb == V_MAIL ? "5.5.4 Syntax: MAIL FROM:<address>"
								: "5.5.4 Syntax: RCPT TO:<address>");
		return parse_path(a + kwlen, e, c->verb == V_MAIL, c);
	}
	default:
		break;
	}
	c->arg = a;
	c->arg_len = (size_t)(e - a);
	return 0;
}

int smtpd_parse_describe(const char *line, size_t len, char *out, size_t outlen)
{
	static const char *const names[] = {
		[V_HELO] = "HELO", [V_EHLO] = "EHLO", [V_MAIL] = "MAIL", [V_RCPT] = "RCPT",
		[V_DATA] = "DATA", [V_RSET] = "RSET", [V_NOOP] = "NOOP", [V_HELP] = "HELP",
		[V_VRFY] = "VRFY", [V_QUIT] = "QUIT", [V_UNOFFERED] = "UNOFFERED",
	};
	struct command c;
	int code = parse_command(line, len, &c);
	if (!outlen)
		return code;
	if (code) {
		snprintf(out, outlen, "%d %s", code, c.text);
		return code;
	}
	int n;
	if (c.verb == V_MAIL || c.verb == V_RCPT)
		n = snprintf(out, outlen, "%s <%.*s>", names[c.verb], (int)c.arg_len, c.arg);
	else if (c.arg_len)
		n = snprintf(out, outlen, "%s %.*s", names[c.verb], (int)c.arg_len, c.arg);
	else
		n = snprintf(out, outlen, "%s", names[c.verb]);
	if (c.has_size && n >= 0 && (size_t)n < outlen)
		snprintf(out + n, outlen - (size_t)n, " SIZE=%llu", c.size);
	return 0;
}

/* --- output -------------------------------------------------------------------------- */

/* Ends the session with code (EX_*), err (an errno value for the DATA stream) and a message
 * in d; the first failure wins. Returns -1. */
static int fail(struct smtpd *s, int code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct smtpd *s, int code, int err, const char *fmt, ...)
{
	if (s->fatal)
		return -1;
	s->fatal = code;
	s->fatal_errno = err;
	if (s->d) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->d->msg, sizeof s->d->msg, fmt, ap);
		va_end(ap);
		s->d->code = code;
	}
	return -1;
}

static bool cancelled(const struct smtpd *s)
{
	return s->stopping || (s->p->cancel && *s->p->cancel);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The end of the configured timeout from now, in now_ms() time; -1 when it waits for ever. */
static long long deadline_from_now(const struct smtpd *s)
{
	return s->p->timeout > 0 ? now_ms() + (long long)s->p->timeout * 1000 : -1;
}

enum wait_result { WAIT_READY, WAIT_TIMEOUT, WAIT_CANCEL, WAIT_ERROR };

/* Waits for events on fd until the deadline. With watch_cancel, a cancel ends the wait too:
 * the flag, or the cancel descriptor turning readable, which wakes the poll even when the
 * signal came between the check of the flag and the poll. WAIT_ERROR leaves errno set. */
static enum wait_result wait_fd(struct smtpd *s, int fd, short events, long long deadline,
				bool watch_cancel)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = events },
		{ .fd = s->p->cancel_fd, .events = POLLIN },
	};
	nfds_t n = watch_cancel && s->p->cancel_fd > 0 ? 2 : 1;
	for (;;) {
		if (watch_cancel && cancelled(s))
			return WAIT_CANCEL;
		long long left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		int r = poll(pfd, n, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0 && n == 2 && pfd[1].revents) {
			s->stopping = true;
			return WAIT_CANCEL;
		}
		if (r > 0 && pfd[0].revents)
			return WAIT_READY;
		if (r == 0 && deadline >= 0 && now_ms() >= deadline)
			return WAIT_TIMEOUT;
		if (r < 0 && errno != EINTR)
			return WAIT_ERROR;
	}
}

/* Writes up to n bytes once poll() said out_fd is writable, without blocking for long: a pipe
 * that polls writable takes SMTPD_WRITE_CHUNK (<= PIPE_BUF) bytes whole, and a socket, which
 * may poll writable with less room than that, is written with MSG_DONTWAIT. (A terminal
 * stopped by XOFF can still block: a person is at it.) */
static ssize_t write_some(struct smtpd *s, const char *p, size_t n)
{
	if (n > SMTPD_WRITE_CHUNK)
		n = SMTPD_WRITE_CHUNK;
	if (s->out_socket)
		return send(s->out_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(s->out_fd, p, n);
}

/* The end of the time the last replies may take after a cancel: a signal asks postie to stop
 * now, so a client that is not reading them gets SMTPD_CANCEL_GRACE_MS, not the timeout. */
static long long cancel_deadline(long long deadline)
{
	long long grace = now_ms() + SMTPD_CANCEL_GRACE_MS;
	return deadline < 0 || grace < deadline ? grace : deadline;
}

/* Writes the pending replies (even after a failure: a 421 goes out after it), never blocking
 * for longer than the timeout: a client that stops reading its replies must not hold postie
 * for ever. A cancel while writing ends the session with a 421 after what was pending.
 * Returns 0, or -1 with s->fatal set. */
static int flush(struct smtpd *s)
{
	size_t off = 0;
	int rc = 0;
	long long deadline = deadline_from_now(s);
	bool watch_cancel = !cancelled(s);	/* once cancelled, the 421 must still go out */
	if (!watch_cancel)
		deadline = cancel_deadline(deadline);
	while (off < s->out.len && !s->out_failed) {
		enum wait_result w = wait_fd(s, s->out_fd, POLLOUT, deadline, watch_cancel);
		if (w == WAIT_READY) {
			ssize_t n = write_some(s, s->out.data + off, s->out.len - off);
			if (n >= 0)
				off += (size_t)n;
			else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
				w = WAIT_ERROR;
		}
		if (w == WAIT_CANCEL) {
			/* what is pending still goes out, then a 421 unless the session had already
			 * failed (its own 421 is pending), if the client takes them at once */
			if (!s->fatal)
				buf_printf(&s->out, "421 4.3.2 %s shutting down\r\n", s->domain);
			rc = fail(s, EX_TEMPFAIL, ECANCELED, "interrupted by a signal");
			watch_cancel = false;
			deadline = cancel_deadline(deadline);
		} else if (w == WAIT_TIMEOUT && cancelled(s)) {
			/* only the grace after a signal ran out: the signal is what ended it */
			rc = fail(s, EX_TEMPFAIL, ECANCELED, "interrupted by a signal");
			s->out_failed = true;
		} else if (w == WAIT_TIMEOUT) {
			rc = fail(s, EX_TEMPFAIL, ETIMEDOUT,
				  "timed out after %ld s writing to the SMTP client", s->p->timeout);
			s->out_failed = true;
		} else if (w == WAIT_ERROR) {
			int err = errno;
			rc = fail(s, EX_IOERR, err, "cannot write the SMTP reply: %s", strerror(err));
			s->out_failed = true;
		}
	}
	buf_reset(&s->out);
	return rc;
}

static void reply(struct smtpd *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reply(struct smtpd *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *line = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_append(&s->out, line, (size_t)n);
	buf_append(&s->out, "\r\n", 2);
	free(line);
	if (s->out.len > SMTPD_OUT_FLUSH)
		flush(s);
}

/* A reply with a callback's text: it may span lines ("a\nb", each line possibly starting
 * with its own "550-" or "550 "), so it becomes a proper multi-line reply; no CR, LF or other
 * control character of the text reaches the client. An empty text gets fallback. */
static void reply_text(struct smtpd *s, int code, const char *text, const char *fallback)
{
	struct buf line = {0};
	const char *p = text && text[strspn(text, " \t\r\n")] ? text : fallback;
	bool more = true;
	while (more) {
		size_t n = strcspn(p, "\n");
		more = p[n] == '\n';
		const char *e = p + n;
		if (e - p >= 4 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9'
		    && p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '-'))
			p += 4;
		buf_reset(&line);
		for (; p < e; p++)
			if (*p != '\r')
				buf_putc(&line, is_ctl((unsigned char)*p) ? ' ' : *p);
		p = more ? e + 1 : e;
		if (more && !*p)
			more = false;	/* a trailing newline ends the text */
		reply(s, "%03d%c%s", code, more ? '-' : ' ', line.data ? line.data : "");
	}
	buf_free(&line);
}

/* --- input --------------------------------------------------------------------------- */

/* Waits for input: the pending replies are written first unless input is already there (the
 * client may be waiting for them before it sends more: RFC 2920 3.1). Returns 1 when input is
 * ready, -1 with s->fatal set on a timeout (421 sent), a cancel (421 sent) or an error. */
static int wait_input(struct smtpd *s)
{
	struct pollfd pfd = { .fd = s->in_fd, .events = POLLIN };
	if (s->out.len) {
		/* a cancel is seen even while a client streams without a pause */
		if (!cancelled(s) && poll(&pfd, 1, 0) > 0)
			return 1;
		if (flush(s) < 0)
			return -1;
	}
	switch (wait_fd(s, s->in_fd, POLLIN, deadline_from_now(s), true)) {
	case WAIT_READY:
		return 1;
	case WAIT_TIMEOUT:
		fail(s, EX_TEMPFAIL, ETIMEDOUT,
		     "timed out after %ld s waiting for the SMTP client", s->p->timeout);
		reply(s, "421 4.4.2 %s timeout", s->domain);
		flush(s);
		return -1;
	case WAIT_ERROR:
		return fail(s, EX_IOERR, errno, "cannot wait for the input: %s", strerror(errno));
	case WAIT_CANCEL:
		break;
	}
	fail(s, EX_TEMPFAIL, ECANCELED, "interrupted by a signal");
	reply(s, "421 4.3.2 %s shutting down", s->domain);
	flush(s);
	return -1;
}

/* Reads more input behind the unread bytes (moved to the front first). Returns 1 when bytes
 * came, 0 at the end of the input, -1 with s->fatal set. */
static int fill(struct smtpd *s)
{
	if (s->eof)
		return 0;
	if (s->start > 0) {
		memmove(s->in, s->in + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	for (;;) {
		if (wait_input(s) < 0)
			return -1;
		ssize_t n = read(s->in_fd, s->in + s->end, sizeof s->in - s->end);
		if (n > 0) {
			s->end += (size_t)n;
			return 1;
		}
		if (n == 0) {
			s->eof = true;
			return 0;
		}
		if (errno != EINTR && errno != EAGAIN)
			return fail(s, EX_IOERR, errno, "cannot read the SMTP input: %s",
				    strerror(errno));
	}
}

/* The next command line, without its line end, in [*line, *line + *len) (valid until the next
 * read). A line too long is answered here (500 5.5.6) and skipped. Returns 1 for a line, 0 at
 * the end of the input, -1 with s->fatal set. */
static int next_line(struct smtpd *s, const char **line, size_t *len)
{
	bool discarding = false;
	for (;;) {
		char *p = s->in + s->start;
		size_t avail = s->end - s->start;
		char *lf = memchr(p, '\n', avail);
		if (lf) {
			size_t n = (size_t)(lf - p);
			s->start += n + 1;
			if (n && p[n - 1] == '\r')
				n--;
			if (discarding || n + 2 > SMTPD_LINE_MAX) {
				reply(s, "500 5.5.6 Error: line too long");
				discarding = false;
				continue;
			}
			*line = p;
			*len = n;
			return 1;
		}
		if (avail >= SMTPD_LINE_MAX) {
			/* too long already: keep only a CR that may be half of the CRLF */
			discarding = true;
			s->start = s->end - (p[avail - 1] == '\r');
		}
		int r = fill(s);
		if (r <= 0)
			return r;
	}
}

/* --- the DATA stream ----------------------------------------------------------------- */

static ssize_t data_fail(struct smtpd *s, int err)
{
	s->dstate = DATA_FAILED;
	s->derrno = err;
	errno = err;
	return -1;
}

/* The next bytes of content: dot-unstuffed, bare LF made CRLF, up to the final dot. */
static ssize_t data_pull(struct smtpd *s, char *buf, size_t n)
{
	if (s->dstate == DATA_END)
		return 0;
	if (s->dstate == DATA_FAILED) {
		errno = s->derrno;
		return -1;
	}
	size_t got = 0;
	while (got < n) {
		if (s->pending_lf) {
			buf[got++] = '\n';
			s->pending_lf = false;
			continue;
		}
		const char *p = s->in + s->start;
		size_t avail = s->end - s->start;
		bool need_more = avail == 0;
		if (avail && s->dstate == DATA_LINE_START && p[0] == '.') {
			if (avail >= 2 && p[1] == '\n') {
				s->start += 2;
				s->dstate = DATA_END;
				return (ssize_t)got;
			}
			if (avail >= 3 && p[1] == '\r' && p[2] == '\n') {
				s->start += 3;
				s->dstate = DATA_END;
				return (ssize_t)got;
			}
			if (!s->eof && (avail == 1 || (avail == 2 && p[1] == '\r'))) {
				need_more = true;
			} else {
				s->start++;	/* the transparency dot (RFC 5321 4.5.2) */
				s->dstate = DATA_IN_LINE;
				continue;
			}
		}
		if (need_more) {
			if (got)
				return (ssize_t)got;
			int r = fill(s);
			if (r == 0)
				return data_fail(s, EPIPE);
			if (r < 0)
				return data_fail(s, s->fatal_errno ? s->fatal_errno : EIO);
			continue;
		}
		s->dstate = DATA_IN_LINE;
		size_t k = avail < n - got ? avail : n - got;
		const char *lf = memchr(p, '\n', k);
		if (lf)
			k = (size_t)(lf - p);
		memcpy(buf + got, p, k);
		got += k;
		s->start += k;
		if (k)
			s->last_cr = p[k - 1] == '\r';
		if (lf) {
			if (!s->last_cr) {
				buf[got++] = '\r';
				if (got < n)
					buf[got++] = '\n';
				else
					s->pending_lf = true;
			} else {
				buf[got++] = '\n';
			}
			s->start++;
			s->last_cr = false;
			s->dstate = DATA_LINE_START;
		}
	}
	return (ssize_t)got;
}

/* smtpd_read_fn for deliver(): data_pull with the advertised SIZE enforced. */
static ssize_t data_read(void *stream, void *buf, size_t n)
{
	struct smtpd *s = stream;
	if (s->too_big) {
		errno = EFBIG;
		return -1;
	}
	if (n == 0)
		return 0;
	ssize_t got = data_pull(s, buf, n);
	if (got > 0 && s->p->size_limit) {
		s->dsize += (unsigned long long)got;
		if (s->dsize > s->p->size_limit) {
			s->too_big = true;
			errno = EFBIG;
			return -1;
		}
	}
	return got;
}

/* --- the session --------------------------------------------------------------------- */

static void transaction_reset(struct smtpd *s)
{
	s->in_mail = false;
	free(s->sender);
	s->sender = NULL;
	strlist_free(&s->rcpts);
	s->rcpt_tries = 0;
}

static bool is_ok(int code)
{
	return code >= 200 && code <= 299;
}

static bool is_valid(int code)
{
	return code >= 200 && code <= 599;
}

static void do_mail(struct smtpd *s, const struct command *c)
{
	if (s->in_mail) {
		reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (c->has_size && s->p->size_limit && c->size > s->p->size_limit) {
		reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	char *addr = xstrndup(c->arg, c->arg_len);
	char *out = NULL, text[SMTPD_REPLY_MAX] = "";
	int code = 250;
	if (s->p->check_sender)
		code = s->p->check_sender(s->p->ctx, addr, &out, text, sizeof text);
	text[sizeof text - 1] = '\0';
	if (is_ok(code)) {
		s->in_mail = true;
		s->sender = out ? out : xstrdup(addr);
		out = NULL;
		reply(s, "250 2.1.0 Ok");
	} else if (is_valid(code)) {
		reply_text(s, code, text, code < 500 ? "4.1.7 Sender address rejected"
						     : "5.1.7 Sender address rejected");
	} else {
		reply(s, "451 4.3.0 Error: internal error checking the sender");
	}
	free(out);
	free(addr);
}

static void do_rcpt(struct smtpd *s, const struct command *c)
{
	if (!s->in_mail) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	s->rcpt_tries++;
	if (s->p->max_rcpts && s->rcpts.n >= s->p->max_rcpts) {
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	char *addr = xstrndup(c->arg, c->arg_len);
	char *out = NULL, text[SMTPD_REPLY_MAX] = "";
	int code = 250;
	if (s->p->check_rcpt)
		code = s->p->check_rcpt(s->p->ctx, addr, &out, text, sizeof text);
	text[sizeof text - 1] = '\0';
	if (is_ok(code)) {
		strlist_add(&s->rcpts, out ? out : addr);
		reply(s, "250 2.1.5 Ok");
	} else if (is_valid(code)) {
		reply_text(s, code, text, code < 500 ? "4.1.1 Recipient address rejected"
						     : "5.1.1 Recipient address rejected");
	} else {
		reply(s, "451 4.3.0 Error: internal error checking the recipient");
	}
	free(out);
	free(addr);
}

/* DATA: 354, the content streamed to deliver(), its reply. Returns -1 when the session must
 * end (s->fatal set). */
static int do_data(struct smtpd *s)
{
	if (!s->in_mail) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return 0;
	}
	if (!s->rcpts.n) {
		if (s->rcpt_tries)
			reply(s, "554 5.5.1 Error: no valid recipients");
		else
			reply(s, "503 5.5.1 Error: need RCPT command");
		return 0;
	}
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	if (s->fatal)
		return -1;
	s->dstate = DATA_LINE_START;
	s->last_cr = s->pending_lf = s->too_big = false;
	s->dsize = 0;
	char text[SMTPD_REPLY_MAX] = "";
	int code = s->p->deliver(s->p->ctx, s->sender, s->rcpts.v, s->rcpts.n, data_read, s,
				 text, sizeof text);
	text[sizeof text - 1] = '\0';
	char scratch[4096];
	while (data_pull(s, scratch, sizeof scratch) > 0)
		;
	transaction_reset(s);
	if (s->fatal)
		return -1;
	if (s->dstate == DATA_FAILED)
		return fail(s, EX_PROTOCOL, EPIPE,
			    "input ended in the middle of DATA: the message was dropped");
	if (s->too_big)
		reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
	else if (!is_valid(code))
		reply(s, "451 4.3.0 Error: internal error delivering the message");
	else
		reply_text(s, code, text, is_ok(code)	 ? "2.0.0 Ok"
					  : code < 500 ? "4.0.0 Delivery failed, try again later"
						       : "5.0.0 Delivery failed");
	return 0;
}

/* Runs one command line. Returns 1 after QUIT, 0 to go on, -1 when the session must end. */
static int do_command(struct smtpd *s, const char *line, size_t len)
{
	struct command c;
	if (parse_command(line, len, &c)) {
		reply(s, "%d %s", c.code, c.text);
		return s->fatal ? -1 : 0;
	}
	switch (c.verb) {
	case V_HELO:
		transaction_reset(s);
		reply(s, "250 %s", s->domain);
		break;
	case V_EHLO:
		transaction_reset(s);
		reply(s, "250-%s", s->domain);
		reply(s, "250-PIPELINING");
		reply(s, "250-8BITMIME");
		if (s->p->size_limit)
			reply(s, "250-SIZE %llu", s->p->size_limit);
		else
			reply(s, "250-SIZE");
		reply(s, "250-ENHANCEDSTATUSCODES");
		reply(s, "250 HELP");
		break;
	case V_MAIL:
		do_mail(s, &c);
		break;
	case V_RCPT:
		do_rcpt(s, &c);
		break;
	case V_DATA:
		if (do_data(s) < 0)
			return -1;
		break;
	case V_RSET:
		transaction_reset(s);
		reply(s, "250 2.0.0 Ok");
		break;
	case V_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case V_HELP:
		reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");
		break;
	case V_VRFY:
		reply(s, "252 2.5.2 Cannot verify the address; send mail to it and delivery "
			 "will be attempted");
		break;
	case V_QUIT:
		reply(s, "221 2.0.0 Bye");
		return 1;
	case V_UNOFFERED:
		reply(s, "502 5.5.1 Error: command not implemented");
		break;
	}
	return s->fatal ? -1 : 0;
}

int smtpd_run(const struct smtpd_params *p, int in_fd, int out_fd, struct diag *d)
{
	struct smtpd *s = xcalloc(1, sizeof *s);
	s->p = p;
	s->domain = p->domain && *p->domain ? p->domain : "localhost";
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	struct stat st;
	s->out_socket = fstat(out_fd, &st) == 0 && S_ISSOCK(st.st_mode);
	s->d = d;
	int rc = EX_OK;
	reply(s, "220 %s postie ESMTP", s->domain);
	for (;;) {
		const char *line;
		size_t len;
		int r = next_line(s, &line, &len);
		if (r == 0)
			r = fail(s, EX_PROTOCOL, EPIPE, "input ended without QUIT%s",
				 s->in_mail ? ": the open transaction was dropped" : "");
		else if (r > 0)
			r = do_command(s, line, len);
		if (r != 0 || s->fatal)
			break;
	}
	/* what is pending still goes out: the client may have closed only its sending side */
	flush(s);
	rc = s->fatal;
	transaction_reset(s);
	buf_free(&s->out);
	free(s);
	return rc;
}
