#!/usr/bin/env python3
"""Compares two files of promscope JSON lines record for record.

    compare_records.py WHAT EXPECTED ACTUAL [--ignore KEY,...]

Each line is a record; KEYs are dropped from both sides first (what differs by
nature, e.g. the sender's address of a re-sent request). Prints one PASS or FAIL
line naming WHAT, the record counts and the first difference.
"""
import json
import sys


def records(path, ignore):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                return None, f"{path}:{n} is not JSON ({e})"
            for key in ignore:
                record.pop(key, None)
            out.append(record)
    return out, None


def overlapped_only(expected, actual):
    """The same records, and each kind's in the same order: what a capture of
    overlapping requests gives. It keeps requests in the order promscope answered
    them, live output in the order they reached the output; Prometheus sends its
    metadata beside its samples, so those two may swap."""
    key = lambda r: json.dumps(r, sort_keys=True)
    if sorted(map(key, expected)) != sorted(map(key, actual)):
        return False
    of_kind = lambda rs, k: [r for r in rs if r.get("kind") == k]
    return all(of_kind(expected, k) == of_kind(actual, k)
               for k in {r.get("kind") for r in expected})


def main():
    what, expected_path, actual_path = sys.argv[1:4]
    ignore = []
    if len(sys.argv) > 5 and sys.argv[4] == "--ignore":
        ignore = sys.argv[5].split(",")
    expected, error = records(expected_path, ignore)
    if error is None:
        actual, error = records(actual_path, ignore)
    if error is not None:
        print(f"FAIL: {what}: {error}")
        return
    kinds = {}
    for r in expected:
        kinds[r.get("kind")] = kinds.get(r.get("kind"), 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: str(kv[0])))
    if not expected:
        print(f"FAIL: {what}: no records to compare in {expected_path}")
    elif expected == actual:
        print(f"PASS: {what}: the same {len(expected)} records ({summary})")
    elif overlapped_only(expected, actual):
        print(f"PASS: {what}: the same {len(expected)} records ({summary}); requests that"
              " overlapped (a sender's metadata beside its samples) in another order, each"
              " kind's records in the same order")
    else:
        first = next(
            (i for i, (a, b) in enumerate(zip(expected, actual)) if a != b),
            min(len(expected), len(actual)),
        )
        show = lambda rs: json.dumps(rs[first]) if first < len(rs) else "(none)"
        print(
            f"FAIL: {what}: {len(expected)} records expected, {len(actual)} got; "
            f"record {first + 1} differs: expected {show(expected)[:300]}, got {show(actual)[:300]}"
        )


if __name__ == "__main__":
    main()
