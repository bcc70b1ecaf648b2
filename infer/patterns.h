/*
 * infer/patterns.h — internal helpers of the design-patterns strategy
 * (docs/INFER-PATTERNS.md). Everything is found by decoding x86-64 code with
 * Zydis through an infer_reader; kallsyms and BTF are never consulted.
 */
#ifndef HVMON_INFER_PATTERNS_H
#define HVMON_INFER_PATTERNS_H

#include "infer/strategy.h"

/* Operand kinds (compact copy of what Zydis decoded). */
enum { PO_NONE, PO_REG, PO_MEM, PO_IMM };

/* Canonical 64-bit GPR numbers, PR_NONE when not a GPR. */
enum { PR_RAX, PR_RCX, PR_RDX, PR_RBX, PR_RSP, PR_RBP, PR_RSI, PR_RDI,
       PR_R8, PR_R9, PR_R10, PR_R11, PR_R12, PR_R13, PR_R14, PR_R15,
       PR_RIP, PR_NONE = 0xff };

struct pop {
	uint8_t  kind;      /* PO_* */
	uint8_t  reg;       /* PO_REG: canonical GPR (PR_*) */
	uint8_t  base;      /* PO_MEM: canonical base (PR_RIP for rip-relative, PR_NONE) */
	uint8_t  index;     /* PO_MEM: canonical index or PR_NONE */
	uint8_t  scale;
	uint8_t  gs;        /* PO_MEM: %gs segment override */
	uint8_t  read, write;
	uint16_t size;      /* operand width in bits */
	uint16_t zreg;      /* raw ZydisRegister (PO_REG) */
	int64_t  disp;      /* PO_MEM displacement */
	uint64_t ea;        /* PO_MEM: absolute address when base is RIP/none and no index */
	uint64_t imm;       /* PO_IMM (sign-extended to 64 bits) */
};

struct pinsn {
	uint64_t va;
	uint64_t target;    /* direct branch/call target, 0 otherwise */
	uint16_t mnem;      /* ZydisMnemonic */
	uint8_t  len;
	uint8_t  nops;      /* visible operands, <= 3 kept */
	uint8_t  flags;     /* PI_* */
	struct pop op[3];
};
#define PI_CALL   0x01   /* direct call */
#define PI_JMP    0x02   /* direct unconditional jmp */
#define PI_JCC    0x04   /* direct conditional jump */
#define PI_END    0x08   /* ret / ud2 / int3 / indirect jmp: no fall-through */

/* Strategy context. */
struct pctx {
	const struct infer_reader *rd;
	const struct infer_hints  *h;
	struct infer_arena *a;
	struct infer_profile *out;
	void *dec;                  /* ZydisDecoder (opaque here) */
	void *zins, *zctx, *zops;   /* decode scratch (arena) */
	/* decoded-instruction cache: DCACHE direct-mapped entries keyed by VA
	 * (the compare tree and the same functions are decoded many times) */
	struct pinsn *dcache;
	uint64_t *dtag;             /* VA of each dcache entry, 0 = empty */
	/* code byte cache: CACHE_PAGES direct-mapped 4 KiB pages */
	uint64_t *ctag;             /* page VA | 1 when valid, 2 = known unreadable */
	uint8_t *cbuf;
	/* scan range */
	uint64_t text_lo, text_hi, img_lo, img_hi;
	/* function buffer */
	struct pinsn *fn; size_t fn_cap;
	uint32_t *flow;             /* pt_track_flow result, fn_cap entries */
	uint8_t *chunk;             /* pt_chunks buffer (PT_CHUNK + 64 bytes) */
	/* results so far (0 = unknown) */
	uint64_t entry, do_syscall, dispatcher, table, nr_syscalls;
	uint64_t cur_slot; bool have_cur;
	int64_t  off_cred, off_real_parent, off_mm, off_group_leader, off_pid,
		 off_tgid, off_parent, off_tasks, off_comm, off_real_cred;
	uint64_t init_task, switch_to_asm, switch_to, switch_store;
	uint64_t handler[512];
	unsigned budget;            /* decode budget (bounds total work) */
	bool fast;                  /* ring -1 (no text range): stop scans at the first
	                             * fully verified candidate instead of proving uniqueness */
};

#define P_UNKNOWN (-1)

/* Unaligned little-endian 64-bit load; a constant-size __builtin_memcpy is
 * a single mov (no libc call, also with -fno-builtin). */
static inline uint64_t pt_ld64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}
#define PT_CHUNK 0x10000u

/* Bytes of w equal to the byte in b (b = byte * 0x0101...01): bit 7 of byte k
 * set iff byte k matches; exact (no borrow crosses bytes). */
static inline uint64_t pt_eq_mask(uint64_t w, uint64_t b)
{
	const uint64_t highs = 0x8080808080808080ull;
	uint64_t x = w ^ b;
	uint64_t t = (x & ~highs) + ~highs;
	return ~(t | x | ~highs);
}

/* Nonzero when some byte of w equals the byte in b (may over-mark: a fast
 * pre-test, pt_eq_mask gives the exact bytes). */
static inline uint64_t pt_has_byte(uint64_t w, uint64_t b)
{
	uint64_t x = w ^ b;
	return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

/* patterns.c: decoding and walking */
bool pt_decode(struct pctx *c, uint64_t va, struct pinsn *pi);
/* Decode one function linearly from start (follows no branches, stops after
 * an unconditional exit once no forward branch target is pending). Returns
 * the number of instructions stored in c->fn (<= max). */
size_t pt_func(struct pctx *c, uint64_t start, size_t max);
/* Decode [from, to) so that it ends exactly at `to` (resync by trying start
 * offsets); returns count in c->fn, 0 on failure. */
size_t pt_window_before(struct pctx *c, uint64_t to, size_t back);
bool pt_is_kaddr(const struct pctx *c, uint64_t va);
bool pt_is_text(const struct pctx *c, uint64_t va);
bool pt_mnem_is(const struct pinsn *pi, int m);
/* %gs-relative 64-bit load "mov %gs:S, %r64": returns true, *slot, *reg. */
bool pt_gs_load64(const struct pinsn *pi, uint64_t *slot, uint8_t *reg);
/* Whether the instruction writes canonical register r (incl. calls' clobbers). */
bool pt_writes_reg(const struct pinsn *pi, uint8_t r);
/* Skip entry padding/instrumentation: endbr64, nops, call __fentry__ (a call
 * as the very first instruction), returns the first real instruction VA. */
uint64_t pt_skip_prologue(struct pctx *c, uint64_t va);

/* Chunked read of [lo, hi) (64 KiB + `overlap` bytes per call, unreadable
 * chunks skipped, bounded by the 256 MiB scan cap); cb returns false to stop. */
typedef bool (*pt_chunk_fn)(struct pctx *c, void *ctx, uint64_t va, const uint8_t *buf, size_t len);
void pt_chunks(struct pctx *c, uint64_t lo, uint64_t hi, size_t overlap, pt_chunk_fn cb, void *ctx);

/* Track which registers hold the current task pointer along a linear insn list. */
struct ptrack { uint32_t cur; };       /* bitmask of PR_* holding current */
void pt_track_step(struct pctx *c, struct ptrack *t, const struct pinsn *pi);
/* Same over c->fn[0..n), also carrying the state along forward branches to
 * their targets (out-of-line blocks compilers move after the function's
 * exit): fills c->flow[i] = registers holding current before insn i. */
void pt_track_flow(struct pctx *c, size_t n);
/* Index in c->fn[0..n) of the instruction at va, or n. */
size_t pt_index_of(const struct pctx *c, size_t n, uint64_t va);

/* patterns_syscall.c */
void pt_find_entry(struct pctx *c);
void pt_find_dispatch(struct pctx *c);
void pt_find_do_exit(struct pctx *c);   /* after pt_find_dispatch */
/* patterns_exec.c: kernel_clone (+ kernel_clone_args.exit_signal),
 * do_execveat_common, kernel_execve; after pt_find_dispatch */
void pt_find_exec_fork(struct pctx *c);
/* patterns_task.c */
void pt_find_current(struct pctx *c);
void pt_find_task_fields(struct pctx *c);
/* patterns_sched.c */
void pt_find_switch(struct pctx *c);
void pt_find_pgd(struct pctx *c);

#endif
