// SPDX-License-Identifier: GPL-2.0
/*
 * hvtest_hello: the smallest out-of-tree module, proving the module build infra
 * (tests/guest/build-module.sh) produces modules the pinned guest kernel loads.
 * It prints a marker naming the running kernel's release (read at load time).
 */
#include <linux/module.h>
#include <linux/utsname.h>

static int __init hvtest_hello_init(void)
{
	pr_info("HVMON-GUEST: hvtest_hello loaded in %s\n", init_utsname()->release);
	return 0;
}

static void __exit hvtest_hello_exit(void)
{
	pr_info("HVMON-GUEST: hvtest_hello unloaded\n");
}

module_init(hvtest_hello_init);
module_exit(hvtest_hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon test: trivial out-of-tree module");
