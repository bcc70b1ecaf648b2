/* libFuzzer target: the descriptor-table instruction rules (vmm/dtr_insn.c)
 * over arbitrary exit information, CPU state, instruction bytes and
 * descriptors. Invariants: no crash/UB; a decoded instruction's fields are in
 * range; a linear address is canonical in 64-bit mode and below 4 GiB
 * elsewhere; an operand size is 2/4/8 (8 only in 64-bit mode); a fault in real
 * mode has no error code; a loaded LDTR/TR passes the VM-entry checks of
 * SDM 26.3.1.2 (type, S, P, reserved access-rights bits, limit vs G, canonical
 * base), so that emulating any guest input never makes the next VM entry fail. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "vmm/dtr_insn.h"

struct in {
	uint32_t reason_bit, info;
	uint64_t qual;
	uint64_t gpr[16];
	struct { uint64_t base; uint32_t limit, ar; } seg[6];
	uint8_t mode, flags, len;
	uint16_t sel;
	uint32_t gdt_limit;
	uint8_t bytes[15];
	uint8_t desc[16];
	uint8_t rights;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in;
	if (size < sizeof(in))
		return 0;
	memcpy(&in, data, sizeof(in));
	struct dtr_insn d;
	struct dtr_cpu c;
	struct dtr_fault f;
	unsigned reason = (in.reason_bit & 1) ? 47 : 46;
	if (in.reason_bit & 2)
		reason = in.reason_bit >> 2;        /* any reason: must be refused unless 46/47 */
	int rc = dtr_decode(reason, in.info, in.qual, &d);
	if (rc == 0) {
		if (reason != 46 && reason != 47)
			abort();
		if (d.op >= DTR__COUNT || (d.mem && (d.seg > DTR_GS || (d.asize != 2 && d.asize != 4 && d.asize != 8))))
			abort();
		if (d.reg > 15 || d.base > 15 || d.index > 15 || d.scale > 3)
			abort();
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.gpr, in.gpr, sizeof(c.gpr));
	for (unsigned i = 0; i < 6; i++)
		c.seg[i] = (struct dtr_seg){ in.seg[i].base, in.seg[i].limit, in.seg[i].ar };
	c.mode = in.mode & 3;
	c.ia32e = in.flags & 1;
	c.la57 = (in.flags >> 1) & 1;
	if (c.mode != DTR_MODE_LONG64)
		for (unsigned i = 0; i < 6; i++)
			c.seg[i].base &= 0xffffffffULL;    /* the VMCS holds 32-bit bases there */
	if (rc == 0 && d.mem) {
		uint64_t la;
		unsigned len = dtr_mem_len(&d, &c);
		if (len != 2 && len != 6 && len != 10)
			abort();
		if (dtr_linear(&d, &c, len, in.flags & 4, &la, &f) == 0) {
			if (c.mode == DTR_MODE_LONG64 && (!dtr_canonical(la, c.la57) || !dtr_canonical(la + len - 1, c.la57)))
				abort();
			if (c.mode != DTR_MODE_LONG64 && la > 0xffffffffULL)
				abort();
		} else {
			if (f.vector != DTR_VEC_GP && f.vector != DTR_VEC_SS && f.vector != DTR_VEC_UD)
				abort();
			if (c.mode == DTR_MODE_REAL && f.has_err)
				abort();
		}
	}
	int os = dtr_opsize(in.bytes, in.len % 16, c.mode == DTR_MODE_LONG64, in.flags & 8);
	if (os != -1 && os != 2 && os != 4 && !(os == 8 && c.mode == DTR_MODE_LONG64))
		abort();
	struct dtr_pte_rights r = { in.rights & 1, (in.rights >> 1) & 1, (in.rights >> 2) & 1, (in.rights >> 3) & 1 };
	struct dtr_access a = { (in.rights >> 4) & 1, (in.rights >> 5) & 1, (in.rights >> 6) & 1, (in.rights >> 7) & 1,
				in.flags & 16, in.flags & 32 };
	uint32_t e = dtr_page_check(&r, &a);
	if (e && (!(e & DTR_PF_FAULT) || (e & ~DTR_PF_FAULT) > 0xf))
		abort();
	uint8_t m[10];
	uint64_t base;
	uint16_t limit;
	unsigned n = dtr_store_pseudo(m, c.mode == DTR_MODE_LONG64, in.qual, in.sel);
	dtr_parse_pseudo(m, n == 10 ? 8 : 4, &base, &limit);
	if (limit != in.sel || base != (n == 10 ? in.qual : (in.qual & 0xffffffffULL)))
		abort();
	unsigned op = (in.flags & 64) ? DTR_LTR : DTR_LLDT;
	uint64_t off;
	unsigned dl;
	struct dtr_seg s;
	rc = dtr_desc_locate(op, in.sel, in.gdt_limit, c.ia32e, &off, &dl, &f);
	if (rc == 0) {
		if (off + dl - 1 > in.gdt_limit || (dl != 8 && dl != 16))
			abort();
		if (dtr_desc_load(op, in.sel, in.desc, dl, c.ia32e, c.la57, &s, &f) == 0) {
			unsigned type = s.ar & 0xf;
			bool g = (s.ar >> 15) & 1;
			if (op == DTR_LLDT ? type != 2 : (c.ia32e ? type != 11 : (type != 3 && type != 11)))
				abort();
			if ((s.ar & 0x10) || !(s.ar & 0x80) || (s.ar & 0xf00) || (s.ar >> 17))
				abort();
			if (((s.limit & 0xfff) != 0xfff && g) || ((s.limit >> 20) && !g))
				abort();
			if (c.ia32e && !dtr_canonical(s.base, c.la57))
				abort();
		} else if (f.vector != DTR_VEC_GP && f.vector != DTR_VEC_NP) {
			abort();
		}
	} else if (rc == 1 && op != DTR_LLDT) {
		abort();
	}
	return 0;
}
