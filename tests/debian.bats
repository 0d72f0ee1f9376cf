#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# debian.bats: debian/ builds the postie and postie-mta packages; apt-get installs both, which
# replaces the machine's mail transport agent; `sendmail -t` then delivers through the installed
# postie to the fixture; purging both takes everything away again.
#
# Not part of `make check`: it changes the machine, so it runs only where that is acceptable,
# with CI=true or POSTIE_DEBIAN_TEST=1, as root (or with sudo). DEB_BUILD_OPTIONS is passed on:
# CI sets nocheck because its other builds have run the test suite already.

load helpers

enabled() {
	[[ ${CI:-} == true || ${POSTIE_DEBIAN_TEST:-} == 1 ]]
}

setup_file() {
	enabled || return 0
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	export DEBS=$BATS_FILE_TMPDIR/src
	# postinst creates the group postie and purging keeps it, as Debian does; the test leaves
	# the machine's groups as it found them
	GROUP_EXISTED=no
	getent group postie >/dev/null && GROUP_EXISTED=yes
	export GROUP_EXISTED
	fixture_start
}

teardown_file() {
	enabled || return 0
	# a failed test must not leave the packages installed
	if dpkg-query -W -f='${Status}\n' postie postie-mta 2>/dev/null | grep -q 'ok installed'; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq postie postie-mta >/dev/null 2>&1
	fi
	if [[ ${GROUP_EXISTED:-yes} == no ]] && getent group postie >/dev/null; then
		as_root groupdel postie
	fi
	fixture_stop
}

setup() {
	enabled || skip "installs postie-mta in place of the machine's MTA: set POSTIE_DEBIAN_TEST=1 where that is acceptable"
	fixture_reset
}

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	else
		sudo -n "$@"
	fi
}

# The one file a glob names, or a failure.
the_deb() {
	# shellcheck disable=SC2206 # $1 is a glob on purpose
	local files=("$DEBS"/$1)
	[[ ${#files[@]} -eq 1 && -f ${files[0]} ]] || fail "no single $1 in $DEBS (run the build test first)"
	printf '%s\n' "${files[0]}"
}

# The paths a package holds, without its directories and /usr/share/doc, links as "path -> target".
deb_contents() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ {
		path = $6; sub(/^\./, "", path)
		if (path ~ /^\/usr\/share\/doc\//) next
		print path ($7 == "->" ? " -> " $8 : "")
	}' | LC_ALL=C sort
}

@test "dpkg-buildpackage -us -uc -b builds postie and postie-mta from a copy of the tree" {
	require_cmd dpkg-buildpackage
	require_cmd dh
	mkdir -p "$DEBS/postie"
	# the tree as it is, without VCS data and without builds made inside it
	tar -C "$POSTIE_SRCDIR" --exclude=./.git --exclude='./build-*' --exclude=./_build \
		--exclude=./autom4te.cache --exclude=./debian/tmp --exclude=./debian/.debhelper \
		--exclude='./debian/postie*/' --exclude=./debian/files -cf - . | tar -C "$DEBS/postie" -xf -
	if [[ -f $DEBS/postie/config.status ]]; then
		make -C "$DEBS/postie" -s distclean >/dev/null
	fi
	cd "$DEBS/postie"
	run dpkg-buildpackage -us -uc -b
	[[ $status -eq 0 ]] || { echo "$output" | tail -60; fail "dpkg-buildpackage failed"; }
	the_deb 'postie_*.deb'
	the_deb 'postie-mta_*_all.deb'
}

@test "the postie package holds the program, both manuals, the three completions, the queue timer and its path unit" {
	run deb_contents "$(the_deb 'postie_*.deb')"
	assert_output "$(printf '%s\n' /lib/systemd/system/postie-queue.path \
		/lib/systemd/system/postie-queue.service \
		/lib/systemd/system/postie-queue.timer \
		/usr/bin/postie \
		/usr/share/bash-completion/completions/postie \
		/usr/share/fish/vendor_completions.d/postie.fish \
		/usr/share/man/man1/postie.1.gz \
		/usr/share/man/man5/postie.conf.5.gz \
		/usr/share/zsh/vendor-completions/_postie)"
}

@test "the postie-mta package replaces mail-transport-agent with links to postie" {
	local deb
	deb=$(the_deb 'postie-mta_*_all.deb')
	run dpkg-deb -f "$deb" Provides Conflicts Replaces Depends
	assert_line 'Provides: mail-transport-agent'
	assert_line 'Conflicts: mail-transport-agent'
	assert_line 'Replaces: mail-transport-agent'
	assert_line --regexp '^Depends: postie \(>= '
	run deb_contents "$deb"
	assert_output "$(printf '%s\n' '/usr/bin/mailq -> postie' '/usr/bin/newaliases -> postie' \
		'/usr/lib/sendmail -> ../bin/postie' '/usr/sbin/sendmail -> ../bin/postie' \
		'/usr/share/man/man1/mailq.1.gz -> postie.1.gz' \
		'/usr/share/man/man1/newaliases.1.gz -> postie.1.gz' \
		'/usr/share/man/man8/sendmail.8.gz -> ../man1/postie.1.gz' | LC_ALL=C sort)"
}

@test "apt-get installs both packages: postie is setgid postie and sendmail, mailq and newaliases lead to it" {
	local postie mta
	postie=$(the_deb 'postie_*.deb')
	mta=$(the_deb 'postie-mta_*_all.deb')
	run as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$postie" "$mta"
	[[ $status -eq 0 ]] || { echo "$output" | tail -40; fail "apt-get install failed"; }
	run dpkg-query -W -f='${Package} ${Status}\n' postie postie-mta
	assert_output $'postie install ok installed\npostie-mta install ok installed'
	run stat -c '%a %U %G' /usr/bin/postie
	assert_output '2755 root postie'
	for link in /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases; do
		assert_equal "$(readlink -f "$link")" /usr/bin/postie
	done
	run dpkg-query -S /usr/sbin/sendmail
	assert_output 'postie-mta: /usr/sbin/sendmail'
	# root's queue is delivered every 5 minutes: the timer is enabled (started too where
	# systemd runs; a container has none)
	[[ -L /etc/systemd/system/timers.target.wants/postie-queue.timer ]] || fail "postie-queue.timer is not enabled"
	run grep -x 'ExecStart=/usr/bin/postie -q --due' /lib/systemd/system/postie-queue.service
	assert_success
	if command -v systemd-analyze >/dev/null; then
		run systemd-analyze verify /lib/systemd/system/postie-queue.timer
		assert_output ''
	fi
	# a user's handed-over message starts the run within seconds: the path unit watches the
	# maildrop, which only submitters write to
	[[ -L /etc/systemd/system/paths.target.wants/postie-queue.path ]] || fail "postie-queue.path is not enabled"
	run grep -x 'DirectoryNotEmpty=/var/spool/postie/maildrop' /lib/systemd/system/postie-queue.path
	assert_success
	if command -v systemd-analyze >/dev/null; then
		run systemd-analyze verify /lib/systemd/system/postie-queue.path
		assert_output ''
	fi
	# the system queue, with its modes
	run stat -c '%a %U %G %n' /var/spool/postie /var/spool/postie/maildrop /var/spool/postie/refused
	assert_output "$(printf '%s\n' '755 root root /var/spool/postie' '1733 root root /var/spool/postie/maildrop' \
		'700 root root /var/spool/postie/refused')"
	# the system's OAuth2 token state: root's, the group postie's, 02770
	run stat -c '%a %U %G %n' /var/lib/postie /var/lib/postie/oauth2
	assert_output "$(printf '%s\n' '755 root root /var/lib/postie' '2770 root postie /var/lib/postie/oauth2')"
}

@test "the installed postie: a user who cannot read /etc/postie.conf hands the message to the system queue, root's run delivers it" {
	[[ -x /usr/bin/postie ]] || fail "postie is not installed (run the install test first)"
	# the machine's own file, if any, comes back afterwards
	[[ ! -e /etc/postie.conf ]] || as_root cp -a /etc/postie.conf "$BATS_TEST_TMPDIR/postie.conf.saved"
	printf 'relay smtp://127.0.0.1:%s\ndomain sys.example\nsyslog no\n' "$SMTP_PORT" | as_root tee /etc/postie.conf >/dev/null
	as_root chmod 600 /etc/postie.conf
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin HOME=/nonexistent \
		bash -c 'printf "Subject: dropped\n\nx\n" | /usr/sbin/sendmail b@example.org'
	assert_output --regexp "^postie: /etc/postie.conf: Permission denied; handed to the system queue as [0-9a-f.]+, delivered by root's 'postie -q'$"
	run -0 as_root env -i PATH=/usr/bin:/bin /usr/bin/postie -q
	run fixture_envelope
	assert_line 'MAIL FROM:<nobody@sys.example>'
	as_root rm -f /etc/postie.conf
	[[ ! -e $BATS_TEST_TMPDIR/postie.conf.saved ]] || as_root cp -a "$BATS_TEST_TMPDIR/postie.conf.saved" /etc/postie.conf
}

@test "echo x | sendmail -t delivers through the installed postie to the fixture" {
	[[ -x /usr/sbin/sendmail ]] || fail "sendmail is not installed (run the install test first)"
	postie_config
	run -0 bash -c "{ printf 'To: alice@example.org\nSubject: debian\n\n'; echo x; } | /usr/sbin/sendmail -t"
	assert_output ''
	run fixture_envelope
	assert_line 'RCPT TO:<alice@example.org>'
	run bash -c "tr -d '\r' <'$(fixture_data_file)' | sed '1,/^\$/d'"
	assert_output x
	run -0 /usr/lib/sendmail -bv root
	assert_output --regexp '^root\.\.\. deliverable: root@example\.net '
	run -0 mailq
	assert_output 'Mail queue is empty'
}

@test "purging both packages removes the program, the links and the setgid override" {
	dpkg-query -W postie >/dev/null 2>&1 || fail "postie is not installed (run the install test first)"
	run as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq postie postie-mta
	assert_success
	for path in /usr/bin/postie /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases \
		/usr/share/man/man1/postie.1.gz /usr/share/bash-completion/completions/postie; do
		[[ ! -e $path && ! -L $path ]] || fail "$path is still there"
	done
	for path in /lib/systemd/system/postie-queue.timer /etc/systemd/system/timers.target.wants/postie-queue.timer \
		/lib/systemd/system/postie-queue.path /etc/systemd/system/paths.target.wants/postie-queue.path; do
		[[ ! -e $path && ! -L $path ]] || fail "$path is still there"
	done
	run dpkg-statoverride --list /usr/bin/postie
	assert_output ''
	# the OAuth2 tokens go with the package
	[[ ! -e /var/lib/postie/oauth2 ]] || fail "/var/lib/postie/oauth2 is still there"
	run getent group postie
	assert_success
}
