#!/usr/bin/env bats
# What each failure of the relay gives: the sysexits status, and one stderr line naming the
# relay, the stage and the server's own reply. (Queueing is a later issue: for now a temporary
# failure exits 75 and the caller keeps the message.)

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 2'
	message 'From: a@example.org\nSubject: x\n\nbody\n'
	relay="smtp://127.0.0.1:$SMTP_PORT"
}

@test "a relay that refuses connections gives 75" {
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	postie_config "relay smtp://127.0.0.1:$port"
	post 75 bob@example.org
	assert_output --regexp "^postie: smtp://127\.0\.0\.1:$port: cannot connect \(.*\)$"
}

@test "an unknown relay host gives 68" {
	postie_config 'relay smtp://no-such-host.invalid:25'
	post 68 bob@example.org
	assert_output --regexp '^postie: smtp://no-such-host\.invalid:25: unknown host'
}

@test "a 421 greeting gives 75 with the server's text" {
	fixture_fault greeting '421 4.3.2 try later'
	post 75 bob@example.org
	assert_output "postie: $relay refused the connection: 421 4.3.2 try later"
}

@test "a 554 greeting gives 69" {
	fixture_fault greeting '554 5.3.2 go away'
	post 69 bob@example.org
	assert_output "postie: $relay refused the connection: 554 5.3.2 go away"
}

@test "a 451 to MAIL FROM gives 75" {
	fixture_fault mail '451 4.3.0 mailbox busy'
	post 75 -f a@example.org bob@example.org
	assert_output "postie: $relay refused MAIL FROM: 451 4.3.0 mailbox busy"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a 553 to MAIL FROM gives 69" {
	fixture_fault mail '553 5.1.8 bad sender'
	post 69 -f a@example.org bob@example.org
	assert_output "postie: $relay refused MAIL FROM: 553 5.1.8 bad sender"
}

@test "a 550 to one RCPT gives 67 naming the recipient and the reply" {
	fixture_fault rcpt '550 5.1.1 no such user' bob@example.org
	post 67 -f a@example.org carol@example.org bob@example.org
	assert_output "postie: $relay refused <bob@example.org>: 550 5.1.1 no such user"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a 452 to RCPT gives 75" {
	fixture_fault rcpt '452 4.2.2 mailbox full' bob@example.org
	post 75 -f a@example.org bob@example.org
	assert_output "postie: $relay refused <bob@example.org>: 452 4.2.2 mailbox full"
}

@test "a 554 to DATA gives 69" {
	fixture_fault data '554 5.5.1 no valid recipients'
	post 69 bob@example.org
	assert_output "postie: $relay refused DATA: 554 5.5.1 no valid recipients"
}

@test "a 554 after the final dot gives 69 and names the message" {
	fixture_fault eod '554 5.7.1 message rejected as spam'
	post 69 bob@example.org
	assert_output "postie: $relay refused the message: 554 5.7.1 message rejected as spam"
	[ "$(fixture_count)" -eq 0 ]
	[ "$(fixture_count rejected)" -eq 1 ]
}

@test "a 451 after the final dot gives 75" {
	fixture_fault eod '451 4.3.0 try again'
	post 75 bob@example.org
	assert_output "postie: $relay refused the message: 451 4.3.0 try again"
}

@test "a multi-line refusal keeps every line of the server's text" {
	fixture_fault eod $'550-5.7.1 first line\n550 5.7.1 second line'
	post 69 bob@example.org
	assert_output "postie: $relay refused the message: 550 5.7.1 first line / 550 5.7.1 second line"
}

@test "a connection dropped in the middle of DATA gives 75" {
	fixture_fault drop mid-data
	head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 70 >>"$BATS_TEST_TMPDIR/msg"
	post 75 bob@example.org
	assert_output --regexp "^postie: $relay: connection lost during (DATA|the message) \(.*\)$"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a connection dropped after the final dot, before the reply, gives 75" {
	fixture_fault drop after-dot
	post 75 bob@example.org
	assert_output --regexp "^postie: $relay: connection lost during the message \(.*\)$"
}

@test "a server that does not answer MAIL FROM in time gives 75" {
	fixture_fault delay mail 5
	post 75 bob@example.org
	assert_output --regexp "^postie: $relay: timed out waiting for MAIL FROM \(.*\)$"
}

@test "a greeting that never comes gives 75" {
	fixture_fault delay greeting 5
	post 75 bob@example.org
	assert_output --regexp "^postie: $relay: timed out waiting for the greeting \(.*\)$"
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
	assert_output "postie: $relay refused the connection: 999 what is this"
}

@test "a server that speaks no SMTP at all and hangs up gives 75" {
	# libcurl waits for a line that starts with a reply code; none comes
	fixture_fault greeting 'HTTP/1.1 400 Bad Request'
	post 75 bob@example.org
	assert_output --regexp "^postie: $relay: connection lost during the greeting \\(.*\\)$"
}
