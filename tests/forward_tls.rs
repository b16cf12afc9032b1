//! Forward mode to https backends with certificates made by the test (rcgen):
//! a test CA (`--forward-ca-file`), a client certificate, a certificate nobody
//! vouches for (`--forward-insecure-skip-verify`), and the credentials promscope
//! adds for senders that carry none.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use common::backend::{BackendAnswer, TestBackend};
use common::temp::TempDir;
use common::*;
use promscope::ingest::forward::{ForwardConfig, Forwarder};
use promscope::ingest::server::Limits;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// Certificates made for one test, in files of a directory of its own.
struct Pki {
    dir: TempDir,
    ca_pem: String,
    /// For 127.0.0.1, signed by the CA.
    server: (String, String),
    /// A client certificate signed by the CA.
    client: (String, String),
}

impl Pki {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = TempDir::new(&format!(
            "forward-tls-{}",
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf = |name: &str, purpose: ExtendedKeyUsagePurpose| {
            let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
            params.extended_key_usages = vec![purpose];
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &ca).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        Pki {
            server: leaf("127.0.0.1", ExtendedKeyUsagePurpose::ServerAuth),
            client: leaf("promscope", ExtendedKeyUsagePurpose::ClientAuth),
            ca_pem: ca.pem(),
            dir,
        }
    }

    /// The server's TLS, requiring a client certificate signed by the CA when `mtls`.
    fn server_config(&self, mtls: bool) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if mtls {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap())
                .unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = vec![CertificateDer::from_pem_slice(self.server.0.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(self.server.1.as_bytes()).unwrap();
        Arc::new(builder.with_single_cert(chain, key).unwrap())
    }
}

fn config(url: String) -> ForwardConfig {
    ForwardConfig {
        timeout: Duration::from_secs(5),
        ..ForwardConfig::to(url)
    }
}

#[tokio::test]
async fn an_https_backend_is_verified_against_the_ca_file() {
    let pki = Pki::new();
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
    let pki = Pki::new();
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
    let pki = Pki::new();
    let backend = TestBackend::start_tls(BackendAnswer::status(204), pki.server_config(true)).await;
    let url = backend.https_url("127.0.0.1", "");
    let mut settings = config(url);
    settings.tls.ca_file = Some(pki.dir.write("ca.pem", &pki.ca_pem));
    let without = TestReceiver::start_forwarding(Limits::default(), 8, settings.clone()).await;
    let reply = without
        .post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0]))
        .await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    settings.tls.client_cert = Some(pki.dir.write("client.pem", &pki.client.0));
    settings.tls.client_key = Some(pki.dir.write("client-key.pem", &pki.client.1));
    let with = TestReceiver::start_forwarding(Limits::default(), 8, settings).await;
    let reply = with
        .post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0]))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
}

#[tokio::test]
async fn credentials_are_added_for_senders_that_carry_none() {
    let pki = Pki::new();
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
    let pki = Pki::new();
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
