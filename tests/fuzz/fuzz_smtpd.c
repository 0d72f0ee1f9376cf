/* SPDX-License-Identifier: ISC */
/* fuzz_smtpd.c: libFuzzer target for sendmail -bs. The input, less its first byte, is parsed
 * as one command line, then played whole as a session into smtpd_run (from a memfd, replies
 * into another, both made once per process: two memfd_create and close per input were most of
 * the system time) with stub callbacks. The first byte picks deliver's read size, whether it
 * reads at all, and small size and recipient limits. Checked: every reply line is a code, a
 * space or hyphen and printable text ending in CRLF; the content deliver reads has only CRLF
 * line ends; a read never returns more than asked, nor anything after its end. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smtpd.h"
#include "util.h"

#include "harness.h"

/* exposed by smtpd.c for tests and fuzzing */
int smtpd_parse_describe(const char *line, size_t len, char *out, size_t outlen);

struct stub {
	size_t chunk;
	bool read_nothing;
};

HARNESS static int stub_check(void *ctx, const char *addr, char **out, char *reply, size_t len)
{
	(void)ctx;
	if (strchr(addr, '!')) {
		snprintf(reply, len, "5.1.1 <%s>: refused\nsecond line", addr);
		return 550;
	}
	*out = xstrdup(addr);
	return 250;
}

HARNESS static int stub_deliver(void *ctx, const char *sender, char *const *rcpts, size_t nrcpt,
			smtpd_read_fn rd, void *stream, char *reply, size_t len)
{
	struct stub *st = ctx;
	if (nrcpt == 0 || !sender)
		abort();
	for (size_t i = 0; i < nrcpt; i++)
		if (!rcpts[i] || !*rcpts[i])
			abort();
	if (st->read_nothing) {
		snprintf(reply, len, "2.0.0 not read");
		return 250;
	}
	char buf[4096];
	ssize_t n;
	char prev = '\n';
	while ((n = rd(stream, buf, st->chunk)) > 0) {
		if ((size_t)n > st->chunk)
			abort();
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && prev != '\r')
				abort();	/* a bare LF handed on */
			prev = buf[i];
		}
	}
	if (n == 0) {
		if (prev != '\n')
			abort();	/* the content ends with a whole line */
		if (rd(stream, buf, st->chunk) != 0)
			abort();	/* and stays ended */
		snprintf(reply, len, "2.0.0 queued as X");
		return 250;
	}
	if (errno != EPIPE && errno != EFBIG)
		abort();
	snprintf(reply, len, "4.3.0 read failed: %s", strerror(errno));
	return 451;
}

/* Every reply line: three digits, a space or a hyphen, printable text, CRLF. */
HARNESS static void check_replies(const char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (len - i < 6 || p[i] < '2' || p[i] > '5' || p[i + 1] < '0' || p[i + 1] > '9'
		    || p[i + 2] < '0' || p[i + 2] > '9' || (p[i + 3] != ' ' && p[i + 3] != '-'))
			abort();
		i += 4;
		while (i < len && p[i] != '\r') {
			unsigned char c = (unsigned char)p[i];
			if (c < 0x20 || c == 0x7f)
				abort();
			i++;
		}
		if (i + 1 >= len || p[i + 1] != '\n')
			abort();
		i += 2;
	}
}

/* fd (made once) holding data[0, size) and read from its start. ftruncate to the new size after
 * the write: a truncation to 0 first freed the pages each time (8% of the time). */
HARNESS static void refill(int *fd, const uint8_t *data, size_t size)
{
	if (*fd < 0)
		*fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (*fd < 0)
		abort();
	if (size && pwrite(*fd, data, size, 0) != (ssize_t)size)
		abort();
	if (ftruncate(*fd, (off_t)size) != 0 || lseek(*fd, 0, SEEK_SET) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;

	char desc[1100];
	int code = smtpd_parse_describe((const char *)data, size, desc, sizeof desc);
	if (code != 0 && code != 500 && code != 501)
		abort();
	if (strpbrk(desc, "\r\n"))
		abort();

	struct stub st = {
		.chunk = (mode & 7) == 7 ? 4096 : (size_t)(mode & 7) + 1,
		.read_nothing = mode & 8,
	};
	struct smtpd_params p = {
		.domain = "fuzz.example",
		.size_limit = mode & 16 ? 64 : 0,
		.max_rcpts = mode & 32 ? 2 : 0,
		.timeout = 1,
		.check_rcpt = stub_check,
		.check_sender = stub_check,
		.deliver = stub_deliver,
		.ctx = &st,
	};
	static int in = -1, out = -1;
	refill(&in, data, size);
	/* the replies: written from offset 0 on, what lies past their end is not read */
	if (out < 0)
		out = memfd_create("replies", MFD_CLOEXEC);
	if (out < 0 || lseek(out, 0, SEEK_SET) != 0)
		abort();
	struct diag d = {0};
	int rc = smtpd_run(&p, in, out, &d);
	if (rc != EX_OK && rc != EX_PROTOCOL)
		abort();
	if ((rc == EX_OK) != (d.code == EX_OK))
		abort();
	off_t olen = lseek(out, 0, SEEK_CUR);
	if (olen > 0) {
		char *replies = xmalloc((size_t)olen);
		if (pread(out, replies, (size_t)olen, 0) != olen)
			abort();
		check_replies(replies, (size_t)olen);
		free(replies);
	}
	return 0;
}
