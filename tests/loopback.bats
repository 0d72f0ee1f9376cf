#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# What counts as a loopback relay, seen on the wire: a password goes without TLS only to
# localhost, 127.0.0.0/8 or ::1, never to a name that merely begins like one. The names resolve
# to the fixture (127.0.0.1) through an /etc/hosts laid over the real one in a private mount
# namespace, so these tests need root and unshare -m (a failure under CI=true, else a skip).

load helpers
load postie

PASSWORD=s3cret

setup_file() { fixture_start --auth-user alice --auth-password "$PASSWORD"; }
teardown_file() { fixture_stop; }
setup() {
	if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
		[ "${CI:-}" = true ] && { echo "CI must run as root with mount namespaces"; return 1; }
		skip "needs root and mount namespaces"
	fi
	fixture_reset
	message 'From: a@example.org\nSubject: loopback\n\nbody\n'
	Q=$BATS_TEST_TMPDIR/queue
	# localhost. too: the files backend of glibc does not strip the root's dot
	printf '127.0.0.1 %s\n' localhost localhost. 127.example.net localhost.mail.example.com \
		localhost2.localhost 127.0.0.1.example.com >"$BATS_TEST_TMPDIR/hosts"
}

# Runs postie "$@" on the message with $BATS_TEST_TMPDIR/hosts as /etc/hosts.
post_resolved() {
	local status=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	run "-$status" unshare -m bash -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' _ \
		"$BATS_TEST_TMPDIR/hosts" "$POSTIE" "$@" <"$BATS_TEST_TMPDIR/msg"
}

# refuses_clear_auth HOST [CONFIG LINES...]: with tls opportunistic, a user and a password, a
# relay smtp://HOST:port whose server offers no STARTTLS gets a session (EHLO) but no AUTH, and
# no message; postie exits 78 naming the rule, and keeps the message in the queue.
refuses_clear_auth() {
	local host=$1
	shift
	POSTIE_RELAY=smtp://$host:$SMTP_PORT postie_config 'tls opportunistic' "$@"
	chmod 600 "$POSTIE_CONFIG"
	post_resolved 78 -f a@example.org b@example.org
	assert_output --regexp "^postie: smtp://$host:$SMTP_PORT: offers no STARTTLS, and a password goes without TLS only to a loopback relay \(.*\); queued as [0-9a-f-]+, delivered by 'postie -q' once fixed$"
	grep -q '^C: EHLO example.net' "$SMTP_DIR/sessions/1.log"
	run ! grep -q '^C: AUTH' "$SMTP_DIR/sessions/1.log"
	run ! grep -a -q 'AUTH' "$(fixture_wire_file 1)"
	[ "$(fixture_count)" -eq 0 ]
	run -0 grep -c '\.env$' < <(ls "$Q/q")
	assert_output 1
}

@test "no password in clear text to 127.example.net, a name that begins with 127." {
	refuses_clear_auth 127.example.net 'user alice' "password \"$PASSWORD\""
}

@test "no password in clear text to localhost.mail.example.com, a name that begins with localhost" {
	refuses_clear_auth localhost.mail.example.com 'user alice' "password \"$PASSWORD\""
}

@test "no password in clear text to localhost2.localhost" {
	refuses_clear_auth localhost2.localhost 'user alice' "password \"$PASSWORD\""
}

@test "no password in clear text to 127.0.0.1.example.com, a name that begins with an address" {
	refuses_clear_auth 127.0.0.1.example.com 'user alice' "password \"$PASSWORD\""
}

@test "no password from a netrc file in clear text to localhost2.localhost" {
	printf 'machine localhost2.localhost\nlogin alice\npassword s3cret\n' >"$BATS_TEST_TMPDIR/netrc"
	chmod 600 "$BATS_TEST_TMPDIR/netrc"
	refuses_clear_auth localhost2.localhost "netrc $BATS_TEST_TMPDIR/netrc"
}

@test "a password still goes without TLS to 127.0.0.1 and to localhost" {
	for host in 127.0.0.1 localhost; do
		fixture_reset
		POSTIE_RELAY=smtp://$host:$SMTP_PORT postie_config 'tls opportunistic' 'user alice' \
			"password \"$PASSWORD\""
		chmod 600 "$POSTIE_CONFIG"
		post_resolved 0 -f a@example.org b@example.org
		assert_output ''
		grep -q '^C: AUTH PLAIN' "$SMTP_DIR/sessions/1.log"
		assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	done
}

@test "a password goes without TLS to LOCALHOST and localhost. when tls is not set" {
	for host in LOCALHOST localhost.; do
		fixture_reset
		POSTIE_RELAY=smtp://$host:$SMTP_PORT postie_config 'user alice' "password \"$PASSWORD\""
		chmod 600 "$POSTIE_CONFIG"
		post_resolved 0 -f a@example.org b@example.org
		assert_output ''
		assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	done
}
