/*
 * wire_seal_sse2 — BearSSL's SSE2 ChaCha20 (br_chacha20_sse2_run), the only
 * ring -1 object built with SSE (events/build.mk: -msse2 after ring -1's
 * -mgeneral-regs-only; tools/check-ring1-simd.sh fails the build if vector
 * registers appear in any other function of hvmon.elf). It is called only by
 * hv_wire_seal() between the vector guard's begin and end (events/wire_seal.h,
 * arch/x86/fpu.h), which save and restore the interrupted context's vector
 * registers. Issue 16: ChaCha20 is most of the seal's instructions.
 */
#define BR_ENABLE_INTRINSICS 1
#include "src/symcipher/chacha20_sse2.c"

#if !BR_SSE2
#error "BearSSL's SSE2 ChaCha20 needs GCC/Clang on x86"
#endif
