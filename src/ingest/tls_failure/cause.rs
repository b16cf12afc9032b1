//! What failed in a TLS handshake, in words a user acts on, from rustls's
//! error (or the connection's): which side refused what, and what to change.

use std::io;
use std::time::Duration;

use rustls::{AlertDescription, CertificateError, PeerIncompatible};

use super::{Offered, quoted};

/// Most cipher suites of the client's listed.
const LISTED_SUITES: usize = 6;

/// The TLS versions the listener speaks (`min_version`, `max_version`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsVersions {
    #[default]
    Both,
    Tls12Only,
    Tls13Only,
}

impl TlsVersions {
    /// Of the versions a configuration enables.
    pub fn of(versions: &[&rustls::SupportedProtocolVersion]) -> Self {
        let has = |v| versions.iter().any(|s| s.version == v);
        match (
            has(rustls::ProtocolVersion::TLSv1_2),
            has(rustls::ProtocolVersion::TLSv1_3),
        ) {
            (true, false) => TlsVersions::Tls12Only,
            (false, true) => TlsVersions::Tls13Only,
            _ => TlsVersions::Both,
        }
    }
}

/// The handshake did not finish in time; `hello`: its ClientHello had come.
pub(super) fn timed_out(timeout: Duration, hello: bool) -> String {
    let came = if hello {
        "its ClientHello came, then it stopped"
    } else {
        "its ClientHello did not come whole"
    };
    format!("the TLS handshake did not finish within {timeout:?} (--header-timeout): {came}")
}

/// What the failure `e` of a handshake means; `hello`: what its ClientHello
/// offered, if it had come; `first`: the bytes the connection began with.
pub(super) fn failed(
    e: &io::Error,
    hello: Option<&Offered>,
    first: &[u8],
    versions: TlsVersions,
) -> String {
    if let Some(tls) = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return tls_error(tls, hello, first, versions);
    }
    let when = if hello.is_some() {
        "after its ClientHello (a sender that refuses promscope's certificate may close \
         without saying why: check its CA file and the server name it expects)"
    } else {
        "before its ClientHello was whole"
    };
    match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("closed during the TLS handshake, {when}"),
        io::ErrorKind::ConnectionReset => {
            format!("the connection was reset during the TLS handshake, {when}")
        }
        _ => format!("the connection failed during the TLS handshake, {when}: {e}"),
    }
}

fn tls_error(
    e: &rustls::Error,
    hello: Option<&Offered>,
    first: &[u8],
    versions: TlsVersions,
) -> String {
    use rustls::Error as E;
    match e {
        E::NoCertificatesPresented => "client certificate required but none sent \
             (client_auth_type): set tls_config.cert_file and key_file on the sender"
            .into(),
        E::InvalidCertificate(c) => client_certificate(c),
        E::PeerIncompatible(p) => incompatible(p, hello, versions),
        E::AlertReceived(alert) => refused(*alert),
        E::NoApplicationProtocol => {
            "no application protocol (ALPN) in common: promscope speaks http/1.1 only".into()
        }
        E::InvalidMessage(m) if hello.is_none() => format!(
            "not TLS: the connection began with {} like a TLS handshake, but no ClientHello \
             could be read from it ({})",
            quoted(first),
            words(&format!("{m:?}"))
        ),
        E::InvalidMessage(m) => format!(
            "the sender sent a malformed TLS message ({})",
            words(&format!("{m:?}"))
        ),
        E::PeerMisbehaved(m) => format!(
            "the sender broke the TLS protocol: {}",
            words(&format!("{m:?}"))
        ),
        E::DecryptError => "the sender's handshake messages did not decrypt (a broken or \
             intercepted connection?)"
            .into(),
        other => format!("the TLS handshake failed: {other}"),
    }
}

/// Why the client's certificate was refused.
fn client_certificate(e: &CertificateError) -> String {
    use CertificateError as C;
    let what = match e {
        C::UnknownIssuer => "not signed by the configured CA (client_ca_file): sign it with \
             that CA, or add its CA there"
            .to_owned(),
        C::Expired | C::ExpiredContext { .. } => "expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "not valid yet (is the sender's or promscope's clock right?)".into()
        }
        C::Revoked => "revoked".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => "not for client authentication \
             (its extended key usage lacks clientAuth)"
            .into(),
        C::BadSignature => {
            "not signed by the configured CA's key (client_ca_file): its issuer has the CA's \
             name, but its signature does not verify (a CA of the same name made anew?)"
                .into()
        }
        C::BadEncoding => "not a certificate promscope can read (bad encoding)".into(),
        other => format!("refused: {other}"),
    };
    format!("client certificate {what}")
}

/// What the client and the listener have not in common.
fn incompatible(p: &PeerIncompatible, hello: Option<&Offered>, versions: TlsVersions) -> String {
    use PeerIncompatible as P;
    let ours = match versions {
        TlsVersions::Both => "promscope speaks TLS 1.2 and 1.3",
        TlsVersions::Tls12Only => "promscope speaks TLS 1.2 only (max_version TLS12)",
        TlsVersions::Tls13Only => "promscope requires TLS 1.3 (min_version TLS13)",
    };
    let offered = match (p, versions) {
        (P::SupportedVersionsExtensionRequired, _) => Some("TLS 1.2"),
        (P::Tls12NotOfferedOrEnabled, TlsVersions::Tls13Only) => Some("TLS 1.2"),
        (P::Tls12NotOfferedOrEnabled, TlsVersions::Tls12Only) => Some("TLS 1.3 only"),
        (P::Tls12NotOffered, _) => Some("TLS 1.1 or older only"),
        (P::Tls12NotOfferedOrEnabled, TlsVersions::Both) => Some("no version promscope speaks"),
        _ => None,
    };
    if let Some(offered) = offered {
        return format!("no TLS version in common: the client offered {offered}, {ours}");
    }
    match p {
        P::NoCipherSuitesInCommon => {
            let suites = hello.map_or_else(String::new, |h| {
                let listed = h.suites.iter().take(LISTED_SUITES).copied();
                let more = h.suites.len().saturating_sub(LISTED_SUITES);
                let mut text = listed.collect::<Vec<_>>().join(", ");
                if more > 0 {
                    text.push_str(&format!(" and {more} more"));
                }
                format!(" (client offered {text})")
            });
            format!(
                "no cipher suite in common{suites}: see tls_server_config.cipher_suites \
                 and the sender's"
            )
        }
        P::NoKxGroupsInCommon => "no key exchange group in common: see \
             tls_server_config.curve_preferences and the sender's"
            .into(),
        P::NoSignatureSchemesInCommon => "no signature scheme in common for promscope's \
             certificate: the client cannot verify its key type"
            .into(),
        other => format!(
            "the client and promscope have no TLS parameters in common: {}",
            words(&format!("{other:?}"))
        ),
    }
}

/// The client ended the handshake with `alert`.
fn refused(alert: AlertDescription) -> String {
    use AlertDescription as A;
    let certificate = "the sender refused promscope's certificate";
    let check = "check the sender's CA file (tls_config.ca_file) and the server name it \
                 expects (tls_config.server_name)";
    match alert {
        A::UnknownCA => format!("{certificate} (unknown CA): {check}"),
        A::BadCertificate | A::CertificateUnknown | A::UnsupportedCertificate => {
            format!("{certificate} ({}): {check}", words(&format!("{alert:?}")))
        }
        A::CertificateExpired => format!("{certificate}: it says it expired"),
        // Sent by a client whose check of a signature failed: most often
        // promscope's certificate against a CA of the same name, another key.
        A::DecryptError => format!(
            "{certificate} or its handshake signature (decrypt error): does the sender's CA \
             file hold the CA that signed it, not one of the same name?"
        ),
        A::ProtocolVersion => "the sender found no TLS version in common".into(),
        A::CloseNotify | A::UserCanceled => "closed during the TLS handshake".into(),
        other => format!(
            "the sender ended the TLS handshake (alert: {})",
            words(&format!("{other:?}"))
        ),
    }
}

/// The name of an enum's variant, from its `Debug`, in words:
/// `NoKxGroupsInCommon` as `no kx groups in common`, `MissingData("x")` as
/// `missing data`.
fn words(debug: &str) -> String {
    let name = debug.split('(').next().unwrap_or_default();
    let mut out = String::with_capacity(name.len() + 8);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_is_told_in_words_saying_which_side_refused_what() {
        use rustls::Error as E;
        let both = TlsVersions::Both;
        let cases = [
            (
                E::NoCertificatesPresented,
                both,
                "client certificate required but none sent",
            ),
            (
                E::InvalidCertificate(CertificateError::UnknownIssuer),
                both,
                "client certificate not signed by the configured CA (client_ca_file)",
            ),
            (
                E::InvalidCertificate(CertificateError::InvalidPurpose),
                both,
                "client certificate not for client authentication (its extended key usage \
                 lacks clientAuth)",
            ),
            (
                E::PeerIncompatible(PeerIncompatible::SupportedVersionsExtensionRequired),
                TlsVersions::Tls13Only,
                "no TLS version in common: the client offered TLS 1.2, promscope requires \
                 TLS 1.3 (min_version TLS13)",
            ),
            (
                E::PeerIncompatible(PeerIncompatible::Tls12NotOfferedOrEnabled),
                TlsVersions::Tls12Only,
                "no TLS version in common: the client offered TLS 1.3 only, promscope speaks \
                 TLS 1.2 only (max_version TLS12)",
            ),
            (
                E::AlertReceived(AlertDescription::UnknownCA),
                both,
                "the sender refused promscope's certificate (unknown CA)",
            ),
            (
                E::AlertReceived(AlertDescription::RecordOverflow),
                both,
                "the sender ended the TLS handshake (alert: record overflow)",
            ),
        ];
        for (error, versions, said) in cases {
            let e = io::Error::new(io::ErrorKind::InvalidData, error);
            let told = failed(&e, None, b"\x16\x03\x01", versions);
            assert!(told.starts_with(said), "{told}");
        }
        let corrupt = rustls::Error::InvalidMessage(rustls::InvalidMessage::MissingData("Version"));
        let corrupt = io::Error::new(io::ErrorKind::InvalidData, corrupt);
        assert!(failed(&corrupt, None, b"\x16\x03", both).ends_with(
            "like a TLS handshake, but no ClientHello could be read from it (missing data)"
        ));
        let eof = io::ErrorKind::UnexpectedEof.into();
        assert_eq!(
            failed(&eof, None, b"\x16", both),
            "closed during the TLS handshake, before its ClientHello was whole"
        );
    }
}
