# drivers/net.mk — PCI, e1000, lwIP port and network glue (owned by the
# events/network engineer). lwIP itself: tools/build-lwip.sh →
# third_party/build/lwip-{host,hv}/liblwip.a.
LWIP_SRC     := $(TPSRC)/lwip/src
LWIP_INC     := -Idrivers/net -I$(LWIP_SRC)/include
LWIP_HOSTLIB := $(TPBUILD)/lwip-host/liblwip.a
LWIP_HVLIB   := $(TPBUILD)/lwip-hv/liblwip.a
NET_SRCS     := drivers/net/hvnet.c drivers/net/sys_arch.c
NET_HV_SRCS  := drivers/net/hvnet_setup.c

$(LWIP_HOSTLIB) $(LWIP_HVLIB): drivers/net/lwipopts.h drivers/net/arch/cc.h tools/build-lwip.sh
	tools/build-lwip.sh

HV_SRCS += $(NET_SRCS) $(NET_HV_SRCS)
HV_LIBS += $(LWIP_HVLIB)
$(patsubst %.c,$(BUILD)/hv/%.o,$(NET_SRCS) $(NET_HV_SRCS)): HV_CFLAGS += $(LWIP_INC)
$(patsubst %.c,$(BUILD)/host/%.o,$(NET_SRCS)): HOST_CFLAGS += $(LWIP_INC)

# lwIP sources compiled into the fuzz target with clang + sanitizers
LWIP_FUZZ_FILES := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/sys.c core/timeouts.c core/udp.c \
	core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c
FUZZ_TARGETS += fuzz_lwip
fuzz_lwip_SRCS := tests/fuzz/fuzz_lwip.c $(NET_SRCS) $(addprefix $(LWIP_SRC)/,$(LWIP_FUZZ_FILES))
fuzz_lwip_CFLAGS := -DHV_LWIP_FUZZ $(LWIP_INC) -w

# PCI + e1000 (ring -1) and their host tests over fake hardware
HV_SRCS += drivers/pci.c drivers/e1000.c
UNIT_TESTS += test_e1000
test_e1000_SRCS := tests/unit/test_e1000.c drivers/pci.c drivers/e1000.c $(NET_SRCS) $(NET_HV_SRCS) \
	vmm/options.c events/wire.c events/wire_seal.c events/wire_seal_sse2.c events/wire_seal_aesni.c events/event.c events/event_ring.c events/event_json.c
test_e1000_LIBS := $(LWIP_HOSTLIB) $(TPBUILD)/mbedtls-host/libmbedcrypto.a
test_e1000_DEPS := $(LWIP_HOSTLIB) $(TPBUILD)/mbedtls-host/libmbedcrypto.a
$(BUILD)/host/drivers/net/hvnet_setup.o: HOST_CFLAGS += $(LWIP_INC)
$(BUILD)/host/tests/unit/test_e1000.o: HOST_CFLAGS += $(LWIP_INC)
$(BUILD)/host/drivers/pci.o: HOST_CFLAGS += -DHV_PCI_NO_PIO

# Bare-metal network self-test kernel (Multiboot2, no hvmon core): hvmon's
# real event/wire/lwIP/PCI/e1000 code against Bochs' e1000 + slirp.
# tests/integration/collect_bochs_net.sh boots it.
NETTEST_SRCS := drivers/net/selftest/main.c events/event.c events/event_ring.c events/event_json.c \
	events/wire.c events/wire_seal.c events/wire_seal_sse2.c events/wire_seal_aesni.c drivers/pci.c \
	drivers/e1000.c $(NET_SRCS) $(NET_HV_SRCS)
NETTEST_OBJS := $(patsubst %.c,$(BUILD)/hv/%.o,$(NETTEST_SRCS)) $(BUILD)/hv/drivers/net/selftest/boot.o
$(BUILD)/hv/drivers/net/selftest/main.o: HV_CFLAGS += $(LWIP_INC) -fno-tree-loop-distribute-patterns
$(BUILD)/net-selftest.elf: $(NETTEST_OBJS) $(LWIP_HVLIB) $(TPBUILD)/mbedtls-hv/libmbedcrypto.a drivers/net/selftest/link.ld
	$(CC) -nostdlib -static -no-pie -z max-page-size=0x1000 -T drivers/net/selftest/link.ld \
		-o $@ $(NETTEST_OBJS) $(LWIP_HVLIB) $(TPBUILD)/mbedtls-hv/libmbedcrypto.a -lgcc
.PHONY: net-selftest
net-selftest: $(BUILD)/net-selftest.elf
INTEGRATION_PREREQS += $(BUILD)/net-selftest.elf

# Host benchmark of the network sink's ring -1 path (issue 16): make build/tools/bench_net,
# then valgrind --tool=callgrind build/tools/bench_net burst|proc N (instructions ≈ Bochs ticks)
HOST_TOOLS += bench_net
bench_net_SRCS := tools/bench/bench_net.c drivers/e1000.c drivers/pci.c $(NET_SRCS) events/wire.c events/wire_seal.c events/wire_seal_sse2.c events/wire_seal_aesni.c events/event.c \
	events/event_ring.c events/event_json.c
bench_net_LIBS := $(LWIP_HOSTLIB) $(TPBUILD)/mbedtls-host/libmbedcrypto.a
bench_net_DEPS := $(LWIP_HOSTLIB) $(TPBUILD)/mbedtls-host/libmbedcrypto.a
$(BUILD)/host/tools/bench/bench_net.o: HOST_CFLAGS += $(LWIP_INC)
