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

/* x86-64 page-table entries (SDM Vol. 3A 4.5) */
#define PT_ADDR  0x000ffffffffff000ULL
#define PT_P     0x1ULL
#define PT_PS    0x80ULL
#define PT_HALF  256                          /* root entries of the user half */


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

/* int3 at every live site of the page, in the shadow, and at every suspended
 * site that returns land on (PROBE_F_RETURNS: the catcher; under the guest's
 * own int3 the byte is 0xCC already) */
static void arm_sites(struct probe_table *t, struct probe_page *pg)
{
	uint32_t pi = (uint32_t)(pg - t->pages);
	for (int i = 0; i < PROBE_MAX_SITES; i++) {
		const struct probe_site *s = &t->sites[i];
		if (s->used && s->page == pi && (!s->suspended || (s->flags & PROBE_F_RETURNS)))
			pg->shadow[s->off] = 0xcc;
	}
}

enum probe_bp_action probe_bp_action(const struct probe_site *s, bool software)
{
	if (!s || !s->used || !software)
		return PROBE_BP_REFLECT;
	if (!s->suspended)
		return PROBE_BP_ENTRY;
	if (s->orig[0] == 0xcc)             /* the guest's int3: its own breakpoint, or a return */
		return (s->flags & PROBE_F_RETURNS) ? PROBE_BP_RETURN_OR_REFLECT : PROBE_BP_REFLECT;
	/* a rewrite: only a catcher puts an int3 here (arm_sites) */
	return (s->flags & PROBE_F_RETURNS) ? PROBE_BP_RETURN_OR_GUEST : PROBE_BP_REFLECT;
}

int probe_guest_view(struct probe_table *t, struct probe_page *pg, int cpu)
{
	if (cpu < 0 || cpu >= PROBE_MAX_VCPUS || !pg->used)
		return -1;
	t->guest_runs++;
	pg->view[cpu] = PROBE_VIEW_GUEST;
	return t->ops.map(t->ops.ctx, pg, cpu);
}

int probe_guest_view_end(struct probe_table *t, struct probe_page *pg, int cpu)
{
	if (cpu < 0 || cpu >= PROBE_MAX_VCPUS || !pg->used || pg->view[cpu] != PROBE_VIEW_GUEST)
		return 0;
	pg->view[cpu] = PROBE_VIEW_EXEC;
	return t->ops.map(t->ops.ctx, pg, cpu);
}

static void free_site(struct probe_table *t, struct probe_site *s)
{
	uint32_t s_page = s->page;
	struct probe_page *pg = &t->pages[s_page];
	pg->shadow[s->off] = s->orig[0];
	memset(s, 0, sizeof(*s));
	if (pg->nsites && --pg->nsites == 0) {
		t->ops.map_plain(t->ops.ctx, pg);
		t->ops.free_page(t->ops.ctx, pg->shadow);
		memset(pg, 0, sizeof(*pg));
		t->pt.top[s_page] = 0;           /* the slot may hold another VA next */
		t->pt.root_e[s_page] = 0;
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
	case PROBE_VIEW_GUEST:        /* the guest's bytes, run once after a catcher's entry */
		out->hpa = pg->gpa;
		out->perms = R | X;
		break;
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

static void tamper_fill(struct probe_tamper *tp, const char *what, const struct probe_site *s,
			const struct probe_page *pg, const uint8_t *bytes, unsigned n)
{
	memset(tp, 0, sizeof(*tp));
	tp->what = what;
	tp->site = s;
	tp->page = pg;
	tp->va = s->va;
	tp->gpa = pg->gpa + s->off;
	tp->rearmed = !s->suspended;
	tp->nbytes = (uint8_t)(n < sizeof(tp->bytes) ? n : sizeof(tp->bytes));
	if (bytes)
		memcpy(tp->bytes, bytes, tp->nbytes);
}

static uint64_t tsc_ms(const struct probe_tick_in *in, uint64_t d)
{
	return in->tsc_per_ms ? d / in->tsc_per_ms : 0;
}

static void report(struct probe_table *t, const struct probe_tamper *tp)
{
	t->tampers++;
	if (t->ops.tamper)
		t->ops.tamper(t->ops.ctx, tp);
}

/* The guest's bytes @cur at site @s of @pg differ from what the site holds
 * (after a write or a move to another physical page): the rules of
 * docs/PROBES.md "Tampering". Returns 1 when the site was blinded by a rewrite
 * now, else 0. */
static int recheck_site(struct probe_table *t, struct probe_page *pg, struct probe_site *s, const uint8_t *cur)
{
	if (!memcmp(cur + s->off, s->orig, s->origlen))
		return 0;
	if (cur[s->off] == 0xcc) {           /* the guest's own breakpoint (text_poke_bp, or not) */
		s->suspended = true;
		memcpy(s->orig, cur + s->off, s->origlen);
		return 0;
	}
	struct probe_insn ni;
	size_t avail = 0x1000 - s->off < PROBE_INSN_MAX ? 0x1000 - s->off : PROBE_INSN_MAX;
	char why[8];
	if (!probe_classify(cur + s->off, avail, &ni, why, sizeof(why)) &&
	    (uint32_t)s->off + ni.len <= 0x1000) {
		/* ftrace's call <-> nop, or the original bytes back after an int3 or
		 * a rewrite: follow / re-arm */
		if (s->suspended)
			t->rearmed++;
		s->insn = ni;
		s->origlen = ni.len;
		memcpy(s->orig, cur + s->off, s->origlen);
		s->suspended = false;
		s->rewrite_reported = false;
		t->followed++;
		return 0;
	}
	/* an instruction hvmon cannot emulate, written without the int3 that
	 * Linux's live patching puts first (text_poke_bp): an attack, or a
	 * patch hvmon cannot follow. The guest's bytes win; the site waits,
	 * suspended, for bytes it can probe again. */
	s->suspended = true;
	s->origlen = (uint8_t)(0x1000 - s->off < PROBE_INSN_MAX ? 0x1000 - s->off : PROBE_INSN_MAX);
	memcpy(s->orig, cur + s->off, s->origlen);
	if (s->rewrite_reported)
		return 0;
	s->rewrite_reported = true;
	t->dropped++;
	struct probe_tamper tp;
	tamper_fill(&tp, "rewrite", s, pg, cur + s->off, s->origlen);
	report(t, &tp);
	return 1;
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
	int blinded = 0;
	for (int i = 0; i < PROBE_MAX_SITES; i++) {
		struct probe_site *s = &t->sites[i];
		if (s->used && s->page == pi)
			blinded += recheck_site(t, pg, s, tmp);
	}
	arm_sites(t, pg);
	pg->dirty = false;
	for (unsigned c = 0; c < PROBE_MAX_VCPUS; c++)   /* a later write must exit again */
		if (pg->view[c] == PROBE_VIEW_DATA_RW)
			pg->view[c] = PROBE_VIEW_DATA;
	pg->resyncs++;
	int rc = t->ops.map(t->ops.ctx, pg, PROBE_ALL);
	t->ops.free_page(t->ops.ctx, old);
	return rc ? -1 : blinded;
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

/* ---- tampering (issue 15, docs/PROBES.md "Tampering") ------------------------ */

void probe_site_label(struct probe_site *s, const char *who, const char *what, uint32_t flags)
{
	size_t n = 0;
	for (const char *p = who; p && *p && n < PROBE_NAME_LEN - 1; p++)
		s->name[n++] = *p;
	if (what && *what && n < PROBE_NAME_LEN - 1)
		s->name[n++] = ':';
	for (const char *p = what; p && *p && n < PROBE_NAME_LEN - 1; p++)
		s->name[n++] = *p;
	s->name[n] = 0;
	s->flags = flags;
}

void probe_site_claim(struct probe_site *s, const char *who, const char *what, uint32_t flags)
{
	if (!s->name[0] || (what && *what && (flags & ~s->flags)))
		probe_site_label(s, who, what, flags | s->flags);
	else
		s->flags |= flags;
}

/* The guest's page tables map the probed page's VA to @ngpa now (a copy of
 * the page, e.g.): re-place the page's probes there. The old physical page
 * gets its plain mapping back. Each site is reported ("remap"); its bytes on
 * the new page follow the usual rules (recheck_site). 0, or -1 when the probes
 * could not move (the new page is probed already, no memory, unreadable). */
static int move_page(struct probe_table *t, struct probe_page *pg, uint64_t ngpa, int *blinded,
		     const struct probe_writer *by)
{
	uint32_t pi = (uint32_t)(pg - t->pages);
	uint64_t npa;
	uint8_t *ns = probe_find_page(t, ngpa) ? NULL : t->ops.alloc_page(t->ops.ctx, &npa);
	if (ns && t->ops.read_phys(t->ops.ctx, ngpa, ns, 0x1000)) {
		t->ops.free_page(t->ops.ctx, ns);
		ns = NULL;
	}
	uint64_t ogpa = pg->gpa;
	if (ns) {
		t->ops.map_plain(t->ops.ctx, pg);        /* the old page: identity RWX again */
		t->ops.free_page(t->ops.ctx, pg->shadow);
		pg->gpa = ngpa;
		pg->shadow = ns;
		pg->shadow_pa = npa;
		pg->dirty = false;
		memset(pg->view, PROBE_VIEW_EXEC, sizeof(pg->view));
		pg->moves++;
		pg->mm_remap = 0;
		t->moves++;
		for (int i = 0; i < PROBE_MAX_SITES; i++) {
			struct probe_site *s = &t->sites[i];
			if (s->used && s->page == pi)
				*blinded += recheck_site(t, pg, s, ns);
		}
		arm_sites(t, pg);
		if (t->ops.map(t->ops.ctx, pg, PROBE_ALL))
			return -1;
	}
	for (int i = 0; i < PROBE_MAX_SITES; i++) {
		struct probe_site *s = &t->sites[i];
		if (!s->used || s->page != pi)
			continue;
		struct probe_tamper tp;
		/* the guest's bytes there (s->orig after recheck_site), not the shadow's int3 */
		tamper_fill(&tp, "remap", s, pg, ns ? s->orig : NULL, ns ? s->origlen : 0);
		tp.gpa = ogpa + s->off;
		tp.new_gpa = ngpa + s->off;
		tp.rearmed = ns && !s->suspended;
		tp.pt_writer = by;
		report(t, &tp);
	}
	return ns ? 0 : -1;
}

/* The VA maps to @gpa under this vCPU's CR3 while the kernel's own tables
 * below the root (learnt by probe_pt_learn, shared by every address space) still
 * map the probed page: ONE address space has a private kernel half (its root's
 * entry points to copied tables, docs/PROBES.md "A private kernel half"). Moving
 * the probe there would unprobe every other process (and the next check in
 * another process would move it back): the probe stays, each site is reported
 * once per target ("remap_mm", the task on this vCPU: the one that runs on the
 * copy). True when that is the case (the caller does nothing more). */
static bool check_remap_mm(struct probe_table *t, struct probe_page *pg, uint64_t gpa,
			   const struct probe_tick_in *in)
{
	uint32_t pi = (uint32_t)(pg - t->pages);
	uint64_t tab[4], sgpa;
	unsigned n;
	if (!t->pt.top[pi] || probe_pt_walk(t, t->pt.top[pi], pg->va, &sgpa, tab, &n) || sgpa != pg->gpa)
		return false;                 /* not known, or the shared tables moved too: a remap for all */
	pg->remap_gpa = 0;
	pg->remap_seen = 0;
	if (gpa == pg->mm_remap || in->halted)
		return true;                  /* reported already; or the idle task on that process's
					       * CR3 (lazy TLB): reported when a task runs on it */
	pg->mm_remap = gpa;
	t->mm_remaps++;
	for (int i = 0; i < PROBE_MAX_SITES; i++) {
		struct probe_site *s = &t->sites[i];
		if (!s->used || s->page != pi)
			continue;
		uint8_t b[8];
		unsigned nb = s->origlen < sizeof(b) ? s->origlen : sizeof(b);
		if (t->ops.read_phys(t->ops.ctx, gpa + s->off, b, nb))   /* the copy's bytes at the site */
			nb = 0;
		struct probe_tamper tp;
		tamper_fill(&tp, "remap_mm", s, pg, b, nb);
		tp.gpa = pg->gpa + s->off;
		tp.new_gpa = gpa + s->off;
		tp.rearmed = false;
		report(t, &tp);
	}
	return true;
}

/* The root entry of @root for @pg's VA when it is a private kernel half (docs/PROBES.md
 * "A private kernel half"): the entry is not the kernel's (learnt by probe_pt_learn),
 * the walk below it maps the probed VA to another page, and the kernel's own tables
 * below the root still map the probed page (else it is a remap for everyone: check_remap,
 * probe_pt_check). Returns the other page (0: not the case); the entry's address in *slot. */
static uint64_t private_copy(struct probe_table *t, const struct probe_page *pg, uint64_t root, uint64_t *slot)
{
	uint32_t pi = (uint32_t)(pg - t->pages);
	uint64_t top = t->pt.top[pi], e, tab[4], gpa, sgpa;
	unsigned n;
	if (!top || !root)
		return 0;
	*slot = root + ((pg->va >> (t->pt.la57 ? 48 : 39)) & 511) * 8ULL;
	if (t->ops.read_phys(t->ops.ctx, *slot, &e, 8) || !(e & PT_P) || (e & PT_ADDR) == top)
		return 0;
	if (probe_pt_walk(t, e & PT_ADDR, pg->va, &gpa, tab, &n) || gpa == pg->gpa)
		return 0;
	if (probe_pt_walk(t, top, pg->va, &sgpa, tab, &n) || sgpa != pg->gpa)
		return 0;
	return gpa;
}

/* Put the kernel's root entry @want back at @slot (one 8-byte store, then read
 * back). Linux gives every mm the kernel half of swapper_pg_dir at pgd_alloc and
 * never changes those entries on 4-level paging: the entry is what the kernel
 * itself put there. True when the slot holds it now. */
static bool restore_root_entry(struct probe_table *t, uint64_t slot, uint64_t want)
{
	uint64_t e;
	if (!want || !t->ops.write_phys64 || t->ops.write_phys64(t->ops.ctx, slot, want))
		return false;
	return !t->ops.read_phys(t->ops.ctx, slot, &e, 8) && e == want;
}

/* A private kernel half in the address space this vCPU runs (any mode: its kernel
 * root, probe_kernel_root): every probed page its root maps to a copy is reported
 * once per copy ("remap_mm", the task on this vCPU) and the root's entry is put back
 * to the kernel's, so that the process's forks and execs run the probed pages again
 * ("rearmed"; each time it is seen: an attacker who writes it again is undone at the
 * next check). The copies themselves are never probed: their lifetime is the
 * attacker's. @priv[i]: page i was handled here. Not in HLT (the idle task on the
 * last process's CR3: reported when a task runs on it). */
static void check_private_halves(struct probe_table *t, const struct probe_tick_in *in, bool *priv)
{
	uint64_t copy[PROBE_MAX_PAGES] = { 0 }, slot[PROBE_MAX_PAGES] = { 0 };
	bool ok[PROBE_MAX_PAGES] = { false }, any = false;
	if (in->halted)
		return;
	uint64_t root = probe_kernel_root(t, in->cr3, in->kernel_cr3);
	for (int i = 0; i < PROBE_MAX_PAGES; i++) {
		if (t->pages[i].used)
			copy[i] = private_copy(t, &t->pages[i], root, &slot[i]);
		priv[i] = copy[i] != 0;
		any |= priv[i];
	}
	if (!any)
		return;
	if (!in->kernel_cr3)
		t->mm_user++;
	for (int i = 0; i < PROBE_MAX_PAGES; i++) {
		if (!copy[i])
			continue;
		int j = 0;
		while (j < i && !(copy[j] && slot[j] == slot[i]))
			j++;
		if (j < i) {                          /* the same root entry (kernel text shares one) */
			ok[i] = ok[j];
			continue;
		}
		ok[i] = restore_root_entry(t, slot[i], t->pt.root_e[i]);
		t->mm_restores += ok[i];
	}
	for (int i = 0; i < PROBE_MAX_PAGES; i++) {
		struct probe_page *pg = &t->pages[i];
		if (!copy[i] || copy[i] == pg->mm_remap)
			continue;                     /* reported already (put back again if it came back) */
		pg->mm_remap = copy[i];
		pg->remap_gpa = 0;
		pg->remap_seen = 0;
		t->mm_remaps++;
		for (int k = 0; k < PROBE_MAX_SITES; k++) {
			struct probe_site *s = &t->sites[k];
			if (!s->used || s->page != (uint32_t)i)
				continue;
			uint8_t b[8];
			unsigned nb = s->origlen < sizeof(b) ? s->origlen : sizeof(b);
			if (t->ops.read_phys(t->ops.ctx, copy[i] + s->off, b, nb))   /* the copy's bytes */
				nb = 0;
			struct probe_tamper tp;
			tamper_fill(&tp, "remap_mm", s, pg, b, nb);
			tp.gpa = pg->gpa + s->off;
			tp.new_gpa = copy[i] + s->off;
			tp.rearmed = ok[i] && !s->suspended;
			report(t, &tp);
		}
	}
}

/* Remap check of one page with the CR3 of this vCPU (kernel mode). */
static int check_remap(struct probe_table *t, struct probe_page *pg, int *blinded,
		       const struct probe_tick_in *in)
{
	uint64_t gpa;
	if (t->ops.va_to_gpa(t->ops.ctx, pg->va, &gpa))
		return 0;                     /* not mapped under this CR3: nothing to compare */
	gpa &= ~0xfffULL;
	if (gpa == pg->gpa) {
		pg->remap_gpa = 0;
		pg->remap_seen = 0;
		pg->remap_failed = 0;
		return 0;
	}
	if (check_remap_mm(t, pg, gpa, in))
		return 0;
	if (gpa == pg->remap_failed)
		return 0;                     /* reported once; the probes stay where they were */
	if (pg->remap_gpa != gpa) {
		pg->remap_gpa = gpa;
		pg->remap_seen = 0;
	}
	/* two consecutive checks must agree: a CR3 that maps the kernel half
	 * differently for a moment (KPTI's entry trampoline) moves nothing */
	if (++pg->remap_seen != PROBE_REMAP_CHECKS)
		return 0;
	pg->remap_gpa = 0;
	pg->remap_seen = 0;
	if (move_page(t, pg, gpa, blinded, NULL)) {
		pg->remap_failed = gpa;
		return 0;
	}
	return 1;
}

/* The guest's int3 on a site: reported when it stays past the grace period. */
static void check_site_bytes(struct probe_table *t, struct probe_site *s, const struct probe_tick_in *in)
{
	struct probe_page *pg = &t->pages[s->page];
	uint8_t b[8];
	unsigned n = s->origlen < sizeof(b) ? s->origlen : sizeof(b);
	if (!n || t->ops.read_phys(t->ops.ctx, pg->gpa + s->off, b, n))
		return;
	if (b[0] != 0xcc) {
		/* restored, or never an int3: a re-sync follows any change at the
		 * next fetch of the page (recheck_site re-arms the site) */
		s->int3_since = 0;
		s->int3_reported = false;
		return;
	}
	if (!s->int3_since) {
		s->int3_since = in->now ? in->now : 1;
		return;
	}
	uint64_t ms = in->tsc_per_ms ? (in->now - s->int3_since) / in->tsc_per_ms : 0;
	if (s->int3_reported || ms < PROBE_INT3_GRACE_MS)
		return;
	s->int3_reported = true;
	struct probe_tamper tp;
	tamper_fill(&tp, "int3", s, pg, b, n);
	tp.ms = ms;
	tp.rearmed = false;
	report(t, &tp);
}

/* A root entry as an address space's identity: its table and present bit only
 * (KPTI's kernel copy of a user entry adds NX, the CPU sets Accessed) */
static uint64_t pt_norm(uint64_t e)
{
	return e & PT_P ? e & (PT_ADDR | PT_P) : 0;
}

/* A fingerprint of the user half of root @root (its 256 entries, normalised):
 * a root page freed by one process and reused by a new one points to other
 * user tables (allocated for the new process). 0 when unreadable. */
static uint64_t user_fp(struct probe_table *t, uint64_t root)
{
	uint64_t e[32], h = 0xcbf29ce484222325ULL;      /* FNV-1a over 64-bit words */
	for (unsigned c = 0; c < PT_HALF; c += 32) {
		if (t->ops.read_phys(t->ops.ctx, root + c * 8ULL, e, sizeof(e)))
			return 0;
		for (unsigned i = 0; i < 32; i++) {
			h ^= pt_norm(e[i]);
			h *= 0x100000001b3ULL;
		}
	}
	return h;
}

/* A new address space? Keyed by the page-table root without PCID bits and
 * without bit 12 (KPTI's user and kernel roots are the two halves of one 8 KiB
 * pair; two adjacent roots without KPTI count once: an undercount, the safe
 * side) AND the fingerprint of its user half: the same root with other user
 * tables is a new process on a reused root page (the roots of short-lived
 * processes are freed and reused at once). When the table is full the least
 * recently seen is forgotten. */
static bool mm_new(struct probe_table *t, uint64_t cr3, uint64_t now)
{
	uint64_t root = cr3 & PT_ADDR, key = root & ~0x1000ULL;
	if (!key)
		return false;
	uint64_t fp = user_fp(t, root);
	uint32_t old = 0;
	for (uint32_t i = 0; i < t->mm.n; i++) {
		if (t->mm.key[i] == key) {
			bool same = t->mm.fp[i] == fp;
			t->mm.fp[i] = fp;
			t->mm.seen[i] = now;
			return !same;
		}
		if (t->mm.seen[i] < t->mm.seen[old])
			old = i;
	}
	uint32_t i = t->mm.n < PROBE_MM_SLOTS ? t->mm.n++ : old;
	t->mm.key[i] = key;
	t->mm.fp[i] = fp;
	t->mm.seen[i] = now;
	return true;
}

uint64_t probe_kernel_root(struct probe_table *t, uint64_t cr3, bool kernel_mode)
{
	uint64_t root = cr3 & PT_ADDR;
	if (!root || kernel_mode || !(root & 0x1000))
		return root;
	/* KPTI's pair: every user entry of the kernel root is mirrored into the
	 * user root (pti_set_user_pgtbl); a page next to a root that is not its
	 * pair (no KPTI: 4 KiB roots) does not agree with it */
	uint64_t k = root & ~0x1000ULL, a[32], b[32];
	bool any = false;
	for (unsigned c = 0; c < PT_HALF; c += 32) {
		if (t->ops.read_phys(t->ops.ctx, k + c * 8ULL, a, sizeof(a)) ||
		    t->ops.read_phys(t->ops.ctx, root + c * 8ULL, b, sizeof(b)))
			return root;
		for (unsigned i = 0; i < 32; i++) {
			if (pt_norm(a[i]) != pt_norm(b[i]))
				return root;
			any |= pt_norm(a[i]) != 0;
		}
	}
	return any ? k : root;
}

/* Silent: the group of PROBE_F_EXPECT_NEWMM sites had no hit in this window
 * and the last while new address spaces appeared (each needs a fork or an
 * exec, which the group sees). Reported once per episode, for each site of the
 * group; their pages are re-synced at the next fetch (dirty), which re-reads
 * their bytes. */
static void check_silent(struct probe_table *t, const struct probe_tick_in *in)
{
	if (mm_new(t, in->cr3, in->now)) {
		t->win_newmm++;
		t->newmm++;
	}
	if (!t->win_start) {
		t->win_start = in->now ? in->now : 1;
		return;
	}
	uint64_t win = (uint64_t)PROBE_SILENT_WIN_MS * in->tsc_per_ms;
	if (in->now - t->win_start < win)
		return;
	uint64_t hits = 0;
	unsigned group = 0;
	for (int i = 0; i < PROBE_MAX_SITES; i++)
		if (t->sites[i].used && (t->sites[i].flags & PROBE_F_EXPECT_NEWMM)) {
			hits += t->sites[i].hits;
			group++;
		}
	uint64_t whits = hits >= t->win_hits_base ? hits - t->win_hits_base : hits;
	uint32_t newmm = t->win_newmm;
	bool silent = group && newmm >= PROBE_SILENT_NEWMM && whits == 0 && t->prev_win_hits == 0;
	if (whits)
		t->silent_reported = false;
	if (silent && !t->silent_reported) {
		t->silent_reported = true;
		for (int i = 0; i < PROBE_MAX_SITES; i++) {
			struct probe_site *s = &t->sites[i];
			if (!s->used || !(s->flags & PROBE_F_EXPECT_NEWMM))
				continue;
			struct probe_page *pg = &t->pages[s->page];
			struct probe_tamper tp;
			tamper_fill(&tp, "silent", s, pg, NULL, 0);
			tp.ms = tsc_ms(in, in->now - t->win_start);
			tp.new_mm = newmm;
			report(t, &tp);
			if (!pg->dirty) {              /* re-read its bytes at the next fetch */
				pg->dirty = true;
				t->ops.map(t->ops.ctx, pg, PROBE_ALL);
			}
		}
	}
	t->prev_win_hits = whits;
	t->win_hits_base = hits;
	t->win_newmm = 0;
	t->win_start = in->now;
}

int probe_tick(struct probe_table *t, const struct probe_tick_in *in)
{
	int moved = 0, blinded = 0;
	bool priv[PROBE_MAX_PAGES] = { false };
	for (int i = 0; i < PROBE_MAX_SITES; i++)
		if (t->sites[i].used)
			check_site_bytes(t, &t->sites[i], in);
	check_private_halves(t, in, priv);
	if (in->kernel_cr3)
		for (int i = 0; i < PROBE_MAX_PAGES; i++)
			if (t->pages[i].used && !priv[i])
				moved += check_remap(t, &t->pages[i], &blinded, in);
	check_silent(t, in);
	return moved;
}

/* ---- the kernel's page tables (issue 15, docs/PROBES.md "Page tables") ------- */

static unsigned pt_levels(const struct probe_table *t)
{
	return t->pt.la57 ? 4 : 3;            /* below the root: PML4 (LA57), PDPT, PD, PT */
}

void probe_pt_learn(struct probe_table *t, uint64_t cr3, bool la57)
{
	uint64_t root = cr3 & PT_ADDR;
	if (!root)
		return;
	if (la57 != t->pt.la57) {
		memset(t->pt.top, 0, sizeof(t->pt.top));
		memset(t->pt.root_e, 0, sizeof(t->pt.root_e));
	}
	t->pt.la57 = la57;
	for (int i = 0; i < PROBE_MAX_PAGES; i++) {
		const struct probe_page *pg = &t->pages[i];
		uint64_t e;
		if (!pg->used || t->pt.top[i])
			continue;
		unsigned idx = (unsigned)((pg->va >> (la57 ? 48 : 39)) & 511);
		uint64_t tab[4], gpa;
		unsigned n;
		if (t->ops.read_phys(t->ops.ctx, root + idx * 8ULL, &e, 8) || !(e & PT_P))
			continue;
		/* only a root that maps the probed page as probed: never KPTI's user
		 * root (CPL 0 for a few instructions at entry) nor a private kernel
		 * half of one process (remap_mm), which would then pass for the
		 * kernel's own tables for good */
		if (!probe_pt_walk(t, e & PT_ADDR, pg->va, &gpa, tab, &n) && gpa == pg->gpa) {
			t->pt.top[i] = e & PT_ADDR;
			t->pt.root_e[i] = e;
		}
	}
}

int probe_pt_walk(struct probe_table *t, uint64_t top, uint64_t va, uint64_t *gpa, uint64_t tables[4],
		  unsigned *n)
{
	unsigned levels = pt_levels(t);
	unsigned shift = 12 + 9 * (levels - 1);          /* 39 (PML4) or 30 (PDPT) */
	uint64_t table = top;
	*n = 0;
	for (unsigned l = 0; l < levels; l++, shift -= 9) {
		uint64_t e;
		tables[(*n)++] = table;
		if (t->ops.read_phys(t->ops.ctx, table + ((va >> shift) & 511) * 8ULL, &e, 8) || !(e & PT_P))
			return -1;
		bool leaf = l == levels - 1 || ((e & PT_PS) && shift <= 30);   /* 4 KiB, 2 MiB or 1 GiB */
		if (leaf) {
			uint64_t size = 1ULL << shift;
			*gpa = ((e & PT_ADDR & ~(size - 1)) + (va & (size - 1))) & ~0xfffULL;
			return 0;
		}
		table = e & PT_ADDR;
	}
	return -1;
}

unsigned probe_pt_tables(struct probe_table *t, uint64_t *out, unsigned max)
{
	unsigned k = 0;
	for (int i = 0; i < PROBE_MAX_PAGES; i++) {
		uint64_t tab[4], gpa;
		unsigned n;
		if (!t->pages[i].used || !t->pt.top[i] || probe_pt_walk(t, t->pt.top[i], t->pages[i].va, &gpa, tab, &n))
			continue;
		for (unsigned j = 0; j < n; j++) {
			unsigned m = 0;
			while (m < k && out[m] != tab[j])
				m++;
			if (m < k)
				continue;
			if (k < max)
				out[k++] = tab[j];
			else
				t->pt.over++;
		}
	}
	return k;
}

int probe_pt_check(struct probe_table *t, const struct probe_writer *w)
{
	int moved = 0, blinded = 0;
	t->pt.checks++;
	for (int i = 0; i < PROBE_MAX_PAGES; i++) {
		struct probe_page *pg = &t->pages[i];
		uint64_t tab[4], gpa;
		unsigned n;
		if (!pg->used || !t->pt.top[i] || probe_pt_walk(t, t->pt.top[i], pg->va, &gpa, tab, &n))
			continue;
		if (gpa == pg->gpa || gpa == pg->remap_failed)
			continue;
		t->pt.changes++;
		pg->remap_gpa = 0;
		pg->remap_seen = 0;
		if (move_page(t, pg, gpa, &blinded, w))
			pg->remap_failed = gpa;
		else
			moved++;
	}
	return moved;
}
