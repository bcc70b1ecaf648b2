/*
 * e820 — guest memory map construction. See e820.h for the contract.
 *
 * Method: a boundary sweep without allocation. The distinct boundaries of all
 * inputs (firmware entry starts/ends, widened reserved starts/ends) cut the
 * address space into elementary intervals; each interval takes the highest type
 * of the firmware entries covering it, or becomes a hole when a reserved range
 * covers it. Consecutive intervals of equal type are merged. O(B * N) with
 * B <= 2 * (BOOT_MEM_MAX + BOOT_RSVD_MAX) boundaries and N inputs.
 */
#include "vmm/e820.h"

#define U64_MAX_ 0xffffffffffffffffULL

/* Exclusive end, clamped at 2^64 - 1 (the very last byte is not representable). */
static uint64_t end_of(uint64_t base, uint64_t len)
{
	uint64_t e = base + len;
	return e < base ? U64_MAX_ : e;
}

static uint64_t page_down(uint64_t x) { return x & ~(E820_PAGE_SIZE - 1); }

static uint64_t page_up(uint64_t x)
{
	if (x > U64_MAX_ - (E820_PAGE_SIZE - 1))
		return U64_MAX_;        /* 2^64: "to the end", clamped like end_of() */
	return (x + E820_PAGE_SIZE - 1) & ~(E820_PAGE_SIZE - 1);
}

static bool mem_valid(const struct boot_mem_region *m)
{
	return m->length != 0 && m->type != 0 && end_of(m->base, m->length) > m->base;
}

static void rsvd_span(const struct boot_reserved *r, uint64_t *s, uint64_t *e)
{
	*s = page_down(r->base);
	*e = page_up(end_of(r->base, r->length));
}

/* Smallest boundary strictly greater than @cur; false when none. */
static bool next_boundary(const struct boot_mem_region *mem, uint32_t nr_mem,
			  const struct boot_reserved *rsvd, uint32_t nr_rsvd,
			  uint64_t cur, uint64_t *next)
{
	bool found = false;
	uint64_t best = U64_MAX_;
	uint32_t i;

#define CONSIDER(v) do { uint64_t v_ = (v); \
		if (v_ > cur && (!found || v_ < best)) { best = v_; found = true; } } while (0)
	for (i = 0; i < nr_mem; i++) {
		if (!mem_valid(&mem[i]))
			continue;
		CONSIDER(mem[i].base);
		CONSIDER(end_of(mem[i].base, mem[i].length));
	}
	for (i = 0; i < nr_rsvd; i++) {
		uint64_t s, e;
		if (rsvd[i].length == 0)
			continue;
		rsvd_span(&rsvd[i], &s, &e);
		CONSIDER(s);
		CONSIDER(e);
	}
#undef CONSIDER
	*next = best;
	return found;
}

int e820_build_guest(const struct boot_mem_region *mem, uint32_t nr_mem,
		     const struct boot_reserved *rsvd, uint32_t nr_rsvd,
		     struct e820_entry *out, uint32_t out_max, uint32_t *out_nr)
{
	uint64_t cur, next;
	uint32_t n = 0, i;
	bool have_start = false, any_ram = false, last_valid = false;
	struct e820_entry last = { 0, 0, 0 };

	if (!out_nr)
		return E820_ERR_INVAL;
	*out_nr = 0;
	if ((!mem && nr_mem) || (!rsvd && nr_rsvd) || (!out && out_max) ||
	    nr_mem > BOOT_MEM_MAX || nr_rsvd > BOOT_RSVD_MAX)
		return E820_ERR_INVAL;

	/* Lowest firmware start: where the sweep begins. */
	cur = 0;
	for (i = 0; i < nr_mem; i++) {
		if (!mem_valid(&mem[i]))
			continue;
		if (!have_start || mem[i].base < cur)
			cur = mem[i].base;
		have_start = true;
	}
	if (!have_start)
		return E820_ERR_EMPTY;

	/* Each iteration consumes one distinct boundary: at most 2 * (nr_mem + nr_rsvd). */
	while (next_boundary(mem, nr_mem, rsvd, nr_rsvd, cur, &next)) {
		uint32_t type = 0;
		bool hole = false;

		for (i = 0; i < nr_rsvd && !hole; i++) {
			uint64_t s, e;
			if (rsvd[i].length == 0)
				continue;
			rsvd_span(&rsvd[i], &s, &e);
			if (s <= cur && cur < e)
				hole = true;
		}
		if (!hole) {
			for (i = 0; i < nr_mem; i++) {
				if (!mem_valid(&mem[i]))
					continue;
				if (mem[i].base <= cur && cur < end_of(mem[i].base, mem[i].length) &&
				    mem[i].type > type)
					type = mem[i].type;
			}
		}
		if (hole || type == 0) {
			last_valid = false;     /* a gap: never merge across it */
		} else if (last_valid && last.type == type && last.addr + last.size == cur) {
			last.size += next - cur;
			if (n <= out_max && n > 0)
				out[n - 1].size = last.size;
		} else {
			last.addr = cur;
			last.size = next - cur;
			last.type = type;
			last_valid = true;
			if (n < out_max) {
				out[n].addr = last.addr;
				out[n].size = last.size;
				out[n].type = last.type;
			}
			n++;
		}
		if (!hole && type == E820_TYPE_RAM)
			any_ram = true;
		cur = next;
	}

	*out_nr = n;
	if (n > out_max)
		return E820_ERR_TOO_MANY;
	if (!any_ram)
		return E820_ERR_EMPTY;
	return E820_OK;
}

static bool overlaps(uint64_t a, uint64_t b, uint64_t s, uint64_t e)
{
	return a < e && s < b;
}

/* Is [a, b) clean: covered by the union of RAM entries, no non-RAM entry, no avoid range? */
static bool range_ok(const struct e820_entry *map, uint32_t nr,
		     const struct e820_range *avoid, uint32_t nr_avoid, uint64_t a, uint64_t b)
{
	uint32_t i, round;
	uint64_t pos = a;

	for (i = 0; i < nr; i++) {
		if (map[i].size == 0 || map[i].type == E820_TYPE_RAM)
			continue;
		if (overlaps(a, b, map[i].addr, end_of(map[i].addr, map[i].size)))
			return false;
	}
	for (i = 0; i < nr_avoid; i++) {
		if (avoid[i].length == 0)
			continue;
		if (overlaps(a, b, avoid[i].base, end_of(avoid[i].base, avoid[i].length)))
			return false;
	}
	/* Coverage by RAM entries (possibly several adjacent ones); one entry per round. */
	for (round = 0; round <= nr && pos < b; round++) {
		uint64_t best = pos;
		for (i = 0; i < nr; i++) {
			uint64_t s = map[i].addr, e = end_of(map[i].addr, map[i].size);
			if (map[i].type != E820_TYPE_RAM || map[i].size == 0)
				continue;
			if (s <= pos && pos < e && e > best)
				best = e;
		}
		if (best == pos)
			return false;
		pos = best;
	}
	return pos >= b;
}

int e820_find_free(const struct e820_entry *map, uint32_t nr,
		   const struct e820_range *avoid, uint32_t nr_avoid,
		   uint64_t size, uint64_t align, uint64_t min, uint64_t limit,
		   uint32_t flags, uint64_t *addr)
{
	bool top = flags & E820_FIND_TOP_DOWN, found = false;
	uint64_t best = 0;
	uint32_t i, pass;

	if (!addr || (!map && nr) || (!avoid && nr_avoid) || nr > BOOT_MEM_MAX || nr_avoid > 64 ||
	    size == 0 || (flags & ~E820_FIND_TOP_DOWN))
		return E820_ERR_INVAL;
	if (align == 0)
		align = 1;
	if (align & (align - 1))
		return E820_ERR_INVAL;
	if (limit <= min || limit - min < size)
		return E820_ERR_NOT_FOUND;

	/*
	 * Candidates (see docs/VMM-LOGIC.md for why this is complete): bottom-up, the
	 * aligned-up value of min, of every RAM start and of every obstacle end;
	 * top-down, the aligned-down value of (p - size) for p = limit, every RAM end
	 * and every obstacle start. Pass 0 walks the map, pass 1 the avoid list.
	 */
	for (pass = 0; pass < 2; pass++) {
		uint32_t cnt = pass == 0 ? nr + 1 : nr_avoid;
		for (i = 0; i < cnt; i++) {
			uint64_t p, c, s, e;
			if (pass == 0 && i == nr) {
				p = top ? limit : min;
			} else if (pass == 0) {
				if (map[i].size == 0)
					continue;
				s = map[i].addr;
				e = end_of(map[i].addr, map[i].size);
				if (map[i].type == E820_TYPE_RAM)
					p = top ? e : s;
				else
					p = top ? s : e;
			} else {
				if (avoid[i].length == 0)
					continue;
				s = avoid[i].base;
				e = end_of(avoid[i].base, avoid[i].length);
				p = top ? s : e;
			}
			if (top) {
				if (p < size)
					continue;
				c = (p - size) & ~(align - 1);
			} else {
				if (p > U64_MAX_ - (align - 1))
					continue;
				c = (p + align - 1) & ~(align - 1);
			}
			if (c < min || c > limit - size)
				continue;
			if (found && (top ? c <= best : c >= best))
				continue;
			if (range_ok(map, nr, avoid, nr_avoid, c, c + size)) {
				best = c;
				found = true;
			}
		}
	}
	if (!found)
		return E820_ERR_NOT_FOUND;
	*addr = best;
	return E820_OK;
}

uint64_t e820_ram_bytes(const struct e820_entry *map, uint32_t nr)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; map && i < nr; i++)
		if (map[i].type == E820_TYPE_RAM)
			sum += map[i].size;
	return sum;
}

const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_TYPE_RAM:      return "RAM";
	case E820_TYPE_RESERVED: return "reserved";
	case E820_TYPE_ACPI:     return "ACPI";
	case E820_TYPE_NVS:      return "ACPI NVS";
	case E820_TYPE_UNUSABLE: return "unusable";
	case E820_TYPE_PMEM:     return "persistent";
	default:                 return "unknown";
	}
}

const char *e820_strerror(int err)
{
	switch (err) {
	case E820_OK:            return "ok";
	case E820_ERR_INVAL:     return "invalid argument (NULL pointer, count above limit, bad size or alignment)";
	case E820_ERR_TOO_MANY:  return "guest e820 needs more entries than the zero page holds (128)";
	case E820_ERR_NOT_FOUND: return "no free RAM range of the requested size/alignment below the limit";
	case E820_ERR_EMPTY:     return "no RAM left in the memory map";
	default:                 return "unknown e820 error";
	}
}

int e820_ram_minus(const struct e820_entry *map, uint32_t nr, const struct boot_reserved *rsvd,
		   uint32_t nr_rsvd, struct e820_range *out, uint32_t out_max)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < nr; i++) {
		if (map[i].type != E820_TYPE_RAM || !map[i].size)
			continue;
		uint64_t a = map[i].addr, end = a + map[i].size;
		if (end < a)
			end = UINT64_MAX;                  /* clamped, as e820_build_guest does */
		uint32_t first = n;
		if (n >= out_max)
			return -1;
		out[n].base = a;
		out[n++].length = end - a;
		/* cut every reserved range out of this entry's pieces [first, n) */
		for (uint32_t r = 0; r < nr_rsvd; r++) {
			uint64_t rb = rsvd[r].base & ~0xfffULL;
			uint64_t re = rsvd[r].base + rsvd[r].length;
			re = re < rsvd[r].base ? UINT64_MAX : (re + 0xfff < re ? UINT64_MAX : (re + 0xfff) & ~0xfffULL);
			if (!rsvd[r].length)
				continue;
			for (uint32_t k = first; k < n; k++) {
				uint64_t pb = out[k].base, pe = pb + out[k].length;
				if (re <= pb || rb >= pe)
					continue;
				if (rb > pb && re < pe) {          /* splits the piece in two */
					if (n >= out_max)
						return -1;
					out[n].base = re;
					out[n++].length = pe - re;
					out[k].length = rb - pb;
				} else if (rb > pb) {              /* cuts its end */
					out[k].length = rb - pb;
				} else if (re < pe) {              /* cuts its start */
					out[k].base = re;
					out[k].length = pe - re;
				} else {                           /* covers it: drop it */
					out[k] = out[--n];
					k--;
				}
			}
		}
	}
	/* largest first (insertion sort: a few ranges) */
	for (uint32_t i = 1; i < n; i++) {
		struct e820_range x = out[i];
		uint32_t j = i;
		for (; j > 0 && out[j - 1].length < x.length; j--)
			out[j] = out[j - 1];
		out[j] = x;
	}
	return (int)n;
}
