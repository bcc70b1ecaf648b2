/*
 * keylogger_site — find the syscall exit site the keylogger detector probes, the tty copy
 * point, and the owner of an io-wq kernel thread's borrowed mm (monitors/keylogger.h,
 * docs/MONITORS.md). Pure: guest memory through a reader
 * callback, Zydis for decoding; bounded scans, every read may fail.
 *
 * OS design pattern: the 64-bit syscall entry (IA32_LSTAR) saves pt_regs on the
 * kernel stack, passes it to do_syscall_64 (`mov %rsp,%rdi; call`), which
 * dispatches (x64_sys_call or sys_call_table), stores the result into
 * pt_regs->ax and calls syscall_exit_to_user_mode(regs) before returning to the
 * entry code. A probe on that call fires once per returning syscall with
 * RDI = pt_regs (orig_ax = nr, ax = result, di/si/dx = arguments), whatever
 * the task did in between (blocked reads included).
 */
#include <string.h>
#include <stdio.h>
#include <Zydis/Zydis.h>
#include "monitors/keylogger.h"

struct insn {
	uint8_t  len;
	ZydisMnemonic mnem;
	uint64_t target;         /* direct call: absolute target (0 otherwise) */
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
};

static bool decode(const struct keylogger_site_reader *rd, ZydisDecoder *dec, uint64_t va, struct insn *in)
{
	uint8_t b[16];
	uint32_t n = sizeof(b);
	/* shorten the read near an unreadable page end */
	while (n && rd->read(rd->ctx, va, b, n))
		n = n > 1 ? n / 2 : 0;
	if (!n || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, b, n, &in->zi, in->zo)))
		return false;
	in->len = in->zi.length;
	in->mnem = in->zi.mnemonic;
	in->target = 0;
	if (in->mnem == ZYDIS_MNEMONIC_CALL && in->zo[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
	    in->zo[0].imm.is_relative)
		in->target = va + in->len + (uint64_t)in->zo[0].imm.value.s;
	return true;
}

static void why_set(char *why, size_t len, const char *s)
{
	if (why && len)
		snprintf(why, len, "%s", s);
}

/* Is @in `mov table(,%idx,8),%reg` (the handler loaded from the syscall table: retpoline
 * kernels call it through a thunk, others through `call *%reg`)? Returns the register, else NONE. */
static ZydisRegister table_load(const struct insn *in, uint64_t table)
{
	const ZydisDecodedOperand *o = in->zo;
	if (!table || in->mnem != ZYDIS_MNEMONIC_MOV || o[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    o[1].type != ZYDIS_OPERAND_TYPE_MEMORY || o[1].mem.index == ZYDIS_REGISTER_NONE || o[1].mem.scale != 8 ||
	    !o[1].mem.disp.has_displacement || (uint64_t)o[1].mem.disp.value != table ||
	    ZydisRegisterGetClass(o[0].reg.value) != ZYDIS_REGCLASS_GPR64)
		return ZYDIS_REGISTER_NONE;
	return o[0].reg.value;
}

/* Is the code at @fn an indirect-branch thunk for @reg (`__x86_indirect_thunk_<reg>`)? Linux's
 * shapes, as built or as alternatives patch them at boot: the retpoline `call 1f; pause; lfence;
 * jmp; 1: mov %reg,(%rsp); ret`, `lfence; jmp *%reg`, or plain `jmp *%reg`. Followed: relative
 * calls/jumps within 64 bytes of @fn; skipped: pause, lfence, nop, int3. Bounded: 12 instructions. */
static bool is_thunk(const struct keylogger_site_reader *rd, ZydisDecoder *dec, uint64_t fn, ZydisRegister reg)
{
	struct insn in;
	uint64_t va = fn;
	for (int i = 0; i < 12; i++) {
		if (!decode(rd, dec, va, &in))
			return false;
		const ZydisDecodedOperand *o = in.zo;
		if ((in.mnem == ZYDIS_MNEMONIC_JMP || in.mnem == ZYDIS_MNEMONIC_CALL) &&
		    o[0].type == ZYDIS_OPERAND_TYPE_REGISTER)
			return in.mnem == ZYDIS_MNEMONIC_JMP && o[0].reg.value == reg;
		if (in.mnem == ZYDIS_MNEMONIC_MOV && o[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    o[0].mem.base == ZYDIS_REGISTER_RSP && o[0].mem.index == ZYDIS_REGISTER_NONE &&
		    !o[0].mem.disp.value && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER)
			return o[1].reg.value == reg;  /* the retpoline's return address := the target */
		if ((in.mnem == ZYDIS_MNEMONIC_JMP || in.mnem == ZYDIS_MNEMONIC_CALL) &&
		    o[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && o[0].imm.is_relative) {
			uint64_t t = va + in.len + (uint64_t)o[0].imm.value.s;
			if (t < fn || t >= fn + 64)
				return false;
			va = t;
			continue;
		}
		if (in.mnem != ZYDIS_MNEMONIC_PAUSE && in.mnem != ZYDIS_MNEMONIC_LFENCE &&
		    in.mnem != ZYDIS_MNEMONIC_NOP && in.mnem != ZYDIS_MNEMONIC_INT3)
			return false;
		va += in.len;
	}
	return false;
}

/* Is @in the syscall dispatch: `call x64_sys_call`, `call *table(,%rax,8)`, or (the handler
 * loaded from the table into @treg) `call *%treg` or a call to a thunk for @treg (retpoline:
 * 5.10's `mov table(,%rax,8),%rax; call __x86_indirect_thunk_rax`)? */
static bool is_dispatch(const struct keylogger_site_reader *rd, ZydisDecoder *dec, const struct insn *in,
			uint64_t dispatch, uint64_t table, ZydisRegister treg)
{
	if (in->mnem != ZYDIS_MNEMONIC_CALL)
		return false;
	if (dispatch && in->target == dispatch)
		return true;
	const ZydisDecodedOperand *o = &in->zo[0];
	if (table && o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.index != ZYDIS_REGISTER_NONE &&
	    o->mem.scale == 8 && o->mem.disp.has_displacement && (uint64_t)o->mem.disp.value == table)
		return true;
	if (treg == ZYDIS_REGISTER_NONE)
		return false;
	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
		return o->reg.value == treg;
	return in->target && is_thunk(rd, dec, in->target, treg);
}

/* mov %rax, 0x50(%reg): the result into pt_regs->ax */
static bool is_result_store(const struct insn *in)
{
	const ZydisDecodedOperand *o = in->zo;
	return in->mnem == ZYDIS_MNEMONIC_MOV && o[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
	       o[0].mem.base != ZYDIS_REGISTER_NONE && o[0].mem.index == ZYDIS_REGISTER_NONE &&
	       o[0].mem.disp.value == KEYLOGGER_PTREGS_AX && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       o[1].reg.value == ZYDIS_REGISTER_RAX;
}

/* Does @in write @reg (any width)? */
static bool writes_reg(const struct insn *in, ZydisRegister reg)
{
	for (unsigned i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &in->zo[i];
		if ((o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) && o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value) == reg)
			return true;
	}
	return false;
}

/* The stack depth below the function's entry along the straight-line path (a tail jump leaves
 * the frame: depth 0): push/pop, sub/add $imm,%rsp, `mov %rsp,%rbp` ... `leave`. Anything else
 * that writes RSP (e.g. 6.x's random stack offset `sub %rax,%rsp` before its `leave`) makes it
 * unknown until a `leave` restores it. */
struct depth { int64_t d, frame; bool known, have_frame; };

static void depth_step(struct depth *s, const struct insn *in)
{
	const ZydisDecodedOperand *o = in->zo;
	switch (in->mnem) {
	case ZYDIS_MNEMONIC_PUSH: s->d += 8; return;
	case ZYDIS_MNEMONIC_POP:  s->d -= 8; return;
	case ZYDIS_MNEMONIC_LEAVE:
		s->known = s->have_frame;
		s->d = s->frame - 8;
		return;
	case ZYDIS_MNEMONIC_CALL: case ZYDIS_MNEMONIC_RET:
		return;                        /* balanced, or the end */
	default:
		break;
	}
	if (in->mnem == ZYDIS_MNEMONIC_MOV && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    o[0].reg.value == ZYDIS_REGISTER_RBP && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    o[1].reg.value == ZYDIS_REGISTER_RSP && s->known) {
		s->frame = s->d;
		s->have_frame = true;
		return;
	}
	if (!writes_reg(in, ZYDIS_REGISTER_RSP))
		return;
	if ((in->mnem == ZYDIS_MNEMONIC_SUB || in->mnem == ZYDIS_MNEMONIC_ADD) &&
	    o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		s->d += in->mnem == ZYDIS_MNEMONIC_SUB ? o[1].imm.value.s : -o[1].imm.value.s;
		return;
	}
	s->known = false;
}

/* A tail jump's target, through at most 2 jumps inside @fn's first 4 KiB (a shared epilogue);
 * 0 when it lands back in the scanned code [@fn, @end) or on a `ret` (a return thunk). */
static uint64_t tail_target(const struct keylogger_site_reader *rd, ZydisDecoder *dec, uint64_t fn, uint64_t end,
			    uint64_t t)
{
	struct insn in;
	for (int hop = 0; hop < 3; hop++) {
		if (t >= fn && t < end)
			return 0;
		if (!decode(rd, dec, t, &in) || in.mnem == ZYDIS_MNEMONIC_RET)
			return 0;
		if (t >= fn + 4096 || in.mnem != ZYDIS_MNEMONIC_JMP || in.zo[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
		    !in.zo[0].imm.is_relative)
			return t;
		t = t + in.len + (uint64_t)in.zo[0].imm.value.s;
	}
	return 0;
}

/* In do_syscall_64 (@fn): the dispatch, the result store into pt_regs->ax, then within 4
 * instructions the transfer to the exit function: `call rel32` (6.x), or a tail jump (5.10:
 * `mov %rbp,%rdi; pop %rbp; jmp syscall_exit_to_user_mode`) with the frame gone (depth 0) and
 * RDI = the pt_regs register of the store. Fills @out's site, exit_fn and tail. */
static bool scan_do_syscall(const struct keylogger_site_reader *rd, ZydisDecoder *dec, uint64_t fn,
			    uint64_t dispatch, uint64_t table, struct keylogger_exit *out)
{
	struct insn in;
	uint64_t va = fn;
	int after = -1;               /* instructions since the result store */
	bool dispatched = false, rdi_regs = false;
	ZydisRegister treg = ZYDIS_REGISTER_NONE, regs = ZYDIS_REGISTER_NONE;
	struct depth dp = { 0, 0, true, false };
	for (int i = 0; i < 96; i++) {
		if (!decode(rd, dec, va, &in))
			return false;
		if (!dispatched) {
			dispatched = is_dispatch(rd, dec, &in, dispatch, table, treg);
			ZydisRegister t = table_load(&in, table);
			if (t != ZYDIS_REGISTER_NONE)
				treg = t;
			else if (treg != ZYDIS_REGISTER_NONE && writes_reg(&in, treg))
				treg = ZYDIS_REGISTER_NONE;
		} else if (after < 0) {
			if (is_result_store(&in)) {
				after = 0;
				regs = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, in.zo[0].mem.base);
			} else if (in.mnem == ZYDIS_MNEMONIC_CALL || in.mnem == ZYDIS_MNEMONIC_RET) {
				return false;
			}
		} else {
			if (in.target) {
				out->site = va;   /* the call after the store */
				out->exit_fn = in.target;
				out->ret64 = va + in.len;
				out->tail = false;
				return true;
			}
			if (in.mnem == ZYDIS_MNEMONIC_JMP && in.zo[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
			    in.zo[0].imm.is_relative && rdi_regs && dp.known && dp.d == 0) {
				uint64_t t = tail_target(rd, dec, fn, va + in.len,
							 va + in.len + (uint64_t)in.zo[0].imm.value.s);
				if (!t)
					return false;
				out->site = va;   /* the tail jump after the store */
				out->exit_fn = t;
				out->tail = true;
				return true;
			}
			if (++after > 4 || in.mnem == ZYDIS_MNEMONIC_RET || in.mnem == ZYDIS_MNEMONIC_JMP)
				return false;
		}
		if (after >= 0) {
			/* RDI = the pt_regs pointer: `mov %regs,%rdi`, until RDI or %regs is written */
			if (in.mnem == ZYDIS_MNEMONIC_MOV && in.zo[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
			    in.zo[0].reg.value == ZYDIS_REGISTER_RDI && in.zo[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
			    in.zo[1].reg.value == regs)
				rdi_regs = true;
			else if (writes_reg(&in, ZYDIS_REGISTER_RDI))
				rdi_regs = false;
		}
		depth_step(&dp, &in);
		if (in.mnem == ZYDIS_MNEMONIC_RET)
			return false;
		va += in.len;
	}
	return false;
}

int keylogger_find_exit(const struct keylogger_site_reader *rd, uint64_t entry, uint64_t dispatch, uint64_t table,
			struct keylogger_exit *out, char *why, size_t whylen)
{
	ZydisDecoder dec;
	struct insn in;
	uint64_t cand[4], cret[4];
	int nc = 0;
	bool regs = false;
	if (!rd || !rd->read || !entry || !out || (!dispatch && !table)) {
		why_set(why, whylen, "needs entry_SYSCALL_64 and x64_sys_call or sys_call_table");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
		why_set(why, whylen, "decoder init failed");
		return -1;
	}
	uint64_t va = entry;
	for (int i = 0; i < 200 && nc < 4; i++) {
		if (!decode(rd, &dec, va, &in))
			break;
		const ZydisDecodedOperand *o = in.zo;
		if (in.mnem == ZYDIS_MNEMONIC_MOV && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (o[0].reg.value == ZYDIS_REGISTER_RDI || o[0].reg.value == ZYDIS_REGISTER_RSI) &&
		    o[1].type == ZYDIS_OPERAND_TYPE_REGISTER && o[1].reg.value == ZYDIS_REGISTER_RSP)
			regs = true;             /* pt_regs = the stack */
		else if (regs && in.target) {
			cand[nc] = in.target;
			cret[nc++] = va + in.len;    /* the return address do_syscall_64 leaves */
		}
		if (in.mnem == ZYDIS_MNEMONIC_SYSRET || in.mnem == ZYDIS_MNEMONIC_IRETQ)
			break;
		va += in.len;
	}
	if (!nc) {
		why_set(why, whylen, "no call after `mov %rsp,%rdi` in entry_SYSCALL_64");
		return -1;
	}
	for (int i = 0; i < nc; i++) {
		struct keylogger_exit e = { 0 };
		if (scan_do_syscall(rd, &dec, cand[i], dispatch, table, &e)) {
			e.dsc = cand[i];
			/* at the exit function's entry: a call leaves the site's next instruction; a tail
			 * jump leaves do_syscall_64's own return address, into entry_SYSCALL_64 */
			if (e.tail)
				e.ret64 = cret[i];
			*out = e;
			return 0;
		}
	}
	why_set(why, whylen, "no `dispatch; mov %rax,0x50(%reg); call or tail jmp` in do_syscall_64");
	return -1;
}

int keylogger_find_exit_site(const struct keylogger_site_reader *rd, uint64_t entry, uint64_t dispatch, uint64_t table,
		      uint64_t *site, uint64_t *dsc, char *why, size_t whylen)
{
	struct keylogger_exit e;
	if (keylogger_find_exit(rd, entry, dispatch, table, &e, why, whylen))
		return -1;
	*site = e.site;
	if (dsc)
		*dsc = e.dsc;
	return 0;
}

/* ---- the tty copy point (issue 15 item 5; monitors/keylogger.h) ---------------------------- */

#define TTY_SCAN_MAX  400          /* instructions of tty_read decoded */
#define TTY_CALLS_MAX 32           /* calls remembered */

struct tty_call {
	uint64_t va;
	bool direct;                       /* call rel32 (probe-able) */
	struct keylogger_loc di, si, dx;   /* where the argument registers were loaded from */
};

/* A location a value can be kept in across calls: a callee-saved register (SysV: rbx, rbp,
 * r12..r15) or a slot of the frame ([rsp + disp], no index). */
static bool loc_of(const ZydisDecodedOperand *o, struct keylogger_loc *l)
{
	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		ZydisRegister r = o->reg.value;
		if (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r) != 64 ||
		    ZydisRegisterGetClass(r) != ZYDIS_REGCLASS_GPR64)
			return false;
		int8_t id = ZydisRegisterGetId(r);
		if (id != 3 && id != 5 && (id < 12 || id > 15))
			return false;
		*l = (struct keylogger_loc){ KEYLOGGER_LOC_REG, (uint8_t)id, 0 };
		return true;
	}
	if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.base == ZYDIS_REGISTER_RSP &&
	    o->mem.index == ZYDIS_REGISTER_NONE && o->size == 64 &&
	    (o->mem.segment == ZYDIS_REGISTER_SS || o->mem.segment == ZYDIS_REGISTER_DS ||
	     o->mem.segment == ZYDIS_REGISTER_NONE)) {
		int64_t d = o->mem.disp.has_displacement ? o->mem.disp.value : 0;
		if (d < 0 || d > 0x1000)
			return false;
		*l = (struct keylogger_loc){ KEYLOGGER_LOC_STACK, 0, (int32_t)d };
		return true;
	}
	return false;
}

static bool loc_eq(const struct keylogger_loc *a, const struct keylogger_loc *b)
{
	return a->kind != KEYLOGGER_LOC_NONE && a->kind == b->kind && a->reg == b->reg && a->disp == b->disp;
}

/* Does @in write location @l (or move RSP, which moves every frame slot)? */
static bool writes_loc(const struct insn *in, const struct keylogger_loc *l)
{
	if (in->mnem == ZYDIS_MNEMONIC_CALL || in->mnem == ZYDIS_MNEMONIC_RET)
		return false;                  /* RSP back where it was after the call */
	for (unsigned i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &in->zo[i];
		if (!(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			ZydisRegister r = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value);
			if (r == ZYDIS_REGISTER_RSP && l->kind == KEYLOGGER_LOC_STACK)
				return true;
			if (l->kind == KEYLOGGER_LOC_REG && ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_GPR64 &&
			    ZydisRegisterGetId(r) == l->reg)
				return true;
		} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && l->kind == KEYLOGGER_LOC_STACK) {
			if (o->mem.base != ZYDIS_REGISTER_RSP || o->mem.index != ZYDIS_REGISTER_NONE)
				continue;          /* through another register: not a frame slot we know */
			int64_t d = o->mem.disp.has_displacement ? o->mem.disp.value : 0;
			int64_t n = o->size / 8 ? o->size / 8 : 8;
			if (d < l->disp + 8 && d + n > l->disp)
				return true;
		}
	}
	return false;
}

/* Track where RDI, RSI and RDX were last loaded from (a `mov` from a location), NONE after any
 * other write of them. */
static void track_args(const struct insn *in, struct keylogger_loc *di, struct keylogger_loc *si,
		       struct keylogger_loc *dx)
{
	for (unsigned i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &in->zo[i];
		if (!(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) || o->type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		ZydisRegister r = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value);
		struct keylogger_loc *t = r == ZYDIS_REGISTER_RDI ? di : r == ZYDIS_REGISTER_RSI ? si :
					  r == ZYDIS_REGISTER_RDX ? dx : NULL;
		if (!t)
			continue;
		*t = (struct keylogger_loc){ 0 };
		if (i == 0 && in->mnem == ZYDIS_MNEMONIC_MOV && o->reg.value == r && in->zi.operand_count_visible == 2)
			loc_of(&in->zo[1], t);
	}
}

/* No instruction strictly between @lo and @hi writes @l: re-decoded (bounded by the scan). */
static bool kept_between(const struct keylogger_site_reader *rd, ZydisDecoder *dec, uint64_t fn, uint64_t lo,
			 uint64_t hi, const struct keylogger_loc *l)
{
	struct insn in;
	uint64_t va = fn;
	for (int i = 0; i < TTY_SCAN_MAX && va < hi; i++) {
		if (!decode(rd, dec, va, &in))
			return false;
		if (va > lo && writes_loc(&in, l))
			return false;
		va += in.len;
	}
	return true;
}

int keylogger_find_tty_copy(const struct keylogger_site_reader *rd, uint64_t tty_read, struct keylogger_tty_site *out,
			    char *why, size_t whylen)
{
	ZydisDecoder dec;
	struct insn in;
	struct tty_call calls[TTY_CALLS_MAX];
	unsigned nc = 0;
	struct keylogger_loc di = { 0 }, si = { 0 }, dx = { 0 };
	if (!rd || !rd->read || !tty_read || !out) {
		why_set(why, whylen, "needs tty_read");
		return -1;
	}
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
		why_set(why, whylen, "decoder init failed");
		return -1;
	}
	uint64_t va = tty_read;
	for (int i = 0; i < TTY_SCAN_MAX && nc < TTY_CALLS_MAX; i++) {
		if (!decode(rd, &dec, va, &in))
			break;
		if (in.mnem == ZYDIS_MNEMONIC_INT3 && i > 0)
			break;                     /* padding: the function ended */
		if (in.mnem == ZYDIS_MNEMONIC_CALL) {
			calls[nc++] = (struct tty_call){ va, in.target != 0, di, si, dx };
			di = si = dx = (struct keylogger_loc){ 0 };   /* caller-saved: clobbered */
		} else {
			track_args(&in, &di, &si, &dx);
		}
		va += in.len;
	}
	for (unsigned c = 0; c < nc; c++) {
		const struct tty_call *C = &calls[c];
		if (!C->direct || !C->di.kind || !C->si.kind || !C->dx.kind)
			continue;
		for (unsigned y = 0; y < nc; y++) {
			const struct tty_call *Y = &calls[y];
			if (y == c || !loc_eq(&Y->dx, &C->di) || !Y->di.kind || !Y->si.kind || loc_eq(&Y->di, &Y->si))
				continue;
			uint64_t lo = Y->va < C->va ? Y->va : C->va, hi = Y->va < C->va ? C->va : Y->va;
			if (!kept_between(rd, &dec, tty_read, lo, hi, &Y->di) ||
			    !kept_between(rd, &dec, tty_read, lo, hi, &Y->si))
				continue;
			out->site = C->va;
			out->ldisc_call = Y->va;
			out->tty = Y->di;
			out->file = Y->si;
			return 0;
		}
	}
	why_set(why, whylen, "no `ldisc read(tty, file, buf); call copy(buf, ...)` pair in tty_read");
	return -1;
}

/* ---- io-wq kernel threads (5.10): the process that owns the borrowed mm ---------------- */

static int owner_rd(const struct keylogger_site_reader *rd, uint64_t va, void *buf, uint32_t len)
{
	return va >> 63 ? rd->read(rd->ctx, va, buf, len) : -1;     /* kernel pointers only */
}

/* Is @task a kernel thread: its real parent is kthreadd (pid 2), which starts every kthread? */
static int owner_is_kthread(const struct keylogger_site_reader *rd, const struct keylogger_task_layout *l,
			    uint64_t task, bool *kt)
{
	uint64_t parent;
	int32_t pid, ppid;
	if (owner_rd(rd, task + l->pid, &pid, 4) || owner_rd(rd, task + l->real_parent, &parent, 8) ||
	    owner_rd(rd, parent + l->pid, &ppid, 4))
		return -1;
	*kt = pid == KEYLOGGER_KTHREADD_PID || ppid == KEYLOGGER_KTHREADD_PID;
	return 0;
}

int keylogger_kthread_reader(const struct keylogger_site_reader *rd, const struct keylogger_task_layout *l,
			     uint64_t task, uint64_t *mm)
{
	bool kt;
	*mm = 0;
	if (!rd || !rd->read || !l || owner_is_kthread(rd, l, task, &kt))
		return -1;
	if (!kt)
		return 0;
	if (owner_rd(rd, task + l->mm, mm, 8))
		return -1;
	return *mm ? 1 : 0;
}

int keylogger_mm_owner(const struct keylogger_site_reader *rd, const struct keylogger_task_layout *l, uint64_t mm,
		       uint64_t self, struct keylogger_owner *out)
{
	uint64_t p = l->init_task, found = 0;
	int32_t found_tgid = -1;
	memset(out, 0, sizeof(*out));
	if (!rd || !rd->read || !mm || !l->init_task)
		return -1;
	for (unsigned i = 0; i < KEYLOGGER_OWNER_WALK; i++) {
		uint64_t next, tmm;
		out->steps = i + 1;
		if (owner_rd(rd, p + l->tasks, &next, 8))
			return -1;                     /* unreadable: trust nothing found so far */
		uint64_t t = next - l->tasks;
		if (t == l->init_task) {               /* the whole list, once */
			if (!found)
				return -1;
			out->task = found;
			out->tgid = found_tgid;
			return 0;
		}
		if (owner_rd(rd, t + l->mm, &tmm, 8))
			return -1;
		if (tmm == mm && t != self) {
			bool kt;
			int32_t tgid;
			if (owner_is_kthread(rd, l, t, &kt) || owner_rd(rd, t + l->tgid, &tgid, 4))
				return -1;
			if (!kt) {                     /* another kernel thread borrowing it: not the owner */
				if (found && tgid != found_tgid) {
					out->ambiguous = true;   /* two processes share the mm (CLONE_VM) */
					return -1;
				}
				found = t;
				found_tgid = tgid;
			}
		}
		p = t;
	}
	return -1;                                     /* longer than the bound, or a loop */
}
