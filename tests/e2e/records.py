"""Reading what promscope printed (`--format json`) and what senders report, for the
end-to-end checkers in this folder.

Each checker collects `expect(ok, what)` results in a `Results` and prints them as
`PASS: what` / `FAIL: what` lines, which tests/e2e/lib.sh counts.
"""
import json
import math
import re


class Results:
    def __init__(self):
        self.items = []

    def expect(self, ok, what, detail=None):
        """Records one expectation; `detail` (shown on failure only) says what was wrong."""
        self.items.append((bool(ok), what + (f": {detail}" if detail and not ok else "")))

    def all_ok(self):
        return all(ok for ok, _ in self.items)

    def print(self):
        for ok, what in self.items:
            print(("PASS: " if ok else "FAIL: ") + what)


class Pairs(dict):
    """A JSON object that also keeps its members in order, repeated names included."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.pairs = pairs


def load(path):
    """The complete JSON lines of a promscope output file: (records, bad lines)."""
    records, bad = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.endswith("\n"):
                break  # still being written
            try:
                records.append(json.loads(line, object_pairs_hook=Pairs))
            except ValueError as e:
                bad.append(f"line {n}: {e}: {line[:200]!r}")
    return records, bad


def by_kind(records):
    out = {}
    for r in records:
        out.setdefault(r.get("kind"), []).append(r)
    return out


def label_pairs(labels):
    """A label set as promscope printed it, as a sorted tuple of (name, value) pairs.

    Repeated names (a sender may send them) must survive: an object with a repeated key
    does not (jq and most JSON readers keep one), so it yields a `None` marker pair that
    matches nothing. Accepted forms: an object of strings; an object whose repeated names
    map to a list of values; a list of [name, value] pairs or {"name", "value"} objects.
    """
    out = []
    if isinstance(labels, dict):
        pairs = labels.pairs if isinstance(labels, Pairs) else list(labels.items())
        if len({k for k, _ in pairs}) != len(pairs):
            out.append((None, "repeated keys in a JSON object lose all but one"))
        for k, v in pairs:
            out.extend((k, x) for x in v) if isinstance(v, list) else out.append((k, v))
    elif isinstance(labels, list):
        for item in labels:
            if isinstance(item, dict):
                out.append((item.get("name"), item.get("value")))
            else:
                out.append(tuple(item))
    return tuple(sorted(out, key=str))


def labels_dict(labels):
    """A label set as a plain dict (for label sets without repeated names)."""
    return dict(label_pairs(labels))


def name_of(record):
    return labels_dict(record.get("labels", {})).get("__name__")


def selector(labels):
    """PromQL-style text of a label set, for messages."""
    pairs = label_pairs(labels) if not isinstance(labels, tuple) else labels
    return "{" + ",".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in pairs) + "}"


def value(s):
    """A JSON value string as a float (StaleNaN is a NaN)."""
    return math.nan if s == "StaleNaN" else float(s)


def histogram_problems(h):
    """Why a histogram record is not a plausible native histogram ([] when it is)."""
    problems = []
    for key in ("count", "sum", "schema", "zero_threshold", "zero_count", "positive_spans",
                "positive_buckets", "negative_spans", "negative_buckets", "counts", "reset_hint"):
        if key not in h:
            problems.append(f"no {key}")
    if problems:
        return problems
    if h["schema"] == -53:
        bounds = [value(b) for b in h.get("custom_values", [])]
        if not bounds or bounds != sorted(bounds):
            problems.append(f"schema -53 with custom_values {h.get('custom_values')}")
    elif not -4 <= h["schema"] <= 8:
        problems.append(f"schema {h['schema']}")
    for sign in ("positive", "negative"):
        n = sum(s["length"] for s in h[f"{sign}_spans"])
        if n != len(h[f"{sign}_buckets"]):
            problems.append(f"{sign} spans cover {n} buckets but {len(h[sign + '_buckets'])} given")
        if any(value(b) < 0 for b in h[f"{sign}_buckets"]):
            problems.append(f"negative {sign} bucket count")
    total = value(h["zero_count"]) + sum(map(value, h["positive_buckets"])) + sum(
        map(value, h["negative_buckets"]))
    if abs(total - value(h["count"])) > 1e-6 * max(1.0, value(h["count"])):
        problems.append(f"count {h['count']} but buckets add up to {total}")
    if h["counts"] not in ("integer", "float"):
        problems.append(f"counts {h['counts']!r}")
    return problems


def custom_buckets(h):
    """A schema -53 histogram's buckets as [(upper bound, count)], +Inf last."""
    bounds = [value(b) for b in h.get("custom_values", [])] + [math.inf]
    counts = iter(map(value, h["positive_buckets"]))
    out, idx = [], 0
    for span in h["positive_spans"]:
        idx += span["offset"]
        for _ in range(span["length"]):
            out.append((bounds[idx] if idx < len(bounds) else None, next(counts)))
            idx += 1
    return out


_line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def exposition(text):
    """Samples of a Prometheus text exposition (a sender's own /metrics) as
    [(name, {label: value}, float)]."""
    rows = []
    for line in text.splitlines():
        m = _line_re.match(line)
        if m:
            rows.append((m.group(1), dict(_label_re.findall(m.group(2) or "")),
                         float(m.group(3))))
    return rows


def target_samples(families):
    """The float samples tests/e2e/target.py exposes in the text format (as a scraper without
    native histograms stores them): {(name, sorted label pairs): value}."""
    out = {}
    for f in families:
        name, kind = f["name"], f["type"]
        for s in f["series"]:
            labels = tuple(sorted(s["labels"].items()))
            if kind == "histogram":
                for i, c in enumerate(s["cumulative"]):
                    le = repr(s["bounds"][i]) if i < len(s["bounds"]) else "+Inf"
                    out[(f"{name}_bucket", tuple(sorted(labels + (("le", le),))))] = float(c)
                out[(f"{name}_count", labels)] = float(s["count"])
                out[(f"{name}_sum", labels)] = float(s["sum"])
            else:
                out[(name + ("_total" if kind == "counter" else ""), labels)] = float(s["value"])
    return out
