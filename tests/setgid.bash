# SPDX-License-Identifier: ISC
# setgid.bash: the attacker's seat. A scratch system configuration laid over the compiled-in
# one in a private mount namespace, a setgid copy of postie, and `as_nobody` to run a command as
# the user nobody against both. Root and mount namespaces only (CI runs as root); the machine's
# own /etc is never touched. Load after helpers and postie; call setgid_setup from setup() after
# fixture_reset, and setgid_teardown from teardown().
#
#   system_conf LINES...     writes the scratch system file, root:postie 0640
#   as_nobody [VAR=value...] CMD ARGS...   runs CMD as nobody:nogroup with a clean environment
#                            (PATH, HOME=$WORLD/home, XDG_STATE_HOME=$WORLD/state, and the VARs)
#   $WORLD/postie            the setgid copy;  $WORLD/msg  a message nobody can read
#   $SYSFILE                 the system file's path as postie sees it

SETGID_GID=4242	# the group postie, in the namespace's own /etc/group

setgid_setup() {
	if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
		[ "${CI:-}" = true ] && { echo "CI must run as root with mount namespaces"; return 1; }
		skip "needs root and mount namespaces"
	fi
	skip_unless_sysconfdir_reachable "$(id -u nobody)" "$(getent group nogroup | cut -d: -f3)"
	SYSFILE=$("$POSTIE" --version | sed -n 's/^system config: //p')
	SYSDIR=$(dirname "$SYSFILE")
	SCRATCH=$BATS_TEST_TMPDIR/sysconf
	mkdir -p "$SCRATCH"
	# a system file in /etc itself (a package build): the scratch copy keeps the rest of /etc
	[ "$SYSDIR" != /etc ] || cp -a /etc/. "$SCRATCH/" 2>/dev/null || true
	rm -f "$SCRATCH/postie.conf"
	chmod 755 "$SCRATCH" "$BATS_TEST_TMPDIR"
	cp /etc/group "$BATS_TEST_TMPDIR/group"
	printf 'postie:x:%s:\n' "$SETGID_GID" >>"$BATS_TEST_TMPDIR/group"
	# outside the test's tree, which nobody cannot traverse under bats' private tmpdir
	WORLD=$(mktemp -d /tmp/postie-setgid.XXXXXX)
	chmod 755 "$WORLD"
	cp "$POSTIE" "$WORLD/postie"
	chgrp "$SETGID_GID" "$WORLD/postie"
	chmod 2755 "$WORLD/postie"
	mkdir -m 700 "$WORLD/state" "$WORLD/home"
	chown nobody:nogroup "$WORLD/state" "$WORLD/home"
	cp "$BATS_TEST_TMPDIR/msg" "$WORLD/msg" 2>/dev/null || printf 'Subject: setgid\n\nbody\n' >"$WORLD/msg"
	chmod 644 "$WORLD/msg"
	export SYSFILE SYSDIR SCRATCH WORLD
}

setgid_teardown() {
	[ -n "${WORLD:-}" ] && rm -rf "$WORLD"
	return 0
}

# system_conf LINES...: the scratch system file, one argument a line, readable by root and the
# group postie only (as make install leaves it).
system_conf() {
	printf '%s\n' "$@" >"$SCRATCH/postie.conf"
	chgrp "$SETGID_GID" "$SCRATCH/postie.conf"
	chmod 640 "$SCRATCH/postie.conf"
}

# as_nobody [VAR=value...] CMD ARGS...
as_nobody() {
	mkdir -p "$SYSDIR" 2>/dev/null || true
	unshare -m bash -c 'mount --bind "$2" "$3" && mount --bind "$1" /etc/group && shift 3 && exec "$@"' _ \
		"$BATS_TEST_TMPDIR/group" "$SCRATCH" "$SYSDIR" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -i PATH=/usr/bin:/bin HOME="$WORLD/home" XDG_STATE_HOME="$WORLD/state" "$@"
}

# as_nobody_file NAME TEXT: a file of nobody's own under $WORLD (printf-interpreted), mode 0600.
as_nobody_file() {
	# shellcheck disable=SC2059 # TEXT is printf-interpreted on purpose
	printf "$2" >"$WORLD/$1"
	chown nobody:nogroup "$WORLD/$1"
	chmod 600 "$WORLD/$1"
}

# as_root_in_namespace CMD ARGS...: CMD as root, with the scratch system file in place.
as_root_in_namespace() {
	mkdir -p "$SYSDIR" 2>/dev/null || true
	unshare -m bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ "$SCRATCH" "$SYSDIR" "$@"
}

# For suites with a scratch $(localstatedir) ($WORLD/var mounted on $VARDIR; tests/sysqueue.bats,
# tests/broker.bats):
# in_system CMD...: CMD in a namespace with the scratch system file, group file and
# $(localstatedir).
in_system() {
	unshare -m bash -c 'mount --bind "$1" "$2" && mount --bind "$3" "$4" &&
		mount --bind "$5" /etc/group && shift 5 && exec "$@"' _ \
		"$SCRATCH" "$SYSDIR" "$WORLD/var" "$VARDIR" "$BATS_TEST_TMPDIR/group" "$@"
}

# as_user USER [--no-new-privs] [VAR=value...] CMD...: CMD as USER and its own group only, with a
# clean environment: PATH and HOME=/nonexistent (a VAR may override it).
as_user() {
	local user=$1 nnp=()
	shift
	if [ "${1:-}" = --no-new-privs ]; then nnp=(--no-new-privs); shift; fi
	in_system setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups "${nnp[@]}" \
		env -i PATH=/usr/bin:/bin HOME=/nonexistent "$@"
}

# as_root CMD...: CMD as root with the system file only (no file of root's own).
as_root() {
	in_system env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root "$@"
}
