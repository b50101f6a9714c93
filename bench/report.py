#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns the BENCH lines of a testbed serial log into results.json, a
terminal table and the data for bench/plot.gnuplot.

    bench/report.py SERIAL_LOG OUT_DIR [--mode quick|full] [--require M,...]

Each line (printed by tests/testbed/scenarios/bench.sh) reads
    ... BENCH vmm=V metric=M unit=U samples=a,b,c [rounds=N] [key=value ...]
Cycle counts from the L2 guest become ns with L1's TSC rate (metric tsc).
With rounds=N, sample i was taken in round i, in which every VMM ran once:
a peer's ratio to vfio-vmm is then taken round by round, and reported as
the median of those per-round ratios with their spread (min-max); a ratio
whose spread reaches 1.0 is flagged inconclusive.
The disk rows (metrics disk-*: MiB/s, IOPS and median latency of L2
Linux's tb-diskbench) get a table of their own whose ratios all read
"above 1: vfio-vmm did better" (vfio-vmm / peer for throughput, peer /
vfio-vmm for latency; "ratio" and "ratio_is" in the JSON), and plot-disk.
The network and vsock rows (bench.net: TCP stream Gbit/s each way, TCP and
vsock request/response rate and round trips) get one too, against issue
10's target of 0.95, and plot-net; exec start latency is an ordinary row.
Exits with status 1 when the log holds no results or a --require'd
vfio-vmm metric is missing, so CI notices a bench that stopped producing.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

BENCH_RE = re.compile(r"BENCH (vmm=\S+ metric=\S+ .*)$")

# metric: (label, display unit, lower is better)
METRICS = {
    "start": ("VMM start to guest exit (bench-nop)", "ms", True),
    "start-edu": ("same, edu assigned, 256 MiB mapped", "ms", True),
    "exit": ("bare exit: out to an unclaimed port", "ns", True),
    "cf8": ("config read through CF8/CFC", "ns", True),
    "ecam": ("config read through ECAM", "ns", True),
    "bar-direct": ("directly mapped BAR read (edu reg)", "ns", True),
    "bar-ram": ("directly mapped BAR read (ivshmem RAM)", "ns", True),
    "bar-trap": ("trapped BAR read (virtio-net I/O BAR)", "ns", True),
    "msix-table": ("trapped MSI-X table read (nvme)", "ns", True),
    "msix-pba": ("MSI-X PBA read (nvme)", "ns", True),
    "irq-latency": ("interrupt latency, edu MSI -> handler", "ns", True),
    "irq": ("interrupts per second (raise, handle, ack)", "1/s", False),
    "dma-4k": ("DMA map guest RAM, 4 KiB pages", "s/GiB", True),
    "dma-2m": ("DMA map guest RAM, 2 MiB hugepages", "s/GiB", True),
    "rss-none": ("resident memory beyond guest RAM", "MiB", True),
    "rss-edu": ("same, edu assigned", "MiB", True),
    "binary": ("binary size as built (with its libraries)", "MiB", True),
    "binary-stripped": ("binary size stripped (with its libraries)", "MiB", True),
    "linux-boot": ("VMM start to L2 Linux init", "s", True),
    "disk-seq-read": ("disk: sequential read, 1 MiB, QD1", "MiB/s", False),
    "disk-seq-write": ("disk: sequential write, 1 MiB, QD1", "MiB/s", False),
    "disk-rand-read": ("disk: random read, 4 KiB, QD1", "MiB/s", False),
    "disk-rand-write": ("disk: random write, 4 KiB, QD1", "MiB/s", False),
    "disk-seq-read-iops": ("disk: sequential read, 1 MiB, QD1", "IOPS", False),
    "disk-seq-write-iops": ("disk: sequential write, 1 MiB, QD1", "IOPS", False),
    "disk-rand-read-iops": ("disk: random read, 4 KiB, QD1", "IOPS", False),
    "disk-rand-write-iops": ("disk: random write, 4 KiB, QD1", "IOPS", False),
    "disk-seq-read-lat": ("disk: sequential read, median latency", "us", True),
    "disk-seq-write-lat": ("disk: sequential write, median latency", "us", True),
    "disk-rand-read-lat": ("disk: random read, median latency", "us", True),
    "disk-rand-write-lat": ("disk: random write, median latency", "us", True),
    "net-tcp-tx": ("network: TCP stream L2 -> L1", "Gbit/s", False),
    "net-tcp-rx": ("network: TCP stream L1 -> L2", "Gbit/s", False),
    "net-tcp-rr": ("network: TCP 1-byte request/response", "1/s", False),
    "net-tcp-rr-lat": ("network: TCP RR, median round trip", "us", True),
    "net-tcp-rr-p99": ("network: TCP RR, p99 round trip", "us", True),
    "vsock-rr": ("vsock: 1-byte request/response", "1/s", False),
    "vsock-rr-lat": ("vsock: RR, median round trip", "us", True),
    "vsock-rr-p99": ("vsock: RR, p99 round trip", "us", True),
    "exec-start": ("vfio-vmm exec -- true, median", "ms", True),
    "exec-start-p90": ("vfio-vmm exec -- true, p90", "ms", True),
}
# The disk rows (bench.disk), in table order: throughput, where higher is
# better, then latency.
DISK_TESTS = ["seq-read", "seq-write", "rand-read", "rand-write"]
DISK_METRICS = ([f"disk-{t}" for t in DISK_TESTS] + [f"disk-{t}-iops" for t in DISK_TESTS]
                + [f"disk-{t}-lat" for t in DISK_TESTS])
# The network and vsock rows (bench.net), in table order; their ratios are
# turned like the disk rows' (above 1: vfio-vmm did better).
NET_METRICS = ["net-tcp-tx", "net-tcp-rx", "net-tcp-rr", "net-tcp-rr-lat", "net-tcp-rr-p99",
               "vsock-rr", "vsock-rr-lat", "vsock-rr-p99"]
# What each table of turned ratios calls itself, its rows and its target.
TURNED = {"disk": (DISK_METRICS, 1.0), "network and vsock": (NET_METRICS, 0.95)}
VMMS = ["vfio-vmm", "qemu", "qemu-microvm", "kvmtool"]


# The linux scenario's own boot time, used when the bench scenario booted no Linux.
LINUX_RE = re.compile(r"NOTE linux\.pvh: L2 boot time \(vmlinux\): ([0-9.]+)s")


def parse(path):
    recs = []
    linux = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINUX_RE.search(line)
            if m:
                linux.append(m.group(1))
            m = BENCH_RE.search(line.rstrip("\r\n"))
            if not m:
                continue
            kv = dict(w.split("=", 1) for w in m.group(1).split() if "=" in w)
            try:
                kv["samples"] = [float(x) for x in kv["samples"].split(",") if x]
            except ValueError:
                continue
            # A verbose log has each line twice (the test's output and the
            # NOTE summary): keep one.
            if kv not in recs:
                recs.append(kv)
    if linux and not any(r["metric"] == "linux-boot" for r in recs):
        recs.append({"vmm": "vfio-vmm", "metric": "linux-boot", "unit": "s",
                     "samples": [float(x) for x in linux], "kernel": "vmlinux (linux scenario)"})
    return recs


def convert(rec, tsc_mhz):
    """The samples in the metric's display unit, or None if not convertible."""
    unit, s, metric = rec["unit"], rec["samples"], rec["metric"]
    if unit == "cycles":
        if not tsc_mhz:
            return None
        n = float(rec.get("n", 1)) or 1
        if metric == "irq":
            return [n / (c / (tsc_mhz * 1e6)) for c in s if c > 0]
        return [c / n / tsc_mhz * 1000.0 for c in s]
    if unit == "ns":
        return [v / 1e6 for v in s]
    if unit == "KiB":
        return [v / 1024.0 for v in s]
    if unit == "bytes":
        libs = float(rec.get("libs", 0))
        return [(v + libs) / (1 << 20) for v in s]
    return list(s)


def summarize(recs):
    tsc = next((r["samples"][0] for r in recs if r["metric"] == "tsc"), None)
    results = []
    for r in recs:
        if r["metric"] not in METRICS:
            continue
        vals = convert(r, tsc)
        if not vals:
            continue
        med = statistics.median(vals)
        res = {
            "vmm": r["vmm"], "metric": r["metric"], "label": METRICS[r["metric"]][0],
            "unit": METRICS[r["metric"]][1], "median": med, "min": min(vals),
            "max": max(vals), "spread_pct": 100.0 * (max(vals) - min(vals)) / med if med else 0.0,
            "runs": len(vals), "samples": vals,
        }
        for k in ("exits", "n", "memory", "calls", "kernel"):
            if k in r:
                res[k] = float(r[k]) if k == "exits" else r[k]
        if "rounds" in r:
            res["rounds"] = int(r["rounds"])
        results.append(res)
    return tsc, results


def find(results, vmm, metric):
    return next((r for r in results if r["vmm"] == vmm and r["metric"] == metric), None)


def paired(peer, ours):
    """True when both results come from the same interleaved rounds."""
    return ("rounds" in peer and "rounds" in ours
            and peer["rounds"] == ours["rounds"] == len(peer["samples"]) == len(ours["samples"]))


def peer_ratio(peer, ours):
    """peer / vfio-vmm for one metric, with its spread.

    Interleaved results give one ratio per round (the same round's samples,
    taken seconds apart); the ratio is their median and the spread
    their min-max. Results from blocks run one after the other (older logs)
    cannot be paired: the ratio is that of the medians, and the spread runs
    over every peer sample against every vfio-vmm sample. Either way, a spread
    that reaches 1.0 means the runs do not agree on which VMM is cheaper.
    """
    if paired(peer, ours):
        per = [p / o for p, o in zip(peer["samples"], ours["samples"]) if o]
        value = statistics.median(per) if per else None
        basis = "rounds"
    elif len(peer["samples"]) == len(ours["samples"]) == 1:
        # One measurement each (a file size): nothing to pair or spread.
        per = [peer["samples"][0] / ours["samples"][0]] if ours["samples"][0] else []
        value = per[0] if per else None
        basis = "single"
    else:
        per = [p / o for p in peer["samples"] for o in ours["samples"] if o]
        value = peer["median"] / ours["median"] if ours["median"] else None
        basis = "unpaired"
    if value is None or not per:
        return None
    lo, hi = min(per), max(per)
    q1, _, q3 = (statistics.quantiles(per, n=4, method="inclusive") if len(per) > 1
                 else (per[0],) * 3)
    out = {"peer_over_vfio_vmm": value, "basis": basis, "min": lo, "max": hi,
           "q1": q1, "q3": q3, "inconclusive": lo <= 1.0 <= hi}
    if basis == "rounds":
        out["rounds"] = len(per)
        out["round_ratios"] = per
    return out


def disk_ratio(peer, ours):
    """A disk row's ratio, turned so that above 1 means vfio-vmm did better:
    vfio-vmm / peer for throughput (MiB/s, IOPS: higher is better), peer /
    vfio-vmm for latency. Per round, median, spread and flag as in peer_ratio."""
    lower_better = METRICS[peer["metric"]][2]
    r = peer_ratio(peer, ours) if lower_better else peer_ratio(ours, peer)
    if not r:
        return None
    r["ratio"] = r.pop("peer_over_vfio_vmm")
    r["ratio_is"] = "peer / vfio-vmm" if lower_better else "vfio-vmm / peer"
    return r


def ratios(results):
    """Peers against vfio-vmm, and each trapped access against the exit floor."""
    out = []
    for r in results:
        if r["vmm"] == "vfio-vmm" or r["vmm"] == "l1":
            continue
        ours = find(results, "vfio-vmm", r["metric"])
        if not ours:
            continue
        if r["metric"] in DISK_METRICS or r["metric"] in NET_METRICS:
            dr = disk_ratio(r, ours)
            if dr:
                out.append({"metric": r["metric"], "peer": r["vmm"], **dr})
            continue
        pr = peer_ratio(r, ours)
        if pr:
            out.append({"metric": r["metric"], "peer": r["vmm"], **pr})
    for vmm in VMMS:
        floor = find(results, vmm, "exit")
        if not floor:
            continue
        for m in ("cf8", "ecam", "bar-trap", "msix-table", "msix-pba", "bar-direct", "irq-latency"):
            r = find(results, vmm, m)
            if r and floor["median"]:
                out.append({"metric": m, "peer": vmm + " exit floor",
                            "over_floor": r["median"] / floor["median"], "vmm": vmm})
    return out


def fmt(v):
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def table(results, tsc, mode):
    cols = [v for v in VMMS if any(r["vmm"] == v for r in results)]
    print(f"vfio-vmm passthrough benchmarks ({mode} run; L1 TSC {tsc or '?'} MHz; "
          "median [min-max] over rounds; absolute times are nested under TCG)")
    head = f"{'measurement':44} {'unit':6}" + "".join(f" {c:>24}" for c in cols)
    if any("exits" in r for r in results):
        head += f" {'exits':>6}"
    print(head)
    print("-" * len(head))
    for metric in METRICS:
        row = [find(results, c, metric) for c in cols]
        if not any(row):
            continue
        line = f"{METRICS[metric][0]:44} {METRICS[metric][1]:6}"
        for r in row:
            cell = f"{fmt(r['median'])} [{fmt(r['min'])}-{fmt(r['max'])}]" if r else "-"
            line += f" {cell:>24}"
        ours = find(results, "vfio-vmm", metric)
        if ours and "exits" in ours:
            line += f" {ours['exits']:6.2f}"
        print(line)


PEERS = ["qemu", "qemu-microvm", "kvmtool"]
FLAG = "?"


def ratio_cell(r):
    if not r:
        return "-"
    cell = f"{fmt(r['peer_over_vfio_vmm'])} [{fmt(r['min'])}-{fmt(r['max'])}]"
    return cell + (f" {FLAG}" if r["inconclusive"] else "")


def ratio_table(ratio_list):
    """Peer / vfio-vmm per metric, a column per peer, inconclusive ones flagged."""
    by = {(r["peer"], r["metric"]): r for r in ratio_list if "peer_over_vfio_vmm" in r}
    peers = [p for p in PEERS if any(k[0] == p for k in by)]
    if not peers:
        return False
    print(f"peer / vfio-vmm (above 1: vfio-vmm is cheaper; for interrupts per second, the peer "
          f"is faster):\nmedian of the per-round ratios [min-max]; {FLAG} = inconclusive: "
          "the spread reaches 1.0")
    head = f"{'measurement':44}" + "".join(f" {p:>26}" for p in peers) + f" {'rounds':>8}"
    print(head)
    print("-" * len(head))
    for metric in METRICS:
        row = [by.get((p, metric)) for p in peers]
        if not any(row):
            continue
        line = f"{METRICS[metric][0]:44}" + "".join(f" {ratio_cell(r):>26}" for r in row)
        bases = {str(r["rounds"]) if r["basis"] == "rounds" else
                 "1" if r["basis"] == "single" else r["basis"] for r in row if r}
        line += f" {'/'.join(sorted(bases)):>8}"
        print(line)
    flagged = [f"{r['metric']} ({r['peer']})" for r in ratio_list
               if r.get("inconclusive") and "peer_over_vfio_vmm" in r]
    print(f"inconclusive: {', '.join(flagged) if flagged else 'none'}")
    return True


def disk_ratio_cell(r):
    if not r:
        return "-"
    cell = f"{fmt(r['ratio'])} [{fmt(r['min'])}-{fmt(r['max'])}]"
    return cell + (f" {FLAG}" if r["inconclusive"] else "")


def disk_ratio_table(ratio_list, title="disk"):
    """One table of turned ratios (the disk rows, or the network and vsock
    rows) against each peer, every ratio turned so that above 1 means
    vfio-vmm did better; the target is issue 9's >= 1.0 for the disk and
    issue 10's >= 0.95 (of QEMU) for the network."""
    metrics, target = TURNED[title]
    by = {(r["peer"], r["metric"]): r for r in ratio_list
          if "ratio_is" in r and r["metric"] in metrics}
    peers = [p for p in PEERS if any(k[0] == p for k in by)]
    if not peers:
        return False
    print(f"{title}, vfio-vmm against each peer, above 1: vfio-vmm did better "
          f"(target >= {target:g}):\n"
          "throughput, IOPS and transactions/s as vfio-vmm / peer, latency as peer / vfio-vmm;\n"
          f"median of the per-round ratios [min-max]; {FLAG} = inconclusive: the spread reaches 1.0")
    head = (f"{'measurement':44} {'unit':10} {'ratio is':16}" + "".join(f" {p:>26}" for p in peers)
            + f" {'rounds':>8}")
    print(head)
    print("-" * len(head))
    # A disk test's IOPS ratio is its MiB/s ratio (the same requests of one
    # size in the same time): one row for both.
    for metric in (m for m in metrics if not m.endswith("-iops")):
        row = [by.get((p, metric)) for p in peers]
        if not any(row):
            continue
        unit = ("MiB/s=IOPS" if METRICS[metric][1] == "MiB/s" and metric in DISK_METRICS
                else METRICS[metric][1])
        line = (f"{METRICS[metric][0]:44} {unit:10} "
                f"{next(r for r in row if r)['ratio_is']:16}"
                + "".join(f" {disk_ratio_cell(r):>26}" for r in row))
        bases = {str(r["rounds"]) if r["basis"] == "rounds" else r["basis"] for r in row if r}
        print(line + f" {'/'.join(sorted(bases)):>8}")
    shown = [r for r in by.values() if not r["metric"].endswith("-iops")]
    flagged = [f"{r['metric']} ({r['peer']})" for r in shown if r["inconclusive"]]
    below = [f"{r['metric']} ({r['peer']})" for r in shown if r["max"] < target]
    median_below = [f"{r['metric']} ({r['peer']})" for r in shown
                     if r["ratio"] < target <= r["max"]]
    print(f"inconclusive: {', '.join(flagged) if flagged else 'none'}")
    print(f"vfio-vmm below the target in every round: {', '.join(below) if below else 'none'}")
    print(f"median below the target, some round above: "
          f"{', '.join(median_below) if median_below else 'none'}")
    return True


def write_plot_data(results, out_dir):
    """Two bar charts: per-access costs and process-level times, per VMM."""
    vmms = ("vfio-vmm", "qemu", "qemu-microvm", "kvmtool")
    groups = {
        "access": ["exit", "cf8", "ecam", "bar-trap", "msix-table", "msix-pba",
                   "bar-direct", "bar-ram", "irq-latency"],
        "start": ["start", "start-edu"],
        "disk-mib": [f"disk-{t}" for t in DISK_TESTS],
        "disk-iops": [f"disk-{t}-iops" for t in DISK_TESTS],
        "net-gbit": ["net-tcp-tx", "net-tcp-rx"],
        "net-lat": ["net-tcp-rr-lat", "net-tcp-rr-p99", "vsock-rr-lat", "vsock-rr-p99"],
    }
    for name, metrics in groups.items():
        # gnuplot refuses a histogram column without a single value, and
        # plot.gnuplot skips a chart whose file is missing (an --only run).
        path = os.path.join(out_dir, f"plot-{name}.dat")
        cols = [c for c in vmms if any(find(results, c, m) for m in metrics)]
        if os.path.exists(path):
            os.remove(path)
        if not cols:
            continue
        with open(path, "w") as f:
            f.write("metric " + " ".join(cols) + "\n")
            for m in metrics:
                row = [find(results, c, m) for c in cols]
                if not any(row):
                    continue
                label = m[len("disk-"):-len("-iops")] if m.endswith("-iops") else \
                    m[len("disk-"):] if m.startswith("disk-") else \
                    m[len("net-"):] if m.startswith("net-") else m
                f.write(label + " " + " ".join(f"{r['median']:.6g}" if r else "NaN"
                                               for r in row) + "\n")


# Costs where a ratio reads "how many times vfio-vmm's cost the peer pays"
# (rates such as irq/s would read the other way round, so they are left out;
# so is the unstripped binary size, the stripped one compares like with like).
RATIO_METRICS = ["start", "start-edu", "linux-boot", "exit", "cf8", "ecam", "bar-trap",
                 "msix-table", "msix-pba", "bar-direct", "bar-ram", "irq-latency",
                 "rss-none", "binary-stripped", "exec-start"]


def write_ratio_data(ratio_list, out_dir):
    """Peer / vfio-vmm per metric for the ratio chart: for each peer, the
    ratio and its min and max (error bars); a metric whose ratio is
    inconclusive for some peer gets "(?)" after its name. No file without a peer."""
    path = os.path.join(out_dir, "plot-ratio.dat")
    by = {(r["peer"], r["metric"]): r for r in ratio_list if "peer_over_vfio_vmm" in r}
    peers = [p for p in PEERS if any(k[0] == p for k in by)]
    if os.path.exists(path):
        os.remove(path)
    if not peers:
        return
    with open(path, "w") as f:
        f.write("metric " + " ".join(f"{p} {p}-min {p}-max" for p in peers) + "\n")
        for m in RATIO_METRICS:
            row = [by.get((p, m)) for p in peers]
            if not any(row):
                continue
            label = m + (f" ({FLAG})" if any(r and r["inconclusive"] for r in row) else "")
            vals = [f"{r['peer_over_vfio_vmm']:.4g} {r['min']:.4g} {r['max']:.4g}" if r
                    else "NaN NaN NaN" for r in row]
            f.write(f'"{label}" ' + " ".join(vals) + "\n")


def git_rev():
    try:
        return subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                               "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("out_dir")
    ap.add_argument("--mode", default="quick")
    ap.add_argument("--require", default="")
    a = ap.parse_args()
    recs = parse(a.log)
    tsc, results = summarize(recs)
    if not results:
        print(f"bench: no BENCH results in {a.log}", file=sys.stderr)
        return 1
    os.makedirs(a.out_dir, exist_ok=True)
    doc = {"mode": a.mode, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "git": git_rev(),
           "tsc_mhz": tsc, "results": results, "ratios": ratios(results)}
    with open(os.path.join(a.out_dir, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
    table(results, tsc, a.mode)
    print()
    if ratio_table(doc["ratios"]):
        print()
    for title in TURNED:
        if disk_ratio_table(doc["ratios"], title):
            print()
    for r in doc["ratios"]:
        if "over_floor" in r:
            print(f"ratio {r['metric']:12} {r['vmm']:14} / its exit floor = {r['over_floor']:.3g}")
    write_plot_data(results, a.out_dir)
    write_ratio_data(doc["ratios"], a.out_dir)
    missing = [m for m in a.require.split(",") if m and not find(results, "vfio-vmm", m)]
    if missing:
        print(f"bench: missing vfio-vmm results: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
