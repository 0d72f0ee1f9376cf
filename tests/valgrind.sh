#!/bin/sh
# SPDX-License-Identifier: ISC
# valgrind.sh: runs bats suites with postie under valgrind memcheck (make check-valgrind).
#
#   POSTIE=path/to/postie [POSTIE_SRCDIR=top] [BATS=bats] [VALGRIND=valgrind] \
#       tests/valgrind.sh SUITE.bats...
#
# POSTIE is replaced, for the suites, by a wrapper that runs the real binary under memcheck
# with its reports in files (never on stderr, which the suites compare line by line) and exit
# status 99 when memcheck found an invalid access or a definite or indirect leak. A suite fails
# when a test fails; the run fails when any test failed or any report is not empty.
#
# Tests whose timing a valgrind run cannot keep (a signal sent within half a second of the
# start) are left out by name: see EXCLUDE below.
set -u

: "${POSTIE:?POSTIE must name the postie binary under test}"
BATS=${BATS:-bats}
VALGRIND=${VALGRIND:-valgrind}
here=$(cd "$(dirname "$0")" && pwd)
POSTIE_SRCDIR=${POSTIE_SRCDIR:-$(dirname "$here")}
export POSTIE_SRCDIR

if [ $# -eq 0 ]; then
	echo "usage: POSTIE=path/to/postie $0 SUITE.bats..." >&2
	exit 2
fi
if ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "valgrind.sh: $VALGRIND is not installed" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
real=$(cd "$(dirname "$POSTIE")" && pwd)/$(basename "$POSTIE")
[ -x "$real" ] || { echo "valgrind.sh: $real is not executable" >&2; exit 2; }

# Test names (exact) that cannot run under valgrind, and why; VALGRIND_EXCLUDE replaces them.
# "SIGTERM while...": the signal comes 0.5 s after the start, while valgrind is still loading
# postie and before its handler is installed, so the default action kills it silently.
# (queue.bats' "SIGTERM after the input was read" and "two concurrent postie -q" are timed
# too, but with enough slack: they pass under valgrind and stay in.)
EXCLUDE=${VALGRIND_EXCLUDE-'SIGTERM while the input is still being read: nothing queued, non-zero exit'}

work=$(mktemp -d "${TMPDIR:-/tmp}/postie-valgrind.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin" "$work/argv0" "$work/logs"
supp=
[ -f "$here/valgrind.supp" ] && supp="--suppressions=$here/valgrind.supp"

# The wrapper keeps argv[0] (postie dispatches on it: mailq, sendmail, newaliases): it runs the
# real binary through a link of the same name as the one it was called by.
cat >"$work/bin/postie" <<EOF
#!/bin/sh
name=\${0##*/}
link="$work/argv0/\$name"
[ -e "\$link" ] || ln -s "$real" "\$link" 2>/dev/null || [ -e "\$link" ] || link="$real"
exec "$VALGRIND" --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \\
	--error-exitcode=99 --track-fds=no $supp \\
	--log-file="$work/logs/vg.%p.log" "\$link" "\$@"
EOF
chmod 755 "$work/bin/postie"

# An ERE that matches exactly the test names of a suite that are not excluded.
filter_for() {
	sed -n 's/^@test "\(.*\)" {$/\1/p' "$1" | sed 's/\\"/"/g' | while IFS= read -r name; do
		printf '%s\n' "$EXCLUDE" | grep -qxF -- "$name" && continue
		printf '%s\n' "$name" | sed 's/[][\\.^$*+?(){}|]/\\&/g'
	done | paste -sd '|' -
}

failed_suites=0
total=0
bad=0
for suite in "$@"; do
	filter=$(filter_for "$suite")
	skipped=$(sed -n 's/^@test "\(.*\)" {$/\1/p' "$suite" | sed 's/\\"/"/g' |
		grep -cxF -- "$EXCLUDE")
	echo "# valgrind: $suite ($skipped excluded)"
	POSTIE=$work/bin/postie "$BATS" --tap -f "^($filter)\$" "$suite" >"$work/tap" 2>&1
	rc=$?
	cat "$work/tap"
	n=$(grep -c '^ok ' "$work/tap")
	f=$(grep -c '^not ok ' "$work/tap")
	total=$((total + n + f))
	bad=$((bad + f))
	[ "$rc" -eq 0 ] || failed_suites=$((failed_suites + 1))
done

reports=0
for log in "$work"/logs/vg.*.log; do
	[ -s "$log" ] || continue
	reports=$((reports + 1))
	echo "# --- memcheck report ${log##*/}:"
	sed 's/^/# /' "$log"
done
echo "# valgrind: $total tests, $bad failed, $failed_suites suites failed, $reports memcheck reports"
[ "$failed_suites" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$reports" -eq 0 ]
