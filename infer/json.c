/*
 * infer/json.c — the hvinfer --json object (shape: docs/INFER.md, docs/INFER.md).
 *
 * {"banner": "...", "strategy": "patterns",
 *  "symbols": {"entry_SYSCALL_64": "0x...", ..., "syscalls": {"execve": "0x...", ...}},
 *  "percpu": {"current_task": 85568, ...},
 *  "offsets": {"task_struct": {"pid": 1424, ...}, "cred": {...}, "mm_struct": {...}},
 *  "missing": {"field": "reason", ...},
 *  "found_by": {"field": "patterns+kallsyms", ...},
 *  "kaslr_slide": "0x..."}                       (only when nonzero)
 * Addresses are "0x..." strings, offsets decimal numbers, not found = null.
 * Group keys come from the parameter table, so appended parameters appear
 * without changes here.
 */
#include "infer/strategy.h"

struct jout {
	char *buf;
	size_t size, len;
};

static void jputc(struct jout *o, char c)
{
	if (o->size && o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void jputs(struct jout *o, const char *s)
{
	while (*s)
		jputc(o, *s++);
}

static void jstr(struct jout *o, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	jputc(o, '"');
	for (size_t i = 0; i < max && s[i]; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '"' || c == '\\') {
			jputc(o, '\\');
			jputc(o, (char)c);
		} else if (c == '\n') {
			jputs(o, "\\n");
		} else if (c < 0x20 || c >= 0x7f) {
			/* bytes from a hostile image: keep the JSON valid ASCII */
			jputs(o, "\\u00");
			jputc(o, hex[c >> 4]);
			jputc(o, hex[c & 15]);
		} else {
			jputc(o, (char)c);
		}
	}
	jputc(o, '"');
}

static void jvalue(struct jout *o, const struct infer_value *v, enum infer_kind k)
{
	char tmp[32];
	if (!v->found) {
		jputs(o, "null");
		return;
	}
	if (k == INFER_K_ADDR || k == INFER_K_SYSCALL)
		infer_fmt(tmp, sizeof(tmp), "\"0x%llx\"", (unsigned long long)v->value);
	else
		infer_fmt(tmp, sizeof(tmp), "%llu", (unsigned long long)v->value);
	jputs(o, tmp);
}

/* Emit `"name": value` for every parameter of kind k (and group g if given). */
static void jparams(struct jout *o, const struct infer_profile *p, enum infer_kind k,
		    const char *g, bool *first)
{
	for (int i = 0; i < INFER_NPARAMS; i++) {
		if (infer_param_kind(i) != k || (g && infer_strcmp(infer_param_group(i), g)))
			continue;
		if (!*first)
			jputs(o, ", ");
		*first = false;
		jstr(o, infer_param_name(i), 64);
		jputs(o, ": ");
		jvalue(o, &p->p[i], k);
	}
}

static void strategies_str(uint32_t mask, char *buf, size_t size, bool collapse)
{
	buf[0] = 0;
	if (collapse && (mask & INFER_S_ALL) == INFER_S_ALL) {
		infer_fmt(buf, size, "all");
		return;
	}
	for (uint32_t b = 1; b <= INFER_S_BTF; b <<= 1) {
		if (!(mask & b))
			continue;
		size_t l = infer_strlen(buf);
		infer_fmt(buf + l, size - l, "%s%s", l ? "+" : "", infer_strategy_name(b));
	}
}

/* ---- the per-parameter maps: "missing", "found_by", "not_applicable" ---- */

static bool is_missing(const struct infer_value *v) { return !v->found && !v->na; }
static bool is_found(const struct infer_value *v) { return v->found; }
static bool is_na(const struct infer_value *v) { return !v->found && v->na; }

/* Each writes the map value of v into tmp (size bytes) and returns it. */
static const char *why_or_not_found(const struct infer_value *v, char *tmp, size_t size)
{
	(void)tmp; (void)size;
	return v->why[0] ? v->why : "not found";
}

static const char *why_or_na(const struct infer_value *v, char *tmp, size_t size)
{
	(void)tmp; (void)size;
	return v->why[0] ? v->why : "not applicable";
}

static const char *found_by_str(const struct infer_value *v, char *tmp, size_t size)
{
	strategies_str(v->found_by, tmp, size, false);
	return tmp;
}

/* "name": value for every parameter that passes filter, in table order,
 * separated by sep (the caller writes the braces). */
static void jparam_map(struct jout *o, const struct infer_profile *p,
		       bool (*filter)(const struct infer_value *), const char *sep,
		       const char *(*value)(const struct infer_value *, char *, size_t))
{
	char tmp[sizeof(p->p[0].why)];
	bool first = true;
	for (int i = 0; i < INFER_NPARAMS; i++) {
		if (!filter(&p->p[i]))
			continue;
		if (!first)
			jputs(o, sep);
		first = false;
		jstr(o, infer_param_name(i), 64);
		jputs(o, ": ");
		jstr(o, value(&p->p[i], tmp, sizeof(tmp)), sizeof(tmp));
	}
}

size_t infer_profile_json(const struct infer_profile *p, char *buf, size_t size)
{
	struct jout o = { buf, size, 0 };
	char tmp[64];
	bool first;

	jputs(&o, "{\"banner\": ");
	jstr(&o, p->banner, sizeof(p->banner));
	strategies_str(p->strategies, tmp, sizeof(tmp), true);
	jputs(&o, ", \"strategy\": ");
	jstr(&o, tmp, sizeof(tmp));

	jputs(&o, ",\n \"symbols\": {");
	first = true;
	jparams(&o, p, INFER_K_ADDR, NULL, &first);
	if (!first)
		jputs(&o, ",\n  ");
	jputs(&o, "\"syscalls\": {");
	first = true;
	jparams(&o, p, INFER_K_SYSCALL, NULL, &first);
	jputs(&o, "}},\n \"percpu\": {");
	first = true;
	jparams(&o, p, INFER_K_PERCPU, NULL, &first);
	jputs(&o, "},\n \"offsets\": {");

	/* one object per struct, in table order of first appearance */
	bool firstg = true;
	for (int i = 0; i < INFER_NPARAMS; i++) {
		if (infer_param_kind(i) != INFER_K_OFFSET)
			continue;
		bool seen = false;
		for (int j = 0; j < i; j++)
			if (infer_param_kind(j) == INFER_K_OFFSET &&
			    !infer_strcmp(infer_param_group(j), infer_param_group(i)))
				seen = true;
		if (seen)
			continue;
		if (!firstg)
			jputs(&o, ",\n   ");
		firstg = false;
		jstr(&o, infer_param_group(i), 64);
		jputs(&o, ": {");
		first = true;
		jparams(&o, p, INFER_K_OFFSET, infer_param_group(i), &first);
		jputc(&o, '}');
	}

	jputs(&o, "},\n \"missing\": {");
	jparam_map(&o, p, is_missing, ",\n   ", why_or_not_found);
	jputs(&o, "},\n \"found_by\": {");
	jparam_map(&o, p, is_found, ", ", found_by_str);
	jputc(&o, '}');
	/* appended (issue 14): parameters this kernel does not have, with the reason */
	jputs(&o, ",\n \"not_applicable\": {");
	jparam_map(&o, p, is_na, ", ", why_or_na);
	jputc(&o, '}');
	if (p->kaslr_slide) {
		infer_fmt(tmp, sizeof(tmp), ",\n \"kaslr_slide\": \"0x%llx\"",
			  (unsigned long long)p->kaslr_slide);
		jputs(&o, tmp);
	}
	jputs(&o, "}\n");
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return o.len;
}
