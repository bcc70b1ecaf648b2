/*
 * Unit tests for the syscall-dispatch and task-field patterns on a small
 * hand-assembled "kernel": entry -> do_syscall_64 -> either a compare-tree
 * dispatcher (x64_sys_call) or an indexed call through sys_call_table, plus
 * tiny getuid/geteuid/getgid/getppid/brk handlers that read the current task
 * through %gs (absolute and RIP-relative forms).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "infer/infer.h"
#include "infer/strategy.h"

#define BASE 0xffffffff81000000ull
#define SIZE 0x8000u
#define CUR  0x1fb80u

static uint8_t img[SIZE];
static uint8_t arena_mem[4 << 20];
static struct infer_profile prof;
static size_t pc;                      /* emit position (offset in img) */

static uint8_t percpu[0x100];           /* per-CPU view at CUR (file: .data..percpu at VA 0) */

static bool rd_fn(void *ctx, uint64_t va, void *buf, size_t len)
{
	(void)ctx;
	if (va >= CUR && va - CUR <= sizeof(percpu) && len <= sizeof(percpu) - (va - CUR)) {
		memcpy(buf, percpu + (va - CUR), len);
		return true;
	}
	if (va < BASE || va - BASE > SIZE || len > SIZE - (va - BASE))
		return false;
	memcpy(buf, img + (va - BASE), len);
	return true;
}

static uint64_t here(void) { return BASE + pc; }
static void org(size_t off) { pc = off; }
static void b(const uint8_t *p, size_t n) { memcpy(img + pc, p, n); pc += n; }
#define B(...) do { const uint8_t _x[] = { __VA_ARGS__ }; b(_x, sizeof(_x)); } while (0)
static void u32(uint32_t v) { b((const uint8_t *)&v, 4); }
static void rel32(uint64_t target) { u32((uint32_t)(target - (here() + 4))); }
static void call(uint64_t t) { B(0xe8); rel32(t); }
static void jmp(uint64_t t) { B(0xe9); rel32(t); }
static void je(uint64_t t) { B(0x0f, 0x84); rel32(t); }
static void ret(void) { B(0xc3); }
/* mov %gs:CUR,%rax — absolute (65 48 8b 04 25) or RIP-relative (65 48 8b 05) */
static void gs_cur_rax(bool riprel)
{
	if (riprel) { B(0x65, 0x48, 0x8b, 0x05); u32((uint32_t)((uint64_t)CUR - (here() + 4))); }
	else { B(0x65, 0x48, 0x8b, 0x04, 0x25); u32(CUR); }
}

#define A(off) (BASE + (off))
enum { O_INIT = 0x100, O_ENTRY = 0x1000, O_DO = 0x1100, O_X64 = 0x1200, O_FENTRY = 0x1300,
       O_H0 = 0x1400, O_H1 = 0x1420, O_HNI = 0x1440, O_UID = 0x1500, O_EUID = 0x1540,
       O_GID = 0x1580, O_PPID = 0x15c0, O_BRK = 0x1600, O_MUNMAP = 0x1640,
       O_EXIT = 0x1700, O_EXITG = 0x1740, O_DOEXIT = 0x1780, O_DGE = 0x17c0, O_DOSYS = 0x1900,
       O_DECOY = 0x1a00, O_TABLE = 0x4000, O_TABLE2 = 0x6000 };
#define NR 451

static uint64_t handler_for(unsigned nr)
{
	switch (nr) {
	case 0: return A(O_H0);
	case 1: return A(O_H1);
	case 102: return A(O_UID);
	case 107: return A(O_EUID);
	case 104: return A(O_GID);
	case 110: return A(O_PPID);
	case 12: return A(O_BRK);
	case 11: return A(O_MUNMAP);
	case 60: return A(O_EXIT);
	case 231: return A(O_EXITG);
	default: return A(O_HNI);
	}
}

static bool old_abi;
static uint32_t munmap_mm = 0x8e0;   /* what munmap's body reads as current->mm */   /* 4.x-5.10 entry: mov %rax,%rdi; mov %rsp,%rsi; call do_syscall_64(nr, regs) */

static bool exit_wrapper;             /* exit handler tail-jumps to a __do_sys_exit */
static bool dge_calls_do_exit = true;  /* do_group_exit calls do_exit (else a decoy) */

static void build(bool switch_dispatch, unsigned euid_cred_off)
{
	memset(img, 0xcc, sizeof(img));
	memset(percpu, 0, sizeof(percpu));
	/* syscall_init: mov $0xc0000082,%ecx; mov $entry,%rax; mov %rax,%rdx; shr $32,%rdx; wrmsr */
	org(O_INIT);
	B(0xb9, 0x82, 0x00, 0x00, 0xc0, 0x48, 0xc7, 0xc0); u32((uint32_t)A(O_ENTRY));
	B(0x48, 0x89, 0xc2, 0x48, 0xc1, 0xea, 0x20, 0x0f, 0x30); ret();
	/* entry: swapgs; mov %rsp,%gs:0x6014; mov %gs:0x1fb50,%rsp; push..; mov %rsp,%rdi; call do_syscall_64 */
	org(O_ENTRY);
	B(0x0f, 0x01, 0xf8, 0x65, 0x48, 0x89, 0x24, 0x25, 0x14, 0x60, 0x00, 0x00);
	B(0x65, 0x48, 0x8b, 0x24, 0x25, 0x50, 0xfb, 0x01, 0x00);
	if (old_abi)
		B(0x6a, 0x2b, 0x50, 0x57, 0x48, 0x89, 0xc7, 0x48, 0x89, 0xe6); /* ...; mov %rax,%rdi; mov %rsp,%rsi */
	else
		B(0x6a, 0x2b, 0x50, 0x57, 0x48, 0x89, 0xe7); /* push $0x2b; push %rax; push %rdi; mov %rsp,%rdi */
	call(A(O_DO));
	B(0x0f, 0x0b);
	/* do_syscall_64 */
	org(O_DO);
	B(0x55, 0x48, 0x89, 0xfb);                      /* push %rbp; mov %rdi,%rbx */
	B(0x3d, 0xc2, 0x01, 0x00, 0x00);                /* cmp $0x1c2,%eax */
	B(0x77, 0x10);                                  /* ja +0x10 */
	if (switch_dispatch) {
		B(0x89, 0xc6);                          /* mov %eax,%esi */
		call(A(O_X64));
	} else {
		B(0x89, 0xc0);                          /* mov %eax,%eax */
		B(0xff, 0x14, 0xc5); u32((uint32_t)A(O_TABLE));  /* call *T(,%rax,8) */
	}
	B(0x48, 0x89, 0x43, 0x50, 0x5d); ret();         /* mov %rax,0x50(%rbx); pop %rbp */
	for (int i = 0; i < 16; i++) B(0x90);
	/* x64_sys_call: call __fentry__; compare tree */
	org(O_X64);
	call(A(O_FENTRY));
	static const unsigned cases[] = { 0, 1, 11, 12, 60, 102, 104, 107, 110, 231 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		B(0x81, 0xfe); u32(cases[i]);               /* cmp $n,%esi */
		je(handler_for(cases[i]));
	}
	jmp(A(O_HNI));
	org(O_FENTRY); ret();
	org(O_H0); call(A(O_FENTRY)); B(0x31, 0xc0); ret();
	org(O_H1); call(A(O_FENTRY)); B(0x31, 0xc0); ret();
	org(O_HNI); call(A(O_FENTRY)); B(0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff); ret();
	/* getuid: cur->cred(0xb90)->uid(8); geteuid: RIP-relative %gs, euid 0x18; getgid: gid 0xc */
	org(O_UID); call(A(O_FENTRY)); gs_cur_rax(false);
	B(0x48, 0x8b, 0x80, 0x90, 0x0b, 0x00, 0x00, 0x8b, 0x70, 0x08); ret();
	org(O_EUID); call(A(O_FENTRY)); gs_cur_rax(true);
	B(0x48, 0x8b, 0x80); u32(euid_cred_off); B(0x8b, 0x70, 0x18); ret();
	org(O_GID); call(A(O_FENTRY)); gs_cur_rax(false);
	B(0x48, 0x8b, 0x80, 0x90, 0x0b, 0x00, 0x00, 0x8b, 0x70, 0x0c); ret();
	/* getppid: cur->real_parent (0x980); brk: cur->mm (0x8e0) into %r15 */
	org(O_PPID); call(A(O_FENTRY)); gs_cur_rax(true);
	B(0x48, 0x8b, 0xb8, 0x80, 0x09, 0x00, 0x00); call(A(O_FENTRY)); ret();
	org(O_BRK); call(A(O_FENTRY)); gs_cur_rax(false);
	B(0x4c, 0x8b, 0xb8, 0xe0, 0x08, 0x00, 0x00); ret();
	/* munmap: wrapper calls the body (after endbr64 + call __fentry__), body reads current->mm */
	org(O_MUNMAP); B(0xf3, 0x0f, 0x1e, 0xfa); call(A(O_FENTRY)); call(A(O_MUNMAP + 0x20)); ret();
	org(O_MUNMAP + 0x20); gs_cur_rax(true); B(0x48, 0x8b, 0x98); u32(munmap_mm); ret();
	/* exit: do_exit((code & 0xff) << 8), directly or through __do_sys_exit;
	 * exit_group: do_group_exit((code & 0xff) << 8), which calls do_exit */
	org(O_EXIT); call(A(O_FENTRY)); B(0x48, 0x8b, 0x7f, 0x70);      /* mov 0x70(%rdi),%rdi */
	if (exit_wrapper) {
		jmp(A(O_DOSYS));
		org(O_DOSYS); B(0x55);                                     /* push %rbp */
	}
	B(0xc1, 0xe7, 0x08, 0x81, 0xe7, 0x00, 0xff, 0x00, 0x00);        /* shl $8,%edi; and $0xff00,%edi */
	call(A(O_DOEXIT));
	org(O_EXITG); call(A(O_FENTRY)); B(0x48, 0x8b, 0x7f, 0x70);
	B(0xc1, 0xe7, 0x08, 0x0f, 0xb7, 0xff);                          /* shl $8,%edi; movzwl %di,%edi */
	call(A(O_DGE));
	org(O_DGE); call(A(O_FENTRY)); B(0x53, 0x89, 0xfb, 0x48, 0x63, 0xfb); /* push %rbx; mov %edi,%ebx; movslq */
	call(A(dge_calls_do_exit ? O_DOEXIT : O_DECOY));
	org(O_DOEXIT); call(A(O_FENTRY)); B(0x55, 0x0f, 0x0b);          /* push %rbp; ud2 */
	org(O_DECOY); call(A(O_FENTRY)); ret();
	/* sys_call_table */
	for (unsigned n = 0; n < NR; n++) {
		uint64_t h = handler_for(n);
		memcpy(img + O_TABLE + 8 * n, &h, 8);
	}
}

static void run(void)
{
	struct infer_reader rd = { .read = rd_fn, .text_start = BASE, .text_end = BASE + 0x4000,
				   .image_start = BASE, .image_end = BASE + SIZE };
	struct infer_arena a = { arena_mem, sizeof(arena_mem), 0 };
	memset(&prof, 0, sizeof(prof));
	assert_true(infer_strategy_patterns(&rd, NULL, &a, &prof) >= 0);
}

#define FOUND(P, v) do { assert_true(prof.p[INFER_P_##P].found); \
	assert_int_equal(prof.p[INFER_P_##P].value, (v)); } while (0)

static void test_switch_dispatch(void **st)
{
	(void)st;
	build(true, 0xb90);
	run();
	FOUND(ENTRY_SYSCALL_64, A(O_ENTRY));
	FOUND(X64_SYS_CALL, A(O_X64));
	FOUND(SYS_CALL_TABLE, A(O_TABLE));
	FOUND(SC_READ, A(O_H0));
	FOUND(SC_EXECVE, A(O_HNI));
	FOUND(SC_CLONE3, A(O_HNI));
	FOUND(PCPU_CURRENT_TASK, CUR);
	FOUND(PCPU_TOP_OF_STACK, 0x1fb50);
	FOUND(TASK_CRED, 0xb90);
	FOUND(CRED_UID, 8);
	FOUND(CRED_EUID, 0x18);
	FOUND(CRED_GID, 0xc);
	FOUND(TASK_REAL_PARENT, 0x980);
	FOUND(TASK_MM, 0x8e0);
	FOUND(SC_EXIT, A(O_EXIT));
	FOUND(SC_EXIT_GROUP, A(O_EXITG));
	FOUND(DO_EXIT, A(O_DOEXIT));
	/* nothing in this image has copy_process/__switch_to: missing, with reasons */
	assert_false(prof.p[INFER_P_SWITCH_TO].found);
	assert_true(prof.p[INFER_P_SWITCH_TO].why[0] != 0);
	assert_false(prof.p[INFER_P_TASK_PID].found);
	assert_true(prof.p[INFER_P_TASK_PID].why[0] != 0);
}

/* init_task from the per-CPU slot's initial value, validated by
 * init_task.real_parent == &init_task; comm from "swapper" inside it */
#define O_INIT_TASK 0x7000
static void put_init_task(bool self)
{
	uint64_t it = A(O_INIT_TASK), rp = self ? it : it + 8;
	memcpy(percpu, &it, 8);
	memset(img + O_INIT_TASK, 0, 0x1000);
	memcpy(img + O_INIT_TASK + 0x980, &rp, 8);
	memcpy(img + O_INIT_TASK + 0xba0, "swapper/0", 10);
}

static void test_init_task_from_percpu(void **st)
{
	(void)st;
	build(true, 0xb90);
	put_init_task(true);
	run();
	FOUND(INIT_TASK, A(O_INIT_TASK));
	FOUND(TASK_COMM, 0xba0);
	build(true, 0xb90);
	put_init_task(false);                       /* not self-parented: rejected */
	run();
	assert_false(prof.p[INFER_P_INIT_TASK].found);
	assert_false(prof.p[INFER_P_TASK_COMM].found);
}

static void test_table_dispatch(void **st)
{
	(void)st;
	build(false, 0xb90);
	run();
	FOUND(SYS_CALL_TABLE, A(O_TABLE));
	assert_false(prof.p[INFER_P_X64_SYS_CALL].found);
	assert_true(prof.p[INFER_P_X64_SYS_CALL].na);      /* issue 14: not applicable, not missing */
	assert_non_null(strstr(prof.p[INFER_P_X64_SYS_CALL].why, "directly"));
	FOUND(SC_READ, A(O_H0));
	FOUND(SC_EXIT_GROUP, A(O_EXITG));
	FOUND(SC_EXECVE, A(O_HNI));
	FOUND(DO_EXIT, A(O_DOEXIT));                 /* from the table's handlers too */
	FOUND(PCPU_CURRENT_TASK, CUR);
}

/*
 * Issue 14: copy_process as gcc-10 lays it out on 5.10 (reached from fork through a
 * kernel_clone-like wrapper): "p->real_parent = current" and the new-leader branch
 * ("p->group_leader = p; p->tgid = p->pid") sit in out-of-line blocks after the
 * function's ret, reached by forward je; the pid register differs from the
 * current->tgid path's. Offsets are the synthetic kernel's (real_parent 0x980 from
 * getppid): pid 0x970, tgid 0x974, group_leader 0x9b0, parent 0x988, tasks 0x890.
 */
enum { O_FORK = 0x2000, O_CP = 0x2100, O_IT = 0x7000 };
static void emit_copy_process_510(void)
{
	uint64_t H = A(O_IT) + 0x890;                    /* &init_task.tasks */
	uint64_t l_rp = A(O_CP + 0x100), l_leader = A(O_CP + 0x140), l_back, l_back2;
	org(O_FORK); call(A(O_FENTRY)); call(A(O_CP)); ret();
	org(O_CP); call(A(O_FENTRY));
	B(0x55, 0x49, 0x89, 0xfc);                       /* push %rbp; mov %rdi,%r12 */
	call(A(O_FENTRY)); B(0x49, 0x89, 0xc5);          /* p = dup_task_struct(): mov %rax,%r13 */
	B(0x44, 0x8b, 0x78, 0x60);                       /* mov 0x60(%rax),%r15d (pid_nr) */
	B(0x4d, 0x85, 0xe4);                             /* test %r12,%r12 */
	B(0x45, 0x89, 0xbd, 0x70, 0x09, 0, 0);           /* mov %r15d,0x970(%r13)  p->pid */
	je(l_leader);
	gs_cur_rax(false);
	B(0x48, 0x8b, 0x90, 0xb0, 0x09, 0, 0);           /* mov 0x9b0(%rax),%rdx */
	B(0x49, 0x89, 0x95, 0xb0, 0x09, 0, 0);           /* mov %rdx,0x9b0(%r13) */
	B(0x8b, 0x80, 0x74, 0x09, 0, 0);                 /* mov 0x974(%rax),%eax */
	B(0x41, 0x89, 0x85, 0x74, 0x09, 0, 0);           /* mov %eax,0x974(%r13) */
	l_back = here();
	gs_cur_rax(false);
	B(0x41, 0xf7, 0xc4, 0x00, 0x80, 0x01, 0x00);     /* test $0x18000,%r12d */
	je(l_rp);
	B(0x48, 0x8b, 0x90, 0x80, 0x09, 0, 0);           /* mov 0x980(%rax),%rdx */
	B(0x49, 0x89, 0x95, 0x80, 0x09, 0, 0);           /* mov %rdx,0x980(%r13) */
	l_back2 = here();
	B(0x49, 0x8b, 0x8d, 0x80, 0x09, 0, 0);           /* mov 0x980(%r13),%rcx */
	B(0x49, 0x8d, 0x95, 0xb8, 0x09, 0, 0);           /* lea 0x9b8(%r13),%rdx */
	B(0x49, 0x89, 0x95, 0xb8, 0x09, 0, 0);           /* mov %rdx,0x9b8(%r13) */
	B(0x49, 0x89, 0x8d, 0x88, 0x09, 0, 0);           /* mov %rcx,0x988(%r13)  p->parent */
	for (int i = 0; i < 4; i++)                      /* movq $0,0x868(%r13) (other fields) */
		B(0x49, 0xc7, 0x85, 0x68, 0x08, 0, 0, 0, 0, 0, 0);
	B(0x48, 0x8b, 0x35); u32((uint32_t)(H + 8 - (here() + 4)));   /* mov H+8(%rip),%rsi */
	B(0x48, 0xc7, 0xc2); u32((uint32_t)H);           /* mov $H,%rdx */
	B(0x49, 0x8d, 0xbd, 0x90, 0x08, 0, 0);           /* lea 0x890(%r13),%rdi */
	call(A(O_FENTRY));                               /* __list_add_rcu */
	B(0x5d); ret();
	org(O_CP + 0x100);                               /* p->real_parent = current */
	B(0x49, 0x89, 0x85, 0x80, 0x09, 0, 0); jmp(l_back2);
	org(O_CP + 0x140);                               /* p->group_leader = p; p->tgid = p->pid */
	B(0x4d, 0x89, 0xad, 0xb0, 0x09, 0, 0);
	B(0x45, 0x89, 0xbd, 0x74, 0x09, 0, 0); jmp(l_back);
	/* init_task: tasks.next = &tasks, real_parent = group_leader = itself */
	uint64_t it = A(O_IT);
	memset(img + O_IT, 0, 0xa00);
	memcpy(img + O_IT + 0x890, &H, 8);
	memcpy(img + O_IT + 0x898, &H, 8);
	memcpy(img + O_IT + 0x980, &it, 8);
	memcpy(img + O_IT + 0x9b0, &it, 8);
	uint64_t f = A(O_FORK);
	memcpy(img + O_TABLE + 8 * 57, &f, 8);          /* fork */
}

static void test_copy_process_510_shape(void **st)
{
	(void)st;
	build(false, 0xb90);
	emit_copy_process_510();
	run();
	FOUND(TASK_REAL_PARENT, 0x980);
	FOUND(TASK_PID, 0x970);
	FOUND(TASK_TGID, 0x974);
	FOUND(TASK_GROUP_LEADER, 0x9b0);
	FOUND(TASK_PARENT, 0x988);
	FOUND(TASK_TASKS, 0x890);
	FOUND(INIT_TASK, A(O_IT));
	assert_true(prof.p[INFER_P_X64_SYS_CALL].na);
	/* the leader's tgid store from another register than the pid's: pid not guessed */
	build(false, 0xb90);
	emit_copy_process_510();
	img[O_CP + 0x140 + 7 + 1] = 0x89; img[O_CP + 0x140 + 7 + 2] = 0xb5;   /* mov %r14d,0x974(%r13) */
	run();
	assert_false(prof.p[INFER_P_TASK_PID].found);
	FOUND(TASK_TGID, 0x974);
}

/* 4.x-5.10 shape: do_syscall_64(nr, regs), indexed table */
static void test_old_abi_table_dispatch(void **st)
{
	(void)st;
	old_abi = true;
	build(false, 0xb90);
	old_abi = false;
	run();
	FOUND(SYS_CALL_TABLE, A(O_TABLE));
	FOUND(SC_READ, A(O_H0));
	FOUND(PCPU_CURRENT_TASK, CUR);
}

static void test_two_tables_are_ambiguous(void **st)
{
	(void)st;
	build(true, 0xb90);
	memcpy(img + O_TABLE2, img + O_TABLE, 8 * NR);
	run();
	FOUND(X64_SYS_CALL, A(O_X64));
	assert_false(prof.p[INFER_P_SYS_CALL_TABLE].found);
	assert_non_null(strstr(prof.p[INFER_P_SYS_CALL_TABLE].why, "2 arrays"));
	/* the handlers still come from the switch itself */
	FOUND(SC_READ, A(O_H0));
}

static void test_table_disagreeing_with_switch_is_rejected(void **st)
{
	(void)st;
	build(true, 0xb90);
	uint64_t other = A(O_H1);
	memcpy(img + O_TABLE + 8 * 300, &other, 8);  /* entry 300 no longer matches */
	run();
	assert_false(prof.p[INFER_P_SYS_CALL_TABLE].found);
}

static void test_mm_needs_brk_and_munmap_to_agree(void **st)
{
	(void)st;
	munmap_mm = 0x8e8;
	build(true, 0xb90);
	munmap_mm = 0x8e0;
	run();
	assert_false(prof.p[INFER_P_TASK_MM].found);
	assert_non_null(strstr(prof.p[INFER_P_TASK_MM].why, "disagree"));
}

static void test_cred_disagreement_is_not_a_guess(void **st)
{
	(void)st;
	build(true, 0xb98);                         /* geteuid reads another "cred" */
	run();
	assert_false(prof.p[INFER_P_TASK_CRED].found);
	assert_false(prof.p[INFER_P_CRED_EUID].found);
	assert_true(prof.p[INFER_P_TASK_CRED].why[0] != 0);
	FOUND(TASK_REAL_PARENT, 0x980);             /* unaffected */
}

/* do_exit: also through a __do_sys_exit tail jump; refused when
 * do_group_exit does not call the exit handler's target */
static void test_do_exit(void **st)
{
	(void)st;
	exit_wrapper = true;
	build(true, 0xb90);
	run();
	FOUND(DO_EXIT, A(O_DOEXIT));
	exit_wrapper = false;
	dge_calls_do_exit = false;
	build(true, 0xb90);
	run();
	dge_calls_do_exit = true;
	assert_false(prof.p[INFER_P_DO_EXIT].found);
	assert_non_null(strstr(prof.p[INFER_P_DO_EXIT].why, "does not call"));
	FOUND(SC_EXIT, A(O_EXIT));                   /* unaffected */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_dispatch),
		cmocka_unit_test(test_init_task_from_percpu),
		cmocka_unit_test(test_table_dispatch),
		cmocka_unit_test(test_copy_process_510_shape),
		cmocka_unit_test(test_old_abi_table_dispatch),
		cmocka_unit_test(test_two_tables_are_ambiguous),
		cmocka_unit_test(test_table_disagreeing_with_switch_is_rejected),
		cmocka_unit_test(test_cred_disagreement_is_not_a_guess),
		cmocka_unit_test(test_mm_needs_brk_and_munmap_to_agree),
		cmocka_unit_test(test_do_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
