/*
 * libFuzzer target over the collector's decoding path: header parsing, AEAD
 * opening (with the fuzzer's bytes as a datagram under a fixed key), record
 * decoding and JSON formatting of whatever decodes. A second mode feeds the
 * input as a plaintext payload (records after successful authentication),
 * which is where a hostile-but-keyed sender would aim.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "events/event.h"
#include "events/wire.h"

static char json[HV_EVENT_JSON_MAX + 256];

static void decode_records(const uint8_t *p, size_t len, unsigned nrec)
{
	size_t off = 0;
	struct hv_event ev;

	for (unsigned i = 0; i < nrec && off < len; i++) {
		size_t used = 0;
		int rc = hv_wire_decode_event(p + off, len - off, &ev, &used);
		if (rc < 0)
			return;
		if (used < HV_WIRE_REC_HDR_LEN || used > len - off)
			abort();
		if (rc == 0) {
			size_t n = hv_event_to_json(&ev, "\"seq\":1", json, sizeof(json));
			if (!n || json[n - 1] != '\n' || memcmp(json, "{\"event\":", 9))
				abort();
			for (size_t k = 0; k < n - 1; k++)          /* one line, printable */
				if ((unsigned char)json[k] < 0x20 || (unsigned char)json[k] >= 0x7f)
					abort();
			/* decoded events re-encode and decode to the same JSON */
			uint8_t re[2048];
			struct hv_event ev2;
			size_t u2, m = hv_wire_encode_event(&ev, re, sizeof(re));
			if (!m || hv_wire_decode_event(re, m, &ev2, &u2) != 0)
				abort();
			static char j2[HV_EVENT_JSON_MAX + 256];
			hv_event_to_json(&ev2, "\"seq\":1", j2, sizeof(j2));
			if (strcmp(json, j2))
				abort();
		}
		off += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t psk[32] = { 7 };
	static uint8_t buf[65536];
	struct hv_wire_hdr h;
	const uint8_t *pl;
	uint8_t key[32];

	if (size > sizeof(buf) || size < 1)
		return 0;
	if (data[0] & 1) {
		/* datagram mode */
		memcpy(buf, data + 1, size - 1);
		if (hv_wire_parse_header(buf, size - 1, &h) == 0) {
			hv_wire_hdr_key(psk, &h, key);
			if (hv_wire_open(key, buf, size - 1, &h, &pl) == 0)
				decode_records(pl, h.payload_len, h.nrec);
		}
	} else {
		/* authenticated-payload mode */
		decode_records(data + 1, size - 1, 64);
	}
	return 0;
}
