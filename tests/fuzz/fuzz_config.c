/* SPDX-License-Identifier: ISC */
/* fuzz_config.c: libFuzzer target for the configuration: any bytes, read as one or two files
 * (split at the first "\n--\n" line), give EX_OK or EX_CONFIG with a message, and an accepted
 * configuration gives sane settings for every account, by name and by sender. The password
 * command is split, never run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct account *a)
{
	if (!a || !a->relay || a->nrelay == 0 || !a->local_domains || a->nlocal_domains == 0 ||
	    a->timeout < 1 || a->queue_lifetime < 1)
		abort();
	for (size_t i = 0; i < a->nrelay; i++)
		if (strncmp(a->relay[i], "smtp", 4) != 0)
			abort();
	if (a->tls == TLS_OFF && a->user && a->relay[0][4] == 's')
		abort();
	if (a->password) {
		char *pw = NULL;
		struct diag d = {0};
		if (config_password(a, &pw, &d) != EX_OK || !pw || strcmp(pw, a->password) != 0)
			abort();
		config_secret_free(pw);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *sep = size >= 4 ? memmem(text, size, "\n--\n", 4) : NULL;
	size_t first = sep ? (size_t)(sep - text) + 1 : size;
	struct config c = {0};
	struct diag d = {0};
	int rc = config_parse(&c, "fuzz1", text, first, &d);
	if (rc == EX_OK && sep)
		rc = config_parse(&c, "fuzz2", sep + 4, size - first - 3, &d);
	if (rc == EX_OK)
		rc = config_finish(&c, &d);
	if (rc != EX_OK && (rc != EX_CONFIG || !d.msg[0]))
		abort();
	if (rc == EX_OK) {
		check(config_pick(&c, NULL, NULL, &d));
		struct strlist names = {0};
		config_account_names(&c, &names);
		for (size_t i = 0; i < names.n; i++) {
			const struct account *a = config_pick(&c, names.v[i], NULL, &d);
			check(a);
			if (strcmp(a->name, names.v[i]) != 0)
				abort();
			check(config_pick(&c, NULL, names.v[i], &d));
			if (a->from)
				check(config_pick(&c, NULL, a->from, &d));
		}
		if (config_pick(&c, "no such account name", NULL, &d) != NULL || d.code != EX_CONFIG)
			abort();
		strlist_free(&names);
	}
	config_free(&c);

	/* The word splitter and the duration reader on the same bytes. */
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct strlist argv = {0};
	rc = config_split_command(s, &argv, &d);
	if ((rc == EX_OK) != (argv.n > 0))
		abort();
	strlist_free(&argv);
	long seconds = 0;
	if (config_duration(s, &seconds) && (seconds < 1 || seconds > 366L * 86400))
		abort();
	free(s);
	return 0;
}
