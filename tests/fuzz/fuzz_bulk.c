/* SPDX-License-Identifier: ISC */
/* fuzz_bulk.c: libFuzzer differential target for the body's bulk path: the input is read
 * through message_open_stream line by line and in bulk, with the same random reads, input buffer
 * and output size, and both must give the same bytes (the header's generated Date and
 * Message-ID aside: only its length is compared). The first 4 bytes choose the options (and
 * whether an empty header comes first, so most runs spend their time in the body) and how the
 * input is split into reads: by a generator seeded from two of them, or, when the top bit of
 * the second is set, by a script of read lengths the input itself carries, so that every split
 * of the input into reads (of up to 255 bytes, and one of all that is left) can be reached. No
 * process, no file, small buffers. It compares and aborts, never prints. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "util.h"

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A time zone named by a rule, not a file: with TZ unset, the tzset before each generated Date
 * made glibc stat /etc/localtime once per message (a system call per input). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC0", 1);
	return 0;
}

#define check(cond)                    \
	do {                           \
		if (!(cond))           \
			abort();       \
	} while (0)

static const volatile sig_atomic_t never_cancelled = 0;

/* Reads of a random 1..chunk bytes each, or (script not NULL) of script[i] bytes each in turn
 * (0: all that is left), the script starting over when it runs out: the same sequence for both
 * paths. A read is never more than the reader asked for. */
struct source {
	const uint8_t *data;
	size_t len, pos, chunk;
	uint32_t seed;
	const uint8_t *script;
	size_t script_len, step;
};

HARNESS static ssize_t read_pieces(void *ctx, void *buf, size_t n)
{
	struct source *s = ctx;
	size_t k = s->len - s->pos, c;
	if (s->script) {
		c = s->script[s->step++ % s->script_len];
		if (c == 0)
			c = k;
	} else {
		s->seed = s->seed * 1103515245u + 12345u;
		c = 1 + (s->seed >> 8) % s->chunk;
	}
	if (k > c)
		k = c;
	if (k > n)
		k = n;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

struct result {
	int rc;
	bool done;
	size_t header_len;	/* up to the blank line */
	struct buf out;
};

HARNESS static void read_all(struct source src, struct message_opts *o, size_t out_chunk, struct result *res)
{
	struct message *m = NULL;
	struct diag d = {0};
	res->rc = message_open_stream(&m, o, read_pieces, &src, &d);
	res->out = (struct buf){0};
	res->done = false;
	res->header_len = 0;
	if (res->rc != EX_OK)
		return;
	char piece[4096];
	ssize_t got;
	while ((got = message_read(m, piece, out_chunk, &d)) > 0)
		buf_append(&res->out, piece, (size_t)got);
	check(got == 0);
	res->done = message_input_done(m);
	message_free(m);
	const char *s = res->out.data;
	size_t n = res->out.len;
	while (res->header_len + 3 < n &&
	       !(s[res->header_len] == '\r' && s[res->header_len + 1] == '\n' &&
		 s[res->header_len + 2] == '\r' && s[res->header_len + 3] == '\n'))
		res->header_len++;
}

/* Both paths gave the same: a byte loop, not memcmp, whose interceptor feeds libFuzzer's value
 * profile every compared byte (8% of the time) though the bytes are only output. */
HARNESS static void compare(const struct result *slow, const struct result *fast)
{
	check(slow->rc == fast->rc);
	check(slow->done == fast->done);
	check(slow->out.len == fast->out.len);
	check(slow->header_len == fast->header_len);
	for (size_t i = slow->header_len; i < slow->out.len; i++)
		check(slow->out.data[i] == fast->out.data[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	const uint8_t *script = NULL;
	size_t script_len = 0;
	if (data[1] & 0x80) {
		script_len = (size_t)data[2] << 8 | data[3];
		if (script_len > size - 4)
			script_len = size - 4;
		if (script_len)
			script = data + 4;
	}
	const uint8_t *body = data + 4 + script_len;
	size_t len = size - 4 - script_len;
	if (len > 1024)
		len = 1024;	/* longer finds nothing new (buffers are small), only slower */
	static const size_t buffers[] = { 0, 2, 3, 5, 8, 16, 64, 1000 };
	static const size_t outs[] = { 4096, 3, 5, 7, 64, 100, 999, 1003 };
	struct strlist operands = {0}, none = {0};
	strlist_add(&operands, "root");
	struct message_opts o = {
		/* -t only adds recipients; its parsing of To and Cc would make each run slower */
		.extract = false,
		.ignore_dots = data[0] & 2,
		.login = "root",
		.domain = "example.net",
		.operands = &operands,
		.to = &none,
		.cc = &none,
		.bcc = &none,
		.attach = &none,
		.headers = &none,
		.cancel = &never_cancelled,
		.input_buffer = buffers[(data[0] >> 2) & 7],
	};
	size_t out_chunk = outs[(data[0] >> 5) & 7];
	/* an empty header first, so the body's bytes are the input's, unless bit 0 says no */
	uint8_t in[1 + 1024];
	in[0] = '\n';
	if (len)
		memcpy(in + 1, body, len);
	bool with_header = data[0] & 1;
	struct source src = { with_header ? in + 1 : in, len + !with_header, 0, 1 + data[1] % 64,
			      (uint32_t)data[2] << 8 | data[3], script, script_len, 0 };
	struct result slow, fast;
	o.line_by_line = true;
	read_all(src, &o, out_chunk, &slow);
	o.line_by_line = false;
	read_all(src, &o, out_chunk, &fast);
	compare(&slow, &fast);
	buf_free(&slow.out);
	buf_free(&fast.out);
	strlist_free(&operands);
	return 0;
}
