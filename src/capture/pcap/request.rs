//! HTTP/1.1 requests out of one direction of a TCP stream: keep-alive and
//! pipelined requests one after another, bodies by Content-Length or chunked,
//! each part bounded.

use bytes::{Bytes, BytesMut};

use crate::capture::http::{MAX_HEADERS, owned_headers};
use crate::capture::{Header, header};

/// Largest request head read.
const MAX_HEAD_BYTES: usize = 64 << 10;
/// Largest body read (promscope's default `--max-compressed-bytes`).
pub const MAX_BODY_BYTES: usize = 32 << 20;

/// A request read whole from a stream.
pub struct ParsedRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<Header>,
    pub body: Bytes,
}

/// What a stream's bytes came to so far.
pub enum Parsed {
    /// A whole request; more may follow in the buffer.
    Request(ParsedRequest),
    /// More bytes are needed.
    Incomplete,
}

/// Reads the next request from the front of `buffer`, removing its bytes.
/// An error means the stream is not HTTP/1.1 requests (or not any more).
pub fn next_request(buffer: &mut BytesMut) -> Result<Parsed, String> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut storage);
    let head_len = match request.parse(buffer) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buffer.len() > MAX_HEAD_BYTES => {
            return Err(format!(
                "no end of a request head within {MAX_HEAD_BYTES} bytes"
            ));
        }
        Ok(httparse::Status::Partial) => return Ok(Parsed::Incomplete),
        Err(e) => return Err(format!("not an HTTP/1.1 request ({e})")),
    };
    let method = request.method.unwrap_or_default().to_owned();
    let target = request.path.unwrap_or_default().to_owned();
    let chunked = request.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value)
                .to_ascii_lowercase()
                .contains("chunked")
    });
    let length = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| {
            std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| "a Content-Length that is not a number".to_owned())
        })
        .transpose()?;
    let head = Bytes::copy_from_slice(&buffer[..head_len]);
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut reparsed = httparse::Request::new(&mut storage);
    // Parsed again over an owned copy, so the headers can share it.
    let _ = reparsed.parse(&head);
    let mut headers = owned_headers(reparsed.headers, &head);
    let (body, consumed) = if chunked {
        match dechunk(&buffer[head_len..])? {
            Some((body, used)) => (body, head_len + used),
            None => return Ok(Parsed::Incomplete),
        }
    } else {
        let length = length.unwrap_or(0);
        if length > MAX_BODY_BYTES {
            return Err(format!("a body of {length} bytes, over {MAX_BODY_BYTES}"));
        }
        if buffer.len() < head_len + length {
            return Ok(Parsed::Incomplete);
        }
        (
            Bytes::copy_from_slice(&buffer[head_len..head_len + length]),
            head_len + length,
        )
    };
    let _ = buffer.split_to(consumed);
    if chunked {
        // Stored as promscope's recorder stores bodies: whole, with their length.
        headers.retain(|h| !h.name.eq_ignore_ascii_case("transfer-encoding"));
        if header(&headers, "content-length").is_none() {
            headers.push(Header::new("content-length", body.len().to_string()));
        }
    }
    Ok(Parsed::Request(ParsedRequest {
        method,
        target,
        headers,
        body,
    }))
}

/// A chunked body at the start of `data` and the bytes it took (trailers
/// included), or `None` when it has not all arrived.
fn dechunk(data: &[u8]) -> Result<Option<(Bytes, usize)>, String> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let (start, size) = match httparse::parse_chunk_size(&data[at..]) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err("a malformed chunk size".into()),
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > MAX_BODY_BYTES.saturating_sub(body.len()) {
            return Err(format!("a chunked body over {MAX_BODY_BYTES} bytes"));
        }
        at += start;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            let rest = &data[at..];
            let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                return Ok(None);
            };
            if end == 0 {
                return Ok(Some((body.into(), at + 2)));
            }
            let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
                return Ok(None);
            };
            return Ok(Some((body.into(), at + end + 4)));
        }
        if data.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&data[at..at + size]);
        if &data[at + size..at + size + 2] != b"\r\n" {
            return Err("a chunk not followed by CRLF".into());
        }
        at += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> (Vec<ParsedRequest>, usize) {
        let mut buffer = BytesMut::from(input);
        let mut out = Vec::new();
        while let Ok(Parsed::Request(r)) = next_request(&mut buffer) {
            out.push(r);
        }
        (out, buffer.len())
    }

    #[test]
    fn pipelined_requests_with_lengths_and_chunks() {
        let input = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\
POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1;x=y\r\nf\r\n0\r\n\r\n\
GET /c HTTP/1.1\r\n\r\nPOST /d HTTP/1.1\r\nContent-Length: 5\r\n\r\nab";
        let (requests, left) = all(input);
        assert_eq!(requests.len(), 3);
        assert_eq!(
            (requests[0].target.as_str(), &requests[0].body[..]),
            ("/a", &b"abc"[..])
        );
        assert_eq!(&requests[1].body[..], b"def");
        assert_eq!(
            header(&requests[1].headers, "content-length"),
            Some(&b"3"[..])
        );
        assert_eq!(header(&requests[1].headers, "transfer-encoding"), None);
        assert_eq!(requests[2].method, "GET");
        assert_eq!(
            left,
            b"POST /d HTTP/1.1\r\nContent-Length: 5\r\n\r\nab".len()
        );
    }

    #[test]
    fn every_split_point_gives_the_same_requests() {
        let input = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\
POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
        for cut in 0..input.len() {
            let mut buffer = BytesMut::from(&input[..cut]);
            let mut got = Vec::new();
            while let Ok(Parsed::Request(r)) = next_request(&mut buffer) {
                got.push(r.body);
            }
            buffer.extend_from_slice(&input[cut..]);
            while let Ok(Parsed::Request(r)) = next_request(&mut buffer) {
                got.push(r.body);
            }
            assert_eq!(got, [&b"abc"[..], &b"de"[..]], "cut at {cut}");
            assert!(buffer.is_empty());
        }
    }

    #[test]
    fn what_is_not_http_is_an_error() {
        let mut junk = BytesMut::from(&b"\x16\x03\x01\x02\x00 TLS"[..]);
        assert!(next_request(&mut junk).is_err());
        let mut bad = BytesMut::from(&b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"[..]);
        assert!(matches!(next_request(&mut bad), Err(e) if e.contains("Content-Length")));
        let mut huge =
            BytesMut::from(&b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n"[..]);
        assert!(next_request(&mut huge).is_err());
    }
}
