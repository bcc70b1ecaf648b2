/*
 * hvmon.elf -> memory, the loader side of boot/handoff.h. See elfload.h.
 */
#include "boot/uefi/elfload.h"

/* ELF64 structures (System V gABI), kept local: no host <elf.h> in firmware. */
struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

#define PT_LOAD    1
#define EM_X86_64  62

static void copy_bytes(void *d, const void *s, uint64_t n)
{
	unsigned char *dd = d;
	const unsigned char *ss = s;

	while (n--)
		*dd++ = *ss++;
}

static void zero_bytes(void *d, uint64_t n)
{
	unsigned char *dd = d;

	while (n--)
		*dd++ = 0;
}

static const struct elf64_phdr *phdr(const void *elf, unsigned i)
{
	const struct elf64_ehdr *eh = elf;

	return (const void *)((const unsigned char *)elf + eh->e_phoff +
			      (uint64_t)i * sizeof(struct elf64_phdr));
}

int uefi_elf_plan(const void *elf, size_t size, struct uefi_elf_plan *plan,
		  const char **why)
{
	const struct elf64_ehdr *eh = elf;
	const struct elf64_phdr *first = 0;
	struct hv_handoff_header hh;
	uint64_t search, off, span_end = 0;
	unsigned i;
	int found = 0;

	zero_bytes(plan, sizeof(*plan));
	if (size < sizeof(*eh) || eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' ||
	    eh->e_ident[2] != 'L' || eh->e_ident[3] != 'F') {
		*why = "not an ELF file";
		return -1;
	}
	if (eh->e_ident[4] != 2 || eh->e_ident[5] != 1 || eh->e_machine != EM_X86_64) {
		*why = "not a 64-bit little-endian x86-64 ELF";
		return -1;
	}
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0 ||
	    eh->e_phnum > UEFI_ELF_MAX_PHDRS || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr) > size - eh->e_phoff) {
		*why = "ELF program headers are missing or truncated";
		return -1;
	}
	for (i = 0; i < eh->e_phnum; i++) {
		const struct elf64_phdr *ph = phdr(elf, i);

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset ||
		    ph->p_filesz > ph->p_memsz ||
		    ph->p_memsz > UINT64_MAX - ph->p_vaddr) {
			*why = "an ELF PT_LOAD segment lies outside the file or is malformed";
			return -1;
		}
		if (!first) {
			first = ph;
			plan->first_vaddr = ph->p_vaddr;
		} else if (ph->p_vaddr < plan->first_vaddr) {
			*why = "ELF PT_LOAD segments are not in address order";
			return -1;
		}
		if (ph->p_vaddr + ph->p_memsz > span_end)
			span_end = ph->p_vaddr + ph->p_memsz;
		plan->nr_load++;
	}
	if (!first) {
		*why = "the ELF has no PT_LOAD segment";
		return -1;
	}

	/* The header sits at the start of the first PT_LOAD segment; accept it
	 * anywhere 8-aligned in the segment's first 32 KiB. */
	search = first->p_filesz < UEFI_ELF_HDR_SEARCH ? first->p_filesz : UEFI_ELF_HDR_SEARCH;
	for (off = 0; off + sizeof(hh) <= search; off += 8) {
		const unsigned char *h = (const unsigned char *)elf + first->p_offset + off;

		if (h[0] == 'H' && h[1] == 'V' && h[2] == 'M' && h[3] == 'O' && h[4] == 'N' &&
		    h[5] == '6' && h[6] == '4' && h[7] == '\0') {
			copy_bytes(&hh, h, sizeof(hh));
			found = 1;
			break;
		}
	}
	if (!found) {
		*why = "no HVMON64 handoff header in the first 32 KiB of the image (not an hvmon.elf with the 64-bit entry?)";
		return -1;
	}
	if (hh.version != HV_HANDOFF_VERSION) {
		*why = "handoff header version is not the one this hvmon.efi knows (rebuild both from one tree)";
		return -1;
	}
	if (hh.header_size < sizeof(hh)) {
		*why = "handoff header is too small";
		return -1;
	}
	if (hh.align < 0x1000 || (hh.align & (hh.align - 1)) || hh.align > (1ULL << 30)) {
		*why = "handoff header alignment is not a power of two between 4 KiB and 1 GiB";
		return -1;
	}
	if (hh.image_size == 0 || hh.image_size > (1ULL << 32) || hh.heap_size > (1ULL << 32)) {
		*why = "handoff header image_size/heap_size are implausible (0 or above 4 GiB)";
		return -1;
	}
	if (hh.entry64_offset >= hh.image_size) {
		*why = "handoff entry point lies outside the image";
		return -1;
	}
	plan->entry64_offset = hh.entry64_offset;
	plan->image_size = hh.image_size;
	plan->heap_size = hh.heap_size;
	plan->align = hh.align;
	plan->version = hh.version;
	plan->total = hh.image_size + hh.heap_size;
	if (span_end - plan->first_vaddr > plan->total) {
		*why = "ELF segments reach past image_size + heap_size of the handoff header";
		return -1;
	}
	return 0;
}

void uefi_elf_load(const void *elf, const struct uefi_elf_plan *plan, void *dest)
{
	const struct elf64_ehdr *eh = elf;
	unsigned char *d = dest;
	unsigned i;

	zero_bytes(d, plan->total);
	for (i = 0; i < eh->e_phnum; i++) {
		const struct elf64_phdr *ph = phdr(elf, i);

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		copy_bytes(d + (ph->p_vaddr - plan->first_vaddr),
			   (const unsigned char *)elf + ph->p_offset, ph->p_filesz);
	}
}
