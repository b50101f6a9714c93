#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns the STARTRAM lines of a testbed serial log (scenario start-ram)
into start-ram.json, a Markdown table and the data of start-ram.gnuplot.

    bench/start_ram.py SERIAL_LOG OUT_DIR

Each line (tests/testbed/scenarios/start-ram.sh) reads
    ... STARTRAM vmm=V pages=P size=GiB threads=T start=s,s [prefault=s,s] [map=s,s]
(QEMU's map: its vfio trace stamps, first RAM section to vfio_get_device)
where sample i of every line of one (pages, size) point comes from round i,
in which each configuration started once: QEMU's ratio to vfio-vmm is taken
round by round (median, min-max). Per page kind, VMM and thread count a
least-squares line through (size, median) gives the cost per GiB (slope)
and the fixed cost (intercept); for vfio-vmm the same for its own prefault
and DMA-map times. Exits 1 when the log holds no STARTRAM line.
"""
import json
import os
import re
import statistics
import sys

LINE_RE = re.compile(r"STARTRAM (vmm=\S+ pages=\S+ size=\S+ threads=\S+ .*)$")
L1_RE = re.compile(r"STARTRAM-L1 (.*)$")
PAGES = ["4k", "thp", "2m", "1g"]
PAGE_LABEL = {"4k": "4 KiB", "thp": "THP", "2m": "2 MiB", "1g": "1 GiB"}


def fields(text):
    return dict(kv.split("=", 1) for kv in text.split() if "=" in kv)


def floats(s):
    return [float(x) for x in s.split(",") if x]


def parse(path):
    points, l1 = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            m = L1_RE.search(line)
            if m:
                l1 = fields(m.group(1))
                continue
            m = LINE_RE.search(line)
            if not m:
                continue
            kv = fields(m.group(1))
            p = {"vmm": kv["vmm"], "pages": kv["pages"], "size": int(kv["size"]),
                 "threads": int(kv["threads"]), "start": floats(kv["start"])}
            for k in ("prefault", "map"):
                if k in kv:
                    p[k] = floats(kv[k])
            for k in ("start", "prefault", "map"):
                if k in p:
                    p[k + "_median"] = statistics.median(p[k])
            points.append(p)
    return points, l1


def fit(xy):
    """Least squares y = a + b x; None with fewer than two sizes."""
    if len({x for x, _ in xy}) < 2:
        return None
    n = len(xy)
    mx = sum(x for x, _ in xy) / n
    my = sum(y for _, y in xy) / n
    b = sum((x - mx) * (y - my) for x, y in xy) / sum((x - mx) ** 2 for x, _ in xy)
    return {"per_gib": b, "fixed": my - b * mx}


def ratios(points):
    """QEMU / vfio-vmm start time per round, for each (pages, size, threads)."""
    by = {(p["vmm"], p["pages"], p["size"], p["threads"]): p for p in points}
    out = []
    for (vmm, pg, size, t), q in sorted(by.items()):
        v = by.get(("vfio-vmm", pg, size, t))
        if vmm != "qemu" or not v:
            continue
        r = [a / b for a, b in zip(q["start"], v["start"]) if b > 0]
        if r:
            out.append({"pages": pg, "size": size, "threads": t,
                        "ratio": statistics.median(r), "min": min(r), "max": max(r)})
    return out


def configs(points):
    return sorted({(p["vmm"], p["threads"]) for p in points},
                  key=lambda c: (c[0] != "vfio-vmm", c[1]))


def cfg_name(c):
    return f"{c[0]} T={c[1]}"


def table(points, rat):
    cfgs = configs(points)
    by = {(p["vmm"], p["pages"], p["size"], p["threads"]): p for p in points}
    rby = {(r["pages"], r["size"], r["threads"]): r for r in rat}
    qt = sorted({c[1] for c in cfgs if c[0] == "qemu"})
    head = ["pages", "GiB"] + [cfg_name(c) for c in cfgs] + [f"QEMU/vfio-vmm T={t}" for t in qt]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for pg in PAGES:
        for size in sorted({p["size"] for p in points if p["pages"] == pg}):
            cells = [PAGE_LABEL[pg], str(size)]
            for c in cfgs:
                p = by.get((c[0], pg, size, c[1]))
                if not p:
                    cells.append("-")
                    continue
                s = f"{p['start_median']:.2f}"
                if "prefault_median" in p:
                    s += f" ({p['prefault_median']:.2f}+{p['map_median']:.2f})"
                elif "map_median" in p and p["vmm"] == "qemu":
                    s += f" (map {p['map_median']:.2f})"
                elif "map_median" in p:
                    s += f" (0+{p['map_median']:.2f})"
                cells.append(s)
            for t in qt:
                r = rby.get((pg, size, t))
                cells.append("-" if not r else
                             f"{r['ratio']:.2f} ({r['min']:.2f}-{r['max']:.2f})"
                             + (" ?" if r["min"] < 1 <= r["max"] else ""))
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def costs(points):
    out = []
    for pg in PAGES:
        for c in configs(points):
            pts = [p for p in points if p["pages"] == pg and (p["vmm"], p["threads"]) == c]
            if not pts:
                continue
            e = {"pages": pg, "vmm": c[0], "threads": c[1]}
            for k in ("start", "prefault", "map"):
                f = fit([(p["size"], p[k + "_median"]) for p in pts if k + "_median" in p])
                if f:
                    e[k] = f
            out.append(e)
    return out


def cost_rows(cs):
    rows = ["| pages | VMM | threads | start s/GiB | fixed s | prefault s/GiB | pin+map s/GiB |",
            "|---|---|---|---|---|---|---|"]
    for e in cs:
        if "start" not in e:
            continue
        pf = f"{e['prefault']['per_gib']:.3f}" if "prefault" in e and e["threads"] else "-"
        mp = f"{e['map']['per_gib']:.3f}" if "map" in e else "-"
        rows.append(f"| {PAGE_LABEL[e['pages']]} | {e['vmm']} | {e['threads']} | "
                    f"{e['start']['per_gib']:.3f} | {e['start']['fixed']:.2f} | {pf} | {mp} |")
    return rows


def write_dat(points, out):
    cfgs = configs(points)
    by = {(p["vmm"], p["pages"], p["size"], p["threads"]): p for p in points}
    for pg in PAGES:
        sizes = sorted({p["size"] for p in points if p["pages"] == pg})
        path = os.path.join(out, f"start-ram-{pg}.dat")
        if not sizes:
            if os.path.exists(path):
                os.remove(path)
            continue
        with open(path, "w") as f:
            f.write("GiB " + " ".join(f"{c[0]}:T={c[1]}" for c in cfgs) + "\n")
            for s in sizes:
                vals = [by.get((c[0], pg, s, c[1])) for c in cfgs]
                f.write(f"{s} " + " ".join("-" if v is None else f"{v['start_median']:.3f}"
                                           for v in vals) + "\n")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    log, out = sys.argv[1], sys.argv[2]
    points, l1 = parse(log)
    if not points:
        print(f"start_ram.py: no STARTRAM lines in {log}", file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    rat = ratios(points)
    cs = costs(points)
    with open(os.path.join(out, "start-ram.json"), "w") as f:
        json.dump({"l1": l1, "points": points, "ratios": rat, "costs": cs}, f, indent=1)
    md = [f"L1: {l1.get('cpus', '?')} CPUs, {int(l1.get('mem_kib', 0)) >> 20} GiB, "
          f"{l1.get('rounds', '?')} rounds; start time in s, median "
          "(vfio-vmm: prefault+pin/map inside it; QEMU: its DMA map, from its vfio trace)", ""]
    md += table(points, rat) + [""] + cost_rows(cs)
    with open(os.path.join(out, "start-ram.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    write_dat(points, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
