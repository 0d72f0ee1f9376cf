#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The system configuration file: its precedence under the user's file and the command line,
# and the setgid path that lets a user who is not root send through a relay whose secrets that
# user cannot read. The system file's path is compiled in, so these tests lay a scratch one over
# it in a private mount namespace (root only: CI runs as root); the machine's own /etc and
# /usr/local/etc are never touched.

load helpers
load postie
load setgid

setup_file() { fixture_start --auth-user alice --auth-password 'sys s3cret'; }
teardown_file() { fixture_stop; }
teardown() { setgid_teardown; }
setup() {
	if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
		[ "${CI:-}" = true ] && { echo "CI must run as root with mount namespaces"; return 1; }
		skip "needs root and mount namespaces"
	fi
	fixture_reset
	postie_config
	SYSFILE=$("$POSTIE" --version | sed -n 's/^system config: //p')
	SYSDIR=$(dirname "$SYSFILE")
	SCRATCH=$BATS_TEST_TMPDIR/sysconf
	mkdir -p "$SCRATCH"
	# a system file in /etc itself (a package build): the scratch copy keeps the rest of /etc
	[ "$SYSDIR" != /etc ] || cp -a /etc/. "$SCRATCH/" 2>/dev/null || true
	rm -f "$SCRATCH/postie.conf"
	message 'Subject: system\n\nbody\n'
}

# Runs "$@" with $SCRATCH laid over the system config directory.
in_namespace() {
	mkdir -p "$SYSDIR" 2>/dev/null || true
	unshare -m bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ "$SCRATCH" "$SYSDIR" "$@"
}

@test "the system file alone configures postie" {
	printf 'relay smtp://127.0.0.1:%s\ndomain sys.example\nfrom system@example.org\nqueue %s\nsyslog no\n' \
		"$SMTP_PORT" "$BATS_TEST_TMPDIR/queue" >"$SCRATCH/postie.conf"
	unset POSTIE_CONFIG
	run -0 in_namespace "$POSTIE" b@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_envelope "EHLO sys.example" "MAIL FROM:<system@example.org>" "RCPT TO:<b@example.org>"
}

@test "the user's file wins key by key over the system file, and the command line over both" {
	printf 'relay smtp://127.0.0.1:%s\ndomain sys.example\nfrom system@example.org\nqueue %s\nsyslog no\n' \
		"$SMTP_PORT" "$BATS_TEST_TMPDIR/queue" >"$SCRATCH/postie.conf"
	unset POSTIE_CONFIG
	mkdir -p "$XDG_CONFIG_HOME/postie"
	printf 'from user@example.org\n' >"$XDG_CONFIG_HOME/postie/config"
	run -0 in_namespace "$POSTIE" b@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_envelope "EHLO sys.example" "MAIL FROM:<user@example.org>" "RCPT TO:<b@example.org>"
	run -0 in_namespace "$POSTIE" -f cli@example.org b@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_envelope -n 2 "EHLO sys.example" "MAIL FROM:<cli@example.org>" "RCPT TO:<b@example.org>"
	printf 'domain c.example\n' >"$BATS_TEST_TMPDIR/c.conf"
	run -0 in_namespace "$POSTIE" -C "$BATS_TEST_TMPDIR/c.conf" b@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_envelope -n 3 "EHLO c.example" "MAIL FROM:<system@example.org>" "RCPT TO:<b@example.org>"
}

@test "an error in the system file names it and its line" {
	printf 'relay smtp://127.0.0.1:%s\nbogus key\n' "$SMTP_PORT" >"$SCRATCH/postie.conf"
	unset POSTIE_CONFIG
	run -78 in_namespace "$POSTIE" b@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_output "postie: $SYSFILE:2: unknown key 'bogus'"
}

@test "setgid postie: a user who cannot read the system file sends through its account" {
	setgid_setup
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'user alice' \
		'password "sys s3cret"' 'syslog no'
	# a -C file only the group postie could read: it must be read without the privilege
	printf 'domain leaked.example\n' >"$WORLD/secret.conf"
	chgrp "$SETGID_GID" "$WORLD/secret.conf"
	chmod 640 "$WORLD/secret.conf"
	run as_nobody cat "$SYSDIR/postie.conf"
	assert_failure
	run as_nobody "$WORLD/postie" -f nobody@sys.example b@example.org <"$WORLD/msg"
	assert_success
	assert_output ''
	assert_envelope "EHLO sys.example" "AUTH alice" "MAIL FROM:<nobody@sys.example>" "RCPT TO:<b@example.org>"
	run as_nobody "$WORLD/postie" -C "$WORLD/secret.conf" b@example.org <"$WORLD/msg"
	assert_failure 78
	assert_output "postie: $WORLD/secret.conf: Permission denied"
	[ "$(fixture_count)" -eq 1 ]
}
