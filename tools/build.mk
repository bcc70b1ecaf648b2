# tools/build.mk — third-party libraries for ring -1 built by tools/ scripts (owner: infra).
#
# newlib (Debian newlib-source 3.3.0) built freestanding by tools/build-newlib.sh into
# third_party/build/newlib/{include,lib/libc.a}. Ring -1 code gets its headers through
# -isystem, and hvmon.elf links libc.a LAST (after every other HV_LIBS archive, so lwIP,
# mbedTLS, ... can use it), followed by -lgcc. The syscall glue (_write, _sbrk, _read,
# _close, _lseek, _fstat, _isatty) is hvmon's own (lib/newlib_glue.c).

NEWLIB_DIR  := $(TPBUILD)/newlib
NEWLIB_INC  := $(NEWLIB_DIR)/include
NEWLIB_LIBC := $(NEWLIB_DIR)/lib/libc.a

HV_CFLAGS += -isystem $(NEWLIB_INC)

# Target-specific append: evaluated when the link runs, after all fragments were read,
# so libc.a ends up after every archive other fragments add to HV_LIBS.
$(BUILD)/hvmon.elf: HV_LIBS += $(NEWLIB_LIBC)
$(BUILD)/hvmon.elf: $(NEWLIB_LIBC)

# Headers must exist before any ring -1 object compiles (see HV_PREBUILT in the Makefile).
HV_PREBUILT += $(NEWLIB_LIBC)

$(NEWLIB_LIBC):
	@tools/build-newlib.sh

.PHONY: newlib newlib-check
newlib: $(NEWLIB_LIBC)
newlib-check: $(NEWLIB_LIBC)
	@tools/build-newlib.sh --check
