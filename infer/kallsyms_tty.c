/*
 * infer/kallsyms_tty.c — the keylogger's five terminal offsets (docs/INFER.md "Optional
 * parameters"; issue 15 item 5 gap C) without BTF: read from the code of four small
 * functions the kallsyms strategy names (all in every x86-64 kernel's kallsyms: text
 * symbols). On the 8 fixture kernels (5.10, 6.1, 6.12; generic, cloud, rt) their shape is:
 *   tty_name(tty):            lea NAME(%rdi),%rax                      -> tty_struct.name
 *   get_current_tty():        mov %gs:cur,%rC; ... call lock;
 *                             mov SIGNAL(%rC),%rA; mov TTY(%rA),%rB    -> task_struct.signal, signal_struct.tty
 *   is_current_pgrp_orphaned(): mov %gs:cur,%rC; mov SIGNAL(%rC),%rA;
 *                             mov PGID(%rA),%rdi; call will_become_orphaned_pgrp
 *                             (task_pgrp(current) = signal->pids[PIDTYPE_PGID]) -> signal_struct.pids = PGID - 16
 *   tty_get_pgrp(tty):        mov %rdi,%rT; ... call lock; mov PGRP(%rT),%r  -> tty_struct.pgrp (ctrl.pgrp)
 * The two task_struct.signal readings must agree. Bounded (48 instructions per function);
 * every read may fail; nothing is trusted beyond the shape (offsets < 64 KiB, pointers 8-aligned).
 */
#include <Zydis/Zydis.h>
#include "infer/strategy.h"

#define TTYC_MAX 48

struct tinsn {
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
};

static bool tdecode(const struct infer_reader *rd, ZydisDecoder *dec, uint64_t va, struct tinsn *in)
{
	uint8_t b[16];
	size_t n = sizeof(b);
	while (n && !rd->read(rd->ctx, va, b, n))
		n /= 2;
	return n && ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, b, n, &in->zi, in->zo));
}

static int gpr(ZydisRegister r)
{
	if (ZydisRegisterGetClass(r) != ZYDIS_REGCLASS_GPR64)
		return -1;
	return ZydisRegisterGetId(r);
}

/* mov DISP(%base),%dst (64-bit, no index, no segment override): 1 and the parts, else 0 */
static bool load64(const struct tinsn *in, int *dst, int *base, int64_t *disp)
{
	const ZydisDecodedOperand *o = in->zo;
	if (in->zi.mnemonic != ZYDIS_MNEMONIC_MOV || in->zi.operand_count_visible != 2 ||
	    o[0].type != ZYDIS_OPERAND_TYPE_REGISTER || gpr(o[0].reg.value) < 0 ||
	    o[1].type != ZYDIS_OPERAND_TYPE_MEMORY || o[1].mem.index != ZYDIS_REGISTER_NONE ||
	    o[1].mem.segment == ZYDIS_REGISTER_GS || o[1].mem.segment == ZYDIS_REGISTER_FS || o[1].size != 64)
		return false;
	*dst = gpr(o[0].reg.value);
	*base = gpr(o[1].mem.base);
	*disp = o[1].mem.disp.has_displacement ? o[1].mem.disp.value : 0;
	return *base >= 0 && *base != 4;
}

/* mov %gs:X,%r64 */
static int gs_load(const struct tinsn *in)
{
	const ZydisDecodedOperand *o = in->zo;
	if (in->zi.mnemonic != ZYDIS_MNEMONIC_MOV || in->zi.operand_count_visible != 2 ||
	    o[0].type != ZYDIS_OPERAND_TYPE_REGISTER || o[1].type != ZYDIS_OPERAND_TYPE_MEMORY ||
	    o[1].mem.segment != ZYDIS_REGISTER_GS)
		return -1;
	return gpr(o[0].reg.value);
}

static bool sane(int64_t off) { return off > 0 && off < 0x10000 && !(off & 7); }
static bool sane_any(int64_t off) { return off > 0 && off < 0x10000; }   /* a char array: any alignment */

/* tty_name: the first `lea D(%rdi),%r64` */
static bool tty_name_off(const struct infer_reader *rd, ZydisDecoder *dec, uint64_t fn, int64_t *name)
{
	struct tinsn in;
	for (int i = 0; i < TTYC_MAX && fn; i++, fn += in.zi.length) {
		if (!tdecode(rd, dec, fn, &in))
			return false;
		const ZydisDecodedOperand *o = in.zo;
		if (in.zi.mnemonic == ZYDIS_MNEMONIC_LEA && o[1].mem.base == ZYDIS_REGISTER_RDI &&
		    o[1].mem.index == ZYDIS_REGISTER_NONE && gpr(o[0].reg.value) >= 0) {
			*name = o[1].mem.disp.value;
			return sane_any(*name);
		}
		if (in.zi.mnemonic == ZYDIS_MNEMONIC_RET || in.zi.mnemonic == ZYDIS_MNEMONIC_JMP)
			return false;
	}
	return false;
}

/* From the register loaded with %gs:X (current), after @calls calls: mov D1(%cur),%rA; then
 * the next load through %rA: mov D2(%rA),%rB. */
static bool cur_chain(const struct infer_reader *rd, ZydisDecoder *dec, uint64_t fn, int calls, int64_t *d1,
		      int64_t *d2, int *d2dst)
{
	struct tinsn in;
	int cur = -1, a = -1, seen = 0;
	for (int i = 0; i < TTYC_MAX && fn; i++, fn += in.zi.length) {
		if (!tdecode(rd, dec, fn, &in))
			return false;
		int r = gs_load(&in), dst, base;
		int64_t disp;
		if (r >= 0) {
			cur = r;
			continue;
		}
		if (in.zi.mnemonic == ZYDIS_MNEMONIC_CALL) {
			if (cur >= 0)
				seen++;                    /* not __fentry__'s (a NOP once the kernel runs) */
			if (cur >= 0 && cur != 3 && cur != 5 && cur < 12)
				cur = -1;                  /* a caller-saved register does not survive */
			a = -1;
			continue;
		}
		if (in.zi.mnemonic == ZYDIS_MNEMONIC_RET || in.zi.mnemonic == ZYDIS_MNEMONIC_JMP)
			return false;
		if (!load64(&in, &dst, &base, &disp))
			continue;
		if (seen >= calls && a < 0 && base == cur) {
			*d1 = disp;
			a = dst;
		} else if (a >= 0 && base == a) {
			*d2 = disp;
			if (d2dst)
				*d2dst = dst;
			return sane(*d1) && sane(*d2);
		}
	}
	return false;
}

/* tty_get_pgrp: mov %rdi,%rT (callee-saved); call (the lock); the first mov D(%rT),%r */
static bool pgrp_off(const struct infer_reader *rd, ZydisDecoder *dec, uint64_t fn, int64_t *pgrp)
{
	struct tinsn in;
	int t = -1;
	bool called = false;
	for (int i = 0; i < TTYC_MAX && fn; i++, fn += in.zi.length) {
		if (!tdecode(rd, dec, fn, &in))
			return false;
		const ZydisDecodedOperand *o = in.zo;
		int dst, base;
		int64_t disp;
		if (!called && in.zi.mnemonic == ZYDIS_MNEMONIC_MOV && in.zi.operand_count_visible == 2 &&
		    o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    o[1].reg.value == ZYDIS_REGISTER_RDI) {
			int r = gpr(o[0].reg.value);
			if (r == 3 || r == 5 || r >= 12)
				t = r;
		} else if (in.zi.mnemonic == ZYDIS_MNEMONIC_CALL) {
			called = t >= 0;                   /* the lock; __fentry__'s comes before the save */
		} else if (in.zi.mnemonic == ZYDIS_MNEMONIC_RET || in.zi.mnemonic == ZYDIS_MNEMONIC_JMP) {
			return false;
		} else if (called && load64(&in, &dst, &base, &disp) && base == t) {
			*pgrp = disp;
			return sane(disp);
		}
	}
	return false;
}

int infer_kallsyms_tty_offsets(const struct infer_reader *rd, uint64_t tty_name, uint64_t get_current_tty,
			       uint64_t tty_get_pgrp, uint64_t orphaned, struct infer_profile *out)
{
	ZydisDecoder dec;
	int64_t name = 0, sig = 0, tty = 0, sig2 = 0, pgid = 0, pgrp = 0;
	int dst = -1;
	if (!rd || !rd->read || !ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return 0;
	int n = 0;
	if (tty_name && tty_name_off(rd, &dec, tty_name, &name)) {
		infer_set_found(out, INFER_P_TTY_NAME, (uint64_t)name);
		n++;
	} else {
		infer_set_missing(out, INFER_P_TTY_NAME, "kallsyms: %s", tty_name ? "no `lea NAME(%rdi)` in tty_name" :
				  "no tty_name");
	}
	bool a = get_current_tty && cur_chain(rd, &dec, get_current_tty, 1, &sig, &tty, NULL);
	bool b = orphaned && cur_chain(rd, &dec, orphaned, 0, &sig2, &pgid, &dst) && dst == 7 && pgid >= 16;
	if (a && b && sig == sig2) {
		infer_set_found(out, INFER_P_TASK_SIGNAL, (uint64_t)sig);
		infer_set_found(out, INFER_P_SIGNAL_TTY, (uint64_t)tty);
		infer_set_found(out, INFER_P_SIGNAL_PIDS, (uint64_t)(pgid - 16));   /* pids[PIDTYPE_PGID = 2] */
		n += 3;
	} else {
		const char *why = !a ? "get_current_tty: no current->signal->tty loads" :
				  !b ? "is_current_pgrp_orphaned: no current->signal->pids[PGID] into %rdi" :
				       "get_current_tty and is_current_pgrp_orphaned disagree on task_struct.signal";
		infer_set_missing(out, INFER_P_TASK_SIGNAL, "kallsyms: %s", why);
		infer_set_missing(out, INFER_P_SIGNAL_TTY, "kallsyms: %s", why);
		infer_set_missing(out, INFER_P_SIGNAL_PIDS, "kallsyms: %s", why);
	}
	if (tty_get_pgrp && pgrp_off(rd, &dec, tty_get_pgrp, &pgrp)) {
		infer_set_found(out, INFER_P_TTY_PGRP, (uint64_t)pgrp);
		n++;
	} else {
		infer_set_missing(out, INFER_P_TTY_PGRP, "kallsyms: %s", tty_get_pgrp ?
				  "no load through the saved tty after the lock in tty_get_pgrp" : "no tty_get_pgrp");
	}
	return n;
}

/*
 * Issue 15 item 1 (docs/TRACER.md "ABI"): thread_info.status, where the i386 syscall entries mark
 * the task with TS_COMPAT (0x2) before dispatching (`current_thread_info()->status |= TS_COMPAT`).
 * On the 8 fixture kernels both compat entries have the shape
 *   mov %gs:cur,%rC; ... orl $0x2,STATUS(%rC)
 * (__do_fast_syscall_32: sysenter / compat syscall; do_int80_syscall_32 on 5.10, do_int80_emulation
 * on 6.1/6.12 — there after a call, with current loaded again), STATUS 8 on 5.10, 16 on 6.1/6.12.
 * x86-64's thread_info is task_struct's first member, so STATUS is an offset from the task pointer.
 * Every function given must show it and all must agree. Bounded: 64 instructions per function.
 */
#define TI_MAX 64

static bool ts_compat_or(const struct infer_reader *rd, ZydisDecoder *dec, uint64_t fn, int64_t *status)
{
	struct tinsn in;
	int cur = -1;
	for (int i = 0; i < TI_MAX && fn; i++, fn += in.zi.length) {
		if (!tdecode(rd, dec, fn, &in))
			return false;
		const ZydisDecodedOperand *o = in.zo;
		int r = gs_load(&in);
		if (r >= 0) {
			cur = r;
			continue;
		}
		if (in.zi.mnemonic == ZYDIS_MNEMONIC_CALL) {
			if (cur >= 0 && cur != 3 && cur != 5 && cur < 12)
				cur = -1;                  /* a caller-saved register does not survive */
			continue;
		}
		/* a linear walk: 6.1's do_int80_emulation jumps over an alternative (the stack
		 * offset randomisation) before the orl; the shape below must still match */
		if (in.zi.mnemonic == ZYDIS_MNEMONIC_RET || in.zi.mnemonic == ZYDIS_MNEMONIC_INT3)
			return false;
		if (in.zi.mnemonic == ZYDIS_MNEMONIC_OR && in.zi.operand_count_visible == 2 &&
		    o[0].type == ZYDIS_OPERAND_TYPE_MEMORY && o[0].size == 32 && cur >= 0 &&
		    gpr(o[0].mem.base) == cur && o[0].mem.index == ZYDIS_REGISTER_NONE &&
		    o[0].mem.segment != ZYDIS_REGISTER_GS && o[0].mem.segment != ZYDIS_REGISTER_FS &&
		    o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && o[1].imm.value.u == 2) {
			*status = o[0].mem.disp.has_displacement ? o[0].mem.disp.value : 0;
			return *status > 0 && *status < 0x100 && !(*status & 3);   /* a u32 in thread_info's head */
		}
		/* any other write to the register that holds current ends what it holds */
		if (cur >= 0 && in.zi.operand_count_visible >= 1 && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (o[0].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
		    gpr(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o[0].reg.value)) == cur)
			cur = -1;
	}
	return false;
}

int infer_kallsyms_ti_status(const struct infer_reader *rd, const uint64_t *fns, const char *const *names,
			     size_t n, struct infer_profile *out)
{
	ZydisDecoder dec;
	if (!rd || !rd->read || !ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return 0;
	int64_t val = -1;
	size_t seen = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t s = 0;
		if (!fns[i])
			continue;
		seen++;
		if (!ts_compat_or(rd, &dec, fns[i], &s)) {
			infer_set_missing(out, INFER_P_TI_STATUS, "no `orl $0x2,D(current)` in %s", names[i]);
			return 0;
		}
		if (val >= 0 && s != val) {
			infer_set_missing(out, INFER_P_TI_STATUS, "the compat entries disagree (%lld, %lld)",
					  (long long)val, (long long)s);
			return 0;
		}
		val = s;
	}
	if (!seen) {
		infer_set_missing(out, INFER_P_TI_STATUS, "no compat syscall entry (__do_fast_syscall_32, "
				  "do_int80_syscall_32/do_int80_emulation)");
		return 0;
	}
	infer_set_found(out, INFER_P_TI_STATUS, (uint64_t)val);
	return 1;
}
