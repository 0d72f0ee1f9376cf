#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The system queue: any local user's message that goes through the system configuration and
# cannot be sent now waits in root's queue, handed over through the maildrop (mode 1733) with
# no setuid or setgid bit; a caller that cannot read the system file hands its message over
# without trying to send. Root's `postie -q` picks each entry up, completes it with the system
# configuration and delivers it once. Tried as www-data (HOME=/nonexistent), nobody and daemon
# under `setpriv --no-new-privs`, in a private mount namespace over a scratch system file and a
# scratch $(localstatedir): the machine's own are never touched. Root and namespaces only.

load helpers
load postie
load setgid

setup_file() {
	# XOAUTH2 for the OAuth2 account's tests, with the one token this file holds
	SMTP_TOKEN=$BATS_FILE_TMPDIR/smtp-token
	export SMTP_TOKEN
	fixture_start --auth-token "@$SMTP_TOKEN"
}
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	message 'Subject: handed over\n\nbody\n'
	setgid_setup
	unset POSTIE_CONFIG
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'timeout 5' 'syslog no'
	VARDIR=$("$POSTIE" --version | sed -n 's|^queue: *\(.*\)/spool/postie (root).*|\1|p')
	MAILDROP=$("$POSTIE" --version | sed -n 's|^system queue: .*(maildrop \(.*\))$|\1|p')
	[ -n "$VARDIR" ]
	[ "$MAILDROP" = "$VARDIR/spool/postie/maildrop" ] || [ "${POSTIE_OLD:-}" = yes ]
	MAILDROP=$VARDIR/spool/postie/maildrop SPOOL=$VARDIR/spool/postie
	# what make install leaves: the spool root's and traversable, the maildrop 1733
	mkdir -p "$WORLD/var/spool/postie/maildrop" "$VARDIR"
	chmod 755 "$WORLD/var" "$WORLD/var/spool" "$WORLD/var/spool/postie"
	chmod 1733 "$WORLD/var/spool/postie/maildrop"
	relay="smtp://127.0.0.1:$SMTP_PORT"
}
teardown() { setgid_teardown; }

# The system file readable by root only: no user can read it, setgid or not.
system_conf_root_only() {
	chgrp root "$SCRATCH/postie.conf"
	chmod 600 "$SCRATCH/postie.conf"
}

relay_down() {
	fixture_fault greeting '421 4.3.2 try later'
}

# The line of a send through the system file whose relay was down.
queued_line='^postie: smtp://127\.0\.0\.1:[0-9]+ unavailable \(refused the connection: 421 4\.3\.2 try later\); queued as [0-9a-f]{20}\.[0-9a-f]{32}, delivered by .postie -q.$'

# The line of a caller that cannot read the system file.
handed_line() {
	echo "^postie: $SYSFILE: Permission denied; handed to the system queue as [0-9a-f]{20}\\.[0-9a-f]{32}, delivered by root's 'postie -q'\$"
}

# hands_over_then_root_delivers USER SENDER [as_user args...]: the relay is down (or the file
# unreadable), the user's send exits 0 with its line; root's run delivers it once, from SENDER.
root_delivers_once() {
	local sender=$1
	[ "$(fixture_count)" -eq 0 ]
	fixture_reset
	run -0 as_root "$POSTIE" -q
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO sys.example" "MAIL FROM:<$sender>" "RCPT TO:<b@example.org>"
	run received_header
	# the system users' GECOS name is their login (item 7 of issue 17: Postfix writes the same)
	assert_line "From: ${sender%@*} <$sender>"
	assert_line --regexp '^Message-ID: <.*@sys\.example>$'
	# the trace names the uid that owns the entry, whoever completed the message first
	assert_line --index 0 --regexp "^Received: by [^ ]+ \(postie, from userid $(id -u "${sender%@*}")\);$"
	refute_line --regexp "^Received: .*from userid 0\)"
	[ -z "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "www-data with HOME=/nonexistent, the relay down: exit 0, queued in the system queue, delivered once by root" {
	relay_down
	run -0 as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "$queued_line"
	root_delivers_once www-data@sys.example
}

@test "www-data with HOME=/nonexistent and a system file only root reads: handed over, delivered once by root" {
	system_conf_root_only
	run -0 as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "$(handed_line)"
	[ "$(fixture_count)" -eq 0 ]
	relay_down
	root_delivers_once www-data@sys.example
}

@test "nobody, the relay down: exit 0, queued in the system queue, delivered once by root" {
	relay_down
	run -0 as_user nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "$queued_line"
	root_delivers_once nobody@sys.example
}

@test "nobody and a system file only root reads: handed over, delivered once by root" {
	system_conf_root_only
	run -0 as_user nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "$(handed_line)"
	relay_down
	root_delivers_once nobody@sys.example
}

@test "under setpriv --no-new-privs the setgid bit is ignored: the 0640 root:postie file is unreadable, the message handed over" {
	run -0 as_user daemon --no-new-privs "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "$(handed_line)"
	[ "$(fixture_count)" -eq 0 ]
	relay_down
	root_delivers_once daemon@sys.example
}

@test "under setpriv --no-new-privs with a 0600 root:root file: handed over, delivered once by root" {
	system_conf_root_only
	run -0 as_user daemon --no-new-privs "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "$(handed_line)"
	relay_down
	root_delivers_once daemon@sys.example
}

@test "a handed-over -f and -t are completed by root's pickup as a direct send would: qualified, header recipients" {
	system_conf_root_only
	message 'To: c@example.org\nBcc: d@example.org\nSubject: t\n\nbody\n'
	cp "$BATS_TEST_TMPDIR/msg" "$WORLD/msg"
	run -0 as_user nobody "$WORLD/postie" -t -f someone -F 'Some One' <"$WORLD/msg"
	assert_output --regexp "$(handed_line)"
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO sys.example" "MAIL FROM:<someone@sys.example>" "RCPT TO:<c@example.org>" \
		"RCPT TO:<d@example.org>"
	run received_header
	assert_line 'From: Some One <someone@sys.example>'
	refute_line --partial 'Bcc:'
}

@test "a handed-over message gets the caller's \$NAME in its From, and its Received names the caller's uid" {
	system_conf_root_only
	run -0 as_user nobody NAME='Jane Q. Doe' "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp "$(handed_line)"
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
	run received_header
	assert_line 'From: "Jane Q. Doe" <nobody@sys.example>'
	assert_line --index 0 --regexp "^Received: by [^ ]+ \(postie, from userid $(id -u nobody)\);$"
	[ "$(grep -c '^Received:' <<<"$output")" -eq 1 ]
}

@test "a user's message through a file of their own keeps going to their own queue" {
	relay_down
	mkdir -p "$WORLD/home/.config/postie"
	printf 'domain own.example\n' >"$WORLD/home/.config/postie/config"
	chown -R nobody:nogroup "$WORLD/home/.config"
	chmod 600 "$WORLD/home/.config/postie/config"
	run -0 as_user nobody HOME="$WORLD/home" XDG_STATE_HOME="$WORLD/state" "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output --regexp '^postie: smtp://127\.0\.0\.1:[0-9]+ unavailable \(refused the connection: 421 4\.3\.2 try later\); queued as [^ ]+, delivered by .postie -q.$'
	[ -z "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
	[ "$(ls "$WORLD/state/postie/queue/q" | wc -l)" -eq 2 ]
}

@test "mailq as root lists the system queue; a user sees only their own queue and cannot list the maildrop" {
	relay_down
	run -0 as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	run -0 as_root "$POSTIE" -q
	run -0 as_root "$POSTIE" -bp
	assert_line --regexp '^[0-9A-Za-z.-]+ +[0-9]+ .*  www-data@sys\.example$'
	assert_line --regexp '^ +b@example\.org$'
	run -0 as_user nobody HOME="$WORLD/home" XDG_STATE_HOME="$WORLD/state" "$WORLD/postie" -bp
	assert_output 'Mail queue is empty'
	run -2 as_user nobody ls "$MAILDROP"
	assert_output "ls: cannot open directory '$MAILDROP': Permission denied"
}

@test "a user cannot read, list, replace or delete another user's entry" {
	system_conf_root_only
	run -0 as_user nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	local name
	name=$(ls "$WORLD/var/spool/postie/maildrop")
	[ -n "$name" ]
	[ "$(stat -c '%U %a' "$WORLD/var/spool/postie/maildrop/$name")" = "nobody 600" ]
	run -1 as_user www-data cat "$MAILDROP/$name"
	assert_output "cat: $MAILDROP/$name: Permission denied"
	run -2 as_user www-data ls "$MAILDROP"
	assert_output "ls: cannot open directory '$MAILDROP': Permission denied"
	run -2 as_user www-data sh -c 'echo x >>"$1"' _ "$MAILDROP/$name"
	assert_output --partial "$MAILDROP/$name: Permission denied"
	run -1 as_user www-data sh -c 'echo x >"$1/mine" && mv -f "$1/mine" "$1/$2"' _ "$MAILDROP" "$name"
	assert_output "mv: cannot move '$MAILDROP/mine' to '$MAILDROP/$name': Operation not permitted"
	run -1 as_user www-data rm -f "$MAILDROP/$name"
	assert_output "rm: cannot remove '$MAILDROP/$name': Operation not permitted"
	run -1 as_user www-data ln -f "$MAILDROP/mine" "$MAILDROP/$name"
	assert_output --partial "Operation not permitted"
	# nobody's message is whole: root delivers it once, and www-data's own file is refused
	run -0 as_root "$POSTIE" -q
	assert_output "postie: system queue entry mine: not a postie maildrop entry; moved to $SPOOL/refused/mine, not sent"
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO sys.example" "MAIL FROM:<nobody@sys.example>" "RCPT TO:<b@example.org>"
}

# An entry as a user could write one by hand, claiming uid $1, to $2.
entry_text() {
	printf 'postie-maildrop 1\nuid %s\ncreated 1\nflags -\nrcpt %s\n\nSubject: forged\n\nbody\n' "$1" "$2"
}

@test "a symbolic link, a hard link, a FIFO, an entry claiming another uid and an oversized one are refused and reported, and nothing is sent" {
	local W
	W=$(id -u www-data)
	run -0 as_user www-data sh -c '
		cd "$1" &&
		ln -s /etc/shadow link &&
		printf "postie-maildrop 1\nuid %s\ncreated 1\nflags -\nrcpt hard@example.org\n\nbody\n" "$2" >hard1 &&
		ln hard1 hard2 &&
		mkfifo fifo &&
		printf "postie-maildrop 1\nuid 0\ncreated 1\nflags -\nrcpt root-claim@example.org\n\nbody\n" >other-uid &&
		printf "postie-maildrop 1\nuid %s\ncreated 1\nflags -\nrcpt big@example.org\n\nbody\n" "$2" >big &&
		truncate -s 70M big' _ "$MAILDROP" "$W"
	run -0 as_root "$POSTIE" -q
	assert_line "postie: system queue entry big: 73400320 bytes, over the bound of 67108864; moved to $SPOOL/refused/big, not sent"
	assert_line "postie: system queue entry fifo: a FIFO; removed, not sent"
	assert_line "postie: system queue entry hard1: a hard link (2 links); moved to $SPOOL/refused/hard1, not sent"
	assert_line "postie: system queue entry hard2: a hard link (2 links); moved to $SPOOL/refused/hard2, not sent"
	assert_line "postie: system queue entry link: a symbolic link; removed, not sent"
	assert_line "postie: system queue entry other-uid: claims uid 0 but is owned by uid $W (www-data); moved to $SPOOL/refused/other-uid, not sent"
	[ "$(fixture_count)" -eq 0 ]
	[ "$(fixture_count rejected)" -eq 0 ]
	run -0 as_root "$POSTIE" -bp
	assert_output 'Mail queue is empty'
	[ -z "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
	[ "$(stat -c '%U %a' "$WORLD/var/spool/postie/refused")" = "root 700" ]
	[ -f /etc/shadow ]
}

@test "50 concurrent senders of three users with the relay down, then three concurrent root runs: each message delivered exactly once" {
	relay_down
	local i users=(www-data nobody daemon) pids=()
	for ((i = 0; i < 50; i++)); do
		printf 'Subject: n%s\n\nbody %s\n' "$i" "$i" >"$WORLD/msg$i"
		chmod 644 "$WORLD/msg$i"
	done
	for ((i = 0; i < 50; i++)); do
		as_user "${users[i % 3]}" "$WORLD/postie" b@example.org <"$WORLD/msg$i" >"$WORLD/out$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	[ "$(ls "$WORLD/var/spool/postie/maildrop" | wc -l)" -eq 50 ]
	[ "$(fixture_count)" -eq 0 ]
	fixture_reset
	as_root "$POSTIE" -q & a=$!
	as_root "$POSTIE" -q & b=$!
	as_root "$POSTIE" -q & c=$!
	wait $a; wait $b; wait $c
	[ "$(fixture_count)" -eq 50 ]
	run bash -c 'for f in "$1"/messages/*/data; do sed -n "s/^Subject: //p" "$f" | tr -d "\r"; done | sort | uniq -c | awk "\$1 != 1" | wc -l' _ "$SMTP_DIR"
	assert_output 0
	run bash -c 'for f in "$1"/messages/*/data; do sed -n "s/^Subject: //p" "$f" | tr -d "\r"; done | sort -u | wc -l' _ "$SMTP_DIR"
	assert_output 50
	run -0 as_root "$POSTIE" -bp
	assert_output 'Mail queue is empty'
}

@test "a temporary name no writer holds is removed, and one that is a directory refused, so that the path unit is not woken again and again" {
	run -0 as_user www-data sh -c 'cd "$1" && : >t.0123 && touch -d "2 minutes ago" t.0123 &&
		: >t.fresh && mkdir t.dir' _ "$MAILDROP"
	run -0 as_root "$POSTIE" -q
	assert_line "postie: system queue $MAILDROP/t.0123: removed, a writer's temporary file that no writer holds"
	assert_line "postie: system queue entry t.dir: a directory; removed, not sent"
	[ "$(ls "$WORLD/var/spool/postie/maildrop")" = t.fresh ]
	[ "$(fixture_count)" -eq 0 ]
}

@test "root's queue on a full disk: the run says so with the errno, exits non-zero, and the entry stays in the maildrop" {
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'syslog no' "queue $WORLD/full"
	system_conf_root_only
	run -0 as_user nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	local name
	name=$(ls "$WORLD/var/spool/postie/maildrop")
	mkdir -m 755 "$WORLD/full"
	run -74 in_system bash -c 'mount -t tmpfs -o size=256k,mode=0755 tmpfs "$1" &&
		mkdir -m 700 "$1/tmp" "$1/q" "$1/failed" &&
		{ dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true; } &&
		exec env -i PATH=/usr/bin:/bin "$2" -q' _ "$WORLD/full" "$POSTIE"
	assert_output --regexp "^postie: system queue entry $name: not picked up \\(queue $WORLD/full/tmp/[^ ]+\\.msg: No space left on device\\); it stays in ${MAILDROP//./\\.}\$"
	[ "$(ls "$WORLD/var/spool/postie/maildrop")" = "$name" ]
	[ "$(fixture_count)" -eq 0 ]
	# with room again, the next run takes it, once
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
	[ -z "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
}

@test "a full maildrop: a user's send that cannot be kept exits 75 with the errno, and the caller keeps the message" {
	relay_down
	run -75 in_system bash -c 'mount -t tmpfs -o size=16k,mode=1733 tmpfs "$1" &&
		{ dd if=/dev/zero of="$1/.fill" bs=4k 2>/dev/null; true; } &&
		exec setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
			HOME=/nonexistent "$2" b@example.org' _ "$MAILDROP" "$WORLD/postie" <"$WORLD/msg"
	assert_output "postie: $relay unavailable (refused the connection: 421 4.3.2 try later); not queued (system queue $MAILDROP: No space left on device): the message was not accepted"
	system_conf_root_only
	run -75 in_system bash -c 'mount -t tmpfs -o size=16k,mode=1733 tmpfs "$1" &&
		{ dd if=/dev/zero of="$1/.fill" bs=4k 2>/dev/null; true; } &&
		exec setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
			HOME=/nonexistent "$2" b@example.org' _ "$MAILDROP" "$WORLD/postie" <"$WORLD/msg"
	assert_output "postie: $SYSFILE: Permission denied; not handed to the system queue (system queue $MAILDROP: No space left on device): the message was not accepted"
}

@test "a message over the maildrop's bound is not handed over: exit 65, the line says why, nothing is left in the maildrop" {
	system_conf_root_only
	{ printf 'Subject: big\n\n'; head -c $((65 * 1024 * 1024)) /dev/zero | tr '\0' 'x' | fold -w 76; } >"$WORLD/big"
	chmod 644 "$WORLD/big"
	run -65 as_user nobody "$WORLD/postie" b@example.org <"$WORLD/big"
	assert_output "postie: $SYSFILE: Permission denied; not handed to the system queue (system queue $MAILDROP: the message is larger than the 67108864 bytes it takes): the message was not accepted"
	run -0 as_root find "$WORLD/var/spool/postie/maildrop" -mindepth 1
	assert_output ''
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 0 ]
}

@test "a user's -odq message over the maildrop's bound is not queued cut short: exit 75, the line says why, nothing is left" {
	{ printf 'Subject: big\n\n'; head -c $((65 * 1024 * 1024)) /dev/zero | tr '\0' 'x' | fold -w 76; } >"$WORLD/big"
	chmod 644 "$WORLD/big"
	run -75 as_user nobody "$WORLD/postie" -odq b@example.org <"$WORLD/big"
	assert_output "postie: not queued (system queue $MAILDROP: the message is larger than the 67108864 bytes it takes): the message was not accepted"
	run -0 as_root find "$WORLD/var/spool/postie/maildrop" -mindepth 1
	assert_output ''
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 0 ]
}

# The system file's default account as an OAuth2 one, its tokens stored by root where the
# system file's state lives (LOCALSTATEDIR/lib/postie/oauth2, root:postie 02770), 0640 group
# postie: a token valid for an hour. The token endpoint is never reached.
system_conf_oauth2() {
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'timeout 5' 'syslog no' \
		'user sys@example.org' 'oauth2-provider custom' 'oauth2-client-id cid-sys' \
		'oauth2-token-url https://127.0.0.1:1/token'
	mkdir -p "$WORLD/var/lib/postie/oauth2"
	chmod 755 "$WORLD/var/lib" "$WORLD/var/lib/postie"
	chgrp "$SETGID_GID" "$WORLD/var/lib/postie/oauth2"
	chmod 2770 "$WORLD/var/lib/postie/oauth2"
	jq -nc --argjson e "$(($(date +%s) + 3600))" \
		'{access_token: "at-sys", refresh_token: "rt-sys", expires_at: $e, obtained_at: 0, refreshed_at: 0}' \
		>"$WORLD/var/lib/postie/oauth2/default.json"
	chgrp "$SETGID_GID" "$WORLD/var/lib/postie/oauth2/default.json"
	chmod 640 "$WORLD/var/lib/postie/oauth2/default.json"
	printf 'at-sys\n' >"$SMTP_TOKEN"
}

@test "OAuth2 through the system file: a user's message is sent at once through the setgid program's token broker, the tokens never the user's to read" {
	system_conf_oauth2
	run -0 as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO sys.example" "AUTH sys@example.org" "MAIL FROM:<www-data@sys.example>" "RCPT TO:<b@example.org>"
	[ -z "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
	# the state is beyond the user's reach, setgid or not
	run -1 as_user www-data cat "$VARDIR/lib/postie/oauth2/default.json"
	run -78 as_user www-data "$WORLD/postie" --serverinfo
	refute_output --partial at-sys
	refute_output --partial rt-sys
	run -0 as_root "$POSTIE" -q
	assert_output ''
	[ "$(fixture_count)" -eq 1 ]
}

@test "OAuth2 through the system file: nobody's -t message under --no-new-privs is handed over too, and delivered once" {
	system_conf_oauth2
	message 'To: b@example.org\nSubject: handed over\n\nbody\n'
	cp "$BATS_TEST_TMPDIR/msg" "$WORLD/msg"
	run -0 as_user nobody --no-new-privs "$WORLD/postie" -t <"$WORLD/msg"
	[ "$(fixture_count)" -eq 0 ]
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
}
