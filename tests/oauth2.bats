#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Built-in OAuth2 (issue 19): postie --authorize against an HTTPS token endpoint (tests/fixtures/
# tokend.py): the device grant (pending, slow_down, success, expired, denied), the
# client-credentials grant, the stored state, and no secret in -v, argv or the environment;
# then sends with the token: refresh before a send, rotation, the endpoint down or refusing, and
# concurrent sends refreshing once. The SMTP fixture accepts only the token in $SMTP_TOKEN.

load helpers
load postie
load oauth

CLIENT_SECRET='cl1ent-s3cret'

setup_file() {
	SMTP_TOKEN=$BATS_FILE_TMPDIR/smtp-token
	export SMTP_TOKEN
	fixture_start --auth-user a@example.org --auth-token "@$SMTP_TOKEN"
	tokend_start
}
teardown_file() {
	tokend_stop
	fixture_stop
}
setup() {
	fixture_reset
	tokend_reset
	message 'From: a@example.org\nSubject: oauth2\n\nbody\n'
	STATE=$BATS_TEST_TMPDIR/xdg-state/postie/oauth2-work.json
	Q=$BATS_TEST_TMPDIR/queue
	rm -f "$SMTP_TOKEN"
}

# state ACCESS REFRESH EXPIRES_IN: the state file of account work, as --authorize leaves it.
state() {
	mkdir -p "${STATE%/*}"
	local now
	now=$(date +%s)
	jq -nc --arg a "$1" --arg r "$2" --argjson e "$((now + $3))" --argjson n "$now" \
		'{access_token: $a, refresh_token: $r, expires_at: $e, obtained_at: $n, refreshed_at: 0}' \
		>"$STATE"
	chmod 600 "$STATE"
}

# relay_accepts TOKEN: the one access token the SMTP fixture takes from now on.
relay_accepts() { printf '%s\n' "$1" >"$SMTP_TOKEN"; }

# oauth_config [LINES...]: account work with the fixture as its custom provider.
oauth_config() {
	postie_config 'account work' 'user a@example.org' 'oauth2-provider custom' \
		'oauth2-client-id cid-123' "oauth2-client-secret $CLIENT_SECRET" \
		"oauth2-device-url $TOKEND_URL/device" "oauth2-token-url $TOKEND_URL/token" \
		'oauth2-scope mail.send' "tls-ca-file $TOKEND_CA/ca.pem" "$@"
	chmod 600 "$POSTIE_CONFIG"
}

DEVICE='{"status": 200, "body": {"device_code": "dc-1", "user_code": "WDJB-MJHT",
	"verification_uri": "https://example.test/device",
	"verification_uri_complete": "https://example.test/device?user_code=WDJB-MJHT",
	"expires_in": 60, "interval": 1}}'
PENDING='{"status": 400, "body": {"error": "authorization_pending"}}'
TOKEN='{"status": 200, "body": {"access_token": "at-1", "refresh_token": "rt-1",
	"token_type": "Bearer", "expires_in": 3599}}'

@test "--authorize runs the device grant: the code shown, polled until a token, stored 0600" {
	oauth_config
	tokend_script "{\"device\": [$DEVICE], \"token\": [$PENDING, $TOKEN]}"
	run -0 --separate-stderr postie --authorize --account work
	assert_equal "$stderr" ""
	assert_line -n 0 "To authorize account 'work', open https://example.test/device"
	assert_line -n 1 "and enter the code WDJB-MJHT"
	assert_line -n 2 "(or open https://example.test/device?user_code=WDJB-MJHT, which holds the code)"
	assert_line -n 3 "Waiting for the authorization (it expires in 60 seconds)..."
	assert_line -n 4 "Authorized: account 'work', tokens stored in $STATE (the access token expires in 3599 seconds)"
	[ "$(stat -c %a "$STATE")" = 600 ]
	[ "$(jq -r .access_token "$STATE")" = at-1 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-1 ]
	run -0 tokend_requests '[.path, .form.grant_type // "", .form.client_id, .form.device_code // "", .form.scope // ""] | join(" ")'
	assert_output "/device  cid-123  mail.send
/token urn:ietf:params:oauth:grant-type:device_code cid-123 dc-1 
/token urn:ietf:params:oauth:grant-type:device_code cid-123 dc-1 "
	[ "$(tokend_requests '.form.client_secret' | sed -n 2p)" = "$(tokend_marker "$CLIENT_SECRET")" ]
}

@test "slow_down makes --authorize poll 5 seconds more slowly" {
	oauth_config
	tokend_script "{\"device\": [$DEVICE], \"token\": [{\"status\": 400, \"body\": {\"error\": \"slow_down\"}}, $TOKEN]}"
	run -0 postie --authorize --account work
	mapfile -t at < <(tokend_requests '.time')
	[ "${#at[@]}" -eq 3 ]
	# device -> first poll: the interval (1 s); first -> second poll: 1 + 5 s
	run -0 python3 -c "import sys; a = [float(x) for x in sys.argv[1:]]; g1, g2 = a[1] - a[0], a[2] - a[1]; print(round(g1), round(g2)); sys.exit(0 if g1 < 3 and g2 >= 5.5 else 1)" "${at[@]}"
}

@test "expired_token ends --authorize with 75 and the line to run again; nothing stored" {
	oauth_config
	tokend_script "{\"device\": [$DEVICE], \"token\": [$PENDING, {\"status\": 400, \"body\": {\"error\": \"expired_token\"}}]}"
	run -75 --separate-stderr postie --authorize --account work
	assert_equal "$stderr" "postie: account 'work': the code expired before it was entered (expired_token): run postie --authorize --account work again"
	[ ! -e "$STATE" ]
}

@test "access_denied ends --authorize with 77 and says so; nothing stored" {
	oauth_config
	tokend_script "{\"device\": [$DEVICE], \"token\": [{\"status\": 400, \"body\": {\"error\": \"access_denied\"}}]}"
	run -77 --separate-stderr postie --authorize --account work
	assert_equal "$stderr" "postie: account 'work': the authorization was denied (access_denied)"
	[ ! -e "$STATE" ]
}

@test "the client-credentials grant needs no person: the secret and scope sent, the token stored" {
	oauth_config 'oauth2-grant client-credentials'
	tokend_script '{"token": [{"status": 200, "body": {"access_token": "app-at", "expires_in": 3600}}]}'
	run -0 --separate-stderr postie --authorize --account work
	assert_output "Authorized: account 'work', tokens stored in $STATE (the access token expires in 3600 seconds)"
	[ "$(jq -r .access_token "$STATE")" = app-at ]
	[ "$(jq -r '.refresh_token // "none"' "$STATE")" = none ]
	run -0 tokend_requests '[.path, .form.grant_type, .form.client_id, .form.scope, .form.client_secret] | join(" ")'
	assert_output "/token client_credentials cid-123 mail.send $(tokend_marker "$CLIENT_SECRET")"
}

@test "a token endpoint with a certificate the CA did not sign is refused (TLS verified)" {
	oauth_config
	sed -i "s|^tls-ca-file .*|tls-ca-file $TOKEND_CA/untrusted.pem|" "$POSTIE_CONFIG"
	tokend_script "{\"device\": [$DEVICE], \"token\": [$TOKEN]}"
	run -75 --separate-stderr postie --authorize --account work
	[[ $stderr == "postie: account 'work': token endpoint $TOKEND_URL/device: "* ]]
	run -0 tokend_requests
	assert_output ''
}

@test "a token endpoint answering 500 to the device request: 75 and the status" {
	oauth_config
	tokend_script '{"device": [{"status": 500, "body": "oops"}]}'
	run -75 --separate-stderr postie --authorize --account work
	assert_equal "$stderr" "postie: account 'work': device endpoint $TOKEND_URL/device: HTTP 500"
}

@test "-v shows the requests and statuses, never the client secret, device code or tokens" {
	oauth_config
	tokend_script "{\"device\": [$DEVICE], \"token\": [$PENDING, $TOKEN]}"
	run -0 --separate-stderr postie -v --authorize --account work
	[[ $stderr == *"oauth2> POST $TOKEND_URL/device (client_id=cid-123)"* ]]
	[[ $stderr == *"oauth2< authorization_pending"* ]]
	[[ $stderr == *"oauth2< HTTP 200"* ]]
	for secret in "$CLIENT_SECRET" dc-1 at-1 rt-1; do
		run -1 grep -qF -- "$secret" <<<"$stderr"
	done
}

@test "the client secret from a command is in neither argv nor the environment of postie" {
	printf '#!/bin/sh\nenv >"%s/child-env"\necho "%s"\n' "$BATS_TEST_TMPDIR" "$CLIENT_SECRET" \
		>"$BATS_TEST_TMPDIR/secret.sh"
	chmod 700 "$BATS_TEST_TMPDIR/secret.sh"
	oauth_config
	sed -i "s|^oauth2-client-secret .*|oauth2-client-secret-command $BATS_TEST_TMPDIR/secret.sh|" "$POSTIE_CONFIG"
	tokend_script "{\"device\": [$DEVICE], \"token\": [{\"status\": 400, \"body\": {\"error\": \"authorization_pending\"}, \"delay\": 2}, $TOKEN]}"
	POSTIE_SOMETHING=x "$POSTIE" --authorize --account work >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	for _ in $(seq 50); do [ -s "$TOKEND_DIR/requests.jsonl" ] && break; sleep 0.1; done
	sleep 1.2
	tr '\0' '\n' <"/proc/$pid/cmdline" >"$BATS_TEST_TMPDIR/cmdline"
	tr '\0' '\n' <"/proc/$pid/environ" >"$BATS_TEST_TMPDIR/environ"
	wait "$pid"
	[ -s "$BATS_TEST_TMPDIR/cmdline" ]
	run -1 grep -qF -- "$CLIENT_SECRET" "$BATS_TEST_TMPDIR/cmdline"
	run -1 grep -qF -- "$CLIENT_SECRET" "$BATS_TEST_TMPDIR/environ"
	run -1 grep -q '^POSTIE_' "$BATS_TEST_TMPDIR/child-env"
	[ "$(tokend_requests '.form.client_secret' | sed -n 2p)" = "$(tokend_marker "$CLIENT_SECRET")" ]
}

@test "the google preset says why it has no device flow for Gmail" {
	postie_config 'account g' 'oauth2-provider google' 'oauth2-client-id x.apps.googleusercontent.com'
	run -78 --separate-stderr postie --authorize --account g
	assert_equal "$stderr" "postie: account 'g': Google's device flow does not grant the Gmail scope https://mail.google.com/: store a refresh token obtained another way in the oauth2-state file, or set oauth2-device-url"
}

@test "--authorize for an account without oauth2-provider is a configuration error" {
	postie_config 'account plain' 'user alice'
	run -78 --separate-stderr postie --authorize --account plain
	assert_equal "$stderr" "postie: account 'plain' has no oauth2-provider"
}

# --- sending with the token ------------------------------------------------------------------

@test "authorize, then send: the relay gets the stored access token, nothing is refreshed" {
	oauth_config
	tokend_script "{\"device\": [$DEVICE], \"token\": [$TOKEN]}"
	run -0 postie --authorize --account work
	relay_accepts at-1
	post 0 --account work -f a@example.org b@example.org
	assert_envelope "EHLO example.net" "AUTH a@example.org" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>"
	fixture_session_log 1 | grep -q '^C: AUTH XOAUTH2'
	[ "$(tokend_requests | wc -l)" -eq 2 ]
}

@test "an access token about to expire is refreshed before the send; the rotated refresh token is kept, the old one never sent again" {
	oauth_config
	state at-old rt-1 60
	relay_accepts at-2
	tokend_script '{"token": [{"status": 200, "body": {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}}]}'
	post 0 --account work -f a@example.org b@example.org
	[ "$(fixture_count)" -eq 1 ]
	[ "$(jq -r .access_token "$STATE")" = at-2 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
	[ "$(stat -c %a "$STATE")" = 600 ]
	run -0 tokend_requests '[.form.grant_type, .form.refresh_token, .form.client_id, .form.client_secret] | join(" ")'
	assert_output "refresh_token $(tokend_marker rt-1) cid-123 $(tokend_marker "$CLIENT_SECRET")"
	# the next refresh sends rt-2
	jq -c '.expires_at = 0' "$STATE" >"$STATE.new"
	chmod 600 "$STATE.new"
	mv "$STATE.new" "$STATE"
	relay_accepts at-3
	tokend_script '{"token": [{"status": 200, "body": {"access_token": "at-3", "refresh_token": "rt-3", "expires_in": 3600}}]}'
	post 0 --account work -f a@example.org b@example.org
	[ "$(fixture_count)" -eq 2 ]
	run -0 tokend_requests '.form.refresh_token'
	assert_line -n 1 "$(tokend_marker rt-2)"
	run -1 grep -c "$(tokend_marker rt-1)" <(tokend_requests '.form.refresh_token' | sed 1d)
	[ "$(jq -r .refresh_token "$STATE")" = rt-3 ]
}

@test "a refresh without a new refresh token keeps the old one" {
	oauth_config
	state at-old rt-1 0
	relay_accepts at-2
	tokend_script '{"token": [{"status": 200, "body": {"access_token": "at-2", "expires_in": 3600}}]}'
	post 0 --account work -f a@example.org b@example.org
	[ "$(jq -r .access_token "$STATE")" = at-2 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-1 ]
}

@test "a token endpoint answering 500 queues the message (exit 0); postie -q delivers it later" {
	oauth_config
	state at-old rt-1 0
	tokend_script '{"token": [{"status": 500, "body": "down"}]}'
	post 0 --account work -f a@example.org b@example.org
	[ "$(fixture_count)" -eq 0 ]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 1 ]
	relay_accepts at-2
	tokend_script '{"token": [{"status": 200, "body": {"access_token": "at-2", "expires_in": 3600}}]}'
	run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 0 ]
}

@test "a token endpoint that does not answer within timeout queues the message (exit 0)" {
	oauth_config 'timeout 2'
	state at-old rt-1 0
	tokend_script '{"token": [{"status": 200, "delay": 5, "body": {"access_token": "late"}}]}'
	post 0 --account work -f a@example.org b@example.org
	[ "$(fixture_count)" -eq 0 ]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 1 ]
	[ "$(jq -r .access_token "$STATE")" = at-old ]
}

@test "invalid_grant queues the message, exits 77 and says what to run; once authorized, postie -q delivers" {
	oauth_config
	state at-old rt-1 0
	tokend_script '{"token": [{"status": 400, "body": {"error": "invalid_grant", "error_description": "revoked"}}]}'
	run -77 --separate-stderr postie --account work -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg"
	[[ $stderr =~ ^postie:\ account\ \'work\':\ the\ authorization\ was\ revoked\ or\ has\ expired\ \(invalid_grant\):\ run\ postie\ --authorize\ --account\ work\;\ queued\ as\ [0-9a-f-]+,\ delivered\ by\ \'postie\ -q\'\ once\ fixed$ ]]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 1 ]
	[ "$(fixture_count)" -eq 0 ]
	run -0 postie -bp
	assert_line --regexp "^  \(smtp://127\.0\.0\.1:[0-9]+ account 'work': the authorization was revoked or has expired \(invalid_grant\): run postie --authorize --account work\)$"
	tokend_script "{\"device\": [$DEVICE], \"token\": [$TOKEN]}"
	run -0 postie --authorize --account work
	relay_accepts at-1
	run -0 postie -q
	[ "$(fixture_count)" -eq 1 ]
}

@test "nothing stored yet: the message is queued, 77, and the line to run" {
	oauth_config
	run -77 --separate-stderr postie --account work -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg"
	[[ $stderr == "postie: account 'work': no OAuth2 token stored in $STATE: run postie --authorize --account work; queued as "*", delivered by 'postie -q' once fixed" ]]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 1 ]
	run -0 tokend_requests
	assert_output ''
}

@test "20 concurrent sends with an expired token refresh once, and every message is delivered" {
	oauth_config
	state at-old rt-1 0
	relay_accepts at-2
	tokend_script '{"token": [{"status": 200, "delay": 1, "body": {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}}, {"status": 400, "body": {"error": "invalid_grant"}}]}'
	pids=()
	for i in $(seq 20); do
		"$POSTIE" --account work -f a@example.org "b$i@example.org" <"$BATS_TEST_TMPDIR/msg" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	[ "$(tokend_requests | wc -l)" -eq 1 ]
	[ "$(fixture_count)" -eq 20 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
}

@test "-v and -X of a send that refreshes show no token and no secret" {
	oauth_config
	state at-old rt-1 0
	relay_accepts at-2
	tokend_script '{"token": [{"status": 200, "body": {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}}]}'
	run -0 --separate-stderr postie -v -X "$BATS_TEST_TMPDIR/x.log" --account work -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg"
	[[ $stderr == *"oauth2> POST $TOKEND_URL/token (grant_type=refresh_token)"* ]]
	grep -qF "oauth2> POST $TOKEND_URL/token (grant_type=refresh_token)" "$BATS_TEST_TMPDIR/x.log"
	# nor the XOAUTH2 blob that carries the access token
	blob=$(printf 'user=a@example.org\001auth=Bearer at-2\001\001' | base64 -w0)
	for secret in "$CLIENT_SECRET" at-old at-2 rt-1 rt-2 "$blob"; do
		run -1 grep -qF -- "$secret" <<<"$stderr"
		run -1 grep -qF -- "$secret" "$BATS_TEST_TMPDIR/x.log"
	done
}

REFRESH_AT2='{"token": [{"status": 200, "body": {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}}]}'

@test "a relay that refuses a stale token (535) gets one refresh and one retry: delivered, exit 0" {
	oauth_config
	state at-stale rt-1 3600
	relay_accepts at-2
	tokend_script "$REFRESH_AT2"
	run -0 --separate-stderr postie --account work -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg"
	[ "$stderr" = "" ]
	[ "$(fixture_count)" -eq 1 ]
	run -0 tokend_requests '.form.grant_type'
	assert_output refresh_token
	[ "$(jq -r .access_token "$STATE")" = at-2 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
	[ "$(grep -c '^C: AUTH XOAUTH2' <(cat "$SMTP_DIR"/sessions/*.log))" -eq 2 ]
	run -0 find "$BATS_TEST_TMPDIR" -name '*.env'
	assert_output ''
}

@test "a relay that refuses the token again after the refresh: queued, 77, the line to run" {
	oauth_config
	state at-stale rt-1 3600
	relay_accepts at-never
	tokend_script "$REFRESH_AT2"
	run -77 --separate-stderr postie --account work -f a@example.org b@example.org <"$BATS_TEST_TMPDIR/msg"
	[[ $stderr =~ ^postie:\ smtp://127\.0\.0\.1:[0-9]+:\ authentication\ failed\ \(Login\ denied\),\ even\ with\ a\ refreshed\ token:\ run\ postie\ --authorize\ --account\ work\;\ queued\ as\ [0-9a-f-]+,\ delivered\ by\ \'postie\ -q\'\ once\ fixed$ ]]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 1 ]
	[ "$(fixture_count)" -eq 0 ]
	[ "$(tokend_requests | wc -l)" -eq 1 ]
	run -0 postie -bp
	assert_line --regexp "^  \(smtp://127\.0\.0\.1:[0-9]+ authentication failed \(Login denied\), even with a refreshed token: run postie --authorize --account work\)$"
}

@test "in a queue run, a stale token refused by the relay is refreshed once and the entries delivered" {
	oauth_config
	post 0 -odq --account work -f a@example.org b@example.org
	post 0 -odq --account work -f a@example.org c@example.org
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 2 ]
	state at-stale rt-1 3600
	relay_accepts at-2
	tokend_script "$REFRESH_AT2"
	run -0 postie -q
	[ "$(fixture_count)" -eq 2 ]
	[ "$(tokend_requests | wc -l)" -eq 1 ]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 0 ]
	[ "$(jq -r .access_token "$STATE")" = at-2 ]
}

@test "in a queue run, a token refused again after the refresh leaves the entries queued with the line, one refresh" {
	oauth_config
	post 0 -odq --account work -f a@example.org b@example.org
	post 0 -odq --account work -f a@example.org c@example.org
	state at-stale rt-1 3600
	relay_accepts at-never
	tokend_script "$REFRESH_AT2"
	run -0 --separate-stderr postie -q
	[[ $stderr =~ ^postie:\ smtp://127\.0\.0\.1:[0-9]+:\ authentication\ failed\ \(Login\ denied\),\ even\ with\ a\ refreshed\ token:\ run\ postie\ --authorize\ --account\ work\;\ its\ queue\ entries\ stay\ queued$ ]]
	[ "$(fixture_count)" -eq 0 ]
	[ "$(tokend_requests | wc -l)" -eq 1 ]
	[ "$(ls "$Q/q" | grep -c '\.env$')" -eq 2 ]
	run -0 postie -bp
	[ "$(grep -c 'even with a refreshed token: run postie --authorize --account work)$' <<<"$output")" -eq 2 ]
}

# ms_config [LINES...]: account work with the microsoft preset, its token endpoint the fixture.
ms_config() {
	postie_config 'account work' 'user a@example.org' 'oauth2-provider microsoft' \
		'oauth2-client-id cid-123' "oauth2-token-url $TOKEND_URL/token" \
		"tls-ca-file $TOKEND_CA/ca.pem" "$@"
	chmod 600 "$POSTIE_CONFIG"
}

@test "the microsoft preset authenticates with XOAUTH2 when the relay offers OAUTHBEARER too" {
	ms_config
	state at-1 rt-1 3600
	relay_accepts at-1
	fixture_fault auth_offer OAUTHBEARER
	post 0 --account work -f a@example.org b@example.org
	[ "$(fixture_count)" -eq 1 ]
	grep -q '^S: 250-AUTH .*OAUTHBEARER' <(fixture_session_log 1)
	run -0 grep -c '^C: AUTH ' <(fixture_session_log 1)
	assert_output 1
	grep -q '^C: AUTH XOAUTH2' <(fixture_session_log 1)
}

@test "an explicit auth wins over the preset's mechanism; a custom provider leaves the choice to libcurl" {
	ms_config 'auth OAUTHBEARER'
	state at-1 rt-1 3600
	relay_accepts at-1
	fixture_fault auth_offer OAUTHBEARER
	post 0 --account work -f a@example.org b@example.org
	grep -q '^C: AUTH OAUTHBEARER' <(fixture_session_log 1)
	oauth_config
	post 0 --account work -f a@example.org b@example.org
	grep -q '^C: AUTH OAUTHBEARER' <(fixture_session_log 2)
	[ "$(fixture_count)" -eq 2 ]
}

@test "--serverinfo for an OAuth2 account says what is stored, refreshes, then shows the relay; no token shown" {
	oauth_config
	state at-1 rt-1 3600
	jq -c '.refreshed_at = 1700000000' "$STATE" >"$STATE.new"
	chmod 600 "$STATE.new"
	mv "$STATE.new" "$STATE"
	relay_accepts at-2
	tokend_script "$REFRESH_AT2"
	run -0 --separate-stderr postie --serverinfo --account work
	[ "$stderr" = "" ]
	assert_line -n 0 'account: work'
	assert_line -n 1 "oauth2: provider custom, device grant, state $STATE"
	assert_line -n 2 --regexp '^oauth2: access token expires 20[0-9-]+T[0-9:]+Z \(in (3600|3599|3598) s\)$'
	assert_line -n 3 'oauth2: refresh token stored, last used 2023-11-14T22:13:20Z'
	assert_line -n 4 --regexp '^oauth2: refresh worked: the access token now expires 20[0-9-]+T[0-9:]+Z \(in (3600|3599|3598) s\)$'
	assert_line -n 5 --regexp '^relay: smtp://127\.0\.0\.1:[0-9]+$'
	assert_line 'greeting: 220 fixture.invalid postie test fixture'
	run -0 tokend_requests '.form.grant_type'
	assert_output refresh_token
	[ "$(jq -r .access_token "$STATE")" = at-2 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-2 ]
	for secret in at-1 at-2 rt-1 rt-2 "$CLIENT_SECRET"; do
		run -1 grep -qF -- "$secret" <<<"$output$stderr"
	done
}

@test "--serverinfo for an OAuth2 account with nothing stored says so and what to run; 77" {
	oauth_config
	run -77 --separate-stderr postie --serverinfo --account work
	assert_line -n 1 "oauth2: provider custom, device grant, state $STATE"
	assert_line -n 2 'oauth2: no token stored: run postie --authorize --account work'
	assert_line -n 3 'oauth2: refresh failed'
	[ "${#lines[@]}" -eq 4 ]
	[ "$stderr" = "postie: account 'work': no OAuth2 token stored in $STATE: run postie --authorize --account work" ]
	run -0 tokend_requests
	assert_output ''
}

@test "--serverinfo when the refresh fails: the stored token kept, the failure said, 75" {
	oauth_config
	state at-1 rt-1 3600
	tokend_script '{"token": [{"status": 500, "body": "down"}]}'
	run -75 --separate-stderr postie --serverinfo --account work
	assert_line -n 2 --regexp '^oauth2: access token expires '
	assert_line -n 3 'oauth2: refresh token stored, not used yet'
	assert_line -n 4 'oauth2: refresh failed'
	[ "$stderr" = "postie: account 'work': token endpoint $TOKEND_URL/token: HTTP 500" ]
	[ "$(jq -r .access_token "$STATE")" = at-1 ]
	[ "$(jq -r .refresh_token "$STATE")" = rt-1 ]
}
