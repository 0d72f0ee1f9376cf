#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The mail -s front end: a header composed from -s, -c, --bcc, --to and the operands, with stdin
# as the body only; and command-line values that try to inject a header or an SMTP command.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
}

# Decodes header field NAME of message 1 with Python's email package (policy=default).
decoded_field() {
	/usr/bin/python3 - "$(fixture_data_file)" "$1" <<'PY'
import sys, email, email.policy
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print(msg[sys.argv[2]])
PY
}

@test "-s composes From, To, Cc, Subject, Date and Message-ID; --bcc is envelope only" {
	message 'Filesystem Size\n/dev/vda 252G\n'
	post 0 -s "disk report" -c ops@example.org --bcc audit@example.org me@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" \
		"RCPT TO:<me@example.org>" "RCPT TO:<ops@example.org>" "RCPT TO:<audit@example.org>"
	run received_header
	assert_line --index 0 "From: $(id -un)@example.net"
	assert_line --index 1 'To: me@example.org'
	assert_line --index 2 'Cc: ops@example.org'
	assert_line --index 3 'Subject: disk report'
	assert_line --index 4 --regexp '^Date: '
	assert_line --index 5 --regexp '^Message-ID: <.*@example\.net>$'
	assert_line --index 6 'MIME-Version: 1.0'
	assert_line --index 7 'Content-Type: text/plain; charset=us-ascii'
	assert_line --index 8 'Content-Transfer-Encoding: 7bit'
	[ "${#lines[@]}" -eq 9 ]
	refute_output --partial audit
	run received_body
	assert_output $'Filesystem Size\n/dev/vda 252G'
}

@test "stdin is the body only: a header-looking first line stays in the body" {
	message 'To: evil@example.org\n\nbody\n'
	post 0 -s report me@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" "RCPT TO:<me@example.org>"
	run received_body
	assert_output $'To: evil@example.org\n\nbody'
}

@test "only Bcc recipients give To: undisclosed-recipients:;" {
	message 'body\n'
	post 0 -s hidden --bcc a@example.org --bcc b@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" \
		"RCPT TO:<a@example.org>" "RCPT TO:<b@example.org>"
	run received_header
	assert_line 'To: undisclosed-recipients:;'
	refute_output --partial 'a@example.org'
}

@test "--to, repeated -c and comma lists all land in To and Cc" {
	message 'body\n'
	post 0 -s x --to 'A <a@example.org>' -c c1@example.org -c 'c2@example.org, c3@example.org' b@example.org
	run received_header
	assert_line 'To: b@example.org, A <a@example.org>'
	assert_line 'Cc: c1@example.org, c2@example.org, c3@example.org'
}

@test "a non-ASCII subject is RFC 2047 encoded, folded under 78 columns, and decodes back" {
	subject='Überprüfung der Datensicherung für März: alles grün, 100 % erfolgreich — nächster Lauf morgen früh um 03:00'
	message 'body\n'
	post 0 -s "$subject" me@example.org
	run decoded_field Subject
	assert_output "$subject"
	run received_header
	assert_output --partial '=?UTF-8?'
	while IFS= read -r line; do
		[ "${#line}" -le 78 ] || { echo "too long: $line"; false; }
	done < <(received_header)
	run -1 env LC_ALL=C grep -q $'[\x80-\xff]' <(received_header)
}

@test "a long ASCII subject is folded at spaces and unfolds back" {
	subject=$(printf 'word%d ' $(seq 1 40))
	subject=${subject% }
	message 'body\n'
	post 0 -s "$subject" me@example.org
	run decoded_field Subject
	assert_output "$subject"
	while IFS= read -r line; do
		[ "${#line}" -le 78 ] || { echo "too long: $line"; false; }
	done < <(received_header)
}

@test "-F gives the From a display name, encoded when not ASCII" {
	message 'body\n'
	post 0 -s x -F 'Zoë Müller' -f zoe@example.org me@example.org
	run decoded_field From
	assert_output 'Zoë Müller <zoe@example.org>'
}

@test "a body with 8-bit bytes gets MIME-Version, charset utf-8 and 8bit" {
	message 'Grüße\n'
	post 0 -s x me@example.org
	run received_header
	assert_line 'MIME-Version: 1.0'
	assert_line 'Content-Type: text/plain; charset=utf-8'
	assert_line 'Content-Transfer-Encoding: 8bit'
	run received_body
	assert_output 'Grüße'
}

@test "an ASCII body is us-ascii and 7bit" {
	message 'plain\n'
	post 0 -s x me@example.org
	run received_header
	assert_line 'Content-Type: text/plain; charset=us-ascii'
	assert_line 'Content-Transfer-Encoding: 7bit'
}

@test "a composed body over the memory limit spills to a temporary file and arrives intact" {
	head -c 3000000 /dev/urandom | base64 >"$BATS_TEST_TMPDIR/msg"
	mkdir "$BATS_TEST_TMPDIR/tmp"
	TMPDIR=$BATS_TEST_TMPDIR/tmp post 0 -s big me@example.org
	received_body >"$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/msg" "$BATS_TEST_TMPDIR/got"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/tmp")" ]
}

@test "a composed body from a pipe or a file keeps a lone dot, as mail(1) does" {
	message '.\na\n.\nb\n'
	post 0 -s x me@example.org
	run received_body
	assert_output $'.\na\n.\nb'
	printf '.\n./dir\n' | "$POSTIE" -s list me@example.org
	run received_body 2
	assert_output $'.\n./dir'
}

@test "a composed body typed at a terminal ends at a lone dot without -i, and not with it" {
	require_cmd script
	local cmd
	printf -v cmd '%q -s typed me@example.org 2>%q; echo $? >%q' "$POSTIE" \
		"$BATS_TEST_TMPDIR/err" "$BATS_TEST_TMPDIR/rc"
	printf 'a\n.\n' | SHELL=/bin/sh timeout 20 script -qec "$cmd" /dev/null >/dev/null
	[ "$(cat "$BATS_TEST_TMPDIR/rc")" = 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	run received_body
	assert_output 'a'
	printf -v cmd '%q -i -s typed me@example.org 2>%q; echo $? >%q' "$POSTIE" \
		"$BATS_TEST_TMPDIR/err" "$BATS_TEST_TMPDIR/rc"
	printf 'a\n.\nb\n\004' | SHELL=/bin/sh timeout 20 script -qec "$cmd" /dev/null >/dev/null
	[ "$(cat "$BATS_TEST_TMPDIR/rc")" = 0 ]
	run received_body 2
	assert_output $'a\n.\nb'
}

@test "a subject with a line break is refused with 64 and nothing is sent" {
	message 'body\n'
	post 64 -s $'hi\r\nBcc: victim@example.org' me@example.org
	assert_output "postie: subject 'hi\\r\\nBcc: victim@example.org': contains a line break (CR or LF)"
	post 64 -s $'hi\nX: y' me@example.org
	[ "$(fixture_count)" -eq 0 ]
	[ ! -e "$SMTP_DIR/sessions/1.wire" ]
}

@test "-c, --bcc, --to and -F with a line break are refused with 64" {
	message 'body\n'
	post 64 -s x -c $'ops@example.org\r\nRSET' me@example.org
	assert_output "postie: recipient 'ops@example.org\\r\\nRSET': contains a line break (CR or LF)"
	post 64 -s x --bcc $'a@example.org\nDATA' me@example.org
	post 64 -s x --to $'a@example.org\nDATA' me@example.org
	post 64 -s x -F $'Evil\nBcc: x@example.org' me@example.org
	assert_output "postie: full name 'Evil\\nBcc: x@example.org': contains a line break (CR or LF)"
	[ "$(fixture_count)" -eq 0 ]
	[ ! -e "$SMTP_DIR/sessions/1.wire" ]
}

@test "operands and -f with a line break or SMTP syntax are refused with 64" {
	message 'Subject: x\n\nbody\n'
	post 64 $'bob@example.org\r\nRSET\r\nMAIL FROM:<evil@x>'
	assert_output --partial "postie: recipient 'bob@example.org\\r\\nRSET"
	post 64 -f $'a@example.org\nRSET' bob@example.org
	assert_output "postie: sender 'a@example.org\\nRSET': contains a line break (CR or LF)"
	post 64 'bob@example.org> SIZE=1'
	post 64 'bob smith@example.org'
	post 64 '<bob@example.org'
	[ "$(fixture_count)" -eq 0 ]
	[ ! -e "$SMTP_DIR/sessions/1.wire" ]
}
