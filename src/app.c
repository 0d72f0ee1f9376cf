/* app.c: the modes (see app.h). Data flows one way: options and configuration -> message ->
 * envelope -> submission. Nothing here parses mail or speaks SMTP. */
#include "app.h"

#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "message.h"
#include "submit.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
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

static char *login_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name)
		return xstrdup(pw->pw_name);
	const char *env = getenv("LOGNAME");
	if (!env || !*env)
		env = getenv("USER");
	return xstrdup(env && *env ? env : "nobody");
}

static ssize_t read_message(void *ctx, char *buf, size_t n, struct diag *d)
{
	return message_read(ctx, buf, n, d);
}

int app_send(const struct cli_opts *o, struct diag *d)
{
	struct config cfg;
	struct message *msg = NULL;
	struct submitter *sub = NULL;
	FILE *transcript = NULL;
	char *domain = NULL, *login = NULL;
	int rc = config_load(&cfg, o->config_file, d);
	if (rc != EX_OK)
		goto out;

	if (o->transcript_file) {
		transcript = fopen(o->transcript_file, "ae");
		if (!transcript) {
			rc = diag_set(d, EX_CANTCREAT, "%s: %s", o->transcript_file, strerror(errno));
			goto out;
		}
	}
	log_set_transcript(o->verbose, transcript);

	domain = cfg.domain ? xstrdup(cfg.domain) : host_fqdn();
	login = login_name();
	struct message_opts mo = {
		.extract = o->extract,
		.ignore_dots = o->ignore_dots,
		.compose = o->compose,
		.subject = o->subject,
		.full_name = o->full_name,
		.sender_given = o->sender_given,
		.sender = o->sender,
		.default_from = cfg.from,
		.login = login,
		.domain = domain,
		.operands = &o->operands,
		.to = &o->to,
		.cc = &o->cc,
		.bcc = &o->bcc,
	};
	rc = message_open(&msg, &mo, 0, d);
	if (rc != EX_OK)
		goto out;

	rc = submit_global_init(d);
	if (rc != EX_OK)
		goto out;
	struct submit_params sp = { .url = cfg.relay, .helo = domain, .timeout = cfg.timeout };
	sub = submitter_new(&sp);
	const struct envelope *env = message_envelope(msg);
	rc = submitter_send(sub, env->sender, env->rcpt, env->nrcpt, read_message, msg, d);
	submitter_free(sub);
	submit_global_cleanup();
out:
	log_set_transcript(false, NULL);
	if (transcript)
		fclose(transcript);
	message_free(msg);
	config_free(&cfg);
	free(domain);
	free(login);
	return rc;
}

int app_version(struct diag *d)
{
	struct buf lib = {0};
	submit_library_version(&lib);
	printf("postie %s\n%s\n"
	       "system config: %s/postie.conf\n"
	       "user config:   $XDG_CONFIG_HOME/postie/config (~/.config/postie/config)\n",
	       PACKAGE_VERSION, lib.data, SYSCONFDIR);
	buf_free(&lib);
	return EX_OK;
}
