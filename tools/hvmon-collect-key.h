/* hvmon-collect key files: 64 hexadecimal digits (32 bytes), optional
 * surrounding whitespace, nothing else. Shared by the collector and the
 * simulator (hvmon-collect-sim). */
#ifndef HVMON_COLLECT_KEY_H
#define HVMON_COLLECT_KEY_H
#include <stddef.h>
#include <stdint.h>
int key_parse(const char *text, size_t len, uint8_t key[32], char *err, size_t errsz);
int key_load(const char *path, uint8_t key[32], char *err, size_t errsz);
int key_generate(const char *path, char *err, size_t errsz);
#endif
