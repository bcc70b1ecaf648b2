/*
 * keylogger_site — find the syscall exit site the keylogger detector probes
 * (monitors/keylogger.h, docs/MONITORS.md). Pure: guest memory through a reader
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

/* Is @in the syscall dispatch: call x64_sys_call, or call *table(,%rax,8)? */
static bool is_dispatch(const struct insn *in, uint64_t dispatch, uint64_t table)
{
	if (in->mnem != ZYDIS_MNEMONIC_CALL)
		return false;
	if (dispatch && in->target == dispatch)
		return true;
	const ZydisDecodedOperand *o = &in->zo[0];
	return table && o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.index != ZYDIS_REGISTER_NONE &&
	       o->mem.scale == 8 && o->mem.disp.has_displacement &&
	       (uint64_t)o->mem.disp.value == table;
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

static uint64_t scan_do_syscall(const struct keylogger_site_reader *rd, ZydisDecoder *dec, uint64_t fn,
				uint64_t dispatch, uint64_t table)
{
	struct insn in;
	uint64_t va = fn;
	int after = -1;               /* instructions since the result store */
	bool dispatched = false;
	for (int i = 0; i < 96; i++) {
		if (!decode(rd, dec, va, &in))
			return 0;
		if (!dispatched) {
			dispatched = is_dispatch(&in, dispatch, table);
		} else if (after < 0) {
			if (is_result_store(&in))
				after = 0;
			else if (in.mnem == ZYDIS_MNEMONIC_CALL || in.mnem == ZYDIS_MNEMONIC_RET)
				return 0;
		} else {
			if (in.target)
				return va;        /* the call after the store */
			if (++after > 4 || in.mnem == ZYDIS_MNEMONIC_RET || in.mnem == ZYDIS_MNEMONIC_JMP)
				return 0;
		}
		if (in.mnem == ZYDIS_MNEMONIC_RET)
			return 0;
		va += in.len;
	}
	return 0;
}

int keylogger_find_exit_site(const struct keylogger_site_reader *rd, uint64_t entry, uint64_t dispatch, uint64_t table,
		      uint64_t *site, uint64_t *dsc, char *why, size_t whylen)
{
	ZydisDecoder dec;
	struct insn in;
	uint64_t cand[4];
	int nc = 0;
	bool regs = false;
	if (!rd || !rd->read || !entry || (!dispatch && !table)) {
		why_set(why, whylen, "needs entry_SYSCALL_64 and x64_sys_call or sys_call_table");
		return -1;
	}
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
		else if (regs && in.target)
			cand[nc++] = in.target;
		if (in.mnem == ZYDIS_MNEMONIC_SYSRET || in.mnem == ZYDIS_MNEMONIC_IRETQ)
			break;
		va += in.len;
	}
	if (!nc) {
		why_set(why, whylen, "no call after `mov %rsp,%rdi` in entry_SYSCALL_64");
		return -1;
	}
	for (int i = 0; i < nc; i++) {
		uint64_t s = scan_do_syscall(rd, &dec, cand[i], dispatch, table);
		if (s) {
			*site = s;
			if (dsc)
				*dsc = cand[i];
			return 0;
		}
	}
	why_set(why, whylen, "no `dispatch; mov %rax,0x50(%reg); call` in do_syscall_64");
	return -1;
}
