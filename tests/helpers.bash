# SPDX-License-Identifier: ISC
# Shared by every suite (`load helpers`): the fixture SMTP server, postie's config, assertions.
# Everything here writes under $BATS_FILE_TMPDIR or $BATS_TEST_TMPDIR: no fixed paths or ports.
#
# Environment (from the Makefile): POSTIE (binary under test), POSTIE_SRCDIR (source top),
# FIXTURE_PYTHON (interpreter for the server; default /usr/bin/python3, never $PYTHON3:
# the server needs the distribution's python3-aiosmtpd).
#
# Server:   fixture_start [smtpd.py args...]   (setup_file)   fixture_stop   (teardown_file)
#           fixture_reset                      (setup)
#           fixture_fault KEY VALUE [ADDRESS|SECONDS]
#           fixture_count [messages|rejected|dropped]
#           fixture_envelope [N [KIND]]  fixture_data [N [KIND]]  fixture_data_file [N [KIND]]
#           fixture_reply [N [KIND]]     fixture_session_log [N]  fixture_wire_file [N]
# Postie:   postie ARGS...   postie_config [LINES...]
# Other:    require_cmd NAME   make_test_ca DIR   assert_file_bytes FILE EXPECTED
#           assert_lines_fit FILE

bats_require_minimum_version 1.5.0 # run -N
load "${BATS_SUPPORT_DIR:-/usr/lib/bats/bats-support}/load"
load "${BATS_ASSERT_DIR:-/usr/lib/bats/bats-assert}/load"

if [[ -z ${POSTIE_SRCDIR:-} ]]; then
	POSTIE_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	export POSTIE_SRCDIR
fi
FIXTURE_PYTHON=${FIXTURE_PYTHON:-/usr/bin/python3}
FIXTURE_SMTPD=$POSTIE_SRCDIR/tests/fixtures/smtpd.py

# The program under test, so that suites can write `run -75 postie -t ...`.
postie() {
	"${POSTIE:?POSTIE must name the postie binary under test}" "$@"
}

# --- the fixture SMTP server --------------------------------------------------------------

# fixture_start [smtpd.py args...]
# Starts tests/fixtures/smtpd.py on 127.0.0.1 (kernel-chosen port) in a fresh directory under
# $BATS_FILE_TMPDIR; exports SMTP_DIR, SMTP_PORT and SMTP_PID. Fails with the server's output
# if it is not listening within 10 seconds.
fixture_start() {
	local i
	SMTP_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-${BATS_TEST_TMPDIR:?}}/smtpd.XXXXXX") || return 1
	# fd 3 is bats' own: a background process holding it would hang the run.
	"$FIXTURE_PYTHON" -I -B "$FIXTURE_SMTPD" --dir "$SMTP_DIR" "$@" \
		</dev/null >"$SMTP_DIR/stdout.log" 2>&1 3>&- &
	SMTP_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $SMTP_DIR/port ]] && break
		kill -0 "$SMTP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [[ ! -s $SMTP_DIR/port ]]; then
		kill "$SMTP_PID" 2>/dev/null
		{
			echo "fixture_start: smtpd.py $* did not come up (pid $SMTP_PID, dir $SMTP_DIR)"
			echo "--- stdout/stderr:"
			cat "$SMTP_DIR/stdout.log"
			echo "--- server.log:"
			cat "$SMTP_DIR/server.log" 2>/dev/null
		} >&2
		return 1
	fi
	SMTP_PORT=$(<"$SMTP_DIR/port")
	export SMTP_DIR SMTP_PORT SMTP_PID
	# The tests of a file share this server and fixture_reset it: never run them in parallel.
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
}

# Whether PID runs (ps, not kill -0: an unreaped child of this shell still answers kill -0).
_fixture_running() {
	local stat
	stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $stat && $stat != Z* ]]
}

# fixture_stop: SIGTERM, then up to 5 seconds' grace, then SIGKILL. Fails unless the server
# exits 0 (when it is a child of this shell, as it is from setup_file to teardown_file).
fixture_stop() {
	local i
	[[ -n ${SMTP_PID:-} ]] || return 0
	kill -TERM "$SMTP_PID" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		_fixture_running "$SMTP_PID" || break
		sleep 0.1
	done
	if _fixture_running "$SMTP_PID"; then
		echo "fixture_stop: smtpd.py (pid $SMTP_PID) ignored SIGTERM; killed" >&2
		kill -KILL "$SMTP_PID" 2>/dev/null
	fi
	local rc=0
	wait "$SMTP_PID" 2>/dev/null || rc=$?
	unset SMTP_PID
	# 127: not this shell's child, so its status is unknown.
	if ((rc != 0 && rc != 127)); then
		echo "fixture_stop: smtpd.py exited with status $rc; server.log:" >&2
		cat "${SMTP_DIR:-}/server.log" >&2 2>/dev/null
		return 1
	fi
}

# fixture_reset: forgets every recorded message and session and every fault.
fixture_reset() {
	rm -rf "${SMTP_DIR:?fixture_start first}"/{messages,rejected,dropped,sessions,faults,faults.tmp}
}

# fixture_fault KEY VALUE [ADDRESS|SECONDS]
# Sets one key of $SMTP_DIR/faults (the server reads it at every command):
#   greeting|ehlo|helo|mail|data|eod|starttls|auth|rset|noop|quit|vrfy|help REPLY
#   rcpt REPLY [ADDRESS]       ADDRESS defaults to "*" (any recipient without its own entry)
#   drop mid-data|after-dot
#   delay STAGE SECONDS        STAGE: greeting ehlo helo mail rcpt data eod (or an override key),
#                              or mid-data: after the first chunk of a message that goes on
#   times N                    the faults apply to the next N connections only
#   size BYTES                 SIZE advertised and enforced (0: none)
#   ehlo_without "KEYWORD..."  EHLO keywords not to advertise (e.g. "SMTPUTF8 8BITMIME")
#   auth_offer "MECH..."      mechanisms offered only on demand (OAUTHBEARER) that EHLO offers now
# A REPLY may span lines: "550-first\n550 second" (a real newline or a literal \n).
fixture_fault() {
	[[ $# -ge 2 ]] || { echo "usage: fixture_fault KEY VALUE [ADDRESS|SECONDS]" >&2; return 2; }
	"$FIXTURE_PYTHON" -I -B - "${SMTP_DIR:?fixture_start first}/faults" "$@" <<-'PY'
		import json, os, sys
		path, key, value, *extra = sys.argv[1:]
		replies = {"greeting", "ehlo", "helo", "mail", "data", "eod",
		           "starttls", "auth", "rset", "noop", "quit", "vrfy", "help"}
		stages = {"greeting", "ehlo", "helo", "mail", "rcpt", "data", "mid-data", "eod"} | replies
		try:
		    with open(path) as f:
		        faults = json.load(f)
		except FileNotFoundError:
		    faults = {}
		def reply(text):
		    return text.replace("\\n", "\n")
		if key == "rcpt":
		    faults.setdefault("rcpt", {})[extra[0] if extra else "*"] = reply(value)
		elif key == "delay":
		    if value not in stages or len(extra) != 1:
		        sys.exit("fixture_fault: delay STAGE SECONDS, STAGE one of " + " ".join(sorted(stages)))
		    faults.setdefault("delay", {})[value] = float(extra[0])
		elif key in ("times", "size"):
		    faults[key] = int(value)
		elif key == "drop":
		    if value not in ("mid-data", "after-dot"):
		        sys.exit("fixture_fault: drop mid-data|after-dot")
		    faults[key] = value
		elif key in ("ehlo_without", "auth_offer"):
		    faults[key] = value.split()
		elif key in replies:
		    faults[key] = reply(value)
		else:
		    sys.exit("fixture_fault: unknown fault key: " + key)
		with open(path + ".tmp", "w") as f:
		    json.dump(faults, f, indent=1)
		os.replace(path + ".tmp", path)
	PY
}

# fixture_count [messages|rejected|dropped]: how many messages the server recorded there.
fixture_count() {
	local kind=${1:-messages} n=0 d
	for d in "${SMTP_DIR:?fixture_start first}/$kind"/[0-9]*/; do
		[[ -d $d ]] && n=$((n + 1))
	done
	echo "$n"
}

# fixture_file NAME [N [KIND]]: the path of a recorded message's file (must exist).
fixture_file() {
	local path=${SMTP_DIR:?fixture_start first}/${3:-messages}/${2:-1}/$1
	if [[ ! -f $path ]]; then
		echo "fixture: no ${3:-messages} #${2:-1} recorded (no $path)" >&2
		return 1
	fi
	printf '%s\n' "$path"
}

# fixture_envelope [N [KIND]]: EHLO/HELO, AUTH, MAIL and accepted RCPT lines as sent.
fixture_envelope() {
	local path
	path=$(fixture_file envelope "$@") && cat -- "$path"
}

# fixture_data_file [N [KIND]]: the path of the exact, unstuffed DATA bytes. Every suite reads
# a delivery through it or fixture_data, so both check that no line of it is longer than 998
# octets (assert_lines_fit): on a longer one they print no path, and the test fails.
fixture_data_file() {
	local path
	path=$(fixture_file data "$@") || return 1
	assert_lines_fit "$path" || return 1
	printf '%s\n' "$path"
}

# fixture_data [N [KIND]]: those bytes themselves, after the same check.
fixture_data() {
	local path
	path=$(fixture_data_file "$@") && cat -- "$path"
}

# fixture_reply [N [KIND]]: the reply the server gave after the final dot.
fixture_reply() {
	local path
	path=$(fixture_file reply "$@") && cat -- "$path"
}

# fixture_session_log [N]: the C:/S: transcript of connection N (default 1).
fixture_session_log() {
	cat -- "${SMTP_DIR:?fixture_start first}/sessions/${1:-1}.log"
}

# fixture_wire_file [N]: the path of every byte connection N sent (decrypted, under TLS).
fixture_wire_file() {
	printf '%s\n' "${SMTP_DIR:?fixture_start first}/sessions/${1:-1}.wire"
}

# --- postie's configuration ---------------------------------------------------------------

# postie_config [LINE...]: $BATS_TEST_TMPDIR/postie.conf relaying to the fixture (override the
# relay URL with $POSTIE_RELAY), with the queue in $BATS_TEST_TMPDIR/queue, no syslog and no
# Received field (a line `received yes` among LINE... turns it back on: the later line wins),
# exported as POSTIE_CONFIG, with HOME, XDG_CONFIG_HOME and XDG_STATE_HOME pointing at empty
# directories so that no user file leaks in, and NAME set empty, so that a generated From has
# no name whatever the GECOS field of the user running the tests says.
postie_config() {
	local conf=${BATS_TEST_TMPDIR:?}/postie.conf
	mkdir -p "$BATS_TEST_TMPDIR/home" "$BATS_TEST_TMPDIR/xdg-config"
	{
		printf 'relay %s\n' "${POSTIE_RELAY:-smtp://127.0.0.1:${SMTP_PORT:?fixture_start first}}"
		printf 'domain example.net\n'
		printf 'queue %s\n' "$BATS_TEST_TMPDIR/queue"
		printf 'syslog no\n'
		printf 'received no\n'
		(($#)) && printf '%s\n' "$@"
	} >"$conf"
	export POSTIE_CONFIG=$conf NAME=
	export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg-config
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/xdg-state
}

# --- environment --------------------------------------------------------------------------

# require_cmd NAME: skip when NAME is not installed; under CI=true that is a failure instead.
require_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [[ ${CI:-} == true ]]; then
		fail "required command '$1' is not installed (CI=true: a skip would be a failure)"
		return 1
	fi
	skip "$1 is not installed"
}

# make_test_ca DIR: with openssl, in DIR:
#   ca.pem                       a CA to trust
#   server.pem, server.key       signed by it, for localhost and 127.0.0.1
#   wrongname.pem, wrongname.key signed by it, for wrong.example only
#   untrusted.pem, untrusted.key self-signed, for localhost and 127.0.0.1
make_test_ca() {
	local dir=${1:?usage: make_test_ca DIR}
	mkdir -p "$dir" || return 1
	(
		set -e
		cd "$dir"
		newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
		leaf='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid'
		openssl req -x509 "${newkey[@]}" -keyout ca.key -out ca.pem -days 30 \
			-subj "/CN=postie test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign"
		sign() { # name san
			openssl req -new "${newkey[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
			printf '%s\nsubjectAltName=%s\n' "$leaf" "$2" >"$1.ext"
			openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
				-days 30 -extfile "$1.ext" -out "$1.pem"
		}
		sign server "DNS:localhost,IP:127.0.0.1"
		sign wrongname "DNS:wrong.example"
		openssl req -x509 "${newkey[@]}" -keyout untrusted.key -out untrusted.pem -days 30 \
			-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
		rm -f ./*.csr ./*.ext
	) >"$dir/openssl.log" 2>&1 || {
		echo "make_test_ca: openssl failed:" >&2
		cat "$dir/openssl.log" >&2
		return 1
	}
}

# --- assertions ---------------------------------------------------------------------------

# assert_lines_fit FILE: fails, naming the first offender on stderr, when a line of FILE holds
# more than 998 octets before its CRLF (RFC 5322 2.1.1, RFC 5321 4.5.3.1.6).
assert_lines_fit() {
	local bad
	bad=$(LC_ALL=C awk '{ n = length($0); if (substr($0, n, 1) == "\r") n--
		if (n > 998) { printf "line %d holds %d octets", NR, n; exit } }' "$1") || return 1
	[[ -z $bad ]] && return 0
	echo "$1: $bad, over the 998 of RFC 5322 2.1.1" >&2
	return 1
}

# assert_file_bytes FILE EXPECTED: FILE holds exactly the bytes of `printf %b EXPECTED`
# (so \r, \n, \t, \\, \0NNN and \xHH are escapes; % is plain). On a mismatch, shows both
# sides line by line with sed's escaping (\r visible, $ = end of line) and their sizes.
assert_file_bytes() {
	local file=$1 expected
	if [[ ! -f $file ]]; then
		fail "assert_file_bytes: no such file: $file"
		return 1
	fi
	expected=$(mktemp "${BATS_TEST_TMPDIR:?}/expected.XXXXXX")
	printf '%b' "$2" >"$expected"
	cmp -s -- "$expected" "$file" && return 0
	{
		echo "-- $file: not the expected bytes"
		echo "-- expected $(wc -c <"$expected") bytes, got $(wc -c <"$file")"
		diff -u --label expected --label actual \
			<(LC_ALL=C sed -n 'l 0' -- "$expected") <(LC_ALL=C sed -n 'l 0' -- "$file")
		[[ -z $(tail -c 1 -- "$file") ]] || echo "-- (actual does not end with a newline)"
		[[ -z $(tail -c 1 -- "$expected") ]] || echo "-- (expected does not end with a newline)"
	} | fail
}
