/* SPDX-License-Identifier: ISC */
/* tap.h: the smallest TAP producer the C unit tests need: ok(), is_str(), is_int(), and a
 * plan printed at the end. Test programs are run by automake's tap-driver.sh. */
#ifndef POSTIE_TAP_H
#define POSTIE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...)                                                                      \
	do {                                                                               \
		int tap_ok_ = (cond) ? 1 : 0;                                              \
		tap_count++;                                                               \
		if (!tap_ok_)                                                              \
			tap_failed++;                                                      \
		printf("%s %d - ", tap_ok_ ? "ok" : "not ok", tap_count);                  \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		if (!tap_ok_)                                                              \
			printf("#   at %s:%d\n", __FILE__, __LINE__);                          \
	} while (0)

static inline void tap_diag_str(const char *label, const char *s)
{
	printf("#   %s: ", label);
	if (!s) {
		printf("(null)\n");
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			printf("\\n");
		else if (c == '\r')
			printf("\\r");
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

#define is_str(got, want, ...)                                                             \
	do {                                                                               \
		const char *tap_g_ = (got), *tap_w_ = (want);                              \
		int tap_same_ = (tap_g_ && tap_w_) ? strcmp(tap_g_, tap_w_) == 0           \
						   : tap_g_ == tap_w_;                     \
		ok(tap_same_, __VA_ARGS__);                                                \
		if (!tap_same_) {                                                          \
			tap_diag_str("got", tap_g_);                                       \
			tap_diag_str("want", tap_w_);                                      \
		}                                                                          \
	} while (0)

#define is_int(got, want, ...)                                                             \
	do {                                                                               \
		long tap_g_ = (long)(got), tap_w_ = (long)(want);                          \
		ok(tap_g_ == tap_w_, __VA_ARGS__);                                         \
		if (tap_g_ != tap_w_)                                                      \
			printf("#   got: %ld\n#   want: %ld\n", tap_g_, tap_w_);           \
	} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
