/*
 * hvmon event core — names and bounded-copy helpers for producers.
 * Freestanding: no libc calls beyond what the compiler emits.
 */
#include "events/event.h"

static const char *const type_names[HV_EV__COUNT] = {
	[HV_EV_NONE]           = NULL,
	[HV_EV_EXEC]           = "exec",
	[HV_EV_FORK]           = "fork",
	[HV_EV_EXIT]           = "exit",
	[HV_EV_HANG]           = "hang",
	[HV_EV_HANG_RECOVERED] = "hang_recovered",
	[HV_EV_RET2USR]        = "ret2usr",
	[HV_EV_CR4_TAMPER]     = "cr4_tamper",
	[HV_EV_KEYLOGGER]      = "keylogger",
	[HV_EV_HEARTBEAT]      = "heartbeat",
	[HV_EV_DROPS]          = "drops",
	[HV_EV_INFERENCE]      = "inference",
	[HV_EV_MONITOR_STATE]  = "monitor_state",
	[HV_EV_BOOT_CONFIG]    = "boot_config",
	[HV_EV_DMA_FAULT]      = "dma_fault",
	[HV_EV_DENIED]         = "denied",
	[HV_EV_TRACE_LOST]     = "trace_lost",
	[HV_EV_PROBE_TAMPER]   = "probe_tamper",
	[HV_EV_SYSCALL_HOOK]   = "syscall_hook",
	[HV_EV_CR0_WP]         = "cr0_wp",
	[HV_EV_IDT_WRITE]      = "idt_write",
	[HV_EV_KERNEL_TEXT_WRITE] = "kernel_text_write",
};

static const char *const monitor_names[HV_EMON__COUNT] = {
	[HV_EMON_CORE]    = "hvmon",
	[HV_EMON_TRACER]    = "proctrace",
	[HV_EMON_HANG]    = "hang",
	[HV_EMON_RET2USR] = "ret2usr",
	[HV_EMON_KEYLOGGER]  = "keylogger",
	[HV_EMON_INTEGRITY]  = "integrity",
};

const char *hv_event_type_name(unsigned type)
{
	return type < HV_EV__COUNT ? type_names[type] : NULL;
}

const char *hv_monitor_name(unsigned mon)
{
	return mon < HV_EMON__COUNT ? monitor_names[mon] : NULL;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int hv_event_type_from_name(const char *name)
{
	for (unsigned i = 1; i < HV_EV__COUNT; i++)
		if (type_names[i] && str_eq(type_names[i], name))
			return (int)i;
	return -1;
}

bool hv_strlcpy_bounded(char *dst, size_t dstsz, const char *src, size_t n)
{
	size_t i = 0;

	if (!dstsz)
		return n && src && src[0];
	if (src) {
		for (; i < n && src[i]; i++) {
			if (i + 1 >= dstsz) {
				dst[i] = '\0';
				return true;
			}
			dst[i] = src[i];
		}
	}
	dst[i] = '\0';
	return false;
}

void hv_event_set_task(struct hv_event *ev, int32_t pid, int32_t tgid,
		       const char *comm, size_t comm_n)
{
	ev->hdr.flags |= HV_EVF_TASK;
	ev->hdr.pid = pid;
	ev->hdr.tgid = tgid;
	hv_strlcpy_bounded(ev->hdr.comm, sizeof(ev->hdr.comm), comm, comm_n);
}

void hv_exec_add_arg(struct hv_event *ev, const char *arg, size_t len)
{
	struct hv_ev_exec *x = &ev->u.exec;
	size_t room, i;

	if (x->argc >= HV_ARGV_MAX || x->argv_len >= HV_ARGV_BYTES) {
		x->flags |= HV_EXECF_ARGV_TRUNC;
		return;
	}
	room = HV_ARGV_BYTES - x->argv_len;        /* includes the NUL */
	if (room > HV_ARG_LEN)
		room = HV_ARG_LEN;
	for (i = 0; i < len && arg && arg[i]; i++) {
		if (i + 1 >= room) {
			x->flags |= HV_EXECF_ARGV_TRUNC;
			break;
		}
		x->argv[x->argv_len + i] = arg[i];
	}
	x->argv[x->argv_len + i] = '\0';
	x->argv_len += (uint16_t)(i + 1);
	x->argc++;
}

const char *hv_exec_arg(const struct hv_event *ev, unsigned idx)
{
	const struct hv_ev_exec *x = &ev->u.exec;
	unsigned off = 0, n = 0;

	if (idx >= x->argc || x->argv_len > HV_ARGV_BYTES)
		return NULL;
	while (off < x->argv_len) {
		if (n == idx)
			return &x->argv[off];
		while (off < x->argv_len && x->argv[off])
			off++;
		off++;
		n++;
	}
	return NULL;
}

static const char *const abi_names[HV_ABI__COUNT] = {
	[HV_ABI_X64] = "x64", [HV_ABI_I386] = "i386", [HV_ABI_X32] = "x32",
	[HV_ABI_KERNEL] = "kernel", [HV_ABI_UNKNOWN] = "unknown",
};

const char *hv_abi_name(unsigned abi)
{
	return abi < HV_ABI__COUNT ? abi_names[abi] : NULL;
}
