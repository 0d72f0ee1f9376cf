#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A setgid postie runs with an allow-listed environment: nothing the user sets reaches the
# libraries that carry the system relay's password (a TLS key log, an OpenSSL configuration, a
# trust store, a proxy, a test clock), while a run without the privilege keeps its environment.
# Each attack runs as nobody against a setgid copy (tests/setgid.bash) and, where the variable
# has an effect at all, the same variable against a copy without the setgid bit, to show that
# the test would see it honoured.

load helpers
load postie
load setgid

setup_file() {
	export CA=$BATS_FILE_TMPDIR/ca
	make_test_ca "$CA"
	fixture_start --starttls --tls-cert "$CA/server.pem" --tls-key "$CA/server.key" \
		--auth-user alice --auth-password 'sys s3cret'
}
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	setgid_setup
	relay="smtp://127.0.0.1:$SMTP_PORT"
	# the CA is public: nobody may read it, as libcurl reads it after the group is given up
	cp "$CA/ca.pem" "$WORLD/ca.pem"
	chmod 644 "$WORLD/ca.pem"
	# the system relay, over STARTTLS, with a password only the group postie may read
	system_conf "relay $relay" 'domain sys.example' 'tls required' "tls-ca-file $WORLD/ca.pem" \
		'user alice' 'password "sys s3cret"' 'syslog no'
	cp "$POSTIE" "$WORLD/postie-plain"
	chmod 755 "$WORLD/postie-plain"
	# nobody's own files: $WORLD/home is the only directory nobody may write to
	H=$WORLD/home
}
teardown() {
	local pid
	if [[ -f $BATS_TEST_TMPDIR/servers ]]; then
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		done <"$BATS_TEST_TMPDIR/servers"
	fi
	setgid_teardown
}

# plain_world: for the copy without the setgid bit, which as nobody cannot read the system
# file: an empty world-readable system file, and nobody's own $H/user.conf with the same relay
# and account. A run of the plain copy takes `-C $H/user.conf`.
plain_world() {
	system_conf 'syslog no'
	chmod 644 "$SCRATCH/postie.conf"
	printf 'relay %s\ndomain sys.example\ntls required\ntls-ca-file %s\nuser alice\npassword "sys s3cret"\nsyslog no\n' \
		"$relay" "$WORLD/ca.pem" >"$H/user.conf"
	chown nobody:nogroup "$H/user.conf"
	chmod 600 "$H/user.conf"
}

# The system relay got one message from nobody, through STARTTLS and AUTH.
sent_through_the_system_account() {
	assert_envelope "EHLO sys.example" "AUTH alice" "MAIL FROM:<nobody@sys.example>" "RCPT TO:<b@example.org>"
	run fixture_session_log 1
	assert_line 'C: STARTTLS'
}

@test "setgid: SSLKEYLOGFILE gets no key of the TLS session that carries the system password" {
	run as_nobody SSLKEYLOGFILE="$H/keys" "$WORLD/postie" -f nobody@sys.example b@example.org <"$WORLD/msg"
	assert_success
	assert_output ''
	sent_through_the_system_account
	[ ! -e "$H/keys" ]
	# without the privilege the user's own session is logged: the variable does work here
	plain_world
	run as_nobody SSLKEYLOGFILE="$H/keys" "$WORLD/postie-plain" -C "$H/user.conf" b@example.org <"$WORLD/msg"
	assert_success
	grep -q '^CLIENT_TRAFFIC_SECRET_0 ' "$H/keys"
}

@test "setgid: OPENSSL_CONF is not read" {
	# a configuration that leaves no cipher the relay accepts (libcurl sets the TLS versions
	# itself, but leaves the ciphers to the configuration)
	printf 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nCipherString = NULL-SHA256\nCiphersuites = TLS_AES_128_CCM_8_SHA256\n' \
		>"$H/openssl.cnf"
	chown nobody:nogroup "$H/openssl.cnf"
	run as_nobody OPENSSL_CONF="$H/openssl.cnf" "$WORLD/postie" -f nobody@sys.example b@example.org <"$WORLD/msg"
	assert_success
	assert_output ''
	sent_through_the_system_account
	# without the privilege the file is read: the handshake fails and the message is queued
	plain_world
	run as_nobody OPENSSL_CONF="$H/openssl.cnf" "$WORLD/postie-plain" -C "$H/user.conf" b@example.org <"$WORLD/msg"
	assert_success
	assert_output --regexp "^postie: $relay unavailable \(TLS handshake failed .*\); queued as [0-9a-f-]+, delivered by 'postie -q'$"
	[ "$(fixture_count)" -eq 1 ]
}

@test "setgid: SSL_CERT_FILE, SSL_CERT_DIR and CURL_CA_BUNDLE cannot make the user's CA trusted" {
	# the system file trusts the system's store only, where the test CA is not; the user
	# offers the CA that signed the relay's certificate
	system_conf "relay $relay" 'domain sys.example' 'tls required' 'user alice' \
		'password "sys s3cret"' 'syslog no'
	mkdir "$H/certs"
	cp "$WORLD/ca.pem" "$H/certs/ca.pem"
	openssl rehash "$H/certs"
	chown -R nobody:nogroup "$H/certs"
	run as_nobody SSL_CERT_FILE="$H/certs/ca.pem" SSL_CERT_DIR="$H/certs" CURL_CA_BUNDLE="$H/certs/ca.pem" \
		"$WORLD/postie" -f nobody@sys.example b@example.org <"$WORLD/msg"
	assert_failure 78
	assert_output --regexp "^postie: $relay: TLS certificate not trusted \(.*\); queued as [0-9a-f-]+, delivered by 'postie -q' once fixed$"
	[ "$(fixture_count)" -eq 0 ]
	run fixture_session_log 1
	refute_line --partial 'AUTH'
}

@test "setgid: a proxy variable does not redirect the system relay's connection" {
	local dir=$BATS_TEST_TMPDIR/proxy i
	mkdir -p "$dir"
	# a listener that records every connection it accepts
	/usr/bin/python3 -I -B -c '
import os, socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(srv.getsockname()[1]))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = srv.accept()
    with open(sys.argv[2], "a") as f:
        f.write("connected\n")
    c.close()
' "$dir/port" "$dir/connections" </dev/null >"$dir/log" 2>&1 3>&- &
	echo $! >>"$BATS_TEST_TMPDIR/servers"
	for ((i = 0; i < 100; i++)); do
		[[ -s $dir/port ]] && break
		sleep 0.1
	done
	local proxy
	proxy=socks5h://127.0.0.1:$(<"$dir/port")
	run as_nobody all_proxy="$proxy" ALL_PROXY="$proxy" smtp_proxy="$proxy" SMTP_PROXY="$proxy" \
		"$WORLD/postie" -f nobody@sys.example b@example.org <"$WORLD/msg"
	assert_success
	assert_output ''
	sent_through_the_system_account
	[ ! -e "$dir/connections" ]
}

@test "setgid: POSTIE_NOW, a test hook, does not move the queue's clock" {
	run as_nobody POSTIE_NOW=1000000000 "$WORLD/postie" -odq -f nobody@sys.example b@example.org <"$WORLD/msg"
	assert_success
	local env
	env=$(ls "$WORLD"/state/postie/queue/q/*.env)
	run sed -n 's/^created //p' "$env"
	(( output > $(date +%s) - 600 )) || fail "created $output"
	rm -rf "$WORLD/state/postie"
	# without the privilege it does
	plain_world
	run as_nobody POSTIE_NOW=1000000000 "$WORLD/postie-plain" -C "$H/user.conf" -odq b@example.org <"$WORLD/msg"
	assert_success
	env=$(ls "$WORLD"/state/postie/queue/q/*.env)
	run sed -n 's/^created //p' "$env"
	assert_output 1000000000
}

@test "setgid: a password-command, run once the group is given up, gets the caller's environment back" {
	# the user's own account, and a password-command that records its environment
	printf '#!/bin/sh\nenv | grep -v "^PWD=" | LC_ALL=C sort >"%s/env.out"\necho "sys s3cret"\n' "$H" >"$WORLD/pw.sh"
	chmod 755 "$WORLD/pw.sh"
	printf 'relay %s\ndomain sys.example\ntls required\ntls-ca-file %s\nuser alice\npassword-command %s\nsyslog no\n' \
		"$relay" "$WORLD/ca.pem" "$WORLD/pw.sh" >"$H/user.conf"
	chown nobody:nogroup "$H/user.conf"
	local vars=(LANG=C.UTF-8 LC_CTYPE=/tmp/locale TZ=":$H/zone" FOO=bar SSLKEYLOGFILE="$H/keys"
		all_proxy=socks5h://127.0.0.1:1 POSTIE_NOW=1000000000)
	local want
	want=$(printf '%s\n' FOO=bar "HOME=$H" LANG=C.UTF-8 LC_CTYPE=/tmp/locale PATH=/usr/bin:/bin \
		"SSLKEYLOGFILE=$H/keys" "TZ=:$H/zone" "XDG_STATE_HOME=$WORLD/state" all_proxy=socks5h://127.0.0.1:1 | LC_ALL=C sort)
	run as_nobody "${vars[@]}" "$WORLD/postie" -C "$H/user.conf" b@example.org <"$WORLD/msg"
	assert_success
	run cat "$H/env.out"
	assert_output "$want"
	# postie itself, setgid, wrote no key log
	[ ! -e "$H/keys" ]
	system_conf 'syslog no'
	chmod 644 "$SCRATCH/postie.conf"
	run as_nobody "${vars[@]}" "$WORLD/postie-plain" -C "$H/user.conf" b@example.org <"$WORLD/msg"
	assert_success
	run cat "$H/env.out"
	assert_output "$want"
	[ "$(fixture_count)" -eq 2 ]
}
