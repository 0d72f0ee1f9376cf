#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# What each failure of the relay gives: the sysexits status, and one stderr line naming the
# relay, the stage and the server's own reply, then where the message is now. A temporary
# failure queues it (exit 0); a 5xx keeps it in failed/ (non-zero).

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 2'
	message 'From: a@example.org\nSubject: x\n\nbody\n'
	relay="smtp://127.0.0.1:$SMTP_PORT"
	Q=$BATS_TEST_TMPDIR/queue
	QUEUED="; queued as [0-9]{8}-[0-9]{6}-[0-9a-f]{8}, delivered by 'postie -q'$"
	SAVED="; saved as $Q/failed/[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\.msg$"
}

@test "a relay that refuses connections is temporary: queued" {
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	POSTIE_RELAY=smtp://127.0.0.1:$port postie_config
	post 0 bob@example.org
	assert_output --regexp "^postie: smtp://127\.0\.0\.1:$port unavailable \(cannot connect \(.*\)\)$QUEUED"
}

@test "an unknown relay host is temporary, as Postfix defers it: queued" {
	POSTIE_RELAY=smtp://no-such-host.invalid:25 postie_config
	post 0 bob@example.org
	assert_output --regexp "^postie: smtp://no-such-host\.invalid:25 unavailable \(unknown host \(.*\)\)$QUEUED"
}

@test "a 421 greeting is temporary: queued with the server's text" {
	fixture_fault greeting '421 4.3.2 try later'
	post 0 bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(refused the connection: 421 4\.3\.2 try later\)$QUEUED"
}

@test "a 554 greeting gives 69 and failed/" {
	fixture_fault greeting '554 5.3.2 go away'
	post 69 bob@example.org
	assert_output --regexp "^postie: $relay refused the connection: 554 5\.3\.2 go away$SAVED"
}

@test "a 451 to MAIL FROM is temporary: queued" {
	fixture_fault mail '451 4.3.0 mailbox busy'
	post 0 -f a@example.org bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(refused MAIL FROM: 451 4\.3\.0 mailbox busy\)$QUEUED"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a 553 to MAIL FROM gives 69" {
	fixture_fault mail '553 5.1.8 bad sender'
	post 69 -f a@example.org bob@example.org
	assert_output --regexp "^postie: $relay refused MAIL FROM: 553 5\.1\.8 bad sender$SAVED"
}

@test "a 550 to one RCPT gives 67 naming the recipient and the reply; the other still gets it" {
	fixture_fault rcpt '550 5.1.1 no such user' bob@example.org
	post 67 -f a@example.org carol@example.org bob@example.org
	assert_line --index 0 "postie: $relay refused <bob@example.org>: 550 5.1.1 no such user"
	assert_line --index 1 --regexp "^postie: saved as $Q/failed/[0-9a-f-]+\.msg$"
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<carol@example.org>"
}

@test "a 550 to one RCPT then a 451 to DATA: that one is failed for good, the other queued, 67" {
	fixture_fault rcpt '550 5.1.1 no such user' bob@example.org
	fixture_fault data '451 4.3.0 later'
	post 67 -f a@example.org carol@example.org bob@example.org
	assert_line --index 0 "postie: $relay unavailable for <carol@example.org> (refused DATA: 451 4.3.0 later)"
	assert_line --index 1 "postie: $relay refused <bob@example.org>: 550 5.1.1 no such user"
	assert_line --index 2 --regexp "^postie: queued as [0-9a-f-]+ for 1 recipient, delivered by 'postie -q'$"
	assert_line --index 3 --regexp "^postie: saved as $Q/failed/[0-9a-f-]+\.msg$"
	[ "${#lines[@]}" -eq 4 ]
	run cat "$Q"/q/*.env
	assert_line 'rcpt <carol@example.org>'
	refute_line 'rcpt <bob@example.org>'
	run cat "$Q"/failed/*.env
	assert_line 'rcpt <bob@example.org>'
	refute_line 'rcpt <carol@example.org>'
	[ "$(fixture_count)" -eq 0 ]
}

@test "a queue run meeting the same replies decides the same: the 550 recipient to failed/, the other queued" {
	post 0 -odq -f a@example.org carol@example.org bob@example.org
	fixture_fault rcpt '550 5.1.1 no such user' bob@example.org
	fixture_fault data '451 4.3.0 later'
	run -0 postie -q
	assert_output --regexp "^postie: queue entry [0-9a-f-]+: $relay refused <bob@example.org>: 550 5.1.1 no such user; moved to failed/$"
	run cat "$Q"/q/*.env
	assert_line 'rcpt <carol@example.org>'
	refute_line 'rcpt <bob@example.org>'
	assert_line "last-error $relay refused DATA: 451 4.3.0 later"
	run cat "$Q"/failed/*.env
	assert_line 'rcpt <bob@example.org>'
	refute_line 'rcpt <carol@example.org>'
}

@test "a 452 to the only RCPT is temporary: queued" {
	fixture_fault rcpt '452 4.2.2 mailbox full' bob@example.org
	post 0 -f a@example.org bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(refused <bob@example\.org>: 452 4\.2\.2 mailbox full\)$QUEUED"
}

@test "a 554 to DATA gives 69" {
	fixture_fault data '554 5.5.1 no valid recipients'
	post 69 bob@example.org
	assert_output --regexp "^postie: $relay refused DATA: 554 5\.5\.1 no valid recipients$SAVED"
}

@test "a 554 after the final dot gives 69 and names the message" {
	fixture_fault eod '554 5.7.1 message rejected as spam'
	post 69 bob@example.org
	assert_output --regexp "^postie: $relay refused the message: 554 5\.7\.1 message rejected as spam$SAVED"
	[ "$(fixture_count)" -eq 0 ] && [ "$(fixture_count rejected)" -eq 1 ]
}

@test "a 451 after the final dot is temporary: queued" {
	fixture_fault eod '451 4.3.0 try again'
	post 0 bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(refused the message: 451 4\.3\.0 try again\)$QUEUED"
}

@test "a multi-line refusal keeps every line of the server's text" {
	fixture_fault eod $'550-5.7.1 first line\n550 5.7.1 second line'
	post 69 bob@example.org
	assert_output --regexp "^postie: $relay refused the message: 550 5\.7\.1 first line / 550 5\.7\.1 second line$SAVED"
}

@test "a connection dropped in the middle of DATA is temporary: queued" {
	fixture_fault drop mid-data
	head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 70 >>"$BATS_TEST_TMPDIR/msg"
	post 0 bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(connection lost during (DATA|the message) \(.*\)\)$QUEUED"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a connection dropped after the final dot, before the reply, is temporary: queued" {
	fixture_fault drop after-dot
	post 0 bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(connection lost during the message \(.*\)\)$QUEUED"
}

@test "a server that does not answer MAIL FROM in time: queued" {
	fixture_fault delay mail 5
	post 0 bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(timed out waiting for MAIL FROM \(.*\)\)$QUEUED"
}

@test "a greeting that never comes: queued" {
	fixture_fault delay greeting 5
	post 0 bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(timed out waiting for the greeting \(.*\)\)$QUEUED"
}

@test "a 550 to EHLO falls back to HELO and the message is sent" {
	fixture_fault ehlo '550 5.5.1 no EHLO here'
	post 0 -f a@example.org bob@example.org
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
}

@test "a reply code outside SMTP's range gives 76" {
	fixture_fault greeting '999 what is this'
	post 76 bob@example.org
	assert_output --regexp "^postie: $relay refused the connection: 999 what is this$SAVED"
}

@test "a server that speaks no SMTP at all and hangs up: queued" {
	# libcurl waits for a line that starts with a reply code; none comes
	fixture_fault greeting 'HTTP/1.1 400 Bad Request'
	post 0 bob@example.org
	assert_output --regexp "^postie: $relay unavailable \(connection lost during the greeting \(.*\)\)$QUEUED"
}

@test "a read error on the input exits 74 and sends nothing complete" {
	run -74 "$POSTIE" bob@example.org <"$BATS_TEST_TMPDIR"
	assert_output 'postie: reading the message: Is a directory'
	[ "$(fixture_count)" -eq 0 ]
}
