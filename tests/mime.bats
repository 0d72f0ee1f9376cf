#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Attachments and MIME for the mail -s front end: every delivered message is parsed with
# Python's email package (policy=default) and compared with what went in.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
	F=$BATS_TEST_TMPDIR/files
	mkdir -p "$F"
	message 'The nightly report.\n'
}

# Prints, for message N, one line per part: content type, charset, transfer encoding, file name,
# and the sha256 of the decoded payload; checks each attachment against the file of that name
# in $F.
parts() {
	/usr/bin/python3 - "$(fixture_data_file "${1:-1}")" "$F" <<'PY'
import email, email.policy, hashlib, os, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
for part in msg.walk():
    if part.is_multipart():
        print("multipart", part.get_content_type())
        continue
    payload = part.get_payload(decode=True)
    name = part.get_filename()
    print(part.get_content_type(), part.get_content_charset(), part["Content-Transfer-Encoding"],
          name, hashlib.sha256(payload).hexdigest()[:16], len(payload))
    if name is not None:
        want = open(os.path.join(sys.argv[2], name), 'rb').read()
        assert payload == want, "attachment %r differs from the file" % name
    if part.defects:
        print("defects", part.defects)
PY
}

sha() { sha256sum "$1" | cut -c1-16; }

@test "-a files: multipart/mixed, the text first, each file's bytes intact" {
	printf 'line one\nline two\n' >"$F/backup.log"
	printf 'a,b\n1,2\n' >"$F/summary.csv"
	head -c 5000 /dev/urandom >"$F/blob.bin"
	: >"$F/empty.txt"
	post 0 -s "nightly backup" -a "$F/backup.log" --attach "$F/summary.csv" -a "$F/blob.bin" \
		-a "$F/empty.txt" ops@example.org
	assert_output ''
	run parts
	assert_line --index 0 'multipart multipart/mixed'
	assert_line --index 1 --regexp '^text/plain us-ascii 7bit None '
	assert_line --index 2 "text/plain None base64 backup.log $(sha "$F/backup.log") 18"
	assert_line --index 3 "text/csv None base64 summary.csv $(sha "$F/summary.csv") 8"
	assert_line --index 4 "application/octet-stream None base64 blob.bin $(sha "$F/blob.bin") 5000"
	assert_line --index 5 --regexp "^(text/plain|application/octet-stream) None base64 empty\.txt $(sha "$F/empty.txt") 0$"
	refute_output --partial defects
	run received_header
	assert_line 'MIME-Version: 1.0'
	assert_line 'Content-Type: multipart/mixed;'
	assert_line --regexp '^ boundary="=_postie_[0-9A-F]{32}"$'
}

@test "a 5 MiB binary attachment arrives intact and every line of the message is short" {
	head -c 5242880 /dev/urandom >"$F/big.dat"
	post 0 -s big -a "$F/big.dat" ops@example.org
	run parts
	assert_line --index 2 "application/octet-stream None base64 big.dat $(sha "$F/big.dat") 5242880"
	awk 'length($0) > 78 { print "long line " NR; exit 1 }' "$(fixture_data_file)"
}

@test "an unknown extension is text/plain for UTF-8 text and application/octet-stream otherwise" {
	printf 'grüße, plain text\n' >"$F/notes.zzunknown"
	printf '\x00\x01\x02binary' >"$F/data.zzunknown2"
	post 0 -s x -a "$F/notes.zzunknown" -a "$F/data.zzunknown2" ops@example.org
	run parts
	assert_line --index 2 --regexp '^text/plain None base64 notes\.zzunknown '
	assert_line --index 3 --regexp '^application/octet-stream None base64 data\.zzunknown2 '
}

@test "file names with non-ASCII characters are encoded (RFC 2231 and 2047) and decode back" {
	name='Übersicht März — 報告.pdf'
	printf '%%PDF-1.4 fake\n' >"$F/$name"
	long="$(printf 'ä%.0s' $(seq 1 60)).txt"
	printf 'x\n' >"$F/$long"
	post 0 -s x -a "$F/$name" -a "$F/$long" ops@example.org
	run parts
	assert_line --index 2 --regexp "^application/pdf None base64 $name "
	assert_line --index 3 --regexp "^text/plain None base64 $long "
	grep -q "filename\*" "$(fixture_data_file)"
	grep -q 'name="=?UTF-8?' "$(fixture_data_file)"
}

@test "a body with 8-bit bytes is utf-8 8bit; one with a line over 998 octets is quoted-printable" {
	message 'Grüße\n'
	post 0 -s x ops@example.org
	run parts
	assert_line --index 0 --regexp '^text/plain utf-8 8bit None '
	long=$(head -c 1500 /dev/zero | tr '\0' 'y')
	message 'short line\n%s=end\n' "$long"
	post 0 -s x ops@example.org
	run parts 2
	assert_line --index 0 --regexp '^text/plain us-ascii quoted-printable None '
	/usr/bin/python3 - "$(fixture_data_file 2)" "$BATS_TEST_TMPDIR/msg" <<'PY'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
got = msg.get_payload(decode=True).replace(b'\r\n', b'\n')
assert got == open(sys.argv[2], 'rb').read(), (got[:80],)
PY
	awk 'length($0) > 78 { print "long line " NR; exit 1 }' "$(fixture_data_file 2)"
}

@test "a body that is not valid UTF-8 is quoted-printable, unknown-8bit in the C locale, and decodes back byte for byte" {
	message 'caf\xe9 latin-1\n'
	LC_ALL=C post 0 -s x ops@example.org
	run parts
	assert_line --index 0 --regexp '^text/plain unknown-8bit quoted-printable None '
	/usr/bin/python3 - "$(fixture_data_file)" <<'PY'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
assert msg.get_payload(decode=True) == b'caf\xe9 latin-1\n', msg.get_payload(decode=True)
PY
}

@test "the body part of a message with attachments follows the same charset rule" {
	printf 'x\n' >"$F/a.txt"
	message 'Grüße\n'
	post 0 -s x -a "$F/a.txt" ops@example.org
	run parts
	assert_line --index 1 --regexp '^text/plain utf-8 8bit None '
}

@test "a missing file, a directory, a device, a FIFO or an unreadable file exits 66 naming it, sending nothing" {
	post 66 -s x -a /dev/null ops@example.org
	assert_output "postie: attachment '/dev/null': not a regular file"
	post 66 -s x -a "$F/nope.pdf" ops@example.org
	assert_output "postie: attachment '$F/nope.pdf': No such file or directory"
	post 66 -s x -a "$F" ops@example.org
	assert_output "postie: attachment '$F': is a directory"
	mkfifo "$F/pipe"
	run -66 timeout 20 "$POSTIE" -s x -a "$F/pipe" ops@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_output "postie: attachment '$F/pipe': not a regular file"
	if [ "$(id -u)" -ne 0 ]; then
		printf 'x' >"$F/secret"
		chmod 000 "$F/secret"
		post 66 -s x -a "$F/secret" ops@example.org
		assert_output "postie: attachment '$F/secret': Permission denied"
	fi
	[ "$(fixture_count)" -eq 0 ] && [ ! -e "$SMTP_DIR/sessions/1.wire" ]
}

@test "--header adds a field; From, To, Cc, Date and Message-ID given so replace the generated ones" {
	post 0 -s x --header 'X-Mailer: nightly.sh' --header 'From: Backup <backup@example.org>' \
		--header 'Message-ID: <fixed@example.org>' --header 'Date: Thu, 26 Nov 2026 10:00:00 +0000' \
		--header 'Cc: c@example.org' ops@example.org
	run received_header
	assert_line 'X-Mailer: nightly.sh'
	assert_line 'From: Backup <backup@example.org>'
	assert_line 'Message-ID: <fixed@example.org>'
	assert_line 'Date: Thu, 26 Nov 2026 10:00:00 +0000'
	assert_line 'Cc: c@example.org'
	[ "$(grep -c '^From:' <<<"$output")" -eq 1 ]
	[ "$(grep -c '^Message-ID:' <<<"$output")" -eq 1 ]
	[ "$(grep -c '^Date:' <<<"$output")" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" \
		"RCPT TO:<c@example.org>" "RCPT TO:<ops@example.org>"
}

@test "--header To replaces the generated To and Bcc is envelope only" {
	post 0 -s x --header 'To: Team <team@example.org>' --header 'Bcc: hidden@example.org'
	run received_header
	assert_line 'To: Team <team@example.org>'
	refute_output --partial 'hidden'
	[ "$(grep -c '^To:' <<<"$output")" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" \
		"RCPT TO:<team@example.org>" "RCPT TO:<hidden@example.org>"
}

@test "--header values that would inject a field, and bad names, are refused with 64" {
	post 64 -s x --header $'X-A: ok\r\nBcc: victim@example.org' ops@example.org
	assert_output "postie: header 'X-A: ok\\r\\nBcc: victim@example.org': contains a line break (CR or LF)"
	post 64 -s x --header 'Bad Name: x' ops@example.org
	assert_output "postie: header 'Bad Name: x': the name may hold only printable ASCII without spaces"
	post 64 -s x --header 'NoColon' ops@example.org
	assert_output "postie: header 'NoColon': not 'Name: value'"
	post 64 -s x --header ': empty name' ops@example.org
	[ "$(fixture_count)" -eq 0 ]
}

@test "--header Resent-Bcc, in any case, is refused with 64 and nothing is sent" {
	post 64 -s x --header 'Resent-Bcc: x@example.org' ops@example.org
	assert_output "postie: header 'Resent-Bcc: x@example.org': Resent-Bcc would be written into the message; give hidden recipients with --bcc"
	post 64 -s x --header 'resent-BCC: x' ops@example.org
	assert_output "postie: header 'resent-BCC: x': Resent-Bcc would be written into the message; give hidden recipients with --bcc"
	post 64 -s x --header 'Resent-Bcc : x' ops@example.org
	assert_output "postie: header 'Resent-Bcc : x': the name may hold only printable ASCII without spaces"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a progress line appears on a terminal for a large send, and never otherwise" {
	require_cmd script
	head -c 6000000 /dev/urandom >"$F/big.bin"
	script -qec "\"$POSTIE\" -s big -a \"$F/big.bin\" ops@example.org </dev/null" /dev/null >"$BATS_TEST_TMPDIR/tty.out"
	grep -aq 'postie: sent [0-9.]* of [0-9.]* MiB, [0-9.]* MiB/s, [0-9]* s left' "$BATS_TEST_TMPDIR/tty.out"
	grep -aq 'postie: sent [0-9.]* MiB in [0-9.]* s, [0-9.]* MiB/s' "$BATS_TEST_TMPDIR/tty.out"
	# each redraw starts with a CR; the last one ends the line after 20 spaces over the rest
	grep -aqP '^\rpostie: sent [0-9.]+ of [0-9.]+ MiB, [0-9.]+ MiB/s, [0-9]+ s left \rpostie: ' "$BATS_TEST_TMPDIR/tty.out"
	grep -aqP '\rpostie: sent [0-9.]+ MiB in [0-9.]+ s, [0-9.]+ MiB/s {20}\r?$' "$BATS_TEST_TMPDIR/tty.out"
	run -0 "$POSTIE" -s big -a "$F/big.bin" ops@example.org </dev/null
	assert_output ''
	script -qec "\"$POSTIE\" --no-progress -s big -a \"$F/big.bin\" ops@example.org </dev/null" /dev/null >"$BATS_TEST_TMPDIR/tty2.out"
	run -1 grep -aq 'postie: sent' "$BATS_TEST_TMPDIR/tty2.out"
	[ "$(fixture_count)" -eq 3 ]
}

@test "a queued message with an attachment is delivered later exactly as composed" {
	head -c 100000 /dev/urandom >"$F/report.bin"
	post 0 -odq -s later -a "$F/report.bin" ops@example.org
	cp "$BATS_TEST_TMPDIR"/queue/q/*.msg "$BATS_TEST_TMPDIR/composed"
	run -0 postie -q
	run parts
	assert_line --index 2 "application/octet-stream None base64 report.bin $(sha "$F/report.bin") 100000"
	cmp "$BATS_TEST_TMPDIR/composed" "$(fixture_data_file)"
}

@test "--header values with control characters are refused with 64" {
	post 64 -s x --header $'X-A: bell\a and esc\e[2J' ops@example.org
	assert_output "postie: header 'X-A: bell\\x07 and esc\\x1b[2J': contains a control character"
	[ "$(fixture_count)" -eq 0 ]
}
