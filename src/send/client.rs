//! The HTTP loop: `concurrency` tasks POST bodies to a receiver, paced or flat
//! out, until a limit or a stop signal, and record every outcome in [`SendStats`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::config::{SendConfig, SendError, validate};
use super::stats::{Delivery, SendStats};
use super::workload::{self, Body, Workload};
use crate::ingest::model::Protocol;
use crate::ingest::server::{HISTOGRAMS_WRITTEN, SAMPLES_WRITTEN};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longer than the receiver's own 10 s queue timeout, so its 503 arrives first.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause after a transport error, so a dead receiver is not hammered.
const ERROR_BACKOFF: Duration = Duration::from_millis(100);
/// Most of an error response body that is read.
const MAX_ERROR_BODY: usize = 64 << 10;

/// Strictly increasing millisecond timestamps near the wall clock, shared by
/// the tasks so that no two requests carry the same timestamp for a series.
#[derive(Debug, Default)]
pub struct Clock(AtomicI64);

impl Clock {
    /// The wall clock in ms, or one past the previous timestamp if that is later.
    pub fn next(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let previous = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(now.max(last.saturating_add(1)))
            })
            .unwrap_or(now);
        now.max(previous.saturating_add(1))
    }
}

/// The HTTP client that sends remote-write requests.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A client keeping up to `connections` idle connections for reuse.
pub fn http_client(connections: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build(connector)
}

/// What every sending task shares.
struct Shared {
    client: HttpClient,
    uri: Uri,
    headers: HeaderMap,
    protocol: Protocol,
    stats: Arc<SendStats>,
    clock: Clock,
    next_seq: AtomicU64,
    limit: Option<u64>,
    start: Instant,
    deadline: Option<Instant>,
    /// Time between request starts when paced by `--rate`.
    interval: Option<f64>,
}

/// Where a task's bodies come from.
enum Bodies {
    Fresh(Box<Workload>),
    Ring(Arc<[Body]>),
}

impl Bodies {
    fn get(&mut self, seq: u64, clock: &Clock) -> Body {
        match self {
            Bodies::Fresh(w) => w.build(seq, clock.next()),
            Bodies::Ring(ring) => ring[(seq % ring.len() as u64) as usize].clone(),
        }
    }
}

/// Sends to `config.url` until `config.requests` or `config.duration` is reached,
/// or `stop` turns true (or its sender is dropped); counts land in `stats` as
/// requests finish. Errors when sending cannot start (a bad configuration or an
/// unreachable receiver) or a sending task panicked. In-flight requests finish
/// before it returns.
pub async fn send_load(
    config: &SendConfig,
    stats: Arc<SendStats>,
    stop: watch::Receiver<bool>,
) -> Result<(), SendError> {
    let uri = validate(config)?;
    let first = Workload::new(config.workload.clone())?;
    preflight(config, &uri).await?;

    let clock = Clock::default();
    let mut bodies = Vec::with_capacity(config.concurrency);
    match config.precompute {
        Some(k) => {
            let mut w = first;
            let ring: Arc<[Body]> = (0..k.max(1) as u64)
                .map(|seq| w.build(seq, clock.next()))
                .collect();
            bodies.resize_with(config.concurrency, || Bodies::Ring(ring.clone()));
        }
        None => {
            bodies.push(Bodies::Fresh(Box::new(first)));
            for _ in 1..config.concurrency {
                bodies.push(Bodies::Fresh(Box::new(Workload::new(
                    config.workload.clone(),
                )?)));
            }
        }
    }

    let client = http_client(config.concurrency);
    let start = Instant::now();
    let shared = Arc::new(Shared {
        client,
        uri,
        headers: header_map(config.workload.protocol),
        protocol: config.workload.protocol,
        stats,
        clock,
        next_seq: AtomicU64::new(0),
        limit: config.requests,
        start,
        deadline: config.duration.and_then(|d| start.checked_add(d)),
        interval: config
            .rate
            .map(|r| config.workload.series_per_request() as f64 / r),
    });
    let mut tasks = JoinSet::new();
    for b in bodies {
        tasks.spawn(sender(shared.clone(), b, stop.clone()));
    }
    join_senders(tasks).await
}

/// Waits for every task; the first panic among them, if any, is the error.
async fn join_senders(mut tasks: JoinSet<()>) -> Result<(), SendError> {
    let mut panicked = None;
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined
            && panicked.is_none()
        {
            panicked = Some(match e.try_into_panic() {
                Ok(payload) => panic_message(payload.as_ref()),
                Err(e) => e.to_string(),
            });
        }
    }
    panicked.map_or(Ok(()), |message| Err(SendError::TaskPanicked(message)))
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(s), _) => (*s).to_owned(),
        (_, Some(s)) => s.clone(),
        _ => "(no message)".to_owned(),
    }
}

/// A plain TCP connect, so that a missing receiver is one clear error rather
/// than a stream of failed requests (and the receiver sees no request).
async fn preflight(config: &SendConfig, uri: &Uri) -> Result<(), SendError> {
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    // --listen takes an IP address: a host name becomes the loopback address.
    let ip = host
        .parse()
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let unreachable = |reason: String| SendError::Unreachable {
        url: config.url.clone(),
        listen: std::net::SocketAddr::new(ip, port).to_string(),
        reason,
    };
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!(
            "no connection within {}s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

fn header_map(protocol: Protocol) -> HeaderMap {
    workload::headers(protocol)
        .into_iter()
        .filter_map(|(name, value)| {
            // Both are constants that parse; filter_map only to avoid unwrap.
            Some((
                HeaderName::from_bytes(name.as_bytes()).ok()?,
                HeaderValue::from_static(value),
            ))
        })
        .collect()
}

/// One sending task: takes the next request number, waits for its turn when
/// paced, sends, records; until a limit or stop.
async fn sender(shared: Arc<Shared>, mut bodies: Bodies, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() || stop.has_changed().is_err() {
            return;
        }
        let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
        if shared.limit.is_some_and(|n| seq >= n) {
            return;
        }
        if let Some(interval) = shared.interval {
            let due = Duration::try_from_secs_f64(interval * seq as f64)
                .ok()
                .and_then(|d| shared.start.checked_add(d));
            let Some(due) = due.filter(|due| shared.deadline.is_none_or(|end| *due < end)) else {
                return;
            };
            if !sleep_unless_stopped(due, &mut stop).await {
                return;
            }
        }
        if shared.deadline.is_some_and(|end| Instant::now() >= end) {
            return;
        }
        let body = bodies.get(seq, &shared.clock);
        let outcome = exchange(&shared, &body).await;
        let failed = matches!(outcome, Delivery::Transport(_));
        shared.stats.record(body.bytes.len() as u64, outcome);
        if failed && !sleep_unless_stopped(Instant::now() + ERROR_BACKOFF, &mut stop).await {
            return;
        }
    }
}

/// Sleeps until `until`; false if stopped first.
async fn sleep_unless_stopped(until: Instant, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep_until(until.into()) => true,
        _ = stop.wait_for(|stopped| *stopped) => false,
    }
}

/// One request of a sending task and its response.
async fn exchange(shared: &Shared, body: &Body) -> Delivery {
    let mut request = Request::new(Full::new(body.bytes.clone()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = shared.uri.clone();
    *request.headers_mut() = shared.headers.clone();
    post(&shared.client, request, shared.protocol, body).await
}

/// Sends `request`, whose body is `body` in `protocol`, and tells how it went
/// (an RW 2.0 2xx's Written headers checked against `body`), bounded by
/// [`REQUEST_TIMEOUT`].
pub async fn post(
    client: &HttpClient,
    request: Request<Full<Bytes>>,
    protocol: Protocol,
    body: &Body,
) -> Delivery {
    let exchange = async {
        let response = match client.request(request).await {
            Ok(r) => r,
            Err(e) => return Delivery::Transport(crate::text::error_chain(&e)),
        };
        let status = response.status();
        if status.is_success() {
            let mismatch = match protocol {
                Protocol::V2 => written_mismatch(response.headers(), body),
                Protocol::V1 | Protocol::Vm => None,
            };
            // Read to the end so the connection goes back to the pool.
            if let Err(e) = response.into_body().collect().await {
                return Delivery::Transport(crate::text::error_chain(&e));
            }
            return Delivery::Ok {
                samples: body.samples,
                histograms: body.histograms,
                mismatch,
            };
        }
        let text = match Limited::new(response.into_body(), MAX_ERROR_BODY)
            .collect()
            .await
        {
            Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
            Err(e) => format!("(response body unreadable: {e})"),
        };
        Delivery::Rejected {
            status: status.as_u16(),
            body: text,
        }
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| {
            Delivery::Transport(format!("no response within {}s", REQUEST_TIMEOUT.as_secs()))
        })
}

/// What the RW2 Written headers get wrong about `body`, if anything.
fn written_mismatch(headers: &HeaderMap, body: &Body) -> Option<String> {
    let problems: Vec<String> = [
        (SAMPLES_WRITTEN, body.samples),
        (HISTOGRAMS_WRITTEN, body.histograms),
    ]
    .into_iter()
    .filter_map(|(name, sent)| {
        let written = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match written {
            Some(n) if n == sent => None,
            Some(n) => Some(format!("{name}: {n}, sent {sent}")),
            None => Some(format!("{name} missing or unreadable, sent {sent}")),
        }
    })
    .collect();
    (!problems.is_empty()).then(|| problems.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_sender_task_is_an_error_once_the_others_finish() {
        let finished = Arc::new(AtomicU64::new(0));
        let mut tasks = JoinSet::new();
        for i in 0..3 {
            let finished = finished.clone();
            tasks.spawn(async move {
                if i == 1 {
                    panic!("task {i} failed");
                }
                tokio::task::yield_now().await;
                finished.fetch_add(1, Ordering::Relaxed);
            });
        }
        let err = join_senders(tasks).await.expect_err("a task panicked");
        assert_eq!(err.to_string(), "a sending task panicked: task 1 failed");
        assert_eq!(finished.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn clock_never_repeats() {
        let clock = Clock::default();
        let mut last = 0;
        for _ in 0..1000 {
            let t = clock.next();
            assert!(t > last);
            last = t;
        }
    }

    #[test]
    fn written_headers_are_compared() {
        let body = Body {
            bytes: Bytes::new(),
            samples: 5,
            histograms: 0,
        };
        let mut headers = HeaderMap::new();
        headers.insert(SAMPLES_WRITTEN, HeaderValue::from(5));
        headers.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(0));
        assert_eq!(written_mismatch(&headers, &body), None);
        headers.insert(SAMPLES_WRITTEN, HeaderValue::from(4));
        headers.remove(HISTOGRAMS_WRITTEN);
        assert_eq!(
            written_mismatch(&headers, &body).unwrap(),
            "x-prometheus-remote-write-samples-written: 4, sent 5; \
             x-prometheus-remote-write-histograms-written missing or unreadable, sent 0"
        );
    }
}
