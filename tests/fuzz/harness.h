/* SPDX-License-Identifier: ISC */
/* harness.h: what the libFuzzer targets share. It holds no check of its own and must never
 * make a target skip work: only how the harness's own code is built. */
#ifndef POSTIE_FUZZ_HARNESS_H
#define POSTIE_FUZZ_HARNESS_H

/* On a target's own checking code (reference decoders, byte-by-byte invariants): no coverage
 * instrumentation there. Its branches follow what the code under test returned, which is
 * instrumented already, and libFuzzer's comparison hooks on every byte the checks walk cost more
 * than the code under test (44% of fuzz_mime's time). ASan and UBSan still check it. Never
 * inlined: clang instruments after inlining, so a check inlined into LLVMFuzzerTestOneInput was
 * instrumented after all (check_replies' walk of every reply byte, 6% of fuzz_smtpd's time). */
#define HARNESS __attribute__((no_sanitize("coverage"), noinline))

#endif
