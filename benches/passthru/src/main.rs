//! A bench peer, not part of promscope: the least an HTTP/1.1-aware forwarder on
//! tokio costs here. Per sender connection one backend connection; each request
//! (head and Content-Length body) is read whole, written to the backend as it came,
//! and the backend's answer (head and Content-Length body) written back. No header
//! rewriting, no checks, no inspection, no chunked bodies: what promscope's forward
//! mode does on top of this is its own cost (benches/forward_ab.sh, BENCHMARKS.md).
//!
//!     passthru --listen 127.0.0.1:PORT --forward http://127.0.0.1:BACKEND_PORT

use std::io::{Error, ErrorKind};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// On tokio's multi-threaded runtime, one worker per core, or with
/// `PASSTHRU_RUNTIME=current_thread` on one thread (no wake-ups of other
/// workers: what a forwarder on a runtime of its own pays).
fn main() -> std::io::Result<()> {
    let runtime = match std::env::var("PASSTHRU_RUNTIME").as_deref() {
        Ok("current_thread") => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_io()
    .build()?;
    runtime.block_on(serve())
}

async fn serve() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        let at = args.iter().position(|a| a == name);
        at.and_then(|i| args.get(i + 1)).cloned().ok_or_else(|| {
            let usage = "usage: passthru --listen ADDR:PORT --forward http://HOST:PORT";
            Error::new(ErrorKind::InvalidInput, format!("{name} missing; {usage}"))
        })
    };
    let listen = flag("--listen")?;
    let forward = flag("--forward")?;
    let backend = forward.trim_start_matches("http://");
    let backend = backend.split('/').next().unwrap_or(backend).to_string();
    let listener = TcpListener::bind(&listen).await?;
    loop {
        let (sender, _) = listener.accept().await?;
        let backend = backend.clone();
        tokio::spawn(async move {
            if let Err(error) = relay(sender, &backend).await {
                eprintln!("passthru: {error}");
            }
        });
    }
}

/// Requests from `sender` to `backend` and answers back, until either closes.
async fn relay(mut sender: TcpStream, backend: &str) -> std::io::Result<()> {
    sender.set_nodelay(true)?;
    let mut backend = TcpStream::connect(backend).await?;
    backend.set_nodelay(true)?;
    let (mut request, mut answer) = (Vec::with_capacity(128 << 10), Vec::with_capacity(4 << 10));
    loop {
        let Some(len) = read_message(&mut sender, &mut request, Kind::Request).await? else {
            return Ok(());
        };
        backend.write_all(&request[..len]).await?;
        request.drain(..len);
        let Some(len) = read_message(&mut backend, &mut answer, Kind::Answer).await? else {
            return Ok(());
        };
        sender.write_all(&answer[..len]).await?;
        answer.drain(..len);
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Request,
    Answer,
}

/// Reads into `buf` until it holds one message, head and body; its length, or
/// `None` when the peer closed first.
async fn read_message(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    kind: Kind,
) -> std::io::Result<Option<usize>> {
    loop {
        if let Some(len) = message_len(buf, kind)? {
            while buf.len() < len {
                buf.reserve(len - buf.len());
                if stream.read_buf(buf).await? == 0 {
                    return Ok(None);
                }
            }
            return Ok(Some(len));
        }
        buf.reserve(16 << 10);
        if stream.read_buf(buf).await? == 0 {
            return Ok(None);
        }
    }
}

/// The length of the message at the start of `buf` (head and Content-Length
/// body), once its head is whole.
fn message_len(buf: &[u8], kind: Kind) -> std::io::Result<Option<usize>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let status = match kind {
        Kind::Request => httparse::Request::new(&mut headers).parse(buf),
        Kind::Answer => httparse::Response::new(&mut headers).parse(buf),
    };
    let head = match status.map_err(|e| Error::new(ErrorKind::InvalidData, e))? {
        httparse::Status::Complete(head) => head,
        httparse::Status::Partial => return Ok(None),
    };
    let body = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(0);
    Ok(Some(head + body))
}
