/* integrity — pure rules (monitors/integrity.h), host-tested by tests/unit/test_integrity.c. */
#include "monitors/integrity.h"

static const uint32_t msrs[INTEG_NREG] = {
	[INTEG_LSTAR] = INTEG_MSR_LSTAR, [INTEG_SYSENTER_CS] = INTEG_MSR_SYSENTER_CS,
	[INTEG_SYSENTER_ESP] = INTEG_MSR_SYSENTER_ESP, [INTEG_SYSENTER_EIP] = INTEG_MSR_SYSENTER_EIP,
};
static const char *const names[INTEG_NREG] = {
	[INTEG_LSTAR] = "lstar", [INTEG_SYSENTER_CS] = "sysenter_cs",
	[INTEG_SYSENTER_ESP] = "sysenter_esp", [INTEG_SYSENTER_EIP] = "sysenter_eip",
};

int integ_msr_index(uint32_t msr)
{
	for (unsigned i = 0; i < INTEG_NREG; i++)
		if (msrs[i] == msr)
			return (int)i;
	return -1;
}

uint32_t integ_msr_of(unsigned idx)
{
	return idx < INTEG_NREG ? msrs[idx] : 0;
}

const char *integ_reg_name(unsigned idx)
{
	return idx < INTEG_NREG ? names[idx] : "?";
}

bool integ_reg_per_vcpu(unsigned idx)
{
	/* Linux points each CPU's SYSENTER_ESP at that CPU's entry stack
	 * (syscall_init: cpu_entry_stack(cpu) + 1); the others are one value */
	return idx == INTEG_SYSENTER_ESP;
}

enum integ_verdict integ_check_write(struct integ_baseline *b, uint64_t value)
{
	uint8_t unset = 0;
	if (!__atomic_load_n(&b->set, __ATOMIC_ACQUIRE)) {
		/* claim the baseline: the value is stored before set is published */
		if (__atomic_compare_exchange_n(&b->set, &unset, 2, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			b->value = value;
			__atomic_store_n(&b->set, 1, __ATOMIC_RELEASE);
			return INTEG_FIRST;
		}
	}
	while (__atomic_load_n(&b->set, __ATOMIC_ACQUIRE) != 1)
		;                       /* another vCPU is storing the first value */
	return b->value == value ? INTEG_SAME : INTEG_CHANGED;
}

bool integ_cr0_clears_wp(uint64_t old, uint64_t val)
{
	/* Leaving paging (a real-mode reboot path) is not a WP attack: with PG
	 * clear, WP has no meaning and long mode cannot stay on (SDM Vol. 3A 2.5) */
	return (old & INTEG_CR0_WP) && !(val & INTEG_CR0_WP) && (val & INTEG_CR0_PG);
}

bool integ_dtr_sample(struct integ_dtr *d, uint64_t base, uint32_t limit, bool user)
{
	if (!d->set) {
		if (!user)
			return false;
		d->set = 1;
		d->base = base;
		d->limit = limit;
		return false;
	}
	if (base == d->base && limit == d->limit) {
		d->reported = 0;
		return false;
	}
	if (d->reported && base == d->last_base && limit == d->last_limit)
		return false;
	d->reported = 1;
	d->last_base = base;
	d->last_limit = limit;
	return true;
}

bool integ_should_report(uint64_t n)
{
	return n >= 1 && (n <= 16 || (n & (n - 1)) == 0);
}
