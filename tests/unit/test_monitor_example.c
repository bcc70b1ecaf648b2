/*
 * The example monitor of docs/ARCHITECTURE.md "Adding a monitor", built on the
 * host against the core's real registry loop (vmm/monitor.c), option parser
 * (vmm/options.c) and intercept table (vmm/intercept.c). It registers (one
 * table line), gets its key parsed, and receives the exception it subscribed
 * to — and only that one — with its per-vCPU state allocated by the core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vcpu.h"
#include "vmm/monitor.h"
#include "vmm/intercept.h"
#include "lib/heap.h"

/* ---- the example monitor: its own file in monitors/ would hold all of this ---- */
struct example_config {
	uint32_t vector;                /* example_vector=, 0..31; default 6 (#UD) */
};
struct example_vcpu {
	uint64_t seen;                  /* exceptions seen on this vCPU */
	uint64_t last_error;
};

static const struct hv_opt_desc example_opts[] = {
	{ .key = "example_vector", .type = HV_OPT_UINT, .off = offsetof(struct example_config, vector),
	  .min = 0, .max = 31, .def = 6, .why = "expected an exception vector 0..31" },
};
static const struct hv_opt_owner example_options = {
	.name = "example", .opts = example_opts, .nr_opts = 1, .config_size = sizeof(struct example_config),
};

static struct hv_monitor_ops example_ops;
static int stats_printed, readies;

static int example_exception(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct example_vcpu *s = hv_vcpu_state(v, &example_ops);
	s->seen++;
	s->last_error = x->exc.error;
	return HV_ICPT_DONE;            /* handled: the core does not reflect it */
}

static int example_setup(struct vm *vm)
{
	const struct example_config *c = hv_monitor_config(vm, &example_ops);
	return hv_intercept_exception(vm, c->vector, 0, 0, example_exception, NULL);
}

static void example_ready(struct vm *vm) { readies++; }
static void example_stats(struct vm *vm) { stats_printed++; }

static struct hv_monitor_ops example_ops = {
	.setup = example_setup,
	.ready = example_ready,
	.print_stats = example_stats,
	.vcpu_state_size = sizeof(struct example_vcpu),
};

/* ---- the registry: one line per monitor (monitors/monitors.c in hvmon) ---- */
const struct hv_monitor hv_monitors[] = {
	{ &example_options, 7, &example_ops },
};
const unsigned hv_nr_monitors = 1;
unsigned hv_monitor_owners(const struct hv_opt_owner *out[], unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < hv_nr_monitors && n < max; i++)
		out[n++] = hv_monitors[i].options;
	return n;
}

/* ---- what the rest of ring -1 provides, for the host ---- */
void hv_log(unsigned int level, const char *fmt, ...) { (void)level; (void)fmt; }
void *pages_alloc(size_t n) { return calloc(n, 4096); }
static int changed;
void hv_intercept_changed(struct vm *vm) { changed++; }   /* ring -1: the VMCS of this exit's vCPU */
static introspect_ready_fn ready_fn;
static void *ready_ctx;
int introspect_on_ready(struct vm *vm, introspect_ready_fn fn, void *ctx)
{
	ready_fn = fn;
	ready_ctx = ctx;
	return 0;
}

static struct vm *new_vm(const char *cmdline)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	vm->msr_bitmap = calloc(1, 4096);
	vm->io_bitmap = calloc(2, 4096);
	hv_options_defaults(&vm->opt);
	assert_int_equal(hv_monitors_options(&vm->opt), 0);
	assert_int_equal(hv_options_parse(cmdline, strlen(cmdline) + 1, &vm->opt, NULL), 0);
	return vm;
}

static struct hv_icpt exc(uint8_t vector, uint32_t error)
{
	struct hv_icpt x = { .kind = HV_ICPT_EXCEPTION };
	x.exc.vector = vector;
	x.exc.has_error = true;
	x.exc.error = error;
	return x;
}

static void test_example_monitor(void **st)
{
	(void)st;
	struct vm *vm = new_vm("monitors=example example_vector=13");
	const struct example_config *c = hv_monitor_config(vm, &example_ops);
	assert_int_equal(c->vector, 13);                     /* its key, parsed by the core */

	hv_monitors_setup(vm);                               /* setup: subscribes to #GP */
	assert_int_equal(vm->mon_active, 1);
	assert_int_equal(vm->exc_bitmap, 1u << 13);          /* the bitmap follows the subscription */
	assert_true(changed > 0);
	struct vcpu v = { .vm = vm, .id = 0 };
	vm->vcpus[vm->nr_vcpus++] = &v;
	assert_int_equal(hv_monitors_vcpu_start(&v), 0);     /* per-vCPU state from the core */
	struct example_vcpu *s = hv_vcpu_state(&v, &example_ops);
	assert_non_null(s);

	struct hv_icpt gp = exc(13, 0x18), ud = exc(6, 0);
	assert_int_equal(hv_intercept_call(&v, &gp), HV_ICPT_DONE);
	assert_int_equal(s->seen, 1);
	assert_int_equal(s->last_error, 0x18);
	assert_int_equal(hv_intercept_call(&v, &ud), HV_ICPT_PASS);   /* not subscribed */
	assert_int_equal(s->seen, 1);

	assert_non_null(ready_fn);                           /* ready() once inference is over */
	ready_fn(vm, ready_ctx);
	assert_int_equal(readies, 1);
	hv_monitors_print_stats(vm);
	assert_int_equal(stats_printed, 1);
}

static void test_example_off(void **st)
{
	(void)st;
	struct vm *vm = new_vm("monitors=none");
	hv_monitors_setup(vm);                               /* left out: never set up */
	assert_int_equal(vm->mon_active, 0);
	assert_int_equal(vm->exc_bitmap, 0);
	struct vcpu v = { .vm = vm };
	assert_int_equal(hv_monitors_vcpu_start(&v), 0);
	assert_null(hv_vcpu_state(&v, &example_ops));
	struct hv_icpt ud = exc(6, 0);
	assert_int_equal(hv_intercept_call(&v, &ud), HV_ICPT_PASS);
}

/* The #PF filter of the VMCS is the widest one that serves every subscriber;
 * each subscriber still sees only its own faults. */
static int pf_hits[2];
static int pf0(struct vcpu *v, struct hv_icpt *x, void *ctx) { pf_hits[0]++; return HV_ICPT_PASS; }
static int pf1(struct vcpu *v, struct hv_icpt *x, void *ctx) { pf_hits[1]++; return HV_ICPT_DONE; }

static void test_pf_filter(void **st)
{
	(void)st;
	struct vm *vm = new_vm("monitors=none");
	struct vcpu v = { .vm = vm };
	assert_int_equal(hv_intercept_exception(vm, X86_VEC_PF, 0x14, 0x10, pf0, NULL), 0);
	assert_int_equal(vm->pf_mask, 0x14);
	assert_int_equal(vm->pf_match, 0x10);
	assert_int_equal(hv_intercept_exception(vm, X86_VEC_PF, 0x03, 0x03, pf1, NULL), 0);
	assert_int_equal(vm->pf_mask, 0);                    /* no bit both test alike */
	assert_int_equal(vm->pf_match, 0);
	struct hv_icpt a = exc(X86_VEC_PF, 0x11), b = exc(X86_VEC_PF, 0x03), c = exc(X86_VEC_PF, 0x04);
	assert_int_equal(hv_intercept_call(&v, &a), HV_ICPT_PASS);
	assert_int_equal(hv_intercept_call(&v, &b), HV_ICPT_DONE);
	assert_int_equal(hv_intercept_call(&v, &c), HV_ICPT_PASS);
	assert_int_equal(pf_hits[0], 1);
	assert_int_equal(pf_hits[1], 1);
}

/* I/O ranges and the I/O bitmap; page subscriptions come and go. */
static int io_fn(struct vcpu *v, struct hv_icpt *x, void *ctx) { x->io.value = 0x42; return HV_ICPT_DONE; }
static int pg_fn(struct vcpu *v, struct hv_icpt *x, void *ctx) { return HV_ICPT_DONE; }

static void test_io_and_pages(void **st)
{
	(void)st;
	struct vm *vm = new_vm("monitors=none");
	struct vcpu v = { .vm = vm };
	assert_int_equal(hv_intercept_io(vm, 0x3f8, 8, io_fn, NULL), 0);
	assert_true(io_port_intercepted(vm, 0x3ff));
	assert_false(io_port_intercepted(vm, 0x400));
	assert_int_equal(hv_intercept_io(vm, 0xfffe, 4, io_fn, NULL), -1);   /* past 0xffff */
	struct hv_icpt x = { .kind = HV_ICPT_IO, .io = { .port = 0x3fc, .size = 1, .in = true } };
	assert_int_equal(hv_intercept_call(&v, &x), HV_ICPT_DONE);
	assert_int_equal(x.io.value, 0x42);
	x.io.port = 0x400;
	assert_int_equal(hv_intercept_call(&v, &x), HV_ICPT_PASS);
	assert_int_equal(hv_intercept_page(vm, 0x12345678, pg_fn, NULL), 0);
	struct hv_icpt p = { .kind = HV_ICPT_PAGE, .page = { .gpa = 0x12345abc } };
	assert_int_equal(hv_intercept_call(&v, &p), HV_ICPT_DONE);
	assert_int_equal(hv_intercept_page_remove(vm, 0x12345000, pg_fn, NULL), 0);
	assert_int_equal(hv_intercept_call(&v, &p), HV_ICPT_PASS);
	assert_int_equal(hv_intercept_page_remove(vm, 0x12345000, pg_fn, NULL), -1);
	/* MSR: only the architectural ranges of the bitmap */
	assert_int_equal(hv_intercept_msr_write(vm, 0xc0000082, pg_fn, NULL), 0);
	assert_true(vm->msr_bitmap[0xc00 + 0x82 / 8] & (1u << (0x82 % 8)));
	assert_int_equal(hv_intercept_msr_write(vm, 0x40000000, pg_fn, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_monitor),
		cmocka_unit_test(test_example_off),
		cmocka_unit_test(test_pf_filter),
		cmocka_unit_test(test_io_and_pages),
	};
	return cmocka_run_group_tests_name("monitor_example", tests, NULL, NULL);
}
