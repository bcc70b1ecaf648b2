/*
 * dmar — DMAR parsing, CAP/ECAP and fault decoding, root/context entries.
 * See dmar.h. Every length read from the table is checked against the bytes
 * the caller says are readable before anything behind it is touched.
 */
#include <string.h>
#include "drivers/vtd/dmar.h"
#include "vmm/ept_map.h"

#define DMAR_HDR_LEN     48      /* ACPI header (36) + HAW + flags + 10 reserved */
#define RS_DRHD          0
#define RS_RMRR          1
#define DRHD_FIXED_LEN   16
#define RMRR_FIXED_LEN   24
#define SCOPE_FIXED_LEN  6

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

/* Device scopes in [p, p + len): kept up to DMAR_MAX_SCOPES, the rest counted. */
static int parse_scopes(const uint8_t *p, size_t len, struct dmar_scope *out, uint32_t *nr,
			uint32_t *dropped, const char **why)
{
	*nr = *dropped = 0;
	while (len) {
		if (len < SCOPE_FIXED_LEN)
			return fail(why, "DMAR: truncated device scope");
		uint8_t slen = p[1];
		if (slen < SCOPE_FIXED_LEN || slen > len || (slen - SCOPE_FIXED_LEN) % 2)
			return fail(why, "DMAR: bad device scope length");
		if (*nr < DMAR_MAX_SCOPES) {
			struct dmar_scope *s = &out[(*nr)++];
			unsigned hops = (slen - SCOPE_FIXED_LEN) / 2;
			memset(s, 0, sizeof(*s));
			s->type = p[0];
			s->enum_id = p[4];
			s->bus = p[5];
			s->nr_path = hops < DMAR_MAX_PATH ? hops : DMAR_MAX_PATH;
			for (unsigned i = 0; i < s->nr_path; i++) {
				s->path[i][0] = p[6 + 2 * i];
				s->path[i][1] = p[7 + 2 * i];
			}
		} else {
			(*dropped)++;
		}
		p += slen;
		len -= slen;
	}
	return 0;
}

static int parse_drhd(const uint8_t *p, size_t len, struct dmar_info *out, const char **why)
{
	if (len < DRHD_FIXED_LEN)
		return fail(why, "DMAR: DRHD shorter than 16 bytes");
	if (out->nr_drhd >= DMAR_MAX_DRHD)
		return fail(why, "DMAR: more remapping units than hvmon supports (8)");
	struct dmar_drhd *d = &out->drhd[out->nr_drhd];
	memset(d, 0, sizeof(*d));
	d->flags = p[4];
	d->size = p[5] & 0xf;
	d->segment = rd16(p + 6);
	d->base = rd64(p + 8);
	if (!d->base || (d->base & 0xfff) || d->base >= (1ULL << 52))
		return fail(why, "DMAR: DRHD register base not a 4 KiB aligned address");
	if (parse_scopes(p + DRHD_FIXED_LEN, len - DRHD_FIXED_LEN, d->scopes, &d->nr_scopes,
			 &d->scopes_dropped, why))
		return -1;
	out->nr_drhd++;
	return 0;
}

static int parse_rmrr(const uint8_t *p, size_t len, struct dmar_info *out, const char **why)
{
	if (len < RMRR_FIXED_LEN)
		return fail(why, "DMAR: RMRR shorter than 24 bytes");
	if (out->nr_rmrr >= DMAR_MAX_RMRR)
		return fail(why, "DMAR: more RMRRs than hvmon supports (16)");
	struct dmar_rmrr *r = &out->rmrr[out->nr_rmrr];
	memset(r, 0, sizeof(*r));
	r->segment = rd16(p + 6);
	r->base = rd64(p + 8);
	r->limit = rd64(p + 16);
	if ((r->base & 0xfff) || ((r->limit + 1) & 0xfff) || r->limit < r->base ||
	    r->limit >= (1ULL << 52))
		return fail(why, "DMAR: RMRR range not 4 KiB aligned or inverted");
	if (parse_scopes(p + RMRR_FIXED_LEN, len - RMRR_FIXED_LEN, r->scopes, &r->nr_scopes,
			 &r->scopes_dropped, why))
		return -1;
	out->nr_rmrr++;
	return 0;
}

int dmar_parse(const void *tbl, size_t len, struct dmar_info *out, const char **why)
{
	const uint8_t *t = tbl;
	memset(out, 0, sizeof(*out));
	if (!t || len < DMAR_HDR_LEN)
		return fail(why, "DMAR: shorter than its 48-byte header");
	if (memcmp(t, "DMAR", 4))
		return fail(why, "DMAR: bad signature");
	uint32_t tlen = rd32(t + 4);
	if (tlen < DMAR_HDR_LEN || tlen > len || tlen > DMAR_TABLE_MAX)
		return fail(why, "DMAR: header length beyond the table");
	uint8_t sum = 0;
	for (uint32_t i = 0; i < tlen; i++)
		sum += t[i];
	if (sum)
		return fail(why, "DMAR: bad checksum");
	out->haw = (uint8_t)(t[36] + 1);
	out->flags = t[37];
	for (uint32_t off = DMAR_HDR_LEN; off < tlen;) {
		if (tlen - off < 4)
			return fail(why, "DMAR: truncated remapping structure");
		uint16_t type = rd16(t + off), slen = rd16(t + off + 2);
		if (slen < 4 || slen > tlen - off)
			return fail(why, "DMAR: remapping structure length out of bounds");
		int rc = 0;
		if (type == RS_DRHD)
			rc = parse_drhd(t + off, slen, out, why);
		else if (type == RS_RMRR)
			rc = parse_rmrr(t + off, slen, out, why);
		else
			out->other++;
		if (rc)
			return -1;
		off += slen;
	}
	if (!out->nr_drhd)
		return fail(why, "DMAR: no remapping unit (DRHD)");
	return 0;
}

/* ---- CAP / ECAP ---- */
static uint64_t bits(uint64_t v, unsigned lo, unsigned n) { return (v >> lo) & ((1ULL << n) - 1); }

int vtd_caps_decode(uint64_t cap, uint64_t ecap, uint32_t reg_bytes, struct vtd_caps *c,
		    const char **why)
{
	memset(c, 0, sizeof(*c));
	c->cap = cap;
	c->ecap = ecap;
	c->nd = (uint8_t)bits(cap, 0, 3);
	c->afl = bits(cap, 3, 1);
	c->rwbf = bits(cap, 4, 1);
	c->cm = bits(cap, 7, 1);
	c->sagaw = (uint8_t)bits(cap, 8, 5);
	c->mgaw = (uint8_t)(bits(cap, 16, 6) + 1);
	c->fro = (uint32_t)bits(cap, 24, 10) * 16;
	c->sllps = (uint8_t)bits(cap, 34, 4);
	c->psi = bits(cap, 39, 1);
	c->nfr = (uint32_t)bits(cap, 40, 8) + 1;
	c->mamv = (uint8_t)bits(cap, 48, 6);
	c->coherent = bits(ecap, 0, 1);
	c->qi = bits(ecap, 1, 1);
	c->ir = bits(ecap, 3, 1);
	c->eim = bits(ecap, 4, 1);
	c->pt = bits(ecap, 6, 1);
	c->iro = (uint32_t)bits(ecap, 8, 10) * 16;

	if (c->sagaw & 0x4)
		c->levels = 4;
	else if (c->sagaw & 0x2)
		c->levels = 3;
	else
		return fail(why, "VT-d: unit supports neither 3- nor 4-level second-level tables");
	c->aw = (uint8_t)(c->levels - 2);
	unsigned w = 12 + 9 * c->levels;
	if (c->mgaw < w)
		w = c->mgaw;
	c->limit = 1ULL << w;
	if (c->sllps & 0x1)
		c->large |= EPT_CAP_2M;
	if (c->sllps & 0x2)
		c->large |= EPT_CAP_1G;
	if (c->fro == 0 || (uint64_t)c->fro + 16ULL * c->nfr > reg_bytes)
		return fail(why, "VT-d: fault-recording registers outside the register set");
	if (c->iro == 0 || (uint64_t)c->iro + 16 > reg_bytes)
		return fail(why, "VT-d: IOTLB registers outside the register set");
	return 0;
}

/* ---- faults ---- */
bool vtd_fault_decode(uint64_t lo, uint64_t hi, struct vtd_fault *f)
{
	memset(f, 0, sizeof(*f));
	if (!(hi & (1ULL << 63)))
		return false;
	f->addr = lo & ~0xfffULL;
	f->sid = (uint16_t)(hi & 0xffff);
	f->reason = (uint8_t)((hi >> 32) & 0xff);
	f->write = !(hi & (1ULL << 62));
	return true;
}

const char *vtd_fault_reason_name(uint8_t r)
{
	/* spec 7.1.3, table "Unrecoverable fault conditions" (legacy mode) */
	static const char *const names[] = {
		[0x1] = "root entry not present",
		[0x2] = "context entry not present",
		[0x3] = "invalid context entry",
		[0x4] = "address beyond the domain width",
		[0x5] = "write to a page not writable (or not mapped)",
		[0x6] = "read of a page not readable (or not mapped)",
		[0x7] = "paging entry address invalid",
		[0x8] = "root table address invalid",
		[0x9] = "context table address invalid",
		[0xa] = "reserved bits in root entry",
		[0xb] = "reserved bits in context entry",
		[0xc] = "reserved bits in paging entry",
		[0xd] = "translation type blocked by context entry",
	};
	if (r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "other";
}

void vtd_sid_format(uint16_t sid, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	unsigned bus = sid >> 8, dev = (sid >> 3) & 0x1f, fn = sid & 7;
	buf[0] = hex[bus >> 4];
	buf[1] = hex[bus & 15];
	buf[2] = ':';
	buf[3] = hex[dev >> 4];
	buf[4] = hex[dev & 15];
	buf[5] = '.';
	buf[6] = (char)('0' + fn);
	buf[7] = 0;
}

bool vtd_ratelimit_allow(struct vtd_ratelimit *r, uint64_t now, uint64_t *skipped)
{
	if (now - r->window_start >= r->window_ticks || now < r->window_start) {
		r->window_start = now;
		r->used = 0;
	}
	if (r->used >= r->per_window) {
		r->pending++;
		r->suppressed++;
		return false;
	}
	r->used++;
	*skipped = r->pending;
	r->pending = 0;
	return true;
}

/* ---- root / context entries ---- */
void vtd_root_set(uint64_t *root, unsigned bus, uint64_t ctx_pa)
{
	root[2 * (bus & 0xff)] = (ctx_pa & ~0xfffULL) | 1;    /* P */
	root[2 * (bus & 0xff) + 1] = 0;
}

void vtd_ctx_set(uint64_t *ctx, unsigned devfn, uint64_t slpt_pa, uint8_t aw, uint16_t did)
{
	/* lo: P (0), FPD (1) = 0, TT (3:2) = 00, SLPTPTR (63:12); hi: AW (2:0), DID (23:8) */
	ctx[2 * (devfn & 0xff)] = (slpt_pa & ~0xfffULL) | 1;
	ctx[2 * (devfn & 0xff) + 1] = (uint64_t)(aw & 7) | ((uint64_t)did << 8);
}
