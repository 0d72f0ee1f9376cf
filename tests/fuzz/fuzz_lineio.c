/* SPDX-License-Identifier: ISC */
/* fuzz_lineio.c: libFuzzer target for line splitting. The first byte picks the read size and,
 * with its top bit, the header's mode (a lone CR is data) until the first empty line, as the
 * message reader uses it; the lines that come out must equal a simple reference split of the
 * same bytes (LF, CRLF and, outside the header's mode, a lone CR are one break each), whatever
 * the chunking. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lineio.h"
#include "util.h"

struct source {
	const uint8_t *data;
	size_t len, pos, chunk;
};

static ssize_t read_chunks(void *ctx, void *buf, size_t n)
{
	struct source *s = ctx;
	size_t k = s->len - s->pos;
	if (k > s->chunk)
		k = s->chunk;
	if (k > n)
		k = n;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct source src = { data + 1, size - 1, 0, (size_t)(data[0] & 0x7f) % 17 + 1 };
	bool header_mode = data[0] & 0x80;
	struct buf got = {0}, want = {0};
	bool cr_is_data = header_mode;
	size_t line_start = 0;
	for (size_t i = 0; i < src.len; i++) {
		uint8_t c = src.data[i];
		bool crlf = c == '\r' && i + 1 < src.len && src.data[i + 1] == '\n';
		if (c == '\n' || crlf || (c == '\r' && !cr_is_data)) {
			if (cr_is_data && want.len == line_start)
				cr_is_data = false;	/* the empty line that ends the header */
			buf_putc(&want, '\n');
			line_start = want.len;
			i += crlf;
		} else {
			buf_putc(&want, (char)c);
		}
	}
	struct lineio *r = lineio_new(read_chunks, &src);
	lineio_set_lone_cr_breaks(r, !header_mode);
	const char *p;
	size_t n;
	bool eol, in_header = header_mode, line_empty = true;
	while (lineio_next(r, &p, &n, &eol) == 1) {
		if (memchr(p, '\n', n) || (!in_header && memchr(p, '\r', n)))
			abort();
		buf_append(&got, p, n);
		line_empty = line_empty && n == 0;
		if (eol) {
			buf_putc(&got, '\n');
			if (in_header && line_empty) {
				in_header = false;
				lineio_set_lone_cr_breaks(r, true);
			}
			line_empty = true;
		}
	}
	lineio_free(r);
	if (got.len != want.len || (got.len && memcmp(got.data, want.data, got.len) != 0))
		abort();
	buf_free(&got);
	buf_free(&want);
	return 0;
}
