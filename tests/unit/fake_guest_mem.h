/*
 * Guest-physical memory for host tests of the guest page-table walkers
 * (test_gmem, test_gvread): MEM_SIZE bytes at gpa 0 in a host buffer, with a
 * 64 KiB range at HVMON_GPA that the physical reader refuses (as ring -1
 * refuses hvmon's own memory). The includer defines MEM_SIZE and HVMON_GPA.
 * rd() is the struct gmem_mmu reader; new_table()/ent() build page tables.
 */
#ifndef HVMON_TESTS_FAKE_GUEST_MEM_H
#define HVMON_TESTS_FAKE_GUEST_MEM_H

#include <stdint.h>
#include <string.h>

static uint8_t *mem;
static uint64_t next_table;
static unsigned reads, cross_page_reads;   /* physical reads asked for; those crossing a page */

static int rd(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	(void)ctx;
	reads++;
	if ((gpa & 0xfff) + len > 0x1000)
		cross_page_reads++;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return -1;
	if (gpa < HVMON_GPA + 0x10000 && gpa + len > HVMON_GPA)
		return -1;
	memcpy(buf, mem + gpa, len);
	return 0;
}

/* a zeroed 4 KiB table at the next free gpa */
static uint64_t new_table(void)
{
	uint64_t t = next_table;
	next_table += 0x1000;
	memset(mem + t, 0, 0x1000);
	return t;
}

static uint64_t *ent(uint64_t table, unsigned idx) { return (uint64_t *)(mem + table + idx * 8); }

#endif
