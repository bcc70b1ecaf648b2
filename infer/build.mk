# infer/build.mk — the inference engine (docs/INFER.md): one library built twice,
# hosted (build/host/libinfer.a, for hvinfer, unit tests, fuzzing) and
# freestanding (build/hv/libinfer.a, linked into hvmon.elf through HV_LIBS).
#
# Both the frame (infer.c, json.c, kallsyms.c, btf.c) and the patterns
# strategy (infer/patterns*.c, picked up automatically) live in INFER_SRCS.
# The patterns strategy's extra flags/libraries (Zydis) go in the marked
# section below, ABOVE the rules (the rules expand these variables at parse time).

INFER_SRCS := $(filter-out infer/patterns%,$(wildcard infer/infer.c infer/json.c \
	infer/kallsyms.c infer/kallsyms_tty.c infer/btf.c)) $(sort $(wildcard infer/patterns*.c))

INFER_HOST_CFLAGS :=   # extra CFLAGS for hosted infer objects (e.g. -I<zydis include>)
INFER_HV_CFLAGS   :=   # extra CFLAGS for freestanding infer objects
INFER_HOST_LIBS   :=   # extra archives/libs a hosted user of libinfer.a must link
INFER_HOST_DEPS   :=   # files those need built first
INFER_HV_LIBS     :=   # extra archives for hvmon.elf (freestanding Zydis...)
INFER_FUZZ_SRCS   :=   # extra .c compiled into the fuzz target (clang, sanitizers)
INFER_FUZZ_CFLAGS :=

# ---- patterns strategy (owner: patterns engineer) -----------------------------
# Zydis decoder (tools/build-zydis.sh: hosted + freestanding, ZYAN_NO_LIBC).
# lib/zydis_libc.h: a word-at-a-time ZYAN_MEMSET (Zycore's no-libc one is a byte loop)
ZYDIS_DEFS := -DZYAN_NO_LIBC -DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD \
	-DZYDIS_DISABLE_ENCODER -DZYDIS_DISABLE_FORMATTER -include lib/zydis_libc.h
ZYDIS_INC := -I$(TPSRC)/zydis/include -I$(TPSRC)/zycore-c/include
ZYDIS_HOST_LIB := $(TPBUILD)/zydis-host/libzydis.a
ZYDIS_HV_LIB := $(TPBUILD)/zydis-hv/libzydis.a
$(ZYDIS_HOST_LIB) $(ZYDIS_HV_LIB): tools/build-zydis.sh lib/zydis_libc.h
	@tools/build-zydis.sh
INFER_HOST_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
INFER_HV_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
INFER_HOST_LIBS += $(ZYDIS_HOST_LIB)
INFER_HOST_DEPS += $(ZYDIS_HOST_LIB)
INFER_HV_LIBS += $(ZYDIS_HV_LIB)
INFER_FUZZ_SRCS += $(addprefix $(TPSRC)/zydis/src/,Decoder.c DecoderData.c MetaInfo.c \
	Mnemonic.c Register.c SharedData.c Segment.c Utils.c Zydis.c)
INFER_FUZZ_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC) -I$(TPSRC)/zydis/src
# ---- end patterns strategy ----------------------------------------------------

ifneq ($(filter infer/patterns%,$(INFER_SRCS)),)
INFER_DEFS := -DINFER_HAVE_PATTERNS=1
else
INFER_DEFS :=
endif

INFER_HOST_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(INFER_SRCS))
INFER_HV_OBJS   := $(patsubst %.c,$(BUILD)/hv/%.o,$(INFER_SRCS))

$(INFER_HOST_OBJS): HOST_CFLAGS += $(INFER_DEFS) $(INFER_HOST_CFLAGS)
$(INFER_HV_OBJS):   HV_CFLAGS   += $(INFER_DEFS) $(INFER_HV_CFLAGS)

$(BUILD)/host/libinfer.a: $(INFER_HOST_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/hv/libinfer.a: $(INFER_HV_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

HV_LIBS += $(BUILD)/hv/libinfer.a $(INFER_HV_LIBS)
INFER_LIB := $(BUILD)/host/libinfer.a $(INFER_HOST_LIBS)

# Build both flavours with `make` (the freestanding one proves the library
# compiles for ring -1 even before hvmon.elf links it).
.PHONY: infer-libs
infer-libs: $(BUILD)/host/libinfer.a $(BUILD)/hv/libinfer.a
all: infer-libs

# ---- host tool: hvinfer --------------------------------------------------------
KIMAGE_LIBS := -lz -llzma -llz4 -lzstd -lbz2 -llzo2

ifneq ($(wildcard tools/hvinfer.c),)
HOST_TOOLS += hvinfer
hvinfer_SRCS := tools/hvinfer.c tools/kimage.c
hvinfer_DEPS := $(BUILD)/host/libinfer.a $(INFER_HOST_DEPS)
hvinfer_LIBS := $(INFER_LIB) $(KIMAGE_LIBS)
endif

# ---- unit tests ----------------------------------------------------------------
INFER_UNIT := $(basename $(notdir $(wildcard tests/unit/test_infer_*.c)))
UNIT_TESTS += $(INFER_UNIT)
$(foreach t,$(INFER_UNIT),$(eval $(t)_SRCS := tests/unit/$(t).c $(if $(filter test_infer_kimage,$(t)),tools/kimage.c)))
$(foreach t,$(INFER_UNIT),$(eval $(t)_DEPS := $(BUILD)/host/libinfer.a $(INFER_HOST_DEPS)))
$(foreach t,$(INFER_UNIT),$(eval $(t)_LIBS := $(INFER_LIB) $(KIMAGE_LIBS)))

# ---- fuzzing ---------------------------------------------------------------------
ifneq ($(wildcard tests/fuzz/fuzz_hvinfer.c),)
FUZZ_TARGETS += fuzz_hvinfer
fuzz_hvinfer_SRCS := tests/fuzz/fuzz_hvinfer.c tools/kimage.c $(INFER_SRCS) $(INFER_FUZZ_SRCS)
fuzz_hvinfer_CFLAGS := $(INFER_DEFS) $(INFER_FUZZ_CFLAGS) -DKIMAGE_FUZZ=1
fuzz_hvinfer_LIBS := $(KIMAGE_LIBS)
endif

# ---- integration (no Bochs: hvinfer vs. ground truth) --------------------------
INTEGRATION_TESTS += $(sort $(wildcard tests/integration/infer_*.sh))

# ---- issue 14: a kernel hvmon was not built around (Debian 11's 5.10) under hvmon in Bochs --
# k510_bochs.sh: one boot for the tracer, a ret2usr attack and the ring -1 profile check;
# hang_bochs_510.sh: one boot for hang_bochs.sh's five injections (no busy phase).
INTEGRATION_TESTS += tests/integration/k510_bochs.sh tests/integration/hang_bochs_510.sh
