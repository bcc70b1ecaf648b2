/*
 * tick — periodic ring -1 callbacks on the VMX-preemption timer (vmm/tick.h).
 */
#include <stdio.h>
#include <string.h>
#include "vmm/tick.h"
#include "vmm/tsc_rate.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

struct tick_client {
	const char *name;
	tick_fn fn;
	void *ctx;
	bool (*want)(void *ctx); /* lazy client: no timer deadline while it returns false */
	uint64_t period;        /* TSC ticks */
	uint64_t next[HV_MAX_CPUS];
	bool busy[HV_MAX_CPUS];  /* lazy client: want() was true at this vCPU's last exit */
	uint64_t runs, ticks;
};

static struct tick_client clients[TICK_MAX_CLIENTS];
static uint32_t nr_clients;
static uint64_t tsc_hz;
static unsigned timer_shift;    /* IA32_VMX_MISC[4:0] */
static bool have_timer;
static uint64_t timer_exits;
static struct vm *tvm;
static uint64_t epoch;          /* the first registration's TSC: every client's deadlines are on its grid */

#define PIT_HZ 1193182ULL

/* PIT channel 2, one-shot 50 ms, gate via port 0x61 (as Linux's
 * pit_calibrate_tsc); the poll is bounded by `budget` TSC ticks (0: by an
 * iteration count only), so a platform whose PIT is gated off costs at most
 * that. Returns the TSC ticks per second, 0 when the PIT did not answer. */
static uint64_t pit_measure_once(uint64_t budget)
{
	uint16_t latch = (uint16_t)(PIT_HZ / 20);
	uint8_t p61 = inb(0x61);
	outb(0x61, (p61 & ~0x02) | 0x01);
	outb(0x43, 0xb0);               /* ch 2, lobyte/hibyte, mode 0 */
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	uint64_t t0 = rdtsc(), t1 = 0;
	for (uint64_t i = 0; i < 200000000ULL; i++) {   /* bounded: no PIT -> 0 */
		uint64_t t = rdtsc();
		if (inb(0x61) & 0x20) {
			t1 = t;
			break;
		}
		if (budget && t - t0 > budget)
			break;
	}
	outb(0x61, p61);
	return t1 > t0 ? (t1 - t0) * 20 : 0;
}

/* Two windows, the smaller rate kept: an SMI or an emulator hiccup inside a
 * window only makes it longer (a higher rate). */
static uint64_t pit_measure(uint64_t budget)
{
	uint64_t a = pit_measure_once(budget);
	if (!a)
		return 0;
	uint64_t b = pit_measure_once(budget);
	return b && b < a ? b : a;
}

/* TSC frequency: CPUID 0x15 (crystal ratio) or 0x16 (base MHz), checked
 * against PIT channel 2 (vmm/tsc_rate.h: the measurement wins beyond 2%). */
static uint64_t calibrate_tsc(const char **how, char *note, size_t notesz)
{
	struct x86_cpuid r, r15 = { 0 }, r16 = { 0 };
	cpuid_count(0, 0, &r);
	uint32_t max = r.eax;
	if (max >= 0x15)
		cpuid_count(0x15, 0, &r15);
	if (max >= 0x16)
		cpuid_count(0x16, 0, &r16);
	const uint32_t l15[3] = { r15.eax, r15.ebx, r15.ecx };
	const char *which;
	uint64_t claimed = tsc_rate_from_cpuid(max, l15, r16.eax, &which);
	/* 1 s at the claimed rate: far beyond the 50 ms window unless CPUID
	 * understates the rate 20-fold; the measurement then fails, CPUID stays */
	uint64_t measured = pit_measure(claimed);
	enum tsc_rate_src src;
	uint64_t off;
	uint64_t hz = tsc_rate_choose(claimed, measured, &src, &off);
	note[0] = 0;
	switch (src) {
	case TSC_RATE_CPUID:
		*how = which;
		if (measured)
			snprintf(note, notesz, "; PIT channel 2 agrees: %lu kHz", (unsigned long)(measured / 1000));
		else
			snprintf(note, notesz, "; PIT channel 2 did not answer: not checked");
		break;
	case TSC_RATE_MEASURED:
		*how = "PIT channel 2 (50 ms)";
		break;
	case TSC_RATE_MEASURED_OVER:
		*how = "PIT channel 2 (50 ms)";
		snprintf(note, notesz, "; %s says %lu kHz, %lu.%lu%% off: not used", which,
			 (unsigned long)(claimed / 1000), (unsigned long)(off / 10), (unsigned long)(off % 10));
		break;
	default:
		*how = "fallback (no PIT answer): 1 GHz assumed";
		break;
	}
	return hz;
}

int tick_init(struct vm *vm)
{
	const char *how = "?";
	char note[96];
	tvm = vm;
	tsc_hz = calibrate_tsc(&how, note, sizeof(note));
	timer_shift = (unsigned)(vm->caps.misc & 0x1f);
	have_timer = (vm->caps.pin & PIN_PREEMPT_TIMER) != 0;
	pr_info("tick: TSC %lu kHz (%s%s); VMX-preemption timer %s (TSC >> %u)\n",
		(unsigned long)(tsc_hz / 1000), how, note, have_timer ? "on" : "UNAVAILABLE", timer_shift);
	if (!have_timer) {
		pr_warn("tick: no VMX-preemption timer: periodic work only runs on other exits\n");
		return -1;
	}
	return 0;
}

uint64_t tick_tsc_hz(void) { return tsc_hz ? tsc_hz : 1000000000ULL; }

uint64_t tick_tsc_to_ms(uint64_t tsc)
{
	uint64_t hz = tick_tsc_hz();
	return tsc / hz * 1000 + (tsc % hz) * 1000 / hz;
}

int tick_register_lazy(const char *name, uint32_t period_ms, tick_fn fn, void *ctx,
		       bool (*want)(void *ctx))
{
	if (tick_register(name, period_ms, fn, ctx))
		return -1;
	clients[nr_clients - 1].want = want;
	return 0;
}

int tick_register(const char *name, uint32_t period_ms, tick_fn fn, void *ctx)
{
	if (!fn || period_ms == 0 || period_ms > 60000 || nr_clients >= TICK_MAX_CLIENTS) {
		pr_err("tick: cannot register %s (period %u ms, %u clients)\n", name ? name : "?",
		       period_ms, nr_clients);
		return -1;
	}
	struct tick_client *c = &clients[nr_clients];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->fn = fn;
	c->ctx = ctx;
	c->period = tick_tsc_hz() / 1000 * period_ms;
	if (!c->period)
		c->period = 1;
	uint64_t now = rdtsc();
	/* the first deadline on the common grid (epoch + k * period, after now):
	 * clients registered a few ms apart with periods that divide each other
	 * fall due in the same exit instead of one timer exit each */
	if (!epoch)
		epoch = now;
	uint64_t first = epoch + ((now - epoch) / c->period + 1) * c->period;
	for (unsigned i = 0; i < HV_MAX_CPUS; i++)
		c->next[i] = first;
	nr_clients++;
	pr_info("tick: %s every %u ms (%lu TSC ticks)\n", name, period_ms, (unsigned long)c->period);
	return 0;
}

/* The timer fires at @next (a TSC value; SDM 26.5.1: the VMX-preemption timer
 * counts down at the TSC rate >> IA32_VMX_MISC[4:0] in non-root operation). */
static void arm_at(uint64_t now, uint64_t next)
{
	if (!have_timer)
		return;
	uint64_t delta = next > now ? (next - now) >> timer_shift : 0;
	if (delta == 0)
		delta = 1;
	if (delta > 0xffffffffULL)
		delta = 0xffffffffULL;
	vmwrite(VMCS_PREEMPTION_TIMER, delta);
}

/* The earliest deadline of this vCPU's clients; a lazy client counts only
 * while busy (its want() was true at this exit). Nothing due: 1 s. */
static uint64_t next_deadline(unsigned id, uint64_t now)
{
	uint64_t next = now + tick_tsc_hz();
	for (uint32_t i = 0; i < nr_clients; i++)
		if ((!clients[i].want || clients[i].busy[id]) && clients[i].next[id] < next)
			next = clients[i].next[id];
	return next;
}

static void arm(struct vcpu *v, uint64_t now)
{
	arm_at(now, next_deadline(v->id < HV_MAX_CPUS ? v->id : 0, now));
}

void tick_vcpu_start(struct vcpu *v)
{
	arm(v, rdtsc());
}

int tick_preempt_exit(struct vcpu *v)
{
	(void)v;
	timer_exits++;
	return HV_RESUME;
}

/* After every exit of every vCPU (issue 16: the common exit path). Each lazy
 * client's want() is asked once per exit; the earliest deadline is kept while
 * walking the clients, so the timer is armed without a second pass — unless a
 * client ran: its work may have made another lazy client busy (a drain queues
 * console lines), so then every want() is asked again before arming. */
void tick_after_exit(struct vcpu *v)
{
	uint64_t now = rdtsc();
	unsigned id = v->id < HV_MAX_CPUS ? v->id : 0;
	uint64_t next = now + tick_tsc_hz();
	/* a client due within the next TICK_SLACK_MS (a quarter of its period at
	 * most: a 1 ms client must not run twice per period) runs in this exit
	 * rather than arming a timer exit of its own; its grid is kept. Only in a
	 * preemption-timer exit (another client's deadline): a guest exit that
	 * recurs with the guest's own TSC-driven tick (e.g. the __switch_to probe
	 * of a tick-driven context switch, IF=0) would otherwise take the early run
	 * every period, phase-locked to hvmon's grid, and the hang monitor's
	 * samples would all land with IRQs off (a false `hard` hang in the suite's
	 * hang_bochs, 2026-12-05) */
	uint64_t slack = (v->exit_reason & 0xffff) == EXIT_PREEMPT_TIMER ? tick_tsc_hz() / 1000 * TICK_SLACK_MS : 0;
	bool ran = false;
	for (uint32_t i = 0; i < nr_clients; i++) {
		struct tick_client *c = &clients[i];
		if (c->want) {
			/* lazy: while idle it has no deadline; when work appears its first
			 * run comes one period later, never in the exit that made the work
			 * (a probe exit only records: issue 16) */
			bool w = c->want(c->ctx);
			if (w && !c->busy[id])
				c->next[id] = now + c->period;
			c->busy[id] = w;
			if (!w)
				continue;
		}
		if (now + (slack < c->period / 4 ? slack : c->period / 4) >= c->next[id]) {
			c->next[id] += c->period;
			if (c->next[id] <= now)          /* missed several periods: no catch-up burst */
				c->next[id] = now + c->period;
			uint64_t t0 = rdtsc();
			c->fn(v, now, c->ctx);
			c->runs++;
			c->ticks += rdtsc() - t0;
			ran = true;
		}
		if (c->next[id] < next)
			next = c->next[id];
	}
	if (!ran) {
		arm_at(now, next);
		return;
	}
	now = rdtsc();
	for (uint32_t i = 0; i < nr_clients; i++) {
		struct tick_client *c = &clients[i];
		if (!c->want)
			continue;
		bool w = c->want(c->ctx);
		if (w && !c->busy[id])
			c->next[id] = now + c->period;
		c->busy[id] = w;
	}
	arm_at(now, next_deadline(id, now));
}

void tick_get_stats(struct tick_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->timer_exits = timer_exits;
	for (uint32_t i = 0; i < nr_clients; i++) {
		s->runs += clients[i].runs;
		s->ticks += clients[i].ticks;
	}
}

void tick_print_stats(void)
{
	hv_printf("hvmon: tick: %lu preemption-timer exits, TSC %lu kHz\n", (unsigned long)timer_exits,
		  (unsigned long)(tsc_hz / 1000));
	for (uint32_t i = 0; i < nr_clients; i++)
		hv_printf("hvmon: tick: %s: %lu runs, %lu TSC ticks/run\n", clients[i].name,
			  (unsigned long)clients[i].runs,
			  (unsigned long)(clients[i].runs ? clients[i].ticks / clients[i].runs : 0));
}
