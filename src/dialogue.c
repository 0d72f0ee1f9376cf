/* SPDX-License-Identifier: ISC */
/* dialogue.c: the SMTP dialogue followed from its transcript (see dialogue.h). libcurl neither
 * says which stage failed nor gives the reply text, so submit.c hands every line here. */
#include "dialogue.h"

#include <stdlib.h>
#include <string.h>

static void set_string(char **slot, const char *s, size_t n)
{
	free(*slot);
	*slot = s ? xstrndup(s, n) : NULL;
}

void dialogue_start(struct dialogue *dl)
{
	dl->stage = DIALOGUE_GREETING;
	set_string(&dl->stage_arg, NULL, 0);
	dl->quit_sent = false;
	dl->rcpt_sent = 0;
	dl->reply_open = false;
	dl->reply_code = 0;
	dl->reply_rcpt = 0;
	buf_reset(&dl->reply);
	buf_reset(&dl->failed);
	dl->failed_code = 0;
}

void dialogue_free(struct dialogue *dl)
{
	free(dl->stage_arg);
	free(dl->reply_arg);
	free(dl->failed_arg);
	buf_free(&dl->reply);
	buf_free(&dl->failed);
	memset(dl, 0, sizeof *dl);
}

/* Which stage a command starts; *arg is the RCPT address. */
static enum dialogue_stage stage_of_command(const char *line, size_t len, const char **arg,
					    size_t *arglen)
{
	*arg = NULL;
	*arglen = 0;
	if (len >= 4 && (ascii_ncasecmp(line, "EHLO", 4) == 0 || ascii_ncasecmp(line, "HELO", 4) == 0))
		return DIALOGUE_EHLO;
	if (len >= 4 && ascii_ncasecmp(line, "AUTH", 4) == 0)
		return DIALOGUE_AUTH;
	if (len >= 8 && ascii_ncasecmp(line, "STARTTLS", 8) == 0)
		return DIALOGUE_STARTTLS;
	if (len >= 10 && ascii_ncasecmp(line, "MAIL FROM:", 10) == 0)
		return DIALOGUE_MAIL;
	if (len >= 8 && ascii_ncasecmp(line, "RCPT TO:", 8) == 0) {
		const char *lt = memchr(line, '<', len);
		const char *gt = lt ? memchr(lt, '>', len - (size_t)(lt - line)) : NULL;
		if (lt && gt) {
			*arg = lt + 1;
			*arglen = (size_t)(gt - lt - 1);
		}
		return DIALOGUE_RCPT;
	}
	if (len >= 4 && ascii_ncasecmp(line, "DATA", 4) == 0)
		return DIALOGUE_DATA;
	if (len >= 4 && ascii_ncasecmp(line, "QUIT", 4) == 0)
		return DIALOGUE_QUIT;
	return DIALOGUE_OTHER;
}

enum dialogue_stage dialogue_command(struct dialogue *dl, const char *line, size_t len,
				     struct buf *shown)
{
	const char *arg;
	size_t arglen;
	enum dialogue_stage st = stage_of_command(line, len, &arg, &arglen);
	if (st == DIALOGUE_QUIT) {
		/* libcurl's own QUIT after a failure: the stage that failed stays the one named */
		dl->quit_sent = true;
	} else if (st != DIALOGUE_OTHER || dl->stage != DIALOGUE_AUTH) {
		dl->stage = st;
		set_string(&dl->stage_arg, arg, arglen);
		if (st == DIALOGUE_RCPT)
			dl->rcpt_sent++;
	}
	if (!shown)
		return st;
	/* AUTH and whatever follows it until the server's reply carry secrets */
	if (st == DIALOGUE_AUTH) {
		/* the mechanism stays; an initial response after it does not */
		const char *sp = len > 5 ? memchr(line + 5, ' ', len - 5) : NULL;
		buf_append(shown, line, sp ? (size_t)(sp - line) : len);
		if (sp)
			buf_puts(shown, " <redacted>");
	} else if (dl->stage == DIALOGUE_AUTH) {
		buf_puts(shown, "<redacted>");
	} else {
		buf_append(shown, line, len);
	}
	return st;
}

bool dialogue_reply_line(struct dialogue *dl, const char *line, size_t len)
{
	if (!dl->reply_open) {
		buf_reset(&dl->reply);
		dl->reply_open = true;
		dl->reply_smtputf8 = false;
	} else {
		buf_puts(&dl->reply, " / ");
	}
	bool last = len < 4 || line[3] != '-';
	if (dl->stage == DIALOGUE_EHLO && len >= 12 && ascii_ncasecmp(line + 4, "SMTPUTF8", 8) == 0 &&
	    (len == 12 || line[12] == ' '))
		dl->reply_smtputf8 = true;
	if (!last) {
		/* show continuation lines as "250 text" so the joined reply reads well */
		buf_append(&dl->reply, line, 3);
		buf_putc(&dl->reply, ' ');
		buf_append(&dl->reply, line + 4, len - 4);
		return false;
	}
	buf_append(&dl->reply, line, len);
	dl->reply_open = false;
	long code = 0;
	for (size_t i = 0; i < 3 && i < len && line[i] >= '0' && line[i] <= '9'; i++)
		code = code * 10 + (line[i] - '0');
	dl->reply_code = code;
	dl->reply_stage = dl->stage;
	set_string(&dl->reply_arg, dl->stage_arg, dl->stage_arg ? strlen(dl->stage_arg) : 0);
	/* libcurl sends the RCPTs one by one in list order: reply k answers RCPT k */
	dl->reply_rcpt = dl->stage == DIALOGUE_RCPT && !dl->quit_sent ? dl->rcpt_sent : 0;
	if (dl->stage == DIALOGUE_DATA && code == 354)
		dl->stage = DIALOGUE_EOD;	/* the next reply answers the final dot */
	if (code >= 400 && !dl->quit_sent) {
		buf_reset(&dl->failed);
		buf_append(&dl->failed, dl->reply.data, dl->reply.len);
		dl->failed_code = code;
		dl->failed_stage = dl->reply_stage;
		set_string(&dl->failed_arg, dl->reply_arg, dl->reply_arg ? strlen(dl->reply_arg) : 0);
	}
	return true;
}

const char *dialogue_next_line(const char **p, const char *end, size_t *len)
{
	if (*p >= end)
		return NULL;
	const char *line = *p;
	const char *nl = memchr(line, '\n', (size_t)(end - line));
	*p = nl ? nl + 1 : end;
	size_t n = (size_t)(*p - line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	*len = n;
	return line;
}

const char *dialogue_stage_name(enum dialogue_stage st)
{
	switch (st) {
	case DIALOGUE_CONNECT:
		return "the connection";
	case DIALOGUE_GREETING:
		return "the greeting";
	case DIALOGUE_EHLO:
		return "EHLO";
	case DIALOGUE_AUTH:
		return "authentication";
	case DIALOGUE_STARTTLS:
		return "STARTTLS";
	case DIALOGUE_MAIL:
		return "MAIL FROM";
	case DIALOGUE_RCPT:
		return "RCPT TO";
	case DIALOGUE_DATA:
		return "DATA";
	case DIALOGUE_EOD:
		return "the message";
	default:
		return "the session";
	}
}
