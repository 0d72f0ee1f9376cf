#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Never lose a message: every fault of the relay ends with the message delivered, queued (exit
# 0) or kept in failed/ (non-zero), the queue is delivered exactly once by `postie -q`, and
# entries that were tampered with are refused.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 3'
	Q=$BATS_TEST_TMPDIR/queue
	relay="smtp://127.0.0.1:$SMTP_PORT"
	message 'From: a@example.org\nTo: b@example.org\nSubject: q\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <q@x>\n\nbody\n'
	EXPECTED='From: a@example.org\r\nTo: b@example.org\r\nSubject: q\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q@x>\r\n\r\nbody\r\n'
}

queued() { ls "$Q/q" | sed -n 's/\.env$//p'; }
failed() { ls "$Q/failed" | sed -n 's/\.env$//p'; }
count_queued() { queued | wc -l; }
count_failed() { failed | wc -l; }
env_of() { cat "$Q/${2:-q}/$1.env"; }

# The id named in postie's "queued as ID" line.
queued_id() { sed -n 's/.*queued as \([0-9a-f-]*\).*/\1/p' <<<"$output" | head -1; }

@test "a relay that refuses connections: exit 0, queued whole, and the line says where" {
	POSTIE_RELAY=smtp://127.0.0.1:1 postie_config 'timeout 3'
	post 0 -f a@example.org b@example.org
	assert_output --regexp "^postie: smtp://127\.0\.0\.1:1 unavailable \(cannot connect \(.*\)\); queued as [0-9]{8}-[0-9]{6}-[0-9a-f]{8}, delivered by 'postie -q'$"
	id=$(queued_id)
	[ "$(count_queued)" -eq 1 ]
	[ "$(queued)" = "$id" ]
	assert_file_bytes "$Q/q/$id.msg" "$EXPECTED"
	run env_of "$id"
	assert_line --index 0 'postie-queue 1'
	assert_line "id $id"
	assert_line 'sender <a@example.org>'
	assert_line 'rcpt <b@example.org>'
	assert_line 'relay smtp://127.0.0.1:1'
	assert_line 'attempts 1'
	assert_line --regexp '^last-error smtp://127\.0\.0\.1:1 cannot connect'
	[ "$(stat -c %a "$Q")" = 700 ]
	[ "$(stat -c %a "$Q/q")" = 700 ]
	[ "$(stat -c %a "$Q/q/$id.msg")" = 600 ]
	[ "$(stat -c %a "$Q/q/$id.env")" = 600 ]
	[ -z "$(ls -A "$Q/tmp")" ]
}

@test "a 421 greeting queues the message" {
	fixture_fault greeting '421 4.3.2 try later'
	post 0 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay unavailable \(refused the connection: 421 4\.3\.2 try later\); queued as .*, delivered by 'postie -q'$"
	[ "$(count_queued)" -eq 1 ]
}

@test "a 451 to MAIL FROM queues the message" {
	fixture_fault mail '451 4.3.0 busy'
	post 0 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay unavailable \(refused MAIL FROM: 451 4\.3\.0 busy\); queued as "
	[ "$(count_queued)" -eq 1 ] && [ "$(fixture_count)" -eq 0 ]
}

@test "a 452 to one RCPT: the others get it, that one is queued alone, exit 0" {
	fixture_fault rcpt '452 4.2.2 mailbox full' c@example.org
	post 0 -f a@example.org b@example.org c@example.org d@example.org
	assert_line --index 0 "postie: $relay refused <c@example.org>: 452 4.2.2 mailbox full"
	assert_line --index 1 --regexp "^postie: queued as [0-9a-f-]+ for 1 recipient, delivered by 'postie -q'$"
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>" "RCPT TO:<d@example.org>"
	run env_of "$(queued)"
	assert_line 'rcpt <c@example.org>'
	refute_line 'rcpt <b@example.org>'
	assert_line "last-error $relay refused <c@example.org>: 452 4.2.2 mailbox full"
}

@test "a 550 to one of three RCPTs: two get it, failed/ keeps the third, exit 67, two lines" {
	fixture_fault rcpt '550 5.1.1 no such user' c@example.org
	post 67 -f a@example.org b@example.org c@example.org d@example.org
	assert_line --index 0 "postie: $relay refused <c@example.org>: 550 5.1.1 no such user"
	assert_line --index 1 --regexp "^postie: saved as $Q/failed/[0-9a-f-]+\.msg$"
	[ "${#lines[@]}" -eq 2 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>" "RCPT TO:<d@example.org>"
	[ "$(count_queued)" -eq 0 ]
	[ "$(count_failed)" -eq 1 ]
	run env_of "$(failed)" failed
	assert_line 'rcpt <c@example.org>'
	assert_line "last-error $relay refused <c@example.org>: 550 5.1.1 no such user"
	assert_file_bytes "$Q/failed/$(failed).msg" "$EXPECTED"
}

@test "every RCPT refused with 550: nothing sent, failed/ keeps it, exit 67, each refusal once" {
	fixture_fault rcpt '550 5.1.1 no such user'
	post 67 -f a@example.org b@example.org c@example.org
	assert_line --index 0 "postie: $relay refused <b@example.org>: 550 5.1.1 no such user"
	assert_line --index 1 "postie: $relay refused <c@example.org>: 550 5.1.1 no such user"
	assert_line --index 2 --regexp "^postie: saved as $Q/failed/[0-9a-f-]+\.msg$"
	[ "${#lines[@]}" -eq 3 ]
	[ "$(fixture_count)" -eq 0 ] && [ "$(count_failed)" -eq 1 ] && [ "$(count_queued)" -eq 0 ]
}

@test "a 554 after the final dot keeps the message in failed/ and exits 69 naming the file" {
	fixture_fault eod '554 5.7.1 spam'
	post 69 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay refused the message: 554 5\.7\.1 spam; saved as $Q/failed/[0-9a-f-]+\.msg$"
	[ "$(count_failed)" -eq 1 ]
	[ "$(count_queued)" -eq 0 ]
	assert_file_bytes "$Q/failed/$(failed).msg" "$EXPECTED"
}

@test "a connection dropped mid-DATA queues the whole message, not the part sent" {
	fixture_fault drop mid-data
	{ head -c 400000 /dev/zero | tr '\0' 'x' | fold -w 70; echo; } >>"$BATS_TEST_TMPDIR/msg"
	post 0 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay unavailable \(connection lost during (DATA|the message) \(.*\)\); queued as "
	sed 's/$/\r/' "$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$Q/q/$(queued).msg"
}

@test "a connection dropped after the final dot queues it: at least once, a duplicate is possible" {
	fixture_fault drop after-dot
	post 0 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay unavailable \(connection lost during the message .*queued as "
	[ "$(fixture_count dropped)" -eq 1 ] && [ "$(count_queued)" -eq 1 ]
}

@test "a reply that never comes queues the message after the timeout" {
	fixture_fault delay rcpt 6
	post 0 -f a@example.org b@example.org
	assert_output --regexp "^postie: $relay unavailable \(timed out waiting for RCPT TO \(.*\)\); queued as "
	[ "$(count_queued)" -eq 1 ]
}

@test "a failure in the first kilobytes of a 50 MiB message queues all 50 MiB" {
	fixture_fault data '451 4.3.0 not now'
	/usr/bin/python3 -c '
import sys
o = sys.stdout.buffer
o.write(b"Subject: big\n\n")
line = b"0123456789" * 7 + b"\n"
for i in range(50 * 1024 * 1024 // len(line)):
    o.write(line)
' >"$BATS_TEST_TMPDIR/msg"
	post 0 -f a@example.org b@example.org
	assert_output --regexp "queued as "
	id=$(queued)
	run grep -c '^' "$Q/q/$id.msg"
	[ "$(stat -c %s "$Q/q/$id.msg")" -gt $((50 * 1024 * 1024)) ]
	tail -c 72 "$Q/q/$id.msg" | cmp - <(printf '0123456789%.0s' 1 2 3 4 5 6 7; printf '\r\n')
}

@test "a queue that cannot be written and a relay that is down: exit 75, the caller keeps it" {
	touch "$BATS_TEST_TMPDIR/not-a-dir"
	POSTIE_RELAY=smtp://127.0.0.1:1 postie_config 'timeout 3' "queue $BATS_TEST_TMPDIR/not-a-dir/queue"
	post 75 -f a@example.org b@example.org
	assert_output --regexp "^postie: smtp://127\.0\.0\.1:1 unavailable \(cannot connect \(.*\)\); not queued \(queue $BATS_TEST_TMPDIR/not-a-dir/queue: Not a directory\): the message was not accepted$"
}

@test "a queue that cannot be written does not stop a send that works" {
	touch "$BATS_TEST_TMPDIR/not-a-dir"
	postie_config "queue $BATS_TEST_TMPDIR/not-a-dir/queue"
	post 0 -f a@example.org b@example.org
	assert_output ''
	assert_data "$EXPECTED"
}

@test "-odq queues without connecting; postie -q then delivers it" {
	post 0 -odq -f a@example.org b@example.org
	assert_output ''
	[ "$(count_queued)" -eq 1 ]
	[ ! -e "$SMTP_DIR/sessions/1.wire" ]
	run env_of "$(queued)"
	assert_line 'attempts 0'
	run -0 postie -q
	assert_output ''
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	assert_data "$EXPECTED"
	[ "$(count_queued)" -eq 0 ]
}

@test "the config's delivery queue queues too, and -odi overrides nothing but -odq" {
	postie_config 'delivery queue'
	post 0 -f a@example.org b@example.org
	[ "$(count_queued)" -eq 1 ] && [ "$(fixture_count)" -eq 0 ]
}

@test "when the server comes back, postie -q delivers every queued message exactly once" {
	fixture_fault greeting '421 4.3.2 down'
	for i in 1 2 3; do post 0 -f a@example.org "r$i@example.org"; done
	[ "$(count_queued)" -eq 3 ]
	fixture_reset
	run -0 postie -q --due	# not due yet: the first retry is a minute later
	[ "$(fixture_count)" -eq 0 ]
	[ "$(count_queued)" -eq 3 ]
	run -0 postie -q	# whatever the backoff
	[ "$(fixture_count)" -eq 3 ]
	[ "$(count_queued)" -eq 0 ]
	run cat "$SMTP_DIR"/messages/*/envelope
	assert_line 'RCPT TO:<r1@example.org>'
	assert_line 'RCPT TO:<r2@example.org>'
	assert_line 'RCPT TO:<r3@example.org>'
	# one connection for the whole run
	[ "$(ls "$SMTP_DIR/sessions" | grep -c '\.wire$')" -eq 1 ]
	run -0 postie -q
	[ "$(fixture_count)" -eq 3 ]
}

@test "-q30m and --flush are -q, and -q never takes the next word" {
	post 0 -odq -f a@example.org b@example.org
	run -0 postie -q30m
	[ "$(fixture_count)" -eq 1 ]
	post 0 -odq -f a@example.org b@example.org
	run -0 postie --flush
	[ "$(fixture_count)" -eq 2 ]
}

@test "two concurrent postie -q deliver each entry once" {
	for i in $(seq 1 30); do post 0 -odq -f a@example.org "r$i@example.org"; done
	fixture_fault delay eod 0.05
	postie -q & p1=$!
	postie -q & p2=$!
	wait $p1
	wait $p2
	[ "$(fixture_count)" -eq 30 ]
	[ "$(count_queued)" -eq 0 ]
	run bash -c "cat '$SMTP_DIR'/messages/*/envelope | grep '^RCPT' | sort | uniq -d"
	assert_output ''
}

@test "postie -q removes spool files untouched for a day from tmp/, and keeps younger ones" {
	# what a killed run leaves: a partial spool and an envelope's temporary file
	run -0 "$POSTIE" -q
	printf 'Subject: half\r\n\r\nread before the ' >"$Q/tmp/20261126-100000-0badcafe.msg"
	printf 'postie-queue 1\n' >"$Q/tmp/20261126-100000-0badcafe.env"
	printf 'Subject: now\r\n' >"$Q/tmp/20261128-100000-00c0ffee.msg"
	touch -d '25 hours ago' "$Q/tmp/20261126-100000-0badcafe.msg" "$Q/tmp/20261126-100000-0badcafe.env"
	touch -d '23 hours ago' "$Q/tmp/20261128-100000-00c0ffee.msg"
	run -0 --separate-stderr "$POSTIE" -q
	local why='removed, a spool file untouched for a day: its run did not finish'
	assert_equal "$(sort <<<"$stderr")" "$(printf "postie: $Q/tmp/%s: $why\n" \
		20261126-100000-0badcafe.env 20261126-100000-0badcafe.msg | sort)"
	[ "$(ls "$Q/tmp")" = 20261128-100000-00c0ffee.msg ]
	[ "$(fixture_count)" -eq 0 ] && [ "$(count_queued)" -eq 0 ]
}

@test "the sweep of tmp/ leaves the spool of a live run alone, however long its input is silent" {
	POSTIE_RELAY=smtp://127.0.0.1:1 postie_config 'timeout 3'
	run -0 "$POSTIE" -q
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$POSTIE" -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$! w spool i
	exec {w}>"$BATS_TEST_TMPDIR/in"
	printf 'Subject: slow\n\nfirst line\n' >&"$w"
	for i in $(seq 100); do
		spool=$(ls "$Q/tmp")
		[ -z "$spool" ] || break
		sleep 0.1
	done
	[ -n "$spool" ] || fail "no spool in $Q/tmp"
	# as if the input had been silent for 25 hours
	touch -d '25 hours ago' "$Q/tmp/$spool"
	run -0 --separate-stderr "$POSTIE" -q
	assert_equal "$stderr" ''
	[ -f "$Q/tmp/$spool" ]
	printf 'last line\n' >&"$w"
	exec {w}>&-
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output --regexp "unavailable .*; queued as ${spool%.msg}, delivered by 'postie -q'$"
	[ "$(queued)" = "${spool%.msg}" ]
	[ "$(tail -c 23 "$Q/q/${spool%.msg}.msg")" = $'first line\r\nlast line\r' ]
}

@test "a send that works delivers what is due for the same relay over the same connection" {
	post 0 -odq -f a@example.org queued@example.org
	post 0 -f a@example.org now@example.org
	[ "$(fixture_count)" -eq 2 ]
	[ "$(count_queued)" -eq 0 ]
	[ "$(ls "$SMTP_DIR/sessions" | grep -c '\.wire$')" -eq 1 ]
	assert_envelope -n 1 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<now@example.org>"
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<queued@example.org>"
}

@test "backoff doubles from one minute to one hour, and -q --due does not try an entry before it is due" {
	fixture_fault greeting '421 4.3.2 down'
	now=2000000000
	POSTIE_NOW=$now post 0 -f a@example.org b@example.org
	id=$(queued)
	run env_of "$id"
	assert_line "next-attempt $((now + 60))"
	want=(120 240 480 960 1920 3600 3600)
	t=$((now + 60))
	for k in 0 1 2 3 4 5 6; do
		POSTIE_NOW=$((t - 1)) run -0 postie -q --due	# not yet due: no connection
		run env_of "$id"
		assert_line "attempts $((k + 1))"
		POSTIE_NOW=$t run -0 postie -q --due
		run env_of "$id"
		assert_line "attempts $((k + 2))"
		assert_line "next-attempt $((t + ${want[$k]}))"
		t=$((t + ${want[$k]}))
	done
	fixture_reset
	POSTIE_NOW=$t run -0 postie -q --due
	[ "$(fixture_count)" -eq 1 ]
	[ "$(count_queued)" -eq 0 ]
}

@test "an entry older than queue-lifetime moves to failed/ unsent" {
	fixture_fault greeting '421 4.3.2 down'
	now=2000000000
	POSTIE_NOW=$now post 0 -f a@example.org b@example.org
	fixture_reset
	POSTIE_NOW=$((now + 5 * 86400)) run -0 postie -q
	assert_output --regexp '^postie: queue entry .* expired; moved to failed/$'
	[ "$(fixture_count)" -eq 0 ]
	[ "$(count_queued)" -eq 0 ]
	[ "$(count_failed)" -eq 1 ]
	run env_of "$(failed)" failed
	assert_line --regexp '^last-error expired after 5 days in the queue; last error: .*421 4\.3\.2 down$'
	postie_config 'queue-lifetime 1h'
	fixture_fault greeting '421 4.3.2 down'
	POSTIE_NOW=$now post 0 -f a@example.org b@example.org
	fixture_reset
	POSTIE_NOW=$((now + 3599)) run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "tampered entries are refused and reported, never sent: symlink, hard link, wrong owner" {
	for i in 1 2 3; do post 0 -odq -f a@example.org "r$i@example.org"; done
	mapfile -t ids < <(queued)
	mv "$Q/q/${ids[0]}.msg" "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$Q/q/${ids[0]}.msg"
	ln "$Q/q/${ids[1]}.msg" "$BATS_TEST_TMPDIR/second-link"
	if [ "$(id -u)" -eq 0 ]; then
		chown nobody "$Q/q/${ids[2]}.msg"
	else
		cp "$Q/q/${ids[2]}.msg" "$BATS_TEST_TMPDIR/x"
		ln -sf "$BATS_TEST_TMPDIR/x" "$Q/q/${ids[2]}.msg"
	fi
	run -0 postie -q
	assert_line "postie: $Q/q/${ids[0]}.msg: a symbolic link: refused, not sent"
	assert_line "postie: $Q/q/${ids[1]}.msg: has 2 links: refused, not sent"
	[ "$(id -u)" -ne 0 ] || assert_line --regexp "^postie: $Q/q/${ids[2]}\.msg: owned by uid [0-9]+: refused, not sent$"
	[ "$(fixture_count)" -eq 0 ]
}

@test "a FIFO in place of a queue file is refused without waiting for a writer" {
	for i in 1 2; do post 0 -odq -f a@example.org "r$i@example.org"; done
	mapfile -t ids < <(queued)
	rm "$Q/q/${ids[0]}.env"
	mkfifo -m 600 "$Q/q/${ids[0]}.env"
	rm "$Q/q/${ids[1]}.msg"
	mkfifo -m 600 "$Q/q/${ids[1]}.msg"
	run -0 timeout 20 "$POSTIE" -q
	assert_line "postie: $Q/q/${ids[0]}.env: not a regular file: refused, not sent"
	assert_line "postie: $Q/q/${ids[1]}.msg: not a regular file: refused, not sent"
	[ "$(fixture_count)" -eq 0 ]
	run -0 timeout 20 "$POSTIE" -bp
	assert_line "postie: $Q/q/${ids[0]}.env: not a regular file"
}

@test "a tampered envelope file is refused, and one with an injected recipient is never sent" {
	post 0 -odq -f a@example.org b@example.org
	id=$(queued)
	printf 'garbage\n' >"$Q/q/$id.env"
	run -0 postie -q
	assert_output --regexp "^postie: $Q/q/$id\.env: not a postie queue entry of version 1"
	[ "$(fixture_count)" -eq 0 ]
	rm "$Q/q/$id.env" "$Q/q/$id.msg"
	post 0 -odq -f a@example.org b@example.org
	id=$(queued)
	sed -i 's/^rcpt <b@example.org>$/rcpt <b@example.org> SIZE=1>/' "$Q/q/$id.env"
	run -0 postie -q
	assert_output --regexp "^postie: queue entry $id: .*SIZE=1.*; moved to failed/$"
	[ "$(fixture_count)" -eq 0 ] && [ ! -e "$SMTP_DIR/sessions/1.wire" ]
}

@test "mailq and -bp list the queue in the sendmail layout, and failed/ apart" {
	run -0 postie -bp
	assert_output 'Mail queue is empty'
	fixture_fault greeting '421 4.3.2 down'
	post 0 -f a@example.org b@example.org c@example.org
	id=$(queued_id)
	ln -s "$POSTIE" "$BATS_TEST_TMPDIR/mailq"
	run -0 "$BATS_TEST_TMPDIR/mailq"
	assert_line --index 0 --regexp '^-Queue ID- +--Size-- +---Arrival Time--- +-Sender/Recipient-------$'
	assert_line --index 1 --regexp "^$id +[0-9]+ [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}  a@example\.org$"
	assert_line --index 2 --regexp '^  \(age [0-9]+s, 1 attempt, next in [0-9]+s\)$'
	assert_line --index 3 "  ($relay refused the connection: 421 4.3.2 down)"
	assert_line --index 4 --regexp '^ +b@example\.org$'
	assert_line --index 5 --regexp '^ +c@example\.org$'
	assert_line --regexp '^-- 1 Kbytes in 1 Request\.$'
	fixture_reset
	fixture_fault eod '554 5.7.1 no'
	post 69 -f a@example.org d@example.org
	run -0 postie -bp
	assert_line --regexp "^Failed, not retried \($Q/failed\):$"
	assert_line --regexp "^  \(age [0-9]+s, 1 attempt: $relay refused the message: 554 5\.7\.1 no\)$"
}

@test "mailq --json lists queued and failed entries for scripts" {
	run -0 postie -bp --json
	assert_output '[]'
	fixture_fault greeting '421 4.3.2 down'
	post 0 -f a@example.org b@example.org
	run -0 postie -bp --json
	/usr/bin/python3 -c '
import json, sys
entries = json.loads(sys.argv[1])
assert len(entries) == 1, entries
e = entries[0]
assert e["state"] == "queued" and e["sender"] == "a@example.org", e
assert e["recipients"] == ["b@example.org"] and e["attempts"] == 1, e
assert "421 4.3.2 down" in e["last_error"], e
' "$output"
}

@test "mailq --json stays valid JSON when an entry holds invalid UTF-8: such bytes as the text \\xNN" {
	post 0 -odq -f a@example.org b@example.org
	id=$(queued)
	printf 'last-error caf\xe9 \xc3 ok \xc3\xa9\n' >>"$Q/q/$id.env"
	run -0 postie -bp --json
	/usr/bin/python3 -c 'import json, sys; json.load(sys.stdin)' <<<"$output"
	run -0 /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["last_error"])' <<<"$output"
	assert_output 'caf\xe9 \xc3 ok é'
}

@test "SIGTERM while the input is still being read: nothing queued, non-zero exit" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	postie_config 'timeout 10'
	"$POSTIE" -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/in" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
	printf 'Subject: half\n\nfirst part\n' >&5
	sleep 0.5
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	exec 5>&-
	[ "$status" -ne 0 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp 'interrupted before the whole message was read; nothing was queued'
	[ "$(count_queued)" -eq 0 ]
	[ "$(fixture_count)" -eq 0 ]
	[ -z "$(ls -A "$Q/tmp")" ]
}

@test "SIGTERM after the input was read: the message is committed to the queue, exit 0" {
	fixture_fault delay eod 5
	postie_config 'timeout 10'
	"$POSTIE" -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 50); do [ -e "$SMTP_DIR/sessions/1.wire" ] && grep -q 'body' "$SMTP_DIR/sessions/1.wire" && break; sleep 0.1; done
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 0 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp "^postie: $relay unavailable \(interrupted during the message\); queued as "
	[ "$(count_queued)" -eq 1 ]
	assert_file_bytes "$Q/q/$(queued).msg" "$EXPECTED"
}

@test "a logfile gets one line per message and per attempt" {
	postie_config "logfile $BATS_TEST_TMPDIR/postie.log"
	post 0 -f a@example.org b@example.org
	fixture_fault greeting '421 4.3.2 down'
	post 0 -f a@example.org c@example.org
	run cat "$BATS_TEST_TMPDIR/postie.log"
	assert_line --index 0 --regexp '^[0-9T:+-]+ postie\[[0-9]+\]: id=[0-9a-f-]+ from=<a@example\.org> nrcpt=1 size=[0-9]+ relay=smtp://127\.0\.0\.1:[0-9]+ status=sent$'
	assert_line --index 1 --regexp 'id=[0-9a-f-]+ from=<a@example\.org> nrcpt=1 size=[0-9]+ relay=.* status=queued reply=refused the connection: 421 4\.3\.2 down$'
}

@test "max-recipients splits a long list into transactions over one connection, each with the same bytes" {
	postie_config 'max-recipients 2'
	post 0 -f a@example.org r1@example.org r2@example.org r3@example.org r4@example.org r5@example.org
	assert_output ''
	[ "$(fixture_count)" -eq 3 ]
	assert_envelope -n 1 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r1@example.org>" "RCPT TO:<r2@example.org>"
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r3@example.org>" "RCPT TO:<r4@example.org>"
	assert_envelope -n 3 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r5@example.org>"
	cmp "$(fixture_data_file 1)" "$(fixture_data_file 2)"
	cmp "$(fixture_data_file 1)" "$(fixture_data_file 3)"
	assert_data -n 3 "$EXPECTED"
	[ "$(ls "$SMTP_DIR/sessions" | grep -c '\.wire$')" -eq 1 ]
	[ "$(count_queued)" -eq 0 ] && [ -z "$(ls -A "$Q/tmp")" ]
}

@test "a refused recipient in a later batch is kept in failed/ alone; the others get the message" {
	postie_config 'max-recipients 2'
	fixture_fault rcpt '550 5.1.1 no such user' r3@example.org
	post 67 -f a@example.org r1@example.org r2@example.org r3@example.org r4@example.org
	assert_line --index 0 "postie: $relay refused <r3@example.org>: 550 5.1.1 no such user"
	[ "$(fixture_count)" -eq 2 ]
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r4@example.org>"
	run env_of "$(failed)" failed
	assert_line 'rcpt <r3@example.org>'
	refute_line 'rcpt <r4@example.org>'
}

@test "a queued entry with more recipients than max-recipients is delivered in batches" {
	postie_config 'max-recipients 2'
	post 0 -odq -f a@example.org r1@example.org r2@example.org r3@example.org
	run -0 postie -q
	[ "$(fixture_count)" -eq 2 ]
	[ "$(count_queued)" -eq 0 ]
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r3@example.org>"
}
