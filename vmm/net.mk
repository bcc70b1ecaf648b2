# vmm/net.mk — hvmon's management NIC in ring -1 (owner: network-integration
# engineer; docs/NETWORK.md): bring-up glue + hiding the NIC from the guest.
HV_SRCS += vmm/netdev.c vmm/net_hide.c vmm/net_hide_vmx.c
$(BUILD)/hv/vmm/netdev.o: HV_CFLAGS += $(LWIP_INC)

UNIT_TESTS += test_net_hide
test_net_hide_SRCS := tests/unit/test_net_hide.c vmm/net_hide.c drivers/pci.c

INTEGRATION_TESTS += tests/integration/net_vmx.sh
