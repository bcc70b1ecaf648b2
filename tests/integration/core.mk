# Issue-2 Bochs scenarios of the ring -1 core (owner: core engineer).
INTEGRATION_TESTS += tests/integration/core_boot.sh tests/integration/core_boot_generic.sh \
	tests/integration/core_boot_612.sh tests/integration/core_hvtest.sh \
	tests/integration/core_crash.sh
