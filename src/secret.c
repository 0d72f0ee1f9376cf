/* SPDX-License-Identifier: ISC */
/* secret.c: runs a command that prints a secret and keeps the first line (see secret.h). It never
 * uses a shell, never shows a secret in a message, and knows no configuration file. */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "privenv.h"

#define COMMAND_OUT_MAX 16384	/* bytes of the command's stdout that are kept */
#define COMMAND_ERR_MAX 1024	/* and of its stderr */

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000L + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/* Appends what fd has to offer to [buf, *len) up to max bytes (the rest is read and dropped).
 * Returns false at end of file or on an error. */
static bool drain(int fd, char *buf, size_t *len, size_t max)
{
	char chunk[4096];
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			bool open = got < 0 && errno == EAGAIN;
			explicit_bzero(chunk, sizeof chunk);
			return open;
		}
		size_t keep = (size_t)got < max - *len ? (size_t)got : max - *len;
		memcpy(buf + *len, chunk, keep);
		*len += keep;
	}
}

/* The first line of [s, s + len), without its line break and with control bytes shown as '?',
 * for a message. */
static void first_line(const char *s, size_t len, char *out, size_t size)
{
	const char *nl = memchr(s, '\n', len);
	size_t n = nl ? (size_t)(nl - s) : len;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[n] = '\0';
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int secret_from_command(const struct secret_command *cmd, char **secret, struct diag *d)
{
	const char *key = cmd->key;
	char *const *argv = cmd->argv;
	bool hidden = cmd->hidden;
	long timeout = cmd->timeout;
	struct strlist env = {0};
	int out[2] = {-1, -1}, err[2] = {-1, -1}, exec_status[2] = {-1, -1}, devnull = -1;
	pid_t pid = -1;
	char outbuf[COMMAND_OUT_MAX], errbuf[COMMAND_ERR_MAX];
	size_t outlen = 0, errlen = 0;
	char why[128] = "";
	int rc = EX_OK;
	*secret = NULL;
	/* run only once the group is given up for good: the child is the user's own, and gets the
	 * user's whole environment back */
	for (char *const *e = cmd->env ? cmd->env : privenv_caller(); e && *e; e++)
		if (strncmp(*e, "POSTIE_", 7) != 0)
			strlist_add(&env, *e);
	env.v = xreallocarray(env.v, env.n + 1, sizeof *env.v);
	env.v[env.n] = NULL;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(exec_status, O_CLOEXEC) < 0 ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		rc = diag_set(d, EX_OSERR, "%s: %s", key, strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = diag_set(d, EX_OSERR, "%s: fork: %s", key, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here on. main ignores SIGPIPE; a child
		 * should not inherit that. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(devnull, 0) >= 0 && dup2(out[1], 1) >= 0 && dup2(err[1], 2) >= 0)
			execvpe(argv[0], argv, env.v);
		int e = errno;
		ssize_t ignored = write(exec_status[1], &e, sizeof e);
		(void)ignored;
		_exit(127);
	}
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&exec_status[1]);
	close_fd(&devnull);

	int exec_errno = 0;
	ssize_t got;
	while ((got = read(exec_status[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof exec_errno) {
		waitpid(pid, NULL, 0);
		pid = -1;
		rc = diag_set(d, EX_CONFIG, "%s '%s': cannot run: %s", key,
			      hidden ? "(not shown)" : argv[0], strerror(exec_errno));
		goto out;
	}

	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long limit = timeout * 1000L;
	int status = 0;
	bool exited = false, timed_out = false;
	/* Read until both pipes close and the child is gone. A child that exits while something
	 * it started holds the pipes open is done: what it wrote is already in the pipes. */
	while (!exited) {
		long left = limit - elapsed_ms(&start);
		if (left <= 0) {
			timed_out = true;
			break;
		}
		/* poll skips closed (negative) descriptors: with none left it just waits. */
		struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
		int step = (out[0] >= 0 || err[0] >= 0) ? 50 : 5;
		if (poll(fds, 2, left < step ? (int)left : step) < 0 && errno != EINTR) {
			rc = diag_set(d, EX_OSERR, "%s: poll: %s", key, strerror(errno));
			goto out;
		}
		if (out[0] >= 0 && fds[0].revents && !drain(out[0], outbuf, &outlen, sizeof outbuf))
			close_fd(&out[0]);
		if (err[0] >= 0 && fds[1].revents && !drain(err[0], errbuf, &errlen, sizeof errbuf))
			close_fd(&err[0]);
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			exited = true;
			pid = -1;
			if (out[0] >= 0)
				drain(out[0], outbuf, &outlen, sizeof outbuf);
			if (err[0] >= 0)
				drain(err[0], errbuf, &errlen, sizeof errbuf);
		}
	}
	if (timed_out) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
		snprintf(why, sizeof why, "timed out after %ld s", timeout);
	} else if (WIFSIGNALED(status)) {
		snprintf(why, sizeof why, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
	} else {
		const char *nl = memchr(outbuf, '\n', outlen);
		size_t n = nl ? (size_t)(nl - outbuf) : outlen;
		if (n > 0 && outbuf[n - 1] == '\r')
			n--;
		if (n == 0 || memchr(outbuf, '\0', n))
			snprintf(why, sizeof why, "%s", n == 0 ? (outlen ? "printed an empty first line"
							    : "printed nothing")
							    : "printed a NUL byte");
		else
			*secret = xstrndup(outbuf, n);
	}
	if (why[0]) {
		char line[COMMAND_ERR_MAX];
		first_line(errbuf, errlen, line, sizeof line);
		if (hidden)
			line[0] = '\0';
		rc = diag_set(d, EX_CONFIG, "%s '%s': %s%s%s", key,
			      hidden ? "(not shown)" : argv[0], why, line[0] ? ": " : "", line);
	}
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&exec_status[0]);
	close_fd(&exec_status[1]);
	close_fd(&devnull);
	explicit_bzero(outbuf, sizeof outbuf);
	strlist_free(&env);
	return rc;
}
