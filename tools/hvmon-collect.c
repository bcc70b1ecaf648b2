/*
 * hvmon-collect — receive hvmon's authenticated event datagrams (docs/PROTOCOL.md),
 * verify, decode, write one JSON object per line (docs/EVENTS.md + "sender",
 * "boot", "seq"), report loss/duplicates/forgeries/replays, optionally forward
 * each event as RFC 5424 syslog over UDP.
 *
 * Exit status: 0 clean; 1 runtime error (socket, output); 2 bad arguments;
 * 3 bad key file; 64 + bitmask otherwise:
 *   1 datagrams lost (gaps still open at exit)   2 duplicates seen
 *   4 forged or malformed datagrams rejected     8 replays rejected
 *  16 the sender reported events dropped in its rings
 *  32 alarms: two live boots of one sender, a --profile mismatch
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "events/event.h"
#include "events/wire.h"
#include "tools/hvmon-collect-track.h"
#include "tools/hvmon-collect-key.h"
#include "tools/hvmon-collect-profile.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2
#define EXIT_KEY     3
#define EXIT_FLAGS   64
#define F_LOSS       1
#define F_DUP        2
#define F_FORGED     4
#define F_REPLAY     8
#define F_DROPS      16
#define F_ALARM      32   /* two live boots of one sender, profile mismatch */

static volatile sig_atomic_t stop, reopen;
static void on_signal(int sig) { stop = 1; }
static void on_hup(int sig) { reopen = 1; }

static const char *prog = "hvmon-collect";

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s --listen ADDR:PORT --key FILE [--out FILE] [--syslog HOST:PORT]\n"
"                     [--count N] [--timeout SECONDS] [--silence SECONDS] [--quiet]\n"
"                     [--sessions N] [--profile FILE] [--host-keys FILE] [--state FILE]\n"
"       %s --genkey FILE\n"
"       %s --make-profile ID [--loader multiboot2|uefi] [--hvmon FILE]\n"
"                     [--kernel FILE] [--initrd FILE] [--options TEXT]\n"
"  --listen ADDR:PORT   UDP address to receive on (e.g. 0.0.0.0:5140)\n"
"  --key FILE           pre-shared key: 64 hex digits (32 bytes), as --genkey writes\n"
"  --out FILE           JSON lines output (default: standard output)\n"
"  --syslog HOST:PORT   also forward each event as RFC 5424 syslog over UDP\n"
"  --count N            exit after N events written\n"
"  --timeout SECONDS    exit after SECONDS (idle or not)\n"
"  --silence SECONDS    report a sender silent for SECONDS (default 15; hvmon sends\n"
"                       a heartbeat every 5 s)\n"
"  --quiet              no per-datagram reports on stderr (summary still printed)\n"
"  --latency            benchmark only: event tsc is the sender's CLOCK_MONOTONIC ns\n"
"                       (hvmon-collect-sim --latency-probe); print latency stats\n"
"  --genkey FILE        write a new random key to FILE (mode 0600) and exit\n"
"  --host-keys FILE     per-host keys: lines \"SENDER_ID KEY\"; listed senders must\n"
"                       use their own key (others: --key)\n"
"  --state FILE         remember the boots seen across restarts (replays stay refused)\n"
"  --profile FILE       expected boot per sender (monitors that must be on,\n"
"                       SHA-256 of hvmon, kernel, initrd, options): alarms\n"
"  --sessions N         boots (sender id, nonce) held at once (default 16384);\n"
"                       the least recently used is evicted into a tombstone\n"
"  --make-profile ID    print the --profile line of sender ID for the files an\n"
"                       operator deploys (hvmon.elf, kernel, initrd, hvmon's options\n"
"                       as on the GRUB line or in hvmon.cfg) and exit; --loader:\n"
"                       how they are booted (GRUB decompresses gzip/xz modules)\n"
"exit: 0 clean, 1 runtime error, 2 usage, 3 key file, 64+bits: 1 loss,\n"
"      2 duplicates, 4 forged/malformed, 8 replays, 16 sender ring drops,\n"
"      32 alarms (two live boots of one sender, profile mismatch)\n"
"signals: INT/TERM end the run (summary printed), HUP reopens --out\n",
		prog, prog, prog);
}

static void die(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static int parse_hostport(const char *s, struct sockaddr_in *sa, const char *what)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		die(EXIT_USAGE, "%s '%s': expected ADDR:PORT (e.g. 127.0.0.1:5140)", what, s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		die(EXIT_USAGE, "%s '%s': port must be 1..65535", what, s);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *ai;
		if (getaddrinfo(host, NULL, &hints, &ai))
			die(EXIT_USAGE, "%s '%s': cannot resolve '%s'", what, s, host);
		sa->sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		freeaddrinfo(ai);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct track track;
static size_t track_cap;          /* --sessions (0: default) */
static double silence = 15;
static uint8_t psk[HV_WIRE_KEY_LEN];
static FILE *out;
static const char *out_path;
static int sfd = -1;
static struct sockaddr_in sa;
static unsigned long long count;
static struct hv_event evs[HV_WIRE_MAX_PAYLOAD / HV_WIRE_REC_HDR_LEN];
static char line[HV_EVENT_JSON_MAX + 256], extra[256], sysmsg[HV_EVENT_JSON_MAX + 512];

static struct {
	uint64_t datagrams, events, forged, malformed, replays, duplicates, late;
	uint64_t lost_reported, sender_drops_events, alarms, suppressed;
} st;
static int quiet;
static uint64_t silences;
/* --latency (benchmarks with hvmon-collect-sim --latency-probe only): the
 * sender put CLOCK_MONOTONIC ns into hdr.tsc; record output time - tsc */
static int latency;
#define LAT_MAX 100000
static uint64_t lat_ns[LAT_MAX];
static size_t nlat;
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define REPORT(...) do { if (!quiet) { fprintf(stderr, "%s: ", prog); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/*
 * Reports about datagrams an attacker can send at line rate (forged,
 * malformed, replay, duplicate) or cause by dropping or delaying a sender's
 * datagrams on the path (gap, reordered) are aggregated per source address,
 * per kind and per second: the first one of a second is printed in full, the
 * others are counted and summed up in one line when the second ends (for
 * gaps also the datagrams they miss). At most AGG_SOURCES sources get lines
 * of their own per second, the rest one "other sources" line per kind:
 * stderr stays bounded whatever arrives.
 */
enum agg_kind { AGG_FORGED, AGG_MALFORMED, AGG_REPLAY, AGG_DUPLICATE, AGG_GAP, AGG_LATE, AGG_KINDS };
static const char *const agg_name[AGG_KINDS] = { "forged", "malformed", "replay", "duplicate", "gap", "reordered" };
#define AGG_SOURCES 32
static struct { uint32_t addr; uint8_t kind; uint64_t n, missing; } agg[AGG_SOURCES];
static size_t nagg;
static uint64_t agg_other[AGG_KINDS], agg_other_missing[AGG_KINDS];
static long agg_sec = -1;

static void agg_flush(void)
{
	for (size_t i = 0; i < nagg; i++) {
		struct in_addr ia = { .s_addr = agg[i].addr };
		if (agg[i].n <= 1)
			continue;
		if (agg[i].kind == AGG_GAP)
			REPORT("gap: %llu more gaps (%llu datagrams missing) from %s in the same second (reported once)",
			       (unsigned long long)(agg[i].n - 1), (unsigned long long)agg[i].missing, inet_ntoa(ia));
		else
			REPORT("%s: %llu more datagrams from %s in the same second (reported once)",
			       agg_name[agg[i].kind], (unsigned long long)(agg[i].n - 1), inet_ntoa(ia));
	}
	for (int k = 0; k < AGG_KINDS; k++) {
		if (!agg_other[k])
			continue;
		if (k == AGG_GAP)
			REPORT("gap: %llu gaps (%llu datagrams missing) from more than %d other sources in the same second (reported once)",
			       (unsigned long long)agg_other[k], (unsigned long long)agg_other_missing[k], AGG_SOURCES);
		else
			REPORT("%s: %llu datagrams from more than %d other sources in the same second (reported once)",
			       agg_name[k], (unsigned long long)agg_other[k], AGG_SOURCES);
	}
	nagg = 0;
	memset(agg_other, 0, sizeof(agg_other));
	memset(agg_other_missing, 0, sizeof(agg_other_missing));
}

/* true: print this report in full; false: counted, summed up later.
 * missing: the datagrams a gap report stands for (0 for the other kinds) */
static bool agg_first_n(enum agg_kind kind, const struct sockaddr_in *from, double now, uint64_t missing)
{
	if ((long)now != agg_sec) {
		agg_flush();
		agg_sec = (long)now;
	}
	for (size_t i = 0; i < nagg; i++)
		if (agg[i].addr == from->sin_addr.s_addr && agg[i].kind == kind) {
			agg[i].n++;
			agg[i].missing += missing;
			st.suppressed++;
			return false;
		}
	if (nagg == AGG_SOURCES) {
		agg_other[kind]++;
		agg_other_missing[kind] += missing;
		st.suppressed++;
		return false;
	}
	agg[nagg].addr = from->sin_addr.s_addr;
	agg[nagg].kind = (uint8_t)kind;
	agg[nagg].n = 1;
	agg[nagg].missing = 0;      /* the full line names its own datagrams */
	nagg++;
	return true;
}

static bool agg_first(enum agg_kind kind, const struct sockaddr_in *from, double now)
{
	return agg_first_n(kind, from, now, 0);
}

static void hex(char *dst, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = d[p[i] >> 4];
		dst[2 * i + 1] = d[p[i] & 15];
	}
	dst[2 * n] = 0;
}

static int severity(const struct hv_event *ev)
{
	/* the kernel's own code patching (integrity, severity "patch"): notice */
	if (ev->hdr.type == HV_EV_KERNEL_TEXT_WRITE && !strcmp(ev->u.text_write.severity, "patch"))
		return 5;
	switch (ev->hdr.type) {
	case HV_EV_HANG: case HV_EV_RET2USR: case HV_EV_CR4_TAMPER: case HV_EV_KEYLOGGER: case HV_EV_DMA_FAULT:
	case HV_EV_PROBE_TAMPER:
	case HV_EV_SYSCALL_HOOK: case HV_EV_CR0_WP: case HV_EV_IDT_WRITE: case HV_EV_KERNEL_TEXT_WRITE:
		return 4;   /* warning */
	case HV_EV_DROPS: case HV_EV_MONITOR_STATE: case HV_EV_TRACE_LOST:
		return 5;   /* notice */
	default:
		return 6;   /* info */
	}
}

static void print_summary(void);

/*
 * --state FILE (issue 18): the boots this collector has seen — every held
 * session and tombstone as "SENDER NONCE MAX_SEQ" (hex, hex, decimal) — are
 * saved every 60 s and at exit (written to FILE.tmp mode 0600, then renamed)
 * and loaded at start as tombstones: after a restart, a replay of anything an
 * earlier run accepted is still refused, and a live boot resumes above it.
 */
static const char *state_path;

static void load_state(void)
{
	FILE *f = fopen(state_path, "r");
	char l[128], nh[64];
	unsigned long long seq;
	unsigned x, n = 0;
	if (!f) {
		if (errno != ENOENT)
			die(EXIT_RUNTIME, "--state %s: %s", state_path, strerror(errno));
		return;
	}
	while (fgets(l, sizeof(l), f)) {
		uint8_t nonce[HV_WIRE_NONCE_LEN];
		if (sscanf(l, "%x %63s %llu", &x, nh, &seq) != 3 || strlen(nh) != 2 * HV_WIRE_NONCE_LEN)
			die(EXIT_RUNTIME, "--state %s: bad line '%.60s' (delete the file to start afresh)", state_path, l);
		for (int i = 0; i < HV_WIRE_NONCE_LEN; i++) {
			unsigned b;
			if (sscanf(nh + 2 * i, "%2x", &b) != 1)
				die(EXIT_RUNTIME, "--state %s: bad nonce '%s'", state_path, nh);
			nonce[i] = (uint8_t)b;
		}
		track_add_tomb(&track, x, nonce, seq);
		n++;
	}
	fclose(f);
	REPORT("state: %u boots remembered from %s", n, state_path);
}

static void save_state(void)
{
	char tmp[4096], nh[2 * HV_WIRE_NONCE_LEN + 1];
	if (!state_path || !track.s)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "%s: --state %s: %s (replay protection across restarts not saved)\n", prog, tmp,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	for (size_t k = 0; k < track.cap; k++)
		if (track.s[k].used && track.s[k].max_seq) {
			hex(nh, track.s[k].nonce, HV_WIRE_NONCE_LEN);
			fprintf(f, "%08x %s %llu\n", track.s[k].sender, nh, (unsigned long long)track.s[k].max_seq);
		}
	for (size_t k = 0; k < track.ntomb; k++)
		if (track.tomb[k].max_seq) {
			hex(nh, track.tomb[k].nonce, HV_WIRE_NONCE_LEN);
			fprintf(f, "%08x %s %llu\n", track.tomb[k].sender, nh, (unsigned long long)track.tomb[k].max_seq);
		}
	if (fflush(f) || fsync(fileno(f)) || fclose(f) || rename(tmp, state_path))
		fprintf(stderr, "%s: --state %s: %s (replay protection across restarts not saved)\n", prog,
			state_path, strerror(errno));
}

/*
 * --host-keys FILE (issue 18): per-host keys. One line per sender: "ID KEY"
 * (ID decimal or 0xHEX; KEY 64 hex digits); '#' comments. A datagram whose
 * header names a listed sender is opened with that sender's key only, so a
 * host cannot forge another host's datagrams; unlisted senders use --key.
 */
struct hostkey { uint32_t sender; uint8_t key[HV_WIRE_KEY_LEN]; };
static struct hostkey *hostkeys;
static size_t nhostkeys;

static int hostkey_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct hostkey *)a)->sender, y = ((const struct hostkey *)b)->sender;
	return x < y ? -1 : x > y;
}

static void load_hostkeys(const char *path)
{
	FILE *f = fopen(path, "r");
	char l[512], e2[160];
	unsigned ln = 0;
	if (!f)
		die(EXIT_KEY, "--host-keys %s: %s", path, strerror(errno));
	while (fgets(l, sizeof(l), f)) {
		ln++;
		char *h = strchr(l, '#'), *save, *id, *k, *end;
		if (h)
			*h = 0;
		if (!(id = strtok_r(l, " \t\r\n", &save)))
			continue;
		k = strtok_r(NULL, " \t\r\n", &save);
		errno = 0;
		unsigned long v = strtoul(id, &end, 0);
		if (errno || *end || v > 0xffffffffUL)
			die(EXIT_KEY, "--host-keys %s line %u: sender id '%s': expected a number", path, ln, id);
		struct hostkey hk = { .sender = (uint32_t)v };
		if (!k || strtok_r(NULL, " \t\r\n", &save) || key_parse(k, strlen(k), hk.key, e2, sizeof(e2)))
			die(EXIT_KEY, "--host-keys %s line %u: %s", path, ln, k ? e2 : "expected: ID KEY (64 hex digits)");
		hostkeys = realloc(hostkeys, (nhostkeys + 1) * sizeof(*hostkeys));
		if (!hostkeys)
			die(EXIT_RUNTIME, "out of memory");
		hostkeys[nhostkeys++] = hk;
	}
	fclose(f);
	qsort(hostkeys, nhostkeys, sizeof(*hostkeys), hostkey_cmp);
	for (size_t i = 1; i < nhostkeys; i++)
		if (hostkeys[i].sender == hostkeys[i - 1].sender)
			die(EXIT_KEY, "--host-keys %s: sender %u listed twice", path, hostkeys[i].sender);
}

static const uint8_t *key_for(uint32_t sender)
{
	struct hostkey q = { .sender = sender }, *hk;
	if (!nhostkeys)
		return psk;
	hk = bsearch(&q, hostkeys, nhostkeys, sizeof(*hostkeys), hostkey_cmp);
	return hk ? hk->key : psk;
}

/*
 * --profile FILE (issue 18): what each sender must have booted. One line per
 * sender: "ID key=value ..." (ID decimal, 0xHEX, or * for every sender without
 * its own line); keys monitors=LIST (monitors that must be on: tracer, hang,
 * ret2usr, keylogger, integrity, all), kernel_sha256=, initrd_sha256=, hvmon_sha256=,
 * options_sha256= (64 hex digits). '#' starts a comment. A boot_config event
 * that differs, a monitor_state "off" for a required monitor, or a boot of a
 * profiled sender that sends 3 datagrams without boot_config is an alarm.
 */
struct profile {
	uint32_t sender;
	bool     any;
	uint8_t  monitors;
	char     hash[4][HV_SHA256_HEX];    /* hvmon, kernel, initrd, options; "" = any */
};
static const char *const prof_hash_key[4] = { "hvmon_sha256", "kernel_sha256", "initrd_sha256", "options_sha256" };
static const char *const mon_bit_name[5] = { "tracer", "hang", "ret2usr", "keylogger", "integrity" };
static struct profile *profiles;
static size_t nprofiles;

static void load_profiles(const char *path)
{
	FILE *f = fopen(path, "r");
	char l[1024];
	unsigned ln = 0;
	if (!f)
		die(EXIT_USAGE, "--profile %s: %s", path, strerror(errno));
	while (fgets(l, sizeof(l), f)) {
		ln++;
		char *save, *tok, *h = strchr(l, '#');
		if (h)
			*h = 0;
		tok = strtok_r(l, " \t\r\n", &save);
		if (!tok)
			continue;
		struct profile pr = { 0 };
		if (!strcmp(tok, "*")) {
			pr.any = true;
		} else {
			char *end;
			errno = 0;
			unsigned long v = strtoul(tok, &end, 0);
			if (errno || *end || v > 0xffffffffUL)
				die(EXIT_USAGE, "--profile %s line %u: sender id '%s': expected a number or *", path, ln, tok);
			pr.sender = (uint32_t)v;
		}
		while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
			char *eq = strchr(tok, '=');
			if (!eq)
				die(EXIT_USAGE, "--profile %s line %u: '%s': expected key=value", path, ln, tok);
			*eq++ = 0;
			int k;
			for (k = 0; k < 4 && strcmp(tok, prof_hash_key[k]); k++)
				;
			if (k < 4) {
				size_t n = strspn(eq, "0123456789abcdef");
				if (n != 64 || eq[64])
					die(EXIT_USAGE, "--profile %s line %u: %s: expected 64 lower-case hex digits", path, ln, tok);
				memcpy(pr.hash[k], eq, 65);
				continue;
			}
			if (strcmp(tok, "monitors"))
				die(EXIT_USAGE, "--profile %s line %u: unknown key '%s' (monitors, %s, %s, %s, %s)", path, ln,
				    tok, prof_hash_key[0], prof_hash_key[1], prof_hash_key[2], prof_hash_key[3]);
			for (char *m = strtok(eq, ","); m; m = strtok(NULL, ",")) {
				int b;
				if (!strcmp(m, "all")) { pr.monitors = 31; continue; }
				for (b = 0; b < 5 && strcmp(m, mon_bit_name[b]); b++)
					;
				if (b == 5)
					die(EXIT_USAGE, "--profile %s line %u: unknown monitor '%s'", path, ln, m);
				pr.monitors |= (uint8_t)(1u << b);
			}
		}
		profiles = realloc(profiles, (nprofiles + 1) * sizeof(*profiles));
		if (!profiles)
			die(EXIT_RUNTIME, "out of memory");
		profiles[nprofiles++] = pr;
	}
	fclose(f);
}

static const struct profile *profile_for(uint32_t sender)
{
	const struct profile *any = NULL;
	for (size_t i = 0; i < nprofiles; i++) {
		if (!profiles[i].any && profiles[i].sender == sender)
			return &profiles[i];
		if (profiles[i].any)
			any = &profiles[i];
	}
	return any;
}

static void alarm_line(uint32_t sender, const char *nonce, const char *fmt, ...)
{
	va_list ap;
	st.alarms++;
	fprintf(stderr, "%s: alarm: sender %08x boot %s: ", prog, sender, nonce);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void check_profile(const struct hv_event *ev, uint32_t sender, const char *nonce,
			  struct track_session *s)
{
	const struct profile *pr = profile_for(sender);
	if (ev->hdr.type == HV_EV_BOOT_CONFIG && s)
		s->config_seen = true;
	if (!pr)
		return;
	if (ev->hdr.type == HV_EV_BOOT_CONFIG) {
		const struct hv_ev_boot_config *c = &ev->u.boot_config;
		const char *got[4] = { c->hvmon_sha256, c->kernel_sha256, c->initrd_sha256, c->options_sha256 };
		uint8_t off = pr->monitors & (uint8_t)~c->monitors;
		for (int b = 0; b < 5; b++)
			if (off & (1u << b))
				alarm_line(sender, nonce, "profile: monitor %s is off (booted with: %s)", mon_bit_name[b],
					   c->options);
		for (int k = 0; k < 4; k++)
			if (pr->hash[k][0] && strcmp(pr->hash[k], got[k]))
				alarm_line(sender, nonce, "profile: %s %s, expected %s", prof_hash_key[k],
					   got[k][0] ? got[k] : "(none)", pr->hash[k]);
	} else if (ev->hdr.type == HV_EV_MONITOR_STATE && !ev->u.monitor_state.enabled &&
		   ev->hdr.monitor >= HV_EMON_TRACER && ev->hdr.monitor <= HV_EMON_INTEGRITY &&
		   (pr->monitors & (1u << (ev->hdr.monitor - HV_EMON_TRACER)))) {
		alarm_line(sender, nonce, "profile: monitor %s reports off: %s",
			   mon_bit_name[ev->hdr.monitor - HV_EMON_TRACER], ev->u.monitor_state.reason);
	}
}

/* Output errors are fatal: an event the collector cannot write is lost, so it
 * says so and stops with status 1 (a supervisor restarts it) */
static void fatal_write(const char *what)
{
	int e = errno;
	fprintf(stderr, "%s: write %s: %s: stopping (events not written are lost)\n", prog,
		out_path ? out_path : "standard output", what && *what ? what : strerror(e));
	print_summary();
	exit(EXIT_RUNTIME);
}

static FILE *open_output(const char *path)
{
	/* 0600: events name processes and users; O_NOFOLLOW: a symlink planted in
	 * a log directory must not redirect the output */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

/* SIGHUP (logrotate's postrotate): close and reopen --out by name */
static void reopen_output(void)
{
	reopen = 0;
	if (!out_path)
		return;
	if (fflush(out))
		fatal_write("");
	FILE *f = open_output(out_path);
	if (!f) {
		fprintf(stderr, "%s: SIGHUP: reopen %s: %s: stopping\n", prog, out_path, strerror(errno));
		print_summary();
		exit(EXIT_RUNTIME);
	}
	if (fclose(out))
		fatal_write("");
	out = f;
	REPORT("reopened %s (SIGHUP)", out_path);
}

/*
 * Syslog record size rule (docs/PROTOCOL.md): a message is at most
 * SYSLOG_MAX bytes, so that it travels in one unfragmented UDP datagram. A
 * longer exec event loses arguments from the end (its flags get "argv cut",
 * 2) and then its filename tail (flag 4, "path cut") until it fits, and the
 * structured data says trimmed="1"; the JSON stays whole and valid. The
 * --out file always has the complete event.
 */
#define SYSLOG_MAX 1472
static size_t syslog_format(const struct hv_event *ev0, const char *hdr, size_t hdrlen,
			    const char *json, size_t jlen, bool *trimmed)
{
	static struct hv_event e;
	static char j[HV_EVENT_JSON_MAX + 256];
	*trimmed = false;
	if (hdrlen + 2 + jlen <= SYSLOG_MAX) {
		memcpy(sysmsg, hdr, hdrlen);
		memcpy(sysmsg + hdrlen, "] ", 2);
		memcpy(sysmsg + hdrlen + 2, json, jlen);
		return hdrlen + 2 + jlen;
	}
	*trimmed = true;
	e = *ev0;
	for (;;) {
		if (e.hdr.type == HV_EV_EXEC && e.u.exec.argc > 0) {
			/* drop the last argument (args are NUL-terminated, packed) */
			size_t end = e.u.exec.argv_len ? e.u.exec.argv_len - 1 : 0;
			while (end > 0 && e.u.exec.argv[end - 1])
				end--;
			e.u.exec.argv_len = (uint16_t)end;
			e.u.exec.argc--;
			e.u.exec.flags |= HV_EXECF_ARGV_TRUNC;
		} else if (e.hdr.type == HV_EV_EXEC && strlen(e.u.exec.filename) > 16) {
			size_t l = strlen(e.u.exec.filename);
			e.u.exec.filename[l / 2] = 0;
			e.u.exec.flags |= HV_EXECF_PATH_TRUNC;
		} else {
			break;
		}
		size_t n = hv_event_to_json(&e, extra, j, sizeof(j));
		if (n && hdrlen + 16 + n - 1 <= SYSLOG_MAX) {
			memcpy(sysmsg, hdr, hdrlen);
			memcpy(sysmsg + hdrlen, " trimmed=\"1\"] ", 14);
			memcpy(sysmsg + hdrlen + 14, j, n - 1);
			return hdrlen + 14 + n - 1;
		}
	}
	/* not an exec (cannot happen with today's event sizes): a bare notice */
	int m = snprintf(sysmsg, SYSLOG_MAX, "%s trimmed=\"1\"] {\"event\":\"%s\",\"trimmed\":true}", hdr,
			 hv_event_type_name(ev0->hdr.type));
	return m > 0 && m < SYSLOG_MAX ? (size_t)m : 0;
}

static void send_syslog(const struct hv_event *ev, uint32_t sender, const char *nonce, uint64_t seq,
			const char *json, size_t jlen)
{
	/* RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG. HOSTNAME is the
	 * authenticated sender id ("hvmon-<8 hex>"), not the UDP source address */
	struct timespec ts;
	struct tm tm;
	char tstr[64], hdr[256];
	bool trimmed;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tstr, sizeof(tstr), "%Y-%m-%dT%H:%M:%S", &tm);
	int h = snprintf(hdr, sizeof(hdr), "<%d>1 %s.%06ldZ hvmon-%08x hvmon %u %s [hvmon@32473 boot=\"%s\" seq=\"%llu\"",
			 16 * 8 + severity(ev), tstr, ts.tv_nsec / 1000, sender, sender,
			 hv_event_type_name(ev->hdr.type), nonce, (unsigned long long)seq);
	if (h <= 0 || (size_t)h >= sizeof(hdr))
		return;
	size_t m = syslog_format(ev, hdr, (size_t)h, json, jlen, &trimmed);
	if (m)
		sendto(sfd, sysmsg, m, 0, (struct sockaddr *)&sa, sizeof(sa));
}

static bool ensure_track(void)
{
	if (track.s)
		return true;
	if (track_init(&track, track_cap, silence)) {
		fprintf(stderr, "%s: cannot allocate %zu sessions\n", prog, track_cap ? track_cap : (size_t)TRACK_SESSIONS_DEFAULT);
		exit(EXIT_RUNTIME);
	}
	return true;
}

/* One received datagram: verify, track, decode, output. Returns events written. */
static int process_datagram(uint8_t *dgram, size_t n, const struct sockaddr_in *fromp)
{
	struct sockaddr_in from = *fromp;
	unsigned long long events_before = st.events;
	char fromstr[64];
	double now = now_s();
	snprintf(fromstr, sizeof(fromstr), "%s:%u", inet_ntoa(from.sin_addr), ntohs(from.sin_port));
	st.datagrams++;
	ensure_track();

	struct hv_wire_hdr h;
	const uint8_t *payload;
	uint8_t bkey[HV_WIRE_KEY_LEN];
	int rc = hv_wire_parse_header(dgram, (size_t)n, &h);
	if (!rc) {
		hv_wire_hdr_key(key_for(h.sender), &h, bkey);
		rc = hv_wire_open(bkey, dgram, (size_t)n, &h, &payload);
	}
	if (rc) {
		st.forged++;
		if (agg_first(AGG_FORGED, &from, now))
			REPORT("forged: %zu-byte datagram from %s rejected: %s", n, fromstr, hv_wire_strerror(rc));
		return 0;
	}
	/* decode all records before accepting anything */
	size_t off = 0;
	unsigned nev = 0, i;
	for (i = 0; i < h.nrec; i++) {
		size_t used;
		if (nev >= sizeof(evs) / sizeof(evs[0]))
			break;                    /* cannot happen: payload_len <= 1416 */
		int d = hv_wire_decode_event(payload + off, h.payload_len - off, &evs[nev], &used);
		if (d < 0)
			break;
		off += used;
		if (d == 0)
			nev++;
	}
	char nonce[2 * HV_WIRE_NONCE_LEN + 1];
	hex(nonce, h.boot_nonce, HV_WIRE_NONCE_LEN);
	if (i != h.nrec || off != h.payload_len) {
		st.malformed++;
		if (agg_first(AGG_MALFORMED, &from, now))
			REPORT("malformed: authenticated datagram from %s seq %llu: record %u of %u does not decode",
			       fromstr, (unsigned long long)h.seq, i, h.nrec);
		return 0;
	}
	struct track_result tr;
	enum track_verdict v = track_datagram(&track, &h, now, &tr);
	struct track_session *s = tr.s;
	if (s && (v == TRACK_NEW || v == TRACK_LATE)) {
		if (s->silent_reported)
			REPORT("silence over: sender %08x after %.0f s", h.sender, now - s->last_new);
		s->silent_reported = false;
	}
	if (tr.new_session)
		REPORT("session: sender %08x boot %s from %s (seq %llu)", h.sender, nonce, fromstr,
		       (unsigned long long)h.seq);
	if (tr.two_live) {
		char nn[2 * HV_WIRE_NONCE_LEN + 1];
		hex(nn, tr.two_live->nonce, HV_WIRE_NONCE_LEN);
		st.alarms++;
		/* never silent: printed even with --quiet */
		fprintf(stderr, "%s: alarm: sender %08x has two live boots: %s (older, seq %llu from %s) and %s "
			"(newer): a forged or replayed session, or two hosts with one sender id; both are written\n",
			prog, h.sender, nonce, (unsigned long long)h.seq, fromstr, nn);
	}
	if (s && nprofiles && (v == TRACK_NEW || v == TRACK_LATE) && !s->config_seen && !s->config_alarmed &&
	    s->accepted >= 3 && profile_for(h.sender)) {
		bool here = false;
		for (unsigned k = 0; k < nev; k++)
			here |= evs[k].hdr.type == HV_EV_BOOT_CONFIG;
		if (!here) {
			s->config_alarmed = true;
			alarm_line(h.sender, nonce, "profile: no boot_config in the first %llu datagrams "
				   "(hvmon older than issue 18, or its measurement was dropped)",
				   (unsigned long long)s->accepted);
		}
	}
	switch (v) {
	case TRACK_REPLAY:
		st.replays++;
		if (agg_first(AGG_REPLAY, &from, now))
			REPORT("replay: sender %08x boot %s seq %llu from %s rejected (%s)", h.sender, nonce,
			       (unsigned long long)h.seq, fromstr, track_replay_reason(tr.why));
		return 0;
	case TRACK_DUPLICATE:
		st.duplicates++;
		if (agg_first(AGG_DUPLICATE, &from, now))
			REPORT("duplicate: sender %08x boot %s seq %llu from %s dropped", h.sender, nonce,
			       (unsigned long long)h.seq, fromstr);
		return 0;
	case TRACK_LATE:
		st.late++;
		if (agg_first(AGG_LATE, &from, now))
			REPORT("reordered: sender %08x boot %s seq %llu arrived late (gap filled)", h.sender, nonce,
			       (unsigned long long)h.seq);
		break;
	case TRACK_NEW:
		if (tr.gap_len) {
			st.lost_reported += tr.gap_len;
			if (agg_first_n(AGG_GAP, &from, now, tr.gap_len))
				REPORT("gap: sender %08x boot %s seq %llu..%llu missing (%llu datagrams)", h.sender, nonce,
				       (unsigned long long)tr.gap_from,
				       (unsigned long long)(tr.gap_from + tr.gap_len - 1), (unsigned long long)tr.gap_len);
		}
		if (h.drops_total > tr.prev_drops)
			REPORT("drops: sender %08x reports %u events dropped in its rings since boot",
			       h.sender, h.drops_total);
		break;
	}
	for (i = 0; i < nev; i++) {
		/* "sender" is the UDP source address (unauthenticated, informative);
		 * "sender_id" is the authenticated identity (docs/PROTOCOL.md) */
		snprintf(extra, sizeof(extra),
			 "\"sender\":\"%s\",\"sender_id\":%u,\"boot\":\"%s\",\"seq\":%llu,\"rec\":%u",
			 fromstr, h.sender, nonce, (unsigned long long)h.seq, i);
		size_t len = hv_event_to_json(&evs[i], extra, line, sizeof(line));
		if (!len)
			continue;
		if (evs[i].hdr.type == HV_EV_DROPS)
			st.sender_drops_events += evs[i].u.drops.count;
		check_profile(&evs[i], h.sender, nonce, s);
		if (fwrite(line, 1, len, out) != len)
			fatal_write("");
		if (latency && nlat < LAT_MAX) {
			struct timespec ts;
			if (fflush(out))
				fatal_write("");
			clock_gettime(CLOCK_MONOTONIC, &ts);
			lat_ns[nlat++] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - evs[i].hdr.tsc;
		}
		st.events++;
		if (sfd >= 0)
			send_syslog(&evs[i], h.sender, nonce, h.seq, line, len - 1);
		if (count && st.events >= count)
			break;
	}
	return (int)(st.events - events_before);
}

/* Silence: a session with nothing new for --silence seconds, once. Only a
 * sender's newest boot is watched (an older boot going quiet is a reboot). */
static void check_silence(double t)
{
	static double last;
	if (t - last < 0.5)      /* O(sessions): twice a second, not per datagram */
		return;
	last = t;
	for (size_t k = 0; k < track.cap; k++) {
		struct track_session *ss = &track.s[k];
		char nn[2 * HV_WIRE_NONCE_LEN + 1];
		if (!ss->used || ss->silent_reported || !ss->last_new || t - ss->last_new < silence)
			continue;
		bool newest = track_is_newest(&track, ss);
		if (!newest)
			continue;
		ss->silent_reported = true;
		silences++;
		hex(nn, ss->nonce, HV_WIRE_NONCE_LEN);
		REPORT("silence: sender %08x boot %s: nothing for %.0f s (last seq %llu)", ss->sender, nn,
		       t - ss->last_new, (unsigned long long)ss->max_seq);
	}
}

static int exit_flags;

static void print_summary(void)
{
	uint64_t missing = 0, sender_drops = 0;
	int flags = 0;
	save_state();
	fflush(out);
	agg_flush();
	for (size_t k = 0; k < track.cap; k++) {
		if (!track.s[k].used)
			continue;
		missing += track.s[k].missing;
		sender_drops += track.s[k].drops_total;
	}
	if (missing) flags |= F_LOSS;
	if (st.duplicates) flags |= F_DUP;
	if (st.forged || st.malformed) flags |= F_FORGED;
	if (st.replays) flags |= F_REPLAY;
	if (sender_drops || st.sender_drops_events) flags |= F_DROPS;
	if (st.alarms) flags |= F_ALARM;
	fprintf(stderr, "%s: summary: datagrams %llu events %llu lost %llu reordered %llu duplicates %llu "
		"forged %llu malformed %llu replays %llu sender_drops %llu silences %llu alarms %llu\n", prog,
		(unsigned long long)st.datagrams, (unsigned long long)st.events,
		(unsigned long long)missing, (unsigned long long)st.late,
		(unsigned long long)st.duplicates, (unsigned long long)st.forged,
		(unsigned long long)st.malformed, (unsigned long long)st.replays,
		(unsigned long long)(sender_drops > st.sender_drops_events ? sender_drops : st.sender_drops_events),
		(unsigned long long)silences, (unsigned long long)st.alarms);
	if (track.evicted)
		fprintf(stderr, "%s: sessions: %llu evicted (table of %zu full; --sessions), %llu tombstones overwritten\n",
			prog, (unsigned long long)track.evicted, track.cap, (unsigned long long)track.tombs_lost);
	fflush(stderr);
	exit_flags = flags;
}

/*
 * --make-profile ID (issue 18): the profile line an operator writes for a
 * host, computed from the files deployed on it (tools/hvmon-collect-profile.c
 * reproduces vmm/measure.c), so that --profile needs no trial boot.
 */
static int make_profile(const char *id, int loader, const char *hvmon, const char *kernel, const char *initrd,
			const char *options)
{
	char err[512], h[65], mons[128], summary[1024], line[1024];
	char *end;
	size_t n = 0;
	errno = 0;
	unsigned long v = strtoul(id, &end, 0);
	if (errno || *end || !*id || v > 0xffffffffUL)
		die(EXIT_USAGE, "--make-profile '%s': sender id: expected a number (decimal or 0x...)", id);
	if (!hvmon && !kernel && !initrd && !options)
		die(EXIT_USAGE, "--make-profile: give at least one of --hvmon, --kernel, --initrd, --options");
	/* everything is computed before anything is printed: an error leaves no half line */
	n += (size_t)snprintf(line + n, sizeof(line) - n, "0x%08lx", v);
	if (options) {
		if (prof_options(options, h, mons, sizeof(mons), summary, sizeof(summary), err, sizeof(err)))
			die(EXIT_USAGE, "--options: %s", err);
		if (mons[0])
			n += (size_t)snprintf(line + n, sizeof(line) - n, " monitors=%s", mons);
	}
	const char *files[3] = { hvmon, kernel, initrd };
	for (int k = 0; k < 3; k++) {
		size_t len;
		uint8_t *data;
		char fh[65];
		if (!files[k])
			continue;
		if (!(data = prof_read_file(files[k], &len, err, sizeof(err))))
			die(EXIT_USAGE, "%s", err);
		int rc = k == 0 ? prof_hvmon_sha256(data, len, fh, err, sizeof(err))
				: prof_module_sha256(data, len, loader, fh, err, sizeof(err));
		free(data);
		if (rc)
			die(EXIT_USAGE, "%s: %s", files[k], err);
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%s", prof_hash_key[k], fh);
	}
	if (options)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%s", prof_hash_key[3], h);
	printf("# hvmon-collect --make-profile: sender 0x%08lx, loader %s\n", v,
	       loader == PROF_LOADER_UEFI ? "uefi" : "multiboot2");
	if (options)
		printf("# effective options: %s\n", summary);
	printf("%s\n", line);
	if (fflush(stdout) || ferror(stdout))
		die(EXIT_RUNTIME, "write standard output: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, 0, 'l' },
		{ "key", required_argument, 0, 'k' },
		{ "out", required_argument, 0, 'o' },
		{ "syslog", required_argument, 0, 's' },
		{ "count", required_argument, 0, 'c' },
		{ "timeout", required_argument, 0, 't' },
		{ "quiet", no_argument, 0, 'q' },
		{ "silence", required_argument, 0, 'S' },
		{ "latency", no_argument, 0, 'L' },
		{ "genkey", required_argument, 0, 'g' },
		{ "sessions", required_argument, 0, 'n' },
		{ "profile", required_argument, 0, 'p' },
		{ "host-keys", required_argument, 0, 'H' },
		{ "state", required_argument, 0, 'Z' },
		{ "make-profile", required_argument, 0, 'M' },
		{ "loader", required_argument, 0, 'B' },
		{ "hvmon", required_argument, 0, 'E' },
		{ "kernel", required_argument, 0, 'K' },
		{ "initrd", required_argument, 0, 'I' },
		{ "options", required_argument, 0, 'O' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *listen_s = NULL, *key_s = NULL, *out_s = NULL, *syslog_s = NULL;
	const char *mp_id = NULL, *mp_file[3] = { 0 }, *mp_options = NULL;
	int mp_loader = PROF_LOADER_MULTIBOOT2, mp_only = 0;
	double timeout = 0;
	int c;
	char *end;
	char err[256];

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_s = optarg; break;
		case 'k': key_s = optarg; break;
		case 'o': out_s = optarg; break;
		case 's': syslog_s = optarg; break;
		case 'q': quiet = 1; break;
		case 'L': latency = 1; break;
		case 'c':
			errno = 0;
			count = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' || !count)
				die(EXIT_USAGE, "--count '%s': expected a positive integer", optarg);
			break;
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(timeout > 0))
				die(EXIT_USAGE, "--timeout '%s': expected a positive number of seconds", optarg);
			break;
		case 'S':
			errno = 0;
			silence = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(silence > 0))
				die(EXIT_USAGE, "--silence '%s': expected a positive number of seconds", optarg);
			break;
		case 'p':
			load_profiles(optarg);
			break;
		case 'H':
			load_hostkeys(optarg);
			break;
		case 'Z':
			state_path = optarg;
			break;
		case 'M': mp_id = optarg; break;
		case 'B':
			if (!strcmp(optarg, "multiboot2") || !strcmp(optarg, "grub"))
				mp_loader = PROF_LOADER_MULTIBOOT2;
			else if (!strcmp(optarg, "uefi"))
				mp_loader = PROF_LOADER_UEFI;
			else
				die(EXIT_USAGE, "--loader '%s': expected multiboot2 (GRUB) or uefi (hvmon.efi)", optarg);
			mp_only = 1;
			break;
		case 'E': mp_file[0] = optarg; mp_only = 1; break;
		case 'K': mp_file[1] = optarg; mp_only = 1; break;
		case 'I': mp_file[2] = optarg; mp_only = 1; break;
		case 'O': mp_options = optarg; mp_only = 1; break;
		case 'n': {
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' || v < 1 || v > 10000000)
				die(EXIT_USAGE, "--sessions '%s': expected 1..10000000", optarg);
			track_cap = (size_t)v;
			break;
		}
		case 'g':
			if (key_generate(optarg, err, sizeof(err)))
				die(EXIT_KEY, "%s", err);
			fprintf(stderr, "%s: wrote a new 32-byte key to %s\n", prog, optarg);
			return 0;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "%s: unknown or incomplete option '%s'\n", prog, argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (mp_id)
		return make_profile(mp_id, mp_loader, mp_file[0], mp_file[1], mp_file[2], mp_options);
	if (mp_only)
		die(EXIT_USAGE, "--loader, --hvmon, --kernel, --initrd and --options go with --make-profile");
	if (!listen_s || !key_s) {
		fprintf(stderr, "%s: --listen and --key are required\n", prog);
		usage(stderr);
		return EXIT_USAGE;
	}
	struct sockaddr_in la;
	parse_hostport(listen_s, &la, "--listen");
	if (syslog_s)
		parse_hostport(syslog_s, &sa, "--syslog");
	if (key_load(key_s, psk, err, sizeof(err)))
		die(EXIT_KEY, "%s", err);

	out = stdout;
	out_path = out_s;
	if (out_s && !(out = open_output(out_s)))
		die(EXIT_RUNTIME, "--out %s: %s", out_s, strerror(errno));
	ensure_track();
	if (state_path)
		load_state();
	/* stderr fully buffered, flushed once per received datagram: a flood
	 * costs one write per datagram at most, not one per line */
	static char errbuf[1 << 16];
	setvbuf(stderr, errbuf, _IOFBF, sizeof(errbuf));

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die(EXIT_RUNTIME, "socket: %s", strerror(errno));
	int rcvbuf = 16 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&la, sizeof(la)))
		die(EXIT_RUNTIME, "bind %s: %s", listen_s, strerror(errno));
	if (syslog_s && (sfd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die(EXIT_RUNTIME, "socket: %s", strerror(errno));

	struct sigaction sig = { .sa_handler = on_signal };
	sigaction(SIGINT, &sig, NULL);
	sigaction(SIGTERM, &sig, NULL);
	struct sigaction hup = { .sa_handler = on_hup };
	sigaction(SIGHUP, &hup, NULL);
	/* a closed stdout pipe is a write error (EPIPE, reported, exit 1), not a
	 * silent death without the summary */
	signal(SIGPIPE, SIG_IGN);
	if (!quiet)
		fprintf(stderr, "%s: listening on %s\n", prog, listen_s);

	static uint8_t dgram[65536];
	double t0 = now_s();

	while (!stop && !(count && st.events >= count)) {
		int wait_ms = 1000;           /* wake up at least every second: silence checks */
		if (timeout) {
			double left = timeout - (now_s() - t0);
			if (left <= 0)
				break;
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		if (reopen)
			reopen_output();
		{
			static double last_save;
			if (state_path && now_s() - last_save >= 60) {
				if (last_save)
					save_state();
				last_save = now_s();
			}
		}
		check_silence(now_s());
		if ((long)now_s() != agg_sec)
			agg_flush();
		fflush(stderr);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, wait_ms);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_RUNTIME, "poll: %s", strerror(errno));
		}
		if (!pr)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, dgram, sizeof(dgram), 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die(EXIT_RUNTIME, "recvfrom: %s", strerror(errno));
		}
		process_datagram(dgram, (size_t)n, &from);
		if (fflush(out))
			fatal_write("");
		fflush(stderr);
	}
	if (fflush(out) || ferror(out))
		fatal_write("");

	print_summary();
	if (latency && nlat) {
		qsort(lat_ns, nlat, sizeof(lat_ns[0]), cmp_u64);
		fprintf(stderr, "%s: latency (event created -> JSON line written), %zu events: "
			"min %.1f us, median %.1f us, p99 %.1f us, max %.1f us\n", prog, nlat,
			lat_ns[0] / 1e3, lat_ns[nlat / 2] / 1e3, lat_ns[nlat * 99 / 100] / 1e3,
			lat_ns[nlat - 1] / 1e3);
	}
	return exit_flags ? EXIT_FLAGS + exit_flags : 0;
}
