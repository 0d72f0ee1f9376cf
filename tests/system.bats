#!/usr/bin/env bats
# The system configuration file: its precedence under the user's file and the command line,
# and the setgid path that lets a user who is not root send through a relay whose secrets that
# user cannot read. The system file's path is compiled in, so these tests lay a scratch one over
# it in a private mount namespace (root only: CI runs as root); the machine's own /etc and
# /usr/local/etc are never touched.

load helpers
load postie

GID=4242	# the group postie, in the namespace's own /etc/group

setup_file() { fixture_start --auth-user alice --auth-password 'sys s3cret'; }
teardown_file() { fixture_stop; }
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
	user=nobody
	skip_unless_sysconfdir_reachable "$(id -u nobody)" "$(id -g nogroup)"
	# the namespace's /etc/group knows the group postie
	cp /etc/group "$BATS_TEST_TMPDIR/group"
	printf 'postie:x:%s:\n' "$GID" >>"$BATS_TEST_TMPDIR/group"
	# a copy of postie, setgid postie, where nobody can run it
	world=$(mktemp -d /tmp/postie-setgid.XXXXXX)
	chmod 755 "$world"
	cp "$POSTIE" "$world/postie"
	chgrp "$GID" "$world/postie"
	chmod 2755 "$world/postie"
	mkdir -m 777 "$world/state" "$world/home"
	cp "$BATS_TEST_TMPDIR/msg" "$world/msg" && chmod 644 "$world/msg"
	printf 'relay smtp://127.0.0.1:%s\ndomain sys.example\nuser alice\npassword "sys s3cret"\nsyslog no\n' \
		"$SMTP_PORT" >"$SCRATCH/postie.conf"
	chgrp "$GID" "$SCRATCH/postie.conf"
	chmod 640 "$SCRATCH/postie.conf"
	chmod 755 "$SCRATCH" "$BATS_TEST_TMPDIR"
	# a -C file only the group postie could read: it must be read without the privilege
	printf 'domain leaked.example\n' >"$world/secret.conf"
	chgrp "$GID" "$world/secret.conf" && chmod 640 "$world/secret.conf"

	as_nobody() {
		unshare -m bash -c 'mount --bind "$2" "$3" && mount --bind "$1" /etc/group && shift 3 && exec "$@"' _ \
			"$BATS_TEST_TMPDIR/group" "$SCRATCH" "$SYSDIR" \
			setpriv --reuid="$user" --regid=nogroup --clear-groups \
			env -i PATH=/usr/bin:/bin HOME="$world/home" XDG_STATE_HOME="$world/state" "$@"
	}
	run as_nobody cat "$SYSDIR/postie.conf"
	assert_failure
	run as_nobody "$world/postie" -f nobody@sys.example b@example.org <"$world/msg"
	assert_success
	assert_output ''
	assert_envelope "EHLO sys.example" "AUTH alice" "MAIL FROM:<nobody@sys.example>" "RCPT TO:<b@example.org>"
	run as_nobody "$world/postie" -C "$world/secret.conf" b@example.org <"$world/msg"
	assert_failure 78
	assert_output "postie: $world/secret.conf: Permission denied"
	[ "$(fixture_count)" -eq 1 ]
	rm -rf "$world"
}
