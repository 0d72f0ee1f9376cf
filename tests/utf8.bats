#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# UTF-8 envelope addresses (RFC 6531): they go out only to a relay that offers SMTPUTF8, with
# SMTPUTF8 on MAIL FROM; elsewhere such a recipient is refused with 5.6.7 and kept in failed/,
# as Postfix refuses it, and an IDN domain goes out as an A-label wherever it can.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 3'
	Q=$BATS_TEST_TMPDIR/queue
	relay="smtp://127.0.0.1:$SMTP_PORT"
	message 'From: a@example.org\nSubject: u\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <u@x>\n\nbody\n'
	EXPECTED='From: a@example.org\r\nSubject: u\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <u@x>\r\n\r\nbody\r\n'
	NO_UTF8='5.6.7 SMTPUTF8 is required, but was not offered by the relay'
	export LC_ALL=C.UTF-8
}

queued() { ls "$Q/q" 2>/dev/null | sed -n 's/\.env$//p'; }
failed() { ls "$Q/failed" 2>/dev/null | sed -n 's/\.env$//p'; }
env_of() { cat "$Q/${2:-q}/$1.env"; }
# The commands of connection N (default 1), one a line.
commands() { sed -n 's/^C: //p' "$SMTP_DIR/sessions/${1:-1}.log"; }

@test "a UTF-8 local part to a relay without SMTPUTF8: refused with 5.6.7, never sent, the others get it, failed/ keeps it, exit 67" {
	fixture_fault ehlo_without SMTPUTF8
	post 67 -f a@example.org bob@example.org 'jöran@example.org' carol@example.org
	assert_line --index 0 "postie: $relay cannot take <jöran@example.org>: $NO_UTF8"
	assert_line --index 1 --regexp "^postie: saved as $Q/failed/[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\.msg$"
	[ "${#lines[@]}" -eq 2 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<bob@example.org>" "RCPT TO:<carol@example.org>"
	assert_data "$EXPECTED"
	run grep -c 'jöran' "$SMTP_DIR/sessions/1.wire"
	assert_output 0
	[ "$(queued)" = "" ]
	[ "$(failed | wc -l)" -eq 1 ]
	run env_of "$(failed)" failed
	assert_line 'rcpt <jöran@example.org>'
	refute_line 'rcpt <bob@example.org>'
	assert_line "last-error $relay cannot take <jöran@example.org>: $NO_UTF8"
	assert_file_bytes "$Q/failed/$(failed).msg" "$EXPECTED"
}

@test "only UTF-8 local parts and no SMTPUTF8: no MAIL FROM at all, failed/ keeps it for both, exit 67" {
	fixture_fault ehlo_without SMTPUTF8
	post 67 -f a@example.org 'jöran@example.org' 'åsa@example.org'
	assert_line --index 0 "postie: $relay cannot take <jöran@example.org>: $NO_UTF8"
	assert_line --index 1 "postie: $relay cannot take <åsa@example.org>: $NO_UTF8"
	assert_line --index 2 --regexp "^postie: saved as $Q/failed/[0-9a-f-]+\.msg$"
	[ "${#lines[@]}" -eq 3 ]
	[ "$(fixture_count)" -eq 0 ]
	run commands
	assert_output $'EHLO example.net\nNOOP\nQUIT'
	run env_of "$(failed)" failed
	assert_line 'rcpt <jöran@example.org>'
	assert_line 'rcpt <åsa@example.org>'
	assert_file_bytes "$Q/failed/$(failed).msg" "$EXPECTED"
}

@test "a UTF-8 sender and no SMTPUTF8: the whole message is refused for good, exit 69, failed/ keeps it" {
	fixture_fault ehlo_without SMTPUTF8
	post 69 -f 'jöran@example.org' bob@example.org
	assert_output --regexp "^postie: $relay cannot take mail from <jöran@example\.org>: $NO_UTF8; saved as $Q/failed/[0-9a-f-]+\.msg$"
	[ "$(fixture_count)" -eq 0 ]
	run commands
	assert_output $'EHLO example.net\nNOOP\nQUIT'
	[ "$(queued)" = "" ]
	run env_of "$(failed)" failed
	assert_line 'sender <jöran@example.org>'
	assert_line 'rcpt <bob@example.org>'
	assert_line "last-error $relay cannot take mail from <jöran@example.org>: $NO_UTF8"
}

@test "a relay that offers SMTPUTF8 gets the UTF-8 local part, MAIL FROM carries SMTPUTF8, one connection" {
	post 0 -f a@example.org 'jöran@example.org' bob@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org> SMTPUTF8" "RCPT TO:<jöran@example.org>" "RCPT TO:<bob@example.org>"
	assert_data "$EXPECTED"
	run commands
	assert_output $'EHLO example.net\nNOOP\nMAIL FROM:<a@example.org> SMTPUTF8\nRCPT TO:<jöran@example.org>\nRCPT TO:<bob@example.org>\nDATA\n[99 bytes of message data]\n.\nQUIT'
	[ "$(failed)" = "" ]
}

@test "a UTF-8 sender goes out with SMTPUTF8 to a relay that offers it" {
	post 0 -f 'jöran@example.org' bob@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<jöran@example.org> SMTPUTF8" "RCPT TO:<bob@example.org>"
}

@test "an ASCII envelope costs no NOOP and no SMTPUTF8" {
	post 0 -f a@example.org bob@example.org
	run commands
	assert_output $'EHLO example.net\nMAIL FROM:<a@example.org>\nRCPT TO:<bob@example.org>\nDATA\n[99 bytes of message data]\n.\nQUIT'
}

@test "an IDN domain under a UTF-8 locale goes out as an A-label, to a relay without SMTPUTF8 too" {
	fixture_fault ehlo_without SMTPUTF8
	post 0 -f a@example.org 'u@bücher.example'
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<u@xn--bcher-kva.example>"
}

@test "an IDN domain that cannot become an A-label (C locale) is refused like a UTF-8 local part" {
	fixture_fault ehlo_without SMTPUTF8
	LC_ALL=C post 67 -f a@example.org 'u@bücher.example' bob@example.org
	assert_line --index 0 "postie: $relay cannot take <u@bücher.example>: $NO_UTF8"
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<bob@example.org>"
	run env_of "$(failed)" failed
	assert_line 'rcpt <u@bücher.example>'
}

@test "a queued message with a UTF-8 recipient goes to failed/ for it in the queue run, the other gets it" {
	"$POSTIE" -odq -f a@example.org 'jöran@example.org' bob@example.org <"$BATS_TEST_TMPDIR/msg"
	id=$(queued)
	[ -n "$id" ]
	fixture_fault ehlo_without SMTPUTF8
	run -0 postie -q -v
	assert_line "postie: queue entry $id: $relay cannot take <jöran@example.org>: $NO_UTF8; moved to failed/"
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<bob@example.org>"
	[ "$(queued)" = "" ]
	[ "$(failed)" = "$id" ]
	run env_of "$id" failed
	assert_line 'rcpt <jöran@example.org>'
	refute_line 'rcpt <bob@example.org>'
}

# A second server, the first relay of the list, that never offers SMTPUTF8 and turns the first
# connection away: the NOOP is answered by the fixture of the file, the message goes to this one.
start_first_relay() {
	local dir=$SMTP_DIR port=$SMTP_PORT pid=$SMTP_PID
	fixture_start --no-smtputf8
	FIRST_DIR=$SMTP_DIR FIRST_PORT=$SMTP_PORT FIRST_PID=$SMTP_PID
	fixture_fault greeting '421 4.3.2 busy'
	fixture_fault times 1
	SMTP_DIR=$dir SMTP_PORT=$port SMTP_PID=$pid
}

teardown() {
	if [[ -n ${FIRST_PID:-} ]]; then
		local pid=$SMTP_PID
		SMTP_PID=$FIRST_PID fixture_stop
		SMTP_PID=$pid
	fi
}

@test "SMTPUTF8 learnt from a relay down the list, then the first one takes the connection without it: nothing is delivered, the message stays queued" {
	start_first_relay
	POSTIE_RELAY=smtp://127.0.0.1:$FIRST_PORT postie_config 'timeout 3' "relay $relay"
	post 0 -f a@example.org 'jöran@example.org' bob@example.org
	assert_output --regexp "^postie: smtp://127\.0\.0\.1:$FIRST_PORT unavailable \(no longer offers SMTPUTF8; nothing was sent\); queued as [0-9a-f-]+, delivered by 'postie -q'$"
	run commands
	assert_output $'EHLO example.net\nNOOP\nQUIT'
	run sed -n 's/^C: //p' "$FIRST_DIR/sessions/2.log"
	assert_line --index 0 'EHLO example.net'
	refute_line --partial 'bytes of message data'
	run grep -c '^S: 250.SMTPUTF8' "$FIRST_DIR/sessions/2.log"
	assert_output 0
	[ "$(fixture_count)" -eq 0 ]
	[ "$(find "$FIRST_DIR/messages" -mindepth 1 2>/dev/null | wc -l)" -eq 0 ]
	[ "$(failed)" = "" ]
	run env_of "$(queued)"
	assert_line 'rcpt <jöran@example.org>'
	assert_line 'rcpt <bob@example.org>'
}
