/* SPDX-License-Identifier: ISC */
/* fuzz_address.c: libFuzzer target for the address scanner: walks arbitrary bytes as an address
 * list and as one address, and aborts on any broken promise of address.h (cursor, spans, checks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise must crash, so that libFuzzer keeps the input. */
HARNESS static void require(bool promise)
{
	if (!promise)
		abort();
}

HARNESS static bool has_control_byte(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A space, '<' or '>' after the (optional) quoted local part would break "RCPT TO:<...>". */
HARNESS static bool has_space_or_angle_outside_quotes(const char *addr)
{
	const char *p = addr;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		if (*p)
			p++;
	}
	return strpbrk(p, " <>") != NULL;
}

/* What every mailbox the scanner returns must survive. */
HARNESS static void exercise(const struct mailbox *mb, const char *begin, const char *end)
{
	struct diag d = {0};
	struct mailbox again;

	require(mb->addr != NULL);
	require(mb->src_begin && mb->src_end);
	require(begin <= mb->src_begin && mb->src_begin <= mb->src_end && mb->src_end <= end);

	if (addr_check_envelope(mb->addr, &d) == EX_OK)
		/* the guard against SMTP command injection */
		require(!has_control_byte(mb->addr) && !has_space_or_angle_outside_quotes(mb->addr) &&
			!addr_is_bare(mb->addr) && *mb->addr);
	else
		require(d.code == EX_DATAERR && !strchr(d.msg, '\r') && !strchr(d.msg, '\n'));

	char *qualified = addr_qualify(mb->addr, "example.org");
	char *key = addr_dedup_key(mb->addr);
	require(strlen(key) == strlen(mb->addr));
	require(addr_is_bare(mb->addr) ? strlen(qualified) == strlen(mb->addr) + 12
				      : strcmp(qualified, mb->addr) == 0);
	free(qualified);
	free(key);

	/* The canonical form is itself an address that parses back to itself. */
	require(addr_parse_one(mb->addr, &again, &d) == EX_OK);
	require(strcmp(again.addr, mb->addr) == 0);
	mailbox_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *begin = (const char *)data, *end = begin + size;
	const char *pos = begin;
	struct mailbox mb;
	struct diag d;
	int rc;

	do {
		const char *before = pos;
		d.code = EX_OK;
		rc = addr_next(&pos, end, &mb, &d);
		require(pos >= before && pos <= end);
		if (rc == 1) {
			require(pos > before);
			exercise(&mb, before, pos);
			mailbox_clear(&mb);
		} else if (rc == 0) {
			require(pos == end && !mb.name && !mb.addr);
		} else {
			require(rc == -1 && d.code == EX_DATAERR && !mb.name && !mb.addr);
		}
	} while (rc > 0);

	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (addr_parse_one(text, &mb, &d) == EX_OK) {
		exercise(&mb, text, text + strlen(text));
		mailbox_clear(&mb);
	} else {
		require(d.code == EX_DATAERR && !mb.name && !mb.addr);
	}
	free(text);
	return 0;
}
