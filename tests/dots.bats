#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The body on the wire: line endings made CRLF, dot lines stuffed (by libcurl) and unstuffed
# (by the server) back to the input, the lone-dot rule with and without -i, 8-bit bytes and
# long lines broken at RFC 5322's 998 octets (tests/fidelity.bats has the rules).

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
}

HEAD='From: a@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <d@x>\n\n'
HEAD_CRLF='From: a@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <d@x>\r\n\r\n'

@test "with -i, lines '.', '..' and '.x' arrive byte-identical, stuffed on the wire" {
	message "$HEAD"'first\n.\n..\n.x\nlast\n'
	post 0 -i bob@example.org
	assert_data "$HEAD_CRLF"'first\r\n.\r\n..\r\n.x\r\nlast\r\n'
	# the wire carries every leading dot doubled, and the end is CRLF . CRLF
	grep -q $'\r\n\\.\\.\r\n\\.\\.\\.\r\n\\.\\.x\r\nlast\r\n\\.\r\n' "$SMTP_DIR/sessions/1.wire"
}

@test "-oi is the same as -i" {
	message "$HEAD"'a\n.\nb\n'
	post 0 -oi bob@example.org
	assert_data "$HEAD_CRLF"'a\r\n.\r\nb\r\n'
}

@test "without -i a lone '.' line ends the input and the rest is not sent" {
	message "$HEAD"'a\n..\n.x\n.\nnot sent\n'
	post 0 bob@example.org
	assert_data "$HEAD_CRLF"'a\r\n..\r\n.x\r\n'
}

@test "without -i a lone '.' with CRLF or at the very end also ends the input" {
	message "$HEAD"'a\r\n.\r\nnot sent\r\n'
	post 0 bob@example.org
	assert_data "$HEAD_CRLF"'a\r\n'
	message "$HEAD"'b\n.'
	post 0 bob@example.org
	assert_data -n 2 "$HEAD_CRLF"'b\r\n'
}

@test "without -i a lone '.' in the header ends the input" {
	message 'Subject: x\n.\nTo: not@sent\n\nbody\n'
	post 0 -f a@example.org bob@example.org
	run received_header
	assert_line --index 0 'Subject: x'
	refute_output --partial 'not@sent'
	run received_body
	assert_output ''
}

@test "LF input arrives as CRLF with no bare LF" {
	message "$HEAD"'one\ntwo\n\nfour\n'
	post 0 bob@example.org
	assert_data "$HEAD_CRLF"'one\r\ntwo\r\n\r\nfour\r\n'
	assert_only_crlf
}

@test "CRLF input arrives unchanged" {
	message 'From: a@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <d@x>\r\n\r\none\r\ntwo\r\n'
	post 0 bob@example.org
	assert_data "$HEAD_CRLF"'one\r\ntwo\r\n'
}

@test "mixed LF, CRLF and lone CR line ends all arrive as CRLF" {
	message 'From: a@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <d@x>\r\n\none\rtwo\r\nthree\nfour\r\r\nfive'
	post 0 -i bob@example.org
	assert_data "$HEAD_CRLF"'one\r\ntwo\r\nthree\r\nfour\r\n\r\nfive\r\n'
	assert_only_crlf
}

@test "a lone CR before a dot cannot smuggle an end of data" {
	message "$HEAD"'a\r.\rMAIL FROM:<evil@x>\r\n'
	post 0 -i bob@example.org
	assert_data "$HEAD_CRLF"'a\r\n.\r\nMAIL FROM:<evil@x>\r\n'
	[ "$(fixture_count)" -eq 1 ]
	run grep -c 'MAIL FROM' "$SMTP_DIR/sessions/1.log"
	assert_output 1
}

@test "a body without a final newline gets one" {
	message "$HEAD"'no newline at end'
	post 0 bob@example.org
	assert_data "$HEAD_CRLF"'no newline at end\r\n'
}

@test "8-bit bytes in the body pass unchanged" {
	message "$HEAD"'gr\xc3\xbc\xc3\x9fe \xe2\x82\xac\n\xff\xfe raw\n'
	post 0 bob@example.org
	assert_data "$HEAD_CRLF"'gr\xc3\xbc\xc3\x9fe \xe2\x82\xac\r\n\xff\xfe raw\r\n'
}

@test "a line of 2000 characters arrives as lines of 998 octets, every byte kept" {
	long=$(head -c 2000 /dev/zero | tr '\0' 'x')
	message "$HEAD"'%s\nend\n' "$long"
	post 0 bob@example.org
	assert_data "$HEAD_CRLF"'%s\r\n%s\r\n%s\r\nend\r\n' "${long:0:998}" "${long:998:998}" "${long:1996}"
}

@test "a line of 200000 characters with a leading dot is broken at 998 octets across buffers, every byte kept" {
	long=.$(head -c 200000 /dev/zero | tr '\0' 'y')
	message "$HEAD"'%s\r\n.\r\nend\r\n' "$long"
	post 0 -i bob@example.org
	printf '%b' "$HEAD_CRLF" >"$BATS_TEST_TMPDIR/expected"
	/usr/bin/python3 -c '
import sys
line = b"." + b"y" * 200000
parts = [line[i:i + 998] for i in range(0, len(line), 998)]
sys.stdout.buffer.write(b"\r\n".join(parts) + b"\r\n.\r\nend\r\n")
' >>"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$(fixture_data_file)"
}

@test "a 5 MiB body of dot lines arrives byte-identical" {
	/usr/bin/python3 -c '
import sys
out = sys.stdout.buffer
out.write(b"From: a@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <d@x>\n\n")
for i in range(100000):
    out.write(b"." * (i % 3) + b"line %d\n" % i if i % 7 else b".\n")
' >"$BATS_TEST_TMPDIR/msg"
	post 0 -i bob@example.org
	sed 's/$/\r/' "$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$(fixture_data_file)"
}
