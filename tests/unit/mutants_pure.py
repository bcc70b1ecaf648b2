#!/usr/bin/env python3
# Mutation check for the pure-logic unit tests: applies one small bug at a time to a
# COPY of vmm/ and tests/ (never the working tree), rebuilds that module's unit test and
# expects it to fail. Usage: tests/unit/mutants_pure.py   (from the top directory)
# Known equivalent mutants (survive by design): the e820 merge adjacency check (gaps
# already reset the merge), LARGE on 4 KiB EPT children (bit 7 is ignored there), the
# empty-value check in options (every value parser rejects "" too).
import subprocess, shutil, os, sys, tempfile
top = os.getcwd()
tmp = tempfile.mkdtemp(prefix='hvmon-mut-')
for d in ('vmm', 'tests', 'boot'):
    shutil.copytree(os.path.join(top, d), os.path.join(tmp, d))
bz = os.environ.get('HVMON_TEST_BZIMAGE', os.path.join(top, 'cache/kern-6.1-cloud/boot/vmlinuz-6.1.0-56-cloud-amd64'))
os.chdir(tmp)
muts = [
 ('vmm/e820.c', 'mem[i].type > type', 'mem[i].type < type'),
 ('vmm/e820.c', 'last.type == type && last.addr + last.size == cur', 'last.type == type'),
 ('vmm/e820.c', '*s = page_down(r->base);', '*s = r->base;'),
 ('vmm/e820.c', 'c = (p + align - 1) & ~(align - 1);', 'c = p & ~(align - 1);'),
 ('vmm/linux_boot.c', 'if (out->init_size == 0 || out->init_size < out->payload_file_size)', 'if (out->init_size == 0)'),
 ('vmm/linux_boot.c', 'put32(bp, LB_BP_EXT_CMD_LINE_PTR, (uint32_t)(p->cmdline_addr >> 32));', ''),
 ('vmm/linux_boot.c', 'off = LB_BP_E820_TABLE + i * 20;', 'off = LB_BP_E820_TABLE + i * 24;'),
 ('vmm/linux_boot.c', 'sects = 4;', 'sects = 0;'),
 ('vmm/ept_map.c', 'return (level == 2 && (e->caps & EPT_CAP_2M)) || (level == 3 && (e->caps & EPT_CAP_1G));', 'return level == 2 || level == 3;'),
 ('vmm/ept_map.c', 't[i] = (base + i * child) | attrs | (level - 1 > 1 ? EPT_LARGE : 0);', 't[i] = (base + i * child) | attrs | EPT_LARGE;'),
 ('vmm/ept_map.c', 'return MT_WT;\n\treturn MT_UC;', 'return MT_WB;\n\treturn MT_UC;'),
 ('vmm/ept_map.c', 'if (mask & (s - 1))\n\t\t\treturn MT_INVALID;', ''),
 ('vmm/ept_map.c', "msr = 1 + (unsigned)((pa - 0x80000) >> 17);", "msr = 1 + (unsigned)((pa - 0x80000) >> 16);"),
 ('vmm/policy.c', 'r->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_SMX | CPUID1_ECX_HYPERVISOR);', 'r->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_SMX);'),
 ('vmm/policy.c', 'base = write ? 0xc00 : 0x400;', 'base = write ? 0x400 : 0xc00;'),
 ('vmm/policy.c', '*value = (((required | optional) & allowed1) | allowed0);', '*value = ((required | optional) | allowed0);'),
 ('vmm/options.c', '{ "com2", 0x2f8 }', '{ "com2", 0x3f8 }'),
 ('vmm/options.c', 'if (eq + 1 == wl) {', 'if (0) {'),
 ('vmm/options.c', 'if (c == \'"\') {', 'if (c == 0) {'),
 ('vmm/gmem.c', 'if (!(entry & PTE_US))\n\t\t\tw->user = false;', ''),
 ('vmm/gmem.c', 'if ((entry & PTE_XD) && !m->nxe)', 'if (0)'),
 ('vmm/gmem.c', 'unsigned bits = (m && m->la57) ? 57 : 48;', 'unsigned bits = 48;'),
 ('vmm/gmem.c', 'uint64_t base = phys_bits & ~(size - 1);', 'uint64_t base = phys_bits;'),
]
tests = {'e820':'e820','linux_boot':'linux_boot e820','ept_map':'ept_map','policy':'policy','options':'options','gmem':'gmem'}
killed=0
for f, old, new in muts:
    src = open(f).read()
    assert old in src, (f, old)
    open(f,'w').write(src.replace(old, new, 1))
    mod = os.path.basename(f)[:-2]
    srcs = ' '.join('vmm/%s.c' % m for m in tests[mod].split())
    r = subprocess.run('gcc -std=gnu11 -O1 -I. -w -o ./t tests/unit/test_%s.c %s -lcmocka && HVMON_TEST_BZIMAGE=%s timeout 60 ./t' % (mod, srcs, bz), shell=True, capture_output=True, text=True)
    dead = r.returncode != 0
    killed += dead
    print('KILLED ' if dead else 'SURVIVED', f, old[:60].replace('\n',' '))
    open(f,'w').write(src)
print('%d/%d mutants killed' % (killed, len(muts)))
shutil.rmtree(tmp)
