/* integrity_sites — the kernel's patch-site lists and the patch/attack verdict
 * (monitors/integrity_sites.h). Pure: ring -1 and the host tests share it. */
#include <stdlib.h>
#include <string.h>
#include "monitors/integrity_sites.h"

#define CHUNK 4096u
#define MOD_LO 0xffffffff80000000ULL    /* the top 2 GiB: kernel image + module/executable area */
#define MOD_HI 0xffffffffff000000ULL    /* MODULES_END (the fixmap above) */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a & ~INTEG_SC_TAIL, y = *(const uint32_t *)b & ~INTEG_SC_TAIL;
	return x < y ? -1 : x > y;
}

static int cmp_jl(const void *a, const void *b)
{
	uint32_t x = ((const struct integ_jl *)a)->code, y = ((const struct integ_jl *)b)->code;
	return x < y ? -1 : x > y;
}

static bool in_image(const struct integ_sites *s, uint64_t va)
{
	return va >= s->base && va < s->end && va - s->base < (1ULL << 32);
}

/* The bounds of a list of @esz-byte entries: 0 entries when unknown; -1 when
 * they are no list (inverted, misaligned, above @max entries). */
static long list_len(uint64_t start, uint64_t stop, uint32_t esz, uint32_t max)
{
	if (!start && !stop)
		return 0;
	if (!start || stop < start || (stop - start) % esz || (stop - start) / esz > max)
		return -1;
	return (long)((stop - start) / esz);
}

/* Read entry @i of a list (entries of @esz bytes at @start) through a 4 KiB
 * window @buf that holds the entries from *@first on. */
static const uint8_t *entry(const struct integ_site_rd *rd, uint64_t start, long n, uint32_t esz, long i,
			    uint8_t *buf, long *first)
{
	long per = CHUNK / esz;
	if (*first < 0 || i < *first || i >= *first + per) {
		long k = n - i < per ? n - i : per;
		if (!rd->read(rd->ctx, start + (uint64_t)i * esz, buf, (size_t)k * esz))
			return NULL;
		*first = i;
	}
	return buf + (i - *first) * esz;
}

static int32_t s32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return (int32_t)v;
}

/* One of the kernel's lists: its entries (@esz bytes each, at most @max), how
 * one becomes a table element (@osz bytes; false: it points outside the image),
 * how the table sorts, and what *why says when it cannot be read. */
struct list_desc {
	uint32_t esz, max, osz;
	bool (*decode)(const struct integ_sites *s, uint64_t at, const uint8_t *e, void *out);
	int (*cmp)(const void *, const void *);
	const char *malformed, *nomem, *unreadable;
};

/* __mcount_loc: absolute VAs of the ftrace call sites (relocated by the decompressor) */
static bool dec_mcount(const struct integ_sites *s, uint64_t at, const uint8_t *e, void *out)
{
	uint64_t va;
	(void)at;
	memcpy(&va, e, 8);
	if (!in_image(s, va))
		return false;
	*(uint32_t *)out = (uint32_t)(va - s->base);
	return true;
}

/* x86-64 jump_entry is PC-relative (HAVE_ARCH_JUMP_LABEL_RELATIVE): code from
 * its own field, target from its own (4 bytes on); the key is not needed */
static bool dec_jump(const struct integ_sites *s, uint64_t at, const uint8_t *e, void *out)
{
	uint64_t code = at + (uint64_t)(int64_t)s32_at(e), target = at + 4 + (uint64_t)(int64_t)s32_at(e + 4);
	if (!in_image(s, code) || !in_image(s, target))
		return false;
	((struct integ_jl *)out)->code = (uint32_t)(code - s->base);
	((struct integ_jl *)out)->target = (uint32_t)(target - s->base);
	return true;
}

/* struct static_call_site { s32 addr, key; }: both PC-relative; the key's low
 * bits are flags (STATIC_CALL_SITE_TAIL = 1) */
static bool dec_scall(const struct integ_sites *s, uint64_t at, const uint8_t *e, void *out)
{
	uint64_t addr = at + (uint64_t)(int64_t)s32_at(e), key = at + 4 + (uint64_t)(int64_t)s32_at(e + 4);
	if (!in_image(s, addr) || addr - s->base >= INTEG_SC_TAIL)
		return false;
	*(uint32_t *)out = (uint32_t)(addr - s->base) | ((key & 1) ? INTEG_SC_TAIL : 0);
	return true;
}

static const struct list_desc L_MCOUNT = {
	8, INTEG_SITES_MAX_MCOUNT, 4, dec_mcount, cmp_u32, "ftrace call-site list (__start_mcount_loc) malformed",
	"no memory for the ftrace call-site list", "ftrace call-site list unreadable" };
static const struct list_desc L_JUMP = {
	16, INTEG_SITES_MAX_JUMP, sizeof(struct integ_jl), dec_jump, cmp_jl,
	"jump-label table (__start___jump_table) malformed", "no memory for the jump-label table",
	"jump-label table unreadable" };
static const struct list_desc L_SCALL = {
	8, INTEG_SITES_MAX_SCALL, 4, dec_scall, cmp_u32,
	"static-call site list (__start_static_call_sites) malformed", "no memory for the static-call site list",
	"static-call site list unreadable" };

/* Read the list [start, stop) into a new sorted table (*@table, *@count; empty
 * and *why set when it is malformed, too big or unreadable). */
static uint32_t build_list(struct integ_sites *s, const struct list_desc *L, uint64_t start, uint64_t stop,
			   const struct integ_site_rd *rd, integ_alloc_fn alloc, uint8_t *buf, void **table,
			   uint32_t *count, const char **why)
{
	long n = list_len(start, stop, L->esz, L->max), first = -1;
	uint8_t *t;
	*count = 0;
	if (n <= 0) {
		if (n < 0)
			*why = L->malformed;
		return 0;
	}
	if (!(t = alloc((size_t)n * L->osz))) {
		*why = L->nomem;
		return 0;
	}
	*table = t;
	for (long i = 0; i < n; i++) {
		const uint8_t *e = entry(rd, start, n, L->esz, i, buf, &first);
		if (!e) {
			*why = L->unreadable;
			*count = 0;
			return 0;
		}
		if (L->decode(s, start + (uint64_t)i * L->esz, e, t + (size_t)*count * L->osz))
			(*count)++;
		else
			s->dropped++;
	}
	qsort(t, *count, L->osz, L->cmp);
	return *count;
}

uint32_t integ_sites_build(struct integ_sites *s, const struct integ_site_syms *y,
			   const struct integ_site_rd *rd, integ_alloc_fn alloc, const char **why)
{
	static uint8_t buf[CHUNK];
	const char *w = NULL;
	memset(s, 0, sizeof(*s));
	if (!y->base || y->end <= y->base) {
		*why = "kernel image span unknown";
		return 0;
	}
	s->base = y->base;
	s->end = y->end;
	uint32_t n = build_list(s, &L_MCOUNT, y->mcount_start, y->mcount_stop, rd, alloc, buf, (void **)&s->mcount,
				&s->n_mcount, &w);
	n += build_list(s, &L_JUMP, y->jump_start, y->jump_stop, rd, alloc, buf, (void **)&s->jump, &s->n_jump, &w);
	n += build_list(s, &L_SCALL, y->scall_start, y->scall_stop, rd, alloc, buf, (void **)&s->scall, &s->n_scall,
			&w);
	if (y->tramp_start && y->tramp_end > y->tramp_start && in_image(s, y->tramp_start) && in_image(s, y->tramp_end - 1)) {
		/* the first trampoline as the kernel linked it: JMP rel32 or RET (NULL),
		 * with the ud1 signature after it (6.x) or the padding of 5.10's layout */
		uint8_t h[8];
		if (rd->read(rd->ctx, y->tramp_start, h, sizeof(h)) && (h[0] == 0xe9 || h[0] == 0xc3)) {
			s->tramp_start = y->tramp_start;
			s->tramp_end = y->tramp_end;
			s->tramp_sig = !memcmp(h + 5, "\x0f\xb9\xcc", 3);
		} else if (!w) {
			w = "static-call trampolines unreadable or of an unknown form";
		}
	}
	s->ftrace_call[0] = in_image(s, y->ftrace_call) ? y->ftrace_call : 0;
	s->ftrace_call[1] = in_image(s, y->ftrace_regs_call) ? y->ftrace_regs_call : 0;
	s->graph_call = in_image(s, y->ftrace_graph_call) ? y->ftrace_graph_call : 0;
	s->ok = s->n_mcount || s->n_jump;
	if (!s->ok && !w)
		w = "neither the ftrace call sites nor the jump labels are known";
	*why = w;
	return n;
}

/* ---- the verdict ---- */

enum { K_MCOUNT = 1, K_FCALL, K_JUMP, K_SCALL, K_TRAMP, K_GCALL };
static const char *const kind_names[] = { NULL, "mcount", "ftrace_call", "jump_label", "static_call",
					  "static_call_tramp", "ftrace_graph_call" };

struct site {
	uint64_t va;
	uint8_t kind;
	bool tail;                 /* static call: a tail call (JMP) */
	uint64_t target;           /* jump label: its target */
};

/* The window's view of the kernel: the page (old and new) and, around it, now. */
struct view {
	uint64_t page_va;
	const uint8_t *old, *cur;
	uint32_t n;
	const struct integ_site_rd *rd;
};

static bool bytes(const struct view *v, uint64_t va, uint8_t *cur, uint8_t *old, uint32_t len)
{
	for (uint32_t k = 0; k < len; k++) {
		uint64_t a = va + k;
		if (a >= v->page_va && a - v->page_va < v->n) {
			cur[k] = v->cur[a - v->page_va];
			old[k] = v->old[a - v->page_va];
		} else if (!v->rd || !v->rd->read(v->rd->ctx, a, &cur[k], 1)) {
			return false;
		} else {
			old[k] = cur[k];        /* outside this window: unchanged in it */
		}
	}
	return true;
}

/* Index of the last element <= @key in a sorted u32 array (-1: none). */
static long last_le(const uint32_t *a, uint32_t n, uint32_t key, size_t stride)
{
	long lo = 0, hi = (long)n - 1, r = -1;
	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;
		uint32_t x = *(const uint32_t *)((const uint8_t *)a + (size_t)mid * stride) & ~INTEG_SC_TAIL;
		if (x <= key) {
			r = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return r;
}

static const uint8_t NOP5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };    /* x86_nops[5] (P6) */
static const uint8_t NOP5_K8[5] = { 0x66, 0x66, 0x90, 0x66, 0x90 }; /* older kernels' K8 nops */
static const uint8_t NOP2[2] = { 0x66, 0x90 };
static const uint8_t XOR5RAX[5] = { 0x2e, 0x2e, 0x2e, 0x31, 0xc0 }; /* static_call: __static_call_return0 */

static bool nop5(const uint8_t *b)
{
	return !memcmp(b, NOP5, 5) || !memcmp(b, NOP5_K8, 5);
}

static uint64_t rel32_target(uint64_t va, const uint8_t *b)
{
	return va + 5 + (uint64_t)(int64_t)s32_at(b + 1);
}

/* Kernel text (the image when its text span is unknown). */
static bool in_text(const struct integ_sites *s, uint64_t t)
{
	uint64_t lo = s->text_hi ? s->text_lo : s->base, hi = s->text_hi ? s->text_hi : s->end;
	return t >= lo && t < hi;
}

/* A call/jump target the kernel's patchers use: kernel text, or the module and
 * executable area (ftrace/BPF trampolines, module functions) outside the image. */
static bool target_ok(const struct integ_sites *s, uint64_t t)
{
	uint64_t lo = s->text_hi ? s->text_lo : s->base, hi = s->text_hi ? s->text_hi : s->end;
	if (t >= lo && t < hi)
		return true;
	return t >= MOD_LO && t < MOD_HI && !(t >= s->base && t < s->end);
}

static bool form_ok(const struct integ_sites *s, const struct site *st, const uint8_t *b, const uint8_t *ob,
		    uint32_t *len)
{
	*len = 5;
	switch (st->kind) {
	case K_MCOUNT:
		return nop5(b) || (b[0] == 0xe8 && target_ok(s, rel32_target(st->va, b)));
	case K_FCALL:
		return b[0] == 0xe8 && target_ok(s, rel32_target(st->va, b));
	case K_GCALL:   /* 5.10: jmp ftrace_stub (off) or jmp ftrace_graph_caller (on), both kernel text */
		return b[0] == 0xe9 && in_text(s, rel32_target(st->va, b));
	case K_JUMP: {
		/* the site's size from the form it had (2 or 5; unknown behind an int3) */
		bool was5 = nop5(ob) || ob[0] == 0xe9, was2 = !memcmp(ob, NOP2, 2) || ob[0] == 0xeb;
		if (!was2 && (nop5(b) || (b[0] == 0xe9 && rel32_target(st->va, b) == st->target)))
			return true;
		*len = 2;
		return !was5 && (!memcmp(b, NOP2, 2) || (b[0] == 0xeb && st->va + 2 + (uint64_t)(int64_t)(int8_t)b[1] == st->target));
	}
	case K_SCALL:
	case K_TRAMP: {
		bool ret = b[0] == 0xc3 && (!memcmp(b + 1, "\xcc\xcc\xcc\xcc", 4) || !memcmp(b + 1, ob + 1, 4));
		bool jmp = b[0] == 0xe9 && target_ok(s, rel32_target(st->va, b));
		bool call = b[0] == 0xe8 && target_ok(s, rel32_target(st->va, b));
		if (st->kind == K_TRAMP)
			return jmp || ret || nop5(b);
		return nop5(b) || (st->tail ? jmp || ret : call || !memcmp(b, XOR5RAX, 5));
	}
	default:
		return false;
	}
}

/* A legitimate form, or text_poke_bp's middle step: an int3 on the first byte
 * and the rest of a legitimate form behind it. */
static bool site_ok(const struct integ_sites *s, const struct site *st, const struct view *v, uint32_t *len)
{
	uint8_t b[8], ob[8];
	if (!bytes(v, st->va, b, ob, 5))
		return false;
	if (st->kind == K_TRAMP) {
		/* what follows the 5 bytes (signature or padding) never changes */
		uint8_t sig[3], osig[3];
		if (!bytes(v, st->va + 5, sig, osig, 3) || memcmp(sig, osig, 3) ||
		    (s->tramp_sig && memcmp(sig, "\x0f\xb9\xcc", 3)))
			return false;
	}
	if (form_ok(s, st, b, ob, len))
		return true;
	if (b[0] != 0xcc)
		return false;
	static const uint8_t firsts[] = { 0xe8, 0xe9, 0xeb, 0x0f, 0x66, 0x2e, 0xc3 };
	for (unsigned i = 0; i < sizeof(firsts); i++) {
		b[0] = firsts[i];
		if (form_ok(s, st, b, ob, len))
			return true;
	}
	return false;
}

/* The sites that contain @va (every site is at most 5 bytes): up to one per kind. */
static unsigned sites_at(const struct integ_sites *s, uint64_t va, const struct view *v, struct site *out)
{
	unsigned k = 0;
	if (va < s->base || va - s->base >= (1ULL << 32))
		return 0;
	uint32_t off = (uint32_t)(va - s->base);
	long i = last_le(s->mcount, s->n_mcount, off, 4);
	if (i >= 0 && off - s->mcount[i] < 5)
		out[k++] = (struct site){ .va = s->base + s->mcount[i], .kind = K_MCOUNT };
	for (unsigned j = 0; j < 2; j++)
		if (s->ftrace_call[j] && va >= s->ftrace_call[j] && va - s->ftrace_call[j] < 5)
			out[k++] = (struct site){ .va = s->ftrace_call[j], .kind = K_FCALL };
	if (s->graph_call && va >= s->graph_call && va - s->graph_call < 5)
		out[k++] = (struct site){ .va = s->graph_call, .kind = K_GCALL };
	i = s->n_jump ? last_le(&s->jump[0].code, s->n_jump, off, sizeof(struct integ_jl)) : -1;
	if (i >= 0 && off - s->jump[i].code < 5)
		out[k++] = (struct site){ .va = s->base + s->jump[i].code, .kind = K_JUMP,
					  .target = s->base + s->jump[i].target };
	i = last_le(s->scall, s->n_scall, off, 4);
	if (i >= 0 && off - (s->scall[i] & ~INTEG_SC_TAIL) < 5)
		out[k++] = (struct site){ .va = s->base + (s->scall[i] & ~INTEG_SC_TAIL), .kind = K_SCALL,
					  .tail = (s->scall[i] & INTEG_SC_TAIL) != 0 };
	if (va >= s->tramp_start && va < s->tramp_end && !s->tramp_sig) {
		/* no signature (5.10): one trampoline every INTEG_TRAMP_STRIDE bytes */
		uint64_t t = s->tramp_start + ((va - s->tramp_start) & ~(uint64_t)(INTEG_TRAMP_STRIDE - 1));
		if (va - t < 5)
			out[k++] = (struct site){ .va = t, .kind = K_TRAMP, .tail = true };
	} else if (va >= s->tramp_start && va < s->tramp_end) {
		/* a trampoline starts where its ud1 signature follows 5 bytes on */
		for (uint64_t t = va >= 4 ? va - 4 : 0; t <= va; t++) {
			uint8_t sig[3], osig[3];
			if (t >= s->tramp_start && bytes(v, t + 5, sig, osig, 3) && !memcmp(sig, "\x0f\xb9\xcc", 3)) {
				out[k++] = (struct site){ .va = t, .kind = K_TRAMP, .tail = true };
				break;
			}
		}
	}
	return k;
}

/* ---- unverified forms: kprobes, optprobes, SMP alternatives (integrity_sites.h) ---- */

struct kp_pend {
	uint64_t va;
	uint8_t orig[5];
	bool add;                  /* record (an arm), else forget (disarmed) */
};
#define KP_PEND 16

/* A JMP rel32 (or text_poke_bp's int3 in front of its rel32) at @va into the
 * module/executable area outside the image: an optprobe's jump to its detour. */
static bool optprobe_jump(const struct integ_sites *s, uint64_t va, const uint8_t *b)
{
	uint64_t t = rel32_target(va, b);
	return (b[0] == 0xe9 || b[0] == 0xcc) && t >= MOD_LO && t < MOD_HI && !(t >= s->base && t < s->end);
}

/* Does a changed byte in [va, va + 5) lie in a listed site? (kprobes refuse them) */
static bool touches_site(const struct integ_sites *s, const struct view *v, uint64_t va, const uint8_t *b,
			 const uint8_t *ob)
{
	struct site c[6];
	for (unsigned k = 0; k < 5; k++)
		if (b[k] != ob[k] && sites_at(s, va + k, v, c))
			return true;
	return false;
}

static const struct integ_kp *kp_find(const struct integ_sites *s, uint64_t va)
{
	for (uint32_t i = 0; i < s->n_kp && i < INTEG_SITES_MAX_KP; i++)
		if (va >= s->kp[i].va && va - s->kp[i].va < 5)
			return &s->kp[i];
	return NULL;
}

static void pend(struct kp_pend *p, unsigned *np, uint64_t va, const uint8_t *orig, bool add)
{
	if (*np >= KP_PEND)
		return;                 /* judged all the same; not followed (kp_full counts it) */
	p[*np].va = va;
	memcpy(p[*np].orig, orig, 5);
	p[*np].add = add;
	(*np)++;
}

/* The change whose first byte is at @a: an unverified form? Its end (VA), or 0. */
static uint64_t kp_run(const struct integ_sites *s, const struct view *v, uint64_t a, struct kp_pend *p,
		       unsigned *np)
{
	uint8_t b[5], ob[5];
	const struct integ_kp *r = kp_find(s, a);
	uint64_t at = r ? r->va : a;
	if (!bytes(v, at, b, ob, 5) || touches_site(s, v, at, b, ob))
		return 0;
	if (r) {
		if (!memcmp(b, r->orig, 5)) {
			pend(p, np, at, r->orig, false);            /* disarmed */
			return at + 5;
		}
		if ((b[0] == 0xcc && !memcmp(b + 1, r->orig + 1, 4)) || optprobe_jump(s, at, b))
			return at + 5;                              /* armed, or optimized (or on the way) */
		return 0;
	}
	if (ob[0] != 0xcc && ((b[0] == 0xcc && !memcmp(b + 1, ob + 1, 4)) || optprobe_jump(s, at, b))) {
		pend(p, np, at, ob, true);                      /* armed (and maybe optimized at once) */
		return at + 5;
	}
	bool rest = !memcmp(b + 1, ob + 1, 4);
	if (rest && ob[0] == 0xcc)
		return at + 1;                                  /* an int3 hvmon holds no record of, removed */
	if (rest && (ob[0] == 0xf0 || ob[0] == 0x3e) && (b[0] == 0xf0 || b[0] == 0x3e))
		return at + 1;                                  /* SMP alternatives: lock <-> ds */
	return 0;
}

/* The page's verdict: every change in a listed site holding a legitimate form
 * (patch); with @p, else an unverified form (unverified); else attack. */
static enum integ_severity judge(const struct integ_sites *s, const struct view *v, struct kp_pend *p, unsigned *np)
{
	enum integ_severity sev = INTEG_SEV_PATCH;
	uint32_t i = 0;
	while (i < v->n) {
		if (v->old[i] == v->cur[i]) {
			i++;
			continue;
		}
		struct site c[6];
		uint64_t va = v->page_va + i;
		unsigned k = sites_at(s, va, v, c);
		uint64_t end = 0;
		for (unsigned j = 0; j < k && !end; j++) {
			uint32_t len;
			if (site_ok(s, &c[j], v, &len) && va < c[j].va + len)
				end = c[j].va + len;
		}
		if (!end && !k && p && (end = kp_run(s, v, va, p, np)) != 0)
			sev = INTEG_SEV_UNVERIFIED;
		if (!end)
			return INTEG_SEV_ATTACK;
		i = (uint32_t)(end - v->page_va);  /* the next change needs a site of its own */
	}
	return sev;
}

bool integ_sites_patch(const struct integ_sites *s, uint64_t page_va, const uint8_t *old, const uint8_t *cur,
		       uint32_t n, const struct integ_site_rd *rd)
{
	const struct view v = { .page_va = page_va, .old = old, .cur = cur, .n = n, .rd = rd };
	if (!s->ok || !memcmp(old, cur, n))
		return false;
	return judge(s, &v, NULL, NULL) == INTEG_SEV_PATCH;
}

static void kp_commit(struct integ_sites *s, const struct kp_pend *p, unsigned np, bool over)
{
	for (unsigned i = 0; i < np; i++) {
		uint32_t j = 0;
		while (j < s->n_kp && s->kp[j].va != p[i].va)
			j++;
		if (!p[i].add) {
			if (j < s->n_kp)
				s->kp[j] = s->kp[--s->n_kp];
		} else if (j == s->n_kp) {
			if (s->n_kp < INTEG_SITES_MAX_KP) {
				s->kp[s->n_kp].va = p[i].va;
				memcpy(s->kp[s->n_kp].orig, p[i].orig, 5);
				s->n_kp++;
			} else {
				s->kp_full++;
			}
		}
	}
	if (over)
		s->kp_full++;
}

enum integ_severity integ_classify_sites(struct integ_sites *s, enum integ_region r, enum integ_writer w,
					uint64_t page_va, const uint8_t *old, const uint8_t *cur, uint32_t n,
					const struct integ_diff *d, const struct integ_site_rd *rd)
{
	if (!s || !s->ok)
		return integ_classify(r, w, old, cur, n, d);     /* no lists: the shape rule */
	if (w == INTEG_W_PAGING)
		return INTEG_SEV_NONE;
	if (r != INTEG_R_TEXT || w != INTEG_W_POKE)
		return INTEG_SEV_ATTACK;
	if (!d->changed)
		return INTEG_SEV_PATCH;
	const struct view v = { .page_va = page_va, .old = old, .cur = cur, .n = n, .rd = rd };
	struct kp_pend p[KP_PEND];
	unsigned np = 0;
	enum integ_severity sev = judge(s, &v, p, &np);
	if (sev != INTEG_SEV_ATTACK)
		kp_commit(s, p, np, np >= KP_PEND);
	return sev;
}

const char *integ_sites_kind(const struct integ_sites *s, uint64_t va, const struct integ_site_rd *rd)
{
	struct site c[6];
	const struct view v = { .page_va = 0, .n = 0, .rd = rd };
	return sites_at(s, va, &v, c) ? kind_names[c[0].kind] : NULL;
}
