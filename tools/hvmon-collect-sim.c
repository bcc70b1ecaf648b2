/*
 * hvmon-collect-sim — test sender for hvmon-collect: produces events with
 * hvmon's own encoder (events/wire.c, the code ring -1 runs) and sends
 * the datagrams over UDP, optionally losing, duplicating, reordering,
 * forging and replaying some, writing what the collector must see.
 *
 * usage: hvmon-collect-sim --to ADDR:PORT --key FILE --events N
 *          [--sender ID] [--lose S,S..] [--dup S,..] [--swap S,..] [--forge K]
 *          [--reboot-replay S,..] [--drops N] [--expect FILE] [--manifest FILE]
 *          [--pace-us U] [--bench] [--dump DIR] [--wire-version 1|2]
 *   --lose S      datagram with sequence S is not sent
 *   --dup S       datagram S is sent twice
 *   --swap S      datagram S is sent after S+1
 *   --forge K     K forged datagrams (tampered ciphertext, header, tag, wrong
 *                 key, truncated, garbage) are sent after the first datagram
 *   --reboot-replay S  after everything, a new boot session sends one event,
 *                 then datagram S of the first session is replayed
 *   --drops N     datagram headers carry drops_total N (sender ring drops)
 *   --expect F    JSON line of every event the collector must output
 *                 (without sender/seq members), in send order
 *   --manifest F  "seq nevents sent|lost" per datagram of the first session
 *   --dump DIR    write fuzz seeds (sealed datagrams, plaintext payloads)
 *   --wire-version V  1 ChaCha20-Poly1305 (default), 2 AES-256-GCM (issue 16)
 *   --bench       print encoder timing (events/s, bytes/event) to stdout
 *   --fleet N [--seconds S] [--rate D]  benchmark: N senders (ids 0x10000..),
 *                 each its own boot, D datagrams/s in total (default 20000) for S s
 *   --latency-probe N  send N single-event datagrams (pace: --pace-us, default
 *                 1000) whose tsc is CLOCK_MONOTONIC ns, for hvmon-collect --latency
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "events/event.h"
#include "events/wire.h"
#include "tools/hvmon-collect-key.h"

#define MAXLIST 64
struct list { unsigned n; uint64_t v[MAXLIST]; };

static unsigned wire_version = HV_WIRE_VERSION;    /* --wire-version */

/* hv_wire_tx_init at the wire version asked for */
static void tx_start(struct hv_wire_tx *tx, const uint8_t psk[32], uint32_t sender, const uint8_t nonce[12],
		     void (*send)(void *, const uint8_t *, size_t))
{
	hv_wire_tx_init(tx, psk, sender, nonce, send, NULL);
	if (hv_wire_tx_set_version(tx, wire_version))
		abort();
}

static void parse_list(const char *s, struct list *l)
{
	char *end;
	while (*s) {
		if (l->n >= MAXLIST) { fprintf(stderr, "sim: list too long\n"); exit(2); }
		l->v[l->n++] = strtoull(s, &end, 10);
		if (end == s) { fprintf(stderr, "sim: bad list '%s'\n", s); exit(2); }
		s = *end == ',' ? end + 1 : end;
	}
}
static int in_list(const struct list *l, uint64_t v)
{
	for (unsigned i = 0; i < l->n; i++) if (l->v[i] == v) return 1;
	return 0;
}

struct dg { uint8_t *p; size_t len; unsigned nev; };
static struct hv_event ev_probe;
static struct dg *dgs;
static size_t ndg, capdg;
static unsigned cur_nev;

static void store(void *ctx, const uint8_t *d, size_t len)
{
	if (ndg == capdg) {
		capdg = capdg ? capdg * 2 : 256;
		dgs = realloc(dgs, capdg * sizeof(*dgs));
	}
	dgs[ndg].p = malloc(len);
	memcpy(dgs[ndg].p, d, len);
	dgs[ndg].len = len;
	dgs[ndg].nev = cur_nev;
	cur_nev = 0;
	ndg++;
}

static const char *hostile[] = {
	"plain", "with space", "quote\"q", "back\\slash", "nl\nline", "\x01\x1f\x7f\xff\xc3\xa9",
	"{\"event\":\"fake\"}", "tab\there",
};

static void make_event(struct hv_event *ev, unsigned i)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)(1 + i % (HV_EV__COUNT - 1));
	ev->hdr.tsc = 1000000ull + i * 977ull;
	ev->hdr.cpu = (uint16_t)(i % 2);
	ev->hdr.monitor = HV_EMON_TRACER;
	char comm[32];
	snprintf(comm, sizeof(comm), "c%u%s", i, hostile[i % 8]);
	if (ev->hdr.type != HV_EV_HEARTBEAT && ev->hdr.type != HV_EV_DROPS)
		hv_event_set_task(ev, (int32_t)(100 + i), (int32_t)(100 + i - i % 3), comm, sizeof(comm));
	switch (ev->hdr.type) {
	case HV_EV_EXEC: {
		char path[300];
		ev->u.exec.ppid = (int32_t)(99 + i);
		ev->u.exec.uid = i % 1001;
		ev->u.exec.flags = i % 5 ? HV_EXECF_OK : 0;
		ev->u.exec.err = i % 5 ? 0 : -2;
		snprintf(path, sizeof(path), "/usr/bin/prog %u/%s", i, hostile[(i / 3) % 8]);
		hv_strlcpy_bounded(ev->u.exec.filename, HV_PATH_LEN, path, sizeof(path));
		for (unsigned a = 0; a < i % 20; a++) {
			char arg[200];
			memset(arg, 'a' + a, sizeof(arg));
			snprintf(arg, 20, "arg%u-%s", a, hostile[a % 8]);
			arg[strlen(arg)] = (a % 4 == 3) ? 'x' : '\0';  /* some args long (cut) */
			arg[sizeof(arg) - 1] = 0;
			hv_exec_add_arg(ev, arg, sizeof(arg));
		}
		break;
	}
	case HV_EV_FORK:
		ev->u.fork.parent_pid = (int32_t)(100 + i);
		ev->u.fork.child_pid = (int32_t)(200 + i);
		ev->u.fork.kind = i & 1;
		ev->u.fork.clone_flags = (i & 1) ? 0x3d0f00 : 0x1200011;
		break;
	case HV_EV_EXIT: ev->u.exit.code = (int32_t)(i % 256) - 1; break;
	case HV_EV_HANG: case HV_EV_HANG_RECOVERED:
		strcpy(ev->u.hang.kind, i & 1 ? "soft" : "hard");
		ev->u.hang.vcpu = i % 2; ev->u.hang.seconds = 20 + i % 7;
		ev->u.hang.rip = 0xffffffff81000000ull + i;
		break;
	case HV_EV_RET2USR:
		ev->hdr.monitor = HV_EMON_RET2USR;
		ev->u.ret2usr.rip = 0xffffffff81234567ull; ev->u.ret2usr.user_addr = 0x400000 + i;
		ev->u.ret2usr.how = i % 4;
		break;
	case HV_EV_CR4_TAMPER:
		ev->hdr.monitor = HV_EMON_RET2USR;
		ev->u.cr4.old_cr4 = 0x3606f0; ev->u.cr4.new_cr4 = 0x2606f0; ev->u.cr4.rip = 0xffffffff81000abcull;
		ev->u.cr4.blocked = 1;
		break;
	case HV_EV_KEYLOGGER:
		ev->hdr.monitor = HV_EMON_KEYLOGGER;
		snprintf(ev->u.keylogger.device, HV_DEVICE_LEN, "/dev/input/event%u", i % 4);
		ev->u.keylogger.keystrokes = i;
		break;
	case HV_EV_HEARTBEAT:
		ev->hdr.monitor = HV_EMON_CORE;
		ev->u.heartbeat.uptime_ms = i * 10ull; ev->u.heartbeat.events = i; ev->u.heartbeat.drops = 0;
		break;
	case HV_EV_DROPS:
		ev->hdr.monitor = HV_EMON_CORE;
		ev->u.drops.ring_cpu = 0; ev->u.drops.count = 0; ev->u.drops.total = 0;
		break;
	case HV_EV_INFERENCE:
		ev->hdr.monitor = HV_EMON_CORE;
		ev->u.inference.ok = 1;
		strcpy(ev->u.inference.kernel, "6.1.0-56-cloud-amd64");
		snprintf(ev->u.inference.reason, HV_REASON_LEN, "profile %u %s", i, hostile[i % 8]);
		break;
	case HV_EV_MONITOR_STATE:
		ev->hdr.monitor = HV_EMON_HANG;
		ev->u.monitor_state.enabled = 0;
		strcpy(ev->u.monitor_state.reason, "no watchdog symbol found");
		break;
	case HV_EV_BOOT_CONFIG:
		ev->u.boot_config.monitors = (uint8_t)(i & 15);
		ev->u.boot_config.loader = 1;
		for (int k = 0; k < 64; k++) {
			ev->u.boot_config.kernel_sha256[k] = "0123456789abcdef"[(i + k) & 15];
			ev->u.boot_config.hvmon_sha256[k] = "0123456789abcdef"[(i * 3 + k) & 15];
		}
		snprintf(ev->u.boot_config.options, HV_OPTSUM_LEN, "console=com1 monitors=%u key=<set> %s", i & 15, hostile[i % 8]);
		break;
	case HV_EV_DMA_FAULT:
		ev->hdr.monitor = HV_EMON_CORE;
		ev->u.dma_fault.source = (uint16_t)(i & 0xffff);
		ev->u.dma_fault.write = i & 1;
		ev->u.dma_fault.reason = (uint8_t)(5 + (i & 1));
		ev->u.dma_fault.addr = 0x1dc00000ULL + ((uint64_t)i << 12);
		ev->u.dma_fault.suppressed = i % 7;
		break;
	}
}

/* The ring -1 path on this host CPU: reserve+commit an event into a
 * per-CPU ring, drain it into the wire sink (encode + ChaCha20-Poly1305
 * seal; the UDP send itself is a no-op here), per event type. */
static void null_send(void *ctx, const uint8_t *d, size_t len) { (void)ctx; (void)d; (void)len; }
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
static void bench_ring_path(const uint8_t psk[32], const uint8_t nonce[12])
{
	static struct hv_wire_tx btx;
	static _Alignas(8) char mem[HV_EVENT_RING_SLOTS * sizeof(struct hv_event)];
	static struct hv_event tmpl;
	const unsigned types[] = { HV_EV_EXIT, HV_EV_FORK, HV_EV_EXEC };
	const char *names[] = { "exit", "fork", "exec (3 args)" };

	for (unsigned t = 0; t < 3; t++) {
		const unsigned N = 200000;
		uint64_t c_prod = 0, c_drain = 0;
		hv_event_init(1, mem, sizeof(mem));
		hv_wire_tx_init(&btx, psk, 1, nonce, null_send, NULL);
		hv_event_sink_register(&btx.sink);
		make_event(&tmpl, types[t] == HV_EV_EXEC ? 12 * 3 : types[t] - 1);
		if (types[t] == HV_EV_EXEC) {
			memset(&tmpl.u.exec, 0, sizeof(tmpl.u.exec));
			tmpl.u.exec.flags = HV_EXECF_OK;
			strcpy(tmpl.u.exec.filename, "/usr/bin/ls");
			hv_exec_add_arg(&tmpl, "ls", 8);
			hv_exec_add_arg(&tmpl, "-l", 8);
			hv_exec_add_arg(&tmpl, "/tmp", 8);
		}
		for (unsigned i = 0; i < N; i += 128) {
			uint64_t a = rdtsc();
			for (unsigned k = 0; k < 128; k++) {
				struct hv_event *ev = hv_event_reserve(0, tmpl.hdr.type, tmpl.hdr.monitor);
				if (!ev) break;
				ev->hdr.flags = tmpl.hdr.flags; ev->hdr.pid = tmpl.hdr.pid;
				ev->hdr.tgid = tmpl.hdr.tgid;
				memcpy(ev->hdr.comm, tmpl.hdr.comm, sizeof(ev->hdr.comm));
				ev->u = tmpl.u;
				hv_event_commit(0);
			}
			uint64_t b = rdtsc();
			hv_event_drain(0);
			uint64_t c = rdtsc();
			c_prod += b - a;
			c_drain += c - b;
		}
		printf("ring path %-14s: %.0f TSC cycles/event to record (reserve+fill+commit), "
		       "%.0f cycles/event to drain+encode+seal, %.1f wire bytes/event\n", names[t],
		       (double)c_prod / N, (double)c_drain / N, (double)btx.bytes / btx.events);
	}
}

/* parse_to "HOST:PORT" (IPv4) into @sa; -1 with a message on a bad address */
static int parse_to(const char *to, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(to, ':');
	char *end;
	unsigned long port;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - to) >= sizeof(host)) goto bad;
	memcpy(host, to, (size_t)(colon - to)); host[colon - to] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port == 0 || port > 65535) goto bad;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) goto bad;
	return 0;
bad:
	fprintf(stderr, "sim: bad --to '%s' (want IPv4:PORT)\n", to);
	return -1;
}

/* --fleet N --seconds S --rate D (benchmark, docs/BENCHMARKS.md): N senders
 * (ids 0x10000..), each its own boot nonce and wire sender, round robin, one
 * event per datagram, D datagrams per second in total for S seconds. */
static void fleet_send(void *ctx, const uint8_t *d, size_t len)
{
	(void)ctx;
	(void)d;
	(void)len;
}

static int fleet_run(const char *to, const uint8_t psk[32], unsigned long n, double secs, double rate)
{
	struct sockaddr_in pa;
	if (parse_to(to, &pa)) return 2;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sndbuf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	struct hv_wire_tx *tx = calloc(n, sizeof(*tx));
	FILE *ur = fopen("/dev/urandom", "rb");
	if (!tx || !ur) return 1;
	for (unsigned long k = 0; k < n; k++) {
		uint8_t nonce[12];
		if (fread(nonce, 1, 12, ur) != 12) return 1;
		hv_wire_tx_init(&tx[k], psk, 0x10000 + (uint32_t)k, nonce, fleet_send, NULL);
	}
	fclose(ur);
	static struct hv_event ev;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long long sent = 0, fail = 0;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
		if (el >= secs)
			break;
		if (sent >= el * rate) {
			usleep(200);
			continue;
		}
		struct hv_wire_tx *x = &tx[sent % n];
		make_event(&ev, (unsigned)(sent / n));
		if (ev.hdr.type == HV_EV_BOOT_CONFIG || ev.hdr.type == HV_EV_EXEC)
			make_event(&ev, 2);          /* keep datagrams small and uniform */
		hv_wire_tx_add(x, &ev);
		/* seal without the callback: tx->buf holds the datagram after flush */
		hv_wire_tx_flush(x);
		size_t len = HV_WIRE_HDR_LEN + (size_t)(x->buf[38] | x->buf[39] << 8) + HV_WIRE_TAG_LEN;
		if (sendto(fd, x->buf, len, 0, (struct sockaddr *)&pa, sizeof(pa)) < 0)
			fail++;
		sent++;
	}
	printf("fleet: %lu senders, %llu datagrams sent in %.0f s (%.0f/s), %llu send errors\n",
	       n, sent, secs, sent / secs, fail);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", 1, 0, 't' }, { "key", 1, 0, 'k' }, { "events", 1, 0, 'n' },
		{ "sender", 1, 0, 'S' }, { "lose", 1, 0, 'l' }, { "dup", 1, 0, 'd' },
		{ "swap", 1, 0, 'w' }, { "forge", 1, 0, 'f' }, { "reboot-replay", 1, 0, 'r' },
		{ "drops", 1, 0, 'D' }, { "expect", 1, 0, 'e' }, { "manifest", 1, 0, 'm' },
		{ "pace-us", 1, 0, 'p' }, { "bench", 0, 0, 'b' }, { "dump", 1, 0, 'u' }, { "latency-probe", 1, 0, 'L' },
		{ "wire-version", 1, 0, 'V' },
		{ "fleet", 1, 0, 'F' }, { "seconds", 1, 0, 'T' }, { "rate", 1, 0, 'R' }, { 0, 0, 0, 0 }
	};
	const char *to = NULL, *keyf = NULL, *expf = NULL, *manf = NULL, *dumpd = NULL;
	unsigned long nevents = 0, forge = 0, pace = 0;
	uint32_t sender = 0x51, drops = 0;
	struct list lose = {0}, dup = {0}, swap = {0}, rr = {0};
	int bench = 0, c;
	unsigned long probes = 0, fleet = 0;
	double fleet_secs = 60, fleet_rate = 20000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'k': keyf = optarg; break;
		case 'n': nevents = strtoul(optarg, NULL, 10); break;
		case 'S': sender = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': parse_list(optarg, &lose); break;
		case 'd': parse_list(optarg, &dup); break;
		case 'w': parse_list(optarg, &swap); break;
		case 'f': forge = strtoul(optarg, NULL, 10); break;
		case 'r': parse_list(optarg, &rr); break;
		case 'F': fleet = strtoul(optarg, NULL, 10); break;
		case 'T': fleet_secs = strtod(optarg, NULL); break;
		case 'R': fleet_rate = strtod(optarg, NULL); break;
		case 'D': drops = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'e': expf = optarg; break;
		case 'm': manf = optarg; break;
		case 'p': pace = strtoul(optarg, NULL, 10); break;
		case 'b': bench = 1; break;
		case 'u': dumpd = optarg; break;
		case 'L': probes = strtoul(optarg, NULL, 10); break;
		case 'V': wire_version = (unsigned)strtoul(optarg, NULL, 10);
			if (wire_version != HV_WIRE_VERSION && wire_version != HV_WIRE_VERSION_GCM) {
				fprintf(stderr, "sim: --wire-version: 1 or 2\n");
				return 2;
			}
			break;
		default: fprintf(stderr, "sim: bad option\n"); return 2;
		}
	}
	if ((probes || fleet) && to && keyf)
		nevents = 1;   /* unused: probe / fleet mode below */
	if (!to || !keyf || !nevents) {
		fprintf(stderr, "usage: hvmon-collect-sim --to ADDR:PORT --key FILE --events N [...]\n");
		return 2;
	}
	uint8_t psk[32], nonce[12];
	char err[256];
	if (key_load(keyf, psk, err, sizeof(err))) { fprintf(stderr, "sim: %s\n", err); return 3; }
	FILE *ur = fopen("/dev/urandom", "rb");
	if (!ur || fread(nonce, 1, 12, ur) != 12) { perror("urandom"); return 1; }
	if (fleet)
		return fleet_run(to, psk, fleet, fleet_secs, fleet_rate);
	if (probes) {
		/* latency probes: one exit event per datagram, hdr.tsc = CLOCK_MONOTONIC ns
		 * when the event is created, encoded, sealed and sent at once;
		 * hvmon-collect --latency reports output time - tsc */
		struct sockaddr_in pa;
		if (parse_to(to, &pa)) return 2;
		int pfd = socket(AF_INET, SOCK_DGRAM, 0);
		static struct hv_wire_tx ptx;
		hv_wire_tx_init(&ptx, psk, sender, nonce, store, NULL);
		for (unsigned long k = 0; k < probes; k++) {
			struct timespec ts;
			make_event(&ev_probe, 2);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ev_probe.hdr.tsc = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			hv_wire_tx_add(&ptx, &ev_probe);
			hv_wire_tx_flush(&ptx);
			sendto(pfd, dgs[ndg - 1].p, dgs[ndg - 1].len, 0, (struct sockaddr *)&pa, sizeof(pa));
			usleep(pace ? pace : 1000);
		}
		fprintf(stderr, "sim: %lu latency probes sent\n", probes);
		return 0;
	}

	static struct hv_wire_tx tx;
	tx_start(&tx, psk, sender, nonce, store);
	tx.drops_total = drops;
	FILE *ef = expf ? fopen(expf, "w") : NULL;
	static struct hv_event ev;
	static char line[HV_EVENT_JSON_MAX];
	/* events of datagram k must be known for the expect file: buffer lines */
	char **lines = calloc(nevents, sizeof(char *));
	unsigned *line_dg = calloc(nevents, sizeof(unsigned));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < nevents; i++) {
		make_event(&ev, (unsigned)i);
		size_t before = ndg;
		if (hv_wire_tx_add(&tx, &ev)) { fprintf(stderr, "sim: event %lu does not fit\n", i); return 1; }
		(void)before;
		cur_nev++;
		line_dg[i] = (unsigned)ndg;   /* datagram index it will land in (flushes happen before add) */
		if (!bench) {
			hv_event_to_json(&ev, NULL, line, sizeof(line));
			lines[i] = strdup(line);
		}
	}
	hv_wire_tx_flush(&tx);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* fix nev counts: store() recorded cur_nev at flush time, but an add that
	 * triggered a flush had already been counted; recount from line_dg */
	for (size_t k = 0; k < ndg; k++) dgs[k].nev = 0;
	for (unsigned long i = 0; i < nevents; i++) dgs[line_dg[i]].nev++;
	size_t first_session = ndg;
	if (dumpd) {
		/* fuzz seeds: "1"+sealed datagram, "0"+plaintext payload */
		uint8_t bk[32], tmp[HV_WIRE_MAX_DGRAM];
		hv_wire_derive_key_sender(psk, sender, nonce, bk);
		for (size_t k = 0; k < ndg && k < 64; k++) {
			char path[512];
			struct hv_wire_hdr h;
			const uint8_t *pl;
			snprintf(path, sizeof(path), "%s/dg-%03zu", dumpd, k);
			FILE *f = fopen(path, "wb");
			if (!f) { perror(path); return 1; }
			fputc(1, f); fwrite(dgs[k].p, 1, dgs[k].len, f); fclose(f);
			memcpy(tmp, dgs[k].p, dgs[k].len);
			if (hv_wire_open(bk, tmp, dgs[k].len, &h, &pl) == 0) {
				snprintf(path, sizeof(path), "%s/pl-%03zu", dumpd, k);
				f = fopen(path, "wb");
				if (!f) { perror(path); return 1; }
				fputc(0, f); fwrite(pl, 1, h.payload_len, f); fclose(f);
			}
		}
	}
	unsigned long long first_bytes = tx.bytes;
	if (bench) {
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("encode+seal (event mix): %lu events in %zu datagrams, %llu bytes, %.1f bytes/event, %.0f events/s\n",
		       nevents, ndg, (unsigned long long)tx.bytes, (double)tx.bytes / nevents, nevents / s);
		bench_ring_path(psk, nonce);
	}

	struct sockaddr_in sa;
	if (parse_to(to, &sa)) return 2;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sndbuf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
#define SEND(p, l) do { if (sendto(fd, (p), (l), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) perror("sendto"); \
		if (pace) usleep(pace); } while (0)

	FILE *mf = manf ? fopen(manf, "w") : NULL;
	size_t sent_order[1 << 16];
	size_t nsent = 0;
	for (size_t k = 0; k < first_session; k++) {
		uint64_t seq = k + 1;
		if (in_list(&swap, seq) && k + 1 < first_session) {
			/* send S+1 first, then S */
			uint64_t s2 = seq + 1;
			if (!in_list(&lose, s2)) { SEND(dgs[k + 1].p, dgs[k + 1].len); if (nsent < 65536) sent_order[nsent++] = k + 1; }
			if (!in_list(&lose, seq)) { SEND(dgs[k].p, dgs[k].len); if (nsent < 65536) sent_order[nsent++] = k; }
			if (mf) {
				fprintf(mf, "%llu %u %s\n", (unsigned long long)seq, dgs[k].nev, in_list(&lose, seq) ? "lost" : "sent");
				fprintf(mf, "%llu %u %s\n", (unsigned long long)s2, dgs[k + 1].nev, in_list(&lose, s2) ? "lost" : "sent");
			}
			k++;
			continue;
		}
		if (mf) fprintf(mf, "%llu %u %s\n", (unsigned long long)seq, dgs[k].nev, in_list(&lose, seq) ? "lost" : "sent");
		if (in_list(&lose, seq))
			continue;
		SEND(dgs[k].p, dgs[k].len);
		if (nsent < 65536) sent_order[nsent++] = k;
		if (in_list(&dup, seq))
			SEND(dgs[k].p, dgs[k].len);
		if (k == 0 && forge) {
			uint8_t f[HV_WIRE_MAX_DGRAM];
			for (unsigned long j = 0; j < forge; j++) {
				size_t len = dgs[0].len;
				memcpy(f, dgs[0].p, len);
				switch (j % 6) {
				case 0: f[HV_WIRE_HDR_LEN + 3] ^= 0x40; break;          /* ciphertext */
				case 1: f[24] ^= 0x80; break;                           /* header: seq */
				case 2: f[len - 1] ^= 1; break;                         /* tag */
				case 3: {                                               /* wrong key */
					uint8_t k2[32]; memcpy(k2, psk, 32); k2[0] ^= 1;
					static struct hv_wire_tx t2;
					tx_start(&t2, k2, sender, nonce, NULL);
					t2.seq = 1000 + j;
					make_event(&ev, 7);
					hv_wire_tx_add(&t2, &ev);
					hv_wire_tx_flush(&t2);
					len = HV_WIRE_HDR_LEN + t2.buf[38] + (t2.buf[39] << 8) + HV_WIRE_TAG_LEN;
					memcpy(f, t2.buf, len);
					break;
				}
				case 4: len = 30; break;                                /* truncated */
				case 5: for (size_t b = 0; b < len; b++) f[b] = (uint8_t)rand(); break; /* garbage */
				}
				SEND(f, len);
			}
		}
	}
	if (mf) fclose(mf);
	if (ef) {
		for (size_t s = 0; s < nsent; s++) {
			size_t k = sent_order[s];
			for (unsigned long i = 0; i < nevents; i++)
				if (line_dg[i] == k) fputs(lines[i], ef);
		}
	}
	if (rr.n) {
		/* reboot: new nonce, one event, then replay old datagrams */
		uint8_t nonce2[12];
		if (fread(nonce2, 1, 12, ur) != 12) return 1;
		size_t before = ndg;
		tx_start(&tx, psk, sender, nonce2, store);
		make_event(&ev, 4242);
		hv_wire_tx_add(&tx, &ev);
		hv_wire_tx_flush(&tx);
		SEND(dgs[before].p, dgs[before].len);
		if (ef) { hv_event_to_json(&ev, NULL, line, sizeof(line)); fputs(line, ef); }
		for (unsigned i = 0; i < rr.n; i++)
			if (rr.v[i] >= 1 && rr.v[i] <= first_session)
				SEND(dgs[rr.v[i] - 1].p, dgs[rr.v[i] - 1].len);
	}
	if (ef) fclose(ef);
	fprintf(stderr, "sim: %lu events in %zu datagrams (%llu bytes) sent to %s\n", nevents, first_session,
		first_bytes, to);
	return 0;
}
