/*
 * hang_core — pure decision logic of the hang detector (monitors/hang.h).
 * No ring -1 dependencies: host unit tests link it directly.
 */
#include <string.h>
#include "monitors/hang.h"

void hang_state_init(struct hang_state *s, uint64_t timeout_tsc)
{
	memset(s, 0, sizeof(*s));
	s->timeout = timeout_tsc ? timeout_tsc : 1;
}

const char *hang_kind_name(enum hang_kind k)
{
	switch (k) {
	case HANG_HARD:      return "hard";
	case HANG_SOFT:      return "soft";
	case HANG_NO_SWITCH: return "no_switch";
	default:             return "none";
	}
}

enum hang_scope hang_scope_of(const struct hang_state *const *st, unsigned n, unsigned *hung)
{
	unsigned sampled = 0, nh = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!st[i] || !st[i]->started)
			continue;
		sampled++;
		/* another vCPU's flag, read without its owner's cooperation: a stale value
		 * costs one report's scope, never a report */
		if (__atomic_load_n(&st[i]->hung, __ATOMIC_RELAXED) != HANG_NONE)
			nh++;
	}
	if (hung)
		*hung = nh;
	if (!nh)
		return HANG_SCOPE_UNKNOWN;
	return nh == sampled ? HANG_SCOPE_MACHINE : HANG_SCOPE_PARTIAL;
}

const char *hang_scope_name(enum hang_scope s)
{
	switch (s) {
	case HANG_SCOPE_PARTIAL: return "partial";
	case HANG_SCOPE_MACHINE: return "machine";
	default:                 return "unknown";
	}
}

bool hang_comm_is_stopper(const char comm[16])
{
	/* kernel/stop_machine.c: the per-CPU stopper kthreads are "migration/%u" */
	static const char pfx[] = "migration/";
	unsigned i, n = sizeof(pfx) - 1;
	if (memcmp(comm, pfx, n))
		return false;
	for (i = n; i < 16 && comm[i]; i++)
		if (comm[i] < '0' || comm[i] > '9')
			return false;
	return i > n && i < 16;
}

/* a new progress window starts at @x (the IRQs-off streak is not part of it) */
static void reset_window(struct hang_state *s, const struct hang_sample *x)
{
	s->progress_tsc = x->tsc;
	s->kernel_since = (!x->idle && x->kernel) ? x->tsc : 0;
}

/* Guest-memory evidence of scheduling since the last sample, cross-checked against
 * the hardware (monitors/hang.h): the probe's #BP exits at __switch_to count; a
 * change of the sampled current task counts only without that probe. */
static bool sched_progress(struct hang_state *s, const struct hang_sample *x)
{
	bool moved = x->switches != s->last_switches;
	bool changed = x->task_valid && s->last_task_valid && x->task != s->last_task;
	if (changed && x->switch_probe && !moved)
		s->task_claims++;       /* `current` rewritten without a context switch */
	return moved || (changed && !x->switch_probe);
}

bool hang_step(struct hang_state *s, const struct hang_sample *x, struct hang_verdict *out)
{
	memset(out, 0, sizeof(*out));
	/* the hardware's IRQs-off streak: CPL 0, IF=0, running (an offline CPU halts with IF=0) */
	bool irqoff = !x->idle && x->kernel && !x->if_on;
	bool progress = x->idle;
	if (s->started && sched_progress(s, x))
		progress = true;
	if (x->idle_task && !x->idle)
		s->idle_claims++;       /* the guest says idle, the vCPU runs: not idle */
	if (x->task_valid) {
		s->last_task = x->task;
		s->last_task_valid = true;
	}
	s->last_switches = x->switches;
	if (!irqoff)
		s->irqoff_since = 0;
	else if (!s->irqoff_since)
		s->irqoff_since = x->tsc;
	if (!s->started) {
		s->started = true;
		reset_window(s, x);
		return false;
	}
	if (progress)
		reset_window(s, x);
	else if (x->kernel) {
		if (!s->kernel_since)
			s->kernel_since = x->tsc;
	} else {
		s->kernel_since = 0;
	}
	if (s->hung) {
		/* hard ends by the hardware only (the guest may claim progress meanwhile);
		 * the others at the next progress */
		bool end = s->hung == HANG_HARD ? !irqoff : progress;
		if (!end)
			return false;
		reset_window(s, x);
		out->kind = s->hung;
		out->recovered = true;
		out->duration = x->tsc - s->hung_since;
		s->hung = HANG_NONE;
		s->recoveries++;
		return true;
	}

	uint64_t now = x->tsc, T = s->timeout;
	enum hang_kind k = HANG_NONE;
	uint64_t since = 0;
	if (s->irqoff_since && now - s->irqoff_since >= T) {
		k = HANG_HARD;
		since = s->irqoff_since;
	} else if (s->kernel_since && now - s->kernel_since >= T) {
		/* a running IF=0 streak of >= T/2 will become "hard" soon: wait for it */
		if (!(s->irqoff_since && now - s->irqoff_since >= T / 2)) {
			k = HANG_SOFT;
			since = s->kernel_since;
		}
	} else if (!s->kernel_since && now - s->progress_tsc >= T) {
		k = HANG_NO_SWITCH;
		since = s->progress_tsc;
	}
	if (k == HANG_NONE)
		return false;
	s->hung = k;
	s->hung_since = since;
	s->reports++;
	out->kind = k;
	out->duration = now - since;
	return true;
}
