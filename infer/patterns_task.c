/*
 * infer/patterns_task.c — the per-CPU current task slot and task_struct /
 * cred offsets, read from the shape of the code that uses them:
 *   getuid/geteuid/getgid: mov %gs:CUR,%r; mov CRED(%r),%r; mov UID(%r),%e..
 *   getppid:               mov %gs:CUR,%r; mov REAL_PARENT(%r),...
 *   brk / munmap:          mm = current->mm (first load from current)
 *   copy_process (reached from fork/clone/vfork):
 *       p->real_parent = current          store of the current pointer
 *       p->group_leader = p               the only self-store
 *       p->group_leader = current->group_leader; p->tgid = current->tgid
 *       p->pid = pid_nr(pid) (same 32-bit register as the tgid path)
 *       p->parent = p->real_parent        (ptrace_init_task)
 *       list_add_tail_rcu(&p->tasks, &init_task.tasks)  -> tasks, init_task
 *   commit_creds (reached from setuid): BUG_ON(task->cred != task->real_cred)
 *   init_task: validated by its self-pointing fields; comm = "swapper".
 */
#include <Zydis/Zydis.h>
#include "infer/patterns.h"
#ifdef PT_DEBUG
#include <stdio.h>
#define DBG(...) fprintf(stderr, __VA_ARGS__)
#else
#define DBG(...) do { } while (0)
#endif

static uint64_t handler(struct pctx *c, unsigned nr) { return nr < 512 ? c->handler[nr] : 0; }

static bool is_mov_load(const struct pinsn *pi, unsigned bits)
{
	return (pi->mnem == ZYDIS_MNEMONIC_MOV) && pi->nops == 2 && pi->op[0].kind == PO_REG &&
	       pi->op[0].size == bits && pi->op[0].reg < 16 && pi->op[1].kind == PO_MEM &&
	       !pi->op[1].gs && pi->op[1].index == PR_NONE && pi->op[1].base < 16;
}
static bool is_mov_store(const struct pinsn *pi, unsigned bits)
{
	return pi->mnem == ZYDIS_MNEMONIC_MOV && pi->nops == 2 && pi->op[0].kind == PO_MEM &&
	       !pi->op[0].gs && pi->op[0].index == PR_NONE && pi->op[0].base < 16 &&
	       pi->op[1].kind == PO_REG && pi->op[1].size == bits && pi->op[1].reg < 16;
}

/* A return thunk (`jmp __x86_return_thunk` ends functions under retbleed
 * mitigations): its target starts with ret. */
static bool is_return_thunk(struct pctx *c, uint64_t va)
{
	struct pinsn pi;
	return pt_decode(c, va, &pi) && pi.mnem == ZYDIS_MNEMONIC_RET;
}

/* Tail jump out of the decoded function (wrapper -> __do_sys_*), or 0. */
static uint64_t tail_jump(struct pctx *c, size_t n)
{
	if (n == 0) return 0;
	uint64_t lo = c->fn[0].va, hi = c->fn[n - 1].va + c->fn[n - 1].len;
	for (size_t i = 0; i < n && i < 12; i++)
		if ((c->fn[i].flags & PI_JMP) && (c->fn[i].target < lo || c->fn[i].target >= hi) &&
		    !is_return_thunk(c, c->fn[i].target))
			return c->fn[i].target;
	return 0;
}

/* ---- current slot ---------------------------------------------------------- */

static bool slot_in(struct pctx *c, uint64_t fn, uint64_t *slot)
{
	for (int depth = 0; depth < 2 && fn; depth++) {
		size_t n = pt_func(c, fn, 200);
		for (size_t i = 0; i < n; i++) {
			uint64_t s; uint8_t r;
			if (!pt_gs_load64(&c->fn[i], &s, &r))
				continue;
			for (size_t j = i + 1; j < n && j < i + 5; j++) {
				const struct pinsn *q = &c->fn[j];
				if (is_mov_load(q, 64) && q->op[1].base == r) { *slot = s; return true; }
				if (pt_writes_reg(q, r)) break;
			}
		}
		fn = tail_jump(c, n);
	}
	return false;
}

void pt_find_current(struct pctx *c)
{
	static const unsigned nrs[] = { 102, 107, 104, 110, 12 };  /* getuid geteuid getgid getppid brk */
	uint64_t slot = 0; unsigned agree = 0, disagree = 0;
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		uint64_t s;
		if (!handler(c, nrs[i]) || !slot_in(c, handler(c, nrs[i]), &s))
			continue;
		if (!agree) { slot = s; agree = 1; }
		else if (s == slot) agree++;
		else disagree++;
	}
	if (agree >= 3 && !disagree) {
		c->cur_slot = slot; c->have_cur = true;
		infer_set_found(c->out, INFER_P_PCPU_CURRENT_TASK, slot);
	} else {
		infer_set_missing(c->out, INFER_P_PCPU_CURRENT_TASK,
				  "current slot: %u handlers agree, %u disagree", agree, disagree);
	}
}

/* ---- small handlers --------------------------------------------------------- */

/* First "mov OFF(%cur),%r64" (and the 32-bit load from that pointer after it). */
static bool first_field(struct pctx *c, uint64_t fn, int64_t *off, int64_t *sub32)
{
	for (int depth = 0; depth < 3 && fn; depth++) {
		uint64_t body = pt_skip_prologue(c, fn);   /* past endbr64 / call __fentry__ */
		size_t n = pt_func(c, fn, 400);
		struct ptrack t = { 0 };
		for (size_t i = 0; i < n; i++) {
			const struct pinsn *pi = &c->fn[i];
			if (is_mov_load(pi, 64) && (t.cur & (1u << pi->op[1].base))) {
				*off = pi->op[1].disp;
				uint8_t r = pi->op[0].reg;
				if (sub32) {
					*sub32 = P_UNKNOWN;
					for (size_t j = i + 1; j < n && j < i + 8; j++) {
						if (is_mov_load(&c->fn[j], 32) && c->fn[j].op[1].base == r) {
							*sub32 = c->fn[j].op[1].disp; break;
						}
						if (pt_writes_reg(&c->fn[j], r)) break;
					}
				}
				return true;
			}
			pt_track_step(c, &t, pi);
		}
		uint64_t next = tail_jump(c, n);
		if (!next) {  /* a wrapper that calls the body: first call */
			for (size_t i = 0; i < n && i < 16; i++)
				if ((c->fn[i].flags & PI_CALL) && c->fn[i].va >= body) {
					next = c->fn[i].target;
					break;
				}
		}
		fn = next;
	}
	return false;
}

static void find_creds(struct pctx *c)
{
	static const struct { unsigned nr; enum infer_param p; } cr[] = {
		{ 102, INFER_P_CRED_UID }, { 107, INFER_P_CRED_EUID }, { 104, INFER_P_CRED_GID } };
	int64_t cred = P_UNKNOWN; bool bad = false;
	int64_t vals[3];
	for (int i = 0; i < 3; i++) {
		int64_t off, sub;
		vals[i] = P_UNKNOWN;
		if (!handler(c, cr[i].nr) || !first_field(c, handler(c, cr[i].nr), &off, &sub) ||
		    sub == P_UNKNOWN) {
			bad = true; continue;
		}
		if (cred == P_UNKNOWN) cred = off;
		else if (cred != off) bad = true;
		vals[i] = sub;
	}
	if (cred != P_UNKNOWN && !bad && vals[0] != vals[1] && vals[0] != vals[2] && vals[1] != vals[2]) {
		c->off_cred = cred;
		infer_set_found(c->out, INFER_P_TASK_CRED, (uint64_t)cred);
		for (int i = 0; i < 3; i++)
			infer_set_found(c->out, cr[i].p, (uint64_t)vals[i]);
	} else {
		infer_set_missing(c->out, INFER_P_TASK_CRED, "getuid/geteuid/getgid disagree");
		for (int i = 0; i < 3; i++)
			infer_set_missing(c->out, cr[i].p, "getuid/geteuid/getgid disagree");
	}
}

/* ---- bounded call-graph search ------------------------------------------------ */

typedef bool (*fn_match)(struct pctx *c, size_t n, void *arg);

static bool bfs(struct pctx *c, const uint64_t *roots, size_t nroots, int maxdepth,
		size_t maxfuncs, fn_match m, void *arg)
{
	uint64_t *q = infer_alloc(c->a, 256 * sizeof(uint64_t));
	uint8_t *d = infer_alloc(c->a, 256);
	if (!q || !d) return false;
	size_t qn = 0, qi = 0;
	for (size_t i = 0; i < nroots && qn < 256; i++)
		if (roots[i]) { q[qn] = roots[i]; d[qn++] = 0; }
	while (qi < qn && qi < maxfuncs) {
		uint64_t fn = q[qi]; int depth = d[qi]; qi++;
		size_t n = pt_func(c, fn, c->fn_cap);
		DBG("bfs %llx depth %d n %zu end %llx\n", (unsigned long long)fn, depth, n, n ? (unsigned long long)c->fn[n-1].va : 0ull);
		if (m(c, n, arg))
			return true;
		if (depth >= maxdepth) continue;
		uint64_t lo = fn, hi = n ? c->fn[n - 1].va : fn;
		for (size_t i = 0; i < n && qn < 256; i++) {
			const struct pinsn *pi = &c->fn[i];
			if (!(pi->flags & (PI_CALL | PI_JMP)) || !pt_is_text(c, pi->target))
				continue;
			if (pi->target >= lo && pi->target <= hi) continue;
			bool seen = false;
			for (size_t k = 0; k < qn; k++) if (q[k] == pi->target) { seen = true; break; }
			if (!seen) { q[qn] = pi->target; d[qn++] = (uint8_t)(depth + 1); }
		}
	}
	return false;
}

/*
 * pid from the thread-group-leader branch of copy_process (5.10 .. 6.12):
 *     p->pid = pid_nr(pid);
 *     if (clone_flags & CLONE_THREAD) { ...; p->tgid = current->tgid; }
 *     else { p->group_leader = p; p->tgid = p->pid; }
 * A new leader's tgid is its pid: the register stored to TGID(p) right after
 * the self-store (possibly past a jmp back into a merged tail) holds the pid,
 * and the same register was stored to PID(p) just before the branch that
 * leads to the self-store (or before the self-store when it falls through).
 */
static int64_t leader_pid(struct pctx *c, size_t n, uint8_t p, size_t self, int64_t tg)
{
	uint8_t r32 = PR_NONE;
	size_t i = self + 1;
	for (int steps = 0; steps < 12 && i < n; steps++) {
		const struct pinsn *pi = &c->fn[i];
		if (is_mov_store(pi, 32) && pi->op[0].base == p && pi->op[0].disp == tg) {
			r32 = pi->op[1].reg; break;
		}
		if (pi->flags & PI_JMP) {
			size_t k = pt_index_of(c, n, pi->target);
			if (k == n) break;
			i = k; continue;
		}
		if (pi->flags & (PI_END | PI_CALL)) break;
		i++;
	}
	if (r32 == PR_NONE)
		return P_UNKNOWN;
	/* where the self-store is reached from: a branch to it, else fall-through */
	size_t from = self;
	for (size_t j = 0; j < n; j++)
		if ((c->fn[j].flags & (PI_JCC | PI_JMP)) && c->fn[j].target == c->fn[self].va) {
			from = j; break;
		}
	for (size_t k = from; k-- > 0 && k + 40 > from;) {
		const struct pinsn *s = &c->fn[k];
		if (is_mov_store(s, 32) && s->op[0].base == p && s->op[1].reg == r32 && s->op[0].disp != tg)
			return s->op[0].disp;
		if (pt_writes_reg(s, r32))
			break;
	}
	return P_UNKNOWN;
}

/* copy_process: p->real_parent = current */
struct cp_res { int64_t gl, tgid, pid, parent, tasks; uint64_t tasks_head; const char *why; };

static bool match_copy_process(struct pctx *c, size_t n, void *arg)
{
	struct cp_res *r = arg;
	int64_t rp = c->off_real_parent;
	struct ptrack t = { 0 };
	uint8_t p = PR_NONE;
	/* The store may sit in an out-of-line block after the function's exit
	 * (5.10: "p->real_parent = current" for !CLONE_PARENT|CLONE_THREAD is
	 * moved there): follow forward branches. */
	pt_track_flow(c, n);
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		uint32_t cur = c->flow[i];
		if (is_mov_store(pi, 64) && pi->op[0].disp == rp && (cur & (1u << pi->op[1].reg)) &&
		    !(cur & (1u << pi->op[0].base)) && pi->op[0].base != PR_RSP &&
		    pi->op[0].base != PR_RBP) {
			p = pi->op[0].base; break;
		}
	}
	if (p == PR_NONE)
		return false;
	/* group_leader: the self-store "mov %p,G(%p)" (unique offset) */
	int64_t gl = P_UNKNOWN; bool amb = false; size_t self = n;
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (is_mov_store(pi, 64) && pi->op[0].base == p && pi->op[1].reg == p) {
			if (gl == P_UNKNOWN) { gl = pi->op[0].disp; self = i; }
			else if (gl != pi->op[0].disp) amb = true;
		}
	}
	if (gl == P_UNKNOWN || amb) { r->why = "copy_process: no unique p->group_leader = p"; return true; }
	/* p->group_leader = current->group_leader; then p->tgid = current->tgid */
	int64_t tg = P_UNKNOWN, pid = P_UNKNOWN;
	infer_memset(&t, 0, sizeof(t));
	for (size_t i = 0; i + 1 < n && tg == P_UNKNOWN; i++) {
		const struct pinsn *pi = &c->fn[i];
		pt_track_step(c, &t, pi);
		if (!(is_mov_store(pi, 64) && pi->op[0].base == p && pi->op[0].disp == gl &&
		      pi->op[1].reg != p))
			continue;
		struct ptrack t2 = t;
		for (size_t j = i + 1; j < n && j < i + 10; j++) {
			const struct pinsn *q = &c->fn[j];
			if (is_mov_load(q, 32) && (t2.cur & (1u << q->op[1].base))) {
				uint8_t r32 = q->op[0].reg; int64_t off = q->op[1].disp;
				/* stored to the same offset of p (possibly after a merge) */
				bool stored = false;
				for (size_t k = j + 1; k < n && k < j + 12; k++) {
					const struct pinsn *s = &c->fn[k];
					if (is_mov_store(s, 32) && s->op[0].base == p && s->op[0].disp == off &&
					    s->op[1].reg == r32) { stored = true; break; }
				}
				if (!stored) continue;
				tg = off;
				break;
			}
			pt_track_step(c, &t2, q);
		}
	}
	if (tg != P_UNKNOWN)
		pid = leader_pid(c, n, p, self, tg);
	/* p->parent = p->real_parent */
	int64_t par = P_UNKNOWN; amb = false;
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (!(is_mov_load(pi, 64) && pi->op[1].base == p && pi->op[1].disp == rp)) continue;
		uint8_t rr = pi->op[0].reg;
		for (size_t j = i + 1; j < n && j < i + 16; j++) {
			const struct pinsn *s = &c->fn[j];
			if (is_mov_store(s, 64) && s->op[0].base == p && s->op[1].reg == rr &&
			    s->op[0].disp != rp) {
				if (par == P_UNKNOWN) par = s->op[0].disp;
				else if (par != s->op[0].disp) amb = true;
				break;
			}
			if (pt_writes_reg(s, rr)) break;
		}
	}
	if (amb) par = P_UNKNOWN;
	/* list_add_tail_rcu(&p->tasks, &init_task.tasks): lea T(%p) near a
	 * constant address H and a load from H+8 (head->prev) */
	int64_t tasks = P_UNKNOWN; uint64_t head = 0; amb = false;
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (!(pi->mnem == ZYDIS_MNEMONIC_LEA && pi->op[1].kind == PO_MEM && pi->op[1].base == p &&
		      pi->op[1].index == PR_NONE))
			continue;
		size_t lo = i > 6 ? i - 6 : 0, hi = i + 7 < n ? i + 7 : n;
		for (size_t j = lo; j < hi; j++) {
			const struct pinsn *q = &c->fn[j];
			uint64_t h = 0;
			if (q->mnem == ZYDIS_MNEMONIC_MOV && q->op[0].kind == PO_REG && q->op[1].kind == PO_IMM &&
			    q->op[0].size == 64 && pt_is_kaddr(c, q->op[1].imm))
				h = q->op[1].imm;
			else if (q->mnem == ZYDIS_MNEMONIC_LEA && q->op[1].kind == PO_MEM && q->op[1].base == PR_RIP)
				h = q->op[1].ea;
			if (!h) continue;
			for (size_t k = lo; k < hi; k++) {
				const struct pinsn *l = &c->fn[k];
				if (is_mov_load(l, 64) || (l->mnem == ZYDIS_MNEMONIC_MOV && l->op[1].kind == PO_MEM &&
							  l->op[1].base == PR_RIP)) {
					if (l->op[1].kind == PO_MEM && l->op[1].base == PR_RIP && l->op[1].ea == h + 8) {
						if (tasks == P_UNKNOWN) { tasks = pi->op[1].disp; head = h; }
						else if (tasks != pi->op[1].disp || head != h) amb = true;
					}
				}
			}
		}
	}
	if (amb) { tasks = P_UNKNOWN; head = 0; }
	r->gl = gl; r->tgid = tg; r->pid = pid; r->parent = par; r->tasks = tasks; r->tasks_head = head;
	return true;
}

/* commit_creds: "mov A(%cur),%r; cmp %r,B(%cur)" with {A,B} = {real_cred, cred} */
static bool match_commit_creds(struct pctx *c, size_t n, void *arg)
{
	int64_t *res = arg;
	struct ptrack t = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (is_mov_load(pi, 64) && (t.cur & (1u << pi->op[1].base))) {
			uint8_t r = pi->op[0].reg, base = pi->op[1].base; int64_t a = pi->op[1].disp;
			for (size_t j = i + 1; j < n && j < i + 4; j++) {
				const struct pinsn *q = &c->fn[j];
				if (q->mnem != ZYDIS_MNEMONIC_CMP) continue;
				const struct pop *m = q->op[0].kind == PO_MEM ? &q->op[0] : &q->op[1];
				const struct pop *g = q->op[0].kind == PO_MEM ? &q->op[1] : &q->op[0];
				if (m->kind != PO_MEM || g->kind != PO_REG || g->reg != r || m->base != base ||
				    m->size != 64)
					continue;
				int64_t b = m->disp;
				if (b == c->off_cred && a != b) { *res = a; return true; }
				if (a == c->off_cred && a != b) { *res = b; return true; }
			}
		}
		pt_track_step(c, &t, pi);
	}
	return false;
}

static bool readq(struct pctx *c, uint64_t va, uint64_t *v) { return infer_read_u64(c->rd, va, v); }

static void find_comm(struct pctx *c)
{
	/* init_task.comm is "swapper" (INIT_TASK_COMM), possibly "swapper/0" */
	uint8_t *buf = infer_alloc(c->a, 0x4000);
	if (!buf || !c->init_task) {
		infer_set_missing(c->out, INFER_P_TASK_COMM, "init_task unknown");
		return;
	}
	size_t len = 0;
	while (len < 0x4000 && c->rd->read(c->rd->ctx, c->init_task + len, buf + len, 0x400))
		len += 0x400;
	int64_t off = P_UNKNOWN; unsigned hits = 0;
	for (size_t i = 0; i + 8 <= len; i++) {
		if (infer_memcmp(buf + i, "swapper", 7) == 0 && (buf[i + 7] == 0 || buf[i + 7] == '/')) {
			off = (int64_t)i; hits++;
		}
	}
	if (hits == 1) {
		c->off_comm = off;
		infer_set_found(c->out, INFER_P_TASK_COMM, (uint64_t)off);
	} else {
		infer_set_missing(c->out, INFER_P_TASK_COMM,
				  "\"swapper\" occurs %u times in init_task", hits);
	}
}

/*
 * The per-CPU current slot starts out as &init_task (file: .data..percpu is
 * linked at 0, so the slot's link address holds the initial value; ring -1 at
 * the first LSTAR write: GS base + slot, the boot CPU still runs init_task).
 * Cross-check, or fallback when copy_process gave no init_task.
 */
static void check_init_task_percpu(struct pctx *c)
{
	uint64_t va = c->h->have_gs_base ? c->h->gs_base + c->cur_slot : c->cur_slot, v, x;
	if (!readq(c, va, &v) || !pt_is_kaddr(c, v))
		return;                       /* no per-CPU view: nothing to add */
	if (c->init_task) {
		if (v != c->init_task) {
			c->init_task = 0;
			infer_set_missing(c->out, INFER_P_INIT_TASK,
					  "per-CPU current 0x%llx != copy_process init_task", (unsigned long long)v);
		}
		return;
	}
	if (c->off_real_parent == P_UNKNOWN || !readq(c, v + (uint64_t)c->off_real_parent, &x) || x != v)
		return;
	if (c->off_group_leader != P_UNKNOWN &&
	    (!readq(c, v + (uint64_t)c->off_group_leader, &x) || x != v))
		return;
	c->init_task = v;
	c->out->p[INFER_P_INIT_TASK].why[0] = 0;
	infer_set_found(c->out, INFER_P_INIT_TASK, v);
}

void pt_find_task_fields(struct pctx *c)
{
	struct infer_profile *out = c->out;
	if (!c->have_cur) {
		for (int p = INFER_P_TASK_PID; p <= INFER_P_CRED_GID; p++)
			infer_set_missing(out, (enum infer_param)p, "current slot unknown");
		infer_set_missing(out, INFER_P_INIT_TASK, "current slot unknown");
		return;
	}
	find_creds(c);
	int64_t off, sub;
	if (handler(c, 110) && first_field(c, handler(c, 110), &off, NULL)) {
		c->off_real_parent = off;
		infer_set_found(out, INFER_P_TASK_REAL_PARENT, (uint64_t)off);
	} else {
		infer_set_missing(out, INFER_P_TASK_REAL_PARENT, "getppid shape not found");
	}
	/* mm: brk, cross-checked by munmap */
	int64_t mm = P_UNKNOWN, mm2 = P_UNKNOWN;
	if (handler(c, 12) && first_field(c, handler(c, 12), &off, &sub)) mm = off;
	if (handler(c, 11) && first_field(c, handler(c, 11), &off, &sub)) mm2 = off;
	DBG("mm: brk %lld munmap %lld\n", (long long)mm, (long long)mm2);
	if (mm != P_UNKNOWN && (mm2 == P_UNKNOWN || mm2 == mm)) {
		c->off_mm = mm;
		infer_set_found(out, INFER_P_TASK_MM, (uint64_t)mm);
	} else {
		infer_set_missing(out, INFER_P_TASK_MM, "brk/munmap current->mm disagree (%lld/%lld)",
				  (long long)mm, (long long)mm2);
	}
	/* copy_process */
	if (c->off_real_parent != P_UNKNOWN) {
		uint64_t roots[3] = { handler(c, 57), handler(c, 56), handler(c, 58) };
		struct cp_res r = { P_UNKNOWN, P_UNKNOWN, P_UNKNOWN, P_UNKNOWN, P_UNKNOWN, 0, NULL };
		if (!bfs(c, roots, 3, 3, 48, match_copy_process, &r))
			r.why = "copy_process (p->real_parent = current) not found from fork/clone";
		const char *why = r.why ? r.why : "copy_process shape not found";
#define SETOFF(field, P) do { if (r.field != P_UNKNOWN && !r.why) { infer_set_found(out, P, (uint64_t)r.field); } \
	else infer_set_missing(out, P, "%s", why); } while (0)
		SETOFF(gl, INFER_P_TASK_GROUP_LEADER);
		SETOFF(tgid, INFER_P_TASK_TGID);
		SETOFF(pid, INFER_P_TASK_PID);
		SETOFF(parent, INFER_P_TASK_PARENT);
#undef SETOFF
		c->off_group_leader = r.gl; c->off_tgid = r.tgid; c->off_pid = r.pid; c->off_parent = r.parent;
		/* init_task = &init_task.tasks - tasks, validated by self pointers */
		if (r.tasks != P_UNKNOWN && r.tasks_head) {
			uint64_t it = r.tasks_head - (uint64_t)r.tasks, v1, v2, v3;
			bool ok = readq(c, r.tasks_head, &v1) && v1 == r.tasks_head;   /* next */
			ok = ok && readq(c, it + (uint64_t)c->off_real_parent, &v2) && v2 == it;
			if (ok && r.gl != P_UNKNOWN && !r.why)
				ok = readq(c, it + (uint64_t)r.gl, &v3) && v3 == it;
			if (ok) {
				c->off_tasks = r.tasks; c->init_task = it;
				infer_set_found(out, INFER_P_TASK_TASKS, (uint64_t)r.tasks);
				infer_set_found(out, INFER_P_INIT_TASK, it);
			} else {
				infer_set_missing(out, INFER_P_TASK_TASKS, "init_task.tasks not self-pointing");
				infer_set_missing(out, INFER_P_INIT_TASK, "init_task fields not self-pointing");
			}
		} else {
			infer_set_missing(out, INFER_P_TASK_TASKS, "list_add_tail(&p->tasks, &init_task.tasks) not found");
			infer_set_missing(out, INFER_P_INIT_TASK, "list_add_tail(&p->tasks, &init_task.tasks) not found");
		}
	}
	check_init_task_percpu(c);
	/* real_cred: commit_creds from setuid/setresuid */
	if (c->off_cred != P_UNKNOWN) {
		uint64_t roots[2] = { handler(c, 105), handler(c, 117) };
		int64_t rc = P_UNKNOWN;
		if (bfs(c, roots, 2, 3, 48, match_commit_creds, &rc)) {
			c->off_real_cred = rc;
			infer_set_found(out, INFER_P_TASK_REAL_CRED, (uint64_t)rc);
		} else {
			infer_set_missing(out, INFER_P_TASK_REAL_CRED, "commit_creds compare not found");
		}
	}
	find_comm(c);
}
