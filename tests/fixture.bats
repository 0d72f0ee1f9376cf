#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Self-test of tests/fixtures/smtpd.py and tests/helpers.bash, driven by a raw Python client
# (and swaks), never by postie: when a postie suite fails, this one says whether to trust it.

load helpers

setup_file() {
	make_test_ca "$BATS_FILE_TMPDIR/ca"
	local ca=$BATS_FILE_TMPDIR/ca

	fixture_start --auth-user alice --auth-password 's3cret pw' --auth-token tok-123
	export PLAIN_DIR=$SMTP_DIR PLAIN_PORT=$SMTP_PORT PLAIN_PID=$SMTP_PID

	fixture_start --starttls --require-starttls --tls-cert "$ca/server.pem" --tls-key "$ca/server.key" \
		--auth-user alice --auth-password 's3cret pw'
	export STARTTLS_DIR=$SMTP_DIR STARTTLS_PORT=$SMTP_PORT STARTTLS_PID=$SMTP_PID

	fixture_start --implicit-tls --tls-cert "$ca/server.pem" --tls-key "$ca/server.key"
	export IMPLICIT_DIR=$SMTP_DIR IMPLICIT_PORT=$SMTP_PORT IMPLICIT_PID=$SMTP_PID

	fixture_start --implicit-tls --tls-cert "$ca/untrusted.pem" --tls-key "$ca/untrusted.key"
	export UNTRUSTED_DIR=$SMTP_DIR UNTRUSTED_PORT=$SMTP_PORT UNTRUSTED_PID=$SMTP_PID

	use_server PLAIN

	# smtp_chat's client: sends each step verbatim and prints the reply it gets.
	cat >"$BATS_FILE_TMPDIR/smtp_chat.py" <<-'PY'
		import os, socket, ssl, sys, time
		args = sys.argv[1:]
		ca, implicit = None, False
		while args[0].startswith("--"):
		    opt = args.pop(0)
		    if opt == "--tls-ca":
		        ca = args.pop(0)
		    elif opt == "--implicit-tls":
		        implicit = True
		    else:
		        sys.exit("smtp_chat: unknown option " + opt)
		port = int(args.pop(0))
		sock = socket.create_connection(("127.0.0.1", port), timeout=30)
		pending = b""

		def closed():
		    print("-- closed")
		    sys.exit(0)

		def start_tls():
		    global sock
		    context = ssl.create_default_context(cafile=ca)
		    try:
		        sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
		    except (ssl.SSLError, OSError) as e:
		        print("-- TLS failed:", getattr(e, "reason", None) or e)
		        sys.exit(0)
		    print("-- TLS", sock.version())

		def reply():
		    global pending
		    while True:
		        while b"\r\n" not in pending:
		            try:
		                data = sock.recv(65536)
		            except (ConnectionError, ssl.SSLError):
		                data = b""
		            if not data:
		                if pending:
		                    print("-- partial:", pending)
		                closed()
		            pending += data
		        line, pending = pending.split(b"\r\n", 1)
		        print(line.decode("utf-8", "backslashreplace"))
		        if line[3:4] != b"-":
		            return line

		if implicit:
		    start_tls()
		reply()
		for step in args:
		    if step.startswith("@sleep:"):
		        time.sleep(float(step[7:]))
		        continue
		    if step.startswith("@wait-file:"):
		        deadline = time.time() + 10
		        while not os.path.exists(step[11:]) and time.time() < deadline:
		            time.sleep(0.02)
		        continue
		    if step.startswith("@file:"):
		        with open(step[6:], "rb") as f:
		            data = f.read()
		    elif step == "@starttls":
		        data = b"STARTTLS\r\n"
		    else:
		        data = step.encode("utf-8").decode("unicode_escape").encode("latin-1")
		    try:
		        sock.sendall(data)
		    except (ConnectionError, ssl.SSLError):
		        closed()
		    line = reply()
		    if step == "@starttls" and line.startswith(b"220"):
		        start_tls()
	PY
}

teardown_file() {
	local name pid
	for name in PLAIN STARTTLS IMPLICIT UNTRUSTED; do
		pid=${name}_PID
		SMTP_PID=${!pid} fixture_stop
	done
}

setup() {
	use_server PLAIN
	fixture_reset
}

# use_server PLAIN|STARTTLS|IMPLICIT|UNTRUSTED: point SMTP_* (and so the helpers) at one server.
use_server() {
	local dir=${1}_DIR port=${1}_PORT pid=${1}_PID
	export SMTP_DIR=${!dir} SMTP_PORT=${!port} SMTP_PID=${!pid}
}

# smtp_chat [--tls-ca FILE] [--implicit-tls] STEP...: one connection to $SMTP_PORT. Prints the
# greeting, then sends each STEP (backslash escapes decoded; nothing appended) and prints the
# reply. @starttls negotiates TLS, @file:PATH sends a file, @sleep:S waits, @wait-file:PATH
# waits (10 s at most) for PATH to exist. "-- closed" when the server hangs up, "-- TLS
# failed: why" when the handshake or the verification fails.
smtp_chat() {
	local opts=()
	while [[ $1 == --* ]]; do
		opts+=("$1")
		[[ $1 == --tls-ca ]] && opts+=("$2") && shift
		shift
	done
	"$FIXTURE_PYTHON" -I -B "$BATS_FILE_TMPDIR/smtp_chat.py" "${opts[@]}" "$SMTP_PORT" "$@"
}

GREETING='220 fixture.invalid postie test fixture'
EHLO_REPLY='250-fixture.invalid
250-SIZE 1073741824
250-8BITMIME
250-SMTPUTF8
250-AUTH LOGIN PLAIN XOAUTH2
250 HELP'

# One whole transaction from EHLO to QUIT around a DATA step.
transaction() { # body [rcpt...]
	local body=$1 rcpt steps=()
	shift
	steps=('EHLO client.example.org\r\n' 'MAIL FROM:<alice@example.org>\r\n')
	for rcpt in "${@:-bob@example.org}"; do
		steps+=("RCPT TO:<$rcpt>\\r\\n")
	done
	steps+=('DATA\r\n' "$body" 'QUIT\r\n')
	smtp_chat "${steps[@]}"
}

# --- recording ----------------------------------------------------------------------------

@test "a message is recorded with its envelope, its exact data and the reply after the dot" {
	run -0 smtp_chat 'EHLO client.example.org\r\n' \
		'MAIL FROM:<alice@example.org> SIZE=40 BODY=8BITMIME\r\n' \
		'RCPT TO:<bob@example.org>\r\n' 'RCPT TO:<carol@example.org>\r\n' \
		'DATA\r\n' 'Subject: hi\r\n\r\nHello.\r\n.\r\n' 'QUIT\r\n'
	assert_output "$GREETING
$EHLO_REPLY
250 OK
250 OK
250 OK
354 End data with <CR><LF>.<CR><LF>
250 OK
221 Bye"
	assert_equal "$(fixture_count)" 1
	assert_file_bytes "$(fixture_file envelope)" 'EHLO client.example.org
MAIL FROM:<alice@example.org> SIZE=40 BODY=8BITMIME
RCPT TO:<bob@example.org>
RCPT TO:<carol@example.org>
'
	assert_file_bytes "$(fixture_data_file)" 'Subject: hi\r\n\r\nHello.\r\n'
	run -0 fixture_reply
	assert_output '250 OK'
}

@test "the session log is a C:/S: transcript and the wire file holds every byte sent" {
	run -0 transaction 'one\r\n.\r\n'
	run -0 fixture_session_log 1
	assert_line --index 1 "S: $GREETING"
	assert_line --index 2 'C: EHLO client.example.org'
	assert_line 'S: 250-SMTPUTF8'
	assert_line 'C: RCPT TO:<bob@example.org>'
	assert_line 'C: [5 bytes of message data]'
	assert_line 'C: .'
	assert_line 'C: QUIT'
	assert_line 'S: 221 Bye'
	assert_file_bytes "$(fixture_wire_file 1)" 'EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\none\r\n.\r\nQUIT\r\n'
}

@test "dot-stuffed lines arrive unstuffed while the wire keeps the stuffed bytes" {
	run -0 transaction '..x\r\n..\r\n...\r\nmid.dle\r\n.\r\n'
	assert_file_bytes "$(fixture_data_file)" '.x\r\n.\r\n..\r\nmid.dle\r\n'
	run -0 grep -c -F $'\r\n..x\r\n..\r\n...\r\nmid.dle\r\n.\r\nQUIT' "$(fixture_wire_file)"
}

@test "bare LF and bare CR are recorded as sent and only CRLF.CRLF ends the message" {
	run -0 transaction 'a\nb\rc\r\n\n.\r\n.\n\r\nlast\r\r\n.\r\n'
	assert_line '250 OK'
	# "\n.\r\n" is no end of data (not after CRLF); ".\n" is a stuffed line whose dot goes.
	assert_file_bytes "$(fixture_data_file)" 'a\nb\rc\r\n\n.\r\n\n\r\nlast\r\r\n'
}

@test "an empty message is recorded as an empty data file" {
	run -0 transaction '.\r\n'
	assert_equal "$(fixture_count)" 1
	assert_file_bytes "$(fixture_data_file)" ''
}

@test "messages are numbered in order of arrival, across connections and within one" {
	run -0 transaction 'first\r\n.\r\n'
	run -0 smtp_chat 'HELO client\r\n' \
		'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' 'second\r\n.\r\n' \
		'MAIL FROM:<c@example.org>\r\n' 'RCPT TO:<d@example.org>\r\n' 'DATA\r\n' 'third\r\n.\r\n'
	assert_equal "$(fixture_count)" 3
	assert_file_bytes "$(fixture_data_file 1)" 'first\r\n'
	assert_file_bytes "$(fixture_data_file 2)" 'second\r\n'
	assert_file_bytes "$(fixture_data_file 3)" 'third\r\n'
	assert_file_bytes "$(fixture_file envelope 3)" 'HELO client\nMAIL FROM:<c@example.org>\nRCPT TO:<d@example.org>\n'
	[[ -f $SMTP_DIR/sessions/2.log && ! -e $SMTP_DIR/sessions/3.log ]]
}

@test "a 5 MiB message with lines longer than 1000 bytes passes byte for byte" {
	local msg=$BATS_TEST_TMPDIR/big
	"$FIXTURE_PYTHON" -I - "$msg" <<-'PY'
		import random, sys
		rnd = random.Random(7)
		lines = []
		while sum(map(len, lines)) < 5 << 20:
		    n = rnd.choice([0, 1, 76, 998, 5000, 70000])
		    lines.append(bytes(rnd.choice(b".abc\xff \t") for _ in range(n)) + b"\r\n")
		data = b"".join(lines)
		open(sys.argv[1] + ".expected", "wb").write(data)
		stuffed = b"".join(b"." + l if l.startswith(b".") else l for l in lines)
		open(sys.argv[1], "wb").write(stuffed + b".\r\n")
	PY
	run -0 smtp_chat 'EHLO c\r\n' 'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' \
		'DATA\r\n' "@file:$msg" 'QUIT\r\n'
	assert_line --index 10 '250 OK'
	# the server's own record of a raw client's long lines: fixture_file, not fixture_data_file,
	# whose check that no delivery line passes 998 octets is for what postie sends
	cmp "$msg.expected" "$(fixture_file data)"
}

@test "the DATA scanner unstuffs the same bytes however the input is split" {
	run -0 "$FIXTURE_PYTHON" -I -B - "$FIXTURE_SMTPD" <<-'PY'
		import importlib.util, io, random, sys
		spec = importlib.util.spec_from_file_location("fixture_smtpd", sys.argv[1])
		smtpd = importlib.util.module_from_spec(spec)
		spec.loader.exec_module(smtpd)

		def by_lines(stream):
		    """RFC 5321 4.5.2 read line by line: -> (data, bytes after the end mark)."""
		    out, pos = [], 0
		    while True:
		        end = stream.index(b"\r\n", pos) + 2
		        line = stream[pos:end]
		        if line == b".\r\n":
		            return b"".join(out), stream[end:]
		        out.append(line[1:] if line.startswith(b".") else line)
		        pos = end

		def by_chunks(stream, rnd):
		    f = io.BytesIO()
		    sink, carry, pos = smtpd.DataSink(f), b"\r\n", 0
		    while True:
		        step = rnd.randint(1, 7)
		        carry, leftover = smtpd.scan_data(carry + stream[pos:pos + step], sink)
		        pos += step
		        if leftover is not None:
		            return f.getvalue(), leftover + stream[pos:]

		rnd = random.Random(5321)
		for case in range(20000):
		    body = bytes(rnd.choice(b".\r\na") for _ in range(rnd.randint(0, 24)))
		    stream = body + b"\r\n.\r\nNEXT"
		    want, got = by_lines(stream), by_chunks(stream, rnd)
		    if want != got:
		        sys.exit("case %d: %r: want %r, got %r" % (case, stream, want, got))
		print("ok")
	PY
	assert_output ok
}

# --- faults -------------------------------------------------------------------------------

@test "greeting fault 421: the server sends it and hangs up" {
	fixture_fault greeting '421 4.3.2 try later'
	run -0 smtp_chat 'EHLO c\r\n'
	assert_output '421 4.3.2 try later
-- closed'
}

@test "greeting fault 554: the session stays open, 503 to everything but QUIT" {
	fixture_fault greeting '554 5.3.2 go away'
	run -0 smtp_chat 'EHLO c\r\n' 'MAIL FROM:<a@example.org>\r\n' 'QUIT\r\n'
	assert_output '554 5.3.2 go away
503 5.5.1 Error: this session was refused at greeting
503 5.5.1 Error: this session was refused at greeting
221 Bye'
}

@test "ehlo fault refuses EHLO, HELO still works and is what the envelope records" {
	fixture_fault ehlo '502 5.5.2 no ESMTP here'
	run -0 transaction 'x\r\n.\r\n'
	assert_line --index 1 '502 5.5.2 no ESMTP here'
	assert_line --index 2 '503 Error: send HELO first'
	fixture_reset
	fixture_fault ehlo '550 no'
	run -0 smtp_chat 'EHLO c\r\n' 'HELO old.example.org\r\n' 'MAIL FROM:<a@example.org>\r\n' \
		'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' 'x\r\n.\r\n'
	assert_line --index 1 '550 no'
	assert_line --index 2 '250 fixture.invalid'
	assert_file_bytes "$(fixture_file envelope)" 'HELO old.example.org\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n'
}

@test "helo fault replaces the reply to HELO" {
	fixture_fault helo '421 4.7.0 closing'
	run -0 smtp_chat 'HELO c\r\n' 'NOOP\r\n'
	assert_output "$GREETING
421 4.7.0 closing
-- closed"
}

@test "mail fault refuses MAIL FROM and no transaction starts" {
	fixture_fault mail '451 4.3.0 sender check failed'
	run -0 smtp_chat 'EHLO c\r\n' 'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n'
	assert_line --index 7 '451 4.3.0 sender check failed'
	assert_line --index 8 '503 Error: need MAIL command'
}

@test "rcpt fault for one address refuses only that recipient, matched case-insensitively" {
	fixture_fault rcpt '550 5.1.1 no such user' bob@example.org
	run -0 transaction 'x\r\n.\r\n' Bob@Example.ORG carol@example.org
	assert_line --index 8 '550 5.1.1 no such user'
	assert_line --index 9 '250 OK'
	assert_file_bytes "$(fixture_file envelope)" 'EHLO client.example.org\nMAIL FROM:<alice@example.org>\nRCPT TO:<carol@example.org>\n'
}

@test "rcpt fault for * refuses every recipient that has no entry of its own" {
	fixture_fault rcpt '450 4.2.1 mailbox busy'
	fixture_fault rcpt '250 2.1.5 this one is fine' dave@example.org
	run -0 transaction 'x\r\n.\r\n' bob@example.org dave@example.org carol@example.org
	assert_line --index 8 '450 4.2.1 mailbox busy'
	assert_line --index 9 '250 2.1.5 this one is fine'
	assert_line --index 10 '450 4.2.1 mailbox busy'
	assert_file_bytes "$(fixture_file envelope)" 'EHLO client.example.org\nMAIL FROM:<alice@example.org>\nRCPT TO:<dave@example.org>\n'
}

@test "data fault replies to DATA instead of 354 and nothing is recorded" {
	fixture_fault data '451 4.3.0 not now'
	run -0 smtp_chat 'EHLO c\r\n' 'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' \
		'DATA\r\n' 'RSET\r\n'
	assert_line --index 9 '451 4.3.0 not now'
	assert_line --index 10 '250 OK'
	assert_equal "$(fixture_count)" 0
	assert_equal "$(fixture_count rejected)" 0
}

@test "eod fault refuses the message after the dot and records it under rejected" {
	fixture_fault eod '554 5.7.1 message refused'
	run -0 transaction 'Subject: no\r\n\r\nbody\r\n.\r\n'
	assert_line '554 5.7.1 message refused'
	assert_equal "$(fixture_count)" 0
	assert_equal "$(fixture_count rejected)" 1
	assert_file_bytes "$(fixture_data_file 1 rejected)" 'Subject: no\r\n\r\nbody\r\n'
	run -0 fixture_reply 1 rejected
	assert_output '554 5.7.1 message refused'
	run -1 fixture_envelope 1
	assert_output --partial 'no messages #1 recorded'
}

@test "drop mid-data hangs up before the final dot and records nothing" {
	fixture_fault drop mid-data
	run -0 smtp_chat 'EHLO c\r\n' 'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' \
		'DATA\r\n' 'Subject: half\r\n\r\nthe first half' 'of the message\r\n.\r\n'
	assert_line --index 9 '354 End data with <CR><LF>.<CR><LF>'
	assert_line --index 10 -- '-- closed'
	assert_equal "$(fixture_count)" 0
	assert_equal "$(fixture_count rejected)" 0
	assert_equal "$(fixture_count dropped)" 0
	run -0 fixture_session_log
	assert_line -- '-- server hangs up: in the middle of DATA (drop: mid-data)'
}

@test "drop after-dot reads the whole message, records it under dropped and hangs up unanswered" {
	fixture_fault drop after-dot
	run -0 transaction 'all of it\r\n.\r\n'
	assert_line --index 10 -- '-- closed'
	assert_equal "$(fixture_count)" 0
	assert_equal "$(fixture_count dropped)" 1
	assert_file_bytes "$(fixture_data_file 1 dropped)" 'all of it\r\n'
	run -0 fixture_envelope 1 dropped
	assert_line 'RCPT TO:<bob@example.org>'
	[[ ! -e $SMTP_DIR/dropped/1/reply ]]
}

@test "delay holds a reply back for the given seconds" {
	fixture_fault delay eod 1.2
	fixture_fault delay greeting 0.3
	local start=$EPOCHREALTIME
	run -0 transaction 'slow\r\n.\r\n'
	local took
	took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
	assert_line '250 OK'
	awk -v t="$took" 'BEGIN { exit !(t >= 1.5 && t < 10) }' || fail "took $took s, want 1.5 s or a bit more"
	run -0 fixture_session_log
	assert_line -- '-- delaying eod by 1.2 s'
	assert_line -- '-- delaying greeting by 0.3 s'
}

@test "times limits the faults to that many connections, and rewriting the file restarts the count" {
	fixture_fault mail '451 4.3.0 first try fails'
	fixture_fault times 1
	run -0 transaction 'x\r\n.\r\n'
	assert_line '451 4.3.0 first try fails'
	run -0 transaction 'x\r\n.\r\n'
	refute_line '451 4.3.0 first try fails'
	assert_equal "$(fixture_count)" 1
	fixture_fault times 1
	run -0 transaction 'x\r\n.\r\n'
	assert_line '451 4.3.0 first try fails'
	assert_equal "$(fixture_count)" 1
}

@test "multi-line fault replies go out with CRLF and their continuation marks" {
	fixture_fault mail '550-5.7.1 first line\n550-5.7.1 second line\n550 5.7.1 last line'
	run -0 smtp_chat 'HELO c\r\n' 'MAIL FROM:<a@example.org>\r\n' 'QUIT\r\n'
	assert_output "$GREETING
250 fixture.invalid
550-5.7.1 first line
550-5.7.1 second line
550 5.7.1 last line
221 Bye"
}

@test "override faults replace the replies to RSET, NOOP and QUIT" {
	fixture_fault rset '421 4.3.0 bye now'
	fixture_fault noop '250 2.0.0 custom noop'
	run -0 smtp_chat 'NOOP\r\n' 'RSET\r\n' 'NOOP\r\n'
	assert_output "$GREETING
250 2.0.0 custom noop
421 4.3.0 bye now
-- closed"
}

@test "size fault changes the advertised SIZE and refuses what exceeds it" {
	fixture_fault size 20
	run -0 smtp_chat 'EHLO c\r\n' 'MAIL FROM:<a@example.org> SIZE=21\r\n' \
		'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' \
		'twenty-one bytes ...\r\n.\r\n'
	assert_line '250-SIZE 20'
	assert_line '552 Error: message size exceeds fixed maximum message size'
	assert_line '552 5.3.4 Error: message size exceeds fixed maximum message size'
	assert_equal "$(fixture_count rejected)" 1
}

@test "ehlo_without takes extensions out of the EHLO reply" {
	fixture_fault ehlo_without 'SMTPUTF8 8BITMIME AUTH'
	run -0 smtp_chat 'EHLO c\r\n'
	assert_output "$GREETING
250-fixture.invalid
250-SIZE 1073741824
250 HELP"
}

@test "faults are read at every command, so a change applies to an open session" {
	# The faults change once the server has answered EHLO, while the client waits.
	local flag=$BATS_TEST_TMPDIR/changed
	(
		for ((i = 0; i < 200; i++)); do
			grep -q '^S: 250 HELP' "$SMTP_DIR/sessions/1.log" 2>/dev/null && break
			sleep 0.05
		done
		fixture_fault mail '452 4.3.1 changed my mind'
		touch "$flag"
	) 3>&- &
	run -0 smtp_chat 'EHLO c\r\n' "@wait-file:$flag" 'MAIL FROM:<a@example.org>\r\n'
	wait
	assert_line --index 1 '250-fixture.invalid'
	assert_line --index 7 '452 4.3.1 changed my mind'
}

# --- TLS ----------------------------------------------------------------------------------

@test "STARTTLS: MAIL first gets 530, then TLS verified with the test CA, AUTH and a message" {
	use_server STARTTLS
	fixture_reset
	local plain
	plain=$(printf '\0alice\0s3cret pw' | base64 -w0)
	run -0 smtp_chat --tls-ca "$BATS_FILE_TMPDIR/ca/ca.pem" 'EHLO c\r\n' \
		'MAIL FROM:<a@example.org>\r\n' '@starttls' 'EHLO again.example.org\r\n' \
		"AUTH PLAIN $plain\\r\\n" \
		'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' \
		'secret\r\n.\r\n' 'QUIT\r\n'
	assert_line '250-STARTTLS'
	assert_line '530 Must issue a STARTTLS command first'
	assert_line '220 Ready to start TLS'
	assert_line --regexp '^-- TLS TLSv1\.[23]$'
	assert_line '250-AUTH LOGIN PLAIN'
	assert_line '235 2.7.0 Authentication successful'
	# Before TLS, AUTH is not offered; after it, STARTTLS is not.
	assert_equal "$(grep -c 'AUTH LOGIN' <<<"$output")" 1
	assert_equal "$(grep -c 250-STARTTLS <<<"$output")" 1
	assert_file_bytes "$(fixture_file envelope)" 'EHLO again.example.org\nAUTH alice\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n'
	assert_file_bytes "$(fixture_data_file)" 'secret\r\n'
	run -0 fixture_session_log
	assert_line --regexp '^-- TLS established: TLSv1\.[23] '
}

@test "implicit TLS speaks TLS from the first byte and checks out against the test CA" {
	use_server IMPLICIT
	fixture_reset
	run -0 smtp_chat --implicit-tls --tls-ca "$BATS_FILE_TMPDIR/ca/ca.pem" 'EHLO c\r\n' \
		'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' \
		'over tls\r\n.\r\n' 'QUIT\r\n'
	assert_line --index 0 --regexp '^-- TLS TLSv1\.[23]$'
	assert_line --index 1 "$GREETING"
	refute_line '250-STARTTLS'
	assert_file_bytes "$(fixture_data_file)" 'over tls\r\n'
	assert_file_bytes "$(fixture_wire_file)" 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nover tls\r\n.\r\nQUIT\r\n'
}

@test "a client trusting only the test CA refuses the untrusted certificate" {
	use_server UNTRUSTED
	run -0 smtp_chat --implicit-tls --tls-ca "$BATS_FILE_TMPDIR/ca/ca.pem" 'EHLO c\r\n'
	assert_output --regexp '^-- TLS failed: .*CERTIFICATE_VERIFY_FAILED'
}

@test "swaks delivers through STARTTLS, verifying the certificate, with AUTH LOGIN" {
	require_cmd swaks
	use_server STARTTLS
	fixture_reset
	run -0 swaks --server 127.0.0.1 --port "$SMTP_PORT" --helo swaks.example.org \
		--from alice@example.org --to bob@example.org \
		--tls --tls-verify --tls-ca-path "$BATS_FILE_TMPDIR/ca/ca.pem" \
		--auth LOGIN --auth-user alice --auth-password 's3cret pw' \
		--header 'Subject: via swaks' --body 'sent by swaks'
	assert_equal "$(fixture_count)" 1
	run -0 fixture_envelope
	assert_output 'EHLO swaks.example.org
AUTH alice
MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.org>'
	run -0 grep -c $'^Subject: via swaks\r$' "$(fixture_data_file)"
	assert_output 1
}

# --- AUTH ---------------------------------------------------------------------------------

@test "AUTH PLAIN with the right password succeeds and the envelope records the user" {
	local plain
	plain=$(printf '\0alice\0s3cret pw' | base64 -w0)
	run -0 smtp_chat 'EHLO c\r\n' "AUTH PLAIN $plain\\r\\n" 'MAIL FROM:<a@example.org>\r\n' \
		'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' 'x\r\n.\r\n'
	assert_line '235 2.7.0 Authentication successful'
	run -0 fixture_envelope
	assert_line --index 1 'AUTH alice'
	run -0 fixture_session_log
	assert_line "C: AUTH PLAIN $plain"
}

@test "AUTH PLAIN and AUTH LOGIN with a wrong password get 535 5.7.8" {
	local plain user pass
	plain=$(printf '\0alice\0wrong' | base64 -w0)
	user=$(printf alice | base64 -w0)
	pass=$(printf 'wrong' | base64 -w0)
	run -0 smtp_chat 'EHLO c\r\n' "AUTH PLAIN $plain\\r\\n" 'AUTH LOGIN\r\n' "$user\\r\\n" "$pass\\r\\n"
	assert_line --index 7 '535 5.7.8 Authentication credentials invalid'
	assert_line --index 8 '334 VXNlciBOYW1lAA=='
	assert_line --index 9 '334 UGFzc3dvcmQA'
	assert_line --index 10 '535 5.7.8 Authentication credentials invalid'
}

@test "AUTH LOGIN step by step with the right password succeeds" {
	local user pass
	user=$(printf alice | base64 -w0)
	pass=$(printf 's3cret pw' | base64 -w0)
	run -0 smtp_chat 'EHLO c\r\n' 'AUTH LOGIN\r\n' "$user\\r\\n" "$pass\\r\\n"
	assert_line '235 2.7.0 Authentication successful'
}

@test "XOAUTH2 with the right token succeeds; a wrong one gets the error challenge, then 535" {
	local good bad
	good=$(printf 'user=alice\1auth=Bearer tok-123\1\1' | base64 -w0)
	bad=$(printf 'user=alice\1auth=Bearer tok-999\1\1' | base64 -w0)
	run -0 smtp_chat 'EHLO c\r\n' "AUTH XOAUTH2 $bad\\r\\n" '\r\n' "AUTH XOAUTH2 $good\\r\\n" \
		'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' 'x\r\n.\r\n'
	assert_line --index 7 --regexp '^334 [A-Za-z0-9+/]+=*$'
	assert_line --index 8 '535 5.7.8 Authentication credentials invalid'
	assert_line --index 9 '235 2.7.0 Authentication successful'
	run -0 fixture_envelope
	assert_line --index 1 'AUTH alice'
}

# --- the helpers themselves ---------------------------------------------------------------

@test "fixture_reset forgets messages, sessions and faults" {
	fixture_fault eod '451 later'
	run -0 transaction 'x\r\n.\r\n'
	fixture_fault eod '250 OK'
	run -0 transaction 'x\r\n.\r\n'
	assert_equal "$(fixture_count rejected)" 1
	assert_equal "$(fixture_count)" 1
	fixture_reset
	assert_equal "$(fixture_count)" 0
	assert_equal "$(fixture_count rejected)" 0
	[[ ! -e $SMTP_DIR/sessions && ! -e $SMTP_DIR/faults ]]
	run -0 transaction 'x\r\n.\r\n'
	assert_line '250 OK'
	[[ -f $SMTP_DIR/sessions/1.log ]]
}

@test "fixture_fault refuses unknown keys and malformed values" {
	run -1 fixture_fault nosuch '550 x'
	assert_output --partial 'unknown fault key: nosuch'
	run -1 fixture_fault delay nostage 3
	run -1 fixture_fault drop sometimes
	run -2 fixture_fault greeting
	[[ ! -e $SMTP_DIR/faults ]]
}

@test "assert_file_bytes passes on equal bytes and shows CRs and sizes on a mismatch" {
	printf 'a\r\nb' >"$BATS_TEST_TMPDIR/f"
	assert_file_bytes "$BATS_TEST_TMPDIR/f" 'a\r\nb'
	run assert_file_bytes "$BATS_TEST_TMPDIR/f" 'a\nb'
	assert_failure
	assert_output --partial 'expected 3 bytes, got 4'
	assert_output --partial '+a\r$'
}

@test "postie_config points postie at the fixture and isolates HOME" {
	postie_config 'timeout 5'
	assert_equal "$POSTIE_CONFIG" "$BATS_TEST_TMPDIR/postie.conf"
	assert_file_bytes "$POSTIE_CONFIG" "relay smtp://127.0.0.1:$SMTP_PORT\ndomain example.net\nqueue $BATS_TEST_TMPDIR/queue\nsyslog no\nreceived no\ntimeout 5\n"
	assert_equal "$HOME" "$BATS_TEST_TMPDIR/home"
	assert_equal "${NAME-unset}" ""
	[[ -d $HOME && -d $XDG_CONFIG_HOME && -z $(ls -A "$HOME") ]]
}

@test "make_test_ca makes a CA, a server certificate it signs for 127.0.0.1 and an untrusted one" {
	local ca=$BATS_FILE_TMPDIR/ca
	run -0 openssl verify -CAfile "$ca/ca.pem" "$ca/server.pem"
	run -0 openssl verify -CAfile "$ca/ca.pem" -verify_ip 127.0.0.1 -verify_hostname localhost "$ca/server.pem"
	run -2 openssl verify -CAfile "$ca/ca.pem" -verify_hostname localhost "$ca/wrongname.pem"
	run -2 openssl verify -CAfile "$ca/ca.pem" "$ca/untrusted.pem"
}

@test "the server exits 0 on SIGTERM, closing open sessions, and removes its port file" {
	fixture_start
	local pid=$SMTP_PID dir=$SMTP_DIR
	# A session left open must not keep the server from stopping.
	"$FIXTURE_PYTHON" -I -B "$BATS_FILE_TMPDIR/smtp_chat.py" "$SMTP_PORT" 'EHLO c\r\n' '@sleep:30' \
		>/dev/null 3>&- &
	local client=$!
	sleep 0.5
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	kill "$client" 2>/dev/null || true
	wait "$client" 2>/dev/null || true
	assert_equal "$rc" 0
	[[ ! -e $dir/port ]]
	run -0 cat "$dir/server.log"
	refute_output --partial ERROR
	refute_output --partial Traceback
}
