/*
 * Port I/O. The I/O bitmap intercepts only: hvmon's console UART when it is
 * not also the guest's (hidden: reads float high, writes vanish), the ACPI
 * PM1a/PM1b control ports (a sleep write with SLP_EN is the guest powering
 * off), Bochs's 0x8900 "Shutdown" port, and ports a monitor hooked with
 * io_register_hook() (the keylogger detector: 0x60, only while it is on).
 * Everything else goes straight to the hardware.
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/net_hide.h"
#include "drivers/uart.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

#define BOCHS_SHUTDOWN_PORT 0x8900
#define PM1_SLP_EN (1u << 13)

static void intercept(struct vm *vm, uint16_t port, unsigned int n)
{
	for (unsigned int i = 0; i < n && port + i <= 0xffff; i++) {
		uint32_t p = port + i;
		vm->io_bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
	}
}

static bool intercepted(const struct vm *vm, uint32_t port)
{
	return vm->io_bitmap[(port & 0xffff) / 8] & (1u << (port % 8));
}

/* Does the guest command line give the guest this UART (console=ttySn,
 * earlycon/earlyprintk on it)? Then it is shared, not hidden. */
static bool guest_uses_uart(const char *cmdline, uint16_t base)
{
	static const uint16_t ttys[4] = { UART_COM1, UART_COM2, UART_COM3, UART_COM4 };
	for (size_t i = 0; cmdline[i] && i < BOOT_CMDLINE_MAX - 5; i++)
		if (!memcmp(cmdline + i, "ttyS", 4) && cmdline[i + 4] >= '0' && cmdline[i + 4] <= '3' &&
		    ttys[cmdline[i + 4] - '0'] == base)
			return true;
	return false;
}

static bool is_console_port(const struct vm *vm, uint32_t port)
{
	uint16_t c = console_port();
	return c && port >= c && port < (uint32_t)c + UART_NR_PORTS;
}

int io_setup(struct vm *vm)
{
	vm->io_bitmap = pages_alloc(2);
	if (!vm->io_bitmap)
		return -1;
	vm->io_bitmap_pa = hv_virt_to_phys(vm->io_bitmap);

	uint16_t con = console_port();
	if (con) {
		if (guest_uses_uart(vm->bi->guest_cmdline, con)) {
			pr_warn("console UART %#x is also the guest's console: shared, not hidden\n", con);
		} else {
			intercept(vm, con, UART_NR_PORTS);
			pr_info("console UART %#x hidden from the guest\n", con);
		}
	}
	if (acpi_find_pm1_cnt(vm->bi->acpi_rsdp, &vm->pm1a_cnt_port, &vm->pm1b_cnt_port) == 0) {
		intercept(vm, vm->pm1a_cnt_port, 2);
		if (vm->pm1b_cnt_port)
			intercept(vm, vm->pm1b_cnt_port, 2);
		pr_info("ACPI power-off: PM1a_CNT port %#x, PM1b_CNT port %#x\n",
			vm->pm1a_cnt_port, vm->pm1b_cnt_port);
	} else {
		pr_warn("no ACPI FADT found (RSDP %#lx): guest ACPI power-off will not be seen\n",
			(unsigned long)vm->bi->acpi_rsdp);
	}
	intercept(vm, BOCHS_SHUTDOWN_PORT, 1);
	return 0;
}

bool io_port_intercepted(const struct vm *vm, uint16_t port)
{
	return vm->io_bitmap && intercepted(vm, port);
}

int io_register_hook(struct vm *vm, uint16_t port, io_hook_fn fn, void *ctx)
{
	if (!vm->io_bitmap || !fn || vm->nr_io_hooks >= HV_MAX_IO_HOOKS)
		return -1;
	for (uint32_t i = 0; i < vm->nr_io_hooks; i++)
		if (vm->io_hooks[i].port == port)
			return -1;
	vm->io_hooks[vm->nr_io_hooks].port = port;
	vm->io_hooks[vm->nr_io_hooks].fn = fn;
	vm->io_hooks[vm->nr_io_hooks].ctx = ctx;
	vm->nr_io_hooks++;
	intercept(vm, port, 1);
	return 0;
}

static void set_rax(struct vcpu *v, unsigned int size, uint32_t val)
{
	uint64_t mask = size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
	if (size == 4)
		v->regs->rax = val;                     /* 32-bit writes zero-extend */
	else
		v->regs->rax = (v->regs->rax & ~mask) | (val & mask);
}

int io_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t q = v->exit_qual;
	unsigned int size = (q & 7) + 1;
	bool in = q & 8, string = q & 16, rep = q & 32;
	uint16_t port = (uint16_t)(q >> 16);
	uint32_t val = (uint32_t)v->regs->rax;

	if (string) {
		/* INS/OUTS on an intercepted port: the data is dropped (OUTS) or the
		 * destination left untouched (INS); registers advance as if done. */
		uint64_t count = rep ? (v->regs->rcx & 0xffffffff) : 1;
		int64_t step = (vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
		if (in)
			v->regs->rdi += (uint64_t)(step * (int64_t)count);
		else
			v->regs->rsi += (uint64_t)(step * (int64_t)count);
		if (rep)
			v->regs->rcx = 0;
		vcpu_skip_instruction(v);
		return HV_RESUME;
	}

	for (uint32_t i = 0; i < vm->nr_io_hooks; i++) {
		if (vm->io_hooks[i].port != port)
			continue;
		vm->io_hooks[i].fn(v, port, size, in, &val, vm->io_hooks[i].ctx);
		if (in)
			set_rax(v, size, val);
		vcpu_skip_instruction(v);
		return HV_RESUME;
	}

	if (net_hide_io(port, size, in, &val)) {  /* PCI config ports, hidden NIC (vmm/net_hide.h) */
		if (in)
			set_rax(v, size, val);
		vcpu_skip_instruction(v);
		return HV_RESUME;
	}

	if (is_console_port(vm, port) && intercepted(vm, port)) {
		if (in)
			set_rax(v, size, 0xffffffff);        /* nothing there */
		vcpu_skip_instruction(v);
		return HV_RESUME;
	}

	if ((vm->pm1a_cnt_port && port == vm->pm1a_cnt_port) ||
	    (vm->pm1b_cnt_port && port == vm->pm1b_cnt_port)) {
		if (!in && size >= 2 && (val & PM1_SLP_EN))
			vm_power_off(v, port, val, size);
	} else if (port == BOCHS_SHUTDOWN_PORT && !in && size == 1) {
		static const char magic[] = "Shutdown";
		uint8_t s = vm->bochs_shutdown_state;
		s = ((char)val == magic[s]) ? s + 1 : ((char)val == magic[0]);
		vm->bochs_shutdown_state = s;
		if (s == 8)
			vm_power_off(v, port, val, size);
	}
	/* pass through */
	if (in)
		set_rax(v, size, port_in(port, size));
	else
		port_out(port, size, val);
	vcpu_skip_instruction(v);
	return HV_RESUME;
}
