//! TLS handshakes that fail are shown, as HTTP-level failures are: a client
//! without the certificate the listener requires, with one from another CA,
//! speaking only TLS 1.2 to a TLS 1.3 listener, refusing promscope's
//! certificate, sending bytes that are not TLS, stopping or closing
//! mid-handshake. Each is a rejected request (`bad_tls`, no HTTP status) with
//! the peer's address and what failed in words, in the JSON and text output,
//! the Requests view and the summary (repeats of one: tests/tls_fold.rs).
//! Real receiver on an ephemeral port, certificates made by the test.

mod common;
mod dashboard;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::pki::{self, Pki, TLS_ONLY, pki, receiver, receiver_with, with_client_auth};
use common::*;
use promscope::app::{Action, Tab};
use promscope::ingest::model::{Batch, NO_HTTP_STATUS, Outcome, RejectReason};
use promscope::ingest::server::Limits;
use promscope::output::{Format, MetadataDedup, write_batch};
use promscope::store::{Store, StoreLimits};
use promscope::summary::RunSummary;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Runs a TLS handshake with `config` (and, once done, reads until closed:
/// in TLS 1.3 the server judges the client's certificate after the client
/// is done); the client's side of the connection's address.
async fn handshake(r: &TestReceiver, config: rustls::ClientConfig) -> std::net::SocketAddr {
    let tcp = TcpStream::connect(r.addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let connected = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    if let Ok(mut tls) = connected {
        let mut buf = [0u8; 64];
        let _ = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await;
    }
    local
}

/// The message of a `bad_tls` rejection from `from`; panics if it is not one.
fn bad_tls(batch: &Batch, from: std::net::SocketAddr) -> &str {
    assert_eq!(batch.info.remote_addr, Some(from));
    match &batch.outcome {
        Outcome::Rejected {
            status: NO_HTTP_STATUS,
            reason: RejectReason::BadTls,
            message,
        } => message,
        other => panic!("not a bad_tls rejection: {other:?}"),
    }
}

/// Lines of the screen joined into one: the boxes' borders and the wrapping
/// of the selected request's message left out.
fn flattened(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '│' || c == '"' || c.is_whitespace()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The records of `batch` in `format`.
fn written(batch: &Batch, format: Format) -> String {
    let mut out = String::new();
    write_batch(&mut out, format, batch, &mut MetadataDedup::default());
    out
}

/// What the output and the dashboard show of `batch`, a rejected handshake
/// that said `said`: its JSON and text records, the Requests view, and the
/// summary's count.
fn shown_everywhere(batch: &Batch, said: &str) {
    let message = match &batch.outcome {
        Outcome::Rejected { message, .. } => message.clone(),
        other => panic!("{other:?}"),
    };
    let json = written(batch, Format::Json);
    let record: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(record["kind"], "rejected", "{json}");
    assert_eq!(record["reason"], "bad_tls", "{json}");
    assert!(record["status"].is_null(), "no HTTP status: {json}");
    assert_eq!(record["message"].as_str(), Some(message.as_str()));
    let from = batch.info.remote_addr.unwrap().to_string();
    assert_eq!(record["remote_addr"].as_str(), Some(from.as_str()));
    let text = written(batch, Format::Text);
    let line = format!("REJECTED  TLS bad_tls from {from} : ");
    assert!(text.contains(&line), "{text}");
    assert!(text.contains(said), "{text}");

    let mut store = Store::new(StoreLimits::default());
    store.ingest(batch);
    let now = now_ms();
    let mut app = dashboard::app(now - 60_000);
    app.apply(Action::GoTab(Tab::Requests), &mut store);
    app.tick(now, &store);
    let screen = dashboard::screen(&app, &store, 200, 50);
    // The request's row: its sender, and TLS for its status.
    let row = screen.lines().find(|l| {
        let l = l.trim_end_matches(|c: char| c == '│' || c == '"' || c.is_whitespace());
        l.contains(" 127.0.0.1") && l.ends_with(" TLS")
    });
    assert!(
        row.is_some(),
        "no row of the sender with status TLS:\n{screen}"
    );
    let view = flattened(&screen);
    assert!(view.contains(&format!("TLS rejected: {said}")), "{screen}");
    // Opened: no HTTP request to show, and at 80 columns its message whole
    // below the lines once highlighted (its own row cuts it).
    app.apply(Action::Enter, &mut store);
    let at = app
        .request
        .as_ref()
        .and_then(|r| r.lines.iter().position(|l| l.name == "message"));
    app.apply(Action::Down(at.expect("a message line")), &mut store);
    let opened = dashboard::screen(&app, &store, 80, 24);
    let note = "its TLS handshake failed: no HTTP request was read";
    assert!(opened.contains(note), "{opened}");
    assert!(!opened.contains("no longer kept"), "{opened}");
    assert!(
        opened.contains("none: the TLS handshake failed"),
        "{opened}"
    );
    assert!(flattened(&opened).contains(said), "{opened}");

    let mut summary = RunSummary::new(Arc::default());
    summary.record(batch);
    let summary = summary.to_string();
    assert!(summary.contains("1 rejected (bad_tls: 1)"), "{summary}");
}

#[tokio::test]
async fn a_client_without_the_required_certificate_is_shown_with_its_sni_and_alpn() {
    let pki = pki();
    let yaml = with_client_auth("RequireAndVerifyClientCert");
    let mut r = receiver(&pki.dir, &yaml, None).await;
    let mut config = pki.client_config(None, rustls::DEFAULT_VERSIONS);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let from = handshake(&r, config).await;
    let batch = r.next_batch().await;
    let message = bad_tls(&batch, from);
    let said = "client certificate required but none sent";
    assert!(message.starts_with(said), "{message}");
    assert!(
        message.ends_with("(client offered SNI \"localhost\", ALPN \"h2\", \"http/1.1\")"),
        "{message}"
    );
    shown_everywhere(&batch, said);
}

/// A receiver configured by `yaml` refuses the handshake of a client set up
/// by `client`: said as `said`, in every output.
async fn refused(yaml: &str, client: impl FnOnce(&Pki) -> rustls::ClientConfig, said: &str) {
    let pki = pki();
    let mut r = receiver(&pki.dir, yaml, None).await;
    let from = handshake(&r, client(&pki)).await;
    let batch = r.next_batch().await;
    let message = bad_tls(&batch, from);
    assert!(message.starts_with(said), "{message}");
    shown_everywhere(&batch, said);
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_named_as_such() {
    refused(
        &with_client_auth("RequireAndVerifyClientCert"),
        |pki| pki.client_config(Some(&pki.stranger), rustls::DEFAULT_VERSIONS),
        "client certificate not signed by the configured CA (client_ca_file)",
    )
    .await;
}

#[tokio::test]
async fn a_tls_1_2_client_to_a_tls_1_3_listener_is_told_no_version_in_common() {
    refused(
        &format!("{TLS_ONLY}  min_version: TLS13\n"),
        |pki| pki.client_config(None, &[&rustls::version::TLS12]),
        "no TLS version in common: the client offered TLS 1.2, promscope requires TLS 1.3 \
         (min_version TLS13)",
    )
    .await;
}

#[tokio::test]
async fn a_client_that_refuses_promscopes_certificate_is_shown_saying_so() {
    // A client that trusts another CA than the one that signed promscope's.
    let trusting_another = |pki: &Pki| {
        let mut other = pki::pki();
        other.ca_pem = pki.stranger.cert_pem.clone();
        other.client_config(None, rustls::DEFAULT_VERSIONS)
    };
    refused(
        TLS_ONLY,
        trusting_another,
        "the sender refused promscope's certificate (unknown CA)",
    )
    .await;
}

#[tokio::test]
async fn a_client_with_no_cipher_suite_in_common_is_told_which_it_offered() {
    // TLS 1.2 with one ECDSA suite on promscope's side (its certificate's key
    // is ECDSA), another on the client's.
    let yaml = format!(
        "{TLS_ONLY}  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n"
    );
    let chacha_only = |pki: &Pki| {
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites =
            vec![rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256];
        pki.client_config_with(provider, None, &[&rustls::version::TLS12])
    };
    refused(
        &yaml,
        chacha_only,
        "no cipher suite in common (client offered \
         TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    )
    .await;
}

#[tokio::test]
async fn bytes_that_are_not_tls_are_quoted_escaped() {
    let pki = pki();
    let mut r = receiver(&pki.dir, TLS_ONLY, None).await;
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    let from = tcp.local_addr().unwrap();
    tcp.write_all(b"\x00\x1b[2Jgarbage\xff").await.unwrap();
    until_closed(&mut tcp).await;
    let batch = r.next_batch().await;
    let said = "not TLS: the connection began with \"\\x00\\x1b[2Jgarbage\\xff\"";
    assert!(
        bad_tls(&batch, from).starts_with(said),
        "{:?}",
        batch.outcome
    );
    shown_everywhere(&batch, said);
    // A handshake record that holds no ClientHello.
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    let from = tcp.local_addr().unwrap();
    tcp.write_all(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\xff")
        .await
        .unwrap();
    until_closed(&mut tcp).await;
    let batch = r.next_batch().await;
    let message = bad_tls(&batch, from);
    assert_eq!(
        message,
        "not TLS: the connection began with \"\\x16\\x03\\x01\\x00\\x05\\x01\\x00\\x00\\x01\\xff\" \
         like a TLS handshake, but no ClientHello could be read from it (missing data)"
    );
}

/// A TLS receiver whose header timeout is `header_timeout`.
async fn timing_out(pki: &Pki, header_timeout: Duration) -> TestReceiver {
    let limits = Limits {
        header_timeout,
        ..Limits::default()
    };
    receiver_with(&pki.dir, TLS_ONLY, None, limits).await
}

/// The first flight of a TLS client (its ClientHello), for `localhost`.
fn client_hello(pki: &Pki) -> Vec<u8> {
    let config = Arc::new(pki.client_config(None, rustls::DEFAULT_VERSIONS));
    let name = ServerName::try_from("localhost").unwrap();
    let mut client = rustls::ClientConnection::new(config, name).unwrap();
    let mut hello = Vec::new();
    client.write_tls(&mut hello).unwrap();
    hello
}

#[tokio::test]
async fn a_client_that_stops_or_closes_mid_handshake_is_shown_at_the_header_timeout() {
    let pki = pki();
    let mut r = timing_out(&pki, Duration::from_millis(400)).await;
    let hello = client_hello(&pki);
    // Half a ClientHello, then silence.
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    let from = tcp.local_addr().unwrap();
    tcp.write_all(&hello[..hello.len() / 2]).await.unwrap();
    until_closed(&mut tcp).await;
    let batch = r.next_batch().await;
    let said = "the TLS handshake did not finish within 400ms (--header-timeout): its \
                ClientHello did not come whole";
    assert_eq!(bad_tls(&batch, from), said);
    shown_everywhere(&batch, said);
    // A whole ClientHello, then silence: what it offered is known.
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    let from = tcp.local_addr().unwrap();
    tcp.write_all(&hello).await.unwrap();
    until_closed(&mut tcp).await;
    let batch = r.next_batch().await;
    assert_eq!(
        bad_tls(&batch, from),
        "the TLS handshake did not finish within 400ms (--header-timeout): its ClientHello \
         came, then it stopped (client offered SNI \"localhost\", no ALPN)"
    );
    // Half a ClientHello, then closed.
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    let from = tcp.local_addr().unwrap();
    tcp.write_all(&hello[..10]).await.unwrap();
    drop(tcp);
    let batch = r.next_batch().await;
    let said = "closed during the TLS handshake, before its ClientHello was whole";
    assert_eq!(bad_tls(&batch, from), said);
    // A connection that sends nothing is no request.
    let silent = TcpStream::connect(r.addr).await.unwrap();
    let nothing = tokio::time::timeout(Duration::from_millis(900), r.rx.recv()).await;
    assert!(nothing.is_err(), "a silent connection is not shown");
    drop(silent);
}

#[tokio::test]
async fn plain_http_to_the_tls_port_has_one_header_timeout_from_the_connections_start() {
    let pki = pki();
    let mut r = timing_out(&pki, Duration::from_secs(2)).await;
    let started = Instant::now();
    let mut tcp = TcpStream::connect(r.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // A head begun late and never finished: answered when the 2 s from the
    // connection's start are over, not 2 s after its first byte.
    tcp.write_all(b"POST /api/v1/write HTTP/1.1\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut tcp).await;
    let took = started.elapsed();
    assert!(answer.contains("use https://"), "{answer}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(3_000),
        "answered after {took:?}"
    );
    let batch = r.next_batch().await;
    let rejection = batch
        .outcome
        .rejection()
        .map(|(status, reason, _)| (status, reason));
    assert_eq!(rejection, Some((400, RejectReason::BadHttp)));
}
