/* SPDX-License-Identifier: ISC */
/* bs.h: sendmail -bs, smtpd's callbacks onto deliver.h: each message of the session goes through
 * the same engine and queue as a normal send. It never parses the command line nor speaks SMTP
 * itself (smtpd.c does). */
#ifndef POSTIE_BS_H
#define POSTIE_BS_H

#include "run.h"
#include "util.h"

/* Speaks SMTP on fds 0 and 1 for run r until QUIT, the end of input or a signal (cancel_fd: a
 * descriptor that becomes readable on one, or 0), then, when something was sent, delivers what
 * is due in the queue over the same connection. Returns smtpd_run's status, with d. */
int bs_serve(struct run *r, int cancel_fd, struct diag *d);

#endif
