#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The system file's secrets, tried as an attacker on the same machine would: the user nobody,
# a setgid copy of postie, and a system file (root:postie 0640) with alice's password for the
# relay. Every route by which a user changes where or how that account connects must make it
# the user's own account, without alice's password (postie.conf(5), SECRETS); errors about the
# file never show its values; its logfile is written by the setgid program.

load helpers
load postie
load setgid

# The fixture plays the attacker's listener: it accepts alice's password, so an "AUTH alice"
# line in its envelope means the password reached it.
setup_file() { fixture_start --auth-user alice --auth-password 'sys s3cret'; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	postie_config
	message 'Subject: secrets\n\nbody\n'
	setgid_setup
	# the real relay: port 1 of loopback, where nothing listens
	system_conf 'relay smtp://127.0.0.1:1' 'domain sys.example' 'user alice' \
		'password "sys s3cret"' 'syslog no'
	ATTACKER="relay smtp://127.0.0.1:$SMTP_PORT\ntls off\n"
}
teardown() { setgid_teardown; }

# The envelope of a message that reached the listener without any AUTH.
assert_no_auth() {
	assert_envelope "EHLO sys.example" "MAIL FROM:<$1>" "RCPT TO:<b@example.org>"
}

@test "secrets: a -C file that moves the relay gets no system password" {
	as_nobody_file user.conf "$ATTACKER"
	run -0 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_no_auth x@sys.example
}

@test "secrets: \$POSTIE_CONFIG that moves the relay gets no system password" {
	as_nobody_file user.conf "$ATTACKER"
	run -0 as_nobody POSTIE_CONFIG="$WORLD/user.conf" "$WORLD/postie" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_no_auth x@sys.example
}

@test "secrets: the user's own ~/.config/postie/config that moves the relay gets no system password" {
	mkdir -p "$WORLD/home/.config/postie"
	chown -R nobody:nogroup "$WORLD/home/.config"
	as_nobody_file home/.config/postie/config "$ATTACKER"
	run -0 as_nobody "$WORLD/postie" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_no_auth x@sys.example
}

@test "secrets: an account of the user's file, picked by --account, gets no system password" {
	as_nobody_file user.conf "account evil\n$ATTACKER"
	run -0 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" --account evil -f x@sys.example b@example.org <"$WORLD/msg"
	assert_no_auth x@sys.example
}

@test "secrets: an account of the user's file, picked by -f, gets no system password" {
	as_nobody_file user.conf "account evil\nfrom evil@sys.example\n$ATTACKER"
	run -0 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" -f evil@sys.example b@example.org <"$WORLD/msg"
	assert_no_auth evil@sys.example
}

@test "secrets: a user's section of the same name as a system account gets none of its secrets" {
	system_conf 'domain sys.example' 'syslog no' 'account work' 'relay smtp://127.0.0.1:1' \
		'user alice' 'password "sys s3cret"'
	as_nobody_file user.conf "account work\n$ATTACKER"
	run -0 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" --account work -f x@sys.example b@example.org <"$WORLD/msg"
	assert_no_auth x@sys.example
}

@test "secrets: --serverinfo through a moved relay does not authenticate with the system password" {
	as_nobody_file user.conf "$ATTACKER"
	run as_nobody "$WORLD/postie" -C "$WORLD/user.conf" --serverinfo
	refute_output --partial 'AUTH alice'
	run fixture_session_log
	assert_line 'C: NOOP'
	refute_line --partial 'C: AUTH'
}

@test "secrets: tls-verify no from the user keeps the system relay but not its password" {
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'user alice' \
		'password "sys s3cret"' 'syslog no'
	as_nobody_file user.conf 'tls-verify no\n'
	run -0 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_no_auth x@sys.example
}

@test "secrets: a user file that changes only the sender keeps the system account and its password" {
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'user alice' \
		'password "sys s3cret"' 'syslog no'
	as_nobody_file user.conf 'from me@sys.example\ntimeout 30\n'
	run -0 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" b@example.org <"$WORLD/msg"
	assert_envelope "EHLO sys.example" "AUTH alice" "MAIL FROM:<me@sys.example>" "RCPT TO:<b@example.org>"
}

@test "secrets: a user's own relay with the user's own password authenticates as the user" {
	as_nobody_file user.conf "${ATTACKER}user alice\npassword \"sys s3cret\"\n"
	run -0 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_envelope "EHLO sys.example" "AUTH alice" "MAIL FROM:<x@sys.example>" "RCPT TO:<b@example.org>"
}

@test "secrets: -v says why the system's secrets are not used" {
	as_nobody_file user.conf "$ATTACKER"
	run -0 as_nobody "$WORLD/postie" -v -C "$WORLD/user.conf" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_line "postie: the default account does not use the system file's secrets: its relay is set in $WORLD/user.conf:1"
	refute_output --partial 's3cret'
}

@test "secrets: an error in a system file the user cannot read names the line and the key, not the value" {
	system_conf 'relay smtp://alice:s3cret@mail.example.org' 'syslog no'
	run -78 as_nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "postie: $SYSFILE:1: relay is not smtp://host[:port] or smtps://host[:port] (the value is not shown)"
	system_conf 'relay smtp://127.0.0.1:1' 'hunter2-s3cret'
	run -78 as_nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "postie: $SYSFILE:2: unknown key (not shown)"
	system_conf 'relay smtp://127.0.0.1:1' 'from "Alice <s3cret"'
	run -78 as_nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output "postie: $SYSFILE:2: from is not an address (the value is not shown)"
}

@test "secrets: root, who can read the system file, is shown the value at fault" {
	system_conf 'relay smtp://alice:s3cret@mail.example.org' 'syslog no'
	unset POSTIE_CONFIG
	run -78 as_root_in_namespace "$POSTIE" b@example.org <"$WORLD/msg"
	assert_output "postie: $SYSFILE:1: relay 'smtp://alice:s3cret@mail.example.org' is not smtp://host[:port] or smtps://host[:port]"
}

@test "secrets: a failing system password-command is not quoted to a user who cannot read it" {
	system_conf 'relay smtp://127.0.0.1:1' 'user alice' 'password-command /nonexistent/helper --token s3cret'
	run -78 as_nobody "$WORLD/postie" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_output --regexp "^postie: password-command '\(not shown\)': cannot run: No such file or directory; queued as [0-9a-f-]+, delivered by 'postie -q' once fixed\$"
	refute_output --partial s3cret
}

@test "secrets: the system logfile (root:postie 0660) is written by the setgid program" {
	mkdir -m 755 "$WORLD/log"
	: >"$WORLD/log/postie.log"
	chgrp "$SETGID_GID" "$WORLD/log/postie.log"
	chmod 660 "$WORLD/log/postie.log"
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'syslog no' \
		"logfile $WORLD/log/postie.log"
	run -0 as_nobody "$WORLD/postie" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_output ''
	assert_envelope "EHLO sys.example" "MAIL FROM:<x@sys.example>" "RCPT TO:<b@example.org>"
	run grep -c 'from=<x@sys.example>' "$WORLD/log/postie.log"
	assert_output 1
}

@test "secrets: a logfile the user names is opened with the user's rights only" {
	mkdir -m 755 "$WORLD/log"
	: >"$WORLD/log/postie.log"
	chgrp "$SETGID_GID" "$WORLD/log/postie.log"
	chmod 660 "$WORLD/log/postie.log"
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'syslog no'
	as_nobody_file user.conf "logfile $WORLD/log/postie.log\n"
	run -73 as_nobody "$WORLD/postie" -C "$WORLD/user.conf" -f x@sys.example b@example.org <"$WORLD/msg"
	assert_output "postie: logfile $WORLD/log/postie.log: Permission denied"
	[ "$(fixture_count)" -eq 0 ]
}
