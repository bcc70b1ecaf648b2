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

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2
#define EXIT_KEY     3
#define EXIT_FLAGS   64
#define F_LOSS       1
#define F_DUP        2
#define F_FORGED     4
#define F_REPLAY     8
#define F_DROPS      16

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = 1; }

static const char *prog = "hvmon-collect";

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s --listen ADDR:PORT --key FILE [--out FILE] [--syslog HOST:PORT]\n"
"                     [--count N] [--timeout SECONDS] [--silence SECONDS] [--quiet]\n"
"       %s --genkey FILE\n"
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
"exit: 0 clean, 1 runtime error, 2 usage, 3 key file, 64+bits: 1 loss,\n"
"      2 duplicates, 4 forged/malformed, 8 replays, 16 sender ring drops\n",
		prog, prog);
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
static uint8_t psk[HV_WIRE_KEY_LEN];
static FILE *out;
static int sfd = -1;
static struct sockaddr_in sa;
static unsigned long long count;
static struct hv_event evs[HV_WIRE_MAX_PAYLOAD / HV_WIRE_REC_HDR_LEN];
static char line[HV_EVENT_JSON_MAX + 256], extra[256], sysmsg[HV_EVENT_JSON_MAX + 512];

static struct {
	uint64_t datagrams, events, forged, malformed, replays, duplicates, late;
	uint64_t lost_reported, sender_drops_events;
} st;
static int quiet;
static double last_seen[TRACK_SESSIONS];
static bool silent_reported[TRACK_SESSIONS];
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

static void hex(char *dst, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = d[p[i] >> 4];
		dst[2 * i + 1] = d[p[i] & 15];
	}
	dst[2 * n] = 0;
}

static int severity(unsigned type)
{
	switch (type) {
	case HV_EV_HANG: case HV_EV_RET2USR: case HV_EV_CR4_TAMPER: case HV_EV_KEYLOGGER:
		return 4;   /* warning */
	case HV_EV_DROPS: case HV_EV_MONITOR_STATE:
		return 5;   /* notice */
	default:
		return 6;   /* info */
	}
}

/* One received datagram: verify, track, decode, output. Returns events written. */
static int process_datagram(uint8_t *dgram, size_t n, const struct sockaddr_in *fromp)
{
	struct sockaddr_in from = *fromp;
	unsigned long long events_before = st.events;
	char fromstr[64];
	snprintf(fromstr, sizeof(fromstr), "%s:%u", inet_ntoa(from.sin_addr), ntohs(from.sin_port));
	st.datagrams++;

	struct hv_wire_hdr h;
	const uint8_t *payload;
	uint8_t bkey[HV_WIRE_KEY_LEN];
	int rc = hv_wire_parse_header(dgram, (size_t)n, &h);
	if (!rc) {
		hv_wire_derive_key(psk, h.boot_nonce, bkey);
		rc = hv_wire_open(bkey, dgram, (size_t)n, &h, &payload);
	}
	if (rc) {
		st.forged++;
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
		REPORT("malformed: authenticated datagram from %s seq %llu: record %u of %u does not decode",
		       fromstr, (unsigned long long)h.seq, i, h.nrec);
		return 0;
	}
	struct track_session *s;
	uint64_t gfrom, glen;
	uint32_t prev_drops = 0;
	bool known = false;
	for (int k = 0; k < TRACK_SESSIONS; k++)
		if (track.s[k].used && track.s[k].sender == h.sender &&
		    !memcmp(track.s[k].nonce, h.boot_nonce, HV_WIRE_NONCE_LEN)) {
			known = true;
			prev_drops = track.s[k].drops_total;
		}
	enum track_verdict v = track_datagram(&track, &h, &s, &gfrom, &glen);
	{
		int k = (int)(s - track.s);
		if (!known)
			silent_reported[k] = false;
		if (v == TRACK_NEW || v == TRACK_LATE) {
			if (silent_reported[k])
				REPORT("silence over: sender %08x after %.0f s", h.sender, now_s() - last_seen[k]);
			silent_reported[k] = false;
			last_seen[k] = now_s();
		}
	}
	if (!known && !quiet)
		REPORT("session: sender %08x boot %s from %s (seq %llu)", h.sender, nonce, fromstr,
		       (unsigned long long)h.seq);
	switch (v) {
	case TRACK_REPLAY:
		st.replays++;
		REPORT("replay: sender %08x boot %s seq %llu from %s rejected (%s)", h.sender, nonce,
		       (unsigned long long)h.seq, fromstr,
		       s->superseded ? "session superseded by a newer boot" : "older than the replay window");
		return 0;
	case TRACK_DUPLICATE:
		st.duplicates++;
		REPORT("duplicate: sender %08x boot %s seq %llu from %s dropped", h.sender, nonce,
		       (unsigned long long)h.seq, fromstr);
		return 0;
	case TRACK_LATE:
		st.late++;
		REPORT("reordered: sender %08x boot %s seq %llu arrived late (gap filled)", h.sender, nonce,
		       (unsigned long long)h.seq);
		break;
	case TRACK_NEW:
		if (glen) {
			st.lost_reported += glen;
			REPORT("gap: sender %08x boot %s seq %llu..%llu missing (%llu datagrams)", h.sender, nonce,
			       (unsigned long long)gfrom, (unsigned long long)(gfrom + glen - 1),
			       (unsigned long long)glen);
		}
		if (h.drops_total > prev_drops)
			REPORT("drops: sender %08x reports %u events dropped in its rings since boot",
			       h.sender, h.drops_total);
		break;
	}
	for (i = 0; i < nev; i++) {
		snprintf(extra, sizeof(extra),
			 "\"sender\":\"%s\",\"sender_id\":%u,\"boot\":\"%s\",\"seq\":%llu,\"rec\":%u",
			 fromstr, h.sender, nonce, (unsigned long long)h.seq, i);
		size_t len = hv_event_to_json(&evs[i], extra, line, sizeof(line));
		if (!len)
			continue;
		if (evs[i].hdr.type == HV_EV_DROPS)
			st.sender_drops_events += evs[i].u.drops.count;
		if (fwrite(line, 1, len, out) != len)
			die(EXIT_RUNTIME, "write output: %s", strerror(errno));
		if (latency && nlat < LAT_MAX) {
			struct timespec ts;
			fflush(out);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			lat_ns[nlat++] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - evs[i].hdr.tsc;
		}
		st.events++;
		if (sfd >= 0) {
			/* RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG */
			struct timespec ts;
			struct tm tm;
			char tstr[64];
			clock_gettime(CLOCK_REALTIME, &ts);
			gmtime_r(&ts.tv_sec, &tm);
			strftime(tstr, sizeof(tstr), "%Y-%m-%dT%H:%M:%S", &tm);
			line[len - 1] = 0;   /* strip newline */
			int m = snprintf(sysmsg, sizeof(sysmsg),
				"<%d>1 %s.%06ldZ %s hvmon %u %s [hvmon@32473 boot=\"%s\" seq=\"%llu\"] %s",
				16 * 8 + severity(evs[i].hdr.type), tstr, ts.tv_nsec / 1000,
				inet_ntoa(from.sin_addr), h.sender,
				hv_event_type_name(evs[i].hdr.type), nonce,
				(unsigned long long)h.seq, line);
			if (m > 0)
				sendto(sfd, sysmsg, (size_t)m < sizeof(sysmsg) ? (size_t)m : sizeof(sysmsg) - 1, 0,
				       (struct sockaddr *)&sa, sizeof(sa));
		}
		if (count && st.events >= count)
			break;
	}
	return (int)(st.events - events_before);
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
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *listen_s = NULL, *key_s = NULL, *out_s = NULL, *syslog_s = NULL;
	double timeout = 0, silence = 15;
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
	if (out_s && !(out = fopen(out_s, "a")))
		die(EXIT_RUNTIME, "--out %s: %s", out_s, strerror(errno));

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
	if (!quiet)
		fprintf(stderr, "%s: listening on %s\n", prog, listen_s);

	static uint8_t dgram[65536];
	double t0 = now_s();
	int flags = 0;

	while (!stop && !(count && st.events >= count)) {
		int wait_ms = 1000;           /* wake up at least every second: silence checks */
		if (timeout) {
			double left = timeout - (now_s() - t0);
			if (left <= 0)
				break;
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		{
			double t = now_s();
			for (int k = 0; k < TRACK_SESSIONS; k++) {
				struct track_session *ss = &track.s[k];
				char nn[2 * HV_WIRE_NONCE_LEN + 1];
				if (!ss->used || ss->superseded || silent_reported[k] || t - last_seen[k] < silence)
					continue;
				silent_reported[k] = true;
				silences++;
				hex(nn, ss->nonce, HV_WIRE_NONCE_LEN);
				REPORT("silence: sender %08x boot %s: nothing for %.0f s (last seq %llu)", ss->sender, nn,
				       t - last_seen[k], (unsigned long long)ss->max_seq);
			}
		}
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
		fflush(out);
	}
	fflush(out);

	uint64_t missing = 0, sender_drops = 0;
	for (int k = 0; k < TRACK_SESSIONS; k++) {
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
	fprintf(stderr, "%s: summary: datagrams %llu events %llu lost %llu reordered %llu duplicates %llu "
		"forged %llu malformed %llu replays %llu sender_drops %llu silences %llu\n", prog,
		(unsigned long long)st.datagrams, (unsigned long long)st.events,
		(unsigned long long)missing, (unsigned long long)st.late,
		(unsigned long long)st.duplicates, (unsigned long long)st.forged,
		(unsigned long long)st.malformed, (unsigned long long)st.replays,
		(unsigned long long)(sender_drops > st.sender_drops_events ? sender_drops : st.sender_drops_events),
		(unsigned long long)silences);
	if (latency && nlat) {
		qsort(lat_ns, nlat, sizeof(lat_ns[0]), cmp_u64);
		fprintf(stderr, "%s: latency (event created -> JSON line written), %zu events: "
			"min %.1f us, median %.1f us, p99 %.1f us, max %.1f us\n", prog, nlat,
			lat_ns[0] / 1e3, lat_ns[nlat / 2] / 1e3, lat_ns[nlat * 99 / 100] / 1e3,
			lat_ns[nlat - 1] / 1e3);
	}
	return flags ? EXIT_FLAGS + flags : 0;
}
