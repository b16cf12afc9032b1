"""Compares what a sender sent with what promscope printed, exactly.

    python3 tests/e2e/check_sent.py NAME SENT_JSONL PROMSCOPE_JSONL [--want-warning REGEX]...
                                    [--want-problem RULE]... [--sent-nothing]

SENT_JSONL is written by the test from the sender's own side (what it was given, or the
requests it built): one record a line,
  {"kind": "sample", "labels": [[name, value], ...], "timestamp_ms": T, "value": FLOAT or "NaN"}
  (or "timestamp_ms": [EARLIEST, LATEST] where the sender library picks the time itself)
  {"kind": "metadata", "metric": M, "type": T, "help": H, "unit": U}
  {"kind": "expect", "what": TEXT, "labels": [[name, value], ...], "value": FLOAT}
`expect` records name one sample that must have arrived (for the mappings a test wants to
show, e.g. a non-ASCII value or a repeated label name). Every sent sample must arrive
exactly once with the same labels (repeated names included), timestamp and value, and
nothing else; every sent metadata record must arrive. No request may be rejected; every
warning must match one of the --want-warning patterns, and each pattern must match one;
every problem rule at error or warning severity must be one of --want-problem, and each of
those must fire.
"""
import argparse
import collections
import math
import re

import records as rec

parser = argparse.ArgumentParser()
parser.add_argument("name")
parser.add_argument("sent")
parser.add_argument("got")
parser.add_argument("--want-warning", action="append", default=[])
parser.add_argument("--want-problem", action="append", default=[])
parser.add_argument("--sent-nothing", action="store_true",
                    help="SENT_JSONL is empty on purpose: the sender sent nothing decodable")
args = parser.parse_args()
name = args.name
results = rec.Results()


def sample_key(labels, timestamp_ms, value):
    v = rec.value(value) if isinstance(value, str) else float(value)
    return (labels, int(timestamp_ms), "NaN" if math.isnan(v) else v)


sent, _ = rec.load(args.sent)
got, bad = rec.load(args.got)
kinds = rec.by_kind(got)
got_samples = collections.Counter(
    sample_key(rec.label_pairs(s["labels"]), s["timestamp_ms"], s["value"])
    for s in kinds.get("sample", []))
sent_samples = collections.Counter()
ranged = []
for s in sent:
    if s["kind"] == "sample" and isinstance(s["timestamp_ms"], list):
        ranged.append(s)
    elif s["kind"] == "sample":
        sent_samples[sample_key(rec.label_pairs(s["labels"]), s["timestamp_ms"], s["value"])] += 1
extra = got_samples - sent_samples
# A sample whose time the library chose matches one that arrived within its time range.
for s in ranged:
    lo, hi = s["timestamp_ms"]
    key = sample_key(rec.label_pairs(s["labels"]), lo, s["value"])
    match = next((k for k in extra if k[0] == key[0] and k[2] == key[2] and lo <= k[1] <= hi),
                 key)
    sent_samples[match] += 1
    extra = got_samples - sent_samples
missing = sent_samples - got_samples


def show(counter):
    return [f"{rec.selector(k[0])} @{k[1]} = {k[2]!r}" + (f" (x{n})" if n > 1 else "")
            for k, n in list(counter.items())[:3]]


results.expect(bool(sent_samples) != args.sent_nothing,
               f"{name}: the sender sent {'no samples' if args.sent_nothing else 'samples'}"
               f" ({sum(sent_samples.values())})")
results.expect(not missing, f"{name}: every sample sent arrives with the same labels, timestamp"
               f" and value ({sum(sent_samples.values()) - sum(missing.values())}"
               f"/{sum(sent_samples.values())})", f"missing {show(missing)}")
results.expect(not extra, f"{name}: nothing arrives that was not sent"
               f" ({sum(got_samples.values())} samples printed)", f"extra {show(extra)}")

for e in (s for s in sent if s["kind"] == "expect"):
    labels = rec.label_pairs(e["labels"])
    matches = [k for k in got_samples if k[0] == labels]
    results.expect(any(k[2] == float(e["value"]) for k in matches),
                   f"{name}: {e['what']}: {rec.selector(labels)} = {e['value']!r}",
                   f"printed {[k[2] for k in matches] or 'no such series'}")

sent_meta = [m for m in sent if m["kind"] == "metadata"]
if sent_meta:
    got_meta = {(m["metric"], m["type"], m["help"], m["unit"]) for m in kinds.get("metadata", [])}
    lost = [m["metric"] for m in sent_meta
            if (m["metric"], m["type"], m["help"], m["unit"]) not in got_meta]
    results.expect(not lost, f"{name}: metadata arrives as sent ({len(sent_meta)} metrics)",
                   f"missing or different: {lost[:5]}; printed {sorted(got_meta)[:5]}")

results.expect(not bad, f"{name}: every output line is JSON", bad[:3])
rejected = kinds.get("rejected", [])
results.expect(not rejected, f"{name}: no rejected requests",
               [(r.get("status"), r.get("message")) for r in rejected[:3]])
warnings = sorted({w.get("message") for w in kinds.get("warning", [])})
wanted = [re.compile(w) for w in args.want_warning]
for w in wanted:
    results.expect(any(w.search(m) for m in warnings), f"{name}: promscope warns /{w.pattern}/",
                   f"warnings {warnings[:3]}")
unexpected = [m for m in warnings if not any(w.search(m) for w in wanted)]
results.expect(not unexpected, f"{name}: no other warnings", unexpected[:3])
fired = collections.Counter(p.get("rule") for p in kinds.get("problem", []))
for rule in args.want_problem:
    results.expect(fired[rule] > 0, f"{name}: problem {rule} fires", f"problems {dict(fired)}")
serious = sorted({(p.get("rule"), p.get("message")) for p in kinds.get("problem", [])
                  if p.get("severity") in ("error", "warning")
                  and p.get("rule") not in args.want_problem})
results.expect(not serious, f"{name}: no other problems at error or warning", serious[:3])
results.print()
