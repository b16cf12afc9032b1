//! Each termination signal while requests keep arriving: everything acknowledged
//! is printed, and the summary counts exactly what was printed.

use super::*;

/// Posts 1,000-sample requests one after another until one is not acknowledged
/// (promscope stopped); returns how many were.
fn post_until_refused(url: String) -> u64 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let mut acknowledged = 0;
        loop {
            let mut req = hyper::Request::post(&url);
            for (k, v) in RW1_HEADERS {
                req = req.header(*k, *v);
            }
            let body = http_body_util::Full::new(bytes::Bytes::from(rw1_body(&[1.0; 1000])));
            match client.request(req.body(body).unwrap()).await {
                Ok(resp) if resp.status() == 204 => acknowledged += 1,
                _ => return acknowledged,
            }
        }
    })
}

/// Each termination signal, sent while requests keep arriving: every sample
/// acknowledged is printed, and the summary counts exactly what was printed.
fn prints_everything_acknowledged_on(signal: &str) {
    let mut p = Headless::start("json");
    let mut stdout = p.stdout.take().unwrap();
    let samples = Arc::new(AtomicU64::new(0));
    let counted = samples.clone();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap() > 0 {
            if line.starts_with(r#"{"kind":"sample""#) {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            line.clear();
        }
    });
    let url = p.url.clone();
    let poster = std::thread::spawn(move || post_until_refused(url));
    // Signal while requests are arriving, once some have been printed.
    for _ in 0..500 {
        if samples.load(Ordering::SeqCst) >= 5000 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, stderr) = p.signal(signal);
    let acknowledged = poster.join().unwrap();
    reader.join().unwrap();
    let printed = samples.load(Ordering::SeqCst);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(acknowledged > 0, "nothing was sent before SIG{signal}");
    assert!(
        printed >= acknowledged * 1000,
        "SIG{signal}: {printed} samples printed, {acknowledged}k acknowledged"
    );
    assert!(
        stderr.contains(&format!("received    {printed} samples,")),
        "SIG{signal}: {printed} printed; {stderr}"
    );
}

#[test]
fn sigint_prints_everything_acknowledged_and_the_summary() {
    prints_everything_acknowledged_on("INT");
}

#[test]
fn sighup_prints_everything_acknowledged_and_the_summary() {
    prints_everything_acknowledged_on("HUP");
}

#[test]
fn sigquit_prints_everything_acknowledged_and_the_summary() {
    prints_everything_acknowledged_on("QUIT");
}
