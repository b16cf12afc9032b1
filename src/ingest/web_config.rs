//! `--web.config.file`: Prometheus's web configuration file (exporter-toolkit
//! format), read with its semantics: TLS (`tls_server_config`), basic-auth
//! users (`basic_auth_users`, bcrypt hashes) and extra response headers
//! (`http_server_config.headers`). Relative paths are relative to the file's
//! directory; an unknown key is an error that names it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::header::{HeaderName, HeaderValue};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use super::client_cert::{self, ClientAuth, ClientCert};
use super::tls_failure::TlsVersions;

/// The parts of a web configuration file promscope uses.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// TLS for the listener, when `tls_server_config` is set.
    pub tls: Option<Arc<ServerConfig>>,
    /// What the TLS handshake asks of the client's certificate.
    pub client_cert: ClientCert,
    /// The TLS versions it speaks.
    pub tls_versions: TlsVersions,
    /// Basic-auth users: name to bcrypt hash.
    pub users: HashMap<String, String>,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// A web configuration file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("web configuration file {path}: {message}")]
pub struct WebConfigError {
    path: PathBuf,
    message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsServerConfig>,
    http_server_config: Option<HttpServerConfig>,
    basic_auth_users: Option<HashMap<String, String>>,
    rate_limit: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsServerConfig {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    cipher_suites: Option<Vec<String>>,
    curve_preferences: Option<Vec<String>>,
    min_version: Option<String>,
    max_version: Option<String>,
    prefer_server_cipher_suites: Option<bool>,
    client_allowed_sans: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpServerConfig {
    /// promscope speaks HTTP/1.1 only; senders fall back to it.
    #[allow(dead_code)] // accepted for compatibility, nothing to set
    http2: Option<bool>,
    headers: Option<HashMap<String, String>>,
}

/// Headers the file may set, with the values allowed (none listed: any), as
/// exporter-toolkit allows them.
const SETTABLE_HEADERS: [(&str, &[&str]); 5] = [
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// Reads and checks the file at `path`.
pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
    let error = |message: String| WebConfigError {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, dir).map_err(error)
}

/// Parses a web configuration, resolving relative paths against `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<WebConfig, String> {
    // An empty file is a valid, empty configuration.
    let file: File = match serde_yaml_ng::from_str::<Option<File>>(text) {
        Ok(file) => file.unwrap_or_default(),
        Err(e) => return Err(e.to_string()),
    };
    if file.rate_limit.is_some() {
        return Err("rate_limit is not supported by promscope".into());
    }
    let users = file.basic_auth_users.unwrap_or_default();
    for (user, hash) in &users {
        hash.parse::<bcrypt::HashParts>().map_err(|e| {
            format!("basic_auth_users: the password of user {user:?} is not a bcrypt hash: {e}")
        })?;
    }
    let headers = file
        .http_server_config
        .and_then(|h| h.headers)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| header(&name, &value))
        .collect::<Result<_, _>>()?;
    let (tls, client_cert, tls_versions) = match file.tls_server_config {
        Some(tls) => match server_config(tls, dir)? {
            Some((config, client_cert, versions)) => {
                (Some(Arc::new(config)), client_cert, versions)
            }
            None => Default::default(),
        },
        None => Default::default(),
    };
    Ok(WebConfig {
        tls,
        client_cert,
        tls_versions,
        users,
        headers,
    })
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let Some((_, allowed)) = SETTABLE_HEADERS
        .iter()
        .find(|(settable, _)| settable.eq_ignore_ascii_case(name))
    else {
        return Err(format!(
            "http_server_config.headers: HTTP header {name:?} can not be configured"
        ));
    };
    if !allowed.is_empty() && !allowed.contains(&value) {
        return Err(format!(
            "http_server_config.headers: invalid value for {name}. Expected one of: {allowed:?}, but got: {value:?}"
        ));
    }
    let name = HeaderName::try_from(name).map_err(|e| e.to_string())?;
    let value = HeaderValue::try_from(value).map_err(|e| format!("header {name}: {e}"))?;
    Ok((name, value))
}

/// A path of the file, relative to its directory unless absolute.
fn resolve(dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        dir.join(path)
    }
}

/// PEM text given inline or in a file.
fn pem(
    inline: Option<String>,
    file: Option<PathBuf>,
    dir: &Path,
    what: &str,
) -> Result<Option<Vec<u8>>, String> {
    match (inline, file) {
        (_, Some(file)) => {
            let path = resolve(dir, &file);
            std::fs::read(&path)
                .map(Some)
                .map_err(|e| format!("cannot read {what}_file {}: {e}", path.display()))
        }
        (Some(text), None) => Ok(Some(text.into_bytes())),
        (None, None) => Ok(None),
    }
}

/// The rustls configuration for `tls_server_config` and what it asks of client
/// certificates; `None` when it sets nothing.
fn server_config(
    c: TlsServerConfig,
    dir: &Path,
) -> Result<Option<(ServerConfig, ClientCert, TlsVersions)>, String> {
    let enabled = c.cert.is_some()
        || c.cert_file.is_some()
        || c.key.is_some()
        || c.key_file.is_some()
        || c.client_ca.is_some()
        || c.client_ca_file.is_some()
        || c.client_auth_type.is_some();
    if !enabled {
        return Ok(None);
    }
    if c.client_allowed_sans.is_some() {
        return Err("tls_server_config.client_allowed_sans is not supported by promscope".into());
    }
    let prefix = |e: String| format!("tls_server_config: {e}");
    let certs = pem(c.cert, c.cert_file, dir, "cert")
        .map_err(prefix)?
        .ok_or_else(|| prefix("missing one of cert or cert_file".into()))?;
    let key = pem(c.key, c.key_file, dir, "key")
        .map_err(prefix)?
        .ok_or_else(|| prefix("missing one of key or key_file".into()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&certs)
        .collect::<Result<_, _>>()
        .map_err(|e| prefix(format!("the certificate is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(prefix("no certificate found in cert/cert_file".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|e| prefix(format!("no private key found in key/key_file: {e}")))?;
    let client_cas = pem(c.client_ca, c.client_ca_file, dir, "client_ca").map_err(prefix)?;
    let client_auth =
        ClientAuth::parse(c.client_auth_type.as_deref().unwrap_or_default()).map_err(prefix)?;
    if client_cas.is_some() && client_auth == ClientAuth::NoClientCert {
        return Err(prefix(
            "client CA's have been configured without a Client Auth Policy (client_auth_type)"
                .into(),
        ));
    }
    let provider = Arc::new(provider(
        c.cipher_suites.as_deref(),
        c.curve_preferences.as_deref(),
    )?);
    let versions = versions(c.min_version.as_deref(), c.max_version.as_deref()).map_err(prefix)?;
    let verifier =
        client_cert::verifier(client_auth, client_cas.as_deref(), &provider).map_err(prefix)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| prefix(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| prefix(format!("the certificate and key do not go together: {e}")))?;
    config.ignore_client_order = c.prefer_server_cipher_suites.unwrap_or(true);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some((
        config,
        client_auth.asks(),
        TlsVersions::of(&versions),
    )))
}

/// The TLS versions between `min` and `max` (`TLS12`, `TLS13`; Go's defaults).
fn versions(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    let rank = |v: &str, key: &str| match v {
        "TLS12" => Ok(0),
        "TLS13" => Ok(1),
        "TLS10" | "TLS11" => Err(format!(
            "{key} {v} is not supported: promscope (rustls) speaks TLS12 and TLS13"
        )),
        other => Err(format!("{key}: unknown TLS version: {other}")),
    };
    let min = min.map_or(Ok(0), |v| rank(v, "min_version"))?;
    let max = max.map_or(Ok(1), |v| rank(v, "max_version"))?;
    let all = [&rustls::version::TLS12, &rustls::version::TLS13];
    let chosen: Vec<_> = all
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (min..=max).contains(i))
        .map(|(_, v)| v)
        .collect();
    if chosen.is_empty() {
        return Err("min_version is above max_version".into());
    }
    Ok(chosen)
}

/// ring's provider, limited to the TLS 1.2 cipher suites and the key exchange
/// groups listed, in the order listed (Go's names). As in Go, the suites do
/// not apply to TLS 1.3.
fn provider(
    suites: Option<&[String]>,
    curves: Option<&[String]>,
) -> Result<CryptoProvider, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(names) = suites {
        let all = std::mem::take(&mut provider.cipher_suites);
        let name_of = |s: &rustls::SupportedCipherSuite| s.suite().as_str().unwrap_or_default();
        provider
            .cipher_suites
            .extend(all.iter().filter(|s| s.tls13().is_some()).copied());
        for name in names {
            match all.iter().find(|s| name_of(s) == name) {
                Some(suite) if suite.tls13().is_some() => {}
                Some(suite) => provider.cipher_suites.push(*suite),
                None => {
                    let offered: Vec<&str> = all.iter().map(name_of).collect();
                    return Err(format!(
                        "tls_server_config.cipher_suites: {name} is not one promscope offers ({})",
                        offered.join(", ")
                    ));
                }
            }
        }
    }
    if let Some(names) = curves {
        let all = std::mem::take(&mut provider.kx_groups);
        for name in names {
            let group = match name.as_str() {
                "X25519" => rustls::NamedGroup::X25519,
                "CurveP256" => rustls::NamedGroup::secp256r1,
                "CurveP384" => rustls::NamedGroup::secp384r1,
                other => {
                    return Err(format!(
                        "tls_server_config.curve_preferences: {other} is not one promscope offers (X25519, CurveP256, CurveP384)"
                    ));
                }
            };
            provider
                .kx_groups
                .extend(all.iter().filter(|g| g.name() == group).copied());
        }
    }
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text, Path::new("/nonexistent")).unwrap_err()
    }

    #[test]
    fn empty_and_auth_only_files_have_no_tls() {
        assert!(parse("", Path::new(".")).unwrap().tls.is_none());
        let hash = bcrypt::hash("pw", 4).unwrap();
        let config = parse(
            &format!("basic_auth_users:\n  prom: {hash}\ntls_server_config: {{}}\n"),
            Path::new("."),
        )
        .unwrap();
        assert!(config.tls.is_none());
        assert_eq!(config.users["prom"], hash);
    }

    #[test]
    fn unknown_and_unsupported_keys_are_named() {
        assert!(error("tls_server_config:\n  cert_flie: x\n").contains("cert_flie"));
        assert!(error("basic_auth:\n  a: b\n").contains("basic_auth"));
        assert!(error("http_server_config:\n  http3: true\n").contains("http3"));
        assert!(error("rate_limit:\n  burst: 1\n").contains("rate_limit"));
        assert!(
            error(
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_allowed_sans: [a]\n"
            )
            .contains("client_allowed_sans")
        );
    }

    #[test]
    fn the_rules_of_exporter_toolkit() {
        assert!(error("tls_server_config:\n  key_file: k.pem\n").contains("missing one of cert"));
        assert!(error("tls_server_config:\n  cert: x\n").contains("missing one of key"));
        // Relative paths are read from the file's directory.
        assert!(
            error("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n")
                .contains("/nonexistent/c.pem")
        );
        assert!(error("basic_auth_users:\n  prom: plain\n").contains("not a bcrypt hash"));
        assert!(
            error("http_server_config:\n  headers:\n    X-Frame-Options: allow\n")
                .contains("Expected one of")
        );
        assert!(
            error("http_server_config:\n  headers:\n    Server: x\n")
                .contains("can not be configured")
        );
        let headers = parse(
            "http_server_config:\n  http2: false\n  headers:\n    X-Content-Type-Options: nosniff\n",
            Path::new("."),
        )
        .unwrap()
        .headers;
        assert_eq!(headers.len(), 1);
    }

    #[test]
    fn versions_suites_and_curves() {
        assert_eq!(versions(None, None).unwrap().len(), 2);
        assert_eq!(versions(Some("TLS13"), None).unwrap().len(), 1);
        assert!(
            versions(Some("TLS10"), None)
                .unwrap_err()
                .contains("TLS12 and TLS13")
        );
        assert!(versions(Some("TLS13"), Some("TLS12")).is_err());
        let p = provider(
            Some(&["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()]),
            Some(&["CurveP256".into(), "X25519".into()]),
        )
        .unwrap();
        // The TLS 1.3 suites stay, as in Go.
        assert!(p.cipher_suites.iter().any(|s| s.tls13().is_some()));
        assert_eq!(
            p.cipher_suites
                .iter()
                .filter(|s| s.tls13().is_none())
                .count(),
            1
        );
        let groups: Vec<_> = p.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            groups,
            [rustls::NamedGroup::secp256r1, rustls::NamedGroup::X25519]
        );
        assert!(provider(Some(&["TLS_RSA_WITH_RC4_128_SHA".into()]), None).is_err());
        assert!(provider(None, Some(&["CurveP521".into()])).is_err());
    }
}
