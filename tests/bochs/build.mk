# tests/bochs/build.mk — Bochs harness entry points (owner: infra).
#   make run                      boot hvmon + the default guest (demo workload), logs live
#   make run-bare                 the same guest without hvmon (baseline)
#   make test-boot [KERNEL=bzImage] [INITRD=initrd]   boot check with an overridable guest
#   make measure-baseline         time to guest userspace without hvmon for each pinned kernel

.PHONY: run run-bare test-boot measure-baseline fixtures

fixtures:
	@tests/fixtures.sh all

run: all
	@tests/bochs/demo.sh

run-bare: deps
	@tests/bochs/demo.sh --bare --name demo-bare

test-boot: all
	@KERNEL="$(KERNEL)" INITRD="$(INITRD)" tests/bochs/demo.sh --check --scenario boot --name test-boot

measure-baseline: deps
	@tests/bochs/measure-boot.sh --bare cloud generic 6.12

# Infra's own Bochs scenarios (no hvmon needed): the harness and fixtures work.
INTEGRATION_TESTS += tests/bochs/t_bare_module.sh
