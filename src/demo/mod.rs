//! `--demo`: a small simulated fleet (an HTTP API, hosts, a database, job
//! workers), scraped every [`SCRAPE_INTERVAL`] per target with the targets spread
//! over the interval, and remote-written over RW 2.0 with metadata to promscope's
//! own receiver, over HTTP like any other sender; and now and then a request
//! that breaks a few rules on purpose ([`faulty`]), for the Problems view.
//!
//! ```text
//! jobs (what the fleet exposes) ─▶ fleet (values move, scrape ─▶ RW 2.0 request) ─▶ HTTP POST
//! ```

mod faulty;
mod fleet;

pub use faulty::JOB as PROBLEMS_JOB;
mod jobs;
mod values;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use tokio::sync::watch;
use tokio::time::Instant;

use values::Rng;

/// How often each target is scraped (and its samples sent).
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(5);

/// How long a request may take before the demo moves on to the next scrape.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Starts sending the fleet's scrapes to the receiver listening on `listen`,
/// until `stop` turns true.
pub fn start(listen: SocketAddr, stop: watch::Receiver<bool>) {
    let url = format!("http://{}/api/v1/write", reachable(listen));
    tokio::spawn(scrape_and_send(url, stop));
}

/// Where to connect to reach `listen`: loopback when it is all interfaces.
fn reachable(listen: SocketAddr) -> SocketAddr {
    let mut target = listen;
    if listen.ip().is_unspecified() {
        target.set_ip(if listen.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv6Addr::LOCALHOST.into()
        });
    }
    target
}

async fn scrape_and_send(url: String, mut stop: watch::Receiver<bool>) {
    let Ok(uri) = url.parse::<Uri>() else { return };
    let client = Client::builder(TokioExecutor::new()).build_http();
    let now = now_ms();
    let mut rng = Rng::new(now as u64);
    let mut targets = jobs::fleet(now, &mut rng);
    // As Prometheus does, each target is scraped at its own offset in the interval.
    let start = Instant::now();
    let spread = SCRAPE_INTERVAL / targets.len().max(1) as u32;
    let mut due: Vec<Instant> = (0..targets.len() as u32)
        .map(|i| start + spread * i)
        .collect();
    // The deliberate sender goes last in `due`.
    due.push(start + faulty::FAULTY_FIRST);
    loop {
        let Some((next, &at)) = due.iter().enumerate().min_by_key(|&(_, at)| at) else {
            return;
        };
        tokio::select! {
            () = tokio::time::sleep_until(at) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        let request = match targets.get_mut(next) {
            Some(target) => {
                due[next] += SCRAPE_INTERVAL;
                target.scrape(now_ms(), &mut rng)
            }
            None => {
                due[next] += faulty::FAULTY_EVERY;
                faulty::request(now_ms())
            }
        };
        let Ok(body) = snap::raw::Encoder::new().compress_vec(&request.encode_to_vec()) else {
            continue;
        };
        // A rejected request shows in the dashboard like any sender's.
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, post(&client, &uri, body)).await;
    }
}

/// POSTs one RW 2.0 body and reads the response to its end (so the connection
/// is reused).
async fn post(
    client: &Client<HttpConnector, Full<Bytes>>,
    uri: &Uri,
    body: Vec<u8>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let request = Request::post(uri.clone())
        .header("Content-Encoding", "snappy")
        .header(
            "Content-Type",
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        )
        .header(
            "User-Agent",
            concat!("promscope-demo/", env!("CARGO_PKG_VERSION")),
        )
        .header("X-Prometheus-Remote-Write-Version", "2.0.0")
        .body(Full::new(Bytes::from(body)))?;
    client.request(request).await?.into_body().collect().await?;
    Ok(())
}
