//! Client certificates, as `client_auth_type` of Prometheus's web
//! configuration asks for them (Go's `tls.ClientAuthType`), with rustls.

use std::sync::Arc;

use rustls::DistinguishedName;
use rustls::RootCertStore;
use rustls::SignatureScheme;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};

/// Whether a client certificate is asked for in the TLS handshake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientCert {
    /// Not asked for.
    #[default]
    NotAsked,
    /// Asked for, not required.
    Optional,
    Required,
}

/// What the listener asks of clients' certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// None asked for.
    NoClientCert,
    /// Asked for, not required, not verified.
    RequestClientCert,
    /// Required, not verified.
    RequireAnyClientCert,
    /// Not required; verified against the client CAs when given.
    VerifyClientCertIfGiven,
    /// Required and verified against the client CAs.
    RequireAndVerifyClientCert,
}

impl ClientAuth {
    /// From the `client_auth_type` value ("" is `NoClientCert`).
    pub fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "" | "NoClientCert" => ClientAuth::NoClientCert,
            "RequestClientCert" => ClientAuth::RequestClientCert,
            // The second name is kept by exporter-toolkit for compatibility.
            "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
            other => {
                return Err(format!(
                    "invalid client_auth_type {other:?}: one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"
                ));
            }
        })
    }

    /// What the handshake asks of the client.
    pub fn asks(self) -> ClientCert {
        match self {
            ClientAuth::NoClientCert => ClientCert::NotAsked,
            ClientAuth::RequestClientCert | ClientAuth::VerifyClientCertIfGiven => {
                ClientCert::Optional
            }
            ClientAuth::RequireAnyClientCert | ClientAuth::RequireAndVerifyClientCert => {
                ClientCert::Required
            }
        }
    }
}

/// The verifier for `auth`, trusting the certificates in `cas` (PEM).
pub fn verifier(
    auth: ClientAuth,
    cas: Option<&[u8]>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let algorithms = provider.signature_verification_algorithms;
    let any = |mandatory| -> Arc<dyn ClientCertVerifier> {
        Arc::new(AnyClientCert {
            mandatory,
            algorithms,
        })
    };
    let verified = |roots: RootCertStore| {
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
    };
    Ok(match auth {
        ClientAuth::NoClientCert => WebPkiClientVerifier::no_client_auth(),
        ClientAuth::RequestClientCert => any(false),
        ClientAuth::RequireAnyClientCert => any(true),
        ClientAuth::VerifyClientCertIfGiven => verified(roots(cas, auth)?)
            .allow_unauthenticated()
            .build()
            .map_err(|e| e.to_string())?,
        ClientAuth::RequireAndVerifyClientCert => verified(roots(cas, auth)?)
            .build()
            .map_err(|e| e.to_string())?,
    })
}

/// The client CAs, which the verifying modes need.
fn roots(cas: Option<&[u8]>, auth: ClientAuth) -> Result<RootCertStore, String> {
    let Some(pem) = cas else {
        return Err(format!(
            "client_auth_type {auth:?} verifies client certificates: it needs client_ca_file (or client_ca)"
        ));
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("client CA is not valid PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("client CA certificate cannot be used: {e}"))?;
    }
    if roots.is_empty() {
        return Err("no certificate found in client_ca_file (or client_ca)".into());
    }
    Ok(roots)
}

/// Accepts any client certificate (Go's `RequestClientCert` and
/// `RequireAnyClientCert`); the client must still prove it holds the key.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
