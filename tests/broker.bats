#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The token broker (issue 19): a user's message through an OAuth2 account of the system file is
# sent at once by the setgid program, whose broker child keeps the group postie, reads and
# refreshes the system's token state (LOCALSTATEDIR/lib/postie/oauth2/NAME.json, root:postie
# 02770 directory, 0640 files) and hands the user's process the access token only. Tried as
# www-data and nobody through a setgid copy, in a private mount namespace over a scratch system
# file and a scratch $(localstatedir), against the SMTP fixture (which takes only the current
# access token) and the token endpoint fixture. Root and namespaces only.

load helpers
load postie
load setgid
load oauth

CLIENT_SECRET='sys-cl1ent-s3cret'

setup_file() {
	SMTP_TOKEN=$BATS_FILE_TMPDIR/smtp-token
	export SMTP_TOKEN
	fixture_start --auth-token "@$SMTP_TOKEN"
	tokend_start
}
teardown_file() {
	tokend_stop
	fixture_stop
}
setup() {
	fixture_reset
	tokend_reset
	message 'Subject: brokered\n\nbody\n'
	setgid_setup
	unset POSTIE_CONFIG
	VARDIR=$("$POSTIE" --version | sed -n 's|^queue: *\(.*\)/spool/postie (root).*|\1|p')
	[ -n "$VARDIR" ]
	mkdir -p "$WORLD/var/spool/postie/maildrop" "$VARDIR"
	chmod 755 "$WORLD/var" "$WORLD/var/spool" "$WORLD/var/spool/postie"
	chmod 1733 "$WORLD/var/spool/postie/maildrop"
	# what make install leaves: the state directory root:postie 02770
	mkdir -p "$WORLD/var/lib/postie/oauth2"
	chmod 755 "$WORLD/var/lib" "$WORLD/var/lib/postie"
	chgrp "$SETGID_GID" "$WORLD/var/lib/postie/oauth2"
	chmod 2770 "$WORLD/var/lib/postie/oauth2"
	# the token endpoint's CA where the broker (a user with the group postie) can read it
	cp "$TOKEND_CA/ca.pem" "$WORLD/ca.pem"
	chmod 644 "$WORLD/ca.pem"
	STATE=$WORLD/var/lib/postie/oauth2/default.json	# on disk
	SEEN=$VARDIR/lib/postie/oauth2/default.json		# as postie sees it
	system_conf_oauth2
	rm -f "$SMTP_TOKEN"
}
teardown() { setgid_teardown; }

# system_conf_oauth2 [LINES...]: the system file's default account through the fixture as its
# custom provider, with a client secret (the system file is root:postie 0640).
system_conf_oauth2() {
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'timeout 5' 'syslog no' \
		'user sys@example.org' 'oauth2-provider custom' 'oauth2-client-id cid-sys' \
		"oauth2-client-secret $CLIENT_SECRET" "oauth2-token-url $TOKEND_URL/token" \
		"tls-ca-file $WORLD/ca.pem" "$@"
}

# state ACCESS REFRESH EXPIRES_IN: the system's state as root's --authorize leaves it.
state() {
	jq -nc --arg a "$1" --arg r "$2" --argjson e "$(($(date +%s) + $3))" \
		'{access_token: $a, refresh_token: $r, expires_at: $e, obtained_at: 0, refreshed_at: 0}' \
		>"$STATE"
	chgrp "$SETGID_GID" "$STATE"
	chmod 640 "$STATE"
}

relay_accepts() { printf '%s\n' "$1" >"$SMTP_TOKEN"; }

# postie_pids ARGS...: the running processes of "$WORLD/postie ARGS", the broker (a fork, with
# the same command line) among them; broker_pid ARGS...: the one whose parent is one too.
postie_pids() { pgrep -f -x "$WORLD/postie $*"; }
broker_pid() {
	local p all
	all=$(postie_pids "$@")
	for p in $all; do
		grep -qx "$(ps -o ppid= -p "$p" | tr -d ' ')" <<<"$all" && echo "$p"
	done
	return 0
}

ROTATED='{"status": 200, "body": {"access_token": "at-2", "refresh_token": "rt-2", "token_type": "Bearer", "expires_in": 3600}}'

# The one refresh the token endpoint saw: its grant, client, refresh token and secret markers.
one_refresh_of() {
	run -0 tokend_requests '[.path, .form.grant_type, .form.client_id, .form.refresh_token, .form.client_secret] | join(" ")'
	assert_output "/token refresh_token cid-sys $(tokend_marker "$1") $(tokend_marker "$CLIENT_SECRET")"
}

@test "www-data: an expired token is refreshed by the broker and the message sent at once; the rotated refresh token is kept" {
	state at-1 rt-1 -60
	tokend_script "{\"token\": [$ROTATED]}"
	relay_accepts at-2
	run -0 --separate-stderr as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_equal "$stderr" ""
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO sys.example" "AUTH sys@example.org" "MAIL FROM:<www-data@sys.example>" "RCPT TO:<b@example.org>"
	one_refresh_of rt-1
	# the broker stored the rotation: 0640, group postie, the new tokens
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
	[ "$(jq -r .access_token "$STATE")" = at-2 ]
	[ "$(stat -c %a:%g "$STATE")" = "640:$SETGID_GID" ]
	# nothing waits anywhere
	[ -z "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "nobody: a fresh token is used as it is, the token endpoint not asked" {
	state at-1 rt-1 3600
	relay_accepts at-1
	run -0 --separate-stderr as_user nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_equal "$stderr" ""
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO sys.example" "AUTH sys@example.org" "MAIL FROM:<nobody@sys.example>" "RCPT TO:<b@example.org>"
	run -0 tokend_requests
	assert_output ''
}

@test "the state is beyond the user's reach even when the user's broker wrote it: no cat, no ls, no chmod" {
	state at-1 rt-1 -60
	tokend_script "{\"token\": [$ROTATED]}"
	relay_accepts at-2
	run -0 as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	[ "$(fixture_count)" -eq 1 ]
	# the broker runs with the caller's uid: the file it renamed into place is the caller's
	[ "$(stat -c %U "$STATE")" = www-data ]
	run -1 as_user www-data cat "$SEEN"
	run ! as_user www-data ls "$VARDIR/lib/postie/oauth2"
	run ! as_user www-data chmod 644 "$SEEN"
	run ! as_user www-data ln "$SEEN" /tmp/stolen-state
	[ "$(stat -c %a "$STATE")" = 640 ]
	run -1 as_user nobody cat "$SEEN"
	# and --serverinfo of the user's (it reads the state itself, without the broker) says
	# nothing of it
	run -78 as_user www-data "$WORLD/postie" --serverinfo
	refute_output --partial at-2
	refute_output --partial rt-2
}

@test "no secret in -v, nor in the argv or environment of the user's process or its broker" {
	state at-1 rt-1 -60
	tokend_script "{\"token\": [$ROTATED]}"
	relay_accepts at-2
	fixture_fault delay mail 3
	as_user www-data "$WORLD/postie" -v b@example.org <"$WORLD/msg" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for _ in $(seq 50); do [ -s "$TOKEND_DIR/requests.jsonl" ] && break; sleep 0.1; done
	sleep 1
	: >"$BATS_TEST_TMPDIR/proc"
	# the user's process and its broker
	[ -n "$(broker_pid -v b@example.org)" ]
	[ "$(postie_pids -v b@example.org | wc -l)" -eq 2 ]
	for p in $(postie_pids -v b@example.org); do
		tr '\0' '\n' <"/proc/$p/cmdline" >>"$BATS_TEST_TMPDIR/proc"
		tr '\0' '\n' <"/proc/$p/environ" >>"$BATS_TEST_TMPDIR/proc"
	done
	wait "$pid"
	[ "$(fixture_count)" -eq 1 ]
	grep -q "$WORLD/postie" "$BATS_TEST_TMPDIR/proc"
	grep -q '^PATH=' "$BATS_TEST_TMPDIR/proc"
	grep -q 'AUTH' "$BATS_TEST_TMPDIR/out"
	for secret in at-1 at-2 rt-1 rt-2 "$CLIENT_SECRET"; do
		run -1 grep -qF -- "$secret" "$BATS_TEST_TMPDIR/proc"
		run -1 grep -qF -- "$secret" "$BATS_TEST_TMPDIR/out"
	done
}

@test "the client secret from a command runs in the broker, in a fixed environment, and reaches the token endpoint" {
	printf '#!/bin/sh -p\nenv >"%s/child-env"\nid -G >>"%s/child-env"\necho "%s"\n' "$WORLD" "$WORLD" "$CLIENT_SECRET" >"$WORLD/secret.sh"
	chmod 755 "$WORLD/secret.sh"
	chmod 1777 "$WORLD"
	system_conf "relay smtp://127.0.0.1:$SMTP_PORT" 'domain sys.example' 'timeout 5' 'syslog no' \
		'user sys@example.org' 'oauth2-provider custom' 'oauth2-client-id cid-sys' \
		"oauth2-client-secret-command $WORLD/secret.sh" "oauth2-token-url $TOKEND_URL/token" \
		"tls-ca-file $WORLD/ca.pem"
	state at-1 rt-1 -60
	tokend_script "{\"token\": [$ROTATED]}"
	relay_accepts at-2
	run -0 as_user www-data SECRET_FROM_USER=x "$WORLD/postie" b@example.org <"$WORLD/msg"
	[ "$(fixture_count)" -eq 1 ]
	one_refresh_of rt-1
	run -0 cat "$WORLD/child-env"
	assert_line 'PATH=/usr/local/bin:/usr/bin:/bin'
	refute_line --partial SECRET_FROM_USER
	refute_line --partial HOME=
	# it ran with the group postie, which the broker keeps
	assert_line --regexp "(^| )$SETGID_GID( |\$)"
}

@test "the token endpoint answering 500: queued in the system queue, exit 0; root's run delivers it later" {
	state at-1 rt-1 -60
	tokend_script '{"token": [{"status": 500, "body": "oops"}]}'
	relay_accepts at-2
	run -0 --separate-stderr as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	# the system file's URLs are not the user's to see
	[[ $stderr =~ ^postie:\ .*token\ endpoint\ of\ the\ system\ file:\ HTTP\ 500.*queued\ as\ [0-9a-f]{20}\.[0-9a-f]{32},\ delivered\ by\ .postie\ -q.$ ]]
	[[ $stderr != *"$TOKEND_URL"* ]]
	[ "$(fixture_count)" -eq 0 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-1 ]
	tokend_script "{\"token\": [$ROTATED]}"
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
	assert_envelope "EHLO sys.example" "AUTH sys@example.org" "MAIL FROM:<www-data@sys.example>" "RCPT TO:<b@example.org>"
	# root's run keeps the state where the broker finds it: group postie, 0640
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
	[ "$(stat -c %a:%U:%g "$STATE")" = "640:root:$SETGID_GID" ]
}

@test "invalid_grant: queued, exit 77, the line says what to run" {
	state at-1 rt-1 -60
	tokend_script '{"token": [{"status": 400, "body": {"error": "invalid_grant"}}]}'
	run -77 --separate-stderr as_user nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	[[ $stderr == "postie: account 'default': the authorization was revoked or has expired (invalid_grant): run postie --authorize --account default; queued as "*", delivered by 'postie -q' once fixed" ]]
	[ "$(fixture_count)" -eq 0 ]
	run -0 as_root find "$WORLD/var/spool/postie" -name '*.env' -o -type f -path '*/maildrop/*'
	[ -n "$output" ]
}

@test "a relay refusing the token with 535: one renewal through the broker, then the retry delivers" {
	state at-1 rt-1 3600
	tokend_script "{\"token\": [$ROTATED]}"
	relay_accepts at-2
	run -0 --separate-stderr as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	assert_equal "$stderr" ""
	[ "$(fixture_count)" -eq 1 ]
	one_refresh_of rt-1
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
}

@test "a relay refusing the renewed token too: queued, exit 77, one renewal only" {
	state at-1 rt-1 3600
	tokend_script "{\"token\": [$ROTATED]}"
	relay_accepts at-3
	run -77 --separate-stderr as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	[[ $stderr == *"even with a refreshed token: run postie --authorize --account default"* ]]
	[ "$(fixture_count)" -eq 0 ]
	one_refresh_of rt-1
}

@test "a user's file that moves the system account's relay makes it the user's own: the system's tokens are not used" {
	state at-1 rt-1 3600
	relay_accepts at-1
	mkdir -p "$WORLD/home/.config/postie"
	printf 'relay smtp://127.0.0.1:%s\n' "$SMTP_PORT" >"$WORLD/home/.config/postie/config"
	chown -R nobody:nogroup "$WORLD/home/.config"
	chmod 600 "$WORLD/home/.config/postie/config"
	run --separate-stderr as_user nobody HOME="$WORLD/home" XDG_STATE_HOME="$WORLD/state" "$WORLD/postie" -odi b@example.org <"$WORLD/msg"
	[ "$(fixture_count)" -eq 0 ]
	[[ $stderr == *"no OAuth2 token stored in $WORLD/state/postie/oauth2-default.json"* ]]
	run -0 tokend_requests
	assert_output ''
}

@test "--no-new-privs: no broker; the message is handed to root's queue as before and delivered once" {
	state at-1 rt-1 3600
	relay_accepts at-1
	run -0 --separate-stderr as_user nobody --no-new-privs "$WORLD/postie" b@example.org <"$WORLD/msg"
	[[ $stderr =~ ^postie:\ $SYSFILE:\ Permission\ denied\;\ handed\ to\ the\ system\ queue\ as\ .*delivered\ by\ root\'s\ \'postie\ -q\'$ ]]
	[ "$(fixture_count)" -eq 0 ]
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "root's run takes over an earlier release's state (oauth2-NAME.json) into oauth2/NAME.json" {
	rm -f "$STATE"
	# as an earlier release left it: lib/postie 0700
	chmod 700 "$WORLD/var/lib/postie"
	jq -nc --argjson e "$(($(date +%s) + 3600))" \
		'{access_token: "at-old", refresh_token: "rt-old", expires_at: $e, obtained_at: 0, refreshed_at: 0}' \
		>"$WORLD/var/lib/postie/oauth2-default.json"
	chmod 600 "$WORLD/var/lib/postie/oauth2-default.json"
	relay_accepts at-old
	run -0 as_root "$POSTIE" -odi b@example.org <"$WORLD/msg"
	[ "$(fixture_count)" -eq 1 ]
	[ ! -e "$WORLD/var/lib/postie/oauth2-default.json" ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-old ]
	[ "$(stat -c %a:%U:%g "$STATE")" = "640:root:$SETGID_GID" ]
	[ "$(stat -c %a "$WORLD/var/lib/postie")" = 755 ]
	# and the broker finds it there
	fixture_reset
	run -0 as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	[ "$(fixture_count)" -eq 1 ]
}

@test "a state directory others may enter is refused, by the broker as by root: kept, exit 78" {
	state at-1 rt-1 3600
	relay_accepts at-1
	chmod 2775 "$WORLD/var/lib/postie/oauth2"
	run -78 --separate-stderr as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	[[ $stderr == *"$VARDIR/lib/postie/oauth2: the system's token state must be in a directory of root's that others cannot enter (root:postie 02770)"*"queued as "* ]]
	[ "$(fixture_count)" -eq 0 ]
	run -78 --separate-stderr as_root "$POSTIE" -odi b@example.org <"$WORLD/msg"
	[[ $stderr == *"others cannot enter"* ]]
}

@test "--authorize of the system's account: root's stores root:postie 0640 where the broker finds it; a user's is refused before anything is asked" {
	rm -f "$STATE"
	system_conf_oauth2 "oauth2-device-url $TOKEND_URL/device"
	run -77 --separate-stderr as_user www-data "$WORLD/postie" --authorize
	assert_equal "$stderr" "postie: account 'default' is the system file's: its tokens are the system's; run postie --authorize --account default as root"
	run -0 tokend_requests
	assert_output ''
	tokend_script '{"device": [{"status": 200, "body": {"device_code": "dc-1", "user_code": "WDJB-MJHT", "verification_uri": "https://example.test/device", "expires_in": 60, "interval": 1}}], "token": [{"status": 200, "body": {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}}]}'
	run -0 as_root "$POSTIE" --authorize
	assert_line "Authorized: account 'default', tokens stored in $SEEN (the access token expires in 3600 seconds)"
	[ "$(stat -c %a:%U:%g "$STATE")" = "640:root:$SETGID_GID" ]
	relay_accepts at-1
	run -0 as_user nobody "$WORLD/postie" b@example.org <"$WORLD/msg"
	[ "$(fixture_count)" -eq 1 ]
}

@test "ten concurrent sends of www-data and nobody with an expired token: one refresh under the shared lock, every message delivered" {
	state at-1 rt-1 -60
	tokend_script '{"token": [{"status": 200, "body": {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}, "delay": 1}]}'
	relay_accepts at-2
	local pids=() i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if ((i % 2)); then u=www-data; else u=nobody; fi
		as_user "$u" "$WORLD/postie" "r$i@example.org" <"$WORLD/msg" >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || fail "send $((i + 1)) failed: $(cat "$BATS_TEST_TMPDIR/out$((i + 1))")"
	done
	[ "$(fixture_count)" -eq 10 ]
	run -0 tokend_requests '.form.grant_type'
	assert_output refresh_token
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
}

@test "a broker killed mid-refresh: the message is queued in the system queue, exit 0, the state left whole" {
	state at-1 rt-1 -60
	tokend_script "{\"token\": [{\"status\": 200, \"body\": {\"access_token\": \"at-2\", \"refresh_token\": \"rt-2\", \"expires_in\": 3600}, \"delay\": 3}]}"
	relay_accepts at-2
	as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for _ in $(seq 50); do [ -s "$TOKEND_DIR/requests.jsonl" ] && break; sleep 0.1; done
	broker=$(broker_pid b@example.org)
	[ -n "$broker" ]
	kill -KILL "$broker"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	run -0 cat "$BATS_TEST_TMPDIR/out"
	assert_output --regexp "^postie: smtp://127\\.0\\.0\\.1:[0-9]+ unavailable \\(account 'default': the token broker is gone\\); queued as [0-9a-f]{20}\\.[0-9a-f]{32}, delivered by 'postie -q'\$"
	[ "$(fixture_count)" -eq 0 ]
	# the old state or nothing new: never a half-written file
	[ "$(jq -r .refresh_token "$STATE")" = rt-1 ]
	tokend_script "{\"token\": [$ROTATED]}"
	run -0 as_root "$POSTIE" -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "a caller's hard file size limit too low to store a refresh: nothing asked, queued in the system queue, exit 0" {
	state at-1 rt-1 -60
	tokend_script "{\"token\": [$ROTATED]}"
	run -0 --separate-stderr as_user www-data prlimit --fsize=100000:100000 "$WORLD/postie" b@example.org <"$WORLD/msg"
	[[ $stderr == *"limit too low to store a refresh"* ]]
	run -0 tokend_requests
	assert_output ''
	[ "$(jq -r .refresh_token "$STATE")" = rt-1 ]
	[ "$(fixture_count)" -eq 0 ]
	[ -n "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
}

@test "a state lock held past the wait (a broker stopped by its caller): queued in the system queue, exit 0, never a hang" {
	state at-1 rt-1 -60
	tokend_script "{\"token\": [$ROTATED]}"
	flock -o "$STATE.lock" sleep 60 &
	local holder=$!
	sleep 0.5
	run -0 --separate-stderr as_user www-data "$WORLD/postie" b@example.org <"$WORLD/msg"
	kill "$holder"
	[[ $stderr == *"default.json.lock: held by another run for 15 seconds"* ]]
	run -0 tokend_requests
	assert_output ''
	[ "$(fixture_count)" -eq 0 ]
	[ -n "$(ls -A "$WORLD/var/spool/postie/maildrop")" ]
}
