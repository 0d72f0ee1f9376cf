#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# -bv shows where each recipient would go without sending; -bi, -I and newaliases check the
# aliases file.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	A=$BATS_TEST_TMPDIR/aliases
	printf 'root: admin@example.org, ops\nops: oncall@example.org\npostmaster: root\n' >"$A"
	postie_config "aliases $A"
	relay="smtp://127.0.0.1:$SMTP_PORT"
}

@test "-bv prints each recipient's expansion and relay, and sends nothing" {
	run -0 postie -bv root bob@example.org 'Carol <carol@localhost>'
	assert_line --index 0 "root... deliverable: admin@example.org, oncall@example.org via $relay (top-level settings)"
	assert_line --index 1 "bob@example.org... deliverable: bob@example.org via $relay (top-level settings)"
	assert_line --index 2 "carol@localhost... deliverable: carol@example.net via $relay (top-level settings)"
	[ ! -e "$SMTP_DIR/sessions/1.wire" ]
}

@test "-bv names the account it would use" {
	postie_config "aliases $A" 'account work' 'from work@example.org'
	run -0 postie -bv --account work bob@example.org
	assert_output "bob@example.org... deliverable: bob@example.org via $relay (account work)"
}

@test "-bv with an invalid recipient exits 67 and still checks the others" {
	run -67 postie -bv 'x y@example.org' bob@example.org
	assert_line --index 0 'x y@example.org... invalid: bad address syntax: unquoted space in the local part'
	assert_line --index 1 "bob@example.org... deliverable: bob@example.org via $relay (top-level settings)"
	assert_line --index 2 'postie: some recipients are invalid'
}

@test "-bv without recipients exits 64" {
	run -64 postie -bv
	assert_output 'postie: no recipients: -bv checks the addresses given as arguments'
}

@test "-bi, -I and newaliases print how many aliases the file holds" {
	run -0 postie -bi
	assert_output "postie: $A: 3 aliases"
	run -0 postie -I
	assert_output "postie: $A: 3 aliases"
	ln -s "$POSTIE" "$BATS_TEST_TMPDIR/newaliases"
	run -0 "$BATS_TEST_TMPDIR/newaliases"
	assert_output "postie: $A: 3 aliases"
}

@test "-bi with a broken aliases file exits 78 naming file and line" {
	printf 'root: admin@example.org\nbroken line without colon\n' >"$A"
	run -78 postie -bi
	assert_output --regexp "^postie: $A:2: "
}

@test "-bi without an aliases file says so and exits 0" {
	postie_config
	run -0 postie -bi
	assert_output 'postie: no aliases file is configured'
}
