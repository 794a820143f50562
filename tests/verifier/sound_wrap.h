/*
 * sound_wrap.h - helpers that check their arguments, for the verifier's
 * soundness fuzzers (soundness.c, tests/fuzz/fuzz_verify.c).
 *
 * bee's helpers refuse bad arguments quietly in checked runs (an error
 * code, as they must for unverified code).  For code bee's verifier
 * accepted, such an argument is a verifier bug: these wrappers check each
 * pointer argument against the helper's prototype and stop the run with a
 * fault ("soundness: <helper> argument N ... bad") when one is bad.
 */
#ifndef BEE_TESTS_SOUND_WRAP_H
#define BEE_TESTS_SOUND_WRAP_H

#include "bee/bee.h"
#include "bee/vm.h"

/* Replace b's helpers that take pointers by checking wrappers (protos: the
 * prototypes, the table b was built from).  0 or a negative errno. */
int sound_wrap_helpers(struct bee *b, const struct bee_helper_table *protos);

#endif
