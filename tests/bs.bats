#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# postie -bs: SMTP on stdin and stdout, driven by real clients over a pipe (swaks --pipe, and
# Python's smtplib over a socketpair) and by whole dialogues written in one piece. What it
# accepts goes through the same engine and queue as a normal send: the relay's envelope and
# bytes are checked, and the 250 after the final dot means delivered or durably queued.

# shellcheck disable=SC2154 # $stderr comes from bats' run --separate-stderr
load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 5'
	Q=$BATS_TEST_TMPDIR/queue
	DATA_GO='354 End data with <CR><LF>.<CR><LF>'
	SENT='^250 2\.0\.0 (Ok: sent|(Ok: )?queued as [0-9a-f-]+)$'
}

# After `run ... postie -bs`: fails unless every reply line ends in CRLF, then leaves the
# replies without their CRs in $output and $lines; DOMAIN is the name the greeting gives.
crlf_replies() {
	local l
	for l in "${lines[@]}"; do
		[[ $l == *$'\r' ]] || fail "a reply line without CRLF: $l"
	done
	lines=("${lines[@]%$'\r'}")
	output=$(printf '%s\n' "${lines[@]}")
	DOMAIN=${lines[0]#220 }
	DOMAIN=${DOMAIN% postie ESMTP}
	[[ ${lines[0]} == "220 $DOMAIN postie ESMTP" && -n $DOMAIN ]] ||
		fail "not a postie greeting: ${lines[0]}"
}

# bs STATUS FORMAT [ARGS...]: `postie -bs` reads the printf-interpreted dialogue, written in
# one piece (so every command arrives pipelined), and must exit STATUS; then crlf_replies.
bs() {
	local status=$1
	shift
	# shellcheck disable=SC2059 # the format is the dialogue
	printf "$@" >"$BATS_TEST_TMPDIR/dialogue"
	run "-$status" --separate-stderr "$POSTIE" -bs <"$BATS_TEST_TMPDIR/dialogue"
	crlf_replies
}

# assert_replies LINE...: the replies are exactly these lines.
assert_replies() {
	assert_output "$(printf '%s\n' "$@")"
}

# started_reading PID: waits (up to 30 s) until process PID has read from its standard input.
started_reading() {
	local _ pos
	for _ in $(seq 300); do
		pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$1/fdinfo/0" 2>/dev/null)
		[ "${pos:-0}" -gt 0 ] && return
		sleep 0.1
	done
	echo "process $1 never read its standard input" >&2
	return 1
}

# sigterm_while_blocked FILL WAIT...: runs `postie -bs` on $BATS_TEST_TMPDIR/dialogue, its
# replies going to a FIFO that is held open but never read (FILL bytes already in it; 65536
# fills it), runs WAIT..., then sends SIGTERM and asserts exit 75 within 30 s, far less than
# the configured timeout. postie's stderr is left in $BATS_TEST_TMPDIR/err.
sigterm_while_blocked() {
	local fill=$1 rw pid status=0 start
	shift
	mkfifo "$BATS_TEST_TMPDIR/replies"
	exec {rw}<>"$BATS_TEST_TMPDIR/replies"
	[ "$fill" -eq 0 ] || head -c "$fill" /dev/zero >&"$rw"
	"$POSTIE" -bs <"$BATS_TEST_TMPDIR/dialogue" >"$BATS_TEST_TMPDIR/replies" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	# its signal handlers are in place once it reads the dialogue: a SIGTERM before that would
	# find the default action (exit 143), which is no test of postie (seen under valgrind)
	started_reading "$pid"
	"$@"
	start=$SECONDS
	kill -TERM "$pid"
	wait "$pid" || status=$?
	exec {rw}<&-
	assert_equal "$status" 75
	[ $((SECONDS - start)) -lt 30 ]
}

# Waits (up to 30 s) until the fixture holds the final dot of session 1 under a delay fault.
relay_holds_dot() {
	local _
	for _ in $(seq 300); do
		grep -q -- '^-- delaying eod by ' "$SMTP_DIR/sessions/1.log" 2>/dev/null && return
		sleep 0.1
	done
}

# smtplib_session: runs the Python code on stdin with `smtp`, an smtplib.SMTP talking to
# `postie -bs` through a socketpair (postie's stdin and stdout are the socket); prints the
# greeting first and postie's exit status last ("exit N").
smtplib_session() {
	/usr/bin/python3 -I -c '
import smtplib, socket, subprocess, sys
a, b = socket.socketpair()
postie = subprocess.Popen([sys.argv[1], "-bs"], stdin=b, stdout=b)
b.close()
smtp = smtplib.SMTP(local_hostname="client.example")
smtp.sock = a
code, text = smtp.getreply()
print(code, text.decode())
exec(sys.stdin.read())
a.close()
print("exit", postie.wait())
' "$POSTIE"
}

@test "swaks sends one message through postie -bs and the relay gets it" {
	require_cmd swaks
	run -0 swaks --pipe "$POSTIE -bs" --from a@example.org --to b@example.org \
		--h-Subject 'over a pipe' --body 'hello through -bs'
	assert_line --regexp '^<[-~] +220 .* postie ESMTP$'
	assert_line --regexp '^<[-~] +250 2\.0\.0 (Ok: sent|(Ok: )?queued as )'
	assert_line --regexp '^<[-~] +221 2\.0\.0 '
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	run received_header
	assert_line 'Subject: over a pipe'
	run received_body
	assert_output 'hello through -bs'
}

@test "swaks with --pipeline sends its commands in groups and every reply comes in order" {
	require_cmd swaks
	run -0 swaks --pipeline --pipe "$POSTIE -bs" --from a@example.org \
		--to b@example.org,c@example.org --body 'pipelined'
	assert_line --regexp '^<[-~] +250-PIPELINING$'
	assert_line --regexp '^<[-~] +250 2\.0\.0 (Ok: sent|(Ok: )?queued as )'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" \
		"RCPT TO:<b@example.org>" "RCPT TO:<c@example.org>"
}

@test "the tutorial session works verbatim, bare names qualified with the configured domain" {
	bs 0 'HELO localhost\r\nMAIL FROM: philip\r\nRCPT TO: philip\r\nDATA\r\nthis is a test\r\n.\r\nQUIT\r\n'
	[ "${#lines[@]}" -eq 7 ]
	assert_line --index 0 "220 $DOMAIN postie ESMTP"
	assert_line --index 1 "250 $DOMAIN"
	assert_line --index 2 '250 2.1.0 Ok'
	assert_line --index 3 '250 2.1.5 Ok'
	assert_line --index 4 "$DATA_GO"
	assert_line --index 5 --regexp "$SENT"
	assert_line --index 6 '221 2.0.0 Bye'
	assert_envelope "EHLO example.net" "MAIL FROM:<philip@example.net>" "RCPT TO:<philip@example.net>"
	grep -q 'this is a test' "$(fixture_data_file)"
}

@test "the tutorial session typed with bare LFs, as a script pipes it, works the same" {
	bs 0 'HELO localhost\nMAIL FROM: philip\nRCPT TO: philip\nDATA\nthis is a test\n.\nQUIT\n'
	assert_line --index 5 --regexp "$SENT"
	assert_envelope "EHLO example.net" "MAIL FROM:<philip@example.net>" "RCPT TO:<philip@example.net>"
	assert_only_crlf
}

@test "EHLO advertises PIPELINING, 8BITMIME, SIZE, ENHANCEDSTATUSCODES and HELP" {
	bs 0 'EHLO client.example\r\nQUIT\r\n'
	assert_line --index 1 "250-$DOMAIN"
	assert_line --index 2 '250-PIPELINING'
	assert_line --index 3 '250-8BITMIME'
	assert_line --index 4 --regexp '^250-SIZE( [0-9]+)?$'
	assert_line --index 5 '250-ENHANCEDSTATUSCODES'
	assert_line --index 6 '250 HELP'
	assert_line --index 7 '221 2.0.0 Bye'
}

@test "smtplib sends three messages in one session, with RSET between them" {
	run -0 smtplib_session <<-'PY'
		for i in (1, 2, 3):
		    refused = smtp.sendmail("a@example.org", ["r%d@example.org" % i],
		                            "Subject: m%d\r\n\r\nbody %d\r\n" % (i, i))
		    print("refused", refused)
		    print("rset", smtp.rset()[0])
		print("quit", smtp.quit()[0])
	PY
	assert_line --index 0 --regexp '^220 .* postie ESMTP$'
	assert_line --index 1 'refused {}'
	assert_line --index 2 'rset 250'
	assert_line --index 7 'quit 221'
	assert_line --index 8 'exit 0'
	[ "$(fixture_count)" -eq 3 ]
	for i in 1 2 3; do
		assert_envelope -n "$i" "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r$i@example.org>"
		run received_body "$i"
		assert_output "body $i"
	done
}

@test "a body with dots arrives byte for byte after smtplib stuffs it and postie unstuffs it" {
	run -0 smtplib_session <<-'PY'
		msg = ("From: a@example.org\r\nTo: b@example.org\r\nSubject: dots\r\n"
		       "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dots@x>\r\n\r\n"
		       ".\r\n..x\r\n.x\r\n...\r\nend\r\n")
		print("refused", smtp.sendmail("a@example.org", ["b@example.org"], msg))
		smtp.quit()
	PY
	assert_line 'refused {}'
	assert_data 'From: a@example.org\r\nTo: b@example.org\r\nSubject: dots\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dots@x>\r\n\r\n.\r\n..x\r\n.x\r\n...\r\nend\r\n'
}

@test "pipelined commands in one write are answered in order, the message sent once" {
	bs 0 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\nSubject: p\r\n\r\none\r\n.\r\nNOOP\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\nSubject: q\r\n\r\ntwo\r\n.\r\nQUIT\r\n'
	[ "${#lines[@]}" -eq 19 ]
	assert_line --index 6 '250 HELP'
	assert_line --index 7 '250 2.1.0 Ok'
	assert_line --index 8 '250 2.1.5 Ok'
	assert_line --index 9 '250 2.1.5 Ok'
	assert_line --index 10 "$DATA_GO"
	assert_line --index 11 --regexp "$SENT"
	assert_line --index 12 '250 2.0.0 Ok'
	assert_line --index 13 '250 2.0.0 Ok'
	assert_line --index 14 '250 2.1.0 Ok'
	assert_line --index 15 '250 2.1.5 Ok'
	assert_line --index 16 "$DATA_GO"
	assert_line --index 17 --regexp "$SENT"
	assert_line --index 18 '221 2.0.0 Bye'
	[ "$(fixture_count)" -eq 2 ]
	assert_envelope -n 1 "EHLO example.net" "MAIL FROM:<a@example.org>" \
		"RCPT TO:<b@example.org>" "RCPT TO:<c@example.org>"
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<d@example.org>"
}

@test "commands out of order get 503 5.5.1 (or 554 when every recipient was refused)" {
	bs 0 'RCPT TO:<b@example.org>\r\nDATA\r\nMAIL FROM:<a@example.org>\r\nMAIL FROM:<a@example.org>\r\nDATA\r\nQUIT\r\n'
	assert_replies "220 $DOMAIN postie ESMTP" \
		'503 5.5.1 Error: need MAIL command' \
		'503 5.5.1 Error: need MAIL command' \
		'250 2.1.0 Ok' \
		'503 5.5.1 Error: nested MAIL command' \
		'503 5.5.1 Error: need RCPT command' \
		'221 2.0.0 Bye'
	[ "$(fixture_count)" -eq 0 ]
}

@test "an unknown command gets 500 5.5.2, bad syntax 501 and an unoffered one 502" {
	bs 0 'FROB\r\nHELO\r\nMAIL TO:<a@example.org>\r\nMAIL FROM:<a@example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<>\r\nDATA now\r\nEXPN staff\r\nVRFY philip\r\nHELP\r\nNOOP\r\nQUIT\r\n'
	assert_replies "220 $DOMAIN postie ESMTP" \
		'500 5.5.2 Error: command not recognized' \
		'501 5.5.4 Syntax: HELO hostname' \
		'501 5.5.4 Syntax: MAIL FROM:<address>' \
		'501 5.1.7 Bad sender address syntax' \
		'250 2.1.0 Ok' \
		'501 5.1.3 Bad recipient address syntax' \
		'501 5.5.4 Syntax: DATA' \
		'502 5.5.1 Error: command not implemented' \
		'252 2.5.2 Cannot verify the address; send mail to it and delivery will be attempted' \
		'214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT' \
		'250 2.0.0 Ok' \
		'221 2.0.0 Bye'
}

@test "an invalid recipient address gets a 5xx from postie's own check and the others go on" {
	bs 0 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\nSubject: x\r\n\r\nx\r\n.\r\nQUIT\r\n'
	assert_line --index 3 --regexp '^5[0-9][0-9] 5\.1\.[0-9] '
	assert_line --index 4 '250 2.1.5 Ok'
	assert_line --index 6 --regexp "$SENT"
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<c@example.org>"
}

@test "a 1500-octet command line gets 500 5.5.6 and the next command is answered" {
	long=$(printf 'x%.0s' {1..1494})
	bs 0 "NOOP $long\\r\\nNOOP\\r\\nQUIT\\r\\n"
	assert_replies "220 $DOMAIN postie ESMTP" '500 5.5.6 Error: line too long' \
		'250 2.0.0 Ok' '221 2.0.0 Bye'
}

@test "a RCPT past the recipient limit gets 452 4.5.3, and at least 100 are taken first" {
	{
		printf 'HELO c\r\nMAIL FROM:<a@example.org>\r\n'
		for i in {1..1001}; do printf 'RCPT TO:<r%d@example.org>\r\n' "$i"; done
		printf 'QUIT\r\n'
	} >"$BATS_TEST_TMPDIR/dialogue"
	run -0 --separate-stderr "$POSTIE" -bs <"$BATS_TEST_TMPDIR/dialogue"
	crlf_replies
	accepted=$(grep -c '^250 2\.1\.5 Ok$' <<<"$output")
	refused=$(grep -c '^452 4\.5\.3 ' <<<"$output")
	((accepted >= 100 && refused >= 1 && accepted + refused == 1001))
	# once the limit is reached, every further RCPT gets 452
	run sed -n '4,$p' <<<"$output"
	assert_output "$(for ((i = 0; i < accepted; i++)); do echo '250 2.1.5 Ok'; done
		for ((i = 0; i < refused; i++)); do echo '452 4.5.3 Error: too many recipients'; done
		echo '221 2.0.0 Bye')"
}

@test "the input ending mid-DATA delivers nothing and exits 76" {
	bs 76 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess'
	assert_replies "220 $DOMAIN postie ESMTP" "250 $DOMAIN" '250 2.1.0 Ok' '250 2.1.5 Ok' "$DATA_GO"
	assert_equal "${stderr##*$'\n'}" 'postie: input ended in the middle of DATA: the message was dropped'
	[ "$(fixture_count)" -eq 0 ]
	[ -z "$(ls -A "$Q/q" 2>/dev/null)" ]
}

@test "the input ending without QUIT drops the open transaction and exits 76" {
	bs 76 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n'
	assert_replies "220 $DOMAIN postie ESMTP" "250 $DOMAIN" '250 2.1.0 Ok' '250 2.1.5 Ok'
	assert_equal "$stderr" 'postie: input ended without QUIT: the open transaction was dropped'
	[ "$(fixture_count)" -eq 0 ]
}

@test "a message accepted before the input ends without QUIT is still delivered" {
	bs 76 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n\r\nkept\r\n.\r\n'
	assert_line --index 5 --regexp "$SENT"
	assert_equal "$stderr" 'postie: input ended without QUIT'
	[ "$(fixture_count)" -eq 1 ]
}

@test "a client that stops reading the replies: exit 75 after the timeout, nothing delivered" {
	postie_config 'timeout 2'
	# 2.8 MB of replies into a pipe whose reader never reads: write(2) would block for ever
	printf 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n' >"$BATS_TEST_TMPDIR/dialogue"
	yes NOOP | head -n 200000 >>"$BATS_TEST_TMPDIR/dialogue"
	printf 'DATA\r\nSubject: x\r\n\r\nnever\r\n.\r\nQUIT\r\n' >>"$BATS_TEST_TMPDIR/dialogue"
	mkfifo "$BATS_TEST_TMPDIR/replies"
	local reader
	exec {reader}<>"$BATS_TEST_TMPDIR/replies"
	run -75 --separate-stderr timeout -k 5 30 bash -c 'exec "$1" -bs <"$2" >"$3"' _ \
		"$POSTIE" "$BATS_TEST_TMPDIR/dialogue" "$BATS_TEST_TMPDIR/replies"
	exec {reader}<&-
	assert_equal "$stderr" 'postie: timed out after 2 s writing to the SMTP client'
	[ "$(fixture_count)" -eq 0 ]
	[ -z "$(ls -A "$Q/q" 2>/dev/null)" ]
}

@test "SIGTERM while blocked writing replies to a client that stops reading: exit 75 at once" {
	postie_config 'timeout 60'
	printf 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n' >"$BATS_TEST_TMPDIR/dialogue"
	yes NOOP | head -n 200000 >>"$BATS_TEST_TMPDIR/dialogue"
	printf 'DATA\r\nSubject: x\r\n\r\nnever\r\n.\r\nQUIT\r\n' >>"$BATS_TEST_TMPDIR/dialogue"
	# the pipe takes 64 KiB of the 2.8 MB of replies: then postie waits to write
	sigterm_while_blocked 0 sleep 1
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" 'postie: interrupted by a signal'
	[ "$(fixture_count)" -eq 0 ]
	[ -z "$(ls -A "$Q/q" 2>/dev/null)" ]
}

@test "SIGTERM during a delivery, the replies' pipe full: the entry is queued, exit 75 at once" {
	postie_config 'timeout 60'
	fixture_fault delay eod 3
	printf 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n' >"$BATS_TEST_TMPDIR/dialogue"
	# the pipe is full from the start: no reply can be written; the signal comes while the
	# relay holds the final dot (3 s), however slow postie runs
	sigterm_while_blocked 65536 relay_holds_dot
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --index 0 --regexp "^postie: smtp://127\.0\.0\.1:$SMTP_PORT unavailable \(interrupted during the message\); queued as [0-9a-f-]+, delivered by 'postie -q'$"
	assert_line --index 1 'postie: interrupted by a signal'
	[ "${#lines[@]}" -eq 2 ]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 1 ]
}

@test "SIGTERM while waiting for a command: 421 4.3.2 at once and exit 75, not the timeout" {
	postie_config 'timeout 60'
	run -0 --separate-stderr /usr/bin/python3 -I -c '
import signal, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "-bs"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print(p.stdout.readline().decode().rstrip())
p.stdin.write(b"HELO c\r\n"); p.stdin.flush()
print(p.stdout.readline().decode().rstrip())
t0 = time.monotonic()
p.send_signal(signal.SIGTERM)
print(repr(p.stdout.readline().decode()))
print("exit", p.wait(), "fast" if time.monotonic() - t0 < 10 else "slow")
' "$POSTIE"
	assert_line --index 2 --regexp "^'421 4\.3\.2 .* shutting down\\\\r\\\\n'\$"
	assert_line --index 3 'exit 75 fast'
	assert_equal "$stderr" 'postie: interrupted by a signal'
	[ "$(fixture_count)" -eq 0 ]
}

@test "RCPT TO a local name or a local-domain address goes through the aliases, as an operand does" {
	printf 'root: admin@corp.example\nalice: alice@corp.example, bob@corp.example\n' >"$BATS_TEST_TMPDIR/aliases"
	postie_config 'timeout 5' "aliases $BATS_TEST_TMPDIR/aliases"
	bs 0 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<root@localhost>\r\nRCPT TO:<alice>\r\nRCPT TO:<carol>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n'
	assert_line --index 7 --regexp "$SENT"
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<admin@corp.example>" \
		"RCPT TO:<alice@corp.example>" "RCPT TO:<bob@corp.example>" "RCPT TO:<carol@example.net>"
}

@test "the DATA's To: root is qualified, not expanded: alias targets stay in the envelope" {
	printf 'root: admin@example.org, audit-archive@hidden.example\n' >"$BATS_TEST_TMPDIR/aliases"
	postie_config 'timeout 5' "aliases $BATS_TEST_TMPDIR/aliases"
	bs 0 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<root>\r\nDATA\r\nFrom: a@example.org\r\nTo: root\r\nCc: root@localhost\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <b@host>\r\n\r\nhi\r\n.\r\nQUIT\r\n'
	assert_line --index 5 --regexp "$SENT"
	assert_data 'From: a@example.org\r\nTo: root@example.net\r\nCc: root@example.net\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <b@host>\r\n\r\nhi\r\n'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<admin@example.org>" \
		"RCPT TO:<audit-archive@hidden.example>"
}

@test "a relay that is down: the final dot gets 250 queued as ID and the queue holds it" {
	fixture_fault greeting '421 4.3.2 down'
	bs 0 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: later\r\n\r\nqueued\r\n.\r\nQUIT\r\n'
	assert_line --index 5 --regexp '^250 2\.0\.0 (Ok: )?queued as [0-9a-f-]+$'
	id=$(sed -n 's/^250 2\.0\.0 .*queued as \([0-9a-f-]*\)$/\1/p' <<<"$output")
	[ "$(fixture_count)" -eq 0 ]
	[ -f "$Q/q/$id.msg" ]
	[ -f "$Q/q/$id.env" ]
	grep -qx 'rcpt <b@example.org>' "$Q/q/$id.env"
	grep -q '^queued' "$Q/q/$id.msg"
}

@test "a recipient the relay defers that cannot be queued: 451 after the final dot, not 250" {
	printf 'not a directory\n' >"$Q"
	fixture_fault rcpt '451 4.2.0 try later' c@example.org
	bs 0 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\nSubject: x\r\n\r\nhalf\r\n.\r\nQUIT\r\n'
	assert_line --index 6 --regexp '^451 4\.3\.0 not delivered to every recipient, and the rest could not be queued'
	assert_line --index 7 '221 2.0.0 Bye'
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	[[ $stderr == *"postie: 1 recipient not queued ("*"): the message was not delivered to it"* ]]
}

@test "a relay refusing the message: its 554 5.7.1 is passed on after the final dot" {
	fixture_fault eod '554 5.7.1 no'
	bs 0 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: no\r\n\r\nrefused\r\n.\r\nQUIT\r\n'
	assert_line --index 5 '554 5.7.1 no'
	assert_line --index 6 '221 2.0.0 Bye'
	[ "$(fixture_count)" -eq 0 ]
	[ "$(fixture_count rejected)" -eq 1 ]
	[ -z "$(ls -A "$Q/q" 2>/dev/null)" ]
}

@test "a relay refusing the first message does not stop the second in the same session" {
	fixture_fault rcpt '550 5.1.1 no such user' nobody@example.org
	bs 0 'HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\nSubject: 1\r\n\r\none\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: 2\r\n\r\ntwo\r\n.\r\nQUIT\r\n'
	assert_line --index 5 --regexp '^550 5\.1\.1 '
	assert_line --index 9 --regexp "$SENT"
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
}
