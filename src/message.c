/* SPDX-License-Identifier: ISC */
/* message.c: reads the header block, resolves the envelope, edits the header and streams the
 * canonical bytes (see message.h). It holds at most the header and one input buffer; the body of
 * a composed message goes to a bounded buffer that spills to an unlinked temporary file. */
#include "message.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "address.h"
#include "compose.h"
#include "header.h"
#include "lineio.h"
#include "linescan.h"
#include "stamp.h"
#include "strset.h"

#define FOLD_COLUMNS 78
/* The longest line RFC 5322 2.1.1 and RFC 5321 4.5.3.1.6 allow, CRLF not counted. */
#define WIRE_LINE_MAX LINESCAN_LINE_MAX
#define NO_CUT ((size_t)-1)

enum stage { STAGE_HEAD, STAGE_BODY, STAGE_COMPOSED, STAGE_DONE };

struct message {
	struct envelope env;
	struct strset seen;	/* the envelope's recipients, to keep each once */
	struct lineio *in;
	struct header *header;
	bool ignore_dots;
	bool bulk;		/* copy runs of lines that need no change at once (body_bulk) */
	bool bulk_lf;		/* the last line body_bulk took ended in a bare LF */
	unsigned direct_pause;	/* reads to make through the buffer before body_direct again */
	bool input_done;	/* the input ended (end of file, or a lone "." line) */
	bool head_ended;	/* it ended within the header block: the body is empty */

	enum stage stage;
	struct buf head;	/* header, blank line, and a first body line already read */
	size_t head_pos;

	/* body streaming state */
	const char *piece;
	size_t piece_len, piece_pos;
	bool piece_eol;
	int crlf_left;		/* bytes of "\r\n" still to write after the piece */
	bool soft_break;	/* that "\r\n" breaks a long line: the input line goes on */
	size_t column;		/* bytes on the output line so far */
	size_t cut;		/* where the piece's output line ends, or NO_CUT */
	bool emit_dot;		/* a held-back "." turned out not to be a lone dot line */
	bool dot_held;
	bool at_bol;

	struct composer *composer;	/* the mail -s front end's body, or NULL */
	const struct message_opts *opts;	/* during message_open only */
};

/* --- recipients ----------------------------------------------------------------------- */

static void envelope_add_rcpt(struct message *m, const char *addr)
{
	if (!strset_add(&m->seen, addr))
		return;
	if ((m->env.nrcpt & (m->env.nrcpt - 1)) == 0)
		m->env.rcpt = xreallocarray(m->env.rcpt, m->env.nrcpt ? m->env.nrcpt * 2 : 1,
					    sizeof *m->env.rcpt);
	m->env.rcpt[m->env.nrcpt++] = xstrdup(addr);
}

/* Expands one mailbox through the aliases, qualifies and checks what comes out, and adds it to
 * the envelope. code is the status of a bad address: EX_USAGE for the command line, EX_DATAERR
 * for the header. *shown (may be NULL) gets the address as the header should show it. */
static int envelope_address(struct message *m, const struct mailbox *mb, const char *what,
			    int code, char **shown, struct diag *d)
{
	const struct message_opts *o = m->opts;
	if (*mb->addr == '\0')
		return diag_set(d, code, "%s '<>': the null address cannot be a recipient", what);
	struct strlist targets = {0};
	int rc = aliases_expand(o->aliases, mb->addr, o->local_domains, o->nlocal_domains, &targets, d);
	for (size_t i = 0; rc == EX_OK && i < targets.n; i++) {
		char *addr = addr_qualify(targets.v[i], o->domain);
		struct diag why;
		if (addr_check_envelope(addr, &why) != EX_OK)
			rc = diag_set(d, code, "%s %s", what, why.msg);
		else
			envelope_add_rcpt(m, addr);
		free(addr);
	}
	if (rc == EX_OK && shown) {
		char *local = aliases_local_name(mb->addr, o->local_domains, o->nlocal_domains);
		*shown = addr_qualify(local ? local : mb->addr, o->domain);
		free(local);
	}
	strlist_free(&targets);
	return rc;
}

/* Adds every mailbox of an address list to the envelope; names the list in errors. If
 * mailboxes is not NULL, the parsed mailboxes are appended to it for a composed header. */
static int add_rcpt_list(struct message *m, const char *text, size_t len, const char *what,
			 int code, struct buf *formatted, struct diag *d)
{
	const char *pos = text, *end = text + len;
	struct mailbox mb;
	struct diag why;
	int r;
	while ((r = addr_next(&pos, end, &mb, &why)) == 1) {
		char *addr = NULL;
		int rc = envelope_address(m, &mb, what, code, formatted ? &addr : NULL, d);
		if (rc != EX_OK) {
			mailbox_clear(&mb);
			return rc;
		}
		if (formatted) {
			char *name = mb.name && *mb.name ?
				     header_encode_phrase_charset(mb.name, m->opts->legacy_charset) : NULL;
			char *item = name ? xasprintf("%s <%s>", name, addr) : xstrdup(addr);
			/* fold before an address that would pass the column limit */
			/* from the end: a scan from the start made 100,000 -s recipients quadratic */
			const char *last_nl = formatted->len ? memrchr(formatted->data, '\n', formatted->len)
							     : NULL;
			size_t col = formatted->len - (last_nl ? (size_t)(last_nl - formatted->data) : 0);
			if (formatted->len)
				buf_puts(formatted, col + strlen(item) + 2 > FOLD_COLUMNS ? ",\n " : ", ");
			buf_puts(formatted, item);
			free(item);
			free(name);
		}
		free(addr);
		mailbox_clear(&mb);
	}
	if (r < 0) {
		char shown[80];
		snprintf(shown, sizeof shown, "%.*s", (int)(len < 60 ? len : 60), text);
		for (char *c = shown; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
		return diag_set(d, code, "%s '%s%s': %s", what, shown, len > 60 ? "..." : "", why.msg);
	}
	return EX_OK;
}

static int add_rcpt_strlist(struct message *m, const struct strlist *l, struct buf *formatted,
			    struct diag *d)
{
	for (size_t i = 0; l && i < l->n; i++) {
		int rc = add_rcpt_list(m, l->v[i], strlen(l->v[i]), "recipient", EX_USAGE, formatted, d);
		if (rc != EX_OK)
			return rc;
	}
	return EX_OK;
}

static bool is_resent(const char *name)
{
	return ascii_ncasecmp(name, "Resent-", 7) == 0;
}

/* The first Resent- block (RFC 5322 3.6.6: the newest block is the first): the run of
 * Resent- fields that starts at the first one. Returns false when the header has none. */
static bool first_resent_block(const struct header *h, size_t *first, size_t *last)
{
	size_t n = header_count(h);
	*first = HEADER_NONE;
	*last = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_resent(header_name(h, i))) {
			if (*first == HEADER_NONE)
				*first = i;
			*last = i;
		} else if (*first != HEADER_NONE) {
			break;
		}
	}
	return *first != HEADER_NONE;
}

/* -t: To, Cc and Bcc, or those of the first Resent- block when there is one. */
static int add_header_rcpts(struct message *m, struct diag *d)
{
	struct header *h = m->header;
	size_t n = header_count(h), first, last;
	first_resent_block(h, &first, &last);
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const resent[] = { "Resent-To", "Resent-Cc", "Resent-Bcc" };
	const char *const *names = first == HEADER_NONE ? plain : resent;
	size_t from = first == HEADER_NONE ? 0 : first, to = first == HEADER_NONE ? n : last + 1;
	for (size_t i = from; i < to; i++) {
		for (size_t k = 0; k < 3; k++) {
			if (ascii_casecmp(header_name(h, i), names[k]) != 0)
				continue;
			const char *v = header_value(h, i);
			char *what = xasprintf("%s:", header_name(h, i));
			int rc = add_rcpt_list(m, v, strlen(v), what, EX_DATAERR, NULL, d);
			free(what);
			if (rc != EX_OK)
				return rc;
		}
	}
	return EX_OK;
}

/* --- sender --------------------------------------------------------------------------- */

static int resolve_sender(struct message *m, const struct message_opts *o, struct diag *d)
{
	const char *text = o->sender_given ? o->sender : o->default_from;
	const char *what = o->sender_given ? "sender" : "config from";
	int code = o->sender_given ? EX_USAGE : EX_CONFIG;
	if (!text) {
		char *addr = xasprintf("%s@%s", o->login, o->domain);
		struct diag why;
		if (addr_check_envelope(addr, &why) != EX_OK) {
			free(addr);
			return diag_set(d, EX_CONFIG, "sender %s (set 'from' in the config)", why.msg);
		}
		m->env.sender = addr;
		return EX_OK;
	}
	struct mailbox mb;
	struct diag why;
	if (addr_parse_one(text, &mb, &why) != EX_OK)
		return diag_set(d, code, "%s '%s': %s", what, text, why.msg);
	if (*mb.addr == '\0') {
		m->env.sender = xstrdup("");
		mailbox_clear(&mb);
		return EX_OK;
	}
	char *local = aliases_local_name(mb.addr, o->local_domains, o->nlocal_domains);
	char *addr = addr_qualify(local ? local : mb.addr, o->domain);
	free(local);
	mailbox_clear(&mb);
	if (addr_check_envelope(addr, &why) != EX_OK) {
		free(addr);
		return diag_set(d, code, "%s %s", what, why.msg);
	}
	m->env.sender = addr;
	return EX_OK;
}

/* --- header generation ---------------------------------------------------------------- */

/* Fields a submission never passes on (Postfix's message_drop_headers default): Bcc and
 * Resent-Bcc name hidden recipients; Return-Path is the final delivery's to add (RFC 5321
 * 4.4: an originating system SHOULD NOT send one); a Content-Length would be stale as soon as
 * anything on the way changes the body, and some mbox readers believe it. */
static const char *const dropped_fields[] = { "Bcc", "Resent-Bcc", "Return-Path", "Content-Length" };

static int read_error(struct diag *d, int err)
{
	return diag_set(d, EX_IOERR, "reading the message: %s", strerror(err));
}

/* --- composed message ------------------------------------------------------------------ */

static const char *const replaced_by_header_option[] = { "From", "To", "Cc", "Bcc", "Date", "Message-ID" };

/* Checks --header "Name: value": a field name of RFC 5322 (printable ASCII but ':'), a value
 * without line breaks (cli.c refused CR and LF already). Returns the field's index in
 * replaced_by_header_option, -1 for any other name, or -2 with d on an error. */
static int header_option(const char *text, char **name, char **value, struct diag *d)
{
	const char *colon = strchr(text, ':');
	if (!colon || colon == text)
		return diag_set(d, EX_USAGE, "header '%s': not 'Name: value'", text), -2;
	for (const char *c = text; c < colon; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return diag_set(d, EX_USAGE, "header '%s': the name may hold only printable ASCII without spaces", text), -2;
	if (has_line_break(colon, strlen(colon)))
		return diag_set(d, EX_USAGE, "header '%s': contains a line break (CR or LF)", text), -2;
	for (const char *c = colon; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) {
			struct buf shown = {0};
			buf_put_escaped(&shown, text);
			diag_set(d, EX_USAGE, "header '%s': contains a control character", shown.data);
			buf_free(&shown);
			return -2;
		}
	/* a Bcc given here is a recipient and never written; a composed message has no Resent-
	 * block for a Resent-Bcc to belong to, and written, it would show the hidden address */
	if ((size_t)(colon - text) == 10 && ascii_ncasecmp(text, "Resent-Bcc", 10) == 0)
		return diag_set(d, EX_USAGE, "header '%s': Resent-Bcc would be written into the "
				"message; give hidden recipients with --bcc", text), -2;
	*name = xstrndup(text, (size_t)(colon - text));
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	*value = xasprintf(" %s", v);
	for (size_t i = 0; i < sizeof replaced_by_header_option / sizeof *replaced_by_header_option; i++)
		if (ascii_casecmp(*name, replaced_by_header_option[i]) == 0)
			return (int)i;
	return -1;
}

static int compose_header(struct message *m, const struct message_opts *o, struct diag *d)
{
	struct buf to = {0}, cc = {0};
	struct header *extra = header_new();
	bool given[6] = { false };	/* which of replaced_by_header_option came with --header */
	int rc = EX_OK;
	for (size_t i = 0; o->headers && i < o->headers->n && rc == EX_OK; i++) {
		char *name = NULL, *value = NULL;
		int which = header_option(o->headers->v[i], &name, &value, d);
		if (which == -2) {
			rc = d->code;
		} else {
			if (which >= 0)
				given[which] = true;
			/* To, Cc and Bcc given this way are recipients too */
			if (which >= 1 && which <= 3)
				rc = add_rcpt_list(m, value, strlen(value), "header", EX_USAGE, NULL, d);
			if (which != 3)
				header_append(extra, name, value);
		}
		free(name);
		free(value);
	}
	if (rc == EX_OK)
		rc = add_rcpt_strlist(m, o->operands, &to, d);
	if (rc == EX_OK)
		rc = add_rcpt_strlist(m, o->to, &to, d);
	if (rc == EX_OK)
		rc = add_rcpt_strlist(m, o->cc, &cc, d);
	if (rc == EX_OK)
		rc = add_rcpt_strlist(m, o->bcc, NULL, d);
	if (rc == EX_OK)
		rc = composer_open(&m->composer, m->in, o->ignore_dots, o->attach,
				   o->legacy_charset, d);
	if (rc == EX_OK) {
		m->input_done = true;
		struct header *h = m->header;
		if (!given[0])
			stamp_append_from(h, o, m->env.sender);
		if (!given[1]) {
			char *value = xasprintf(" %s", to.len ? to.data : "undisclosed-recipients:;");
			header_append(h, "To", value);
			free(value);
		}
		if (cc.len && !given[2]) {
			char *value = xasprintf(" %s", cc.data);
			header_append(h, "Cc", value);
			free(value);
		}
		if (o->subject && *o->subject) {
			char *value = header_encode_unstructured_charset("Subject", o->subject,
									 o->legacy_charset);
			header_append(h, "Subject", value);
			free(value);
		}
		if (!given[4])
			stamp_append_date_and_id(h, o->domain, false, true, false);
		if (!given[5])
			stamp_append_date_and_id(h, o->domain, false, false, true);
		for (size_t i = 0; i < header_count(extra); i++)
			header_append(h, header_name(extra, i), header_value(extra, i));
		composer_header_fields(m->composer, h);
	}
	header_free(extra);
	buf_free(&to);
	buf_free(&cc);
	return rc;
}

/* --- passed-through header ------------------------------------------------------------ */

/* Reads one whole line (pieces joined) into line, bounded by what the header may still hold.
 * Returns 1 with *eol, 0 at the end of input, -1 on a read error, -2 when too long. */
static int read_header_line(struct message *m, struct buf *line, size_t room, bool *eol)
{
	buf_reset(line);
	for (;;) {
		const char *p;
		size_t len;
		int r = lineio_next(m->in, &p, &len, eol);
		if (r < 0)
			return -1;
		if (r == 0)
			return line->len ? 1 : 0;
		if (line->len + len > room)
			return -2;
		buf_append(line, p, len);
		if (*eol)
			return 1;
	}
}

/* Where a body line that would pass WIRE_LINE_MAX is broken: p[0, n) goes on a line that holds
 * column bytes already, and n > WIRE_LINE_MAX - column. Returns k: p[0, k) ends this line and
 * p[k] starts the next. After the last space or tab that fits, so every word stays whole and
 * nothing is added (a format=flowed reader even joins the lines back); else at the limit, moved
 * back so as not to split a UTF-8 sequence, nor to leave a lone "." as the next line. k is 0
 * only when column > 0; the line never gets more than WIRE_LINE_MAX bytes. */
static size_t body_cut(const char *p, size_t n, size_t column)
{
	size_t room = WIRE_LINE_MAX - column, lowest = column ? 0 : 1;
	size_t k;
	for (k = room; k >= 1; k--)
		if (p[k - 1] == ' ' || p[k - 1] == '\t')
			break;
	if (k == 0) {
		k = room;
		for (int back = 0; back < 3 && k > lowest && ((unsigned char)p[k] & 0xC0) == 0x80; back++)
			k--;
		if (((unsigned char)p[k] & 0xC0) == 0x80)
			k = room;	/* not UTF-8: no character to keep whole */
	}
	if (n - k == 1 && p[k] == '.' && k > lowest)
		k--;
	return k;
}

/* Appends a whole body line and its CRLF to out, broken by body_cut where it is too long. */
static void put_body_line(struct buf *out, const char *p, size_t len)
{
	while (len > WIRE_LINE_MAX) {
		size_t k = body_cut(p, len, 0);
		buf_append(out, p, k);
		buf_puts(out, "\r\n");
		p += k;
		len -= k;
	}
	buf_append(out, p, len);
	buf_puts(out, "\r\n");
}

/* The line that ended the header without a blank line is the first body line: read in the
 * header's mode, it may hold lone CRs, which end lines in the body, so it is split there, with
 * the lone-dot rule applied to each part. A CR that starts it made the blank line. */
static void first_body_line(struct message *m, const char *p, size_t len, bool eol)
{
	const char *end = p + len;
	bool first = true;
	for (;;) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		const char *stop = cr ? cr : end;
		size_t n = (size_t)(stop - p);
		if (!cr && n == 0 && !eol)
			break;	/* a lone CR ended the input: nothing follows it */
		if (!(first && cr && n == 0)) {
			if (!m->ignore_dots && n == 1 && *p == '.') {
				m->input_done = true;
				return;
			}
			put_body_line(&m->head, p, n);
		}
		first = false;
		if (!cr)
			break;
		p = cr + 1;
	}
	if (!eol)
		m->input_done = true;
}

/* An mbox "From " line, or one escaped as ">From ", ">>From "...: what starts a message in an
 * mbox (git format-patch --stdout, a replayed mailbox) and is no header field. */
static bool is_mbox_from_line(const char *p, size_t len)
{
	size_t i = 0;
	while (i < len && p[i] == '>')
		i++;
	return len - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

/* A header line as the header's mode reads it, made fit for a field: CRs at its start or its
 * end are dropped (LF CR and CR CR LF line ends, as Postfix strips them), any other CR and
 * every NUL becomes a space. A stray CR must not end the field, or every later one (a Bcc)
 * would go into the body; a NUL cannot go on the wire, nor reach C strings. */
static void clean_header_line(struct buf *out, const char *p, size_t len)
{
	while (len && *p == '\r')
		p++, len--;
	while (len && p[len - 1] == '\r')
		len--;
	buf_reset(out);
	buf_append(out, p, len);
	for (size_t i = 0; i < out->len; i++)
		if (out->data[i] == '\r' || out->data[i] == '\0')
			out->data[i] = ' ';
}

static int parse_header(struct message *m, struct diag *d)
{
	struct buf line = {0}, clean = {0};
	int rc = EX_OK;
	bool leading = true;	/* nothing kept yet: mbox "From " lines are dropped */
	lineio_set_lone_cr_breaks(m->in, false);
	for (;;) {
		bool eol = false;
		size_t used = header_bytes(m->header);
		int r = read_header_line(m, &line, MESSAGE_MAX_HEADER - (used < MESSAGE_MAX_HEADER ? used : MESSAGE_MAX_HEADER), &eol);
		if (r == -1) {
			rc = read_error(d, errno);
			break;
		}
		if (r == -2) {
			rc = diag_set(d, EX_DATAERR, "message header: larger than %d bytes",
				      MESSAGE_MAX_HEADER);
			break;
		}
		if (r == 0) {
			m->input_done = true;
			break;
		}
		if (leading && is_mbox_from_line(line.data, line.len))
			continue;
		leading = false;
		clean_header_line(&clean, line.data, line.len);
		if (!m->ignore_dots && clean.len == 1 && clean.data[0] == '.') {
			m->input_done = true;
			break;
		}
		if (clean.len == 0)
			break;
		if (header_push_line(m->header, clean.data, clean.len) == HEADER_LINE_NOT) {
			/* no blank line: this line starts the body, as Postfix does */
			first_body_line(m, line.data, line.len, eol);
			break;
		}
	}
	lineio_set_lone_cr_breaks(m->in, true);
	buf_free(&line);
	buf_free(&clean);
	return rc;
}

/* --- header rewriting ----------------------------------------------------------------- */

/* A name in From that is neither a local account nor the sender's own: a program's name
 * (logwatch's "From: Logwatch") rather than an address. */
static bool is_display_word(const char *word, const char *sender)
{
	if (getpwnam(word))
		return false;
	const char *at = strchr(sender, '@');
	size_t n = at ? (size_t)(at - sender) : strlen(sender);
	return !(strlen(word) == n && strncmp(word, sender, n) == 0);
}

/* Rewrites the local names of one field in place, every other byte kept: each becomes its
 * qualified form, or in a sender field (recipients false) a program's name gets the sender's
 * address. Alias targets never enter the header, as in Postfix and sendmail: they belong to the
 * envelope, and an archive's address or a list of sixty must not be shown to every recipient. */
static void rewrite_field(struct message *m, const struct message_opts *o, size_t i, bool recipients)
{
	const char *value = header_value(m->header, i);
	const char *pos = value, *end = value + strlen(value);
	struct buf out = {0};
	const char *copied = value;
	struct mailbox mb;
	struct diag ignored;
	size_t count = 0;
	bool changed = false;
	int r;
	while ((r = addr_next(&pos, end, &mb, &ignored)) == 1) {
		count++;
		char *local = *mb.addr ? aliases_local_name(mb.addr, o->local_domains, o->nlocal_domains) : NULL;
		if (!local) {
			mailbox_clear(&mb);
			continue;
		}
		bool bracketed = mb.src_begin > value && mb.src_begin[-1] == '<';
		struct buf repl = {0};
		if (!recipients && !bracketed && !mb.name && !strchr(mb.addr, '@') &&
		    is_display_word(mb.addr, m->env.sender) && *m->env.sender)
			buf_printf(&repl, "%s <%s>", mb.addr, m->env.sender);
		if (!repl.len) {
			char *q = addr_qualify(local, o->domain);
			buf_puts(&repl, q);
			free(q);
		}
		buf_append(&out, copied, (size_t)(mb.src_begin - copied));
		buf_append(&out, repl.data, repl.len);
		copied = mb.src_end;
		changed = true;
		buf_free(&repl);
		free(local);
		mailbox_clear(&mb);
	}
	/* a field that does not parse stays as it was */
	if (r == 0 && changed && count) {
		buf_append(&out, copied, (size_t)(end - copied));
		header_set_value(m->header, i, out.data);
	}
	buf_free(&out);
}

static void rewrite_header(struct message *m, const struct message_opts *o)
{
	static const char *const recipient_fields[] = { "To", "Cc", "Resent-To", "Resent-Cc" };
	static const char *const sender_fields[] = { "From", "Sender", "Reply-To", "Resent-From",
						     "Resent-Sender" };
	for (size_t i = 0; i < header_count(m->header); i++) {
		const char *name = header_name(m->header, i);
		for (size_t k = 0; k < sizeof recipient_fields / sizeof *recipient_fields; k++)
			if (ascii_casecmp(name, recipient_fields[k]) == 0)
				rewrite_field(m, o, i, true);
		for (size_t k = 0; k < sizeof sender_fields / sizeof *sender_fields; k++)
			if (ascii_casecmp(name, sender_fields[k]) == 0)
				rewrite_field(m, o, i, false);
	}
}

/* --- open ----------------------------------------------------------------------------- */

static int open_with(struct message **out, const struct message_opts *o, struct lineio *in,
		     struct diag *d);

int message_open(struct message **out, const struct message_opts *o, int fd, struct diag *d)
{
	return open_with(out, o, lineio_fd_sized(fd, o->input_buffer ? o->input_buffer : LINEIO_BUFSIZE), d);
}

int message_open_stream(struct message **out, const struct message_opts *o, lineio_read_fn fn,
			void *ctx, struct diag *d)
{
	return open_with(out, o, lineio_new_sized(fn, ctx, o->input_buffer ? o->input_buffer : LINEIO_BUFSIZE), d);
}

static int open_with(struct message **out, const struct message_opts *o, struct lineio *in,
		     struct diag *d)
{
	struct message *m = xcalloc(1, sizeof *m);
	m->opts = o;
	m->in = in;
	lineio_set_cancel(m->in, o->cancel);
	m->bulk = !o->line_by_line;
	m->header = header_new();
	m->ignore_dots = o->ignore_dots;
	m->at_bol = true;
	*out = NULL;

	int rc = resolve_sender(m, o, d);
	if (rc == EX_OK && o->compose) {
		rc = compose_header(m, o, d);
	} else if (rc == EX_OK) {
		rc = parse_header(m, d);
		if (rc == EX_OK)
			rc = add_rcpt_strlist(m, o->operands, NULL, d);
		if (rc == EX_OK && o->extract)
			rc = add_header_rcpts(m, d);
		if (rc == EX_OK && o->rewrite_headers)
			rewrite_header(m, o);
		/* a resent message keeps its original fields as they are (RFC 5322 3.6.6), even
		 * without a Date: the time of this submission is not when it was written */
		size_t first, last;
		bool resent = first_resent_block(m->header, &first, &last);
		if (rc == EX_OK && resent)
			stamp_complete_resent(m->header, first, last, o, m->env.sender);
		if (rc == EX_OK && !resent) {
			if (header_find(m->header, "From", 0) == HEADER_NONE)
				stamp_append_from(m->header, o, m->env.sender);
			stamp_append_date_and_id(m->header, o->domain, true, true, true);
		}
		for (size_t i = 0; rc == EX_OK && i < sizeof dropped_fields / sizeof *dropped_fields; i++)
			header_remove_all(m->header, dropped_fields[i]);
	}
	if (rc == EX_OK)
		stamp_prepend_received(m->header, o);
	if (rc == EX_OK && m->env.nrcpt == 0)
		rc = diag_set(d, EX_USAGE, "no recipients: give them as arguments, or use -t");
	if (rc != EX_OK) {
		message_free(m);
		return rc;
	}
	/* the header goes first; a first body line read while parsing it follows */
	struct buf first = m->head;
	m->head = (struct buf){0};
	header_write(m->header, &m->head);
	buf_puts(&m->head, "\r\n");
	if (first.len)
		buf_append(&m->head, first.data, first.len);
	buf_free(&first);
	m->stage = STAGE_HEAD;
	m->head_ended = m->input_done;
	m->opts = NULL;
	*out = m;
	return EX_OK;
}

size_t message_unused_input(const struct message *m)
{
	const char *p;
	size_t len;
	lineio_buffered(m->in, &p, &len);
	return len;
}

struct message *message_again(const struct message *m, lineio_read_fn fn, void *ctx)
{
	if (m->composer)
		return NULL;
	struct message *a = xcalloc(1, sizeof *a);
	a->in = lineio_new(fn, ctx);
	a->header = header_new();
	a->ignore_dots = m->ignore_dots;
	a->bulk = m->bulk;
	a->at_bol = true;
	a->input_done = a->head_ended = m->head_ended;
	buf_append(&a->head, m->head.data, m->head.len);
	a->stage = STAGE_HEAD;
	return a;
}

unsigned long long message_size_estimate(const struct message *m)
{
	return m->composer ? m->head.len + composer_size_estimate(m->composer) : 0;
}

bool message_input_done(const struct message *m)
{
	return m->input_done;
}

const struct envelope *message_envelope(const struct message *m)
{
	return &m->env;
}

/* --- the pull reader ------------------------------------------------------------------ */

/* Fetches the next body piece, applying the lone-dot rule. Returns 1 with a piece set up,
 * 0 at the end of input, -1 on a read error. */
static int next_body_piece(struct message *m)
{
	for (;;) {
		const char *p;
		size_t len;
		bool eol;
		int r = lineio_next(m->in, &p, &len, &eol);
		if (r <= 0)
			return r;
		if (!m->ignore_dots && m->at_bol) {
			if (m->dot_held) {
				m->dot_held = false;
				if (len == 0 && eol)
					return 0;
				m->emit_dot = true;
			} else if (len == 1 && *p == '.') {
				if (eol)
					return 0;
				m->dot_held = true;
				continue;
			}
		}
		m->piece = p;
		m->piece_len = len;
		m->piece_pos = 0;
		m->piece_eol = eol;
		m->cut = NO_CUT;
		return 1;
	}
}

/* The bulk path, at the start of a line with nothing pending: takes from the input buffer the
 * run of whole lines that the line-by-line path would pass unchanged but for their line end,
 * and writes them to buf with CRLF ends. Such a line ends in LF or CRLF inside the buffer, holds
 * no other CR (a lone CR breaks the line), is at most WIRE_LINE_MAX bytes (no cut), and is not
 * a lone "." unless -i. linescan takes runs of them 64 bytes at a time (CRLF lines: one memcpy
 * for the run; LF lines: a copy a line, with its CR); the block test used is the one for the
 * kind of line last seen; the lines it refuses are taken one by one here. It stops before the
 * first line that is not such a line, or does not fit in n: that one goes the slow way, so the
 * rules stay in one place. Returns the bytes written (0: nothing taken). */
static size_t body_bulk(struct message *m, char *buf, size_t n)
{
	const char *s, *p;
	size_t avail;
	lineio_buffered(m->in, &s, &avail);
	const char *e = s + avail, *run = s;	/* [run, p) is still to copy as it is */
	const char *retry = s;			/* where to try the block test again */
	char *o = buf, *oe = buf + n;
	p = s;
	while (p < e) {
		if (p >= retry) {
			if (m->bulk_lf) {
				memcpy(o, run, (size_t)(p - run));
				o += p - run;
				size_t taken;
				o += linescan_lf_to_crlf(p, (size_t)(e - p), m->ignore_dots, o,
							 (size_t)(oe - o), &taken);
				p = run = p + taken;
			} else {
				size_t room = (size_t)(oe - o) - (size_t)(p - run);
				size_t left = (size_t)(e - p);
				p += linescan_crlf_run(p, left < room ? left : room, m->ignore_dots);
			}
			/* lines one by one from here, and the block test again 128 bytes on: the
			 * block it refused is then behind, unless a long line began before it */
			retry = p + 128;
			continue;
		}
		const char *brk = linescan_line_break(p, e);
		if (brk == e)
			break;		/* the line goes on beyond the buffer */
		size_t len = (size_t)(brk - p);
		bool crlf = *brk == '\r';
		if (crlf && (brk + 1 == e || brk[1] != '\n'))
			break;		/* a lone CR, or a CR whose next byte is not read yet */
		if (len > WIRE_LINE_MAX || (len == 1 && *p == '.' && !m->ignore_dots))
			break;
		if ((size_t)(oe - o) < (size_t)(p - run) + len + 2)
			break;
		if (crlf != !m->bulk_lf) {
			m->bulk_lf = !crlf;	/* the other kind of line: its block test next */
			retry = p;
		}
		if (crlf) {
			p = brk + 2;
			continue;
		}
		size_t k = (size_t)(brk - run);
		memcpy(o, run, k);
		o += k;
		*o++ = '\r';
		*o++ = '\n';
		p = run = brk + 1;
	}
	memcpy(o, run, (size_t)(p - run));
	o += p - run;
	lineio_consume(m->in, (size_t)(p - s));
	return (size_t)(o - buf);
}

/* A smaller caller's buffer is filled through the input buffer (a read for little); after a
 * direct read the block test mostly refused (LF input), DIRECT_PAUSE reads go through it too. */
#define DIRECT_MIN 4096
#define DIRECT_PAUSE 16

/* The direct path, at a line start with nothing pending and out bytes already in buf: reads the
 * input straight into the rest of buf (the caller's, libcurl's upload buffer: no copy through the
 * input buffer), behind the few bytes still buffered (the start of a line the last read cut), and
 * keeps the run of lines linescan vouches for; the rest goes back into the input buffer for the
 * other paths. So every byte of canonical CRLF input is copied once, by read(2). With too little
 * room left it ends the call short instead, so that the next one can. Returns the bytes to give
 * the caller, 0 to go on the other paths (the input is then in the buffer), -1 on a read error. */
static ssize_t body_direct(struct message *m, char *buf, size_t out, size_t n)
{
	const char *s;
	size_t have;
	lineio_buffered(m->in, &s, &have);
	size_t room = n - out < lineio_capacity(m->in) ? n - out : lineio_capacity(m->in);
	if (have > WIRE_LINE_MAX + 2 || n < DIRECT_MIN)
		return 0;
	if (room < DIRECT_MIN)
		return out > 0 && !m->direct_pause ? (ssize_t)out : 0;
	if (m->direct_pause > 0)
		return m->direct_pause--, 0;
	buf += out;
	memcpy(buf, s, have);
	lineio_consume(m->in, have);
	ssize_t got = lineio_read_into(m->in, buf + have, room - have);
	if (got < 0) {
		int err = errno;
		lineio_unread(m->in, buf, have);
		errno = err;
		return -1;
	}
	size_t total = have + (size_t)got;
	size_t run = linescan_crlf_run(buf, total, m->ignore_dots);
	lineio_unread(m->in, buf + run, total - run);
	if (run < total / 2)
		m->direct_pause = DIRECT_PAUSE;
	return run ? (ssize_t)(out + run) : 0;
}

static ssize_t read_body(struct message *m, char *buf, size_t n, struct diag *d)
{
	size_t out = 0;
	while (out < n) {
		if (m->bulk && m->at_bol && m->column == 0 && !m->piece && !m->crlf_left &&
		    !m->emit_dot && !m->dot_held && !m->input_done) {
			out += body_bulk(m, buf + out, n - out);
			if (out == n)
				break;
			ssize_t got = body_direct(m, buf, out, n);	/* short: asked again */
			if (got != 0)
				return got < 0 ? (read_error(d, errno), -1) : got;
			/* the next line, if any, is one for the line-by-line path */
		}
		if (m->emit_dot) {
			buf[out++] = '.';
			m->emit_dot = false;
			m->at_bol = false;
			m->column++;
			continue;
		}
		if (m->crlf_left) {
			buf[out++] = m->crlf_left == 2 ? '\r' : '\n';
			if (--m->crlf_left == 0) {
				/* a break inside a long line starts no input line */
				m->at_bol = !m->soft_break;
				m->soft_break = false;
				m->column = 0;
			}
			continue;
		}
		if (m->piece && m->piece_pos < m->piece_len) {
			size_t k = m->piece_len - m->piece_pos;
			if (m->column + k > WIRE_LINE_MAX) {
				if (m->cut == NO_CUT)
					m->cut = m->piece_pos + body_cut(m->piece + m->piece_pos, k, m->column);
				k = m->cut - m->piece_pos;
				if (k == 0) {
					m->cut = NO_CUT;
					m->crlf_left = 2;
					m->soft_break = true;
					continue;
				}
			}
			if (k > n - out)
				k = n - out;
			memcpy(buf + out, m->piece + m->piece_pos, k);
			m->piece_pos += k;
			m->column += k;
			out += k;
			m->at_bol = false;
			continue;
		}
		if (m->piece) {
			bool eol = m->piece_eol;
			m->piece = NULL;
			if (eol) {
				m->crlf_left = 2;
				continue;
			}
		}
		if (m->input_done) {
			if (!m->at_bol) {
				m->crlf_left = 2;
				continue;
			}
			m->stage = STAGE_DONE;
			break;
		}
		int r = next_body_piece(m);
		if (r < 0)
			return read_error(d, errno), -1;
		if (r == 0)
			m->input_done = true;
	}
	return (ssize_t)out;
}

ssize_t message_read(struct message *m, char *buf, size_t n, struct diag *d)
{
	size_t out = 0;
	while (out < n && m->stage != STAGE_DONE) {
		ssize_t got = 0;
		if (m->stage == STAGE_HEAD) {
			size_t k = m->head.len - m->head_pos;
			if (k > n - out)
				k = n - out;
			memcpy(buf + out, m->head.data + m->head_pos, k);
			m->head_pos += k;
			got = (ssize_t)k;
			if (m->head_pos == m->head.len)
				m->stage = m->composer ? STAGE_COMPOSED : STAGE_BODY;
		} else if (m->stage == STAGE_BODY) {
			got = read_body(m, buf + out, n - out, d);
			if (got > 0 && (size_t)got < n - out && m->stage == STAGE_BODY)
				return (ssize_t)(out + (size_t)got);	/* a direct read: short */
		} else {
			got = composer_read(m->composer, buf + out, n - out, d);
			if (got == 0)
				m->stage = STAGE_DONE;
		}
		if (got < 0)
			return -1;
		out += (size_t)got;
	}
	return (ssize_t)out;
}

void message_free(struct message *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->env.nrcpt; i++)
		free(m->env.rcpt[i]);
	free(m->env.rcpt);
	free(m->env.sender);
	strset_free(&m->seen);
	lineio_free(m->in);
	header_free(m->header);
	buf_free(&m->head);
	composer_free(m->composer);
	free(m);
}
