/*
 * libFuzzer target over hvmon-collect's whole per-datagram path
 * (tools/hvmon-collect.c process_datagram: parse, authenticate, decode all
 * records, sequence tracking, JSON, output). Unlike fuzz_wire, the fuzzer's
 * bytes are SEALED with the collector's key first, so a keyed but hostile or
 * buggy sender is covered: arbitrary record counts, payloads, sequence
 * numbers, senders and boot nonces. Input layout:
 *   [0]      mode: bit0 set = feed the raw bytes unsealed (forgery path)
 *   [1..4]   sender id   [5] bits 0-1 boot nonce selector (one of 4),
 *            bit 2 wire version 2 (AES-256-GCM, issue 16), else version 1
 *   [6..9]   sequence number (low 32 bits)   [10..11] record count
 *   [12..]   plaintext payload (records)
 * Invariants: no crash/sanitizer report; every output line is one JSON
 * object starting {"event": (checked by re-reading the output buffer).
 */
#define main hvmon_collect_main
#include "tools/hvmon-collect.c"
#undef main
#include "mbedtls/chachapoly.h"
#include "events/wire_seal.h"

static char *obuf;
static size_t olen;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	static uint8_t d[65536];
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(5140) };

	if (!init) {
		for (int i = 0; i < 32; i++)
			psk[i] = (uint8_t)(7 * i + 1);
		quiet = 1;
		init = 1;
	}
	out = open_memstream(&obuf, &olen);
	if (size < 12) {
		fclose(out);
		free(obuf);
		return 0;
	}
	if (data[0] & 1) {
		memcpy(d, data + 1, size - 1 < sizeof(d) ? size - 1 : sizeof(d));
		process_datagram(d, size - 1 < sizeof(d) ? size - 1 : sizeof(d), &from);
	} else {
		size_t pl = size - 12;
		if (pl > HV_WIRE_MAX_PAYLOAD)
			pl = HV_WIRE_MAX_PAYLOAD;
		uint8_t nonce[12] = { 'n', (uint8_t)(data[5] & 3) };
		uint32_t sender = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
		uint64_t seq = (uint64_t)data[6] | (uint64_t)data[7] << 8 | (uint64_t)data[8] << 16 | (uint64_t)data[9] << 24;
		uint16_t nrec = (uint16_t)(data[10] | data[11] << 8);
		uint8_t key[32], an[12] = { 0 };
		bool v2 = data[5] & 4;
		memcpy(d, "HVMN", 4);
		d[4] = v2 ? HV_WIRE_VERSION_GCM : HV_WIRE_VERSION;
		d[5] = v2 ? HV_WIRE_F_SENDER_KEY : 0;       /* version 2 only with the sender-bound key */
		d[6] = 40; d[7] = 0;
		memcpy(d + 8, &sender, 4);
		memcpy(d + 12, nonce, 12);
		memcpy(d + 24, &seq, 8);
		memset(d + 32, 0, 4);
		d[36] = (uint8_t)nrec; d[37] = (uint8_t)(nrec >> 8);
		d[38] = (uint8_t)pl; d[39] = (uint8_t)(pl >> 8);
		memcpy(an, &seq, 8);
		if (v2) {
			uint8_t kb[32];
			hv_wire_derive_key_sender(psk, sender, nonce, kb);
			hv_wire_derive_key_gcm(kb, key);
			hv_wire_seal_gcm(key, an, d, 40, (uint8_t *)memcpy(d + 40, data + 12, pl), pl, d + 40 + pl);
			process_datagram(d, 40 + pl + 16, &from);
			goto check;
		}
		hv_wire_derive_key(psk, nonce, key);
		mbedtls_chachapoly_context c;
		mbedtls_chachapoly_init(&c);
		mbedtls_chachapoly_setkey(&c, key);
		mbedtls_chachapoly_encrypt_and_tag(&c, pl, an, d, 40, data + 12, d + 40, d + 40 + pl);
		mbedtls_chachapoly_free(&c);
		process_datagram(d, 40 + pl + 16, &from);
	}
check:
	fclose(out);
	/* every line one JSON object */
	for (size_t i = 0; i < olen; ) {
		if (olen - i < 9 || memcmp(obuf + i, "{\"event\":", 9))
			abort();
		char *nl = memchr(obuf + i, '\n', olen - i);
		if (!nl)
			abort();
		for (char *c = obuf + i; c < nl; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				abort();
		i = (size_t)(nl - obuf) + 1;
	}
	free(obuf);
	obuf = NULL;
	return 0;
}
