/* SPDX-License-Identifier: ISC */
/* dialogue.h: follows one SMTP dialogue from its transcript, line by line: the stage each reply
 * answers, its code, the RCPT TO it answers, the last refusal, and how a command may be shown.
 * Pure: it must never know libcurl, a socket or a message's outcome, and never writes. */
#ifndef POSTIE_DIALOGUE_H
#define POSTIE_DIALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* In the order of a dialogue: a stage from DIALOGUE_MAIL on means the transaction began. */
enum dialogue_stage {
	DIALOGUE_CONNECT,	/* before a connection attempt */
	DIALOGUE_GREETING,	/* the server's greeting */
	DIALOGUE_EHLO,		/* EHLO or HELO */
	DIALOGUE_AUTH,		/* AUTH, and the SASL exchange after it */
	DIALOGUE_STARTTLS,
	DIALOGUE_MAIL,
	DIALOGUE_RCPT,
	DIALOGUE_DATA,		/* the reply to DATA */
	DIALOGUE_EOD,		/* the reply to the final dot */
	DIALOGUE_QUIT,
	DIALOGUE_OTHER		/* a command this module does not know (NOOP, RSET...) */
};

/* One dialogue; zero-initialise it, then dialogue_start before each connection attempt. The
 * fields are for reading. */
struct dialogue {
	enum dialogue_stage stage;	/* what the next reply answers */
	char *stage_arg;		/* the address of the RCPT TO it answers, or NULL */
	bool quit_sent;			/* libcurl's own QUIT went out: what follows is no refusal */
	size_t rcpt_sent;		/* RCPT TO commands sent since dialogue_start */

	/* the reply being read (reply_open), else the last complete one */
	struct buf reply;		/* its lines joined by " / ", each as "250 text" */
	bool reply_open;
	bool reply_smtputf8;		/* a line of it (an EHLO reply) names SMTPUTF8 */
	long reply_code;		/* 0 before any complete reply, or when it had no code */
	enum dialogue_stage reply_stage;	/* the stage it answered */
	char *reply_arg;		/* ...and that stage's RCPT address, or NULL */
	size_t reply_rcpt;		/* it answered the RCPT TO number reply_rcpt (1 the first)
					 * of those sent since dialogue_start; 0: not a RCPT reply,
					 * or one after QUIT */

	/* the last complete reply with a 4xx or 5xx code before QUIT: the refusal */
	struct buf failed;
	long failed_code;		/* 0: none */
	enum dialogue_stage failed_stage;
	char *failed_arg;
};

/* A connection attempt begins: the greeting is the next reply; no command sent, no reply read,
 * no refusal. reply_stage, reply_arg, failed_stage and failed_arg keep their old values (with
 * reply_code and failed_code 0 they describe nothing). */
void dialogue_start(struct dialogue *dl);

/* Frees what dl holds and zeroes it. */
void dialogue_free(struct dialogue *dl);

/* One command as sent, without its line break. Returns the stage it starts (DIALOGUE_QUIT for
 * QUIT, which leaves dl->stage as it was, so that the stage that failed stays named;
 * DIALOGUE_OTHER for one not known, which leaves an AUTH exchange in DIALOGUE_AUTH).
 * When shown is not NULL, it gets the command as a transcript may show it (appended): "AUTH
 * <mechanism> <redacted>" for AUTH with an initial response, and "<redacted>" for any line
 * while dl->stage is DIALOGUE_AUTH after it (the SASL responses), else the line itself. */
enum dialogue_stage dialogue_command(struct dialogue *dl, const char *line, size_t len,
				     struct buf *shown);

/* One reply line, without its line break: "250-text" goes on, "250 text" (or anything whose
 * fourth byte is not '-') ends the reply. Returns true when it ended one: then reply_code,
 * reply_stage, reply_arg and reply_rcpt say what it answered, and a 4xx or 5xx before QUIT is
 * also copied to failed. A 354 to DATA moves the stage to DIALOGUE_EOD. */
bool dialogue_reply_line(struct dialogue *dl, const char *line, size_t len);

/* The next line of one debug callback's bytes [*p, end), its line break (LF, CRLF, any CRs
 * before the LF) dropped: returns its start with *len, and moves *p past it; NULL when
 * *p == end. A piece without an LF at the end is a whole line: libcurl hands its callback
 * one complete reply line, or one command, never a piece of one (lib/pingpong.c). */
const char *dialogue_next_line(const char **p, const char *end, size_t *len);

/* The stage in words, for messages: "EHLO", "RCPT TO", "the message" (DIALOGUE_EOD)... */
const char *dialogue_stage_name(enum dialogue_stage st);

#endif
