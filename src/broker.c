/* SPDX-License-Identifier: ISC */
/* broker.c: the token broker (see broker.h): the frames, the answer to one request, and the
 * child that keeps the setgid group to read and refresh the system's token state. It answers
 * only with access tokens; the refresh token and the client secret never leave it. */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oauth2.h"
#include "submit.h"

struct broker {
	int fd;
	pid_t pid;
};

/* --- frames ---------------------------------------------------------------------------------- */

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

void broker_request_clear(struct broker_request *req)
{
	free(req->account);
	wipe_free(req->old_token);
	memset(req, 0, sizeof *req);
}

int broker_parse_request(const char *frame, size_t len, struct broker_request *req,
			 struct diag *d)
{
	memset(req, 0, sizeof *req);
	if (len > BROKER_FRAME_MAX)
		return diag_set(d, EX_USAGE, "request larger than %d bytes", BROKER_FRAME_MAX);
	const char *end = frame + len;
	const char *nul = memchr(frame, '\0', len);
	if (!nul)
		return diag_set(d, EX_USAGE, "request without an account");
	size_t oplen = (size_t)(nul - frame);
	if (oplen == 5 && memcmp(frame, "token", 5) == 0)
		req->op = BROKER_TOKEN;
	else if (oplen == 5 && memcmp(frame, "renew", 5) == 0)
		req->op = BROKER_RENEW;
	else
		return diag_set(d, EX_USAGE, "unknown request");
	const char *acct = nul + 1;
	const char *acct_end = memchr(acct, '\0', (size_t)(end - acct));
	bool renew = req->op == BROKER_RENEW;
	if (renew != (acct_end != NULL))
		return diag_set(d, EX_USAGE, renew ? "renew without the old token"
					       : "token request with a field too many");
	if (!acct_end)
		acct_end = end;
	size_t alen = (size_t)(acct_end - acct);
	if (alen > BROKER_ACCOUNT_MAX || !printable(acct, alen))
		return diag_set(d, EX_USAGE, "not an account name");
	if (renew) {
		const char *old = acct_end + 1;
		size_t olen = (size_t)(end - old);
		if (olen == 0 || memchr(old, '\0', olen) || !printable(old, olen))
			return diag_set(d, EX_USAGE, "not a token");
		req->old_token = xstrndup(old, olen);
	}
	req->account = xstrndup(acct, alen);
	return EX_OK;
}

size_t broker_format_request(enum broker_op op, const char *account, const char *old, char *out,
			     size_t n)
{
	const char *name = op == BROKER_RENEW ? "renew" : "token";
	size_t alen = strlen(account);
	size_t olen = old ? strlen(old) : 0;
	size_t len = 6 + alen + (op == BROKER_RENEW ? 1 + olen : 0);
	if (alen > BROKER_ACCOUNT_MAX || !printable(account, alen) || len > n ||
	    len > BROKER_FRAME_MAX || (op == BROKER_RENEW) != (old != NULL) ||
	    (old && (olen == 0 || !printable(old, olen))))
		return 0;
	memcpy(out, name, 5);
	out[5] = '\0';
	memcpy(out + 6, account, alen);
	if (op == BROKER_RENEW) {
		out[6 + alen] = '\0';
		memcpy(out + 7 + alen, old, olen);
	}
	return len;
}

size_t broker_format_reply(int code, const char *text, char *out, size_t n)
{
	if (code < 0 || code > 99)
		code = EX_SOFTWARE;
	out[0] = (char)('0' + code / 10);
	out[1] = (char)('0' + code % 10);
	out[2] = '\0';
	size_t len = 3;
	for (const char *p = text ? text : ""; *p && len < n; p++) {
		unsigned char c = (unsigned char)*p;
		out[len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	return len;
}

int broker_parse_reply(const char *frame, size_t len, int *code, char **text, struct diag *d)
{
	*text = NULL;
	*code = EX_SOFTWARE;
	if (len < 3 || len > BROKER_FRAME_MAX || frame[2] != '\0' || frame[0] < '0' ||
	    frame[0] > '9' || frame[1] < '0' || frame[1] > '9' || memchr(frame + 3, '\0', len - 3))
		return diag_set(d, EX_PROTOCOL, "the token broker's answer is not one");
	int c = (frame[0] - '0') * 10 + (frame[1] - '0');
	if ((c != EX_OK && (c < EX__BASE || c > EX__MAX)) || (c == EX_OK && len == 3))
		return diag_set(d, EX_PROTOCOL, "the token broker's answer is not one");
	*code = c;
	*text = xstrndup(frame + 3, len - 3);
	return EX_OK;
}

size_t broker_answer(const struct broker_source *src, const char *frame, size_t len, char *out,
		     size_t n)
{
	struct broker_request req;
	struct diag d = {0};
	char *token = NULL;
	int rc = broker_parse_request(frame, len, &req, &d);
	const struct account *a = NULL;
	if (rc == EX_OK && !(a = src->lookup(src->ctx, req.account)))
		rc = diag_set(&d, EX_CONFIG, "the system configuration has no OAuth2 account '%s'",
			      *req.account ? req.account : "default");
	if (rc == EX_OK && req.op == BROKER_RENEW)
		rc = src->forget(src->ctx, a, req.old_token, &d);
	if (rc == EX_OK)
		rc = src->bearer(src->ctx, a, &token, &d);
	size_t got;
	if (rc == EX_OK && token && *token && strlen(token) + 3 <= n && printable(token, strlen(token)))
		got = broker_format_reply(EX_OK, token, out, n);
	else if (rc == EX_OK)
		got = broker_format_reply(EX_PROTOCOL, "the token source gave no usable token", out, n);
	else
		got = broker_format_reply(rc, d.msg[0] ? d.msg : "failed", out, n);
	wipe_free(token);
	broker_request_clear(&req);
	return got;
}

/* --- the child ------------------------------------------------------------------------------- */

struct system_accounts {
	struct config *cfg;
	bool ready;		/* config_finish worked */
};

static const struct account *system_lookup(void *ctx, const char *name)
{
	struct system_accounts *s = ctx;
	struct diag ignored;
	if (!s->ready)
		return NULL;
	const struct account *a = config_pick(s->cfg, *name ? name : NULL, NULL, &ignored);
	/* the system file alone was read: oauth2_system holds for every account with a provider */
	return a && a->oauth2_provider && a->oauth2_system ? a : NULL;
}

static int system_bearer(void *ctx, const struct account *a, char **token, struct diag *d)
{
	(void)ctx;
	return oauth2_bearer_privileged(a, token, d);
}

static int system_forget(void *ctx, const struct account *a, const char *old, struct diag *d)
{
	(void)ctx;
	return oauth2_forget_access(a, old, d);
}

/* Raises resource's soft limit to its hard one; whether that is at least min. */
static bool limit_at_least(int resource, rlim_t min)
{
	struct rlimit l;
	if (getrlimit(resource, &l) != 0)
		return false;
	if (l.rlim_cur != l.rlim_max) {
		l.rlim_cur = l.rlim_max;
		if (setrlimit(resource, &l) != 0)
			return false;
	}
	return l.rlim_max == RLIM_INFINITY || l.rlim_max >= min;
}

/* Closes every file descriptor from lowest on. */
static void close_from(int lowest)
{
	if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0)
		return;
	struct rlimit l;
	long top = getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur != RLIM_INFINITY &&
		   l.rlim_cur < 65536 ? (long)l.rlim_cur : 65536;
	for (long f = lowest; f < top; f++)
		close((int)f);
}

/* The child's life: requests answered until the caller's end closes. Never returns. */
static void serve(int fd, struct config *c)
{
	/* a signal meant for the caller (^C, its SIGTERM, any other whose default ends a process)
	 * must not cut a refresh in half, where a rotated refresh token would be lost: the child
	 * ends when the caller's end closes (SIGKILL and SIGSTOP cannot be ignored: postie(1)) */
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
				       SIGPIPE };
	for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
		signal(ignored[i], SIG_IGN);
	/* not to be traced, nor dumped, by the caller whose uid it runs as (the kernel's rule for
	 * a setgid exec says so too, unless fs.suid_dumpable says otherwise) */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	struct diag why = {0};
	int refused = EX_OK;	/* what every request is answered when the broker cannot serve */
	/* nor a limit of the caller's cut a refresh in half, after which a rotated refresh token
	 * would be lost: soft limits raised to the hard ones, a write past one an error, not a
	 * signal, and too low a hard limit refused before anything is asked */
	signal(SIGXFSZ, SIG_IGN);
	if (!limit_at_least(RLIMIT_FSIZE, 1 << 20) || !limit_at_least(RLIMIT_CPU, 30))
		refused = diag_set(&why, EX_TEMPFAIL, "the token broker: a file size or CPU time "
				   "limit too low to store a refresh");
	/* nothing of the caller's but stderr: the socket becomes fd 3, the rest is closed */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    (fd != 3 && dup2(fd, 3) < 0) || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		refused = diag_set(&why, EX_OSERR, "the token broker cannot set up its files");
	else
		fd = 3;
	close_from(4);
	if (chdir("/") != 0) {
		/* "/" is always there; the state paths are absolute anyway */
	}
	umask(027);
	struct system_accounts sys = { c, false };
	int rc = refused != EX_OK ? refused : config_finish(c, &why);
	sys.ready = rc == EX_OK;
	bool curl = rc == EX_OK && submit_global_init(&why) == EX_OK;
	struct broker_source src = { system_lookup, system_bearer, system_forget, &sys };
	char *in = xmalloc(BROKER_FRAME_MAX + 1);
	char *out = xmalloc(BROKER_FRAME_MAX);
	for (;;) {
		ssize_t got = recv(fd, in, BROKER_FRAME_MAX + 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		size_t len;
		if (!sys.ready || !curl)
			len = broker_format_reply(refused != EX_OK ? refused : EX_CONFIG, why.msg, out,
						  BROKER_FRAME_MAX);
		else
			len = broker_answer(&src, in, (size_t)got, out, BROKER_FRAME_MAX);
		ssize_t sent;
		while ((sent = send(fd, out, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
			;
		explicit_bzero(in, BROKER_FRAME_MAX + 1);
		explicit_bzero(out, BROKER_FRAME_MAX);
		if (sent < 0)
			break;
	}
	free(in);
	free(out);
	if (curl)
		submit_global_cleanup();
	config_free(c);
	close(fd);
	/* not exit(): the caller's stdio buffers and atexit handlers are the caller's */
	_exit(0);
}

int broker_start(struct config *c, struct broker **out, struct diag *d)
{
	*out = NULL;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return diag_set(d, EX_OSERR, "token broker: socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return diag_set(d, EX_OSERR, "token broker: fork: %s", strerror(e));
	}
	if (pid == 0) {
		close(sv[0]);
		serve(sv[1], c);
	}
	close(sv[1]);
	struct broker *b = xcalloc(1, sizeof *b);
	b->fd = sv[0];
	b->pid = pid;
	*out = b;
	return EX_OK;
}

int broker_ask(struct broker *b, const struct account *a, enum broker_op op, const char *old,
	       char **token, struct diag *d)
{
	*token = NULL;
	char *frame = xmalloc(BROKER_FRAME_MAX + 1);
	size_t len = broker_format_request(op, a->name ? a->name : "", old, frame, BROKER_FRAME_MAX);
	int rc = EX_OK;
	if (len == 0)
		rc = diag_set(d, EX_TEMPFAIL, "account '%s': the token broker cannot take this request",
			      a->name ? a->name : "default");
	ssize_t got = 0;
	if (rc == EX_OK) {
		while ((got = send(b->fd, frame, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
			;
		if (got < 0)
			rc = diag_set(d, EX_TEMPFAIL, "account '%s': the token broker is gone: %s",
				      a->name ? a->name : "default", strerror(errno));
	}
	if (rc == EX_OK) {
		while ((got = recv(b->fd, frame, BROKER_FRAME_MAX + 1, 0)) < 0 && errno == EINTR)
			;
		if (got <= 0)
			rc = diag_set(d, EX_TEMPFAIL, "account '%s': the token broker is gone%s%s",
				      a->name ? a->name : "default", got < 0 ? ": " : "",
				      got < 0 ? strerror(errno) : "");
	}
	int code;
	char *text = NULL;
	struct diag why = {0};
	if (rc == EX_OK && broker_parse_reply(frame, (size_t)got, &code, &text, &why) != EX_OK)
		rc = diag_set(d, EX_TEMPFAIL, "account '%s': %s", a->name ? a->name : "default",
			      why.msg);
	else if (rc == EX_OK && code != EX_OK)
		rc = diag_set(d, code, "%s", text);
	else if (rc == EX_OK)
		*token = text, text = NULL;
	wipe_free(text);
	explicit_bzero(frame, BROKER_FRAME_MAX + 1);
	free(frame);
	return rc;
}

void broker_close(struct broker *b)
{
	if (!b)
		return;
	close(b->fd);
	while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(b);
}
