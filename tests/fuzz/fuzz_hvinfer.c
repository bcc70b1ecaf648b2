/*
 * libFuzzer target for hvinfer's input path: bzImage setup header, payload
 * decompression (all seven formats), ELF parsing, then the inference engine
 * (every strategy built in) and JSON over whatever came out. Output size is
 * capped (kimage_max_output, 32 MiB under KIMAGE_FUZZ) and every scan is
 * bounded, so each input runs in bounded time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "tools/kimage.h"

#define ARENA (32u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *arena_mem;
	static struct infer_profile prof;
	static char json[32768];
	if (!arena_mem)
		arena_mem = malloc(ARENA);
	struct kimage k;
	if (kimage_open_mem(&k, data, size) == 0) {
		struct infer_arena a = { arena_mem, ARENA, 0 };
		struct infer_hints h = { 0 };
		infer_run(&k.reader, &h, INFER_S_ALL, &a, &prof);
		size_t n = infer_profile_json(&prof, json, sizeof(json));
		if (n < sizeof(json) && strlen(json) != n)
			abort(); /* JSON length contract broken */
	}
	kimage_close(&k);
	return 0;
}
