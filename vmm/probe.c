/*
 * probe — pure part of the ring -1 probes (see vmm/probe.h, docs/PROBES.md):
 * instruction classification (Zydis), emulation arithmetic, site/page
 * bookkeeping with reference counts, shadow re-sync. No VMX here: the hardware
 * side comes in through struct probe_ops. Freestanding; all loops bounded.
 */
#include <string.h>
#include <stdio.h>
#include <Zydis/Zydis.h>
#include "vmm/probe.h"
#include "vmm/zyreg.h"

static void set_why(char *why, size_t n, const char *s)
{
	if (why && n) {
		size_t l = strlen(s);
		if (l >= n)
			l = n - 1;
		memcpy(why, s, l);
		why[l] = 0;
	}
}

int probe_classify(const uint8_t *bytes, size_t n, struct probe_insn *out, char *why, size_t whylen)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	memset(out, 0, sizeof(*out));
	if (!bytes || n == 0) {
		set_why(why, whylen, "no instruction bytes");
		return -1;
	}
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &zi, zo))) {
		set_why(why, whylen, "undecodable instruction");
		return -1;
	}
	out->len = zi.length;
	switch (zi.mnemonic) {
	case ZYDIS_MNEMONIC_ENDBR64:
		out->kind = PROBE_EMUL_SKIP;
		strcpy(out->text, "endbr64");
		return 0;
	case ZYDIS_MNEMONIC_NOP:
		out->kind = PROBE_EMUL_SKIP;
		strcpy(out->text, "nop");
		return 0;
	case ZYDIS_MNEMONIC_PUSH:
		if (zi.operand_count_visible == 1 && zo[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    zi.operand_width == 64) {
			int r = zyreg_gpr64(zo[0].reg.value);
			if (r >= 0 && r != 4) {        /* push %rsp: value is the old RSP: not needed */
				out->kind = PROBE_EMUL_PUSH;
				out->reg = (uint8_t)r;
				strcpy(out->text, "push r64");
				return 0;
			}
		}
		set_why(why, whylen, "push of something other than a 64-bit GPR (not emulated)");
		return -1;
	case ZYDIS_MNEMONIC_CALL:
		if (zi.operand_count_visible == 1 && zo[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
		    zo[0].imm.is_relative && zi.length == 5) {
			out->kind = PROBE_EMUL_CALL;
			out->rel = (int32_t)zo[0].imm.value.s;
			strcpy(out->text, "call rel32");
			return 0;
		}
		set_why(why, whylen, "indirect or non-rel32 call (not emulated)");
		return -1;
	default:
		break;
	}
	char b[96];
	snprintf(b, sizeof(b), "instruction %02x %02x %02x (len %u) is not endbr64/nop/push r64/call rel32: "
		 "cannot emulate it", bytes[0], n > 1 ? bytes[1] : 0, n > 2 ? bytes[2] : 0, zi.length);
	set_why(why, whylen, b);
	out->len = 0;
	return -1;
}

void probe_emulate(const struct probe_insn *in, struct probe_cpu *cpu, bool *push, uint64_t *value)
{
	uint64_t next = cpu->rip + in->len;
	*push = false;
	*value = 0;
	switch (in->kind) {
	case PROBE_EMUL_SKIP:
		cpu->rip = next;
		break;
	case PROBE_EMUL_PUSH:
		*value = cpu->gpr[in->reg & 15];
		cpu->rsp -= 8;
		*push = true;
		cpu->rip = next;
		break;
	case PROBE_EMUL_CALL:
		*value = next;
		cpu->rsp -= 8;
		*push = true;
		cpu->rip = next + (uint64_t)(int64_t)in->rel;
		break;
	default:
		break;
	}
}

void probe_table_init(struct probe_table *t, const struct probe_ops *ops)
{
	memset(t, 0, sizeof(*t));
	t->ops = *ops;
}

struct probe_site *probe_find(struct probe_table *t, uint64_t va)
{
	for (int i = 0; i < PROBE_MAX_SITES; i++)
		if (t->sites[i].used && t->sites[i].va == va)
			return &t->sites[i];
	return NULL;
}

struct probe_page *probe_find_page(struct probe_table *t, uint64_t gpa)
{
	gpa &= ~0xfffULL;
	for (int i = 0; i < PROBE_MAX_PAGES; i++)
		if (t->pages[i].used && t->pages[i].gpa == gpa)
			return &t->pages[i];
	return NULL;
}

/* int3 at every live site of the page, in the shadow */
static void arm_sites(struct probe_table *t, struct probe_page *pg)
{
	uint32_t pi = (uint32_t)(pg - t->pages);
	for (int i = 0; i < PROBE_MAX_SITES; i++)
		if (t->sites[i].used && t->sites[i].page == pi && !t->sites[i].suspended)
			pg->shadow[t->sites[i].off] = 0xcc;
}

static void free_site(struct probe_table *t, struct probe_site *s)
{
	struct probe_page *pg = &t->pages[s->page];
	pg->shadow[s->off] = s->orig[0];
	memset(s, 0, sizeof(*s));
	if (pg->nsites && --pg->nsites == 0) {
		t->ops.map_plain(t->ops.ctx, pg);
		t->ops.free_page(t->ops.ctx, pg->shadow);
		memset(pg, 0, sizeof(*pg));
	}
}

int probe_add(struct probe_table *t, uint64_t va, probe_handler_fn fn, void *ctx,
	      char *why, size_t whylen)
{
	if (!fn) {
		set_why(why, whylen, "no handler");
		return -1;
	}
	struct probe_site *s = probe_find(t, va);
	if (s) {
		for (uint32_t i = 0; i < s->nhandlers; i++)
			if (s->h[i].fn == fn && s->h[i].ctx == ctx) {
				set_why(why, whylen, "handler already registered at this address");
				return -1;
			}
		if (s->nhandlers >= PROBE_MAX_HANDLERS) {
			set_why(why, whylen, "too many handlers at this address");
			return -1;
		}
		s->h[s->nhandlers].fn = fn;
		s->h[s->nhandlers].ctx = ctx;
		s->nhandlers++;
		return 0;
	}
	if (!(va >> 63)) {
		set_why(why, whylen, "not a kernel address");
		return -1;
	}
	/* the instruction, read through the guest's page tables (may cross a page) */
	uint8_t insn[PROBE_INSN_MAX];
	uint32_t avail = PROBE_INSN_MAX;
	if (t->ops.read_virt(t->ops.ctx, va, insn, avail)) {
		avail = 0x1000 - (uint32_t)(va & 0xfff);     /* maybe the next page is absent */
		if (avail > PROBE_INSN_MAX)
			avail = PROBE_INSN_MAX;
		if (t->ops.read_virt(t->ops.ctx, va, insn, avail)) {
			set_why(why, whylen, "cannot read the instruction (address not mapped)");
			return -1;
		}
	}
	struct probe_insn pi;
	if (probe_classify(insn, avail, &pi, why, whylen))
		return -1;
	uint64_t gpa;
	if (t->ops.va_to_gpa(t->ops.ctx, va, &gpa)) {
		set_why(why, whylen, "cannot translate the address");
		return -1;
	}
	/* the same physical byte probed through another VA would alias: refuse */
	for (int i = 0; i < PROBE_MAX_SITES; i++) {
		struct probe_site *o = &t->sites[i];
		if (o->used && t->pages[o->page].gpa == (gpa & ~0xfffULL) &&
		    o->off < (va & 0xfff) + pi.len && (va & 0xfff) < (uint64_t)o->off + o->insn.len) {
			set_why(why, whylen, "overlaps another probed instruction");
			return -1;
		}
	}
	struct probe_site *ns = NULL;
	for (int i = 0; i < PROBE_MAX_SITES && !ns; i++)
		if (!t->sites[i].used)
			ns = &t->sites[i];
	if (!ns) {
		set_why(why, whylen, "probe table full");
		return -1;
	}
	struct probe_page *pg = probe_find_page(t, gpa);
	bool newpage = false;
	if (!pg) {
		for (int i = 0; i < PROBE_MAX_PAGES && !pg; i++)
			if (!t->pages[i].used)
				pg = &t->pages[i];
		if (!pg) {
			set_why(why, whylen, "probe page table full");
			return -1;
		}
		memset(pg, 0, sizeof(*pg));
		pg->shadow = t->ops.alloc_page(t->ops.ctx, &pg->shadow_pa);
		if (!pg->shadow) {
			set_why(why, whylen, "out of memory for the shadow page");
			return -1;
		}
		if (t->ops.read_phys(t->ops.ctx, gpa & ~0xfffULL, pg->shadow, 0x1000)) {
			t->ops.free_page(t->ops.ctx, pg->shadow);
			memset(pg, 0, sizeof(*pg));
			set_why(why, whylen, "cannot read the guest page");
			return -1;
		}
		pg->used = true;
		pg->gpa = gpa & ~0xfffULL;
		pg->va = va & ~0xfffULL;
		newpage = true;
	}
	memset(ns, 0, sizeof(*ns));
	ns->used = true;
	ns->va = va;
	ns->page = (uint32_t)(pg - t->pages);
	ns->off = (uint16_t)(va & 0xfff);
	ns->insn = pi;
	ns->origlen = (uint8_t)(0x1000 - ns->off < pi.len ? 0x1000 - ns->off : pi.len);
	memcpy(ns->orig, pg->shadow + ns->off, ns->origlen);
	if (memcmp(ns->orig, insn, ns->origlen)) {
		/* the page changed between the two reads (or the VA->PA view differs) */
		memset(ns, 0, sizeof(*ns));
		if (newpage) {
			t->ops.free_page(t->ops.ctx, pg->shadow);
			memset(pg, 0, sizeof(*pg));
		}
		set_why(why, whylen, "instruction bytes differ between virtual and physical reads");
		return -1;
	}
	ns->h[0].fn = fn;
	ns->h[0].ctx = ctx;
	ns->nhandlers = 1;
	pg->nsites++;
	/* one byte into a live shadow: a CPU executing it meanwhile sees the old
	 * byte or the int3, both correct (the one cross-modification x86 allows
	 * without a sync, as Linux's text_poke_bp relies on) */
	__atomic_store_n(&pg->shadow[ns->off], 0xcc, __ATOMIC_RELEASE);
	if (newpage && t->ops.map(t->ops.ctx, pg, PROBE_ALL)) {
		free_site(t, ns);
		set_why(why, whylen, "EPT update failed");
		return -1;
	}
	return 0;
}

int probe_remove(struct probe_table *t, uint64_t va, probe_handler_fn fn, void *ctx)
{
	struct probe_site *s = probe_find(t, va);
	if (!s)
		return -1;
	for (uint32_t i = 0; i < s->nhandlers; i++) {
		if (s->h[i].fn == fn && s->h[i].ctx == ctx) {
			for (uint32_t j = i + 1; j < s->nhandlers; j++)
				s->h[j - 1] = s->h[j];
			s->nhandlers--;
			if (s->nhandlers == 0)
				free_site(t, s);
			return 0;
		}
	}
	return -1;
}

void probe_leaf_of(const struct probe_page *pg, int cpu, bool exec_only, struct probe_leaf *out)
{
	enum probe_view v = (cpu >= 0 && cpu < PROBE_MAX_VCPUS) ? (enum probe_view)pg->view[cpu]
								 : PROBE_VIEW_EXEC;
	const uint32_t R = 1, W = 2, X = 4;
	if (pg->dirty) {
		/* the shadow is stale: nobody executes it; the next fetch exits and re-syncs */
		out->hpa = pg->gpa;
		out->perms = v == PROBE_VIEW_DATA_RW ? (R | W) : R;
		return;
	}
	switch (v) {
	case PROBE_VIEW_MIXED:
		out->hpa = pg->shadow_pa;
		out->perms = R | X;
		break;
	case PROBE_VIEW_DATA:
	case PROBE_VIEW_DATA_RW:      /* RW only while dirty: the next write exits and marks it */
		out->hpa = pg->gpa;
		out->perms = R;
		break;
	default:
		out->hpa = pg->shadow_pa;
		out->perms = exec_only ? X : (R | X);
		break;
	}
}

int probe_resync(struct probe_table *t, struct probe_page *pg)
{
	/* a new page, never the live one: other vCPUs may be executing the old
	 * shadow until the swap below reaches them */
	uint64_t npa;
	uint8_t *tmp = t->ops.alloc_page(t->ops.ctx, &npa);
	if (!tmp)
		return -1;
	if (t->ops.read_phys(t->ops.ctx, pg->gpa, tmp, 0x1000)) {
		t->ops.free_page(t->ops.ctx, tmp);
		return -1;
	}
	uint8_t *old = pg->shadow;
	pg->shadow = tmp;
	pg->shadow_pa = npa;
	uint32_t pi = (uint32_t)(pg - t->pages);
	int dropped = 0;
	for (int i = 0; i < PROBE_MAX_SITES; i++) {
		struct probe_site *s = &t->sites[i];
		if (!s->used || s->page != pi)
			continue;
		if (!memcmp(tmp + s->off, s->orig, s->origlen))
			continue;
		if (tmp[s->off] == 0xcc) {           /* the guest's own breakpoint */
			s->suspended = true;
			memcpy(s->orig, tmp + s->off, s->origlen);
			continue;
		}
		struct probe_insn ni;
		size_t avail = 0x1000 - s->off < PROBE_INSN_MAX ? 0x1000 - s->off : PROBE_INSN_MAX;
		char why[8];
		if (!probe_classify(tmp + s->off, avail, &ni, why, sizeof(why)) &&
		    (uint32_t)s->off + ni.len <= 0x1000) {
			s->insn = ni;
			s->origlen = ni.len;
			memcpy(s->orig, tmp + s->off, s->origlen);
			s->suspended = false;
			t->followed++;
			continue;
		}
		t->dropped++;
		dropped++;
		if (t->ops.dropped)
			t->ops.dropped(t->ops.ctx, s, "probed instruction rewritten by the guest into one hvmon cannot emulate");
		bool last = pg->nsites == 1;
		s->orig[0] = tmp[s->off];        /* free_site restores this byte: the current one */
		free_site(t, s);                 /* (the last site frees the new page, plain mapping back) */
		if (last) {
			t->ops.free_page(t->ops.ctx, old);
			return dropped;
		}
	}
	arm_sites(t, pg);
	pg->dirty = false;
	for (unsigned c = 0; c < PROBE_MAX_VCPUS; c++)   /* a later write must exit again */
		if (pg->view[c] == PROBE_VIEW_DATA_RW)
			pg->view[c] = PROBE_VIEW_DATA;
	pg->resyncs++;
	int rc = t->ops.map(t->ops.ctx, pg, PROBE_ALL);
	t->ops.free_page(t->ops.ctx, old);
	return rc ? -1 : dropped;
}

int probe_page_fault(struct probe_table *t, struct probe_page *pg, int cpu, bool fetch, bool write,
		     bool rip_on_page)
{
	if (cpu < 0 || cpu >= PROBE_MAX_VCPUS)
		return -1;
	pg->switches++;
	if (fetch) {
		pg->view[cpu] = PROBE_VIEW_EXEC;
		if (pg->dirty) {
			int d = probe_resync(t, pg);        /* maps every view */
			return d < 0 ? -1 : 0;               /* (page gone: plain mapping restored) */
		}
		return t->ops.map(t->ops.ctx, pg, cpu);
	}
	if (rip_on_page && !write) {
		/* code on this page reads this page: fetch and read must both work in
		 * one view or the guest ping-pongs forever (no MTF to step it) */
		pg->view[cpu] = PROBE_VIEW_MIXED;
		return t->ops.map(t->ops.ctx, pg, cpu);
	}
	if (write) {
		pg->view[cpu] = PROBE_VIEW_DATA_RW;
		if (!pg->dirty) {
			/* the original changes: the shadow every vCPU executes is stale
			 * (text patching); all lose it until the next fetch re-syncs */
			pg->dirty = true;
			return t->ops.map(t->ops.ctx, pg, PROBE_ALL);
		}
		return t->ops.map(t->ops.ctx, pg, cpu);
	}
	pg->view[cpu] = PROBE_VIEW_DATA;
	return t->ops.map(t->ops.ctx, pg, cpu);
}
