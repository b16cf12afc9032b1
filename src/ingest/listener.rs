//! Connections: accepting them (TLS included) within a cap, closing the one
//! idle the longest when a new one needs room or descriptors run out, and the
//! timeouts no request can hold a connection past: the header timeout (from a
//! request's first byte, or the connection's start, to the end of its
//! headers) and the idle timeout (between requests). The body timeout is the
//! handler's.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::conn::{Conn, InRequest, Left, MAX_HEAD_BYTES, Open, Tracked};
use super::handler;
use super::http_failure::{self, Ended};
use super::server::Receiver;
use super::tls_failure::{self, Opening, Tls};

/// How long accepting pauses after an error that is not one connection's
/// (out of file descriptors, say), so that it does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Runs the accept loop until `shutdown`, then lets open connections finish.
pub async fn accept_connections(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = receiver.limits.clone();
    let open = Arc::new(Open::new());
    let tls = receiver.security.tls.clone().map(Tls::new);
    let mut http = http1::Builder::new();
    // hyper's own header timer runs from the end of one request to the end of
    // the next one's headers: set past ours, as a backstop.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout + limits.header_timeout)
        // What a connection's unfinished head may hold (else up to hyper's
        // read buffer, ~400 KiB a connection, outside --max-bytes-in-flight):
        // past it, 431. Bodies are read as before.
        .max_header_size(MAX_HEAD_BYTES);
    let mut count = open.count();
    tokio::pin!(shutdown);
    loop {
        // At the cap with no connection idle to close for a new one, new ones
        // wait (in the kernel's queue) until one ends, or becomes idle.
        if *count.borrow() >= limits.max_connections && !open.has_idle() {
            // A request arriving too slowly (a sender trickling its body)
            // makes room rather than holding others out.
            open.close_slowest_busy();
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::timeout(ACCEPT_BACKOFF, count.wait_for(|n| *n < limits.max_connections)) => {}
            }
            continue;
        }
        let accepted = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, remote)) => {
                // It was idle when the loop began, maybe, and is busy now
                // (its head came at once): this one waits for the room, not
                // served, so that the cap holds.
                let mut shut = false;
                while *count.borrow() >= limits.max_connections
                    && !open.close_oldest_idle()
                    && !open.close_slowest_busy()
                {
                    tokio::select! {
                        _ = &mut shutdown => { shut = true; break }
                        _ = tokio::time::timeout(ACCEPT_BACKOFF, count.wait_for(|n| *n < limits.max_connections)) => {}
                    }
                }
                if shut {
                    break;
                }
                let conn = open.add();
                let (receiver, tls, http, open) =
                    (receiver.clone(), tls.clone(), http.clone(), open.clone());
                tokio::spawn(async move {
                    serve_connection(tcp, remote, &conn, &receiver, tls, &http).await;
                    open.remove(&conn);
                });
            }
            Err(e) if is_connection_error(&e) => {}
            Err(_) => {
                // Most likely out of file descriptors: make one free, and wait
                // for it (or a while) before accepting again.
                let freed = open.close_oldest_idle();
                let wait = async {
                    let now = *count.borrow_and_update();
                    if freed {
                        let _ = count.wait_for(|n| *n < now).await;
                    } else {
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::timeout(ACCEPT_BACKOFF, wait) => {}
                }
            }
        }
    }
    drop(listener);
    open.close_all();
    let _ = count.wait_for(|n| *n == 0).await;
    Ok(())
}

/// Errors of one connection that failed while being accepted; the next may be fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// Serves one connection until it ends, is closed, or times out.
async fn serve_connection(
    tcp: TcpStream,
    remote: SocketAddr,
    conn: &Arc<Conn>,
    receiver: &Arc<Receiver>,
    tls: Option<Tls>,
    http: &http1::Builder,
) {
    let _ = tcp.set_nodelay(true);
    let Some(tls) = tls else {
        return serve_http(tcp, remote, conn, receiver, http).await;
    };
    // One deadline for the first byte, the handshake and (plain HTTP) the head.
    let deadline = Instant::now() + receiver.limits.header_timeout;
    let opening = tokio::select! {
        opening = tokio::time::timeout_at(deadline, tls_failure::opening(&tcp)) => opening,
        _ = conn.asked_to_close() => return,
    };
    let first = match opening {
        Ok(Some(Opening::Tls(first))) => first,
        Ok(Some(Opening::Http)) => {
            return http_failure::not_tls(tcp, conn, remote, receiver).await;
        }
        Ok(Some(Opening::Neither(first))) => {
            return tls.neither(&first, conn, remote, receiver).await;
        }
        // Closed, or silent until the header timeout.
        Ok(None) | Err(_) => return,
    };
    let handshake = tls.handshake(tcp, &first, deadline, conn, remote, receiver);
    // Closed to make room (or at shutdown) mid-handshake: not counted, as a
    // request head cut short so is not.
    let stream = tokio::select! {
        stream = handshake => stream,
        _ = conn.asked_to_close() => return,
    };
    if let Some(stream) = stream {
        serve_http(stream, remote, conn, receiver, http).await;
    }
}

/// Serves HTTP on a connection's stream; a request head the HTTP layer
/// refused, or that did not come whole in time, is answered saying what was
/// wrong and handed on as a rejected request.
async fn serve_http<IO>(
    io: IO,
    remote: SocketAddr,
    conn: &Arc<Conn>,
    receiver: &Arc<Receiver>,
    http: &http1::Builder,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let left: Left<IO> = Arc::new(Mutex::new(None));
    let tracked = Tracked::new(io, conn.clone(), left.clone());
    let ended = drive(tracked, remote, conn, receiver, http).await;
    // The connection is dropped: its stream is back.
    let back = left.lock().ok().and_then(|mut left| left.take());
    if let Some((io, head)) = back {
        http_failure::answer(io, ended, &head, conn, remote, receiver).await;
    }
}

/// Runs hyper on a connection until it ends, is closed or times out.
async fn drive<IO>(
    io: Tracked<IO>,
    remote: SocketAddr,
    conn: &Arc<Conn>,
    receiver: &Arc<Receiver>,
    http: &http1::Builder,
) -> Ended
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = {
        let (receiver, conn) = (receiver.clone(), conn.clone());
        // Forward mode: the backend connection of this connection's requests.
        let bound = receiver.forward.as_ref().map(|f| Arc::new(f.bind()));
        service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let (receiver, bound) = (receiver.clone(), bound.clone());
            let request_guard = InRequest::begin(conn.clone());
            request.extensions_mut().insert(request_guard.read_whole());
            async move {
                let answer = handler::handle(&receiver, remote, request, bound.as_ref()).await;
                drop(request_guard);
                Ok::<_, Infallible>(answer)
            }
        })
    };
    let connection = http.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let limits = &receiver.limits;
    let mut closing = false;
    loop {
        let timer = super::server::sleep_until(conn.deadline(limits));
        tokio::select! {
            ended = connection.as_mut() => return Ended::Served(ended),
            _ = conn.changed() => {}
            _ = conn.asked_to_close(), if !closing => {
                if !conn.is_busy() {
                    return Ended::Closed;
                }
                if conn.was_evicted() {
                    return Ended::Evicted;
                }
                // Finish the request in progress, then close.
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = timer => {
                // Dropping the connection closes it: nothing is in progress.
                if conn.deadline(limits).is_some_and(|at| at <= Instant::now()) {
                    return Ended::TimedOut;
                }
            }
        }
    }
}
