//! Connections to the backend bound to the senders' connections. A sender's
//! connection carries one request at a time, so one backend connection of its
//! own carries each of its requests: as many requests are in flight to the
//! backend as the sender has. The exchange runs in the task that serves the
//! sender's connection, which drives the backend connection too: no pool
//! look-up, no other task or thread woken per request (a third of the
//! forwarder's CPU a request went to that, BENCHMARKS.md).
//!
//! A backend connection is opened on the first request of a sender's
//! connection (or taken from the idle ones), replaced when the backend closed
//! it (a request not yet sent on it goes on a new one), dropped after a
//! failure, and handed to the idle ones when the sender's connection ends.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Instant;

use hyper::Request;
use hyper::client::conn::http1;
use hyper_rustls::MaybeHttpsStream;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use super::client::{self, Connector, Outgoing, POOL_IDLE};
use super::outcome::Upstream;
use super::target::Target;

/// Idle backend connections kept for senders' connections to come, at most.
const MOST_IDLE: usize = 64;

type Io = MaybeHttpsStream<TokioIo<TcpStream>>;

/// One kept-alive HTTP/1.1 connection to the backend.
struct Conn {
    sender: http1::SendRequest<Outgoing>,
    /// `None` once it has ended (the backend closed it, or it failed):
    /// dropping it gives a request waiting to go out on it back to its sender.
    connection: Option<http1::Connection<Io, Outgoing>>,
    /// When its last exchange ended.
    idle_since: Instant,
}

/// Why an exchange on a connection got no answer.
enum Failure {
    /// The request was not sent: the connection was closed already.
    Unsent(Box<Request<Outgoing>>, hyper::Error),
    /// The request was sent (perhaps in part) and no whole answer came.
    Failed(String),
}

impl Conn {
    /// Opens a connection to `target` (TLS for https). Boxed, as is the
    /// connection: what an exchange holds across its awaits, and moves, stays
    /// small (moving big futures was a third of the instructions a request).
    async fn open(connector: &Connector, target: &Target) -> Result<Box<Conn>, String> {
        let shown = target.shown();
        let mut connector = connector.clone();
        let connecting = |e: &(dyn std::error::Error + 'static)| client::failure(shown, true, e);
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(|e| connecting(&*e))?;
        let io = connector
            .call(target.origin().clone())
            .await
            .map_err(|e| connecting(&*e))?;
        let (sender, connection) = http1::handshake(io).await.map_err(|e| connecting(&e))?;
        Ok(Box::new(Conn {
            sender,
            connection: Some(connection),
            idle_since: Instant::now(),
        }))
    }

    /// Whether it may carry another request: open, and idle for less than the pool's time.
    fn usable(&self) -> bool {
        self.connection.is_some()
            && !self.sender.is_closed()
            && self.idle_since.elapsed() < POOL_IDLE
    }

    /// Sends `request` and reads the answer whole, driving the connection meanwhile.
    async fn exchange(
        &mut self,
        request: Request<Outgoing>,
        shown: &str,
    ) -> Result<Upstream, Failure> {
        let Conn {
            sender, connection, ..
        } = self;
        let exchange =
            async {
                if let Err(e) = sender.ready().await {
                    return Err(Failure::Unsent(Box::new(request), e));
                }
                let response = sender.try_send_request(request).await.map_err(|mut e| {
                    match e.take_message() {
                        Some(request) => Failure::Unsent(Box::new(request), e.into_error()),
                        None => Failure::Failed(client::failure(shown, false, &e.into_error())),
                    }
                })?;
                client::read_answer(response, shown)
                    .await
                    .map_err(Failure::Failed)
            };
        let mut exchange = pin!(exchange);
        let answer = std::future::poll_fn(|cx| {
            if let Poll::Ready(done) = exchange.as_mut().poll(cx) {
                return Poll::Ready(done);
            }
            // The connection writes the request and reads the answer into the
            // exchange's channels; it is done when the backend closes it.
            if let Some(open) = connection
                && Pin::new(open).poll(cx).is_ready()
            {
                *connection = None;
            }
            exchange.as_mut().poll(cx)
        })
        .await;
        self.idle_since = Instant::now();
        answer
    }
}

/// The backend connection of one sender's connection, none until its first
/// request; it goes to the idle ones when this is dropped.
pub struct Bound {
    conn: Mutex<Option<Box<Conn>>>,
    idle: Arc<Idle>,
}

impl Bound {
    /// Sends `request` to `target` on this sender connection's backend
    /// connection (opening one when there is none, or the one there was
    /// closed) and reads the answer whole; the message says why there is none.
    pub async fn exchange(
        &self,
        connector: &Connector,
        target: &Target,
        mut request: Request<Outgoing>,
    ) -> Result<Upstream, String> {
        let shown = target.shown();
        let mut kept = lock(&self.conn)
            .take()
            .filter(|conn| conn.usable())
            .or_else(|| self.idle.take());
        loop {
            let reused = kept.is_some();
            let mut conn = match kept.take() {
                Some(conn) => conn,
                None => Box::pin(Conn::open(connector, target)).await?,
            };
            match conn.exchange(request, shown).await {
                Ok(answer) => {
                    *lock(&self.conn) = Some(conn);
                    return Ok(answer);
                }
                // The backend closed a kept-alive connection before the
                // request went out on it: on a new one.
                Err(Failure::Unsent(unsent, _)) if reused => request = *unsent,
                Err(Failure::Unsent(_, e)) => return Err(client::failure(shown, false, &e)),
                Err(Failure::Failed(message)) => return Err(message),
            }
        }
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.get_mut().ok().and_then(Option::take) {
            self.idle.put(conn);
        }
    }
}

/// Backend connections that no sender's connection holds, the newest last.
#[derive(Default)]
pub struct Idle(Mutex<Vec<Conn>>);

impl Idle {
    /// A backend connection for a new sender's connection: one of the idle
    /// ones when there is one, else one opened on its first request.
    pub fn bind(self: &Arc<Self>) -> Bound {
        Bound {
            conn: Mutex::new(None),
            idle: Arc::clone(self),
        }
    }

    fn put(&self, conn: Box<Conn>) {
        let mut idle = lock(&self.0);
        idle.retain(Conn::usable);
        if conn.usable() && idle.len() < MOST_IDLE {
            idle.push(*conn);
        }
    }

    fn take(&self) -> Option<Box<Conn>> {
        let mut idle = lock(&self.0);
        while let Some(conn) = idle.pop() {
            if conn.usable() {
                return Some(Box::new(conn));
            }
        }
        None
    }
}

/// The lock's contents, even if a thread panicked holding it (what it holds
/// stays consistent: an option or a list taken from and pushed to whole).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
