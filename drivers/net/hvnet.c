/*
 * hvmon network channel: lwIP netif glue over a polled NIC, UDP to the
 * collector, option parsing. Single-threaded: called from hvmon's tick only.
 */
#include "drivers/net/hvnet.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/timeouts.h"
#include "lwip/ip4_addr.h"
#include "netif/ethernet.h"

static struct netif nif;
static struct hvnet_nic nic;
static struct hvnet_config conf;
static struct udp_pcb *pcb;
static struct hvnet_stats stats;
static bool up;
static uint8_t frame_buf[HVNET_MAX_FRAME];

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071: ones'-complement sum of big-endian 16-bit words, odd byte padded */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int hvnet_udp_csum_prep(uint8_t *f, size_t len, bool hw, unsigned *css)
{
	size_t ihl, off, ulen;
	uint32_t sum;
	uint16_t c;

	if (len < 14 + 20 + 8 || be16(f + 12) != 0x0800 || (f[14] >> 4) != 4)
		return HVNET_CSUM_NONE;
	ihl = (size_t)(f[14] & 15) * 4;
	off = 14 + ihl;
	if (ihl < 20 || off + 8 > len || f[14 + 9] != 17 || (be16(f + 14 + 6) & 0x3fff))
		return HVNET_CSUM_NONE;              /* not UDP, or a fragment */
	ulen = be16(f + off + 4);
	if (ulen < 8 || off + ulen != len)
		return HVNET_CSUM_NONE;              /* padded or inconsistent: leave it */
	/* pseudo-header: source, destination, zero + protocol, UDP length */
	sum = csum_add(0, f + 14 + 12, 8) + 17 + (uint32_t)ulen;
	*css = (unsigned)off;
	if (hw) {
		c = csum_fold(sum);
		f[off + 6] = (uint8_t)(c >> 8);
		f[off + 7] = (uint8_t)c;
		return HVNET_CSUM_HW;
	}
	f[off + 6] = f[off + 7] = 0;
	c = (uint16_t)~csum_fold(csum_add(sum, f + off, ulen));
	if (!c)
		c = 0xffff;                          /* RFC 768: 0 means "no checksum" */
	f[off + 6] = (uint8_t)(c >> 8);
	f[off + 7] = (uint8_t)c;
	return HVNET_CSUM_SW;
}

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
	uint8_t *out = frame_buf;
	u16_t len;

	if (p->tot_len > sizeof(frame_buf)) {
		stats.tx_fail++;
		return ERR_BUF;
	}
	/* flatten the chain (one copy; e1000 descriptors take one buffer) */
	len = pbuf_copy_partial(p, out, p->tot_len, 0);
	/* UDP checksum by the NIC when it can (issue 16: ~100 instructions per
	 * event in software), else here; lwIP leaves the field 0 */
	unsigned css = 0;
	int ck = hvnet_udp_csum_prep(out, len, nic.tx_csum != NULL, &css);
	uint64_t t0 = __builtin_ia32_rdtsc();
	int rc = ck == HVNET_CSUM_HW ? nic.tx_csum(nic.ctx, out, len, css, css + 6) : nic.tx(nic.ctx, out, len);
	stats.nic_tsc += __builtin_ia32_rdtsc() - t0;
	if (rc < 0) {
		stats.tx_fail++;
		return ERR_MEM;
	}
	stats.tx_frames++;
	return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
	n->name[0] = 'h';
	n->name[1] = 'v';
	n->mtu = 1500;
	n->hwaddr_len = 6;
	for (int i = 0; i < 6; i++)
		n->hwaddr[i] = nic.mac[i];
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	n->output = etharp_output;
	n->linkoutput = linkoutput;
	return ERR_OK;
}

int hvnet_init(const struct hvnet_nic *n, const struct hvnet_config *cfg)
{
	ip4_addr_t ip, mask, gw;

	if (!n || !n->tx || !n->rx || !cfg)
		return -1;
	nic = *n;
	conf = *cfg;
	lwip_init();
	if (conf.dhcp) {
		ip4_addr_set_zero(&ip);
		ip4_addr_set_zero(&mask);
		ip4_addr_set_zero(&gw);
	} else {
		ip.addr = lwip_htonl(conf.ip);
		mask.addr = lwip_htonl(conf.netmask);
		gw.addr = lwip_htonl(conf.gw);
	}
	if (!netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ethernet_input))
		return -1;
	netif_set_default(&nif);
	netif_set_up(&nif);
	if (!nic.link_up || nic.link_up(nic.ctx))
		netif_set_link_up(&nif);
	pcb = udp_new();
	if (!pcb)
		return -1;
	if (udp_bind(pcb, IP4_ADDR_ANY, conf.local_port ? conf.local_port : conf.collector_port) != ERR_OK)
		return -1;
	if (conf.dhcp && dhcp_start(&nif) != ERR_OK)
		return -1;
	up = true;
	return 0;
}

void hvnet_input_frame(const void *frame, size_t len)
{
	struct pbuf *p;

	if (len > HVNET_MAX_FRAME) {
		stats.rx_oversize++;
		return;
	}
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (!p) {
		stats.rx_nomem++;
		return;
	}
	if (pbuf_take(p, frame, (u16_t)len) != ERR_OK) {
		pbuf_free(p);
		stats.rx_nomem++;
		return;
	}
	stats.rx_frames++;
	if (nif.input(p, &nif) != ERR_OK)
		pbuf_free(p);
}

void hvnet_poll(void)
{
	static uint8_t rx_buf[HVNET_MAX_FRAME];

	if (!up)
		return;
	stats.polls++;
	if (nic.link_up) {
		bool l = nic.link_up(nic.ctx);
		if (l && !netif_is_link_up(&nif))
			netif_set_link_up(&nif);
		else if (!l && netif_is_link_up(&nif))
			netif_set_link_down(&nif);
	}
	for (int i = 0; i < HVNET_RX_BUDGET; i++) {
		int n = nic.rx(nic.ctx, rx_buf, sizeof(rx_buf));
		if (n == 0)
			break;
		if (n < 0) {
			stats.rx_bad++;
			continue;
		}
		hvnet_input_frame(rx_buf, (size_t)n);
	}
	sys_check_timeouts();
}

bool hvnet_ready(void)
{
	return up && !ip4_addr_isany_val(*netif_ip4_addr(&nif)) && netif_is_link_up(&nif);
}

bool hvnet_peer_resolved(void)
{
	static uint32_t asked;
	ip4_addr_t dst, hop;
	const ip4_addr_t *ipr;
	struct eth_addr *eth;

	if (!hvnet_ready())
		return false;
	dst.addr = lwip_htonl(conf.collector_ip);
	/* next hop: the collector when on-link, else the gateway */
	if (ip4_addr_netcmp(&dst, netif_ip4_addr(&nif), netif_ip4_netmask(&nif)) ||
	    ip4_addr_isany_val(*netif_ip4_gw(&nif)))
		hop = dst;
	else
		hop = *netif_ip4_gw(&nif);
	if (etharp_find_addr(&nif, &hop, &eth, &ipr) >= 0)
		return true;
	if (asked++ % 50 == 0)             /* every 50 calls (ticks) until the reply */
		etharp_request(&nif, &hop);
	return false;
}

uint32_t hvnet_ip(void)
{
	return up ? lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&nif))) : 0;
}

static int send_udp(const void *data, size_t len);

/* one datagram to the collector; its cost is counted (docs/BENCHMARKS.md) */
int hvnet_send(const void *data, size_t len)
{
	uint64_t t0 = __builtin_ia32_rdtsc();
	int rc = send_udp(data, len);
	stats.send_tsc += __builtin_ia32_rdtsc() - t0;
	return rc;
}

static int send_udp(const void *data, size_t len)
{
	struct pbuf *p;
	ip_addr_t dst;
	err_t e;

	if (!hvnet_ready()) {
		stats.udp_not_ready++;
		return -1;
	}
	if (len > 0xffff - 28)
		return -1;
	/* the payload by reference (no copy): lwIP prepends its headers in a pbuf
	 * of its own, linkoutput flattens the chain into the NIC's buffer, and an
	 * ARP queue copies a PBUF_REF chain before keeping it (etharp_query) */
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_REF);
	if (!p) {
		stats.udp_fail++;
		return -1;
	}
	p->payload = (void *)(uintptr_t)data;
	ip_addr_set_ip4_u32(&dst, lwip_htonl(conf.collector_ip));
	e = udp_sendto(pcb, p, &dst, conf.collector_port);
	pbuf_free(p);
	if (e != ERR_OK) {
		stats.udp_fail++;
		return -1;
	}
	stats.udp_sent++;
	return 0;
}

void hvnet_wire_send(void *ctx, const uint8_t *dgram, size_t len)
{
	(void)ctx;
	hvnet_send(dgram, len);
}

void hvnet_get_stats(struct hvnet_stats *st)
{
	*st = stats;
}

/* ---- option parsing ---- */
static const char *parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	uint32_t x = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < 10) {
		x = x * 10 + (uint32_t)(*s - '0');
		if (x > max)
			return NULL;
		s++;
		n++;
	}
	if (!n)
		return NULL;
	*v = x;
	return s;
}

static const char *parse_ip(const char *s, uint32_t *ip)
{
	uint32_t a = 0, v;

	for (int i = 0; i < 4; i++) {
		s = parse_u32(s, 255, &v);
		if (!s)
			return NULL;
		a = a << 8 | v;
		if (i < 3) {
			if (*s != '.')
				return NULL;
			s++;
		}
	}
	*ip = a;
	return s;
}

static bool str_is(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return !*a && !*b;
}

int hvnet_parse_ip_option(const char *s, struct hvnet_config *cfg, const char **err)
{
	uint32_t ip, prefix, gw = 0;

	if (str_is(s, "dhcp")) {
		cfg->dhcp = true;
		cfg->ip = cfg->netmask = cfg->gw = 0;
		return 0;
	}
	s = parse_ip(s, &ip);
	if (!s || *s != '/') {
		*err = "ip= expects dhcp or A.B.C.D/PREFIX[,GATEWAY]";
		return -1;
	}
	s = parse_u32(s + 1, 32, &prefix);
	if (!s || prefix < 1 || prefix > 30) {
		*err = "ip=: prefix must be 1..30";
		return -1;
	}
	if (*s == ',') {
		s = parse_ip(s + 1, &gw);
		if (!s) {
			*err = "ip=: bad gateway address";
			return -1;
		}
	}
	if (*s) {
		*err = "ip=: trailing characters";
		return -1;
	}
	cfg->dhcp = false;
	cfg->ip = ip;
	cfg->netmask = prefix == 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
	cfg->gw = gw;
	return 0;
}

int hvnet_parse_collector_option(const char *s, struct hvnet_config *cfg, const char **err)
{
	uint32_t ip, port;

	s = parse_ip(s, &ip);
	if (!s || *s != ':') {
		*err = "collector= expects A.B.C.D:PORT";
		return -1;
	}
	s = parse_u32(s + 1, 65535, &port);
	if (!s || *s || port == 0) {
		*err = "collector=: port must be 1..65535";
		return -1;
	}
	cfg->collector_ip = ip;
	cfg->collector_port = (uint16_t)port;
	return 0;
}

int hvnet_parse_key_option(const char *s, uint8_t key[32], const char **err)
{
	int i;

	for (i = 0; i < 64 && s[i]; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0) {
			*err = "key=: not a hexadecimal digit";
			return -1;
		}
		if (i & 1)
			key[i / 2] |= (uint8_t)v;
		else
			key[i / 2] = (uint8_t)(v << 4);
	}
	if (i != 64 || s[64]) {
		*err = "key=: expected exactly 64 hexadecimal digits (32 bytes)";
		return -1;
	}
	return 0;
}
