#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Which configuration file is read, what its lines may say, and the errors that name file:line.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
	message 'From: a@example.org\nSubject: x\n\nbody\n'
}

@test "-C names the file and wins over POSTIE_CONFIG" {
	printf 'relay smtp://127.0.0.1:%s\ndomain c-option.example\n' "$SMTP_PORT" >"$BATS_TEST_TMPDIR/c.conf"
	post 0 -C "$BATS_TEST_TMPDIR/c.conf" root
	assert_envelope "EHLO c-option.example" "MAIL FROM:<$(id -un)@c-option.example>" \
		"RCPT TO:<root@c-option.example>"
}

@test "the user's file under XDG_CONFIG_HOME is read when POSTIE_CONFIG is unset" {
	unset POSTIE_CONFIG
	mkdir -p "$XDG_CONFIG_HOME/postie"
	printf 'relay smtp://127.0.0.1:%s\ndomain xdg.example\n' "$SMTP_PORT" >"$XDG_CONFIG_HOME/postie/config"
	post 0 root
	assert_envelope "EHLO xdg.example" "MAIL FROM:<$(id -un)@xdg.example>" "RCPT TO:<root@xdg.example>"
}

@test "~/.config/postie/config is read when XDG_CONFIG_HOME is unset" {
	unset POSTIE_CONFIG XDG_CONFIG_HOME
	mkdir -p "$HOME/.config/postie"
	printf 'relay smtp://127.0.0.1:%s\ndomain home.example\n' "$SMTP_PORT" >"$HOME/.config/postie/config"
	post 0 root
	assert_envelope "EHLO home.example" "MAIL FROM:<$(id -un)@home.example>" "RCPT TO:<root@home.example>"
}

@test "comments, blank lines, spacing and quoted values are understood" {
	printf '# a comment\n\n   relay\t  smtp://127.0.0.1:%s  \nfrom "Sender Name <sender@example.org>"\ndomain example.net\n' \
		"$SMTP_PORT" >"$POSTIE_CONFIG"
	post 0 bob@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<sender@example.org>" "RCPT TO:<bob@example.org>"
}

@test "a missing -C file exits 78" {
	post 78 -C "$BATS_TEST_TMPDIR/nope.conf" bob@example.org
	assert_output "postie: $BATS_TEST_TMPDIR/nope.conf: no such file"
}

@test "an unknown key exits 78 naming file and line" {
	printf 'relay smtp://127.0.0.1:%s\n\nrelayy smtp://x\n' "$SMTP_PORT" >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:3: unknown key 'relayy'"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a relay that is not an smtp URL exits 78" {
	printf 'relay http://127.0.0.1:25\n' >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:1: relay 'http://127.0.0.1:25' is not smtp://host[:port] or smtps://host[:port]"
	printf 'relay smtp://host:99999\n' >"$POSTIE_CONFIG"
	post 78 bob@example.org
}

@test "a bad domain, timeout, quoting or empty value exits 78 with its line" {
	printf 'domain bad_domain!\n' >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:1: domain 'bad_domain!' is not a domain name"
	printf '\ntimeout soon\n' >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:2: timeout 'soon' is not a number of seconds (1-86400)"
	printf 'from "unterminated\n' >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:1: unterminated quoted value"
	printf 'from\n' >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:1: from needs a value"
}

@test "a config from that is not an address exits 78" {
	printf 'relay smtp://127.0.0.1:%s\nfrom "a b@c"\n' "$SMTP_PORT" >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:2: from 'a b@c': bad address syntax: unquoted space in the local part"
}

@test "a directory as the config file exits 78" {
	post 78 -C "$BATS_TEST_TMPDIR" bob@example.org
	assert_output "postie: $BATS_TEST_TMPDIR: not a regular file"
}

@test "the domain names the EHLO, the qualification and the Message-ID" {
	postie_config 'domain mail.example.com'
	message 'Subject: x\n\nbody\n'
	post 0 root
	assert_envelope "EHLO mail.example.com" "MAIL FROM:<$(id -un)@mail.example.com>" \
		"RCPT TO:<root@mail.example.com>"
	run received_header
	assert_line --regexp '^Message-ID: <.*@mail\.example\.com>$'
}

@test "max-recipients must be a number from 1 to 1000000" {
	printf 'relay smtp://127.0.0.1:%s\nmax-recipients 0\n' "$SMTP_PORT" >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:2: max-recipients '0' is not a number (1-1000000)"
	printf 'relay smtp://127.0.0.1:%s\nmax-recipients lots\n' "$SMTP_PORT" >"$POSTIE_CONFIG"
	post 78 bob@example.org
	assert_output "postie: $POSTIE_CONFIG:2: max-recipients 'lots' is not a number (1-1000000)"
}

@test "queue inside an account section is refused with its file and line, and nothing is sent" {
	postie_config 'account work' "queue $BATS_TEST_TMPDIR/work-queue"
	post 78 --account work root
	assert_output "postie: $POSTIE_CONFIG:7: queue is one directory for every account: set it outside account sections (account 'work')"
	[ "$(fixture_count)" -eq 0 ]
}
