/*
 * kl-sites — the keylogger's probe sites in a kernel image, found exactly as ring -1
 * finds them (monitors/keylogger_site.c) from what the inference finds (docs/MONITORS.md
 * "Keylogger detector"): the syscall exit site (its call or tail jump, the exit function, the
 * return address that marks a 64-bit syscall there) and the tty copy point in tty_read (with
 * where the tty and the file are at it). Host check on the fixture kernels
 * (tests/integration/infer_cli.sh compares them with System.map and the code).
 *
 *   kl-sites IMAGE               one JSON line; exit 0 the tty copy point found, 1 not, 2 not an image
 *   kl-sites --bytes VA N IMAGE  N bytes at link address VA in hex
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "infer/infer.h"
#include "tools/kimage.h"
#include "monitors/keylogger.h"

static int rd_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	const struct infer_reader *r = ctx;
	return r->read(r->ctx, va, buf, len) ? 0 : -1;   /* infer_read_fn: true on success */
}

static void loc(const struct keylogger_loc *l, char *b, size_t n)
{
	if (l->kind == KEYLOGGER_LOC_REG)
		snprintf(b, n, "reg %u", l->reg);
	else if (l->kind == KEYLOGGER_LOC_STACK)
		snprintf(b, n, "rsp+%#x", (unsigned)l->disp);
	else
		snprintf(b, n, "none");
}

int main(int argc, char **argv)
{
	bool dump = argc == 5 && !strcmp(argv[1], "--bytes");
	if (argc != 2 && !dump) {
		fprintf(stderr, "usage: kl-sites [--bytes VA N] IMAGE\n");
		return 3;
	}
	struct kimage k;
	if (kimage_open_file(&k, argv[argc - 1])) {
		fprintf(stderr, "kl-sites: %s\n", k.err);
		return 2;
	}
	if (dump) {
		uint64_t va = strtoull(argv[2], NULL, 0);
		size_t n = strtoull(argv[3], NULL, 0);
		uint8_t *b = malloc(n ? n : 1);
		if (!b || n > (1u << 20) || !k.reader.read(k.reader.ctx, va, b, n)) {
			fprintf(stderr, "kl-sites: cannot read %zu bytes at %#llx\n", n, (unsigned long long)va);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			printf("%02x", b[i]);
		printf("\n");
		return 0;
	}
	size_t asz = 96u << 20;
	struct infer_arena arena = { malloc(asz), asz, 0 };
	struct infer_profile *prof = calloc(1, sizeof(*prof));
	if (!arena.base || !prof)
		return 2;
	struct infer_hints hints = { 0 };
	infer_run(&k.reader, &hints, INFER_S_KALLSYMS, &arena, prof);
	struct keylogger_site_reader rd = { .ctx = &k.reader, .read = rd_read };
	struct keylogger_exit ex = { 0 };
	char why1[96] = "", why2[96] = "", tl[32], fl[32];
	int e = keylogger_find_exit(&rd, prof->p[INFER_P_ENTRY_SYSCALL_64].value, prof->p[INFER_P_X64_SYS_CALL].value,
				    prof->p[INFER_P_SYS_CALL_TABLE].value, &ex, why1, sizeof(why1));
	/* the 5 bytes at the site and before ret64: the test decodes the call/jmp rel32 itself */
	uint8_t sb[5] = { 0 }, rb[5] = { 0 };
	if (!e) {
		k.reader.read(k.reader.ctx, ex.site, sb, sizeof(sb));
		k.reader.read(k.reader.ctx, ex.ret64 - 5, rb, sizeof(rb));
	}
	struct keylogger_tty_site ts = { 0 };
	int t = keylogger_find_tty_copy(&rd, prof->p[INFER_P_TTY_READ].found ? prof->p[INFER_P_TTY_READ].value : 0, &ts,
					why2, sizeof(why2));
	loc(&ts.tty, tl, sizeof(tl));
	loc(&ts.file, fl, sizeof(fl));
	/* the first 4 KiB of tty_read in hex: the test's independent check reads the call there */
	uint8_t code[4096];
	char hex[2 * sizeof(code) + 1] = "";
	uint64_t tr = prof->p[INFER_P_TTY_READ].found ? prof->p[INFER_P_TTY_READ].value : 0;
	if (tr && k.reader.read(k.reader.ctx, tr, code, sizeof(code)))
		for (size_t i = 0; i < sizeof(code); i++)
			snprintf(hex + 2 * i, 3, "%02x", code[i]);
	printf("{\"tty_read_bytes\": \"%s\", ", hex);
	printf("\"exit_fn\": \"%#llx\", \"ret64\": \"%#llx\", \"tail\": %s, \"site_bytes\": \"%02x%02x%02x%02x%02x\", "
	       "\"ret64_bytes\": \"%02x%02x%02x%02x%02x\", ", (unsigned long long)ex.exit_fn, (unsigned long long)ex.ret64,
	       ex.tail ? "true" : "false", sb[0], sb[1], sb[2], sb[3], sb[4], rb[0], rb[1], rb[2], rb[3], rb[4]);
	printf("\"exit_site\": \"%#llx\", \"do_syscall_64\": \"%#llx\", \"tty_read\": \"%#llx\", \"tty_copy_site\": "
	       "\"%#llx\", \"ldisc_read_call\": \"%#llx\", \"tty\": \"%s\", \"file\": \"%s\", \"why\": \"%s%s\"}\n",
	       (unsigned long long)ex.site, (unsigned long long)ex.dsc,
	       (unsigned long long)prof->p[INFER_P_TTY_READ].value, (unsigned long long)ts.site,
	       (unsigned long long)ts.ldisc_call, tl, fl, why1, why2);
	kimage_close(&k);
	(void)e;                 /* the exit site is printed for information (ring -1 checks it at run time) */
	return t ? 1 : 0;
}
