/*
 * infer/btf.c — the BTF strategy: struct member offsets and per-CPU variable
 * offsets from the kernel's own type information (CONFIG_DEBUG_INFO_BTF).
 *
 * Finding BTF: a vmlinux file names it (.BTF section); in memory it lies
 * between __start_BTF and __stop_BTF without any marker, so we scan for a
 * header (magic 0xeB9F, version 1, hdr_len 24) whose type and string
 * sections fit, and whose every type record parses (the parse is the proof).
 * Layout: include/uapi/linux/btf.h.
 */
#include "infer/btf.h"

#define BTF_MAGIC 0xeB9F
#define BTF_MAX_LEN (64u << 20)

enum {
	BTF_KIND_INT = 1, BTF_KIND_PTR, BTF_KIND_ARRAY, BTF_KIND_STRUCT, BTF_KIND_UNION,
	BTF_KIND_ENUM, BTF_KIND_FWD, BTF_KIND_TYPEDEF, BTF_KIND_VOLATILE, BTF_KIND_CONST,
	BTF_KIND_RESTRICT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_VAR, BTF_KIND_DATASEC,
	BTF_KIND_FLOAT, BTF_KIND_DECL_TAG, BTF_KIND_TYPE_TAG, BTF_KIND_ENUM64,
};

#define MEMO_IDS 8
struct infer_btf_memo {
	char type[64];                 /* "" = empty */
	unsigned n;
	uint32_t id[MEMO_IDS];
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Size in bytes of the data following the 12-byte btf_type; -1 if unknown kind. */
static long extra_len(uint32_t info)
{
	uint32_t kind = (info >> 24) & 0x1f, vlen = info & 0xffff;
	switch (kind) {
	case BTF_KIND_INT: return 4;
	case BTF_KIND_ARRAY: return 12;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: return 12l * vlen;
	case BTF_KIND_ENUM: return 8l * vlen;
	case BTF_KIND_FUNC_PROTO: return 8l * vlen;
	case BTF_KIND_VAR: return 4;
	case BTF_KIND_DATASEC: return 12l * vlen;
	case BTF_KIND_DECL_TAG: return 4;
	case BTF_KIND_ENUM64: return 12l * vlen;
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	default: return -1;
	}
}

struct infer_btf *infer_btf_parse(const uint8_t *blob, size_t len, struct infer_arena *a,
				  const char **why)
{
	*why = NULL;
	if (len < 24 || (blob[0] | blob[1] << 8) != BTF_MAGIC || blob[2] != 1) {
		*why = "no BTF header";
		return NULL;
	}
	uint32_t hdr = le32(blob + 4), toff = le32(blob + 8), tlen = le32(blob + 12);
	uint32_t soff = le32(blob + 16), slen = le32(blob + 20);
	if (hdr < 24 || hdr > len || (uint64_t)hdr + toff + tlen > len ||
	    (uint64_t)hdr + soff + slen > len || slen == 0 || (tlen & 3)) {
		*why = "BTF header sizes out of range";
		return NULL;
	}
	struct infer_btf *b = infer_alloc(a, sizeof(*b));
	if (!b) {
		*why = "arena too small for BTF";
		return NULL;
	}
	b->types = blob + hdr + toff;
	b->types_len = tlen;
	b->strs = blob + hdr + soff;
	b->strs_len = slen;
	if (b->strs[0] != 0 || b->strs[slen - 1] != 0) {
		*why = "BTF string section not NUL-delimited";
		return NULL;
	}
	/* count, then index */
	uint32_t n = 0;
	for (uint32_t p = 0; p < tlen;) {
		if (tlen - p < 12) {
			*why = "BTF type section truncated";
			return NULL;
		}
		long x = extra_len(le32(b->types + p + 4));
		if (x < 0 || (uint64_t)p + 12 + (uint64_t)x > tlen) {
			*why = "BTF type record invalid";
			return NULL;
		}
		if (le32(b->types + p) >= slen) {
			*why = "BTF name offset out of range";
			return NULL;
		}
		p += 12 + (uint32_t)x;
		n++;
	}
	b->ntypes = n;
	b->memo = infer_alloc(a, sizeof(*b->memo));   /* optional */
	b->off = infer_alloc_raw(a, ((size_t)n + 1) * sizeof(uint32_t));   /* off[1..n] set below */
	if (!b->off) {
		*why = "arena too small for BTF index";
		return NULL;
	}
	n = 0;
	for (uint32_t p = 0; p < tlen; n++) {
		b->off[n + 1] = p;
		p += 12 + (uint32_t)extra_len(le32(b->types + p + 4));
	}
	return b;
}

static const char *str_at(const struct infer_btf *b, uint32_t off)
{
	return off < b->strs_len ? (const char *)b->strs + off : "";
}

static const uint8_t *type_at(const struct infer_btf *b, uint32_t id)
{
	return id >= 1 && id <= b->ntypes ? b->types + b->off[id] : NULL;
}

static uint32_t t_kind(const uint8_t *t)
{
	return (le32(t + 4) >> 24) & 0x1f;
}

static uint32_t t_vlen(const uint8_t *t)
{
	return le32(t + 4) & 0xffff;
}

/* Skip typedef/const/volatile/restrict/type_tag to the underlying type id. */
static uint32_t resolve(const struct infer_btf *b, uint32_t id)
{
	for (int i = 0; i < 32; i++) {
		const uint8_t *t = type_at(b, id);
		if (!t)
			return 0;
		uint32_t k = t_kind(t);
		if (k != BTF_KIND_TYPEDEF && k != BTF_KIND_CONST && k != BTF_KIND_VOLATILE &&
		    k != BTF_KIND_RESTRICT && k != BTF_KIND_TYPE_TAG)
			return id;
		id = le32(t + 8);
	}
	return 0;
}

/* Search member in struct/union id (recursing into anonymous members).
 * Returns number of matches (0, 1, >1), first bit offset in *bits. */
static int find_member(const struct infer_btf *b, uint32_t id, const char *member,
		       uint64_t base, uint64_t *bits, bool *bitfield, int depth, uint32_t *mtype)
{
	const uint8_t *t = type_at(b, id);
	if (!t || depth > 8)
		return 0;
	uint32_t k = t_kind(t);
	if (k != BTF_KIND_STRUCT && k != BTF_KIND_UNION)
		return 0;
	bool kflag = le32(t + 4) >> 31;
	int hits = 0;
	for (uint32_t i = 0; i < t_vlen(t); i++) {
		const uint8_t *m = t + 12 + 12 * i;
		uint32_t name = le32(m), mt = le32(m + 4), mo = le32(m + 8);
		uint64_t bit = kflag ? (mo & 0xffffff) : mo;
		bool bf = kflag && (mo >> 24);
		if (name == 0) {
			hits += find_member(b, resolve(b, mt), member, base + bit, bits, bitfield,
					    depth + 1, mtype);
		} else if (!infer_strcmp(str_at(b, name), member)) {
			if (!hits) {
				*bits = base + bit;
				*bitfield = bf;
				if (mtype)
					*mtype = mt;
			}
			hits++;
		}
	}
	return hits;
}

/* Non-empty structs/unions named type, in id order, into m (false when more
 * than MEMO_IDS or the name does not fit: then the caller walks all types). */
static bool struct_ids(const struct infer_btf *b, const char *type, struct infer_btf_memo *m)
{
	size_t l = infer_strlen(type);
	if (l >= sizeof(m->type))
		return false;
	if (m->type[0] && !infer_strcmp(m->type, type))
		return true;
	m->type[0] = 0;
	m->n = 0;
	for (uint32_t id = 1; id <= b->ntypes; id++) {
		const uint8_t *t = type_at(b, id);
		uint32_t k = t_kind(t);
		if ((k != BTF_KIND_STRUCT && k != BTF_KIND_UNION) || t_vlen(t) == 0 ||
		    infer_strcmp(str_at(b, le32(t)), type))
			continue;
		if (m->n == MEMO_IDS)
			return false;
		m->id[m->n++] = id;
	}
	infer_memcpy(m->type, type, l + 1);
	return true;
}

bool infer_btf_offset(const struct infer_btf *b, const char *type, const char *member,
		      uint64_t *off, const char **why)
{
	int candidates = 0;
	uint64_t val = 0;
	struct infer_btf_memo *m = b->memo && struct_ids(b, type, b->memo) ? b->memo : NULL;
	for (uint32_t i = 0, id = 1; m ? i < m->n : id <= b->ntypes; i++, id++) {
		if (m) {
			id = m->id[i];
		} else {
			const uint8_t *t = type_at(b, id);
			uint32_t k = t_kind(t);
			if ((k != BTF_KIND_STRUCT && k != BTF_KIND_UNION) || t_vlen(t) == 0 ||
			    infer_strcmp(str_at(b, le32(t)), type))
				continue;
		}
		uint64_t bits = 0;
		bool bf = false;
		int h = find_member(b, id, member, 0, &bits, &bf, 0, NULL);
		if (h == 0)
			continue;
		if (h > 1 || bf || (bits & 7)) {
			*why = h > 1 ? "member name not unique in BTF" : "member is a bitfield";
			return false;
		}
		if (candidates && bits / 8 != val) {
			*why = "several BTF structs of that name disagree";
			return false;
		}
		val = bits / 8;
		candidates++;
	}
	if (!candidates) {
		*why = "no such struct member in BTF";
		return false;
	}
	*off = val;
	return true;
}

bool infer_btf_offset_in(const struct infer_btf *b, const char *type, const char *outer, const char *member,
			 uint64_t *off, const char **why)
{
	int candidates = 0;
	uint64_t val = 0;
	for (uint32_t id = 1; id <= b->ntypes; id++) {
		const uint8_t *t = type_at(b, id);
		uint32_t k = t_kind(t);
		if ((k != BTF_KIND_STRUCT && k != BTF_KIND_UNION) || t_vlen(t) == 0 ||
		    infer_strcmp(str_at(b, le32(t)), type))
			continue;
		uint64_t bits = 0, bits2 = 0;
		bool bf = false, bf2 = false;
		uint32_t mt = 0;
		int h = find_member(b, id, outer, 0, &bits, &bf, 0, &mt);
		if (h == 0)
			continue;
		int h2 = h == 1 && !bf ? find_member(b, resolve(b, mt), member, 0, &bits2, &bf2, 0, NULL) : 0;
		if (h2 != 1 || bf2 || ((bits + bits2) & 7)) {
			*why = h2 > 1 ? "member name not unique in BTF" : "no such member in the outer member's type";
			return false;
		}
		if (candidates && (bits + bits2) / 8 != val) {
			*why = "several BTF structs of that name disagree";
			return false;
		}
		val = (bits + bits2) / 8;
		candidates++;
	}
	if (!candidates) {
		*why = "no such struct member in BTF";
		return false;
	}
	*off = val;
	return true;
}

bool infer_btf_percpu_var(const struct infer_btf *b, const char *var, uint64_t *off,
			  const char **why)
{
	bool have_sec = false;
	for (uint32_t id = 1; id <= b->ntypes; id++) {
		const uint8_t *t = type_at(b, id);
		if (t_kind(t) != BTF_KIND_DATASEC || infer_strcmp(str_at(b, le32(t)), ".data..percpu"))
			continue;
		have_sec = true;
		for (uint32_t i = 0; i < t_vlen(t); i++) {
			const uint8_t *v = t + 12 + 12 * i;
			const uint8_t *vt = type_at(b, le32(v));
			if (!vt || t_kind(vt) != BTF_KIND_VAR || infer_strcmp(str_at(b, le32(vt)), var))
				continue;
			*off = le32(v + 4);
			return true;
		}
	}
	*why = have_sec ? "per-CPU variable not in BTF .data..percpu" : "no .data..percpu DATASEC in BTF";
	return false;
}

/* ---- locating BTF in the image ------------------------------------------------ */

#define BTF_CANDIDATES 16
/* A candidate that parses with at least this many types is the kernel's own
 * BTF (vmlinux has ~10^5; a BPF object embedded in the image, e.g. a light
 * skeleton's, has tens to hundreds): the scan stops there. */
#define BTF_EARLY_TYPES 1000u

struct find_ctx {
	const struct infer_reader *rd;
	unsigned n;
	uint64_t va[BTF_CANDIDATES];
	uint32_t len[BTF_CANDIDATES];
	unsigned winner;                /* index of the early winner, or BTF_CANDIDATES */
	struct infer_arena *a;          /* scan only: where to parse, and the result */
	struct infer_btf *found;
};

static struct infer_btf *try_candidate(const struct infer_reader *rd, uint64_t va, uint32_t len,
				       struct infer_arena *a, const char **why);

static bool hdr_ok(const uint8_t h[24], uint32_t *total)
{
	uint32_t hdr = le32(h + 4), toff = le32(h + 8), tlen = le32(h + 12);
	uint32_t soff = le32(h + 16), slen = le32(h + 20);
	if (hdr != 24 || tlen == 0 || slen == 0 || tlen > BTF_MAX_LEN || slen > BTF_MAX_LEN ||
	    toff > BTF_MAX_LEN || soff > BTF_MAX_LEN)
		return false;
	uint64_t end = (uint64_t)toff + tlen;
	if ((uint64_t)soff + slen > end)
		end = (uint64_t)soff + slen;
	if (hdr + end > BTF_MAX_LEN)
		return false;
	*total = (uint32_t)(hdr + end);
	return true;
}

static bool btf_hit(void *vctx, uint64_t va)
{
	struct find_ctx *c = vctx;
	uint8_t h[24];
	uint32_t total;
	if (c->n >= BTF_CANDIDATES || !c->rd->read(c->rd->ctx, va, h, sizeof(h)) || !hdr_ok(h, &total))
		return c->n < BTF_CANDIDATES;
	c->va[c->n] = va;
	c->len[c->n] = total;
	c->n++;
	/* parse it now: the kernel's BTF ends the scan (the rest of the image,
	 * half of it on Debian's kernels, is not read) */
	const char *why;
	size_t mark = c->a ? c->a->used : 0;
	struct infer_btf *b = c->a ? try_candidate(c->rd, va, total, c->a, &why) : NULL;
	if (b && b->ntypes >= BTF_EARLY_TYPES) {
		c->found = b;
		c->winner = c->n - 1;
		return false;
	}
	if (b)
		c->a->used = mark;      /* a small one: judged with the others below */
	return c->n < BTF_CANDIDATES;
}

/* Copy and parse one candidate; NULL (arena restored) if it is not BTF. */
static struct infer_btf *try_candidate(const struct infer_reader *rd, uint64_t va, uint32_t len,
				       struct infer_arena *a, const char **why)
{
	size_t mark = a ? a->used : 0;
	uint8_t *blob = infer_alloc_raw(a, len);   /* every byte is copied below */
	if (!blob) {
		*why = "arena too small for BTF";
		return NULL;
	}
	/* copy in chunks: the reader may prefer page-sized reads */
	for (uint32_t o = 0; o < len; o += 4096) {
		uint32_t n = len - o < 4096 ? len - o : 4096;
		if (!rd->read(rd->ctx, va + o, blob + o, n)) {
			*why = "BTF unreadable";
			a->used = mark;
			return NULL;
		}
	}
	struct infer_btf *b = infer_btf_parse(blob, len, a, why);
	if (!b) {
		a->used = mark;
		return NULL;
	}
	b->va = va;
	return b;
}

struct infer_btf *infer_btf_load(const struct infer_reader *rd, const struct infer_hints *h,
				 struct infer_arena *a, const char **why)
{
	static const uint8_t magic[8] = { 0x9f, 0xeb, 0x01, 0x00, 0x18, 0x00, 0x00, 0x00 };
	struct find_ctx c;
	const struct infer_section *sec = infer_find_section(rd, ".BTF");
	uint64_t s, e;
	infer_memset(&c, 0, sizeof(c));
	c.rd = rd;
	*why = NULL;
	/* the candidates depend only on the memory: reuse them within one
	 * infer_run (kallsyms loads BTF for pcpu_hot, then the btf strategy) */
	bool valid;
	struct find_ctx *m = infer_memo(rd, h, INFER_MEMO_BTF, &valid);
	_Static_assert(sizeof(c) <= INFER_MEMO_SIZE, "memo slot too small");
	if (m && valid) {
		c = *m;
		c.rd = rd;
		c.a = NULL;
		c.found = NULL;
		if (c.winner < c.n)     /* the scan's winner: parse it again, nothing else */
			return try_candidate(rd, c.va[c.winner], c.len[c.winner], a, why);
	} else {
		c.winner = BTF_CANDIDATES;
		c.a = a;
		if (sec && sec->size >= 24)
			infer_scan(rd, sec->va, sec->va + 24, magic, sizeof(magic), 1, btf_hit, &c);
		if (!c.n) {
			if (!infer_scan_range(rd, h, &s, &e)) {
				*why = "no image range to scan for BTF";
				return NULL;
			}
			infer_scan(rd, s, e, magic, sizeof(magic), BTF_CANDIDATES, btf_hit, &c);
		}
		if (m) {
			*m = c;
			infer_memo_done(INFER_MEMO_BTF);
		}
		if (c.found)
			return c.found;
	}
	if (!c.n) {
		*why = "no BTF in image";
		return NULL;
	}
	/* largest first (vmlinux BTF is one big blob); the first that parses wins */
	bool tried[BTF_CANDIDATES] = { 0 };
	for (unsigned round = 0; round < c.n; round++) {
		unsigned best = BTF_CANDIDATES;
		for (unsigned i = 0; i < c.n; i++)
			if (!tried[i] && (best == BTF_CANDIDATES || c.len[i] > c.len[best]))
				best = i;
		tried[best] = true;
		struct infer_btf *b = try_candidate(rd, c.va[best], c.len[best], a, why);
		if (b)
			return b;
	}
	return NULL;
}

/* ---- the strategy ------------------------------------------------------------- */

static const struct {
	enum infer_param p;
	const char *type, *member;
} fields[] = {
	{ INFER_P_TASK_PID, "task_struct", "pid" },
	{ INFER_P_TASK_TGID, "task_struct", "tgid" },
	{ INFER_P_TASK_COMM, "task_struct", "comm" },
	{ INFER_P_TASK_REAL_PARENT, "task_struct", "real_parent" },
	{ INFER_P_TASK_PARENT, "task_struct", "parent" },
	{ INFER_P_TASK_MM, "task_struct", "mm" },
	{ INFER_P_TASK_CRED, "task_struct", "cred" },
	{ INFER_P_TASK_REAL_CRED, "task_struct", "real_cred" },
	{ INFER_P_TASK_TASKS, "task_struct", "tasks" },
	{ INFER_P_TASK_GROUP_LEADER, "task_struct", "group_leader" },
	{ INFER_P_CRED_UID, "cred", "uid" },
	{ INFER_P_CRED_EUID, "cred", "euid" },
	{ INFER_P_CRED_GID, "cred", "gid" },
	{ INFER_P_MM_PGD, "mm_struct", "pgd" },
	{ INFER_P_KCA_EXIT_SIGNAL, "kernel_clone_args", "exit_signal" },   /* issue 15 */
	/* issue 15 item 5: a reader's controlling terminal and its foreground group */
	{ INFER_P_TASK_SIGNAL, "task_struct", "signal" },
	{ INFER_P_SIGNAL_TTY, "signal_struct", "tty" },
	{ INFER_P_SIGNAL_PIDS, "signal_struct", "pids" },
	{ INFER_P_TTY_NAME, "tty_struct", "name" },
	{ INFER_P_TTY_PGRP, "tty_struct", "pgrp" },       /* <= 5.10; 5.11+: ctrl.pgrp (below) */
};

bool infer_btf_tss_sp1(const struct infer_btf *b, uint64_t *off, const char **why)
{
	uint64_t a, s;
	if (!infer_btf_offset(b, "tss_struct", "x86_tss", &a, why) ||
	    !infer_btf_offset(b, "x86_hw_tss", "sp1", &s, why))
		return false;
	*off = a + s;
	return true;
}

/* per-CPU: the variable itself (<= 6.1), else pcpu_hot + member (6.2+); the
 * top of stack on 5.9 .. 5.15 is cpu_tss_rw.x86_tss.sp1 (infer_btf_tss_sp1) */
static void percpu(const struct infer_btf *b, struct infer_profile *out, enum infer_param p,
		   const char *var, const char *hot_member)
{
	uint64_t v, m;
	const char *why = NULL, *why2 = NULL;
	if (infer_btf_percpu_var(b, var, &v, &why)) {
		infer_set_found(out, p, v);
		return;
	}
	if (p == INFER_P_PCPU_TOP_OF_STACK && !infer_btf_percpu_var(b, "pcpu_hot", &v, &why2) &&
	    infer_btf_percpu_var(b, "cpu_tss_rw", &v, &why2)) {
		if (infer_btf_tss_sp1(b, &m, &why2)) {
			infer_set_found(out, p, v + m);
			return;
		}
		infer_set_missing(out, p, "cpu_tss_rw + x86_tss.sp1: %s", why2);
		return;
	}
	if (infer_btf_percpu_var(b, "pcpu_hot", &v, &why2)) {
		if (infer_btf_offset(b, "pcpu_hot", hot_member, &m, &why2)) {
			infer_set_found(out, p, v + m);
			return;
		}
		infer_set_missing(out, p, "pcpu_hot.%s: %s", hot_member, why2);
		return;
	}
	infer_set_missing(out, p, "%s: %s", var, why);
}

int infer_strategy_btf(const struct infer_reader *rd, const struct infer_hints *h,
		       struct infer_arena *a, struct infer_profile *out)
{
	const char *why = NULL;
	infer_find_banner(rd, h, out);
	struct infer_btf *b = infer_btf_load(rd, h, a, &why);
	if (!b) {
		for (int p = 0; p < INFER_NPARAMS; p++) {
			enum infer_kind k = infer_param_kind(p);
			if (k == INFER_K_OFFSET || k == INFER_K_PERCPU)
				infer_set_missing(out, p, "btf: %s", why);
		}
		return -1;
	}
	int n = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t off;
		if (infer_btf_offset(b, fields[i].type, fields[i].member, &off, &why) ||
		    /* tty_struct.pgrp moved into the named member `ctrl` (v5.11, "tty: make
		     * tty_struct.ctrl"): the same field, one level down */
		    (fields[i].p == INFER_P_TTY_PGRP &&
		     infer_btf_offset_in(b, "tty_struct", "ctrl", "pgrp", &off, &why))) {
			infer_set_found(out, fields[i].p, off);
			n++;
		} else {
			infer_set_missing(out, fields[i].p, "%s.%s: %s", fields[i].type,
					  fields[i].member, why);
		}
	}
	/* issue 15 item 1: TS_COMPAT's word, as an offset from the task pointer (thread_info is
	 * task_struct's first member on x86-64; the sum is taken anyway) */
	uint64_t off;
	if (infer_btf_offset_in(b, "task_struct", "thread_info", "status", &off, &why)) {
		infer_set_found(out, INFER_P_TI_STATUS, off);
		n++;
	} else {
		infer_set_missing(out, INFER_P_TI_STATUS, "task_struct.thread_info.status: %s", why);
	}
	percpu(b, out, INFER_P_PCPU_CURRENT_TASK, "current_task", "current_task");
	percpu(b, out, INFER_P_PCPU_TOP_OF_STACK, "cpu_current_top_of_stack", "top_of_stack");
	n += out->p[INFER_P_PCPU_CURRENT_TASK].found + out->p[INFER_P_PCPU_TOP_OF_STACK].found;
	return n;
}
