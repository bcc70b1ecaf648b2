/*
 * Handoff probe: entered by hvmon.efi exactly like hvmon.elf (RDI = boot_info,
 * RSI = phys_base, interrupts off, long mode, identity map). Checks what the
 * loader promised, prints one verdict line on COM1 and port 0xE9, and ends the
 * run through Bochs' port 0x8900 "Shutdown". Only for tests of hvmon.efi.
 */
#include <stdint.h>
#include "boot/boot_info.h"

extern char probe_header[], __bss_start[], __bss_end[], __image_end[];
static volatile uint64_t bss_canary;       /* must read 0: the loader zeroes bss */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc_(char c)
{
	unsigned spins = 100000;

	outb(0xe9, (uint8_t)c);
	while (!(inb(0x3f8 + 5) & 0x20) && --spins)
		;
	outb(0x3f8, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void putx(uint64_t v)
{
	int i;

	puts_("0x");
	for (i = 60; i >= 0; i -= 4)
		putc_("0123456789abcdef"[(v >> i) & 15]);
}

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		puts_("hvmon-probe: FAIL ");
		puts_(what);
		puts_("\n");
		failures++;
	}
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static const struct boot_reserved *find_rsvd(const struct boot_info *bi, const char *what)
{
	uint32_t i;

	for (i = 0; i < bi->nr_reserved && i < BOOT_RSVD_MAX; i++)
		if (bi->reserved[i].what && streq(bi->reserved[i].what, what))
			return &bi->reserved[i];
	return 0;
}

static int in_ram(const struct boot_info *bi, uint64_t b, uint64_t l)
{
	uint32_t i;

	for (i = 0; i < bi->nr_mem; i++) {
		const struct boot_mem_region *m = &bi->mem[i];

		if (m->type == BOOT_MEM_RAM && b >= m->base && b - m->base < m->length &&
		    l <= m->length - (b - m->base))
			return 1;
	}
	return 0;
}

void probe_main(struct boot_info *bi, uint64_t phys_base, uint64_t rflags, uint64_t rsp)
{
	const struct boot_reserved *img, *bd, *stk;
	uint64_t efer, cr0, ram = 0;
	uint32_t lo, hi, i;
	const unsigned char *heap;

	puts_("\nhvmon-probe: entered at phys_base=");
	putx(phys_base);
	puts_(" boot_info=");
	putx((uint64_t)bi);
	puts_("\n");

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	efer = ((uint64_t)hi << 32) | lo;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	check((efer & (1 << 10)) && (cr0 & (1ULL << 31)), "long mode with paging");
	check(!(rflags & (1 << 9)), "interrupts disabled at entry (RFLAGS.IF=0)");
	check(phys_base == (uint64_t)probe_header, "RSI = phys_base = where the image runs");
	check(phys_base % 0x200000 == 0, "phys_base aligned to 2 MiB");
	check(phys_base + 0x100000 + (uint64_t)(__image_end - probe_header) <= 0x100000000ULL,
	      "image below 4 GiB");
	check(bss_canary == 0, "bss zeroed");
	heap = (const unsigned char *)__image_end;
	check(heap[0] == 0 && heap[0xfffff] == 0, "heap zeroed");
	check(bi->version == BOOT_INFO_VERSION, "boot_info.version");
	check(bi->source == BOOT_SRC_UEFI, "boot_info.source = UEFI");
	check(bi->nr_mem > 0 && bi->nr_mem <= BOOT_MEM_MAX, "memory map present");
	for (i = 1; i < bi->nr_mem && i < BOOT_MEM_MAX; i++)
		check(bi->mem[i - 1].base + bi->mem[i - 1].length <= bi->mem[i].base, "memory map sorted");
	for (i = 0; i < bi->nr_mem && i < BOOT_MEM_MAX; i++)
		if (bi->mem[i].type == BOOT_MEM_RAM)
			ram += bi->mem[i].length;
	img = find_rsvd(bi, "image");
	bd = find_rsvd(bi, "boot-data");
	stk = find_rsvd(bi, "handoff-stack");
	check(img && img->base == phys_base && img->length >= (uint64_t)(__image_end - probe_header) + 0x100000,
	      "reserved 'image' = image + heap at phys_base");
	check(bd && (uint64_t)bi >= bd->base && (uint64_t)bi + sizeof(*bi) <= bd->base + bd->length,
	      "reserved 'boot-data' holds boot_info");
	check(stk && rsp > stk->base && rsp <= stk->base + stk->length, "entry RSP in reserved 'handoff-stack'");
	for (i = 0; i < bi->nr_reserved && i < BOOT_RSVD_MAX; i++)
		check(in_ram(bi, bi->reserved[i].base, bi->reserved[i].length), "reserved range inside RAM");
	check(bi->guest_kernel.base && bi->guest_kernel.size > 0x1000 &&
	      ((const char *)bi->guest_kernel.base)[0x202] == 'H' &&
	      ((const char *)bi->guest_kernel.base)[0x205] == 'S', "guest kernel is a bzImage (HdrS)");
	check(find_rsvd(bi, "guest-kernel") != 0, "guest kernel reserved");
	if (bi->guest_initrd.size) {
		check(find_rsvd(bi, "guest-initrd") == 0, "guest initrd not reserved (the guest reads it)");
		check(in_ram(bi, bi->guest_initrd.base, bi->guest_initrd.size), "guest initrd in RAM");
		check(((const unsigned char *)bi->guest_initrd.base)[0] == 0x1f &&
		      ((const unsigned char *)bi->guest_initrd.base)[1] == 0x8b, "initrd is gzip data");
	}
	puts_("hvmon-probe: RAM ");
	putx(ram);
	puts_(", ");
	putx(bi->nr_mem);
	puts_(" map entries, ");
	putx(bi->nr_reserved);
	puts_(" reserved, rsdp ");
	putx(bi->acpi_rsdp);
	puts_(", fb ");
	putx(bi->fb.addr);
	puts_("\nhvmon-probe: hv_cmdline='");
	puts_(bi->hv_cmdline);
	puts_("'\nhvmon-probe: guest_cmdline='");
	puts_(bi->guest_cmdline);
	puts_("'\n");
	for (i = 0; i < bi->nr_reserved && i < BOOT_RSVD_MAX; i++) {
		puts_("hvmon-probe: reserved ");
		putx(bi->reserved[i].base);
		puts_(" +");
		putx(bi->reserved[i].length);
		puts_(" ");
		puts_(bi->reserved[i].what ? bi->reserved[i].what : "?");
		puts_("\n");
	}
	puts_(failures ? "hvmon-probe: handoff FAILED\n" : "hvmon-probe: handoff OK\n");
	for (i = 0; i < 1000000 && !(inb(0x3f8 + 5) & 0x40); i++)
		;                            /* let the UART drain (TEMT) */
	for (i = 0; i < 8; i++)
		outb(0x8900, (uint8_t)"Shutdown"[i]);
}
