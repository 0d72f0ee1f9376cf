#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A regular file on stdin is not teed into the spool: postie reads it again, only when the
# message must be kept (or sent in another batch), by the same rules. What is queued is
# byte for byte what a pipe's tee would have queued; a file that changes during the send is
# said in one line, and kept as the COMPATIBILITY file says. A pipe still tees.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 10'
	Q=$BATS_TEST_TMPDIR/queue
	HEAD='From: a@example.org\nTo: b@example.org\nSubject: f\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <f@x>\n\n'
}

# The one message file of q/ (or failed/); fails when there is not exactly one.
only_msg() {
	local files=("$Q/${1:-q}"/*.msg)
	if [[ ${#files[@]} -ne 1 || ! -f ${files[0]} ]]; then
		echo "only_msg: not one entry in $Q/${1:-q}: ${files[*]}" >&2
		return 1
	fi
	printf '%s\n' "${files[0]}"
}

# queue_both STATUS [--failed] ARGS...: postie ARGS with $BATS_TEST_TMPDIR/msg as stdin, then
# again with it through a pipe; each must exit STATUS and leave one entry (in failed/ with
# --failed), copied to file.msg and pipe.msg; $output is the pipe's.
queue_both() {
	local status=$1 dir=q
	shift
	if [[ $1 == --failed ]]; then
		dir=failed
		shift
	fi
	rm -rf "$Q"
	run "-$status" postie "$@" <"$BATS_TEST_TMPDIR/msg"
	cp "$(only_msg "$dir")" "$BATS_TEST_TMPDIR/file.msg" || return 1
	rm -rf "$Q"
	run "-$status" postie "$@" < <(cat "$BATS_TEST_TMPDIR/msg")
	cp "$(only_msg "$dir")" "$BATS_TEST_TMPDIR/pipe.msg" || return 1
}

# Both copies the same bytes, and not empty.
assert_same_queued() {
	[ -s "$BATS_TEST_TMPDIR/file.msg" ] || fail "nothing queued from the file"
	cmp "$BATS_TEST_TMPDIR/file.msg" "$BATS_TEST_TMPDIR/pipe.msg" ||
		fail "the file's entry is not the pipe's"
}

# Waits (up to 10 s) for the fixture to note "delaying STAGE" in connection N's log.
wait_for_delay() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qs "delaying $1" "$SMTP_DIR/sessions/${2:-1}.log" && return 0
		sleep 0.1
	done
	fail "the fixture never delayed $1"
}

# A body of N lines of 100 bytes (LF), after $HEAD.
big_message() {
	{
		# shellcheck disable=SC2059 # HEAD is a printf format on purpose, as message()
		printf "$HEAD"
		yes 'abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcdefghi012345678' | head -n "$1"
	} >"$BATS_TEST_TMPDIR/msg"
}

# The size of the spool file of the send under way, while the fixture holds its reply.
spool_size_during_send() {
	local src=$1 pid size
	fixture_fault delay eod 2
	if [[ $src == pipe ]]; then
		postie -f a@example.org b@example.org < <(cat "$BATS_TEST_TMPDIR/msg") 2>"$BATS_TEST_TMPDIR/err" &
	else
		postie -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg" 2>"$BATS_TEST_TMPDIR/err" &
	fi
	pid=$!
	wait_for_delay eod
	size=$(stat -c %s "$Q"/tmp/*.msg)
	wait "$pid" || fail "postie failed: $(cat "$BATS_TEST_TMPDIR/err")"
	echo "$size"
}

@test "a send from a file that succeeds writes none of it into the spool; from a pipe, all" {
	big_message 20000
	run -0 spool_size_during_send file
	[ "$output" -eq 0 ]
	[ "$(fixture_count)" -eq 1 ]
	fixture_reset
	run -0 spool_size_during_send pipe
	[ "$output" -eq "$(stat -c %s "$(fixture_data_file 1)")" ]
	[ -z "$(ls -A "$Q/q")" ]
}

@test "451 to MAIL FROM: the file's entry is the pipe's, byte for byte" {
	message "${HEAD}one\ntwo\n"
	fixture_fault mail '451 4.3.0 busy'
	queue_both 0 -f a@example.org b@example.org
	assert_output --regexp "unavailable .*; queued as [0-9a-f-]+, delivered by 'postie -q'$"
	assert_same_queued
	assert_file_bytes "$BATS_TEST_TMPDIR/file.msg" 'From: a@example.org\r\nTo: b@example.org\r\nSubject: f\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <f@x>\r\n\r\none\r\ntwo\r\n'
}

@test "451 to RCPT TO, to DATA and after the final dot: the same entry both ways" {
	big_message 3000
	printf 'a last line without its end' >>"$BATS_TEST_TMPDIR/msg"
	fixture_fault rcpt '451 4.2.0 later'
	queue_both 0 -f a@example.org b@example.org
	assert_same_queued
	fixture_reset
	fixture_fault data '451 4.3.0 not now'
	queue_both 0 -f a@example.org b@example.org
	assert_same_queued
	fixture_reset
	fixture_fault eod '451 4.3.0 try again'
	queue_both 0 -f a@example.org b@example.org
	assert_same_queued
	cmp "$BATS_TEST_TMPDIR/file.msg" "$(fixture_data_file 1 rejected)"
}

@test "one recipient deferred: the same entry both ways; failed/ too" {
	message "${HEAD}x\n"
	fixture_fault rcpt '452 4.2.2 full' c@example.org
	queue_both 0 -f a@example.org b@example.org c@example.org
	assert_same_queued
	fixture_reset
	rm -rf "$Q"
	fixture_fault eod '554 5.7.1 no'
	queue_both 69 --failed -f a@example.org b@example.org
	assert_same_queued
}

@test "-odq: the same entry both ways" {
	big_message 2000
	queue_both 0 -odq -f a@example.org b@example.org
	assert_same_queued
	[ "$(fixture_count)" -eq 0 ]
}

@test "dot lines, without -i and with it: the same entries" {
	message "${HEAD}.hidden\n..two\n. \nnext\n.\nafter the end\n"
	fixture_fault mail '451 4.3.0 busy'
	queue_both 0 -f a@example.org b@example.org
	assert_same_queued
	run ! grep -q 'after the end' "$BATS_TEST_TMPDIR/file.msg"
	queue_both 0 -i -f a@example.org b@example.org
	assert_same_queued
	grep -q 'after the end' "$BATS_TEST_TMPDIR/file.msg"
	grep -q $'^\\.\r$' "$BATS_TEST_TMPDIR/file.msg"
}

@test "LF, CRLF, lone CRs, NULs and long lines: the same entries" {
	{
		printf 'From: a@example.org\r\nTo: b@example.org\r\nSubject: crlf\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <c@x>\r\n\r\n'
		printf 'crlf\r\nlone\rcr\r\nnul\000byte\n'
		head -c 5000 /dev/zero | tr '\0' x
		printf '\n'
		head -c 300000 /dev/zero | tr '\0' 'y'
	} >"$BATS_TEST_TMPDIR/msg"
	fixture_fault eod '451 4.3.0 later'
	queue_both 0 -f a@example.org b@example.org
	assert_same_queued
	fixture_reset
	big_message 100
	fixture_fault eod '451 4.3.0 later'
	queue_both 0 -f a@example.org b@example.org
	assert_same_queued
}

@test "a file that does not start at offset 0: the entry starts where stdin was" {
	message "skipped line\n${HEAD}body\n"
	fixture_fault mail '451 4.3.0 busy'
	run -0 bash -c 'read -r _; exec "$0" -f a@example.org b@example.org' "$POSTIE" <"$BATS_TEST_TMPDIR/msg"
	refute_output --partial 'changed'
	cp "$(only_msg)" "$BATS_TEST_TMPDIR/file.msg"
	rm -rf "$Q"
	run -0 bash -c 'read -r _; exec "$0" -f a@example.org b@example.org' "$POSTIE" < <(cat "$BATS_TEST_TMPDIR/msg")
	cp "$(only_msg)" "$BATS_TEST_TMPDIR/pipe.msg"
	assert_same_queued
	tail -c 6 "$BATS_TEST_TMPDIR/file.msg" | cmp - <(printf 'body\r\n')
	run ! grep -q 'skipped' "$BATS_TEST_TMPDIR/file.msg"
}

@test "more recipients than max-recipients: every batch and the entry, from the file" {
	postie_config 'timeout 10' 'max-recipients 1'
	big_message 3000
	fixture_fault rcpt '451 4.2.0 later' d@example.org
	queue_both 0 -f a@example.org b@example.org c@example.org d@example.org
	assert_same_queued
	rm -rf "$Q"
	fixture_reset
	fixture_fault rcpt '451 4.2.0 later' d@example.org
	run -0 postie -f a@example.org b@example.org c@example.org d@example.org <"$BATS_TEST_TMPDIR/msg"
	[ "$(fixture_count)" -eq 2 ]
	cmp "$(fixture_data_file 1)" "$(fixture_data_file 2)"
	[ "$(fixture_count rejected)" -eq 0 ]
	cmp "$(fixture_data_file 1)" "$(only_msg)"
}

@test "a file that grows after postie read it: one line, and kept as it was read" {
	big_message 1000
	fixture_fault delay eod 2
	fixture_fault eod '451 4.3.0 later'
	postie -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for_delay eod
	printf 'appended while the relay thought\n' >>"$BATS_TEST_TMPDIR/msg"
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --regexp '^postie: stdin: the file changed size while postie sent it \([0-9]+ bytes at the start, [0-9]+ read, [0-9]+ now\): kept as read$'
	assert_line --partial 'queued as'
	cmp "$(only_msg)" "$(fixture_data_file 1 rejected)"
	run ! grep -q appended "$(only_msg)"
}

@test "a file that grows in the middle of the send: what was read, sent and kept" {
	big_message 40000
	fixture_fault delay mid-data 2
	fixture_fault eod '451 4.3.0 later'
	postie -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for_delay mid-data
	printf 'appended mid-send\n' >>"$BATS_TEST_TMPDIR/msg"
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --regexp '^postie: stdin: the file changed size while postie sent it \('
	grep -q 'appended mid-send' "$(fixture_data_file 1 rejected)"
	cmp "$(only_msg)" "$(fixture_data_file 1 rejected)"
}

@test "bytes already read change: one line, and the file kept as it is now, never lost" {
	big_message 40000
	fixture_fault delay mid-data 2
	fixture_fault eod '451 4.3.0 later'
	postie -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for_delay mid-data
	printf 'CHANGED' | dd of="$BATS_TEST_TMPDIR/msg" bs=1 seek=200 conv=notrunc status=none
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --regexp '^postie: stdin: the file changed after postie read it \(its first [0-9]+ bytes are not those read\): kept as it is now$'
	assert_line --partial 'queued as'
	grep -q CHANGED "$(only_msg)"
	run ! grep -q CHANGED "$(fixture_data_file 1 rejected)"
	cp "$(only_msg)" "$BATS_TEST_TMPDIR/kept.msg"
	rm -rf "$Q"
	fixture_reset
	fixture_fault mail '451 4.3.0 busy'
	run -0 postie -f a@example.org b@example.org < <(cat "$BATS_TEST_TMPDIR/msg")
	cmp "$BATS_TEST_TMPDIR/kept.msg" "$(only_msg)"
}

@test "a pipe still tees: its entry is what the relay was sent, however its source changes" {
	big_message 1000
	fixture_fault delay eod 2
	fixture_fault eod '451 4.3.0 later'
	postie -f a@example.org b@example.org < <(cat "$BATS_TEST_TMPDIR/msg") 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for_delay eod
	printf 'CHANGED' | dd of="$BATS_TEST_TMPDIR/msg" bs=1 seek=200 conv=notrunc status=none
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/err"
	refute_output --partial 'stdin:'
	cmp "$(only_msg)" "$(fixture_data_file 1 rejected)"
}
