/*
 * wire_seal_aesni — BearSSL's AES-NI AES (key schedule + CTR) and its
 * PCLMULQDQ GHASH, the AES-256-GCM seal of wire version 2 (docs/PROTOCOL.md,
 * issue 16). With events/wire_seal_sse2.c, the only ring -1 objects built with
 * vector instructions (events/build.mk: -msse2 -mssse3 -msse4.1 -maes -mpclmul
 * after ring -1's -mgeneral-regs-only; BearSSL's own target attributes ask for
 * exactly these: "sse2,sse4.1,aes" for the AES, "ssse3,pclmul" for GHASH).
 * tools/check-ring1-simd.sh allows the functions of these two objects and no
 * other. Every function here is called only by events/wire_seal.c between the
 * vector guard's begin and end (events/wire_seal.h, arch/x86/fpu.h), and only
 * after hv_wire_gcm_hw() found AES-NI, PCLMULQDQ, SSSE3 and SSE4.1 in CPUID:
 * that check lives in wire_seal.c, so that nothing in this object runs outside
 * the guard. The GCM composition itself (src/aead/gcm.c) is general-register
 * code in wire_seal.c; it calls the CTR and GHASH here through pointers.
 */
#define BR_ENABLE_INTRINSICS 1
#include "src/symcipher/aes_x86ni.c"
#include "src/symcipher/aes_x86ni_ctr.c"
#include "src/hash/ghash_pclmul.c"

#if !BR_AES_X86NI
#error "BearSSL's AES-NI code needs GCC/Clang on x86"
#endif
