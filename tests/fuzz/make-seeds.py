#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora under tests/fuzz/corpus/<target>/.

The seeds are committed; rerun this after changing a target's input format
(python3 tests/fuzz/make-seeds.py). Files a fuzzer found (regress-*) are
kept as they are: this script only (re)writes the seeds it names.
The binary formats mirror the fuzz_<target>.c readers: little-endian
numbers, an operation byte first.
"""
import os
import struct
import sys

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def u8(v):
    return struct.pack('<B', v & 0xff)


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def u64(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


def op_byte(mod, want, extra=lambda b: True):
    """The first byte value b with b % mod == want that also satisfies extra."""
    for b in range(256):
        if b % mod == want and extra(b):
            return b
    raise ValueError((mod, want))


# ---- bus: fuzz_bus.c ----
def bus_addr16(a):
    return u8(1) + u16(a)


def bus_top(d):            # UINT64_MAX - d
    return u8(2) + u16(d)


def bus_edge(rng, which):  # an edge of registered range rng: 0 below, 1 base, 2 last, 3 end
    return u8(4) + u8(rng) + u8(which)


def bus_size16(s):
    return u8(1) + u16(s)


def bus_register(dev, addr, size, kind=0):
    return u8(0) + u8(dev | kind << 4) + addr + size


def bus_access(write, addr, length):
    return u8(3 if write else 2) + addr + u8(length - 1)


def bus_seeds():
    walk = u8(5)
    write('bus', 'pio-serial-and-pci',
          bus_register(0, bus_addr16(0x3f8), bus_size16(8)) +
          bus_register(1, bus_addr16(0xcf8), bus_size16(1)) +
          bus_register(1, bus_addr16(0xcfc), bus_size16(4)) +
          bus_access(False, bus_addr16(0x3fd), 1) + bus_access(True, bus_addr16(0xcfc), 4) +
          bus_access(False, bus_addr16(0xcf9), 2) + walk)
    write('bus', 'overlaps-and-edges',
          bus_register(0, bus_addr16(0x1000), bus_size16(0x1000)) +
          bus_register(1, bus_addr16(0x1fff), bus_size16(1)) +
          bus_register(2, bus_addr16(0x0), bus_size16(0x1001)) +
          bus_register(3, bus_addr16(0x0), bus_size16(0x1000), kind=1) +
          bus_register(4, bus_addr16(0x2000), bus_size16(0x10), kind=2) +
          b''.join(bus_access(w, bus_edge(r, e), 8) for r in range(3) for e in range(4)
                   for w in (False, True)) + walk)
    write('bus', 'unregister-and-move',
          bus_register(0, bus_addr16(0x10000 & 0xffff), bus_size16(0x100)) +
          bus_register(1, bus_addr16(0x8000), bus_size16(0x100)) +
          u8(1) + u8(1) + bus_addr16(0) +           # wrong owner: -ENOENT
          u8(1) + u8(0) + bus_addr16(0) +           # the owner: gone
          bus_access(False, bus_addr16(0), 4) +
          u8(4) + bus_edge(0, 1) + bus_addr16(0x9000) +   # write that moves 0x8000 to 0x9000
          bus_access(False, bus_addr16(0x90ff), 1) + walk)
    write('bus', 'top-of-address-space',
          bus_register(0, bus_top(0xff), u8(0) + u8(0xff)) +
          bus_register(1, bus_top(0xf), u8(2) + u64(0x20)) +        # wraps: -EINVAL
          bus_register(2, bus_addr16(0x100), u8(0) + u8(0)) +       # size 0: -EINVAL
          bus_access(False, bus_top(0), 8) + bus_access(True, bus_top(0x100), 2) + walk)
    many = b''.join(bus_register(i % 8, bus_addr16(0x100 * ((i * 37) % 64)), bus_size16(0x10))
                    for i in range(64))
    write('bus', 'many-ranges', many + b''.join(bus_access(False, bus_addr16(0x100 * i + 3), 1)
                                                for i in range(0, 64, 7)) + walk)


# ---- pci_host: fuzz_pci_host.c ----
def pci_devfn(sel, raw=0):  # 0: 00.0, 1: slot 1, 2: slot 2, 3: raw
    return u8(sel) + (u8(raw) if sel == 3 else b'')


def pci_cf8(devfn_sel, reg, raw=0):
    return u8(0) + pci_devfn(devfn_sel, raw) + u8(reg)


def pci_pio(write, port, length, data=0):
    lens = {1: 0, 2: 1, 4: 2}
    return u8(2 if write else 1) + u8(port - 0xcf6) + u8(lens[length]) + u64(data)


def pci_ecam(write, bus, devfn_sel, reg, length, data=0, raw=0):
    lens = {1: 0, 2: 1, 4: 2, 8: 3}
    return (u8(4 if write else 3) + u8(bus) + pci_devfn(devfn_sel, raw) + u16(reg) +
            u8(lens[length]) + u64(data))


def pci_seeds():
    write('pci_host', 'cf8-enumerate',
          u8(1) + b''.join(pci_cf8(s, 0) + pci_pio(False, 0xcfc, 4) for s in (0, 1, 2)) +
          pci_cf8(3, 0x08, raw=0x18) + pci_pio(False, 0xcfc, 4) +
          pci_cf8(1, 0x10) + pci_pio(True, 0xcfc, 4, 0xffffffff) + pci_pio(False, 0xcfc, 4) +
          pci_pio(False, 0xcf8, 4) + pci_pio(False, 0xcfe, 2) + pci_pio(False, 0xcff, 1))
    write('pci_host', 'ecam-sizes',
          u8(0) + pci_ecam(False, 0, 0, 0, 4) + pci_ecam(False, 0, 1, 0x100, 4) +
          pci_ecam(True, 0, 1, 0x200, 4, 0xdeadbeef) + pci_ecam(False, 0, 1, 0x202, 2) +
          pci_ecam(False, 0, 1, 0x203, 1) + pci_ecam(False, 0, 1, 0x10, 8) +
          pci_ecam(False, 0, 1, 0x3, 4) + pci_ecam(False, 0x80, 1, 0, 4) +
          pci_ecam(False, 0, 3, 0xffc, 8, raw=0x07))
    write('pci_host', 'direct-calls',
          u8(1) + u8(5) + pci_devfn(1) + u8(0) + u16(0xffc) + u8(4) + u64(0) +
          u8(op_byte(7, 5, lambda b: b & 0x80)) + pci_devfn(2) + u8(1) + u32(0x1000) + u8(4) + u64(0))


# ---- serial: fuzz_serial.c ----
def ser_read(reg):
    return u8(op_byte(5, 0, lambda b: (b >> 3) & 7 == reg))


def ser_write(reg, val):
    return u8(op_byte(5, 1, lambda b: (b >> 3) & 7 == reg)) + u8(val)


def ser_receive(data):
    return u8(2) + u8(len(data)) + data


def ser_bus(write, port, length, data=0):
    op = op_byte(5, 3, lambda b: bool(b & 0x80) == write)
    return u8(op) + u8(port - 0x3f8 + 4) + u8(length - 1) + u64(data)


def serial_seeds():
    write('serial', 'linux-8250-probe',
          ser_write(3, 0x80) + ser_write(0, 0x01) + ser_write(1, 0x00) + ser_write(3, 0x03) +
          ser_write(2, 0x07) + ser_read(2) + ser_write(7, 0xa5) + ser_read(7) +
          ser_write(4, 0x1a) + ser_read(6) + ser_write(0, ord('L')) + ser_read(0) +
          ser_write(4, 0x0b) + ser_write(1, 0x03) + ser_read(2) + ser_read(2))
    write('serial', 'rx-and-overrun',
          ser_write(4, 0x08) + ser_write(1, 0x01) + ser_receive(b'hello') + ser_read(5) +
          b''.join(ser_read(0) for _ in range(6)) + ser_receive(bytes(range(70))) +
          ser_receive(b'more') + ser_read(0) + ser_write(2, 0x03) + ser_read(5))
    write('serial', 'bus-widths',
          ser_bus(False, 0x3f8, 8) + ser_bus(True, 0x3f8, 4, 0x03000041) +
          ser_bus(False, 0x3fc, 4) + ser_bus(False, 0x3ff, 2) + ser_bus(False, 0x3f6, 4) +
          ser_receive(b'ab') + ser_bus(False, 0x3f8, 1))


# ---- bzimage: fuzz_bzimage.c ----
def bzimage(params=b'', setup_sects=2, pm_size=0x300, version=0x020f, loadflags=1,
            xloadflags=3, relocatable=1, pref=0x1000000, init_size=0x400000,
            initrd_max=0x37ffffff, cmdline_size=2047, align=0x200000):
    setup = (setup_sects or 4) + 1
    b = bytearray(setup * 512 + pm_size)
    b[0:len(params)] = params
    b[0x1f1] = setup_sects
    struct.pack_into('<I', b, 0x1f4, (pm_size + 15) // 16)
    struct.pack_into('<H', b, 0x1fe, 0xaa55)
    b[0x200:0x202] = b'\xeb\x6a'            # the jump over the header, as Linux has it
    b[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', b, 0x206, version)
    b[0x211] = loadflags
    struct.pack_into('<I', b, 0x22c, initrd_max)
    struct.pack_into('<I', b, 0x230, align)
    b[0x234] = relocatable
    struct.pack_into('<H', b, 0x236, xloadflags)
    struct.pack_into('<I', b, 0x238, cmdline_size)
    struct.pack_into('<Q', b, 0x258, pref)
    struct.pack_into('<I', b, 0x260, init_size)
    for i in range(pm_size):
        b[setup * 512 + i] = (i * 13 + 7) & 0xff
    return bytes(b)


def bz_params(ram=0, initrd=(0, 0), cmdline=None, rsdp=1):
    """Boot sector bytes the loader skips: see fuzz_bzimage.c."""
    n, shift = initrd
    if cmdline is None:
        c, text = 0xff, b''
    else:
        c, text = len(cmdline), cmdline
    return (u8(ram) + u16(n) + u8(shift) + u8(c) + u8(rsdp) + bytes(10) + text)


def bzimage_seeds():
    write('bzimage', 'relocatable-2.15',
          bzimage(bz_params(cmdline=b'console=ttyS0 quiet')))
    write('bzimage', 'fixed-at-pref-address',
          bzimage(bz_params(ram=2, cmdline=b'root=/dev/vda'), relocatable=0, pref=0x400000))
    write('bzimage', 'with-initrd',
          bzimage(bz_params(ram=1, initrd=(0x1234, 4), cmdline=b'initrd'),
                  initrd_max=0x7fffffff))
    write('bzimage', 'no-cmdline-protocol-2.12',
          bzimage(bz_params(ram=3), version=0x020c, setup_sects=0, pm_size=0x1000))
    write('bzimage', 'initrd-too-big',
          bzimage(bz_params(initrd=(0xffff, 8)), initrd_max=0x1ffffff))
    write('bzimage', 'cmdline-too-long', bzimage(bz_params(cmdline=b'x' * 40),
                                                  cmdline_size=16))
    write('bzimage', 'regress-entry-past-kernel',
          bzimage(bz_params(cmdline=b''), pm_size=0x1e7))


# ---- pvh: fuzz_pvh.c ----
EHDR, PHDR = 64, 56


def elf(segments, phoff=EHDR, ram=0, initrd=0):
    """segments: (type, paddr, data, memsz); PT_NOTE data is the note bytes."""
    body, phdrs = b'', []
    off = phoff + PHDR * len(segments)
    for typ, paddr, data, memsz in segments:
        phdrs.append((typ, off + len(body), paddr, len(data), memsz))
        body += data
    ident = b'\x7fELF' + bytes([2, 1, 1, 0, 0, ram, initrd]) + bytes(5)
    eh = ident + struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, 0x100000, phoff, 0, 0, EHDR, PHDR,
                             len(segments), 64, 0, 0)
    ph = b''.join(struct.pack('<IIQQQQQQ', t, 5, o, p, p, fs, ms, 4)
                  for t, o, p, fs, ms in phdrs)
    return eh + bytes(phoff - EHDR) + ph + body


def xen_note(entry, descsz=4):
    return struct.pack('<III', 4, descsz, 18) + b'Xen\0' + u32(entry)


def pvh_seeds():
    code = bytes([0x90] * 60 + [0xf4] * 4)
    write('pvh', 'one-load-one-note',
          elf([(1, 0x100000, code, 0x1000), (4, 0, xen_note(0x100000), 0)]))
    write('pvh', 'note-last-two-loads-bss',
          elf([(1, 0x100000, code, 0x2000), (1, 0x200000, code, 0x800),
               (4, 0, struct.pack('<III', 4, 0, 1) + b'GNU\0' + xen_note(0x200010), 0)],
              ram=1, initrd=3))
    write('pvh', 'odd-phoff',
          elf([(1, 0x100000, code, 0x40), (4, 0, xen_note(0x100004), 0)], phoff=EHDR + 3,
              ram=2))
    # Found while writing fuzz_pvh (the fuzzer did not get there in 10 min):
    # a descsz near 4 GiB rounded up in 32 bits to 0, so the 4-byte entry was
    # read past the note, here past the end of the file.
    write('pvh', 'regress-note-descsz-wrap',
          elf([(1, 0x100000, code, 0x1000),
               (4, 0, struct.pack('<III', 4, 0xffffffff, 18) + b'Xen\0', 0)]))
    # Found by fuzz_pvh (UBSan): a note at an odd file offset was read
    # through a misaligned Elf64_Nhdr pointer.
    write('pvh', 'regress-misaligned-note',
          elf([(1, 0x100000, code[:63], 0x1000), (4, 0, xen_note(0x100000), 0)]))
    # Found by fuzz_pvh: an entry point outside every PT_LOAD was accepted.
    write('pvh', 'regress-entry-outside',
          elf([(1, 0x100000, code, 0x1000), (4, 0, xen_note(0x40100000), 0)]))


# ---- config: fuzz_config.c ----
def config_seeds():
    quick = os.path.join(os.path.dirname(CORPUS), '..', '..', 'docs', 'quickstart.md')
    text = open(quick).read()
    start = text.index('; /etc/vfio-vmm.conf')
    write('config', 'quickstart', text[start:text.index('```', start)])
    write('config', 'class-only-aliases',
          '[alias nvme]\nclass = 0x0108\n[alias vga]\nclass=0x03\n[alias xhci]\n'
          'class = 0x0c0330\ndescription = USB 3\n[flavor io]\ndevices = nvme:2 xhci\n')
    write('config', 'flavor-before-alias',
          '[flavor gpu.8x]\ncpus = 255\nmemory = 1T\nhugepages = none\n'
          'devices = h100:8\n\n  [alias h100]\nvendor = 10de\ndevice = 0x2330\n')
    write('config', 'errors', '[alias a]\nvendr = 0x10de\n')
    write('config', 'full', ''.join('[alias a%d]\nclass=%02x\n' % (i, i) for i in range(32)) +
          ''.join('[flavor f%d]\ncpus=%d\n' % (i, i + 1) for i in range(32)))
    write('config', 'at-limits',
          '[alias a]\nvendor = 0xffff\ndevice = 0xffff\nclass = 0xffffff\n'
          '[flavor max]\ncpus = 255\ndevices = a:16\n')
    # Found by fuzz_config: "[alias NAME]" with NAME over 31 characters, or a
    # third word, was taken as a shorter NAME.
    write('config', 'regress-section-long-name',
          '[alias BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBnvme]\nclass = 0x0108\n')
    write('config', 'regress-section-third-word', '[alias nvme extra]\nclass = 0x0108\n')


# ---- cli: fuzz_cli.c ----
def argv(*args):
    return b'\0'.join(a.encode() for a in args)


def cli_seeds():
    k = '/proc/self/exe'
    write('cli', 'run-all-options',
          argv('run', '--kernel', k, '--initrd', k, '--cmdline', 'console=ttyS0 quiet',
               '--memory', '4G', '--cpus', '4', '--hugepages', '2M', '--trace', 'vfio,irq',
               '--stats'))
    write('cli', 'run-devices-p2p',
          argv('run', '--kernel', k, '--device', '0000:3e:00.0', '--device', '3f:00.0',
               '--device', 'alias:h100:2', '--p2p', '--flavor', 'gpu.2x', '--config', k))
    # At the documented limits: one ChangeASCIIInt away from just past them.
    write('cli', 'run-at-limits',
          argv('run', '--kernel', k, '--memory', '16M', '--cpus', '255', '--hugepages', '1G'))
    write('cli', 'help', argv('--help'))
    write('cli', 'version', argv('run', '-V'))
    write('cli', 'errors', argv('run', '--kernel', k, '--memory', '1M', '--cpus', '0'))
    write('cli', 'no-run', argv('--kernel', k, 'extra'))


# ---- virtqueue: fuzz_virtqueue.c ----
VQ_R, VQ_N, VQ_W, VQ_I = 0, 1, 2, 4


def vq_low(a):              # fuzz_gpa kind 0: low RAM
    return u8(0) + u16(a)


def vq_high(off):           # fuzz_gpa kind 1: high RAM (at 4 GiB)
    return u8(1) + u16(off)


def vq_raw(a):              # fuzz_gpa kind 5: any address
    return u8(5) + u64(a)


def vq_setup(log2size, indirect=True, event_idx=False, desc=0x1000, avail=0x2000,
             used=0x3000):
    return (u8(log2size) + u8(int(indirect) | int(event_idx) << 1) +
            vq_low(desc) + vq_low(avail) + vq_low(used))


def vq_desc_fields(addr, length, flags, nxt):
    lsel = u8(length) if length < 0xc0 else (u8(0xc0) + u16(length) if length < 0x10000
                                              else u8(0xf0) + u32(length))
    return addr + lsel + u8(flags | 0x40) + u16(nxt)


def vq_desc(idx, addr, length, flags=0, nxt=0):
    return u8(0) + u16(idx) + vq_desc_fields(addr, length, flags, nxt)


def vq_table_entry(gpa, addr, length, flags=0, nxt=0):   # op 6: 16 bytes anywhere
    return u8(6) + vq_low(gpa) + vq_desc_fields(addr, length, flags, nxt)


def vq_slot(slot, head):
    return u8(1) + u16(slot) + u16(head)


def vq_kick(n=1):          # avail->idx += n (1-4)
    return u8(2) + u8(n - 1)


def vq_pop(max_segs=16):
    return u8(3) + u8(max_segs - 1)


def vq_push(sel=0, written=0):
    return u8(4) + u8(sel) + u32(written)


VQ_NOTIFY = u8(5)


def virtqueue_seeds():
    write('virtqueue', 'two-requests-event-idx',
          vq_setup(3, event_idx=True) +
          vq_desc(0, vq_low(0x8000), 16, VQ_N, 1) + vq_desc(1, vq_low(0x8100), 100, VQ_W) +
          vq_desc(2, vq_high(0x100), 0x40, VQ_N, 3) + vq_desc(3, vq_high(0x200), 1, VQ_W) +
          vq_slot(0, 0) + vq_slot(1, 2) + vq_kick(2) + vq_pop() + vq_pop() + vq_pop() +
          vq_push(0, 100) + u8(7) + u16(0) + VQ_NOTIFY + vq_push(0, 1) + VQ_NOTIFY)
    write('virtqueue', 'indirect',
          vq_setup(2) + vq_desc(1, vq_low(0x9000), 48, VQ_I) +
          vq_table_entry(0x9000, vq_low(0x8000), 12, VQ_N, 1) +
          vq_table_entry(0x9010, vq_low(0x8100), 512, VQ_N | VQ_W, 2) +
          vq_table_entry(0x9020, vq_low(0x8400), 1, VQ_W) +
          vq_slot(0, 1) + vq_kick() + vq_pop(4) + vq_push(0, 0x201) + VQ_NOTIFY)
    write('virtqueue', 'loop-breaks-queue',
          vq_setup(4) + vq_desc(0, vq_low(0x8000), 8, VQ_N, 1) +
          vq_desc(1, vq_low(0x8000), 8, VQ_N | VQ_W, 0) + vq_slot(0, 0) + vq_kick() +
          vq_pop() + vq_pop() + u8(8) + vq_setup(4) +
          vq_desc(0, vq_low(0x8000), 8, VQ_N | VQ_W, 1) +
          vq_desc(1, vq_low(0x8000), 8, VQ_N | VQ_W, 0) + vq_slot(0, 0) + vq_kick() + vq_pop())
    write('virtqueue', 'buffer-in-hole-rejected',
          vq_setup(3) + vq_desc(0, vq_raw(0xfee00000), 4, VQ_N, 1) +
          vq_desc(1, vq_high(0x3ff0), 0x20, VQ_W) + vq_slot(0, 0) + vq_kick() + vq_pop() +
          vq_push() + vq_desc(0, vq_low(0xfff0), 0x20) + vq_slot(1, 0) + vq_kick() + vq_pop() +
          vq_push())
    write('virtqueue', 'nested-indirect-and-bad-sizes',
          vq_setup(2) + vq_desc(0, vq_low(0x9000), 16, VQ_I) +
          vq_table_entry(0x9000, vq_low(0xa000), 16, VQ_I) + vq_slot(0, 0) + vq_kick() +
          vq_pop() + u8(8) + vq_setup(2, desc=0x1008) + u8(8) + vq_setup(10, desc=0xc000) +
          u8(8) + u8(0xf0) + u8(0) + u32(3) + vq_low(0) + vq_low(0) + vq_low(0))
    write('virtqueue', 'avail-idx-jump',
          vq_setup(1) + u8(op_byte(10, 2, lambda b: b & 0x80)) + u16(0x8000) + vq_pop() + u8(9) + vq_pop() + vq_push())


# ---- initrd: fuzz_initrd.c ----
def initrd_input(ram, segs, sizes):
    """segs: (paddr, filesz, bss); sizes: initrd lengths (u32, or u64 when > 4 GiB)."""
    b = u32(ram - 2 * 1024 * 1024) + u8(len(segs) - 1)
    for paddr, filesz, bss in segs:
        b += u32(paddr) + u8(filesz) + u32(bss)
    for n in sizes:
        b += (u8(1) + u64(n)) if n >= 1 << 32 else (u8(0) + u32(n))
    return b


def initrd_seeds():
    MiB = 1024 * 1024
    write('initrd', 'kernel-at-1m', initrd_input(64 * MiB, [(MiB, 64, 0x1000)],
                                                 [1, 4096, 4097, 8 * MiB, 63 * MiB, 64 * MiB]))
    # Was placed over the kernel: a segment at 16 MiB, a 20 MiB initrd in 32 MiB.
    write('initrd', 'regress-segment-linked-high',
          initrd_input(32 * MiB, [(16 * MiB, 16, MiB)], [20 * MiB, 15 * MiB, 15 * MiB + 1]))
    write('initrd', 'two-segments-big-bss',
          initrd_input(256 * MiB, [(MiB, 200, 0x10000), (100 * MiB, 8, 50 * MiB)],
                       [100 * MiB, 106 * MiB, 1 << 40]))


# fuzz_passthrough: a setup byte, then operations (fuzz_passthrough.c's list).
PT_REG = {'cmd': 0, 'bar0': 1, 'bar2': 3, 'bar4': 5, 'rom': 7, 'lat': 8, 'bist': 9, 'pm': 11,
          'msi_flags': 12, 'msi_lo': 13, 'msi_hi': 14, 'msi_data': 15, 'msi_mask': 16,
          'msix_flags': 17, 'devctl': 19, 'lnkctl': 20}
PT_LEN = {1: 0, 2: 1, 4: 2}


def pt_cfg_read(off, length):
    return u8(0) + u16(off) + u8(PT_LEN[length])


def pt_cfg_write(off, length, val):
    return u8(1) + u16(off) + u8(PT_LEN[length]) + u32(val)


def pt_reg(reg, length, val):
    return u8(2) + u8(PT_REG[reg]) + u32(val) + u8(PT_LEN[length])


def pt_map_access(nth, length, write, off, data=0):
    return u8(3) + u8(nth) + u8((length - 1) | (8 if write else 0)) + u32(off) + u64(data)


def pt_msix(entry_off, length, write, data=0, pba=False, via_map=True):
    sel = {1: 0, 2: 1, 4: 2, 8: 3}[length] | (4 if write else 0) | (8 if pba else 0) | \
        (16 if via_map else 0)
    return u8(4) + u8(sel) + u16(entry_off) + u64(data)


def pt_bar(bar, off, length, write, data=0):
    return u8(5) + u8(0x80 | bar | ((length - 1) << 3) | (0x40 if write else 0)) + u64(off) + \
        u64(data)


def pt_place(bar, kind, other=0, addr=0):
    return u8(6) + u8(bar) + u8(other) + u8(kind) + (u64(addr) if kind == 11 else b'')


def pt_pm(state):
    return u8(7) + u8(state)


def pt_msix_entry(v, addr, data, ctrl):
    return b''.join(pt_msix(16 * v + 4 * i, 4, True, x) for i, x in
                    enumerate((addr, addr >> 32, data, ctrl)))


PT_FLR, PT_P2P, PT_REOPEN = u8(8), u8(11), u8(12)


def pt_fail(kind):
    return u8(9) + u8(kind)


def pt_signal(sel):
    return u8(10) + u8(sel)


def passthrough_seeds():
    boot = (pt_place(0, 3) + pt_place(2, 7) + pt_place(4, 11, addr=0x10100000000) +
            pt_place(6, 11, addr=0xc1000000))
    msix_on = (pt_msix_entry(0, 0xfee00000, 0x20, 0) + pt_msix_entry(1, 0xfee01000, 0x21, 0) +
               pt_msix_entry(2, 0x12345678, 0x22, 0) + pt_reg('msix_flags', 2, 0x8000))
    write('passthrough', 'h100-boot-msix',
          u8(0) + boot + msix_on + pt_msix(0, 8, False, pba=True) + pt_signal(1) +
          pt_msix(16 + 12, 4, True, 1) + pt_signal(1) + pt_msix(0, 8, False, pba=True) +
          pt_reg('msix_flags', 2, 0xc000) + pt_msix(0, 4, False, pba=True) +
          pt_map_access(0, 4, True, 0x100, 0xdeadbeef) + pt_map_access(1, 8, False, 0x2000))
    write('passthrough', 'h200-mappable-msi',
          u8(3) + boot + pt_reg('msi_lo', 4, 0xfee00000) + pt_reg('msi_hi', 4, 0) +
          pt_reg('msi_data', 2, 0x4041) + pt_reg('msi_flags', 2, 0x0021) +
          pt_reg('msi_mask', 4, 0x2) + pt_signal(0x81) + pt_reg('msi_flags', 2, 0x0041) +
          pt_reg('msi_lo', 4, 0x12340000) + pt_reg('msi_flags', 2, 0))
    write('passthrough', 'd3hot-and-back',
          u8(0) + boot + msix_on + pt_pm(3) + pt_reg('msix_flags', 2, 0) +
          pt_reg('msix_flags', 2, 0x8000) + pt_map_access(0, 4, False, 0x10) + pt_pm(0) +
          pt_map_access(0, 4, False, 0x10) + pt_pm(3) + PT_FLR)
    write('passthrough', 'flr-with-everything-on',
          u8(0) + boot + msix_on + PT_P2P + PT_FLR + pt_msix(0, 4, False) + boot + PT_FLR)
    write('passthrough', 'flr-cannot-reset',
          u8(0x44) + boot + msix_on + PT_FLR + pt_reg('devctl', 2, 0x8000) +
          pt_cfg_read(0x64, 4))
    write('passthrough', 'sparse-areas-h200',
          u8(0x09) + u8(8) + b''.join(u16(0x200 * k) + u16(0x100 + k) for k in range(8)) + boot +
          msix_on + pt_map_access(3, 8, True, 0x40, 7))
    write('passthrough', 'sparse-areas-too-many', u8(0x08) + u8(9) + u32(0) * 9 + boot)
    write('passthrough', 'host-refuses',
          u8(0) + pt_fail(0) + boot + pt_fail(1) + msix_on + pt_fail(2) +
          pt_msix_entry(3, 0xfee00000, 0x23, 0) + pt_fail(0) + pt_place(0, 1) +
          pt_place(0, 3))
    write('passthrough', 'bars-over-ram-lapic-and-each-other',
          u8(0) + boot + pt_place(4, 9, other=0) + pt_place(0, 4) + pt_place(0, 2) +
          pt_place(2, 6) + pt_place(4, 10, other=2) + pt_place(0, 5) + pt_place(6, 8) +
          pt_reg('cmd', 2, 0) + pt_reg('cmd', 2, 0x7))
    write('passthrough', 'p2p-and-reopen',
          u8(0x22) + PT_P2P + boot + pt_place(0, 9, other=4) + PT_REOPEN + boot + PT_P2P +
          msix_on + PT_REOPEN)
    write('passthrough', 'virtualized-registers',
          u8(0x10) + pt_reg('lat', 1, 0xff) + pt_reg('bist', 1, 0x40) +
          pt_cfg_write(0x0c, 4, 0xffffffff) + pt_cfg_write(0x2c, 4, 0) +
          pt_cfg_write(0x34, 1, 0x50) + pt_reg('lnkctl', 2, 0xffff) + pt_cfg_write(0x60, 4, 0) +
          pt_cfg_write(0xb0, 4, 0xffffffff) + pt_cfg_write(0x100, 4, 0) +
          pt_cfg_write(0x2a8, 4, 0x12345678) + pt_bar(0, 0xb90000, 8, True, 1) +
          pt_bar(6, 0, 4, False) + pt_bar(2, 1 << 36, 8, True, 3))


# fuzz_virtio_pci: three setup bytes, then operations (fuzz_virtio_pci.c's list).
def vp_setup(queues, qmax_log2, config_size, feats, fail_activate=False):
    return (u8((queues - 1) | ((qmax_log2 - 1) << 2)) + u8(config_size | (feats << 5)) +
            u8(1 if fail_activate else 0))


def vp_bar(write, off, length, val=0, via_map=False):
    return (u8(1 if write else 0) + u8(0x80 | (length - 1) | (0x40 if via_map else 0)) +
            u16(off) + u64(val))


def vp_status(v):
    return u8(3) + u8(v)


def vp_ring(where, off):  # where: 0 low RAM, 1 high RAM, 2 across the end of low RAM
    return u8(where) + u16(off)


def vp_bringup(msix, queues, fmask=~0, cfg_vector=0):
    """queues: (size_log2, vector, (desc, avail, used) as vp_ring args, enable)"""
    out = u8(4) + u8(4 if msix else 0) + u64(fmask) + u8(cfg_vector)
    for size_log2, vec, rings, enable in queues:
        out += u8(size_log2 | (vec << 4) | (0 if enable else 0x80))
        out += b''.join(vp_ring(*r) for r in rings)
    return out


def vp_place(sel, addr=None):
    return u8(9) + u8(sel | (8 if addr is not None else 0)) + (u32(addr) if addr is not None else b'')


def vp_ram(off, data16):
    return u8(11) + u16(off // 2) + data16.ljust(16, b'\0')[:16]


def vp_cfg(write, off, length, val=0):
    return u8(8) + u8({1: 0, 2: 1, 4: 2}[length] | (4 if write else 0)) + u16(off) + u32(val)


def virtio_pci_seeds():
    good_q = (4, 1, ((0, 0x1000), (0, 0x2000), (0, 0x3000)), True)
    chain = (vp_ram(0x1000, struct.pack('<QIHH', 0x4000, 16, 1, 1)) +
             vp_ram(0x1010, struct.pack('<QIHH', 0x5000, 32, 2, 0)) +
             vp_ram(0x2000, struct.pack('<HHH', 0, 1, 0)))
    write('virtio_pci', 'bringup-serve-reset',
          vp_setup(1, 8, 16, 3) + vp_place(2) + vp_bringup(True, [good_q]) + chain +
          u8(7) + u8(0) + u8(12) + u8(0x10) + u8(5) + vp_bar(False, 0x5000, 8) +
          u8(10) + u8(0x1c) + u8(0x10) + u64(0) + vp_status(0) + vp_bar(False, 0x14, 1))
    write('virtio_pci', 'rings-outside-ram',
          vp_setup(2, 8, 0, 1) + vp_place(2) +
          vp_bringup(True, [good_q, (4, 2, ((2, 0x10), (1, 0x100), (0, 0x3000)), True)]) +
          vp_bar(False, 0x14, 1) + vp_status(0))
    write('virtio_pci', 'device-config-edges',
          vp_setup(1, 4, 8, 0) + b''.join(u8(6) + u8(sel) + u8(off) + u64(0x1122334455667788)
                                          for sel, off in ((0, 0), (3, 0), (7, 1), (8 | 3, 4),
                                                           (8 | 7, 0), (1, 7), (8, 8), (0, 19))))
    write('virtio_pci', 'pci-cfg-window',
          vp_setup(1, 8, 0, 2) + vp_bringup(False, [good_q]) + vp_cfg(True, 0x78, 1, 0) +
          vp_cfg(True, 0x7c, 4, 0x14) + vp_cfg(True, 0x80, 4, 1) + vp_cfg(False, 0x84, 4) +
          vp_cfg(True, 0x84, 1, 0) + vp_cfg(True, 0x80, 4, 2) + vp_cfg(True, 0x7c, 4, 0x4000) +
          vp_cfg(True, 0x84, 2, 0xffff))
    write('virtio_pci', 'bar-moves-while-running',
          vp_setup(3, 6, 4, 3) + vp_place(2) +
          vp_bringup(True, [good_q, (3, 2, ((0, 0x6000), (0, 0x7000), (1, 0x1000)), True),
                            (3, 3, ((1, 0x2000), (1, 0x3000), (0, 0x8000)), False)]) +
          vp_place(0, 0x10000000) + vp_place(0x10 | 2) + vp_place(2) + vp_place(3) +
          u8(7) + u8(0x41) + u8(7) + u8(0x21) + vp_status(0))
    write('virtio_pci', 'host-refuses',
          vp_setup(2, 8, 16, 3) + u8(13) + u8(3) + vp_place(2) + u8(13) + u8(1) +
          vp_bringup(True, [good_q, good_q]) + u8(13) + u8(0) + vp_place(0, 0x20000000) +
          u8(13) + u8(2) + vp_cfg(True, 0x98 + 2, 2, 0x4000) + vp_cfg(True, 0x98 + 2, 2, 0x8000))
    write('virtio_pci', 'broken-queue-and-activate-failure',
          vp_setup(1, 8, 16, 3, True) + vp_place(2) + vp_bringup(True, [good_q]) +
          vp_bringup(False, [good_q]) + u8(12) + u8(8) + vp_status(0xff) + vp_status(0) +
          u8(14) + vp_place(2) + vp_bringup(True, [good_q]))


def main():
    bus_seeds()
    pci_seeds()
    serial_seeds()
    bzimage_seeds()
    pvh_seeds()
    config_seeds()
    cli_seeds()
    virtqueue_seeds()
    initrd_seeds()
    passthrough_seeds()
    virtio_pci_seeds()
    return 0


if __name__ == '__main__':
    sys.exit(main())
