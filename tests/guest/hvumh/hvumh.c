// SPDX-License-Identifier: GPL-2.0
/*
 * hvumh — calls call_usermodehelper() once at load (issue 15, docs/TRACER.md
 * "ABI"): the kernel creates the helper with kernel_clone from a kworker and
 * execs it with kernel_execve, paths no system call takes. The helper, /bin/sh,
 * writes its pid to /tmp/hvumh.pid and exits with code 5; the wait status is in
 * /sys/module/hvumh/parameters/ret (0x500). The tracer must report fork, exec
 * ("abi":"kernel") and exit of that pid, one each.
 */
#include <linux/module.h>
#include <linux/umh.h>

static int ret = -1;
module_param(ret, int, 0444);

static int __init hvumh_init(void)
{
	static char *argv[] = { "/bin/sh", "-c", "echo $$ > /tmp/hvumh.pid; exit 5", NULL };
	static char *envp[] = { "HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin", NULL };

	ret = call_usermodehelper(argv[0], argv, envp, UMH_WAIT_PROC);
	return 0;
}

static void __exit hvumh_exit(void)
{
}

module_init(hvumh_init);
module_exit(hvumh_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon test: one usermode helper");
