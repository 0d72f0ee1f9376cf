/* SPDX-License-Identifier: ISC */
/* pickup.h: root's side of the system queue: each entry of the maildrop completed with the system
 * configuration, as Postfix's pickup and cleanup do, and committed to root's queue. It never
 * sends; it trusts nothing of an entry but its message, its recipients and its owner's uid. */
#ifndef POSTIE_PICKUP_H
#define POSTIE_PICKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "aliases.h"
#include "config.h"
#include "queue.h"
#include "util.h"

/* What completing an entry takes from root's run; every pointer is borrowed for the call. */
struct pickup_params {
	const char *maildrop;		/* the drop directory (MAILDROP_DIR) */
	const char *refused;		/* where refused entries go (MAILDROP_REFUSED_DIR) */
	unsigned long long max_bytes;	/* an entry's bound */
	struct queue *queue;		/* root's queue */
	const struct config *cfg;	/* the account is picked by the sender, as a send does */
	const char *domain;		/* qualification, when the account sets none */
	const char *received_host;	/* the host a Received field names (where the
					 * entry's account keeps received on), or NULL */
	const struct aliases *aliases;
	const char *const *local_domains;
	size_t nlocal_domains;
	time_t now;
};

/* Moves every complete entry of the maildrop into the queue, oldest first. An entry another run
 * holds is left to it. Each refused entry (see maildrop_open) and each one that cannot be
 * completed (a bad address, a header over its bound) gets a line in *refused and is removed or
 * moved aside, never queued; each queued one a line in *picked ("NAME: queued as ID from uid N
 * (name)"). Returns EX_OK; or, when an entry could not be committed (the disk is full), the
 * last such error with d (its errno text), the entry staying in the maildrop for the next run. */
int pickup_run(const struct pickup_params *p, struct strlist *picked, struct strlist *refused,
	       struct diag *d);

#endif
