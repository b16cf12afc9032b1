//! Content negotiation: which protocol and compression a request's headers
//! announce, answered as Prometheus's receiver answers them.

use hyper::HeaderMap;
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};

use super::decode::Compression;
use super::model::Protocol;

/// What the headers of an acceptable request announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub protocol: Protocol,
    /// How the body is compressed.
    pub compression: Compression,
    /// Something the sender should fix that does not stop the request.
    pub warning: Option<&'static str>,
}

/// Why the headers are not acceptable (the request gets 415).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsupported {
    /// The Content-Type is not a remote-write message.
    ContentType(String),
    /// The Content-Encoding is not one promscope decodes.
    Encoding(String),
}

const NO_ENCODING_WARNING: &str = "no Content-Encoding header: the body was read as snappy, as Prometheus does; remote-write senders should send Content-Encoding: snappy";

/// Reads the protocol and compression from Content-Type and Content-Encoding.
pub fn negotiate(headers: &HeaderMap) -> Result<Negotiated, Unsupported> {
    let schema = protocol_of(headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes))
        .map_err(Unsupported::ContentType)?;
    let encoding = headers
        .get(CONTENT_ENCODING)
        .map(|v| v.as_bytes().trim_ascii());
    let (protocol, compression, warning) = match encoding {
        // Prometheus takes a missing Content-Encoding as snappy (some client
        // libraries send none).
        None => (schema, Compression::Snappy, Some(NO_ENCODING_WARNING)),
        Some(e) if e.eq_ignore_ascii_case(b"snappy") => (schema, Compression::Snappy, None),
        Some(e) if e.eq_ignore_ascii_case(b"zstd") && schema == Protocol::V1 => {
            (Protocol::Vm, Compression::Zstd, None)
        }
        Some(e) if e.eq_ignore_ascii_case(b"zstd") => {
            return Err(Unsupported::Encoding(
                "Content-Encoding zstd is VictoriaMetrics' protocol, for prometheus.WriteRequest (RW 1.0) only: remote write 2.0 bodies must be snappy".into(),
            ));
        }
        Some(other) => {
            return Err(Unsupported::Encoding(format!(
                "Content-Encoding {:?} is not supported: remote write requires snappy (block format); promscope also reads zstd (VictoriaMetrics' protocol)",
                String::from_utf8_lossy(other)
            )));
        }
    };
    Ok(Negotiated {
        protocol,
        compression,
        warning,
    })
}

/// The protocol named by the Content-Type header (absent means RW 1.0).
pub fn protocol_of(content_type: Option<&[u8]>) -> Result<Protocol, String> {
    let Some(raw) = content_type else {
        return Ok(Protocol::V1);
    };
    let text = String::from_utf8_lossy(raw);
    let mut parts = text.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    if !media.eq_ignore_ascii_case("application/x-protobuf") {
        return Err(format!(
            "Content-Type {text:?} is not supported: remote write sends application/x-protobuf"
        ));
    }
    let mut protocol = Protocol::V1;
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("proto") {
            continue;
        }
        protocol = match value.trim().trim_matches('"') {
            "prometheus.WriteRequest" => Protocol::V1,
            "io.prometheus.write.v2.Request" => Protocol::V2,
            other => {
                return Err(format!(
                    "proto={other:?} is not supported: promscope accepts prometheus.WriteRequest (RW 1.0) and io.prometheus.write.v2.Request (RW 2.0)"
                ));
            }
        };
    }
    Ok(protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = "io.prometheus.write.v2.Request";

    #[test]
    fn content_type_negotiation() {
        assert_eq!(protocol_of(None), Ok(Protocol::V1));
        assert_eq!(
            protocol_of(Some(b"application/x-protobuf")),
            Ok(Protocol::V1)
        );
        assert_eq!(
            protocol_of(Some(
                b"application/x-protobuf;proto=prometheus.WriteRequest"
            )),
            Ok(Protocol::V1)
        );
        assert_eq!(
            protocol_of(Some(
                format!("application/x-protobuf;proto={V2}").as_bytes()
            )),
            Ok(Protocol::V2)
        );
        assert_eq!(
            protocol_of(Some(
                format!("application/x-protobuf ; proto = {V2} ").as_bytes()
            )),
            Ok(Protocol::V2)
        );
        for refused in ["application/json", "image/png", "text/plain"] {
            assert!(protocol_of(Some(refused.as_bytes())).is_err(), "{refused}");
        }
        assert!(
            protocol_of(Some(b"application/x-protobuf;proto=foo.Bar"))
                .unwrap_err()
                .contains("foo.Bar")
        );
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    hyper::header::HeaderName::from_static(k),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn encodings() {
        let rw2 = format!("application/x-protobuf;proto={V2}");
        let n = negotiate(&headers(&[("content-encoding", "snappy")])).unwrap();
        assert_eq!(
            (n.protocol, n.compression, n.warning),
            (Protocol::V1, Compression::Snappy, None)
        );
        let n = negotiate(&headers(&[("content-type", &rw2)])).unwrap();
        assert_eq!(
            (n.protocol, n.compression),
            (Protocol::V2, Compression::Snappy)
        );
        assert!(n.warning.is_some_and(|w| w.contains("read as snappy")));
        let n = negotiate(&headers(&[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "zstd"),
        ]))
        .unwrap();
        assert_eq!(
            (n.protocol, n.compression),
            (Protocol::Vm, Compression::Zstd)
        );
        assert!(matches!(
            negotiate(&headers(&[
                ("content-type", &rw2),
                ("content-encoding", "zstd")
            ])),
            Err(Unsupported::Encoding(_))
        ));
        for refused in ["gzip", "deflate", "identity", "br"] {
            let err = negotiate(&headers(&[("content-encoding", refused)])).unwrap_err();
            assert!(
                matches!(&err, Unsupported::Encoding(m) if m.contains(refused)),
                "{err:?}"
            );
        }
        assert!(matches!(
            negotiate(&headers(&[
                ("content-type", "image/png"),
                ("content-encoding", "snappy")
            ])),
            Err(Unsupported::ContentType(_))
        ));
    }
}
