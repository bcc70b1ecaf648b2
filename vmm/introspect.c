/*
 * introspect — the inference engine in ring -1 (see introspect.h and
 * docs/INFER-RING1.md). Runs once, in the VM exit of the guest's first WRMSR
 * to IA32_LSTAR; never stops the guest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/introspect.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "vmm/gmem.h"
#include "vmm/gvread.h"
#include "vmm/e820.h"
#include "vmm/linux_boot.h"
#include "vmm/options.h"
#include "events/event.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

_Static_assert(HV_INFER_PATTERNS == INFER_S_PATTERNS && HV_INFER_KALLSYMS == INFER_S_KALLSYMS &&
	       HV_INFER_BTF == INFER_S_BTF && HV_INFER_ALL == INFER_S_ALL,
	       "infer= option bits must equal enum infer_strategy");

#define START_KERNEL_MAP     0xffffffff80000000ULL
#define KERNEL_MAP_SIZE      (1ULL << 30)        /* KERNEL_IMAGE_SIZE with KASLR */

/* Arena: BTF is the peak (a copy of .BTF, 4.1-4.7 MB on Debian 6.1/6.12, plus
 * 4 bytes per type); patterns needs ~1.1 MB. Measured peak: docs/INFER-RING1.md. */
#define INTROSPECT_ARENA     (8u << 20)
#define INTROSPECT_ARENA_MIN (2u << 20)
#define ARENA_FILL           0xa5

/* ---- the guest-virtual reader ------------------------------------------- */


/* ---- console output -------------------------------------------------------- */

static char json_buf[16384];
static struct hv_event ev_buf;
static char ev_line[HV_EVENT_JSON_MAX];

/* Through the event core (every sink: console, network) when its rings are
 * set up; otherwise straight to the console as the same JSON line. */
static void emit_event(const struct hv_event *ev)
{
	/* the ring of the CPU running this exit: a ring has one producer, its CPU */
	struct vcpu *v = hv_current_vcpu();
	if (hv_event_emit(v ? v->id : 0, ev))
		return;
	size_t n = hv_event_to_json(ev, NULL, ev_line, sizeof(ev_line));
	if (n)
		console_write(ev_line, n);
}

static void ev_header(struct hv_event *ev, unsigned type, unsigned monitor)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.tsc = rdtsc();
	ev->hdr.type = (uint16_t)type;
	ev->hdr.monitor = (uint16_t)monitor;
}

/* The kernel release ("6.1.0-56-cloud-amd64") from "Linux version <rel> (...". */
static void banner_release(const char *banner, char *out, size_t size)
{
	static const char pfx[] = "Linux version ";
	size_t i = 0, j = 0;
	out[0] = 0;
	if (strncmp(banner, pfx, sizeof(pfx) - 1) != 0)
		return;
	i = sizeof(pfx) - 1;
	while (banner[i] && banner[i] != ' ' && j + 1 < size)
		out[j++] = banner[i++];
	out[j] = 0;
}

static void log_profile(struct vm *vm)
{
	struct vm_profile *pr = &vm->profile;
	char rel[HV_KVER_LEN];
	banner_release(pr->p.banner, rel, sizeof(rel));

	/* readable summary */
	pr_info("inference: %u/%u parameters found (strategies %#x), banner \"%.120s\"\n",
		pr->nfound, (unsigned)INFER_NPARAMS, pr->strategies, pr->p.banner);
	if (pr->slide_valid)
		pr_info("inference: KASLR slide %#lx (kernel map _text at %#lx, link %#lx; mapped to %#lx)\n",
			(unsigned long)pr->kaslr_slide, (unsigned long)pr->runtime_text,
			(unsigned long)pr->link_text, (unsigned long)pr->image_end);
	else
		pr_warn("inference: KASLR slide unknown (%s)\n", pr->why);
	for (int i = 0; i < INFER_NPARAMS; i++) {
		const struct infer_value *v = &pr->p.p[i];
		if (!v->found && v->na)
			pr_info("inference: %s.%s not applicable: %s\n", infer_param_group(i),
				infer_param_name(i), v->why);
		else if (!v->found)
			pr_warn("inference: %s.%s missing: %s\n", infer_param_group(i), infer_param_name(i),
				v->why);
		else if (infer_param_kind(i) == INFER_K_ADDR || infer_param_kind(i) == INFER_K_SYSCALL)
			pr_debug("inference: %s.%s = %#lx\n", infer_param_group(i), infer_param_name(i),
				 (unsigned long)v->value);
		else
			pr_debug("inference: %s.%s = %lu\n", infer_param_group(i), infer_param_name(i),
				 (unsigned long)v->value);
	}
	pr_info("inference: cost %lu TSC ticks (%lu in the reader); %lu reads, %lu bytes, %lu page copies, %lu page walks, "
		"%lu failed reads; arena peak %lu of %lu bytes; %lu views, %lu bytes read in place\n",
		(unsigned long)pr->tsc_ticks, (unsigned long)pr->reader_ticks,
		(unsigned long)pr->reads, (unsigned long)pr->bytes,
		(unsigned long)pr->pages, (unsigned long)pr->walks, (unsigned long)pr->failed_reads,
		(unsigned long)pr->arena_peak, (unsigned long)pr->arena_size,
		(unsigned long)pr->views, (unsigned long)pr->view_bytes);

	/* the whole profile, runtime addresses, as one line (hvinfer --json shape) */
	size_t n = infer_profile_json(&pr->p, json_buf, sizeof(json_buf));
	if (n >= sizeof(json_buf)) {
		pr_warn("inference: profile JSON cut (%lu bytes)\n", (unsigned long)n);
		n = sizeof(json_buf) - 1;
	}
	for (size_t i = 0; i < n; i++)
		if (json_buf[i] == '\n')
			json_buf[i] = ' ';
	console_write("hvmon: inference profile: ", 26);
	console_write(json_buf, n);
	console_write("\n", 1);

	/* the event (docs/EVENTS.md: inference) */
	ev_header(&ev_buf, HV_EV_INFERENCE, HV_EMON_CORE);
	ev_buf.u.inference.ok = pr->complete;
	hv_strlcpy_bounded(ev_buf.u.inference.kernel, sizeof(ev_buf.u.inference.kernel), rel, sizeof(rel));
	char reason[HV_REASON_LEN];
	snprintf(reason, sizeof(reason), "%u/%u parameters; kaslr_slide %s%lx; %lu ticks",
		 pr->nfound, (unsigned)INFER_NPARAMS, pr->slide_valid ? "0x" : "unknown ",
		 pr->slide_valid ? (unsigned long)pr->kaslr_slide : 0ul, (unsigned long)pr->tsc_ticks);
	hv_strlcpy_bounded(ev_buf.u.inference.reason, sizeof(ev_buf.u.inference.reason), reason,
			   sizeof(reason));
	emit_event(&ev_buf);
}

static void log_not_run(struct vm *vm)
{
	pr_warn("inference: not run: %s\n", vm->profile.why);
	ev_header(&ev_buf, HV_EV_INFERENCE, HV_EMON_CORE);
	hv_strlcpy_bounded(ev_buf.u.inference.reason, sizeof(ev_buf.u.inference.reason),
			   vm->profile.why, sizeof(vm->profile.why));
	emit_event(&ev_buf);
}

/* ---- KASLR slide ----------------------------------------------------------- */

/*
 * runtime _text: __startup_64 clears every level2_kernel_pgt entry below _text
 * and above _end, so the first present 2 MiB slot of the kernel map
 * (0xffffffff80000000 + 1 GiB) is _text. link _text = __START_KERNEL_map +
 * LOAD_PHYSICAL_ADDR, and the bzImage header's pref_address is LOAD_PHYSICAL_ADDR.
 */
static void find_slide(struct vm *vm, struct gvread *r)
{
	struct vm_profile *pr = &vm->profile;
	uint64_t text = gvread_first_mapped_2m(r, START_KERNEL_MAP, KERNEL_MAP_SIZE);
	if (!text) {
		snprintf(pr->why, sizeof(pr->why), "nothing mapped in the kernel map");
		return;
	}
	pr->runtime_text = text;
	pr->image_end = gvread_mapped_end_2m(r, text, START_KERNEL_MAP + KERNEL_MAP_SIZE - text);
	/* the syscall entry must lie in the mapped image */
	if (pr->lstar < text || pr->lstar >= pr->image_end) {
		snprintf(pr->why, sizeof(pr->why), "LSTAR %#lx outside the kernel map %#lx-%#lx",
			 (unsigned long)pr->lstar, (unsigned long)text, (unsigned long)pr->image_end);
		pr->image_end = 0;
		return;
	}
	if (!pr->pref_address) {
		snprintf(pr->why, sizeof(pr->why), "no pref_address in the bzImage header");
		return;
	}
	pr->link_text = START_KERNEL_MAP + pr->pref_address;
	uint64_t align = pr->kernel_alignment ? pr->kernel_alignment : (1u << 21);
	uint64_t slide = text - pr->link_text;
	if (text < pr->link_text || (slide & (align - 1))) {
		snprintf(pr->why, sizeof(pr->why), "kernel map starts at %#lx, link _text %#lx: not a slide",
			 (unsigned long)text, (unsigned long)pr->link_text);
		return;
	}
	pr->kaslr_slide = slide;
	pr->slide_valid = true;
}

/* ---- the LSTAR hook -------------------------------------------------------- */

static size_t arena_peak(const uint8_t *base, size_t size)
{
	size_t n = size;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, base + n - 8, 8);
		if (w != 0xa5a5a5a5a5a5a5a5ULL)
			break;
		n -= 8;
	}
	return n;
}

static void run_ready(struct vm *vm)
{
	vm->profile.done = true;
	for (uint32_t i = 0; i < vm->profile.nr_ready; i++)
		vm->profile.ready[i].fn(vm, vm->profile.ready[i].ctx);
}

static struct gvread reader;
static uint64_t reader_ticks;

/* gvread_read, timed: splits the cost between the reader and the engine. */
static bool timed_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	uint64_t t0 = rdtsc();
	bool ok = gvread_read(ctx, va, buf, len);
	reader_ticks += rdtsc() - t0;
	return ok;
}

/* gvread_view, timed like the reads (its cost is the reader's too) */
static const uint8_t *timed_view(void *ctx, uint64_t va, size_t len)
{
	uint64_t t0 = rdtsc();
	const uint8_t *p = gvread_view(ctx, va, len);
	reader_ticks += rdtsc() - t0;
	return p;
}

/* WRMSR IA32_LSTAR subscriber (vmm/intercept.h): observes, the core performs it */
static int lstar_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct vm *vm = ctx;
	uint64_t value = x->msr.value;
	struct vm_profile *pr = &vm->profile;
	(void)v;
	if (pr->done)
		return HV_ICPT_PASS;                      /* only the first write (boot CPU, start_kernel) */
	pr->lstar = value;
	pr->cr3 = vmread(VMCS_GUEST_CR3);
	if (!vm->opt.infer) {
		snprintf(pr->why, sizeof(pr->why), "disabled by infer=off");
		log_not_run(vm);
		run_ready(vm);
		return HV_ICPT_PASS;
	}

	/* reader over the guest's current page tables */
	struct gvread *r = &reader;
	struct gmem_mmu mmu = { .read_phys = vm_guest_ram_read, .ctx = vm, .cr3 = pr->cr3 };
	mmu.la57 = (vmread(VMCS_GUEST_CR4) & X86_CR4_LA57) != 0;
	mmu.nxe = (vmread(VMCS_GUEST_EFER) & X86_EFER_NXE) != 0;
	struct x86_cpuid id;
	cpuid_count(0x80000008, 0, &id);
	mmu.maxphyaddr = (uint8_t)(id.eax & 0xff);
	gvread_init(r, &mmu);
	gvread_set_view(r, vm_guest_ram_ptr, vm);    /* scans read guest RAM in place */

	/* hints: the kernel GS base. In syscall_init the kernel runs in ring 0 with
	 * GS = its per-CPU base (loaded by switch_to_new_gdt/setup_per_cpu_areas);
	 * IA32_KERNEL_GS_BASE holds the user value until the first swapgs. */
	struct infer_hints h = { .have_lstar = true, .lstar = value };
	uint64_t gs = vmread(VMCS_GUEST_GS_BASE);
	const char *gs_src = "GUEST_GS_BASE";
	if (!(gs >> 63)) {
		gs = rdmsr(MSR_KERNEL_GS_BASE);
		gs_src = "IA32_KERNEL_GS_BASE";
	}
	if (gs >> 63) {
		h.have_gs_base = true;
		h.gs_base = gs;
		pr->gs_base = gs;
	} else {
		gs_src = "none (no kernel-half GS base)";
	}
	pr_info("inference: first IA32_LSTAR write %#lx; CR3 %#lx; GS base %#lx from %s\n",
		(unsigned long)value, (unsigned long)pr->cr3, (unsigned long)gs, gs_src);

	find_slide(vm, r);

	/* arena from the heap, for this run only */
	size_t asize = INTROSPECT_ARENA;
	uint8_t *mem = malloc(asize);
	if (!mem) {
		asize = INTROSPECT_ARENA_MIN;
		mem = malloc(asize);
	}
	if (!mem) {
		snprintf(pr->why, sizeof(pr->why), "no heap for the inference arena (%u bytes)",
			 INTROSPECT_ARENA_MIN);
		log_not_run(vm);
		run_ready(vm);
		return HV_ICPT_PASS;
	}
	memset(mem, ARENA_FILL, asize);
	struct infer_arena arena = { .base = mem, .size = asize, .used = 0 };
	struct infer_reader rd = { .read = timed_read, .ctx = r, .view = timed_view };
	reader_ticks = 0;
	if (pr->image_end) {                /* the mapped image bounds the engine's scans */
		rd.image_start = pr->runtime_text;
		rd.image_end = pr->image_end;
	}

	uint64_t t0 = rdtsc();
	int n = infer_run(&rd, &h, vm->opt.infer, &arena, &pr->p);
	uint64_t t1 = rdtsc();

	pr->arena_size = asize;
	pr->arena_peak = arena_peak(mem, asize);
	free(mem);
	pr->ran = true;
	pr->tsc_ticks = t1 - t0;
	pr->reader_ticks = reader_ticks;
	pr->strategies = vm->opt.infer;
	pr->nfound = n > 0 ? (uint32_t)n : 0;
	pr->complete = infer_profile_complete(&pr->p);   /* not applicable is not missing */
	pr->reads = r->reads;
	pr->bytes = r->bytes;
	pr->walks = r->walks;
	pr->pages = r->pages;
	pr->failed_reads = r->failed;
	pr->views = r->views;
	pr->view_bytes = r->view_bytes;
	pr->p.kaslr_slide = pr->slide_valid ? pr->kaslr_slide : 0;
	log_profile(vm);
	run_ready(vm);
	return HV_ICPT_PASS;
}

/* ---- public ------------------------------------------------------------------ */

int introspect_init(struct vm *vm)
{
	struct vm_profile *pr = &vm->profile;
	const struct boot_info *bi = vm->bi;
	struct lb_image img;

	if (bi->guest_kernel.base && bi->guest_kernel.size &&
	    lb_parse((const void *)bi->guest_kernel.base, bi->guest_kernel.size, &img) == 0) {
		pr->pref_address = img.pref_address;
		pr->kernel_alignment = img.kernel_alignment;
	}
	if (hv_intercept_msr_write(vm, IA32_LSTAR, lstar_write, vm)) {
		snprintf(pr->why, sizeof(pr->why), "no free intercept slot for IA32_LSTAR");
		pr_err("inference: %s; monitors needing the guest's kernel stay off\n", pr->why);
		return -1;
	}
	return 0;
}

bool introspect_have(const struct vm *vm, enum infer_param p)
{
	return vm && vm->profile.ran && (unsigned)p < INFER_NPARAMS && vm->profile.p.p[p].found;
}

uint64_t introspect_value(const struct vm *vm, enum infer_param p)
{
	return introspect_have(vm, p) ? vm->profile.p.p[p].value : 0;
}

bool introspect_require(const struct vm *vm, unsigned monitor, const enum infer_param *need,
			unsigned n)
{
	const char *name = hv_monitor_name(monitor);
	char reason[HV_REASON_LEN] = "all required kernel parameters inferred";
	bool ok = true;
	if (!name)
		name = "?";
	if (!vm->profile.ran) {
		snprintf(reason, sizeof(reason), "no inference: %s",
			 vm->profile.why[0] ? vm->profile.why : "not run yet");
		ok = n == 0;
	}
	for (unsigned i = 0; ok && i < n; i++) {
		if (!introspect_have(vm, need[i])) {
			unsigned p = (unsigned)need[i];
			snprintf(reason, sizeof(reason), "needs %s.%s: %s",
				 p < INFER_NPARAMS ? infer_param_group(need[i]) : "?",
				 p < INFER_NPARAMS ? infer_param_name(need[i]) : "?",
				 p < INFER_NPARAMS ? vm->profile.p.p[p].why : "unknown parameter");
			ok = false;
		}
	}
	if (ok)
		pr_info("monitor %s: on\n", name);
	else
		pr_warn("monitor %s: off: %s\n", name, reason);
	ev_header(&ev_buf, HV_EV_MONITOR_STATE, monitor);
	ev_buf.u.monitor_state.enabled = ok;
	hv_strlcpy_bounded(ev_buf.u.monitor_state.reason, sizeof(ev_buf.u.monitor_state.reason),
			   reason, sizeof(reason));
	emit_event(&ev_buf);
	return ok;
}

int introspect_on_ready(struct vm *vm, introspect_ready_fn fn, void *ctx)
{
	struct vm_profile *pr = &vm->profile;
	if (!fn)
		return -1;
	if (pr->done) {
		fn(vm, ctx);
		return 0;
	}
	if (pr->nr_ready >= INTROSPECT_MAX_READY)
		return -1;
	pr->ready[pr->nr_ready].fn = fn;
	pr->ready[pr->nr_ready].ctx = ctx;
	pr->nr_ready++;
	return 0;
}
