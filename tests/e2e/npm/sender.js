// The npm `prometheus-remote-write` client in its default set-up (node-fetch, no extra
// headers: it sends snappy bodies without Content-Encoding), as its README shows it.
//
//   node tests/e2e/npm/sender.js URL SENT_JSONL
//
// Sends four requests (two pushTimeseries with gauges and extreme values, two pushMetrics
// with a counter and a gauge), writes what it gave the library to SENT_JSONL (the format of
// tests/e2e/check_sent.py), prints each result, and exits 1 unless every request got a 2xx.
"use strict";
const fs = require("fs");
const { pushTimeseries, pushMetrics } = require("prometheus-remote-write");

const [url, sentPath] = process.argv.slice(2);
const options = { url, labels: { service: "queue-worker" } };
const t0 = Date.now() - 60_000;

const requests = [
  [
    {
      labels: { __name__: "e2e_npm_queue_depth", queue: "orders" },
      samples: [
        { value: 150, timestamp: t0 },
        { value: 149.5, timestamp: t0 + 1000 },
        { value: 0, timestamp: t0 + 2000 },
      ],
    },
    {
      labels: { __name__: "e2e_npm_temperature_celsius", room: "café ☃ 日本" },
      samples: [{ value: -3.25, timestamp: t0 }],
    },
  ],
  [
    {
      labels: { __name__: "e2e_npm_extremes", kind: "huge" },
      samples: [{ value: 1e300, timestamp: t0 + 3000 }],
    },
    {
      labels: { __name__: "e2e_npm_extremes", kind: "tiny" },
      samples: [{ value: -5e-324, timestamp: t0 + 3000 }],
    },
  ],
];

async function main() {
  const sent = [];
  const record = (labels, value, timestamp) =>
    sent.push({
      kind: "sample",
      labels: Object.entries({ ...options.labels, ...labels }),
      timestamp_ms: timestamp,
      value,
    });
  const results = [];
  for (const series of requests) {
    for (const s of series) {
      for (const sample of s.samples) record(s.labels, sample.value, sample.timestamp);
    }
    results.push(await pushTimeseries(series, options));
  }
  // pushMetrics (name -> value, stamped with Date.now() by the library): a counter that
  // grows and a gauge that falls between two pushes.
  let lastPushed = 0;
  for (const metrics of [
    { e2e_npm_jobs_total: 42, e2e_npm_jobs_in_flight: 7 },
    { e2e_npm_jobs_total: 45, e2e_npm_jobs_in_flight: 5 },
  ]) {
    // The library stamps with Date.now(): two pushes in one millisecond would really be
    // duplicate timestamps (promscope rightly reports them), so let the clock move on.
    while (Date.now() <= lastPushed) await new Promise((r) => setTimeout(r, 2));
    const before = Date.now();
    results.push(await pushMetrics(metrics, options));
    lastPushed = Date.now();
    for (const [name, value] of Object.entries(metrics)) {
      record({ __name__: name }, value, [before, lastPushed]);
    }
  }
  sent.push({
    kind: "expect",
    what: "a non-ASCII label value arrives intact",
    labels: [["__name__", "e2e_npm_temperature_celsius"], ["room", "café ☃ 日本"], ["service", "queue-worker"]],
    value: -3.25,
  });
  fs.writeFileSync(sentPath, sent.map((r) => JSON.stringify(r)).join("\n") + "\n");
  for (const r of results) console.log(JSON.stringify(r));
  const failed = results.filter((r) => !(r.status >= 200 && r.status < 300));
  console.log(`${results.length} requests, ${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
