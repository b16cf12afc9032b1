//! TLS to backends: rustls with ring, trusting the system's root certificates.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;

/// The client configuration for https backends; `needed` is false when no
/// backend is https, and the system's roots are not read.
pub fn client_config(needed: bool) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    if needed {
        // Unreadable ones are skipped: a backend they would have vouched for
        // fails its handshake with a message that says so.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS to the backend: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
