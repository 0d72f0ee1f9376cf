/* SPDX-License-Identifier: ISC */
/* config_env.c: the environment as an input of the configuration (config.h, struct config_env):
 * the host's name, the caller's login and full name, the locale's charset, the default queue.
 * It reads and never writes: no file, no decision of what is sent or where. */
#include "config.h"

#include <langinfo.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "user.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* The host's fully qualified name, or its plain name when the resolver knows no better. */
static char *host_fqdn(void)
{
	char host[256] = "localhost";
	if (gethostname(host, sizeof host - 1) < 0 || !*host)
		strcpy(host, "localhost");
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME }, *res = NULL;
	char *name = NULL;
	if (!strchr(host, '.') && getaddrinfo(host, NULL, &hints, &res) == 0 && res &&
	    res->ai_canonname && strchr(res->ai_canonname, '.'))
		name = xstrdup(res->ai_canonname);
	if (res)
		freeaddrinfo(res);
	return name ? name : xstrdup(host);
}

/* What names composed text that is not UTF-8: the charset of the locale (LC_CTYPE, which main
 * took from the environment), where such text most likely comes from, unless that is UTF-8
 * (the text is then not what it claims) or ASCII (which has no 8-bit characters): then
 * unknown-8bit (RFC 1428). A name that is not a plain MIME token counts as unknown too. */
static const char *legacy_charset(void)
{
	const char *set = nl_langinfo(CODESET);
	if (!set || !*set || strlen(set) > 40)
		return "unknown-8bit";
	char squashed[48];
	size_t n = 0;
	for (const char *c = set; *c; c++) {
		bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			  (*c >= '0' && *c <= '9') || strchr("._:+-", *c);
		if (!ok)
			return "unknown-8bit";
		if (*c != '-' && *c != '_')
			squashed[n++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	}
	squashed[n] = '\0';
	static const char *const not_legacy[] = { "UTF8", "ANSIX3.41968", "USASCII", "ASCII",
						   "646", "ISO646US" };
	for (size_t i = 0; i < sizeof not_legacy / sizeof *not_legacy; i++)
		if (strcmp(squashed, not_legacy[i]) == 0)
			return "unknown-8bit";
	return set;
}

/* A host name fit for a Received field: letters, digits, '-' and '.', else "localhost". */
static char *trace_host(const char *fqdn)
{
	bool ok = fqdn && *fqdn;
	for (const char *c = fqdn; ok && *c; c++)
		ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		     (*c >= '0' && *c <= '9') || *c == '-' || *c == '.';
	return xstrdup(ok ? fqdn : "localhost");
}

/* root's queue is the system's; another user's is under their state directory. */
static char *default_queue_dir(void)
{
	if (geteuid() == 0)
		return xstrdup(LOCALSTATEDIR "/spool/postie");
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/postie/queue", xdg);
	char *home = user_home_dir();
	char *dir = xasprintf("%s/.local/state/postie/queue", home ? home : "");	/* no home: /.local/... */
	free(home);
	return dir;
}

void config_env_load(struct config_env *e, const struct account *a)
{
	memset(e, 0, sizeof *e);
	/* one resolver lookup at most: with no DNS it may take the resolver's whole timeout */
	char *fqdn = !a->domain || !a->local_domains_set || a->received ? host_fqdn() : NULL;
	e->domain = xstrdup(a->domain ? a->domain : fqdn);
	e->login = user_login(getuid(), true);
	e->full_name = user_full_name(getuid(), getenv("NAME"));
	/* copied: the next nl_langinfo call may overwrite its buffer */
	snprintf(e->legacy_charset, sizeof e->legacy_charset, "%s", legacy_charset());
	if (a->received)
		e->received_host = trace_host(fqdn);
	e->queue_dir = a->queue ? xstrdup(a->queue) : default_queue_dir();
	for (size_t i = 0; i < a->nlocal_domains; i++)
		strlist_add(&e->local_domains, a->local_domains[i]);
	if (!a->local_domains_set) {
		/* localhost, the host name and its FQDN */
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) == 0 && *host)
			strlist_add(&e->local_domains, host);
		if (strcmp(fqdn, host) != 0)
			strlist_add(&e->local_domains, fqdn);
	}
	free(fqdn);
}

void config_env_free(struct config_env *e)
{
	free(e->domain);
	free(e->login);
	free(e->full_name);
	free(e->received_host);
	free(e->queue_dir);
	strlist_free(&e->local_domains);
	memset(e, 0, sizeof *e);
}
