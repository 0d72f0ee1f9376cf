#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# TLS to the relay: STARTTLS checked against tls-ca-file, an untrusted certificate refused, the
# verification switch that warns, implicit TLS, and what --serverinfo shows.

load helpers
load postie

setup_file() {
	export CA=$BATS_FILE_TMPDIR/ca
	make_test_ca "$CA"
	fixture_start --starttls --tls-cert "$CA/server.pem" --tls-key "$CA/server.key"
}
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	message 'From: a@example.org\nSubject: tls\n\nbody\n'
	relay="smtp://127.0.0.1:$SMTP_PORT"
}

@test "STARTTLS with a certificate trusted through tls-ca-file" {
	postie_config 'tls required' "tls-ca-file $CA/ca.pem"
	post 0 -f a@example.org b@example.org
	assert_output ''
	fixture_session_log 1 | grep -q '^C: STARTTLS'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
}

@test "a certificate nobody trusts is refused: 78, queued, nothing sent" {
	postie_config 'tls required'
	post 78 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay: TLS certificate not trusted \(.*\); queued as [0-9a-f-]+, delivered by 'postie -q' once fixed$"
	[ "$(fixture_count)" -eq 0 ]
}

@test "tls-verify no sends anyway and warns on every use" {
	postie_config 'tls required' 'tls-verify no'
	post 0 -f a@example.org b@example.org
	assert_output "postie: warning: tls-verify is off: the certificate of $relay is not checked"
	[ "$(fixture_count)" -eq 1 ]
}

@test "tls opportunistic upgrades when offered" {
	postie_config 'tls opportunistic' "tls-ca-file $CA/ca.pem"
	post 0 -f a@example.org b@example.org
	fixture_session_log 1 | grep -q '^C: STARTTLS'
}

@test "tls off stays plain on a loopback relay" {
	postie_config 'tls off'
	post 0 -f a@example.org b@example.org
	run -1 grep -q '^C: STARTTLS' "$SMTP_DIR/sessions/1.log"
	[ "$(fixture_count)" -eq 1 ]
}

@test "--serverinfo shows greeting, capabilities, TLS protocol, cipher and certificate" {
	postie_config 'tls required' "tls-ca-file $CA/ca.pem"
	run -0 postie --serverinfo
	assert_line "relay: $relay"
	assert_line --regexp '^greeting: 220 '
	assert_line 'capabilities:'
	assert_line '  8BITMIME'
	assert_line --regexp '^tls: TLSv1\.[23] / [A-Z0-9_-]+$'
	assert_line --regexp '^  Subject:.*CN ?= ?server'
	assert_line --regexp '^  Issuer:.*postie test CA'
	assert_line --regexp '^  Expire date:'
	[ "$(fixture_count)" -eq 0 ]
}

@test "--serverinfo with an untrusted certificate exits 78" {
	postie_config 'tls required'
	run -78 postie --serverinfo
	assert_line --regexp "^postie: $relay: TLS certificate not trusted"
}

@test "implicit TLS with smtps://" {
	# a second server, for this test only
	fixture_start --implicit-tls --tls-cert "$CA/server.pem" --tls-key "$CA/server.key"
	POSTIE_RELAY=smtps://127.0.0.1:$SMTP_PORT postie_config "tls-ca-file $CA/ca.pem"
	post 0 -f a@example.org b@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	run -0 postie --serverinfo
	assert_line --regexp '^tls: TLSv1\.[23] / '
	fixture_stop
}
