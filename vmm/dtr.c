/*
 * dtr — the descriptor-table instructions emulated in ring -1 (exit reasons 46
 * "access to GDTR or IDTR" and 47 "access to LDTR or TR"), when a subscriber
 * asked for them (hv_intercept_dtr, vmm/intercept.h): descriptor-table
 * exiting makes every LGDT, LIDT, SGDT, SIDT, LLDT, LTR, SLDT and STR exit
 * before it touches memory, so the core performs each exactly as the
 * processor would (pure rules: vmm/dtr_insn.[ch], host-tested), and offers
 * the loads (LGDT/LIDT/LLDT/LTR) to the subscribers first, who may refuse one.
 *
 * Nothing is re-executed: there is no monitor trap flag in Bochs 2.7 and the
 * control cannot be dropped for one instruction. Every guest input ends in the
 * instruction's effect or in the exception the processor would raise (#GP,
 * #SS, #NP, #PF with the error code and CR2 of SDM Vol. 3A 4.7); nothing halts
 * ring -1. Two choices of hvmon's, where the processor would touch something
 * ring -1 will not (docs/ARCHITECTURE.md "Descriptor-table exiting"):
 *  - an operand or descriptor in a page that is not plain guest RAM (MMIO,
 *    hvmon's own memory), a store into a page hvmon write-protects through EPT
 *    (the integrity monitor's kernel image, the probes' pages and page tables)
 *    or a paging structure outside guest RAM: #GP(0), counted (`refused`) —
 *    never a write behind the EPT's back;
 *  - the Accessed/Dirty bits: set in the leaf entry that maps the operand (as
 *    the processor does), not in the upper levels;
 *  - 32-bit/PAE paging outside IA-32e mode is not walked: #GP(0), `refused`.
 */
#include <string.h>
#include "vmm/dtr_insn.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/gmem.h"
#include "vmm/intercept.h"
#include "vmm/probe.h"
#include "vmm/page_guard.h"
#include "vmm/ept_map.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/regs.h"
#include "arch/x86/vmx.h"
#include "arch/x86/layout.h"

#define RFLAGS_VM (1ULL << 17)
#define RFLAGS_AC (1ULL << 18)
#define CS_L      (1u << 13)
#define CS_DB     (1u << 14)
#define PTE_A     (1ULL << 5)
#define PTE_D     (1ULL << 6)

static uint64_t nr_op[DTR__COUNT], nr_user, nr_fault[16], nr_refused, nr_vetoed, nr_ticks, nr_exits, sub_ticks;
#define COUNT(c, n) __atomic_fetch_add(&(c), (n), __ATOMIC_RELAXED)

static const uint32_t seg_base[6] = { VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
				      VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE };
static const uint32_t seg_limit[6] = { VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,
				       VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT };
static const uint32_t seg_ar[6] = { VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR,
				    VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR };

static uint64_t gpr_get(struct vcpu *v, unsigned r)
{
	return r == 4 ? vmread(VMCS_GUEST_RSP) : v->regs->by_index[r & 15];
}

static void gpr_set(struct vcpu *v, unsigned r, uint64_t val)
{
	if (r == 4)
		vmwrite(VMCS_GUEST_RSP, val);
	else
		v->regs->by_index[r & 15] = val;
}

static void cpu_state(struct vcpu *v, struct dtr_cpu *c)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), efer = vmread(VMCS_GUEST_EFER);
	uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
	for (unsigned i = 0; i < 16; i++)
		c->gpr[i] = gpr_get(v, i);
	for (unsigned i = 0; i < 6; i++) {
		c->seg[i].base = vmread(seg_base[i]);
		c->seg[i].limit = (uint32_t)vmread(seg_limit[i]);
		c->seg[i].ar = (uint32_t)vmread(seg_ar[i]);
	}
	c->ia32e = (efer & X86_EFER_LMA) != 0;
	c->la57 = vcpu_la57(v);
	if (!(cr0 & X86_CR0_PE))
		c->mode = DTR_MODE_REAL;
	else if (vcpu_rflags(v) & RFLAGS_VM)
		c->mode = DTR_MODE_V86;
	else if (c->ia32e && (cs_ar & CS_L))
		c->mode = DTR_MODE_LONG64;
	else
		c->mode = DTR_MODE_PROT;
}

/* The exception @f for the guest (RIP stays on the instruction: a fault). */
static int raise(struct vcpu *v, const struct dtr_fault *f)
{
	COUNT(nr_fault[f->vector & 15], 1);
	if (f->vector == DTR_VEC_PF)
		vcpu_inject_pf(v, f->cr2, f->err);
	else
		vcpu_inject_exception(v, f->vector, f->has_err, f->err);
	return HV_RESUME;
}

static int refuse(struct vcpu *v, bool real)
{
	struct dtr_fault f = { .vector = DTR_VEC_GP, .has_err = !real };
	COUNT(nr_refused, 1);
	return raise(v, &f);
}

/* Guest RAM hvmon may write for the guest: not hvmon's, not a probed page, not
 * a page the EPT write-protects (page_guard). */
static bool gpa_writable(struct vcpu *v, uint64_t gpa, unsigned len)
{
	return vm_is_guest_ram(v->vm, gpa, len) && !probe_gpa_probed(gpa) && (page_guard_perms(gpa) & EPT_W);
}

/* One page-sized piece of an access: its guest-physical address. */
struct piece { uint64_t gpa; unsigned len; uint64_t leaf_pa; bool paged; };

/*
 * Translate [la, la + len) (len <= 16: at most two pages) for @a, checking
 * every page before anything is read or written (the processor faults on the
 * page it cannot access; a store is all or nothing here). 0, 1 (refused: not
 * guest RAM / not writable for hvmon), or -1 with @f (#PF).
 */
static int translate(struct vcpu *v, uint64_t la, unsigned len, const struct dtr_access *a, struct piece p[2],
		     unsigned *np, struct dtr_fault *f)
{
	bool paging = (vmread(VMCS_GUEST_CR0) & X86_CR0_PG) != 0;
	/* 32-bit and PAE paging outside IA-32e mode are not walked (vmm/gmem walks
	 * 4- and 5-level tables; Linux x86-64 never pages that way): refused */
	if (paging && !(vmread(VMCS_GUEST_EFER) & X86_EFER_LMA))
		return 1;
	struct gmem_mmu m = {
		.read_phys = vm_guest_ram_read, .ctx = v->vm, .cr3 = vmread(VMCS_GUEST_CR3),
		.la57 = vcpu_la57(v), .nxe = (vmread(VMCS_GUEST_EFER) & X86_EFER_NXE) != 0,
	};
	*np = 0;
	while (len) {
		unsigned n = 4096 - (unsigned)(la & 0xfff);
		if (n > len)
			n = len;
		struct piece *q = &p[(*np)++];
		q->len = n;
		q->paged = paging;
		if (!paging) {
			q->gpa = la & 0xffffffffULL;    /* no paging: linear is physical (32-bit) */
		} else {
			struct gmem_walk w = { 0 };
			int rc = gmem_translate(&m, la, 0, &w);
			/* a reserved bit: P = 1 and RSVD = 1 in the error code (SDM 4.7) */
			struct dtr_pte_rights r = { .present = rc == GMEM_OK || rc == GMEM_ERR_RESERVED,
						    .rsvd = rc == GMEM_ERR_RESERVED,
						    .writable = w.writable, .user = w.user };
			if (rc != GMEM_OK && rc != GMEM_ERR_NOT_PRESENT && rc != GMEM_ERR_RESERVED)
				return 1;               /* a paging structure outside guest RAM */
			uint32_t e = dtr_page_check(&r, a);
			if (e) {
				*f = (struct dtr_fault){ .vector = DTR_VEC_PF, .has_err = true,
							 .err = e & ~DTR_PF_FAULT, .cr2 = la };
				return -1;
			}
			q->gpa = w.gpa;
			q->leaf_pa = w.leaf_pa;
		}
		if (a->write ? !gpa_writable(v, q->gpa, n) : !vm_is_guest_ram(v->vm, q->gpa, n))
			return 1;
		la += n;
		len -= n;
	}
	return 0;
}

/* Set the leaf's Accessed (and Dirty) bit as the processor would, when hvmon may write that entry. */
static void mark_ad(struct vcpu *v, const struct piece *q, bool write)
{
	if (!q->paged || (q->leaf_pa & 7) || !gpa_writable(v, q->leaf_pa, 8))
		return;
	uint64_t bits = PTE_A | (write ? PTE_D : 0);
	uint64_t *e = hv_phys_to_ptr(q->leaf_pa);
	if ((__atomic_load_n(e, __ATOMIC_RELAXED) & bits) != bits)
		__atomic_fetch_or(e, bits, __ATOMIC_SEQ_CST);
}

/* Read or write @len bytes at linear @la for the instruction (explicit access at the CPL). */
static int access_mem(struct vcpu *v, uint64_t la, void *buf, unsigned len, bool write, bool implicit,
		      struct dtr_fault *f)
{
	struct piece p[2];
	unsigned np;
	uint64_t cr4 = vmread(VMCS_GUEST_CR4);
	struct dtr_access a = {
		.write = write, .implicit = implicit, .user = !implicit && vcpu_cpl(v) == 3,
		.wp = (vmread(VMCS_GUEST_CR0) & X86_CR0_WP) != 0, .smap = (cr4 & X86_CR4_SMAP) != 0,
		.ac = (vcpu_rflags(v) & RFLAGS_AC) != 0,
	};
	if (len > 16)
		return 1;
	int rc = translate(v, la, len, &a, p, &np, f);
	if (rc)
		return rc;
	uint8_t *b = buf;
	for (unsigned i = 0; i < np; i++) {
		if (write)
			memcpy(hv_phys_to_ptr(p[i].gpa), b, p[i].len);
		else if (vm_guest_ram_read(v->vm, p[i].gpa, b, p[i].len))
			return 1;
		mark_ad(v, &p[i], write);
		b += p[i].len;
	}
	return 0;
}

/* The operand size from the instruction's bytes (the field has none for
 * LLDT/LTR/SLDT/STR, and Bochs 2.7 leaves its bit 11 clear for LGDT/LIDT). */
static unsigned op_size(struct vcpu *v, const struct dtr_cpu *c)
{
	bool long64 = c->mode == DTR_MODE_LONG64;
	bool def32 = c->mode == DTR_MODE_PROT && (c->seg[DTR_CS].ar & CS_DB);
	unsigned n = (unsigned)vmread(VMCS_EXIT_INSTR_LEN);
	uint8_t b[15];
	struct dtr_fault f;
	uint64_t rip = vcpu_rip(v);
	uint64_t la = long64 ? rip : (c->seg[DTR_CS].base + rip) & 0xffffffffULL;
	if (n > sizeof(b) || !n || access_mem(v, la, b, n, false, false, &f))
		return long64 ? 4 : def32 ? 4 : 2;      /* unreadable now: the default size */
	int s = dtr_opsize(b, n, long64, def32);
	return s > 0 ? (unsigned)s : long64 ? 4 : def32 ? 4 : 2;
}

/* Offer a load to the subscribers: true when one refused it. */
static bool vetoed(struct vcpu *v, unsigned op, uint16_t sel, uint64_t old_base, uint32_t old_limit, uint64_t base,
		   uint32_t limit)
{
	struct hv_icpt x = { .kind = HV_ICPT_DTR_LOAD,
			     .dtr = { .op = (uint8_t)op, .sel = sel, .old_base = old_base, .old_limit = old_limit,
				      .base = base, .limit = limit } };
	uint64_t t0 = rdtsc();
	int rc = hv_intercept_call(v, &x);
	COUNT(sub_ticks, rdtsc() - t0);         /* the subscribers' share (their events, console lines) */
	if (rc != HV_ICPT_DONE)
		return false;
	COUNT(nr_vetoed, 1);
	return true;
}

static int do_gdt_idt(struct vcpu *v, const struct dtr_insn *d, const struct dtr_cpu *c)
{
	bool idt = d->op == DTR_SIDT || d->op == DTR_LIDT, long64 = c->mode == DTR_MODE_LONG64;
	uint32_t fb = idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE;
	uint32_t fl = idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT;
	unsigned len = dtr_mem_len(d, c);
	bool load = dtr_op_loads(d->op);
	uint8_t m[10];
	uint64_t la;
	struct dtr_fault f;
	if (dtr_linear(d, c, len, !load, &la, &f))
		return raise(v, &f);
	if (!load) {
		dtr_store_pseudo(m, long64, vmread(fb), (uint16_t)vmread(fl));
		int rc = access_mem(v, la, m, len, true, false, &f);
		if (rc)
			return rc < 0 ? raise(v, &f) : refuse(v, c->mode == DTR_MODE_REAL);
		vcpu_skip_instruction(v);
		return HV_RESUME;
	}
	int rc = access_mem(v, la, m, len, false, false, &f);
	if (rc)
		return rc < 0 ? raise(v, &f) : refuse(v, c->mode == DTR_MODE_REAL);
	uint64_t base;
	uint16_t limit;
	dtr_parse_pseudo(m, long64 ? 8 : op_size(v, c), &base, &limit);
	/* a non-canonical base would fail the next VM entry (SDM 26.3.1.3); Bochs
	 * raises #GP(0) for it (LGDT64_Ms) */
	if (long64 && !dtr_canonical(base, c->la57)) {
		f = (struct dtr_fault){ .vector = DTR_VEC_GP, .has_err = true };
		return raise(v, &f);
	}
	if (!vetoed(v, d->op, 0, vmread(fb), (uint32_t)vmread(fl), base, limit)) {
		vmwrite(fb, base);
		vmwrite(fl, limit);
	}
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

/* SLDT/STR: the selector to a register (by the operand size) or 2 bytes of memory. */
static int do_store_sel(struct vcpu *v, const struct dtr_insn *d, const struct dtr_cpu *c)
{
	uint16_t sel = (uint16_t)vmread(d->op == DTR_SLDT ? VMCS_GUEST_LDTR_SEL : VMCS_GUEST_TR_SEL);
	struct dtr_fault f;
	if (!d->mem) {
		unsigned os = op_size(v, c);
		uint64_t old = gpr_get(v, d->reg);
		uint64_t val = os == 2 ? (old & ~0xffffULL) | sel : sel;   /* 32 bits: upper half cleared (SDM "SLDT") */
		gpr_set(v, d->reg, val);
		vcpu_skip_instruction(v);
		return HV_RESUME;
	}
	uint64_t la;
	uint8_t m[2] = { (uint8_t)sel, (uint8_t)(sel >> 8) };
	if (dtr_linear(d, c, 2, true, &la, &f))
		return raise(v, &f);
	int rc = access_mem(v, la, m, 2, true, false, &f);
	if (rc)
		return rc < 0 ? raise(v, &f) : refuse(v, false);
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

/* LLDT/LTR: the selector, its descriptor from the GDT (checked as the
 * instruction does), LTR's busy bit set in the GDT, then LDTR/TR loaded. */
static int do_load_sel(struct vcpu *v, const struct dtr_insn *d, const struct dtr_cpu *c)
{
	struct dtr_fault f;
	uint16_t sel;
	if (!d->mem) {
		sel = (uint16_t)gpr_get(v, d->reg);
	} else {
		uint64_t la;
		uint8_t m[2];
		if (dtr_linear(d, c, 2, false, &la, &f))
			return raise(v, &f);
		int rc = access_mem(v, la, m, 2, false, false, &f);
		if (rc)
			return rc < 0 ? raise(v, &f) : refuse(v, false);
		sel = (uint16_t)(m[0] | m[1] << 8);
	}
	bool ldt = d->op == DTR_LLDT;
	uint32_t fsel = ldt ? VMCS_GUEST_LDTR_SEL : VMCS_GUEST_TR_SEL, fb = ldt ? VMCS_GUEST_LDTR_BASE : VMCS_GUEST_TR_BASE;
	uint32_t fl = ldt ? VMCS_GUEST_LDTR_LIMIT : VMCS_GUEST_TR_LIMIT, far = ldt ? VMCS_GUEST_LDTR_AR : VMCS_GUEST_TR_AR;
	uint64_t off, gdt = vmread(VMCS_GUEST_GDTR_BASE);
	unsigned len;
	int rc = dtr_desc_locate(d->op, sel, (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT), c->ia32e, &off, &len, &f);
	if (rc < 0)
		return raise(v, &f);
	struct dtr_seg s = { .ar = DTR_AR_UNUSABLE };
	uint8_t desc[16];
	if (rc == 0) {
		uint64_t dla = c->ia32e ? gdt + off : (gdt + off) & 0xffffffffULL;
		rc = access_mem(v, dla, desc, len, false, true, &f);
		if (rc)
			return rc < 0 ? raise(v, &f) : refuse(v, false);
		if (dtr_desc_load(d->op, sel, desc, len, c->ia32e, c->la57, &s, &f))
			return raise(v, &f);
		if (!ldt) {
			/* the busy bit, a locked write of the descriptor's type byte (SDM "LTR") */
			uint8_t t = desc[5] | 2;
			rc = access_mem(v, dla + 5, &t, 1, true, true, &f);
			if (rc)
				return rc < 0 ? raise(v, &f) : refuse(v, false);
		}
	}
	if (!vetoed(v, d->op, sel, vmread(fb), (uint32_t)vmread(fl), s.base, s.limit)) {
		vmwrite(fsel, sel);
		vmwrite(fb, s.base);
		vmwrite(fl, s.limit);
		vmwrite(far, s.ar);
	}
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

int dtr_exit(struct vcpu *v)
{
	uint64_t t0 = rdtsc();
	unsigned reason = v->exit_reason & 0xffff;
	struct dtr_insn d;
	struct dtr_cpu c;
	struct dtr_fault f;
	int rc;
	COUNT(nr_exits, 1);
	if (dtr_decode(reason, (uint32_t)vmread(VMCS_EXIT_INSTR_INFO), v->exit_qual, &d)) {
		vcpu_inject_ud(v);                      /* an encoding no processor reports */
		COUNT(nr_fault[DTR_VEC_UD], 1);
		return HV_RESUME;
	}
	COUNT(nr_op[d.op], 1);
	cpu_state(v, &c);
	unsigned cpl = c.mode == DTR_MODE_REAL ? 0 : c.mode == DTR_MODE_V86 ? 3 : vcpu_cpl(v);
	if (cpl)
		COUNT(nr_user, 1);
	/* SDM 26.1.1: these faults come before the exit; checked again so that no
	 * processor's order lets a CPL > 0 load through */
	if ((dtr_op_loads(d.op) && cpl) || (d.op >= DTR_SLDT && c.mode <= DTR_MODE_V86)) {
		bool ud = d.op >= DTR_SLDT && c.mode <= DTR_MODE_V86;
		f = (struct dtr_fault){ .vector = ud ? DTR_VEC_UD : DTR_VEC_GP, .has_err = !ud };
		rc = raise(v, &f);
	} else if (d.op <= DTR_LIDT) {
		rc = do_gdt_idt(v, &d, &c);
	} else if (d.op == DTR_SLDT || d.op == DTR_STR) {
		rc = do_store_sel(v, &d, &c);
	} else {
		rc = do_load_sel(v, &d, &c);
	}
	COUNT(nr_ticks, rdtsc() - t0);
	return rc;
}

void dtr_print_stats(void)
{
	if (!nr_exits)
		return;
	hv_printf("hvmon: descriptor-table exits: %lu (%lu TSC ticks/exit, %lu without the subscribers): "
		  "sgdt %lu sidt %lu lgdt %lu lidt %lu "
		  "sldt %lu str %lu lldt %lu ltr %lu; at CPL > 0 %lu; reflected #GP %lu #SS %lu #NP %lu #PF %lu #UD %lu; "
		  "refused (not plain guest RAM) %lu; loads refused by a subscriber %lu\n",
		  (unsigned long)nr_exits, (unsigned long)(nr_ticks / nr_exits),
		  (unsigned long)((nr_ticks - sub_ticks) / nr_exits), (unsigned long)nr_op[DTR_SGDT],
		  (unsigned long)nr_op[DTR_SIDT], (unsigned long)nr_op[DTR_LGDT], (unsigned long)nr_op[DTR_LIDT],
		  (unsigned long)nr_op[DTR_SLDT], (unsigned long)nr_op[DTR_STR], (unsigned long)nr_op[DTR_LLDT],
		  (unsigned long)nr_op[DTR_LTR], (unsigned long)nr_user, (unsigned long)(nr_fault[DTR_VEC_GP] - nr_refused),
		  (unsigned long)nr_fault[DTR_VEC_SS], (unsigned long)nr_fault[DTR_VEC_NP],
		  (unsigned long)nr_fault[DTR_VEC_PF], (unsigned long)nr_fault[DTR_VEC_UD], (unsigned long)nr_refused,
		  (unsigned long)nr_vetoed);
}
