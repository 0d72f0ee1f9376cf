/* SPDX-License-Identifier: ISC */
/* aliases.c: parses an aliases(5) file and expands local names (see aliases.h). Targets are
 * parsed by address.h; a command, file or :include: target is dropped with a warning here and
 * can never reach a caller. */
#include "aliases.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "strset.h"

#define ALIASES_MAX_BYTES (4 * 1024 * 1024)

struct alias {
	char *name;		/* as written; compared case-insensitively */
	size_t line;
	struct strlist targets;	/* canonical addr-specs or bare names, in file order */
};

struct aliases {
	char *file;
	struct alias *v;	/* sorted by name */
	size_t n;
	const struct alias *catch_all;	/* default:, or NULL */
};

/* Where each line of an entry starts in its joined text, to name the line of an error. */
struct line_map {
	size_t *offset;
	size_t *line;
	size_t n;
};

/* An entry being read: its name, and its targets' text with continuation lines joined. */
struct pending {
	char *name;
	size_t line;
	struct buf text;
	struct line_map map;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void map_add(struct line_map *m, size_t offset, size_t line)
{
	m->offset = xreallocarray(m->offset, m->n + 1, sizeof *m->offset);
	m->line = xreallocarray(m->line, m->n + 1, sizeof *m->line);
	m->offset[m->n] = offset;
	m->line[m->n++] = line;
}

static size_t map_line(const struct line_map *m, size_t offset)
{
	size_t line = m->n ? m->line[0] : 0;
	for (size_t i = 0; i < m->n && m->offset[i] <= offset; i++)
		line = m->line[i];
	return line;
}

static void pending_clear(struct pending *p)
{
	free(p->name);
	buf_free(&p->text);
	free(p->map.offset);
	free(p->map.line);
	memset(p, 0, sizeof *p);
}

/* atext (RFC 5322 3.2.3) and '.': what a local part may hold without quotes. */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

/* The end of the list element that starts at p: the next comma outside quotes, comments and
 * angle brackets, or end. */
static const char *element_end(const char *p, const char *end)
{
	int comment = 0;
	bool quoted = false, angle = false;
	for (; p < end; p++) {
		char c = *p;
		if (quoted || comment) {
			if (c == '\\' && p + 1 < end)
				p++;
			else if (quoted && c == '"')
				quoted = false;
			else if (comment && c == '(')
				comment++;
			else if (comment && c == ')')
				comment--;
			continue;
		}
		if (c == '"')
			quoted = true;
		else if (c == '(')
			comment = 1;
		else if (c == '<')
			angle = true;
		else if (c == '>')
			angle = false;
		else if (c == ',' && !angle)
			return p;
	}
	return end;
}

/* Why a target must not be used, or NULL. */
static const char *refusal(const char *s, size_t n)
{
	const char *p = s;
	if (n > 0 && *p == '"')
		p++, n--;
	if (n > 0 && *p == '|')
		return "postie never runs commands";
	if (n > 0 && *p == '/')
		return "postie never writes to files";
	if (n >= 9 && ascii_ncasecmp(p, ":include:", 9) == 0)
		return "postie does not read :include: lists";
	return NULL;
}

static void warn_refused(struct strlist *warnings, const char *file, size_t line,
			 const char *name, const char *target, size_t n, const char *why)
{
	char shown[96];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 4 < sizeof shown; i++)
		shown[k++] = ((unsigned char)target[i] < 0x20 || target[i] == 0x7f) ? '?' : target[i];
	if (k < n)
		memcpy(shown + k, "...", 3), k += 3;
	shown[k] = '\0';
	char *w = xasprintf("%s:%zu: alias '%s': target '%s' refused: %s", file, line, name, shown,
			    why);
	strlist_add(warnings, w);
	free(w);
}

/* Turns a pending entry into an alias (targets parsed and checked). */
static int finish_entry(struct aliases *a, struct pending *p, struct strlist *warnings,
			struct diag *d)
{
	struct alias al = { .name = p->name, .line = p->line };
	const char *text = p->text.data ? p->text.data : "";
	const char *end = text + p->text.len;
	bool refused = false;
	int rc = EX_OK;
	p->name = NULL;
	for (const char *s = text; s < end && rc == EX_OK;) {
		const char *e = element_end(s, end);
		const char *b = s, *t = e;
		while (b < t && is_blank(*b))
			b++;
		while (t > b && is_blank(t[-1]))
			t--;
		size_t line = map_line(&p->map, (size_t)(b - text));
		const char *why = refusal(b, (size_t)(t - b));
		if (why) {
			warn_refused(warnings, a->file, line, al.name, b, (size_t)(t - b), why);
			refused = true;
		}
		const char *pos = b;
		struct mailbox mb;
		struct diag syntax = {0};
		int got;
		while (!why && rc == EX_OK && (got = addr_next(&pos, t, &mb, &syntax)) != 0) {
			if (got < 0) {
				rc = diag_set(d, EX_CONFIG, "%s:%zu: alias '%s': %s", a->file, line,
					      al.name, syntax.msg);
				break;
			}
			char *q = addr_qualify(mb.addr, "localhost");
			const char *inner = refusal(mb.addr, strlen(mb.addr));
			if (inner && addr_is_bare(mb.addr)) {
				warn_refused(warnings, a->file, line, al.name, mb.addr,
					     strlen(mb.addr), inner);
				refused = true;
			} else if (!*mb.addr) {
				rc = diag_set(d, EX_CONFIG, "%s:%zu: alias '%s': the null address <> "
					      "is not a target", a->file, line, al.name);
			} else if (addr_check_envelope(q, &syntax) != EX_OK) {
				rc = diag_set(d, EX_CONFIG, "%s:%zu: alias '%s': %s", a->file, line,
					      al.name, syntax.msg);
			} else {
				strlist_add(&al.targets, mb.addr);
			}
			free(q);
			mailbox_clear(&mb);
		}
		s = e < end ? e + 1 : end;
	}
	if (rc == EX_OK && al.targets.n == 0 && !refused)
		rc = diag_set(d, EX_CONFIG, "%s:%zu: alias '%s' has no target", a->file, al.line,
			      al.name);
	if (rc != EX_OK) {
		free(al.name);
		strlist_free(&al.targets);
		return rc;
	}
	/* An entry whose every target was refused is kept (for the duplicate check) but never
	 * matches: the name stays an ordinary local name. */
	a->v = xreallocarray(a->v, a->n + 1, sizeof *a->v);
	a->v[a->n++] = al;
	return EX_OK;
}

/* Starts an entry from a line that does not begin with white space. */
static int start_entry(struct aliases *a, struct pending *p, const char *line, size_t lineno,
		       struct diag *d)
{
	const char *colon = strchr(line, ':');
	if (!colon)
		return diag_set(d, EX_CONFIG, "%s:%zu: no ':' after the alias name", a->file,
				lineno);
	const char *b = line, *e = colon;
	while (e > b && is_blank(e[-1]))
		e--;
	bool ok = e > b && (size_t)(e - b) <= 64;
	for (const char *q = b; q < e && ok; q++)
		ok = name_char(*q);
	if (!ok)
		return diag_set(d, EX_CONFIG, "%s:%zu: '%.*s' is not an alias name", a->file, lineno,
				(int)((size_t)(e - b) > 64 ? 64 : (size_t)(e - b)), b);
	p->name = xstrndup(b, (size_t)(e - b));
	p->line = lineno;
	map_add(&p->map, 0, lineno);
	buf_puts(&p->text, colon + 1);
	return EX_OK;
}

static int by_name(const void *x, const void *y)
{
	const struct alias *a = x, *b = y;
	int c = ascii_casecmp(a->name, b->name);
	return c ? c : (a->line > b->line) - (a->line < b->line);
}

void aliases_free(struct aliases *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		strlist_free(&a->v[i].targets);
	}
	free(a->v);
	free(a->file);
	free(a);
}

int aliases_parse(struct aliases **out, const char *name, const char *text, size_t len,
		  struct strlist *warnings, struct diag *d)
{
	struct aliases *a = xcalloc(1, sizeof *a);
	struct pending p = {0};
	a->file = xstrdup(name);
	*out = NULL;
	int rc = EX_OK;
	size_t lineno = 0;
	const char *s = text, *end = text + len;
	while (s < end && rc == EX_OK) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		lineno++;
		if (memchr(s, '\0', (size_t)(eol - s))) {
			rc = diag_set(d, EX_CONFIG, "%s:%zu: NUL byte in line", a->file, lineno);
			break;
		}
		char *line = xstrndup(s, (size_t)(eol - s));
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		const char *first = line + strspn(line, " \t");
		if (*first == '\0' || *first == '#') {
			/* blank or comment */
		} else if (is_blank(line[0])) {
			if (!p.name) {
				rc = diag_set(d, EX_CONFIG, "%s:%zu: a continuation line without an "
					      "alias before it", a->file, lineno);
			} else {
				buf_putc(&p.text, ' ');
				map_add(&p.map, p.text.len, lineno);
				buf_puts(&p.text, line);
			}
		} else {
			if (p.name)
				rc = finish_entry(a, &p, warnings, d);
			pending_clear(&p);
			if (rc == EX_OK)
				rc = start_entry(a, &p, line, lineno, d);
		}
		free(line);
		s = nl ? nl + 1 : end;
	}
	if (rc == EX_OK && p.name)
		rc = finish_entry(a, &p, warnings, d);
	pending_clear(&p);

	if (rc == EX_OK && a->n > 1) {
		qsort(a->v, a->n, sizeof *a->v, by_name);
		for (size_t i = 1; i < a->n && rc == EX_OK; i++)
			if (ascii_casecmp(a->v[i - 1].name, a->v[i].name) == 0)
				rc = diag_set(d, EX_CONFIG, "%s:%zu: alias '%s' given twice (first at "
					      "line %zu)", a->file, a->v[i].line, a->v[i].name,
					      a->v[i - 1].line);
	}
	if (rc != EX_OK) {
		aliases_free(a);
		return rc;
	}
	for (size_t i = 0; i < a->n; i++)
		if (ascii_casecmp(a->v[i].name, "default") == 0 && a->v[i].targets.n)
			a->catch_all = &a->v[i];
	*out = a;
	return EX_OK;
}

int aliases_load(struct aliases **out, const char *path, struct strlist *warnings,
		 struct diag *d)
{
	*out = NULL;
	struct buf text = {0};
	int rc = read_small_file(path, ALIASES_MAX_BYTES, false, &text, NULL, d);
	if (rc == EX_OK)
		rc = aliases_parse(out, path, text.data ? text.data : "", text.len, warnings, d);
	buf_free(&text);
	return rc;
}

size_t aliases_count(const struct aliases *a)
{
	size_t n = 0;
	for (size_t i = 0; a && i < a->n; i++)
		n += a->v[i].targets.n > 0;
	return n;
}


char *aliases_local_name(const char *addr, const char *const *local_domains, size_t nlocal)
{
	if (addr_is_bare(addr))
		return xstrdup(addr);
	const char *at = addr_domain_at(addr);
	if (!at || at == addr)
		return NULL;
	for (size_t i = 0; i < nlocal; i++)
		if (ascii_casecmp(at + 1, local_domains[i]) == 0)
			return xstrndup(addr, (size_t)(at - addr));
	return NULL;
}

static const struct alias *lookup(const struct aliases *a, const char *name)
{
	if (!a)
		return NULL;
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ascii_casecmp(name, a->v[mid].name);
		if (c == 0)
			return a->v[mid].targets.n ? &a->v[mid] : NULL;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct expansion {
	const struct aliases *a;
	const char *const *locals;
	size_t nlocal;
	struct strlist *out;
	struct strset seen;		/* what out holds, to keep each recipient once */
	bool *done;			/* per entry: already expanded in this call */
	size_t path[ALIASES_MAX_DEPTH];	/* the entries being expanded, outermost first */
	size_t depth;
	struct diag *d;
};

/* Appends s unless out holds it already (strset_same: bare names case-insensitively, addresses
 * by addr_dedup_key); the set makes that check cost the same for the 150,000th target as for
 * the first, where a scan of out made a large alias quadratic. */
static void emit(struct expansion *x, const char *s)
{
	if (strset_add(&x->seen, s))
		strlist_add(x->out, s);
}

static int expand_addr(struct expansion *x, const char *addr, bool top);

static int expand_name(struct expansion *x, const char *name, bool top)
{
	const struct alias *al = lookup(x->a, name);
	if (!al && top && x->a)
		al = x->a->catch_all;
	if (!al) {
		emit(x, name);
		return EX_OK;
	}
	size_t idx = (size_t)(al - x->a->v);
	for (size_t i = 0; i < x->depth; i++)
		if (x->path[i] == idx) {
			emit(x, name);
			return EX_OK;
		}
	if (x->done[idx])
		return EX_OK;
	if (x->depth == ALIASES_MAX_DEPTH)
		return diag_set(x->d, EX_CONFIG, "%s: alias '%s' nests deeper than %d levels",
				x->a->file, al->name, ALIASES_MAX_DEPTH);
	x->path[x->depth++] = idx;
	int rc = EX_OK;
	for (size_t i = 0; i < al->targets.n && rc == EX_OK; i++)
		rc = expand_addr(x, al->targets.v[i], false);
	x->depth--;
	x->done[idx] = true;
	return rc;
}

static int expand_addr(struct expansion *x, const char *addr, bool top)
{
	char *name = aliases_local_name(addr, x->locals, x->nlocal);
	if (!name) {
		emit(x, addr);
		return EX_OK;
	}
	int rc = expand_name(x, name, top);
	free(name);
	return rc;
}

int aliases_expand(const struct aliases *a, const char *addr, const char *const *local_domains,
		   size_t nlocal, struct strlist *out, struct diag *d)
{
	struct expansion x = {
		.a = a, .locals = local_domains, .nlocal = nlocal, .out = out, .d = d,
		.done = a ? xcalloc(a->n + 1, sizeof *x.done) : NULL,
	};
	for (size_t i = 0; i < out->n; i++)
		strset_add(&x.seen, out->v[i]);
	int rc = expand_addr(&x, addr, true);
	strset_free(&x.seen);
	free(x.done);
	return rc;
}
