/*
 * infer/kallsyms.c — the kallsyms strategy: find the kernel's embedded symbol
 * tables by their shape (no section headers, no symbols needed), decode the
 * compressed names, and map the parameters to symbols.
 *
 * Tables (scripts/kallsyms.c, x86-64, each table 8-byte aligned):
 *   <= 6.3: kallsyms_offsets, kallsyms_relative_base, kallsyms_num_syms,
 *           kallsyms_names, kallsyms_markers, kallsyms_token_table, kallsyms_token_index
 *   >= 6.4: kallsyms_num_syms, kallsyms_names, kallsyms_markers,
 *           kallsyms_token_table, kallsyms_token_index, kallsyms_offsets,
 *           kallsyms_relative_base, kallsyms_seqs_of_names
 * 6.1.y stable (6.1.192 included), 6.2 and 6.3 put kallsyms_seqs_of_names
 * (3 bytes per symbol) between markers and token_table.
 *
 * How they are found:
 *  1. token_table: the tokens for '0'..'9' are the digits themselves
 *     ("0\0" "1\0" ... "9\0"); walk back 48 strings to the table start and
 *     forward 256 strings to its end; token_index (256 u16 offsets) right after
 *     must match the walk exactly.
 *  2. markers (u32 or u64, markers[0] == 0, increasing) end just before the
 *     token table, or before seqs_of_names (its size follows from N).
 *  3. names start 8-aligned after num_syms (u32 N, 4 zero bytes) with
 *     ceil(N/256) == number of markers; names[256k] must start at markers[k].
 *  4. offsets + relative_base: before num_syms (<= 6.3) or after
 *     token_index (>= 6.4); relative_base must be a kernel address.
 * Values: KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP): offset >= 0 is an absolute
 * value (per-CPU symbols: their gs offset), offset < 0 is relative_base - 1 - offset.
 * Without it: relative_base + (u32)offset.
 */
#include "infer/strategy.h"
#include "infer/btf.h"

#define KS_MAX_SYMS   (1u << 21)
#define KS_MAX_TOKLEN 64

/* 4 KiB read cache: the names stream is read byte by byte. */
struct cur {
	const struct infer_reader *rd;
	uint64_t base;
	size_t len;
	uint8_t buf[4096];
};

static bool cur_fill(struct cur *c, uint64_t va, uint8_t *v);

/* Fast path inline (the names stream is decoded byte by byte). */
static inline __attribute__((always_inline)) bool cur_u8(struct cur *c, uint64_t va, uint8_t *v)
{
	if (c->len && va >= c->base && va - c->base < c->len) {
		*v = c->buf[va - c->base];
		return true;
	}
	return cur_fill(c, va, v);
}

static bool cur_fill(struct cur *c, uint64_t va, uint8_t *v)
{
	uint64_t b = va & ~4095ull;
	c->len = 0;
	if (!c->rd->read(c->rd->ctx, b, c->buf, 4096))
		return infer_read_u8(c->rd, va, v);
	c->base = b;
	c->len = 4096;
	*v = c->buf[va - b];
	return true;
}

/* Little-endian loads through a cursor: true iff every byte is readable
 * (what one all-or-nothing read of the same bytes gives). */
static bool cur_u16(struct cur *c, uint64_t va, uint16_t *v)
{
	uint8_t b0, b1;
	if (!cur_u8(c, va, &b0) || !cur_u8(c, va + 1, &b1))
		return false;
	*v = (uint16_t)(b0 | b1 << 8);
	return true;
}

static bool cur_u32(struct cur *c, uint64_t va, uint32_t *v)
{
	if (c->len && va >= c->base && va - c->base + 4 <= c->len) {   /* all in the page */
		const uint8_t *p = c->buf + (va - c->base);
		*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		return true;
	}
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		if (!cur_u8(c, va + i, &b[i]))
			return false;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

static bool cur_u64(struct cur *c, uint64_t va, uint64_t *v)
{
	uint32_t lo, hi;
	if (!cur_u32(c, va, &lo) || !cur_u32(c, va + 4, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

struct ks {
	const struct infer_reader *rd;
	/* every table read except the names stream goes through this cursor:
	 * the markers search reads ~10^5 words near each other, and each
	 * reader call costs far more in ring -1 than a copy from the cursor */
	struct cur mc;
	uint64_t tok_table, tok_index, tok_end; /* token_index end */
	uint16_t tok_off[256];
	char tok[256][KS_MAX_TOKLEN];
	uint8_t tok_len[256];
	uint64_t markers;
	unsigned mwidth, nmarkers;
	uint64_t names, names_end;
	uint32_t nsyms;
	uint64_t offsets, relbase;
	bool abs_percpu;
	uint32_t budget; /* find_names candidates left (bounded time on hostile input) */
};

static bool printable_sym(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* Validate a token table whose '0' token starts at va0. */
static bool try_token_table(struct ks *k, uint64_t va0)
{
	uint64_t p = va0;
	/* walk back 48 strings: each is >= 1 printable char followed by NUL */
	for (int i = 0; i < 48; i++) {
		uint8_t c;
		if (!cur_u8(&k->mc, p - 1, &c) || c != 0)
			return false;
		p--;
		int n = 0;
		while (n < KS_MAX_TOKLEN) {
			if (!cur_u8(&k->mc, p - 1, &c))
				return false;
			if (!printable_sym(c))
				break;
			p--;
			n++;
		}
		if (n == 0 || n >= KS_MAX_TOKLEN)
			return false;
	}
	uint64_t start = p, q = start;
	for (int i = 0; i < 256; i++) {
		uint8_t c;
		int n = 0;
		k->tok_off[i] = (uint16_t)(q - start);
		if (q - start > 0xffff)
			return false;
		for (;;) {
			if (!cur_u8(&k->mc, q, &c))
				return false;
			q++;
			if (!c)
				break;
			if (!printable_sym(c) || n >= KS_MAX_TOKLEN - 1)
				return false;
			k->tok[i][n++] = (char)c;
		}
		if (n == 0)
			return false;
		k->tok[i][n] = 0;
		k->tok_len[i] = (uint8_t)n;
	}
	/* token_index: 256 u16 == tok_off, at the next 2/4/8 alignment */
	for (uint64_t ti = q; ti < q + 8; ti++) {
		if (ti & 1)
			continue;
		bool ok = true;
		for (int i = 0; i < 256 && ok; i++) {
			uint16_t v;
			ok = cur_u16(&k->mc, ti + 2 * i, &v) && v == k->tok_off[i];
		}
		if (ok) {
			k->tok_table = start;
			k->tok_index = ti;
			k->tok_end = ti + 512;
			return true;
		}
	}
	return false;
}

static bool tok_hit(void *ctx, uint64_t va)
{
	return !try_token_table(ctx, va);
}

/* markers[0..m) ending at end (width w): 0, then increasing by 512..4 MiB. */
static bool markers_at(struct ks *k, uint64_t end, unsigned w, unsigned m)
{
	uint64_t prev = 0;
	for (unsigned i = 0; i < m; i++) {
		uint64_t v;
		uint32_t v32;
		uint64_t at = end - (uint64_t)w * (m - i);
		if (w == 4) {
			if (!cur_u32(&k->mc, at, &v32))
				return false;
			v = v32;
		} else if (!cur_u64(&k->mc, at, &v)) {
			return false;
		}
		if (i == 0 ? v != 0 : (v <= prev || v - prev < 512 || v - prev > (256u << 14)))
			return false;
		prev = v;
	}
	k->markers = end - (uint64_t)w * m;
	k->mwidth = w;
	k->nmarkers = m;
	return true;
}

static bool find_names(struct ks *k, struct cur *c);

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

/*
 * markers end right before the token table, or (6.1.y stable, 6.2, 6.3)
 * before kallsyms_seqs_of_names (3 bytes per symbol) which precedes it.
 */
static bool find_markers_names(struct ks *k, struct cur *c)
{
	for (unsigned w = 4; w <= 8; w += 4) {
		/* walk back from the token table: count markers down to markers[0] == 0 */
		for (unsigned pad = 0; pad < 8; pad += 4) {
			uint64_t end = k->tok_table - pad;
			for (unsigned m = 2; m <= KS_MAX_SYMS / 256; m++) {
				uint64_t v;
				uint32_t v32;
				uint64_t at = end - (uint64_t)w * m;
				bool ok = w == 4 ? cur_u32(&k->mc, at, &v32) : cur_u64(&k->mc, at, &v);
				if (!ok)
					break;
				if (w == 4)
					v = v32;
				if (v != 0)
					continue;
				if (markers_at(k, end, w, m) && find_names(k, c))
					return true;
				break;
			}
		}
		/* seqs_of_names between markers and token table: for m markers,
		 * 256(m-1) < N <= 256m, so the table is 3N bytes, 8-aligned */
		for (unsigned m = 2; m <= KS_MAX_SYMS / 256; m++) {
			uint64_t lo = k->tok_table - align8(3ull * 256 * m) - 4;
			uint64_t hi = k->tok_table - align8(3ull * (256 * (m - 1) + 1));
			uint32_t probe;
			/* seqs + markers are one readable run: stop where it ends */
			if (!cur_u32(&k->mc, (lo & ~3ull) - (uint64_t)w * m, &probe))
				break;
			for (uint64_t end = lo & ~3ull; end <= hi; end += 4) {
				uint32_t z;
				if (!cur_u32(&k->mc, end - (uint64_t)w * m, &z) || z != 0)
					continue;
				if (!markers_at(k, end, w, m) || !find_names(k, c))
					continue;
				if (align8(end) + align8(3ull * k->nsyms) == k->tok_table)
					return true;
			}
		}
	}
	return false;
}

static uint64_t marker(struct ks *k, unsigned i)
{
	uint64_t v = 0;
	uint32_t v32;
	if (k->mwidth == 4) {
		if (cur_u32(&k->mc, k->markers + 4ull * i, &v32))
			v = v32;
	} else {
		cur_u64(&k->mc, k->markers + 8ull * i, &v);
	}
	return v;
}

/* Length of the name entry at va (1 or 2 length bytes); 0 when invalid. */
static unsigned entry_len(struct cur *c, uint64_t va, unsigned *hdr)
{
	uint8_t b0, b1;
	if (!cur_u8(c, va, &b0) || b0 == 0)
		return 0;
	if (b0 & 0x80) {
		if (!cur_u8(c, va + 1, &b1))
			return 0;
		*hdr = 2;
		return (b0 & 0x7fu) | (unsigned)b1 << 7;
	}
	*hdr = 1;
	return b0;
}

static bool find_names(struct ks *k, struct cur *c)
{
	uint64_t last = marker(k, k->nmarkers - 1);
	uint64_t hi = k->markers - last;
	/* the last group (1..256 names of <= 512 tokens each) ends before markers */
	for (uint64_t x = (hi - 2) & ~7ull; x + 256u * 520 > hi && x > 16; x -= 8) {
		uint32_t n, pad;
		if (!k->budget)
			return false;
		k->budget--;
		if (!cur_u32(&k->mc, x - 8, &n) || !cur_u32(&k->mc, x - 4, &pad))
			continue;
		if (pad != 0 || n == 0 || n > KS_MAX_SYMS || (n + 255) / 256 != k->nmarkers)
			continue;
		/* walk the last group: it must end within 8 bytes of markers */
		uint64_t p = x + last;
		bool ok = true;
		for (uint32_t i = 256 * (k->nmarkers - 1); i < n && ok; i++) {
			unsigned hdr, l = entry_len(c, p, &hdr);
			ok = l != 0;
			p += hdr + l;
		}
		if (!ok || p > k->markers || k->markers - p >= 8)
			continue;
		k->names = x;
		k->names_end = p;
		k->nsyms = n;
		return true;
	}
	return false;
}

static bool kaddr(uint64_t v)
{
	return v >= 0xffff800000000000ull && (v & 0xfff) == 0;
}

static bool find_offsets(struct ks *k)
{
	uint64_t rb;
	uint64_t sz = (4ull * k->nsyms + 7) & ~7ull;
	/* <= 6.3: offsets, relative_base, num_syms, names */
	if (cur_u64(&k->mc, k->names - 16, &rb) && kaddr(rb)) {
		k->relbase = rb;
		k->offsets = k->names - 16 - sz;
		return true;
	}
	/* >= 6.4: token_index, offsets, relative_base */
	uint64_t off = (k->tok_end + 7) & ~7ull;
	if (cur_u64(&k->mc, off + sz, &rb) && kaddr(rb)) {
		k->relbase = rb;
		k->offsets = off;
		return true;
	}
	return false;
}

static bool sym_value(struct ks *k, uint32_t i, uint64_t *v)
{
	uint32_t o;
	if (!cur_u32(&k->mc, k->offsets + 4ull * i, &o))
		return false;
	if (!k->abs_percpu)
		*v = k->relbase + o;
	else if ((int32_t)o >= 0)
		*v = o;
	else
		*v = k->relbase - 1 - (int64_t)(int32_t)o;
	return true;
}

/* The symbols we look for. */
enum {
	W_ENTRY, W_SCT, W_X64SC, W_SWITCH, W_INIT_TASK, W_CURRENT_TASK, W_TOS, W_PCPU_HOT, W_TSS,
	W_DO_EXIT,
	/* appended (issue 15); do_execveat_common is static: GCC may clone it with a suffix */
	W_KCLONE, W_KEXECVE, W_DEC, W_DEC_ISRA, W_DEC_CP,
	/* appended (issue 15 item 5): the keylogger's evdev copy point and the active VT */
	W_IETU, W_FGC,
	/* appended (issue 15 item 3 B): the integrity monitor's patch-site lists (in order of the params) */
	W_PATCH0, W_PATCH_LAST = W_PATCH0 + (INFER_P_FTRACE_REGS_CALL - INFER_P_MCOUNT_LOC_START),
	/* appended (issue 15 item 5 gap A): the tty read_iter (static: GCC may suffix a clone) */
	W_TTYR,
	/* appended (issue 15 item 5 gap C): functions whose code gives the five terminal offsets */
	W_TTYNAME, W_GCTTY, W_TTYPGRP, W_ORPHANED,
	/* appended (issue 15 item 3 B): 5.10's function-graph jump in ftrace_caller */
	W_GCALL,
	/* appended (issue 15 item 1): the compat syscall entries whose code gives thread_info.status */
	W_FAST32, W_INT80, W_INT80E,
	W_SC0, /* then one (__x64_sys_X) and one (sys_X) per syscall */
};
static const char *const sc_names[] = {
	"execve", "execveat", "exit", "exit_group", "clone", "clone3", "fork", "vfork",
	"kill", "setuid", "setresuid", "init_module", "finit_module", "read",
};
static const enum infer_param sc_params[] = {
	INFER_P_SC_EXECVE, INFER_P_SC_EXECVEAT, INFER_P_SC_EXIT, INFER_P_SC_EXIT_GROUP,
	INFER_P_SC_CLONE, INFER_P_SC_CLONE3, INFER_P_SC_FORK, INFER_P_SC_VFORK,
	INFER_P_SC_KILL, INFER_P_SC_SETUID, INFER_P_SC_SETRESUID, INFER_P_SC_INIT_MODULE,
	INFER_P_SC_FINIT_MODULE, INFER_P_SC_READ,
};
#define NSC (sizeof(sc_names) / sizeof(sc_names[0]))
#define NWANT (W_SC0 + 2 * NSC)

struct want {
	char name[40];
	uint32_t len; /* strlen(name), set by lookup_all */
	uint32_t count;
	uint64_t value;
	bool ambiguous;
};

static void set_want(struct want *w, const char *s)
{
	infer_fmt(w->name, sizeof(w->name), "%s", s);
}

/*
 * Name filter: a polynomial hash of the decoded name without its type letter,
 * folded token by token from per-token values (tok_h/tok_p: hash and B^len of
 * each token; tail_h/tail_p: the same without the token's first character, for
 * the name's first token, whose first character is the type letter). A name
 * is expanded and compared only when its length is a wanted length and its
 * hash's bit is set in a 1024-bit set of the wanted names' hashes: equal
 * names have equal hashes, so no wanted name is skipped, and the strcmp below
 * still decides.
 */
#define HASH_B 0x100000001b3ull
struct name_hash {
	uint64_t tok_h[256], tok_p[256], tail_h[256], tail_p[256];
	uint64_t bloom[16];
};

static void hash_tokens(const struct ks *k, struct name_hash *nh)
{
	for (int t = 0; t < 256; t++) {
		uint64_t h = 0, p = 1, th = 0, tp = 1;
		for (unsigned m = 0; m < k->tok_len[t]; m++) {
			uint8_t ch = (uint8_t)k->tok[t][m];
			h = h * HASH_B + ch;
			p *= HASH_B;
			if (m) {
				th = th * HASH_B + ch;
				tp *= HASH_B;
			}
		}
		nh->tok_h[t] = h;
		nh->tok_p[t] = p;
		nh->tail_h[t] = th;
		nh->tail_p[t] = tp;
	}
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0;
	while (*s)
		h = h * HASH_B + (uint8_t)*s++;
	return h;
}

static inline bool bloom_has(const struct name_hash *nh, uint64_t h)
{
	return nh->bloom[h >> 60] >> (h >> 54 & 63) & 1;
}

static int lookup_all(struct ks *k, struct cur *c, struct want *w, size_t nw,
		      struct name_hash *nh)
{
	uint64_t p = k->names;
	char name[256];
	int negatives = 0;
	/* KALLSYMS_ABSOLUTE_PERCPU shows as negative offsets */
	for (uint32_t i = 0; i < k->nsyms && i < 4096; i++) {
		uint32_t o;
		if (cur_u32(&k->mc, k->offsets + 4ull * i, &o) && (int32_t)o < 0)
			negatives++;
	}
	k->abs_percpu = negatives > 0;

	/* Cheap rejection: a name is only expanded and compared when its
	 * decoded length (type letter included) is 1 + the length of a wanted
	 * name (lens has bit L set for each such length L < 64) and its hash
	 * is in the wanted set (see struct name_hash). */
	uint64_t lens = 0;
	hash_tokens(k, nh);
	infer_memset(nh->bloom, 0, sizeof(nh->bloom));
	for (size_t j = 0; j < nw; j++) {
		w[j].len = (uint32_t)infer_strlen(w[j].name);
		if (w[j].name[0] && w[j].len + 1 < 64) {
			uint64_t h = hash_str(w[j].name);
			lens |= 1ull << (w[j].len + 1);
			nh->bloom[h >> 60] |= 1ull << (h >> 54 & 63);
		}
	}

	for (uint32_t i = 0; i < k->nsyms; i++) {
		unsigned hdr, l = entry_len(c, p, &hdr);
		if (!l || p + hdr + l > k->names_end)
			return -1;
		if ((i & 255) == 0 && p - k->names != marker(k, i / 256))
			return -1;
		/* decoded length and hash first (every byte must still be readable);
		 * the bytes straight from the cursor's page when they are all in it */
		size_t n = 0;
		uint64_t h = 0;
		uint64_t q = p + hdr;
		if (c->len && q >= c->base && q - c->base + l <= c->len) {
			const uint8_t *b = c->buf + (q - c->base);
			n = k->tok_len[b[0]];
			h = nh->tail_h[b[0]];
			for (unsigned j = 1; j < l; j++) {
				n += k->tok_len[b[j]];
				h = h * nh->tok_p[b[j]] + nh->tok_h[b[j]];
			}
		} else {
			for (unsigned j = 0; j < l; j++) {
				uint8_t t;
				if (!cur_u8(c, q + j, &t))
					return -1;
				n += k->tok_len[t];
				h = j ? h * nh->tok_p[t] + nh->tok_h[t] : nh->tail_h[t];
			}
		}
		if (n > sizeof(name) - 1)
			n = sizeof(name) - 1;
		if (n < 64 && (lens >> n & 1) && bloom_has(nh, h)) {
			size_t o = 0;
			for (unsigned j = 0; j < l; j++) {
				uint8_t t;
				if (!cur_u8(c, q + j, &t))
					return -1;
				for (unsigned m = 0; m < k->tok_len[t] && o < sizeof(name) - 1; m++)
					name[o++] = k->tok[t][m];
			}
			name[o] = 0;
		} else {
			n = 0; /* no wanted name has this length and hash */
		}
		p += hdr + l;
		/* name[0] is the type letter */
		for (size_t j = 0; j < nw && n > 1; j++) {
			if (!w[j].name[0] || w[j].len != n - 1 || infer_strcmp(name + 1, w[j].name))
				continue;
			uint64_t v;
			if (!sym_value(k, i, &v))
				continue;
			if (w[j].count && w[j].value != v)
				w[j].ambiguous = true;
			w[j].count++;
			w[j].value = v;
		}
	}
	return p == k->names_end ? 0 : -1;
}

static bool want_ok(const struct want *w)
{
	return w->count && !w->ambiguous;
}

static void report(struct infer_profile *out, enum infer_param p, const struct want *w)
{
	if (want_ok(w))
		infer_set_found(out, p, w->value);
	else if (w->ambiguous)
		infer_set_missing(out, p, "kallsyms: %u different symbols named %s", w->count, w->name);
	else
		infer_set_missing(out, p, "no symbol %s in kallsyms", w->name);
}

/* One function under one of n names (a static function GCC may have cloned
 * as NAME.isra.0 or NAME.constprop.0): found when exactly one name is. */
static void report_one_of(struct infer_profile *out, enum infer_param p, const struct want *w,
			  size_t n)
{
	const struct want *hit = NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i].count) {
			k++;
			hit = &w[i];
		}
	if (k == 1)
		report(out, p, hit);
	else if (k > 1)
		infer_set_missing(out, p, "kallsyms: %s under several names", w[0].name);
	else
		infer_set_missing(out, p, "no symbol %s (or .isra.0/.constprop.0) in kallsyms",
				  w[0].name);
}

static void all_missing(struct infer_profile *out, const char *why)
{
	for (int p = 0; p < INFER_NPARAMS; p++)
		if (infer_param_kind(p) != INFER_K_OFFSET)
			infer_set_missing(out, p, "%s", why);
}

/* A per-CPU symbol (<= 6.1), else pcpu_hot + member offset from BTF (6.2+). */
static void percpu(struct infer_profile *out, enum infer_param p, const struct want *var,
		   const struct want *hot, const struct infer_btf *b, const char *bwhy,
		   const char *member)
{
	uint64_t off;
	const char *why = bwhy;
	if (want_ok(var))
		infer_set_found(out, p, var->value);
	else if (!want_ok(hot))
		infer_set_missing(out, p, "no %s/pcpu_hot symbol in kallsyms", var->name);
	else if (b && infer_btf_offset(b, "pcpu_hot", member, &off, &why))
		infer_set_found(out, p, hot->value + off);
	else
		infer_set_missing(out, p, "pcpu_hot.%s offset needs BTF: %s", member,
				  why ? why : "unknown");
}

/* The strategy: locate the tables, decode every name once, map parameters. */
int infer_strategy_kallsyms(const struct infer_reader *rd, const struct infer_hints *h,
			    struct infer_arena *a, struct infer_profile *out)
{
	uint64_t s, e;
	struct ks *k = infer_alloc(a, sizeof(*k));
	struct cur *c = infer_alloc(a, sizeof(*c));
	struct want *w = infer_alloc(a, NWANT * sizeof(*w));
	struct name_hash *nh = infer_alloc(a, sizeof(*nh));
	if (!k || !c || !w || !nh) {
		all_missing(out, "kallsyms: arena too small");
		return -1;
	}
	k->rd = rd;
	k->mc.rd = rd;
	k->budget = 1u << 20;
	c->rd = rd;
	infer_find_banner(rd, h, out);
	if (!infer_scan_range(rd, h, &s, &e)) {
		all_missing(out, "kallsyms: no image range to scan");
		return -1;
	}
	static const char digits[] = "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9";
	const struct infer_section *ro = infer_find_section(rd, ".rodata");
	bool found = false;
	if (ro)
		found = infer_scan(rd, ro->va, ro->va + ro->size, digits, sizeof(digits), 64,
				   tok_hit, k) && k->tok_table;
	if (!found)
		found = infer_scan(rd, s, e, digits, sizeof(digits), 64, tok_hit, k) && k->tok_table;
	if (!found) {
		all_missing(out, "kallsyms token table not found");
		return -1;
	}
	if (!find_markers_names(k, c)) {
		all_missing(out, "kallsyms markers/names/num_syms not found");
		return -1;
	}
	if (!find_offsets(k)) {
		all_missing(out, "kallsyms offsets/relative_base not found");
		return -1;
	}

	set_want(&w[W_ENTRY], "entry_SYSCALL_64");
	set_want(&w[W_SCT], "sys_call_table");
	set_want(&w[W_X64SC], "x64_sys_call");
	set_want(&w[W_SWITCH], "__switch_to");
	set_want(&w[W_INIT_TASK], "init_task");
	set_want(&w[W_CURRENT_TASK], "current_task");
	set_want(&w[W_TOS], "cpu_current_top_of_stack");
	set_want(&w[W_PCPU_HOT], "pcpu_hot");
	set_want(&w[W_TSS], "cpu_tss_rw");
	set_want(&w[W_DO_EXIT], "do_exit");
	set_want(&w[W_KCLONE], "kernel_clone");
	set_want(&w[W_KEXECVE], "kernel_execve");
	set_want(&w[W_DEC], "do_execveat_common");
	set_want(&w[W_DEC_ISRA], "do_execveat_common.isra.0");
	set_want(&w[W_DEC_CP], "do_execveat_common.constprop.0");
	set_want(&w[W_IETU], "input_event_to_user");
	set_want(&w[W_FGC], "fg_console");
	for (int i = W_PATCH0; i <= W_PATCH_LAST; i++)
		set_want(&w[i], infer_param_name((enum infer_param)(INFER_P_MCOUNT_LOC_START + (i - W_PATCH0))));
	set_want(&w[W_TTYR], "tty_read");
	set_want(&w[W_GCALL], "ftrace_graph_call");
	set_want(&w[W_TTYNAME], "tty_name");
	set_want(&w[W_GCTTY], "get_current_tty");
	set_want(&w[W_TTYPGRP], "tty_get_pgrp");
	set_want(&w[W_ORPHANED], "is_current_pgrp_orphaned");
	set_want(&w[W_FAST32], "__do_fast_syscall_32");
	set_want(&w[W_INT80], "do_int80_syscall_32");
	set_want(&w[W_INT80E], "do_int80_emulation");
	for (size_t i = 0; i < NSC; i++) {
		infer_fmt(w[W_SC0 + 2 * i].name, sizeof(w->name), "__x64_sys_%s", sc_names[i]);
		infer_fmt(w[W_SC0 + 2 * i + 1].name, sizeof(w->name), "sys_%s", sc_names[i]);
	}
	if (lookup_all(k, c, w, NWANT, nh) < 0) {
		all_missing(out, "kallsyms names stream inconsistent with markers");
		return -1;
	}

	report(out, INFER_P_ENTRY_SYSCALL_64, &w[W_ENTRY]);
	report(out, INFER_P_SYS_CALL_TABLE, &w[W_SCT]);
	if (w[W_X64SC].count)
		report(out, INFER_P_X64_SYS_CALL, &w[W_X64SC]);
	else
		infer_set_na(out, INFER_P_X64_SYS_CALL,
			     "absent (no x64_sys_call in kallsyms: table dispatch only)");
	report(out, INFER_P_SWITCH_TO, &w[W_SWITCH]);
	report(out, INFER_P_INIT_TASK, &w[W_INIT_TASK]);
	report(out, INFER_P_DO_EXIT, &w[W_DO_EXIT]);
	report(out, INFER_P_KERNEL_CLONE, &w[W_KCLONE]);
	report(out, INFER_P_KERNEL_EXECVE, &w[W_KEXECVE]);
	report_one_of(out, INFER_P_DO_EXECVEAT_COMMON, &w[W_DEC], 3);
	report(out, INFER_P_INPUT_EVENT_TO_USER, &w[W_IETU]);
	report(out, INFER_P_FG_CONSOLE, &w[W_FGC]);
	for (int i = W_PATCH0; i <= W_PATCH_LAST; i++)
		report(out, (enum infer_param)(INFER_P_MCOUNT_LOC_START + (i - W_PATCH0)), &w[i]);
	report(out, INFER_P_TTY_READ, &w[W_TTYR]);
	if (w[W_GCALL].count)
		report(out, INFER_P_FTRACE_GRAPH_CALL, &w[W_GCALL]);
	else
		infer_set_na(out, INFER_P_FTRACE_GRAPH_CALL, "absent (no jump in ftrace_caller for the "
			     "function-graph tracer: 5.16+)");
	/* issue 15 item 5 gap C: the terminal offsets without BTF, from the code these name */
	infer_kallsyms_tty_offsets(rd, want_ok(&w[W_TTYNAME]) ? w[W_TTYNAME].value : 0,
				   want_ok(&w[W_GCTTY]) ? w[W_GCTTY].value : 0,
				   want_ok(&w[W_TTYPGRP]) ? w[W_TTYPGRP].value : 0,
				   want_ok(&w[W_ORPHANED]) ? w[W_ORPHANED].value : 0, out);
	/* issue 15 item 1: TS_COMPAT's word, from the compat entries' code (an ambiguous name is not used) */
	static const char *const ti_names[] = { "__do_fast_syscall_32", "do_int80_syscall_32", "do_int80_emulation" };
	uint64_t ti_fns[3];
	for (int i = 0; i < 3; i++)
		ti_fns[i] = want_ok(&w[W_FAST32 + i]) ? w[W_FAST32 + i].value : 0;
	infer_kallsyms_ti_status(rd, ti_fns, ti_names, 3, out);
	for (size_t i = 0; i < NSC; i++) {
		const struct want *x = &w[W_SC0 + 2 * i];
		report(out, sc_params[i], x->count ? x : &w[W_SC0 + 2 * i + 1]);
		if (!x->count && !w[W_SC0 + 2 * i + 1].count)
			infer_set_missing(out, sc_params[i], "no __x64_sys_%s/sys_%s in kallsyms",
					  sc_names[i], sc_names[i]);
	}

	/* per-CPU: a zero-based per-CPU symbol's value is its gs offset */
	if (!k->abs_percpu) {
		infer_set_missing(out, INFER_P_PCPU_CURRENT_TASK,
				  "kallsyms without absolute per-CPU values");
		infer_set_missing(out, INFER_P_PCPU_TOP_OF_STACK,
				  "kallsyms without absolute per-CPU values");
	} else {
		struct infer_btf *b = NULL;
		const char *bwhy = NULL;
		/* 5.9 .. 5.15: no cpu_current_top_of_stack; the entry's RSP slot is
		 * cpu_tss_rw.x86_tss.sp1 (member offset from BTF, as for pcpu_hot) */
		bool tss = !want_ok(&w[W_TOS]) && !want_ok(&w[W_PCPU_HOT]) && want_ok(&w[W_TSS]);
		if ((want_ok(&w[W_PCPU_HOT]) &&
		     (!want_ok(&w[W_CURRENT_TASK]) || !want_ok(&w[W_TOS]))) || tss)
			b = infer_btf_load(rd, h, a, &bwhy);
		percpu(out, INFER_P_PCPU_CURRENT_TASK, &w[W_CURRENT_TASK], &w[W_PCPU_HOT], b, bwhy,
		       "current_task");
		uint64_t sp1;
		const char *twhy = bwhy;
		if (!tss)
			percpu(out, INFER_P_PCPU_TOP_OF_STACK, &w[W_TOS], &w[W_PCPU_HOT], b, bwhy,
			       "top_of_stack");
		else if (b && infer_btf_tss_sp1(b, &sp1, &twhy))
			infer_set_found(out, INFER_P_PCPU_TOP_OF_STACK, w[W_TSS].value + sp1);
		else
			infer_set_missing(out, INFER_P_PCPU_TOP_OF_STACK,
					  "cpu_tss_rw.x86_tss.sp1 offset needs BTF: %s",
					  twhy ? twhy : "unknown");
	}

	int n = 0;
	for (int p = 0; p < INFER_NPARAMS; p++)
		n += out->p[p].found;
	return n;
}
