#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# At most once per run, and no resend that cannot be recorded: a queue run claims an entry on
# disk before it sends it, sends nothing from a queue it cannot write, and a run killed at any
# moment duplicates at most the entry it had in flight and leaves no file behind. The faults of
# the disk (a read-only queue, a full one) are made in a private mount namespace (root only:
# CI runs as root); messages are counted by their Message-ID at the fixture.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 3'
	Q=$BATS_TEST_TMPDIR/queue
	T=2000000000
	NS_PID=
}
teardown() {
	if [ -n "${NS_PID:-}" ]; then
		kill "$NS_PID" 2>/dev/null || true
		wait "$NS_PID" 2>/dev/null || true
	fi
}

# in_q CMD...: runs CMD where the queue is: in the namespace once there is one.
in_q() {
	if [ -n "${NS_PID:-}" ]; then nsenter -t "$NS_PID" -m "$@"; else "$@"; fi
}
queued() { in_q ls "$Q/q" | sed -n 's/\.env$//p'; }
count_queued() { queued | wc -l; }

# The fixture's faults go, the messages it recorded stay.
clear_faults() { rm -f "$SMTP_DIR/faults"; }

# mid N: a message whose Message-ID is <N@atmost>, in $BATS_TEST_TMPDIR/msg.
mid() {
	message 'From: a@example.org\nSubject: m%s\nMessage-ID: <%s@atmost>\n\nbody %s\n' "$1" "$1" "$1"
}

# How many copies of each Message-ID the fixture accepted: "N <id>" lines, sorted by id.
copies() {
	cat "$SMTP_DIR"/messages/*/data 2>/dev/null | tr -d '\r' | sed -n 's/^Message-ID: //p' |
		sort | uniq -c | sed 's/^ *//' | sort -k2
}

# ns_start: a private mount namespace, held by a sleeping process, for ns to run commands in.
# Skipped without root or mount namespaces, except under CI=true, where that is a failure.
ns_start() {
	if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
		[ "${CI:-}" = true ] && fail "CI must run as root with mount namespaces"
		skip "needs root and mount namespaces"
	fi
	unshare -m --propagation private sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	NS_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$NS_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && return 0
		sleep 0.05
	done
	fail "unshare -m did not come up"
}
ns() { nsenter -t "$NS_PID" -m "$@"; }

# ns_tmpfs DIR SIZE: a small file system of root's, mode 0700, on DIR, in the namespace.
ns_tmpfs() {
	mkdir -p "$1"
	ns mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1"
}

# ns_fill DIR: fills the file system of DIR until the kernel says it is full.
ns_fill() {
	run ns dd if=/dev/zero of="$1/fill" bs=4k
	assert_output --partial 'No space left on device'
}

@test "after a 421, a 451 to MAIL, a drop mid-DATA and a drop after the dot, postie -q delivers each once at once; --due waits" {
	local nth=0 fault	# not i: bats' run sets it
	for fault in 'greeting=421 4.3.2 try later' 'mail=451 4.3.0 later' 'drop=mid-data' 'drop=after-dot'; do
		nth=$((nth + 1))
		fixture_fault "${fault%%=*}" "${fault#*=}"
		mid "$nth"
		POSTIE_NOW=$T post 0 -f a@example.org b@example.org
		assert_output --regexp "queued as [0-9a-f-]+, delivered by 'postie -q'$"
		clear_faults
	done
	[ "$(count_queued)" -eq 4 ]
	[ "$(fixture_count dropped)" -eq 1 ]	# the server had the last one before it hung up
	POSTIE_NOW=$((T + 59)) run -0 postie -q --due
	assert_output ''
	[ "$(fixture_count)" -eq 0 ]
	POSTIE_NOW=$T run -0 postie -q
	assert_output ''
	run copies
	assert_output "$(printf '1 <%s@atmost>\n' 1 2 3 4)"
	[ "$(count_queued)" -eq 0 ]
	POSTIE_NOW=$((T + 3600)) run -0 postie -q
	[ "$(fixture_count)" -eq 4 ]
	[ "$(fixture_count dropped)" -eq 1 ]
}

@test "a read-only queue: postie -q sends nothing, exits 75 with the errno, keeps the entry, and never resends" {
	ns_start
	mid 1
	post 0 -odq a@example.org
	id=$(queued)
	ns mount --bind "$Q" "$Q"
	ns mount -o remount,bind,ro "$Q"
	for i in 1 2 3; do
		run -75 ns "$POSTIE" -q
		assert_output "postie: queue entry $id not sent: its attempt cannot be recorded (queue $Q/tmp/$id.env: Read-only file system)"
	done
	[ "$(fixture_count)" -eq 0 ]
	[ -f "$Q/q/$id.env" ]
	[ -f "$Q/q/$id.msg" ]
	grep -qx 'attempts 0' "$Q/q/$id.env"
	# outside the namespace the queue is writable: delivered once, and gone
	run -0 postie -q
	run copies
	assert_output '1 <1@atmost>'
	[ "$(count_queued)" -eq 0 ]
}

@test "a full disk with one recipient deferred: the other gets exactly one copy over several runs, attempts recorded" {
	ns_start
	ns_tmpfs "$Q" 512k
	mid 1
	run -0 ns "$POSTIE" -odq -f a@example.org b@example.org c@example.org <"$BATS_TEST_TMPDIR/msg"
	id=$(queued)
	fixture_fault rcpt '452 4.2.2 mailbox full' c@example.org
	ns_fill "$Q"
	for i in 1 2 3; do
		run -75 ns "$POSTIE" -q
		assert_output "postie: queue entry $id not sent: its attempt cannot be recorded (queue $Q/tmp/$id.env: No space left on device)"
	done
	[ "$(fixture_count)" -eq 0 ]
	ns grep -qx 'attempts 0' "$Q/q/$id.env"
	ns rm "$Q/fill"
	run -0 ns "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	ns grep -qx 'attempts 1' "$Q/q/$id.env"
	run ns grep '^rcpt ' "$Q/q/$id.env"
	assert_output 'rcpt <c@example.org>'
	run -1 ns grep '^claimed ' "$Q/q/$id.env"
	ns_fill "$Q"
	for i in 1 2 3; do
		run -75 ns "$POSTIE" -q
		assert_output --partial '(queue '"$Q/tmp/$id.env"': No space left on device)'
	done
	[ "$(fixture_count)" -eq 1 ]
	ns grep -qx 'attempts 1' "$Q/q/$id.env"
}

@test "-odq on a full disk exits 75 and says No space left on device, once, with one prefix" {
	ns_start
	ns_tmpfs "$Q" 256k
	mid 1
	run -0 ns "$POSTIE" -odq a@example.org <"$BATS_TEST_TMPDIR/msg"	# the queue's directories
	ns_fill "$Q"
	run -75 ns "$POSTIE" -odq a@example.org <"$BATS_TEST_TMPDIR/msg"
	assert_output --regexp "^postie: not queued \(queue $Q/tmp/[0-9a-f-]+\.msg: No space left on device\): the message was not accepted$"
	[ "$(count_queued)" -eq 1 ]
	run ns ls "$Q/tmp"
	assert_output ''
}

@test "hundreds of SIGKILLs of postie -q: none lost, only an entry in flight at a kill delivered twice, nothing left behind" {
	local i pid kills=0 claimed f
	for i in $(seq 1 100); do
		mid "$i"
		"$POSTIE" -odq a@example.org <"$BATS_TEST_TMPDIR/msg"
	done
	[ "$(count_queued)" -eq 100 ]
	# slow enough that a kill finds an entry in flight, before the dot or after it
	fixture_fault delay mail 0.01
	fixture_fault delay eod 0.02
	: >"$BATS_TEST_TMPDIR/inflight"
	while ((kills < 400 && SECONDS < 45)) && [ -n "$(ls "$Q/q")" ]; do
		"$POSTIE" -q </dev/null >/dev/null 2>&1 3>&- &
		pid=$!
		sleep "$(printf '0.%03d' $((RANDOM % 60)))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		kills=$((kills + 1))
		# a run has one entry in flight at a time: at most one claim is left
		claimed=$(grep -l '^claimed ' "$Q"/q/*.env 2>/dev/null || true)
		[ "$(printf '%s' "$claimed" | grep -c .)" -le 1 ]
		for f in $claimed; do
			[ -f "${f%.env}.msg" ] || continue	# delivered, its removal cut short
			tr -d '\r' <"${f%.env}.msg" | sed -n 's/^Message-ID: //p' >>"$BATS_TEST_TMPDIR/inflight"
		done
	done
	echo "# $kills kills" >&3
	((kills >= 100))
	clear_faults
	run -0 postie -q
	run copies
	[ "${#lines[@]}" -eq 100 ]	# none lost
	local n id allowed dups=0
	while read -r n id; do
		allowed=$((1 + $(grep -cxF "$id" "$BATS_TEST_TMPDIR/inflight" || true)))
		((n <= allowed)) || fail "$id delivered $n times, in flight at $((allowed - 1)) kills"
		((n == 1)) || dups=$((dups + 1))
	done <<<"$output"
	echo "# $dups duplicated, each in flight at a kill" >&3
	run ls -A "$Q/q" "$Q/tmp" "$Q/failed"
	assert_output "$Q/failed:

$Q/q:

$Q/tmp:"
}

@test "50 concurrent senders with the relay down, then three concurrent postie -q: every message delivered exactly once" {
	local i pids=()
	fixture_fault greeting '421 4.3.2 down'
	for i in $(seq 1 50); do
		printf 'From: a@example.org\nSubject: c%s\nMessage-ID: <%s@atmost>\n\nbody\n' "$i" "$i" |
			"$POSTIE" -f a@example.org "r$i@example.org" 2>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	[ "$(count_queued)" -eq 50 ]
	[ "$(fixture_count)" -eq 0 ]
	clear_faults
	fixture_fault delay eod 0.02
	pids=()
	for i in 1 2 3; do
		"$POSTIE" -q 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run copies
	assert_output "$(for i in $(seq 1 50); do printf '1 <%s@atmost>\n' "$i"; done | sort -k2)"
	[ "$(count_queued)" -eq 0 ]
}

@test "three concurrent postie -q against a relay that defers: each entry is attempted once among them" {
	local i pids=()
	for i in $(seq 1 20); do
		mid "$i"
		"$POSTIE" -odq a@example.org <"$BATS_TEST_TMPDIR/msg"
	done
	fixture_fault mail '451 4.3.0 later'
	# no run finishes an attempt before the others have listed the queue: a run that
	# starts after another's attempt is a later run, and attempts the entry again
	fixture_fault delay greeting 0.5
	fixture_fault delay mail 0.02
	for i in 1 2 3; do
		"$POSTIE" -q 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	[ "$(count_queued)" -eq 20 ]
	run bash -c "grep -h '^attempts ' '$Q'/q/*.env | sort | uniq -c"
	assert_output '     20 attempts 1'
}

@test "an entry goes to the relay its account names at the time of the run, not the one it was queued for" {
	POSTIE_RELAY=smtp://127.0.0.1:1 postie_config 'timeout 3'
	mid 1
	post 0 -f a@example.org b@example.org
	assert_output --regexp "^postie: smtp://127.0.0.1:1 unavailable \(cannot connect .*\); queued as [0-9a-f-]+, delivered by 'postie -q'$"
	id=$(queued)
	grep -qx 'relay smtp://127.0.0.1:1' "$Q/q/$id.env"
	postie_config 'timeout 3'	# the relay is fixed in the configuration
	run -0 postie -q
	run copies
	assert_output '1 <1@atmost>'
	[ "$(count_queued)" -eq 0 ]
}

@test "an entry a killed run had claimed is sent again by the next run, once, and the run says so" {
	mid 1
	post 0 -odq a@example.org
	id=$(queued)
	# what a run killed between its claim and its record leaves
	sed -i -e 's/^attempts 0$/attempts 1/' -e "\$a claimed $T" "$Q/q/$id.env"
	run -0 postie -q
	assert_output "postie: queue entry $id: a run that did not finish was sending it; sent again, so a recipient may get it twice"
	run copies
	assert_output '1 <1@atmost>'
	[ "$(count_queued)" -eq 0 ]
}

@test "a run removes what a killed run left: the envelope of a delivered entry, an update's temporary file" {
	mid 1
	post 0 -odq a@example.org
	gone=$(queued)
	mid 2
	post 0 -odq a@example.org
	kept=$(comm -13 <(echo "$gone") <(queued))
	rm "$Q/q/$gone.msg"	# a removal cut short after its first unlink
	cp "$Q/q/$kept.env" "$Q/tmp/$kept.env"	# a claim cut short before its rename
	run -0 postie -q -v
	assert_line "postie: $Q/q/$gone.env: removed, left by a run that did not finish"
	assert_line "postie: $Q/tmp/$kept.env: removed, left by a run that did not finish"
	run copies
	assert_output '1 <2@atmost>'
	run ls -A "$Q/q" "$Q/tmp"
	assert_output "$Q/q:

$Q/tmp:"
}
