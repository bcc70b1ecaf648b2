# Scenario "k510" (issue 14): one boot of a kernel hvmon has not seen before (Debian 11's 5.10)
# for several checks — the tracer workload (scenario tracer), the keylogger's readers
# (keylogger510.sh, with /modules/hvkeylog; issue 15 item 5), then the ret2usr attacks
# (scenario ret2usr) with /modules/faultinj.ko (built against that kernel's headers, loaded
# here, after the tracer part, so its oopses cannot touch the tracer's record), and the
# guest's own _stext for the ring -1 profile's KASLR slide; before the oopses too (issue 15, when
# their files are in the image) the hostile-guest attacks core_hvtest runs on 6.1: hvinteg.sh
# (integrity), hvdtr, hvtamper.sh (probe tampering, the vfork storm). Needs --no-load.
echo "HVMON-GUEST: _stext $(grep -m1 ' _stext$' /proc/kallsyms | cut -d' ' -f1)"
sh /scenarios/tracer.sh
rc1=$?
echo "HVMON-GUEST: part tracer exit=$rc1"
# issue 15 item 5: the keylogger's readers on 5.10 (after the tracer's workload, before the oopses)
rc3=0
if [ -x /modules/hvkeylog ]; then sh /scenarios/keylogger510.sh; rc3=$?; fi
# issue 15: the hostile-guest attacks with modules built against this kernel's headers, before the
# ret2usr oopses (an oops turns ftrace's recording off: oops_enter -> tracing_off)
rc4=0
if [ -f /modules/hvinteg.ko ]; then
  sleep 3                    # the UART drains the lines above before the module's kernel lines
  sh /scenarios/hvinteg.sh || rc4=1
  [ -x /modules/hvdtr ] && /modules/hvdtr
  [ -f /modules/hvtamper.ko ] && { sh /scenarios/hvtamper.sh; echo "HVMON-GUEST: hvtamper exit=$?"; }
  echo "HVMON-GUEST: part hostile exit=$rc4"
fi
# The UART drains the record asynchronously while printk writes synchronously: let it empty
# before the module's load messages (idle guest time costs almost no wall time in Bochs).
sleep 3
insmod /modules/faultinj.ko
echo "HVMON-GUEST: insmod faultinj rc=$?"
sleep 1
sh /scenarios/ret2usr.sh
rc2=$?
echo "HVMON-GUEST: part ret2usr exit=$rc2"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ "$rc3" = 0 ] && [ "$rc4" = 0 ]
