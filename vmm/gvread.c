/* gvread — cached guest-virtual reader (see gvread.h). */
#include "vmm/gvread.h"

static void zero(void *p, size_t n)
{
	volatile uint8_t *b = p;
	while (n--)
		*b++ = 0;
}

void gvread_init(struct gvread *r, const struct gmem_mmu *m)
{
	zero(r, sizeof(*r));
	r->mmu = *m;
	for (unsigned i = 0; i < GVREAD_T4K; i++) r->t4k[i].va = 1;
	for (unsigned i = 0; i < GVREAD_T2M; i++) r->t2m[i].va = 1;
	for (unsigned i = 0; i < GVREAD_T1G; i++) r->t1g[i].va = 1;
}

static struct gvread_ent *slot(struct gvread *r, uint64_t va, uint64_t size)
{
	if (size == (1ULL << 30)) return &r->t1g[(va >> 30) % GVREAD_T1G];
	if (size == (1ULL << 21)) return &r->t2m[(va >> 21) % GVREAD_T2M];
	return &r->t4k[(va >> 12) % GVREAD_T4K];
}

/* gvread_translate that also gives the size of the page holding va */
static bool translate_sz(struct gvread *r, uint64_t va, uint64_t *pa, uint64_t *psize)
{
	static const uint64_t sizes[3] = { 1ULL << 30, 1ULL << 21, 1ULL << 12 };
	for (int i = 0; i < 3; i++) {
		struct gvread_ent *e = slot(r, va, sizes[i]);
		if (e->va == (va & ~(sizes[i] - 1))) {
			if (!e->present)
				return false;
			*pa = e->pa + (va & (sizes[i] - 1));
			*psize = sizes[i];
			return true;
		}
	}
	struct gmem_walk w;
	r->walks++;
	int rc = gmem_translate(&r->mmu, va, GMEM_KERNEL_ONLY, &w);
	uint64_t size = 1ULL << 12;
	if (rc == GMEM_OK) {
		size = w.page_size;
		if (size != (1ULL << 30) && size != (1ULL << 21))
			size = 1ULL << 12;
		struct gvread_ent *e = slot(r, va, size);
		e->va = va & ~(size - 1);
		e->pa = w.gpa - (va & (size - 1));
		e->present = true;
		*pa = w.gpa;
		*psize = size;
		return true;
	}
	/* Negative entry as wide as the level whose entry was not present:
	 * PDPT entry (level 3) = 1 GiB, PD entry (level 2) = 2 MiB. A missing
	 * PML4/PML5 entry is cached as 1 GiB (the widest entry kept). Any other
	 * error (reserved bits, user page, refused read): this 4 KiB page. */
	if (rc == GMEM_ERR_NOT_PRESENT) {
		if (w.fail_level >= 3) size = 1ULL << 30;
		else if (w.fail_level == 2) size = 1ULL << 21;
	}
	struct gvread_ent *e = slot(r, va, size);
	e->va = va & ~(size - 1);
	e->present = false;
	return false;
}

bool gvread_translate(struct gvread *r, uint64_t va, uint64_t *pa)
{
	uint64_t size;
	return translate_sz(r, va, pa, &size);
}

void gvread_set_view(struct gvread *r, gvread_phys_ptr_fn fn, void *ctx)
{
	r->phys_ptr = fn;
	r->phys_ctx = ctx;
}

const uint8_t *gvread_view(void *ctx, uint64_t va, size_t len)
{
	struct gvread *r = ctx;
	uint64_t pa0, pa, size;
	if (!r->phys_ptr || len == 0 || len > GVREAD_MAX_LEN || va + (len - 1) < va)
		return NULL;
	if (!translate_sz(r, va, &pa0, &size))
		return NULL;
	/* bytes of [va, va + len) known to follow pa0 contiguously; at most
	 * len / 4 KiB + 1 more pages (len is bounded above) */
	uint64_t have = size - (va & (size - 1));
	while (have < len) {
		if (!translate_sz(r, va + have, &pa, &size) || pa != pa0 + have)
			return NULL;
		have += size - ((va + have) & (size - 1));
	}
	const uint8_t *p = r->phys_ptr(r->phys_ctx, pa0, len);
	if (p) {
		r->views++;
		r->view_bytes += len;
	}
	return p;
}

bool gvread_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	struct gvread *r = ctx;
	uint8_t *out = buf;
	r->reads++;
	if (len == 0)
		return true;
	if (!buf || len > GVREAD_MAX_LEN || va + (len - 1) < va) {   /* the last byte may be 2^64-1 */
		r->failed++;
		return false;
	}
	while (len) {
		uint64_t pa;
		size_t chunk = 4096 - (va & 4095);
		if (chunk > len)
			chunk = len;
		if (!gvread_translate(r, va, &pa) ||
		    r->mmu.read_phys(r->mmu.ctx, pa, out, (uint32_t)chunk) != 0) {
			r->failed++;
			return false;
		}
		r->pages++;
		r->bytes += chunk;
		out += chunk;
		va += chunk;
		len -= chunk;
	}
	return true;
}

uint64_t gvread_first_mapped_2m(struct gvread *r, uint64_t start, uint64_t size)
{
	uint64_t pa;
	if ((start & ((1ULL << 21) - 1)) || size > (1ULL << 30))
		return 0;
	for (uint64_t off = 0; off < size; off += 1ULL << 21)
		if (gvread_translate(r, start + off, &pa))
			return start + off;
	return 0;
}

uint64_t gvread_mapped_end_2m(struct gvread *r, uint64_t start, uint64_t max)
{
	uint64_t pa, off;
	if ((start & ((1ULL << 21) - 1)) || max > (1ULL << 30))
		return start;
	for (off = 0; off < max; off += 1ULL << 21)
		if (!gvread_translate(r, start + off, &pa))
			break;
	return start + off;
}
