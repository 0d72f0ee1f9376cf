# SPDX-License-Identifier: ISC
# The OAuth2 token endpoint fixture (tests/fixtures/tokend.py) for suites that `load oauth`
# after `load helpers`. Everything lives under $BATS_FILE_TMPDIR; the port is the kernel's.
#
#   tokend_start              (setup_file) a test CA in $TOKEND_CA, the server; exports
#                             TOKEND_DIR, TOKEND_PORT, TOKEND_PID, TOKEND_URL
#   tokend_stop               (teardown_file)
#   tokend_reset              (setup) no script, no recorded requests
#   tokend_script JSON        the responses of /device and /token (see tokend.py)
#   tokend_requests [JQ]      the recorded requests, one JSON object a line, through jq JQ
#   tokend_marker SECRET      how the fixture records a secret ("sha256:" + 16 hex digits)

TOKEND_PY=$POSTIE_SRCDIR/tests/fixtures/tokend.py

tokend_start() {
	local i
	TOKEND_CA=$BATS_FILE_TMPDIR/tokend-ca
	make_test_ca "$TOKEND_CA" || return 1
	TOKEND_DIR=$(mktemp -d "$BATS_FILE_TMPDIR/tokend.XXXXXX") || return 1
	"$FIXTURE_PYTHON" -I -B "$TOKEND_PY" --dir "$TOKEND_DIR" --cert "$TOKEND_CA/server.pem" \
		--key "$TOKEND_CA/server.key" </dev/null >"$TOKEND_DIR/stdout.log" 2>&1 3>&- &
	TOKEND_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $TOKEND_DIR/port ]] && break
		kill -0 "$TOKEND_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [[ ! -s $TOKEND_DIR/port ]]; then
		echo "tokend_start: tokend.py did not come up:" >&2
		cat "$TOKEND_DIR/stdout.log" >&2
		return 1
	fi
	TOKEND_PORT=$(<"$TOKEND_DIR/port")
	TOKEND_URL=https://127.0.0.1:$TOKEND_PORT
	export TOKEND_CA TOKEND_DIR TOKEND_PORT TOKEND_PID TOKEND_URL
}

tokend_stop() {
	[[ -n ${TOKEND_PID:-} ]] || return 0
	kill -TERM "$TOKEND_PID" 2>/dev/null
	local rc=0
	wait "$TOKEND_PID" 2>/dev/null || rc=$?
	unset TOKEND_PID
	if ((rc != 0 && rc != 127)); then
		echo "tokend_stop: tokend.py exited with status $rc:" >&2
		cat "$TOKEND_DIR/stdout.log" >&2
		return 1
	fi
}

tokend_reset() {
	rm -f "${TOKEND_DIR:?tokend_start first}/script.json" "$TOKEND_DIR/requests.jsonl"
}

tokend_script() {
	printf '%s\n' "$1" >"${TOKEND_DIR:?tokend_start first}/script.json.tmp" &&
		jq -e . "$TOKEND_DIR/script.json.tmp" >/dev/null &&
		mv "$TOKEND_DIR/script.json.tmp" "$TOKEND_DIR/script.json"
}

tokend_requests() {
	[[ -f ${TOKEND_DIR:?tokend_start first}/requests.jsonl ]] || return 0
	jq -rc "${1:-.}" "$TOKEND_DIR/requests.jsonl"
}

tokend_marker() {
	printf 'sha256:%s\n' "$(printf '%s' "$1" | sha256sum | cut -c1-16)"
}
