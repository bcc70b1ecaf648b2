/*
 * Network self-test kernel: runs hvmon's real network code — event core,
 * wire protocol (mbedTLS), lwIP, PCI enumeration, e1000 driver and
 * hvnet_setup/hvnet_tick — on bare metal in Bochs (no hvmon core, no VMX),
 * against Bochs' e1000 + slirp, so the host-side hvmon-collect receives the
 * events. Multiboot2 command line: collector=IP:PORT key=HEX [ip=...]
 * [events=N] [net=BB:DD.F]. Console = COM1: markers "NETTEST: ..." and the
 * console sink's JSON lines. Ends Bochs by writing "Shutdown" to port 0x8900.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "events/event.h"
#include "drivers/net/hvnet.h"
#include "drivers/net/hvnet_setup.h"

#define TSC_PER_MS 200000ull     /* Bochs: TSC follows instructions; ips=200M */

/* ---- the few libc functions lwIP/mbedTLS/the event core need ---- */
void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *a = d; const uint8_t *b = s;
	while (n--) *a++ = *b++;
	return d;
}
void *memmove(void *d, const void *s, size_t n)
{
	uint8_t *a = d; const uint8_t *b = s;
	if (a < b) while (n--) *a++ = *b++;
	else { a += n; b += n; while (n--) *--a = *--b; }
	return d;
}
void *memset(void *d, int c, size_t n)
{
	uint8_t *a = d;
	while (n--) *a++ = (uint8_t)c;
	return d;
}
int memcmp(const void *x, const void *y, size_t n)
{
	const uint8_t *a = x, *b = y;
	for (; n; n--, a++, b++) if (*a != *b) return *a - *b;
	return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) { if (*a != *b || !*a) return (unsigned char)*a - (unsigned char)*b; }
	return 0;
}
int atoi(const char *s) { int v = 0; while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0'); return v; }

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t)hi << 32 | lo; }

static void serial_init(void)
{
	outb(0x3f9, 0); outb(0x3fb, 0x80); outb(0x3f8, 1); outb(0x3f9, 0);
	outb(0x3fb, 3); outb(0x3fa, 0xc7); outb(0x3fc, 3);
}
static void putc_(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++) ;
	outb(0x3f8, (uint8_t)c);
}
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void putu(uint64_t v)
{
	char t[24]; int n = 0;
	do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
	while (n) putc_(t[--n]);
}
static void console_write(void *ctx, const char *s, size_t n) { while (n--) putc_(*s++); }

static uint64_t tsc0;
static uint32_t now_ms(void) { return (uint32_t)((rdtsc() - tsc0) / TSC_PER_MS); }
static uint64_t clock_tsc(void) { return rdtsc(); }
static uint32_t rnd_state;
static uint32_t rand32(void)
{
	uint32_t x = rnd_state ^ (uint32_t)rdtsc();
	x ^= x << 13; x ^= x >> 17; x ^= x << 5;
	return rnd_state = x * 2654435761u + 1;
}
static void delay_us(unsigned us)
{
	uint64_t end = rdtsc() + (uint64_t)us * (TSC_PER_MS / 1000);
	while (rdtsc() < end) ;
}
static volatile void *map_mmio(uint64_t phys, uint64_t size) { return (volatile void *)(uintptr_t)phys; }
static uint64_t v2p(const void *p) { return (uint64_t)(uintptr_t)p; }

/* ---- multiboot2 command line: key=value words ---- */
extern uint64_t mb2_info;
static char cmdline[1024];
static const char *opt(const char *key)
{
	size_t kl = strlen(key);
	for (char *p = cmdline; *p; ) {
		while (*p == ' ') p++;
		char *w = p;
		while (*p && *p != ' ') p++;
		if ((size_t)(p - w) > kl && !strncmp(w, key, kl) && w[kl] == '=') {
			static char vals[8][256];
			static int vi;
			char *v = vals[vi++ & 7];
			size_t n = (size_t)(p - w) - kl - 1;
			if (n > 255) n = 255;
			memcpy(v, w + kl + 1, n);
			v[n] = 0;
			return v;
		}
	}
	return NULL;
}
static void read_cmdline(void)
{
	uint8_t *mbi = (uint8_t *)(uintptr_t)(uint32_t)mb2_info;
	uint32_t total = *(uint32_t *)mbi;
	for (uint32_t off = 8; off + 8 <= total; ) {
		uint32_t type = *(uint32_t *)(mbi + off), size = *(uint32_t *)(mbi + off + 4);
		if (type == 0) break;
		if (type == 1) {
			size_t n = size - 8 < sizeof(cmdline) - 1 ? size - 8 : sizeof(cmdline) - 1;
			memcpy(cmdline, mbi + off + 8, n);
			cmdline[n] = 0;
		}
		off += (size + 7) & ~7u;
	}
}

static _Alignas(8) char ringmem[HV_EVENT_RING_SLOTS * sizeof(struct hv_event)];
static struct hv_console_sink cons;

static void shutdown(void)
{
	const char *s = "Shutdown";
	while (*s) outb(0x8900, (uint8_t)*s++);
	for (;;) __asm__ volatile("cli; hlt");
}

static void tick_for(uint32_t ms)
{
	uint32_t end = now_ms() + ms;
	while ((int32_t)(now_ms() - end) < 0) {
		hvnet_tick();
		hv_event_drain(0);
	}
}

/* exec/fork/exit triples with hostile strings; event i has pid 1000+i.
 * drain=false: nothing drains while producing, so the 256-slot ring
 * overflows and the event core must count and report the drops. */
static void workload(unsigned first, unsigned n, bool drain)
{
	for (unsigned i = first; i < first + n; i++) {
		struct hv_event *ev;
		unsigned kind = i % 3;
		/* drained every 64 events: the 256-slot ring never overflows here */
		ev = hv_event_reserve(0, kind == 0 ? HV_EV_EXEC : kind == 1 ? HV_EV_FORK : HV_EV_EXIT,
				      HV_EMON_TRACER);
		if (!ev) {
			if (drain)
				puts_("NETTEST: unexpected ring overflow\n");
			continue;
		}
		char comm[16] = "wl-0000";
		comm[3] = (char)('0' + i / 1000 % 10); comm[4] = (char)('0' + i / 100 % 10);
		comm[5] = (char)('0' + i / 10 % 10); comm[6] = (char)('0' + i % 10);
		hv_event_set_task(ev, (int32_t)(1000 + i), (int32_t)(1000 + i), comm, sizeof(comm));
		if (kind == 0) {
			ev->u.exec.ppid = 1;
			ev->u.exec.flags = HV_EXECF_OK;
			hv_strlcpy_bounded(ev->u.exec.filename, HV_PATH_LEN, "/bin/with space \"q\"\n", 64);
			hv_exec_add_arg(ev, comm, 16);
			hv_exec_add_arg(ev, "--arg=\x01\xff", 16);
		} else if (kind == 1) {
			ev->u.fork.parent_pid = (int32_t)(1000 + i);
			ev->u.fork.child_pid = (int32_t)(2000 + i);
			ev->u.fork.kind = HV_FORK_PROCESS;
			ev->u.fork.clone_flags = 0x1200011;
		} else {
			ev->u.exit.code = (int32_t)(i % 256);
		}
		hv_event_commit(0);
		if (drain && i % 64 == 63) {
			hvnet_tick();
			hv_event_drain(0);
		}
	}
}

void nettest_main(void)
{
	struct hvnet_platform plat = { map_mmio, v2p, now_ms, rand32, delay_us };
	struct hvnet_options o;
	const char *err = "";
	unsigned events, burst, overflow, junk_ms;

	tsc0 = rdtsc();
	serial_init();
	read_cmdline();
	puts_("NETTEST: start cmdline='"); puts_(cmdline); puts_("'\n");
	hv_event_set_clock(clock_tsc);
	hv_event_init(1, ringmem, sizeof(ringmem));
	hv_console_sink_init(&cons, console_write, NULL);
	hv_event_sink_register(&cons.sink);

	if (hvnet_options_from_strings(&o, opt("net"), opt("ip"), opt("collector"), opt("key"), &err)) {
		puts_("NETTEST: setup failed: "); puts_(err); puts_("\n");
		shutdown();
	}
	o.heartbeat_ms = 1000;
	events = opt("events") ? (unsigned)atoi(opt("events")) : 100;
	burst = opt("burst") ? (unsigned)atoi(opt("burst")) : 0;
	overflow = opt("overflow") ? (unsigned)atoi(opt("overflow")) : 0;
	junk_ms = opt("junk_ms") ? (unsigned)atoi(opt("junk_ms")) : 0;
	if (hvnet_setup(&plat, &o, &err)) {
		puts_("NETTEST: setup failed: "); puts_(err); puts_("\n");
		shutdown();
	}
	puts_("NETTEST: e1000 up\n");
	uint32_t t0 = now_ms();
	while (!hvnet_ready() && now_ms() - t0 < 60000) {
		hvnet_tick();
		hv_event_drain(0);
	}
	if (!hvnet_ready()) {
		puts_("NETTEST: no address after 60 s\n");
		shutdown();
	}
	uint32_t ip = hvnet_ip();
	puts_("NETTEST: address "); putu(ip >> 24); putc_('.'); putu(ip >> 16 & 255); putc_('.');
	putu(ip >> 8 & 255); putc_('.'); putu(ip & 255); puts_(" after "); putu(now_ms() - t0); puts_(" ms\n");
	tick_for(100);                 /* attaches the wire sink */

	/* phase 1: a process-tracer-like workload, every event also on the
	 * console; phase 2: a burst with the console sink off (the serial port
	 * at 115200 baud would be the bottleneck), checked by pattern */
	workload(0, events, true);
	hv_event_drain(0);
	if (junk_ms) {
		/* the host sends junk UDP (random sizes/bytes, oversized ones that
		 * slirp fragments) to hvmon's port through a slirp hostfwd: only
		 * counters may change, the channel must keep working */
		struct hvnet_stats a, b;
		hvnet_get_stats(&a);
		puts_("NETTEST: junk window open\n");
		tick_for(junk_ms);
		hvnet_get_stats(&b);
		puts_("NETTEST: junk window closed rx_frames+="); putu(b.rx_frames - a.rx_frames);
		puts_(" rx_bad+="); putu(b.rx_bad - a.rx_bad); puts_(" address ");
		putu(hvnet_ip() >> 24); putc_('.'); putu(hvnet_ip() >> 16 & 255); putc_('.');
		putu(hvnet_ip() >> 8 & 255); putc_('.'); putu(hvnet_ip() & 255); puts_("\n");
	}
	if (burst) {
		hv_event_sink_unregister(&cons.sink);
		puts_("NETTEST: burst start\n");
		uint64_t b0 = rdtsc();
		workload(events, burst, true);
		hv_event_drain(0);
		puts_("NETTEST: burst of "); putu(burst); puts_(" events produced+sent in ");
		putu(rdtsc() - b0); puts_(" TSC ticks\n");
	}
	if (overflow) {
		/* phase 3: overflow the ring on purpose; expect 256 kept, the
		 * rest dropped and reported in a drops event + datagram headers */
		puts_("NETTEST: overflow start\n");
		workload(events + burst, overflow, false);
		hv_event_drain(0);
	}
	tick_for(1500);                /* drain, and one heartbeat at least */
	struct hvnet_stats st;
	struct hv_event_stats es;
	hvnet_get_stats(&st);
	hv_event_get_stats(&es);
	puts_("NETTEST: done events="); putu(es.committed); puts_(" dropped="); putu(es.dropped);
	puts_(" udp_sent="); putu(st.udp_sent); puts_(" udp_fail="); putu(st.udp_fail);
	puts_(" tx_fail="); putu(st.tx_fail); puts_(" rx_frames="); putu(st.rx_frames); puts_("\n");
	tick_for(200);
	shutdown();
}
