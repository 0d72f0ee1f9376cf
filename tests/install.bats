#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# install.bats: what `make install` puts where and what `make uninstall` takes away, from a fresh
# out-of-tree build of the tree under test, plain, with --enable-sendmail-links and with
# --with-setgid-group. Everything lands under $BATS_FILE_TMPDIR (DESTDIR, or a prefix there):
# nothing is ever installed on the machine itself.

load helpers

# One build directory for the file; each test configures it the way it needs. Reconfiguring
# recompiles only when config.h changes, so the suite costs about one build.
setup_file() {
	export BUILD=$BATS_FILE_TMPDIR/build SRC=$POSTIE_SRCDIR
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	# the make that runs this suite must not hand its variables and jobs to the builds here
	unset MAKEFLAGS MFLAGS MAKELEVEL
	# A source tree configured in place cannot also be built out of tree: build a copy of
	# what it distributes instead.
	if [[ -f $POSTIE_SRCDIR/config.status ]]; then
		SRC=$BATS_FILE_TMPDIR/src
		make -s -C "$POSTIE_SRCDIR" distdir distdir="$SRC" >"$BATS_FILE_TMPDIR/distdir.log" 2>&1 ||
			{ cat "$BATS_FILE_TMPDIR/distdir.log" >&2; return 1; }
	fi
	mkdir -p "$BUILD"
}

# configure_build ARGS...: configures the build directory with ARGS, then builds postie.
configure_build() {
	(cd "$BUILD" && "$SRC/configure" -q -C "$@" && make -s -j2 postie) >"$BUILD/../configure.log" 2>&1 ||
		fail "configure $* failed: $(tail -20 "$BUILD/../configure.log")"
}

# Lists every file and link under $1 (not directories), one per line, as
# "path" for a file and "path -> target" for a link, sorted.
installed() {
	(cd "$1" && find . ! -type d \( -type l -printf '%P -> %l\n' -o -printf '%P\n' \) | LC_ALL=C sort)
}

# The files of a plain install with prefix /usr, relative to DESTDIR.
plain_files() {
	printf '%s\n' \
		usr/bin/postie \
		usr/share/bash-completion/completions/postie \
		usr/share/fish/vendor_completions.d/postie.fish \
		usr/share/man/man1/postie.1 \
		usr/share/man/man5/postie.conf.5 \
		usr/share/zsh/site-functions/_postie
}

@test "make install puts postie, both man pages and the three completions in their places and nothing else" {
	configure_build --prefix=/usr
	run make -C "$BUILD" install DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_success
	run installed "$BATS_TEST_TMPDIR/d"
	assert_output "$(plain_files)"
	run stat -c '%a' "$BATS_TEST_TMPDIR/d/usr/bin/postie"
	assert_output 755
	cmp "$SRC/man/postie.1" "$BATS_TEST_TMPDIR/d/usr/share/man/man1/postie.1"
	cmp "$SRC/completions/_postie" "$BATS_TEST_TMPDIR/d/usr/share/zsh/site-functions/_postie"
}

@test "make uninstall removes every file make install put there and leaves only directories" {
	configure_build --prefix=/usr
	make -C "$BUILD" -s install DESTDIR="$BATS_TEST_TMPDIR/d"
	run make -C "$BUILD" uninstall DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_success
	run installed "$BATS_TEST_TMPDIR/d"
	assert_output ''
}

@test "--enable-sendmail-links with prefix /usr links sendmail in sbindir and /usr/lib, mailq and newaliases to postie" {
	configure_build --prefix=/usr --enable-sendmail-links
	run make -C "$BUILD" install DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_success
	run installed "$BATS_TEST_TMPDIR/d"
	assert_output "$({
		plain_files
		printf '%s -> /usr/bin/postie\n' usr/bin/mailq usr/bin/newaliases usr/lib/sendmail usr/sbin/sendmail
	} | LC_ALL=C sort)"
	run make -C "$BUILD" uninstall DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_success
	run installed "$BATS_TEST_TMPDIR/d"
	assert_output ''
}

@test "the installed links reach postie's personalities: mailq lists the queue, newaliases checks the aliases" {
	configure_build --prefix="$BATS_TEST_TMPDIR/p" --enable-sendmail-links
	make -C "$BUILD" -s install
	POSTIE_RELAY=smtp://127.0.0.1:9 postie_config "aliases $BATS_TEST_TMPDIR/aliases"
	printf 'root: alice@example.org\n' >"$BATS_TEST_TMPDIR/aliases"
	run -0 "$BATS_TEST_TMPDIR/p/bin/mailq"
	assert_output 'Mail queue is empty'
	run -0 "$BATS_TEST_TMPDIR/p/bin/newaliases"
	assert_output --regexp "^postie: $BATS_TEST_TMPDIR/aliases: 1 alias"
	run -0 "$BATS_TEST_TMPDIR/p/sbin/sendmail" -bv root
	assert_output --regexp '^root\.\.\. deliverable: alice@example\.org '
}

@test "--enable-sendmail-links makes no lib/sendmail under another prefix unless --with-lib-sendmail names one" {
	configure_build --prefix=/opt/postie --enable-sendmail-links
	make -C "$BUILD" -s install DESTDIR="$BATS_TEST_TMPDIR/d"
	run installed "$BATS_TEST_TMPDIR/d"
	assert_line 'opt/postie/sbin/sendmail -> /opt/postie/bin/postie'
	assert_line 'opt/postie/bin/mailq -> /opt/postie/bin/postie'
	refute_line --partial 'lib/sendmail'
	configure_build --prefix=/opt/postie --enable-sendmail-links --with-lib-sendmail=/usr/lib/sendmail
	make -C "$BUILD" -s install DESTDIR="$BATS_TEST_TMPDIR/e"
	run installed "$BATS_TEST_TMPDIR/e"
	assert_line 'usr/lib/sendmail -> /opt/postie/bin/postie'
	configure_build --prefix=/usr --enable-sendmail-links --without-lib-sendmail
	make -C "$BUILD" -s install DESTDIR="$BATS_TEST_TMPDIR/f"
	run installed "$BATS_TEST_TMPDIR/f"
	assert_line 'usr/sbin/sendmail -> /usr/bin/postie'
	refute_line --partial 'usr/lib/sendmail'
}

@test "make install refuses to replace a sendmail that is not a link, and make uninstall leaves it" {
	configure_build --prefix=/usr --enable-sendmail-links
	mkdir -p "$BATS_TEST_TMPDIR/d/usr/sbin"
	echo 'another MTA' >"$BATS_TEST_TMPDIR/d/usr/sbin/sendmail"
	run make -C "$BUILD" install DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_failure
	assert_line --partial "postie: will not replace $BATS_TEST_TMPDIR/d/usr/sbin/sendmail: not a symbolic link"
	run make -C "$BUILD" uninstall DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_success
	run installed "$BATS_TEST_TMPDIR/d"
	assert_output usr/sbin/sendmail
	assert_equal "$(cat "$BATS_TEST_TMPDIR/d/usr/sbin/sendmail")" 'another MTA'
}

@test "--with-setgid-group, installed by root, makes postie 2755 and the existing system config 0640 of that group" {
	if [[ $(id -u) -ne 0 ]]; then
		[[ ${CI:-} == true ]] && fail "CI must run as root"
		skip "needs root"
	fi
	getent group mail >/dev/null || fail "no group mail on this machine"
	local p=$BATS_TEST_TMPDIR/p
	configure_build --prefix="$p" --with-setgid-group=mail
	mkdir -p "$p/etc"
	printf 'relay smtp://127.0.0.1:25\n' >"$p/etc/postie.conf"
	chmod 600 "$p/etc/postie.conf"
	run make -C "$BUILD" install
	assert_success
	assert_line " chgrp mail $p/bin/postie && chmod 2755 $p/bin/postie"
	run stat -c '%a %G' "$p/bin/postie" "$p/etc/postie.conf"
	assert_output $'2755 mail\n640 mail'
	assert_equal "$(cat "$p/etc/postie.conf")" 'relay smtp://127.0.0.1:25'
	run make -C "$BUILD" uninstall
	assert_success
	[[ ! -e $p/bin/postie ]]
	assert_equal "$(cat "$p/etc/postie.conf")" 'relay smtp://127.0.0.1:25'
}

@test "--with-setgid-group without a system config says how to make one" {
	[[ $(id -u) -eq 0 ]] || skip "needs root"
	configure_build --prefix="$BATS_TEST_TMPDIR/p" --with-setgid-group=mail
	run make -C "$BUILD" install
	assert_success
	assert_line "postie: no $BATS_TEST_TMPDIR/p/etc/postie.conf yet: give it group mail and mode 0640"
	[[ ! -e $BATS_TEST_TMPDIR/p/etc/postie.conf ]]
}

@test "--with-setgid-group under DESTDIR leaves the group and mode to the package, and says so" {
	configure_build --prefix=/usr --with-setgid-group
	run make -C "$BUILD" install DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_success
	assert_line 'postie: DESTDIR is set: the package makes /usr/bin/postie setgid postie'
	run stat -c '%a' "$BATS_TEST_TMPDIR/d/usr/bin/postie"
	assert_output 755
	run installed "$BATS_TEST_TMPDIR/d"
	assert_output "$(plain_files)"
}

@test "--with-setgid-group with a group that does not exist warns and installs postie 0755" {
	local group=nosuchgroup$$
	! getent group "$group" >/dev/null || skip "group $group exists"
	configure_build --prefix="$BATS_TEST_TMPDIR/p" --with-setgid-group="$group"
	run make -C "$BUILD" install
	assert_success
	assert_line "postie: warning: $BATS_TEST_TMPDIR/p/bin/postie is not setgid $group (not root, or no such group)"
	run stat -c '%a' "$BATS_TEST_TMPDIR/p/bin/postie"
	assert_output 755
}

@test "make install by root creates the system queue: the spool 0755, the maildrop 1733, refused/ 0700, all root's" {
	[[ $(id -u) -eq 0 ]] || { [[ ${CI:-} == true ]] && fail "CI must run as root"; skip "needs root"; }
	local p=$BATS_TEST_TMPDIR/p
	configure_build --prefix="$p"
	run make -C "$BUILD" install
	assert_success
	assert_line " chown root:root $p/var/spool/postie $p/var/spool/postie/maildrop $p/var/spool/postie/refused"
	assert_line " chmod 0755 $p/var/spool/postie; chmod 1733 $p/var/spool/postie/maildrop; chmod 0700 $p/var/spool/postie/refused"
	run stat -c '%a %U %G %n' "$p/var/spool/postie" "$p/var/spool/postie/maildrop" "$p/var/spool/postie/refused"
	assert_output "$(printf '%s\n' "755 root root $p/var/spool/postie" "1733 root root $p/var/spool/postie/maildrop" \
		"700 root root $p/var/spool/postie/refused")"
	run "$p/bin/postie" --version
	assert_line "system queue:  $p/var/spool/postie (maildrop $p/var/spool/postie/maildrop)"
	# the OAuth2 token state: root's, the group postie's (or root's while there is none), 02770
	local g=root
	if getent group postie >/dev/null; then g=postie; fi
	run stat -c '%a %U %G' "$p/var/lib/postie/oauth2"
	assert_output "2770 root $g"
	run stat -c '%a %U' "$p/var/lib/postie"
	assert_output "755 root"
	# make uninstall leaves the queue: it may hold mail
	run make -C "$BUILD" uninstall
	assert_success
	[[ -d $p/var/spool/postie/maildrop ]]
}

@test "make install under DESTDIR sets the system queue's modes and leaves its owner to the package" {
	configure_build --prefix=/usr --localstatedir=/var
	run make -C "$BUILD" install DESTDIR="$BATS_TEST_TMPDIR/d"
	assert_success
	refute_line --partial 'chown'
	run stat -c '%a' "$BATS_TEST_TMPDIR/d/var/spool/postie" "$BATS_TEST_TMPDIR/d/var/spool/postie/maildrop" \
		"$BATS_TEST_TMPDIR/d/var/spool/postie/refused"
	assert_output $'755\n1733\n700'
	run stat -c '%a' "$BATS_TEST_TMPDIR/d/var/lib/postie/oauth2"
	assert_output 2770
}

@test "make install by root with --with-setgid-group gives the OAuth2 token state directory that group, 02770" {
	[[ $(id -u) -eq 0 ]] || { [[ ${CI:-} == true ]] && fail "CI must run as root"; skip "needs root"; }
	local p=$BATS_TEST_TMPDIR/p
	configure_build --prefix="$p" --with-setgid-group=mail
	run make -C "$BUILD" install
	assert_success
	assert_line " chown root:mail $p/var/lib/postie/oauth2"
	assert_line " chmod 2770 $p/var/lib/postie/oauth2"
	run stat -c '%a %U %G' "$p/var/lib/postie/oauth2"
	assert_output "2770 root mail"
}
