/*
 * dtr_insn — the pure logic of emulating the eight descriptor-table
 * instructions when "descriptor-table exiting" is on (secondary
 * processor-based control bit 2, SDM Vol. 3C 25.6.2): LGDT, LIDT, SGDT, SIDT
 * (exit reason 46) and LLDT, LTR, SLDT, STR (exit reason 47). The exit comes
 * BEFORE the instruction touches memory (SDM 26.1.3; Bochs 2.7
 * cpu/protect_ctrl.cc calls VMexit_Instruction before reading/writing the
 * operand), after the faults that have priority over it (SDM 26.1.1: #UD,
 * privilege-level faults — LGDT/LIDT/LLDT/LTR at CPL > 0, SGDT/SIDT/SLDT/STR at
 * CPL > 0 with CR4.UMIP). Everything else — the operand's address, segment
 * checks, the page walk with its #PF, the stores, the LLDT/LTR descriptor
 * checks — is the emulator's. Ring -1 side: vmm/dtr.c.
 *
 * Here: decode of the VM-exit instruction-information field (SDM Vol. 3C
 * 28.2.5, Tables "Format of the VM-Exit Instruction-Information Field as Used
 * for LIDT, LGDT, SIDT, or SGDT" and "... for LLDT, LTR, SLDT, and STR") with the
 * exit qualification (the displacement: SDM 28.2.1, "Exit qualification for
 * ... LIDT/LGDT/.../STR"); the linear address with segment and canonical
 * checks; the operand size from the instruction's prefixes; the page-level
 * access rights of a walk (SDM Vol. 3A 4.6) and the #PF error code (4.7);
 * the LLDT/LTR descriptor rules (SDM Vol. 2A "LLDT", Vol. 2B "LTR"). Pure,
 * freestanding, bounded: tests/unit/test_dtr_insn.c, tests/fuzz/fuzz_dtr_insn.c.
 */
#ifndef HVMON_VMM_DTR_INSN_H
#define HVMON_VMM_DTR_INSN_H

#include <stdbool.h>
#include <stdint.h>

#define DTR_EXIT_GDTR_IDTR 46
#define DTR_EXIT_LDTR_TR   47

/* The instruction: reason 46 identities 0..3, reason 47 identities 0..3 + 4. */
enum dtr_op { DTR_SGDT = 0, DTR_SIDT, DTR_LGDT, DTR_LIDT, DTR_SLDT, DTR_STR, DTR_LLDT, DTR_LTR, DTR__COUNT };
const char *dtr_op_name(unsigned op);            /* "sgdt", ..., "ltr" */
static inline bool dtr_op_loads(unsigned op) { return op == DTR_LGDT || op == DTR_LIDT || op == DTR_LLDT || op == DTR_LTR; }

/* Segment registers as the field numbers them. */
enum { DTR_ES = 0, DTR_CS, DTR_SS, DTR_DS, DTR_FS, DTR_GS };

struct dtr_insn {
	uint8_t  op;             /* enum dtr_op */
	bool     mem;            /* a memory operand (else register @reg: LLDT/LTR/SLDT/STR only) */
	uint8_t  reg;            /* the register operand, 0..15 (RAX..R15) */
	uint8_t  asize;          /* address size in bytes: 2, 4, 8 */
	uint8_t  seg;            /* DTR_ES..DTR_GS */
	bool     base_ok, index_ok;
	uint8_t  base, index;    /* 0..15 */
	uint8_t  scale;          /* 0..3: index x 1, 2, 4, 8 */
	uint64_t disp;           /* the exit qualification */
};

/* Decode exit reason @reason (46 or 47), instruction information @info and
 * exit qualification @qual. 0, or -1 for an encoding the processor never
 * reports (address size 3, segment 6/7, another reason). */
int dtr_decode(unsigned reason, uint32_t info, uint64_t qual, struct dtr_insn *d);

/* The processor mode of the instruction. */
enum dtr_mode {
	DTR_MODE_REAL = 0,       /* CR0.PE = 0 (an unrestricted guest) */
	DTR_MODE_V86,            /* RFLAGS.VM = 1 */
	DTR_MODE_PROT,           /* protected mode, or IA-32e compatibility mode (CS.L = 0) */
	DTR_MODE_LONG64,         /* IA-32e mode with CS.L = 1 */
};

/* A segment as the VMCS holds it (SDM 24.4.1): base, the scaled limit, access rights. */
struct dtr_seg {
	uint64_t base;
	uint32_t limit;
	uint32_t ar;             /* bits 3:0 type, 4 S, 6:5 DPL, 7 P, 14 D/B, 16 unusable */
};
#define DTR_AR_UNUSABLE (1u << 16)

struct dtr_cpu {
	uint64_t gpr[16];
	struct dtr_seg seg[6];
	uint8_t  mode;           /* enum dtr_mode */
	bool     ia32e;          /* EFER.LMA: system descriptors are 16 bytes */
	bool     la57;           /* CR4.LA57: canonical means 57 bits */
};

/* An exception for the guest. */
struct dtr_fault {
	uint8_t  vector;         /* 13 #GP, 12 #SS, 14 #PF, 11 #NP, 6 #UD */
	bool     has_err;        /* false in real mode (no error code is pushed there) */
	uint32_t err;
	uint64_t cr2;            /* #PF */
};
#define DTR_VEC_UD 6
#define DTR_VEC_NP 11
#define DTR_VEC_SS 12
#define DTR_VEC_GP 13
#define DTR_VEC_PF 14

/* The operand's size in memory: 6 or 10 (LGDT/LIDT/SGDT/SIDT: 2-byte limit and
 * 4- or 8-byte base), 2 (a selector). */
unsigned dtr_mem_len(const struct dtr_insn *d, const struct dtr_cpu *c);

/* The effective address (base + index << scale + displacement, truncated to
 * the address size; SDM Vol. 1 3.7.5) and the linear address of the @len-byte
 * operand, with the checks the processor makes before the access: in 64-bit
 * mode only FS/GS have a base and the whole operand must be canonical (#SS(0)
 * through SS, else #GP(0)); elsewhere the segment must be usable, writable for
 * a @write (data, W = 1), readable for a read (not execute-only code), and the
 * operand within its limit (expand-down: above it, up to 0xffff or
 * 0xffffffff by D/B) — #SS(0) through SS, else #GP(0) (real mode: the same
 * vectors, no error code). The linear address wraps at 4 GiB outside 64-bit
 * mode. 0, or -1 with @f. */
int dtr_linear(const struct dtr_insn *d, const struct dtr_cpu *c, unsigned len, bool write, uint64_t *la,
	       struct dtr_fault *f);

/* The operand size (2, 4 or 8 bytes) of the instruction whose bytes are
 * @b[0..n) (n <= 15: the VM-exit instruction length): legacy prefixes, then in
 * 64-bit mode an optional REX, then 0F 00 or 0F 01. @def32: the default operand
 * size is 32 bits (CS.D in protected mode; never in real/V86 mode); 66h toggles
 * it, REX.W makes it 8 (64-bit mode). -1 when the bytes are not such an
 * instruction (the guest changed them since the exit, or they were unreadable). */
int dtr_opsize(const uint8_t *b, unsigned n, bool long64, bool def32);

/* The access rights a page walk found, for one access (SDM Vol. 3A 4.6). */
struct dtr_pte_rights {
	bool present;            /* the walk reached a present leaf */
	bool rsvd;               /* it found a reserved bit set */
	bool writable;           /* R/W = 1 at every level */
	bool user;               /* U/S = 1 at every level */
};
struct dtr_access {
	bool write;
	bool user;               /* a user-mode access: CPL 3 and not implicit */
	bool implicit;           /* a system access (GDT/LDT/TSS reads, the busy bit): supervisor, SMAP always */
	bool wp;                 /* CR0.WP */
	bool smap;               /* CR4.SMAP */
	bool ac;                 /* RFLAGS.AC */
};
/* 0 when the access is allowed, else the #PF error code to deliver (bit 0 P,
 * 1 W/R, 2 U/S, 3 RSVD; SDM 4.7) with bit 31 set so that 0 is never an error. */
#define DTR_PF_FAULT (1u << 31)
uint32_t dtr_page_check(const struct dtr_pte_rights *r, const struct dtr_access *a);

/* The value LGDT/LIDT loads from the operand bytes @m (6 or 10): limit and base;
 * @opsize 2 keeps 24 bits of the base (SDM Vol. 2A "LGDT/LIDT"), 4 keeps 32,
 * 8 (64-bit mode, whatever the prefix) all 64. */
void dtr_parse_pseudo(const uint8_t *m, unsigned opsize, uint64_t *base, uint16_t *limit);
/* The bytes SGDT/SIDT store (6 or 10): limit, then 32 (outside 64-bit mode)
 * or 64 bits of base. Returns the length. */
unsigned dtr_store_pseudo(uint8_t *m, bool long64, uint64_t base, uint16_t limit);

/* Is @va canonical for 48-bit (or 57-bit) linear addresses? */
bool dtr_canonical(uint64_t va, bool la57);

/* ---- LLDT/LTR (SDM Vol. 2A "LLDT", Vol. 2B "LTR"; Vol. 3A 3.5, 7.2.2, 8.2.3) ---- */
/* Where the descriptor of @sel is in the GDT and how long it is (8, or 16 in
 * IA-32e mode), checked against the GDT limit: 0, or -1 with @f (#GP(0) for a
 * null LTR selector, #GP(sel) for TI = 1 or beyond the limit). A null LLDT
 * selector returns 1: LDTR becomes unusable, no descriptor is read. */
int dtr_desc_locate(unsigned op, uint16_t sel, uint32_t gdt_limit, bool ia32e, uint64_t *off, unsigned *len,
		    struct dtr_fault *f);
/* The segment a system descriptor (@desc: 8 or 16 bytes read from the GDT)
 * loads into LDTR/TR, with the checks of LLDT/LTR: S = 0 and type LDT (2) /
 * available TSS (9; 1 outside IA-32e mode), else #GP(sel); P = 0: #NP(sel);
 * in IA-32e mode the upper half's type bits 12:8 zero and the base canonical,
 * else #GP(sel). LTR loads the busy type (type | 2). @busy_byte: the offset in
 * the descriptor of the byte that holds the type (5) — ring -1 sets the busy
 * bit there. 0, or -1 with @f. */
int dtr_desc_load(unsigned op, uint16_t sel, const uint8_t *desc, unsigned len, bool ia32e, bool la57,
		  struct dtr_seg *out, struct dtr_fault *f);

#endif
