"""Sends pre-generated remote-write bodies at a fixed rate over one kept-alive
connection and reports the latency of each request (benches/forward.sh).

    python3 benches/paced.py URL BODY_DIR REQUESTS_PER_SECOND SECONDS

BODY_DIR is what `promscope send --write-bodies` writes (body-NNNN.bin, headers.txt).
Requests go out on a fixed schedule (open loop: a late answer delays only the
requests behind it on the connection). Prints one line:
    PACED requests=N non2xx=K p50_us=.. p90_us=.. p99_us=.. max_us=..
and the latencies, one per line, to the file named by $PACED_LATENCIES if set.
"""
import glob
import http.client
import os
import sys
import time
import urllib.parse

url, body_dir, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
parsed = urllib.parse.urlsplit(url)
headers = {}
with open(os.path.join(body_dir, "headers.txt"), encoding="utf-8") as f:
    for line in f:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip()] = value.strip()
bodies = []
for path in sorted(glob.glob(os.path.join(body_dir, "body-*.bin"))):
    with open(path, "rb") as f:
        bodies.append(f.read())

conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
latencies, non2xx = [], 0
start = time.perf_counter()
count = int(rate * seconds)
for i in range(count):
    due = start + i / rate
    wait = due - time.perf_counter()
    if wait > 0:
        time.sleep(wait)
    sent = time.perf_counter()
    conn.request("POST", parsed.path, body=bodies[i % len(bodies)], headers=headers)
    response = conn.getresponse()
    response.read()
    latencies.append((time.perf_counter() - sent) * 1e6)
    if not 200 <= response.status < 300:
        non2xx += 1
conn.close()

latencies.sort()


def at(q):
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))]


if os.environ.get("PACED_LATENCIES"):
    with open(os.environ["PACED_LATENCIES"], "a", encoding="utf-8") as f:
        f.writelines(f"{v:.0f}\n" for v in latencies)
print(f"PACED requests={len(latencies)} non2xx={non2xx} p50_us={at(0.5):.0f} "
      f"p90_us={at(0.9):.0f} p99_us={at(0.99):.0f} max_us={latencies[-1]:.0f}")
