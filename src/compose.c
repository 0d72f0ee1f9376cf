/* SPDX-License-Identifier: ISC */
/* compose.c: the composed body (see compose.h). Output is produced a chunk at a time into a
 * pending buffer that composer_read drains: the text (as stored, or quoted-printable), then per
 * attachment a part header and its base64, then the closing delimiter. */
#include "compose.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime.h"

/* base64 takes 3 bytes to 4; 57 bytes make one 76-column line */
#define ATTACH_CHUNK (57 * 1024)
#define STORE_CHUNK (48 * 1024)
#define SNIFF_BYTES (64 * 1024)

struct attachment {
	char *path;
	char *name;		/* the file name without its directory */
	char *type;
	int fd;
	unsigned long long size;
};

enum phase { PHASE_TEXT_HEAD, PHASE_TEXT, PHASE_PART_HEAD, PHASE_PART, PHASE_CLOSE, PHASE_DONE };

struct composer {
	/* the text, stored */
	struct buf mem;
	int fd;			/* the spill file, or -1 */
	unsigned long long stored, read_back;
	struct mime_class cls;
	enum mime_encoding enc;
	const char *legacy_charset;	/* names text that is not UTF-8, or NULL */

	struct attachment *att;
	size_t natt, cur;
	char boundary[MIME_BOUNDARY_SIZE];

	enum phase phase;
	struct buf pending;
	size_t pending_pos;
	struct mime_qp qp;
	struct mime_b64 b64;
	char chunk[ATTACH_CHUNK];
};

/* --- the store ------------------------------------------------------------------------ */

static int store_write(struct composer *c, const char *p, size_t n, struct diag *d)
{
	mime_class_feed(&c->cls, p, n);
	c->stored += n;
	if (c->fd < 0 && c->mem.len + n <= COMPOSE_MEMORY_LIMIT) {
		buf_append(&c->mem, p, n);
		return EX_OK;
	}
	if (c->fd < 0) {
		const char *dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
		c->fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
		if (c->fd < 0) {
			/* file systems without O_TMPFILE: a named file, unlinked at once */
			char *path = xasprintf("%s/postie.XXXXXX", dir);
			c->fd = mkstemp(path);
			if (c->fd >= 0)
				unlink(path);
			free(path);
		}
		if (c->fd < 0)
			return diag_set(d, EX_CANTCREAT, "temporary file in %s: %s", dir, strerror(errno));
		if (write_all(c->fd, c->mem.data ? c->mem.data : "", c->mem.len) < 0)
			return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno));
		buf_free(&c->mem);
	}
	if (write_all(c->fd, p, n) < 0)
		return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno));
	return EX_OK;
}

/* Reads the whole text into the store, applying the lone-dot rule and CRLF line ends. */
static int fill_store(struct composer *c, struct lineio *in, bool ignore_dots, struct diag *d)
{
	bool at_bol = true, dot_held = false;
	for (;;) {
		const char *p;
		size_t len;
		bool eol;
		int r = lineio_next(in, &p, &len, &eol);
		if (r < 0)
			return diag_set(d, EX_IOERR, "reading the message: %s", strerror(errno));
		if (r == 0)
			break;
		if (!ignore_dots && at_bol) {
			if (dot_held) {
				dot_held = false;
				if (len == 0 && eol)
					break;
				if (store_write(c, ".", 1, d) != EX_OK)
					return d->code;
			} else if (len == 1 && *p == '.') {
				if (eol)
					break;
				dot_held = true;
				continue;
			}
		}
		if (store_write(c, p, len, d) != EX_OK || (eol && store_write(c, "\r\n", 2, d) != EX_OK))
			return d->code;
		at_bol = eol || (at_bol && len == 0);
	}
	if (!at_bol && store_write(c, "\r\n", 2, d) != EX_OK)
		return d->code;
	if (c->fd >= 0 && lseek(c->fd, 0, SEEK_SET) < 0)
		return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno));
	mime_class_finish(&c->cls);
	c->enc = mime_text_encoding(&c->cls);
	return EX_OK;
}

/* --- attachments ---------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

/* The type from the file name, else from the first bytes: text/plain for UTF-8 text. */
static char *sniff_type(struct mime_types **types, int fd, const char *name)
{
	if (!*types) {
		*types = mime_types_new();
		struct diag ignored;
		mime_types_load(*types, MIME_TYPES_PATH, &ignored);
	}
	const char *known = mime_types_lookup(*types, name);
	if (known)
		return xstrdup(known);
	char head[SNIFF_BYTES];
	ssize_t got = pread(fd, head, sizeof head, 0);
	struct mime_class cls;
	mime_class_init(&cls);
	if (got > 0)
		mime_class_feed(&cls, head, (size_t)got);
	/* a cut at the sniffing limit may split a UTF-8 sequence; judge what is whole */
	mime_class_finish(&cls);
	return xstrdup(got >= 0 ? mime_type_by_content(&cls) : "application/octet-stream");
}

static int open_attachments(struct composer *c, const struct strlist *paths, struct diag *d)
{
	struct mime_types *types = NULL;
	int rc = EX_OK;
	c->att = xcalloc(paths->n ? paths->n : 1, sizeof *c->att);
	for (size_t i = 0; i < paths->n && rc == EX_OK; i++) {
		struct attachment *a = &c->att[c->natt];
		const char *path = paths->v[i];
		/* O_NONBLOCK: a FIFO is refused below, not waited on for a writer */
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		struct stat st;
		if (fd < 0) {
			rc = diag_set(d, EX_NOINPUT, "attachment '%s': %s", path, strerror(errno));
		} else if (fstat(fd, &st) < 0) {
			rc = diag_set(d, EX_NOINPUT, "attachment '%s': %s", path, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = diag_set(d, EX_NOINPUT, "attachment '%s': is a directory", path);
		} else if (!S_ISREG(st.st_mode)) {
			rc = diag_set(d, EX_NOINPUT, "attachment '%s': not a regular file", path);
		} else {
			/* a read of the first byte tells an unreadable file now, not mid-send */
			char probe;
			if (pread(fd, &probe, 1, 0) < 0)
				rc = diag_set(d, EX_NOINPUT, "attachment '%s': %s", path, strerror(errno));
		}
		if (rc != EX_OK) {
			if (fd >= 0)
				close(fd);
			break;
		}
		a->fd = fd;
		a->path = xstrdup(path);
		a->name = xstrdup(base_name(path));
		a->size = (unsigned long long)st.st_size;
		a->type = sniff_type(&types, fd, a->name);
		c->natt++;
	}
	mime_types_free(types);
	return rc;
}

/* --- open ----------------------------------------------------------------------------- */

int composer_open(struct composer **out, struct lineio *in, bool ignore_dots,
		  const struct strlist *attachments, const char *legacy_charset, struct diag *d)
{
	struct composer *c = xcalloc(1, sizeof *c);
	c->fd = -1;
	c->legacy_charset = legacy_charset;
	mime_class_init(&c->cls);
	*out = NULL;
	int rc = EX_OK;
	if (attachments && attachments->n) {
		rc = open_attachments(c, attachments, d);
		if (rc == EX_OK)
			rc = mime_boundary(c->boundary, d);
	}
	if (rc == EX_OK)
		rc = fill_store(c, in, ignore_dots, d);
	if (rc != EX_OK) {
		composer_free(c);
		return rc;
	}
	c->phase = c->natt ? PHASE_TEXT_HEAD : PHASE_TEXT;
	if (c->enc == MIME_QUOTED_PRINTABLE)
		mime_qp_init(&c->qp, 0);
	*out = c;
	return EX_OK;
}

static char *text_content_type(const struct composer *c)
{
	/* 8-bit text that is not UTF-8 is in the locale's charset if anything: labelled utf-8,
	 * a reader would show replacement characters */
	bool legacy = c->cls.has_8bit && !c->cls.utf8_valid && c->legacy_charset;
	return xasprintf(" text/plain; charset=%s", legacy ? c->legacy_charset : mime_text_charset(&c->cls));
}

void composer_header_fields(struct composer *c, struct header *h)
{
	header_append(h, "MIME-Version", " 1.0");
	if (c->natt) {
		/* folded: the boundary alone would take the line past 78 columns */
		char *value = xasprintf(" multipart/mixed;\n boundary=\"%s\"", c->boundary);
		header_append(h, "Content-Type", value);
		free(value);
		return;
	}
	char *type = text_content_type(c);
	char *enc = xasprintf(" %s", mime_encoding_name(c->enc));
	header_append(h, "Content-Type", type);
	header_append(h, "Content-Transfer-Encoding", enc);
	free(type);
	free(enc);
}

unsigned long long composer_size_estimate(const struct composer *c)
{
	unsigned long long total = c->enc == MIME_QUOTED_PRINTABLE ? c->stored * 3 / 2 : c->stored;
	for (size_t i = 0; i < c->natt; i++)
		total += c->att[i].size / 57 * 78 + 512;
	return total;
}

/* --- output --------------------------------------------------------------------------- */

/* Writes a part's header fields through header_write, which turns folds into CRLF. */
static void part_head(struct composer *c, const char *type, const char *disposition,
		      const char *encoding)
{
	struct header *h = header_new();
	header_append(h, "Content-Type", type);
	if (disposition)
		header_append(h, "Content-Disposition", disposition);
	char *enc = xasprintf(" %s", encoding);
	header_append(h, "Content-Transfer-Encoding", enc);
	free(enc);
	buf_printf(&c->pending, "%s--%s\r\n", c->phase == PHASE_TEXT_HEAD ? "" : "\r\n", c->boundary);
	header_write(h, &c->pending);
	buf_puts(&c->pending, "\r\n");
	header_free(h);
}

static ssize_t read_store(struct composer *c, char *buf, size_t n, struct diag *d)
{
	if (c->fd < 0) {
		size_t left = c->mem.len - (size_t)c->read_back;
		size_t k = left < n ? left : n;
		if (k == 0)
			return 0;	/* an empty body has no buffer at all */
		memcpy(buf, c->mem.data + c->read_back, k);
		c->read_back += k;
		return (ssize_t)k;
	}
	for (;;) {
		ssize_t got = read(c->fd, buf, n);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return diag_set(d, EX_IOERR, "temporary file: %s", strerror(errno)), -1;
	}
}

/* Makes room for need bytes in pending (which is empty) and returns where they go. */
static char *pending_room(struct composer *c, size_t need)
{
	if (c->pending.cap < need + 1) {
		c->pending.data = xrealloc(c->pending.data, need + 1);
		c->pending.cap = need + 1;
	}
	return c->pending.data;
}

static void pending_done(struct composer *c, size_t len)
{
	c->pending.len = len;
	c->pending.data[len] = '\0';
}

/* Produces the next chunk of output into pending. Returns EX_OK, or an error with d. */
static int produce(struct composer *c, struct diag *d)
{
	buf_reset(&c->pending);
	c->pending_pos = 0;
	switch (c->phase) {
	case PHASE_TEXT_HEAD: {
		char *type = text_content_type(c);
		part_head(c, type, NULL, mime_encoding_name(c->enc));
		free(type);
		c->phase = PHASE_TEXT;
		return EX_OK;
	}
	case PHASE_TEXT: {
		char raw[STORE_CHUNK];
		ssize_t got = read_store(c, raw, sizeof raw, d);
		if (got < 0)
			return d->code;
		if (c->enc == MIME_QUOTED_PRINTABLE) {
			char *o = pending_room(c, mime_qp_bound((size_t)got) + MIME_QP_FINISH_MAX);
			size_t k = got ? mime_qp_encode(&c->qp, raw, (size_t)got, o) : 0;
			if (got == 0)
				k += mime_qp_finish(&c->qp, o + k);
			pending_done(c, k);
		} else {
			buf_append(&c->pending, raw, (size_t)got);
		}
		if (got == 0)
			c->phase = c->natt ? PHASE_PART_HEAD : PHASE_DONE;
		return EX_OK;
	}
	case PHASE_PART_HEAD: {
		struct attachment *a = &c->att[c->cur];
		char *type = mime_content_type_value(a->type, a->name);
		char *disp = mime_content_disposition_value("attachment", a->name);
		part_head(c, type, disp, "base64");
		free(type);
		free(disp);
		mime_b64_init(&c->b64);
		c->phase = PHASE_PART;
		return EX_OK;
	}
	case PHASE_PART: {
		struct attachment *a = &c->att[c->cur];
		ssize_t got;
		do
			got = read(a->fd, c->chunk, sizeof c->chunk);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return diag_set(d, EX_IOERR, "attachment '%s': %s", a->path, strerror(errno));
		char *o = pending_room(c, mime_b64_bound((size_t)got) + MIME_B64_FINISH_MAX);
		size_t k = got ? mime_b64_encode(&c->b64, c->chunk, (size_t)got, o) : 0;
		if (got == 0) {
			k += mime_b64_finish(&c->b64, o + k);
			c->phase = ++c->cur < c->natt ? PHASE_PART_HEAD : PHASE_CLOSE;
		}
		pending_done(c, k);
		return EX_OK;
	}
	case PHASE_CLOSE:
		buf_printf(&c->pending, "\r\n--%s--\r\n", c->boundary);
		c->phase = PHASE_DONE;
		return EX_OK;
	case PHASE_DONE:
		return EX_OK;
	}
	return EX_OK;
}

ssize_t composer_read(struct composer *c, char *buf, size_t n, struct diag *d)
{
	size_t out = 0;
	while (out < n) {
		if (c->pending_pos < c->pending.len) {
			size_t k = c->pending.len - c->pending_pos;
			if (k > n - out)
				k = n - out;
			memcpy(buf + out, c->pending.data + c->pending_pos, k);
			c->pending_pos += k;
			out += k;
			continue;
		}
		if (c->phase == PHASE_DONE)
			break;
		if (produce(c, d) != EX_OK)
			return -1;
	}
	return (ssize_t)out;
}

void composer_free(struct composer *c)
{
	if (!c)
		return;
	buf_free(&c->mem);
	buf_free(&c->pending);
	if (c->fd >= 0)
		close(c->fd);
	for (size_t i = 0; i < c->natt; i++) {
		close(c->att[i].fd);
		free(c->att[i].path);
		free(c->att[i].name);
		free(c->att[i].type);
	}
	free(c->att);
	free(c);
}
