"""OpenTelemetry's Python SDK with its Prometheus remote-write exporter, as an application
would set it up, recording counters, up-down counters, gauges and a histogram.

    python tests/e2e/otel_sender.py URL SENT_JSONL

Collects and exports twice (the values change in between) and shuts down. Writes every
sample of the requests the exporter built to SENT_JSONL (format of tests/e2e/check_sent.py),
with `expect` records for the values the instruments were given, and exits 1 when an
export failed or the SDK or exporter logged a warning or an error.
"""
import json
import logging
import math
import sys

import snappy
from opentelemetry.exporter.prometheus_remote_write import PrometheusRemoteWriteMetricsExporter
from opentelemetry.exporter.prometheus_remote_write.gen.remote_pb2 import WriteRequest
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

url, sent_path = sys.argv[1], sys.argv[2]


class Problems(logging.Handler):
    """Keeps every warning or error the SDK and exporter log."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(self.format(record))


class RecordingExporter(PrometheusRemoteWriteMetricsExporter):
    """The exporter as shipped, also keeping each request it sends and its result."""

    requests = []
    results = []

    def _send_message(self, message, headers):
        self.requests.append(WriteRequest.FromString(snappy.decompress(message)))
        result = super()._send_message(message, headers)
        self.results.append(result)
        return result


problems = Problems()
logging.getLogger("opentelemetry").addHandler(problems)

exporter = RecordingExporter(endpoint=url)
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=math.inf)
provider = MeterProvider(metric_readers=[reader],
                         resource=Resource({"service.name": "e2e-otel"}))
meter = provider.get_meter("promscope-e2e")

requests = meter.create_counter("e2e.otel.requests", description="Requests handled.")
depth = meter.create_up_down_counter("e2e.otel.queue.depth")
temperature = meter.create_gauge("e2e.otel.temperature", unit="Cel")
latency = meter.create_histogram("e2e.otel.latency", unit="s")
meter.create_observable_gauge("e2e.otel.ratio",
                              callbacks=[lambda _options: [Observation(0.5, {"kind": "cache"})]])

get_a = {"route": "/a", "http.method": "GET"}
snowman = {"route": "/ü ☃ 日本"}
dotted = {"a.b": "dot", "a_b": "underscore"}

requests.add(1, get_a)
requests.add(4, snowman)
depth.add(10, {"queue": "orders"})
temperature.set(21.5, {"room": "lab"})
latency.record(0.3)
provider.force_flush()

requests.add(2.5, get_a)
requests.add(1, dotted)
depth.add(-3, {"queue": "orders"})
depth.add(-2, {"queue": "retries"})
temperature.set(-3.25, {"room": "lab"})
for v in (4, 7, 250):
    latency.record(v)
provider.force_flush()
provider.shutdown()

resource = [["service_name", "e2e-otel"]]
expect = [
    ("a counter holds the sum of what was added", "e2e_otel_requests",
     [["http_method", "GET"], ["route", "/a"]], 3.5),
    ("a non-ASCII attribute value arrives intact", "e2e_otel_requests",
     [["route", "/ü ☃ 日本"]], 4),
    ("attributes a.b and a_b arrive as two a_b labels", "e2e_otel_requests",
     [["a_b", "dot"], ["a_b", "underscore"]], 1),
    ("an up-down counter goes down", "e2e_otel_queue_depth", [["queue", "orders"]], 7),
    ("an up-down counter goes below zero", "e2e_otel_queue_depth", [["queue", "retries"]], -2),
    ("a gauge holds the last value set (the unit is appended)", "e2e_otel_temperature_Cel",
     [["room", "lab"]], -3.25),
    ("an observable gauge", "e2e_otel_ratio", [["kind", "cache"]], 0.5),
    ("a histogram's count", "e2e_otel_latency_s_count", [], 4),
    ("a histogram's sum", "e2e_otel_latency_s_sum", [], 261.3),
    ("a histogram's bucket (counts per bucket, as the exporter sends them)", "e2e_otel_latency_s",
     [["le", "250.0"]], 1),
]
with open(sent_path, "w", encoding="utf-8") as out:
    for request in exporter.requests:
        for series in request.timeseries:
            labels = [[label.name, label.value] for label in series.labels]
            for s in series.samples:
                out.write(json.dumps({"kind": "sample", "labels": labels,
                                      "timestamp_ms": s.timestamp, "value": s.value},
                                     ensure_ascii=False) + "\n")
    for what, name, labels, value in expect:
        out.write(json.dumps({"kind": "expect", "what": what, "value": value,
                              "labels": [["__name__", name], *labels, *resource]},
                             ensure_ascii=False) + "\n")

failed = [r for r in exporter.results if r != MetricExportResult.SUCCESS]
print(f"{len(exporter.results)} exports, {len(failed)} failed;"
      f" {len(problems.messages)} warnings or errors logged")
for m in problems.messages:
    print(f"  logged: {m}")
sys.exit(1 if failed or problems.messages or len(exporter.results) != 2 else 0)
