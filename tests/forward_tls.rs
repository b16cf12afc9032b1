//! Forward mode to https backends with certificates made by the test (rcgen):
//! a test CA (`--forward-ca-file`), a client certificate, a certificate nobody
//! vouches for (`--forward-insecure-skip-verify`), and the credentials promscope
//! adds for senders that carry none.

mod common;

use std::time::Duration;

use base64::Engine;
use common::backend::{BackendAnswer, TestBackend};
use common::pki::pki;
use common::*;
use promscope::ingest::forward::{ForwardConfig, Forwarder};
use promscope::ingest::server::Limits;

fn config(url: String) -> ForwardConfig {
    ForwardConfig {
        timeout: Duration::from_secs(5),
        ..ForwardConfig::to(url)
    }
}

#[tokio::test]
async fn an_https_backend_is_verified_against_the_ca_file() {
    let pki = pki();
    let mut backend =
        TestBackend::start_tls(BackendAnswer::status(204), pki.server_config(false)).await;
    let url = backend.https_url("127.0.0.1", "/api/v1/write");

    // Without the test CA, the backend's certificate is nobody's: 502, saying so.
    let r = TestReceiver::start_forwarding(Limits::default(), 8, config(url.clone())).await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert!(reply.body.contains(&url), "{}", reply.body);
    assert!(
        reply.body.to_lowercase().contains("certificate"),
        "{}",
        reply.body
    );

    let mut settings = config(url.clone());
    settings.tls.ca_file = Some(pki.dir.write("ca.pem", &pki.ca_pem));
    let r = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(backend.next().await.body, rw1_body(&[1.0]));
}

#[tokio::test]
async fn insecure_skip_verify_accepts_any_certificate_and_says_so() {
    let pki = pki();
    let backend =
        TestBackend::start_tls(BackendAnswer::status(204), pki.server_config(false)).await;
    let mut settings = config(backend.https_url("127.0.0.1", ""));
    settings.tls.insecure_skip_verify = true;
    let r = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert!(r.stats.forward.get().unwrap().snapshot().insecure);
}

#[tokio::test]
async fn a_backend_requiring_a_client_certificate_gets_one() {
    let pki = pki();
    let backend = TestBackend::start_tls(BackendAnswer::status(204), pki.server_config(true)).await;
    let url = backend.https_url("127.0.0.1", "");
    let mut settings = config(url);
    settings.tls.ca_file = Some(pki.dir.write("ca.pem", &pki.ca_pem));
    let without = TestReceiver::start_forwarding(Limits::default(), 8, settings.clone()).await;
    let reply = without
        .post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0]))
        .await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    settings.tls.client_cert = Some(pki.dir.write("client.pem", &pki.client.cert_pem));
    settings.tls.client_key = Some(pki.dir.write("client-key.pem", &pki.client.key_pem));
    let with = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    let reply = with
        .post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0]))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
}

#[tokio::test]
async fn credentials_are_added_for_senders_that_carry_none() {
    let pki = pki();
    let mut backend = TestBackend::start(BackendAnswer::status(204)).await;
    let mut settings = config(backend.url(""));
    settings.auth.bearer_token_file = Some(pki.dir.write("token", "s3cret\n"));
    let r = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    let got = backend.next().await;
    assert_eq!(got.headers.get("authorization").unwrap(), "Bearer s3cret");
    // A sender's own credentials go through as they are.
    let headers = [RW1_HEADERS, &[("authorization", "Bearer sender")]].concat();
    r.post("/api/v1/write", &headers, rw1_body(&[1.0])).await;
    let got = backend.next().await;
    assert_eq!(got.headers.get("authorization").unwrap(), "Bearer sender");

    let mut settings = config(backend.url(""));
    settings.auth.basic_auth_user = Some("prometheus".into());
    settings.auth.basic_auth_password_file = Some(pki.dir.write("password", "pa:ss\n"));
    let r = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    let got = backend.next().await;
    let expected = base64::engine::general_purpose::STANDARD.encode("prometheus:pa:ss");
    assert_eq!(
        got.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Basic {expected}")
    );
}

#[test]
fn settings_that_cannot_work_are_refused_with_the_flag_named() {
    let pki = pki();
    let mut settings = config("https://127.0.0.1:1".into());
    settings.tls.ca_file = Some(pki.dir.write("empty.pem", ""));
    let err = Forwarder::new(&settings, false).err().unwrap();
    assert!(err.contains("--forward-ca-file"), "{err}");
    let mut settings = config("https://127.0.0.1:1".into());
    settings.auth.bearer_token_file = Some(pki.dir.write("blank", "  \n"));
    let err = Forwarder::new(&settings, false).err().unwrap();
    assert!(err.contains("--forward-bearer-token-file"), "{err}");
    let mut settings = config("https://127.0.0.1:1".into());
    settings.mirrors = vec!["ftp://mirror".into()];
    let err = Forwarder::new(&settings, false).err().unwrap();
    assert!(err.contains("--mirror"), "{err}");
}
