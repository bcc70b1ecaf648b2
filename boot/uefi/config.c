/*
 * hvmon.cfg parser (see config.h for the format). Freestanding: no libc, so
 * the same object links into hvmon.efi and into host tests.
 */
#include "boot/uefi/config.h"

/* Keys of the loader itself; the hv keys follow them in the "seen" table. */
enum { K_KERNEL, K_INITRD, K_CMDLINE, K_HVMON, K_NO_VTX, K_KEY_TPM, NR_LOADER_KEYS };
static const char *const loader_keys[NR_LOADER_KEYS] = {
	"kernel", "initrd", "cmdline", "hvmon", "no_vtx", "key_tpm",
};
_Static_assert(NR_LOADER_KEYS == 6, "uefi_config.loader_line");

/* ---- tiny string helpers (no libc) ---------------------------------------- */

static size_t c_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Does [s, s+n) equal the NUL-terminated word w? */
static int c_eqn(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i] == '\0' || w[i] != s[i])
			return 0;
	return w[n] == '\0';
}

static void c_zero(void *p, size_t n)
{
	volatile char *c = p;

	while (n--)
		*c++ = 0;
}

/* Message builder: appends to a fixed buffer, always NUL terminated. */
struct msgbuf {
	char *buf;
	size_t cap, len;
};

static void mb_putn(struct msgbuf *m, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && m->len + 1 < m->cap; i++) {
		unsigned char c = (unsigned char)s[i];
		/* keep messages printable whatever the file held */
		m->buf[m->len++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	m->buf[m->len] = '\0';
}

static void mb_puts(struct msgbuf *m, const char *s)
{
	mb_putn(m, s, c_strlen(s));
}

static void mb_putu(struct msgbuf *m, uint64_t v)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i--)
		mb_putn(m, &tmp[i], 1);
}

/* Quote at most 40 bytes of user text in messages. */
static void mb_quote(struct msgbuf *m, const char *s, size_t n)
{
	mb_puts(m, "'");
	if (n > 40) {
		mb_putn(m, s, 37);
		mb_puts(m, "...");
	} else {
		mb_putn(m, s, n);
	}
	mb_puts(m, "'");
}

struct parser {
	struct uefi_config *cfg;
	struct uefi_config_error *err;
	struct msgbuf m;
	uint32_t line;
	uint32_t seen[NR_LOADER_KEYS];   /* line where each key was set, 0 = unset */
	const char *hv_val[UEFI_CFG_HV_MAX];  /* hvmon option values, file order */
	size_t hv_len[UEFI_CFG_HV_MAX];
};

static struct msgbuf *fail(struct parser *p, uint32_t line)
{
	p->err->line = line;
	p->m.buf = p->err->msg;
	p->m.cap = sizeof(p->err->msg);
	p->m.len = 0;
	p->err->msg[0] = '\0';
	return &p->m;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Store a path: '/' becomes '\', a relative path is taken from \hvmon\. */
static int set_path(struct parser *p, char *dst, const char *key,
		    const char *v, size_t n)
{
	size_t o = 0, i;

	if (v[0] != '/' && v[0] != '\\') {
		const char *dir = UEFI_CFG_DEFAULT_DIR;

		while (*dir)
			dst[o++] = *dir++;
	}
	if (o + n + 1 > UEFI_CFG_PATH_MAX) {
		struct msgbuf *m = fail(p, p->line);

		mb_puts(m, "path of '");
		mb_puts(m, key);
		mb_puts(m, "' is too long (at most ");
		mb_putu(m, UEFI_CFG_PATH_MAX - 1);
		mb_puts(m, " characters)");
		return -1;
	}
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c == '/')
			c = '\\';
		if (c == '\\' && o > 0 && dst[o - 1] == '\\')
			continue;        /* collapse "\\" */
		dst[o++] = c;
	}
	if (dst[o - 1] == '\\') {
		struct msgbuf *m = fail(p, p->line);

		mb_puts(m, "'");
		mb_puts(m, key);
		mb_puts(m, "' must name a file, not a folder: ");
		mb_quote(m, v, n);
		return -1;
	}
	dst[o] = '\0';
	return 0;
}

static int loader_key(const char *k, size_t n)
{
	int i;

	for (i = 0; i < NR_LOADER_KEYS; i++)
		if (c_eqn(k, n, loader_keys[i]))
			return i;
	return -1;
}

static int hv_key_index(const struct uefi_config *cfg, const char *k, size_t n)
{
	uint32_t i;

	for (i = 0; i < cfg->nr_hv; i++)
		if (c_eqn(k, n, cfg->hv_key[i]))
			return (int)i;
	return -1;
}

static const char *key_name(const struct parser *p, int idx)
{
	return idx < NR_LOADER_KEYS ? loader_keys[idx] : p->cfg->hv_key[idx - NR_LOADER_KEYS];
}

static int valid_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int parse_line(struct parser *p, const char *s, size_t n)
{
	struct msgbuf *m;
	size_t i = 0, ks, ke, vs, ve;
	int idx;

	/* control characters are never valid (tab is a blank) */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			m = fail(p, p->line);
			mb_puts(m, "control character (byte 0x");
			mb_putn(m, &"0123456789abcdef"[c >> 4], 1);
			mb_putn(m, &"0123456789abcdef"[c & 15], 1);
			mb_puts(m, ") in column ");
			mb_putu(m, i + 1);
			mb_puts(m, "; the file must be plain text");
			return -1;
		}
	}
	for (i = 0; i < n && is_blank(s[i]); i++)
		;
	if (i == n || s[i] == '#')
		return 0;                         /* blank line or comment */
	ks = i;
	while (i < n && s[i] != '=')
		i++;
	if (i == n) {
		m = fail(p, p->line);
		mb_puts(m, "expected 'key = value', found ");
		mb_quote(m, s + ks, n - ks);
		return -1;
	}
	ke = i;
	while (ke > ks && is_blank(s[ke - 1]))
		ke--;
	if (ke == ks) {
		m = fail(p, p->line);
		mb_puts(m, "missing key before '='");
		return -1;
	}
	for (vs = i + 1; vs < n && is_blank(s[vs]); vs++)
		;
	for (ve = n; ve > vs && is_blank(s[ve - 1]); ve--)
		;
	idx = loader_key(s + ks, ke - ks);
	if (idx >= 0) {
		if (p->seen[idx]) {
			m = fail(p, p->line);
			mb_puts(m, "duplicate key '");
			mb_puts(m, loader_keys[idx]);
			mb_puts(m, "' (first set on line ");
			mb_putu(m, p->seen[idx]);
			mb_puts(m, ")");
			return -1;
		}
		p->seen[idx] = p->line;
	} else {
		/* an hvmon option: checked later by hvmon's own parser */
		int slot;

		for (i = ks; i < ke; i++) {
			if (!valid_key_char(s[i])) {
				m = fail(p, p->line);
				mb_puts(m, "invalid key ");
				mb_quote(m, s + ks, ke - ks);
				mb_puts(m, " (keys are lower-case letters, digits and '_')");
				return -1;
			}
		}
		if (ke - ks >= UEFI_CFG_KEY_MAX) {
			m = fail(p, p->line);
			mb_puts(m, "key ");
			mb_quote(m, s + ks, ke - ks);
			mb_puts(m, " is too long (at most ");
			mb_putu(m, UEFI_CFG_KEY_MAX - 1);
			mb_puts(m, " characters)");
			return -1;
		}
		slot = hv_key_index(p->cfg, s + ks, ke - ks);
		if (slot >= 0) {
			m = fail(p, p->line);
			mb_puts(m, "duplicate key '");
			mb_puts(m, p->cfg->hv_key[slot]);
			mb_puts(m, "' (first set on line ");
			mb_putu(m, p->cfg->hv_line[slot]);
			mb_puts(m, ")");
			return -1;
		}
		if (p->cfg->nr_hv >= UEFI_CFG_HV_MAX) {
			m = fail(p, p->line);
			mb_puts(m, "too many hvmon options (at most ");
			mb_putu(m, UEFI_CFG_HV_MAX);
			mb_puts(m, ")");
			return -1;
		}
		slot = (int)p->cfg->nr_hv++;
		for (i = 0; i < ke - ks; i++)
			p->cfg->hv_key[slot][i] = s[ks + i];
		p->cfg->hv_key[slot][i] = '\0';
		p->cfg->hv_line[slot] = p->line;
		idx = NR_LOADER_KEYS + slot;
	}
	if (ve > vs && s[vs] == '"') {
		if (ve - vs < 2 || s[ve - 1] != '"') {
			m = fail(p, p->line);
			mb_puts(m, "unterminated quote in the value of '");
			mb_puts(m, key_name(p, idx));
			mb_puts(m, "'");
			return -1;
		}
		vs++;
		ve--;
		for (i = vs; i < ve; i++) {
			if (s[i] == '"') {
				m = fail(p, p->line);
				mb_puts(m, "stray '\"' inside the quoted value of '");
				mb_puts(m, key_name(p, idx));
				mb_puts(m, "' (no escapes are supported)");
				return -1;
			}
		}
	}
	if (ve == vs && idx != K_CMDLINE) {
		m = fail(p, p->line);
		mb_puts(m, "empty value for '");
		mb_puts(m, key_name(p, idx));
		mb_puts(m, "'");
		return -1;
	}
	switch (idx) {
	case K_KERNEL:
		return set_path(p, p->cfg->kernel, "kernel", s + vs, ve - vs);
	case K_INITRD:
		return set_path(p, p->cfg->initrd, "initrd", s + vs, ve - vs);
	case K_HVMON:
		return set_path(p, p->cfg->hvmon, "hvmon", s + vs, ve - vs);
	case K_KEY_TPM:
		return set_path(p, p->cfg->key_tpm, "key_tpm", s + vs, ve - vs);
	case K_CMDLINE:
		if (ve - vs >= BOOT_CMDLINE_MAX) {
			m = fail(p, p->line);
			mb_puts(m, "cmdline is too long (at most ");
			mb_putu(m, BOOT_CMDLINE_MAX - 1);
			mb_puts(m, " characters)");
			return -1;
		}
		for (i = 0; i < ve - vs; i++)
			p->cfg->cmdline[i] = s[vs + i];
		p->cfg->cmdline[i] = '\0';
		return 0;
	case K_NO_VTX:
		if (c_eqn(s + vs, ve - vs, "refuse")) {
			p->cfg->no_vtx = UEFI_NO_VTX_REFUSE;
		} else if (c_eqn(s + vs, ve - vs, "boot-unmonitored")) {
			p->cfg->no_vtx = UEFI_NO_VTX_BOOT_UNMONITORED;
		} else {
			m = fail(p, p->line);
			mb_puts(m, "no_vtx must be 'refuse' or 'boot-unmonitored', not ");
			mb_quote(m, s + vs, ve - vs);
			return -1;
		}
		return 0;
	default:
		/* an hvmon option: one word of hv_cmdline */
		for (i = vs; i < ve; i++) {
			if (is_blank(s[i])) {
				m = fail(p, p->line);
				mb_puts(m, "the value of '");
				mb_puts(m, key_name(p, idx));
				mb_puts(m, "' must not contain blanks (use ',' to separate list items)");
				return -1;
			}
		}
		p->hv_val[idx - NR_LOADER_KEYS] = s + vs;
		p->hv_len[idx - NR_LOADER_KEYS] = ve - vs;
		return 0;
	}
}

/* Append " key=value" (no leading blank for the first word). */
static int put_word(struct parser *p, size_t *o, const char *k, size_t kl,
		   const char *v, size_t vl, uint32_t line)
{
	char *out = p->cfg->hv_cmdline;
	size_t j;

	if (*o + (*o ? 1 : 0) + kl + 1 + vl + 1 > BOOT_CMDLINE_MAX) {
		struct msgbuf *m = fail(p, line);

		mb_puts(m, "hvmon options are too long in total (at most ");
		mb_putu(m, BOOT_CMDLINE_MAX - 1);
		mb_puts(m, " characters as key=value words)");
		return -1;
	}
	if (*o)
		out[(*o)++] = ' ';
	for (j = 0; j < kl; j++)
		out[(*o)++] = k[j];
	out[(*o)++] = '=';
	for (j = 0; j < vl; j++)
		out[(*o)++] = v[j];
	out[*o] = '\0';
	return 0;
}

static int build_hv_cmdline(struct parser *p)
{
	struct uefi_config *cfg = p->cfg;
	size_t o = 0, i;

	cfg->hv_cmdline[0] = '\0';
	for (i = 0; p->seen[K_KEY_TPM] && i < cfg->nr_hv; i++)
		if (c_eqn(cfg->hv_key[i], c_strlen(cfg->hv_key[i]), "key")) {
			struct msgbuf *m = fail(p, cfg->hv_line[i]);

			mb_puts(m, "'key' and 'key_tpm' are both set: the event key comes from the TPM "
				"(key_tpm) or from this file (key), not both");
			return -1;
		}
	for (i = 0; i < cfg->nr_hv; i++)
		if (put_word(p, &o, cfg->hv_key[i], c_strlen(cfg->hv_key[i]),
			     p->hv_val[i], p->hv_len[i], cfg->hv_line[i]))
			return -1;
	if (p->seen[K_NO_VTX]) {
		/* hvmon's option parser knows no_vtx too: pass the policy on */
		const char *nv = uefi_config_no_vtx_name(cfg->no_vtx);

		if (put_word(p, &o, "no_vtx", 6, nv, c_strlen(nv), p->seen[K_NO_VTX]))
			return -1;
	}
	for (i = 0; i < NR_LOADER_KEYS; i++)
		cfg->loader_line[i] = p->seen[i];
	return 0;
}

uint32_t uefi_config_key_line(const struct uefi_config *cfg, const char *key,
			      size_t key_len)
{
	int i = loader_key(key, key_len);

	if (i >= 0)
		return cfg->loader_line[i];
	i = hv_key_index(cfg, key, key_len);
	return i < 0 ? 0 : cfg->hv_line[i];
}

int uefi_config_parse(const char *buf, size_t len, struct uefi_config *cfg,
		      struct uefi_config_error *err)
{
	struct parser p;
	size_t pos = 0;
	const char *dflt = UEFI_CFG_DEFAULT_ELF;
	size_t i;

	c_zero(&p, sizeof(p));
	c_zero(cfg, sizeof(*cfg));
	c_zero(err, sizeof(*err));
	p.cfg = cfg;
	p.err = err;
	for (i = 0; dflt[i]; i++)
		cfg->hvmon[i] = dflt[i];

	if (len >= 2 && (((unsigned char)buf[0] == 0xff && (unsigned char)buf[1] == 0xfe) ||
			 ((unsigned char)buf[0] == 0xfe && (unsigned char)buf[1] == 0xff))) {
		mb_puts(fail(&p, 0), "the file is UTF-16; save it as plain ASCII/UTF-8 text");
		return -1;
	}
	if (len >= 3 && (unsigned char)buf[0] == 0xef && (unsigned char)buf[1] == 0xbb &&
	    (unsigned char)buf[2] == 0xbf)
		pos = 3;                 /* UTF-8 byte order mark */

	while (pos < len) {
		size_t start = pos, end;

		if (p.line == UINT32_MAX - 1) {
			mb_puts(fail(&p, p.line), "too many lines");
			return -1;
		}
		p.line++;
		while (pos < len && buf[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++;           /* skip '\n' */
		if (end > start && buf[end - 1] == '\r')
			end--;
		if (end - start > UEFI_CFG_LINE_MAX) {
			struct msgbuf *m = fail(&p, p.line);

			mb_puts(m, "line is too long (at most ");
			mb_putu(m, UEFI_CFG_LINE_MAX);
			mb_puts(m, " characters)");
			return -1;
		}
		if (parse_line(&p, buf + start, end - start))
			return -1;
	}
	if (!p.seen[K_KERNEL]) {
		mb_puts(fail(&p, 0), "missing required key 'kernel' (the guest kernel, e.g. kernel = \\hvmon\\vmlinuz)");
		return -1;
	}
	return build_hv_cmdline(&p);
}

const char *uefi_config_no_vtx_name(uint32_t no_vtx)
{
	return no_vtx == UEFI_NO_VTX_BOOT_UNMONITORED ? "boot-unmonitored" : "refuse";
}
