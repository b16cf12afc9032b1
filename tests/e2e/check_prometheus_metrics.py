"""Checks Prometheus's remote-storage counters. argv: METRICS_FILE MAJOR then remote names."""
import re
import sys

path, major, remotes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
rows = []
with open(path, encoding="utf-8") as f:
    for line in f:
        m = line_re.match(line)
        if m and m.group(1).startswith("prometheus_remote_storage_"):
            rows.append((m.group(1), dict(label_re.findall(m.group(2) or "")), float(m.group(3))))


def values(metric, remote):
    return [v for n, l, v in rows if n == metric and l.get("remote_name") == remote]


for remote in remotes:
    name = remote.upper()
    for metric in ("samples", "histograms", "exemplars"):
        got = values(f"prometheus_remote_storage_{metric}_failed_total", remote)
        print(("PASS" if got and sum(got) == 0 else "FAIL")
              + f": {name}: prometheus_remote_storage_{metric}_failed_total is 0 ({got})")
    bad = sorted({f"{n}{sorted(l.items())} = {v:g}" for n, l, v in rows
                  if l.get("remote_name") == remote and v != 0
                  and re.search(r"_(failed|dropped|retried)(_[a-z]+)?_total$|_dropped_total$", n)})
    checked = sorted({n for n, l, v in rows if l.get("remote_name") == remote
                      and re.search(r"_(failed|dropped|retried)(_[a-z]+)?_total$", n)})
    print(("FAIL" if bad else "PASS")
          + f": {name}: no failed, dropped or retried data (checked {len(checked)} counters)"
          + (f": {bad}" if bad else ""))
    sent = values("prometheus_remote_storage_samples_total", remote)
    print(("PASS" if sum(sent) > 0 else "FAIL")
          + f": {name}: Prometheus counts samples sent ({sum(sent):g})")
    if major >= 3:
        sent = values("prometheus_remote_storage_histograms_total", remote)
        print(("PASS" if sum(sent) > 0 else "FAIL")
              + f": {name}: Prometheus counts histograms sent ({sum(sent):g})")
    if remote == "rw1":
        sent = values("prometheus_remote_storage_metadata_total", remote)
        print(("PASS" if sum(sent) > 0 else "FAIL")
              + f": {name}: Prometheus counts metadata sent ({sum(sent):g})")
