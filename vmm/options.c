/*
 * options — hvmon's key=value option parser. See options.h and docs/OPTIONS.md.
 * No libc: small local helpers for string compare/copy and number parsing.
 */
#include "vmm/options.h"

#define WORD_BUF 512   /* longest accepted word (key=value after quote removal) */

static size_t s_len(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

/* Does [s, s+n) equal the NUL-terminated literal @lit? */
static bool s_eq(const char *s, size_t n, const char *lit)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (lit[i] != s[i] || !lit[i])
			return false;
	return lit[n] == 0;
}

static void s_copy(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i;
	if (!cap)
		return;
	if (n > cap - 1)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = src[i];
	dst[n] = 0;
}

static void add_error(struct hv_opt_errors *errs, int *count, const char *word, size_t wlen,
		      const char *why)
{
	(*count)++;
	if (!errs)
		return;
	if (errs->count >= HV_OPT_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	/* an error about key= must not print (part of) the key: issue 17 */
	if (wlen >= 4 && word[0] == 'k' && word[1] == 'e' && word[2] == 'y' && word[3] == '=')
		s_copy(errs->e[errs->count].word, HV_OPT_WORD_MAX, "key=<set>", 9);
	else
		s_copy(errs->e[errs->count].word, HV_OPT_WORD_MAX, word, wlen);
	s_copy(errs->e[errs->count].why, HV_OPT_WHY_MAX, why, s_len(why, HV_OPT_WHY_MAX));
	errs->count++;
}

/* Unsigned decimal in [s, s+n), no sign, no overflow past @max. */
static bool parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	if (n == 0 || n > 20)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static bool parse_hex(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	if (n == 0 || n > 16)
		return false;
	for (i = 0; i < n; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return false;
		v = v << 4 | (uint64_t)h;
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* Dotted quad A.B.C.D in exactly [s, s+n). */
static bool parse_ipv4(const char *s, size_t n, uint32_t *out)
{
	uint32_t ip = 0;
	size_t i = 0, start;
	int part;
	for (part = 0; part < 4; part++) {
		uint64_t v;
		start = i;
		while (i < n && s[i] != '.')
			i++;
		if (i - start > 3 || !parse_dec(s + start, i - start, 255, &v))
			return false;
		ip = ip << 8 | (uint32_t)v;
		if (part < 3) {
			if (i >= n)
				return false;
			i++;          /* skip '.' */
		}
	}
	if (i != n)
		return false;
	*out = ip;
	return true;
}

static size_t find_char(const char *s, size_t n, char c)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (s[i] == c)
			return i;
	return n;
}

/* ---- per-key value parsers: return NULL on success, else the reason ---- */

static const char *v_console(struct hv_options *o, const char *v, size_t n)
{
	static const struct { const char *name; uint16_t port; } ports[] = {
		{ "com1", 0x3f8 }, { "com2", 0x2f8 }, { "com3", 0x3e8 }, { "com4", 0x2e8 }, { "none", 0 },
	};
	unsigned i;
	uint64_t p;
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (s_eq(v, n, ports[i].name)) {
			o->console_port = ports[i].port;
			return 0;
		}
	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		if (!parse_hex(v + 2, n - 2, 0xffff, &p) || p == 0)
			return "I/O port must be 0x1..0xffff";
		o->console_port = (uint16_t)p;
		return 0;
	}
	return "expected com1|com2|com3|com4|none|0xPORT";
}

static const char *v_log(struct hv_options *o, const char *v, size_t n)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	unsigned i;
	for (i = 0; i < 4; i++)
		if (s_eq(v, n, names[i])) {
			o->log_level = (uint8_t)i;
			return 0;
		}
	return "expected error|warn|info|debug";
}

static const char *v_crash(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "halt")) { o->on_guest_crash = HV_CRASH_HALT; return 0; }
	if (s_eq(v, n, "reset")) { o->on_guest_crash = HV_CRASH_RESET; return 0; }
	return "expected halt|reset";
}

/* "unknown monitor (tracer,hang,..., or all|none)" from the owners' names */
static const char *unknown_monitor(const struct hv_options *o)
{
	static char why[HV_OPT_WHY_MAX];
	size_t w = 0;
	const char *pre = "unknown monitor (", *post = "or all|none)";
	for (size_t i = 0; pre[i] && w < sizeof(why) - 1; i++)
		why[w++] = pre[i];
	for (uint32_t k = 0; k < o->nr_owners; k++) {
		const char *nm = o->owners[k]->name;
		size_t len = s_len(nm, HV_OPT_WORD_MAX);
		if (w + len + 2 + 13 >= sizeof(why))
			break;
		for (size_t i = 0; i < len; i++)
			why[w++] = nm[i];
		why[w++] = ',';
		if (k + 1 == o->nr_owners)
			why[w++] = ' ';
	}
	for (size_t i = 0; post[i] && w < sizeof(why) - 1; i++)
		why[w++] = post[i];
	why[w] = 0;
	return why;
}

static const char *v_monitors(struct hv_options *o, const char *v, size_t n)
{
	uint32_t mask = 0, k;
	size_t i = 0;
	if (s_eq(v, n, "all")) { o->monitors = (1u << o->nr_owners) - 1; return 0; }
	if (s_eq(v, n, "none")) { o->monitors = 0; return 0; }
	while (i < n) {                       /* each round consumes one element */
		size_t len = find_char(v + i, n - i, ',');
		const char *e = v + i;
		if (len == 0)
			return "empty element in monitor list";
		for (k = 0; k < o->nr_owners; k++)
			if (s_eq(e, len, o->owners[k]->name))
				break;
		if (k == o->nr_owners)
			return unknown_monitor(o);
		mask |= 1u << k;
		i += len;
		if (i < n) {
			i++;              /* ',' */
			if (i == n)
				return "empty element in monitor list";
		}
	}
	o->monitors = mask;
	return 0;
}

/* ---- a monitor's keys, through its descriptors ---- */

static const char *v_uint(const struct hv_opt_desc *d, uint8_t *cfg, const char *v, size_t n)
{
	uint64_t x;
	uint32_t u;
	if (d->suffix && n > 1 && v[n - 1] == d->suffix)
		n--;
	if (!parse_dec(v, n, d->max, &x) || x < d->min)
		return d->why ? d->why : "value out of range";
	u = (uint32_t)x;
	for (size_t b = 0; b < 4; b++)          /* no alignment assumed */
		cfg[d->off + b] = (uint8_t)(u >> (8 * b));
	return 0;
}

static const char *v_enum(const struct hv_opt_desc *d, uint8_t *cfg, const char *v, size_t n)
{
	for (unsigned i = 0; d->names && d->names[i] && i < 256; i++)
		if (s_eq(v, n, d->names[i])) {
			cfg[d->off] = (uint8_t)i;
			return 0;
		}
	return d->why ? d->why : "unknown value";
}

static void set_u32(uint8_t *cfg, uint16_t off, uint32_t u)
{
	for (size_t b = 0; b < 4; b++)
		cfg[off + b] = (uint8_t)(u >> (8 * b));
}

static uint32_t get_u32(const uint8_t *cfg, uint16_t off)
{
	return (uint32_t)cfg[off] | (uint32_t)cfg[off + 1] << 8 | (uint32_t)cfg[off + 2] << 16 |
	       (uint32_t)cfg[off + 3] << 24;
}

static const char *v_names(const struct hv_opt_desc *d, uint8_t *cfg, const char *v, size_t n)
{
	char list[HV_OPT_NAMES_MAX][HV_OPT_COMM_MAX];
	uint32_t cnt = 0, k, max = d->max < HV_OPT_NAMES_MAX ? d->max : HV_OPT_NAMES_MAX;
	size_t i = 0, j;
	if (s_eq(v, n, "none")) { set_u32(cfg, d->off, 0); return 0; }
	while (i < n) {
		size_t len = find_char(v + i, n - i, ',');
		if (len == 0)
			return "empty name in list";
		if (len > HV_OPT_COMM_MAX - 1)
			return "process name longer than 15 characters";
		if (cnt >= max)
			return "more than 16 names";
		for (j = 0; j < len; j++)
			if ((unsigned char)v[i + j] < 0x21 || (unsigned char)v[i + j] > 0x7e)
				return "non-printable character in name";
		s_copy(list[cnt++], HV_OPT_COMM_MAX, v + i, len);
		i += len;
		if (i < n && ++i == n)
			return "empty name in list";
	}
	for (k = 0; k < cnt; k++)
		s_copy((char *)cfg + d->list_off + k * HV_OPT_COMM_MAX, HV_OPT_COMM_MAX, list[k], HV_OPT_COMM_MAX);
	set_u32(cfg, d->off, cnt);
	return 0;
}

static const char *v_desc(const struct hv_opt_desc *d, uint8_t *cfg, const char *v, size_t n)
{
	switch (d->type) {
	case HV_OPT_UINT:  return v_uint(d, cfg, v, n);
	case HV_OPT_ENUM:  return v_enum(d, cfg, v, n);
	case HV_OPT_NAMES: return v_names(d, cfg, v, n);
	default:           return "bad option descriptor";
	}
}

/* A descriptor must fit its owner's block; a bad one is never used. */
static bool desc_ok(const struct hv_opt_desc *d, uint32_t size)
{
	if (!d->key)
		return false;
	switch (d->type) {
	case HV_OPT_UINT:  return (uint32_t)d->off + 4 <= size && d->min <= d->max;
	case HV_OPT_ENUM:  return d->off < size && d->names && d->names[0] && d->def < 256;
	case HV_OPT_NAMES: return (uint32_t)d->off + 4 <= size && d->max >= 1 && d->max <= HV_OPT_NAMES_MAX &&
				  (uint32_t)d->list_off + d->max * HV_OPT_COMM_MAX <= size;
	default:           return false;
	}
}

int hv_options_set_owners(struct hv_options *o, const struct hv_opt_owner *const *owners, uint32_t n)
{
	uint32_t i, k;
	if (!o || n > HV_OPT_MAX_OWNERS || (n && !owners))
		return -1;
	for (i = 0; i < n; i++) {
		if (!owners[i] || !owners[i]->name || owners[i]->config_size > HV_OPT_CONFIG_MAX ||
		    (owners[i]->nr_opts && !owners[i]->opts))
			return -1;
		for (k = 0; k < owners[i]->nr_opts; k++)
			if (!desc_ok(&owners[i]->opts[k], owners[i]->config_size))
				return -1;
	}
	o->nr_owners = n;
	o->monitors = n ? (1u << n) - 1 : 0;
	for (i = 0; i < n; i++) {
		uint8_t *cfg = (uint8_t *)o->mon_config[i];
		o->owners[i] = owners[i];
		for (k = 0; k < HV_OPT_CONFIG_MAX; k++)
			cfg[k] = 0;
		for (k = 0; k < owners[i]->nr_opts; k++) {
			const struct hv_opt_desc *d = &owners[i]->opts[k];
			if (d->type == HV_OPT_UINT)
				set_u32(cfg, d->off, d->def);
			else if (d->type == HV_OPT_ENUM)
				cfg[d->off] = (uint8_t)d->def;
			else if (d->type == HV_OPT_NAMES)
				v_names(d, cfg, d->def_list ? d->def_list : "none",
					d->def_list && d->def_list[0] ? s_len(d->def_list, 512) : 4);
		}
	}
	return 0;
}

/* Find @key among the owners' descriptors: owner index and descriptor, or NULL. */
static const struct hv_opt_desc *owner_key(const struct hv_options *o, const char *key, size_t n,
					   uint32_t *owner)
{
	for (uint32_t i = 0; i < o->nr_owners; i++)
		for (uint32_t k = 0; k < o->owners[i]->nr_opts; k++)
			if (s_eq(key, n, o->owners[i]->opts[k].key)) {
				*owner = i;
				return &o->owners[i]->opts[k];
			}
	return 0;
}

static const char *v_collector(struct hv_options *o, const char *v, size_t n)
{
	size_t c = find_char(v, n, ':');
	uint32_t ip;
	uint64_t port;
	if (c == n)
		return "expected IP:PORT";
	if (!parse_ipv4(v, c, &ip))
		return "bad IPv4 address (expected A.B.C.D:PORT)";
	if (!parse_dec(v + c + 1, n - c - 1, 65535, &port) || port == 0)
		return "bad port (1..65535)";
	o->collector_set = true;
	o->collector_ip = ip;
	o->collector_port = (uint16_t)port;
	return 0;
}

static const char *v_ip(struct hv_options *o, const char *v, size_t n)
{
	size_t slash, comma;
	uint32_t ip, gw = 0;
	uint64_t prefix;
	if (s_eq(v, n, "dhcp")) {
		o->ip_dhcp = true;
		return 0;
	}
	slash = find_char(v, n, '/');
	if (slash == n)
		return "expected dhcp or A.B.C.D/N[,GATEWAY]";
	if (!parse_ipv4(v, slash, &ip))
		return "bad IPv4 address";
	comma = slash + 1 + find_char(v + slash + 1, n - slash - 1, ',');
	if (!parse_dec(v + slash + 1, comma - slash - 1, 32, &prefix))
		return "bad prefix length (0..32)";
	if (comma < n && !parse_ipv4(v + comma + 1, n - comma - 1, &gw))
		return "bad gateway address";
	o->ip_dhcp = false;
	o->ip_addr = ip;
	o->ip_prefix = (uint8_t)prefix;
	o->ip_gw = gw;
	return 0;
}

static const char *v_key(struct hv_options *o, const char *v, size_t n)
{
	size_t i;
	/* the wire protocol (docs/PROTOCOL.md) keys with exactly 32 bytes */
	if (n != 2 * HV_OPT_KEY_LEN)
		return "key must be exactly 32 bytes (64 hex digits)";
	for (i = 0; i < n; i++)
		if (hexval(v[i]) < 0)
			return "not a hex digit";
	for (i = 0; i < n / 2; i++)
		o->key[i] = (uint8_t)(hexval(v[2 * i]) << 4 | hexval(v[2 * i + 1]));
	o->key_len = (uint32_t)(n / 2);
	return 0;
}

/* One parser for hvmon's numeric keys (smp_bench_ms, smp_fail_ap, net_burst,
 * net_burst_rate, console_events' rate): 1..@cap comma-separated unsigned decimals,
 * each in [@min, @max], into @out[]; @cnt (lists) gets the count. Nothing is
 * written on error. */
#define NUM_LIST_MAX HV_OPT_BURST_RATES
static bool parse_u32_list(const char *v, size_t n, uint32_t min, uint32_t max, uint32_t *out,
			   uint32_t cap, uint32_t *cnt)
{
	uint32_t tmp[NUM_LIST_MAX], k = 0;
	size_t i = 0;
	if (cap > NUM_LIST_MAX)
		return false;
	while (i <= n) {
		size_t j = i;
		uint64_t r;
		while (j < n && v[j] != ',')
			j++;
		if (k == cap || !parse_dec(v + i, j - i, max, &r) || r < min)
			return false;
		tmp[k++] = (uint32_t)r;
		i = j + 1;
	}
	for (uint32_t x = 0; x < k; x++)
		out[x] = tmp[x];
	if (cnt)
		*cnt = k;
	return true;
}

static const char *v_num(uint32_t *field, const char *v, size_t n, uint32_t min, uint32_t max, const char *why)
{
	return parse_u32_list(v, n, min, max, field, 1, NULL) ? 0 : why;
}

static const char *v_smp_bench_ms(struct hv_options *o, const char *v, size_t n)
{
	return v_num(&o->smp_bench_ms, v, n, 0, 60000, "expected a period in ms 0..60000");
}

static const char *v_smp_fail_ap(struct hv_options *o, const char *v, size_t n)
{
	return v_num(&o->smp_fail_ap, v, n, 0, 63, "expected a vCPU id 0..63 (0 = off)");
}

static const char *v_net_burst(struct hv_options *o, const char *v, size_t n)
{
	return v_num(&o->net_burst, v, n, 0, 1000000, "expected an event count 0..1000000");
}

/* net_burst_rate=R1[,R2...]: up to HV_OPT_BURST_RATES offered rates, events per
 * second of guest time, 100..10,000,000 each (docs/OPTIONS.md) */
static const char *v_net_burst_rate(struct hv_options *o, const char *v, size_t n)
{
	if (parse_u32_list(v, n, 100, 10000000, o->net_burst_rate, HV_OPT_BURST_RATES, &o->net_burst_rates))
		return 0;
	o->net_burst_rates = 0;
	return "expected 1 to 8 rates 100..10000000 (events per second), comma-separated";
}

static const char *v_console_events(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "all")) { o->console_events = HV_CEV_ALL; return 0; }
	if (s_eq(v, n, "none")) { o->console_events = HV_CEV_NONE; return 0; }
	const char *why = v_num(&o->console_events_rate, v, n, 1, HV_CEV_RATE_MAX,
				"expected all|none or lines per second 1..100000");
	if (!why)
		o->console_events = HV_CEV_RATE;
	return why;
}

unsigned hv_console_events_effective(const struct hv_options *o)
{
	if (o->console_events == HV_CEV_DEFAULT)
		return o->collector_set ? HV_CEV_NONE : HV_CEV_ALL;
	return o->console_events;
}

static const char *v_net(struct hv_options *o, const char *v, size_t n)
{
	uint64_t b, d, f;
	if (s_eq(v, n, "first")) {
		o->net_first = true;
		return 0;
	}
	/* bb:dd.f (hex, as lspci prints) */
	size_t c = find_char(v, n, ':'), dot = find_char(v, n, '.');
	if (c == n || dot == n || dot < c)
		return "expected first or a PCI address bb:dd.f";
	if (!parse_hex(v, c, 0xff, &b) || !parse_hex(v + c + 1, dot - c - 1, 0x1f, &d) ||
	    !parse_hex(v + dot + 1, n - dot - 1, 7, &f))
		return "bad PCI address (bus 00-ff, device 00-1f, function 0-7)";
	o->net_first = false;
	o->net_bus = (uint8_t)b;
	o->net_dev = (uint8_t)d;
	o->net_fn = (uint8_t)f;
	return 0;
}

static const char *v_bochs_exit(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "on")) { o->bochs_exit = true; return 0; }
	if (s_eq(v, n, "off")) { o->bochs_exit = false; return 0; }
	return "expected on|off";
}

static const char *v_iommu(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "auto")) { o->iommu = HV_IOMMU_AUTO; return 0; }
	if (s_eq(v, n, "required")) { o->iommu = HV_IOMMU_REQUIRED; return 0; }
	if (s_eq(v, n, "off")) { o->iommu = HV_IOMMU_OFF; return 0; }
	return "expected required|auto|off";
}

static const char *v_iommu_selftest(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "on")) { o->iommu_selftest = 1; return 0; }
	if (s_eq(v, n, "register")) { o->iommu_selftest = 2; return 0; }
	if (s_eq(v, n, "off")) { o->iommu_selftest = 0; return 0; }
	return "expected on|register|off";
}

static const char *v_probe_pt(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "on")) { o->probe_pt = true; return 0; }
	if (s_eq(v, n, "off")) { o->probe_pt = false; return 0; }
	return "expected on|off";
}

static const char *v_novtx(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "refuse")) { o->no_vtx = HV_NOVTX_REFUSE; return 0; }
	if (s_eq(v, n, "boot-unmonitored")) { o->no_vtx = HV_NOVTX_BOOT_UNMONITORED; return 0; }
	return "expected refuse|boot-unmonitored";
}

static const char *v_net_rng(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "hardware")) { o->net_rng_insecure = 0; return 0; }
	if (s_eq(v, n, "tsc-insecure")) { o->net_rng_insecure = 1; return 0; }
	return "expected hardware|tsc-insecure";
}

static const char *v_wire_aead(struct hv_options *o, const char *v, size_t n)
{
	if (s_eq(v, n, "auto")) { o->wire_aead = HV_WAEAD_AUTO; return 0; }
	if (s_eq(v, n, "chacha20-poly1305")) { o->wire_aead = HV_WAEAD_CHACHA; return 0; }
	if (s_eq(v, n, "aes-256-gcm")) { o->wire_aead = HV_WAEAD_GCM; return 0; }
	return "expected auto|chacha20-poly1305|aes-256-gcm";
}

static const char *v_infer(struct hv_options *o, const char *v, size_t n)
{
	static const char *const names[] = { "patterns", "kallsyms", "btf" };
	uint8_t mask = 0;
	size_t i = 0;
	unsigned k;
	if (s_eq(v, n, "all")) { o->infer = HV_INFER_ALL; return 0; }
	if (s_eq(v, n, "off")) { o->infer = 0; return 0; }
	if (n && v[n - 1] == ',')
		return "expected all|off or a comma list of patterns, kallsyms, btf";
	while (i < n) {
		size_t c = find_char(v + i, n - i, ',');
		for (k = 0; k < 3; k++)
			if (s_eq(v + i, c, names[k]))
				break;
		if (k == 3)
			return "expected all|off or a comma list of patterns, kallsyms, btf";
		mask |= (uint8_t)(1u << k);
		i += c + 1;
	}
	if (!mask)
		return "expected all|off or a comma list of patterns, kallsyms, btf";
	o->infer = mask;
	return 0;
}

static const struct {
	const char *key;
	const char *(*parse)(struct hv_options *, const char *, size_t);
} keys[] = {
	{ "console", v_console }, { "log", v_log }, { "on_guest_crash", v_crash },
	{ "monitors", v_monitors }, { "collector", v_collector },
	{ "ip", v_ip }, { "key", v_key }, { "net", v_net }, { "net_burst", v_net_burst }, { "net_burst_rate", v_net_burst_rate }, { "no_vtx", v_novtx },
	{ "net_rng", v_net_rng },
	{ "wire_aead", v_wire_aead },
	{ "infer", v_infer }, { "bochs_exit", v_bochs_exit },
	{ "iommu", v_iommu }, { "iommu_selftest", v_iommu_selftest }, { "console_events", v_console_events },
	{ "smp_bench_ms", v_smp_bench_ms }, { "smp_fail_ap", v_smp_fail_ap },
	{ "probe_pt", v_probe_pt },
};

void hv_options_defaults(struct hv_options *o)
{
	size_t i;
	uint8_t *p = (uint8_t *)o;
	if (!o)
		return;
	for (i = 0; i < sizeof(*o); i++)
		p[i] = 0;
	o->console_port = 0x3f8;
	o->log_level = HV_LOG_INFO;
	o->on_guest_crash = HV_CRASH_HALT;
	o->ip_dhcp = true;
	o->net_first = true;
	o->no_vtx = HV_NOVTX_REFUSE;
	o->infer = HV_INFER_ALL;
	o->probe_pt = true;           /* issue 15: remaps seen at the write (docs/PROBES.md "Page tables") */
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int hv_options_parse(const char *cmdline, size_t max_len, struct hv_options *o,
		     struct hv_opt_errors *errs)
{
	char word[WORD_BUF];
	size_t i = 0, n, nwords = 0;
	int count = 0;

	if (errs) {
		errs->count = 0;
		errs->dropped = 0;
	}
	if (!o)
		return -1;
	if (!cmdline)
		return 0;
	if (max_len > HV_OPT_CMDLINE_MAX)
		max_len = HV_OPT_CMDLINE_MAX;
	n = s_len(cmdline, max_len);

	while (i < n) {                       /* every iteration advances i by >= 1 */
		size_t start, wl = 0, eq, k;
		bool quoted = false, too_long = false;

		if (is_space(cmdline[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < n && (quoted || !is_space(cmdline[i]))) {
			char c = cmdline[i++];
			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (wl < WORD_BUF - 1)
				word[wl++] = c;
			else
				too_long = true;
		}
		word[wl] = 0;
		nwords++;
		if (quoted) {
			add_error(errs, &count, cmdline + start, i - start, "unterminated quote");
			continue;
		}
		if (too_long) {
			add_error(errs, &count, cmdline + start, i - start, "word longer than 511 characters");
			continue;
		}
		eq = find_char(word, wl, '=');
		if (eq == wl) {
			/* a boot loader may pass the image path first: ignore it */
			if (nwords == 1 && word[0] == '/')
				continue;
			add_error(errs, &count, word, wl, "not a key=value word");
			continue;
		}
		if (eq == 0) {
			add_error(errs, &count, word, wl, "empty key");
			continue;
		}
		if (eq + 1 == wl) {
			add_error(errs, &count, word, wl, "empty value");
			continue;
		}
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (s_eq(word, eq, keys[k].key)) {
				const char *why = keys[k].parse(o, word + eq + 1, wl - eq - 1);
				if (why)
					add_error(errs, &count, word, wl, why);
				break;
			}
		}
		if (k == sizeof(keys) / sizeof(keys[0])) {
			uint32_t owner;
			const struct hv_opt_desc *d = owner_key(o, word, eq, &owner);
			const char *why = d ? v_desc(d, (uint8_t *)o->mon_config[owner], word + eq + 1, wl - eq - 1) :
					      "unknown option";
			if (why)
				add_error(errs, &count, word, wl, why);
		}
	}
	return count;
}

const char *hv_log_level_name(unsigned level)
{
	static const char *const n[] = { "error", "warn", "info", "debug" };
	return level < 4 ? n[level] : "?";
}

const char *hv_crash_action_name(unsigned a)
{
	return a == HV_CRASH_HALT ? "halt" : a == HV_CRASH_RESET ? "reset" : "?";
}

const char *hv_no_vtx_name(unsigned a)
{
	return a == HV_NOVTX_REFUSE ? "refuse" : a == HV_NOVTX_BOOT_UNMONITORED ? "boot-unmonitored" : "?";
}

const char *hv_iommu_name(unsigned a)
{
	static const char *const n[] = { "auto", "required", "off" };
	return a < 3 ? n[a] : "?";
}

/* ---- formatting ---- */
struct out { char *buf; size_t size, len; };

static void put_s(struct out *w, const char *s)
{
	size_t i;
	for (i = 0; s[i] && i < 256; i++) {
		if (w->len + 1 < w->size)
			w->buf[w->len] = s[i];
		w->len++;
	}
}

static void put_u(struct out *w, uint64_t v, unsigned base, unsigned min_digits)
{
	char tmp[24];
	int i = 0;
	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i < 23);
	while ((unsigned)i < min_digits && i < 23)
		tmp[i++] = '0';
	while (i > 0) {
		char c[2] = { tmp[--i], 0 };
		put_s(w, c);
	}
}

static void put_ip(struct out *w, uint32_t ip)
{
	int s;
	for (s = 24; s >= 0; s -= 8) {
		put_u(w, (ip >> s) & 0xff, 10, 1);
		if (s)
			put_s(w, ".");
	}
}

/* " key=value" for each of a monitor's keys */
static void put_owner(struct out *w, const struct hv_opt_owner *ow, const uint8_t *cfg)
{
	for (uint32_t k = 0; k < ow->nr_opts; k++) {
		const struct hv_opt_desc *d = &ow->opts[k];
		put_s(w, " ");
		put_s(w, d->key);
		put_s(w, "=");
		if (d->type == HV_OPT_UINT) {
			put_u(w, get_u32(cfg, d->off), 10, 1);
		} else if (d->type == HV_OPT_ENUM) {
			unsigned i;
			for (i = 0; d->names[i] && i < cfg[d->off]; i++)
				;
			put_s(w, d->names[i] ? d->names[i] : "?");
		} else if (d->type == HV_OPT_NAMES) {
			uint32_t cnt = get_u32(cfg, d->off), i;
			for (i = 0; i < cnt && i < d->max && i < HV_OPT_NAMES_MAX; i++) {
				char name[HV_OPT_COMM_MAX];
				if (i) put_s(w, ",");
				s_copy(name, sizeof(name), (const char *)cfg + d->list_off + i * HV_OPT_COMM_MAX,
				       HV_OPT_COMM_MAX - 1);
				put_s(w, name);
			}
			if (!cnt) put_s(w, "none");
		}
	}
}

size_t hv_options_format(const struct hv_options *o, char *buf, size_t size)
{
	struct out w = { buf, size, 0 };
	unsigned i, first = 1;

	if (!o || !buf || !size)
		return 0;
	put_s(&w, "console=");
	if (o->console_port) { put_s(&w, "0x"); put_u(&w, o->console_port, 16, 1); }
	else put_s(&w, "none");
	put_s(&w, " log="); put_s(&w, hv_log_level_name(o->log_level));
	put_s(&w, " on_guest_crash="); put_s(&w, hv_crash_action_name(o->on_guest_crash));
	put_s(&w, " monitors=");
	for (i = 0; i < o->nr_owners && i < HV_OPT_MAX_OWNERS; i++)
		if (o->monitors & (1u << i)) {
			if (!first) put_s(&w, ",");
			put_s(&w, o->owners[i]->name);
			first = 0;
		}
	if (first) put_s(&w, "none");
	for (i = 0; i < o->nr_owners && i < HV_OPT_MAX_OWNERS; i++)
		put_owner(&w, o->owners[i], (const uint8_t *)o->mon_config[i]);
	if (o->collector_set) {
		put_s(&w, " collector="); put_ip(&w, o->collector_ip);
		put_s(&w, ":"); put_u(&w, o->collector_port, 10, 1);
	}
	put_s(&w, " ip=");
	if (o->ip_dhcp) put_s(&w, "dhcp");
	else {
		put_ip(&w, o->ip_addr); put_s(&w, "/"); put_u(&w, o->ip_prefix, 10, 1);
		if (o->ip_gw) { put_s(&w, ","); put_ip(&w, o->ip_gw); }
	}
	put_s(&w, " key=");
	if (o->key_len) put_s(&w, "<set>");
	else put_s(&w, "none");
	put_s(&w, " net=");
	if (o->net_first) put_s(&w, "first");
	else {
		put_u(&w, o->net_bus, 16, 2); put_s(&w, ":"); put_u(&w, o->net_dev, 16, 2);
		put_s(&w, "."); put_u(&w, o->net_fn, 16, 1);
	}
	put_s(&w, " no_vtx="); put_s(&w, hv_no_vtx_name(o->no_vtx));
	if (o->net_rng_insecure)
		put_s(&w, " net_rng=tsc-insecure");
	if (o->wire_aead == HV_WAEAD_CHACHA)
		put_s(&w, " wire_aead=chacha20-poly1305");
	else if (o->wire_aead == HV_WAEAD_GCM)
		put_s(&w, " wire_aead=aes-256-gcm");
	put_s(&w, " infer=");
	if (o->infer == HV_INFER_ALL) put_s(&w, "all");
	else if (!o->infer) put_s(&w, "off");
	else {
		static const char *const inames[] = { "patterns", "kallsyms", "btf" };
		for (i = 0, first = 1; i < 3; i++)
			if (o->infer & (1u << i)) {
				if (!first) put_s(&w, ",");
				put_s(&w, inames[i]);
				first = 0;
			}
	}
	if (o->bochs_exit) put_s(&w, " bochs_exit=on");
	if (o->iommu != HV_IOMMU_AUTO) { put_s(&w, " iommu="); put_s(&w, hv_iommu_name(o->iommu)); }
	if (o->iommu_selftest) put_s(&w, o->iommu_selftest == 2 ? " iommu_selftest=register" : " iommu_selftest=on");
	if (o->smp_bench_ms) { put_s(&w, " smp_bench_ms="); put_u(&w, o->smp_bench_ms, 10, 1); }
	if (o->smp_fail_ap) { put_s(&w, " smp_fail_ap="); put_u(&w, o->smp_fail_ap, 10, 1); }
	if (!o->probe_pt) put_s(&w, " probe_pt=off");   /* default on (since session 8) */
	if (o->console_events == HV_CEV_ALL) put_s(&w, " console_events=all");
	else if (o->console_events == HV_CEV_NONE) put_s(&w, " console_events=none");
	else if (o->console_events == HV_CEV_RATE) {
		put_s(&w, " console_events="); put_u(&w, o->console_events_rate, 10, 1);
	}
	buf[w.len < size ? w.len : size - 1] = 0;
	return w.len < size ? w.len : size - 1;
}

/* ---- key hygiene (issue 17): redact the command line, wipe copies ---- */

static bool word_is_key(const char *s, size_t n)
{
	return n >= 4 && s[0] == 'k' && s[1] == 'e' && s[2] == 'y' && s[3] == '=';
}

size_t hv_options_redact(char *cmdline, size_t max, char *keytext, size_t keysize)
{
	static char out[HV_OPT_CMDLINE_MAX];
	size_t n = s_len(cmdline, max), i = 0, w = 0, found = 0;

	if (keysize)
		keytext[0] = 0;
	if (n > sizeof(out) - 1)
		n = sizeof(out) - 1;
	while (i < n) {
		size_t start = i;
		bool quoted = false;
		if (is_space(cmdline[i])) {
			if (w < sizeof(out) - 1)
				out[w++] = cmdline[i];
			i++;
			continue;
		}
		while (i < n && (quoted || !is_space(cmdline[i])))
			if (cmdline[i++] == '"')
				quoted = !quoted;
		if (word_is_key(cmdline + start, i - start)) {
			size_t vl = i - start - 4, k = 0;
			found++;
			for (size_t j = 0; j < vl && k + 1 < keysize; j++)
				if (cmdline[start + 4 + j] != '"')
					keytext[k++] = cmdline[start + 4 + j];
			if (keysize)
				keytext[k] = 0;
			for (const char *r = "key=<set>"; *r && w < sizeof(out) - 1; r++)
				out[w++] = *r;
		} else {
			for (size_t j = start; j < i && w < sizeof(out) - 1; j++)
				out[w++] = cmdline[j];
		}
	}
	if (!found)
		return 0;
	/* write back, NUL-padded to the end: no byte of the old text survives */
	for (i = 0; i < max; i++)
		cmdline[i] = i < w ? out[i] : 0;
	if (max)
		cmdline[max - 1] = 0;
	for (i = 0; i < sizeof(out); i++)
		out[i] = 0;
	return found;
}

size_t hv_wipe_text(uint8_t *p, size_t len, const char *needle, size_t nlen)
{
	uint64_t win[8];
	size_t hits = 0;

	/* every occurrence of a >= 16-byte needle contains one 8-aligned qword
	 * that equals needle[j..j+8) for j = (-start) mod 8: test each aligned
	 * qword against the 8 windows, then confirm bytewise */
	if (nlen < 16 || len < nlen)
		return 0;
	for (int j = 0; j < 8; j++)
		__builtin_memcpy(&win[j], needle + j, 8);
	uintptr_t a = ((uintptr_t)p + 7) & ~(uintptr_t)7;
	uintptr_t end = (uintptr_t)p + len;
	for (; a + 8 <= end; a += 8) {
		uint64_t q = *(const uint64_t *)a;
		if (!q)                 /* most of RAM at boot: one test per qword */
			continue;
		for (int j = 0; j < 8; j++) {
			if (q != win[j])
				continue;
			uintptr_t s = a - (uintptr_t)j;
			if (s < (uintptr_t)p || s + nlen > end)
				continue;
			size_t k = 0;
			while (k < nlen && ((const char *)s)[k] == needle[k])
				k++;
			if (k == nlen) {
				for (k = 0; k < nlen; k++)
					((volatile char *)s)[k] = 0;
				hits++;
			}
		}
	}
	return hits;
}
