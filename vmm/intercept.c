/*
 * The core's intercept table (vmm/intercept.h): subscriptions, the VMX
 * controls they imply (kept in struct vm, written to each VMCS by
 * hv_intercept_apply in vmm/vmexit.c), and the dispatch the core exit
 * handlers call. No VMCS access here: host-tested (tests/unit/test_monitor_example.c).
 */
#include <stddef.h>
#include "vmm/intercept.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "arch/x86/regs.h"

static struct hv_icpt_sub *new_sub(struct vm *vm, enum hv_icpt_kind kind, hv_icpt_fn fn, void *ctx)
{
	if (!fn)
		return NULL;
	for (uint32_t i = 0; i < HV_MAX_ICPT; i++) {
		struct hv_icpt_sub *s = &vm->icpt[i];
		if (s->fn)
			continue;
		*s = (struct hv_icpt_sub){ .kind = (uint8_t)kind, .fn = fn, .ctx = ctx };
		if (i >= vm->nr_icpt)
			vm->nr_icpt = i + 1;
		vm->icpt_of_kind[kind] |= 1ull << i;
		return s;
	}
	pr_err("intercepts: table full (%u)\n", HV_MAX_ICPT);
	return NULL;
}

/* The widest #PF filter that lets every subscriber's faults exit: the bits
 * all filters test and agree on (SDM 25.2: exit iff (PFEC & MASK) == MATCH). */
static void pf_filter(struct vm *vm)
{
	bool first = true;
	uint32_t mask = 0, match = 0;
	for (uint32_t i = 0; i < vm->nr_icpt; i++) {
		const struct hv_icpt_sub *s = &vm->icpt[i];
		if (!s->fn || s->kind != HV_ICPT_EXCEPTION || s->vector != X86_VEC_PF)
			continue;
		if (first) {
			mask = s->pf_mask;
			match = s->pf_match & s->pf_mask;
			first = false;
		} else {
			mask &= s->pf_mask & ~(match ^ s->pf_match);
			match &= mask;
		}
	}
	vm->pf_mask = mask;
	vm->pf_match = match;
}

int hv_intercept_exception(struct vm *vm, unsigned vector, uint32_t pf_mask, uint32_t pf_match,
			   hv_icpt_fn fn, void *ctx)
{
	if (vector > 31)
		return -1;
	struct hv_icpt_sub *s = new_sub(vm, HV_ICPT_EXCEPTION, fn, ctx);
	if (!s)
		return -1;
	s->vector = (uint8_t)vector;
	s->pf_mask = pf_mask;
	s->pf_match = pf_match;
	vm->exc_bitmap |= 1u << vector;
	if (vector == X86_VEC_PF)
		pf_filter(vm);
	vm->icpt_gen++;
	hv_intercept_changed(vm);
	return 0;
}

int hv_intercept_cr4(struct vm *vm, uint64_t bits, hv_icpt_fn fn, void *ctx)
{
	struct hv_icpt_sub *s = new_sub(vm, HV_ICPT_CR4_WRITE, fn, ctx);
	if (!s)
		return -1;
	s->cr4_bits = bits;
	vm->cr4_icpt_bits |= bits;
	vm->icpt_gen++;
	hv_intercept_changed(vm);
	return 0;
}

int hv_intercept_cr0(struct vm *vm, uint64_t bits, hv_icpt_fn fn, void *ctx)
{
	struct hv_icpt_sub *s = new_sub(vm, HV_ICPT_CR0_WRITE, fn, ctx);
	if (!s)
		return -1;
	s->cr4_bits = bits;             /* the control-register bits it watches */
	vm->cr0_icpt_bits |= bits;
	vm->icpt_gen++;
	hv_intercept_changed(vm);
	return 0;
}

int hv_intercept_dtr(struct vm *vm, hv_icpt_fn fn, void *ctx)
{
	if (!vm->caps.dtr_exit)
		return -1;
	struct hv_icpt_sub *s = new_sub(vm, HV_ICPT_DTR_LOAD, fn, ctx);
	if (!s)
		return -1;
	vm->dtr_exiting = true;
	vm->icpt_gen++;
	hv_intercept_changed(vm);
	return 0;
}

/* MSR bitmap (SDM 25.6.9): read low 0-0x3ff, read high 0x400, write low 0x800,
 * write high 0xc00; low MSRs 0..0x1fff, high 0xc0000000..0xc0001fff. */
int hv_intercept_msr_write(struct vm *vm, uint32_t msr, hv_icpt_fn fn, void *ctx)
{
	uint32_t base;
	if (msr <= 0x1fff)
		base = 0x800;
	else if (msr - 0xc0000000u <= 0x1fff)
		base = 0xc00;
	else
		return -1;
	if (!vm->msr_bitmap)
		return -1;
	struct hv_icpt_sub *s = new_sub(vm, HV_ICPT_MSR_WRITE, fn, ctx);
	if (!s)
		return -1;
	s->msr = msr;
	uint32_t bit = msr & 0x1fff;
	vm->msr_bitmap[base + bit / 8] |= (uint8_t)(1u << (bit % 8));
	return 0;
}

int hv_intercept_gpa_range(struct vm *vm, uint64_t gpa, uint64_t size, hv_icpt_fn fn, void *ctx)
{
	uint64_t base = gpa & ~0xfffULL, end = (gpa + size + 0xfff) & ~0xfffULL;
	if (!size || end <= base)
		return -1;
	struct hv_icpt_sub *s = new_sub(vm, HV_ICPT_PAGE, fn, ctx);
	if (!s)
		return -1;
	s->gpa = base;
	s->gpa_size = end - base;
	return 0;
}

int hv_intercept_page(struct vm *vm, uint64_t gpa, hv_icpt_fn fn, void *ctx)
{
	return hv_intercept_gpa_range(vm, gpa, 4096, fn, ctx);
}

int hv_intercept_page_remove(struct vm *vm, uint64_t gpa, hv_icpt_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < vm->nr_icpt; i++) {
		struct hv_icpt_sub *s = &vm->icpt[i];
		if (s->fn == fn && s->ctx == ctx && s->kind == HV_ICPT_PAGE && s->gpa == (gpa & ~0xfffULL)) {
			s->fn = NULL;
			vm->icpt_of_kind[HV_ICPT_PAGE] &= ~(1ull << i);
			while (vm->nr_icpt && !vm->icpt[vm->nr_icpt - 1].fn)
				vm->nr_icpt--;
			return 0;
		}
	}
	return -1;
}

int hv_intercept_io(struct vm *vm, uint16_t port, uint32_t n, hv_icpt_fn fn, void *ctx)
{
	if (!vm->io_bitmap || !n || port + n - 1 > 0xffff)
		return -1;
	struct hv_icpt_sub *s = new_sub(vm, HV_ICPT_IO, fn, ctx);
	if (!s)
		return -1;
	s->port = port;
	s->nports = n;
	for (uint32_t p = port; p < (uint32_t)port + n; p++)
		vm->io_bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
	return 0;
}

bool io_port_intercepted(const struct vm *vm, uint16_t port)
{
	return vm->io_bitmap && (vm->io_bitmap[port / 8] & (1u << (port % 8)));
}

/*
 * Only the subscriptions of x->kind are visited (a slot mask per kind), in slot
 * (= subscription) order, each kind with its own key test: the exit paths pay
 * for their own kind's few entries, not for the table (docs/BENCHMARKS.md).
 */
#define EACH_OF_KIND(vm, kind, s)                                                         \
	for (uint64_t m_ = (vm)->icpt_of_kind[kind], i_;                                   \
	     m_ && (i_ = (uint64_t)__builtin_ctzll(m_), s = &(vm)->icpt[i_], 1); m_ &= m_ - 1)

int hv_intercept_call(struct vcpu *v, struct hv_icpt *x)
{
	struct vm *vm = v->vm;
	const struct hv_icpt_sub *s;
	switch (x->kind) {
	case HV_ICPT_EXCEPTION:
		EACH_OF_KIND(vm, HV_ICPT_EXCEPTION, s)
			if (s->vector == x->exc.vector &&
			    (x->exc.vector != X86_VEC_PF || (x->exc.error & s->pf_mask) == s->pf_match) &&
			    s->fn(v, x, s->ctx) == HV_ICPT_DONE)
				return HV_ICPT_DONE;
		return HV_ICPT_PASS;
	case HV_ICPT_CR4_WRITE:         /* every write: a subscriber may force bits into the real CR4 */
		EACH_OF_KIND(vm, HV_ICPT_CR4_WRITE, s)
			if (s->fn(v, x, s->ctx) == HV_ICPT_DONE)
				return HV_ICPT_DONE;
		return HV_ICPT_PASS;
	case HV_ICPT_CR0_WRITE:         /* every write: a subscriber may keep bits */
		EACH_OF_KIND(vm, HV_ICPT_CR0_WRITE, s)
			if (s->fn(v, x, s->ctx) == HV_ICPT_DONE)
				return HV_ICPT_DONE;
		return HV_ICPT_PASS;
	case HV_ICPT_DTR_LOAD:
		EACH_OF_KIND(vm, HV_ICPT_DTR_LOAD, s)
			if (s->fn(v, x, s->ctx) == HV_ICPT_DONE)
				return HV_ICPT_DONE;
		return HV_ICPT_PASS;
	case HV_ICPT_MSR_WRITE:
		EACH_OF_KIND(vm, HV_ICPT_MSR_WRITE, s)
			if (s->msr == x->msr.msr && s->fn(v, x, s->ctx) == HV_ICPT_DONE)
				return HV_ICPT_DONE;
		return HV_ICPT_PASS;
	case HV_ICPT_PAGE:
		EACH_OF_KIND(vm, HV_ICPT_PAGE, s)
			if (x->page.gpa - s->gpa < s->gpa_size && s->fn(v, x, s->ctx) == HV_ICPT_DONE)
				return HV_ICPT_DONE;
		return HV_ICPT_PASS;
	case HV_ICPT_IO:
		EACH_OF_KIND(vm, HV_ICPT_IO, s)
			/* any overlap: a word/dword access that starts below the
			 * subscribed ports exits too (SDM 25.1.3) and must not
			 * reach the hardware unseen (issue 17: PM1_CNT+1) */
			if ((uint32_t)x->io.port + x->io.size > s->port &&
			    (uint32_t)x->io.port < (uint32_t)s->port + s->nports && s->fn(v, x, s->ctx) == HV_ICPT_DONE)
				return HV_ICPT_DONE;
		return HV_ICPT_PASS;
	default:
		return HV_ICPT_PASS;
	}
}
