//! TLS and credentials to backends: rustls with ring, trusting the system's
//! root certificates plus `--forward-ca-file`, a client certificate
//! (`--forward-client-cert`/`--forward-client-key`), or nothing at all
//! (`--forward-insecure-skip-verify`); a bearer token or basic auth for
//! senders that carry no credentials of their own.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use hyper::header::HeaderValue;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How promscope speaks TLS to https backends.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// More CA certificates to trust, PEM (`--forward-ca-file`).
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain, PEM (`--forward-client-cert`).
    pub client_cert: Option<PathBuf>,
    /// Its key, PEM (`--forward-client-key`).
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate (`--forward-insecure-skip-verify`).
    pub insecure_skip_verify: bool,
}

/// Credentials for backends, used when a sender carries none.
#[derive(Debug, Clone, Default)]
pub struct AuthOptions {
    /// File holding a bearer token (`--forward-bearer-token-file`).
    pub bearer_token_file: Option<PathBuf>,
    /// Basic-auth user (`--forward-basic-auth-user`).
    pub basic_auth_user: Option<String>,
    /// File holding its password (`--forward-basic-auth-password-file`).
    pub basic_auth_password_file: Option<PathBuf>,
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {flag} {}: {e}", path.display()))
}

/// The client configuration for https backends; `needed` is false when no
/// backend is https, and the system's roots are not read.
pub fn client_config(options: &TlsOptions, needed: bool) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS to the backend: {e}"))?;
    let builder = if options.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    } else {
        builder.with_root_certificates(roots(options, needed)?)
    };
    match (&options.client_cert, &options.client_key) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(&read(cert, "--forward-client-cert")?)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("--forward-client-cert {}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!(
                    "--forward-client-cert {} holds no certificate",
                    cert.display()
                ));
            }
            let key_der = PrivateKeyDer::from_pem_slice(&read(key, "--forward-client-key")?)
                .map_err(|e| format!("--forward-client-key {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| format!("--forward-client-cert and --forward-client-key: {e}"))
        }
        _ => Err("--forward-client-cert and --forward-client-key go together".into()),
    }
}

/// The system's roots (when needed) and those of `--forward-ca-file`.
fn roots(options: &TlsOptions, needed: bool) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if needed {
        // Unreadable ones are skipped: a backend they would have vouched for
        // fails its handshake with a message that says so.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    if let Some(path) = &options.ca_file {
        let pem = read(path, "--forward-ca-file")?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("--forward-ca-file {}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("--forward-ca-file {}: {e}", path.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!(
                "--forward-ca-file {} holds no certificate",
                path.display()
            ));
        }
    }
    Ok(roots)
}

/// The `Authorization` header for backends, from a token or basic-auth
/// credentials read from their files.
pub fn authorization(options: &AuthOptions) -> Result<Option<HeaderValue>, String> {
    let credentials = match (
        &options.bearer_token_file,
        &options.basic_auth_user,
        &options.basic_auth_password_file,
    ) {
        (None, None, None) => return Ok(None),
        (Some(file), None, None) => {
            let token = String::from_utf8_lossy(&read(file, "--forward-bearer-token-file")?)
                .trim()
                .to_owned();
            if token.is_empty() {
                return Err(format!(
                    "--forward-bearer-token-file {} is empty",
                    file.display()
                ));
            }
            format!("Bearer {token}")
        }
        (None, Some(user), Some(file)) => {
            let password = read(file, "--forward-basic-auth-password-file")?;
            let password = String::from_utf8_lossy(&password);
            // A trailing newline is the file's, not the password's (as Prometheus reads it).
            let password = password.strip_suffix('\n').unwrap_or(&password);
            let pair = format!("{user}:{password}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
        (Some(_), _, _) => {
            return Err(
                "--forward-bearer-token-file and --forward-basic-auth-* are either-or".into(),
            );
        }
        _ => {
            return Err(
                "--forward-basic-auth-user and --forward-basic-auth-password-file go together"
                    .into(),
            );
        }
    };
    HeaderValue::try_from(credentials)
        .map(Some)
        .map_err(|_| "the backend credentials hold characters a header cannot carry".into())
}

/// `--forward-insecure-skip-verify`: any certificate is accepted; the
/// handshake's signatures are still checked, so the connection works.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
