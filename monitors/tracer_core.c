/*
 * tracer_core — pure part of the process tracer (monitors/tracer.h): exec
 * argument collection, clone flags, pending-return table. Freestanding and
 * hosted (tests/unit/test_tracer.c). All loops bounded; every guest pointer
 * goes through the reader.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "monitors/tracer.h"

void tracer_fill_exec(struct hv_event *ev, const struct tracer_reader *rd, uint64_t filename,
		      uint64_t argv)
{
	tracer_fill_exec_ptrs(ev, rd, filename, argv, 8);
}

void tracer_fill_exec_ptrs(struct hv_event *ev, const struct tracer_reader *rd, uint64_t filename,
			   uint64_t argv, unsigned ptr_size)
{
	struct hv_ev_exec *x = &ev->u.exec;
	int rc = rd->read_str(rd->ctx, filename, x->filename, sizeof(x->filename));
	if (rc < 0)
		x->flags |= HV_EXECF_READ_FAIL;
	else if (rc > 0)
		x->flags |= HV_EXECF_PATH_TRUNC;
	if (!argv)
		return;
	if (ptr_size != 4)
		ptr_size = 8;
	for (unsigned i = 0; i <= HV_ARGV_MAX; i++) {
		uint64_t p = 0;                       /* little-endian: a 4-byte read fills the low half */
		if (rd->read(rd->ctx, argv + (uint64_t)ptr_size * i, &p, ptr_size)) {
			x->flags |= HV_EXECF_READ_FAIL;
			return;
		}
		if (!p)
			return;
		if (i == HV_ARGV_MAX) {
			x->flags |= HV_EXECF_ARGV_TRUNC;   /* a 17th argument exists */
			return;
		}
		char a[HV_ARG_LEN];
		rc = rd->read_str(rd->ctx, p, a, sizeof(a));
		if (rc < 0) {
			x->flags |= HV_EXECF_READ_FAIL;
			a[0] = 0;
		} else if (rc > 0) {
			x->flags |= HV_EXECF_ARGV_TRUNC;
		}
		hv_exec_add_arg(ev, a, sizeof(a));
	}
}

/* One bounded copy of the top of the new stack (argc, argv[], envp[], auxv sit
 * right above sp), and one of the strings (issue 16: the exec return reads what
 * the event needs with two copies): later reads inside them are served from the
 * copies, others go to the guest. Each copy stops at the end of its first page
 * (sp's page is mapped; so is argv[0]'s, the lowest string: create_elf_tables).
 * With a reader's view (issue 16, x16) the two "copies" are the guest's pages
 * read in place: no 2 KiB copied; every use is bounded by the window's length,
 * never by the bytes read (the guest may change them meanwhile). */
#define STACK_WIN 1024
#define STR_WIN   1024
struct stack_win {
	const struct tracer_reader *rd;
	uint64_t va;
	uint32_t len;
	const uint8_t *b;             /* the window: buf, or the reader's view */
	uint64_t sva;                 /* the strings' window: from argv[0] */
	uint32_t slen;
	const char *s;                /* sbuf, or the reader's view */
	uint8_t buf[STACK_WIN];
	char sbuf[STR_WIN];
};

/* The @psz-byte (4 or 8) little-endian word at @va: from the copy without a
 * call when it lies inside, else one read from the guest. */
static inline int win_word(const struct stack_win *w, uint64_t va, unsigned psz, uint64_t *v)
{
	if (va >= w->va && w->len >= psz && va - w->va <= w->len - psz) {
		const uint8_t *p = w->b + (va - w->va);
		if (psz == 8) {
			__builtin_memcpy(v, p, 8);
		} else {
			uint32_t x;
			__builtin_memcpy(&x, p, 4);
			*v = x;
		}
		return 0;
	}
	*v = 0;
	return w->rd->read(w->rd->ctx, va, v, psz);
}

static int win_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	struct stack_win *w = ctx;
	if (len == 8 || len == 4) {                  /* argv[] slots */
		uint64_t v;
		if (win_word(w, va, len, &v))
			return -1;
		__builtin_memcpy(buf, &v, len == 8 ? 8 : 4);
		return 0;
	}
	if (va >= w->va && len <= w->len && va - w->va <= w->len - len) {
		memcpy(buf, w->b + (va - w->va), len);
		return 0;
	}
	return w->rd->read(w->rd->ctx, va, buf, len);
}

/* A string from the strings' copy when its end (the NUL, or @max - 1 bytes: cut,
 * returns 1 as the reader does) lies inside it; else the guest reader. The
 * copy out is the scan's own loop: one pass, and what is returned is what
 * was scanned even if the guest changes a viewed page meanwhile. */
static int win_str(void *ctx, uint64_t va, char *buf, uint32_t max)
{
	struct stack_win *w = ctx;
	if (max && va >= w->sva && va - w->sva < w->slen) {
		const char *p = w->s + (va - w->sva);
		uint32_t room = w->slen - (uint32_t)(va - w->sva), lim = max - 1 < room ? max - 1 : room, i;
		char c = 1;
		for (i = 0; i < lim && (c = p[i]) != 0; i++)
			buf[i] = c;
		/* the NUL, or no NUL in max - 1 bytes: cut (as gmem_read_str) */
		if (i < lim || lim == max - 1) {
			buf[i] = 0;
			return i < lim ? 0 : 1;
		}
	}
	return w->rd->read_str(w->rd->ctx, va, buf, max);
}

/* The window of @n bytes at @va (one page): the reader's view, else a copy
 * into @buf. The length read, 0 when neither worked. */
static uint32_t win_fill(const struct tracer_reader *rd, uint64_t va, uint32_t n, uint8_t *buf,
			 const uint8_t **out)
{
	const uint8_t *p = rd->view ? rd->view(rd->ctx, va, n) : NULL;
	if (p) {
		*out = p;
		return n;
	}
	if (rd->read(rd->ctx, va, buf, n))
		return 0;
	*out = buf;
	return n;
}

/* The new image's initial stack (fs/binfmt_elf.c create_elf_tables): argc,
 * argv[argc], NULL, envp[], NULL, auxv pairs; every slot is @psz bytes (8, or 4
 * with compat types for a 32-bit image). The scans of envp[] and auxv load
 * words in the window with one range check (@last: the highest start of a
 * whole word in it); the rest goes through win_word. */
static inline __attribute__((always_inline)) int
exec_from_stack(struct hv_event *ev, const struct tracer_reader *grd, uint64_t sp,
			   unsigned psz)
{
	struct stack_win w;
	w.rd = grd;
	w.va = sp;
	w.len = w.slen = 0;
	w.sva = 0;
	w.b = w.buf;
	w.s = w.sbuf;
	uint32_t n = 4096 - (uint32_t)(sp & 4095);
	n = n < STACK_WIN ? n : STACK_WIN;
	if (psz == 4 && (sp >> 32))
		return -1;                           /* a 32-bit task's stack is below 4 GiB */
	w.len = win_fill(grd, sp, n, w.buf, &w.b);
	/* no whole word in the window (nothing read): every word from the reader */
	bool in = w.len >= psz;
	uint64_t last = in ? sp + (w.len - psz) : 0;
#define WORD(va, out) (in && (va) >= sp && (va) <= last ? \
	((out) = psz == 8 ? ({ uint64_t x_; __builtin_memcpy(&x_, w.b + ((va) - sp), 8); x_; }) \
			  : ({ uint32_t x_; __builtin_memcpy(&x_, w.b + ((va) - sp), 4); (uint64_t)x_; }), 0) \
	: win_word(&w, (va), psz, &(out)))
	uint64_t argc = 0, v, execfn = 0, a0 = 0;
	if (WORD(sp, argc) || argc > 0x100000)
		return -1;
	uint64_t p = sp + psz * (argc + 2);          /* past argc, argv[], NULL */
	unsigned i;
	for (i = 0; i < 4096; i++, p += psz) {       /* envp[] up to its NULL */
		if (WORD(p, v))
			return -1;
		if (!v)
			break;
	}
	if (i == 4096)
		return -1;
	p += psz;
	/* auxv: (type, value) up to AT_EXECFN (31), the only entry read; at most
	 * 64 pairs or AT_NULL */
	for (i = 0; i < 64; i++, p += 2 * psz) {
		uint64_t type, val;
		if (WORD(p, type))
			return -1;
		if (type == 0)
			break;
		if (type == 31) {
			if (WORD(p + psz, val))
				return -1;
			execfn = val;
			break;
		}
	}
#undef WORD
	if (!execfn)
		return -1;
	/* the strings: argv[0] is the lowest (argv, envp, then the file name above) */
	if (argc && !win_word(&w, sp + psz, psz, &a0) && a0) {
		uint32_t sn = 4096 - (uint32_t)(a0 & 4095);
		sn = sn < STR_WIN ? sn : STR_WIN;
		const uint8_t *sp8 = NULL;
		w.slen = win_fill(grd, a0, sn, (uint8_t *)w.sbuf, &sp8);
		if (w.slen) {
			w.sva = a0;
			w.s = (const char *)sp8;
		}
	}
	const struct tracer_reader wrd = { .ctx = &w, .read = win_read, .read_str = win_str };
	struct hv_ev_exec *x = &ev->u.exec;
	x->flags &= (uint8_t)~(HV_EXECF_ARGV_TRUNC | HV_EXECF_PATH_TRUNC | HV_EXECF_READ_FAIL);
	/* replace filename and argv: clear what an earlier fill left (nothing
	 * after the tracer's ev_init, the usual case: no 1 KiB memset per hit) */
	if (x->argv_len || x->argc)
		memset(x->argv, 0, sizeof(x->argv));
	if (x->filename[0])
		memset(x->filename, 0, sizeof(x->filename));
	x->argc = 0;
	x->argv_len = 0;
	tracer_fill_exec_ptrs(ev, &wrd, execfn, sp + psz, psz);
	return 0;
}

int tracer_exec_from_stack(struct hv_event *ev, const struct tracer_reader *rd, uint64_t sp)
{
	return exec_from_stack(ev, rd, sp, 8);
}

int tracer_clone_flags(enum tracer_sc sc, const struct tracer_reader *rd, uint64_t di,
		       uint64_t *flags)
{
	switch (sc) {
	case TR_CLONE:
		*flags = di;
		return 0;
	case TR_CLONE3:
		/* struct clone_args { u64 flags; ... } at the user pointer in di */
		return rd->read(rd->ctx, di, flags, 8) ? -1 : 0;
	case TR_FORK:
		*flags = 0x11;                 /* SIGCHLD, as kernel_clone for fork() */
		return 0;
	case TR_VFORK:
		*flags = 0x4111;               /* CLONE_VFORK | CLONE_VM | SIGCHLD */
		return 0;
	default:
		return -1;
	}
}

struct tracer_pending *tracer_pending_get(struct tracer_pending *tab, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!tab[i].used) {
			/* the fields, not the 1.1 KiB event: an exec clears that itself
			 * (ev_init), a fork-like call never uses it */
			tracer_pending_claim(&tab[i]);
			return &tab[i];
		}
	return NULL;
}

struct tracer_pending *tracer_pending_find(struct tracer_pending *tab, unsigned n, uint64_t task,
					   uint64_t rsp, uint64_t site)
{
	for (unsigned i = 0; i < n; i++)
		if (tab[i].used && tab[i].task == task && tab[i].ret_rsp == rsp && tab[i].site == site)
			return &tab[i];
	return NULL;
}

struct tracer_pending *tracer_pending_match(struct tracer_pending *tab, unsigned n, uint64_t task,
					    uint64_t rsp, uint64_t site, struct tracer_pending **free)
{
	*free = NULL;
	for (unsigned i = 0; i < n; i++) {
		if (!tab[i].used) {
			if (!*free)
				*free = &tab[i];
		} else if (tab[i].task == task && tab[i].ret_rsp == rsp && tab[i].site == site) {
			return &tab[i];
		}
	}
	return NULL;
}

void tracer_pending_claim(struct tracer_pending *p)
{
	/* the fields, not the 1.1 KiB event (as tracer_pending_get) */
	memset(p, 0, offsetof(struct tracer_pending, ev));
	p->used = true;
}

void tracer_exit_status(struct hv_ev_exit *x, uint64_t status, bool kthread)
{
	uint32_t st = (uint32_t)status;              /* task->exit_code is an int */
	x->status = (int32_t)st;
	x->code = (int32_t)((st >> 8) & 0xff);
	x->signal = (uint8_t)(st & 0x7f);
	x->flags = 0;
	if (st & 0x80)
		x->flags |= HV_EXITF_CORE;
	if (kthread)
		x->flags |= HV_EXITF_KTHREAD;
}

int tracer_exec_from_stack32(struct hv_event *ev, const struct tracer_reader *rd, uint64_t sp)
{
	return exec_from_stack(ev, rd, sp, 4);
}

uint8_t tracer_abi(bool kthread, bool regs_ok, uint64_t cs, uint64_t orig_ax, int32_t *syscall)
{
	*syscall = -1;
	if (kthread)
		return HV_ABI_KERNEL;
	if (!regs_ok)
		return HV_ABI_UNKNOWN;
	switch (cs & 0xffff) {
	case USER_CS_64:
		*syscall = (int32_t)orig_ax;
		return (orig_ax & X32_SYSCALL_BIT) && (int64_t)orig_ax > 0 ? HV_ABI_X32 : HV_ABI_X64;
	case USER_CS_32:
		*syscall = (int32_t)orig_ax;
		return HV_ABI_I386;
	case 0:
		return HV_ABI_KERNEL;            /* a user worker / io thread: zeroed registers */
	default:
		return HV_ABI_UNKNOWN;
	}
}

uint8_t tracer_abi_check_compat(uint8_t abi, bool is_compat)
{
	if (abi == HV_ABI_X64 && is_compat)
		return HV_ABI_I386;          /* int $0x80 from 64-bit code */
	bool compat = abi == HV_ABI_I386 || abi == HV_ABI_X32;
	if (abi == HV_ABI_X64 || compat)
		return compat == is_compat ? abi : HV_ABI_UNKNOWN;
	return abi;
}

uint8_t tracer_abi_fork(uint8_t abi, int32_t syscall)
{
	if (abi == HV_ABI_X64 && (syscall == 2 || syscall == 120 || syscall == 190))
		return HV_ABI_I386;          /* int $0x80 from 64-bit code: __ia32_sys_fork/clone/vfork */
	return abi;
}

uint8_t tracer_abi_exit(uint8_t abi, bool status_ok, uint32_t status)
{
	if (!status_ok || !(status & TRACER_TS_COMPAT))
		return abi;
	if (abi == HV_ABI_X64 || abi == HV_ABI_I386)
		return HV_ABI_I386;          /* inside an i386 syscall: int $0x80 from 64-bit code too */
	return abi == HV_ABI_X32 ? HV_ABI_UNKNOWN : abi;
}

bool tracer_lost_reported(uint64_t n)
{
	return n && !(n & (n - 1));
}

int tracer_exec_uptr(uint8_t abi, int32_t syscall, const struct tracer_uregs *u, uint64_t *fn)
{
	switch (abi) {
	case HV_ABI_X64:
		if (syscall == 59 || syscall == 322) {       /* execve(fn, ...), execveat(fd, fn, ...) */
			*fn = syscall == 59 ? u->di : u->si;
			return 0;
		}
		return -1;
	case HV_ABI_X32:
		if (syscall == (int32_t)(X32_SYSCALL_BIT | 520) || syscall == (int32_t)(X32_SYSCALL_BIT | 545)) {
			*fn = (syscall & 0xfff) == 520 ? u->di : u->si;
			return 0;
		}
		return -1;
	case HV_ABI_I386:
		if (syscall == 11 || syscall == 358) {       /* execve(ebx, ...), execveat(ebx, ecx, ...) */
			*fn = (uint32_t)(syscall == 11 ? u->bx : u->cx);
			return 0;
		}
		return -1;
	default:
		return -1;
	}
}
