/*
 * infer — find what the monitors need in a guest Linux kernel from its image
 * alone (OS design patterns), cross-checked by kallsyms and BTF.
 *
 * Contract shared by ring -1 (freestanding, arena memory) and host tools.
 * The engine reads the kernel only through an infer_reader (VA -> bytes,
 * may fail) and never trusts what it reads: every loop is bounded.
 */
#ifndef HVMON_INFER_H
#define HVMON_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads len bytes at kernel virtual address va. Returns false on failure
 * (unmapped, out of image). Must never fault. */
typedef bool (*infer_read_fn)(void *ctx, uint64_t va, void *buf, size_t len);

struct infer_reader {
	infer_read_fn read;
	void *ctx;
	/* Optional: the kernel's text range, if known (a file's .text section);
	 * 0/0 when unknown (guest memory at run time). */
	uint64_t text_start, text_end;
	/* Appended (docs/INFER.md): optional span of the whole loaded image (_text .. _end)
	 * where data structures may be scanned for; 0/0 when unknown. */
	uint64_t image_start, image_end;
	/* Optional ELF section list (vmlinux files only; NULL/0 at run time). */
	const struct infer_section *sections;
	size_t nsections;
	/* Appended (issue 14 §4): optional zero-copy view, NULL when absent. Returns a
	 * pointer to the len bytes at va when the reader can hand them out in place,
	 * else NULL (the engine then reads them: a view never succeeds where read
	 * would fail, and both give the same bytes). The pointer covers exactly len
	 * bytes, checked by the reader (ring -1: mapped kernel pages, one physically
	 * contiguous run, all guest RAM); the engine never reads past them nor writes
	 * through them, and uses them only within the infer_run (the guest is stopped). */
	const uint8_t *(*view)(void *ctx, uint64_t va, size_t len);
};

/* One section of a vmlinux file, by link VA (for infer_reader.sections). */
struct infer_section {
	const char *name;
	uint64_t va, size;
};

/* Runtime hints (ring -1): what the guest itself told the hardware. */
struct infer_hints {
	bool     have_lstar;     uint64_t lstar;     /* value written to IA32_LSTAR */
	bool     have_gs_base;   uint64_t gs_base;   /* kernel GS base at that time */
};

/* Caller-provided memory: the engine never calls malloc in ring -1. */
struct infer_arena {
	uint8_t *base;
	size_t   size;
	size_t   used;
};

enum infer_strategy {
	INFER_S_PATTERNS = 1u << 0,
	INFER_S_KALLSYMS = 1u << 1,
	INFER_S_BTF      = 1u << 2,
	INFER_S_ALL      = 7u,
};

enum infer_kind { INFER_K_ADDR, INFER_K_SYSCALL, INFER_K_PERCPU, INFER_K_OFFSET };

/*
 * Every parameter the monitors need: X(id, json-group, name, kind).
 * json-group/name give the hvinfer --json key (a contract: see docs/INFER.md).
 * New parameters are appended; names are never changed.
 */
#define INFER_PARAMS(X) \
	X(ENTRY_SYSCALL_64, "symbols",  "entry_SYSCALL_64", INFER_K_ADDR) \
	X(SYS_CALL_TABLE,   "symbols",  "sys_call_table",   INFER_K_ADDR) \
	X(X64_SYS_CALL,     "symbols",  "x64_sys_call",     INFER_K_ADDR) \
	X(SWITCH_TO,        "symbols",  "__switch_to",      INFER_K_ADDR) \
	X(INIT_TASK,        "symbols",  "init_task",        INFER_K_ADDR) \
	X(SC_EXECVE,        "syscalls", "execve",           INFER_K_SYSCALL) \
	X(SC_EXECVEAT,      "syscalls", "execveat",         INFER_K_SYSCALL) \
	X(SC_EXIT,          "syscalls", "exit",             INFER_K_SYSCALL) \
	X(SC_EXIT_GROUP,    "syscalls", "exit_group",       INFER_K_SYSCALL) \
	X(SC_CLONE,         "syscalls", "clone",            INFER_K_SYSCALL) \
	X(SC_CLONE3,        "syscalls", "clone3",           INFER_K_SYSCALL) \
	X(SC_FORK,          "syscalls", "fork",             INFER_K_SYSCALL) \
	X(SC_VFORK,         "syscalls", "vfork",            INFER_K_SYSCALL) \
	X(SC_KILL,          "syscalls", "kill",             INFER_K_SYSCALL) \
	X(SC_SETUID,        "syscalls", "setuid",           INFER_K_SYSCALL) \
	X(SC_SETRESUID,     "syscalls", "setresuid",        INFER_K_SYSCALL) \
	X(SC_INIT_MODULE,   "syscalls", "init_module",      INFER_K_SYSCALL) \
	X(SC_FINIT_MODULE,  "syscalls", "finit_module",     INFER_K_SYSCALL) \
	X(SC_READ,          "syscalls", "read",             INFER_K_SYSCALL) \
	X(PCPU_CURRENT_TASK,"percpu",   "current_task",     INFER_K_PERCPU) \
	X(PCPU_TOP_OF_STACK,"percpu",   "top_of_stack",     INFER_K_PERCPU) \
	X(TASK_PID,         "task_struct", "pid",           INFER_K_OFFSET) \
	X(TASK_TGID,        "task_struct", "tgid",          INFER_K_OFFSET) \
	X(TASK_COMM,        "task_struct", "comm",          INFER_K_OFFSET) \
	X(TASK_REAL_PARENT, "task_struct", "real_parent",   INFER_K_OFFSET) \
	X(TASK_PARENT,      "task_struct", "parent",        INFER_K_OFFSET) \
	X(TASK_MM,          "task_struct", "mm",            INFER_K_OFFSET) \
	X(TASK_CRED,        "task_struct", "cred",          INFER_K_OFFSET) \
	X(TASK_REAL_CRED,   "task_struct", "real_cred",     INFER_K_OFFSET) \
	X(TASK_TASKS,       "task_struct", "tasks",         INFER_K_OFFSET) \
	X(TASK_GROUP_LEADER,"task_struct", "group_leader",  INFER_K_OFFSET) \
	X(CRED_UID,         "cred",     "uid",              INFER_K_OFFSET) \
	X(CRED_EUID,        "cred",     "euid",             INFER_K_OFFSET) \
	X(CRED_GID,         "cred",     "gid",              INFER_K_OFFSET) \
	X(MM_PGD,           "mm_struct","pgd",              INFER_K_OFFSET) \
	/* appended (docs/TRACER.md): the common task-exit function every task ends in */ \
	X(DO_EXIT,          "symbols",  "do_exit",          INFER_K_ADDR) \
	/* appended (issue 15, docs/TRACER.md): where every fork and exec path meets */ \
	X(KERNEL_CLONE,     "symbols",  "kernel_clone",     INFER_K_ADDR) \
	X(DO_EXECVEAT_COMMON,"symbols", "do_execveat_common", INFER_K_ADDR) \
	X(KERNEL_EXECVE,    "symbols",  "kernel_execve",    INFER_K_ADDR) \
	X(KCA_EXIT_SIGNAL,  "kernel_clone_args", "exit_signal", INFER_K_OFFSET) \
	/* appended (issue 15 item 5, docs/MONITORS.md keylogger): a reader's controlling */ \
	/* terminal and its foreground process group; BTF only (INFER_OPTIONAL below) */ \
	X(TASK_SIGNAL,      "task_struct", "signal",        INFER_K_OFFSET) \
	X(SIGNAL_TTY,       "signal_struct", "tty",         INFER_K_OFFSET) \
	X(SIGNAL_PIDS,      "signal_struct", "pids",        INFER_K_OFFSET) \
	X(TTY_NAME,         "tty_struct", "name",           INFER_K_OFFSET) \
	X(TTY_PGRP,         "tty_struct", "pgrp",           INFER_K_OFFSET) \
	/* appended (issue 15 item 5, docs/MONITORS.md keylogger): where every evdev read */ \
	/* copies an event to user memory (io_uring's workers too), and the active VT's */ \
	/* index; kallsyms only (INFER_OPTIONAL below) */ \
	X(INPUT_EVENT_TO_USER,"symbols", "input_event_to_user", INFER_K_ADDR) \
	X(FG_CONSOLE,       "symbols",  "fg_console",       INFER_K_ADDR) \
	/* appended (issue 15 item 3 B, docs/MONITORS.md integrity): the kernel's own lists of */ \
	/* the text it patches after boot (ftrace's call sites, jump labels, static calls) and */ \
	/* the two call sites inside ftrace_caller; kallsyms only (INFER_OPTIONAL below) */ \
	X(MCOUNT_LOC_START, "symbols",  "__start_mcount_loc", INFER_K_ADDR) \
	X(MCOUNT_LOC_STOP,  "symbols",  "__stop_mcount_loc",  INFER_K_ADDR) \
	X(JUMP_TABLE_START, "symbols",  "__start___jump_table", INFER_K_ADDR) \
	X(JUMP_TABLE_STOP,  "symbols",  "__stop___jump_table", INFER_K_ADDR) \
	X(SCALL_SITES_START,"symbols",  "__start_static_call_sites", INFER_K_ADDR) \
	X(SCALL_SITES_STOP, "symbols",  "__stop_static_call_sites", INFER_K_ADDR) \
	X(SCALL_TEXT_START, "symbols",  "__static_call_text_start", INFER_K_ADDR) \
	X(SCALL_TEXT_END,   "symbols",  "__static_call_text_end", INFER_K_ADDR) \
	X(FTRACE_CALL,      "symbols",  "ftrace_call",      INFER_K_ADDR) \
	X(FTRACE_REGS_CALL, "symbols",  "ftrace_regs_call", INFER_K_ADDR) \
	/* appended (issue 15 item 5 gap A): every tty's read_iter, where the keylogger finds */ \
	/* the copy of each chunk a tty hands a reader (io_uring's workers too); kallsyms only */ \
	X(TTY_READ,         "symbols",  "tty_read",         INFER_K_ADDR) \
	/* appended (issue 15 item 3 B): the jump inside ftrace_caller that 5.10's function-graph */ \
	/* tracer rewrites (ftrace_enable_ftrace_graph_caller; gone in 5.16+); kallsyms only */ \
	X(FTRACE_GRAPH_CALL,"symbols",  "ftrace_graph_call", INFER_K_ADDR) \
	/* appended (issue 15 item 1, docs/TRACER.md "ABI"): thread_info.status, where the kernel */ \
	/* marks a task inside an i386 syscall (TS_COMPAT); an offset from the task pointer */ \
	/* (x86-64's thread_info is task_struct's first member); kallsyms (code) + BTF, optional */ \
	X(TI_STATUS,        "thread_info", "status",        INFER_K_OFFSET)

enum infer_param {
#define INFER_X_ENUM(id, grp, name, kind) INFER_P_##id,
	INFER_PARAMS(INFER_X_ENUM)
#undef INFER_X_ENUM
	INFER_NPARAMS
};

struct infer_value {
	bool     found;          /* unambiguous evidence from >= 1 strategy */
	uint64_t value;          /* address (VA) or byte offset */
	uint32_t found_by;       /* bitmask of enum infer_strategy that found it */
	uint32_t disagree;       /* strategies whose answer differed from value */
	char     why[96];        /* reason when !found (or the conflict) */
	/* Appended (issue 14): the parameter does not exist in this kernel (e.g.
	 * x64_sys_call before the BHI switch dispatcher); !found, why says why.
	 * Not applicable is not missing: see docs/INFER.md. */
	bool     na;
};

struct infer_profile {
	char     banner[256];    /* linux_banner, "" if not found */
	uint32_t strategies;     /* which strategies ran */
	uint64_t kaslr_slide;    /* runtime - link address (ring -1 only) */
	struct infer_value p[INFER_NPARAMS];
};

/* Names/kinds for the table above (for JSON, logs, tests). */
const char *infer_param_name(enum infer_param p);
const char *infer_param_group(enum infer_param p);
enum infer_kind infer_param_kind(enum infer_param p);

/*
 * Run the selected strategies and cross-check them. Never fails hard: a
 * parameter that cannot be found is left !found with the reason in why[].
 * Returns the number of parameters found.
 */
int infer_run(const struct infer_reader *rd, const struct infer_hints *hints,
	      uint32_t strategies, struct infer_arena *arena,
	      struct infer_profile *out);

/* Every parameter found or not applicable (hvinfer exit status 0); optional
 * parameters (infer_param_optional) may be missing. */
bool infer_profile_complete(const struct infer_profile *p);
/* Optional: found by BTF only (the patterns strategy does not handle them), needed
 * by one monitor decision that degrades without them (issue 15 item 5: the
 * keylogger's terminal parameters, docs/INFER.md "Optional parameters"). */
bool infer_param_optional(enum infer_param p);

/* Serialize as the hvinfer --json object into buf (always NUL-terminated).
 * Returns the length needed (like snprintf). */
size_t infer_profile_json(const struct infer_profile *p, char *buf, size_t size);

#endif
