# Scenario "hvcrash" (docs/TESTING.md): the hvtest module triple-faults the guest on purpose; hvmon must
# print the full guest state and halt (on_guest_crash=halt). Nothing after insmod should run.
insmod /modules/hvtest.ko triple_fault=1
echo "HVMON-GUEST: hvcrash survived the triple fault"
exit 1
