/*
 * hvmon.efi — UEFI front end of hvmon (gnu-efi).
 *
 * Reads \hvmon\hvmon.cfg, checks VT-x, loads hvmon.elf (boot/handoff.h), the
 * guest kernel and initrd, fills struct boot_info (boot/boot_info.h), exits
 * boot services and jumps into the vmm core through the 64-bit handoff. No
 * vmm logic here: the parsing, memory-map conversion and ELF checks are the
 * pure modules config.c, memmap.c and elfload.c (tested on the host).
 *
 * Every message goes to ConOut and to COM1 (unless ConOut already is a
 * serial console); after ExitBootServices only COM1 is left.
 */
#include <efi.h>
#include <efilib.h>

#include "boot/boot_info.h"
#include "boot/handoff.h"
#include "boot/uefi/config.h"
#include "boot/uefi/elfload.h"
#include "boot/uefi/memmap.h"
#include "boot/uefi/vtx.h"
#include "boot/uefi/tpm2.h"
#include "vmm/options.h"
#include "vmm/monitor.h"

#define TAG "hvmon.efi: "
#define BELOW_4G            0xffffffffULL
#define HANDOFF_STACK_SIZE  0x10000ULL      /* 64 KiB, reserved */
#define COM1                0x3f8
#define MAX_EBS_TRIES       8
#define PAGE_BYTES(n)       ((UINT64)EFI_SIZE_TO_PAGES(n) * EFI_PAGE_SIZE)

static EFI_HANDLE g_image;
static EFI_LOADED_IMAGE *g_loaded;
static EFI_FILE_HANDLE g_root;
static int g_mirror_serial = 1;
static int g_boot_services = 1;

/* ---- output ---------------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void serial_putc(char c)
{
	unsigned spins = 100000;          /* bounded: no UART reads 0xff */

	while (!(inb(COM1 + 5) & 0x20) && --spins)
		;
	outb(COM1, (uint8_t)c);
}

static void serial_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

/* Print to ConOut (with CRLF) and, when useful, to COM1. */
static void say(const CHAR16 *fmt, ...)
{
	static CHAR16 buf[1024], out[2048];
	va_list ap;
	UINTN i, o = 0;

	va_start(ap, fmt);
	VSPrint(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; buf[i] && o + 2 < sizeof(out) / sizeof(out[0]); i++) {
		if (buf[i] == L'\n')
			out[o++] = L'\r';
		out[o++] = buf[i];
	}
	out[o] = 0;
	if (g_boot_services)
		uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut, out);
	if (g_mirror_serial || !g_boot_services) {
		for (i = 0; out[i]; i++)
			serial_putc(out[i] < 0x80 ? (char)out[i] : '?');
	}
}

/* Is ConOut already a serial terminal? Then mirroring would print twice. */
static int conout_has_uart(void)
{
	UINTN size = 0;
	EFI_DEVICE_PATH *dp, *p;
	int uart = 0;

	dp = LibGetVariableAndSize(L"ConOut", &EfiGlobalVariable, &size);
	if (!dp)
		return 0;
	p = dp;
	while ((UINT8 *)p + sizeof(EFI_DEVICE_PATH) <= (UINT8 *)dp + size) {
		UINTN len = DevicePathNodeLength(p);

		if (DevicePathType(p) == MESSAGING_DEVICE_PATH &&
		    DevicePathSubType(p) == MSG_UART_DP)
			uart = 1;
		if (len < sizeof(EFI_DEVICE_PATH) ||
		    (DevicePathType(p) == END_DEVICE_PATH_TYPE &&
		     DevicePathSubType(p) == END_ENTIRE_DEVICE_PATH_SUBTYPE))
			break;
		p = (EFI_DEVICE_PATH *)((UINT8 *)p + len);
	}
	FreePool(dp);
	return uart;
}

static void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		__asm__ volatile("hlt");
}

/* Fail closed: no guest is started. The message stays on screen. */
static void __attribute__((noreturn)) fatal(void)
{
	say(L"" TAG "STOPPED: no guest was started. Fix the problem above and reset the machine.\n");
	if (g_boot_services)
		uefi_call_wrapper(BS->SetWatchdogTimer, 4, 0, 0, 0, NULL);
	halt_forever();
}

/* ---- files ----------------------------------------------------------------- */

static void to_char16(CHAR16 *dst, const char *src, UINTN max)
{
	UINTN i;

	for (i = 0; src[i] && i + 1 < max; i++)
		dst[i] = (CHAR16)(unsigned char)src[i];
	dst[i] = 0;
}

/* Open `path` on the boot partition and return its size. */
static EFI_STATUS open_file(const char *path, EFI_FILE_HANDLE *fh, UINT64 *size)
{
	CHAR16 wpath[UEFI_CFG_PATH_MAX];
	EFI_FILE_INFO *info;
	EFI_STATUS st;

	to_char16(wpath, path, UEFI_CFG_PATH_MAX);
	st = uefi_call_wrapper(g_root->Open, 5, g_root, fh, wpath, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	info = LibFileInfo(*fh);
	if (!info) {
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return EFI_DEVICE_ERROR;
	}
	if (info->Attribute & EFI_FILE_DIRECTORY) {
		FreePool(info);
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return EFI_NOT_FOUND;
	}
	*size = info->FileSize;
	FreePool(info);
	return EFI_SUCCESS;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE fh, void *buf, UINT64 size)
{
	UINT8 *p = buf;
	UINT64 done = 0;

	while (done < size) {
		UINTN chunk = size - done > 0x400000 ? 0x400000 : size - done;
		EFI_STATUS st = uefi_call_wrapper(fh->Read, 3, fh, &chunk, p + done);

		if (EFI_ERROR(st))
			return st;
		if (chunk == 0)
			return EFI_END_OF_FILE;
		done += chunk;
	}
	return EFI_SUCCESS;
}

/* Allocate pages below 4 GiB aligned to `align` (power of two >= 4 KiB). */
static EFI_STATUS alloc_aligned(UINT64 size, UINT64 align, EFI_MEMORY_TYPE type,
				UINT64 *out)
{
	UINTN pages = EFI_SIZE_TO_PAGES(size);
	UINTN extra = align > EFI_PAGE_SIZE ? EFI_SIZE_TO_PAGES(align) : 0;
	EFI_PHYSICAL_ADDRESS a = BELOW_4G;
	EFI_STATUS st;
	UINT64 aligned, head, tail;

	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, type,
			       pages + extra, &a);
	if (EFI_ERROR(st))
		return st;
	aligned = (a + align - 1) & ~(align - 1);
	head = (aligned - a) / EFI_PAGE_SIZE;
	tail = extra - head;
	if (head)
		uefi_call_wrapper(BS->FreePages, 2, a, head);
	if (tail)
		uefi_call_wrapper(BS->FreePages, 2, aligned + pages * EFI_PAGE_SIZE, tail);
	*out = aligned;
	return EFI_SUCCESS;
}

/* Read a whole file into fresh pages below 4 GiB. `what` names the config
 * key for the error message. */
static void load_file(const char *path, const char *what, struct boot_blob *blob)
{
	EFI_FILE_HANDLE fh;
	UINT64 size, addr;
	EFI_STATUS st;

	st = open_file(path, &fh, &size);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: cannot open the %a '%a' on the boot partition: %r\n"
		    L"" TAG "  (set '%a = <path>' in " UEFI_CFG_DEFAULT_PATH L" or copy the file there)\n",
		    what, path, st, what);
		fatal();
	}
	if (size == 0) {
		say(L"" TAG "ERROR: the %a '%a' is empty\n", what, path);
		fatal();
	}
	st = alloc_aligned(size, EFI_PAGE_SIZE, EfiLoaderData, &addr);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: not enough memory below 4 GiB for the %a '%a' (%ld KiB): %r\n",
		    what, path, size >> 10, st);
		fatal();
	}
	st = read_all(fh, (void *)addr, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: reading the %a '%a' failed: %r\n", what, path, st);
		fatal();
	}
	blob->base = addr;
	blob->size = size;
	say(L"" TAG "loaded %a '%a': %ld bytes at 0x%lx\n", what, path, size, addr);
}

/* ---- configuration (1/2) --------------------------------------------------------- */

static struct uefi_config g_cfg;

/* ---- TPM: measurements and the sealed event key (issue 17) ------------------
 * docs/SECURITY.md "TPM key source". When the firmware offers EFI_TCG2_PROTOCOL
 * (TCG EFI Protocol Specification 2.0), hvmon.efi extends PCR 9 with SHA-256
 * digests of hvmon.cfg and hvmon.elf as read (EV_IPL events in the firmware's
 * log), then, with `key_tpm = <path>`, unseals the event key sealed to a PCR
 * policy that includes PCR 9 (boot/uefi/tpm2.c marshals the commands), then
 * extends PCR 9 with a separator so the policy can never match again this boot:
 * the guest, which owns the TPM afterwards, cannot unseal the key. */
#define TCG2_GUID { 0x607f766c, 0x7455, 0x42be, { 0x93, 0x0b, 0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f } }
#define EV_SEPARATOR 0x4
#define EV_IPL       0xd
struct tcg2_event {
	UINT32 Size;
	UINT32 HeaderSize;      /* EFI_TCG2_EVENT_HEADER (packed) */
	UINT16 HeaderVersion;
	UINT32 PCRIndex;
	UINT32 EventType;
	UINT8 Event[64];
} __attribute__((packed));
struct tcg2 {
	EFI_STATUS (EFIAPI *GetCapability)(struct tcg2 *, void *);
	EFI_STATUS (EFIAPI *GetEventLog)(struct tcg2 *, UINT32, EFI_PHYSICAL_ADDRESS *,
					 EFI_PHYSICAL_ADDRESS *, BOOLEAN *);
	EFI_STATUS (EFIAPI *HashLogExtendEvent)(struct tcg2 *, UINT64, EFI_PHYSICAL_ADDRESS,
						UINT64, struct tcg2_event *);
	EFI_STATUS (EFIAPI *SubmitCommand)(struct tcg2 *, UINT32, UINT8 *, UINT32, UINT8 *);
};
static struct tcg2 *g_tcg2;
static UINT8 g_tpm_cmd[TPM2_CMD_MAX], g_tpm_resp[TPM2_RESP_MAX];
/* nonceCaller of the policy session: PolicyPCR and an HMAC-less Unseal do not
 * depend on its secrecy (no HMAC, no parameter encryption), so a constant */
static const UINT8 g_tpm_nonce[16] = "hvmon.efi nonce";

/* Send g_tpm_cmd[0..len) and return the response length (0 on a transport error). */
static UINT32 tpm_submit(UINT32 len)
{
	EFI_STATUS st;
	UINT32 n;

	int tries;

	if (!len)
		return 0;
	/* TPM_RC_RETRY, YIELDED, TESTING: send the command again (as a TSS does), 2 s at most */
	for (tries = 0; tries < 100; tries++) {
		SetMem(g_tpm_resp, sizeof(g_tpm_resp), 0);
		st = uefi_call_wrapper(g_tcg2->SubmitCommand, 5, g_tcg2, len, g_tpm_cmd,
				       (UINT32)sizeof(g_tpm_resp), g_tpm_resp);
		if (EFI_ERROR(st))
			return 0;
		n = (UINT32)g_tpm_resp[2] << 24 | (UINT32)g_tpm_resp[3] << 16 |
		    (UINT32)g_tpm_resp[4] << 8 | g_tpm_resp[5];
		if (n > sizeof(g_tpm_resp))
			return 0;
		if (!tpm2_rc_is_retry(tpm2_resp_rc(g_tpm_resp, n)))
			return n;
		uefi_call_wrapper(BS->Stall, 1, 20000);
	}
	return n;
}

static void tpm_flush(UINT32 handle)
{
	tpm_submit(tpm2_cmd_flush(g_tpm_cmd, sizeof(g_tpm_cmd), handle));
}

static EFI_STATUS tpm_extend(const char *what, const void *data, UINT64 len, UINT32 type)
{
	static struct tcg2_event ev;
	UINTN i;

	SetMem(&ev, sizeof(ev), 0);
	for (i = 0; what[i] && i < sizeof(ev.Event) - 1; i++)
		ev.Event[i] = (UINT8)what[i];
	ev.Size = (UINT32)(sizeof(ev) - sizeof(ev.Event) + i);
	ev.HeaderSize = 14;
	ev.HeaderVersion = 1;
	ev.PCRIndex = TPM2_HVMON_PCR;
	ev.EventType = type;
	return uefi_call_wrapper(g_tcg2->HashLogExtendEvent, 5, g_tcg2, 0,
				 (EFI_PHYSICAL_ADDRESS)(UINTN)data, len, &ev);
}

/* Load the sealed object, satisfy its PCR policy, unseal. The TPM's response
 * code (0 = the secret is in out[0..*n)). */
static const char *g_tpm_step = "";

static UINT32 tpm_try_unseal(const struct tpm2_blob *b, UINT8 *out, UINT32 cap, UINT32 *n)
{
	UINT32 item = 0, sess = 0, rc;

	g_tpm_step = "TPM2_Load";
	rc = tpm2_resp_handle(g_tpm_resp, tpm_submit(tpm2_cmd_load(g_tpm_cmd, sizeof(g_tpm_cmd),
						     TPM2_SRK_HANDLE, b)), &item);
	if (rc)
		return rc;
	g_tpm_step = "TPM2_StartAuthSession";
	rc = tpm2_resp_handle(g_tpm_resp, tpm_submit(tpm2_cmd_start_policy_session(g_tpm_cmd,
						     sizeof(g_tpm_cmd), g_tpm_nonce)), &sess);
	if (!rc) {
		g_tpm_step = "TPM2_PolicyPCR";
		rc = tpm2_resp_rc(g_tpm_resp, tpm_submit(tpm2_cmd_policy_pcr(g_tpm_cmd, sizeof(g_tpm_cmd),
								 sess, b->pcr_mask)));
	}
	if (!rc) {
		g_tpm_step = "TPM2_Unseal";
		rc = tpm2_resp_unseal(g_tpm_resp, tpm_submit(tpm2_cmd_unseal(g_tpm_cmd, sizeof(g_tpm_cmd),
							     item, sess, g_tpm_nonce)), out, cap, n);
	}
	SetMem(g_tpm_resp, sizeof(g_tpm_resp), 0);      /* held the secret */
	if (sess)
		tpm_flush(sess);        /* already gone after a successful Unseal: ignored */
	tpm_flush(item);
	return rc;
}

static void tpm_show_pcr(UINT32 pcr)
{
	static const char hex[] = "0123456789abcdef";
	UINT8 d[32];
	char t[65];
	UINT32 rc = tpm2_resp_pcr_read(g_tpm_resp, tpm_submit(tpm2_cmd_pcr_read(g_tpm_cmd,
								 sizeof(g_tpm_cmd), pcr)), d);
	int i;

	if (rc) {
		say(L"" TAG "TPM: PCR %d: read failed (0x%x %a)\n", pcr, rc, tpm2_rc_text(rc));
		return;
	}
	for (i = 0; i < 32; i++) {
		t[2 * i] = hex[d[i] >> 4];
		t[2 * i + 1] = hex[d[i] & 15];
	}
	t[64] = 0;
	say(L"" TAG "TPM: PCR %d sha256 %a\n", pcr, t);
}

static void __attribute__((noreturn)) tpm_fatal(const char *what, const char *why)
{
	say(L"" TAG "ERROR: key_tpm = %a: %a: %a\n"
	    L"" TAG "  the event key stays sealed; reseal it for this configuration with hvmon-tpm-seal"
	    L" (docs/SECURITY.md \"TPM key source\")\n", g_cfg.key_tpm, what, why);
	fatal();
}

/* The unsealed key text becomes the hvmon option key=... (never printed). */
static void tpm_take_key(UINT8 *sec, UINT32 n)
{
	UINTN o = 0, i;

	if (n < 16)
		tpm_fatal("the unsealed key", "shorter than 16 characters");
	for (i = 0; i < n; i++)
		if (sec[i] <= ' ' || sec[i] > '~')
			tpm_fatal("the unsealed key", "not printable text without blanks (seal the key file's text)");
	while (o < sizeof(g_cfg.hv_cmdline) && g_cfg.hv_cmdline[o])
		o++;
	if (o + 5 + n + 1 > sizeof(g_cfg.hv_cmdline))
		tpm_fatal("the unsealed key", "does not fit in the hvmon options");
	CopyMem(g_cfg.hv_cmdline + o, o ? " key=" : "key=", o ? 5 : 4);
	o += o ? 5 : 4;
	CopyMem(g_cfg.hv_cmdline + o, sec, n);
	g_cfg.hv_cmdline[o + n] = 0;
	SetMem(sec, n, 0);
}

/* Measure the configuration (buf, the file as read) and hvmon.elf into PCR 9,
 * unseal the key when key_tpm is set, close PCR 9. */
static void tpm_boot_step(const char *cfg, UINT64 cfg_len)
{
	static EFI_GUID guid = TCG2_GUID;
	static UINT8 secret[TPM2_SECRET_MAX];
	static const UINT8 separator[4];
	struct tpm2_blob blob;
	const char *why = NULL;
	EFI_FILE_HANDLE fh;
	EFI_STATUS st;
	UINT64 size = 0;
	UINT8 *elf = NULL, *kb = NULL;
	UINT32 n = 0, rc, pcr;

	st = uefi_call_wrapper(BS->LocateProtocol, 3, &guid, NULL, (void **)&g_tcg2);
	if (EFI_ERROR(st) || !g_tcg2) {
		g_tcg2 = NULL;
		if (g_cfg.key_tpm[0])
			tpm_fatal("no TPM 2.0", "the firmware offers no EFI_TCG2_PROTOCOL");
		return;                 /* no TPM: nothing measured (docs/SECURITY.md) */
	}
	st = tpm_extend("hvmon.efi: " UEFI_CFG_DEFAULT_PATH, cfg, cfg_len, EV_IPL);
	if (!EFI_ERROR(st)) {
		st = open_file(g_cfg.hvmon, &fh, &size);
		if (!EFI_ERROR(st)) {
			elf = AllocatePool(size ? size : 1);
			st = elf ? read_all(fh, elf, size) : EFI_OUT_OF_RESOURCES;
			uefi_call_wrapper(fh->Close, 1, fh);
		}
		if (!EFI_ERROR(st))
			st = tpm_extend("hvmon.efi: hvmon.elf", elf, size, EV_IPL);
		if (elf)
			FreePool(elf);
	}
	if (EFI_ERROR(st)) {
		if (g_cfg.key_tpm[0])
			tpm_fatal("measuring hvmon.cfg and hvmon.elf into PCR 9 failed", "see the firmware");
		say(L"" TAG "TPM: measuring into PCR 9 failed: %r (no key_tpm: going on)\n", st);
		return;
	}
	say(L"" TAG "TPM: PCR 9 extended with hvmon.cfg and %a (%ld bytes)\n", g_cfg.hvmon, size);
	for (pcr = 0; pcr <= TPM2_HVMON_PCR; pcr++)
		if ((1u << pcr) & ((1u << 0) | (1u << 2) | (1u << 4) | (1u << 7) | (1u << TPM2_HVMON_PCR)))
			tpm_show_pcr(pcr);
	if (g_cfg.key_tpm[0]) {
		st = open_file(g_cfg.key_tpm, &fh, &size);
		if (EFI_ERROR(st))
			tpm_fatal("cannot open the sealed key file", "not on the boot partition");
		if (size > 4096)
			tpm_fatal("the sealed key file", "larger than 4 KiB");
		kb = AllocatePool(size ? size : 1);
		st = kb ? read_all(fh, kb, size) : EFI_OUT_OF_RESOURCES;
		uefi_call_wrapper(fh->Close, 1, fh);
		if (EFI_ERROR(st))
			tpm_fatal("reading the sealed key file failed", "see the firmware");
		if (tpm2_blob_parse(kb, size, &blob, &why))
			tpm_fatal("the sealed key file", why);
		rc = tpm_try_unseal(&blob, secret, sizeof(secret), &n);
		if (rc) {
			say(L"" TAG "TPM: unseal refused: 0x%x %a (%a)\n", rc, tpm2_rc_text(rc), g_tpm_step);
			tpm_fatal("the TPM refused to unseal the key",
				  rc == TPM2_RC_POLICY_FAIL ? "hvmon.cfg, hvmon.elf, hvmon.efi or the firmware "
				  "changed since the key was sealed (the PCRs differ)" : tpm2_rc_text(rc));
		}
		tpm_take_key(secret, n);
		say(L"" TAG "TPM: event key unsealed (PCR mask 0x%x): key=<set>\n", blob.pcr_mask);
	}
	/* close PCR 9: nothing later (the guest) satisfies the policy again */
	st = tpm_extend("hvmon.efi: key sealed until the next boot", separator, sizeof(separator),
			EV_SEPARATOR);
	if (EFI_ERROR(st)) {
		SetMem(g_cfg.hv_cmdline, sizeof(g_cfg.hv_cmdline), 0);
		tpm_fatal("extending PCR 9 with the separator failed", "the key would stay unsealable");
	}
	if (g_cfg.key_tpm[0]) {
		rc = tpm_try_unseal(&blob, secret, sizeof(secret), &n);
		SetMem(secret, sizeof(secret), 0);
		if (!rc) {
			SetMem(g_cfg.hv_cmdline, sizeof(g_cfg.hv_cmdline), 0);
			tpm_fatal("PCR 9 was extended but the key still unseals", "refusing to go on");
		}
		say(L"" TAG "TPM: PCR 9 closed: a second unseal is refused (0x%x %a)\n", rc, tpm2_rc_text(rc));
		SetMem(kb, size, 0);
		FreePool(kb);
	}
}

/* ---- configuration (2/2) ---- */



static int unknown_option(const char *why)
{
	const char *u = "unknown option";

	while (*u && *why == *u)
		why++, u++;
	return *u == '\0' && *why == '\0';
}

/* Validate the hvmon options with hvmon's own parser (vmm/options.c, the
 * same code the core runs) so a bad value is reported here, with its line,
 * instead of being ignored by hvmon later. */
static void check_hv_options(void)
{
	static struct hv_options opt;
	static struct hv_opt_errors errs;
	static char summary[512];
	uint32_t i;

	const struct hv_opt_owner *owners[HV_MAX_MONITORS];
	hv_options_defaults(&opt);
	hv_options_set_owners(&opt, owners, hv_monitor_owners(owners, HV_MAX_MONITORS));
	if (hv_options_parse(g_cfg.hv_cmdline, sizeof(g_cfg.hv_cmdline), &opt, &errs) == 0) {
		hv_options_format(&opt, summary, sizeof(summary));
		say(L"" TAG "hvmon options in effect: %a\n", summary);
		return;
	}
	for (i = 0; i < errs.count; i++) {
		const char *w = errs.e[i].word;
		size_t kl = 0;

		while (w[kl] && w[kl] != '=')
			kl++;
		say(L"" TAG "ERROR: %a line %d: hvmon option '%a': %a%a\n", UEFI_CFG_DEFAULT_PATH,
		    uefi_config_key_line(&g_cfg, w, kl), w, errs.e[i].why,
		    unknown_option(errs.e[i].why) ?
		    " (neither an hvmon option nor a hvmon.efi key: kernel initrd cmdline hvmon no_vtx key_tpm; "
		    "hvmon's options are listed in docs/OPTIONS.md)" : "");
	}
	if (errs.dropped)
		say(L"" TAG "  (%d more errors not shown)\n", errs.dropped);
	fatal();
}

static void read_config(void)
{
	struct uefi_config_error err;
	EFI_FILE_HANDLE fh;
	UINT64 size;
	EFI_STATUS st;
	char *buf;

	st = open_file(UEFI_CFG_DEFAULT_PATH, &fh, &size);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: cannot open the configuration file %a on the boot partition: %r\n"
		    L"" TAG "  create it (at least one line 'kernel = \\hvmon\\vmlinuz'; see docs/UEFI.md)\n",
		    UEFI_CFG_DEFAULT_PATH, st);
		fatal();
	}
	if (size > 1024 * 1024) {
		say(L"" TAG "ERROR: %a: file is too large (%ld bytes, at most 1 MiB)\n",
		    UEFI_CFG_DEFAULT_PATH, size);
		fatal();
	}
	buf = AllocatePool(size + 1);
	if (!buf) {
		say(L"" TAG "ERROR: not enough memory to read %a\n", UEFI_CFG_DEFAULT_PATH);
		fatal();
	}
	st = read_all(fh, buf, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: reading %a failed: %r\n", UEFI_CFG_DEFAULT_PATH, st);
		fatal();
	}
	if (uefi_config_parse(buf, size, &g_cfg, &err)) {
		if (err.line)
			say(L"" TAG "ERROR: %a line %d: %a\n", UEFI_CFG_DEFAULT_PATH, err.line, err.msg);
		else
			say(L"" TAG "ERROR: %a: %a\n", UEFI_CFG_DEFAULT_PATH, err.msg);
		fatal();
	}
	tpm_boot_step(buf, size);        /* PCR 9, key_tpm (issue 17) */
	SetMem(buf, size, 0);            /* the file text holds key= (issue 17) */
	FreePool(buf);
	check_hv_options();
	say(L"" TAG "config %a: kernel=%a initrd=%a hvmon=%a no_vtx=%a\n",
	    UEFI_CFG_DEFAULT_PATH, g_cfg.kernel, g_cfg.initrd[0] ? g_cfg.initrd : "(none)",
	    g_cfg.hvmon, uefi_config_no_vtx_name(g_cfg.no_vtx));
	say(L"" TAG "guest cmdline: %a\n", g_cfg.cmdline);
	{
		static char shown[BOOT_CMDLINE_MAX];
		static char kt[8];
		CopyMem(shown, g_cfg.hv_cmdline, sizeof(shown));
		hv_options_redact(shown, sizeof(shown), kt, sizeof(kt));   /* key=<set> */
		SetMem(kt, sizeof(kt), 0);
		say(L"" TAG "hvmon options: %a\n", shown[0] ? shown : "(defaults)");
		SetMem(shown, sizeof(shown), 0);
	}
}

/* The guest's files must exist whatever happens next: check them before the
 * VT-x verdict so a typo is reported even where VT-x is missing. */
static void check_guest_files(void)
{
	EFI_FILE_HANDLE fh;
	UINT64 size;
	EFI_STATUS st;
	int i;

	for (i = 0; i < 2; i++) {
		const char *path = i ? g_cfg.initrd : g_cfg.kernel;
		const char *what = i ? "initrd" : "kernel";

		if (!path[0])
			continue;
		st = open_file(path, &fh, &size);
		if (EFI_ERROR(st)) {
			say(L"" TAG "ERROR: cannot open the %a '%a' on the boot partition: %r\n"
			    L"" TAG "  (set '%a = <path>' in " UEFI_CFG_DEFAULT_PATH L" or copy the file there)\n",
			    what, path, st, what);
			fatal();
		}
		uefi_call_wrapper(fh->Close, 1, fh);
		if (size == 0) {
			say(L"" TAG "ERROR: the %a '%a' is empty\n", what, path);
			fatal();
		}
	}
}

/* ---- no VT-x: boot the guest without hvmon --------------------------------- */

static void __attribute__((noreturn)) boot_unmonitored(const char *reason)
{
	static CHAR16 opts[BOOT_CMDLINE_MAX + UEFI_CFG_PATH_MAX + 16];
	CHAR16 wpath[UEFI_CFG_PATH_MAX];
	EFI_DEVICE_PATH *dp;
	EFI_HANDLE kimg = NULL;
	EFI_LOADED_IMAGE *kli;
	EFI_STATUS st;
	UINTN i, o = 0;
	int r;

	/* the guest runs now, in this memory: no copy of key= (from hvmon.cfg or
	 * unsealed from the TPM) may stay behind (issue 17) */
	SetMem(g_cfg.hv_cmdline, sizeof(g_cfg.hv_cmdline), 0);
	for (r = 0; r < 3; r++)
		say(L"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
	say(L"!!! " TAG "VT-x is not usable: %a\n", reason);
	say(L"!!! no_vtx = boot-unmonitored: booting the guest WITHOUT hvmon.\n");
	say(L"!!! THE GUEST IS NOT MONITORED: no process tracer, no hang/ret2usr/keylogger\n");
	say(L"!!! detection, no events. Set no_vtx = refuse to fail closed instead.\n");
	for (r = 0; r < 3; r++)
		say(L"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");

	to_char16(wpath, g_cfg.kernel, UEFI_CFG_PATH_MAX);
	dp = FileDevicePath(g_loaded->DeviceHandle, wpath);
	if (!dp) {
		say(L"" TAG "ERROR: not enough memory for the kernel's device path\n");
		fatal();
	}
	st = uefi_call_wrapper(BS->LoadImage, 6, FALSE, g_image, dp, NULL, 0, &kimg);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: the firmware cannot load '%a' as an EFI image: %r\n", g_cfg.kernel, st);
		if (st == EFI_SECURITY_VIOLATION || st == EFI_ACCESS_DENIED)
			say(L"" TAG "  Secure Boot rejects the unsigned kernel: sign it or disable Secure Boot\n");
		else
			say(L"" TAG "  boot-unmonitored needs a bzImage built with the EFI stub (CONFIG_EFI_STUB)\n");
		fatal();
	}
	st = uefi_call_wrapper(BS->HandleProtocol, 3, kimg, &LoadedImageProtocol, (void **)&kli);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: no LoadedImage protocol on the kernel image: %r\n", st);
		fatal();
	}
	/* load options: "initrd=<path> <cmdline>" for the kernel's EFI stub */
	if (g_cfg.initrd[0]) {
		const char *pre = "initrd=";

		for (i = 0; pre[i]; i++)
			opts[o++] = pre[i];
		for (i = 0; g_cfg.initrd[i]; i++)
			opts[o++] = (CHAR16)g_cfg.initrd[i];
		opts[o++] = L' ';
	}
	for (i = 0; g_cfg.cmdline[i]; i++)
		opts[o++] = (CHAR16)(unsigned char)g_cfg.cmdline[i];
	opts[o] = 0;
	kli->LoadOptions = opts;
	kli->LoadOptionsSize = (UINT32)((o + 1) * sizeof(CHAR16));
	say(L"" TAG "starting '%a' (unmonitored) with options: %s\n", g_cfg.kernel, opts);
	uefi_call_wrapper(BS->Stall, 1, 2000000);   /* let a person read the banner */
	st = uefi_call_wrapper(BS->StartImage, 3, kimg, NULL, NULL);
	say(L"" TAG "ERROR: the kernel returned to the firmware: %r\n", st);
	fatal();
}

/* ---- firmware tables ------------------------------------------------------- */

static uint64_t find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
	uint64_t v1 = 0;
	UINTN i;

	for (i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (!CompareGuid(&t->VendorGuid, &acpi20))
			return (uint64_t)t->VendorTable;
		if (!CompareGuid(&t->VendorGuid, &AcpiTableGuid))
			v1 = (uint64_t)t->VendorTable;
	}
	return v1;
}

static void find_framebuffer(struct boot_framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->LocateProtocol, 3, &GraphicsOutputProtocol, NULL, (void **)&gop);
	if (EFI_ERROR(st) || !gop || !gop->Mode || !gop->Mode->Info)
		return;
	mi = gop->Mode->Info;
	if (mi->PixelFormat == PixelBltOnly)
		return;
	fb->addr = gop->Mode->FrameBufferBase;
	fb->width = mi->HorizontalResolution;
	fb->height = mi->VerticalResolution;
	fb->pitch = mi->PixelsPerScanLine * 4;
	fb->bpp = 32;
	fb->type = 1;                   /* direct RGB (Multiboot2 framebuffer_type 1) */
}

/* ---- handoff --------------------------------------------------------------- */

static void __attribute__((noreturn)) jump_to_hvmon(uint64_t entry, uint64_t bi,
						    uint64_t base, uint64_t stack_top)
{
	__asm__ volatile("cli\n\t"
			 "cld\n\t"
			 "mov %0, %%rsp\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "push $0\n\t"          /* fake return address: as after a call */
			 "jmp *%1\n\t"
			 : : "r"(stack_top), "r"(entry), "D"(bi), "S"(base) : "memory");
	__builtin_unreachable();
}

/* Everything hvmon needs that must survive ExitBootServices lives here. */
struct boot_block {
	struct boot_info bi;
	char names[8][16];
};

static const char *keep_name(struct boot_block *bb, unsigned slot, const char *s)
{
	unsigned i;

	for (i = 0; s[i] && i + 1 < sizeof(bb->names[slot]); i++)
		bb->names[slot][i] = s[i];
	bb->names[slot][i] = '\0';
	return bb->names[slot];
}

/* EFI_RNG_PROTOCOL seed (get_rng_seed, below) */
static uint8_t g_rng_seed[32];          /* = sizeof(boot_info.rng_seed) */
static UINTN g_rng_seed_len;

static void __attribute__((noreturn)) boot_monitored(void)
{
	struct uefi_elf_plan plan;
	struct boot_block *bb;
	struct boot_info *bi;
	EFI_FILE_HANDLE fh;
	UINT64 size, base, bbaddr, stack;
	UINTN map_cap, map_size, key, dsize, tries;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *map;
	const char *why;
	void *elf;
	EFI_STATUS st;
	int rc;
	uint32_t bad;

	/* hvmon.elf */
	st = open_file(g_cfg.hvmon, &fh, &size);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: cannot open hvmon's image '%a' on the boot partition: %r\n"
		    L"" TAG "  (copy build/hvmon.elf there or set 'hvmon = <path>')\n", g_cfg.hvmon, st);
		fatal();
	}
	elf = AllocatePool(size);
	if (!elf) {
		say(L"" TAG "ERROR: not enough memory to read '%a' (%ld KiB)\n", g_cfg.hvmon, size >> 10);
		fatal();
	}
	st = read_all(fh, elf, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: reading '%a' failed: %r\n", g_cfg.hvmon, st);
		fatal();
	}
	if (uefi_elf_plan(elf, size, &plan, &why)) {
		say(L"" TAG "ERROR: '%a' is not a loadable hvmon image: %a\n", g_cfg.hvmon, why);
		fatal();
	}
	/* LoaderCode: OVMF may map LoaderData non-executable */
	st = alloc_aligned(plan.total, plan.align, EfiLoaderCode, &base);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: not enough memory below 4 GiB for hvmon: %ld MiB (image %ld KiB + heap %ld KiB) aligned to %ld KiB: %r\n",
		    (plan.total + (1 << 20) - 1) >> 20, plan.image_size >> 10, plan.heap_size >> 10,
		    plan.align >> 10, st);
		fatal();
	}
	uefi_elf_load(elf, &plan, (void *)base);
	FreePool(elf);
	say(L"" TAG "loaded hvmon '%a': %d segment(s), image %ld KiB + heap %ld KiB at 0x%lx, entry 0x%lx\n",
	    g_cfg.hvmon, plan.nr_load, plan.image_size >> 10, plan.heap_size >> 10, base,
	    base + plan.entry64_offset);

	/* boot_info and its strings, the handoff stack */
	st = alloc_aligned(sizeof(*bb), EFI_PAGE_SIZE, EfiLoaderData, &bbaddr);
	if (!EFI_ERROR(st))
		st = alloc_aligned(HANDOFF_STACK_SIZE, EFI_PAGE_SIZE, EfiLoaderData, &stack);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: not enough memory below 4 GiB for boot_info: %r\n", st);
		fatal();
	}
	bb = (struct boot_block *)bbaddr;
	ZeroMem(bb, sizeof(*bb));
	bi = &bb->bi;
	bi->version = BOOT_INFO_VERSION;
	bi->source = BOOT_SRC_UEFI;
	if (g_rng_seed_len == sizeof(bi->rng_seed)) {
		CopyMem(bi->rng_seed, g_rng_seed, sizeof(bi->rng_seed));
		bi->rng_seed_len = sizeof(bi->rng_seed);
	}
	/* hvmon.efi's data becomes guest RAM: no copy of the seed stays there */
	SetMem(g_rng_seed, sizeof(g_rng_seed), 0);
	CopyMem(bi->hv_cmdline, g_cfg.hv_cmdline, sizeof(bi->hv_cmdline));
	/* hvmon.efi's image and data become guest RAM: wipe its copy of the
	 * options (key=) now that boot_info has it (hvmon wipes any other copy of
	 * the key text from guest RAM before the first VM entry; issue 17) */
	SetMem(g_cfg.hv_cmdline, sizeof(g_cfg.hv_cmdline), 0);
	CopyMem(bi->guest_cmdline, g_cfg.cmdline, sizeof(bi->guest_cmdline));

	load_file(g_cfg.kernel, "kernel", &bi->guest_kernel);
	if (g_cfg.initrd[0])
		load_file(g_cfg.initrd, "initrd", &bi->guest_initrd);

	bi->acpi_rsdp = find_rsdp();
	find_framebuffer(&bi->fb);
	say(L"" TAG "ACPI RSDP: 0x%lx%a; framebuffer: 0x%lx %dx%d\n", bi->acpi_rsdp,
	    bi->acpi_rsdp ? "" : " (none: the firmware has no ACPI tables)",
	    bi->fb.addr, bi->fb.width, bi->fb.height);

	uefi_add_reserved(bi, base, PAGE_BYTES(plan.total),
			  keep_name(bb, 0, "image"));
	uefi_add_reserved(bi, bbaddr, PAGE_BYTES(sizeof(*bb)),
			  keep_name(bb, 1, "boot-data"));
	uefi_add_reserved(bi, stack, HANDOFF_STACK_SIZE, keep_name(bb, 2, "handoff-stack"));
	uefi_add_reserved(bi, bi->guest_kernel.base,
			  PAGE_BYTES(bi->guest_kernel.size),
			  keep_name(bb, 3, "guest-kernel"));
	/* The initrd is NOT reserved: the guest reads it in place (the core
	 * passes its address in boot_params and steers clear of it), as with a
	 * Multiboot2 module. The kernel is reserved: the core copies its payload
	 * into guest RAM and may read the original later (inference). */

	/* memory map buffer with slack: allocating it adds descriptors */
	map_size = 0;
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &key, &dsize, &dver);
	map_cap = map_size + 16 * (dsize ? dsize : sizeof(EFI_MEMORY_DESCRIPTOR));
	map = AllocatePool(map_cap);
	if (!map) {
		say(L"" TAG "ERROR: not enough memory for the memory map\n");
		fatal();
	}
	/* dry run while messages can still reach the screen */
	map_size = map_cap;
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &key, &dsize, &dver);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: GetMemoryMap failed: %r\n", st);
		fatal();
	}
	rc = uefi_memmap_to_boot(map, map_size, dsize, bi);
	if (!rc)
		rc = uefi_check_reserved(bi, &bad);
	if (rc) {
		say(L"" TAG "ERROR: %a\n", uefi_memmap_strerror(rc));
		fatal();
	}
	say(L"" TAG "memory map: %ld descriptors -> %d boot_info entries; %d hvmon-owned ranges\n",
	    map_size / dsize, bi->nr_mem, bi->nr_reserved);
	say(L"" TAG "exiting boot services; entering hvmon at 0x%lx (boot_info 0x%lx, phys_base 0x%lx)\n",
	    base + plan.entry64_offset, bbaddr, base);

	/* no boot-services calls that allocate from here on */
	for (tries = 0; tries < MAX_EBS_TRIES; tries++) {
		map_size = map_cap;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &key, &dsize, &dver);
		if (EFI_ERROR(st))
			break;
		st = uefi_call_wrapper(BS->ExitBootServices, 2, g_image, key);
		if (!EFI_ERROR(st))
			break;
	}
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: ExitBootServices failed after %ld tries: %r\n", tries, st);
		fatal();
	}
	g_boot_services = 0;
	rc = uefi_memmap_to_boot(map, map_size, dsize, bi);
	if (!rc)
		rc = uefi_check_reserved(bi, &bad);
	if (rc) {
		serial_puts(TAG "ERROR after ExitBootServices: ");
		serial_puts(uefi_memmap_strerror(rc));
		serial_puts("\n" TAG "STOPPED: no guest was started.\n");
		halt_forever();
	}
	serial_puts(TAG "boot services exited; jumping to hvmon\n");
	jump_to_hvmon(base + plan.entry64_offset, bbaddr, base, stack + HANDOFF_STACK_SIZE);
}

/* ---- a seed for hvmon's boot nonce ------------------------------------------ */

/* 32 bytes from the firmware's RNG (UEFI 2.5 section 37.5, default
 * algorithm): hvmon mixes them into its boot nonce, so the network channel
 * has a hardware-backed source even where RDRAND is hidden (issue 18). Asked
 * before the VT-x check so that the message shows on any machine. */
static void get_rng_seed(void)
{
	static EFI_GUID rng_guid = EFI_RNG_PROTOCOL_GUID;
	EFI_RNG_PROTOCOL *rng = NULL;
	EFI_STATUS rs = uefi_call_wrapper(BS->LocateProtocol, 3, &rng_guid, NULL, (void **)&rng);

	if (!EFI_ERROR(rs) && rng)
		rs = uefi_call_wrapper(rng->GetRNG, 4, rng, NULL, sizeof(g_rng_seed), g_rng_seed);
	if (!EFI_ERROR(rs) && rng) {
		g_rng_seed_len = sizeof(g_rng_seed);
		say(L"" TAG "EFI_RNG_PROTOCOL: %d bytes of seed for hvmon\n", (int)sizeof(g_rng_seed));
	} else {
		SetMem(g_rng_seed, sizeof(g_rng_seed), 0);
		say(L"" TAG "EFI_RNG_PROTOCOL: not available (%r); hvmon relies on RDRAND/RDSEED\n", rs);
	}
}

/* ---- entry ----------------------------------------------------------------- */

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_FILE_IO_INTERFACE *fs;
	struct uefi_vtx_status vs;
	EFI_STATUS st;

	InitializeLib(image, systab);
	g_image = image;
	g_mirror_serial = !conout_has_uart();
	say(L"\n" TAG "hvmon UEFI front end (boot_info v%d, handoff v%d)%a\n", BOOT_INFO_VERSION,
	    HV_HANDOFF_VERSION, g_mirror_serial ? ", messages mirrored to COM1" : "");

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&g_loaded);
	if (!EFI_ERROR(st))
		st = uefi_call_wrapper(BS->HandleProtocol, 3, g_loaded->DeviceHandle,
				       &FileSystemProtocol, (void **)&fs);
	if (!EFI_ERROR(st))
		st = uefi_call_wrapper(fs->OpenVolume, 2, fs, &g_root);
	if (EFI_ERROR(st)) {
		say(L"" TAG "ERROR: cannot open the partition hvmon.efi was loaded from: %r\n"
		    L"" TAG "  install hvmon.efi on a FAT EFI System Partition\n", st);
		fatal();
	}
	read_config();
	check_guest_files();
	get_rng_seed();

	uefi_vtx_probe(&vs);
	if (vs.ok) {
		say(L"" TAG "VT-x: usable (VMX, EPT, unrestricted guest; IA32_FEATURE_CONTROL=0x%lx)\n",
		    vs.feature_control);
		boot_monitored();
	}
	say(L"" TAG "VT-x is not usable: %a\n", vs.reason);
	if (g_cfg.no_vtx == UEFI_NO_VTX_BOOT_UNMONITORED)
		boot_unmonitored(vs.reason);
	say(L"" TAG "no_vtx = refuse: hvmon needs VT-x with EPT and unrestricted guest; the guest is NOT booted.\n"
	    L"" TAG "  (set 'no_vtx = boot-unmonitored' in " UEFI_CFG_DEFAULT_PATH L" to boot it without hvmon)\n");
	fatal();
	return EFI_UNSUPPORTED;
}
