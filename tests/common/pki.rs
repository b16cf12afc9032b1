//! Certificates made by a test (rcgen): a CA, a server certificate for
//! `localhost` and 127.0.0.1, a client certificate the CA signed and one it
//! did not, a receiver configured by a web configuration file naming them, and
//! the server side of TLS for a backend of the test's own.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use promscope::ingest::server::{Limits, Security};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::TestReceiver;
use super::temp::TempDir;

/// A certificate and its key, in PEM and DER.
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Identity {
    /// The certificate (a chain of one) and its key, as rustls takes them.
    pub fn der(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (
            vec![CertificateDer::from_pem_slice(self.cert_pem.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).unwrap(),
        )
    }
}

/// A test CA, a server certificate for `localhost` and 127.0.0.1 and client
/// certificates, written to a directory of their own.
pub struct Pki {
    pub dir: TempDir,
    pub ca_pem: String,
    /// For `localhost` and 127.0.0.1, signed by the CA.
    pub server: Identity,
    /// Signed by the CA.
    pub client: Identity,
    /// Signed by no one the server trusts.
    pub stranger: Identity,
}

pub fn pki() -> Pki {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = TempDir::new(&format!("tls-{n}"));
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // A name of its own: another Pki's CA (or the stranger, "rcgen self
    // signed cert") is another issuer, not one of the same name.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("promscope test CA {n}"));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: &[&str], purpose: ExtendedKeyUsagePurpose| {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![purpose];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    };
    let server = leaf(
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let client = leaf(&["prometheus"], ExtendedKeyUsagePurpose::ClientAuth);
    let stranger = rcgen::generate_simple_self_signed(vec!["stranger".to_owned()]).unwrap();
    std::fs::write(dir.join("server.pem"), &server.cert_pem).unwrap();
    std::fs::write(dir.join("server-key.pem"), &server.key_pem).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    Pki {
        dir,
        ca_pem: ca.pem(),
        server,
        client,
        stranger: Identity {
            cert_pem: stranger.cert.pem(),
            key_pem: stranger.signing_key.serialize_pem(),
        },
    }
}

impl Pki {
    /// A client's configuration trusting the CA, presenting `identity`,
    /// speaking `versions`.
    pub fn client_config(
        &self,
        identity: Option<&Identity>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> rustls::ClientConfig {
        let provider = rustls::crypto::ring::default_provider();
        self.client_config_with(provider, identity, versions)
    }

    /// [`Pki::client_config`] with the cipher suites and groups of `provider`.
    pub fn client_config_with(
        &self,
        provider: rustls::crypto::CryptoProvider,
        identity: Option<&Identity>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots);
        match identity {
            Some(identity) => {
                let (certs, key) = identity.der();
                builder.with_client_auth_cert(certs, key).unwrap()
            }
            None => builder.with_no_client_auth(),
        }
    }

    /// The server's TLS, requiring a client certificate signed by the CA when `mtls`.
    pub fn server_config(&self, mtls: bool) -> Arc<rustls::ServerConfig> {
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
        let (chain, key) = self.server.der();
        Arc::new(builder.with_single_cert(chain, key).unwrap())
    }
}

/// A receiver configured by the web configuration `yaml` (written beside the
/// certificates, which it names relatively) and an optional bearer token.
pub async fn receiver(dir: &Path, yaml: &str, token: Option<&str>) -> TestReceiver {
    receiver_with(dir, yaml, token, Limits::default()).await
}

pub async fn receiver_with(
    dir: &Path,
    yaml: &str,
    token: Option<&str>,
    limits: Limits,
) -> TestReceiver {
    let config = dir.join("web.yml");
    std::fs::write(&config, yaml).unwrap();
    let token_file = token.map(|t| {
        let path = dir.join("token");
        std::fs::write(&path, format!("{t}\n")).unwrap();
        path
    });
    let security = Security::load(Some(&config), token_file.as_deref()).unwrap();
    TestReceiver::start_with(limits, 16, security).await
}

/// A web configuration with TLS and nothing else.
pub const TLS_ONLY: &str =
    "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n";

/// [`TLS_ONLY`] with client certificates as `policy` asks, verified against the CA.
pub fn with_client_auth(policy: &str) -> String {
    format!("{TLS_ONLY}  client_auth_type: {policy}\n  client_ca_file: ca.pem\n")
}
