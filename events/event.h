/*
 * hvmon event core — typed event records, per-CPU rings, sinks.
 *
 * Every monitor reports through this file's API; every sink (console JSON,
 * network) consumes the same `struct hv_event`. docs/EVENTS.md is the schema
 * (event names and fields are a contract shared with tools/hvmon-collect).
 *
 * Builds freestanding (ring -1: no malloc, no floats, no libc beyond
 * memcpy/memset) and hosted (unit tests, collector).
 *
 * Producer side (any CPU, never blocks, never allocates):
 *
 *	struct hv_event *ev = hv_event_reserve(cpu, HV_EV_EXIT, HV_EMON_TRACER);
 *	if (ev) {                       // NULL: ring full, drop counted
 *		hv_event_set_task(ev, pid, tgid, comm, sizeof(comm));
 *		ev->u.exit.code = code;
 *		hv_event_commit(cpu);
 *	}
 *
 * Consumer side (hvmon's periodic tick, one CPU at a time):
 *	hv_event_drain(budget);         // hands events to every registered sink
 */
#ifndef HVMON_MONITORS_EVENT_H
#define HVMON_MONITORS_EVENT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* ---- sizes (part of the contract: docs/EVENTS.md, docs/PROTOCOL.md) ---- */
#define HV_EVENT_MAX_CPUS     16
#define HV_EVENT_RING_SLOTS   256     /* per CPU, power of two */
#define HV_EVENT_MAX_SINKS    4
#define HV_COMM_LEN           16      /* TASK_COMM_LEN, NUL included */
#define HV_PATH_LEN           256     /* exec filename, bytes kept (NUL incl.) */
#define HV_ARGV_MAX           16      /* arguments kept */
#define HV_ARG_LEN            128     /* bytes kept per argument (NUL incl.) */
#define HV_ARGV_BYTES         768     /* all arguments, NUL-separated */
#define HV_DEVICE_LEN         64
#define HV_REASON_LEN         96
#define HV_KIND_LEN           16
#define HV_KVER_LEN           64

/* Event types. Values travel on the wire: never renumber, only append. */
enum hv_event_type {
	HV_EV_NONE            = 0,
	HV_EV_EXEC            = 1,
	HV_EV_FORK            = 2,
	HV_EV_EXIT            = 3,
	HV_EV_HANG            = 4,
	HV_EV_HANG_RECOVERED  = 5,
	HV_EV_RET2USR         = 6,
	HV_EV_CR4_TAMPER      = 7,
	HV_EV_KEYLOGGER       = 8,
	HV_EV_HEARTBEAT       = 9,
	HV_EV_DROPS           = 10,
	HV_EV_INFERENCE       = 11,
	HV_EV_MONITOR_STATE   = 12,
	HV_EV_BOOT_CONFIG     = 13,   /* appended, issue 18: what hvmon booted */
	HV_EV_DMA_FAULT       = 14,   /* issue 12: a blocked DMA (VT-d fault record) */
	HV_EV_DENIED          = 15,   /* issue 17: a guest request hvmon refused (sleep, MSR, XCR0...) */
	HV_EV_TRACE_LOST      = 16,   /* issue 15: a process event the tracer could not complete */
	HV_EV_PROBE_TAMPER    = 17,   /* issue 15: the guest blinded (or tried to blind) a probe */
	HV_EV_SYSCALL_HOOK    = 18,   /* issue 15 (integrity): IA32_LSTAR / SYSENTER MSR changed */
	HV_EV_CR0_WP          = 19,   /* issue 15 (integrity): CR0.WP cleared after boot */
	HV_EV_IDT_WRITE       = 20,   /* issue 15 (integrity): IDTR/GDTR changed after boot */
	HV_EV_KERNEL_TEXT_WRITE = 21, /* issue 15 (integrity): a write to the write-protected kernel image */
	HV_EV__COUNT
};

/* Reporting component. Values travel on the wire: only append. */
enum hv_monitor_id {
	HV_EMON_CORE     = 0,   /* "hvmon": heartbeat, drops, inference */
	HV_EMON_TRACER   = 1,   /* the tracer; its name on the wire/JSON is "proctrace" (contract) */
	HV_EMON_HANG     = 2,   /* "hang" */
	HV_EMON_RET2USR  = 3,   /* "ret2usr" (also cr4_tamper) */
	HV_EMON_KEYLOGGER = 4,  /* "keylogger" */
	HV_EMON_INTEGRITY = 5,  /* "integrity" (issue 15) */
	HV_EMON__COUNT
};

/* hdr.flags */
#define HV_EVF_TASK            0x0001  /* pid/tgid/comm are valid */

/* exec.flags */
#define HV_EXECF_OK            0x01    /* exec succeeded */
#define HV_EXECF_ARGV_TRUNC    0x02    /* >16 args, an arg or the total cut */
#define HV_EXECF_PATH_TRUNC    0x04    /* filename cut to HV_PATH_LEN-1 */
#define HV_EXECF_READ_FAIL     0x08    /* some guest memory was unreadable */

/* fork.kind */
enum hv_fork_kind { HV_FORK_PROCESS = 0, HV_FORK_THREAD = 1 };

/* ret2usr.how */
enum hv_ret2usr_how {
	HV_R2U_EXEC       = 0,  /* kernel executed a user page (EPT/SMEP) */
	HV_R2U_DATA       = 1,  /* kernel accessed user data illegitimately */
	HV_R2U_STACK_PIVOT = 2, /* kernel stack pointer into user memory */
	HV_R2U_OTHER      = 3,
};

struct hv_event_hdr {
	uint64_t tsc;          /* TSC at the time the event was recorded */
	uint16_t type;         /* enum hv_event_type */
	uint16_t cpu;          /* vCPU/physical CPU that recorded the event */
	uint16_t monitor;      /* enum hv_monitor_id */
	uint16_t flags;        /* HV_EVF_* */
	int32_t  pid;          /* current task (HV_EVF_TASK) */
	int32_t  tgid;
	char     comm[HV_COMM_LEN];
};

struct hv_ev_exec {
	int32_t  ppid;
	uint32_t uid;
	int32_t  err;          /* 0 or negative errno when !OK */
	uint8_t  flags;        /* HV_EXECF_* */
	uint8_t  argc;         /* arguments stored in argv[] (<= HV_ARGV_MAX) */
	uint16_t argv_len;     /* bytes used in argv[], each arg NUL-terminated */
	char     filename[HV_PATH_LEN];
	char     argv[HV_ARGV_BYTES];
	/* appended (issue 15): the ABI of the call; 0 = not told (older senders) */
	uint8_t  abi;          /* enum hv_abi */
	int32_t  syscall;      /* the syscall number the task entered with (pt_regs orig_ax), -1 none */
};

/* How a traced call reached the kernel (issue 15, docs/TRACER.md "ABI"). */
enum hv_abi {
	HV_ABI_NONE = 0,       /* not reported (a sender before issue 15) */
	HV_ABI_X64,            /* 64-bit syscall (CS 0x33) */
	HV_ABI_I386,           /* 32-bit: int $0x80, sysenter or compat syscall (CS 0x23) */
	HV_ABI_X32,            /* x32: 64-bit CS, __X32_SYSCALL_BIT in the number */
	HV_ABI_KERNEL,         /* kernel-internal: a kernel thread, no user registers */
	HV_ABI_UNKNOWN,        /* the guest's registers did not say consistently */
	HV_ABI__COUNT
};
/* "x64", "i386", "x32", "kernel", "unknown"; NULL for HV_ABI_NONE or out of range */
const char *hv_abi_name(unsigned abi);

struct hv_ev_fork {
	int32_t  parent_pid;
	int32_t  child_pid;
	uint8_t  kind;         /* enum hv_fork_kind */
	uint8_t  pad[7];
	uint64_t clone_flags;
	/* appended (issue 15): as in struct hv_ev_exec */
	uint8_t  abi;
	int32_t  syscall;
};

struct hv_ev_exit {
	int32_t  code;         /* exit code: (status >> 8) & 0xff */
	/* appended (docs/EVENTS.md: one exit per task, from do_exit) */
	int32_t  status;       /* the kernel's exit status (do_exit's argument, wait(2) encoding) */
	uint8_t  signal;       /* status & 0x7f: the killing signal, 0 for a normal exit */
	uint8_t  flags;        /* HV_EXITF_* */
	/* appended (issue 15): as in struct hv_ev_exec (the ABI the task ran with) */
	uint8_t  abi;
	int32_t  syscall;
};
#define HV_EXITF_CORE     0x01   /* status & 0x80: the kernel dumped core */
#define HV_EXITF_KTHREAD  0x02   /* a kernel thread (no mm at do_exit) */

struct hv_ev_hang {          /* hang and hang_recovered */
	char     kind[HV_KIND_LEN];  /* "soft", "hard", "rcu", "vcpu" ... */
	uint32_t vcpu;           /* the vCPU that hung */
	uint32_t seconds;        /* how long it hung (or had hung) */
	uint64_t rip;
	/* appended (issue 11, SMP): 1 partial (other vCPUs still progress), 2 machine
	 * (every sampled vCPU hung), 0 unknown (an older sender / recovered) */
	uint8_t  scope;
	uint32_t cpus_hung;      /* vCPUs hung when this was recorded, this one included */
	/* pid/comm of the task on that vCPU: hdr.pid / hdr.comm */
};

struct hv_ev_ret2usr {
	uint64_t rip;          /* kernel RIP at detection */
	uint64_t user_addr;    /* user address executed/accessed */
	uint8_t  how;          /* enum hv_ret2usr_how */
};

struct hv_ev_cr4 {
	uint64_t old_cr4;
	uint64_t new_cr4;      /* value the guest tried to load */
	uint64_t rip;
	uint8_t  blocked;      /* 1: hvmon kept the protected bits */
};

struct hv_ev_keylogger {
	char     device[HV_DEVICE_LEN];  /* e.g. "/dev/input/event0" */
	uint64_t keystrokes;     /* keystrokes seen by the suspect reader */
	uint8_t  terminal;       /* appended (issue 15): HV_KL_TERM_*, how the reader's terminal was judged
				  * at the read that crossed K (0: not sent, an older sender) */
};
#define HV_KL_TERM_FOREGROUND 1  /* "foreground": the foreground group of the active console */
#define HV_KL_TERM_OTHER      2  /* "other": its terminal was read; not the active console's foreground */
#define HV_KL_TERM_UNKNOWN    3  /* "unknown": the tty structures are unknown (a kernel without BTF) or
				  * were unreadable: a tty reader here may be the intended consumer */

struct hv_ev_heartbeat {
	uint64_t uptime_ms;
	uint64_t events;         /* events committed since boot (all CPUs) */
	uint64_t drops;          /* events dropped since boot (all CPUs) */
};

struct hv_ev_drops {
	uint32_t ring_cpu;       /* the ring that overflowed */
	uint32_t pad;
	uint64_t count;          /* dropped since the previous drops event */
	uint64_t total;          /* dropped on this ring since boot */
};

struct hv_ev_inference {
	uint8_t  ok;
	uint8_t  pad[7];
	char     kernel[HV_KVER_LEN];    /* guest kernel version string */
	char     reason[HV_REASON_LEN];  /* why not, or a summary */
};

struct hv_ev_monitor_state {
	uint8_t  enabled;        /* monitor is hdr.monitor */
	uint8_t  pad[7];
	char     reason[HV_REASON_LEN];
};

/* boot_config (issue 18): sent once, in the first datagrams of a boot.
 * monitors: the monitors= mask in effect (bit 0 tracer, 1 hang, 2 ret2usr,
 * 3 keylogger, 4 integrity: the order of the registry, monitors/monitors.c). Hashes: lower-case hex SHA-256. */
#define HV_SHA256_HEX   65
#define HV_OPTSUM_LEN   240
struct hv_ev_boot_config {
	uint8_t  monitors;
	uint8_t  loader;         /* 1 Multiboot2 (GRUB), 2 UEFI (hvmon.efi) */
	uint8_t  pad[6];
	char     hvmon_sha256[HV_SHA256_HEX];    /* hvmon's loaded code + read-only data */
	char     kernel_sha256[HV_SHA256_HEX];   /* the guest kernel file as loaded */
	char     initrd_sha256[HV_SHA256_HEX];   /* the initrd file as loaded ("" if none) */
	char     options_sha256[HV_SHA256_HEX];  /* the whole effective-options summary */
	char     options[HV_OPTSUM_LEN];         /* that summary (key=<set>), cut to fit */
};

struct hv_ev_dma_fault {     /* VT-d fault (docs/VTD.md) */
	uint64_t addr;           /* faulting page address (DMA address, 4 KiB aligned) */
	uint64_t suppressed;     /* faults not reported since the previous dma_fault (rate limit) */
	uint16_t source;         /* requester id: bus << 8 | dev << 3 | fn */
	uint8_t  write;          /* 1: write request, 0: read request */
	uint8_t  reason;         /* VT-d fault reason (spec 7.1.3): 5 write / 6 read not allowed, ... */
	uint32_t unit;           /* index of the remapping unit that recorded it */
};

/* denied (issue 17): a guest request that would bypass or stop hvmon, refused
 * (docs/SECURITY.md). Reported for the first 16 of a kind on a vCPU, then the
 * 32nd, 64th..., so a storm costs 16 + log2(n) events. */
struct hv_ev_denied {
	uint64_t reg;            /* the port, MSR or XCR index concerned */
	uint64_t value;          /* the value the guest wrote */
	uint64_t rip;            /* guest RIP of the request */
	uint64_t count;          /* occurrences of this kind on this vCPU so far */
	char     what[HV_KIND_LEN];   /* "sleep", "msr_write", "msr_read", "xcr0", ... */
};

/* trace_lost (issue 15): a process event the tracer could not complete, e.g.
 * a fork whose result had no pending slot (16 calls in flight, such as parents
 * blocked in vfork): the task is the caller. Reported at the 1st, 2nd, 4th,
 * 8th... loss (count says how many in all). */
struct hv_ev_trace_lost {
	uint64_t count;          /* results lost since boot (all kinds) */
	uint32_t pending;        /* calls in flight when it happened (the table's size when full) */
	char     what[HV_KIND_LEN];    /* "fork", "exec" */
	char     reason[HV_KIND_LEN];  /* "pending_full", "stack_unwritable" */
};

/* probe_tamper (issue 15, docs/PROBES.md "Tampering"): the guest wrote over a
 * probe site (an int3 kept past the grace period, or an instruction hvmon
 * cannot emulate), remapped a probed virtual address to another physical page,
 * or the probes of a group stopped firing while new address spaces appeared.
 * The task: the writer (int3/rewrite: the task whose write exited), else the
 * task running on that vCPU when hvmon saw it. */
#define HV_TAMPER_BYTES 8
struct hv_ev_probe_tamper {
	uint64_t va;             /* the probed kernel virtual address */
	uint64_t gpa;            /* its guest-physical address as probed */
	uint64_t new_gpa;        /* remap: where the VA points now (0 otherwise) */
	uint64_t rip;            /* int3/rewrite: the guest RIP of the write (0: not known) */
	uint64_t ms;             /* int3: how long the guest's int3 had been there; silent: window length */
	uint32_t new_mm;         /* silent: new address spaces seen in the window */
	uint8_t  rearmed;        /* the probe is live again (re-placed on the new page, or re-armed) */
	uint8_t  nbytes;         /* bytes[] used */
	uint8_t  bytes[HV_TAMPER_BYTES];   /* the guest's bytes at the site now */
	char     what[HV_KIND_LEN];        /* "int3", "rewrite", "remap", "silent" */
	char     probe[HV_KIND_LEN * 2];   /* the probe's name, e.g. "proctrace:kernel_clone" */
};

/* syscall_hook, cr0_wp, idt_write (issue 15, the integrity monitor,
 * docs/MONITORS.md "Integrity"): a change of a register the kernel sets once. */
struct hv_ev_integrity {
	uint64_t reg;            /* syscall_hook: the MSR; idt_write: the new limit; cr0_wp: 0 */
	uint64_t old_value;      /* the baseline (MSR value, CR0, table base) */
	uint64_t new_value;      /* what the guest wrote or loaded */
	uint64_t rip;            /* guest RIP of the write (idt_write: where the change was seen) */
	uint8_t  blocked;        /* 1: the write did not take effect (integrity_action=block) */
	char     what[HV_KIND_LEN];   /* "lstar", "sysenter_cs/esp/eip", "cr0", "idtr", "gdtr" */
	uint8_t  how;            /* appended (issue 15), idt_write only: HV_INTEG_HOW_*; 0: not sent */
};
#define HV_INTEG_HOW_SAMPLE 1    /* "sample": seen by the 100 ms sampling (no descriptor-table exiting) */
#define HV_INTEG_HOW_LIDT   2    /* "lidt": the LIDT itself (descriptor-table exiting) */
#define HV_INTEG_HOW_LGDT   3    /* "lgdt": the LGDT itself */

/* kernel_text_write (issue 15, the integrity monitor): a guest write to a page
 * of the kernel image hvmon write-protects through EPT (text, read-only data,
 * the system-call table, the IDT), with what changed once hvmon looked. */
#define HV_TEXTW_BYTES 16
struct hv_ev_text_write {
	uint64_t va;             /* guest-linear address of the first write (0: not given) */
	uint64_t gpa;            /* guest-physical address of the first changed byte (the page when none) */
	uint64_t rip;            /* guest RIP of the first write */
	uint32_t changed;        /* bytes of the page that differ from before the first write */
	uint8_t  len;            /* bytes in old/new: the first changed span, <= HV_TEXTW_BYTES */
	uint8_t  old_bytes[HV_TEXTW_BYTES];
	uint8_t  new_bytes[HV_TEXTW_BYTES];
	char     region[HV_KIND_LEN];     /* "text", "rodata", "syscall_table", "idt" */
	char     severity[HV_KIND_LEN];   /* "attack", "patch" (docs/MONITORS.md) */
	char     writer[HV_KIND_LEN];     /* "text_poke", "kernel", "user" */
	uint8_t  reverted;       /* 1: hvmon put the page's changed bytes back (integrity_action=block, attack); appended */
};

struct hv_event {
	struct hv_event_hdr hdr;
	union {
		struct hv_ev_exec exec;
		struct hv_ev_fork fork;
		struct hv_ev_exit exit;
		struct hv_ev_hang hang;
		struct hv_ev_ret2usr ret2usr;
		struct hv_ev_cr4 cr4;
		struct hv_ev_keylogger keylogger;
		struct hv_ev_heartbeat heartbeat;
		struct hv_ev_drops drops;
		struct hv_ev_inference inference;
		struct hv_ev_monitor_state monitor_state;
		struct hv_ev_boot_config boot_config;
		struct hv_ev_dma_fault dma_fault;
		struct hv_ev_denied denied;
		struct hv_ev_trace_lost trace_lost;
		struct hv_ev_probe_tamper probe_tamper;
		struct hv_ev_integrity integrity;
		struct hv_ev_text_write text_write;
	} u;
};

/* ---- names ---- */
const char *hv_event_type_name(unsigned type);     /* "exec"...; NULL if unknown */
const char *hv_monitor_name(unsigned mon);         /* "proctrace"...; NULL if unknown */
int hv_event_type_from_name(const char *name);     /* -1 if unknown */

/* ---- helpers for producers (bounded copies; src may lack a NUL) ---- */
/* Copy at most n bytes of src (stops at NUL) into dst[dstsz], always
 * NUL-terminates; returns true if src was cut. */
bool hv_strlcpy_bounded(char *dst, size_t dstsz, const char *src, size_t n);
void hv_event_set_task(struct hv_event *ev, int32_t pid, int32_t tgid,
		       const char *comm, size_t comm_n);
/* Append one argument (len bytes, stops at NUL) to an exec event; sets
 * HV_EXECF_ARGV_TRUNC when it (or a later one) does not fit. */
void hv_exec_add_arg(struct hv_event *ev, const char *arg, size_t len);
/* Iterate packed argv: returns pointer to the i-th arg or NULL. */
const char *hv_exec_arg(const struct hv_event *ev, unsigned i);

/* ---- rings ---- */
/* Clock for hdr.tsc (default: none → 0). ring -1 sets rdtsc. */
void hv_event_set_clock(uint64_t (*clock)(void));
/* Bytes of ring memory hv_event_init needs for ncpus CPUs. */
size_t hv_event_mem_size(unsigned ncpus);
/* Reset all rings, counters and sinks; 1 <= ncpus <= HV_EVENT_MAX_CPUS.
 * mem: hv_event_mem_size(ncpus) bytes, 8-byte aligned, owned by the event
 * core from now on (ring -1: from hvmon's heap). Returns 0 or -1. */
int hv_event_init(unsigned ncpus, void *mem, size_t size);
/* Reserve the next slot of cpu's ring, header filled (tsc, type, cpu,
 * monitor), body zeroed. NULL if the ring is full (drop counted) or cpu
 * is out of range. Exactly one reservation per CPU may be open. */
struct hv_event *hv_event_reserve(unsigned cpu, unsigned type, unsigned monitor);
void hv_event_commit(unsigned cpu);
/* Copy a complete event into cpu's ring (hdr.cpu overwritten). */
bool hv_event_emit(unsigned cpu, const struct hv_event *ev);

struct hv_event_stats {
	uint64_t committed;      /* events committed, all CPUs */
	uint64_t dropped;        /* reservations refused, all CPUs */
	uint64_t delivered;      /* events handed to sinks */
};
void hv_event_get_stats(struct hv_event_stats *st);
uint64_t hv_event_ring_drops(unsigned cpu);
/* Events committed on cpu's ring and not yet drained (0 if cpu is out of range). */
unsigned hv_event_ring_pending(unsigned cpu);

/* ---- sinks ---- */
struct hv_event_sink {
	const char *name;
	void (*emit)(struct hv_event_sink *s, const struct hv_event *ev);
	void (*flush)(struct hv_event_sink *s);   /* optional, end of each drain */
	void *ctx;
};
int hv_event_sink_register(struct hv_event_sink *s);   /* 0, or -1 if full */
void hv_event_sink_unregister(struct hv_event_sink *s);
/* Drain up to budget events (0: all present) from every ring into every
 * sink, oldest TSC first across CPUs; then a `drops` event per ring that
 * dropped since the previous drain. Returns events delivered. Safe to call
 * concurrently: a second caller returns 0 at once. */
unsigned hv_event_drain(unsigned budget);
/* Deliver an event straight to the sinks (from the draining context only,
 * e.g. heartbeat from the tick). */
void hv_event_deliver(const struct hv_event *ev);

/* ---- JSON (event_json.c) ---- */
/* Worst-case length of one JSON line incl. '\n' and NUL. */
#define HV_EVENT_JSON_MAX     8192
/* Format ev as one JSON object + '\n' (+ NUL) into buf. extra, if non-NULL,
 * is inserted verbatim after the "event" member (e.g. "\"sender\":...,").
 * Returns the length without NUL, or 0 if buf is too small. */
size_t hv_event_to_json(const struct hv_event *ev, const char *extra,
			char *buf, size_t size);

/* Console sink: formats each event and calls write(ctx, line, len). */
struct hv_console_sink {
	struct hv_event_sink sink;
	void (*write)(void *ctx, const char *s, size_t len);
	void *write_ctx;
	char buf[HV_EVENT_JSON_MAX];
};
void hv_console_sink_init(struct hv_console_sink *cs,
			  void (*write)(void *ctx, const char *s, size_t len),
			  void *write_ctx);

#endif
