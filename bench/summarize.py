#!/usr/bin/env python3
"""Summarise bench/run.sh results (hyperfine JSON, /usr/bin/time -v logs) as Markdown.

    python3 bench/summarize.py target/bench/results > summary.md

Also writes summary.json beside them. Standard library only.
"""

import json
import os
import re
import sys

R = sys.argv[1] if len(sys.argv) > 1 else "target/bench/results"
out = {}
lines = []


def p(s=""):
    lines.append(s)


def load(name):
    path = os.path.join(R, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def rss_mib(name):
    path = os.path.join(R, name + ".time")
    if not os.path.exists(path):
        return None
    text = open(path).read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return int(m.group(1)) / 1024 if m else None


def ms(r):
    return r["mean"] * 1000


def fmt(r):
    return "%.1f ms ± %.1f (min %.1f, max %.1f, n=%d)" % (
        ms(r), r["stddev"] * 1000 if r.get("stddev") is not None else 0,
        r["min"] * 1000, r["max"] * 1000, len(r["times"]))


def table(name, title, baseline=None):
    res = load(name)
    if not res:
        return None
    p("### " + title)
    p()
    p("| command | mean ± sd | median | vs baseline |")
    p("|---|---|---|---|")
    base = res.get(baseline) if baseline else None
    for cmd, r in res.items():
        ratio = ""
        if base and cmd != baseline:
            ratio = "%.2f×" % (r["mean"] / base["mean"])
        elif base:
            ratio = "baseline"
        p("| %s | %.1f ms ± %.1f | %.1f ms | %s |" % (
            cmd, ms(r), (r["stddev"] or 0) * 1000, r["median"] * 1000, ratio))
    p()
    out[name] = {c: {"mean_ms": ms(r), "median_ms": r["median"] * 1000,
                     "stddev_ms": (r["stddev"] or 0) * 1000, "min_ms": r["min"] * 1000,
                     "max_ms": r["max"] * 1000, "runs": len(r["times"])}
                 for c, r in res.items()}
    return res


def verdict(ok):
    return "**met**" if ok else "**missed**"


machine = os.path.join(R, "machine.txt")
if os.path.exists(machine):
    p("## Machine")
    p()
    p("```")
    p(open(machine).read().rstrip())
    p("```")
    p()
loadf = os.path.join(R, "load.txt")
if os.path.exists(loadf):
    p("Load average (1, 5, 15 min) when each section started:")
    p()
    p("```")
    p(open(loadf).read().rstrip())
    p("```")
    p()

targets = []
res = table("file-combined", "File store (100k entries) + claude-mem (1M rows)", "raw: jq + sqlite3")
if res:
    base = res["raw: jq + sqlite3"]["mean"]
    for c in ("sessionctl list --format json", "sessionctl check"):
        x = res[c]["mean"] / base
        targets.append(("%s, file store + claude-mem, within 2× raw" % c, x <= 2, "%.2f× (%.0f vs %.0f ms)" % (x, res[c]["mean"] * 1000, base * 1000)))
table("file-parts", "The same, per backend")
res = table("sqlite-combined", "SQLite store (100k session_nodes) + claude-mem (1M rows)", "raw: sqlite3 + sqlite3")
if res:
    base = res["raw: sqlite3 + sqlite3"]["mean"]
    for c in ("sessionctl list --format json", "sessionctl check"):
        x = res[c]["mean"] / base
        targets.append(("%s, SQLite store + claude-mem, within 2× raw" % c, x <= 2, "%.2f× (%.0f vs %.0f ms)" % (x, res[c]["mean"] * 1000, base * 1000)))
res = table("sqlite-parts", "SQLite store alone (100k session_nodes)", "raw: sqlite3 session_nodes")
if res:
    base = res["raw: sqlite3 session_nodes"]["mean"]
    for c, r in res.items():
        if c.startswith("sessionctl"):
            x = r["mean"] / base
            targets.append(("%s, within 2× raw" % c, x <= 2, "%.2f× (%.0f vs %.0f ms)" % (x, r["mean"] * 1000, base * 1000)))
res = table("small", "check on 1k-session stores")
if res:
    for c, r in res.items():
        if "empty" in c or c.startswith("before:"):
            continue
        targets.append(("%s ≤ 20 ms" % c, r["mean"] <= 0.020, "%.1f ms mean, %.1f ms median" % (ms(r), r["median"] * 1000)))
    for n in ("small-file", "small-sqlite"):
        v = rss_mib(n)
        if v is not None:
            targets.append(("check on 1k (%s) ≤ 20 MB peak RSS" % n, v <= 20 * 1e6 / 2**20, "%.1f MiB" % v))

rss_names = ["small-file", "small-sqlite", "big-file-list", "big-file-check", "big-sqlite-list",
             "big-sqlite-check", "big-claude-mem-list", "raw-jq", "raw-sqlite-cm",
             "openclaw-2026.7.35", "openclaw-2026.9.6", "close"]
rows = [(n, rss_mib(n)) for n in rss_names if rss_mib(n) is not None]
if rows:
    p("### Peak RSS (max of 3 runs, /usr/bin/time -v)")
    p()
    p("| run | peak RSS |")
    p("|---|---|")
    for n, v in rows:
        p("| %s | %.1f MiB |" % (n, v))
    p()
    out["rss_mib"] = dict(rows)
    for n in ("big-file-list", "big-file-check", "big-sqlite-list", "big-sqlite-check", "big-claude-mem-list"):
        v = rss_mib(n)
        if v is not None:
            targets.append(("peak RSS at 1M rows (%s) < 100 MB" % n, v < 100 * 1e6 / 2**20, "%.1f MiB" % v))

for name, label in (("openclaw-file", "file store"), ("openclaw-sqlite", "SQLite store")):
    res = table(name, "OpenClaw's own CLI vs sessionctl (%s, 100k sessions)" % label)
    if res:
        oc = [r for c, r in res.items() if c.startswith("openclaw")][0]
        sc = [r for c, r in res.items() if c.startswith("sessionctl")][0]
        x = oc["mean"] / sc["mean"]
        targets.append(("sessionctl ≥ 50× faster than openclaw sessions (%s)" % label, x >= 50,
                        "%.1f× (%.0f ms vs %.0f ms)" % (x, oc["mean"] * 1000, sc["mean"] * 1000)))
res = table("openclaw-small", "OpenClaw's own CLI vs sessionctl (1k-entry stores)")
if res:
    # pair each OpenClaw run with sessionctl's on the same store (the label in brackets)
    def store_label(c):
        return c.split("(")[-1].rstrip(")")
    for oc_c, oc in res.items():
        if not oc_c.startswith("openclaw"):
            continue
        sc = [r for c, r in res.items() if c.startswith("sessionctl") and store_label(c) == store_label(oc_c)][0]
        x = oc["mean"] / sc["mean"]
        targets.append(("sessionctl ≥ 50× faster than openclaw sessions (%s)" % oc_c.split("(")[-1].rstrip(")"),
                        x >= 50, "%.0f× (%.0f ms vs %.1f ms)" % (x, oc["mean"] * 1000, sc["mean"] * 1000)))
if os.path.exists(os.path.join(R, "openclaw-not-measured.txt")):
    targets.append(("sessionctl ≥ 50× faster than openclaw sessions", None, "not measured (OpenClaw not installed)"))

res = table("close", "close --yes of 10k orphans vs one UPDATE", "raw: sqlite3 UPDATE ... WHERE status='active'")
if res:
    base = res["raw: sqlite3 UPDATE ... WHERE status='active'"]["mean"]
    r = [r for c, r in res.items() if c.startswith("sessionctl")][0]
    x = r["mean"] / base
    targets.append(("close --yes of 10k orphans within 2× the raw UPDATE", x <= 2, "%.2f× (%.0f vs %.0f ms)" % (x, r["mean"] * 1000, base * 1000)))
    run = os.path.join(R, "close-run.json")
    if os.path.exists(run):
        d = json.load(open(run))
        p("Kept run: %s; rows after: %s" % (json.dumps(d.get("summary")),
          open(os.path.join(R, "close-after.txt")).read().strip().replace("\n", ", ")))
        p()

res = table("http", "HTTP hook delivery (loopback receiver)", "close, no targets")
if res:
    run = os.path.join(R, "http-run.json")
    n = None
    if os.path.exists(run):
        d = json.load(open(run))
        n = sum(1 for it in d.get("items", []) for a in it.get("actions", [])
                if a.get("kind") == "deliver" and a.get("ok"))
        p("Kept run (concurrency 8): %d deliveries ok, summary %s" % (n, json.dumps(d.get("summary"))))
        recv = os.path.join(R, "http-receiver.txt")
        if os.path.exists(recv):
            p(open(recv).read().strip())
        p()
    if n:
        base = res["close, no targets"]["mean"]
        for c, r in res.items():
            if "http target" in c:
                dt = r["mean"] - base
                rate = n / dt if dt > 0 else float("inf")
                targets.append(("HTTP delivery ≥ 500 payloads/s (%s)" % c.split(", ", 1)[1], rate >= 500,
                                "%.0f payloads/s (%d payloads in %.0f ms extra)" % (rate, n, dt * 1000)))
                out.setdefault("http_rate", {})[c] = rate

# With BENCH_BEFORE: every sessionctl row next to the older binary's, measured in the same run.
pairs = []
for name in ("file-combined", "file-parts", "sqlite-combined", "sqlite-parts", "small",
             "openclaw-file", "openclaw-sqlite", "openclaw-small", "close", "http"):
    res = load(name) or {}
    for c, r in res.items():
        b = res.get("before: " + c)
        if b:
            pairs.append(("%s: %s" % (name, c), "%.1f ms" % ms(b), "%.1f ms" % ms(r), "%.2f×" % (r["mean"] / b["mean"])))
for n in rss_names:
    a, b = rss_mib(n), rss_mib("before-" + n)
    if a is not None and b is not None:
        pairs.append(("peak RSS: " + n, "%.1f MiB" % b, "%.1f MiB" % a, "%.2f×" % (a / b)))
if pairs:
    p("## Before and after (same run)")
    p()
    p("| command | before | after | after / before |")
    p("|---|---|---|---|")
    for c, b, a, x in pairs:
        p("| %s | %s | %s | %s |" % (c, b, a, x))
    p()
    out["before_after"] = [{"command": c, "before": b, "after": a, "ratio": x} for c, b, a, x in pairs]

if targets:
    p("## Targets")
    p()
    p("| target | result | measured |")
    p("|---|---|---|")
    for t, ok, m in targets:
        p("| %s | %s | %s |" % (t, "not measured" if ok is None else verdict(ok), m))
    p()
out["targets"] = [{"target": t, "met": ok, "measured": m} for t, ok, m in targets]
with open(os.path.join(R, "summary.json"), "w") as f:
    json.dump(out, f, indent=2)
print("\n".join(lines))
