#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The directories above a queue and an aliases file: as OpenSSH's StrictModes asks of ~/.ssh,
# each must be owned by the user or root and writable by nobody else (a sticky /tmp excepted
# for what the user owns in it). Otherwise another user could rename the queue away, with the
# mail in it, or swap the file root reads. The attacks run as nobody (tests/setgid.bash);
# "another user" is daemon.

load helpers
load postie
load setgid

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	message 'Subject: paths\n\nbody\n'
	setgid_setup
	postie_config
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'timeout 5' 'syslog no'
	NOBODY=$(id -u nobody)
	DAEMON=$(id -u daemon)
	relay="smtp://127.0.0.1:$SMTP_PORT"
}
teardown() { setgid_teardown; }

# The line of a send whose relay said 421 and whose queue was refused for WHY.
not_queued() {
	echo "postie: $relay unavailable (refused the connection: 421 4.3.2 try later); not queued (queue $1: $2): the message was not accepted"
}

@test "a queue below a directory others can write is refused: exit 75, nothing created there" {
	mkdir -m 777 "$WORLD/shared"
	fixture_fault greeting '421 4.3.2 try later'
	fixture_fault times 1
	run -75 as_nobody XDG_STATE_HOME="$WORLD/shared" "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "$(not_queued "$WORLD/shared/postie/queue" "$WORLD/shared is writable by others (mode 0777)")"
	[ ! -e "$WORLD/shared/postie" ]
	# a send that works needs no queue
	run -0 as_nobody XDG_STATE_HOME="$WORLD/shared" "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
	[ ! -e "$WORLD/shared/postie" ]
}

@test "a queue below a directory of another user's is refused, even in nobody's own directory" {
	mkdir -m 755 "$WORLD/daemon"
	mkdir -m 700 "$WORLD/daemon/nobody"
	chown nobody:nogroup "$WORLD/daemon/nobody"
	chown daemon:daemon "$WORLD/daemon"
	fixture_fault greeting '421 4.3.2 try later'
	run -75 as_nobody XDG_STATE_HOME="$WORLD/daemon/nobody" "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "$(not_queued "$WORLD/daemon/nobody/postie/queue" \
		"$WORLD/daemon is owned by uid $DAEMON (daemon), not by you or root")"
	[ -z "$(ls -A "$WORLD/daemon/nobody")" ]
}

@test "in a sticky 1777 directory: below nobody's own directory the queue is used, below another user's not" {
	mkdir -m 1777 "$WORLD/tmp"
	mkdir -m 700 "$WORLD/tmp/nobody"
	chown nobody:nogroup "$WORLD/tmp/nobody"
	# daemon got there first and left its door open
	mkdir -m 777 "$WORLD/tmp/squat"
	chown daemon:daemon "$WORLD/tmp/squat"
	fixture_fault greeting '421 4.3.2 try later'
	run -75 as_nobody XDG_STATE_HOME="$WORLD/tmp/squat" "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "$(not_queued "$WORLD/tmp/squat/postie/queue" \
		"$WORLD/tmp/squat is owned by uid $DAEMON (daemon), not by you or root")"
	[ ! -e "$WORLD/tmp/squat/postie" ]
	Q=$WORLD/tmp/nobody/postie/queue
	run -0 as_nobody XDG_STATE_HOME="$WORLD/tmp/nobody" "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "^postie: $relay unavailable \(refused the connection: 421 4\.3\.2 try later\); queued as [0-9]{8}-[0-9]{6}-[0-9a-f]{8}, delivered by 'postie -q'$"
	run ls "$Q/q"
	assert_line --regexp '^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\.env$'
	[ "$(stat -c '%u %a' "$WORLD/tmp/nobody/postie")" = "$NOBODY 700" ]
	[ "$(stat -c '%u %a' "$Q")" = "$NOBODY 700" ]
}

@test "a queue below a directory its group can write is refused, the user's own group too" {
	mkdir -m 775 "$WORLD/group"
	chgrp nogroup "$WORLD/group"
	fixture_fault greeting '421 4.3.2 try later'
	run -75 as_nobody XDG_STATE_HOME="$WORLD/group" "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "$(not_queued "$WORLD/group/postie/queue" \
		"$WORLD/group is writable by its group nogroup (mode 0775)")"
	[ ! -e "$WORLD/group/postie" ]
}

@test "root neither delivers nor lists a queue below a directory nobody owns: exit 77" {
	Q=$WORLD/nobody/queue
	mkdir -m 755 "$WORLD/nobody"
	postie_config "queue $Q"
	fixture_fault greeting '421 4.3.2 try later'
	fixture_fault times 1
	post 0 -f a@example.org b@example.org
	assert_output --regexp "queued as "
	chown nobody:nogroup "$WORLD/nobody"
	why="queue $Q: $WORLD/nobody is owned by uid $NOBODY (nobody), not by root"
	run -77 postie -q
	assert_output "postie: $why"
	[ "$(fixture_count)" -eq 0 ]
	run -77 postie -bp
	assert_output "postie: $why"
	ln -s "$POSTIE" "$BATS_TEST_TMPDIR/mailq"
	run -77 "$BATS_TEST_TMPDIR/mailq"
	assert_output "postie: $why"
	# the same queue, once its parent is root's again, is delivered
	chown root:root "$WORLD/nobody"
	POSTIE_NOW=$(($(date +%s) + 3600)) run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "root refuses an aliases file that nobody could change: exit 78, nothing sent" {
	mkdir -m 755 "$WORLD/aliases.d"
	printf 'postmaster: boss@example.org\n' >"$WORLD/aliases.d/aliases"
	chmod 644 "$WORLD/aliases.d/aliases"
	chown nobody:nogroup "$WORLD/aliases.d"
	postie_config "aliases $WORLD/aliases.d/aliases"
	post 78 -f a@example.org postmaster
	assert_output "postie: aliases $WORLD/aliases.d/aliases: $WORLD/aliases.d is owned by uid $NOBODY (nobody), not by root"
	chown root:root "$WORLD/aliases.d"
	chown nobody:nogroup "$WORLD/aliases.d/aliases"
	post 78 -f a@example.org postmaster
	assert_output "postie: aliases $WORLD/aliases.d/aliases: $WORLD/aliases.d/aliases is owned by uid $NOBODY (nobody), not by root"
	[ "$(fixture_count)" -eq 0 ]
	chown root:root "$WORLD/aliases.d/aliases"
	post 0 -f a@example.org postmaster
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<boss@example.org>"
}

@test "the system file is not read with privilege from a directory another user can write: exit 78" {
	chmod 777 "$SCRATCH"
	run -78 as_nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "postie: $SYSFILE: $SYSDIR is writable by others (mode 0777)"
	run -78 as_root_in_namespace "$POSTIE" b@example.org <"$WORLD/msg"
	assert_output "postie: $SYSFILE: $SYSDIR is writable by others (mode 0777)"
	[ "$(fixture_count)" -eq 0 ]
	chmod 755 "$SCRATCH"
	run -0 as_nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	[ "$(fixture_count)" -eq 1 ]
}

@test "root does not read a user's configuration file that the user could change: exit 78" {
	printf 'relay smtp://127.0.0.1:%s\ndomain user.example\n' "$SMTP_PORT" >"$WORLD/home/user.conf"
	chown nobody:nogroup "$WORLD/home/user.conf"
	run -78 "$POSTIE" -C "$WORLD/home/user.conf" b@example.org <"$WORLD/msg"
	assert_output "postie: $WORLD/home/user.conf: $WORLD/home is owned by uid $NOBODY (nobody), not by root"
	[ "$(fixture_count)" -eq 0 ]
}
