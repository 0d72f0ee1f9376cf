#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The header fields postie adds, drops and completes, measured against Postfix's cleanup and
# pickup: the fields never passed on, the Resent- block, the user's name in a generated From,
# the Received field of a local submission, and the charset of composed text that is not UTF-8.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
	ME=$(id -un)
}

# base64 of the printf-interpreted argument, on one line.
b64() {
	# shellcheck disable=SC2059 # the argument is the format
	printf "$1" | base64 -w0
}

# The day-time-zone of an RFC 5322 date as postie writes it.
DATE_RE='(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}'

# with_passwd LINE CMD...: runs CMD with /etc/passwd holding only LINE (the entry of uid 0, who
# the user namespace makes the caller), in a private mount namespace; fails under CI=true when
# the kernel offers no such namespace, else skips.
with_passwd() {
	local line=$1
	shift
	printf '%s\n' "$line" >"$BATS_TEST_TMPDIR/passwd"
	if ! unshare -rm true 2>/dev/null; then
		[[ ${CI:-} == true ]] && fail "unshare -rm is refused (CI=true: a skip would be a failure)"
		skip "no user and mount namespaces here"
	fi
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -rm sh -c 'mount --bind "$0" /etc/passwd && exec "$@"' "$BATS_TEST_TMPDIR/passwd" "$@"
}

# make_locale NAME INPUT CHARMAP: compiles a locale under $BATS_FILE_TMPDIR/loc (no root
# needed) and exports LOCPATH; fails under CI=true when the locale sources are missing.
make_locale() {
	export LOCPATH=$BATS_FILE_TMPDIR/loc
	[[ -d $LOCPATH/$1 ]] && return 0
	mkdir -p "$LOCPATH"
	if ! localedef -i "$2" -f "$3" "$LOCPATH/$1" >/dev/null 2>&1 && [[ ! -d $LOCPATH/$1 ]]; then
		[[ ${CI:-} == true ]] && fail "localedef cannot make $1 (the locales package; CI=true: a skip would be a failure)"
		skip "localedef cannot make $1 (install the locales package)"
	fi
}

# --- fields never passed on (item 5) -----------------------------------------------------

@test "Return-Path and Content-Length are removed from a passed-through message, in any case" {
	message 'Return-Path: <bounce@example.org>\nFrom: a@example.org\nTo: b@example.org\ncontent-length: 5\nSubject: s\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <m@x>\nRETURN-PATH: <x@y>\n\nbody\n'
	post 0 b@example.org
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<$ME@example.net>" "RCPT TO:<b@example.org>"
	assert_data 'From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n'
}

@test "-t with a Resent- block sends to its Resent-Bcc and removes it, with Return-Path and Content-Length" {
	message 'Return-Path: <old@example.org>\nResent-From: fwd@example.org\nResent-To: new@example.org\nResent-Bcc: hidden@example.org\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\nResent-Message-ID: <r@x>\nFrom: a@example.org\nTo: b@example.org\nContent-Length: 3\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <m@x>\n\nbody\n'
	post 0 -t -f fwd@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<fwd@example.org>" \
		"RCPT TO:<new@example.org>" "RCPT TO:<hidden@example.org>"
	assert_data 'Resent-From: fwd@example.org\r\nResent-To: new@example.org\r\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nResent-Message-ID: <r@x>\r\nFrom: a@example.org\r\nTo: b@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n'
}

# --- the Resent- block (item 6) ----------------------------------------------------------

@test "a Resent- block gets Resent-Date, Resent-From and Resent-Message-ID at its end, the original no Date or Message-ID" {
	message 'Resent-To: new@example.org\nResent-Cc: c@example.org\nReceived: from x by y; Thu, 26 Nov 2026 11:00:00 +0000\nFrom: a@example.org\nTo: b@example.org\nSubject: s\n\nbody\n'
	NAME='Fred Fwd' post 0 -t -f fwd@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<fwd@example.org>" \
		"RCPT TO:<new@example.org>" "RCPT TO:<c@example.org>"
	run received_header
	assert_line --index 0 'Resent-To: new@example.org'
	assert_line --index 1 'Resent-Cc: c@example.org'
	assert_line --index 2 --regexp "^Resent-Date: $DATE_RE\$"
	assert_line --index 3 'Resent-From: Fred Fwd <fwd@example.org>'
	assert_line --index 4 --regexp '^Resent-Message-ID: <[0-9]{14}\.[0-9]+\.[0-9a-f]{16}@example\.net>$'
	assert_line --index 5 'Received: from x by y; Thu, 26 Nov 2026 11:00:00 +0000'
	assert_line --index 6 'From: a@example.org'
	assert_line --index 7 'To: b@example.org'
	assert_line --index 8 'Subject: s'
	[ "${#lines[@]}" -eq 9 ]
}

@test "a Resent- block missing only Resent-Message-ID gets only that, and its Resent-Bcc is still dropped" {
	message 'Resent-From: fwd@example.org\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\nResent-Bcc: hidden@example.org\nFrom: a@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <m@x>\n\nbody\n'
	post 0 -t -f fwd@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<fwd@example.org>" "RCPT TO:<hidden@example.org>"
	run received_header
	assert_line --index 0 'Resent-From: fwd@example.org'
	assert_line --index 1 'Resent-Date: Fri, 27 Nov 2026 10:00:00 +0000'
	assert_line --index 2 --regexp '^Resent-Message-ID: <.*@example\.net>$'
	assert_line --index 3 'From: a@example.org'
	assert_line --index 4 'Date: Thu, 26 Nov 2026 10:00:00 +0000'
	assert_line --index 5 'Message-ID: <m@x>'
	[ "${#lines[@]}" -eq 6 ]
}

@test "a complete Resent- block and a complete original go out byte for byte" {
	message 'Resent-From: fwd@example.org\nResent-To: new@example.org\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\nResent-Message-ID: <r@x>\nFrom: a@example.org\nTo: b@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <m@x>\n\nbody\n'
	post 0 -t -f fwd@example.org
	assert_data 'Resent-From: fwd@example.org\r\nResent-To: new@example.org\r\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nResent-Message-ID: <r@x>\r\nFrom: a@example.org\r\nTo: b@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n'
}

# --- the user's name in a generated From (item 7) ----------------------------------------

@test "a generated From has \$NAME as its display name" {
	message 'To: b@example.org\nSubject: s\n\nbody\n'
	NAME='Jane Doe' post 0 b@example.org
	run received_header
	assert_line --index 0 'To: b@example.org'
	assert_line --index 1 'Subject: s'
	assert_line --index 2 "From: Jane Doe <$ME@example.net>"
}

@test "-F wins over \$NAME, and \$NAME over nothing in a composed message too" {
	message 'body\n'
	NAME='Jane Doe' post 0 -F 'Backup Job' -s s b@example.org
	run received_header
	assert_line --index 0 "From: Backup Job <$ME@example.net>"
	fixture_reset
	NAME='Jane Doe' post 0 -s s b@example.org
	run received_header
	assert_line --index 0 "From: Jane Doe <$ME@example.net>"
}

@test "a name with RFC 5322 specials is quoted, a non-ASCII one is an encoded-word, control characters are spaces" {
	message 'Subject: s\n\nbody\n'
	NAME='Doe, Jane "JD" (ops)' post 0 b@example.org
	run received_header
	assert_line --index 1 "From: \"Doe, Jane \\\"JD\\\" (ops)\" <$ME@example.net>"
	fixture_reset
	NAME=$'J\xc3\xb6rg M\xc3\xbcller' post 0 b@example.org
	run received_header
	assert_line --index 1 "From: =?UTF-8?B?$(b64 'J\xc3\xb6rg M\xc3\xbcller')?= <$ME@example.net>"
	fixture_reset
	NAME=$'Eve\r\nBcc: x@example.org' post 0 b@example.org
	run received_header
	assert_line --index 1 "From: \"Eve Bcc: x@example.org\" <$ME@example.net>"
	assert_envelope "EHLO example.net" "MAIL FROM:<$ME@example.net>" "RCPT TO:<b@example.org>"
}

@test "with NAME unset the GECOS field names the user: its first part, & the capitalised login" {
	message 'Subject: s\n\nbody\n'
	run -0 with_passwd 'root:x:0:0:Ada &-Lovelace,Room 5,+1 555,:/root:/bin/sh' \
		env -u NAME "$POSTIE" b@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_output ''
	run received_header
	assert_line --index 1 'From: Ada Root-Lovelace <root@example.net>'
}

@test "NAME set and empty, or a GECOS field with no name, gives a From without a name" {
	message 'Subject: s\n\nbody\n'
	NAME='' post 0 b@example.org
	run received_header
	assert_line --index 1 "From: $ME@example.net"
	fixture_reset
	run -0 with_passwd 'root:x:0:0:,,,:/root:/bin/sh' \
		env -u NAME "$POSTIE" b@example.org <"$BATS_TEST_TMPDIR/msg"
	run received_header
	assert_line --index 1 'From: root@example.net'
}

# --- the Received field (item 8) ---------------------------------------------------------

@test "a submitted message gets a Received field first, naming the host and the uid" {
	postie_config 'received yes'
	message 'From: a@example.org\nSubject: s\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <m@x>\n\nbody\n'
	post 0 b@example.org
	assert_output ''
	run received_header
	assert_line --index 0 --regexp "^Received: by [A-Za-z0-9.-]+ \(postie, from userid $(id -u)\);\$"
	assert_line --index 1 --regexp $'^\t'"$DATE_RE\$"
	assert_line --index 2 'From: a@example.org'
	[ "${#lines[@]}" -eq 6 ]
	# folded with CRLF and a tab, as every other line
	assert_only_crlf
	run grep -c $'^\t' "$(fixture_data_file)"
	assert_output 1
}

@test "a composed message gets the Received field too, and received no leaves it out" {
	postie_config 'received yes'
	message 'body\n'
	post 0 -s s b@example.org
	run received_header
	assert_line --index 0 --regexp "^Received: by [A-Za-z0-9.-]+ \(postie, from userid $(id -u)\);\$"
	assert_line --index 2 "From: $ME@example.net"
	fixture_reset
	postie_config 'received yes' 'received no'
	post 0 -s s b@example.org
	run received_header
	assert_line --index 0 "From: $ME@example.net"
	refute_output --partial 'Received'
}

@test "postie -bs prepends the Received field once" {
	postie_config 'received yes'
	printf 'HELO localhost\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\nFrom: a@example.org\nSubject: s\n\nbody\n.\nQUIT\n' >"$BATS_TEST_TMPDIR/dialogue"
	run -0 "$POSTIE" -bs <"$BATS_TEST_TMPDIR/dialogue"
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	run received_header
	assert_line --index 0 --regexp "^Received: by [A-Za-z0-9.-]+ \(postie, from userid $(id -u)\);\$"
	assert_line --index 2 'From: a@example.org'
	run grep -c '^Received:' "$(fixture_data_file)"
	assert_output 1
}

@test "a queued message gets its Received field once, not again on each retry" {
	postie_config 'received yes'
	message 'From: a@example.org\nSubject: s\n\nbody\n'
	fixture_fault mail '451 4.3.0 busy'
	post 0 -f a@example.org b@example.org
	assert_output --regexp 'queued as '
	run -0 postie -q
	[ "$(fixture_count)" -eq 0 ]
	fixture_reset
	sleep 1 # a second Received would have another date
	run -0 postie -q
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	run grep -c '^Received:' "$(fixture_data_file)"
	assert_output 1
	run received_header
	assert_line --index 0 --regexp "^Received: by [A-Za-z0-9.-]+ \(postie, from userid $(id -u)\);\$"
	assert_line --index 2 'From: a@example.org'
}

# --- the charset of composed text that is not UTF-8 (item 10) ----------------------------

@test "composed text that is not UTF-8 is labelled with the locale's charset (ISO-8859-1)" {
	make_locale de_DE.ISO-8859-1 de_DE ISO-8859-1
	printf 'caf\xe9 cr\xe8me\n' >"$BATS_TEST_TMPDIR/msg"
	LC_ALL=de_DE.ISO-8859-1 post 0 -s $'r\xe9sum\xe9' b@example.org
	assert_output ''
	run received_header
	assert_line --index 2 "Subject: =?ISO-8859-1?B?$(b64 'r\xe9sum\xe9')?="
	assert_line 'Content-Type: text/plain; charset=ISO-8859-1'
	assert_line 'Content-Transfer-Encoding: quoted-printable'
	run received_body
	assert_output 'caf=E9 cr=E8me'
}

@test "composed UTF-8 text in an ISO-8859-1 locale is still labelled utf-8" {
	make_locale de_DE.ISO-8859-1 de_DE ISO-8859-1
	printf 'caf\xc3\xa9\n' >"$BATS_TEST_TMPDIR/msg"
	LC_ALL=de_DE.ISO-8859-1 post 0 -s $'r\xc3\xa9sum\xc3\xa9' b@example.org
	run received_header
	assert_line --index 2 "Subject: =?UTF-8?B?$(b64 'r\xc3\xa9sum\xc3\xa9')?="
	assert_line 'Content-Type: text/plain; charset=utf-8'
	assert_line 'Content-Transfer-Encoding: 8bit'
}

@test "composed text that is not UTF-8 in a UTF-8 or C locale is labelled unknown-8bit" {
	printf 'caf\xe9\n' >"$BATS_TEST_TMPDIR/msg"
	local loc
	for loc in C.UTF-8 C; do
		fixture_reset
		LC_ALL=$loc post 0 -s $'r\xe9sum\xe9' b@example.org
		run received_header
		assert_line --index 2 "Subject: =?unknown-8bit?B?$(b64 'r\xe9sum\xe9')?="
		assert_line 'Content-Type: text/plain; charset=unknown-8bit'
		assert_line 'Content-Transfer-Encoding: quoted-printable'
		run received_body
		assert_output 'caf=E9'
	done
}

@test "a composed recipient's or -F name that is not UTF-8 is labelled with the locale's charset" {
	make_locale de_DE.ISO-8859-1 de_DE ISO-8859-1
	printf 'body\n' >"$BATS_TEST_TMPDIR/msg"
	LC_ALL=de_DE.ISO-8859-1 post 0 -F $'J\xf6rg' -s s $'M\xfcller <b@example.org>'
	run received_header
	assert_line --index 0 "From: =?ISO-8859-1?B?$(b64 'J\xf6rg')?= <$ME@example.net>"
	assert_line --index 1 "To: =?ISO-8859-1?B?$(b64 'M\xfcller')?= <b@example.org>"
}
