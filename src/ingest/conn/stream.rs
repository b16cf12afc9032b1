//! A connection's stream as hyper reads and writes it: it tells its [`Conn`]
//! when bytes arrive and are written, keeps a copy of the start of each
//! request head, holds back hyper's own empty answer to a head it refused (to
//! be replaced by one that says what was wrong), and hands the stream back
//! when dropped.

use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Conn, HEAD_COPY};

/// What a [`Tracked`] stream leaves behind when dropped: the stream, and the
/// start of the last request head that began on it.
pub(in crate::ingest) type Left<IO> = Arc<Mutex<Option<(IO, Vec<u8>)>>>;

/// A connection's stream, telling its [`Conn`] when bytes arrive and copying
/// the start of each request head; handed back to `left` when dropped.
pub(in crate::ingest) struct Tracked<IO> {
    io: Option<IO>,
    conn: Arc<Conn>,
    head: Vec<u8>,
    left: Left<IO>,
}

impl<IO> Tracked<IO> {
    pub(in crate::ingest) fn new(io: IO, conn: Arc<Conn>, left: Left<IO>) -> Self {
        Tracked {
            io: Some(io),
            conn,
            head: Vec::new(),
            left,
        }
    }

    fn io(&mut self) -> io::Result<&mut IO> {
        self.io
            .as_mut()
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    /// A write of `buf` is about to be made: an answer the HTTP layer wrote on
    /// its own is held back (said written, and not sent).
    fn holds_back(&self, buf: &[u8]) -> bool {
        self.conn.holds_back(buf)
    }

    /// `n` bytes were written.
    fn wrote(&self, n: usize) {
        if n > 0 {
            self.conn.answering.store(false, Ordering::Release);
        }
    }
}

impl<IO> Drop for Tracked<IO> {
    fn drop(&mut self) {
        if let (Some(io), Ok(mut left)) = (self.io.take(), self.left.lock()) {
            *left = Some((io, std::mem::take(&mut self.head)));
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(self.io()?).poll_read(cx, buf);
        let arrived = &buf.filled()[before..];
        if !arrived.is_empty() {
            let this = &mut *self;
            this.conn
                .read_bytes
                .fetch_add(arrived.len() as u64, Ordering::AcqRel);
            if this.conn.on_read() {
                this.head.clear();
            }
            let room = HEAD_COPY - this.head.len();
            if room > 0 && this.conn.head_pending() {
                this.head
                    .extend_from_slice(&arrived[..arrived.len().min(room)]);
            }
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
        if self.holds_back(buf) {
            return Poll::Ready(Ok(buf.len()));
        }
        let polled = Pin::new(self.io()?).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.wrote(n);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.io()?).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.conn.refused_status().is_some() {
            // The answer that replaces the one held back is still to come.
            return Poll::Ready(Ok(()));
        }
        Pin::new(self.io()?).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let [only] = bufs
            && self.holds_back(only)
        {
            return Poll::Ready(Ok(only.len()));
        }
        let polled = Pin::new(self.io()?).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            self.wrote(n);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.as_ref().is_some_and(|io| io.is_write_vectored())
    }
}

/// The status of `buf` when it is the whole of an answer hyper writes on its
/// own to a head it refuses: `HTTP/1.1 400`, `414` or `431`, no body, no
/// content type (every answer of promscope's own to a 4xx has a body).
pub(super) fn automatic_answer(buf: &[u8]) -> Option<u16> {
    let status = match buf.get(..12)? {
        b"HTTP/1.1 400" => 400,
        b"HTTP/1.1 414" => 414,
        b"HTTP/1.1 431" => 431,
        _ => return None,
    };
    let head = buf.strip_suffix(b"\r\n\r\n")?;
    let lower = head.to_ascii_lowercase();
    let has = |what: &[u8]| lower.windows(what.len()).any(|w| w == what);
    (has(b"\r\ncontent-length: 0") && !has(b"\r\ncontent-type:")).then_some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_empty_answers_to_refused_heads_are_recognised() {
        let hyper = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 11:00:00 GMT\r\n\r\n";
        assert_eq!(automatic_answer(hyper), Some(400));
        let large = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_answer(large), Some(431));
        // promscope's own answers have a body and a type; others are not 4xx.
        let own =
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_answer(own), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\n\r\nbad";
        assert_eq!(automatic_answer(with_body), None);
        assert_eq!(
            automatic_answer(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"),
            None
        );
        assert_eq!(automatic_answer(b"HTTP/1.1 4"), None);
    }
}
