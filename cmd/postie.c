/* SPDX-License-Identifier: ISC */
/* postie.c: the program's entry. Makes sure fds 0-2 are open, ignores SIGPIPE, parses the
 * command line, runs the mode and prints the one error line. All the work lives in src/. */
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "log.h"
#include "privenv.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sys/auxv.h>
/* Sanitizer builds only: LeakSanitizer cannot inspect a process the kernel made non-dumpable
 * (a setgid exec) and then fails the run with its own status 1; such a run is checked without
 * it, every other run with it. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return getauxval(AT_SECURE) ? "detect_leaks=0" : "print_suppressions=0";
}

/* libp11-kit's constructor (loaded with libcurl's TLS stack, before main) calls glibc's
 * newlocale, which leaks the search path it builds from $LOCPATH in __argz_add_sep: 25 bytes,
 * nothing of ours (postie calls no argz function). The tests of a locale that is not installed
 * need $LOCPATH. The fast unwinder stops inside glibc, so the frame named is glibc's own. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:__argz_add_sep\n";
}
#endif

/* A closed fd 0, 1 or 2 would be reused by the next open(): a config file read as stdin, or
 * the SMTP socket written to as stderr. */
static void open_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (null < 0)
			_exit(EX_OSERR);
		if (null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
}

int main(int argc, char **argv)
{
	/* First: a setgid postie must not let SSLKEYLOGFILE, OPENSSL_CONF, a proxy or a locale
	 * path reach setlocale, popt, libcurl or OpenSSL, which read them whenever they like.
	 * What the dynamic loader and the C library read before main is theirs to filter. */
	privenv_apply();
	open_standard_fds();
	signal(SIGPIPE, SIG_IGN);
	setlocale(LC_ALL, "");

	struct cli_opts opts;
	struct diag d = { 0 };
	int rc = cli_parse(argc, (const char *const *)argv, &opts, &d);
	if (rc == EX_OK) {
		switch (opts.mode) {
		case MODE_HELP:
			cli_print_help(stdout);
			break;
		case MODE_VERSION:
			rc = app_version(&d);
			break;
		case MODE_VERIFY:
			rc = app_verify(&opts, &d);
			break;
		case MODE_ALIASES:
			rc = app_aliases(&opts, &d);
			break;
		case MODE_SMTP:
			rc = app_smtp(&opts, &d);
			break;
		case MODE_SEND:
			rc = app_send(&opts, &d);
			break;
		case MODE_QUEUE_RUN:
			rc = app_queue_run(&opts, &d);
			break;
		case MODE_QUEUE_DELETE:
			rc = app_queue_delete(&opts, &d);
			break;
		case MODE_QUEUE_REQUEUE:
			rc = app_queue_requeue(&opts, &d);
			break;
		case MODE_QUEUE_LIST:
			rc = app_queue_list(&opts, &d);
			break;
		case MODE_SERVERINFO:
			rc = app_serverinfo(&opts, &d);
			break;
		case MODE_AUTHORIZE:
			rc = app_authorize(&opts, &d);
			break;
		}
	}
	if (rc != EX_OK) {
		log_status("%s", d.msg[0] ? d.msg : "failed");
		if (opts.error == CLI_ERROR_UNKNOWN_OPTION)
			fputs("Try 'postie --help' for the options.\n", stderr);
	}
	cli_free(&opts);
	if (fflush(stdout) != 0 && rc == EX_OK)
		rc = EX_IOERR;
	return rc;
}
