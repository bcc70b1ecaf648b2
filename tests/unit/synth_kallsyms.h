/* tests/unit/synth_kallsyms.h — synthetic kallsyms tables (three layouts) for the infer unit tests. */
#ifndef SYNTH_KALLSYMS_H
#define SYNTH_KALLSYMS_H
#include <stdio.h>
#include "tests/unit/infer_testutil.h"

#define BASE 0xffffffff81000000ull
#define RO   0xffffffff82000000ull

enum layout { L_OLD, L_SEQS, L_NEW };

struct sym {
	char name[64]; /* with the type letter first */
	uint64_t addr;
	bool percpu;
};

__attribute__((unused)) static struct sym syms[1200];
__attribute__((unused)) static size_t nsyms;

__attribute__((unused)) static void add(char type, const char *name, uint64_t addr, bool percpu)
{
	struct sym *s = &syms[nsyms++];
	snprintf(s->name, sizeof(s->name), "%c%s", type, name);
	s->addr = addr;
	s->percpu = percpu;
}

__attribute__((unused)) static const char *const sc[] = { "execve", "execveat", "exit", "exit_group", "clone", "clone3",
				  "fork", "vfork", "kill", "setuid", "setresuid", "init_module",
				  "finit_module", "read" };

/* Symbols sorted by address as kallsyms stores them: per-CPU ones first. */
__attribute__((unused)) static void make_syms(bool hot, bool dup_switch)
{
	nsyms = 0;
	if (hot) {
		add('D', "pcpu_hot", 0x35000, true);
	} else {
		add('D', "cpu_current_top_of_stack", 0x1fb50, true);
		add('D', "current_task", 0x1fb80, true);
	}
	add('T', "_stext", BASE, false);
	add('T', "__switch_to", BASE + 0x2f280, false);
	if (dup_switch)
		add('t', "__switch_to", BASE + 0x2f300, false);
	add('T', "x64_sys_call", BASE + 0x3320, false);
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		char n[48];
		snprintf(n, sizeof(n), "__x64_sys_%s", sc[i]);
		add('T', n, BASE + 0x90000 + 0x100 * i, false);
	}
	for (int i = 0; i < 700; i++) {
		char n[48];
		snprintf(n, sizeof(n), "filler_function_%d", i);
		add('t', n, BASE + 0x100000 + 0x40 * i, false);
	}
	add('T', "entry_SYSCALL_64", BASE + 0xc00080, false);
	add('D', "sys_call_table", RO + 0x360, false);
	add('D', "init_task", BASE + 0x1a1aa40, false);
}

/* ---- table writer ---- */
__attribute__((unused)) static uint8_t img[1 << 20];
__attribute__((unused)) static size_t pos;
__attribute__((unused)) static char tok[256][16];

__attribute__((unused)) static void align8(void)
{
	while (pos & 7)
		img[pos++] = 0;
}

__attribute__((unused)) static void w8(uint8_t v) { img[pos++] = v; }
__attribute__((unused)) static void w16(uint16_t v) { put16(img + pos, v); pos += 2; }
__attribute__((unused)) static void w32(uint32_t v) { put32(img + pos, v); pos += 4; }
__attribute__((unused)) static void w64(uint64_t v) { put64(img + pos, v); pos += 8; }

__attribute__((unused)) static void make_tokens(void)
{
	bool used[256] = { 0 };
	for (size_t i = 0; i < nsyms; i++)
		for (const char *p = syms[i].name; *p; p++)
			used[(uint8_t)*p] = true;
	static const char *const multi[] = { "__x64_sys_", "filler_function_", "entry_", "_SYSCALL", "it", "_t" };
	size_t m = 0;
	for (int c = 0; c < 256; c++) {
		if (used[c])
			snprintf(tok[c], sizeof(tok[c]), "%c", c);
		else if (m < sizeof(multi) / sizeof(multi[0]))
			snprintf(tok[c], sizeof(tok[c]), "%s", multi[m++]);
		else
			snprintf(tok[c], sizeof(tok[c]), "q%d", c); /* unused filler token */
	}
}

__attribute__((unused)) static size_t compress(const char *s, uint8_t *out)
{
	size_t n = 0;
	while (*s) {
		int best = -1;
		size_t bl = 0;
		for (int t = 0; t < 256; t++) {
			size_t l = strlen(tok[t]);
			if (l > bl && !strncmp(s, tok[t], l) && (l > 1 || (uint8_t)tok[t][0] == t)) {
				best = t;
				bl = l;
			}
		}
		assert_true(best >= 0);
		out[n++] = (uint8_t)best;
		s += bl;
	}
	return n;
}

__attribute__((unused)) static uint64_t relbase(void)
{
	return BASE;
}

__attribute__((unused)) static void w_offsets(void)
{
	align8();
	for (size_t i = 0; i < nsyms; i++) {
		if (syms[i].percpu)
			w32((uint32_t)syms[i].addr);
		else
			w32((uint32_t)(int32_t)(-(int64_t)(syms[i].addr - relbase()) - 1));
	}
	align8();
	w64(relbase());
}

__attribute__((unused)) static uint64_t build(enum layout l)
{
	memset(img, 0, sizeof(img));
	pos = 0x100;
	make_tokens();
	/* a decoy: digits table of another shape before the real one */
	memcpy(img + pos, "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9\0", 20);
	pos += 64;
	if (l != L_NEW)
		w_offsets();
	align8();
	w32((uint32_t)nsyms);
	align8();
	size_t names = pos;
	uint32_t markers[16];
	for (size_t i = 0; i < nsyms; i++) {
		uint8_t c[64];
		if ((i & 255) == 0)
			markers[i / 256] = (uint32_t)(pos - names);
		size_t n = compress(syms[i].name, c);
		w8((uint8_t)n);
		memcpy(img + pos, c, n);
		pos += n;
	}
	align8();
	for (size_t i = 0; i < (nsyms + 255) / 256; i++)
		w32(markers[i]);
	if (l == L_SEQS) {
		align8();
		for (size_t i = 0; i < nsyms; i++) {
			w8(0);
			w8((uint8_t)(i >> 8));
			w8((uint8_t)i);
		}
	}
	align8();
	size_t tt = pos;
	uint16_t idx[256];
	for (int t = 0; t < 256; t++) {
		idx[t] = (uint16_t)(pos - tt);
		size_t n = strlen(tok[t]) + 1;
		memcpy(img + pos, tok[t], n);
		pos += n;
	}
	align8();
	for (int t = 0; t < 256; t++)
		w16(idx[t]);
	if (l == L_NEW) {
		w_offsets();
		align8();
		for (size_t i = 0; i < nsyms; i++) {
			w8(0);
			w8((uint8_t)(i >> 8));
			w8((uint8_t)i);
		}
	}
	static const char banner[] = "Linux version 6.1.0-synthetic (t@t) #1 SMP\n";
	memcpy(img + pos + 64, banner, sizeof(banner));
	pos += 64 + sizeof(banner);
	return pos;
}

#endif
