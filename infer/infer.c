/*
 * infer/infer.c — the engine's frame: parameter table, arena, read/scan
 * helpers shared by the strategies, and infer_run (run + cross-check).
 *
 * Merge rule (docs/INFER.md): a parameter is found when at least one strategy
 * found it and every strategy that found it reports the same value. When two
 * strategies report different values the parameter is NOT found (ambiguous),
 * `disagree` holds the strategies involved and `why` lists their values.
 */
#include "infer/strategy.h"

/* ---- parameter table ------------------------------------------------------- */

static const char *const param_names[INFER_NPARAMS] = {
#define X(id, grp, name, kind) [INFER_P_##id] = name,
	INFER_PARAMS(X)
#undef X
};
static const char *const param_groups[INFER_NPARAMS] = {
#define X(id, grp, name, kind) [INFER_P_##id] = grp,
	INFER_PARAMS(X)
#undef X
};
static const enum infer_kind param_kinds[INFER_NPARAMS] = {
#define X(id, grp, name, kind) [INFER_P_##id] = kind,
	INFER_PARAMS(X)
#undef X
};

const char *infer_param_name(enum infer_param p)
{
	return (unsigned)p < INFER_NPARAMS ? param_names[p] : "?";
}

const char *infer_param_group(enum infer_param p)
{
	return (unsigned)p < INFER_NPARAMS ? param_groups[p] : "?";
}

enum infer_kind infer_param_kind(enum infer_param p)
{
	return (unsigned)p < INFER_NPARAMS ? param_kinds[p] : INFER_K_ADDR;
}

/* ---- string helpers ----------------------------------------------------------- */

/* Word at a time: in ring -1 these are plain loops (no libc), and the arena's
 * zeroing and the decoder's copies run through them (a byte loop costs four
 * instructions a byte, i.e. Bochs ticks). */
void *infer_memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dd = d;
	const uint8_t *ss = s;
	for (; n >= 8; n -= 8, dd += 8, ss += 8) {
		uint64_t w;
		__builtin_memcpy(&w, ss, 8);
		__builtin_memcpy(dd, &w, 8);
	}
	while (n--)
		*dd++ = *ss++;
	return d;
}

void *infer_memset(void *d, int c, size_t n)
{
	uint8_t *dd = d;
	const uint64_t w = (uint8_t)c * 0x0101010101010101ull;
	for (; n >= 8; n -= 8, dd += 8)
		__builtin_memcpy(dd, &w, 8);
	while (n--)
		*dd++ = (uint8_t)c;
	return d;
}

int infer_memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t infer_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t infer_strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int infer_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (uint8_t)*a - (uint8_t)*b;
}

int infer_strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (uint8_t)a[i] - (uint8_t)b[i];
		if (!a[i])
			return 0;
	}
	return 0;
}

const void *infer_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen)
{
	const uint8_t *h = hay, *n = needle;
	if (nlen == 0)
		return hay;
	if (hlen < nlen)
		return NULL;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		if (h[i] != n[0])
			continue;
		if (infer_memcmp(h + i, n, nlen) == 0)
			return h + i;
	}
	return NULL;
}

/* Minimal vsnprintf. */
struct fmt_out {
	char *buf;
	size_t size, len;
};

static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->size && o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_num(struct fmt_out *o, uint64_t v, bool neg, unsigned base, int width, char pad)
{
	char tmp[24];
	int n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v && n < (int)sizeof(tmp));
	if (neg)
		tmp[n < (int)sizeof(tmp) ? n++ : n - 1] = '-';
	for (int i = n; i < width; i++)
		fmt_putc(o, pad);
	while (n--)
		fmt_putc(o, tmp[n]);
}

size_t infer_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			fmt_putc(&o, *f);
			continue;
		}
		f++;
		char pad = ' ';
		int width = 0, lng = 0;
		bool z = false;
		if (*f == '0') {
			pad = '0';
			f++;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (*f++ - '0');
		while (*f == 'l') {
			lng++;
			f++;
		}
		if (*f == 'z') {
			z = true;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t l = infer_strlen(s);
			for (size_t i = l; (int)i < width; i++)
				fmt_putc(&o, ' ');
			while (*s)
				fmt_putc(&o, *s++);
			break;
		}
		case 'c':
			fmt_putc(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = lng ? (int64_t)va_arg(ap, long long)
				 : z ? (int64_t)va_arg(ap, long) : va_arg(ap, int);
			fmt_num(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, v < 0, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = (lng || z) ? (uint64_t)va_arg(ap, unsigned long long)
					      : va_arg(ap, unsigned);
			fmt_num(&o, v, false, *f == 'x' ? 16 : 10, width, pad);
			break;
		}
		case 'p':
			fmt_putc(&o, '0');
			fmt_putc(&o, 'x');
			fmt_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16, width, pad);
			break;
		case '%':
			fmt_putc(&o, '%');
			break;
		case 0:
			f--;
			break;
		default:
			fmt_putc(&o, '%');
			fmt_putc(&o, *f);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return o.len;
}

size_t infer_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = infer_vfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- arena --------------------------------------------------------------------- */

void *infer_alloc_raw(struct infer_arena *a, size_t size)
{
	if (!a || !a->base)
		return NULL;
	size_t start = (a->used + 15) & ~(size_t)15;
	if (start < a->used || start > a->size || size > a->size - start)
		return NULL;
	a->used = start + size;
	return a->base + start;
}

void *infer_alloc(struct infer_arena *a, size_t size)
{
	void *p = infer_alloc_raw(a, size);
	return p ? infer_memset(p, 0, size) : NULL;
}

/* ---- results -------------------------------------------------------------------- */

void infer_set_found(struct infer_profile *out, enum infer_param p, uint64_t v)
{
	if ((unsigned)p >= INFER_NPARAMS)
		return;
	out->p[p].found = true;
	out->p[p].na = false;
	out->p[p].value = v;
	out->p[p].why[0] = 0;
}

void infer_set_missing(struct infer_profile *out, enum infer_param p, const char *fmt, ...)
{
	if ((unsigned)p >= INFER_NPARAMS)
		return;
	va_list ap;
	va_start(ap, fmt);
	out->p[p].found = false;
	out->p[p].na = false;
	out->p[p].value = 0;
	infer_vfmt(out->p[p].why, sizeof(out->p[p].why), fmt, ap);
	va_end(ap);
}

void infer_set_na(struct infer_profile *out, enum infer_param p, const char *fmt, ...)
{
	if ((unsigned)p >= INFER_NPARAMS)
		return;
	va_list ap;
	va_start(ap, fmt);
	out->p[p].found = false;
	out->p[p].na = true;
	out->p[p].value = 0;
	infer_vfmt(out->p[p].why, sizeof(out->p[p].why), fmt, ap);
	va_end(ap);
}

bool infer_param_optional(enum infer_param p)
{
	return (p >= INFER_P_TASK_SIGNAL && p <= INFER_P_TTY_PGRP) || p == INFER_P_INPUT_EVENT_TO_USER ||
	       p == INFER_P_FG_CONSOLE || (p >= INFER_P_MCOUNT_LOC_START && p <= INFER_P_FTRACE_REGS_CALL) ||
	       p == INFER_P_TTY_READ || p == INFER_P_FTRACE_GRAPH_CALL || p == INFER_P_TI_STATUS;
}

bool infer_profile_complete(const struct infer_profile *p)
{
	if (!p)
		return false;
	for (int i = 0; i < INFER_NPARAMS; i++)
		if (!p->p[i].found && !p->p[i].na && !infer_param_optional((enum infer_param)i))
			return false;
	return true;
}

/* ---- reading --------------------------------------------------------------------- */

static bool rd_read(const struct infer_reader *rd, uint64_t va, void *buf, size_t len)
{
	if (!rd || !rd->read || va + len < va)
		return false;
	return rd->read(rd->ctx, va, buf, len);
}

const uint8_t *infer_view(const struct infer_reader *rd, uint64_t va, size_t len)
{
	if (!rd || !rd->view || !len || va + len < va)
		return NULL;
	return rd->view(rd->ctx, va, len);
}

bool infer_read_u8(const struct infer_reader *rd, uint64_t va, uint8_t *v)
{
	return rd_read(rd, va, v, 1);
}

bool infer_read_u16(const struct infer_reader *rd, uint64_t va, uint16_t *v)
{
	uint8_t b[2];
	if (!rd_read(rd, va, b, 2))
		return false;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return true;
}

bool infer_read_u32(const struct infer_reader *rd, uint64_t va, uint32_t *v)
{
	uint8_t b[4];
	if (!rd_read(rd, va, b, 4))
		return false;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

bool infer_read_u64(const struct infer_reader *rd, uint64_t va, uint64_t *v)
{
	uint32_t lo, hi;
	if (!infer_read_u32(rd, va, &lo) || !infer_read_u32(rd, va + 4, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

bool infer_read_str(const struct infer_reader *rd, uint64_t va, char *buf, size_t size)
{
	if (!size)
		return false;
	for (size_t i = 0; i < size; i++) {
		uint8_t c;
		if (!infer_read_u8(rd, va + i, &c))
			return false;
		buf[i] = (char)c;
		if (!c)
			return true;
	}
	buf[size - 1] = 0;
	return false;
}

/* ---- image geometry ---------------------------------------------------------------- */

#define SCAN_MAX (256ull << 20) /* no kernel image is larger: bounds every scan */

bool infer_scan_range(const struct infer_reader *rd, const struct infer_hints *h,
		      uint64_t *start, uint64_t *end)
{
	if (rd && rd->image_start && rd->image_end > rd->image_start) {
		*start = rd->image_start;
		*end = rd->image_end - rd->image_start > SCAN_MAX ? rd->image_start + SCAN_MAX
								   : rd->image_end;
		return true;
	}
	if (rd && rd->text_start && rd->text_end > rd->text_start) {
		*start = rd->text_start;
		*end = rd->text_start + (64ull << 20);
		return *end > *start;
	}
	if (h && h->have_lstar && h->lstar > (32ull << 20)) {
		*start = (h->lstar & ~((2ull << 20) - 1)) - (32ull << 20);
		*end = *start + (64ull << 20);
		return *end > *start;
	}
	return false;
}

const struct infer_section *infer_find_section(const struct infer_reader *rd, const char *name)
{
	if (!rd || !rd->sections)
		return NULL;
	for (size_t i = 0; i < rd->nsections && i < 4096; i++)
		if (rd->sections[i].name && infer_strcmp(rd->sections[i].name, name) == 0)
			return &rd->sections[i];
	return NULL;
}

#define SCAN_CHUNK 4096u

static size_t scan_words(const struct infer_reader *rd, uint64_t start, uint64_t end,
			 const void *needle, size_t nlen, size_t max_hits,
			 infer_hit_fn cb, void *ctx);

/* Unaligned little-endian 64-bit load (one mov on x86-64). */
static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/*
 * Exact mask of the bytes of w equal to the byte in b (b = byte * ONES):
 * bit 7 of byte k set iff byte k of w matches. No borrow crosses bytes, so
 * there are no false positives (unlike the shorter haszero trick).
 */
static inline uint64_t eq_mask(uint64_t w, uint64_t b)
{
	uint64_t x = w ^ b;
	uint64_t t = (x & ~HIGHS) + ~HIGHS;
	return ~(t | x | ~HIGHS);
}

/*
 * Long needles (>= SKIP_MIN bytes: the banner, the kallsyms digits) skip by
 * the byte pair at the window's end (Horspool's rule on pairs): for a window
 * at i whose last two bytes are (a, b), no occurrence starts in (i, i + s)
 * when s is the smallest shift that puts an equal pair of the needle (or its
 * first byte, for s = nlen - 1) under them. One table of 64 Ki shifts, built
 * per scan; hits and their order are those of a byte-by-byte search (the
 * unit test compares them with one). Scans of code and data then look at one
 * pair per ~nlen bytes instead of every word.
 */
#define SKIP_MIN 12
static struct {
	bool busy;                 /* a callback that scanned again uses the word loop */
	uint8_t cand;              /* the shift after a candidate (the end pair's own) */
	/* indexed by the pair as a little-endian 16-bit load: b << 8 | a; 0 marks
	 * the needle's end pair (a candidate: compare, then shift by cand) */
	uint8_t shift[1u << 16];
} skip;

static inline unsigned pair_ix(uint8_t a, uint8_t b)
{
	return (unsigned)b << 8 | a;
}

static void skip_build(const uint8_t *n, size_t nlen)
{
	size_t k = nlen - 1;       /* the window's last byte */
	infer_memset(skip.shift, (int)(k + 1), sizeof(skip.shift));
	for (unsigned x = 0; x < 256; x++)
		skip.shift[pair_ix((uint8_t)x, n[0])] = (uint8_t)k;
	for (size_t j = 0; j + 1 < k; j++)     /* closer to the end = smaller: last write wins */
		skip.shift[pair_ix(n[j], n[j + 1])] = (uint8_t)(k - 1 - j);
	skip.cand = skip.shift[pair_ix(n[k - 1], n[k])];
	skip.shift[pair_ix(n[k - 1], n[k])] = 0;
}

static inline unsigned load16(const uint8_t *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return v;
}

/* One chunk with the pair skip: candidates i in [*pos, lim); *pos returns
 * where the next chunk starts (i - lim past it). Returns false to stop.
 * The pair at i + k - 1 lies in the bytes read for a candidate i < lim. */
static bool skip_chunk(const uint8_t *buf, size_t lim, const uint8_t *n, size_t nlen,
		       uint64_t va, size_t *pos, size_t *hits, size_t max_hits,
		       infer_hit_fn cb, void *ctx)
{
	size_t i = *pos, k = nlen - 1;
	const uint8_t *t = buf + k - 1;        /* t[i]: the pair ending window i */
	while (i < lim) {
		unsigned s = skip.shift[load16(t + i)];
		if (s) {
			i += s;
			continue;
		}
		if (infer_memcmp(buf + i, n, k - 1) == 0) {
			++*hits;
			if (!cb || !cb(ctx, va + i) || *hits >= max_hits)
				return false;
		}
		i += skip.cand;
	}
	*pos = i - lim;
	return true;
}

/*
 * The chunk rule both scans follow (unchanged since the first version): the
 * range is cut in SCAN_CHUNK pieces from start; a piece is read with the
 * nlen - 1 bytes after it (matches across borders are seen once), or alone
 * when that fails, or skipped when that fails too; candidates start in the
 * piece and end in what was read. scan_pieces reads 16 pieces at once (one
 * reader call: in ring -1 each call costs a translation, a RAM check and a
 * copy per page, and a 4 KiB read with its overlap touches two pages) and
 * falls back to single pieces, each with the rule above, when that read
 * fails: when it succeeds, every single read would have succeeded too, so the
 * candidates are the same. fn gets the bytes at va, the candidates [0, lim)
 * and the piece size span (lim == span: the next piece follows directly);
 * lim 0 for a skipped piece. fn returns false to stop.
 */
#define SCAN_BIG (16 * SCAN_CHUNK)
typedef bool (*piece_fn)(void *st, const uint8_t *buf, uint64_t va, size_t lim, size_t span);

static struct {
	bool busy;                 /* a scan from a hit callback uses single pieces */
	uint8_t buf[SCAN_BIG + 64];
} big;

static bool scan_piece(const struct infer_reader *rd, uint64_t va, uint64_t end, size_t nlen,
		       uint8_t *buf, size_t span, piece_fn fn, void *st, bool *done)
{
	size_t len = span + nlen - 1;
	if (end - va < len)
		len = (size_t)(end - va);
	if (len < nlen) {
		*done = true;
		return true;
	}
	/* in place when the reader can: the same bytes a read would copy, and
	 * the piece functions read only [0, len) of them */
	const uint8_t *v = infer_view(rd, va, len);
	if (v) {
		size_t lim = len - nlen + 1;
		if (!fn(st, v, va, lim > span ? span : lim, span))
			*done = true;
		return true;
	}
	if (!rd_read(rd, va, buf, len)) {
		/* the tail may cross into an unreadable page: retry without it */
		size_t l2 = end - va < span ? (size_t)(end - va) : span;
		if (l2 < nlen || !rd_read(rd, va, buf, l2))
			return span == SCAN_CHUNK ? fn(st, buf, va, 0, span) : false;
		if (span != SCAN_CHUNK)
			return false;  /* the big piece's tail: redo it piece by piece */
		len = l2;
	}
	size_t lim = len - nlen + 1;
	if (lim > span)
		lim = span;
	if (!fn(st, buf, va, lim, span))
		*done = true;
	return true;
}

static void scan_pieces(const struct infer_reader *rd, uint64_t start, uint64_t end, size_t nlen,
			piece_fn fn, void *st)
{
	uint8_t small[SCAN_CHUNK + 64];
	bool mine = !big.busy, done = false;
	big.busy = true;
	for (uint64_t va = start; va < end && va >= start && !done;) {
		if (mine && end - va > SCAN_CHUNK &&
		    scan_piece(rd, va, end, nlen, big.buf, SCAN_BIG, fn, st, &done)) {
			va += SCAN_BIG;
			continue;
		}
		/* single pieces: a nested scan, or up to SCAN_BIG after a failed big read */
		uint64_t stop = mine && end - va > SCAN_BIG ? va + SCAN_BIG : end;
		for (; va < stop && va < end && va >= start && !done; va += SCAN_CHUNK)
			scan_piece(rd, va, end, nlen, small, SCAN_CHUNK, fn, st, &done);
	}
	if (mine)
		big.busy = false;
}

struct skip_st {
	const uint8_t *n;
	size_t nlen, pos, hits, max_hits;
	infer_hit_fn cb;
	void *ctx;
};

static bool skip_piece(void *vst, const uint8_t *buf, uint64_t va, size_t lim, size_t span)
{
	struct skip_st *s = vst;
	if (s->pos >= lim) {       /* skipped past this (short or unread) piece */
		s->pos = lim == span ? s->pos - lim : 0;
		return true;
	}
	if (!skip_chunk(buf, lim, s->n, s->nlen, va, &s->pos, &s->hits, s->max_hits, s->cb, s->ctx))
		return false;
	if (lim < span)            /* the tail was cut: nothing carries over */
		s->pos = 0;
	return true;
}

static size_t scan_skip(const struct infer_reader *rd, uint64_t start, uint64_t end,
			const uint8_t *n, size_t nlen, size_t max_hits, infer_hit_fn cb, void *ctx)
{
	struct skip_st s = { n, nlen, 0, 0, max_hits, cb, ctx };
	skip_build(n, nlen);
	scan_pieces(rd, start, end, nlen, skip_piece, &s);
	return s.hits;
}

struct words_st {
	const uint8_t *n;
	size_t nlen, hits, max_hits;
	uint64_t b0, b1;
	infer_hit_fn cb;
	void *ctx;
};

static bool words_piece(void *vst, const uint8_t *buf, uint64_t va, size_t lim, size_t span)
{
	struct words_st *s = vst;
	const uint8_t *n = s->n;
	const size_t nlen = s->nlen;
	const uint64_t b0 = s->b0, b1 = s->b1;
	size_t i = 0;
	(void)span;
	/* word at a time: skip 8 bytes unless one of them is n[0]
	 * (exact per-byte mask only for the rare words that pass) */
	for (; i + 8 <= lim; i += 8) {
		/* haszero: nonzero iff some byte of x is 0 (may over-mark which one);
		 * four words per test while they fit (one branch per 32 bytes) */
		if (i + 32 <= lim) {
			uint64_t x0 = load64(buf + i) ^ b0, x1 = load64(buf + i + 8) ^ b0;
			uint64_t x2 = load64(buf + i + 16) ^ b0, x3 = load64(buf + i + 24) ^ b0;
			if (!((((x0 - ONES) & ~x0) | ((x1 - ONES) & ~x1) |
			       ((x2 - ONES) & ~x2) | ((x3 - ONES) & ~x3)) & HIGHS)) {
				i += 24;
				continue;
			}
		}
		uint64_t w = load64(buf + i), x = w ^ b0;
		if (!((x - ONES) & ~x & HIGHS))
			continue;
		uint64_t m = eq_mask(w, b0);
		if (nlen > 1)
			m &= (eq_mask(load64(buf + i + 1), b1));
		while (m) {
			unsigned k = (unsigned)__builtin_ctzll(m) >> 3;
			m &= m - 1;
			if (infer_memcmp(buf + i + k, n, nlen) != 0)
				continue;
			s->hits++;
			if (!s->cb || !s->cb(s->ctx, va + i + k) || s->hits >= s->max_hits)
				return false;
		}
	}
	for (; i < lim; i++) {
		if (buf[i] != n[0] || infer_memcmp(buf + i, n, nlen) != 0)
			continue;
		s->hits++;
		if (!s->cb || !s->cb(s->ctx, va + i) || s->hits >= s->max_hits)
			return false;
	}
	return true;
}

static size_t scan_words(const struct infer_reader *rd, uint64_t start, uint64_t end,
			 const void *needle, size_t nlen, size_t max_hits,
			 infer_hit_fn cb, void *ctx)
{
	const uint8_t *n = needle;
	struct words_st s = { n, nlen, 0, max_hits, n[0] * ONES, (nlen > 1 ? n[1] : 0) * ONES, cb, ctx };
	scan_pieces(rd, start, end, nlen, words_piece, &s);
	return s.hits;
}

size_t infer_scan(const struct infer_reader *rd, uint64_t start, uint64_t end,
		  const void *needle, size_t nlen, size_t max_hits,
		  infer_hit_fn cb, void *ctx)
{
	if (!nlen || nlen > 64 || end <= start || !max_hits)
		return 0;
	if (end - start > SCAN_MAX)
		end = start + SCAN_MAX;
	if (nlen >= SKIP_MIN && !skip.busy) {
		skip.busy = true;
		size_t h = scan_skip(rd, start, end, needle, nlen, max_hits, cb, ctx);
		skip.busy = false;
		return h;
	}
	return scan_words(rd, start, end, needle, nlen, max_hits, cb, ctx);
}

static struct {
	const struct infer_reader *rd; /* non-NULL only inside infer_run */
	const struct infer_hints *h;
	bool valid[INFER_MEMO_N];
	_Alignas(16) uint8_t data[INFER_MEMO_N][INFER_MEMO_SIZE];
} memo;

void *infer_memo(const struct infer_reader *rd, const struct infer_hints *h, unsigned slot,
		 bool *valid)
{
	*valid = false;
	if (!memo.rd || rd != memo.rd || h != memo.h || slot >= INFER_MEMO_N)
		return NULL;
	*valid = memo.valid[slot];
	return memo.data[slot];
}

void infer_memo_done(unsigned slot)
{
	if (memo.rd && slot < INFER_MEMO_N)
		memo.valid[slot] = true;
}

static void memo_reset(const struct infer_reader *rd, const struct infer_hints *h)
{
	infer_memset(&memo, 0, sizeof(memo));
	memo.rd = rd;
	memo.h = h;
}

struct banner_ctx {
	const struct infer_reader *rd;
	struct infer_profile *out;
	int found;     /* 0 none, 1 a banner, 2 one with a build number ("#1 ...") */
};

static bool banner_hit(void *vctx, uint64_t va)
{
	struct banner_ctx *c = vctx;
	char b[sizeof(c->out->banner)];
	size_t n = 0;
	/* "Linux version X.Y.Z..." printable up to '\n' then NUL: linux_banner */
	for (; n < sizeof(b) - 1; n++) {
		uint8_t ch;
		if (!infer_read_u8(c->rd, va + n, &ch))
			return true;
		if (ch == '\n')
			break;
		if (ch < 0x20 || ch > 0x7e)
			return true;
		b[n] = (char)ch;
	}
	if (n == sizeof(b) - 1 || n < 20)
		return true;
	b[n] = 0;
	/* version digit must follow, e.g. "Linux version 6.1.0-..." */
	if (b[14] < '0' || b[14] > '9')
		return true;
	/* linux_banner ends in "\n\0"; other copies (vermagic, ...) do not. */
	uint8_t nul;
	if (!infer_read_u8(c->rd, va + n + 1, &nul) || nul != 0)
		return true;
	/* 6.1+ also keeps a weak placeholder banner whose version is "# SMP ...";
	 * the real one has the build number ("#1 SMP ..."). */
	int quality = 1;
	for (size_t i = 0; i + 1 < n; i++)
		if (b[i] == '#' && b[i + 1] >= '0' && b[i + 1] <= '9')
			quality = 2;
	if (quality > c->found) {
		infer_memcpy(c->out->banner, b, n + 1);
		c->found = quality;
	}
	return quality < 2;
}
bool infer_find_banner(const struct infer_reader *rd, const struct infer_hints *h,
		       struct infer_profile *out)
{
	uint64_t s, e;
	struct banner_ctx c = { rd, out, 0 };
	bool valid;
	char *m = infer_memo(rd, h, INFER_MEMO_BANNER, &valid);
	_Static_assert(sizeof(out->banner) < INFER_MEMO_SIZE, "memo slot too small");
	if (m && valid) {
		/* m[0]: found; the banner follows (only copied when found, as below) */
		if (m[0])
			infer_memcpy(out->banner, m + 1, sizeof(out->banner));
		return m[0] != 0;
	}
	const struct infer_section *ro = infer_find_section(rd, ".rodata");
	if (ro && ro->size)
		infer_scan(rd, ro->va, ro->va + ro->size, "Linux version ", 14, 64, banner_hit, &c);
	if (c.found < 2 && infer_scan_range(rd, h, &s, &e))
		infer_scan(rd, s, e, "Linux version ", 14, 64, banner_hit, &c);
	if (m) {
		m[0] = c.found > 0;
		if (m[0])
			infer_memcpy(m + 1, out->banner, sizeof(out->banner));
		infer_memo_done(INFER_MEMO_BANNER);
	}
	return c.found > 0;
}

/* ---- infer_run --------------------------------------------------------------------- */

static const struct {
	uint32_t bit;
	const char *name;
	int (*run)(const struct infer_reader *, const struct infer_hints *,
		   struct infer_arena *, struct infer_profile *);
} strategies[] = {
#ifdef INFER_HAVE_PATTERNS
	{ INFER_S_PATTERNS, "patterns", infer_strategy_patterns },
#else
	{ INFER_S_PATTERNS, "patterns", NULL },
#endif
	{ INFER_S_KALLSYMS, "kallsyms", infer_strategy_kallsyms },
	{ INFER_S_BTF, "btf", infer_strategy_btf },
};
#define NSTRAT (sizeof(strategies) / sizeof(strategies[0]))

const char *infer_strategy_name(uint32_t bit)
{
	for (size_t i = 0; i < NSTRAT; i++)
		if (strategies[i].bit == bit)
			return strategies[i].name;
	return "?";
}

static void append_why(char *why, size_t size, const char *name, const char *reason)
{
	size_t l = infer_strnlen(why, size);
	if (l >= size - 1)
		return;
	infer_fmt(why + l, size - l, "%s%s: %s", l ? "; " : "", name, reason);
}

int infer_run(const struct infer_reader *rd, const struct infer_hints *hints,
	      uint32_t strat, struct infer_arena *arena, struct infer_profile *out)
{
	struct infer_hints nohints = { 0 };
	struct infer_profile *res[NSTRAT] = { 0 };
	bool ran[NSTRAT] = { 0 };
	int nfound = 0;

	if (!out)
		return 0;
	infer_memset(out, 0, sizeof(*out));
	if (!hints)
		hints = &nohints;
	strat &= INFER_S_ALL;

	size_t mark = arena ? arena->used : 0;
	memo_reset(rd, hints);
	for (size_t i = 0; i < NSTRAT; i++) {
		if (!(strat & strategies[i].bit))
			continue;
		res[i] = infer_alloc(arena, sizeof(struct infer_profile));
		if (!res[i]) {
			ran[i] = true; /* reported below as "out of arena memory" */
			continue;
		}
		size_t mark2 = arena->used;
		if (strategies[i].run) {
			strategies[i].run(rd, hints, arena, res[i]);
			ran[i] = true;
			out->strategies |= strategies[i].bit;
		} else {
			for (int p = 0; p < INFER_NPARAMS; p++)
				infer_set_missing(res[i], p, "strategy not built in");
			ran[i] = true;
		}
		/* the strategy's scratch memory is free again for the next one */
		arena->used = mark2;
		if (!out->banner[0] && res[i]->banner[0])
			infer_memcpy(out->banner, res[i]->banner, sizeof(out->banner));
	}

	for (int p = 0; p < INFER_NPARAMS; p++) {
		struct infer_value *v = &out->p[p];
		bool conflict = false;
		uint32_t na_by = 0;
		for (size_t i = 0; i < NSTRAT; i++) {
			if (ran[i] && res[i] && res[i]->p[p].na)
				na_by |= strategies[i].bit;
			if (!ran[i] || !res[i] || !res[i]->p[p].found)
				continue;
			if (!v->found_by) {
				v->value = res[i]->p[p].value;
				v->found_by = strategies[i].bit;
			} else if (res[i]->p[p].value == v->value) {
				v->found_by |= strategies[i].bit;
			} else {
				conflict = true;
				v->disagree |= strategies[i].bit;
			}
		}
		/* one strategy found what another showed does not exist: ambiguous too */
		if (v->found_by && na_by) {
			conflict = true;
			v->disagree |= na_by;
		}
		if (conflict) {
			/* ambiguous: list every answer */
			v->disagree |= v->found_by;
			v->why[0] = 0;
			for (size_t i = 0; i < NSTRAT; i++) {
				if (!ran[i] || !res[i] || (!res[i]->p[p].found && !res[i]->p[p].na))
					continue;
				char val[24];
				if (res[i]->p[p].na)
					infer_fmt(val, sizeof(val), "not applicable");
				else
					infer_fmt(val, sizeof(val), "0x%llx",
						  (unsigned long long)res[i]->p[p].value);
				append_why(v->why, sizeof(v->why), strategies[i].name, val);
			}
			v->found = false;
			v->value = 0;
			v->found_by = 0;
			continue;
		}
		if (v->found_by) {
			v->found = true;
			nfound++;
			continue;
		}
		/* Not applicable when a strategy established that the kernel has no
		 * such thing and none found it; its reasons (only) are given. */
		v->na = na_by != 0;
		for (size_t i = 0; i < NSTRAT; i++) {
			if (!ran[i] || (v->na && !(na_by & strategies[i].bit)))
				continue;
			const char *r = res[i] ? res[i]->p[p].why : "out of arena memory";
			if (r[0])
				append_why(v->why, sizeof(v->why), strategies[i].name, r);
		}
		if (!v->why[0])
			append_why(v->why, sizeof(v->why),
				   strat ? "all" : "none", strat ? "no strategy handles it" : "no strategy selected");
	}
	if (!out->banner[0])
		infer_find_banner(rd, hints, out);
	memo_reset(NULL, NULL);
	if (arena)
		arena->used = mark;
	return nfound;
}
