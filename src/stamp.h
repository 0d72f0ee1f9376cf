/* SPDX-License-Identifier: ISC */
/* stamp.h: the fields postie writes itself (From, Date, Message-ID, the Resent- block's
 * missing fields, Received), as message.c asks for them. It never reads input. */
#ifndef POSTIE_STAMP_H
#define POSTIE_STAMP_H

#include <stdbool.h>
#include <stddef.h>

#include "header.h"
#include "message.h"

/* Formats a Message-ID ("<20261128174810.12345.a1b2c3d4e5f6@domain>") into a new string. */
char *stamp_message_id(const char *domain);

/* Appends a From field for sender (the login at the domain when sender is empty), with the
 * user's name from o as its phrase when there is one. */
void stamp_append_from(struct header *h, const struct message_opts *o, const char *sender);

/* Appends Date (want_date) and Message-ID (want_id) for domain; with only_missing, each only
 * when the header has none. */
void stamp_append_date_and_id(struct header *h, const char *domain, bool only_missing,
			      bool want_date, bool want_id);

/* Completes the Resent- block at fields first..last with what RFC 5322 3.6.6 asks of every
 * block and it lacks: Resent-Date and Resent-From (required), Resent-Message-ID (recommended),
 * put at the block's end so that the block stays together. */
void stamp_complete_resent(struct header *h, size_t first, size_t last,
			   const struct message_opts *o, const char *sender);

/* Prepends the Received field of a local submission when o names a host for it. */
void stamp_prepend_received(struct header *h, const struct message_opts *o);

#endif
