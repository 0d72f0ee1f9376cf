#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Relay accounts: AUTH with a password (quoted, with # = and spaces), a password-command, a
# netrc file or an OAuth2 token; the secret never in argv, the environment or the transcript;
# accounts picked by name or by sender; failover to the next relay.

load helpers
load postie

PASSWORD='p@ss #w=rd "q" \x'

setup_file() {
	fixture_start --auth-user alice --auth-password "$PASSWORD" --auth-token tok-3n-xyz
}
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	message 'From: a@example.org\nSubject: auth\n\nbody\n'
	relay="smtp://127.0.0.1:$SMTP_PORT"
	Q=$BATS_TEST_TMPDIR/queue
}

# The config's quoted form of $PASSWORD.
# shellcheck disable=SC2001 # sed's & puts a backslash before each match; ${var//} does so only from bash 5.2
quoted_password() { printf '"%s"' "$(sed 's/[\\"]/\\&/g' <<<"$PASSWORD")"; }

@test "AUTH PLAIN with a password holding spaces, # = and quotes, given in double quotes" {
	postie_config 'user alice' "password $(quoted_password)"
	chmod 600 "$POSTIE_CONFIG"
	post 0 -f a@example.org b@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	fixture_session_log 1 | grep -q '^C: AUTH PLAIN'
}

@test "auth LOGIN insists on that mechanism" {
	postie_config 'user alice' "password $(quoted_password)" 'auth LOGIN'
	chmod 600 "$POSTIE_CONFIG"
	post 0 -f a@example.org b@example.org
	fixture_session_log 1 | grep -q '^C: AUTH LOGIN'
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
}

@test "a wrong password exits 77 with the server's text and keeps the message in the queue" {
	postie_config 'user alice' 'password wrong'
	chmod 600 "$POSTIE_CONFIG"
	post 77 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay refused authentication: 535 5\.7\.8 .*; queued as [0-9a-f-]+, delivered by 'postie -q' once fixed$"
	[ "$(fixture_count)" -eq 0 ] && [ "$(ls "$Q/q" | grep -c '\.env$')" -eq 1 ]
}

@test "a 535 kept in the queue stays queued through postie -q, and goes once the password is fixed" {
	postie_config 'user alice' 'password wrong'
	chmod 600 "$POSTIE_CONFIG"
	post 77 -f a@example.org b@example.org
	id=$(sed -n 's/.*queued as \([0-9a-f-]*\).*/\1/p' <<<"$output")
	POSTIE_NOW=$(($(date +%s) + 3600)) run -0 postie -q
	assert_output ''
	[ -e "$Q/q/$id.env" ]
	[ -z "$(ls -A "$Q/failed" 2>/dev/null)" ]
	[ "$(fixture_count)" -eq 0 ]
	grep -q "^last-error $relay refused authentication: 535 5\.7\.8 " "$Q/q/$id.env"
	postie_config 'user alice' "password $(quoted_password)"
	chmod 600 "$POSTIE_CONFIG"
	POSTIE_NOW=$(($(date +%s) + 7200)) run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
	[ ! -e "$Q/q/$id.env" ]
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
}

@test "the transcript of -v redacts the AUTH exchange" {
	postie_config 'user alice' "password $(quoted_password)" 'auth LOGIN'
	chmod 600 "$POSTIE_CONFIG"
	post 0 -v -f a@example.org b@example.org
	assert_line '--> AUTH LOGIN'
	run grep -c -- '^--> <redacted>$' <<<"$output"
	assert_output 2
	b64=$(printf '%s' "$PASSWORD" | base64)
	post 0 -v -f a@example.org b@example.org
	refute_output --partial "$b64"
	refute_output --partial 'p@ss'
	refute_output --partial "$(printf 'alice' | base64)"
}

@test "password-command: its first line is the secret; it runs without a shell" {
	printf '#!/bin/sh\nprintf "%%s\\n%%s\\n" "$1" ignored\n' >"$BATS_TEST_TMPDIR/secret.sh"
	chmod 700 "$BATS_TEST_TMPDIR/secret.sh"
	postie_config 'user alice' "password-command $BATS_TEST_TMPDIR/secret.sh $(quoted_password)"
	post 0 -f a@example.org b@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
}

@test "a failing password-command exits 78 with its stderr, and the message is queued" {
	printf '#!/bin/sh\necho "vault is sealed" >&2\nexit 3\n' >"$BATS_TEST_TMPDIR/fail.sh"
	chmod 700 "$BATS_TEST_TMPDIR/fail.sh"
	postie_config 'user alice' "password-command $BATS_TEST_TMPDIR/fail.sh"
	post 78 -f a@example.org b@example.org
	assert_output --regexp "^postie: password-command '$BATS_TEST_TMPDIR/fail\.sh': .*vault is sealed.*; queued as [0-9a-f-]+, delivered by 'postie -q' once fixed$"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a failing password-command in postie -q keeps every entry queued, says so once, runs once" {
	printf '#!/bin/sh\necho run >>"%s/runs"\necho "vault is sealed" >&2\nexit 3\n' "$BATS_TEST_TMPDIR" \
		>"$BATS_TEST_TMPDIR/fail.sh"
	chmod 700 "$BATS_TEST_TMPDIR/fail.sh"
	postie_config 'user alice' "password-command $BATS_TEST_TMPDIR/fail.sh"
	post 78 -f a@example.org b@example.org
	post 78 -f a@example.org c@example.org
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 2 ]
	rm "$BATS_TEST_TMPDIR/runs"
	POSTIE_NOW=$(($(date +%s) + 3600)) run -0 --separate-stderr postie -q
	[[ $stderr =~ ^postie:\ password-command\ \'$BATS_TEST_TMPDIR/fail\.sh\':\ .*vault\ is\ sealed.*\;\ its\ queue\ entries\ stay\ queued$ ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 1 ]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 2 ]
	[ -z "$(ls -A "$Q/failed" 2>/dev/null)" ]
	[ "$(fixture_count)" -eq 0 ]
	run -0 postie -bp
	assert_line --regexp '^ +b@example\.org$'
	assert_line --regexp '^ +c@example\.org$'
}

@test "the secret is in neither argv nor the environment of postie, nor POSTIE_* in the command's" {
	printf '#!/bin/sh\nenv >"%s/child-env"\nprintf "%%s\\n" "$(cat "%s/pw")"\n' \
		"$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/secret.sh"
	printf '%s' "$PASSWORD" >"$BATS_TEST_TMPDIR/pw"
	chmod 700 "$BATS_TEST_TMPDIR/secret.sh"
	postie_config 'user alice' "password-command $BATS_TEST_TMPDIR/secret.sh"
	fixture_fault delay mail 2
	POSTIE_SOMETHING=x "$POSTIE" -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg" &
	pid=$!
	for _ in $(seq 30); do [ -s "$BATS_TEST_TMPDIR/child-env" ] && break; sleep 0.1; done
	sleep 0.3
	tr '\0' '\n' <"/proc/$pid/cmdline" >"$BATS_TEST_TMPDIR/cmdline"
	tr '\0' '\n' <"/proc/$pid/environ" >"$BATS_TEST_TMPDIR/environ"
	wait "$pid"
	run -1 grep -qF 'p@ss' "$BATS_TEST_TMPDIR/cmdline"
	run -1 grep -qF 'p@ss' "$BATS_TEST_TMPDIR/environ"
	run -1 grep -q '^POSTIE_' "$BATS_TEST_TMPDIR/child-env"
	[ "$(fixture_count)" -eq 1 ]
}

@test "netrc gives user and password for the relay's host" {
	printf 'machine 127.0.0.1\nlogin alice\npassword %s\n' "p@ss#w=rd" >"$BATS_TEST_TMPDIR/netrc"
	chmod 600 "$BATS_TEST_TMPDIR/netrc"
	# a second server, for this test only (netrc cannot hold the suite's password)
	fixture_start --auth-user alice --auth-password 'p@ss#w=rd'
	postie_config "netrc $BATS_TEST_TMPDIR/netrc"
	post 0 -f a@example.org b@example.org
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	fixture_stop
}

@test "oauth2: the password-command's output is an XOAUTH2 bearer token the server checks" {
	printf '#!/bin/sh\necho tok-3n-xyz\n' >"$BATS_TEST_TMPDIR/token.sh"
	chmod 700 "$BATS_TEST_TMPDIR/token.sh"
	postie_config 'user alice' 'oauth2 yes' 'auth XOAUTH2' "password-command $BATS_TEST_TMPDIR/token.sh"
	post 0 -f a@example.org b@example.org
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	fixture_session_log 1 | grep -q '^C: AUTH XOAUTH2'
	# the server answers a bad token with an error challenge; libcurl gives up there
	printf '#!/bin/sh\necho wrong-token\n' >"$BATS_TEST_TMPDIR/token.sh"
	post 77 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay: authentication failed \(Login denied\); queued as [0-9a-f-]+, delivered by 'postie -q' once fixed$"
}

@test "a config file that holds a password and others can read is refused, naming the fix" {
	postie_config 'user alice' "password $(quoted_password)"
	chmod 644 "$POSTIE_CONFIG"
	post 78 -f a@example.org b@example.org
	assert_output "postie: $POSTIE_CONFIG: holds a password and can be read by others than its owner (chmod 600 $POSTIE_CONFIG)"
	[ ! -e "$SMTP_DIR/sessions/1.wire" ]
}

@test "tls off with a user is refused unless the relay is loopback" {
	POSTIE_RELAY=smtp://192.0.2.1:25 postie_config 'user alice' 'password x' 'tls off'
	chmod 600 "$POSTIE_CONFIG"
	post 78 -f a@example.org b@example.org
	assert_output --regexp "^postie: $POSTIE_CONFIG:[0-9]+: .*only when every relay is loopback"
}

@test "tls required against a server without STARTTLS: 78, queued, nothing sent" {
	postie_config 'tls required'
	post 78 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay: offers no STARTTLS and tls is required \(.*\); queued as "
	[ "$(fixture_count)" -eq 0 ]
}

@test "--account picks an account; an unknown one exits 78" {
	postie_config 'from top@example.org' 'account work' 'from work@example.org' 'user alice' \
		"password $(quoted_password)"
	chmod 600 "$POSTIE_CONFIG"
	post 0 --account work b@example.org
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<work@example.org>" "RCPT TO:<b@example.org>"
	post 0 b@example.org
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<top@example.org>" "RCPT TO:<b@example.org>"
	post 78 --account nope b@example.org
	assert_output --regexp "^postie: no account 'nope' in "
}

@test "the account whose from is -f's address is picked" {
	postie_config 'account other' 'from other@example.org' 'account work' 'from Work <work@example.org>' \
		'user alice' "password $(quoted_password)"
	chmod 600 "$POSTIE_CONFIG"
	post 0 -f work@EXAMPLE.org b@example.org
	assert_envelope "EHLO example.net" "AUTH alice" "MAIL FROM:<work@EXAMPLE.org>" "RCPT TO:<b@example.org>"
}

@test "several relay lines: one that cannot be reached is passed over for the next" {
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	POSTIE_RELAY=smtp://127.0.0.1:$port postie_config "relay $relay"
	post 0 -f a@example.org b@example.org
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
}

@test "a relay that answers 421 before MAIL is passed over for the next" {
	fixture_fault greeting '421 4.3.2 busy'
	fixture_fault times 1
	POSTIE_RELAY=$relay postie_config "relay smtp://localhost:$SMTP_PORT"
	post 0 -f a@example.org b@example.org
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
}
