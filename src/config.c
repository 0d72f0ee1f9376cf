/* config.c: reads the configuration file (see config.h): `key value` lines and `#` comments,
 * values trimmed or double-quoted. Every error names file:line and is EX_CONFIG; it never
 * guesses at a key it does not know. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_BYTES (1024 * 1024)

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void set_string(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

/* smtp://host[:port] or smtps://host[:port], host a name, an IPv4 address or [IPv6]. */
static bool relay_url_ok(const char *url)
{
	const char *p;
	if (strncmp(url, "smtp://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "smtps://", 8) == 0)
		p = url + 8;
	else
		return false;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close || close == p + 1)
			return false;
		for (const char *q = p + 1; q < close; q++)
			if (!(*q == ':' || *q == '.' || (*q >= '0' && *q <= '9') ||
			      (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F')))
				return false;
		p = close + 1;
	} else {
		const char *host = p;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_')
			p++;
		if (p == host)
			return false;
	}
	if (*p == ':') {
		p++;
		long port = 0;
		const char *digits = p;
		while (*p >= '0' && *p <= '9' && port <= 65535)
			port = port * 10 + (*p++ - '0');
		if (p == digits || port < 1 || port > 65535)
			return false;
	}
	if (*p == '/')
		p++;
	return *p == '\0';
}

/* A domain for EHLO, Message-ID and qualification: labels of letters, digits and hyphens. */
static bool domain_ok(const char *s)
{
	size_t label = 0, total = 0;
	for (; *s; s++, total++) {
		char c = *s;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return total > 0 && total <= 253 && label > 0;
}

/* Splits one line into key and value in place. The value is the rest of the line, trimmed; in
 * double quotes it keeps spaces and '#', with \" and \\ as escapes. Returns NULL on success or
 * what is wrong. */
static const char *split_line(char *line, char **key, char **value)
{
	char *p = line;
	while (is_space(*p))
		p++;
	*key = p;
	while (*p && !is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (is_space(*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && is_space(end[-1]))
		*--end = '\0';
	if (*p != '"') {
		*value = p;
		return NULL;
	}
	char *out = p, *in = p + 1;
	*value = p;
	for (;; in++) {
		if (*in == '\0')
			return "unterminated quoted value";
		if (*in == '"')
			break;
		if (*in == '\\') {
			in++;
			if (*in != '"' && *in != '\\')
				return "only \\\" and \\\\ are escapes in a quoted value";
		}
		*out++ = *in;
	}
	if (in[1] != '\0')
		return "text after the closing quote";
	*out = '\0';
	return NULL;
}

static int apply_key(struct config *c, const char *name, size_t lineno, const char *key,
		     const char *value, struct diag *d)
{
	if (*value == '\0')
		return diag_set(d, EX_CONFIG, "%s:%zu: %s needs a value", name, lineno, key);
	if (strcmp(key, "relay") == 0) {
		if (!relay_url_ok(value))
			return diag_set(d, EX_CONFIG,
					"%s:%zu: relay '%s' is not smtp://host[:port] or smtps://host[:port]",
					name, lineno, value);
		set_string(&c->relay, value);
	} else if (strcmp(key, "from") == 0) {
		set_string(&c->from, value);
	} else if (strcmp(key, "domain") == 0) {
		if (!domain_ok(value))
			return diag_set(d, EX_CONFIG, "%s:%zu: domain '%s' is not a domain name",
					name, lineno, value);
		set_string(&c->domain, value);
	} else if (strcmp(key, "timeout") == 0) {
		char *end;
		errno = 0;
		long t = strtol(value, &end, 10);
		if (errno || *end || t < 1 || t > 86400)
			return diag_set(d, EX_CONFIG,
					"%s:%zu: timeout '%s' is not a number of seconds (1-86400)",
					name, lineno, value);
		c->timeout = t;
	} else {
		return diag_set(d, EX_CONFIG, "%s:%zu: unknown key '%s'", name, lineno, key);
	}
	return EX_OK;
}

static void set_defaults(struct config *c)
{
	if (!c->relay)
		c->relay = xstrdup(CONFIG_DEFAULT_RELAY);
	if (!c->timeout)
		c->timeout = CONFIG_DEFAULT_TIMEOUT;
}

int config_parse(struct config *c, const char *name, const char *text, size_t len, struct diag *d)
{
	size_t lineno = 0;
	const char *p = text, *end = text + len;
	int rc = EX_OK;
	while (p < end && rc == EX_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		lineno++;
		if (memchr(p, '\0', (size_t)(eol - p)))
			return diag_set(d, EX_CONFIG, "%s:%zu: NUL byte in line", name, lineno);
		char *line = xstrndup(p, (size_t)(eol - p));
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		char *key, *value;
		const char *why = split_line(line, &key, &value);
		if (why)
			rc = diag_set(d, EX_CONFIG, "%s:%zu: %s", name, lineno, why);
		else if (*key && *key != '#')
			rc = apply_key(c, name, lineno, key, value, d);
		free(line);
		p = nl ? nl + 1 : end;
	}
	return rc;
}

/* Reads a whole config file (bounded). Returns EX_OK, EX_CONFIG, or -1 when it does not exist. */
static int read_file(const char *path, struct buf *out, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return -1;
		return diag_set(d, EX_CONFIG, "%s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return diag_set(d, EX_CONFIG, "%s: not a regular file", path);
	}
	char chunk[8192];
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			close(fd);
			return diag_set(d, EX_CONFIG, "%s: %s", path, strerror(e));
		}
		if (got == 0)
			break;
		if (out->len + (size_t)got > CONFIG_MAX_BYTES) {
			close(fd);
			return diag_set(d, EX_CONFIG, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
		}
		buf_append(out, chunk, (size_t)got);
	}
	close(fd);
	return EX_OK;
}

static char *user_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/postie/config", xdg);
	const char *home = getenv("HOME");
	if (home && *home)
		return xasprintf("%s/.config/postie/config", home);
	return NULL;
}

int config_load(struct config *c, const char *cli_path, struct diag *d)
{
	memset(c, 0, sizeof *c);
	const char *env = getenv("POSTIE_CONFIG");
	char *candidates[3] = {0};
	bool required = false;
	if (cli_path) {
		candidates[0] = xstrdup(cli_path);
		required = true;
	} else if (env && *env) {
		candidates[0] = xstrdup(env);
		required = true;
	} else {
		candidates[0] = user_config_path();
		candidates[1] = xstrdup(SYSCONFDIR "/postie.conf");
	}
	int rc = EX_OK;
	struct buf text = {0};
	for (size_t i = 0; i < 3 && rc == EX_OK; i++) {
		if (!candidates[i])
			continue;
		buf_reset(&text);
		int got = read_file(candidates[i], &text, d);
		if (got == -1) {
			if (required)
				rc = diag_set(d, EX_CONFIG, "%s: no such file", candidates[i]);
			continue;
		}
		if (got != EX_OK) {
			rc = got;
			break;
		}
		c->path = xstrdup(candidates[i]);
		rc = config_parse(c, candidates[i], text.data ? text.data : "", text.len, d);
		break;
	}
	buf_free(&text);
	for (size_t i = 0; i < 3; i++)
		free(candidates[i]);
	set_defaults(c);
	return rc;
}

void config_free(struct config *c)
{
	free(c->path);
	free(c->relay);
	free(c->from);
	free(c->domain);
	memset(c, 0, sizeof *c);
}
