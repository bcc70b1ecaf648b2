/* Unit tests for vmm/options.c (hvmon key=value options). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/options.h"
#include "vmm/monitor.h"
#include "monitors/hang.h"
#include "monitors/ret2usr.h"
#include "monitors/keylogger.h"

static struct hv_options o;
static struct hv_opt_errors errs;

/* As hv_main does: defaults, then every monitor's keys (the registry), then parse. */
static void defaults(struct hv_options *x)
{
	const struct hv_opt_owner *own[HV_MAX_MONITORS];
	hv_options_defaults(x);
	assert_int_equal(hv_options_set_owners(x, own, hv_monitor_owners(own, HV_MAX_MONITORS)), 0);
}

static int parse(const char *s)
{
	defaults(&o);
	return hv_options_parse(s, strlen(s) + 1, &o, &errs);
}

/* a monitor's bit in monitors= and its configuration block, by name */
static uint32_t mon_bit(const char *name)
{
	for (uint32_t i = 0; i < o.nr_owners; i++)
		if (!strcmp(o.owners[i]->name, name))
			return 1u << i;
	fail_msg("no monitor %s", name);
	return 0;
}
static const void *cfg_of(const char *name)
{
	uint32_t b = mon_bit(name), i = 0;
	while (!(b & 1)) { b >>= 1; i++; }
	return hv_options_config(&o, i);
}
#define HV_MON_TRACER    mon_bit("tracer")
#define HV_MON_HANG      mon_bit("hang")
#define HV_MON_RET2USR   mon_bit("ret2usr")
#define HV_MON_KEYLOGGER mon_bit("keylogger")
#define HV_MON_ALL       ((1u << o.nr_owners) - 1)
#define HANG ((const struct hang_config *)cfg_of("hang"))
#define R2U  ((const struct r2u_config *)cfg_of("ret2usr"))
#define KL   ((const struct keylogger_config *)cfg_of("keylogger"))

static void test_defaults(void **st)
{
	(void)st;
	assert_int_equal(parse(""), 0);
	assert_int_equal(o.console_port, 0x3f8);
	assert_int_equal(o.log_level, HV_LOG_INFO);
	assert_int_equal(o.on_guest_crash, HV_CRASH_HALT);
	assert_int_equal(o.monitors, HV_MON_ALL);
	assert_int_equal(HANG->timeout_s, 5);
	assert_int_equal(R2U->action, HV_R2U_REPORT);
	assert_int_equal(KL->nr_allow, 1);                /* issue 15: the display server, for the input-device rule */
	assert_string_equal(KL->allow[0], "Xorg");
	assert_int_equal(KL->k, 8);
	assert_false(o.collector_set);
	assert_true(o.ip_dhcp);
	assert_int_equal(o.key_len, 0);
	assert_true(o.net_first);
	assert_int_equal(o.no_vtx, HV_NOVTX_REFUSE);
	assert_int_equal(hv_options_parse(NULL, 10, &o, &errs), 0);
	assert_int_equal(hv_options_parse("x", 10, NULL, &errs), -1);
}

static void test_all_keys(void **st)
{
	(void)st;
	int n = parse("console=com2 log=debug on_guest_crash=reset monitors=tracer,hang "
		      "hang_timeout=12 ret2usr_action=kill keylogger_allow=sh,myshell "
		      "keylogger_k=20 collector=10.0.2.2:5514 ip=10.0.2.15/24,10.0.2.2 "
		      "key=000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F "
		      "net=00:04.0 no_vtx=boot-unmonitored infer=patterns,btf");
	assert_int_equal(n, 0);
	assert_int_equal(errs.count, 0);
	assert_int_equal(o.console_port, 0x2f8);
	assert_int_equal(o.log_level, HV_LOG_DEBUG);
	assert_int_equal(o.on_guest_crash, HV_CRASH_RESET);
	assert_int_equal(o.monitors, HV_MON_TRACER | HV_MON_HANG);
	assert_int_equal(HANG->timeout_s, 12);
	assert_int_equal(R2U->action, HV_R2U_KILL);
	assert_int_equal(KL->nr_allow, 2);
	assert_string_equal(KL->allow[1], "myshell");
	assert_int_equal(KL->k, 20);
	assert_true(o.collector_set);
	assert_int_equal(o.collector_ip, 0x0a000202);
	assert_int_equal(o.collector_port, 5514);
	assert_false(o.ip_dhcp);
	assert_int_equal(o.ip_addr, 0x0a00020f);
	assert_int_equal(o.ip_prefix, 24);
	assert_int_equal(o.ip_gw, 0x0a000202);
	assert_int_equal(o.key_len, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(o.key[i], i);
	assert_false(o.net_first);
	assert_int_equal(o.net_bus, 0);
	assert_int_equal(o.net_dev, 4);
	assert_int_equal(o.net_fn, 0);
	assert_int_equal(o.no_vtx, HV_NOVTX_BOOT_UNMONITORED);
	assert_int_equal(o.infer, HV_INFER_PATTERNS | HV_INFER_BTF);

	char buf[512];
	size_t len = hv_options_format(&o, buf, sizeof(buf));
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf, "console=0x2f8 log=debug on_guest_crash=reset monitors=tracer,hang "
			    "hang_timeout=12 ret2usr_action=kill keylogger_allow=sh,myshell keylogger_k=20 "
			    "integrity_action=report integrity_ept=on collector=10.0.2.2:5514 ip=10.0.2.15/24,10.0.2.2 key=<set> net=00:04.0 "
			    "no_vtx=boot-unmonitored infer=patterns,btf");
	/* truncation keeps a terminated prefix */
	assert_int_equal(hv_options_format(&o, buf, 10), 9);
	assert_string_equal(buf, "console=0");
}

static void test_value_variants(void **st)
{
	(void)st;
	assert_int_equal(parse("console=none monitors=none ip=dhcp net=first hang_timeout=30s"), 0);
	assert_int_equal(o.console_port, 0);
	assert_int_equal(o.monitors, 0);
	assert_true(o.ip_dhcp);
	assert_int_equal(HANG->timeout_s, 30);
	assert_int_equal(parse("console=0x3e8 monitors=keylogger,ret2usr ip=192.168.1.7/32 keylogger_allow=none"), 0);
	assert_int_equal(o.console_port, 0x3e8);
	assert_int_equal(o.monitors, HV_MON_KEYLOGGER | HV_MON_RET2USR);
	assert_int_equal(o.ip_addr, 0xc0a80107);
	assert_int_equal(o.ip_gw, 0);
	assert_int_equal(KL->nr_allow, 0);
	assert_int_equal(parse("console=com4 console=com3"), 0);          /* last wins */
	assert_int_equal(o.console_port, 0x3e8);
	assert_int_equal(parse("net=ff:1f.7 console=com1"), 0);
	assert_int_equal(o.net_bus, 0xff);
	assert_int_equal(o.net_dev, 0x1f);
	assert_int_equal(o.net_fn, 7);
	assert_int_equal(o.console_port, 0x3f8);
}

static void test_quotes_and_whitespace(void **st)
{
	(void)st;
	assert_int_equal(parse("  \tlog=warn\n\r keylogger_allow=\"sh,bash\"  monitors=\"all\""), 0);
	assert_int_equal(o.log_level, HV_LOG_WARN);
	assert_int_equal(KL->nr_allow, 2);
	assert_string_equal(KL->allow[1], "bash");
	/* a quoted value with a space is one word (the space makes the value invalid here) */
	assert_int_equal(parse("log=\"de bug\" console=com2"), 1);
	assert_string_equal(errs.e[0].word, "log=de bug");
	assert_int_equal(o.console_port, 0x2f8);
	assert_int_equal(parse("log=\"debug console=com2"), 1);
	assert_string_equal(errs.e[0].why, "unterminated quote");
	assert_int_equal(o.console_port, 0x3f8);
	/* the image path GRUB may put first is ignored, only as the first word */
	assert_int_equal(parse("/boot/hvmon.elf log=debug"), 0);
	assert_int_equal(o.log_level, HV_LOG_DEBUG);
	assert_int_equal(parse("log=debug /boot/hvmon.elf"), 1);
}

static void expect_one_error(const char *s, const char *word)
{
	int n = parse(s);
	if (n != 1 || strcmp(errs.e[0].word, word) != 0)
		fail_msg("'%s': %d errors, first word '%s' (%s)", s, n, errs.count ? errs.e[0].word : "",
			 errs.count ? errs.e[0].why : "");
	assert_true(strlen(errs.e[0].why) > 5);
}

static void test_errors(void **st)
{
	(void)st;
	expect_one_error("bogus=1", "bogus=1");
	expect_one_error("console=com5", "console=com5");
	expect_one_error("console=0x0", "console=0x0");
	expect_one_error("console=0x10000", "console=0x10000");
	expect_one_error("log=verbose", "log=verbose");
	expect_one_error("on_guest_crash=explode", "on_guest_crash=explode");
	expect_one_error("monitors=tracer,,hang", "monitors=tracer,,hang");
	expect_one_error("monitors=tracer,", "monitors=tracer,");
	expect_one_error("monitors=tracer,fs", "monitors=tracer,fs");
	expect_one_error("hang_timeout=0", "hang_timeout=0");
	expect_one_error("hang_timeout=3601", "hang_timeout=3601");
	expect_one_error("hang_timeout=99999999999999999999999", "hang_timeout=99999999999999999999999");
	expect_one_error("hang_timeout=-5", "hang_timeout=-5");
	expect_one_error("ret2usr_action=ignore", "ret2usr_action=ignore");
	expect_one_error("keylogger_allow=averyveryverylongname", "keylogger_allow=averyveryverylongname");
	expect_one_error("keylogger_allow=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "keylogger_allow=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q");
	expect_one_error("keylogger_k=0", "keylogger_k=0");
	expect_one_error("collector=10.0.2.2", "collector=10.0.2.2");
	expect_one_error("collector=10.0.2.256:1", "collector=10.0.2.256:1");
	expect_one_error("collector=10.0.2:1", "collector=10.0.2:1");
	expect_one_error("collector=10.0.2.2:0", "collector=10.0.2.2:0");
	expect_one_error("collector=10.0.2.2:65536", "collector=10.0.2.2:65536");
	expect_one_error("collector=1.2.3.4.5:80", "collector=1.2.3.4.5:80");
	expect_one_error("ip=10.0.2.15", "ip=10.0.2.15");
	expect_one_error("ip=10.0.2.15/33", "ip=10.0.2.15/33");
	expect_one_error("ip=10.0.2.15/24,gw", "ip=10.0.2.15/24,gw");
	expect_one_error("key=abc", "key=<set>");
	expect_one_error("key=00112233", "key=<set>");
	expect_one_error("key=0011223344556677889900112233445g", "key=<set>");
	expect_one_error("net=00:20.0", "net=00:20.0");
	expect_one_error("net=00:04.8", "net=00:04.8");
	expect_one_error("net=eth0", "net=eth0");
	expect_one_error("no_vtx=maybe", "no_vtx=maybe");
	expect_one_error("justaword", "justaword");
	expect_one_error("=x", "=x");
	expect_one_error("log=", "log=");
	/* bad values keep the previous value */
	assert_int_equal(parse("log=debug log=loud"), 1);
	assert_int_equal(o.log_level, HV_LOG_DEBUG);
	assert_int_equal(parse("monitors=tracer,zzz"), 1);
	assert_string_equal(errs.e[0].why, "unknown monitor (tracer,hang,ret2usr,keylogger,integrity, or all|none)");
	assert_int_equal(o.monitors, HV_MON_ALL);
	assert_int_equal(parse("keylogger_allow=a,,b"), 1);
	assert_int_equal(KL->nr_allow, 1);           /* the default list kept */
	/* several errors, parsing continues */
	assert_int_equal(parse("a=1 log=debug b=2 console=com2 c"), 3);
	assert_int_equal(errs.count, 3);
	assert_string_equal(errs.e[1].word, "b=2");
	assert_int_equal(o.log_level, HV_LOG_DEBUG);
	assert_int_equal(o.console_port, 0x2f8);
}

/* key= must be exactly 32 bytes: the wire protocol's key size (docs/NETWORK.md) */
static void test_key_exactly_32(void **st)
{
	(void)st;
	static const char k32[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char w[200];
	snprintf(w, sizeof(w), "key=%s", k32);
	assert_int_equal(parse(w), 0);
	assert_int_equal(o.key_len, 32);
	assert_int_equal(o.key[31], 0xff);
	/* 16 bytes (the old minimum), 33 bytes, 64 bytes: each a clear error, key unset */
	snprintf(w, sizeof(w), "key=%.32s", k32);
	assert_int_equal(parse(w), 1);
	assert_string_equal(errs.e[0].why, "key must be exactly 32 bytes (64 hex digits)");
	assert_int_equal(o.key_len, 0);
	snprintf(w, sizeof(w), "key=%s00", k32);
	assert_int_equal(parse(w), 1);
	assert_string_equal(errs.e[0].why, "key must be exactly 32 bytes (64 hex digits)");
	assert_int_equal(o.key_len, 0);
	snprintf(w, sizeof(w), "key=%s%s", k32, k32);
	assert_int_equal(parse(w), 1);
	assert_int_equal(o.key_len, 0);
	snprintf(w, sizeof(w), "key=%.63sg", k32);
	assert_int_equal(parse(w), 1);
	assert_string_equal(errs.e[0].why, "not a hex digit");
	/* smp_bench_ms, smp_fail_ap (issue 11: benchmark, fault injection) */
	assert_int_equal(parse("smp_bench_ms=50 smp_fail_ap=1"), 0);
	assert_int_equal(o.smp_bench_ms, 50);
	assert_int_equal(o.smp_fail_ap, 1);
	assert_int_equal(parse("smp_bench_ms=60001"), 1);
	assert_int_equal(o.smp_bench_ms, 0);
	assert_int_equal(parse("smp_fail_ap=64"), 1);
	assert_int_equal(o.smp_fail_ap, 0);
	assert_int_equal(parse("smp_fail_ap=-1"), 1);
	/* probe_pt (issue 15: the page tables of probed addresses write-protected; default on) */
	assert_true(o.probe_pt);
	assert_int_equal(parse("probe_pt=off"), 0);
	assert_false(o.probe_pt);
	assert_int_equal(parse("probe_pt=on"), 0);
	assert_true(o.probe_pt);
	assert_int_equal(parse("probe_pt=yes"), 1);
	assert_string_equal(errs.e[0].why, "expected on|off");
	/* net_burst (debug) */
	assert_int_equal(parse("net_burst=10000"), 0);
	assert_int_equal(o.net_burst, 10000);
	assert_int_equal(parse("net_burst=1000001"), 1);
	assert_int_equal(o.net_burst, 0);
	assert_int_equal(parse("net_burst=x"), 1);
	/* net_burst_rate (benchmark, issue 16): 1..8 rates, 100..10,000,000 each */
	assert_int_equal(parse("net_burst_rate=25000,50000,1000000"), 0);
	assert_int_equal(o.net_burst_rates, 3);
	assert_int_equal(o.net_burst_rate[0], 25000);
	assert_int_equal(o.net_burst_rate[2], 1000000);
	assert_int_equal(parse("net_burst_rate=100"), 0);
	assert_int_equal(o.net_burst_rates, 1);
	assert_int_equal(parse("net_burst_rate=99"), 1);
	assert_int_equal(o.net_burst_rates, 0);
	assert_int_equal(parse("net_burst_rate=10000001"), 1);
	assert_int_equal(parse("net_burst_rate=1000,"), 1);
	assert_int_equal(parse("net_burst_rate=,1000"), 1);
	assert_int_equal(parse("net_burst_rate=1000,x"), 1);
	assert_int_equal(parse("net_burst_rate=1,2,3,4,5,6,7,8,9"), 1);
	assert_int_equal(parse("net_burst_rate=100,200,300,400,500,600,700,800"), 0);
	assert_int_equal(o.net_burst_rates, 8);
	assert_int_equal(parse("net_burst_rate=100,200,300,400,500,600,700,800,900"), 1);
	assert_int_equal(o.net_burst_rates, 0);
	/* one numeric parser for all: a single-value key takes no list, no empty value, no sign */
	assert_int_equal(parse("smp_bench_ms=1,2"), 1);
	assert_int_equal(o.smp_bench_ms, 0);
	assert_int_equal(parse("net_burst="), 1);
	assert_int_equal(parse("smp_fail_ap=+1"), 1);
	assert_int_equal(parse("smp_bench_ms=60000 smp_fail_ap=63 net_burst=1000000"), 0);
	assert_int_equal(o.smp_bench_ms, 60000);
	assert_int_equal(o.smp_fail_ap, 63);
	assert_int_equal(o.net_burst, 1000000);
	assert_int_equal(parse("console_events=100000"), 0);
	assert_int_equal(o.console_events, HV_CEV_RATE);
	assert_int_equal(o.console_events_rate, 100000);
	assert_int_equal(parse("console_events=5,6"), 1);
	assert_int_equal(o.console_events, HV_CEV_DEFAULT);
	assert_int_equal(parse("net_burst_rate=00100"), 0);          /* leading zeros, as before */
	assert_int_equal(o.net_burst_rate[0], 100);
}

static void test_infer_key(void **st)
{
	(void)st;
	char buf[512];
	/* default: every strategy */
	hv_options_defaults(&o);
	assert_int_equal(o.infer, HV_INFER_ALL);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " infer=all"));
	assert_int_equal(parse("infer=off"), 0);
	assert_int_equal(o.infer, 0);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " infer=off"));
	assert_int_equal(parse("infer=patterns"), 0);
	assert_int_equal(o.infer, HV_INFER_PATTERNS);
	assert_int_equal(parse("infer=kallsyms,btf"), 0);
	assert_int_equal(o.infer, HV_INFER_KALLSYMS | HV_INFER_BTF);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " infer=kallsyms,btf"));
	assert_int_equal(parse("infer=btf,patterns,kallsyms"), 0);
	assert_int_equal(o.infer, HV_INFER_ALL);
	/* bad values: an error each, the previous value stays */
	assert_int_equal(parse("infer=patterns infer=dwarf"), 1);
	assert_int_equal(o.infer, HV_INFER_PATTERNS);
	assert_string_equal(errs.e[0].word, "infer=dwarf");
	assert_int_equal(parse("infer=patterns infer="), 1);
	assert_int_equal(parse("infer=patterns infer=patterns,"), 1);
	assert_int_equal(parse("infer=patterns infer=,btf"), 1);
	assert_int_equal(parse("infer=patterns infer=patterns,,btf"), 1);
	assert_int_equal(parse("infer=patterns infer=ALL"), 1);
	assert_int_equal(o.infer, HV_INFER_PATTERNS);
}

static void test_bochs_exit(void **st)
{
	(void)st;
	char buf[512];
	/* default off, and not in the formatted line */
	hv_options_defaults(&o);
	assert_false(o.bochs_exit);
	hv_options_format(&o, buf, sizeof(buf));
	assert_null(strstr(buf, "bochs_exit"));
	assert_int_equal(parse("bochs_exit=on"), 0);
	assert_true(o.bochs_exit);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " bochs_exit=on"));
	assert_int_equal(parse("bochs_exit=on bochs_exit=off"), 0);
	assert_false(o.bochs_exit);
	/* a bad value is an error and leaves the previous value */
	assert_int_equal(parse("bochs_exit=on bochs_exit=yes"), 1);
	assert_true(o.bochs_exit);
	assert_string_equal(errs.e[0].word, "bochs_exit=yes");
}

static void test_iommu(void **st)
{
	(void)st;
	char buf[512];
	hv_options_defaults(&o);
	assert_int_equal(o.iommu, HV_IOMMU_AUTO);             /* documented default */
	assert_int_equal(o.iommu_selftest, 0);
	hv_options_format(&o, buf, sizeof(buf));
	assert_null(strstr(buf, "iommu"));
	assert_int_equal(parse("iommu=required"), 0);
	assert_int_equal(o.iommu, HV_IOMMU_REQUIRED);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " iommu=required"));
	assert_int_equal(parse("iommu=off"), 0);
	assert_int_equal(o.iommu, HV_IOMMU_OFF);
	assert_int_equal(parse("iommu=required iommu=auto"), 0);
	assert_int_equal(o.iommu, HV_IOMMU_AUTO);
	assert_int_equal(parse("iommu=off iommu=yes"), 1);
	assert_int_equal(o.iommu, HV_IOMMU_OFF);
	assert_string_equal(errs.e[0].word, "iommu=yes");
	assert_string_equal(errs.e[0].why, "expected required|auto|off");
	assert_int_equal(parse("iommu_selftest=register"), 0);
	assert_int_equal(o.iommu_selftest, 2);
	assert_int_equal(parse("iommu_selftest=on iommu_selftest=maybe"), 1);
	assert_int_equal(o.iommu_selftest, 1);
	assert_string_equal(hv_iommu_name(HV_IOMMU_REQUIRED), "required");
	assert_string_equal(hv_iommu_name(9), "?");
}

static void test_console_events(void **st)
{
	(void)st;
	char buf[2048];
	/* default: all without a collector, none with one (the network is the record) */
	assert_int_equal(parse(""), 0);
	assert_int_equal(o.console_events, HV_CEV_DEFAULT);
	assert_int_equal(hv_console_events_effective(&o), HV_CEV_ALL);
	hv_options_format(&o, buf, sizeof(buf));
	assert_null(strstr(buf, "console_events"));
	assert_int_equal(parse("collector=10.0.2.2:5140"), 0);
	assert_int_equal(hv_console_events_effective(&o), HV_CEV_NONE);
	/* explicit values win over the collector rule */
	assert_int_equal(parse("collector=10.0.2.2:5140 console_events=all"), 0);
	assert_int_equal(hv_console_events_effective(&o), HV_CEV_ALL);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " console_events=all"));
	assert_int_equal(parse("console_events=none"), 0);
	assert_int_equal(hv_console_events_effective(&o), HV_CEV_NONE);
	assert_int_equal(parse("console_events=25"), 0);
	assert_int_equal(hv_console_events_effective(&o), HV_CEV_RATE);
	assert_int_equal(o.console_events_rate, 25);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " console_events=25"));
	/* bad values: an error each, the previous value stays */
	assert_int_equal(parse("console_events=all console_events=0"), 1);
	assert_int_equal(o.console_events, HV_CEV_ALL);
	assert_string_equal(errs.e[0].why, "expected all|none or lines per second 1..100000");
	assert_int_equal(parse("console_events=100001"), 1);
	assert_int_equal(parse("console_events=some"), 1);
	assert_int_equal(o.console_events, HV_CEV_DEFAULT);
}

static void test_error_overflow_and_long(void **st)
{
	(void)st;
	char buf[2048] = "";
	for (int i = 0; i < 40; i++)
		strcat(buf, "x=1 ");
	assert_int_equal(parse(buf), 40);
	assert_int_equal(errs.count, HV_OPT_MAX_ERRORS);
	assert_int_equal(errs.dropped, 40 - HV_OPT_MAX_ERRORS);
	/* a long word: truncated in the error record, NUL-terminated */
	char lw[1200];
	memset(lw, 'a', sizeof(lw) - 1);
	lw[sizeof(lw) - 1] = 0;
	assert_int_equal(parse(lw), 1);
	assert_int_equal(strlen(errs.e[0].word), HV_OPT_WORD_MAX - 1);
	/* max_len bounds what is read: "log=debug" cut to "log=de" is an error */
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse("log=debug", 6, &o, &errs), 1);
	assert_int_equal(o.log_level, HV_LOG_INFO);
	/* NULL errs is allowed */
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse("x=1 y=2", 100, &o, NULL), 2);
}

#define K64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* issue 17: the key is never printed, and every copy can be wiped */
static void test_key_redact(void **state)
{
	char cl[256], kt[80];
	struct hv_options o;
	struct hv_opt_errors errs;
	snprintf(cl, sizeof(cl), "console=com2 key=" K64 " keylogger_k=3");
	memset(cl + strlen(cl) + 1, 'Z', sizeof(cl) - strlen(cl) - 1);   /* stale tail */
	assert_int_equal(hv_options_redact(cl, sizeof(cl), kt, sizeof(kt)), 1);
	assert_string_equal(cl, "console=com2 key=<set> keylogger_k=3");
	assert_string_equal(kt, K64);
	for (size_t i = strlen(cl); i < sizeof(cl); i++)
		assert_int_equal(cl[i], 0);
	/* quoted, twice: the last value is kept for the wipe */
	snprintf(cl, sizeof(cl), "key=\"ab\" log=info key=" K64);
	assert_int_equal(hv_options_redact(cl, sizeof(cl), kt, sizeof(kt)), 2);
	assert_string_equal(cl, "key=<set> log=info key=<set>");
	assert_string_equal(kt, K64);
	/* no key: untouched; keylogger_* are not key= */
	snprintf(cl, sizeof(cl), "keylogger_k=3 log=info");
	assert_int_equal(hv_options_redact(cl, sizeof(cl), kt, sizeof(kt)), 0);
	assert_string_equal(cl, "keylogger_k=3 log=info");
	/* a bad key= value is reported without its text */
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse("key=0011223344556677889", 64, &o, &errs), 1);
	assert_string_equal(errs.e[0].word, "key=<set>");
	/* the summary */
	char sum[1024];
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse("key=" K64, 200, &o, NULL), 0);
	hv_options_format(&o, sum, sizeof(sum));
	assert_non_null(strstr(sum, " key=<set> "));
	assert_null(strstr(sum, "00112233"));
	assert_null(strstr(sum, "probe_pt"));              /* the default (on) is not shown */
	assert_int_equal(hv_options_parse("probe_pt=off", 12, &o, NULL), 0);
	hv_options_format(&o, sum, sizeof(sum));
	assert_non_null(strstr(sum, " probe_pt=off"));
}

/* issue 18: the network channel needs a hardware RNG unless net_rng opts out */
static void test_net_rng(void **state)
{
	struct hv_options o;
	struct hv_opt_errors e;
	char sum[1024];
	hv_options_defaults(&o);
	assert_int_equal(o.net_rng_insecure, 0);
	hv_options_format(&o, sum, sizeof(sum));
	assert_null(strstr(sum, "net_rng"));
	assert_int_equal(hv_options_parse("net_rng=tsc-insecure", 64, &o, &e), 0);
	assert_int_equal(o.net_rng_insecure, 1);
	hv_options_format(&o, sum, sizeof(sum));
	assert_non_null(strstr(sum, " net_rng=tsc-insecure"));
	assert_int_equal(hv_options_parse("net_rng=hardware", 64, &o, &e), 0);
	assert_int_equal(o.net_rng_insecure, 0);
	assert_int_equal(hv_options_parse("net_rng=tsc", 64, &o, &e), 1);
	assert_string_equal(e.e[0].why, "expected hardware|tsc-insecure");
}

/* issue 16: wire_aead= picks the wire version; shown only when forced */
static void test_wire_aead(void **state)
{
	struct hv_options o;
	struct hv_opt_errors e;
	char sum[1024];
	hv_options_defaults(&o);
	assert_int_equal(o.wire_aead, HV_WAEAD_AUTO);
	hv_options_format(&o, sum, sizeof(sum));
	assert_null(strstr(sum, "wire_aead"));
	assert_int_equal(hv_options_parse("wire_aead=chacha20-poly1305", 64, &o, &e), 0);
	assert_int_equal(o.wire_aead, HV_WAEAD_CHACHA);
	hv_options_format(&o, sum, sizeof(sum));
	assert_non_null(strstr(sum, " wire_aead=chacha20-poly1305"));
	assert_int_equal(hv_options_parse("wire_aead=aes-256-gcm", 64, &o, &e), 0);
	assert_int_equal(o.wire_aead, HV_WAEAD_GCM);
	hv_options_format(&o, sum, sizeof(sum));
	assert_non_null(strstr(sum, " wire_aead=aes-256-gcm"));
	assert_int_equal(hv_options_parse("wire_aead=auto", 64, &o, &e), 0);
	assert_int_equal(o.wire_aead, HV_WAEAD_AUTO);
	assert_int_equal(hv_options_parse("wire_aead=aes", 64, &o, &e), 1);
	assert_string_equal(e.e[0].why, "expected auto|chacha20-poly1305|aes-256-gcm");
}

static void test_wipe_text(void **state)
{
	static uint8_t ram[8192 + 64];
	const char *k = K64;
	memset(ram, 'x', sizeof(ram));
	/* every alignment, one copy cut short, and the buffer's two ends */
	size_t at[] = { 0, 70, 150, 233, 4093, 5000, sizeof(ram) - 64 };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		memcpy(ram + at[i], k, 64);
	memcpy(ram + 7000, k, 63);                    /* not the key: 63 digits */
	assert_int_equal(hv_wipe_text(ram, sizeof(ram), k, 64), 7);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		for (size_t j = 0; j < 64; j++)
			assert_int_equal(ram[at[i] + j], 0);
	assert_memory_equal(ram + 7000, k, 63);
	assert_int_equal(ram[66], 'x');
	assert_int_equal(hv_wipe_text(ram, sizeof(ram), k, 64), 0);
	/* unaligned buffer start and end */
	memset(ram, 'x', sizeof(ram));
	memcpy(ram + 3, k, 64);
	memcpy(ram + 8100, k, 64);
	assert_int_equal(hv_wipe_text(ram + 3, 8100 + 64 - 3, k, 64), 2);
	assert_int_equal(hv_wipe_text(ram, 100, "short", 5), 0);
}

/* The parser knows no monitor: their keys come from the descriptors it is handed. */
static void test_owner_descriptors(void **st)
{
	(void)st;
	char buf[512];
	/* without owners: monitor keys are unknown, monitors= knows no name */
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse("hang_timeout=5 monitors=hang", 100, &o, &errs), 2);
	assert_string_equal(errs.e[0].why, "unknown option");
	assert_int_equal(o.monitors, 0);
	/* a descriptor that does not fit its owner's block is refused, nothing changes */
	static const struct hv_opt_desc bad[] = {
		{ .key = "x_k", .type = HV_OPT_UINT, .off = 8, .min = 1, .max = 2 },
	};
	static const struct hv_opt_owner bad_owner = { "x", bad, 1, 8 };
	static const struct hv_opt_owner big_owner = { "y", NULL, 0, HV_OPT_CONFIG_MAX + 1 };
	const struct hv_opt_owner *own[2] = { &bad_owner, &big_owner };
	assert_int_equal(hv_options_set_owners(&o, own, 1), -1);
	assert_int_equal(hv_options_set_owners(&o, own + 1, 1), -1);
	assert_int_equal(o.nr_owners, 0);
	/* an owner of its own: defaults, parsing, range errors, formatting */
	struct cfg { uint32_t n; uint8_t mode; };
	static const char *const modes[] = { "a", "b", NULL };
	static const struct hv_opt_desc good[] = {
		{ .key = "z_n", .type = HV_OPT_UINT, .off = offsetof(struct cfg, n), .min = 2, .max = 9,
		  .def = 3, .why = "expected 2..9" },
		{ .key = "z_mode", .type = HV_OPT_ENUM, .off = offsetof(struct cfg, mode), .names = modes,
		  .def = 1, .why = "expected a|b" },
	};
	static const struct hv_opt_owner z = { "zmon", good, 2, sizeof(struct cfg) };
	own[0] = &z;
	hv_options_defaults(&o);
	assert_int_equal(hv_options_set_owners(&o, own, 1), 0);
	const struct cfg *c = hv_options_config(&o, 0);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->mode, 1);
	assert_int_equal(o.monitors, 1);
	assert_int_equal(hv_options_parse("z_n=7 z_mode=a z_n=10 z_mode=c monitors=none", 200, &o, &errs), 2);
	assert_int_equal(c->n, 7);
	assert_int_equal(c->mode, 0);
	assert_string_equal(errs.e[0].why, "expected 2..9");
	assert_string_equal(errs.e[1].why, "expected a|b");
	assert_int_equal(o.monitors, 0);
	hv_options_format(&o, buf, sizeof(buf));
	assert_non_null(strstr(buf, " monitors=none z_n=7 z_mode=a"));
	assert_null(hv_options_config(&o, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_value_variants),
		cmocka_unit_test(test_quotes_and_whitespace),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_overflow_and_long),
		cmocka_unit_test(test_infer_key),
		cmocka_unit_test(test_bochs_exit),
		cmocka_unit_test(test_iommu),
		cmocka_unit_test(test_console_events),
		cmocka_unit_test(test_key_exactly_32),
		cmocka_unit_test(test_key_redact),
		cmocka_unit_test(test_wipe_text),
		cmocka_unit_test(test_net_rng),
		cmocka_unit_test(test_wire_aead),
		cmocka_unit_test(test_owner_descriptors),
	};
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
