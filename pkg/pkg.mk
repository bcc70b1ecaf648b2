# pkg/pkg.mk — the Debian package (issue 13): `make deb` (Makefile) runs tools/mkdeb.sh.
# Its proof: build, lintian, install into a throwaway Debian root, update-grub, boot the
# generated entry in Bochs with the collector service's command line, remove/purge,
# hvmon-efi-install (docs/INSTALL.md).
INTEGRATION_TESTS += tests/integration/pkg_deb.sh
