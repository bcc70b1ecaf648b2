/*
 * Port I/O. The I/O bitmap intercepts only the ports someone subscribed to
 * (vmm/intercept.h): hvmon's console UART when it is not also the guest's
 * (hidden here: reads float high, writes vanish), the ACPI PM1a/PM1b control
 * ports and Bochs's 0x8900 "Shutdown" port (vmm/power.c), the hidden NIC's
 * configuration ports and I/O BARs (vmm/net_hide_vmx.c), and a monitor's
 * ports (the keylogger detector: 0x60, only while it is on). One path: the
 * subscribers, else the hardware.
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "drivers/uart.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

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

/* The hidden console UART: reads float high (nothing there), writes vanish. */
static int console_hide(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)v;
	(void)ctx;
	if (x->io.in)
		x->io.value = 0xffffffff;
	return HV_ICPT_DONE;
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
		} else if (hv_intercept_io(vm, con, UART_NR_PORTS, console_hide, NULL)) {
			pr_err("console UART %#x: cannot intercept it: NOT hidden\n", con);
		} else {
			pr_info("console UART %#x hidden from the guest\n", con);
		}
	}
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
	uint64_t q = v->exit_qual;
	unsigned int size = (q & 7) + 1;
	bool in = q & 8, string = q & 16, rep = q & 32;
	uint16_t port = (uint16_t)(q >> 16);

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

	/* the port's subscribers (vmm/intercept.h), else the hardware */
	struct hv_icpt x;               /* fields set one by one: no zeroing on the exit path */
	x.kind = HV_ICPT_IO;
	x.io.port = port;
	x.io.size = (uint8_t)size;
	x.io.in = in;
	x.io.value = (uint32_t)v->regs->rax;
	if (hv_intercept_call(v, &x) != HV_ICPT_DONE) {
		if (in)
			x.io.value = port_in(port, size);
		else
			port_out(port, size, x.io.value);
	}
	if (in)
		set_rax(v, size, x.io.value);
	vcpu_skip_instruction(v);
	return HV_RESUME;
}
