//! Connections: accepting them (TLS included) within a cap, closing the one
//! idle the longest when a new one needs room or descriptors run out, and the
//! timeouts no request can hold a connection past: the header timeout (from a
//! request's first byte, or the connection's start, to the end of its
//! headers) and the idle timeout (between requests). The body timeout is the
//! handler's.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::handler;
use super::server::{Limits, Receiver};

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
    let tls = receiver.security.tls.clone().map(TlsAcceptor::from);
    let mut http = http1::Builder::new();
    // hyper's own header timer runs from the end of one request to the end of
    // the next one's headers: set past ours, as a backstop.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout + limits.header_timeout);
    let mut count = open.count.subscribe();
    tokio::pin!(shutdown);
    loop {
        // At the cap with no connection idle to close for a new one, new ones
        // wait (in the kernel's queue) until one ends, or becomes idle.
        if *count.borrow() >= limits.max_connections && !open.has_idle() {
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
                if *count.borrow() >= limits.max_connections {
                    open.close_oldest_idle();
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
    tls: Option<TlsAcceptor>,
    http: &http1::Builder,
) {
    let _ = tcp.set_nodelay(true);
    let Some(acceptor) = tls else {
        return serve_http(
            Tracked::new(tcp, conn.clone()),
            remote,
            conn,
            receiver,
            http,
        )
        .await;
    };
    let handshake = tokio::time::timeout(receiver.limits.header_timeout, acceptor.accept(tcp));
    let stream = tokio::select! {
        stream = handshake => stream,
        _ = conn.close.notified() => return,
    };
    if let Ok(Ok(stream)) = stream {
        serve_http(
            Tracked::new(stream, conn.clone()),
            remote,
            conn,
            receiver,
            http,
        )
        .await;
    }
}

async fn serve_http<IO>(
    io: Tracked<IO>,
    remote: SocketAddr,
    conn: &Arc<Conn>,
    receiver: &Arc<Receiver>,
    http: &http1::Builder,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = {
        let (receiver, conn) = (receiver.clone(), conn.clone());
        service_fn(move |request| {
            let receiver = receiver.clone();
            let request_guard = InRequest::begin(conn.clone());
            async move {
                let answer = handler::handle(&receiver, remote, request).await;
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
            _ = connection.as_mut() => return,
            _ = conn.changed.notified() => {}
            _ = conn.close.notified(), if !closing => {
                if conn.busy.load(Ordering::Acquire) == 0 {
                    return;
                }
                // Finish the request in progress, then close.
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = timer => {
                // Dropping the connection closes it: nothing is in progress.
                if conn.deadline(limits).is_some_and(|at| at <= Instant::now()) {
                    return;
                }
            }
        }
    }
}

/// The open connections, to close the one idle the longest.
struct Open {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// How many are open.
    count: watch::Sender<usize>,
    /// What the connections' times count from, so that they compare.
    epoch: Instant,
}

impl Open {
    fn new() -> Self {
        Open {
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            count: watch::Sender::new(0),
            epoch: Instant::now(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self) -> Arc<Conn> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(id, self.epoch));
        let mut conns = self.lock();
        conns.insert(id, conn.clone());
        self.count.send_replace(conns.len());
        conn
    }

    fn remove(&self, conn: &Conn) {
        let mut conns = self.lock();
        conns.remove(&conn.id);
        self.count.send_replace(conns.len());
    }

    /// Whether a connection waits without a request in progress.
    fn has_idle(&self) -> bool {
        self.lock().values().any(|c| c.is_idle())
    }

    /// Asks the connection that has waited the longest without a request in
    /// progress to close; whether there was one.
    fn close_oldest_idle(&self) -> bool {
        let conns = self.lock();
        let oldest = conns
            .values()
            .filter(|c| c.is_idle())
            .min_by_key(|c| c.since_ms.load(Ordering::Acquire));
        match oldest {
            Some(conn) => {
                conn.ask_to_close();
                true
            }
            None => false,
        }
    }

    fn close_all(&self) {
        self.lock().values().for_each(|c| c.ask_to_close());
    }
}

/// What one connection is doing, shared by its driver, its reads and its requests.
struct Conn {
    id: u64,
    /// The epoch of [`Open`].
    epoch: Instant,
    /// Requests being handled.
    busy: AtomicU32,
    /// Since when it has waited (milliseconds after `epoch`): its start, the
    /// end of its last request, or the first byte of the next one.
    since_ms: AtomicU64,
    /// Bytes of a request's headers have arrived: the header timeout applies,
    /// not the idle timeout.
    reading: AtomicBool,
    /// Something changed that moves the deadline.
    changed: Notify,
    /// Asked to close.
    closing: AtomicBool,
    close: Notify,
}

impl Conn {
    fn new(id: u64, epoch: Instant) -> Self {
        Conn {
            id,
            epoch,
            busy: AtomicU32::new(0),
            since_ms: AtomicU64::new(epoch.elapsed().as_millis() as u64),
            // A new connection owes its first request's headers (or TLS handshake).
            reading: AtomicBool::new(true),
            changed: Notify::new(),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// No request in progress, and not already asked to close.
    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0 && !self.closing.load(Ordering::Acquire)
    }

    fn ask_to_close(&self) {
        self.closing.store(true, Ordering::Release);
        self.close.notify_one();
    }

    /// When it times out if nothing happens; none while a request is handled.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let timeout = if self.reading.load(Ordering::Acquire) {
            limits.header_timeout
        } else {
            limits.idle_timeout
        };
        let since = Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        Some(self.epoch + since + timeout)
    }

    /// Bytes arrived: if it was idle, a request has begun.
    fn on_read(&self) {
        if self.busy.load(Ordering::Acquire) == 0 && !self.reading.swap(true, Ordering::AcqRel) {
            self.since_ms.store(self.now_ms(), Ordering::Release);
            self.changed.notify_one();
        }
    }
}

/// A request being handled on a connection, from its headers to its answer.
struct InRequest(Arc<Conn>);

impl InRequest {
    fn begin(conn: Arc<Conn>) -> Self {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        conn.reading.store(false, Ordering::Release);
        InRequest(conn)
    }
}

impl Drop for InRequest {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.since_ms.store(conn.now_ms(), Ordering::Release);
        conn.busy.fetch_sub(1, Ordering::AcqRel);
        conn.changed.notify_one();
    }
}

/// A connection's stream, telling its [`Conn`] when bytes arrive.
struct Tracked<IO> {
    io: IO,
    conn: Arc<Conn>,
}

impl<IO> Tracked<IO> {
    fn new(io: IO, conn: Arc<Conn>) -> Self {
        Tracked { io, conn }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.conn.on_read();
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tracked<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
