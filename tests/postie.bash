# SPDX-License-Identifier: ISC
# postie.bash: what the postie suites share on top of helpers.bash: writing input messages and
# comparing what the fixture received, byte for byte.

bats_require_minimum_version 1.5.0

# Writes its arguments, printf-interpreted (\r, \n, \x..), to $BATS_TEST_TMPDIR/msg.
message() {
	# shellcheck disable=SC2059 # the arguments are a printf format on purpose: \r, \n, \x.. and %s
	printf "$@" >"$BATS_TEST_TMPDIR/msg"
}

# Runs postie with the message file as stdin: post STATUS ARGS... (status as for `run -N`).
post() {
	local status=$1
	shift
	run "-$status" "$POSTIE" "$@" <"$BATS_TEST_TMPDIR/msg"
}

# Asserts that the DATA of message N (default 1) is exactly the printf-interpreted format.
assert_data() {
	local n=1
	if [ "$1" = -n ]; then n=$2; shift 2; fi
	# shellcheck disable=SC2059 # as message(): the arguments are a printf format
	printf "$@" >"$BATS_TEST_TMPDIR/expected"
	if ! cmp -s "$BATS_TEST_TMPDIR/expected" "$(fixture_data_file "$n")"; then
		echo "--- expected"; od -c "$BATS_TEST_TMPDIR/expected" | head -40
		echo "--- received"; od -c "$(fixture_data_file "$n")" | head -40
		return 1
	fi
}

# Asserts the envelope of message N (default 1) equals the given lines.
assert_envelope() {
	local n=1
	if [ "$1" = -n ]; then n=$2; shift 2; fi
	local want
	want=$(printf '%s\n' "$@")
	run fixture_envelope "$n"
	assert_output "$want"
}

# The header of message N with CRs removed, one field per line (folding kept).
received_header() {
	sed -e 's/\r$//' -e '/^$/q' "$(fixture_data_file "${1:-1}")" | sed '/^$/d'
}

# The body of message N with CRs removed.
received_body() {
	sed -e 's/\r$//' "$(fixture_data_file "${1:-1}")" | sed '1,/^$/d'
}

# Fails if message N holds an LF not preceded by CR or a CR not followed by LF.
assert_only_crlf() {
	/usr/bin/python3 - "$(fixture_data_file "${1:-1}")" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
bad = [m.start() for m in re.finditer(rb'(?<!\r)\n|\r(?!\n)', data)]
if bad:
    print("bare CR or LF at offsets", bad[:10]); sys.exit(1)
PY
}

# Skips the test when uid cannot even reach the compiled-in system configuration directory:
# make distcheck installs under a private prefix inside a 0700 directory, where postie, run as
# another user, rightly refuses a system file it cannot read. Elsewhere the test runs.
skip_unless_sysconfdir_reachable() {
	local uid=$1 gid=${2:-$1} sysdir
	sysdir=$(dirname "$("$POSTIE" --version | sed -n 's/^system config: //p')")
	if setpriv --reuid="$uid" --regid="$gid" --clear-groups stat "$sysdir" 2>&1 | grep -q 'Permission denied'; then
		skip "$sysdir is out of reach of uid $uid (make distcheck's private prefix)"
	fi
}
