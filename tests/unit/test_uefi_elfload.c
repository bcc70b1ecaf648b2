/* Unit tests for boot/uefi/elfload.c: hvmon.elf validation and loading
 * against boot/handoff.h, on synthetic ELF images (and on build/hvmon.elf
 * when it has been built). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <elf.h>
#include <cmocka.h>

#include "boot/uefi/elfload.h"

#define VBASE 0xffffffff80000000ULL

struct img {
	unsigned char b[0x6000];
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;          /* 2 PT_LOAD + 1 PT_NOTE */
	struct hv_handoff_header *hh;
};

/* seg 0: file 0x1000..0x3000 at VBASE (header first), memsz 0x2000
 * seg 1: file 0x3000..0x4000 at VBASE+0x3000, memsz 0x3000 (bss)
 * image_size = 0x6000, heap 0x4000 */
static void build(struct img *im)
{
	memset(im, 0, sizeof(*im));
	im->eh = (Elf64_Ehdr *)im->b;
	memcpy(im->eh->e_ident, ELFMAG, SELFMAG);
	im->eh->e_ident[EI_CLASS] = ELFCLASS64;
	im->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh->e_ident[EI_VERSION] = EV_CURRENT;
	im->eh->e_type = ET_EXEC;
	im->eh->e_machine = EM_X86_64;
	im->eh->e_phoff = sizeof(Elf64_Ehdr);
	im->eh->e_phentsize = sizeof(Elf64_Phdr);
	im->eh->e_phnum = 3;
	im->ph = (Elf64_Phdr *)(im->b + sizeof(Elf64_Ehdr));
	im->ph[0] = (Elf64_Phdr){ PT_NOTE, 4, 0x200, 0, 0, 0x10, 0x10, 4 };
	im->ph[1] = (Elf64_Phdr){ PT_LOAD, 5, 0x1000, VBASE, 0x8000000, 0x2000, 0x2000, 0x1000 };
	im->ph[2] = (Elf64_Phdr){ PT_LOAD, 6, 0x3000, VBASE + 0x3000, 0x8003000, 0x1000, 0x3000, 0x1000 };
	memset(im->b + 0x1000, 0x11, 0x2000);
	memset(im->b + 0x3000, 0x22, 0x1000);
	memset(im->b + 0x4000, 0x33, 0x2000);       /* after the segments: must not be loaded */
	im->hh = (struct hv_handoff_header *)(im->b + 0x1000);
	memcpy(im->hh->magic, HV_HANDOFF_MAGIC, 8);
	im->hh->version = HV_HANDOFF_VERSION;
	im->hh->header_size = sizeof(struct hv_handoff_header);
	im->hh->entry64_offset = 0x100;
	im->hh->image_size = 0x6000;
	im->hh->heap_size = 0x4000;
	im->hh->align = HV_HANDOFF_ALIGN;
}

static void test_plan_and_load(void **st)
{
	(void)st;
	static struct img im;
	struct uefi_elf_plan plan;
	const char *why = NULL;
	unsigned char *dest;
	size_t i;

	build(&im);
	assert_int_equal(uefi_elf_plan(im.b, sizeof(im.b), &plan, &why), 0);
	assert_int_equal(plan.first_vaddr, VBASE);
	assert_int_equal(plan.entry64_offset, 0x100);
	assert_int_equal(plan.image_size, 0x6000);
	assert_int_equal(plan.heap_size, 0x4000);
	assert_int_equal(plan.total, 0xa000);
	assert_int_equal(plan.align, 0x200000);
	assert_int_equal(plan.nr_load, 2);

	dest = malloc(plan.total);
	memset(dest, 0xee, plan.total);
	uefi_elf_load(im.b, &plan, dest);
	assert_memory_equal(dest, HV_HANDOFF_MAGIC, 8);
	for (i = 0x100; i < 0x2000; i++)
		assert_int_equal(dest[i], 0x11);
	for (i = 0x2000; i < 0x3000; i++)        /* gap between segments */
		assert_int_equal(dest[i], 0);
	for (i = 0x3000; i < 0x4000; i++)
		assert_int_equal(dest[i], 0x22);
	for (i = 0x4000; i < plan.total; i++)    /* bss + heap zeroed */
		assert_int_equal(dest[i], 0);
	free(dest);
}

static void expect_reject(struct img *im, size_t size, const char *needle)
{
	struct uefi_elf_plan plan;
	const char *why = NULL;

	assert_int_equal(uefi_elf_plan(im->b, size, &plan, &why), -1);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("reason '%s' lacks '%s'", why, needle);
}

static void test_rejects(void **st)
{
	(void)st;
	static struct img im;

	build(&im); im.b[1] = 'X';                 expect_reject(&im, sizeof(im.b), "not an ELF");
	build(&im);                                expect_reject(&im, 10, "not an ELF");
	build(&im); im.eh->e_ident[EI_CLASS] = 1;  expect_reject(&im, sizeof(im.b), "64-bit");
	build(&im); im.eh->e_machine = EM_386;     expect_reject(&im, sizeof(im.b), "x86-64");
	build(&im); im.eh->e_phnum = 0;            expect_reject(&im, sizeof(im.b), "program headers");
	build(&im); im.eh->e_phoff = 0x5fd0;       expect_reject(&im, sizeof(im.b), "truncated");
	build(&im); im.eh->e_phentsize = 32;       expect_reject(&im, sizeof(im.b), "program headers");
	build(&im); im.ph[1].p_type = PT_NOTE; im.ph[2].p_type = PT_NOTE;
	expect_reject(&im, sizeof(im.b), "no PT_LOAD");
	build(&im); im.ph[2].p_filesz = 0x4000;    expect_reject(&im, sizeof(im.b), "outside the file");
	build(&im); im.ph[2].p_offset = ~0ULL;     expect_reject(&im, sizeof(im.b), "outside the file");
	build(&im); im.ph[2].p_vaddr = VBASE - 0x1000; expect_reject(&im, sizeof(im.b), "address order");
	build(&im); im.hh->magic[0] = 'h';         expect_reject(&im, sizeof(im.b), "no HVMON64");
	build(&im); im.hh->version = 2;            expect_reject(&im, sizeof(im.b), "version");
	build(&im); im.hh->header_size = 16;       expect_reject(&im, sizeof(im.b), "too small");
	build(&im); im.hh->align = 0x300000;       expect_reject(&im, sizeof(im.b), "power of two");
	build(&im); im.hh->align = 0x800;          expect_reject(&im, sizeof(im.b), "power of two");
	build(&im); im.hh->image_size = 0;         expect_reject(&im, sizeof(im.b), "implausible");
	build(&im); im.hh->heap_size = 1ULL << 40; expect_reject(&im, sizeof(im.b), "implausible");
	build(&im); im.hh->entry64_offset = 0x6000; expect_reject(&im, sizeof(im.b), "outside the image");
	build(&im); im.hh->image_size = 0x2000; im.hh->heap_size = 0x1000;
	expect_reject(&im, sizeof(im.b), "reach past");
}

static void test_header_found_after_mb2(void **st)
{
	(void)st;
	static struct img im;
	struct uefi_elf_plan plan;
	const char *why;

	build(&im);
	/* header moved 0x40 bytes in (8-aligned, within 32 KiB): still found */
	memmove(im.b + 0x1040, im.b + 0x1000, sizeof(struct hv_handoff_header));
	memset(im.b + 0x1000, 0, 0x40);
	assert_int_equal(uefi_elf_plan(im.b, sizeof(im.b), &plan, &why), 0);
	assert_int_equal(plan.entry64_offset, 0x100);
}

/* The real image, when the core has been built: must pass the same checks. */
static void test_real_hvmon_elf(void **st)
{
	(void)st;
	FILE *f = fopen("build/hvmon.elf", "rb");
	struct uefi_elf_plan plan;
	const char *why = "";
	unsigned char *buf;
	long n;

	if (!f) {
		print_message("build/hvmon.elf not built: real-image check skipped\n");
		skip();
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (uefi_elf_plan(buf, (size_t)n, &plan, &why))
		fail_msg("build/hvmon.elf rejected: %s", why);
	assert_int_equal(plan.align, HV_HANDOFF_ALIGN);
	assert_true(plan.entry64_offset < plan.image_size);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_and_load),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_header_found_after_mb2),
		cmocka_unit_test(test_real_hvmon_elf),
	};
	return cmocka_run_group_tests_name("uefi_elfload", tests, NULL, NULL);
}
