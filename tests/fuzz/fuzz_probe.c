/* libFuzzer: probe_classify (Zydis decode + emulation decision) and probe_emulate
 * over arbitrary instruction bytes. Invariants: no crash/UB; an accepted instruction
 * is one of the emulated kinds, 1..15 bytes long, and emulation moves RIP as specified. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "vmm/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_insn in;
	char why[128];
	if (probe_classify(data, size, &in, why, sizeof(why)) != 0) {
		if (!memchr(why, 0, sizeof(why)) || !why[0])
			__builtin_trap();
		return 0;
	}
	if (in.len < 1 || in.len > 15 || in.len > size)
		__builtin_trap();
	struct probe_cpu c = { .rip = 0xffffffff81000000ULL, .rsp = 0xffffc90000004000ULL };
	bool push;
	uint64_t val;
	probe_emulate(&in, &c, &push, &val);
	switch (in.kind) {
	case PROBE_EMUL_SKIP:
		if (push || c.rip != 0xffffffff81000000ULL + in.len) __builtin_trap();
		break;
	case PROBE_EMUL_PUSH:
		if (!push || c.rsp != 0xffffc90000004000ULL - 8 || in.reg > 15 || in.reg == 4) __builtin_trap();
		break;
	case PROBE_EMUL_CALL:
		if (!push || val != 0xffffffff81000000ULL + 5) __builtin_trap();
		break;
	default:
		__builtin_trap();
	}
	return 0;
}
