/* tests/unit/synth_btf.h — hand-built BTF blobs for the infer unit tests. */
#ifndef SYNTH_BTF_H
#define SYNTH_BTF_H
#include "tests/unit/infer_testutil.h"

/* ---- a tiny BTF writer ---- */
struct bw {
	uint8_t types[8192];
	size_t tlen;
	char strs[4096];
	size_t slen;
	uint32_t next_id;
};

static uint32_t bw_str(struct bw *w, const char *s)
{
	if (!s || !*s)
		return 0;
	uint32_t off = (uint32_t)w->slen;
	strcpy(w->strs + w->slen, s);
	w->slen += strlen(s) + 1;
	return off;
}

static void bw_init(struct bw *w)
{
	memset(w, 0, sizeof(*w));
	w->slen = 1; /* strs[0] = "" */
	w->next_id = 1;
}

static uint32_t bw_type(struct bw *w, const char *name, uint32_t kind, uint32_t vlen, bool kflag,
			uint32_t size_or_type)
{
	uint8_t *p = w->types + w->tlen;
	put32(p, bw_str(w, name));
	put32(p + 4, kind << 24 | vlen | (kflag ? 1u << 31 : 0));
	put32(p + 8, size_or_type);
	w->tlen += 12;
	return w->next_id++;
}

static void bw_u32(struct bw *w, uint32_t v)
{
	put32(w->types + w->tlen, v);
	w->tlen += 4;
}

static void bw_member(struct bw *w, const char *name, uint32_t type, uint32_t bitoff)
{
	bw_u32(w, bw_str(w, name));
	bw_u32(w, type);
	bw_u32(w, bitoff);
}

static size_t bw_blob(struct bw *w, uint8_t *out)
{
	put16(out, 0xeB9F);
	out[2] = 1;
	out[3] = 0;
	put32(out + 4, 24);
	put32(out + 8, 0);
	put32(out + 12, (uint32_t)w->tlen);
	put32(out + 16, (uint32_t)w->tlen);
	put32(out + 20, (uint32_t)w->slen);
	memcpy(out + 24, w->types, w->tlen);
	memcpy(out + 24 + w->tlen, w->strs, w->slen);
	return 24 + w->tlen + w->slen;
}

/*
 * Types: int; struct cred { int pad; int pad2; int uid@8; int gid@12; ... euid@24 };
 * struct mm_struct { struct { ...; void *pgd @72 }; } (anonymous)
 * struct task_struct { ... union { int pid @2416 } anonymous; tgid; comm ...}
 * per-CPU: VAR current_task, VAR cpu_current_top_of_stack in DATASEC .data..percpu
 */
__attribute__((unused)) static size_t build_kernel_btf(uint8_t *out, bool with_percpu, uint32_t cur_off, bool hot)
{
	struct bw w;
	bw_init(&w);
	uint32_t t_int = bw_type(&w, "int", 1, 0, false, 4);
	bw_u32(&w, 32);
	uint32_t t_ptr = bw_type(&w, NULL, 2, 0, false, 0);
	uint32_t t_kuid = bw_type(&w, "kuid_t", 8, 0, false, t_int); /* typedef */

	bw_type(&w, "cred", 4, 4, false, 64);
	bw_member(&w, "usage", t_int, 0);
	bw_member(&w, "uid", t_kuid, 8 * 8);
	bw_member(&w, "gid", t_kuid, 12 * 8);
	bw_member(&w, "euid", t_kuid, 24 * 8);

	uint32_t anon = bw_type(&w, NULL, 4, 2, false, 80);
	bw_member(&w, "mmap_base", t_int, 0);
	bw_member(&w, "pgd", t_ptr, 72 * 8);
	bw_type(&w, "mm_struct", 4, 1, false, 128);
	bw_member(&w, NULL, anon, 0);

	uint32_t u = bw_type(&w, NULL, 5, 1, false, 4);
	bw_member(&w, "pid", t_int, 0);
	uint32_t t_arr = bw_type(&w, NULL, 3, 0, false, 0);
	bw_u32(&w, t_int);
	bw_u32(&w, t_int);
	bw_u32(&w, 16);
	bw_type(&w, "task_struct", 4, 11, true, 4096);
	bw_member(&w, "flags", t_int, 3u << 24 | 0); /* a 3-bit bitfield at 0 */
	bw_member(&w, NULL, u, 2416 * 8);
	bw_member(&w, "tgid", t_int, 2420 * 8);
	bw_member(&w, "real_parent", t_ptr, 2432 * 8);
	bw_member(&w, "parent", t_ptr, 2440 * 8);
	bw_member(&w, "group_leader", t_ptr, 2480 * 8);
	bw_member(&w, "mm", t_ptr, 2272 * 8);
	bw_member(&w, "tasks", t_ptr, 2192 * 8);
	bw_member(&w, "real_cred", t_ptr, 2952 * 8);
	bw_member(&w, "cred", t_ptr, 2960 * 8);
	bw_member(&w, "comm", t_arr, 2976 * 8);
	/* a forward declaration of the same name must be ignored */
	bw_type(&w, "task_struct", 7, 0, false, 0);

	if (hot) {
		uint32_t s = bw_type(&w, NULL, 4, 2, false, 64);
		bw_member(&w, "current_task", t_ptr, 0);
		bw_member(&w, "top_of_stack", t_ptr, 24 * 8);
		uint32_t un = bw_type(&w, NULL, 5, 1, false, 64);
		bw_member(&w, NULL, s, 0);
		uint32_t ph = bw_type(&w, "pcpu_hot", 4, 1, false, 64);
		bw_member(&w, NULL, un, 0);
		uint32_t v = bw_type(&w, "pcpu_hot", 14, 0, false, ph);
		bw_u32(&w, 1);
		bw_type(&w, ".data..percpu", 15, 1, false, 0x40000);
		bw_u32(&w, v);
		bw_u32(&w, cur_off);
		bw_u32(&w, 64);
	} else if (with_percpu) {
		uint32_t v1 = bw_type(&w, "current_task", 14, 0, false, t_ptr);
		bw_u32(&w, 1);
		uint32_t v2 = bw_type(&w, "cpu_current_top_of_stack", 14, 0, false, t_ptr);
		bw_u32(&w, 1);
		bw_type(&w, ".data..percpu", 15, 2, false, 0x30000);
		bw_u32(&w, v2);
		bw_u32(&w, cur_off - 48);
		bw_u32(&w, 8);
		bw_u32(&w, v1);
		bw_u32(&w, cur_off);
		bw_u32(&w, 8);
	}
	return bw_blob(&w, out);
}

#endif
