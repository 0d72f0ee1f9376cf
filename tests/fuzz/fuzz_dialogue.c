/* SPDX-License-Identifier: ISC */
/* fuzz_dialogue.c: libFuzzer target for the SMTP dialogue tracker. The input is cut at each
 * NUL into callbacks; a callback's first byte says its direction (even: a reply read, odd: a
 * command sent, with a transcript every other time), its second byte, below 8, restarts the
 * dialogue as a new connection would. Checked: codes stay in 0..999, a refusal is 4xx or 5xx,
 * an RCPT index never passes the RCPT commands sent, a reply's text holds every byte of its
 * line, and a transcript line shows no byte of an AUTH command's argument. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dialogue.h"
#include "util.h"

static void check(const struct dialogue *dl)
{
	if (dl->reply_code < 0 || dl->reply_code > 999)
		abort();
	if (dl->failed_code && (dl->failed_code < 400 || dl->failed_code > 999))
		abort();
	if (dl->reply_rcpt > dl->rcpt_sent)
		abort();
	if ((int)dl->stage < DIALOGUE_CONNECT || dl->stage > DIALOGUE_OTHER)
		abort();
	if (!dialogue_stage_name(dl->stage))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dialogue dl = {0};
	struct buf shown = {0};
	dialogue_start(&dl);
	const char *p = (const char *)data, *end = p + size;
	unsigned count = 0;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *cb_end = nul ? nul : end;
		if (cb_end - p >= 2) {
			unsigned char dir = (unsigned char)p[0];
			if ((unsigned char)p[1] < 8)
				dialogue_start(&dl);
			const char *q = p + 2, *line;
			size_t n;
			while ((line = dialogue_next_line(&q, cb_end, &n))) {
				if (line < p + 2 || line + n > cb_end)
					abort();
				if (dir & 1) {
					bool transcript = count++ & 1;
					buf_reset(&shown);
					enum dialogue_stage st = dialogue_command(&dl, line, n, transcript ? &shown : NULL);
					if (transcript && st == DIALOGUE_AUTH && n > 5) {
						/* the mechanism shows; nothing after the space that follows it */
						const char *sp = memchr(line + 5, ' ', n - 5);
						size_t keep = sp ? (size_t)(sp - line) : n;
						if (shown.len < keep || memcmp(shown.data, line, keep) != 0)
							abort();
						if (sp && strcmp(shown.data + keep, " <redacted>") != 0)
							abort();
					}
				} else {
					size_t before = dl.reply_open ? dl.reply.len : 0;
					bool done = dialogue_reply_line(&dl, line, n);
					if (dl.reply.len < before + n)
						abort();
					if (done && dl.reply_open)
						abort();
				}
				check(&dl);
			}
		}
		p = nul ? nul + 1 : end;
	}
	buf_free(&shown);
	dialogue_free(&dl);
	return 0;
}
