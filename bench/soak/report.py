#!/usr/bin/env python3
"""The soak's report (bench/soak.sh): one markdown row per minute (latency of the transactions due that minute,
the node's samples at its end), the growth of each resource over the last 20 minutes (the last two thirds of a
shorter run), the mail accounting, and soak.svg (RSS, managed heap, data directory and p99 over time).

    report.py OUT_DIR LOAD_SUMMARY ACCEPTED SUNK GREY_ACCEPTED GREY_DEFERRED RATE
"""
import sys

out, summary, accepted, sunk, grey_ok, grey_deferred, rate = sys.argv[1:8]
accepted, sunk, grey_ok, grey_deferred = int(accepted), int(sunk), int(grey_ok), int(grey_deferred)

samples = []
with open(f"{out}/samples.tsv") as f:
    header = f.readline().split()
    for line in f:
        samples.append(dict(zip(header, line.split())))
windows = {}
with open(f"{out}/windows.txt") as f:
    for line in f:
        fields = dict(kv.split("=", 1) for kv in line.split())
        windows[int(fields["window"])] = fields

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")

rows = []
for s in samples:
    w = windows.get(int(s["minute"]), {})
    rows.append({**s, "ok": w.get("ok", ""), "failed": w.get("failed", ""), "p50_ms": w.get("p50_ms", ""), "p99_ms": w.get("p99_ms", "")})

cols = ["minute", "ok", "failed", "p50_ms", "p99_ms", "rss_mb", "heap_mb", "files", "data_mb", "queue_mb", "events_mb", "queued", "cpu_s"]
print(f"Soak at {rate} msg/s offered; load: {summary}")
print()
print("| " + " | ".join(cols) + " |")
print("|" + "---|" * len(cols))
for r in rows:
    print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")

n = len(rows)
first = max(0, n - 21) if n > 25 else n // 3
print()
print(f"Growth from minute {rows[first]['minute']} to minute {rows[-1]['minute']} (target: under 5 %):")
verdicts = []
for c in ["rss_mb", "heap_mb", "files", "data_mb", "queue_mb", "events_mb", "p99_ms"]:
    a, b = num(rows[first][c]), num(rows[-1][c])
    if a != a or b != b or a == 0:
        print(f"  {c}: n/a ({rows[first][c]} -> {rows[-1][c]})")
        continue
    # Latency and resources fluctuate minute to minute: compare the mean of the first and last thirds of the window.
    span = [num(r[c]) for r in rows[first:]]
    k = max(1, len(span) // 3)
    early, late = sum(span[:k]) / k, sum(span[-k:]) / k
    growth = 100 * (late - early) / early if early else float("nan")
    verdicts.append((c, growth))
    print(f"  {c}: {early:.1f} -> {late:.1f} (mean of first and last thirds): {growth:+.1f} %")
delivered = sunk + grey_ok
print()
print(f"Mail: accepted {accepted}, delivered {delivered} (relay.test {sunk}, grey.test {grey_ok} after {grey_deferred} greylisted first attempts); "
      + ("nothing lost" if delivered >= accepted else f"{accepted - delivered} not delivered at the end"))

# The plot: four panels sharing the time axis, each scaled to its own range.
series = [("RSS (MB)", "rss_mb"), ("managed heap (MB)", "heap_mb"), ("data directory (MB)", "data_mb"),
          ("of it the queue's storage: journal, spool (MB)", "queue_mb"), ("p99 latency (ms)", "p99_ms")]
W, H, P = 720, 150, 40
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H * len(series)}" font-family="sans-serif" font-size="11">']
for i, (title, key) in enumerate(series):
    ys = [num(r[key]) for r in rows]
    ys = [y for y in ys if y == y]
    top = i * H
    svg.append(f'<text x="{P}" y="{top + 14}">{title}</text>')
    if len(ys) < 2:
        continue
    lo, hi = 0.0, max(ys) * 1.1 or 1.0
    pts = " ".join(f"{P + (W - 2 * P) * j / (len(ys) - 1):.1f},{top + H - 20 - (H - 40) * (y - lo) / (hi - lo):.1f}" for j, y in enumerate(ys))
    svg.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/>')
    svg.append(f'<text x="2" y="{top + 28}">{hi:.0f}</text><text x="2" y="{top + H - 20}">0</text>')
    svg.append(f'<line x1="{P}" y1="{top + H - 20}" x2="{W - P}" y2="{top + H - 20}" stroke="#999"/>')
svg.append(f'<text x="{W - P - 60}" y="{H * len(series) - 4}">minutes 1–{rows[-1]["minute"]}</text></svg>')
with open(f"{out}/soak.svg", "w") as f:
    f.write("\n".join(svg))
