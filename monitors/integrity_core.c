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

enum integ_dtr_verdict integ_dtr_load(const struct integ_dtr *d, uint64_t base, uint32_t limit, bool same_table)
{
	if (!d->set)
		return INTEG_DTR_NONE;
	if ((base == d->base && limit == d->limit) || (same_table && limit == d->limit))
		return INTEG_DTR_SAME;
	if (limit == 0)
		return INTEG_DTR_EMPTY;
	return INTEG_DTR_CHANGED;
}

bool integ_dtr_baseline(struct integ_dtr *d, uint64_t base, uint32_t limit, bool restarted, bool user)
{
	if (!d->set && (!restarted || user)) {
		d->set = 1;
		d->base = base;
		d->limit = limit;
	}
	return d->set != 0;
}

bool integ_should_report(uint64_t n)
{
	return n >= 1 && (n <= 16 || (n & (n - 1)) == 0);
}

static const char *const region_names[INTEG_R__COUNT] = { "text", "rodata", "syscall_table", "idt" };
const char *integ_region_name(unsigned r)
{
	return r < INTEG_R__COUNT ? region_names[r] : "?";
}

static const char *const writer_names[] = { "kernel", "text_poke", "user", "paging" };
const char *integ_writer_name(unsigned w)
{
	return w < 4 ? writer_names[w] : "?";
}

enum integ_writer integ_writer_of(uint64_t qual, uint64_t linear, unsigned cpl)
{
	/* bit 7: linear address valid; bit 8 clear with it: the access was to a
	 * paging-structure entry (the walker's A/D update), SDM Table 28-7 */
	if ((qual & (1u << 7)) && !(qual & (1u << 8)))
		return INTEG_W_PAGING;
	if (cpl == 3)
		return INTEG_W_USER;
	/* kernel mode through a lower-half address: the kernel maps its text there
	 * only in text_poke's temporary mm (poking_mm, poking_addr) */
	if ((qual & (1u << 7)) && !(linear >> 63))
		return INTEG_W_POKE;
	return INTEG_W_KERNEL;
}

void integ_diff(const uint8_t *old, const uint8_t *cur, uint32_t n, struct integ_diff *d)
{
	d->changed = 0;
	d->first = n;
	d->span = 0;
	d->in_span = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (old[i] == cur[i])
			continue;
		if (!d->changed)
			d->first = i;
		d->changed++;
		if (i - d->first < 16) {
			d->span = i - d->first + 1;
			d->in_span++;
		}
	}
}

/* The length of an instruction the kernel patches in and out that starts at
 * @p (0: none): int3, call/jmp rel32, jmp rel8, ret, NOPs (1, 2, 5, 6 bytes:
 * the kernel's patchable NOPs are 5 bytes), lock/ds/cs prefixes. */
static uint32_t patch_op(const uint8_t *p, uint32_t left)
{
	switch (p[0]) {
	case 0xcc: case 0xc3: case 0x90:
	case 0x2e: case 0x3e: case 0xf0:        /* prefixed NOPs, lock <-> ds (SMP alternatives) */
		return 1;
	case 0xe8: case 0xe9:
		return 5;
	case 0xeb:
		return 2;
	case 0x0f:                              /* 0f 1f /0: NOPL */
		return left > 1 && p[1] == 0x1f ? 5 : 0;
	case 0x66:                              /* 66 90; 66 0f 1f: 6-byte NOPL */
		if (left > 1 && p[1] == 0x90)
			return 2;
		return left > 2 && p[1] == 0x0f && p[2] == 0x1f ? 6 : 0;
	default:
		return 0;
	}
}

/* The end of the patch site whose first changed byte is @s, or 0 when the
 * change there is no step of the kernel's code patching: an instruction the
 * kernel patches, before and after; or the bytes inside the 5 of an unchanged
 * int3 (text_poke_bp's middle step: the tail behind it) or call/jmp rel32 (only
 * the target moved), or the rel8 of an unchanged jmp. */
static uint32_t site_end(const uint8_t *old, const uint8_t *cur, uint32_t n, uint32_t s)
{
	uint32_t lo = patch_op(old + s, n - s), ln = patch_op(cur + s, n - s);
	if (lo && ln)
		return s + (lo > ln ? lo : ln);
	for (uint32_t k = 1; k <= 4 && k <= s; k++) {
		uint8_t op = cur[s - k];
		if (op != old[s - k])
			break;
		if (op == 0xcc || op == 0xe8 || op == 0xe9)
			return s - k + 5;
		if (op == 0xeb && k == 1)
			return s + 1;
	}
	return 0;
}

bool integ_patch_shape(const uint8_t *old, const uint8_t *cur, uint32_t n, const struct integ_diff *d)
{
	if (!d->changed || d->first >= n)
		return false;
	/* every patch site on the page (a batch of jump labels patches several) */
	for (uint32_t s = d->first; s < n;) {
		uint32_t e = site_end(old, cur, n, s);
		if (!e)
			return false;
		for (s = e; s < n && old[s] == cur[s]; s++)
			;
	}
	return true;
}

bool integ_should_revert(enum integ_severity s, bool block, uint32_t changed)
{
	return block && s == INTEG_SEV_ATTACK && changed;
}

uint32_t integ_next_run(const uint8_t *old, const uint8_t *cur, uint32_t n, uint32_t from, uint32_t *off)
{
	uint32_t i = from, e;
	while (i < n && old[i] == cur[i])
		i++;
	if (i >= n)
		return 0;
	for (e = i; e < n && old[e] != cur[e]; e++)
		;
	*off = i;
	return e - i;
}

static const char *const sev_names[] = { "none", "patch", "attack", "unverified" };
const char *integ_severity_name(unsigned s)
{
	return s < 4 ? sev_names[s] : "?";
}

enum integ_severity integ_classify(enum integ_region r, enum integ_writer w, const uint8_t *old,
				   const uint8_t *cur, uint32_t n, const struct integ_diff *d)
{
	if (w == INTEG_W_PAGING)
		return INTEG_SEV_NONE;
	if (r == INTEG_R_TEXT && w == INTEG_W_POKE && (!d->changed || integ_patch_shape(old, cur, n, d)))
		return INTEG_SEV_PATCH;
	return INTEG_SEV_ATTACK;
}
