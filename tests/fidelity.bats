#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Message fidelity measured against Postfix's sendmail (issue 17, items 1-4): a leading mbox
# "From " line, a stray CR or a NUL inside the header, and lines over RFC 5322's 998 octets.
# Each case is what a real caller sends (git format-patch, PHP apps, cron's JSON logs).

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
}

HEAD='From: a@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <d@x>\n'
HEAD_CRLF='From: a@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <d@x>\r\n'

# repeat N CHAR: CHAR written N times.
repeat() {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

# --- 1. the mbox "From " line ---------------------------------------------------------------

@test "a leading mbox From line and >From lines are dropped: -t finds the header's recipients" {
	message 'From nobody Thu Nov 26 10:00:00 2026\n>From old\n>>From older\n'"$HEAD"'To: b@example.org\nSubject: s\n\nbody\nFrom here on\n'
	post 0 -t -f a@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	assert_data "$HEAD_CRLF"'To: b@example.org\r\nSubject: s\r\n\r\nbody\r\nFrom here on\r\n'
}

@test "a From line after the first header field still starts the body, as in Postfix" {
	message "$HEAD"'From nobody Thu Nov 26 10:00:00 2026\nTo: c@example.org\n\nbody\n'
	post 0 -f a@example.org b@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	assert_data "$HEAD_CRLF"'\r\nFrom nobody Thu Nov 26 10:00:00 2026\r\nTo: c@example.org\r\n\r\nbody\r\n'
}

@test "git format-patch --stdout piped to postie -t delivers a patch that git am applies" {
	require_cmd git
	local src=$BATS_TEST_TMPDIR/src dst=$BATS_TEST_TMPDIR/dst
	export GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.org
	export GIT_COMMITTER_NAME='A U Thor' GIT_COMMITTER_EMAIL=author@example.org
	export GIT_CONFIG_NOSYSTEM=1
	git init -q "$src"
	printf 'one\n' >"$src/file"
	git -C "$src" add file
	git -C "$src" commit -q -m base
	git clone -q "$src" "$dst"
	printf 'one\ntwo\n' >"$src/file"
	git -C "$src" commit -q -a -m 'file: a second line'
	git -C "$src" format-patch -q --stdout --to=reviewer@example.org -1 >"$BATS_TEST_TMPDIR/msg"
	run -0 head -c 5 "$BATS_TEST_TMPDIR/msg"
	assert_output 'From '
	post 0 -t
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" "RCPT TO:<reviewer@example.org>"
	run received_header
	assert_line 'Subject: [PATCH] file: a second line'
	run -0 git -C "$dst" am -q "$(fixture_data_file)"
	run -0 cat "$dst/file"
	assert_output $'one\ntwo'
	run -0 git -C "$dst" log -1 --format=%s
	assert_output 'file: a second line'
}

# --- 2. a stray CR in the header ------------------------------------------------------------

@test "a bare CR in a header value becomes a space, and a Bcc after it is removed and gets the message" {
	message "$HEAD"'To: b@example.org\nSubject: before\rafter\nBcc: hidden@example.org\n\nbody\n'
	post 0 -t -f a@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>" "RCPT TO:<hidden@example.org>"
	assert_data "$HEAD_CRLF"'To: b@example.org\r\nSubject: before after\r\n\r\nbody\r\n'
}

@test "CRs at the start or end of a header line are dropped: LF CR does not hide a Bcc in the Subject" {
	message "$HEAD"'To: b@example.org\nSubject: s\r\r\n\rBcc: hidden@example.org\n\nbody\n'
	post 0 -t -f a@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>" "RCPT TO:<hidden@example.org>"
	assert_data "$HEAD_CRLF"'To: b@example.org\r\nSubject: s\r\n\r\nbody\r\n'
}

@test "a bare CR in the body is still a line end, also on a first body line with no blank line before it" {
	message "$HEAD"'Subject: s\nnot a field\rsecond\n\nthird\rfourth\n'
	post 0 -f a@example.org b@example.org
	assert_data "$HEAD_CRLF"'Subject: s\r\n\r\nnot a field\r\nsecond\r\n\r\nthird\r\nfourth\r\n'
	assert_only_crlf
}

@test "a lone dot after a bare CR on the first body line still ends the input without -i" {
	message "$HEAD"'Subject: s\nnot a field\r.\rMAIL FROM:<evil@x>\n'
	post 0 -f a@example.org b@example.org
	assert_data "$HEAD_CRLF"'Subject: s\r\n\r\nnot a field\r\n'
	message "$HEAD"'Subject: s\nnot a field\r.\rMAIL FROM:<evil@x>\n'
	post 0 -i -f a@example.org b@example.org
	assert_data -n 2 "$HEAD_CRLF"'Subject: s\r\n\r\nnot a field\r\n.\r\nMAIL FROM:<evil@x>\r\n'
}

# --- 3. a NUL in the header -----------------------------------------------------------------

@test "a NUL in a header is delivered as a space, never refused" {
	message "$HEAD"'Subject: a\0b\nX-Note: \0\0end\n\nbody\n'
	post 0 -f a@example.org b@example.org
	assert_output ''
	assert_data "$HEAD_CRLF"'Subject: a b\r\nX-Note:   end\r\n\r\nbody\r\n'
}

# --- 4. lines over 998 octets ---------------------------------------------------------------

@test "a 3000-octet Subject is folded at its own white space and unfolds to the same text" {
	local words
	words=$(for i in $(seq 1000 1499); do printf 'w%s ' "$i"; done)
	words=${words% }
	[ "${#words}" -eq 2999 ]
	message "$HEAD"'Subject: %s\n\nbody\n' "$words"
	post 0 -f a@example.org b@example.org
	assert_output ''
	# fold points are the last white space that keeps each line within 998 octets
	/usr/bin/python3 - "$(fixture_data_file)" "$words" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
head = data.split(b'\r\n\r\n', 1)[0]
lines = head.split(b'\r\n')
subj = [i for i, l in enumerate(lines) if l.startswith(b'Subject:')][0]
folded = [lines[subj]] + [l for l in lines[subj + 1:] if l[:1] in (b' ', b'\t')]
assert len(folded) == 4, [len(l) for l in folded]
assert all(len(l) <= 998 for l in folded), [len(l) for l in folded]
assert all(len(l) >= 990 for l in folded[:-1]), [len(l) for l in folded]
assert b''.join(folded) == b'Subject: ' + sys.argv[2].encode(), 'unfolding changed the text'
PY
}

@test "a header line with no white space is broken with CRLF SPACE at 998 octets, as Postfix does" {
	local x
	x=$(repeat 3000 x)
	message "$HEAD"'Subject: %s\nX-Long:%s\n\nbody\n' "$x" "$x"
	post 0 -f a@example.org b@example.org
	assert_output ''
	# the Subject folds after "Subject:" first; X-Long has no white space at all
	assert_data "$HEAD_CRLF"'Subject:\r\n %s\r\n %s\r\n %s\r\n %s\r\nX-Long:%s\r\n %s\r\n %s\r\n %s\r\n\r\nbody\r\n' \
		"$(repeat 997 x)" "$(repeat 997 x)" "$(repeat 997 x)" "$(repeat 9 x)" \
		"$(repeat 991 x)" "$(repeat 997 x)" "$(repeat 997 x)" "$(repeat 15 x)"
}

@test "a 5000-octet body line is broken at 998 octets with nothing added, never inside a UTF-8 character" {
	local x
	x=$(repeat 5000 x)
	message "$HEAD"'\n%s\n%s\xc3\xa9%s\n' "$x" "$(repeat 997 y)" "$(repeat 10 z)"
	post 0 -f a@example.org b@example.org
	assert_output ''
	assert_data "$HEAD_CRLF"'\r\n%s\r\n%s\r\n%s\r\n%s\r\n%s\r\n%s\r\n%s\r\n\xc3\xa9%s\r\n' \
		"$(repeat 998 x)" "$(repeat 998 x)" "$(repeat 998 x)" "$(repeat 998 x)" "$(repeat 998 x)" \
		"$(repeat 10 x)" "$(repeat 997 y)" "$(repeat 10 z)"
}

@test "a long body line with white space is broken after a space, so every word stays whole and nothing is added" {
	local words
	words=$(for i in $(seq 1000 1499); do printf '{"n":%s} ' "$i"; done)
	message "$HEAD"'\n%s\nend\n' "$words"
	post 0 -i -f a@example.org b@example.org
	assert_output ''
	/usr/bin/python3 - "$(fixture_data_file)" "$words" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
body = data.split(b'\r\n\r\n', 1)[1]
lines = body.split(b'\r\n')
assert lines[-2:] == [b'end', b''], lines[-2:]
lines = lines[:-2]
assert len(lines) == 6, [len(l) for l in lines]
assert all(len(l) <= 998 for l in lines), [len(l) for l in lines]
assert all(l.endswith(b' ') for l in lines), [l[-5:] for l in lines]
assert b''.join(lines) == sys.argv[2].encode(), 'bytes were added or lost'
PY
}

@test "a long first body line read with the header is broken too, and so is a long line in -bs DATA" {
	message "$HEAD"'Subject: s\nno blank line before %s\n' "$(repeat 1000 x)"
	post 0 -f a@example.org b@example.org
	assert_data "$HEAD_CRLF"'Subject: s\r\n\r\nno blank line before \r\n%s\r\n%s\r\n' "$(repeat 998 x)" "$(repeat 2 x)"
	printf 'EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n'"$HEAD_CRLF"'\r\n%s\r\n.\r\nQUIT\r\n' "$(repeat 2000 q)" >"$BATS_TEST_TMPDIR/msg"
	post 0 -bs
	assert_data -n 2 "$HEAD_CRLF"'\r\n%s\r\n%s\r\n%s\r\n' "$(repeat 998 q)" "$(repeat 998 q)" "$(repeat 4 q)"
}

@test "a line of exactly 998 octets is left whole, in the header and in the body" {
	message "$HEAD"'Subject: %s\n\n%s\n' "$(repeat 989 s)" "$(repeat 998 b)"
	post 0 -f a@example.org b@example.org
	assert_data "$HEAD_CRLF"'Subject: %s\r\n\r\n%s\r\n' "$(repeat 989 s)" "$(repeat 998 b)"
}

@test "the delivery check of every suite fails on a line over 998 octets" {
	mkdir -p "$SMTP_DIR/messages/9"
	printf 'Subject: s\r\n\r\n%s\r\n' "$(repeat 999 x)" >"$SMTP_DIR/messages/9/data"
	run -1 fixture_data_file 9
	assert_output "$SMTP_DIR/messages/9/data: line 3 holds 999 octets, over the 998 of RFC 5322 2.1.1"
	run -1 fixture_data 9
	assert_output "$SMTP_DIR/messages/9/data: line 3 holds 999 octets, over the 998 of RFC 5322 2.1.1"
	printf 'Subject: s\r\n\r\n%s\r\n' "$(repeat 998 x)" >"$SMTP_DIR/messages/9/data"
	run -0 fixture_data_file 9
	assert_output "$SMTP_DIR/messages/9/data"
}
