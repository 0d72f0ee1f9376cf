/* SPDX-License-Identifier: ISC */
/* message.h: stdin -> header block -> envelope, and a pull reader of the canonical CRLF bytes to
 * send. The body is streamed, never held; only the header (bounded) is kept in memory. It knows
 * nothing of SMTP, libcurl or configuration files. */
#ifndef POSTIE_MESSAGE_H
#define POSTIE_MESSAGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "aliases.h"
#include "lineio.h"
#include "util.h"

#define MESSAGE_MAX_HEADER (1024 * 1024)

/* What message_open needs to know; every pointer is borrowed for the call. */
struct message_opts {
	bool extract;			/* -t */
	bool ignore_dots;		/* -i: a lone "." line does not end the input */
	bool compose;			/* stdin is the body only; the header is generated */
	const char *subject;		/* -s, or NULL */
	const char *full_name;		/* the user's name for a generated From (-F, $NAME, GECOS),
					 * or NULL or "" for none */
	const char *legacy_charset;	/* what names composed text that is not UTF-8: the
					 * locale's charset, or "unknown-8bit"; NULL: UTF-8 */
	const char *received_host;	/* the host a prepended Received field names, or NULL
					 * for no Received field */
	unsigned long uid;		/* the submitting user, in that Received field */
	bool sender_given;		/* -f/-r given ("" is then the null sender) */
	const char *sender;		/* -f/-r */
	const char *default_from;	/* config `from`, or NULL */
	const char *login;		/* the user's login name, the sender of last resort */
	const char *domain;		/* qualifies bare names; Message-ID's right side */
	const struct strlist *operands;	/* recipients, each possibly a comma list */
	const struct strlist *to, *cc, *bcc;	/* composed To, Cc, Bcc */
	const struct strlist *attach;	/* -a files for a composed message */
	const struct strlist *headers;	/* --header "Name: value" for a composed message */
	const volatile sig_atomic_t *cancel;	/* a signal sets it: stop waiting on input */
	const struct aliases *aliases;	/* expansion of local recipients, or NULL */
	const char *const *local_domains;	/* names that are this machine: their addresses */
	size_t nlocal_domains;		/* are local names like bare ones */
	bool rewrite_headers;		/* rewrite local names in To, Cc, From... (passed-through) */
	/* for tests: the same bytes must come out whatever these say */
	bool line_by_line;		/* never copy runs of lines that need no change in bulk */
	size_t input_buffer;		/* the input buffer's size: 0 is LINEIO_BUFSIZE */
};

/* The resolved envelope: every address checked, qualified and deduplicated. */
struct envelope {
	char *sender;	/* "" is the null sender */
	char **rcpt;
	size_t nrcpt;
};

struct message;

/* Reads the header block from fd (or, when composing, the whole body into a bounded memory
 * buffer that spills to an unlinked temporary file), builds the envelope and plans the header
 * edits. Leading mbox "From " and ">From " lines are dropped; in the header a lone CR or a NUL
 * becomes a space (CRs at the start or end of a line are dropped) and never ends the field. Returns EX_OK with *out set (free with message_free), or with d filled: EX_USAGE for
 * a bad command-line address or no recipients, EX_DATAERR for a bad header or a header over
 * MESSAGE_MAX_HEADER bytes, EX_IOERR for a read error, EX_CANTCREAT for the temporary file. */
int message_open(struct message **out, const struct message_opts *opts, int fd, struct diag *d);

/* The same, reading through fn(ctx) instead of a file descriptor (sendmail -bs's DATA). */
int message_open_stream(struct message **out, const struct message_opts *opts, lineio_read_fn fn,
			void *ctx, struct diag *d);

const struct envelope *message_envelope(const struct message *m);

/* The pull reader: fills buf with up to n bytes of the message as it goes on the wire before
 * libcurl's dot-stuffing: the edited header, a blank line, then the body with every line ended
 * by CRLF (a missing final line break added). No line passes 998 octets: the header folds (see
 * header_write), a longer body line is broken after its last space or tab that fits, else at
 * 998 (never inside a UTF-8 sequence), and nothing is added but the CRLF. Returns the count, 0 at the
 * end, or -1 with d filled (EX_IOERR) on a read error: never a silent end. The count may be under n
 * before the end (a body read straight into buf, one read(2) of input as it stands): call again. */
ssize_t message_read(struct message *m, char *buf, size_t n, struct diag *d);

/* About how many bytes message_read gives in all; 0 when unknown (a passed-through body). */
unsigned long long message_size_estimate(const struct message *m);

/* True once the whole input has been read (the end of file, or a lone "." line). */
bool message_input_done(const struct message *m);

/* Bytes the reader took from its input but has not used yet (held in its buffer): right after
 * message_open, the input's body starts that many bytes before where its reading stopped. */
size_t message_unused_input(const struct message *m);

/* A second reader of the same message, for an input that can be read again: message_read gives
 * the header bytes of m (as m gives them), then the body read through fn(ctx), which must
 * start where m's body started, by m's rules (-i, the bulk path). Same input, same bytes. Its
 * envelope is empty. NULL for a composed message. Free with message_free. */
struct message *message_again(const struct message *m, lineio_read_fn fn, void *ctx);

void message_free(struct message *m);

#endif
