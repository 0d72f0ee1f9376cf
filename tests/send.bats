#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Envelope and header of passed-through messages: recipients from operands and from the header
# (-t), Resent- blocks, Bcc removal, the sender, and the fields added only when missing.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
}

full_message() {
	message 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nCc: carol@example.org\nBcc: dave@example.org\nSubject: hello\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <fixed@example.org>\n\nbody line\n'
}

@test "each operand becomes one RCPT TO and the message arrives byte for byte" {
	message 'Subject: hi\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <a@b>\nFrom: alice@example.org\n\nhello\n'
	post 0 -f alice@example.org bob@example.org carol@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.org>" \
		"RCPT TO:<bob@example.org>" "RCPT TO:<carol@example.org>"
	assert_data 'Subject: hi\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <a@b>\r\nFrom: alice@example.org\r\n\r\nhello\r\n'
}

@test "an operand holding a comma list (cron's MAILTO=\"a,b\") gives one RCPT TO per address" {
	message 'Subject: x\n\nbody\n'
	post 0 -f alice@example.org 'bob@example.org, carol@example.org,dave@example.org'
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.org>" \
		"RCPT TO:<bob@example.org>" "RCPT TO:<carol@example.org>" "RCPT TO:<dave@example.org>"
}

@test "operands with display names and duplicates are reduced to unique addresses" {
	message 'Subject: x\n\nbody\n'
	post 0 -f alice@example.org 'Bob <bob@example.org>' bob@EXAMPLE.org '"Bob B." <bob@example.org>'
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.org>" "RCPT TO:<bob@example.org>"
}

@test "-t takes recipients from To, Cc and Bcc and removes the Bcc field" {
	full_message
	post 0 -t
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" \
		"RCPT TO:<bob@example.org>" "RCPT TO:<carol@example.org>" "RCPT TO:<dave@example.org>"
	assert_data 'From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nCc: carol@example.org\r\nSubject: hello\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <fixed@example.org>\r\n\r\nbody line\r\n'
}

@test "-t adds header recipients to the operand ones, as Postfix does" {
	full_message
	post 0 -t -f alice@example.org erin@example.org bob@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.org>" \
		"RCPT TO:<erin@example.org>" "RCPT TO:<bob@example.org>" \
		"RCPT TO:<carol@example.org>" "RCPT TO:<dave@example.org>"
}

@test "without -t the header's To, Cc and Bcc are not recipients but Bcc is still removed" {
	full_message
	post 0 -f alice@example.org erin@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.org>" "RCPT TO:<erin@example.org>"
	run received_header
	refute_output --partial 'Bcc'
	refute_output --partial 'dave'
	assert_line 'To: Bob <bob@example.org>'
}

@test "-t with a Resent- block takes the recipients of the first block only and removes Resent-Bcc" {
	message 'Resent-From: fwd@example.org\nResent-To: new@example.org\nResent-Bcc: hidden@example.org\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\nResent-Message-ID: <r2@x>\nResent-To: older@example.org\nReceived: from x by y; Thu, 26 Nov 2026 11:00:00 +0000\nResent-To: oldest@example.org\nFrom: alice@example.org\nTo: bob@example.org\nBcc: dave@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <m@x>\n\nforwarded\n'
	post 0 -t -f fwd@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<fwd@example.org>" \
		"RCPT TO:<new@example.org>" "RCPT TO:<hidden@example.org>" "RCPT TO:<older@example.org>"
	run received_header
	refute_output --partial 'Resent-Bcc'
	refute_output --partial 'Bcc:'
	assert_line 'Resent-To: oldest@example.org'
	assert_line 'To: bob@example.org'
}

@test "-t reads folded, grouped and commented address lists" {
	message 'To: team: a@example.org,\n  "Doe, John" <john@example.org>;, b@example.org (B)\nCc: undisclosed-recipients:;\nFrom: x@example.org\n\nbody\n'
	post 0 -t -f x@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<x@example.org>" "RCPT TO:<a@example.org>" \
		"RCPT TO:<john@example.org>" "RCPT TO:<b@example.org>"
}

@test "-t with no recipient in the header exits 64" {
	message 'Subject: nobody\n\nbody\n'
	post 64 -t
	assert_output 'postie: no recipients: give them as arguments, or use -t'
	[ "$(fixture_count)" -eq 0 ]
}

@test "no recipients at all exits 64 and sends nothing" {
	message 'Subject: x\n\nbody\n'
	post 64
	assert_output 'postie: no recipients: give them as arguments, or use -t'
	[ "$(fixture_count)" -eq 0 ]
}

@test "a bad address in a -t header exits 65 and names the field" {
	message 'To: bob@example.org, <broken@\nFrom: x@example.org\n\nbody\n'
	post 65 -t
	assert_output --regexp '^postie: To: .*bad address syntax'
	[ "$(fixture_count)" -eq 0 ]
}

@test "From, Date and Message-ID are added when missing, after the existing fields" {
	message 'Subject: bare\nTo: bob@example.org\n\nbody\n'
	post 0 -f alice@example.org bob@example.org
	run received_header
	assert_line --index 0 'Subject: bare'
	assert_line --index 1 'To: bob@example.org'
	assert_line --index 2 'From: alice@example.org'
	assert_line --index 3 --regexp '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$'
	assert_line --index 4 --regexp '^Message-ID: <[0-9]{14}\.[0-9]+\.[0-9a-f]{16}@example\.net>$'
	[ "${#lines[@]}" -eq 5 ]
}

@test "existing From, Date and Message-ID are kept and not doubled, whatever their case" {
	message 'FROM: Alice <alice@example.org>\ndate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-Id: <keep@example.org>\n\nbody\n'
	post 0 bob@example.org
	assert_data 'FROM: Alice <alice@example.org>\r\ndate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-Id: <keep@example.org>\r\n\r\nbody\r\n'
}

@test "a generated From carries -F's full name" {
	message 'Subject: x\n\nbody\n'
	post 0 -F 'Cron Daemon' -f root bob@example.org
	run received_header
	assert_line 'From: Cron Daemon <root@example.net>'
	assert_envelope "EHLO example.net" "MAIL FROM:<root@example.net>" "RCPT TO:<bob@example.org>"
}

@test "two messages get different Message-IDs" {
	message 'Subject: x\n\nbody\n'
	post 0 bob@example.org
	post 0 bob@example.org
	a=$(received_header 1 | grep '^Message-ID')
	b=$(received_header 2 | grep '^Message-ID')
	[ -n "$a" ] && [ "$a" != "$b" ]
}

@test "input without a header gets one and keeps its first line as body" {
	message 'just a line of text\nsecond line\n'
	post 0 -f alice@example.org bob@example.org
	run received_body
	assert_output $'just a line of text\nsecond line'
	run received_header
	assert_line 'From: alice@example.org'
}

@test "a header without a blank line before the body keeps the body line (Postfix's rule)" {
	message 'Subject: s\nthis is not a header field\nmore\n'
	post 0 bob@example.org
	run received_body
	assert_output $'this is not a header field\nmore'
	run received_header
	assert_line --index 0 'Subject: s'
}

@test "empty input still sends a message with a generated header" {
	message ''
	post 0 -f alice@example.org bob@example.org
	run received_header
	assert_line --index 0 'From: alice@example.org'
	run received_body
	assert_output ''
}

@test "-f with a bare name qualifies it with the configured domain" {
	message 'Subject: x\n\nbody\n'
	post 0 -f root bob@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<root@example.net>" "RCPT TO:<bob@example.org>"
}

@test "a bare recipient name is qualified with the configured domain" {
	message 'Subject: x\n\nbody\n'
	post 0 -f alice@example.org root
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.org>" "RCPT TO:<root@example.net>"
}

@test "-f '' and -f '<>' give the null sender" {
	message 'Subject: x\n\nbody\n'
	post 0 -f '' bob@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<>" "RCPT TO:<bob@example.org>"
	post 0 -f '<>' bob@example.org
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<>" "RCPT TO:<bob@example.org>"
}

@test "-f, -r, glued and separate, all set the envelope sender" {
	message 'Subject: x\n\nbody\n'
	post 0 -fme@example.org bob@example.org
	post 0 -r you@example.org bob@example.org
	post 0 -rthem@example.org bob@example.org
	assert_envelope -n 1 "EHLO example.net" "MAIL FROM:<me@example.org>" "RCPT TO:<bob@example.org>"
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<you@example.org>" "RCPT TO:<bob@example.org>"
	assert_envelope -n 3 "EHLO example.net" "MAIL FROM:<them@example.org>" "RCPT TO:<bob@example.org>"
}

@test "without -f the sender is the config's from" {
	postie_config 'from sender@example.org'
	message 'Subject: x\n\nbody\n'
	post 0 bob@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<sender@example.org>" "RCPT TO:<bob@example.org>"
}

@test "without -f and from, the sender is the login name at the domain" {
	message 'Subject: x\n\nbody\n'
	post 0 bob@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" "RCPT TO:<bob@example.org>"
}

@test "the null address as a recipient is refused with 64" {
	message 'Subject: x\n\nbody\n'
	post 64 '<>'
	assert_output "postie: recipient '<>': the null address cannot be a recipient"
}
