#!/usr/bin/env bash
# User-space instructions a forwarded request (callgrind), steadier than CPU time on a
# busy host: a sink (promscope --no-tui --format none) and a headless forwarder of
# BINARY under callgrind (--separate-threads), wrk -t1 -c8 flat out at the forwarder
# for SECONDS; the instructions of the runtime's workers (receiving, forwarding,
# answering; start-up included, ~2M) and of the inspection thread (its share of a
# core: per request it falls as throughput rises), each over the 2xx requests, with
# how many of them were memcpy (moving futures, copying buffers).
#
#   benches/forward_callgrind.sh BINARY [SECONDS (15)] [rw1|rw2]     # PORT (20230)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
[[ $# -ge 1 && -x "$1" ]] || { echo "usage: $0 BINARY [SECONDS] [rw1|rw2]" >&2; exit 2; }
bin="$1" secs="${2:-15}" proto="${3:-rw1}" port="${PORT:-20230}"
# shellcheck source=benches/cleanup_lib.sh
source "$(pwd)/benches/cleanup_lib.sh"
bench_work forward-callgrind
"$bin" send --write-bodies "$work/bodies" --count 64 --protocol "$proto" >/dev/null 2>&1
"$bin" --listen "127.0.0.1:$port" --no-tui --format none >/dev/null 2>&1 &
bench_pids+=("$!")
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.out" \
    "$bin" --listen "127.0.0.1:$((port + 1))" --no-tui --format none \
    --forward "http://127.0.0.1:$port" >/dev/null 2>"$work/valgrind.err" &
forwarder=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null && break; sleep 0.3; done
ok=$(timeout $((secs + 60)) wrk -t1 -c8 -d"${secs}"s --timeout 10s -s "$root/benches/wrk_replay.lua" \
    "http://127.0.0.1:$((port + 1))/api/v1/write" -- "$work/bodies" 1 |
    grep -o 'status_2[0-9][0-9]=[0-9]*' | awk -F= '{s+=$2} END {print s+0}')
kill -TERM "$forwarder"
wait "$forwarder" 2>/dev/null || true
python3 - "$work" "$ok" "$proto" <<'PY'
import glob, re, subprocess, sys
work, ok, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
total, memcpy = {"workers": 0, "inspection": 0}, {"workers": 0, "inspection": 0}
for f in sorted(glob.glob(work + "/cg.out*")):
    text = open(f, errors="replace").read()
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if not m:
        continue
    # The inspection thread is the one that checks what it decodes.
    kind = "inspection" if "Checker::check" in text else "workers"
    total[kind] += int(m.group(1))
    listing = subprocess.run(["callgrind_annotate", f], capture_output=True, text=True).stdout
    memcpy[kind] += sum(int(l.split()[0].replace(",", "")) for l in listing.splitlines()
                        if "__memcpy" in l or "__memmove" in l)
for kind in total:
    print(f"{proto} {kind}: {total[kind] / max(1, ok):,.0f} instructions a request"
          f" ({memcpy[kind] / max(1, ok):,.0f} of them memcpy) over {ok} requests")
PY
