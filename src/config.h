/* config.h: the configuration file -> one read-only struct config. Which file is read, and what
 * a key means, lives here; nothing else parses configuration. It never opens network connections. */
#ifndef POSTIE_CONFIG_H
#define POSTIE_CONFIG_H

#include "util.h"

#define CONFIG_DEFAULT_RELAY "smtp://localhost:25"
#define CONFIG_DEFAULT_TIMEOUT 60

struct config {
	char *path;	/* the file read, or NULL when none was found */
	char *relay;	/* URL, "smtp://host[:port]" or "smtps://host[:port]" */
	char *from;	/* default envelope sender, or NULL */
	char *domain;	/* qualification, EHLO and Message-ID domain, or NULL (the host's FQDN) */
	long timeout;	/* seconds for connecting and for each server reply */
};

/* Fills c from the first file found of: cli_path (-C), $POSTIE_CONFIG, the user's file
 * ($XDG_CONFIG_HOME/postie/config, else ~/.config/postie/config), SYSCONFDIR/postie.conf.
 * A file named by -C or $POSTIE_CONFIG must exist; the others are optional.
 * Returns EX_OK, or EX_CONFIG with d saying "file:line: what is wrong". c is always safe to
 * config_free afterwards. */
int config_load(struct config *c, const char *cli_path, struct diag *d);

/* Parses the text of one file (for tests and fuzzing); name is used in messages. */
int config_parse(struct config *c, const char *name, const char *text, size_t len, struct diag *d);

void config_free(struct config *c);

#endif
