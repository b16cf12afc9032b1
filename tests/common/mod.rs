//! Helpers shared by the integration tests: a real receiver on an ephemeral
//! port, an HTTP client, and request bodies built with the generated types.
#![allow(dead_code)] // each test binary uses a different subset

pub mod backend;
pub mod binary;
pub mod pki;
pub mod pty;
pub mod raw;
pub mod temp;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use promscope::ingest::forward::{ForwardConfig, Forwarder};
use promscope::ingest::model::Batch;
use promscope::ingest::queue::{self, QueueReceiver};
use promscope::ingest::server::{self, Limits, Receiver, ReceiverStats, Security};
use promscope::proto::{rw1, rw2};
use prost::Message;

/// Content-Type of RW2 requests.
pub const RW2_CONTENT_TYPE: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

/// A receiver running on 127.0.0.1 with an ephemeral port.
pub struct TestReceiver {
    pub addr: SocketAddr,
    pub rx: QueueReceiver,
    pub stats: Arc<ReceiverStats>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// What came back from a request.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestReceiver {
    pub async fn start(limits: Limits, queue: usize) -> Self {
        Self::start_with(limits, queue, Security::default()).await
    }

    /// A receiver with TLS or authentication.
    pub async fn start_with(limits: Limits, queue: usize, security: Security) -> Self {
        Self::start_configured(limits, queue, |r| r.with_security(security)).await
    }

    /// A receiver set up by `configure` (security, recording).
    pub async fn start_configured(
        limits: Limits,
        queue: usize,
        configure: impl FnOnce(Receiver) -> Receiver,
    ) -> Self {
        Self::start_receiver(limits, queue, ReceiverStats::default(), configure).await
    }

    /// A receiver in forward mode.
    pub async fn start_forwarding(limits: Limits, queue: usize, config: ForwardConfig) -> Self {
        let forwarder = Forwarder::new(&config, false).expect("a valid forward configuration");
        let stats = ReceiverStats::forwarding(Some(forwarder.stats.clone()));
        Self::start_receiver(limits, queue, stats, |r| {
            r.with_forward(forwarder).expect("inspection starts")
        })
        .await
    }

    async fn start_receiver(
        limits: Limits,
        queue: usize,
        stats: ReceiverStats,
        configure: impl FnOnce(Receiver) -> Receiver,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = queue::channel(queue);
        let stats = Arc::new(stats);
        let receiver = configure(Receiver::new(tx, limits, stats.clone()));
        tokio::spawn(server::serve(listener, receiver, std::future::pending()));
        let client = Client::builder(TokioExecutor::new()).build_http();
        TestReceiver {
            addr,
            rx,
            stats,
            client,
        }
    }

    /// POSTs `body` to `path` with the given headers.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        self.request("POST", path, headers, body).await
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .expect("request reaches the receiver");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// The next batch handed to consumers.
    pub async fn next_batch(&mut self) -> Batch {
        tokio::time::timeout(std::time::Duration::from_secs(5), self.rx.recv())
            .await
            .expect("a batch within 5 s")
            .expect("channel open")
            .into_batch()
    }
}

/// The RW 2.0 Written headers of a reply: samples, histograms, exemplars.
pub fn written(reply: &Reply) -> [u64; 3] {
    [
        "x-prometheus-remote-write-samples-written",
        "x-prometheus-remote-write-histograms-written",
        "x-prometheus-remote-write-exemplars-written",
    ]
    .map(|name| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing"))
    })
}

/// An HTTP/1.1 client on one connection, to see what happens to it.
pub struct OneConnection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: SocketAddr,
}

impl OneConnection {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> Self {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        OneConnection { sender, addr }
    }

    /// POSTs on this connection; an error if it was closed.
    pub async fn post(
        &mut self,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply, hyper::Error> {
        let mut req = Request::post(format!("http://{}/api/v1/write", self.addr));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.sender.ready().await?;
        let resp = self
            .sender
            .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The URL in the line headless mode starts with (`receiving remote-write on URL`).
pub fn url_in(line: &str) -> String {
    line.split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned()
}

/// Snappy block compression.
pub fn snappy(raw: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(raw).unwrap()
}

pub fn label(name: &str, value: &str) -> rw1::Label {
    rw1::Label {
        name: name.into(),
        value: value.into(),
    }
}

/// An RW1 request with one `up{job="test"}` sample per entry of `values`.
pub fn rw1_request(values: &[f64]) -> rw1::WriteRequest {
    rw1::WriteRequest {
        timeseries: vec![rw1::TimeSeries {
            labels: vec![label("__name__", "up"), label("job", "test")],
            samples: values
                .iter()
                .enumerate()
                .map(|(i, v)| rw1::Sample {
                    value: *v,
                    timestamp: 1_732_000_000_000 + i as i64 * 1000,
                })
                .collect(),
            ..Default::default()
        }],
        metadata: vec![],
    }
}

/// Snappy-compressed RW1 body.
pub fn rw1_body(values: &[f64]) -> Vec<u8> {
    snappy(&rw1_request(values).encode_to_vec())
}

/// An RW2 request with two samples, one int histogram and one exemplar.
pub fn rw2_request() -> rw2::Request {
    rw2::Request {
        symbols: [
            "",
            "__name__",
            "requests_total",
            "job",
            "api",
            "trace_id",
            "abc",
            "latency_seconds",
        ]
        .map(String::from)
        .to_vec(),
        timeseries: vec![
            rw2::TimeSeries {
                labels_refs: vec![1, 2, 3, 4],
                samples: vec![
                    rw2::Sample {
                        value: 1.0,
                        timestamp: 1_732_000_000_000,
                        start_timestamp: 0,
                    },
                    rw2::Sample {
                        value: 2.0,
                        timestamp: 1_732_000_001_000,
                        start_timestamp: 0,
                    },
                ],
                exemplars: vec![rw2::Exemplar {
                    labels_refs: vec![5, 6],
                    value: 1.0,
                    timestamp: 1_732_000_000_000,
                }],
                ..Default::default()
            },
            rw2::TimeSeries {
                labels_refs: vec![1, 7, 3, 4],
                histograms: vec![rw2::Histogram {
                    count: Some(rw2::histogram::Count::CountInt(3)),
                    sum: 1.5,
                    schema: 0,
                    positive_spans: vec![rw2::BucketSpan {
                        offset: 0,
                        length: 1,
                    }],
                    positive_deltas: vec![3],
                    timestamp: 1_732_000_000_000,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    }
}

pub fn rw2_body() -> Vec<u8> {
    snappy(&rw2_request().encode_to_vec())
}

/// Headers of a well-formed RW1 request.
pub const RW1_HEADERS: &[(&str, &str)] = &[
    ("content-encoding", "snappy"),
    ("content-type", "application/x-protobuf"),
    ("user-agent", "test-sender/1.0"),
    ("x-prometheus-remote-write-version", "0.1.0"),
];

/// Headers of a well-formed RW2 request.
pub const RW2_HEADERS: &[(&str, &str)] = &[
    ("content-encoding", "snappy"),
    ("content-type", RW2_CONTENT_TYPE),
    ("user-agent", "test-sender/2.0"),
    ("x-prometheus-remote-write-version", "2.0.0"),
];

/// An RW1 body with one sample per series, each series given by its labels
/// (sorted, `__name__` first), all with value 1 at `timestamp_ms`.
pub fn rw1_series_body(series: &[&[(&str, &str)]], timestamp_ms: i64) -> Vec<u8> {
    let req = rw1::WriteRequest {
        timeseries: series
            .iter()
            .map(|labels| rw1::TimeSeries {
                labels: labels.iter().map(|(k, v)| label(k, v)).collect(),
                samples: vec![rw1::Sample {
                    value: 1.0,
                    timestamp: timestamp_ms,
                }],
                ..Default::default()
            })
            .collect(),
        metadata: vec![],
    };
    snappy(&req.encode_to_vec())
}

/// An RW1 body of one series with `labels` and a sample (value 1) at each of
/// `timestamps`, in that order.
pub fn rw1_samples_body(labels: &[(&str, &str)], timestamps: &[i64]) -> Vec<u8> {
    let req = rw1::WriteRequest {
        timeseries: vec![rw1::TimeSeries {
            labels: labels.iter().map(|(k, v)| label(k, v)).collect(),
            samples: timestamps
                .iter()
                .map(|&timestamp| rw1::Sample {
                    value: 1.0,
                    timestamp,
                })
                .collect(),
            ..Default::default()
        }],
        metadata: vec![],
    };
    snappy(&req.encode_to_vec())
}

/// Milliseconds since the Unix epoch, for samples that should look current.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// POSTs `body` to `url` from synchronous test code; returns the status code.
pub fn post_blocking(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> u16 {
    let mut req = Request::post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let client = Client::builder(TokioExecutor::new()).build_http();
            let resp =
                tokio::time::timeout(std::time::Duration::from_secs(10), client.request(req))
                    .await
                    .expect("a response within 10 s")
                    .expect("request reaches the receiver");
            resp.status().as_u16()
        })
}

/// The real binary receiving headless on an ephemeral port, its stdout read
/// to the end on a thread.
pub struct Headless {
    pub child: binary::Owned,
    /// The URL it said it receives on.
    pub url: String,
    stdout: std::thread::JoinHandle<String>,
}

impl Headless {
    /// Starts `promscope --listen 127.0.0.1:0` with `args`.
    pub fn start(args: &[&str]) -> Self {
        use std::io::Read;
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--listen", "127.0.0.1:0"])
            .collect();
        let started = binary::start_promscope(&args, std::process::Stdio::piped());
        let mut child = started.child;
        binary::read_in_background(started.stderr);
        let mut out = child.stdout.take().expect("stdout");
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        Headless {
            child,
            url: started.url,
            stdout,
        }
    }

    /// Waits for it to exit by itself (within 20 s): its exit code and what it printed.
    pub fn wait(mut self) -> (i32, String) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("promscope did not exit");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let out = self.stdout.join().expect("stdout read");
        (status.code().unwrap_or(-1), out)
    }

    /// Ends it with SIGTERM (as Ctrl-C would) and returns what it printed.
    pub fn stop(mut self) -> String {
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "{status:?}");
        self.stdout.join().expect("stdout read")
    }
}

/// How long [`until_closed`] waits: long enough for a loaded machine; a hung
/// connection takes longer.
const UNTIL_CLOSED: std::time::Duration = std::time::Duration::from_secs(20);

/// Reads until the peer closes; returns what it sent. Panics if it does not
/// close within [`UNTIL_CLOSED`].
pub async fn until_closed(tcp: &mut tokio::net::TcpStream) -> String {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(UNTIL_CLOSED, tokio::io::AsyncReadExt::read(tcp, &mut buf)).await
        {
            Err(_) => panic!(
                "connection still open after {UNTIL_CLOSED:?}; received {:?}",
                String::from_utf8_lossy(&all)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&all).into_owned(),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
        }
    }
}
