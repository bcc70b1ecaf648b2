/*
 * tracer — the process tracer monitor ("proctrace", docs/TRACER.md).
 *
 * Probes (vmm/probe.h) on the syscall handlers the inference found
 * (__x64_sys_execve/execveat/clone/clone3/fork/vfork; each takes struct pt_regs *
 * in RDI) and on do_exit(long code), where every task ends (a normal exit, a
 * fatal signal, a thread zapped by its group's exit_group, a kernel thread); when
 * the profile has no do_exit, on __x64_sys_exit/exit_group instead (exit events
 * then only for tasks that call them). exec and fork need the syscall's result: at the
 * entry hit the tracer swaps the handler's return address on the guest's kernel
 * stack for the probed entry address itself (a return trampoline, as kretprobes
 * do); the `ret` lands on the int3 again with RSP = entry RSP + 8, which tells a
 * return from a new entry; the tracer then resumes the guest at the real return
 * address. Exits per operation: exec 2, fork/clone 2, task end 1; no other
 * syscall exits.
 *
 * The pure part (pt_regs layout, clone flags, argv collection over a reader
 * callback, pending-return bookkeeping) is host-tested (tests/unit/test_tracer.c).
 */
#ifndef HVMON_MONITORS_TRACER_H
#define HVMON_MONITORS_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include "events/event.h"

/* struct pt_regs (arch/x86/include/asm/ptrace.h, x86-64): byte offsets */
#define PTREGS_SI   104
#define PTREGS_DI   112
#define PTREGS_DX   96
#define PTREGS_ORIG_AX 120
#define PTREGS_CS   136
#define PTREGS_SP   152
#define PTREGS_SIZE 168
/* The user-mode pt_regs sit right below the per-CPU top of stack (task_pt_regs);
 * the RSP of a probe hit must lie within this many bytes below it (x86-64
 * THREAD_SIZE is 16 KiB, 32 KiB with KASAN) or the registers are not trusted. */
#define TRACER_KSTACK_MAX 0x8000
#define USER_CS_64  0x33     /* __USER_CS */
#define USER_CS_32  0x23     /* __USER32_CS */
#define X32_SYSCALL_BIT 0x40000000ULL

#define CLONE_THREAD_FLAG 0x00010000ULL

enum tracer_sc {
	TR_EXECVE, TR_EXECVEAT, TR_CLONE, TR_CLONE3, TR_FORK, TR_VFORK, TR_EXIT, TR_EXIT_GROUP,
	TR_DO_EXIT,      /* not a syscall: the kernel's do_exit(long code), where every task ends */
	/* issue 15: where every fork/exec path meets (64-bit, 32-bit, kernel-internal) */
	TR_KERNEL_CLONE,    /* kernel_clone(struct kernel_clone_args *) */
	TR_DO_EXECVEAT,     /* do_execveat_common(fd, struct filename *, argv, envp, flags) */
	TR_KERNEL_EXECVE,   /* kernel_execve(filename, argv, envp): kernel pointers */
	TR__COUNT
};

/* Fill an exit event from the kernel's exit status (do_exit's argument, the
 * wait(2) encoding): code = (status >> 8) & 0xff, signal = status & 0x7f,
 * HV_EXITF_CORE when status & 0x80; HV_EXITF_KTHREAD when @kthread. */
void tracer_exit_status(struct hv_ev_exit *x, uint64_t status, bool kthread);

/* Guest memory reader: 0 on success. str: 0 ok, 1 cut, -1 unreadable. */
struct tracer_reader {
	void *ctx;
	int (*read)(void *ctx, uint64_t va, void *buf, uint32_t len);
	int (*read_str)(void *ctx, uint64_t va, char *buf, uint32_t max);
	/* optional (NULL: read copies): a pointer to the @len bytes at @va, all in
	 * one page, read in place, or NULL (then the caller copies). The bytes may
	 * change under the caller (guest memory): it bounds every use by @len, never
	 * by what it reads there. Issue 16: the exec return reads the new stack in
	 * place instead of copying 2 KiB. */
	const void *(*view)(void *ctx, uint64_t va, uint32_t len);
};

/* Fill filename/argv of an exec event from user pointers @filename and @argv
 * (array of up to HV_ARGV_MAX char *, NULL-terminated). Bounded. */
void tracer_fill_exec(struct hv_event *ev, const struct tracer_reader *rd, uint64_t filename,
		      uint64_t argv);
/* The same with @ptr_size-byte pointers in argv[] (4: a compat caller's array). */
void tracer_fill_exec_ptrs(struct hv_event *ev, const struct tracer_reader *rd, uint64_t filename,
			   uint64_t argv, unsigned ptr_size);

/* After a SUCCESSFUL exec: re-read filename and argv from the new user stack
 * (@sp = pt_regs->sp at the syscall's return: argc, argv[], NULL, envp[], NULL,
 * auxv; the filename is AT_EXECFN). The pages are present (the kernel just wrote
 * them), unlike the caller's strings at entry, which may sit in file-backed pages
 * a fork child has not faulted in yet. Replaces ev's filename/argv and the
 * ARGV/PATH/READ_FAIL flags. Returns 0, or -1 (ev unchanged) when the stack is
 * unreadable or malformed. Bounded: 4096 envp entries, 64 auxv pairs (the scan
 * stops at AT_EXECFN). Filename and argv are cleared only when they hold
 * something (filename[0], argc or argv_len set): bytes an earlier fill left
 * past those are not (the tracer's events were cleared by ev_init). */
int tracer_exec_from_stack(struct hv_event *ev, const struct tracer_reader *rd, uint64_t sp);
/* The same for a 32-bit image (the new pt_regs' CS is __USER32_CS): argc, argv[],
 * envp[] and auxv are 4-byte words. */
int tracer_exec_from_stack32(struct hv_event *ev, const struct tracer_reader *rd, uint64_t sp);

/*
 * The ABI of a call seen at a meeting point (docs/TRACER.md "ABI"), from what
 * the kernel saved of the task's user registers (the pt_regs at the top of its
 * kernel stack: CS and orig_ax) and whether it is a kernel thread (no mm):
 *   kernel thread                      -> HV_ABI_KERNEL (no user registers)
 *   !regs_ok (unreadable, or the hit's RSP not on the stack the per-CPU top says)
 *                                      -> HV_ABI_UNKNOWN
 *   CS 0x33 -> HV_ABI_X64, or HV_ABI_X32 with __X32_SYSCALL_BIT in orig_ax
 *   CS 0x23 -> HV_ABI_I386 (int $0x80, sysenter, compat syscall)
 *   CS 0 (a user worker/io thread: zeroed registers, shares an mm) -> HV_ABI_KERNEL
 *   anything else -> HV_ABI_UNKNOWN.
 * *syscall = orig_ax (the number the task entered the kernel with, -1 when it
 * entered by an interrupt/exception), -1 for HV_ABI_KERNEL/UNKNOWN.
 */
uint8_t tracer_abi(bool kthread, bool regs_ok, uint64_t cs, uint64_t orig_ax, int32_t *syscall);
/* do_execveat_common's is_compat (the argv array's pointer width) must agree
 * with the ABI (compat for i386 and x32): otherwise the ABI is HV_ABI_UNKNOWN —
 * except HV_ABI_X64 with is_compat: `int $0x80` run by 64-bit code (CS 0x33, no
 * x32 bit) enters through the i386 table, the only other way to the compat
 * execve, so that is HV_ABI_I386 (docs/TRACER.md "ABI"). */
uint8_t tracer_abi_check_compat(uint8_t abi, bool is_compat);
/* A fork's ABI at kernel_clone: HV_ABI_X64 with an i386 fork-family number
 * (fork 2, clone 120, vfork 190: no x64 call with those numbers reaches
 * kernel_clone) is `int $0x80` from 64-bit code: HV_ABI_I386. */
uint8_t tracer_abi_fork(uint8_t abi, int32_t syscall);
/* An exit's ABI at do_exit (issue 15 item 1): the kernel's TS_COMPAT mark in
 * thread_info.status (set by the i386 syscall entries, cleared on every return to
 * user mode) says whether the task is inside an i386 syscall — the one thing the
 * registers cannot say for `int $0x80` from 64-bit code. @status is the word read
 * (@status_ok false: not inferred or unreadable, then the registers' @abi stands).
 * Set: x64 (CS 0x33) or i386 -> HV_ABI_I386; x32 -> HV_ABI_UNKNOWN (x32 numbers
 * enter through the 64-bit entry, which never sets it). Clear: @abi. Kernel and
 * unknown stay. */
#define TRACER_TS_COMPAT 0x2u
uint8_t tracer_abi_exit(uint8_t abi, bool status_ok, uint32_t status);
/* The user registers an exec's file name pointer comes from, by ABI (pt_regs
 * bx..di: the i386 ABI passes arguments in ebx, ecx, edx; x64/x32 in rdi, rsi,
 * rdx). */
struct tracer_uregs { uint64_t bx, cx, si, di; };
/* The user pointer to the file name of an execve/execveat call (@abi, @syscall
 * as tracer_abi gave them): 0 and *fn set, or -1 when the call is none of
 * those (then the kernel's struct filename is read instead). */
int tracer_exec_uptr(uint8_t abi, int32_t syscall, const struct tracer_uregs *u, uint64_t *fn);
/* Whether the n-th loss (n >= 1) is reported as a trace_lost event: the 1st,
 * 2nd, 4th, 8th... (a storm costs log2(n) events; the count says how many). */
bool tracer_lost_reported(uint64_t n);

/* clone flags for each fork-like syscall from its pt_regs fields (clone: di;
 * clone3: *(u64 *)di; fork/vfork: none). Returns 0, or -1 when unreadable. */
int tracer_clone_flags(enum tracer_sc sc, const struct tracer_reader *rd, uint64_t di,
		       uint64_t *flags);

/* Pending returns (a syscall in flight whose result the tracer needs). */
#define TRACER_MAX_PENDING 16
struct tracer_pending {
	bool     used;
	uint8_t  sc;             /* enum tracer_sc */
	uint64_t task;           /* task_struct of the caller */
	uint64_t ret_rsp;        /* RSP after the handler's ret */
	uint64_t ret_rip;        /* the real return address */
	uint64_t site;           /* trampoline (probed entry) */
	uint64_t flags;          /* clone flags */
	uint64_t ptregs;         /* the caller's struct pt_regs * (entry RDI) */
	uint64_t filename, argv; /* exec: user pointers at entry */
	/* issue 15 (meeting points) */
	uint8_t  abi;            /* enum hv_abi of the call */
	uint8_t  ptr_size;       /* exec: argv pointer width at entry (4 compat, 8) */
	int32_t  syscall;        /* orig_ax at entry, -1 none */
	struct hv_event ev;      /* exec: prefilled at entry */
};
struct tracer_pending *tracer_pending_get(struct tracer_pending *tab, unsigned n);
struct tracer_pending *tracer_pending_find(struct tracer_pending *tab, unsigned n, uint64_t task,
					   uint64_t rsp, uint64_t site);
/* One pass over the table (issue 16: a probe hit scanned it twice): the slot
 * waiting for (task, rsp, site), else NULL with *free = the first unused slot
 * (NULL when full), not yet claimed. */
struct tracer_pending *tracer_pending_match(struct tracer_pending *tab, unsigned n, uint64_t task,
					    uint64_t rsp, uint64_t site, struct tracer_pending **free);
/* Claim a free slot (clears its fields, not its event). */
void tracer_pending_claim(struct tracer_pending *p);

/* The registry entry (monitors/monitors.c): no options; ring -1 operations
 * in monitors/tracer.c (probes placed when the inference is over). */
struct hv_opt_owner;
extern const struct hv_opt_owner tracer_options;
struct hv_monitor_ops;
extern struct hv_monitor_ops tracer_ops;

#endif
