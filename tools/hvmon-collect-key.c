#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tools/hvmon-collect-key.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int key_parse(const char *t, size_t len, uint8_t key[32], char *err, size_t errsz)
{
	size_t i = 0, nd = 0;

	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	for (; i < len && hexval(t[i]) >= 0; i++, nd++) {
		if (nd < 64)
			key[nd / 2] = (uint8_t)((nd & 1) ? (key[nd / 2] | hexval(t[i])) : hexval(t[i]) << 4);
	}
	size_t j = i;
	while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
		j++;
	if (j < len) {
		snprintf(err, errsz, "unexpected character 0x%02x at offset %zu (expected 64 hexadecimal digits)",
			 (unsigned char)t[j], j);
		return -1;
	}
	if (nd != 64) {
		snprintf(err, errsz, "expected 64 hexadecimal digits (32 bytes), found %zu", nd);
		return -1;
	}
	return 0;
}

int key_load(const char *path, uint8_t key[32], char *err, size_t errsz)
{
	char buf[512], e2[160];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		snprintf(err, errsz, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == sizeof(buf)) {
		snprintf(err, errsz, "key file %s: too large (expected 64 hexadecimal digits)", path);
		return -1;
	}
	if (key_parse(buf, n, key, e2, sizeof(e2))) {
		snprintf(err, errsz, "key file %s: %s", path, e2);
		return -1;
	}
	return 0;
}

int key_generate(const char *path, char *err, size_t errsz)
{
	uint8_t k[32];
	char hex[66];
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, k, sizeof(k)) != (ssize_t)sizeof(k)) {
		snprintf(err, errsz, "/dev/urandom: %s", strerror(errno));
		if (fd >= 0) close(fd);
		return -1;
	}
	close(fd);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	hex[64] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		snprintf(err, errsz, "--genkey %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, hex, 65) != 65) {
		snprintf(err, errsz, "--genkey %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
