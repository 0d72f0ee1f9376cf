/* SPDX-License-Identifier: ISC */
/* pickup.c: the maildrop into root's queue (see pickup.h). An entry goes through the same
 * message_open as a direct send of its user would, with the system configuration and the user's
 * login name from the uid; nothing here speaks SMTP or decides when an entry is sent. */
#include "pickup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "log.h"
#include "maildrop.h"
#include "message.h"
#include "user.h"

/* Completes one locked entry and commits it to the queue. Returns EX_OK with *id; EX_DATAERR
 * when the entry cannot be a message (d says why: it is refused); another status when the
 * queue could not take it (d with errno: it stays). */
static int pick_one(const struct pickup_params *p, struct maildrop_item *it, char **id,
		    char **login_out, struct diag *d)
{
	const struct maildrop_entry *e = maildrop_item_entry(it);
	char *login = user_login(e->uid, false);
	*login_out = login;
	/* the account a send by that user would take: the one whose from is the sender */
	struct mailbox mb = {0};
	struct diag ignored;
	const char *by = NULL;
	if (e->sender_given && addr_parse_one(e->sender, &mb, &ignored) == EX_OK && *mb.addr)
		by = mb.addr;
	const struct account *a = config_pick(p->cfg, NULL, by, &ignored);
	mailbox_clear(&mb);
	if (!a)
		a = config_pick(p->cfg, NULL, NULL, d);
	if (!a)
		return EX_SOFTWARE;
	/* the name of the uid the file's owner proves; the caller's $NAME came as full_name */
	char *gecos = user_full_name(e->uid, NULL);
	struct message_opts mo = {
		.extract = e->extract,
		.ignore_dots = e->ignore_dots,
		.full_name = e->full_name ? e->full_name : gecos,
		.received_host = a->received ? p->received_host : NULL,
		.uid = (unsigned long)e->uid,
		.sender_given = e->sender_given,
		.sender = e->sender,
		.default_from = a->from,
		.login = login,
		.domain = a->domain ? a->domain : p->domain,
		.operands = &e->rcpts,
		.aliases = p->aliases,
		.local_domains = p->local_domains,
		.nlocal_domains = p->nlocal_domains,
		.rewrite_headers = a->rewrite_headers,
	};
	struct message *msg = NULL;
	int rc = message_open_stream(&msg, &mo, maildrop_item_read, it, d);
	if (rc != EX_OK) {
		message_free(msg);
		free(gecos);
		return rc == EX_IOERR ? diag_set(d, EX_DATAERR, "%s", d->msg) : EX_DATAERR;
	}
	const struct envelope *env = message_envelope(msg);
	struct spool *s = NULL;
	rc = spool_create(p->queue, p->now, &s, d);
	char chunk[65536];
	while (rc == EX_OK) {
		struct diag why = {0};
		ssize_t got = message_read(msg, chunk, sizeof chunk, &why);
		if (got < 0) {
			/* the entry's own bytes failed (over its bound): refused, not retried */
			rc = diag_set(d, EX_DATAERR, "%s", why.msg);
			break;
		}
		if (got == 0)
			break;
		rc = spool_write(s, chunk, (size_t)got, d);
	}
	if (rc == EX_OK) {
		struct queue_meta m = {0};
		m.sender = xstrdup(env->sender);
		for (size_t i = 0; i < env->nrcpt; i++)
			strlist_add(&m.rcpts, env->rcpt[i]);
		m.relay = xstrdup(a->relay[0]);
		m.account = a->name ? xstrdup(a->name) : NULL;
		m.created = p->now;
		m.next_attempt = p->now;
		m.expires = p->now + a->queue_lifetime;
		rc = spool_commit(s, &m, false, d);
		s = NULL;
		if (rc == EX_OK) {
			*id = xstrdup(m.id);
			char *reply = xasprintf("picked up from the system queue, uid %lu (%s)",
						(unsigned long)e->uid, login);
			log_delivery(m.id, m.sender, m.rcpts.n, m.size, m.relay, "queued", reply);
			free(reply);
		}
		queue_meta_free(&m);
	}
	spool_discard(s);
	message_free(msg);
	free(gecos);
	return rc;
}

int pickup_run(const struct pickup_params *p, struct strlist *picked, struct strlist *refused,
	       struct diag *d)
{
	struct strlist names = {0}, stale = {0};
	int rc = maildrop_list(p->maildrop, p->now, &names, &stale, d);
	for (size_t i = 0; i < stale.n; i++) {
		char *line = xasprintf("system queue %s/%s: removed, a writer's temporary file that "
				       "no writer holds", p->maildrop, stale.v[i]);
		strlist_add(refused, line);
		free(line);
	}
	int last_error = EX_OK;
	for (size_t i = 0; rc == EX_OK && i < names.n; i++) {
		struct maildrop_item *it = NULL;
		struct diag why = {0};
		int orc = maildrop_open(p->maildrop, names.v[i], p->refused, p->max_bytes, &it, &why);
		if (orc == EX_TEMPFAIL)
			continue;	/* another run has it, or took it */
		if (orc != EX_OK) {
			char *line = xasprintf("system queue entry %s, not sent", why.msg);
			strlist_add(refused, line);
			free(line);
			continue;
		}
		char *id = NULL, *login = NULL;
		int prc = pick_one(p, it, &id, &login, &why);
		const struct maildrop_entry *e = maildrop_item_entry(it);
		if (prc == EX_OK) {
			struct diag gone = {0};
			/* a crash before this removal queues the message a second time: the one
			 * entry in flight, as with a killed queue run */
			if (maildrop_item_remove(it, &gone) != EX_OK) {
				char *line = xasprintf("system queue entry %s (queued as %s)", gone.msg, id);
				strlist_add(refused, line);
				free(line);
			}
			char *line = xasprintf("system queue entry %s: queued as %s, from uid %lu (%s)",
					       names.v[i], id, (unsigned long)e->uid, login);
			strlist_add(picked, line);
			free(line);
		} else if (prc == EX_DATAERR || prc == EX_USAGE || prc == EX_NOUSER || prc == EX_CONFIG) {
			/* the entry can never make a message: set aside, never sent */
			char *uidtext = xasprintf("from uid %lu (%s): %s", (unsigned long)e->uid, login,
						  why.msg);
			diag_set(&why, EX_DATAERR, "%s", uidtext);
			free(uidtext);
			maildrop_item_refuse(it, &why);
			char *line = xasprintf("system queue entry %s, not sent", why.msg);
			strlist_add(refused, line);
			free(line);
		} else {
			/* root's queue could not take it (a full disk): it stays for the next run,
			 * and the run says so with the errno */
			last_error = diag_set(d, prc, "system queue entry %s: not picked up (%s); it stays "
					      "in %s", names.v[i], why.msg, p->maildrop);
		}
		free(id);
		free(login);
		maildrop_item_close(it);
	}
	strlist_free(&names);
	strlist_free(&stale);
	return rc != EX_OK ? rc : last_error;
}
