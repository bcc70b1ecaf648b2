/*
 * options — hvmon's option parser. One parser for every front end: the
 * Multiboot2 command line (`multiboot2 /hvmon.elf console=com2 log=debug ...`)
 * and the UEFI config file (translated to the same key=value words).
 *
 * Syntax: words separated by spaces/tabs/newlines; each word is key=value;
 * a value may be double-quoted ("..." may contain spaces; no escapes).
 * Every key is documented in docs/OPTIONS.md (a contract).
 *
 * Errors never stop parsing: an unknown key or a bad value is appended to the
 * error list (the word and why) and that key keeps its default (or its last good
 * value). hvmon prints the list and continues with what parsed.
 * Freestanding, no allocation, bounded by HV_OPT_CMDLINE_MAX input bytes.
 */
#ifndef HVMON_VMM_OPTIONS_H
#define HVMON_VMM_OPTIONS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "lib/console.h"     /* enum hv_log_level */

#define HV_OPT_CMDLINE_MAX   4096   /* bytes examined at most */
#define HV_OPT_WORD_MAX      64     /* bytes of an offending word kept in an error */
#define HV_OPT_WHY_MAX       96
#define HV_OPT_MAX_ERRORS    16
#define HV_OPT_NAMES_MAX     16     /* names in a HV_OPT_NAMES list */
#define HV_OPT_COMM_MAX      16     /* TASK_COMM_LEN, incl. NUL */
#define HV_OPT_MAX_OWNERS    8      /* monitors whose keys the parser is handed */
#define HV_OPT_CONFIG_MAX    512    /* bytes of one monitor's parsed configuration */
#define HV_OPT_KEY_MAX       64     /* PSK buffer bytes (kept for layout) */
#define HV_OPT_KEY_LEN       32     /* key= must be exactly this many bytes (64 hex digits) */

enum hv_crash_action { HV_CRASH_HALT = 0, HV_CRASH_RESET = 1 };
enum hv_no_vtx { HV_NOVTX_REFUSE = 0, HV_NOVTX_BOOT_UNMONITORED = 1 };
/* wire_aead= (issue 16, docs/OPTIONS.md): the wire version hvmon sends. AUTO:
 * version 2 (AES-256-GCM) when CPUID has AES-NI + PCLMULQDQ, else version 1. */
enum hv_wire_aead { HV_WAEAD_AUTO = 0, HV_WAEAD_CHACHA = 1, HV_WAEAD_GCM = 2 };
enum hv_iommu { HV_IOMMU_AUTO = 0, HV_IOMMU_REQUIRED = 1, HV_IOMMU_OFF = 2 };
/* console_events= : event lines echoed on the console (docs/OPTIONS.md). DEFAULT
 * resolves at run time: ALL without collector=, NONE with it (the network is the
 * record). RATE: at most console_events_rate lines per second of guest time. */
enum hv_console_events { HV_CEV_DEFAULT = 0, HV_CEV_ALL = 1, HV_CEV_NONE = 2, HV_CEV_RATE = 3 };
#define HV_CEV_RATE_MAX 100000

/*
 * A monitor's own keys (docs/ARCHITECTURE.md "Adding a monitor"). The parser
 * knows no monitor: hv_options_set_owners() hands it each monitor's name (its
 * word in monitors=) and key descriptors; their values land in that monitor's
 * configuration block, o->mon_config[i], at the descriptor's offset.
 */
enum hv_opt_type {
	HV_OPT_UINT = 1,      /* uint32_t at off: decimal min..max, optional unit letter */
	HV_OPT_ENUM,          /* uint8_t at off: index of the value in names[] */
	HV_OPT_NAMES,         /* uint32_t count at off, char [max][HV_OPT_COMM_MAX] at list_off:
			       * a comma list of 1..15 printable characters each, or "none" */
};
struct hv_opt_desc {
	const char *key;
	uint8_t  type;             /* enum hv_opt_type */
	char     suffix;           /* UINT: a unit letter accepted after the number ('s'), or 0 */
	uint16_t off, list_off;
	uint32_t min, max;         /* UINT: range; NAMES: max = most names (<= HV_OPT_NAMES_MAX) */
	uint32_t def;              /* UINT, ENUM: default */
	const char *def_list;      /* NAMES: default, comma list ("" = none) */
	const char *const *names;  /* ENUM: value names, NULL-terminated */
	const char *why;           /* UINT, ENUM: the error for a bad value */
};
struct hv_opt_owner {
	const char *name;          /* the monitors= word */
	const struct hv_opt_desc *opts;
	uint32_t nr_opts;
	uint32_t config_size;      /* <= HV_OPT_CONFIG_MAX */
};

/* infer= : inference strategies run at the guest's first IA32_LSTAR write
 * (same bit values as enum infer_strategy in infer/infer.h); 0 = off. */
#define HV_INFER_PATTERNS 0x1u
#define HV_INFER_KALLSYMS 0x2u
#define HV_INFER_BTF      0x4u
#define HV_INFER_ALL      0x7u

#define HV_OPT_BURST_RATES 8   /* net_burst_rate= phases */

struct hv_options {
	uint16_t console_port;        /* I/O port of the 16550; 0 = no console. default 0x3f8 (com1) */
	uint8_t  log_level;           /* enum hv_log_level; default info */
	uint8_t  on_guest_crash;      /* enum hv_crash_action; default halt */
	uint32_t monitors;            /* bit i: owners[i] runs; default all owners */
	bool     collector_set;       /* collector=IP:PORT given */
	uint32_t collector_ip;        /* IPv4, host byte order (a.b.c.d -> a<<24|b<<16|c<<8|d) */
	uint16_t collector_port;
	bool     ip_dhcp;             /* default true */
	uint32_t ip_addr;             /* static: host byte order */
	uint8_t  ip_prefix;           /* 0..32 */
	uint32_t ip_gw;               /* 0 = no gateway given */
	uint32_t key_len;             /* PSK length in bytes; 0 = no key */
	uint8_t  key[HV_OPT_KEY_MAX];
	bool     net_first;           /* default true: first e1000 found */
	uint8_t  net_bus, net_dev, net_fn;   /* when !net_first */
	uint8_t  no_vtx;              /* enum hv_no_vtx; default refuse */
	uint8_t  net_rng_insecure;    /* net_rng=tsc-insecure: network without RDRAND/RDSEED */
	uint8_t  wire_aead;           /* enum hv_wire_aead (wire_aead=, issue 16); default auto */
	uint8_t  infer;               /* HV_INFER_* mask, 0 = off; default HV_INFER_ALL */
	uint32_t net_burst;           /* debug: synthetic events sent once the network is up (0 = none) */
	/* benchmark (issue 16): net_burst=N events per phase through CPU 0's ring at each
	 * offered rate (events per second of guest TSC time); 0 phases = the plain burst */
	uint32_t net_burst_rates;
	uint32_t net_burst_rate[HV_OPT_BURST_RATES];
	bool     bochs_exit;          /* tests: end Bochs through port 0x8900 when hvmon ends the run; default off */
	/* the monitors (hv_options_set_owners): their keys, their parsed values */
	uint32_t nr_owners;
	const struct hv_opt_owner *owners[HV_OPT_MAX_OWNERS];
	uint64_t mon_config[HV_OPT_MAX_OWNERS][HV_OPT_CONFIG_MAX / 8];
	uint8_t  iommu;               /* enum hv_iommu: VT-d DMA remapping policy; default auto */
	uint8_t  iommu_selftest;      /* tests: VT-d self-test instead of a guest (QEMU q35 + edu): 0 off, 1 on,
					 * 2 on with register-based invalidation forced; default off */
	uint8_t  console_events;      /* enum hv_console_events; default HV_CEV_DEFAULT */
	uint32_t console_events_rate; /* lines/s of guest time when HV_CEV_RATE (1..HV_CEV_RATE_MAX) */
	uint32_t smp_bench_ms;        /* benchmark: vCPU 0 runs one EPT shootdown round every N ms (0 = off) */
	uint32_t smp_fail_ap;         /* tests: the AP with this vCPU id fails its VMXON at bring-up (0 = off) */
	bool     probe_pt;            /* probe_pt=on: the kernel's page tables on the probed addresses'
					 * walks write-protected through EPT (docs/PROBES.md "Page tables"); default on */
};

struct hv_opt_error {
	char word[HV_OPT_WORD_MAX];   /* offending word, truncated, NUL-terminated */
	char why[HV_OPT_WHY_MAX];     /* reason, NUL-terminated */
};

struct hv_opt_errors {
	uint32_t count;               /* errors stored (<= HV_OPT_MAX_ERRORS) */
	uint32_t dropped;             /* further errors not stored */
	struct hv_opt_error e[HV_OPT_MAX_ERRORS];
};

/* Fill @o with the documented defaults (no monitor keys: see below). */
void hv_options_defaults(struct hv_options *o);
/* Hand the parser the monitors (in registry order, at most HV_OPT_MAX_OWNERS;
 * entries with config_size > HV_OPT_CONFIG_MAX are refused): monitors= then
 * accepts their names (default: all), and their keys are parsed into
 * o->mon_config[i], which gets each key's default now. Returns 0 or -1. */
int hv_options_set_owners(struct hv_options *o, const struct hv_opt_owner *const *owners, uint32_t n);
/* Owner @i's configuration block (NULL if out of range). */
static inline const void *hv_options_config(const struct hv_options *o, uint32_t i)
{
	return i < o->nr_owners ? (const void *)o->mon_config[i] : (const void *)0;
}

/*
 * hv_options_parse - parse @cmdline (at most min(@max_len, HV_OPT_CMDLINE_MAX)
 * bytes, stops at NUL) into @o, which must already hold defaults (or earlier
 * values: a second call layers on top). @errs may be NULL; it is cleared first.
 * Returns the number of errors found (stored + dropped); 0 = all words accepted.
 */
int hv_options_parse(const char *cmdline, size_t max_len, struct hv_options *o,
		     struct hv_opt_errors *errs);

/* console_events= after resolving the default: HV_CEV_ALL, HV_CEV_NONE or HV_CEV_RATE. */
unsigned hv_console_events_effective(const struct hv_options *o);

/* Names for printing the effective configuration. */
const char *hv_log_level_name(unsigned level);
const char *hv_crash_action_name(unsigned a);
const char *hv_no_vtx_name(unsigned a);
const char *hv_iommu_name(unsigned a);

/* Write a one-line summary of @o ("console=0x2f8 log=debug ...") into @buf
 * (always NUL-terminated when size > 0). Returns the length written. */
size_t hv_options_format(const struct hv_options *o, char *buf, size_t size);

/*
 * Key hygiene (issue 17). hv_options_redact rewrites every key=VALUE word of
 * @cmdline (NUL-terminated within @max) as key=<set>, NUL-pads the rest of the
 * buffer, and copies the last VALUE (quotes removed) into @keytext for the
 * guest RAM wipe; returns the number of key= words. hv_wipe_text zeroes every
 * occurrence of @needle (at least 16 bytes; shorter needles are not searched)
 * in p[0..len) and returns how many it wiped.
 */
size_t hv_options_redact(char *cmdline, size_t max, char *keytext, size_t keysize);
size_t hv_wipe_text(uint8_t *p, size_t len, const char *needle, size_t nlen);

#endif
