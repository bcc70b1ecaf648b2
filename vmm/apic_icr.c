/* vmm/apic_icr.c — pure rules of intercepted local-APIC writes (vmm/apic_icr.h). */
#include <Zydis/Zydis.h>
#include "vmm/apic_icr.h"
#include "vmm/zyreg.h"

#define DM_INIT    (5u << 8)
#define DM_STARTUP (6u << 8)
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT  (1u << 14)
#define ICR_LEVEL   (1u << 15)

struct icr_req icr_classify(uint32_t lo, uint32_t dest, bool x2apic)
{
	struct icr_req r = { .act = ICR_PASS, .dest = dest };
	uint32_t dm = lo & 0x700;
	if (dm != DM_INIT && dm != DM_STARTUP)
		return r;
	uint32_t shorthand = (lo >> 18) & 3;
	bool logical = (lo & ICR_LOGICAL) != 0;
	bool bcast = x2apic ? dest == 0xffffffffu : dest == 0xff;
	r.all = shorthand >= 2 || (shorthand == 0 && !logical && bcast);
	r.act = ICR_DROP;
	if (shorthand == 1) {
		r.why = "to self";
		return r;
	}
	if (logical && !r.all) {
		r.why = "logical destination mode";
		return r;
	}
	if (dm == DM_INIT) {
		/* level-triggered de-assert: no effect on P6 and later (SDM Vol. 3A 11.6.1) */
		if (!(lo & ICR_ASSERT) && (lo & ICR_LEVEL)) {
			r.why = "INIT level de-assert";
			return r;
		}
		r.act = ICR_INIT;
	} else {
		r.act = ICR_SIPI;
		r.vector = (uint8_t)(lo & 0xff);
	}
	return r;
}

int apic_store_decode(const uint8_t *b, size_t n, unsigned mode_bits, struct apic_store *out,
		      const char **why)
{
	ZydisMachineMode mode = mode_bits == 64 ? ZYDIS_MACHINE_MODE_LONG_64 :
				mode_bits == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16;
	ZydisStackWidth sw = mode_bits == 64 ? ZYDIS_STACK_WIDTH_64 :
			     mode_bits == 32 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
	ZydisDecoder dec;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	*why = NULL;
	if (!b || !n || !ZYAN_SUCCESS(ZydisDecoderInit(&dec, mode, sw)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, b, n, &zi, zo))) {
		*why = "undecodable";
		return -1;
	}
	bool xchg = zi.mnemonic == ZYDIS_MNEMONIC_XCHG;
	if ((zi.mnemonic != ZYDIS_MNEMONIC_MOV && !xchg) || zi.operand_count_visible < 2) {
		*why = "not a MOV/XCHG";
		return -1;
	}
	/* XCHG may name the memory operand second */
	const ZydisDecodedOperand *mem = &zo[0], *src = &zo[1];
	if (xchg && zo[1].type == ZYDIS_OPERAND_TYPE_MEMORY) {
		mem = &zo[1];
		src = &zo[0];
	}
	if (mem->type != ZYDIS_OPERAND_TYPE_MEMORY || mem->size != 32) {
		*why = "not a 32-bit store";
		return -1;
	}
	out->len = zi.length;
	out->xchg = xchg;
	out->reg = -1;
	out->imm = 0;
	if (src->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		int r = zyreg_gpr_enclosing(src->reg.value);
		if (r < 0) {
			*why = "source is not a general register";
			return -1;
		}
		out->reg = (int8_t)r;
		return 0;
	}
	if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !xchg) {
		out->imm = (uint32_t)src->imm.value.u;
		return 0;
	}
	*why = "source is not a register or an immediate";
	return -1;
}
