/*
 * keylogger — the process-based keylogger detector (docs/MONITORS.md "Keylogger detector").
 *
 * Two observations from ring -1, nothing in the guest:
 *  1. KEYSTROKES at the hardware: the guest's `in al,0x60` (i8042 data port) is
 *     intercepted through the I/O bitmap (only while this monitor is on); hvmon
 *     performs the real IN, hands the byte to the guest unchanged and decodes it
 *     (scan code set 1, as the i8042 translates it): a MAKE code of a keyboard
 *     byte (status 0x64: output buffer full, not AUX) is one keystroke.
 *  2. CONSUMERS: for a bounded window after a keystroke hvmon arms ONE probe on
 *     the syscall exit path (the `call syscall_exit_to_user_mode` that follows the
 *     dispatch in do_syscall_64, found from the inferred entry_SYSCALL_64 and
 *     x64_sys_call), so it also sees reads that were already blocked when the key
 *     arrived. At a read/pread64/readv/preadv return with RAX > 0 the user buffer
 *     is classified: `struct input_event` records with EV_KEY presses → device
 *     "input"; bytes equal (in order) to the characters just typed → "tty". Each
 *     consumed keystroke is matched against the keystroke history, so a process
 *     counts each keystroke once.
 * A process (tgid) that consumed >= K keystrokes and whose comm is not in
 * keylogger_allow= gets ONE `keylogger` event.
 *
 * This header: the pure part (monitors/keylogger_core.c, monitors/keylogger_site.c;
 * host-tested by tests/unit/test_keylogger.c, fuzzed by tests/fuzz/fuzz_keylogger.c)
 * and the ring -1 entry points (monitors/keylogger.c).
 */
#ifndef HVMON_MONITORS_KEYLOGGER_H
#define HVMON_MONITORS_KEYLOGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- i8042 ---------------------------------------------------------------- */
#define KEYLOGGER_I8042_DATA    0x60
#define KEYLOGGER_I8042_STATUS  0x64
#define KEYLOGGER_I8042_OBF     0x01    /* status: output buffer full */
#define KEYLOGGER_I8042_CMD     0x08    /* status: the last write went to the command port 0x64 */
#define KEYLOGGER_I8042_AUX     0x20    /* status: the byte comes from the AUX (mouse) port */

/* ---- scan code decoding (set 1, i8042-translated) ----------------------------
 * Make codes 0x01..0x7f, break = make | 0x80; 0xE0 prefixes an extended key,
 * E1 1D 45 / E1 9D C5 is Pause. Not keystrokes: controller/keyboard replies
 * (0x00, 0xFF overrun, 0xAA self-test, 0xEE echo, 0xFA ACK, 0xFE resend: all of
 * them are >= 0x80 or 0x00), the "fake shifts" E0 2A / E0 36 (and their breaks). */
enum keylogger_sc_result { KEYLOGGER_SC_NONE = 0, KEYLOGGER_SC_MAKE, KEYLOGGER_SC_BREAK };

struct keylogger_sc_state {
	uint8_t e0;              /* 1: the previous byte was 0xE0 */
	uint8_t e1_left;         /* bytes left of an E1 (Pause) sequence */
	uint8_t e1_first;        /* first byte after E1 */
};

struct keylogger_key {
	uint8_t  scancode;       /* without the 0x80 break bit */
	bool     extended;       /* E0-prefixed */
	uint16_t keycode;        /* Linux KEY_* code (0: unknown) */
};

enum keylogger_sc_result keylogger_scancode_feed(struct keylogger_sc_state *s, uint8_t byte, struct keylogger_key *out);
/* Linux keycode of a set-1 scan code (what atkbd reports for the translated
 * set 2 keyboard), 0 if unknown. */
uint16_t keylogger_keycode(uint8_t scancode, bool extended);

/* ---- keystroke history and consumers ----------------------------------------- */
#define KEYLOGGER_HIST          128     /* keystrokes remembered (ring) */
#define KEYLOGGER_MAX_PROCS     64      /* consumer processes tracked */
#define KEYLOGGER_COMM_LEN      16
#define KEYLOGGER_MAX_ALLOW     16

/* PORT (appended, issue 15): keystrokes a process read from the i8042 itself (IN at
 * CPL 3 with ioperm/iopl, or any IN other than the driver's byte read of 0x60). */
enum keylogger_dev { KEYLOGGER_DEV_NONE = 0, KEYLOGGER_DEV_INPUT = 1, KEYLOGGER_DEV_TTY = 2, KEYLOGGER_DEV_PORT = 3 };
#define KEYLOGGER_NDEV 4
const char *keylogger_dev_name(enum keylogger_dev d);      /* "input", "tty", "port", "none" */

struct keylogger_keystroke {
	uint64_t seq;            /* 1, 2, ... (0: empty slot) */
	uint64_t tsc;
	uint16_t keycode;
	uint8_t  ascii;          /* what the console keymap (US) produces, 0 if none */
	uint8_t  consumers;      /* processes that consumed it (saturating) */
};

struct keylogger_proc {
	bool     used;
	bool     reported;       /* the one event was emitted */
	bool     allowed;        /* comm in keylogger_allow= (one input of the input-device rule only) */
	uint64_t not_allowed;    /* keystrokes it consumed that no rule allowed (issue 15:
				  * allowed = none such; docs/MONITORS.md "Who is a keylogger") */
	int32_t  pid, tgid;      /* pid: the thread that last read */
	uint64_t ident;          /* with tgid, who it is (issue 15: the guest's signal_struct or group
				  * leader; a rename or a thread does not change it) */
	char     comm[KEYLOGGER_COMM_LEN];   /* the name it had at its last read */
	uint64_t cursor[KEYLOGGER_NDEV]; /* per enum keylogger_dev: last keystroke seq consumed */
	uint64_t count;          /* keystrokes consumed (all devices) */
	uint64_t by_dev[KEYLOGGER_NDEV];
	uint64_t first_key_tsc;  /* TSC of the first keystroke it consumed */
	uint64_t last_tsc;       /* last consumption (LRU) */
	uint64_t report_tsc;     /* when the event was emitted */
	uint64_t report_seq;     /* keystroke seq that crossed K */
	enum keylogger_dev report_dev;
	uint8_t  report_term;    /* enum keylogger_term of the read that crossed K (the event's `terminal`) */
};

struct keylogger_state {
	/* configuration */
	uint32_t k;
	uint32_t nallow;
	char     allow[KEYLOGGER_MAX_ALLOW][KEYLOGGER_COMM_LEN];
	/* keyboard */
	struct keylogger_sc_state sc;
	bool     lshift, rshift, ctrl, caps;
	struct keylogger_keystroke hist[KEYLOGGER_HIST];
	uint64_t next_seq;       /* seq of the next keystroke (starts at 1) */
	/* replies to keyboard commands the guest wrote to port 0x60 */
	uint8_t  last_cmd;       /* previous command byte that takes a parameter (0: none) */
	uint8_t  reply_skip;     /* keyboard bytes still expected as the reply */
	uint64_t reply_deadline; /* TSC after which the expectation lapses */
	/* controller commands the guest wrote to port 0x64 (issue 15: keylogger_feed_cmd) */
	bool     cmd_watch;      /* 0x64 writes are seen: a byte is a controller reply only while one
				  * is pending (else the fallback: status bit 3) */
	uint8_t  ctrl_param;     /* the command whose parameter the next 0x60 write is (0: none) */
	uint8_t  ctrl_pending;   /* controller reply bytes expected */
	uint8_t  ctrl_loop;      /* 0xd2/0xd3: the pending reply is a loop-back's */
	uint64_t ctrl_deadline;  /* TSC after which they are no longer expected */
	uint64_t ctrl_cmds, ctrl_params;
	/* consumers */
	bool     input_at_copy;  /* evdev events are counted where the kernel copies them to the reader
				  * (keylogger_consume_event, issue 15): a read's input records are then
				  * not counted again at its return */
	struct keylogger_proc procs[KEYLOGGER_MAX_PROCS];
	/* appended (issue 15 item 5 gap A): tty chunks seen at the copy point; those that were typed keys */
	uint64_t tty_chunks, tty_chunks_keys;
	bool     tty_at_copy;    /* the tty copy point is in: a read's bytes that are not input records
				  * are not matched at its return (they were, chunk by chunk, at the copy) */
	/* counters */
	uint64_t bytes, kbd_bytes, aux_bytes, empty_reads, makes, breaks, ignored;
	uint64_t ctrl_replies, kbd_replies, outs;
	uint64_t reads_seen, reads_input, reads_tty, reads_other, reads_port;
	uint64_t consumed, unmatched, proc_evictions, reports;
	uint64_t hist_overwritten;   /* keystrokes that left the history unconsumed */
	uint64_t events_seen, events_keys;   /* evdev events at the copy point; key presses among them */
};

/* @k >= 1; @allow: @nallow comm names (KEYLOGGER_COMM_LEN each, NUL-terminated). */
void keylogger_init(struct keylogger_state *st, uint32_t k, const char (*allow)[KEYLOGGER_COMM_LEN], uint32_t nallow);
bool keylogger_allowed(const struct keylogger_state *st, const char *comm);
/* Is the consumer allowed: a rule allowed every keystroke it consumed
 * (keylogger_consume_rec); its name alone never does. */
bool keylogger_proc_allowed(const struct keylogger_proc *p);

/* The guest wrote @byte to port 0x60 (a keyboard command or a parameter). The
 * keyboard's reply is not keystrokes: ACK (+ 2 ID bytes after 0xF2 "get ID", + the
 * set number after 0xF0 0x00 "get scancode set", + 0xAA after 0xFF "reset");
 * those bytes are skipped until @tsc + @ttl. */
void keylogger_feed_out(struct keylogger_state *st, uint8_t byte, uint64_t tsc, uint64_t ttl);

/* The guest wrote @cmd to the i8042's command port 0x64 (issue 15). Sets st->cmd_watch:
 * from then on a keyboard byte is a controller reply only while one is pending —
 * 1 byte after 0x20..0x3f (read controller RAM: 0x20 = the command byte), 0xa9/0xaa/0xab
 * (tests), 0xc0 (input port), 0xd0 (output port), 0xe0 (test inputs), and after the
 * parameter of 0xd2/0xd3 (keyboard/AUX loop-back: the byte comes back as data; an AUX
 * byte ends 0xd3's) — until @tsc + @ttl. The next 0x60 write is this command's parameter after
 * 0x60..0x7f (write controller RAM), 0xd1..0xd4 and 0x90..0x93 (multiplexer). Any
 * other command cancels what the previous one expected. */
void keylogger_feed_cmd(struct keylogger_state *st, uint8_t cmd, uint64_t tsc, uint64_t ttl);
/* The guest wrote @byte to port 0x60 with status @status (read just before): a
 * controller command's parameter (keylogger_feed_cmd; without cmd_watch: status bit 3)
 * or a keyboard command (keylogger_feed_out). */
void keylogger_feed_data_out(struct keylogger_state *st, uint8_t status, uint8_t byte, uint64_t tsc, uint64_t ttl);

/* One byte the guest read from port 0x60 with status @status (read just before).
 * Not keystrokes: no output-buffer-full, AUX (mouse) bytes, controller replies
 * (a reply pending after a 0x64 command, keylogger_feed_cmd; before any command was
 * seen, status bit 3: the last write was a controller command), keyboard replies
 * (keylogger_feed_out), ACK/resend/echo bytes, break codes.
 * Returns true when it completed a keystroke (a make code), recorded in the
 * history with @tsc; @out (optional) gets the key. */
bool keylogger_feed_byte(struct keylogger_state *st, uint8_t status, uint8_t byte, uint64_t tsc, struct keylogger_key *out);

/* Classify a read buffer. Input: @n a multiple of 24 (struct input_event on
 * x86-64: 16-byte timeval, u16 type, u16 code, s32 value), every record's type
 * <= EV_MAX (0x1f), at least one EV_KEY. @codes (optional, @max entries) gets the
 * keycodes of the EV_KEY presses (value 1, code 1..255) in order; *npress their
 * number. Returns KEYLOGGER_DEV_INPUT or KEYLOGGER_DEV_NONE (not input records). */
#define KEYLOGGER_INPUT_EVENT_SIZE 24
#define KEYLOGGER_INPUT_EVENT_SIZE32 16   /* i386 (compat) readers: 8-byte timeval (evdev's input_event_compat) */
enum keylogger_dev keylogger_classify_input(const uint8_t *buf, size_t n, uint16_t *codes, size_t max, size_t *npress);
/* The same with records of @rec bytes (24, or 16 for a compat reader). */
enum keylogger_dev keylogger_classify_input_rec(const uint8_t *buf, size_t n, size_t rec, uint16_t *codes, size_t max,
						size_t *npress);

/* Result of one consumption. */
struct keylogger_verdict {
	enum keylogger_dev dev;         /* how the buffer was classified */
	uint32_t matched;        /* keystrokes newly consumed by this read */
	bool     report;         /* emit the `keylogger` event now (once per process) */
	bool     allowed_at_k;   /* an allowed process just reached K (noted, not reported) */
	struct keylogger_proc *proc;    /* the consumer's entry (NULL: not keyboard data) */
};

/* A read by (pid, tgid, comm) returned @n bytes (@buf: the first @have of them,
 * @have <= @n). Matches the data against the keystroke history after the
 * process's cursor and updates its count. Returns the classification. The reader's
 * terminal is unknown (keylogger_consume_rec with KEYLOGGER_TERM_UNKNOWN: nothing
 * is allowed). */
struct keylogger_verdict keylogger_consume(struct keylogger_state *st, int32_t pid, int32_t tgid, const char *comm,
			     const uint8_t *buf, size_t have, size_t n, uint64_t tsc);

/* The reader's terminal, read by ring -1 from the guest's tty structures at the read:
 * FG  its controlling terminal is a virtual console (tty<N>, where the keyboard goes)
 *     and its process group is that terminal's foreground process group;
 * OTHER  no controlling terminal, a background group, or not a virtual console;
 * UNKNOWN  the structures are unknown (inference) or unreadable. */
enum keylogger_term { KEYLOGGER_TERM_UNKNOWN = 0, KEYLOGGER_TERM_FG, KEYLOGGER_TERM_OTHER };
/* The rule (docs/MONITORS.md): keystrokes read from a tty are the intended
 * consumer's when @term is FG; from the input device only when @term is FG AND the
 * comm is in keylogger_allow= (a display server on its own console, identified by
 * more than its name); from the i8042 never. A process is allowed while every
 * keystroke it consumed was. The same as keylogger_consume for a reader whose input
 * records are @rec bytes (the read's ABI). A reader is (@tgid, @ident): @ident is what
 * the caller knows of it that a rename cannot change (ring -1: the guest's signal_struct,
 * else the group leader's task_struct; 0: tgid alone). Its comm is only remembered for the
 * report: a process that renames itself keeps its count (issue 15 item 5). */
struct keylogger_verdict keylogger_consume_rec(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
					       const char *comm,
					       const uint8_t *buf, size_t have, size_t n, size_t rec,
					       enum keylogger_term term, uint64_t tsc);
/* Is @name a virtual console's tty name ("tty" + 1..63): where the keyboard's keys go. */
bool keylogger_vt_name(const char *name, size_t len);
/* The virtual console number of @name ("tty7" -> 7), 0 if it is not one. */
unsigned keylogger_vt_number(const char *name, size_t len);
/* The reader's terminal from what ring -1 read (issue 15 item 5): @tty its controlling
 * terminal (0: none), @fg that terminal's foreground group, @own the reader's group (struct
 * pid pointers, compared only), @name the terminal's name, @fg_console the active VT's index
 * (the kernel's fg_console: 0 is tty1; -1 unknown). FG only when it is the foreground group
 * of a virtual console and that console is the active one (keys go to the active VT only). */
enum keylogger_term keylogger_judge_term(uint64_t tty, uint64_t fg, uint64_t own, const char *name, size_t len,
					 int32_t fg_console);
/* One evdev event the kernel copies to a reader (input_event_to_user(): every read path
 * of an evdev node — read, readv, preadv2, compat, io_uring's workers — passes it):
 * @type/@code/@value of the kernel's struct input_event. A key press or autorepeat of a
 * keyboard key (EV_KEY, value 1/2, code 1..255) is matched to the next keystroke after
 * the reader's input cursor with that keycode and counted as keylogger_consume_rec
 * counts an input read (allowed only for the foreground of the active console whose
 * comm is in keylogger_allow=). Other events: dev NONE. */
struct keylogger_verdict keylogger_consume_event(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
						 const char *comm, uint16_t type, uint16_t code, int32_t value,
						 enum keylogger_term term, uint64_t tsc);
/* One chunk (@n <= 256 bytes; the kernel copies <= 64 at a time) a tty handed a reader at the tty
 * copy point (keylogger_find_tty_copy: every read path of a tty, io_uring's workers included;
 * issue 15 item 5 gap A): classified and counted as the tty class of keylogger_consume_rec (the
 * same cursor; with st->tty_at_copy the read's return does not match tty data again); allowed
 * when @term is FG. Not typed keys: dev NONE. */
struct keylogger_verdict keylogger_consume_tty(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
					       const char *comm, const uint8_t *buf, size_t n, enum keylogger_term term,
					       uint64_t tsc);
/* Which terminal the reader opened (issue 15 item 5 gap B): @opened the tty it reads (the tty
 * copy point's; 0 unknown), @ctty its controlling terminal. A reader judged FG (the
 * foreground of the active console) that reads a tty other than its own terminal is OTHER
 * (another session's terminal; /dev/tty and /dev/tty0 name the same tty_struct). */
enum keylogger_term keylogger_judge_opened(enum keylogger_term term, uint64_t opened, uint64_t ctty);
/* A process read keystroke @seq from the i8042 itself (device "port"): counted once. */
struct keylogger_verdict keylogger_consume_port(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
						const char *comm, uint64_t seq, enum keylogger_term term, uint64_t tsc);

/* A returning system call, from its pt_regs words bx..cs (offsets 40..136, 13
 * words): is it a read that fills user memory, and where? 64-bit: read 0,
 * pread64 17, readv 19, preadv 295, preadv2 327 (buffer/iovec in si, count in dx);
 * x32 (bit 30): read, pread64, readv 515, preadv 534, preadv2 546 (compat iovecs);
 * @compat (i386 entry: int $0x80, sysenter, compat syscall): read 3, pread64 180,
 * readv 145, preadv 333, preadv2 378 (cx, dx; 32 bits; 8-byte iovecs). */
struct keylogger_read_args {
	uint64_t ptr;            /* buffer, or the iovec array */
	uint64_t cnt;            /* iovec count (iov) */
	bool     iov, iov32;     /* ptr is an iovec array; of compat {u32 base, u32 len} */
	uint8_t  rec;            /* input_event size for this ABI */
};
bool keylogger_read_call(const uint64_t *pr, bool compat, struct keylogger_read_args *out);
/* The non-empty iovecs of @iov (@niov entries, compat layout if @iov32) up to
 * @total bytes (the read's result), as at most @max spans. Returns the count. */
struct keylogger_span { uint64_t base, len; };
size_t keylogger_iov_gather(const uint8_t *iov, size_t niov, bool iov32, uint64_t total, struct keylogger_span *spans,
			    size_t max);
/* Consumers that read the input device within @max_age TSC ticks before @now and
 * have not read the newest keystroke yet (the window stays open for them: late
 * reads are attributed by sequence, docs/MONITORS.md). */
uint32_t keylogger_lagging(const struct keylogger_state *st, uint64_t now, uint64_t max_age);

/* Keystrokes with seq > @after_seq that no process consumed yet. */
uint32_t keylogger_unconsumed(const struct keylogger_state *st, uint64_t after_seq);
/* The keystroke with sequence number @seq, NULL if it left the history. */
const struct keylogger_keystroke *keylogger_find_key(const struct keylogger_state *st, uint64_t seq);

/* ---- the syscall exit site (monitors/keylogger_site.c) --------------------------
 * do_syscall_64 stores the dispatch result into pt_regs->ax and then calls
 * syscall_exit_to_user_mode(regs):
 *     call x64_sys_call | call *sys_call_table(,%rax,8)
 *     mov  %rax,0x50(%rbx)            (pt_regs->ax, offset 80)
 *     mov  %rbx,%rdi
 *     call syscall_exit_to_user_mode  <- the site: a `call rel32` probes can emulate
 * Found from entry_SYSCALL_64: its direct calls after `mov %rsp,%rdi` are the
 * do_syscall_64 candidates. Reads go through @read (0 on success). */
#define KEYLOGGER_PTREGS_AX      80
#define KEYLOGGER_PTREGS_DX      96
#define KEYLOGGER_PTREGS_SI      104
#define KEYLOGGER_PTREGS_DI      112
#define KEYLOGGER_PTREGS_ORIG_AX 120
struct keylogger_site_reader {
	void *ctx;
	int (*read)(void *ctx, uint64_t va, void *buf, uint32_t len);
};
/* @entry: entry_SYSCALL_64; @dispatch: x64_sys_call (0 if none); @table:
 * sys_call_table (0 if unknown). Returns 0 and the site's address in *site (and
 * do_syscall_64 in *dsc), or -1 with a reason in @why. Bounded: 200 instructions
 * of the entry, 4 candidates, 96 instructions of each. */
int keylogger_find_exit_site(const struct keylogger_site_reader *rd, uint64_t entry, uint64_t dispatch, uint64_t table,
		      uint64_t *site, uint64_t *dsc, char *why, size_t whylen);
/* The same, with everything the probe needs (issue 15 item 5, the 5.10 shapes). The dispatch
 * is `call x64_sys_call` (6.x), `call *table(,%rax,8)`, or the handler loaded from the table
 * (`mov table(,%rax,8),%reg`) and called through `call *%reg` or a retpoline thunk for %reg
 * (`call __x86_indirect_thunk_<reg>`: 5.10; recognised by its code, built or patched by
 * alternatives: `call 1f; pause; lfence; ...; 1: mov %reg,(%rsp); ret`, `lfence; jmp *%reg`,
 * `jmp *%reg`). After the result store the transfer to the exit function is a `call rel32`
 * (6.x) or a tail jump (5.10: `mov %rbp,%rdi; pop %rbp; jmp syscall_exit_to_user_mode`: the
 * frame gone, RDI = the pt_regs register of the store, the target neither back in the scanned
 * code nor a `ret`). Bounded as above, 12 instructions per thunk, 3 hops per tail jump. */
struct keylogger_exit {
	uint64_t site;           /* the call or tail jump to the exit function in do_syscall_64 */
	uint64_t dsc;            /* do_syscall_64 */
	uint64_t exit_fn;        /* its target: syscall_exit_to_user_mode */
	uint64_t ret64;          /* the return address on the stack at exit_fn's entry when a 64-bit
				  * syscall returns: after the site (a call), or after entry_SYSCALL_64's
				  * call to do_syscall_64 (a tail jump) */
	bool     tail;           /* the site is a tail jump (not probe-able itself: not emulated) */
};
int keylogger_find_exit(const struct keylogger_site_reader *rd, uint64_t entry, uint64_t dispatch, uint64_t table,
			struct keylogger_exit *out, char *why, size_t whylen);

/* ---- the tty copy point (monitors/keylogger_site.c; issue 15 item 5) ----------------
 * Every read of a tty — read(2), readv, io_uring's IORING_OP_READ in an io-wq worker, any
 * kernel-side reader — runs the tty's read_iter, tty_read() (6.x; Debian's 5.10 has the same
 * backport), which loops:
 *     n = ld->ops->read(tty, file, kernel_buf, size, &cookie, offset);   (indirect call)
 *     copy_to_iter(kernel_buf, n, to);            -> call _copy_to_iter    <- the site
 * kernel_buf is a 64-byte local (on the reader's kernel stack). A probe at the site sees
 * every chunk a tty hands a reader (RDI = kernel_buf, RSI = n), in the reader's context,
 * including a reader already blocked in the line discipline when the probe is placed (it
 * returns through the site). The tty and the file are the indirect call's first two
 * arguments; where they live at the site (a callee-saved register or a slot of the frame)
 * is read from the code. Found by decoding tty_read (inferred from kallsyms): the first
 * direct call C whose RDI comes from where another call Y's RDX came from (kernel_buf),
 * with RSI and RDX of C from a register or frame slot (not the constant of
 * __check_object_size), Y's RDI and RSI likewise (tty, file), and neither location written
 * (nor RSP moved) between Y and C. Bounded: 400 instructions. */
#define KEYLOGGER_TTY_CHUNK_MAX 64   /* tty_read copies at most 64 bytes at a time (its kernel_buf) */
enum keylogger_loc_kind { KEYLOGGER_LOC_NONE = 0, KEYLOGGER_LOC_REG, KEYLOGGER_LOC_STACK };
struct keylogger_loc {
	uint8_t kind;            /* enum keylogger_loc_kind */
	uint8_t reg;             /* REG: x86 register number (rbx 3, rbp 5, r12..r15 12..15) */
	int32_t disp;            /* STACK: [rsp + disp] at the site */
};
struct keylogger_tty_site {
	uint64_t site;           /* the `call _copy_to_iter` (a call rel32) */
	uint64_t ldisc_call;     /* the line discipline's read call (Y) */
	struct keylogger_loc tty, file;
};
int keylogger_find_tty_copy(const struct keylogger_site_reader *rd, uint64_t tty_read, struct keylogger_tty_site *out,
			    char *why, size_t whylen);

/* ---- io-wq kernel threads (monitors/keylogger_site.c; issue 15 item 5 B) -------------------
 * On 5.10 (before 5.12) io_uring's blocking reads run in io-wq workers (`io_wqe_worker-N`):
 * kernel threads (children of kthreadd, pid 2) that borrow the submitting process's mm
 * (kthread_use_mm) while they work. Such a reader is attributed to the process that owns that
 * mm: found by a bounded walk of the process list (init_task.tasks, at most KEYLOGGER_OWNER_WALK
 * entries, every read checked, kernel pointers only), cross-checked: the one process (group
 * leader; not a kernel thread: neither it nor its real parent is kthreadd) whose mm is the
 * worker's; two such processes (CLONE_VM without CLONE_THREAD), none, an unreadable entry or a
 * list longer than the bound give none: the caller then reports the worker itself (a documented
 * `kthread` reader). */
#define KEYLOGGER_KTHREADD_PID 2
#define KEYLOGGER_OWNER_WALK   1024
struct keylogger_task_layout {
	uint64_t init_task;
	uint32_t tasks, mm, pid, tgid, real_parent;   /* task_struct offsets (inferred) */
};
struct keylogger_owner {
	uint64_t task;           /* the owner's group leader (task_struct) */
	int32_t  tgid;
	unsigned steps;          /* list entries visited */
	bool     ambiguous;      /* two processes share the mm */
};
/* Is @task a kernel thread (it or its real parent is kthreadd) with an mm? 1 and *mm, 0 (not a
 * kernel thread, or no mm), -1 unreadable. */
int keylogger_kthread_reader(const struct keylogger_site_reader *rd, const struct keylogger_task_layout *l,
			     uint64_t task, uint64_t *mm);
/* The process owning @mm, other than @self (the worker). 0 and @out, else -1. */
int keylogger_mm_owner(const struct keylogger_site_reader *rd, const struct keylogger_task_layout *l, uint64_t mm,
		       uint64_t self, struct keylogger_owner *out);

/* ---- options (monitors/keylogger_options.c; docs/OPTIONS.md) ---- */
struct keylogger_config {
	uint32_t k;                               /* keylogger_k=, 1..100000; default 8 */
	uint32_t nr_allow;                        /* keylogger_allow= */
	char     allow[KEYLOGGER_MAX_ALLOW][KEYLOGGER_COMM_LEN];
};
struct hv_opt_owner;
extern const struct hv_opt_owner keylogger_options;

/* ---- ring -1 (monitors/keylogger.c): the registry entry's operations. With
 * monitors=keylogger it subscribes to port 0x60 (vmm/intercept.h); without it
 * nothing is trapped. ---- */
struct hv_monitor_ops;
extern struct hv_monitor_ops keylogger_ops;

#endif
