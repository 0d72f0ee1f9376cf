#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The queue run: `postie -q` attempts every entry now, `postie -q --due` only those whose retry
# time has come; each entry keeps the expiry and the account it was written with; entries are
# selected (-qI, -qR, -qS), deleted (--delete) and put back from failed/ (--requeue).

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config 'timeout 3'
	Q=$BATS_TEST_TMPDIR/queue
	relay="smtp://127.0.0.1:$SMTP_PORT"
	T=2000000000
	message 'From: a@example.org\nTo: b@example.org\nSubject: q\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <q@x>\n\nbody\n'
	EXPECTED='From: a@example.org\r\nTo: b@example.org\r\nSubject: q\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q@x>\r\n\r\nbody\r\n'
}

queued() { ls "$Q/q" | sed -n 's/\.env$//p'; }
failed() { ls "$Q/failed" | sed -n 's/\.env$//p'; }
count_queued() { queued | wc -l; }
count_failed() { failed | wc -l; }

# enqueue SENDER RCPT: queues a message without connecting; prints the entry's id.
enqueue() {
	local before after
	before=$(queued)
	"$POSTIE" -odq -f "$1" "$2" <"$BATS_TEST_TMPDIR/msg" >/dev/null 2>&1 || return 1
	after=$(queued)
	comm -13 <(sort <<<"$before") <(sort <<<"$after")
}

# The RCPT lines of every message the fixture accepted, sorted.
delivered_rcpts() {
	cat "$SMTP_DIR"/messages/*/envelope 2>/dev/null | sed -n 's/^RCPT TO:<\(.*\)>$/\1/p' | sort
}

# after_fault KEY VALUE: a send at time $T meets the fault and is queued; then the server is
# back. Prints nothing; leaves the entry's id in $id.
after_fault() {
	fixture_fault "$@"
	POSTIE_NOW=$T post 0 -f a@example.org b@example.org
	assert_output --regexp "queued as [0-9a-f-]+, delivered by 'postie -q'$"
	[ "$(count_queued)" -eq 1 ]
	id=$(queued)
	fixture_reset
}

# The server is back: a plain -q delivers at once (same second), exactly once, and empties the
# queue; a second run sends nothing more.
assert_plain_run_delivers_once() {
	POSTIE_NOW=$T run -0 postie -q
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
	[ "$(count_queued)" -eq 0 ]
	[ "$(count_failed)" -eq 0 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	assert_data "$EXPECTED"
	POSTIE_NOW=$T run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
}

# The due-only form leaves the entry alone until its first retry, a minute later, then
# delivers it once.
assert_due_run_waits() {
	POSTIE_NOW=$((T + 59)) run -0 postie -q --due
	assert_output ''
	[ "$(fixture_count)" -eq 0 ]
	[ "$(count_queued)" -eq 1 ]
	POSTIE_NOW=$((T + 60)) run -0 postie -q --due
	[ "$(fixture_count)" -eq 1 ]
	[ "$(count_queued)" -eq 0 ]
	assert_data "$EXPECTED"
}

@test "after a 421 greeting, postie -q delivers at once and once; -q --due waits for the retry time" {
	after_fault greeting '421 4.3.2 try later'
	assert_plain_run_delivers_once
	after_fault greeting '421 4.3.2 try later'
	assert_due_run_waits
}

@test "after a 451 to MAIL FROM, postie -q delivers at once and once; -q --due waits for the retry time" {
	after_fault mail '451 4.3.0 busy'
	assert_plain_run_delivers_once
	after_fault mail '451 4.3.0 busy'
	assert_due_run_waits
}

@test "after a connection dropped mid-DATA, postie -q delivers at once and once; -q --due waits" {
	after_fault drop mid-data
	assert_plain_run_delivers_once
	after_fault drop mid-data
	assert_due_run_waits
}

@test "after a connection dropped after the final dot, postie -q delivers at once and once; -q --due waits" {
	after_fault drop after-dot
	assert_plain_run_delivers_once
	after_fault drop after-dot
	assert_due_run_waits
}

@test "-q, --flush, sendmail -q and -q30m attempt every entry whatever its backoff, oldest first" {
	fixture_fault greeting '421 4.3.2 down'
	for i in 1 2 3 4; do POSTIE_NOW=$((T + i)) post 0 -f a@example.org "r$i@example.org"; done
	fixture_reset
	# none is due: each retry is a minute after its entry was queued
	POSTIE_NOW=$((T + 10)) run -0 postie -q
	assert_output ''
	[ "$(fixture_count)" -eq 4 ]
	[ "$(count_queued)" -eq 0 ]
	for i in 1 2 3 4; do
		assert_envelope -n "$i" "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r$i@example.org>"
	done
	[ "$(ls "$SMTP_DIR/sessions" | grep -c '\.wire$')" -eq 1 ]
	ln -s "$POSTIE" "$BATS_TEST_TMPDIR/sendmail"
	local cmd n=4
	for cmd in "$POSTIE --flush" "$BATS_TEST_TMPDIR/sendmail -q" "$POSTIE -q30m"; do
		fixture_fault greeting '421 4.3.2 down'
		POSTIE_NOW=$T post 0 -f a@example.org b@example.org
		rm "$SMTP_DIR/faults"
		# shellcheck disable=SC2086 # $cmd is a command line: split on purpose
		POSTIE_NOW=$T run -0 $cmd
		n=$((n + 1))
		[ "$(fixture_count)" -eq "$n" ]
		[ "$(count_queued)" -eq 0 ]
	done
}

@test "-v names each entry delivered, deferred (with the reason) and moved to failed/" {
	ok=$(enqueue a@example.org ok@example.org)
	later=$(enqueue a@example.org later@example.org)
	gone=$(enqueue a@example.org gone@example.org)
	fixture_fault rcpt '451 4.2.0 try later' later@example.org
	fixture_fault rcpt '550 5.1.1 no such user' gone@example.org
	run -0 postie -q -v
	assert_line "postie: queue entry $ok: delivered to 1 recipient"
	assert_line "postie: queue entry $later: deferred: $relay refused <later@example.org>: 451 4.2.0 try later"
	assert_line "postie: queue entry $gone: $relay refused <gone@example.org>: 550 5.1.1 no such user; moved to failed/"
	run grep -c '^postie: ' <<<"$output"
	assert_output 3
	[ "$(queued)" = "$later" ]
	[ "$(failed)" = "$gone" ]
}

@test "without a terminal or -v, postie -q delivers silently and an empty run prints nothing" {
	fixture_fault greeting '421 4.3.2 down'
	POSTIE_NOW=$T post 0 -f a@example.org b@example.org
	fixture_reset
	POSTIE_NOW=$T run -0 --separate-stderr postie -q
	assert_equal "$stderr" ''
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
	run -0 --separate-stderr postie -q
	assert_equal "$stderr" ''
	run -0 --separate-stderr postie -q --due
	assert_equal "$stderr" ''
}

@test "on a terminal postie -q says what it did, and why it did nothing" {
	require_cmd script
	tty_run() { POSTIE_NOW=$T script -qec "$POSTIE $*" /dev/null | tr -d '\r'; }
	run tty_run -q
	assert_output 'postie: the queue is empty'
	fixture_fault greeting '421 4.3.2 down'
	POSTIE_NOW=$T post 0 -f a@example.org b@example.org
	POSTIE_NOW=$T post 0 -f a@example.org c@example.org
	mapfile -t ids < <(queued)
	run tty_run -q --due
	assert_output "postie: nothing is due: 2 entries wait for their retry time ('postie -q' attempts them now)"
	run tty_run -q
	assert_line --index 0 "postie: queue entry ${ids[0]}: deferred: $relay refused the connection: 421 4.3.2 down"
	assert_line --index 1 "postie: queue entry ${ids[1]}: deferred: $relay refused the connection: 421 4.3.2 down"
	fixture_reset
	run tty_run -qI"${ids[1]}"
	assert_output "postie: queue entry ${ids[1]}: delivered to 1 recipient"
	run tty_run -qRnobody@
	assert_output "postie: no queue entry is selected (1 in the queue)"
	[ "$(fixture_count)" -eq 1 ]
}

# --- selections ---------------------------------------------------------------------------

# Four entries: alice -> bob, alice -> carol (example.net), dave -> bob, dave -> erin (.net).
four_entries() {
	e1=$(enqueue alice@example.org bob@example.org)
	e2=$(enqueue alice@example.org carol@example.net)
	e3=$(enqueue dave@example.com bob@example.org)
	e4=$(enqueue dave@example.com erin@example.net)
	[ "$(count_queued)" -eq 4 ]
}

# The ids still queued, sorted, against the expected ones.
assert_still_queued() {
	assert_equal "$(queued | sort)" "$(printf '%s\n' "$@" | sort)"
}

@test "-qR delivers exactly the entries with a recipient holding the text, case ignored" {
	four_entries
	run -0 postie -qRExample.NET
	assert_equal "$(delivered_rcpts)" "$(printf '%s\n' carol@example.net erin@example.net)"
	assert_still_queued "$e1" "$e3"
	run -0 postie '-q!Rbob@'
	[ "$(fixture_count)" -eq 2 ]	# none left without bob
	run -0 postie -qRbob@ -qRnobody
	[ "$(fixture_count)" -eq 4 ]
	[ "$(count_queued)" -eq 0 ]
}

@test "-qS delivers exactly the entries whose sender holds the text; -q!S the others" {
	four_entries
	run -0 postie -qSalice
	[ "$(fixture_count)" -eq 2 ]
	run cat "$SMTP_DIR"/messages/*/envelope
	assert_line 'MAIL FROM:<alice@example.org>'
	refute_line 'MAIL FROM:<dave@example.com>'
	assert_still_queued "$e3" "$e4"
	run -0 postie '-q!Sdave'
	[ "$(fixture_count)" -eq 2 ]
	# kinds combine: the sender must match and a recipient too
	run -0 postie -qSdave -qRerin
	assert_still_queued "$e3"
	assert_envelope -n 3 "EHLO example.net" "MAIL FROM:<dave@example.com>" "RCPT TO:<erin@example.net>"
}

@test "-qI delivers exactly the entries whose id holds the text; -q!I the others" {
	four_entries
	run -0 postie -qI"${e2: -8}"
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.org>" "RCPT TO:<carol@example.net>"
	assert_still_queued "$e1" "$e3" "$e4"
	run -0 postie -qI"$e1" -qI"$e4"
	assert_still_queued "$e3"
	run -0 postie "-q!I$e3"
	assert_still_queued "$e3"
	[ "$(fixture_count)" -eq 3 ]
}

@test "a selection without its text, or -q! without I, R or S, is a usage error" {
	run -64 postie -qR
	assert_output 'postie: -qR: needs a substring, as in -qRexample.org'
	run -64 postie '-q!S'
	assert_output 'postie: -q!S: needs a substring, as in -q!Sexample.org'
	run -64 postie '-q!x'
	assert_output 'postie: -q!x: -q! needs I, R or S, as in -q!Rexample.org'
	run -64 postie --due
	assert_output 'postie: --due: only with -q or --flush'
	run -64 postie -qRx -bp
	assert_output 'postie: -qRx: selects the entries of a queue run only'
}

# --- deleting and requeueing --------------------------------------------------------------

@test "--delete removes entries from the queue and from failed/, and says which" {
	a=$(enqueue a@example.org r1@example.org)
	b=$(enqueue a@example.org r2@example.org)
	fixture_fault rcpt '550 5.1.1 no such user'
	post 67 -f a@example.org r3@example.org
	f=$(failed)
	fixture_reset
	run -0 postie --delete "$a" "$f"
	assert_line --index 0 "postie: queue entry $a: deleted"
	assert_line --index 1 "postie: queue entry $f: deleted from failed/"
	[ "${#lines[@]}" -eq 2 ]
	[ "$(queued)" = "$b" ]
	[ "$(count_failed)" -eq 0 ]
	[ ! -e "$Q/q/$a.msg" ]
	[ ! -e "$Q/failed/$f.msg" ]
	run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<r2@example.org>"
}

@test "--delete of an unknown id exits 66, of a word that is no id 64, of an entry being delivered 75" {
	a=$(enqueue a@example.org r1@example.org)
	run -66 postie --delete 20261128-181729-00000000
	assert_output "postie: queue entry 20261128-181729-00000000: not in $Q/q nor in $Q/failed"
	run -64 postie --delete ../../etc/passwd
	assert_output "postie: '../../etc/passwd': not a queue id (mailq lists them)"
	run -75 flock "$Q/q/$a.msg" "$POSTIE" --delete "$a"
	assert_output "postie: queue entry $a: being delivered by another run"
	[ "$(queued)" = "$a" ]
	# every id is tried; the last failure is the error line and the status
	run -66 postie --delete 20261128-181729-00000000 "$a"
	assert_line --index 0 "postie: queue entry $a: deleted"
	assert_line --index 1 "postie: queue entry 20261128-181729-00000000: not in $Q/q nor in $Q/failed"
	[ "$(count_queued)" -eq 0 ]
	run -64 postie --delete
	assert_output 'postie: --delete: give the IDs of the entries (mailq lists them)'
}

@test "--requeue puts an entry of failed/ back with its recipients, due now, and postie -q delivers it" {
	fixture_fault rcpt '550 5.1.1 no such user'
	POSTIE_NOW=$T post 67 -f a@example.org b@example.org c@example.org
	id=$(failed)
	fixture_reset
	POSTIE_NOW=$((T + 100)) run -0 postie --requeue "$id"
	assert_output "postie: queue entry $id: back in the queue from failed/, delivered by 'postie -q'"
	[ "$(queued)" = "$id" ]
	[ "$(count_failed)" -eq 0 ]
	run cat "$Q/q/$id.env"
	assert_line 'rcpt <b@example.org>'
	assert_line 'rcpt <c@example.org>'
	assert_line 'attempts 0'
	assert_line "next-attempt $((T + 100))"
	assert_line "created $T"
	POSTIE_NOW=$((T + 100)) run -0 postie -q --due
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>" "RCPT TO:<c@example.org>"
	assert_data "$EXPECTED"
	[ "$(count_queued)" -eq 0 ]
}

@test "--requeue gives an expired entry a new lifetime, and refuses an entry that is queued" {
	fixture_fault greeting '421 4.3.2 down'
	POSTIE_NOW=$T post 0 -f a@example.org b@example.org
	id=$(queued)
	run -64 postie --requeue "$id"
	assert_output "postie: queue entry $id: not in failed/: it is queued, and 'postie -q' attempts it now"
	POSTIE_NOW=$((T + 5 * 86400)) run -0 postie -q
	assert_output "postie: queue entry $id expired; moved to failed/"
	fixture_reset
	POSTIE_NOW=$((T + 6 * 86400)) run -0 postie --requeue "$id"
	grep -qx "expires $((T + 11 * 86400))" "$Q/q/$id.env"
	POSTIE_NOW=$((T + 6 * 86400)) run -0 postie -q
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
	[ "$(count_failed)" -eq 0 ]
}

# --- each entry's own settings -----------------------------------------------------------

@test "an account's queue-lifetime is fixed in the entry and applied by a plain postie -q" {
	postie_config 'timeout 3' 'account work' 'from w@example.org' 'queue-lifetime 1h'
	fixture_fault greeting '421 4.3.2 down'
	POSTIE_NOW=$T post 0 -f w@example.org b@example.org
	id=$(queued)
	run cat "$Q/q/$id.env"
	assert_line 'account work'
	assert_line "expires $((T + 3600))"
	# the relay is still down a second before: the entry is retried and stays
	POSTIE_NOW=$((T + 3599)) run -0 postie -q
	assert_output ''
	[ "$(queued)" = "$id" ]
	fixture_reset
	POSTIE_NOW=$((T + 3600)) run -0 postie -q
	assert_output "postie: queue entry $id expired; moved to failed/"
	[ "$(fixture_count)" -eq 0 ]
	[ "$(failed)" = "$id" ]
	run cat "$Q/failed/$id.env"
	assert_line --regexp '^last-error expired after 1 hour in the queue; last error: .*421 4\.3\.2 down$'
	# the expiry is the entry's own: a longer lifetime configured later does not change it
	postie_config 'timeout 3' 'account work' 'from w@example.org' 'queue-lifetime 1d'
	fixture_fault greeting '421 4.3.2 down'
	POSTIE_NOW=$T post 0 -f w@example.org b@example.org
	postie_config 'timeout 3' 'account work' 'from w@example.org' 'queue-lifetime 1h'
	fixture_reset
	POSTIE_NOW=$((T + 7200)) run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "an entry without an expiry (an older postie's) expires by created + its account's lifetime now" {
	postie_config 'timeout 3' 'account work' 'from w@example.org' 'queue-lifetime 1h'
	export POSTIE_NOW=$T
	w=$(enqueue w@example.org b@example.org)
	a=$(enqueue a@example.org c@example.org)
	unset POSTIE_NOW
	sed -i '/^expires /d' "$Q/q/$w.env" "$Q/q/$a.env"
	POSTIE_NOW=$((T + 3600)) run -0 postie -q
	assert_output "postie: queue entry $w expired; moved to failed/"
	[ "$(failed)" = "$w" ]
	[ "$(count_queued)" -eq 0 ]
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<c@example.org>"
}

@test "an entry whose account is gone stays queued, unsent, and says so; it goes once the account is back" {
	POSTIE_RELAY=smtp://127.0.0.1:1 postie_config 'timeout 3' 'account work' \
		"relay smtp://127.0.0.1:$SMTP_PORT" 'from w@example.org'
	POSTIE_NOW=$T post 0 -odq -f w@example.org b@example.org
	id=$(queued)
	grep -qx 'account work' "$Q/q/$id.env"
	# the account is removed; the top-level relay is the fixture now, and must not be used
	postie_config 'timeout 3'
	POSTIE_NOW=$((T + 10)) run -0 postie -q
	assert_output "postie: queue entry $id: no account 'work' in $POSTIE_CONFIG; it stays in the queue, unsent"
	[ "$(fixture_count)" -eq 0 ]
	[ "$(queued)" = "$id" ]
	run cat "$Q/q/$id.env"
	assert_line "last-error no account 'work' in $POSTIE_CONFIG"
	assert_line 'attempts 1'
	assert_line 'rcpt <b@example.org>'
	POSTIE_RELAY=smtp://127.0.0.1:1 postie_config 'timeout 3' 'account work' \
		"relay smtp://127.0.0.1:$SMTP_PORT" 'from w@example.org'
	POSTIE_NOW=$((T + 20)) run -0 postie -q
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
	[ "$(count_queued)" -eq 0 ]
}
