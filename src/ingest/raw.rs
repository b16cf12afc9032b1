//! A request as it arrived, again: its head as hyper types, and what its
//! content decodes to (for replaying a capture and for opening a request the
//! dashboard kept).

use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Uri};

use super::content;
use super::model::{Batch, RawRequest};
use super::server::Limits;
use crate::capture::Header;

/// The method, URI and headers of a recorded request, as hyper types; headers
/// hyper cannot carry (which it could not have received either) are left out.
pub fn request_head(method: &str, target: &str, headers: &[Header]) -> (Method, Uri, HeaderMap) {
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::POST);
    let uri = target.parse().unwrap_or_else(|_| Uri::from_static("/"));
    let headers = headers
        .iter()
        .filter_map(|h| {
            Some((
                HeaderName::from_bytes(h.name.as_bytes()).ok()?,
                HeaderValue::from_bytes(&h.value).ok()?,
            ))
        })
        .collect();
    (method, uri, headers)
}

/// What the content of a request kept by the dashboard decodes to (its
/// answer aside: the batch's outcome is what the content alone decides).
pub fn decode_raw(raw: &RawRequest, limits: &Limits) -> Option<Batch> {
    let (method, uri, headers) = request_head(&raw.method, &raw.target, &raw.headers);
    let info = content::request_info(
        &headers,
        uri.path(),
        None,
        std::time::UNIX_EPOCH,
        limits.tenant_header.as_ref(),
    );
    if !raw.body_complete {
        return None;
    }
    content::whole_request(&method, &uri, &headers, &raw.body, info, limits)
}
