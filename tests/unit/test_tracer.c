/* Unit tests for the pure part of the process tracer (monitors/tracer_core.c):
 * exec filename/argv collection over a guest reader (bounds, truncation flags,
 * unreadable memory), clone flags per syscall, pending-return table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "monitors/tracer.h"

/* fake user memory: one 64 KiB window at BASE */
#define BASE 0x7ff000000000ULL
static uint8_t mem[65536];

static int f_read(void *c, uint64_t va, void *buf, uint32_t len)
{
	if (va < BASE || va + len > BASE + sizeof(mem)) return -1;
	memcpy(buf, mem + (va - BASE), len);
	return 0;
}
static int f_str(void *c, uint64_t va, char *buf, uint32_t max)
{
	for (uint32_t i = 0; i < max; i++) {
		if (va + i < BASE || va + i >= BASE + sizeof(mem)) { buf[0] = 0; return -1; }
		buf[i] = (char)mem[va + i - BASE];
		if (!buf[i]) return 0;
	}
	buf[max - 1] = 0;
	return 1;
}
static const struct tracer_reader RD = { .read = f_read, .read_str = f_str };

static uint64_t put_str(uint64_t *at, const char *s)
{
	uint64_t va = BASE + *at;
	memcpy(mem + *at, s, strlen(s) + 1);
	*at += strlen(s) + 1;
	return va;
}
/* argv array at offset 0x8000 */
static uint64_t put_argv(uint64_t *at, const char **args, int n)
{
	uint64_t *arr = (uint64_t *)(mem + 0x8000);
	for (int i = 0; i < n; i++)
		arr[i] = put_str(at, args[i]);
	arr[n] = 0;
	return BASE + 0x8000;
}

static void test_exec_simple(void **st)
{
	memset(mem, 0, sizeof(mem));
	uint64_t at = 0x100;
	uint64_t fn = put_str(&at, "/bin/ls");
	const char *a[] = { "ls", "-l", "/dir with spaces" };
	uint64_t av = put_argv(&at, a, 3);
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec(&ev, &RD, fn, av);
	assert_string_equal(ev.u.exec.filename, "/bin/ls");
	assert_int_equal(ev.u.exec.argc, 3);
	assert_string_equal(hv_exec_arg(&ev, 0), "ls");
	assert_string_equal(hv_exec_arg(&ev, 2), "/dir with spaces");
	assert_int_equal(ev.u.exec.flags, 0);
}

static void test_exec_truncation(void **st)
{
	memset(mem, 0, sizeof(mem));
	uint64_t at = 0x100;
	static char longpath[400], longs[20][200];
	memset(longpath, 'p', 399);
	uint64_t fn = put_str(&at, longpath);
	const char *a[20];
	for (int i = 0; i < 20; i++) {
		memset(longs[i], 'a' + i, 150);
		a[i] = longs[i];
	}
	uint64_t av = put_argv(&at, a, 20);
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec(&ev, &RD, fn, av);
	assert_true(ev.u.exec.flags & HV_EXECF_PATH_TRUNC);
	assert_true(ev.u.exec.flags & HV_EXECF_ARGV_TRUNC);
	assert_false(ev.u.exec.flags & HV_EXECF_READ_FAIL);
	assert_int_equal(strlen(ev.u.exec.filename), HV_PATH_LEN - 1);
	assert_true(ev.u.exec.argv_len <= HV_ARGV_BYTES);
	assert_true(ev.u.exec.argc <= HV_ARGV_MAX);
	assert_int_equal(strlen(hv_exec_arg(&ev, 0)), HV_ARG_LEN - 1);
	assert_int_equal((unsigned char)hv_exec_arg(&ev, 1)[0], 'b');
}

static void test_exec_17_args_exactly(void **st)
{
	memset(mem, 0, sizeof(mem));
	uint64_t at = 0x100;
	uint64_t fn = put_str(&at, "/x");
	const char *a[17];
	for (int i = 0; i < 17; i++) a[i] = "z";
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec(&ev, &RD, fn, put_argv(&at, a, 16));
	assert_int_equal(ev.u.exec.argc, 16);
	assert_false(ev.u.exec.flags & HV_EXECF_ARGV_TRUNC);     /* 16 fit exactly */
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec(&ev, &RD, fn, put_argv(&at, a, 17));
	assert_int_equal(ev.u.exec.argc, 16);
	assert_true(ev.u.exec.flags & HV_EXECF_ARGV_TRUNC);
}

static void test_exec_unreadable(void **st)
{
	memset(mem, 0, sizeof(mem));
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec(&ev, &RD, 0x1000, 0xffff800000000000ULL);   /* both unreadable */
	assert_true(ev.u.exec.flags & HV_EXECF_READ_FAIL);
	assert_string_equal(ev.u.exec.filename, "");
	assert_int_equal(ev.u.exec.argc, 0);
	/* argv pointer readable, an element not: recorded as "", flagged */
	uint64_t at = 0x100;
	uint64_t fn = put_str(&at, "/y");
	uint64_t *arr = (uint64_t *)(mem + 0x8000);
	arr[0] = put_str(&at, "y");
	arr[1] = 0x1234;
	arr[2] = 0;
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec(&ev, &RD, fn, BASE + 0x8000);
	assert_int_equal(ev.u.exec.argc, 2);
	assert_true(ev.u.exec.flags & HV_EXECF_READ_FAIL);
	assert_string_equal(hv_exec_arg(&ev, 1), "");
	/* argv NULL (allowed by Linux): no args, no flag */
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec(&ev, &RD, fn, 0);
	assert_int_equal(ev.u.exec.argc, 0);
	assert_int_equal(ev.u.exec.flags, 0);
}

/* a new image's stack: argc, argv[], NULL, envp[], NULL, auxv (AT_EXECFN = 31) */
static void test_exec_from_stack(void **st)
{
	memset(mem, 0, sizeof(mem));
	uint64_t at = 0x100;
	uint64_t a0 = put_str(&at, "tw child"), a1 = put_str(&at, "--child");
	uint64_t e0 = put_str(&at, "PATH=/bin");
	uint64_t fn = put_str(&at, "/tmp/dir with spaces/tw child");
	uint64_t stack[] = { 2, a0, a1, 0, e0, 0, 6, 4096, 31, fn, 0, 0 };
	memcpy(mem + 0xc000, stack, sizeof(stack));
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.u.exec.flags = HV_EXECF_READ_FAIL | HV_EXECF_OK;        /* the entry read failed */
	assert_int_equal(tracer_exec_from_stack(&ev, &RD, BASE + 0xc000), 0);
	assert_string_equal(ev.u.exec.filename, "/tmp/dir with spaces/tw child");
	assert_int_equal(ev.u.exec.argc, 2);
	assert_string_equal(hv_exec_arg(&ev, 1), "--child");
	assert_int_equal(ev.u.exec.flags, HV_EXECF_OK);               /* READ_FAIL cleared, OK kept */
	/* the same stack 24 bytes before a page end: the one-copy window holds only
	 * argc..argv[1], the rest is read from the guest; same result */
	memcpy(mem + 0xdfe8, stack, sizeof(stack));
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(tracer_exec_from_stack(&ev, &RD, BASE + 0xdfe8), 0);
	assert_string_equal(ev.u.exec.filename, "/tmp/dir with spaces/tw child");
	assert_int_equal(ev.u.exec.argc, 2);
	assert_string_equal(hv_exec_arg(&ev, 0), "tw child");
	assert_string_equal(hv_exec_arg(&ev, 1), "--child");
	/* no AT_EXECFN / unreadable / absurd argc: -1, event unchanged */
	stack[8] = 7;
	memcpy(mem + 0xc000, stack, sizeof(stack));
	assert_int_equal(tracer_exec_from_stack(&ev, &RD, BASE + 0xc000), -1);
	assert_int_equal(ev.u.exec.argc, 2);
	assert_int_equal(tracer_exec_from_stack(&ev, &RD, 0x1000), -1);
	uint64_t big = 1ULL << 40;
	memcpy(mem + 0xc000, &big, 8);
	assert_int_equal(tracer_exec_from_stack(&ev, &RD, BASE + 0xc000), -1);
	/* envp without its NULL before the end of memory: -1, no runaway */
	memset(mem, 0xff, sizeof(mem));
	uint64_t one = 1;
	memcpy(mem + 0xc000, &one, 8);
	assert_int_equal(tracer_exec_from_stack(&ev, &RD, BASE + 0xc000), -1);
}

/* issue 15: a 32-bit caller's or image's memory: the same window below 4 GiB */
#define BASE32 0x08000000ULL
static int f_read32(void *c, uint64_t va, void *buf, uint32_t len)
{
	return va < BASE32 ? -1 : f_read(c, va - BASE32 + BASE, buf, len);
}
static int f_str32(void *c, uint64_t va, char *buf, uint32_t max)
{
	if (va < BASE32) { buf[0] = 0; return -1; }
	return f_str(c, va - BASE32 + BASE, buf, max);
}
static const struct tracer_reader RD32 = { .read = f_read32, .read_str = f_str32 };
static uint32_t put_str32(uint64_t *at, const char *s)
{
	return (uint32_t)(put_str(at, s) - BASE + BASE32);
}

static void test_exec_compat(void **st)
{
	memset(mem, 0, sizeof(mem));
	uint64_t at = 0x100;
	uint32_t a0 = put_str32(&at, "hv32"), a1 = put_str32(&at, "child");
	uint32_t e0 = put_str32(&at, "PATH=/bin");
	uint32_t fn = put_str32(&at, "/bin/hv32");
	/* a compat caller's argv: 4-byte pointers */
	uint32_t argv[] = { a0, a1, 0 };
	memcpy(mem + 0x8000, argv, sizeof(argv));
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec_ptrs(&ev, &RD32, fn, BASE32 + 0x8000, 4);
	assert_string_equal(ev.u.exec.filename, "/bin/hv32");
	assert_int_equal(ev.u.exec.argc, 2);
	assert_string_equal(hv_exec_arg(&ev, 1), "child");
	assert_int_equal(ev.u.exec.flags, 0);
	/* read as 8-byte pointers the same array is wrong: a0|a1<<32 is unreadable */
	memset(&ev, 0, sizeof(ev));
	tracer_fill_exec_ptrs(&ev, &RD32, fn, BASE32 + 0x8000, 8);
	assert_true(ev.u.exec.flags & HV_EXECF_READ_FAIL);
	/* a 32-bit image's new stack: u32 argc, argv, NULL, envp, NULL, auxv pairs */
	uint32_t stack[] = { 2, a0, a1, 0, e0, 0, 6, 4096, 31, fn, 0, 0 };
	memcpy(mem + 0xc000, stack, sizeof(stack));
	memset(&ev, 0, sizeof(ev));
	ev.u.exec.flags = HV_EXECF_READ_FAIL | HV_EXECF_OK;
	assert_int_equal(tracer_exec_from_stack32(&ev, &RD32, BASE32 + 0xc000), 0);
	assert_string_equal(ev.u.exec.filename, "/bin/hv32");
	assert_int_equal(ev.u.exec.argc, 2);
	assert_string_equal(hv_exec_arg(&ev, 0), "hv32");
	assert_string_equal(hv_exec_arg(&ev, 1), "child");
	assert_int_equal(ev.u.exec.flags, HV_EXECF_OK);
	/* the 64-bit parser on the same bytes finds no AT_EXECFN pair: -1 */
	assert_int_equal(tracer_exec_from_stack(&ev, &RD32, BASE32 + 0xc000), -1);
	/* a stack above 4 GiB is no 32-bit stack; no AT_EXECFN: -1 */
	assert_int_equal(tracer_exec_from_stack32(&ev, &RD, BASE + 0xc000), -1);
	stack[8] = 7;
	memcpy(mem + 0xc000, stack, sizeof(stack));
	assert_int_equal(tracer_exec_from_stack32(&ev, &RD32, BASE32 + 0xc000), -1);
	/* envp without its NULL: bounded, -1 */
	memset(mem, 0xff, sizeof(mem));
	uint32_t one = 1;
	memcpy(mem + 0xc000, &one, 4);
	assert_int_equal(tracer_exec_from_stack32(&ev, &RD32, BASE32 + 0xc000), -1);
}

static void test_abi(void **st)
{
	int32_t sc;
	/* a kernel thread: no user registers, whatever they hold */
	assert_int_equal(tracer_abi(true, false, 0x33, 59, &sc), HV_ABI_KERNEL);
	assert_int_equal(sc, -1);
	assert_int_equal(tracer_abi(false, true, 0x33, 59, &sc), HV_ABI_X64);
	assert_int_equal(sc, 59);
	assert_int_equal(tracer_abi(false, true, 0x23, 11, &sc), HV_ABI_I386);
	assert_int_equal(sc, 11);
	/* only the selector's 16 bits count (the pushed slot is 8 bytes) */
	assert_int_equal(tracer_abi(false, true, 0xdead000000000023ULL, 2, &sc), HV_ABI_I386);
	assert_int_equal(tracer_abi(false, true, 0x33, 0x40000000 | 520, &sc), HV_ABI_X32);
	assert_int_equal(sc, 0x40000208);
	/* killed from an interrupt: orig_ax -1, still 64-bit code */
	assert_int_equal(tracer_abi(false, true, 0x33, ~0ULL, &sc), HV_ABI_X64);
	assert_int_equal(sc, -1);
	/* zeroed registers with an mm: an io/user worker thread */
	assert_int_equal(tracer_abi(false, true, 0, 0, &sc), HV_ABI_KERNEL);
	assert_int_equal(sc, -1);
	/* untrusted or odd registers */
	assert_int_equal(tracer_abi(false, false, 0x33, 59, &sc), HV_ABI_UNKNOWN);
	assert_int_equal(sc, -1);
	assert_int_equal(tracer_abi(false, true, 0x10, 59, &sc), HV_ABI_UNKNOWN);
	assert_int_equal(tracer_abi(false, true, 0x2b, 59, &sc), HV_ABI_UNKNOWN);
	/* is_compat of the argv array must agree */
	assert_int_equal(tracer_abi_check_compat(HV_ABI_X64, false), HV_ABI_X64);
	assert_int_equal(tracer_abi_check_compat(HV_ABI_X64, true), HV_ABI_I386);   /* int $0x80 from 64-bit code */
	/* a fork through int $0x80 from 64-bit code: an i386 fork-family number with CS 0x33 */
	assert_int_equal(tracer_abi_fork(HV_ABI_X64, 2), HV_ABI_I386);
	assert_int_equal(tracer_abi_fork(HV_ABI_X64, 120), HV_ABI_I386);
	assert_int_equal(tracer_abi_fork(HV_ABI_X64, 190), HV_ABI_I386);
	assert_int_equal(tracer_abi_fork(HV_ABI_X64, 57), HV_ABI_X64);
	assert_int_equal(tracer_abi_fork(HV_ABI_X64, 56), HV_ABI_X64);
	assert_int_equal(tracer_abi_fork(HV_ABI_X64, 435), HV_ABI_X64);          /* clone3: the same number in both */
	assert_int_equal(tracer_abi_fork(HV_ABI_I386, 2), HV_ABI_I386);
	assert_int_equal(tracer_abi_fork(HV_ABI_KERNEL, -1), HV_ABI_KERNEL);
	/* exit: TS_COMPAT in thread_info.status (issue 15 item 1) */
	assert_int_equal(tracer_abi_exit(HV_ABI_X64, true, 0x2), HV_ABI_I386);       /* int $0x80 from 64-bit code */
	assert_int_equal(tracer_abi_exit(HV_ABI_X64, true, 0x82), HV_ABI_I386);      /* other status bits */
	assert_int_equal(tracer_abi_exit(HV_ABI_X64, true, 0x0), HV_ABI_X64);
	assert_int_equal(tracer_abi_exit(HV_ABI_X64, true, 0xfffffffd), HV_ABI_X64); /* every bit but TS_COMPAT */
	assert_int_equal(tracer_abi_exit(HV_ABI_X64, false, 0x2), HV_ABI_X64);      /* unreadable: the registers */
	assert_int_equal(tracer_abi_exit(HV_ABI_I386, true, 0x2), HV_ABI_I386);
	assert_int_equal(tracer_abi_exit(HV_ABI_I386, true, 0x0), HV_ABI_I386);      /* killed outside a syscall */
	assert_int_equal(tracer_abi_exit(HV_ABI_X32, true, 0x2), HV_ABI_UNKNOWN);    /* contradiction */
	assert_int_equal(tracer_abi_exit(HV_ABI_X32, true, 0x0), HV_ABI_X32);
	assert_int_equal(tracer_abi_exit(HV_ABI_KERNEL, true, 0x2), HV_ABI_KERNEL);
	assert_int_equal(tracer_abi_exit(HV_ABI_UNKNOWN, true, 0x2), HV_ABI_UNKNOWN);
	assert_int_equal(tracer_abi_fork(HV_ABI_X32, 0x40000000 | 56), HV_ABI_X32);
	assert_int_equal(tracer_abi_check_compat(HV_ABI_I386, true), HV_ABI_I386);
	assert_int_equal(tracer_abi_check_compat(HV_ABI_I386, false), HV_ABI_UNKNOWN);
	assert_int_equal(tracer_abi_check_compat(HV_ABI_X32, true), HV_ABI_X32);
	assert_int_equal(tracer_abi_check_compat(HV_ABI_KERNEL, false), HV_ABI_KERNEL);
	assert_int_equal(tracer_abi_check_compat(HV_ABI_UNKNOWN, true), HV_ABI_UNKNOWN);
	/* the exec's file name pointer from the saved registers, by ABI */
	struct tracer_uregs u = { .bx = 0xdead00000804a000ULL, .cx = 0x804b000, .si = 0x7ff1, .di = 0x7ff2 };
	uint64_t fn = 0;
	assert_int_equal(tracer_exec_uptr(HV_ABI_X64, 59, &u, &fn), 0);
	assert_int_equal(fn, 0x7ff2);
	assert_int_equal(tracer_exec_uptr(HV_ABI_X64, 322, &u, &fn), 0);
	assert_int_equal(fn, 0x7ff1);
	assert_int_equal(tracer_exec_uptr(HV_ABI_I386, 11, &u, &fn), 0);
	assert_int_equal(fn, 0x804a000);                  /* ebx: the low 32 bits only */
	assert_int_equal(tracer_exec_uptr(HV_ABI_I386, 358, &u, &fn), 0);
	assert_int_equal(fn, 0x804b000);
	assert_int_equal(tracer_exec_uptr(HV_ABI_X32, 0x40000000 | 520, &u, &fn), 0);
	assert_int_equal(fn, 0x7ff2);
	assert_int_equal(tracer_exec_uptr(HV_ABI_X32, 0x40000000 | 545, &u, &fn), 0);
	assert_int_equal(fn, 0x7ff1);
	/* not an exec call (io_uring, a forged number), kernel, unknown: the struct filename */
	assert_int_equal(tracer_exec_uptr(HV_ABI_X64, 426, &u, &fn), -1);
	assert_int_equal(tracer_exec_uptr(HV_ABI_I386, 59, &u, &fn), -1);
	assert_int_equal(tracer_exec_uptr(HV_ABI_KERNEL, -1, &u, &fn), -1);
	assert_int_equal(tracer_exec_uptr(HV_ABI_UNKNOWN, 59, &u, &fn), -1);
	assert_string_equal(hv_abi_name(HV_ABI_I386), "i386");
	assert_null(hv_abi_name(HV_ABI_NONE));
	assert_null(hv_abi_name(HV_ABI__COUNT));
}

/* issue 15 item 6: 16 blocked vforks fill the table; each later loss is
 * counted, and reported at the 1st, 2nd, 4th, 8th... */
static void test_pending_overflow(void **st)
{
	struct tracer_pending tab[TRACER_MAX_PENDING];
	memset(tab, 0, sizeof(tab));
	for (unsigned i = 0; i < TRACER_MAX_PENDING; i++) {
		struct tracer_pending *p = tracer_pending_get(tab, TRACER_MAX_PENDING);
		assert_non_null(p);
		p->task = 0x1000 + i;                   /* a parent blocked in vfork */
	}
	uint64_t lost = 0, reported = 0;
	for (unsigned i = 0; i < 20; i++)
		if (!tracer_pending_get(tab, TRACER_MAX_PENDING)) {
			lost++;
			reported += tracer_lost_reported(lost);
		}
	assert_int_equal(lost, 20);
	assert_int_equal(reported, 5);                  /* 1, 2, 4, 8, 16 */
	assert_false(tracer_lost_reported(0));
	assert_true(tracer_lost_reported(1ULL << 40));
	assert_false(tracer_lost_reported(3));
	/* a slot freed: the next call gets it again */
	tab[5].used = false;
	assert_ptr_equal(tracer_pending_get(tab, TRACER_MAX_PENDING), &tab[5]);
	assert_int_equal(tab[5].task, 0);               /* cleared */
}

static void test_clone_flags(void **st)
{
	uint64_t f;
	assert_int_equal(tracer_clone_flags(TR_CLONE, &RD, 0x3d0f00, &f), 0);
	assert_int_equal(f, 0x3d0f00);
	assert_true(f & CLONE_THREAD_FLAG);
	memset(mem, 0, sizeof(mem));
	uint64_t v = 0x10011;
	memcpy(mem + 0x40, &v, 8);
	assert_int_equal(tracer_clone_flags(TR_CLONE3, &RD, BASE + 0x40, &f), 0);
	assert_int_equal(f, 0x10011);
	assert_int_equal(tracer_clone_flags(TR_CLONE3, &RD, 0x10, &f), -1);
	assert_int_equal(tracer_clone_flags(TR_FORK, &RD, 0, &f), 0);
	assert_false(f & CLONE_THREAD_FLAG);
	assert_int_equal(tracer_clone_flags(TR_VFORK, &RD, 0, &f), 0);
	assert_false(f & CLONE_THREAD_FLAG);
	assert_int_equal(tracer_clone_flags(TR_EXIT, &RD, 0, &f), -1);
}

static void test_pending(void **st)
{
	struct tracer_pending tab[3];
	memset(tab, 0, sizeof(tab));
	struct tracer_pending *a = tracer_pending_get(tab, 3), *b = tracer_pending_get(tab, 3);
	assert_non_null(a);
	assert_non_null(b);
	a->task = 1; a->ret_rsp = 0x100; a->site = 7;
	b->task = 2; b->ret_rsp = 0x100; b->site = 7;
	assert_ptr_equal(tracer_pending_find(tab, 3, 2, 0x100, 7), b);
	assert_null(tracer_pending_find(tab, 3, 1, 0x108, 7));          /* a new entry, not a return */
	assert_null(tracer_pending_find(tab, 3, 1, 0x100, 8));
	assert_non_null(tracer_pending_get(tab, 3));
	assert_null(tracer_pending_get(tab, 3));                         /* full */
	a->used = false;
	assert_null(tracer_pending_find(tab, 3, 1, 0x100, 7));
	assert_ptr_equal(tracer_pending_get(tab, 3), a);
}

/* do_exit's argument (the wait(2) status) -> code / signal / flags; with the
 * JSON the console and the collector print */
/* issue 16: the one-pass look-up finds what tracer_pending_find finds and the
 * slot tracer_pending_get would claim */
static void test_pending_match(void **st)
{
	(void)st;
	struct tracer_pending tab[4], *fr;
	memset(tab, 0, sizeof(tab));
	assert_null(tracer_pending_match(tab, 4, 1, 0x100, 7, &fr));
	assert_ptr_equal(fr, &tab[0]);
	tracer_pending_claim(fr);
	assert_true(tab[0].used);
	tab[0].task = 1; tab[0].ret_rsp = 0x100; tab[0].site = 7;
	struct tracer_pending *b = tracer_pending_get(tab, 4);
	b->task = 2; b->ret_rsp = 0x200; b->site = 7;
	tab[0].used = false;                       /* a freed slot before a used one */
	assert_ptr_equal(tracer_pending_match(tab, 4, 2, 0x200, 7, &fr), b);
	assert_null(tracer_pending_match(tab, 4, 2, 0x208, 7, &fr));     /* a new call */
	assert_ptr_equal(fr, &tab[0]);
	for (int i = 0; i < 4; i++)
		tab[i].used = true;
	tab[3].task = 9; tab[3].ret_rsp = 0x300; tab[3].site = 1;
	assert_ptr_equal(tracer_pending_match(tab, 4, 9, 0x300, 1, &fr), &tab[3]);   /* the last */
	assert_null(tracer_pending_match(tab, 4, 9, 0x300, 2, &fr));
	assert_null(fr);                           /* full */
}

static void test_exit_status(void **st)
{
	(void)st;
	struct hv_event ev;
	char j[HV_EVENT_JSON_MAX];
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_EXIT;
	ev.hdr.monitor = HV_EMON_TRACER;
	tracer_exit_status(&ev.u.exit, 42 << 8, false);            /* exit(42) */
	assert_int_equal(ev.u.exit.code, 42);
	assert_int_equal(ev.u.exit.signal, 0);
	assert_int_equal(ev.u.exit.status, 0x2a00);
	assert_int_equal(ev.u.exit.flags, 0);
	assert_true(hv_event_to_json(&ev, NULL, j, sizeof(j)) > 0);
	assert_non_null(strstr(j, "\"code\":42,\"signal\":0,\"status\":10752}"));
	tracer_exit_status(&ev.u.exit, 9, false);                  /* SIGKILL */
	assert_int_equal(ev.u.exit.code, 0);
	assert_int_equal(ev.u.exit.signal, 9);
	assert_int_equal(ev.u.exit.flags, 0);
	tracer_exit_status(&ev.u.exit, 0x8b, false);               /* SIGSEGV, core dumped */
	assert_int_equal(ev.u.exit.signal, 11);
	assert_int_equal(ev.u.exit.code, 0);
	assert_int_equal(ev.u.exit.flags, HV_EXITF_CORE);
	assert_true(hv_event_to_json(&ev, NULL, j, sizeof(j)) > 0);
	assert_non_null(strstr(j, "\"signal\":11,\"status\":139,\"core_dumped\":true}"));
	tracer_exit_status(&ev.u.exit, 0xffffffff00000000ull | 0xff00, true); /* kthread, high bits */
	assert_int_equal(ev.u.exit.status, 0xff00);
	assert_int_equal(ev.u.exit.code, 255);
	assert_int_equal(ev.u.exit.flags, HV_EXITF_KTHREAD);
	tracer_exit_status(&ev.u.exit, (uint64_t)-4, true);           /* kthread_exit(-EINTR) */
	assert_int_equal(ev.u.exit.status, -4);
	assert_true(hv_event_to_json(&ev, NULL, j, sizeof(j)) > 0);
	assert_non_null(strstr(j, "\"kthread\":true}"));
}

/* issue 16: the exec return serves argv and the file name from one copy of the
 * strings (from argv[0] to its page end, at most 1 KiB) and falls back to the
 * guest reader past it. Differential: for layouts that put the strings at
 * every distance from a page end, with arguments cut or not and a file name
 * past the copy, tracer_exec_from_stack gives exactly what
 * tracer_fill_exec_ptrs gives on the same pointers with the plain reader
 * (which here behaves as gmem_read_str: no NUL in max - 1 bytes is a cut). */
static int g_str(void *c, uint64_t va, char *buf, uint32_t max)
{
	for (uint32_t i = 0; i + 1 < max; i++) {
		if (va + i < BASE || va + i >= BASE + sizeof(mem)) { buf[0] = 0; return -1; }
		buf[i] = (char)mem[va + i - BASE];
		if (!buf[i]) return 0;
	}
	buf[max - 1] = 0;
	return 1;
}
static const struct tracer_reader RDG = { .read = f_read, .read_str = g_str };
/* the same with a view (the guest's pages read in place, x16): one page at a
 * time as guest_view; @view_calls counts them, so the test sees it used */
static unsigned view_calls;
static const void *g_view(void *c, uint64_t va, uint32_t len)
{
	if (va < BASE || va + len > BASE + sizeof(mem) || !len || len > 0x1000 - (va & 0xfff))
		return NULL;
	view_calls++;
	return mem + (va - BASE);
}
static const struct tracer_reader RDV = { .read = f_read, .read_str = g_str, .view = g_view };

static void test_exec_from_stack_strings(void **st)
{
	static const unsigned lens[] = { 0, 1, 5, 126, 127, 128, 200, 600 };
	static const uint32_t starts[] = { 0x9000, 0x9ff0, 0x9f81, 0x9c00, 0x9a00, 0x9400 };
	unsigned runs = 0;
	for (unsigned si = 0; si < sizeof(starts) / sizeof(starts[0]); si++)
		for (unsigned li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			memset(mem, 0, sizeof(mem));
			uint64_t at = starts[si];
			char big[700], fnbuf[300];
			memset(big, 'a' + (char)li, lens[li]);
			big[lens[li]] = 0;
			memset(fnbuf, '/', sizeof(fnbuf));
			fnbuf[li * 37 % 290] = 0;                   /* 0..289 bytes: cut at 255 too */
			uint64_t a0 = put_str(&at, "prog"), a1 = put_str(&at, big);
			uint64_t a2 = put_str(&at, "x"), a3 = put_str(&at, big);
			uint64_t e0 = put_str(&at, "PATH=/bin"), fn = put_str(&at, fnbuf);
			uint64_t stack[] = { 4, a0, a1, a2, a3, 0, e0, 0, 6, 4096, 31, fn, 0, 0 };
			memcpy(mem + 0xc000, stack, sizeof(stack));
			struct hv_event want, got;
			memset(&want, 0, sizeof(want));
			memset(&got, 0, sizeof(got));
			tracer_fill_exec_ptrs(&want, &RDG, fn, BASE + 0xc008, 8);
			for (int rv = 0; rv < 2; rv++) {      /* copies, then views */
				unsigned vc = view_calls;
				memset(&got, 0, sizeof(got));
				assert_int_equal(tracer_exec_from_stack(&got, rv ? &RDV : &RDG, BASE + 0xc000), 0);
				assert_int_equal(view_calls - vc, rv ? 2u : 0u);
				assert_memory_equal(&got.u.exec, &want.u.exec, sizeof(got.u.exec));
			}
			/* a filled event is replaced, not appended to */
			assert_int_equal(tracer_exec_from_stack(&got, &RDV, BASE + 0xc000), 0);
			assert_memory_equal(&got.u.exec, &want.u.exec, sizeof(got.u.exec));
			runs++;
		}
	assert_int_equal(runs, 48);
	/* the cut flag is really exercised: a 200-byte argument is cut, 126 is not */
	memset(mem, 0, sizeof(mem));
	uint64_t at = 0x9000;
	char big[201];
	memset(big, 'b', 200);
	big[200] = 0;
	uint64_t a0 = put_str(&at, big), fn = put_str(&at, "/bin/b");
	uint64_t stack[] = { 1, a0, 0, 0, 31, fn, 0, 0 };
	memcpy(mem + 0xc000, stack, sizeof(stack));
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(tracer_exec_from_stack(&ev, &RDG, BASE + 0xc000), 0);
	assert_true(ev.u.exec.flags & HV_EXECF_ARGV_TRUNC);
	assert_int_equal(strlen(hv_exec_arg(&ev, 0)), HV_ARG_LEN - 1);
	assert_string_equal(ev.u.exec.filename, "/bin/b");
	/* a string copy that cannot be read (argv[0] unmapped): the strings come
	 * from the reader one by one, which fails the same way */
	stack[1] = 0x1000;
	memcpy(mem + 0xc000, stack, sizeof(stack));
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(tracer_exec_from_stack(&ev, &RDG, BASE + 0xc000), 0);
	assert_true(ev.u.exec.flags & HV_EXECF_READ_FAIL);
	assert_string_equal(ev.u.exec.filename, "/bin/b");
	/* the auxv scan stops at AT_EXECFN: what follows is never read (here: no
	 * AT_NULL before the end of the readable memory) */
	memset(mem, 0, sizeof(mem));
	at = 0x9000;
	a0 = put_str(&at, "p");
	fn = put_str(&at, "/bin/p");
	uint64_t tail[] = { 1, a0, 0, 0, 6, 4096, 31, fn };
	memcpy(mem + sizeof(mem) - sizeof(tail), tail, sizeof(tail));
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(tracer_exec_from_stack(&ev, &RDV, BASE + sizeof(mem) - sizeof(tail)), 0);
	assert_string_equal(ev.u.exec.filename, "/bin/p");
	assert_string_equal(hv_exec_arg(&ev, 0), "p");
	/* a stack pointer of 0 that nothing maps: no word comes from the (empty)
	 * window, the reader fails, the event is left alone */
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(tracer_exec_from_stack(&ev, &RDV, 0), -1);
	assert_int_equal(tracer_exec_from_stack32(&ev, &RDV, 0), -1);
	assert_int_equal(ev.u.exec.argc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_simple),
		cmocka_unit_test(test_exec_truncation),
		cmocka_unit_test(test_exec_17_args_exactly),
		cmocka_unit_test(test_exec_unreadable),
		cmocka_unit_test(test_exec_from_stack),
		cmocka_unit_test(test_exec_from_stack_strings),
		cmocka_unit_test(test_clone_flags),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_pending_match),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_exec_compat),
		cmocka_unit_test(test_abi),
		cmocka_unit_test(test_pending_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
