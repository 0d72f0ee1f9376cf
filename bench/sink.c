/* SPDX-License-Identifier: ISC */
/* sink.c: a fast SMTP sink for the benchmarks: reads in large blocks and finds the end of DATA
 * across block boundaries, so that it never caps a client the way a line-by-line server does.
 * It binds 127.0.0.1 only, and is no mail server: it accepts every command and keeps nothing
 * but what -o and -l ask for.
 *
 * usage: sink [-p PORTFILE] [-P PORT] [-o FILE] [-l LOG] [-r] [-b BLOCK]
 *   -p  write the bound port (chosen by the kernel unless -P) to PORTFILE
 *   -o  write each message's data, dot-stuffing undone, to FILE (truncated per message);
 *       in raw mode, everything the client sends
 *   -l  append one line "rcpts bytes" per message (per connection in raw mode)
 *   -r  raw mode: no SMTP, read every connection to its end and discard it
 *   -b  read size (default 1 MiB)
 *   -1  serve one connection in the foreground, then exit (to time the sink itself)
 * One process per connection, so any number of clients and messages per connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *out_path, *log_path;
static size_t block = 1 << 20;

static void die(const char *what)
{
	fprintf(stderr, "sink: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replies are collected and sent when no complete command is left in the input, which is
 * also what a client that pipelines needs. */
struct conn {
	int fd;
	char *in;
	size_t start, end;
	char out[8192];
	size_t outlen;
	int data_fd;		/* -o, open during DATA */
	unsigned long rcpts;
	unsigned long long bytes;
};

static void flush_out(struct conn *c)
{
	if (c->outlen && write_all(c->fd, c->out, c->outlen) < 0)
		exit(0);
	c->outlen = 0;
}

static void reply(struct conn *c, const char *s)
{
	size_t n = strlen(s);
	if (c->outlen + n > sizeof c->out)
		flush_out(c);
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
}

static void keep(struct conn *c, const char *p, size_t n)
{
	c->bytes += n;
	if (c->data_fd >= 0 && n && write_all(c->data_fd, p, n) < 0)
		die("writing -o");
}

static void log_message(unsigned long rcpts, unsigned long long bytes)
{
	if (!log_path)
		return;
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		die(log_path);
	char line[64];
	int n = snprintf(line, sizeof line, "%lu %llu\n", rcpts, bytes);
	write_all(fd, line, (size_t)n);	/* one short O_APPEND write: lines never interleave */
	close(fd);
}

/* The DATA scanner's state: where the bytes seen so far leave us in "\r\n.\r\n". */
enum dstate { D_BOL, D_BOL_DOT, D_BOL_DOT_CR, D_MID, D_MID_CR };

/* Consumes DATA from [p, e); returns the first byte after the final ".\r\n", or NULL when
 * the block ended inside the data. A '.' at the start of a line is dropped (unstuffing). */
static char *scan_data(struct conn *c, enum dstate *st, char *p, char *e)
{
	while (p < e) {
		switch (*st) {
		case D_BOL:
			if (*p == '.') {
				p++;
				*st = D_BOL_DOT;
			} else {
				*st = D_MID;
			}
			break;
		case D_BOL_DOT:
			if (*p == '\r') {
				p++;
				*st = D_BOL_DOT_CR;
			} else {
				*st = D_MID;
			}
			break;
		case D_BOL_DOT_CR:
			if (*p == '\n')
				return p + 1;
			keep(c, "\r", 1);	/* ".\rX": the CR was data */
			*st = D_MID_CR;
			break;
		case D_MID_CR:
			if (*p == '\n') {
				keep(c, p, 1);
				p++;
				*st = D_BOL;
			} else {
				*st = D_MID;
			}
			break;
		case D_MID: {
			char *lf = memchr(p, '\n', (size_t)(e - p));
			if (!lf) {
				keep(c, p, (size_t)(e - p));
				*st = e[-1] == '\r' ? D_MID_CR : D_MID;
				return NULL;
			}
			bool cr = lf > p && lf[-1] == '\r';
			keep(c, p, (size_t)(lf + 1 - p));
			p = lf + 1;
			*st = cr ? D_BOL : D_MID;
			break;
		}
		}
	}
	return NULL;
}

static bool has_prefix(const char *line, size_t n, const char *word)
{
	size_t k = strlen(word);
	return n >= k && strncasecmp(line, word, k) == 0;
}

static void serve_smtp(int fd)
{
	struct conn c = { .fd = fd, .data_fd = -1 };
	c.in = malloc(block);
	if (!c.in)
		die("malloc");
	bool in_data = false;
	enum dstate st = D_BOL;
	reply(&c, "220 sink ESMTP\r\n");
	for (;;) {
		/* commands: every complete line in the buffer */
		while (!in_data && c.start < c.end) {
			char *s = c.in + c.start, *lf = memchr(s, '\n', c.end - c.start);
			if (!lf)
				break;
			size_t n = (size_t)(lf - s);
			c.start += n + 1;
			if (n && s[n - 1] == '\r')
				n--;
			if (has_prefix(s, n, "EHLO")) {
				reply(&c, "250-sink\r\n250-8BITMIME\r\n250-SIZE\r\n250 PIPELINING\r\n");
			} else if (has_prefix(s, n, "HELO") || has_prefix(s, n, "RSET") ||
				   has_prefix(s, n, "NOOP")) {
				reply(&c, "250 ok\r\n");
			} else if (has_prefix(s, n, "MAIL")) {
				c.rcpts = 0;
				reply(&c, "250 ok\r\n");
			} else if (has_prefix(s, n, "RCPT")) {
				c.rcpts++;
				reply(&c, "250 ok\r\n");
			} else if (has_prefix(s, n, "DATA")) {
				reply(&c, "354 go on\r\n");
				in_data = true;
				st = D_BOL;
				c.bytes = 0;
				if (out_path) {
					c.data_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
					if (c.data_fd < 0)
						die(out_path);
				}
			} else if (has_prefix(s, n, "QUIT")) {
				reply(&c, "221 bye\r\n");
				flush_out(&c);
				return;
			} else {
				reply(&c, "502 no\r\n");
			}
		}
		if (in_data && c.start < c.end) {
			char *after = scan_data(&c, &st, c.in + c.start, c.in + c.end);
			if (after) {
				in_data = false;
				c.start = (size_t)(after - c.in);
				if (c.data_fd >= 0)
					close(c.data_fd);
				c.data_fd = -1;
				log_message(c.rcpts, c.bytes);
				reply(&c, "250 queued\r\n");
				continue;
			}
			c.start = c.end = 0;
		}
		flush_out(&c);
		/* keep a partial command line; data was consumed whole */
		if (c.start > 0) {
			memmove(c.in, c.in + c.start, c.end - c.start);
			c.end -= c.start;
			c.start = 0;
		}
		if (c.end == block)
			c.end = 0;	/* a command longer than a block: drop it */
		ssize_t got = read(fd, c.in + c.end, block - c.end);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return;
		c.end += (size_t)got;
	}
}

static void serve_raw(int fd)
{
	char *buf = malloc(block);
	int out = -1;
	unsigned long long bytes = 0;
	if (!buf)
		die("malloc");
	if (out_path && (out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		die(out_path);
	for (;;) {
		ssize_t got = read(fd, buf, block);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		bytes += (unsigned long long)got;
		if (out >= 0 && write_all(out, buf, (size_t)got) < 0)
			die("writing -o");
	}
	if (out >= 0)
		close(out);
	log_message(0, bytes);
}

int main(int argc, char **argv)
{
	const char *port_file = NULL;
	int port = 0, opt;
	bool raw = false, once = false;
	while ((opt = getopt(argc, argv, "p:P:o:l:rb:1")) != -1) {
		switch (opt) {
		case 'p': port_file = optarg; break;
		case 'P': port = atoi(optarg); break;
		case 'o': out_path = optarg; break;
		case 'l': log_path = optarg; break;
		case 'r': raw = true; break;
		case 'b': block = strtoul(optarg, NULL, 10); break;
		case '1': once = true; break;
		default:
			fprintf(stderr, "usage: sink [-p PORTFILE] [-P PORT] [-o FILE] [-l LOG] [-r] [-b BLOCK] [-1]\n");
			return 2;
		}
	}
	if (block < 4096)
		block = 4096;
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	signal(SIGPIPE, SIG_IGN);

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		die("socket");
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(ls, 512) < 0)
		die("listen");
	socklen_t alen = sizeof a;
	getsockname(ls, (struct sockaddr *)&a, &alen);
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) < 0)
			die(port_file);
	}
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pid_t pid = once ? 0 : fork();
		if (pid == 0) {
			close(ls);
			if (raw)
				serve_raw(fd);
			else
				serve_smtp(fd);
			if (once)
				return 0;
			_exit(0);
		}
		close(fd);
	}
}
