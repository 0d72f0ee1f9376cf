#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Sendmail's command line as its callers use it: ignored options that must never turn their
# argument into a recipient, the modes of later versions, usage errors, -v and -X.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
	message 'From: a@example.org\nSubject: x\n\nbody\n'
}

only_bob() {
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<bob@example.org>"
}

@test "cron's exact argv -FCronDaemon -i -B8BITMIME -oem root sends to root qualified" {
	message 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> run-parts\n\n.\nout\n'
	post 0 -FCronDaemon -i -B8BITMIME -oem root
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" "RCPT TO:<root@example.net>"
	run received_body
	assert_output $'.\nout'
}

@test "mailx's -i -- rcpt and git send-email's -f from -- rcpt work" {
	post 0 -i -- bob@example.org
	post 0 -f a@example.org -- bob@example.org
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<bob@example.org>"
}

@test "ignored options with a separate argument never make it a recipient" {
	for opt in -B -N -R -V -L -h -O; do
		post 0 -f a@example.org "$opt" notarcpt@example.org bob@example.org
	done
	for n in 1 2 3 4 5 6 7; do
		assert_envelope -n "$n" "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<bob@example.org>"
	done
}

@test "ignored options with a glued argument are accepted" {
	post 0 -f a@example.org -B8BITMIME -Nsuccess,failure -Rhdrs -Venvid -Ltag -h10 -OOption=x \
		-oem -odi -odb -oXfoo -eq -Afoo bob@example.org
	only_bob
}

@test "ignored flags -G -U -m -n, alone and clustered, are accepted" {
	post 0 -f a@example.org -G -U -m -n -tiGU bob@example.org
	only_bob
}

@test "-bm is the default mode" {
	post 0 -bm -f a@example.org bob@example.org
	only_bob
}

@test "an unknown option exits 64 with a usage hint" {
	post 64 -x bob@example.org
	assert_line --index 0 'postie: unknown option -x'
	assert_line --index 1 "Try 'postie --help' for the options."
	post 64 --nonsense bob@example.org
	assert_line --index 0 'postie: unknown option --nonsense'
	assert_line --index 1 "Try 'postie --help' for the options."
	[ "$(fixture_count)" -eq 0 ]
}

@test "an option without its argument exits 64" {
	post 64 bob@example.org -f
	assert_output 'postie: option -f needs an argument'
}

@test "an unknown -b mode exits 64" {
	post 64 -bz bob@example.org
	assert_output 'postie: -bz: unknown mode (postie knows -bm, -bs, -bp, -bv, -bi)'
}

@test "--help lists the options and exits 0" {
	run -0 "$POSTIE" --help
	assert_line --partial '-t'
	assert_line --partial '--subject SUBJECT'
}

@test "--version shows postie's and libcurl's versions and the compiled-in config path" {
	run -0 "$POSTIE" --version
	assert_line --index 0 --regexp '^postie [0-9]+\.[0-9]+\.[0-9]+$'
	assert_line --index 1 --regexp '^libcurl [0-9.]+ \(.+\)$'
	assert_line --regexp '^system config: /.*/postie\.conf$'
}

@test "-v prints the SMTP transcript on stderr" {
	post 0 -v -f a@example.org bob@example.org
	assert_line --regexp '^<-- 220 '
	assert_line '--> EHLO example.net'
	assert_line '--> MAIL FROM:<a@example.org>'
	assert_line '--> RCPT TO:<bob@example.org>'
	assert_line '--> DATA'
	assert_line --regexp '^<-- 354'
	only_bob
}

@test "-X appends the transcript to a file and keeps stderr quiet" {
	post 0 -X "$BATS_TEST_TMPDIR/t.log" -f a@example.org bob@example.org
	assert_output ''
	post 0 -X "$BATS_TEST_TMPDIR/t.log" -f a@example.org bob@example.org
	run grep -c -- '--> RCPT TO:<bob@example.org>' "$BATS_TEST_TMPDIR/t.log"
	assert_output 2
}

@test "-X to a file that cannot be written exits 73 before sending" {
	post 73 -X "$BATS_TEST_TMPDIR/no/such/dir/t.log" bob@example.org
	assert_output --regexp "^postie: .*/no/such/dir/t.log: No such file or directory$"
	[ "$(fixture_count)" -eq 0 ]
}

@test "closed stdout and stderr do not break a send" {
	run -0 bash -c '"$POSTIE" -f a@example.org bob@example.org <"$BATS_TEST_TMPDIR/msg" >&- 2>&-'
	only_bob
}
