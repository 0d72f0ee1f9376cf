#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The suites themselves: shellcheck finds nothing in them, and no check in a test is one bash's
# errexit ignores (tests/lint-shapes), with lint-shapes tested on samples of each shape.

load helpers

setup() {
	SRC=${POSTIE_SRCDIR:?}
	SHAPES=$SRC/tests/fixtures/shapes
}

lint_shapes() { "${PYTHON3:-python3}" "$SRC/tests/lint-shapes" "$@"; }

@test "shellcheck finds nothing in the suites and their helpers" {
	require_cmd shellcheck
	# tests/.shellcheckrc says which checks are off and why
	# not run -0: on a failure, assert_output shows each finding as file:line:column
	run shellcheck -f gcc --shell=bash -x "$SRC"/tests/*.bats "$SRC"/tests/*.bash
	assert_output ''
	assert_success
}

@test "shellcheck finds nothing in the other test and CI scripts" {
	require_cmd shellcheck
	run shellcheck -f gcc "$SRC"/tests/all "$SRC"/tests/demo "$SRC"/tests/valgrind.sh "$SRC"/.ci/run "$SRC"/.ci/deps
	assert_output ''
	assert_success
}

@test "no test in the suites has a ! command or an && list that cannot fail" {
	# not run -0: on a failure, assert_output shows each one as file:line: what and how to fix it
	run lint_shapes "$SRC"/tests/*.bats
	assert_output ''
	assert_success
}

@test "lint-shapes rejects a ! command that is not the last of a test, naming file and line" {
	run -1 lint_shapes "$SHAPES/bad-negation.bats"
	assert_output - <<-EOF
		$SHAPES/bad-negation.bats:5: a \`!\` command that is not the last of the test never fails it: use \`run ! cmd\`
		$SHAPES/bad-negation.bats:11: a \`!\` command that is not the last of the test never fails it: use \`run ! cmd\`
		$SHAPES/bad-negation.bats:17: a \`!\` command that is not the last of the test never fails it: use \`run ! cmd\`
		$SHAPES/bad-negation.bats:17: an \`&&\` list that is not the last of the test never fails it: one check per line
	EOF
}

@test "lint-shapes rejects an && list that is not the last of a test, and cmd && false anywhere" {
	run -1 lint_shapes "$SHAPES/bad-and-list.bats"
	assert_output - <<-EOF
		$SHAPES/bad-and-list.bats:5: an \`&&\` list that is not the last of the test never fails it: one check per line
		$SHAPES/bad-and-list.bats:11: an \`&&\` list that is not the last of the test never fails it: one check per line
		$SHAPES/bad-and-list.bats:18: \`cmd && false\` never fails the test: use \`run ! cmd\` or \`run -N cmd\`
	EOF
}

@test "lint-shapes accepts run !, run -N, conditions, guards, || lists and a last ! or && list" {
	run -0 lint_shapes "$SHAPES/good.bats"
	assert_output ''
}

@test "lint-shapes reports every file it is given, and exits 2 given none" {
	run -1 lint_shapes "$SHAPES/good.bats" "$SHAPES/bad-and-list.bats" "$SHAPES/bad-negation.bats"
	[ "${#lines[@]}" -eq 7 ]
	run -2 lint_shapes
	assert_output 'usage: lint-shapes [--functions] FILE...'
}

@test "lint-shapes checks functions too: always in a .bash file, in a .bats file with --functions" {
	run -1 lint_shapes "$SHAPES/helper.bash"
	assert_output - <<-EOF
		$SHAPES/helper.bash:3: a \`!\` command that is not the last of the test never fails it: use \`run ! cmd\`
		$SHAPES/helper.bash:4: an \`&&\` list that is not the last of the test never fails it: one check per line
	EOF
	run -0 lint_shapes "$SHAPES/functions.bats"
	run -1 lint_shapes --functions "$SHAPES/functions.bats"
	assert_output "$SHAPES/functions.bats:5: an \`&&\` list that is not the last of the test never fails it: one check per line"
}

@test "every source file names its licence in an SPDX line within its first three lines" {
	local f missing=()
	for f in "$SRC"/src/*.[ch] "$SRC"/cmd/*.c "$SRC"/tests/unit/*.[ch] "$SRC"/tests/fuzz/*.[ch] \
		"$SRC"/tests/*.bats "$SRC"/tests/*.bash "$SRC"/tests/fixtures/*.py "$SRC"/tests/all \
		"$SRC"/tests/demo "$SRC"/tests/lint-shapes "$SRC"/tests/layering "$SRC"/tests/valgrind.sh \
		"$SRC"/.ci/run "$SRC"/.ci/deps "$SRC"/man/postie.1 "$SRC"/man/postie.conf.5 \
		"$SRC"/completions/postie "$SRC"/completions/_postie "$SRC"/completions/postie.fish \
		"$SRC"/Makefile.am "$SRC"/configure.ac "$SRC"/autogen.sh; do
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier: ISC' || missing+=("$f")
	done
	# not run -0 alone: on a failure, assert_output names each file without the line
	run -0 printf '%s\n' "${missing[@]}"
	assert_output ''
}

@test "no file of the program is longer than 1,000 lines" {
	run -0 awk 'FNR == 1001 { print FILENAME ": over 1,000 lines: split it along its seams" }' \
		"$SRC"/src/*.[ch] "$SRC"/cmd/*.c
	assert_output ''
}
