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
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "header.h"
#include "lineio.h"

#define STORE_MEMORY_LIMIT (256 * 1024)
#define FOLD_COLUMNS 78

/* The body of a composed message, read in full before the header is written because the header
 * says whether the body has 8-bit bytes. */
struct body_store {
	struct buf mem;
	int fd;			/* the spill file once mem would exceed its limit, else -1 */
	bool has_8bit;
	unsigned long long size;
};

/* Recipients seen so far, by addr_dedup_key: an open-addressing hash set, because 100,000
 * recipients would make a linear search quadratic. */
struct rcpt_set {
	char **slot;
	size_t cap, used;
};

enum stage { STAGE_HEAD, STAGE_BODY, STAGE_STORE, STAGE_DONE };

struct message {
	struct envelope env;
	struct rcpt_set seen;
	struct lineio *in;
	struct header *header;
	bool ignore_dots;
	bool input_done;	/* the input ended (end of file, or a lone "." line) */

	enum stage stage;
	struct buf head;	/* header, blank line, and a first body line already read */
	size_t head_pos;

	/* body streaming state */
	const char *piece;
	size_t piece_len, piece_pos;
	bool piece_eol;
	int crlf_left;		/* bytes of "\r\n" still to write after the piece */
	bool emit_dot;		/* a held-back "." turned out not to be a lone dot line */
	bool dot_held;
	bool at_bol;

	bool composed;		/* the body comes from the store, not from the input */
	struct body_store store;
	unsigned long long store_pos;
};

/* --- recipients ----------------------------------------------------------------------- */

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Adds key (taking ownership) unless present; returns true when it was new. */
static bool rcpt_set_add(struct rcpt_set *set, char *key)
{
	if ((set->used + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		char **slot = xcalloc(cap, sizeof *slot);
		for (size_t i = 0; i < set->cap; i++) {
			if (!set->slot[i])
				continue;
			size_t j = hash_key(set->slot[i]) & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = set->slot[i];
		}
		free(set->slot);
		set->slot = slot;
		set->cap = cap;
	}
	size_t j = hash_key(key) & (set->cap - 1);
	while (set->slot[j]) {
		if (strcmp(set->slot[j], key) == 0) {
			free(key);
			return false;
		}
		j = (j + 1) & (set->cap - 1);
	}
	set->slot[j] = key;
	set->used++;
	return true;
}

static void rcpt_set_free(struct rcpt_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
}

static void envelope_add_rcpt(struct message *m, const char *addr)
{
	if (!rcpt_set_add(&m->seen, addr_dedup_key(addr)))
		return;
	if ((m->env.nrcpt & (m->env.nrcpt - 1)) == 0)
		m->env.rcpt = xreallocarray(m->env.rcpt, m->env.nrcpt ? m->env.nrcpt * 2 : 1,
					    sizeof *m->env.rcpt);
	m->env.rcpt[m->env.nrcpt++] = xstrdup(addr);
}

/* Qualifies and checks one mailbox for the envelope. code is the status of a bad address:
 * EX_USAGE for the command line, EX_DATAERR for the header. */
static int envelope_address(const struct mailbox *mb, const char *domain, const char *what,
			    int code, char **out, struct diag *d)
{
	if (*mb->addr == '\0')
		return diag_set(d, code, "%s '<>': the null address cannot be a recipient", what);
	char *addr = addr_qualify(mb->addr, domain);
	struct diag why;
	if (addr_check_envelope(addr, &why) != EX_OK) {
		diag_set(d, code, "%s %s", what, why.msg);
		free(addr);
		return code;
	}
	*out = addr;
	return EX_OK;
}

/* Adds every mailbox of an address list to the envelope; names the list in errors. If
 * mailboxes is not NULL, the parsed mailboxes are appended to it for a composed header. */
static int add_rcpt_list(struct message *m, const char *text, size_t len, const char *domain,
			 const char *what, int code, struct buf *formatted, struct diag *d)
{
	const char *pos = text, *end = text + len;
	struct mailbox mb;
	struct diag why;
	int r;
	while ((r = addr_next(&pos, end, &mb, &why)) == 1) {
		char *addr = NULL;
		int rc = envelope_address(&mb, domain, what, code, &addr, d);
		if (rc != EX_OK) {
			mailbox_clear(&mb);
			return rc;
		}
		envelope_add_rcpt(m, addr);
		if (formatted) {
			char *name = mb.name && *mb.name ? header_encode_phrase(mb.name) : NULL;
			char *item = name ? xasprintf("%s <%s>", name, addr) : xstrdup(addr);
			/* fold before an address that would pass the column limit */
			const char *last_nl = strrchr(formatted->data ? formatted->data : "", '\n');
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

static int add_rcpt_strlist(struct message *m, const struct strlist *l, const char *domain,
			    struct buf *formatted, struct diag *d)
{
	for (size_t i = 0; l && i < l->n; i++) {
		int rc = add_rcpt_list(m, l->v[i], strlen(l->v[i]), domain, "recipient", EX_USAGE,
				       formatted, d);
		if (rc != EX_OK)
			return rc;
	}
	return EX_OK;
}

static bool is_resent(const char *name)
{
	return ascii_ncasecmp(name, "Resent-", 7) == 0;
}

/* -t: To, Cc and Bcc, or those of the first Resent- block when there is one (RFC 5322 3.6.6:
 * the newest block is the first). */
static int add_header_rcpts(struct message *m, const char *domain, struct diag *d)
{
	struct header *h = m->header;
	size_t n = header_count(h), first = HEADER_NONE, last = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_resent(header_name(h, i))) {
			if (first == HEADER_NONE)
				first = i;
			last = i;
		} else if (first != HEADER_NONE) {
			break;
		}
	}
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
			int rc = add_rcpt_list(m, v, strlen(v), domain, what, EX_DATAERR, NULL, d);
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
	char *addr = addr_qualify(mb.addr, o->domain);
	mailbox_clear(&mb);
	if (addr_check_envelope(addr, &why) != EX_OK) {
		free(addr);
		return diag_set(d, code, "%s %s", what, why.msg);
	}
	m->env.sender = addr;
	return EX_OK;
}

/* --- header generation ---------------------------------------------------------------- */

char *message_make_id(const char *domain)
{
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		rnd = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&rnd;
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	return xasprintf("<%04d%02d%02d%02d%02d%02d.%ld.%016llx@%s>", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)getpid(),
			 (unsigned long long)rnd, domain);
}

static void append_from(struct header *h, const struct message_opts *o, const char *sender)
{
	char *fallback = NULL;
	if (*sender == '\0')
		sender = fallback = xasprintf("%s@%s", o->login, o->domain);
	char *value;
	if (o->full_name && *o->full_name) {
		char *phrase = header_encode_phrase(o->full_name);
		value = xasprintf(" %s <%s>", phrase, sender);
		free(phrase);
	} else {
		value = xasprintf(" %s", sender);
	}
	header_append(h, "From", value);
	free(value);
	free(fallback);
}

static void append_date_and_id(struct header *h, const char *domain, bool only_missing)
{
	if (!only_missing || header_find(h, "Date", 0) == HEADER_NONE) {
		char *date = header_format_date(time(NULL));
		char *value = xasprintf(" %s", date);
		header_append(h, "Date", value);
		free(value);
		free(date);
	}
	if (!only_missing || header_find(h, "Message-ID", 0) == HEADER_NONE) {
		char *id = message_make_id(domain);
		char *value = xasprintf(" %s", id);
		header_append(h, "Message-ID", value);
		free(value);
		free(id);
	}
}

/* --- composed body -------------------------------------------------------------------- */

static int store_write(struct body_store *s, const char *p, size_t n, struct diag *d)
{
	s->size += n;
	for (size_t i = 0; i < n && !s->has_8bit; i++)
		if ((unsigned char)p[i] >= 0x80)
			s->has_8bit = true;
	if (s->fd < 0 && s->mem.len + n <= STORE_MEMORY_LIMIT) {
		buf_append(&s->mem, p, n);
		return EX_OK;
	}
	if (s->fd < 0) {
		const char *dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
		s->fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
		if (s->fd < 0) {
			char *path = xasprintf("%s/postie.XXXXXX", dir);
			s->fd = mkstemp(path);
			if (s->fd >= 0)
				unlink(path);
			free(path);
		}
		if (s->fd < 0)
			return diag_set(d, EX_CANTCREAT, "temporary file in %s: %s", dir, strerror(errno));
		const char *q = s->mem.data;
		size_t left = s->mem.len;
		s->mem.len = 0;
		while (left) {
			ssize_t w = write(s->fd, q, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno));
			q += w;
			left -= (size_t)w;
		}
		buf_free(&s->mem);
	}
	while (n) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return EX_OK;
}

static int read_error(struct diag *d, int err)
{
	return diag_set(d, EX_IOERR, "reading the message: %s", strerror(err));
}

/* Reads the whole body into the store, applying the lone-dot rule and CRLF line ends. */
static int fill_store(struct message *m, struct diag *d)
{
	struct body_store *s = &m->store;
	bool at_bol = true, dot_held = false;
	for (;;) {
		const char *p;
		size_t len;
		bool eol;
		int r = lineio_next(m->in, &p, &len, &eol);
		if (r < 0)
			return read_error(d, errno);
		if (r == 0)
			break;
		if (!m->ignore_dots && at_bol) {
			if (dot_held) {
				dot_held = false;
				if (len == 0 && eol)
					break;
				if (store_write(s, ".", 1, d) != EX_OK)
					return d->code;
			} else if (len == 1 && *p == '.') {
				if (eol)
					break;
				dot_held = true;
				continue;
			}
		}
		if (store_write(s, p, len, d) != EX_OK ||
		    (eol && store_write(s, "\r\n", 2, d) != EX_OK))
			return d->code;
		at_bol = eol || (at_bol && len == 0);
	}
	if (!at_bol && store_write(s, "\r\n", 2, d) != EX_OK)
		return d->code;
	if (s->fd >= 0 && lseek(s->fd, 0, SEEK_SET) < 0)
		return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno));
	m->input_done = true;
	return EX_OK;
}

static int compose_header(struct message *m, const struct message_opts *o, struct diag *d)
{
	struct buf to = {0}, cc = {0};
	int rc = add_rcpt_strlist(m, o->operands, o->domain, &to, d);
	if (rc == EX_OK)
		rc = add_rcpt_strlist(m, o->to, o->domain, &to, d);
	if (rc == EX_OK)
		rc = add_rcpt_strlist(m, o->cc, o->domain, &cc, d);
	if (rc == EX_OK)
		rc = add_rcpt_strlist(m, o->bcc, o->domain, NULL, d);
	if (rc == EX_OK)
		rc = fill_store(m, d);
	if (rc == EX_OK) {
		struct header *h = m->header;
		append_from(h, o, m->env.sender);
		char *value = xasprintf(" %s", to.len ? to.data : "undisclosed-recipients:;");
		header_append(h, "To", value);
		free(value);
		if (cc.len) {
			value = xasprintf(" %s", cc.data);
			header_append(h, "Cc", value);
			free(value);
		}
		if (o->subject && *o->subject) {
			value = header_encode_unstructured("Subject", o->subject);
			header_append(h, "Subject", value);
			free(value);
		}
		append_date_and_id(h, o->domain, false);
		if (m->store.has_8bit) {
			header_append(h, "MIME-Version", " 1.0");
			header_append(h, "Content-Type", " text/plain; charset=UTF-8");
			header_append(h, "Content-Transfer-Encoding", " 8bit");
		}
	}
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

static int parse_header(struct message *m, struct diag *d)
{
	struct buf line = {0};
	int rc = EX_OK;
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
		if (!m->ignore_dots && line.len == 1 && line.data[0] == '.') {
			m->input_done = true;
			break;
		}
		if (line.len == 0)
			break;
		if (header_push_line(m->header, line.data, line.len) == HEADER_LINE_NOT) {
			/* no blank line: this line starts the body, as Postfix does */
			buf_append(&m->head, line.data, line.len);
			buf_puts(&m->head, "\r\n");
			if (!eol)
				m->input_done = true;
			break;
		}
	}
	buf_free(&line);
	return rc;
}

/* --- open ----------------------------------------------------------------------------- */

int message_open(struct message **out, const struct message_opts *o, int fd, struct diag *d)
{
	struct message *m = xcalloc(1, sizeof *m);
	m->in = lineio_fd(fd);
	m->header = header_new();
	m->ignore_dots = o->ignore_dots;
	m->store.fd = -1;
	m->at_bol = true;
	*out = NULL;

	int rc = resolve_sender(m, o, d);
	if (rc == EX_OK && o->compose) {
		m->composed = true;
		rc = compose_header(m, o, d);
	} else if (rc == EX_OK) {
		rc = parse_header(m, d);
		if (rc == EX_OK)
			rc = add_rcpt_strlist(m, o->operands, o->domain, NULL, d);
		if (rc == EX_OK && o->extract)
			rc = add_header_rcpts(m, o->domain, d);
		if (rc == EX_OK) {
			header_remove_all(m->header, "Bcc");
			header_remove_all(m->header, "Resent-Bcc");
			if (header_find(m->header, "From", 0) == HEADER_NONE)
				append_from(m->header, o, m->env.sender);
			append_date_and_id(m->header, o->domain, true);
		}
	}
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
	*out = m;
	return EX_OK;
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
		return 1;
	}
}

static ssize_t read_body(struct message *m, char *buf, size_t n, struct diag *d)
{
	size_t out = 0;
	while (out < n) {
		if (m->emit_dot) {
			buf[out++] = '.';
			m->emit_dot = false;
			m->at_bol = false;
			continue;
		}
		if (m->crlf_left) {
			buf[out++] = m->crlf_left == 2 ? '\r' : '\n';
			if (--m->crlf_left == 0)
				m->at_bol = true;
			continue;
		}
		if (m->piece && m->piece_pos < m->piece_len) {
			size_t k = m->piece_len - m->piece_pos;
			if (k > n - out)
				k = n - out;
			memcpy(buf + out, m->piece + m->piece_pos, k);
			m->piece_pos += k;
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

static ssize_t read_store(struct message *m, char *buf, size_t n, struct diag *d)
{
	struct body_store *s = &m->store;
	if (s->fd < 0) {
		size_t k = s->mem.len - (size_t)m->store_pos;
		if (k > n)
			k = n;
		memcpy(buf, s->mem.data + m->store_pos, k);
		m->store_pos += k;
		if (k == 0)
			m->stage = STAGE_DONE;
		return (ssize_t)k;
	}
	for (;;) {
		ssize_t got = read(s->fd, buf, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno)), -1;
		if (got == 0)
			m->stage = STAGE_DONE;
		return got;
	}
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
				m->stage = m->composed ? STAGE_STORE : STAGE_BODY;
		} else if (m->stage == STAGE_BODY) {
			got = read_body(m, buf + out, n - out, d);
		} else {
			got = read_store(m, buf + out, n - out, d);
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
	rcpt_set_free(&m->seen);
	lineio_free(m->in);
	header_free(m->header);
	buf_free(&m->head);
	buf_free(&m->store.mem);
	if (m->store.fd >= 0)
		close(m->store.fd);
	free(m);
}
