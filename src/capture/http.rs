//! The HTTP/1.1 messages inside request and response records: written from an
//! [`Exchange`](super::Exchange)'s parts, read back with httparse.

use bytes::Bytes;

use super::Header;

/// Most headers read in one message (hyper's server allows 100).
pub const MAX_HEADERS: usize = 256;

/// Appends `Name: value\r\n` lines and the empty line that ends a head. A CR or
/// LF in a value (which no HTTP parser lets through) becomes a space, so that a
/// header can never end the head early.
fn push_headers(head: &mut Vec<u8>, headers: &[Header]) {
    for h in headers {
        head.extend_from_slice(h.name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend(
            h.value
                .iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
}

/// `METHOD target HTTP/1.1`, the headers, and the empty line.
pub fn request_head(method: &str, target: &str, headers: &[Header]) -> Vec<u8> {
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(format!("{method} {target} HTTP/1.1\r\n").as_bytes());
    push_headers(&mut head, headers);
    head
}

/// `HTTP/1.1 status reason`, the headers, and the empty line.
pub fn response_head(status: u16, headers: &[Header]) -> Vec<u8> {
    let reason = hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    push_headers(&mut head, headers);
    head
}

/// Headers as parsed by httparse, owned (values share `source`'s buffer).
pub fn owned_headers(parsed: &[httparse::Header<'_>], source: &Bytes) -> Vec<Header> {
    parsed
        .iter()
        .map(|h| Header {
            name: h.name.to_owned(),
            value: source.slice_ref(h.value),
        })
        .collect()
}

/// A request message read from a record.
pub struct ParsedRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<Header>,
    pub body: Bytes,
}

/// Reads the HTTP request a request record holds; its body is the rest of the block.
pub fn parse_request(block: &Bytes) -> Result<ParsedRequest, String> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut storage);
    let head_len = match request.parse(block) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("its HTTP request head is cut short".into()),
        Err(e) => return Err(format!("its HTTP request head is malformed ({e})")),
    };
    Ok(ParsedRequest {
        method: request.method.unwrap_or_default().to_owned(),
        target: request.path.unwrap_or_default().to_owned(),
        headers: owned_headers(request.headers, block),
        body: block.slice(head_len..),
    })
}

/// Reads the HTTP response a response record holds: status, headers, body.
pub fn parse_response(block: &Bytes) -> Result<(u16, Vec<Header>, Bytes), String> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut storage);
    let head_len = match response.parse(block) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("its HTTP response head is cut short".into()),
        Err(e) => return Err(format!("its HTTP response head is malformed ({e})")),
    };
    Ok((
        response.code.unwrap_or_default(),
        owned_headers(response.headers, block),
        block.slice(head_len..),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let headers = vec![
            Header::new("content-encoding", "snappy"),
            Header::new("x-odd", &b"caf\xe9"[..]),
        ];
        let mut block = request_head("POST", "/api/v1/write?x=1", &headers);
        block.extend_from_slice(b"\x00\x01body");
        let parsed = parse_request(&Bytes::from(block)).unwrap();
        assert_eq!(parsed.method, "POST");
        assert_eq!(parsed.target, "/api/v1/write?x=1");
        assert_eq!(parsed.headers, headers);
        assert_eq!(&parsed.body[..], b"\x00\x01body");

        let mut block = response_head(400, &[Header::new("content-type", "text/plain")]);
        assert!(block.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
        block.extend_from_slice(b"bad snappy\n");
        let (status, headers, body) = parse_response(&Bytes::from(block)).unwrap();
        assert_eq!(status, 400);
        assert_eq!(headers.len(), 1);
        assert_eq!(&body[..], b"bad snappy\n");
    }

    #[test]
    fn a_line_break_in_a_value_cannot_end_the_head() {
        let headers = [Header::new("x", "a\r\n\r\nb")];
        let block = Bytes::from(request_head("POST", "/", &headers));
        let parsed = parse_request(&block).unwrap();
        assert_eq!(&parsed.headers[0].value[..], b"a    b");
        assert!(parsed.body.is_empty());
    }
}
