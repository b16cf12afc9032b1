"""Checks the JSON lines promscope printed for a real Prometheus, one file per protocol.

    python3 check_prometheus.py wait|report JOB START_MS [--target TARGET_JSON] PROTO=FILE...

Prometheus scrapes itself as job JOB (2.x: RW 1.0; 3.x: RW 1.0 and 2.0 with native
histograms). With --target it also scrapes tests/e2e/target.py (as job `target`) with the
newest features on (3.16): exemplars, classic histograms converted to custom-bucket native
histograms (schema -53), `__type__`/`__unit__` labels, start timestamps (RW 2.0 only) and
metadata from the WAL. `wait` exits 0 once every expectation is met; `report` prints a
PASS/FAIL line per expectation.
"""
import argparse
import json
import sys
import time

import records as rec

parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=("wait", "report"))
parser.add_argument("job")
parser.add_argument("start_ms", type=int)
parser.add_argument("--target")
parser.add_argument("instances", nargs="+")
args = parser.parse_args()
instances = [a.split("=", 1) for a in args.instances]
major = 3 if any(p == "rw2" for p, _ in instances) else 2
now_ms = int(time.time() * 1000)
results = rec.Results()
expect = results.expect
target = None
if args.target:
    with open(args.target, encoding="utf-8") as f:
        target = json.load(f)


def check_self_scrape(name, kinds):
    """Prometheus's own metrics (job JOB)."""
    samples, histograms = kinds.get("sample", []), kinds.get("histogram", [])
    job = args.job

    def series(metric):
        return [s for s in samples if rec.name_of(s) == metric
                and rec.labels_dict(s["labels"]).get("job") == job]

    for metric in ("up", "prometheus_build_info"):
        got = series(metric)
        expect(got, f"{name}: samples of {metric} arrive with job={job} ({len(got)} samples)")
    ups = [s["value"] for s in series("up")]
    expect(ups and all(v == "1" for v in ups), f"{name}: every up sample is 1 ({sorted(set(ups))})")
    info = [rec.labels_dict(s["labels"]) for s in series("prometheus_build_info")]
    versions = sorted({i.get("version") for i in info}, key=str)
    expect(info and all(i.get("instance") for i in info) and len(versions) == 1,
           f"{name}: prometheus_build_info has instance and version labels (version {versions})")
    metrics = {rec.name_of(s) for s in samples}
    expect(len(metrics) >= 50, f"{name}: samples of many metrics arrive"
           f" ({len(samples)} samples of {len(metrics)} metrics)")
    stamps = [s["timestamp_ms"] for s in samples] + [h["timestamp_ms"] for h in histograms]
    expect(stamps and all(args.start_ms - 120_000 <= t <= now_ms + 60_000 for t in stamps),
           f"{name}: sample timestamps are milliseconds from this run")
    metadata = kinds.get("metadata", [])
    types = {m["metric"]: m["type"] for m in metadata}
    expect(len(types) >= 10, f"{name}: metadata arrives ({len(metadata)} records for {len(types)} metrics)")
    expect(types.get("prometheus_build_info") == "gauge"
           and types.get("prometheus_http_requests_total") == "counter"
           and any(m["help"] for m in metadata),
           f"{name}: metadata is right (prometheus_build_info: {types.get('prometheus_build_info')},"
           f" prometheus_http_requests_total: {types.get('prometheus_http_requests_total')})")
    if major < 3:
        return
    native = [h for h in histograms if rec.name_of(h) == "prometheus_http_request_duration_seconds"]
    expect(native, f"{name}: native histograms arrive ({len(histograms)} histogram records,"
           f" {len(native)} of prometheus_http_request_duration_seconds)")
    problems = {f"{rec.name_of(h)}: {p}" for h in histograms for p in rec.histogram_problems(h)}
    expect(histograms and not problems,
           f"{name}: histograms are consistent (count = zero + buckets, spans match)",
           sorted(problems)[:5])
    jobs = {rec.labels_dict(h["labels"]).get("job") for h in histograms}
    expect(histograms and jobs <= {job, "target"}, f"{name}: histograms carry job labels ({jobs})")


def check_target(name, kinds):
    """The newest features, on tests/e2e/target.py's fixed page (job `target`)."""
    families = {f["name"]: f for f in target["families"]}
    samples = [s for s in kinds.get("sample", [])
               if rec.labels_dict(s["labels"]).get("job") == "target"]
    histograms = [h for h in kinds.get("histogram", [])
                  if rec.labels_dict(h["labels"]).get("job") == "target"]
    exemplars = [e for e in kinds.get("exemplar", [])
                 if rec.labels_dict(e["labels"]).get("job") == "target"]

    # Float series: the values exposed, with __type__ and __unit__ from the family; over
    # RW 1.0 the custom-bucket histogram comes back as classic series (convert_nhcb_to_classic).
    exposed = rec.target_samples(f for f in families.values()
                                 if name == "RW1" or f["type"] != "histogram")
    family_of = {metric: f for f in families.values()
                 for metric in (f["name"] + x for x in ("", "_total", "_bucket", "_count", "_sum"))}
    created = {(f["name"] + "_total", tuple(sorted(x["labels"].items()))): x["created_ms"]
               for f in families.values() for x in f["series"]
               if f["type"] == "counter" and "created_ms" in x}
    wrong, seen = [], set()
    for s in samples:
        labels = rec.labels_dict(s["labels"])
        metric = labels["__name__"]
        key = (metric, tuple(sorted((k, v) for k, v in labels.items() if k not in
                                    ("__name__", "job", "instance", "__type__", "__unit__"))))
        if key not in exposed:
            continue  # up, scrape_* ...
        seen.add(key)
        family = family_of[metric]
        problems = []
        if rec.value(s["value"]) != exposed[key]:
            problems.append(f"value {s['value']}, exposed {exposed[key]}")
        if (labels.get("__type__"), labels.get("__unit__")) != (family["type"], family["unit"]):
            problems.append(f"__type__ {labels.get('__type__')!r}, __unit__ {labels.get('__unit__')!r}")
        if name == "RW2" and key in created and s.get("start_timestamp_ms") != created[key]:
            problems.append(f"start_timestamp_ms {s.get('start_timestamp_ms')}, created {created[key]}")
        if problems:
            wrong.append(f"{metric}{rec.selector(s['labels'])}: {'; '.join(problems)}")
    expect(len(seen) == len(exposed) and not wrong,
           f"{name}: the target's float series arrive with the exposed values, __type__ and"
           f" __unit__ labels" + (" and start timestamps" if name == "RW2" else "")
           + f" ({len(seen)}/{len(exposed)} series)", sorted(set(wrong))[:3]
           or f"missing {sorted(set(exposed) - seen)[:3]}")

    # The classic histogram, converted to a custom-bucket native histogram (RW 2.0 only:
    # RW 1.0 gets classic series, checked above).
    if name == "RW2":
        exposed = families["e2e_latency_seconds"]["series"][0]
        want_buckets = [(b, float(c - p)) for b, c, p in zip(
            exposed["bounds"] + [float("inf")], exposed["cumulative"], [0] + exposed["cumulative"])]
        wrong = []
        for h in histograms:
            labels = rec.labels_dict(h["labels"])
            got = (h["schema"], [rec.value(v) for v in h.get("custom_values", [])],
                   rec.custom_buckets(h) if h["schema"] == -53 else None,
                   rec.value(h["count"]), rec.value(h["sum"]),
                   labels.get("__type__"), labels.get("__unit__"))
            want = (-53, exposed["bounds"], want_buckets, float(exposed["count"]), exposed["sum"],
                    "histogram", "seconds")
            if got != want:
                wrong.append(f"{rec.selector(h['labels'])}: got {got}, want {want}")
            elif h.get("start_timestamp_ms") != exposed["created_ms"]:
                wrong.append(f"start_timestamp_ms {h.get('start_timestamp_ms')}, created {exposed['created_ms']}")
        expect(histograms and not wrong,
               f"{name}: the classic histogram arrives as schema -53 with its bounds, counts,"
               f" __type__/__unit__ and start timestamp ({len(histograms)} records)", wrong[:2])

    # Exemplars, as exposed (each exposed once, so sent once).
    want = set()
    for f in families.values():
        for x in f["series"]:
            for e in x.get("exemplars", [x.get("exemplar")] if x.get("exemplar") else []):
                want.add((f["name"], json.dumps(e["labels"], sort_keys=True), e["value"], e["timestamp_ms"]))
    got = set()
    for e in exemplars:
        metric = rec.name_of(e)
        family = metric.removesuffix("_total").removesuffix("_bucket")
        got.add((family, json.dumps(rec.labels_dict(e["exemplar_labels"]), sort_keys=True),
                 rec.value(e["value"]), e["timestamp_ms"]))
    expect(want and got == want, f"{name}: every exposed exemplar arrives with its labels, value"
           f" and timestamp ({len(got & want)}/{len(want)}, {len(exemplars)} records)",
           f"missing {sorted(want - got)[:3]}, unexpected {sorted(got - want)[:3]}")

    # Metadata with units (RW 2.0 carries them from the WAL's metadata records).
    metadata = {m["metric"]: m for m in kinds.get("metadata", [])}
    wrong = []
    for f in families.values():
        m = metadata.get(f["name"]) or metadata.get(f["name"] + "_total")
        if not m or (m["type"], m["help"], m["unit"]) != (f["type"], f["help"], f["unit"]):
            wrong.append(f"{f['name']}: {m and (m['type'], m['help'], m['unit'])}")
    expect(not wrong, f"{name}: the target's metadata arrives with type, help and unit", wrong)


for proto, path in instances:
    name = proto.upper()
    records, bad = rec.load(path)
    kinds = rec.by_kind(records)
    check_self_scrape(name, kinds)
    if target:
        check_target(name, kinds)
    expect(not bad, f"{name}: every output line is JSON", bad[:3])
    rejected = kinds.get("rejected", [])
    expect(not rejected, f"{name}: no rejected requests",
           [(r.get("status"), r.get("message")) for r in rejected[:3]])
    warnings = sorted({w.get("message") for w in kinds.get("warning", [])})
    expect(not warnings, f"{name}: no warnings", warnings[:3])
    problems = sorted({(p.get("rule"), p.get("message")) for p in kinds.get("problem", [])
                       if p.get("severity") in ("error", "warning")})
    expect(not problems, f"{name}: no problems at error or warning", problems[:3])
    if args.mode == "report":
        print(f"  {name}: {len(records)} records: "
              + ", ".join(f"{len(v)} {k}" for k, v in sorted(kinds.items(), key=str)),
              file=sys.stderr)

if args.mode == "wait":
    sys.exit(0 if results.all_ok() else 1)
results.print()
