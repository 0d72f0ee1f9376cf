#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The layering of src/, checked (tests/layering): curl's headers only in the submission module,
# popt.h only in the option module, stderr written in src/ only by the logging module; with the
# check tested on samples of each rule, good and bad (tests/fixtures/layering).

load helpers

setup() {
	SRC=${POSTIE_SRCDIR:?}
	FIX=$SRC/tests/fixtures/layering
}

layering() { "${PYTHON3:-python3}" "$SRC/tests/layering" "$@"; }

@test "src/ and cmd/ keep the layering: curl in submit.c and oauth2.c, popt in cli.[ch], stderr in log.c" {
	# not run -0: on a failure, assert_output shows each crossing as file:line: why
	run layering --tree "$SRC"
	assert_output ''
	assert_success
}

@test "the check names a curl header included outside src/submit.c, in src/ and in cmd/" {
	run -1 layering "$FIX/bad-curl/src/message.c" "$FIX/bad-curl/cmd/postie.c"
	assert_output - <<-EOF
		$FIX/bad-curl/src/message.c:3: includes <curl/curl.h>: only the submission (src/submit.c, src/oauth2.c) talks to libcurl
		$FIX/bad-curl/src/message.c:4: includes <curl/easy.h>: only the submission (src/submit.c, src/oauth2.c) talks to libcurl
		$FIX/bad-curl/cmd/postie.c:2: includes <curl/curl.h>: only the submission (src/submit.c, src/oauth2.c) talks to libcurl
	EOF
}

@test "the check names popt.h included outside src/cli.c and src/cli.h, in src/ and in cmd/" {
	run -1 layering "$FIX/bad-popt/src/config.c" "$FIX/bad-popt/src/cli_extra.h" "$FIX/bad-popt/cmd/postie.c"
	assert_output - <<-EOF
		$FIX/bad-popt/src/config.c:2: includes <popt.h>: only src/cli.c and src/cli.h talk to popt
		$FIX/bad-popt/src/cli_extra.h:2: includes <popt.h>: only src/cli.c and src/cli.h talk to popt
		$FIX/bad-popt/cmd/postie.c:3: includes <popt.h>: only src/cli.c and src/cli.h talk to popt
	EOF
}

@test "the check names every way of writing stderr in src/ outside src/log.c, one finding a line" {
	f=$FIX/bad-stderr/src/util.c
	run -1 layering "$f"
	assert_output - <<-EOF
		$f:7: writes stderr: only src/log.c does (log_status, log_warn)
		$f:8: writes stderr: only src/log.c does (log_status, log_warn)
		$f:9: writes stderr: only src/log.c does (log_status, log_warn)
		$f:10: writes stderr: only src/log.c does (log_status, log_warn)
		$f:11: writes stderr: only src/log.c does (log_status, log_warn)
		$f:12: writes stderr: only src/log.c does (log_status, log_warn)
		$f:13: writes stderr (perror): only src/log.c does
		$f:14: writes fd 2: only src/log.c does
		$f:15: writes fd 2: only src/log.c does
		$f:16: writes fd 2: only src/log.c does
		$f:17: writes fd 2: only src/log.c does
		$f:18: writes stderr (err(3), warn(3), error(3)): only src/log.c does
		$f:19: writes stderr (err(3), warn(3), error(3)): only src/log.c does
		$f:20: writes stderr (err(3), warn(3), error(3)): only src/log.c does
		$f:21: writes stderr (err(3), warn(3), error(3)): only src/log.c does
		$f:22: writes stderr (err(3), warn(3), error(3)): only src/log.c does
		$f:23: writes fd 2: only src/log.c does
		$f:24: writes stderr: only src/log.c does (log_status, log_warn)
	EOF
}

@test "the check accepts the owners, cmd/'s own line, and names in comments and strings" {
	run -0 layering "$FIX"/good/src/*.[ch] "$FIX"/good/cmd/*.c
	assert_output ''
}

@test "a known exception that matches no line any more fails the tree, naming it" {
	run layering --exceptions
	assert_success
	local -a known=("${lines[@]}")
	run layering --tree "$FIX/empty"
	[ "${#lines[@]}" -eq "${#known[@]}" ]
	for k in "${known[@]}"; do
		assert_line "$FIX/empty/${k%%: *}:0: known exception matches no line any more: remove it from tests/layering: ${k#*: }"
	done
	if [ "${#known[@]}" -gt 0 ]; then assert_failure; else assert_success; fi
}

@test "the check exits 2 given no file" {
	run -2 layering
	assert_output 'usage: layering FILE... | layering --tree DIR | layering --exceptions'
}
