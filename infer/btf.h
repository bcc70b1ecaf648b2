/*
 * infer/btf.h — BTF (.BTF, CONFIG_DEBUG_INFO_BTF) helpers of the BTF strategy,
 * also used by the kallsyms strategy (pcpu_hot member offsets on 6.2+).
 */
#ifndef HVMON_INFER_BTF_H
#define HVMON_INFER_BTF_H

#include "infer/strategy.h"

/* The located and copied BTF blob. */
struct infer_btf {
	const uint8_t *types, *strs;   /* in the arena */
	uint32_t types_len, strs_len;
	uint32_t ntypes;               /* type ids 1..ntypes */
	uint32_t *off;                 /* type id -> byte offset in types */
	uint64_t va;                   /* where the blob was found */
	/* the struct/union ids of the last type name looked up (btf.c): the
	 * offsets of one struct are asked for one member at a time */
	struct infer_btf_memo *memo;   /* NULL: no memo (arena full) */
};

/* Parse a BTF blob in memory (copied into the arena). NULL + *why on error. */
struct infer_btf *infer_btf_parse(const uint8_t *blob, size_t len, struct infer_arena *a,
				  const char **why);

/* Locate BTF in the image (".BTF" section, else scan for a valid header),
 * copy it into the arena and parse it. NULL + *why on error. */
struct infer_btf *infer_btf_load(const struct infer_reader *rd, const struct infer_hints *h,
				 struct infer_arena *a, const char **why);

/* Byte offset of member `member` in struct/union `type` (searching anonymous
 * struct/union members too). false + *why when absent/ambiguous/bitfield. */
bool infer_btf_offset(const struct infer_btf *b, const char *type, const char *member,
		      uint64_t *off, const char **why);

/* 5.9 .. 5.15 have no cpu_current_top_of_stack variable: the syscall entry loads
 * RSP from PER_CPU_VAR(cpu_tss_rw + TSS_sp1). Byte offset of x86_tss.sp1 in
 * struct tss_struct (issue 14). */
bool infer_btf_tss_sp1(const struct infer_btf *b, uint64_t *off, const char **why);

/* Offset of per-CPU variable `var` in the ".data..percpu" DATASEC. */
/* Offset of @outer.@member in struct @type, where @outer is a named member of
 * struct/union type (e.g. tty_struct's ctrl.pgrp). Same rules as infer_btf_offset. */
bool infer_btf_offset_in(const struct infer_btf *b, const char *type, const char *outer, const char *member,
			 uint64_t *off, const char **why);
bool infer_btf_percpu_var(const struct infer_btf *b, const char *var, uint64_t *off,
			  const char **why);

#endif
