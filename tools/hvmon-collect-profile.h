/*
 * hvmon-collect --make-profile (issue 18): the boot_config hashes an
 * operator can expect, computed from the files deployed, without booting.
 * Each function reproduces what hvmon measures at boot (vmm/measure.c):
 *  - hvmon_sha256: SHA-256 of hvmon.elf's loaded .text+.rodata, i.e. the
 *    memory image from the first PT_LOAD segment's start (__image_start)
 *    to __ro_end (the end of the last allocated read-only section), built
 *    from the program headers as a loader does (file bytes, zeros past
 *    p_filesz); works on a stripped image (section headers suffice);
 *  - kernel_sha256 / initrd_sha256: SHA-256 of the file as the loader put it
 *    in memory: as is under UEFI; under GRUB (Multiboot2 module2) a gzip or
 *    xz file is decompressed first, as GRUB's file filters do;
 *  - options_sha256 / monitors: the effective-options summary hvmon formats
 *    (vmm/options.c) from the same option words, and the monitors it turns on.
 * All return 0, or -1 with a message in err.
 */
#ifndef HVMON_COLLECT_PROFILE_H
#define HVMON_COLLECT_PROFILE_H
#include <stddef.h>
#include <stdint.h>

#define PROF_LOADER_MULTIBOOT2 1   /* = the boot_config "loader" codes */
#define PROF_LOADER_UEFI       2

int prof_hvmon_sha256(const uint8_t *elf, size_t len, char out[65], char *err, size_t errsz);
/* data[0..len) as the loader places it: decompressed (gzip, xz) under GRUB */
int prof_module_sha256(const uint8_t *data, size_t len, int loader, char out[65], char *err, size_t errsz);
/* options: hvmon's option words; summary (if not NULL, size sumsz) gets the
 * effective-options line; monitors (size monsz) the monitors they turn on, as
 * a comma list of names ("" for none) */
int prof_options(const char *options, char out[65], char *monitors, size_t monsz, char *summary,
		 size_t sumsz, char *err, size_t errsz);
/* read a whole file (malloc'd, caller frees) */
uint8_t *prof_read_file(const char *path, size_t *len, char *err, size_t errsz);

#endif
