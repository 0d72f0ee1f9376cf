#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# completions.bats: the man page and the bash, zsh and fish completions name exactly the options
# of `postie --help`, the page passes mandoc's lint, its COMPATIBILITY lists every sendmail
# option, and each completion works in its shell, account names after --account included.
#
# Option names are compared as sets. A single-dash word counts by its letter, so -oi counts as
# -o, -bs as -b and -q[INTERVAL] as -q; long options count by their whole name.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
bats_require_minimum_version 1.5.0 # run -N

setup() {
	POSTIE=${POSTIE:-/tmp/b/postie}
	POSTIE_SRCDIR=${POSTIE_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
	[[ -x $POSTIE ]] || fail "no postie binary at $POSTIE (set POSTIE)"
}

# A tool a test needs: skipped locally when missing, a failure under CI.
require() {
	command -v "$1" >/dev/null && return 0
	[[ ${CI:-} == true ]] && fail "$1 is not installed (CI=true: a skip would be a failure)"
	skip "$1 is not installed"
}

# Option words on stdin -> the sorted set of names.
normalize() {
	sed -E 's/^(-[^-]).*/\1/' | grep -E '^-' | LC_ALL=C sort -u
}

# The left column of the option table, and the options of the "Also accepted:" note.
help_options() {
	"$POSTIE" --help | awk '
		/^  -/ {
			line = $0
			sub(/^  /, "", line)
			split(line, col, /  +/)
			n = split(col[1], w, /[ ,]+/)
			for (i = 1; i <= n; i++)
				if (w[i] ~ /^-/)
					print w[i]
			next
		}
		/^Also accepted:/ { note = 1 }
		note {
			for (i = 1; i <= NF; i++)
				if ($i ~ /^-[A-Za-z]/) {
					t = $i
					sub(/[^-A-Za-z0-9].*$/, "", t)
					print t
				}
			if ($0 ~ /\.$/)
				note = 0
		}'
}

# Every name after Fl on an .It line of the page outside COMPATIBILITY, which also lists the
# sendmail options that postie refuses.
man_options() {
	awk '/^\.Sh/ { in_compat = ($2 == "COMPATIBILITY") }
	     !in_compat && /^\.It/ { for (i = 2; i < NF; i++) if ($i == "Fl") print $(i + 1) }' \
		"$POSTIE_SRCDIR/man/postie.1" | sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/^/-/'
}

# The .It option names of the COMPATIBILITY section only, as written (-bd, -Ac).
man_compat_options() {
	awk '/^\.Sh/ { in_compat = ($2 == "COMPATIBILITY") }
	     in_compat && /^\.It/ { for (i = 2; i < NF; i++) if ($i == "Fl") print $(i + 1) }' \
		"$POSTIE_SRCDIR/man/postie.1" | sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/^/-/'
}

# The COMPATIBILITY option names of the entries whose text starts with "Refused".
man_refused_options() {
	awk '/^\.Sh/ { in_compat = ($2 == "COMPATIBILITY") }
	     in_compat && /^\.It/ { item = $0; next }
	     in_compat && item != "" {
		if ($0 ~ /^Refused/) {
			n = split(item, w, " ")
			for (i = 2; i < n; i++) if (w[i] == "Fl") print w[i + 1]
		}
		item = ""
	     }' "$POSTIE_SRCDIR/man/postie.1" | sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/^/-/'
}

# Runs the bash completion for a command line; the last word is the one being completed.
complete_bash() {
	# shellcheck source=SCRIPTDIR/../completions/postie
	source "$POSTIE_SRCDIR/completions/postie"
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_postie postie "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
}

bash_options() {
	complete_bash postie -
}

# The option of each _arguments spec line: '(exclusions)*-name+[...]...
zsh_options() {
	grep -oE "^[[:space:]]*'(\([^)]*\))?\*?--?[A-Za-z][-A-Za-z]*" "$POSTIE_SRCDIR/completions/_postie" |
		sed -E "s/^[[:space:]]*'(\([^)]*\))?\*?//"
}

# The -s, -l and -o names of each complete line, quoted text left out.
fish_options() {
	awk '$1 == "complete" {
		gsub(/\047[^\047]*\047/, "")
		for (i = 2; i < NF; i++) {
			if ($i == "-s" || $i == "--short-option" || $i == "-o" || $i == "--old-option")
				print "-" $(i + 1)
			else if ($i == "-l" || $i == "--long-option")
				print "--" $(i + 1)
		}
	}' "$POSTIE_SRCDIR/completions/postie.fish"
}

# Fails with a diff when the options a producer names differ from those of postie --help.
assert_same_options_as_help() {
	local what=$1 producer=$2
	help_options | normalize >"$BATS_TEST_TMPDIR/help"
	"$producer" | normalize >"$BATS_TEST_TMPDIR/other"
	run diff -u --label "postie --help" --label "$what" "$BATS_TEST_TMPDIR/help" "$BATS_TEST_TMPDIR/other"
	assert_success
}

@test "the option names read from postie --help include every kind of option" {
	run bash -c "$(declare -f help_options normalize); POSTIE='$POSTIE' help_options | normalize"
	assert_success
	for opt in -t -f --from --subject --bcc --to --help --version -I --flush --due --delete --requeue --json --account -B -O -n -e -A -q; do
		assert_line -- "$opt"
	done
	refute_line -- --queue-run
	((${#lines[@]} >= 30)) || fail "only ${#lines[@]} options read from --help"
}

@test "the man page documents exactly the options of postie --help" {
	assert_same_options_as_help man/postie.1 man_options
}

@test "the man page explains in COMPATIBILITY every option --help calls ignored" {
	"$POSTIE" --help | awk '/^  -/ && /\(ignored\)$/ { print $1 }' | normalize >"$BATS_TEST_TMPDIR/ignored"
	man_compat_options | normalize >"$BATS_TEST_TMPDIR/compat"
	[[ -s $BATS_TEST_TMPDIR/ignored ]] || fail "--help marks no option ignored"
	run comm -23 "$BATS_TEST_TMPDIR/ignored" "$BATS_TEST_TMPDIR/compat"
	assert_success
	assert_output ''
}

@test "the man page lists in COMPATIBILITY every option of sendmail's command line" {
	printf '%s\n' -Ac -Am -B -ba -bC -bd -bD -bh -bH -bi -bm -bp -bP -bs -bt -bv -C -D -d -e -F -f \
		-G -h -I -i -L -m -N -n -O -o -p -Q -q -R -r -t -U -V -v -X | LC_ALL=C sort >"$BATS_TEST_TMPDIR/sendmail"
	man_compat_options | LC_ALL=C sort -u >"$BATS_TEST_TMPDIR/compat"
	run comm -23 "$BATS_TEST_TMPDIR/sendmail" "$BATS_TEST_TMPDIR/compat"
	assert_success
	assert_output ''
}

@test "every option COMPATIBILITY lists is one of postie --help or is refused as unknown with 64" {
	man_refused_options | LC_ALL=C sort -u >"$BATS_TEST_TMPDIR/refused"
	[[ $(wc -l <"$BATS_TEST_TMPDIR/refused") -ge 10 ]] || fail "only $(wc -l <"$BATS_TEST_TMPDIR/refused") refused options read"
	local opt
	while read -r opt; do
		run -64 "$POSTIE" "$opt" x@example.org </dev/null
		assert_output --regexp "^postie: (unknown option $opt|$opt: unknown mode)"
	done <"$BATS_TEST_TMPDIR/refused"
	help_options | normalize >"$BATS_TEST_TMPDIR/help"
	man_compat_options | grep -vxF -f "$BATS_TEST_TMPDIR/refused" | normalize >"$BATS_TEST_TMPDIR/accepted"
	run comm -13 "$BATS_TEST_TMPDIR/help" "$BATS_TEST_TMPDIR/accepted"
	assert_output ''
}

@test "the man page passes mandoc -Tlint, apart from links to manuals this machine lacks" {
	require mandoc
	run mandoc -Tlint "$POSTIE_SRCDIR/man/postie.1"
	# Xr lookups depend on the manuals installed where the lint runs (mandoc(1): "referenced
	# manual not found"); sendmail(8) and mail(1) are seldom installed next to postie.
	local rest
	rest=$(grep -v -e 'referenced manual not found: Xr' -e 'outdated mandoc.db lacks' <<<"$output" || :)
	assert_equal "$rest" ''
}

@test "the bash completion offers exactly the options of postie --help" {
	assert_same_options_as_help completions/postie bash_options
}

@test "the zsh completion describes exactly the options of postie --help" {
	assert_same_options_as_help completions/_postie zsh_options
}

@test "the fish completion describes exactly the options of postie --help" {
	assert_same_options_as_help completions/postie.fish fish_options
}

@test "the bash completion registers _postie for postie" {
	# shellcheck source=SCRIPTDIR/../completions/postie
	source "$POSTIE_SRCDIR/completions/postie"
	run complete -p postie
	assert_output 'complete -F _postie postie'
	declare -F _postie >/dev/null || fail "_postie is not defined"
}

@test "bash completes --su to --subject and -- to the long options" {
	run complete_bash postie --su
	assert_output -- --subject
	run complete_bash postie -i --
	assert_success
	refute_line -- -i
	assert_line -- --bcc
	assert_line -- --flush
	assert_line -- --json
	assert_line -- --account
	refute_line -- --queue-run
}

@test "bash completes the queue run and management options: --due, --delete, --requeue, -qI, -qR, -qS" {
	run complete_bash postie -q --du
	assert_output -- --due
	run complete_bash postie --del
	assert_output -- --delete
	run complete_bash postie --req
	assert_output -- --requeue
	run complete_bash postie -q
	assert_output $'-q\n-qI\n-qR\n-qS'
}

@test "zsh and fish describe --due, --delete and --requeue, and -q's selections" {
	run grep -c -e "^  '--due\[" -e "^  '(--requeue)--delete\[" -e "^  '(--delete)--requeue\[" "$POSTIE_SRCDIR/completions/_postie"
	assert_output 3
	run grep -F "I\:entries\ whose\ ID" "$POSTIE_SRCDIR/completions/_postie"
	assert_success
	require fish
	run fish --no-config -c 'source $argv[1]; complete -C"postie --de"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_line --regexp '^--delete'$'\t''Delete these queue entries'
	run fish --no-config -c 'source $argv[1]; complete -C"postie -q --du"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_output --regexp '^--due'$'\t''With -q: only the entries whose retry time has come$'
	run fish --no-config -c 'source $argv[1]; complete -C"postie --req"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_output --regexp '^--requeue'$'\t'
}

@test "bash offers the modes m, p, s, v and i after -b and i, dq, di and db after -o" {
	run complete_bash postie -b ''
	assert_success
	assert_output $'m\np\ns\nv\ni'
	run complete_bash postie -o ''
	assert_output $'i\ndq\ndi\ndb'
	run complete_bash postie -o d
	assert_output $'dq\ndi\ndb'
}

@test "bash completes file names after -C, --config, --config= and -X" {
	cd "$BATS_TEST_TMPDIR"
	touch postie.conf postie.alt other
	run complete_bash postie -C post
	assert_line postie.conf
	assert_line postie.alt
	refute_line other
	run complete_bash postie --config post
	assert_line postie.conf
	run complete_bash postie --config = post
	assert_line postie.conf
	run complete_bash postie -X oth
	assert_output other
	run complete_bash postie -Coth
	assert_output -- -Cother
}

@test "bash offers nothing for recipients and the values of address options" {
	cd "$BATS_TEST_TMPDIR"
	touch alice
	run complete_bash postie al
	assert_output ''
	run complete_bash postie -f al
	assert_output ''
	run complete_bash postie --bcc al
	assert_output ''
	run complete_bash postie -- -
	assert_output ''
}

# Config files with accounts, and an environment where postie's own lookup would find only them:
# $POSTIE_CONFIG names accounts.conf (home, work); other.conf names other.
account_configs() {
	mkdir -p "$BATS_TEST_TMPDIR/home" "$BATS_TEST_TMPDIR/xdg/postie"
	printf '%s\n' 'relay smtp://127.0.0.1:25' '# account commented' 'account home' \
		'from me@home.example' '  account "work"' 'account home' 'account two words' \
		>"$BATS_TEST_TMPDIR/accounts.conf"
	printf 'account other\n' >"$BATS_TEST_TMPDIR/other.conf"
	export POSTIE_CONFIG=$BATS_TEST_TMPDIR/accounts.conf HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
}

@test "bash offers after --account the account names of the config, each once" {
	account_configs
	run complete_bash postie --account ''
	assert_output $'home\nwork'
	run complete_bash postie -t --account w
	assert_output work
	run complete_bash postie --account = h
	assert_output home
}

@test "bash reads the accounts of the -C file, else \$POSTIE_CONFIG, else the user's file" {
	account_configs
	cd "$BATS_TEST_TMPDIR"
	run complete_bash postie -C other.conf --account ''
	assert_output other
	run complete_bash postie -Cother.conf --account ''
	assert_output other
	run complete_bash postie --config = other.conf --account ''
	assert_output other
	unset POSTIE_CONFIG
	printf 'account mine\n' >"$XDG_CONFIG_HOME/postie/config"
	run complete_bash postie --account ''
	assert_output mine
	unset XDG_CONFIG_HOME
	mkdir -p "$HOME/.config/postie"
	printf 'account dotconfig\n' >"$HOME/.config/postie/config"
	run complete_bash postie --account ''
	assert_output dotconfig
	rm "$HOME/.config/postie/config"
	run complete_bash postie --account ''
	assert_output ''
}

@test "the zsh completion reads the accounts of the -C file or \$POSTIE_CONFIG" {
	require zsh
	account_configs
	# _arguments, _wanted and compadd stubbed: the file defines _postie_accounts, which is run
	# with the options _arguments would have parsed
	run zsh -f -c '
		_arguments() { :; }
		_wanted() { shift 3; "$@"; }
		compadd() { [[ $1 == -a ]] && print -l -- ${(P)2}; }
		typeset -A opt_args
		source "$1"
		_postie_accounts
		print -r -- --
		opt_args=(-C "$2")
		_postie_accounts
		print -r -- --
		opt_args=(--config "$2")
		_postie_accounts' zsh "$POSTIE_SRCDIR/completions/_postie" "$BATS_TEST_TMPDIR/other.conf"
	assert_success
	assert_output $'home\nwork\n--\nother\n--\nother'
}

@test "the zsh completion parses with zsh -n" {
	require zsh
	run zsh -n "$POSTIE_SRCDIR/completions/_postie"
	assert_success
	assert_output ''
}

@test "compinit binds the zsh completion to postie and sendmail" {
	require zsh
	mkdir "$BATS_TEST_TMPDIR/fn"
	cp "$POSTIE_SRCDIR/completions/_postie" "$BATS_TEST_TMPDIR/fn/"
	run zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2"
		print -r -- "$_comps[postie] $_comps[sendmail]"' zsh \
		"$BATS_TEST_TMPDIR/fn" "$BATS_TEST_TMPDIR/zcompdump"
	assert_success
	assert_output '_postie _postie'
}

@test "the fish completion parses with fish -n" {
	require fish
	run fish -n "$POSTIE_SRCDIR/completions/postie.fish"
	assert_success
	assert_output ''
}

@test "fish completes --su to --subject, files after -C and nothing for recipients" {
	require fish
	cd "$BATS_TEST_TMPDIR"
	touch postie.conf
	run fish --no-config -c 'source $argv[1]; complete -C"postie --su"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_success
	assert_output --regexp '^--subject'$'\t'
	run fish --no-config -c 'source $argv[1]; complete -C"postie -C post"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_output postie.conf
	run fish --no-config -c 'source $argv[1]; complete -C"postie post"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_output ''
}

@test "fish offers the modes after -b, the -o values, and no files after --account" {
	require fish
	cd "$BATS_TEST_TMPDIR"
	touch alice
	run fish --no-config -c 'source $argv[1]; complete -C"postie -b"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_success
	assert_line --regexp '^-bm'$'\t'
	assert_line --regexp '^-bp'$'\t'
	run fish --no-config -c 'source $argv[1]; complete -C"postie -od"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_line --regexp '^-odq'$'\t'
	assert_line --regexp '^-odi'$'\t'
	assert_line --regexp '^-odb'$'\t'
	HOME=$BATS_TEST_TMPDIR POSTIE_CONFIG='' XDG_CONFIG_HOME='' \
		run fish --no-config -c 'source $argv[1]; complete -C"postie --account al"' "$POSTIE_SRCDIR/completions/postie.fish"
	assert_output ''
}

@test "fish offers after --account the account names of the -C file or \$POSTIE_CONFIG" {
	require fish
	account_configs
	cd "$BATS_TEST_TMPDIR"
	fish_complete() {
		fish --no-config -c 'source $argv[1]; complete -C"$argv[2]"' "$POSTIE_SRCDIR/completions/postie.fish" "$1" |
			cut -f1
	}
	run fish_complete 'postie --account '
	assert_success
	assert_output $'home\nwork'
	run fish_complete 'postie --account w'
	assert_output work
	run fish_complete 'postie -C other.conf --account '
	assert_output other
	run fish_complete 'postie --config=other.conf --account '
	assert_output other
}
