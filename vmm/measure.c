/* measure — see measure.h. SHA-256: mbedTLS (Debian source), FIPS 180-4. */
#include <string.h>
#include "vmm/measure.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "vmm/options.h"
#include "vmm/tick.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "mbedtls/sha256.h"

extern char __ro_end[];

void measure_sha256_hex(const void *p, size_t len, char out[HV_SHA256_HEX])
{
	static const char d[] = "0123456789abcdef";
	uint8_t h[32];
	mbedtls_sha256_ret(p, len, h, 0);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[h[i] >> 4];
		out[2 * i + 1] = d[h[i] & 15];
	}
	out[64] = 0;
}

void measure_boot(struct vm *vm, struct hv_event *ev)
{
	static char opts[1024];
	const struct boot_info *bi = vm->bi;
	struct hv_ev_boot_config *c = &ev->u.boot_config;
	uint64_t t0 = rdtsc();

	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = HV_EV_BOOT_CONFIG;
	ev->hdr.monitor = HV_EMON_CORE;
	ev->hdr.tsc = t0;
	c->monitors = (uint8_t)(vm->opt.monitors & ((1u << vm->opt.nr_owners) - 1));   /* registry order */
	c->loader = bi->source == BOOT_SRC_UEFI ? 2 : 1;
	/* hvmon's code and read-only data (.text, .rodata: not written after
	 * load); data, bss and heap change at run time and are not measured */
	measure_sha256_hex(__image_start, (size_t)(__ro_end - __image_start), c->hvmon_sha256);
	if (bi->guest_kernel.size)
		measure_sha256_hex((const void *)(uintptr_t)bi->guest_kernel.base, bi->guest_kernel.size,
				   c->kernel_sha256);
	if (bi->guest_initrd.size)
		measure_sha256_hex((const void *)(uintptr_t)bi->guest_initrd.base, bi->guest_initrd.size,
				   c->initrd_sha256);
	size_t n = hv_options_format(&vm->opt, opts, sizeof(opts));
	measure_sha256_hex(opts, n < sizeof(opts) ? n : sizeof(opts) - 1, c->options_sha256);
	hv_strlcpy_bounded(c->options, sizeof(c->options), opts, sizeof(opts));
	pr_info("measure: hvmon %.16s… kernel %.16s… initrd %.16s… options %.16s… (SHA-256, %lu ms)\n",
		c->hvmon_sha256, c->kernel_sha256, c->initrd_sha256[0] ? c->initrd_sha256 : "(none)",
		c->options_sha256, (unsigned long)tick_tsc_to_ms(rdtsc() - t0));
}
