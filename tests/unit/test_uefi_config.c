/* Unit tests for boot/uefi/config.c (the \hvmon\hvmon.cfg parser). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>

#include "boot/uefi/config.h"

static struct uefi_config cfg;
static struct uefi_config_error err;

/* Parse from an exact-size heap copy (no NUL after the data). */
static int parse(const char *text)
{
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, text, n);
	rc = uefi_config_parse(copy, n, &cfg, &err);
	free(copy);
	return rc;
}

static void expect_error(const char *text, uint32_t line, const char *needle)
{
	assert_int_equal(parse(text), -1);
	assert_int_equal(err.line, line);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_minimal_defaults(void **st)
{
	(void)st;
	assert_int_equal(parse("kernel = \\hvmon\\vmlinuz\n"), 0);
	assert_string_equal(cfg.kernel, "\\hvmon\\vmlinuz");
	assert_string_equal(cfg.initrd, "");
	assert_string_equal(cfg.hvmon, "\\hvmon\\hvmon.elf");
	assert_string_equal(cfg.cmdline, "");
	assert_string_equal(cfg.hv_cmdline, "");
	assert_int_equal(cfg.no_vtx, UEFI_NO_VTX_REFUSE);
}

static void test_full_file(void **st)
{
	(void)st;
	const char *text =
		"\xef\xbb\xbf# hvmon.cfg\r\n"
		"\r\n"
		"   # indented comment\r\n"
		"kernel=/boot/vmlinuz-6.1\r\n"
		"initrd =\tinitrd.img\r\n"
		"cmdline = console=ttyS0,115200 root=/dev/vda1 quiet  \r\n"
		"hvmon = \\\\hvmon\\\\hv.elf\r\n"
		"no_vtx = boot-unmonitored\r\n"
		"on_guest_crash = reset\r\n"
		"monitors = tracer,hang\r\n"
		"console = com2\r\n"
		"log = debug\r\n"
		"hang_timeout = 10\r\n"
		"ret2usr_action = kill\r\n"
		"keylogger_allow = sh,bash\r\n"
		"collector = 10.0.2.2:5555\r\n"
		"ip = dhcp\r\n"
		"key = 00112233445566778899aabbccddeeff\r\n"
		"net = 00:03.0";               /* last line without newline */

	assert_int_equal(parse(text), 0);
	assert_string_equal(cfg.kernel, "\\boot\\vmlinuz-6.1");
	assert_string_equal(cfg.initrd, "\\hvmon\\initrd.img");   /* relative -> \hvmon\ */
	assert_string_equal(cfg.hvmon, "\\hvmon\\hv.elf");       /* "\\" collapsed */
	assert_string_equal(cfg.cmdline, "console=ttyS0,115200 root=/dev/vda1 quiet");
	assert_int_equal(cfg.no_vtx, UEFI_NO_VTX_BOOT_UNMONITORED);
	/* hvmon options in file order, then the no_vtx policy */
	assert_string_equal(cfg.hv_cmdline,
		"on_guest_crash=reset monitors=tracer,hang console=com2 log=debug hang_timeout=10 "
		"ret2usr_action=kill keylogger_allow=sh,bash collector=10.0.2.2:5555 "
		"ip=dhcp key=00112233445566778899aabbccddeeff net=00:03.0 "
		"no_vtx=boot-unmonitored");
	assert_int_equal(cfg.nr_hv, 11);
	assert_string_equal(cfg.hv_key[0], "on_guest_crash");
	/* lines, for error messages about option values */
	assert_int_equal(uefi_config_key_line(&cfg, "kernel", 6), 4);
	assert_int_equal(uefi_config_key_line(&cfg, "no_vtx", 6), 8);
	assert_int_equal(uefi_config_key_line(&cfg, "log=debug", 3), 12);
	assert_int_equal(uefi_config_key_line(&cfg, "net", 3), 19);
	assert_int_equal(uefi_config_key_line(&cfg, "infer", 5), 0);
}

/* iommu= in hvmon.cfg reaches the core's option parser (the UEFI path honours it) */
static void test_iommu_passed_on(void **st)
{
	assert_int_equal(parse("kernel = k\niommu = required\n"), 0);
	assert_string_equal(cfg.hv_cmdline, "iommu=required");
}

static void test_quotes_keep_blanks(void **st)
{
	(void)st;
	assert_int_equal(parse("kernel = k\ncmdline = \"  a b  \"\n"), 0);
	assert_string_equal(cfg.cmdline, "  a b  ");
	assert_int_equal(parse("kernel = k\ncmdline =\n"), 0);    /* empty cmdline is fine */
	assert_string_equal(cfg.cmdline, "");
	assert_int_equal(parse("kernel = k\ncmdline = \"\"\n"), 0);
	assert_string_equal(cfg.cmdline, "");
}

/* key_tpm (issue 17): the sealed key's path; never together with key = ... */
static void test_key_tpm(void **st)
{
	(void)st;
	assert_int_equal(parse("kernel = k\nkey_tpm = key.tpm\ncollector = 10.0.2.2:5140\n"), 0);
	assert_string_equal(cfg.key_tpm, "\\hvmon\\key.tpm");
	assert_string_equal(cfg.hv_cmdline, "collector=10.0.2.2:5140");   /* not an hvmon option */
	assert_int_equal(parse("kernel = k\n"), 0);
	assert_string_equal(cfg.key_tpm, "");
	expect_error("kernel = k\nkey_tpm = \\hvmon\\key.tpm\nkey = 0011\n", 3,
		     "'key' and 'key_tpm' are both set");
	expect_error("kernel = k\nkey_tpm =\n", 2, "empty value for 'key_tpm'");
}

static void test_error_no_equals(void **st)
{
	(void)st;
	expect_error("# c\nkernel \\hvmon\\vmlinuz\n", 2, "expected 'key = value'");
}

/* Keys other than hvmon.efi's own are hvmon options, passed through (hvmon's
 * parser judges them); only their shape is checked here. */
static void test_other_keys_pass_through(void **st)
{
	(void)st;
	assert_int_equal(parse("kernel = k\ninfer = btf\nfuture_opt_2 = x\n"), 0);
	assert_string_equal(cfg.hv_cmdline, "infer=btf future_opt_2=x");
	expect_error("kernel = k\n\nker nal = x\n", 3, "invalid key 'ker nal' (keys are lower-case letters");
	expect_error("kernel = k\nLog = x\n", 2, "invalid key 'Log'");
	expect_error("kernel = k\nlog.level = x\n", 2, "invalid key 'log.level'");
	expect_error("kernel = k\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1\n", 2, "is too long (at most 31");
}

static void test_too_many_options(void **st)
{
	(void)st;
	char text[4096];
	size_t n = 0;
	int i;

	n += (size_t)sprintf(text + n, "kernel = k\n");
	for (i = 0; i < UEFI_CFG_HV_MAX; i++)
		n += (size_t)sprintf(text + n, "o%d = %d\n", i, i);
	assert_int_equal(parse(text), 0);
	assert_int_equal(cfg.nr_hv, UEFI_CFG_HV_MAX);
	sprintf(text + n, "one_more = 1\n");
	expect_error(text, UEFI_CFG_HV_MAX + 2, "too many hvmon options (at most 32)");
}

static void test_error_duplicate(void **st)
{
	(void)st;
	expect_error("kernel = a\nlog = info\nlog = debug\n", 3, "duplicate key 'log' (first set on line 2)");
	expect_error("kernel = a\ninitrd = i\n\ninitrd = j\n", 4, "duplicate key 'initrd' (first set on line 2)");
}

static void test_error_empty_value(void **st)
{
	(void)st;
	expect_error("kernel = k\ninitrd =   \n", 2, "empty value for 'initrd'");
	expect_error("kernel = k\nmonitors = \"\"\n", 2, "empty value for 'monitors'");
}

static void test_error_missing_key(void **st)
{
	(void)st;
	expect_error("= x\n", 1, "missing key before '='");
}

static void test_error_no_vtx(void **st)
{
	(void)st;
	expect_error("kernel = k\nno_vtx = ignore\n", 2, "no_vtx must be 'refuse' or 'boot-unmonitored', not 'ignore'");
	assert_int_equal(parse("kernel = k\nno_vtx = refuse\n"), 0);
	assert_int_equal(cfg.no_vtx, UEFI_NO_VTX_REFUSE);
	assert_string_equal(cfg.hv_cmdline, "no_vtx=refuse");
}

static void test_error_blank_in_hv_value(void **st)
{
	(void)st;
	expect_error("kernel = k\nmonitors = tracer hang\n", 2, "must not contain blanks");
}

static void test_error_quotes(void **st)
{
	(void)st;
	expect_error("kernel = k\ncmdline = \"abc\n", 2, "unterminated quote");
	expect_error("kernel = k\ncmdline = \"a\"b\"\n", 2, "stray '\"'");
	expect_error("kernel = \"\n", 1, "unterminated quote");
}

static void test_error_control_char(void **st)
{
	(void)st;
	static const char text[] = "kernel = k\nlog = de\x01" "bug\n";

	assert_int_equal(uefi_config_parse(text, sizeof(text) - 1, &cfg, &err), -1);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "control character (byte 0x01) in column 9"));
	/* a NUL byte inside the file is a control character too */
	static const char nul[] = "kernel = k\0x\n";
	assert_int_equal(uefi_config_parse(nul, sizeof(nul) - 1, &cfg, &err), -1);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "byte 0x00"));
}

static void test_error_kernel_required(void **st)
{
	(void)st;
	expect_error("# nothing\ninitrd = i\n", 0, "missing required key 'kernel'");
	expect_error("", 0, "missing required key 'kernel'");
}

static void test_error_utf16(void **st)
{
	(void)st;
	static const char text[] = "\xff\xfek\0e\0r\0";

	assert_int_equal(uefi_config_parse(text, sizeof(text) - 1, &cfg, &err), -1);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.msg, "UTF-16"));
}

static void test_error_folder_path(void **st)
{
	(void)st;
	expect_error("kernel = /hvmon/\n", 1, "must name a file, not a folder");
}

static void test_error_lengths(void **st)
{
	(void)st;
	char *text = malloc(UEFI_CFG_LINE_MAX + 64);
	size_t n;

	/* path: 255 bytes fit, 256 do not */
	n = (size_t)sprintf(text, "kernel = \\");
	memset(text + n, 'a', UEFI_CFG_PATH_MAX - 2);
	text[n + UEFI_CFG_PATH_MAX - 2] = '\0';
	assert_int_equal(parse(text), 0);
	assert_int_equal(strlen(cfg.kernel), UEFI_CFG_PATH_MAX - 1);
	strcat(text, "a");
	expect_error(text, 1, "path of 'kernel' is too long");

	/* cmdline: BOOT_CMDLINE_MAX - 1 characters fit */
	n = (size_t)sprintf(text, "kernel = k\ncmdline = ");
	memset(text + n, 'c', BOOT_CMDLINE_MAX - 1);
	text[n + BOOT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(parse(text), 0);
	assert_int_equal(strlen(cfg.cmdline), BOOT_CMDLINE_MAX - 1);
	strcat(text, "c");
	expect_error(text, 2, "cmdline is too long");

	/* line longer than UEFI_CFG_LINE_MAX */
	n = (size_t)sprintf(text, "kernel = k\n#");
	memset(text + n, '#', UEFI_CFG_LINE_MAX);
	text[n + UEFI_CFG_LINE_MAX] = '\0';
	expect_error(text, 2, "line is too long");
	free(text);
}

static void test_error_hv_total_too_long(void **st)
{
	(void)st;
	/* 11 options with a 200-byte value: > BOOT_CMDLINE_MAX in total */
	size_t cap = 64 * 1024, n = 0, i;
	char *text = malloc(cap);

	n += (size_t)sprintf(text + n, "kernel = k\n");
	for (i = 0; i < 11; i++) {
		n += (size_t)sprintf(text + n, "opt%zu = ", i);
		memset(text + n, 'v', 200);
		n += 200;
		text[n++] = '\n';
	}
	text[n] = '\0';
	assert_int_equal(parse(text), -1);
	assert_true(err.line >= 2);
	assert_non_null(strstr(err.msg, "hvmon options are too long in total"));
	free(text);
}

static void test_message_is_printable(void **st)
{
	(void)st;
	size_t i;

	expect_error("kernel = k\n\xc3\xa9t\xc3\xa9 = 1\n", 2, "invalid key '");
	for (i = 0; err.msg[i]; i++)
		assert_true(err.msg[i] >= 0x20 && err.msg[i] < 0x7f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_iommu_passed_on),
		cmocka_unit_test(test_quotes_keep_blanks),
		cmocka_unit_test(test_error_no_equals),
		cmocka_unit_test(test_key_tpm),
		cmocka_unit_test(test_other_keys_pass_through),
		cmocka_unit_test(test_too_many_options),
		cmocka_unit_test(test_error_duplicate),
		cmocka_unit_test(test_error_empty_value),
		cmocka_unit_test(test_error_missing_key),
		cmocka_unit_test(test_error_no_vtx),
		cmocka_unit_test(test_error_blank_in_hv_value),
		cmocka_unit_test(test_error_quotes),
		cmocka_unit_test(test_error_control_char),
		cmocka_unit_test(test_error_kernel_required),
		cmocka_unit_test(test_error_utf16),
		cmocka_unit_test(test_error_folder_path),
		cmocka_unit_test(test_error_lengths),
		cmocka_unit_test(test_error_hv_total_too_long),
		cmocka_unit_test(test_message_is_printable),
	};
	return cmocka_run_group_tests_name("uefi_config", tests, NULL, NULL);
}
