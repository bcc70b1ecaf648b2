/* Unit tests for vmm/ept_view.c: per-vCPU EPT roots over one shared EPT
 * (issue 11). Pages come from a host pool with fake physical addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/ept_view.h"
#include "page_pool.h"

#define MB (1024ULL * 1024)
#define GB (1024ULL * MB)
#define POOL_N  256

static struct ept base;

static int setup(void **st)
{
	(void)st;
	pool_reset(POOL_N);
	assert_int_equal(ept_init(&base, &alloc, EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_EXEC_ONLY), EPT_OK);
	assert_int_equal(ept_map_identity(&base, 0, 4 * GB, EPT_RWX, MT_WB), EPT_OK);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	pool_free();
	return 0;
}

#define TEXT   (16 * MB + 0x3000)      /* a probed page (kernel text) */
#define TEXT2  (40 * MB + 0x1000)      /* another 2 MiB region */
#define SHADOW 0x12345000ULL

static uint64_t base_leaf(uint64_t gpa)
{
	struct ept_lookup l;
	assert_int_equal(ept_lookup(&base, gpa, &l), EPT_OK);
	return *l.entry;
}

/* a view switch on one vCPU changes only that vCPU's leaf */
static void test_views_are_private(void **st)
{
	(void)st;
	struct ept_view v0, v1;
	assert_int_equal(ept_split_4k(&base, TEXT), EPT_OK);
	uint64_t shared = base_leaf(TEXT);
	assert_int_equal(ept_view_init(&v0, &base), EPT_OK);
	assert_int_equal(ept_view_init(&v1, &base), EPT_OK);
	assert_int_equal(ept_view_leaf(&v0, TEXT), shared);
	assert_int_not_equal(ept_view_root(&v0), ept_view_root(&v1));
	assert_int_not_equal(ept_view_root(&v0), base.pml4_pa);

	/* vCPU 0: exec view (shadow, execute-only); vCPU 1 untouched */
	assert_int_equal(ept_view_set(&v0, TEXT, SHADOW, EPT_X), EPT_OK);
	uint64_t l0 = ept_view_leaf(&v0, TEXT);
	assert_int_equal(l0 & EPT_ADDR_MASK, SHADOW);
	assert_int_equal(l0 & EPT_RWX, EPT_X);
	assert_int_equal(l0 & EPT_MT_MASK, (uint64_t)MT_WB << EPT_MT_SHIFT);   /* type kept */
	assert_int_equal(ept_view_leaf(&v1, TEXT), shared);
	assert_int_equal(base_leaf(TEXT), shared);                          /* shared EPT unchanged */

	/* vCPU 1 switches to the data view: vCPU 0 still executes the shadow */
	assert_int_equal(ept_view_set(&v1, TEXT, TEXT, EPT_R), EPT_OK);
	assert_int_equal(ept_view_leaf(&v0, TEXT), l0);
	assert_int_equal(ept_view_leaf(&v1, TEXT) & EPT_RWX, EPT_R);

	/* the neighbours of the page stay the shared mapping */
	assert_int_equal(ept_view_leaf(&v0, TEXT + 0x1000), base_leaf(TEXT + 0x1000));
}

/* switching back and forth touches only the leaf (no new tables, no rebuild) */
static void test_fast_path(void **st)
{
	(void)st;
	struct ept_view v;
	assert_int_equal(ept_split_4k(&base, TEXT), EPT_OK);
	assert_int_equal(ept_view_init(&v, &base), EPT_OK);
	assert_int_equal(ept_view_set(&v, TEXT, SHADOW, EPT_X), EPT_OK);
	unsigned used = v.nused;
	uint64_t builds = v.builds, pages = pool.used;
	assert_int_equal(used, 4);                       /* PML4 + PDPT + PD + PT */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(ept_view_set(&v, TEXT, i & 1 ? SHADOW : TEXT, i & 1 ? EPT_X : EPT_R | EPT_W), EPT_OK);
	}
	assert_int_equal(v.nused, used);
	assert_int_equal(v.builds, builds);
	assert_int_equal(pool.used, pages);
	/* a second page in another 2 MiB region: one more PT only */
	assert_int_equal(ept_split_4k(&base, TEXT2), EPT_OK);
	assert_int_equal(ept_view_set(&v, TEXT2, SHADOW + 0x1000, EPT_X), EPT_OK);
	assert_int_equal(v.nused, used + 1);
	assert_int_equal(ept_view_leaf(&v, TEXT) & EPT_ADDR_MASK, SHADOW);   /* last set (i = 99): the shadow */
}

/* shared changes below a shared pointer reach every view at once; a change to an
 * entry the view copied reaches it at the next build; clearing restores the shared leaf */
static void test_shared_changes_and_clear(void **st)
{
	(void)st;
	struct ept_view v;
	assert_int_equal(ept_split_4k(&base, TEXT), EPT_OK);
	assert_int_equal(ept_split_4k(&base, 200 * MB), EPT_OK);
	assert_int_equal(ept_view_init(&v, &base), EPT_OK);
	assert_int_equal(ept_view_set(&v, TEXT, SHADOW, EPT_X), EPT_OK);
	/* another 2 MiB region's PT is shared: a remap there shows at once */
	assert_int_equal(ept_remap_4k(&base, 200 * MB, 0x55555000ULL, EPT_RWX), EPT_OK);
	assert_int_equal(ept_view_leaf(&v, 200 * MB) & EPT_ADDR_MASK, 0x55555000ULL);
	/* a remap in the copied PT (same 2 MiB as the probed page) waits for a build */
	assert_int_equal(ept_remap_4k(&base, TEXT + 0x2000, 0x66666000ULL, EPT_RWX), EPT_OK);
	assert_int_equal(ept_view_leaf(&v, TEXT + 0x2000) & EPT_ADDR_MASK, TEXT + 0x2000);
	assert_int_equal(ept_view_build(&v), EPT_OK);
	assert_int_equal(ept_view_leaf(&v, TEXT + 0x2000) & EPT_ADDR_MASK, 0x66666000ULL);
	assert_int_equal(ept_view_leaf(&v, TEXT) & EPT_ADDR_MASK, SHADOW);   /* the override survives */
	/* mapping beyond 512 GiB adds a PML4 entry: visible after a build */
	assert_int_equal(ept_map_identity(&base, 600 * GB, 2 * MB, EPT_RWX, MT_UC), EPT_OK);
	assert_int_equal(ept_view_leaf(&v, 600 * GB), 0);
	assert_int_equal(ept_view_build(&v), EPT_OK);
	assert_int_not_equal(ept_view_leaf(&v, 600 * GB), 0);
	/* clear: the shared leaf shows through after the build; pages are reused */
	unsigned pages = pool.used;
	assert_true(ept_view_clear(&v, TEXT));
	assert_false(ept_view_clear(&v, TEXT));
	assert_int_equal(ept_view_build(&v), EPT_OK);
	assert_int_equal(ept_view_leaf(&v, TEXT), base_leaf(TEXT));
	assert_int_equal(v.nused, 1);
	assert_int_equal(ept_view_set(&v, TEXT, SHADOW, EPT_X), EPT_OK);
	assert_int_equal(pool.used, pages);                 /* the pool pages came back */
}

static void test_errors(void **st)
{
	(void)st;
	struct ept_view v;
	assert_int_equal(ept_view_init(&v, &base), EPT_OK);
	/* a large shared page: the caller must split first */
	assert_int_equal(ept_view_set(&v, 300 * MB, SHADOW, EPT_X), EPT_ERR_NOT_MAPPED);
	assert_int_equal(ept_view_set(&v, TEXT, SHADOW + 1, EPT_X), EPT_ERR_INVAL);
	/* unmapped in the shared EPT */
	assert_int_equal(ept_unmap(&base, 64 * MB, 4096), EPT_OK);
	assert_int_equal(ept_view_set(&v, 64 * MB, SHADOW, EPT_X), EPT_ERR_NOT_MAPPED);
	/* table full */
	for (int i = 0; i < EPT_VIEW_MAX_PAGES; i++) {
		uint64_t g = 1 * GB + (uint64_t)i * 4096;
		assert_int_equal(ept_split_4k(&base, g), EPT_OK);
		assert_int_equal(ept_view_set(&v, g, SHADOW, EPT_X), EPT_OK);
	}
	assert_int_equal(ept_split_4k(&base, 2 * GB), EPT_OK);
	assert_int_equal(ept_view_set(&v, 2 * GB, SHADOW, EPT_X), EPT_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_views_are_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_changes_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
