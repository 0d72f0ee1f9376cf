/* SPDX-License-Identifier: ISC */
/* config_value.c: what one value of postie.conf may be (URLs, loopback, domains, durations, words)
 * and the messages saying it is not. Pure: no layer, no file; no value of a hidden file shown. */
#include "config_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user.h"

/* "file:line: " + the message, EX_CONFIG. */
int config_bad(struct diag *d, const struct origin *at, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return diag_set(d, EX_CONFIG, "%s:%zu: %s", at->file, at->line, what);
}

/* "file:line: KEY 'VALUE' WHAT", EX_CONFIG; from a file the real user cannot read, the value is
 * left out, so that a protected file cannot be read back through its error messages. */
int config_bad_value(struct diag *d, const struct origin *at, const char *key, const char *value,
		     const char *what)
{
	if (at->hidden)
		return config_bad(d, at, "%s %s (the value is not shown)", key, what);
	return config_bad(d, at, "%s '%.200s' %s", key, value, what);
}

bool config_has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

/* An absolute path, or ~/path (~ alone too) with the home directory put in. */
int config_path_value(const struct origin *at, const char *key, const char *value, char **out,
		      struct diag *d)
{
	if (*value == '/') {
		*out = xstrdup(value);
		return EX_OK;
	}
	if (value[0] == '~' && (value[1] == '/' || value[1] == '\0')) {
		char *home = user_home_dir();
		if (!home)
			return config_bad_value(d, at, key, value,
						"has no home directory to put in for ~");
		*out = xasprintf("%s%s", home, value + 1);
		free(home);
		return EX_OK;
	}
	return config_bad_value(d, at, key, value, "is not an absolute path or ~/path");
}

int config_yes_no(const struct origin *at, const char *key, const char *value, long *out,
		  struct diag *d)
{
	if (strcmp(value, "yes") == 0)
		*out = 1;
	else if (strcmp(value, "no") == 0)
		*out = 0;
	else
		return config_bad_value(d, at, key, value, "is not yes or no");
	return EX_OK;
}

/* smtp://host[:port] or smtps://host[:port], host a name, an IPv4 address or [IPv6]. On
 * success [*host, *host_end) is the host (without brackets). */
bool config_relay_url_ok(const char *url, const char **host, const char **host_end)
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
		*host = p + 1;
		*host_end = close;
		p = close + 1;
	} else {
		*host = p;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_')
			p++;
		if (p == *host)
			return false;
		*host_end = p;
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

/* The host is parsed out of the URL (relay_url_ok: scheme, host, port; no user@), then compared
 * whole: a prefix ("127.", "localhost") would let 127.example.net or localhost2.localhost in. */
bool config_relay_is_loopback(const char *url)
{
	const char *h, *e;
	if (!config_relay_url_ok(url, &h, &e))
		return false;
	char host[256];
	size_t n = (size_t)(e - h);
	if (n >= sizeof host)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	if (ascii_casecmp(host, "localhost") == 0 || ascii_casecmp(host, "localhost.") == 0)
		return true;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* A domain for EHLO, Message-ID and qualification: labels of letters, digits and hyphens. */
bool config_domain_ok(const char *s, size_t len)
{
	size_t label = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
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
	return label > 0;
}

/* RFC 4422 3.1: 1-20 of upper-case letters, digits, '-' and '_' (any case accepted here). */
bool config_sasl_mech_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n >= 1 && n <= 20;
}

bool config_account_name_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '@' || c == '+'))
			return false;
	}
	return n >= 1 && n <= 64;
}

bool config_duration(const char *text, long *seconds)
{
	const char *p = text;
	long n = 0;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n > 366L * 86400)
			return false;
	}
	long unit = 1;
	switch (*p) {
	case '\0': break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	default: return false;
	}
	if (*p != '\0' || n < 1 || n > 366L * 86400 / unit)
		return false;
	*seconds = n * unit;
	return true;
}

/* Decimal digits only, from 1 to max; sets *out (untouched on failure). */
bool config_bounded_number(const char *text, long max, long *out)
{
	long n = 0;
	for (const char *q = text; *q; q++) {
		if (*q < '0' || *q > '9' || n > max)
			return false;
		n = n * 10 + (*q - '0');
	}
	if (n < 1 || n > max)
		return false;
	*out = n;
	return true;
}

/* --- password-command words ----------------------------------------------------------------- */

int config_split_command(const char *cmd, struct strlist *argv, struct diag *d)
{
	struct buf word = {0};
	bool in_word = false;
	int rc = EX_OK;
	const char *p = cmd;
	size_t before = argv->n;
	for (;;) {
		char c = *p;
		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (in_word)
				strlist_add(argv, word.data ? word.data : "");
			buf_reset(&word);
			in_word = false;
			if (c == '\0')
				break;
			p++;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *close = strchr(p + 1, '\'');
			if (!close) {
				rc = diag_set(d, EX_CONFIG, "unterminated single quote");
				goto out;
			}
			buf_append(&word, p + 1, (size_t)(close - p - 1));
			p = close + 1;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0') {
					rc = diag_set(d, EX_CONFIG, "unterminated double quote");
					goto out;
				}
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' ||
						   p[1] == '`'))
					p++;
				buf_putc(&word, *p);
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0') {
				rc = diag_set(d, EX_CONFIG, "a backslash at the end");
				goto out;
			}
			buf_putc(&word, p[1]);
			p += 2;
		} else if (strchr("|;&<>()`", c)) {
			rc = diag_set(d, EX_CONFIG,
				      "unquoted '%c': the command runs without a shell (quote it, or "
				      "run sh -c '...')", c);
			goto out;
		} else {
			buf_putc(&word, c);
			p++;
		}
	}
	if (argv->n == before)
		rc = diag_set(d, EX_CONFIG, "no command");
out:
	while (rc != EX_OK && argv->n > before)
		free(argv->v[--argv->n]);
	if (word.data)
		explicit_bzero(word.data, word.cap);
	buf_free(&word);
	return rc;
}
