//! Where a forwarded request goes and what it carries: the backend's URL (the
//! request's own path kept when the URL has none), the body as received, and
//! the headers a backend needs.

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::http::uri::{PathAndQuery, Scheme};
use hyper::{Request, Uri};

use super::client::Outgoing;
use crate::ingest::body::Pieces;

/// Request headers passed to the backend as the sender sent them: what says
/// how to read the body, who sent it, its credentials, its tenant, and
/// whether it is a retry.
const PASSED: [HeaderName; 9] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    HeaderName::from_static("x-prometheus-remote-write-version"),
    // vmagent's protocol (zstd bodies) announces itself with it.
    HeaderName::from_static("x-victoriametrics-remote-write-version"),
    header::USER_AGENT,
    header::AUTHORIZATION,
    HeaderName::from_static("x-scope-orgid"),
    HeaderName::from_static("thanos-tenant"),
    HeaderName::from_static("retry-attempt"),
];

/// A backend: its URL, and the headers every request to it gets.
#[derive(Debug, Clone)]
pub struct Target {
    scheme: Scheme,
    authority: hyper::http::uri::Authority,
    /// The URL's path and query; `None` when it has no path, and the request's
    /// own is kept.
    path: Option<PathAndQuery>,
    /// Where every request goes (origin form), when the URL has a path.
    fixed: Option<Uri>,
    /// The scheme and authority alone, to connect to.
    origin: Uri,
    /// The `Host` header of its requests.
    host: HeaderValue,
    /// The URL as the user gave it, for messages.
    shown: String,
}

impl Target {
    /// Parses an `http://` or `https://` URL; `flag` names where it came from.
    pub fn parse(url: &str, flag: &str) -> Result<Target, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("{flag} {url:?} is not a URL: {e}"))?;
        let scheme = uri
            .scheme()
            .filter(|s| **s == Scheme::HTTP || **s == Scheme::HTTPS)
            .cloned()
            .ok_or_else(|| format!("{flag} {url:?} must start with http:// or https://"))?;
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| format!("{flag} {url:?} has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "{flag} {url:?}: credentials do not go in the URL; use --forward-basic-auth-user and --forward-basic-auth-password-file"
            ));
        }
        let path = uri
            .path_and_query()
            // "http://host" parses with the path "/", as does "http://host/".
            .filter(|p| p.as_str() != "/" && !p.as_str().is_empty())
            .cloned();
        let origin = Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|e| format!("{flag} {url:?} is not a URL: {e}"))?;
        // As HTTP clients do: the port only when it is not the scheme's own.
        let default_port = if scheme == Scheme::HTTPS { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(port) if port != default_port => authority.as_str(),
            _ => authority.host(),
        };
        let host = HeaderValue::from_str(host)
            .map_err(|_| format!("{flag} {url:?}: its host cannot be a Host header"))?;
        Ok(Target {
            fixed: path.clone().map(Uri::from),
            scheme,
            authority,
            path,
            origin,
            host,
            shown: url.to_owned(),
        })
    }

    /// Whether requests to it go over TLS.
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }

    /// The URL as given.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Its scheme and authority, to connect to.
    pub fn origin(&self) -> &Uri {
        &self.origin
    }

    /// Where a request received at `received` goes, in origin form
    /// (`/path?query`): the URL's path, or the request's own path and query
    /// when the URL has none.
    pub fn path_for(&self, received: &Uri) -> Uri {
        match &self.fixed {
            Some(fixed) => fixed.clone(),
            None => Uri::from(Self::path_of(received)),
        }
    }

    fn path_of(received: &Uri) -> PathAndQuery {
        received
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"))
    }

    /// [`Self::path_for`] as a whole URL (for a pooled client, which connects by it).
    pub fn uri_for(&self, received: &Uri) -> Uri {
        let path = self.path.clone().unwrap_or_else(|| Self::path_of(received));
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path)
            .build()
            // Every part is already a valid part of a URI.
            .unwrap_or_else(|_| Uri::from_static("/"))
    }
}

/// The headers a forwarded request gets besides the sender's.
#[derive(Debug, Clone, Default)]
pub struct ForwardHeaders {
    /// Passed as the sender sent them, besides [`PASSED`] (`--forward-header-pass`).
    pub pass: Vec<HeaderName>,
    /// Set whatever the sender sent (`--forward-header`).
    pub set: Vec<(HeaderName, HeaderValue)>,
    /// Credentials for the backend, used when the sender carries none
    /// (`--forward-bearer-token-file`, `--forward-basic-auth-*`).
    pub authorization: Option<HeaderValue>,
    /// The sender's `Authorization` is promscope's own (the listener checks
    /// credentials): it is not passed on.
    pub keep_sender_authorization: bool,
}

impl ForwardHeaders {
    /// Parses `--forward-header-pass` names and `--forward-header 'Name: value'` pairs.
    pub fn parse(pass: &[String], set: &[String]) -> Result<ForwardHeaders, String> {
        let pass = pass
            .iter()
            .map(|name| {
                HeaderName::try_from(name.trim()).map_err(|_| {
                    format!("--forward-header-pass {name:?} is not a valid header name")
                })
            })
            .collect::<Result<_, _>>()?;
        let set = set
            .iter()
            .map(|pair| {
                let bad = || format!("--forward-header {pair:?} must be 'Name: value'");
                let (name, value) = pair.split_once(':').ok_or_else(bad)?;
                let name = HeaderName::try_from(name.trim()).map_err(|_| bad())?;
                let value = HeaderValue::try_from(value.trim()).map_err(|_| bad())?;
                Ok((name, value))
            })
            .collect::<Result<_, String>>()?;
        Ok(ForwardHeaders {
            pass,
            set,
            authorization: None,
            keep_sender_authorization: true,
        })
    }

    /// The headers of the request to the backend, from those received.
    fn of(&self, received: &HeaderMap) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(PASSED.len() + self.set.len() + 1);
        for name in PASSED.iter().chain(&self.pass) {
            if name == header::AUTHORIZATION && !self.keep_sender_authorization {
                continue;
            }
            for value in received.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        if let Some(credentials) = &self.authorization
            && !headers.contains_key(header::AUTHORIZATION)
        {
            headers.insert(header::AUTHORIZATION, credentials.clone());
        }
        for (name, value) in &self.set {
            headers.insert(name.clone(), value.clone());
        }
        headers
    }

    /// The request to send to `target` for one received with `parts` and
    /// `body`, in origin form with its `Host` header (as it goes out on a
    /// connection to `target`).
    pub fn request(&self, target: &Target, parts: &Parts, body: Pieces) -> Request<Outgoing> {
        let mut request = Request::new(Outgoing::from(body));
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = target.path_for(&parts.uri);
        let mut headers = self.of(&parts.headers);
        headers
            .entry(header::HOST)
            .or_insert_with(|| target.host.clone());
        *request.headers_mut() = headers;
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(target: &str, received: &str) -> String {
        Target::parse(target, "--forward")
            .unwrap()
            .uri_for(&received.parse().unwrap())
            .to_string()
    }

    #[test]
    fn the_request_path_is_kept_when_the_url_has_none() {
        let vm = "/insert/42/prometheus/api/v1/write?extra_label=a%3Db";
        assert_eq!(
            uri("http://vminsert:8480", vm),
            format!("http://vminsert:8480{vm}")
        );
        assert_eq!(
            uri("http://vminsert:8480/", vm),
            format!("http://vminsert:8480{vm}")
        );
        assert_eq!(
            uri("https://mimir/api/v1/push", "/api/v1/write"),
            "https://mimir/api/v1/push"
        );
        assert_eq!(
            uri("http://b:9090/api/v1/write?x=1", "/other?y=2"),
            "http://b:9090/api/v1/write?x=1"
        );
    }

    #[test]
    fn urls_that_cannot_be_a_backend() {
        for bad in ["", "b:9090", "ftp://b/", "http://", "http://u:p@b/", "/api"] {
            assert!(Target::parse(bad, "--forward").is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_passed_set_and_credentials() {
        let mut received = HeaderMap::new();
        for (k, v) in [
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "snappy"),
            ("x-scope-orgid", "team-a"),
            ("x-custom", "kept"),
            ("x-other", "dropped"),
            ("cookie", "dropped"),
            ("user-agent", "Prometheus/3.5.0"),
        ] {
            received.insert(k, HeaderValue::from_static(v));
        }
        let mut headers = ForwardHeaders::parse(
            &["X-Custom".into()],
            &["X-Scope-OrgID: team-b".into(), "X-Added:  yes ".into()],
        )
        .unwrap();
        headers.authorization = Some(HeaderValue::from_static("Bearer backend"));
        let sent = headers.of(&received);
        let get = |k: &str| sent.get(k).map(|v| v.to_str().unwrap());
        assert_eq!(get("content-type"), Some("application/x-protobuf"));
        assert_eq!(get("content-encoding"), Some("snappy"));
        assert_eq!(get("user-agent"), Some("Prometheus/3.5.0"));
        assert_eq!(get("x-custom"), Some("kept"));
        assert_eq!(get("x-scope-orgid"), Some("team-b"));
        assert_eq!(get("x-added"), Some("yes"));
        assert_eq!(get("authorization"), Some("Bearer backend"));
        assert_eq!(get("x-other"), None);
        assert_eq!(get("cookie"), None);
        // The sender's own credentials win over promscope's defaults...
        received.insert("authorization", HeaderValue::from_static("Bearer sender"));
        assert_eq!(
            headers.of(&received).get("authorization").unwrap(),
            "Bearer sender"
        );
        // ...unless they were promscope's own.
        headers.keep_sender_authorization = false;
        assert_eq!(
            headers.of(&received).get("authorization").unwrap(),
            "Bearer backend"
        );
        for bad in ["no colon", ": empty name", "bad name: x"] {
            assert!(ForwardHeaders::parse(&[], &[bad.into()]).is_err(), "{bad}");
        }
        assert!(ForwardHeaders::parse(&["bad name".into()], &[]).is_err());
    }
}
