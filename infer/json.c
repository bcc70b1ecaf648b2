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
	first = true;
	for (int i = 0; i < INFER_NPARAMS; i++) {
		if (p->p[i].found || p->p[i].na)
			continue;
		if (!first)
			jputs(&o, ",\n   ");
		first = false;
		jstr(&o, infer_param_name(i), 64);
		jputs(&o, ": ");
		jstr(&o, p->p[i].why[0] ? p->p[i].why : "not found", sizeof(p->p[i].why));
	}

	jputs(&o, "},\n \"found_by\": {");
	first = true;
	for (int i = 0; i < INFER_NPARAMS; i++) {
		if (!p->p[i].found)
			continue;
		if (!first)
			jputs(&o, ", ");
		first = false;
		jstr(&o, infer_param_name(i), 64);
		jputs(&o, ": ");
		strategies_str(p->p[i].found_by, tmp, sizeof(tmp), false);
		jstr(&o, tmp, sizeof(tmp));
	}
	jputc(&o, '}');
	/* appended (issue 14): parameters this kernel does not have, with the reason */
	jputs(&o, ",\n \"not_applicable\": {");
	first = true;
	for (int i = 0; i < INFER_NPARAMS; i++) {
		if (p->p[i].found || !p->p[i].na)
			continue;
		if (!first)
			jputs(&o, ", ");
		first = false;
		jstr(&o, infer_param_name(i), 64);
		jputs(&o, ": ");
		jstr(&o, p->p[i].why[0] ? p->p[i].why : "not applicable", sizeof(p->p[i].why));
	}
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
