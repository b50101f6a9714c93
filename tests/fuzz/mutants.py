#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that the whole-device fuzz targets still catch the mutants of
docs/fuzzing.md ("The invariants can fire") from their seeds alone.

Each mutant breaks vfio-vmm on purpose in one place. The script copies the
working tree (tracked files, as they are on disk) to a scratch directory,
builds the fuzz targets there once (clang, -Dfuzz=true), then for each
mutant: edits the file, rebuilds the one target, replays the target's seeds
(tests/fuzz/corpus/NAME, -runs=0: each seed once, no fuzzing) and puts the
file back. A mutant that no seed catches is a lost invariant.

    tests/fuzz/mutants.py               every mutant
    tests/fuzz/mutants.py --target virtio_pci
    MUTANTS_DIR=/tmp/m tests/fuzz/mutants.py   scratch dir (default
                                               build-fuzz-mutants/), kept
                                               between runs

Prints a line per mutant and "mutants: N caught, M not caught"; exits 1 when
any is not caught (or cannot be applied: the code moved, update the table).
"""
import argparse
import filecmp
import os
import shutil
import subprocess
import sys

# name, target, file, the code as it is, the code broken
MUTANTS = [
    ("msi-address-always-valid", "passthrough", "devices/pci_vector.c",
     "return (addr >> 20) == 0xfee;",
     "return true;"),
    ("latency-timer-forwarded", "passthrough", "vfio/config.c",
     "{ PCI_LATENCY_TIMER, 1, 0xff, 0xff, 0 },",
     "{ PCI_LATENCY_TIMER, 1, 0xff, 0xff, 0xff },"),
    ("bars-update-ignores-d3hot", "passthrough", "vfio/bar.c",
     "pci_dev_update_bars(&d->pci, d->cfg.shadow, d->cfg.d3);",
     "pci_dev_update_bars(&d->pci, d->cfg.shadow, false);"),
    ("flr-without-msix-reset", "passthrough", "vfio/vfio_pci.c",
     "\tmsix_reset(&d->msix);\n\tvfio_bars_update(d);",
     "\tvfio_bars_update(d);"),
    ("features-ok-without-version-1", "virtio_pci", "devices/virtio/virtio_pci.c",
     "if (!(f & (1ull << VIRTIO_F_VERSION_1)) || (f & ~offered(vp))) {",
     "if (f & ~offered(vp)) {"),
    ("reset-keeps-descriptor-address", "virtio_pci", "devices/virtio/virtio_pci.c",
     ".size = vp->vdev->queue_max, .msix_vector = VIRTIO_MSI_NO_VECTOR,\n",
     ".size = vp->vdev->queue_max, .msix_vector = VIRTIO_MSI_NO_VECTOR,\n"
     "\t\t\t.desc = vp->q[i].desc,\n"),
    ("notify-at-next-queue", "virtio_pci", "devices/virtio/virtio_pci.c",
     "uint64_t gpa = vp->bar_addr + VPCI_NOTIFY + VPCI_NOTIFY_MULT * i;",
     "uint64_t gpa = vp->bar_addr + VPCI_NOTIFY + VPCI_NOTIFY_MULT * (i + 1);"),
    ("reset-keeps-ioeventfds", "virtio_pci", "devices/virtio/virtio_pci.c",
     "\tif (vp->ioeventfds)\n\t\tnotify_addrs(vp, false);\n\tfor (unsigned int i = 0;",
     "\tfor (unsigned int i = 0;"),
    ("release-closes-before-detach", "virtio_pci", "devices/pci_vector.c",
     "\tif (v->attached)\n\t\th->ops->irqfd_detach(h->opaque, v->fd, v->gsi);\n"
     "\tif (v->gsi >= 0)\n\t\th->ops->route_remove(h->opaque, v->gsi);\n"
     "\tif (v->fd >= 0)\n\t\tclose(v->fd);",
     "\tif (v->fd >= 0)\n\t\tclose(v->fd);\n"
     "\tif (v->attached)\n\t\th->ops->irqfd_detach(h->opaque, v->fd, v->gsi);\n"
     "\tif (v->gsi >= 0)\n\t\th->ops->route_remove(h->opaque, v->gsi);"),
    ("release-removes-route-before-detach", "virtio_pci", "devices/pci_vector.c",
     "\tif (v->attached)\n\t\th->ops->irqfd_detach(h->opaque, v->fd, v->gsi);\n"
     "\tif (v->gsi >= 0)\n\t\th->ops->route_remove(h->opaque, v->gsi);",
     "\tif (v->gsi >= 0)\n\t\th->ops->route_remove(h->opaque, v->gsi);\n"
     "\tif (v->attached)\n\t\th->ops->irqfd_detach(h->opaque, v->fd, v->gsi);"),
]


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", action="append", choices=sorted({m[1] for m in MUTANTS}))
    args = ap.parse_args()
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    scratch = os.environ.get("MUTANTS_DIR", os.path.join(src, "build-fuzz-mutants"))
    tree, build = os.path.join(scratch, "src"), os.path.join(scratch, "build")

    files = run(["git", "-C", src, "ls-files", "-z"], check=True).stdout.split("\0")
    for f in filter(None, files):
        dst = os.path.join(tree, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # Only what changed, with a new mtime: ninja rebuilds it (and what a
        # mutant left built from the restored file of an earlier run).
        if os.path.isfile(os.path.join(src, f)) and not (
                os.path.isfile(dst) and filecmp.cmp(os.path.join(src, f), dst, shallow=False)):
            shutil.copyfile(os.path.join(src, f), dst)
            shutil.copymode(os.path.join(src, f), dst)
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        r = run(["meson", "setup", build, "-Dfuzz=true", "-Dtests=false"], cwd=tree,
                env=dict(os.environ, CC="clang"))
        if r.returncode:
            sys.exit("mutants.py: meson setup failed:\n" + r.stdout)

    caught = missed = 0
    for name, target, path, good, bad in MUTANTS:
        if args.target and target not in args.target:
            continue
        f = os.path.join(tree, path)
        with open(f) as fp:
            orig = fp.read()
        if orig.count(good) != 1:
            print(f"NOT APPLIED: {name}: the code it breaks is no longer in {path}")
            missed += 1
            continue
        try:
            with open(f, "w") as fp:
                fp.write(orig.replace(good, bad))
            r = run(["ninja", "-C", build, "-j1", f"tests/fuzz/fuzz_{target}"])
            if r.returncode:
                print(f"NOT BUILT: {name}:\n{r.stdout[-2000:]}")
                missed += 1
                continue
            r = run([os.path.join(build, "tests/fuzz", f"fuzz_{target}"), "-runs=0",
                     "-artifact_prefix=" + os.path.join(scratch, f"crash-{name}-"),
                     os.path.join(src, "tests/fuzz/corpus", target)])
        finally:
            with open(f, "w") as fp:
                fp.write(orig)
        why = [ln for ln in r.stdout.splitlines()
               if ln.startswith(("fuzz invariant broken", "SUMMARY"))]
        if r.returncode:
            print(f"caught: {name} ({target}): {why[0] if why else 'exit %d' % r.returncode}")
            caught += 1
        else:
            print(f"NOT CAUGHT: {name} ({target}): every seed passes")
            missed += 1
    print(f"mutants: {caught} caught, {missed} not caught")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
