#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Mail that cron, at, sudo, fail2ban and logwatch address to local names reaches real mailboxes:
# aliases expand the envelope only, as in Postfix and sendmail, and the header's local names are
# qualified in place with every other byte kept: no alias target is ever shown in the header.

load helpers
load postie

setup_file() { fixture_start; }
teardown_file() { fixture_stop; }
setup() {
	fixture_reset
	A=$BATS_TEST_TMPDIR/aliases
	cat >"$A" <<'EOT'
# system aliases
postmaster: root
root: admin@example.org, ops
ops: oncall@example.org,
  backup@example.org
loop1: loop2
loop2: loop1, looper@example.org
www-data: root
pipe: |/usr/bin/evil, real@example.org
file: /tmp/evil-file
inc: :include:/etc/evil
EOT
	postie_config "aliases $A"
}

rcpts() { fixture_envelope "${1:-1}" | sed -n 's/^RCPT TO://p'; }

@test "an alias with several targets, nested, in the order of the file, without duplicates" {
	message 'Subject: x\n\nbody\n'
	post 0 -f a@example.org root postmaster ops
	run rcpts
	assert_output $'<admin@example.org>\n<oncall@example.org>\n<backup@example.org>'
}

@test "a loop stops, and the looping name itself is delivered, qualified" {
	message 'Subject: x\n\nbody\n'
	post 0 -f a@example.org loop1
	run rcpts
	assert_output $'<loop1@example.net>\n<looper@example.org>'
}

@test "default: catches any local name without an alias" {
	printf 'default: catchall@example.org\nroot: admin@example.org\n' >"$A"
	message 'Subject: x\n\nbody\n'
	post 0 -f a@example.org nobody-here root
	run rcpts
	assert_output $'<catchall@example.org>\n<admin@example.org>'
}

@test "pipe, file and :include: targets are refused with a warning and never used" {
	message 'Subject: x\n\nbody\n'
	post 0 -f a@example.org pipe
	assert_output --partial 'postie: warning: '
	assert_output --partial '|/usr/bin/evil'
	run rcpts
	assert_output '<real@example.org>'
	[ ! -e /tmp/evil-file ]
}

@test "names @ a local domain go through aliases too; other domains do not" {
	message 'Subject: x\n\nbody\n'
	post 0 -f a@example.org root@localhost ops@example.org
	run rcpts
	assert_output $'<admin@example.org>\n<oncall@example.org>\n<backup@example.org>\n<ops@example.org>'
}

@test "local-domains replaces the default list" {
	postie_config "aliases $A" 'local-domains example.net, intranet.example'
	message 'Subject: x\n\nbody\n'
	post 0 -f a@example.org root@intranet.example root@localhost
	run rcpts
	assert_output $'<admin@example.org>\n<oncall@example.org>\n<backup@example.org>\n<root@localhost>'
}

@test "-f root and -f www-data are qualified, never aliased" {
	message 'Subject: x\n\nbody\n'
	post 0 -f www-data b@example.org
	assert_envelope "EHLO example.net" "MAIL FROM:<www-data@example.net>" "RCPT TO:<b@example.org>"
	post 0 -f root@localhost b@example.org
	assert_envelope -n 2 "EHLO example.net" "MAIL FROM:<root@example.net>" "RCPT TO:<b@example.org>"
}

@test "cron's From: root (Cron Daemon) and To: root are qualified, the rest kept byte for byte" {
	message 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> /usr/local/bin/backup\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nX-Cron-Env: <SHELL=/bin/sh>\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <c@host>\n\nbackup done\n'
	post 0 -FCronDaemon -i -B8BITMIME -oem root
	assert_data 'From: root@example.net (Cron Daemon)\r\nTo: root@example.net\r\nSubject: Cron <root@host> /usr/local/bin/backup\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-Cron-Env: <SHELL=/bin/sh>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <c@host>\r\n\r\nbackup done\r\n'
	run rcpts
	assert_output $'<admin@example.org>\n<oncall@example.org>\n<backup@example.org>'
}

@test "sudo's From: alice becomes alice's qualified address" {
	message 'To: root\nFrom: alice\nSubject: *** SECURITY information for host ***\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <s@host>\n\nalice : 3 incorrect password attempts\n'
	post 0 -t -f alice
	run received_header
	assert_line 'From: alice@example.net'
	assert_line 'To: root@example.net'
	assert_envelope "EHLO example.net" "MAIL FROM:<alice@example.net>" "RCPT TO:<admin@example.org>" \
		"RCPT TO:<oncall@example.org>" "RCPT TO:<backup@example.org>"
}

@test "fail2ban's To: root@localhost becomes root's qualified address, the targets the envelope" {
	message 'Subject: [Fail2Ban] sshd: banned 192.0.2.7\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <f@host>\nFrom: Fail2Ban <fail2ban@example.net>\nTo: root@localhost\n\nbanned\n'
	post 0 -t
	run received_header
	assert_line 'To: root@example.net'
	assert_line 'From: Fail2Ban <fail2ban@example.net>'
	run rcpts
	assert_output $'<admin@example.org>\n<oncall@example.org>\n<backup@example.org>'
}

@test "logwatch's From: Logwatch, which has no address, becomes Logwatch <envelope sender>" {
	message 'To: root\nFrom: Logwatch\nSubject: Logwatch for host (Linux)\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <l@host>\n\nreport\n'
	post 0 -t -f root
	run received_header
	assert_line 'From: Logwatch <root@example.net>'
}

@test "display names, comments and other addresses around a local name are kept" {
	message 'To: "The Admin" <root>, other@example.org (keep me)\nCc: Ops Team <ops@localhost>\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <d@host>\nFrom: a@example.org\n\nbody\n'
	post 0 -t
	run received_header
	assert_line 'To: "The Admin" <root@example.net>, other@example.org (keep me)'
	assert_line 'Cc: Ops Team <ops@example.net>'
}

@test "rewrite-headers no leaves the header alone and still expands the envelope" {
	postie_config "aliases $A" 'rewrite-headers no'
	message 'From: root (Cron Daemon)\nTo: root\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <c@host>\n\nbody\n'
	post 0 -t
	run received_header
	assert_line 'From: root (Cron Daemon)'
	assert_line 'To: root'
	run rcpts
	assert_output $'<admin@example.org>\n<oncall@example.org>\n<backup@example.org>'
}

# The alias of the report: a hidden archive address that no recipient should see.
hidden_alias() { printf 'root: admin@example.org, audit-archive@hidden.example\n' >"$A"; }
HIDDEN_RCPTS=("RCPT TO:<admin@example.org>" "RCPT TO:<audit-archive@hidden.example>")

@test "-t: To: root is delivered as To: root@example.net; the alias targets go in the envelope only" {
	hidden_alias
	message 'From: a@example.org\nTo: root\nSubject: x\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <h@host>\n\nbody\n'
	post 0 -t -f a@example.org
	assert_data 'From: a@example.org\r\nTo: root@example.net\r\nSubject: x\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <h@host>\r\n\r\nbody\r\n'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "${HIDDEN_RCPTS[@]}"
}

@test "an argument recipient root: the header's To: root is qualified, not expanded" {
	hidden_alias
	message 'From: a@example.org\nTo: root\nSubject: x\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <h@host>\n\nbody\n'
	post 0 -f a@example.org root
	assert_data 'From: a@example.org\r\nTo: root@example.net\r\nSubject: x\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <h@host>\r\n\r\nbody\r\n'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "${HIDDEN_RCPTS[@]}"
}

@test "compose mode: postie -s subj root writes To: root@example.net" {
	hidden_alias
	message 'body\n'
	post 0 -s subj --header 'Date: Thu, 26 Nov 2026 10:00:00 +0000' --header 'Message-ID: <c@host>' root
	run received_header
	assert_output "$(printf '%s\n' "From: $(id -un)@example.net" 'To: root@example.net' 'Subject: subj' \
		'Date: Thu, 26 Nov 2026 10:00:00 +0000' 'Message-ID: <c@host>' 'MIME-Version: 1.0' \
		'Content-Type: text/plain; charset=us-ascii' 'Content-Transfer-Encoding: 7bit')"
	assert_envelope "EHLO example.net" "MAIL FROM:<$(id -un)@example.net>" "${HIDDEN_RCPTS[@]}"
}

@test "a bare name that is no alias is qualified next to one that is" {
	hidden_alias
	message 'From: a@example.org\nTo: carol, root\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <h@host>\n\nbody\n'
	post 0 -t -f a@example.org
	assert_data 'From: a@example.org\r\nTo: carol@example.net, root@example.net\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <h@host>\r\n\r\nbody\r\n'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<carol@example.net>" \
		"${HIDDEN_RCPTS[@]}"
}

@test "a 60-target alias leaves To: root@example.net and gives 60 RCPT TO" {
	local want=() i
	{
		printf 'root: t1@example.org'
		for i in $(seq 2 60); do printf ',\n  t%d@example.org' "$i"; done
		printf '\n'
	} >"$A"
	for i in $(seq 1 60); do want+=("RCPT TO:<t$i@example.org>"); done
	message 'From: a@example.org\nTo: root\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <h@host>\n\nbody\n'
	post 0 -t -f a@example.org
	assert_data 'From: a@example.org\r\nTo: root@example.net\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <h@host>\r\n\r\nbody\r\n'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "${want[@]}"
}

@test "Cc: root and Reply-To: root are qualified, never expanded" {
	hidden_alias
	message 'From: a@example.org\nTo: b@example.org\nCc: root\nReply-To: root\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <h@host>\n\nbody\n'
	post 0 -t -f a@example.org
	assert_data 'From: a@example.org\r\nTo: b@example.org\r\nCc: root@example.net\r\nReply-To: root@example.net\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <h@host>\r\n\r\nbody\r\n'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.org>" \
		"${HIDDEN_RCPTS[@]}"
}

@test "Resent-To: root and Resent-Cc: root@localhost are qualified, never expanded" {
	hidden_alias
	message 'Resent-From: r@example.org\nResent-To: root\nResent-Cc: root@localhost\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\nResent-Message-ID: <r@host>\nFrom: a@example.org\nTo: b@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <h@host>\n\nbody\n'
	post 0 -t -f a@example.org
	assert_data 'Resent-From: r@example.org\r\nResent-To: root@example.net\r\nResent-Cc: root@example.net\r\nResent-Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nResent-Message-ID: <r@host>\r\nFrom: a@example.org\r\nTo: b@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <h@host>\r\n\r\nbody\r\n'
	assert_envelope "EHLO example.net" "MAIL FROM:<a@example.org>" "${HIDDEN_RCPTS[@]}"
}

@test "a broken aliases file exits 78 naming file and line" {
	printf 'root admin@example.org\n' >"$A"
	message 'Subject: x\n\nbody\n'
	post 78 root
	assert_output --regexp "^postie: $A:1: "
	[ "$(fixture_count)" -eq 0 ]
}
