/*
 * infer/strategy.h — internal interface between infer_run (infer/infer.c)
 * and the strategies (patterns*.c, kallsyms.c, btf.c). Not for users of the
 * library: they include infer/infer.h only.
 *
 * Rules for every strategy:
 *  - read the kernel only through rd->read (bounded reads; any read may fail);
 *  - memory only from the arena (infer_alloc); no malloc, no libc beyond the
 *    helpers below (the same code links into ring -1 freestanding);
 *  - fill `out` (zeroed by the caller): for each parameter it can answer,
 *    infer_set_found(); for each it tried and could not, infer_set_missing()
 *    with a short reason; parameters it does not handle stay untouched
 *    (!found, why == "");
 *  - set out->banner if it finds linux_banner (infer_find_banner helps);
 *  - return the number of parameters found (>= 0), or < 0 when the strategy
 *    could not run at all (e.g. no kallsyms tables in the image); in that
 *    case it should still leave a reason in the parameters it would answer.
 * infer_run merges the per-strategy profiles (see infer.c).
 */
#ifndef HVMON_INFER_STRATEGY_H
#define HVMON_INFER_STRATEGY_H

#include <stdarg.h>
#include "infer/infer.h"

int infer_strategy_patterns(const struct infer_reader *rd, const struct infer_hints *h,
			    struct infer_arena *a, struct infer_profile *out);
int infer_strategy_kallsyms(const struct infer_reader *rd, const struct infer_hints *h,
			    struct infer_arena *a, struct infer_profile *out);
int infer_strategy_btf(const struct infer_reader *rd, const struct infer_hints *h,
		       struct infer_arena *a, struct infer_profile *out);

/* "patterns", "kallsyms", "btf" for one INFER_S_* bit ("?" otherwise). */
const char *infer_strategy_name(uint32_t bit);

/* Bump allocator over the caller's arena: 16-byte aligned, zero-filled,
 * NULL when full (never aborts). */
void *infer_alloc(struct infer_arena *a, size_t size);
/* The same without the zeroing, for buffers written before they are read
 * (a 4 MiB BTF copy, the decoder's page cache): the bytes are stale. */
void *infer_alloc_raw(struct infer_arena *a, size_t size);

/* ---- results -------------------------------------------------------------- */

/* Mark parameter p found with value v. */
void infer_set_found(struct infer_profile *out, enum infer_param p, uint64_t v);
/* Mark parameter p missing with a reason (printf subset, see infer_fmt). */
void infer_set_missing(struct infer_profile *out, enum infer_param p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Mark parameter p not applicable: the strategy established that this kernel
 * has no such thing (not merely that it could not find it), with the reason. */
void infer_set_na(struct infer_profile *out, enum infer_param p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- image geometry --------------------------------------------------------- */

/*
 * Where to scan. Returns the range [*start, *end) of kernel VA worth
 * scanning for data structures (kallsyms tables, BTF, banner):
 *  - rd->image_start/image_end when the reader provides them (files: the
 *    span of all PT_LOAD segments; ring -1: _text .. _end estimate);
 *  - else rd->text_start .. text_start + 64 MiB;
 *  - else, with hints->have_lstar, (lstar & ~(2 MiB - 1)) - 32 MiB .. + 64 MiB.
 * Returns false when nothing is known.
 */
bool infer_scan_range(const struct infer_reader *rd, const struct infer_hints *h,
		      uint64_t *start, uint64_t *end);

/* Look up an ELF section by name in rd->sections (files only; NULL if absent). */
const struct infer_section *infer_find_section(const struct infer_reader *rd, const char *name);

/*
 * Chunked scan for a byte needle in [start, end): calls cb(ctx, va) for each
 * match, in address order, stops when cb returns false or after max_hits
 * matches. Unreadable chunks are skipped (a page that fails to read is not an
 * error). Returns the number of matches reported.
 */
typedef bool (*infer_hit_fn)(void *ctx, uint64_t va);
size_t infer_scan(const struct infer_reader *rd, uint64_t start, uint64_t end,
		  const void *needle, size_t nlen, size_t max_hits,
		  infer_hit_fn cb, void *ctx);

/* Find "Linux version " followed by printable text ending in '\n' within the
 * scan range; copies it (without the trailing newline) into out->banner.
 * Returns true when found. */
bool infer_find_banner(const struct infer_reader *rd, const struct infer_hints *h,
		       struct infer_profile *out);

/*
 * Per-infer_run memo for whole-image scan results that depend only on the
 * reader's memory and the hints (the banner, the BTF header candidates): the
 * memory is a snapshot for one infer_run (the guest is stopped), so a second
 * strategy can reuse what the first located. Returns a zeroed-on-run-start
 * buffer of INFER_MEMO_SIZE bytes for slot, with *valid telling whether it was
 * filled (infer_memo_done marks it); NULL outside infer_run or for another
 * reader/hints (then the caller just scans).
 */
#define INFER_MEMO_SIZE 512
enum { INFER_MEMO_BANNER, INFER_MEMO_BTF, INFER_MEMO_N };
void *infer_memo(const struct infer_reader *rd, const struct infer_hints *h, unsigned slot,
		 bool *valid);
void infer_memo_done(unsigned slot);

/* The reader's zero-copy view of [va, va + len) (struct infer_reader.view), or
 * NULL (no view, not viewable, or va + len wraps): then read the bytes instead. */
const uint8_t *infer_view(const struct infer_reader *rd, uint64_t va, size_t len);

/* Read helpers (little-endian); false when unreadable. */
bool infer_read_u8(const struct infer_reader *rd, uint64_t va, uint8_t *v);
bool infer_read_u16(const struct infer_reader *rd, uint64_t va, uint16_t *v);
bool infer_read_u32(const struct infer_reader *rd, uint64_t va, uint32_t *v);
bool infer_read_u64(const struct infer_reader *rd, uint64_t va, uint64_t *v);
/* Reads a NUL-terminated string of at most size-1 chars; false if unreadable
 * or no NUL within size bytes. */
bool infer_read_str(const struct infer_reader *rd, uint64_t va, char *buf, size_t size);

/* ---- freestanding string helpers (no libc in ring -1) ----------------------- */
void  *infer_memcpy(void *d, const void *s, size_t n);
void  *infer_memset(void *d, int c, size_t n);
int    infer_memcmp(const void *a, const void *b, size_t n);
size_t infer_strlen(const char *s);
size_t infer_strnlen(const char *s, size_t max);
int    infer_strcmp(const char *a, const char *b);
int    infer_strncmp(const char *a, const char *b, size_t n);
/* memmem; NULL when not found. */
const void *infer_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen);
/* snprintf subset: %s %c %d %u %x %lx %llx %ld %lu %lld %llu %zu %zx %p %%,
 * optional '0' flag and width. Always NUL-terminates; returns needed length. */
size_t infer_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t infer_vfmt(char *buf, size_t size, const char *fmt, va_list ap);

/* infer/kallsyms_tty.c (issue 15 item 5 gap C): the five terminal offsets (task_struct.signal,
 * signal_struct.tty/pids, tty_struct.name/pgrp) from the code of tty_name, get_current_tty,
 * tty_get_pgrp and is_current_pgrp_orphaned (their addresses, 0 = unknown), for the kallsyms
 * strategy (a kernel without BTF). Sets each found or missing; returns the number found. */
int infer_kallsyms_tty_offsets(const struct infer_reader *rd, uint64_t tty_name, uint64_t get_current_tty,
			       uint64_t tty_get_pgrp, uint64_t orphaned, struct infer_profile *out);

/* infer/kallsyms_tty.c (issue 15 item 1): thread_info.status (TS_COMPAT's word) from the
 * `orl $0x2,D(current)` at the start of the compat syscall entries fns[0..n) (0 = not in this
 * kernel; names for the reasons): all present ones must show it and agree. Returns 1 when found. */
int infer_kallsyms_ti_status(const struct infer_reader *rd, const uint64_t *fns, const char *const *names,
			     size_t n, struct infer_profile *out);

#endif
