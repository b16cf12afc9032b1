//! Reading request bodies within bounds: a size limit per request, a deadline,
//! and a budget of bytes shared by every request being received and decoded
//! at once, so that many large bodies cannot pin memory together.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes per permit of a [`Budget`]: permits are counted in `u32`.
const UNIT: usize = 1 << 10;

/// The bytes that requests being received, decoded and waiting for a consumer
/// may take at once.
#[derive(Debug, Clone)]
pub struct Budget {
    units: Arc<Semaphore>,
    /// Units the budget holds in all.
    total: usize,
}

/// Bytes taken from a [`Budget`], given back when dropped.
#[derive(Debug, Default)]
pub struct Charge {
    permit: Option<OwnedSemaphorePermit>,
}

impl Budget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        let total = bytes.div_ceil(UNIT).min(Semaphore::MAX_PERMITS);
        Budget {
            units: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Makes `charge` hold `bytes`, or the whole budget if that is less (so that
    /// a request alone always fits): gives back what it holds beyond, takes what
    /// it lacks if the budget has it, without waiting. False when it had not.
    pub fn settle(&self, charge: &mut Charge, bytes: usize) -> bool {
        let want = bytes.div_ceil(UNIT).min(self.total);
        let held = charge.permit.as_ref().map_or(0, |p| p.num_permits());
        if want <= held {
            if let Some(permit) = &mut charge.permit {
                drop(permit.split(held - want));
            }
            return true;
        }
        self.take(charge, (want - held) * UNIT)
    }

    /// Adds `bytes` to `charge` if the budget has them, without waiting; when
    /// it has not, the body buffers kept for later bodies are freed (they hold
    /// bytes of the budget while kept) and it is asked again.
    pub fn take(&self, charge: &mut Charge, bytes: usize) -> bool {
        self.take_spare(charge, bytes)
            || (super::model::body_buf::release_kept() > 0 && self.take_spare(charge, bytes))
    }

    /// Adds `bytes` to `charge` if the budget has them to spare, without
    /// waiting and without freeing kept buffers.
    pub(crate) fn take_spare(&self, charge: &mut Charge, bytes: usize) -> bool {
        let units = u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX);
        if units == 0 {
            return true;
        }
        match self.units.clone().try_acquire_many_owned(units) {
            Ok(permit) => {
                match &mut charge.permit {
                    Some(held) => held.merge(permit),
                    None => charge.permit = Some(permit),
                }
                true
            }
            Err(_) => false,
        }
    }
}

impl Charge {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.permit.as_ref().map_or(0, |p| p.num_permits() * UNIT)
    }
}

/// Why a body was not read whole.
#[derive(Debug)]
pub enum BodyError {
    /// Over the size limit: stated by Content-Length, or found while reading.
    TooLarge,
    /// The budget had no room for it.
    OverBudget,
    /// It did not arrive before the deadline.
    TimedOut,
    /// The connection failed while reading it.
    Read(hyper::Error),
}

/// A body as it arrived: the pieces hyper read it in, in order, not joined.
/// Forwarding sends them on as they are; what needs the body in one piece
/// (decoding, the recording, the request view) joins them.
#[derive(Debug, Clone, Default)]
pub struct Pieces {
    pieces: Vec<Bytes>,
    len: usize,
}

impl Pieces {
    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Bytes] {
        &self.pieces
    }

    /// The pieces, taken.
    pub fn into_vec(self) -> Vec<Bytes> {
        self.pieces
    }

    fn push(&mut self, piece: Bytes) {
        if !piece.is_empty() {
            self.len += piece.len();
            self.pieces.push(piece);
        }
    }

    /// The body in one buffer of its own, just its size: a copy, which keeps
    /// none of the buffers its pieces are views of.
    pub fn copied(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(self.len);
        for piece in &self.pieces {
            buf.extend_from_slice(piece);
        }
        buf.freeze()
    }

    /// The body in one piece: the piece itself when it came in one, else a copy.
    pub fn joined(&self) -> Bytes {
        match self.pieces.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            _ => self.copied(),
        }
    }
}

impl FromIterator<Bytes> for Pieces {
    fn from_iter<I: IntoIterator<Item = Bytes>>(pieces: I) -> Self {
        let mut body = Pieces::default();
        for piece in pieces {
            body.push(piece);
        }
        body
    }
}

impl From<Bytes> for Pieces {
    fn from(body: Bytes) -> Self {
        let mut pieces = Pieces::default();
        pieces.push(body);
        pieces
    }
}

/// Reads a whole body of at most `limit` bytes within `timeout`, charging its
/// bytes to `budget` as they arrive (all at once when the length is stated).
/// `received` counts the bytes read, also when reading fails. The body is
/// kept in the pieces it arrived in (no copy).
pub async fn read(
    body: Incoming,
    stated_len: Option<u64>,
    limit: usize,
    budget: &Budget,
    timeout: Duration,
    charge: &mut Charge,
    received: &mut usize,
) -> Result<Pieces, BodyError> {
    let mut pieces = Pieces::default();
    if let Some(len) = stated_len {
        let len = usize::try_from(len).map_err(|_| BodyError::TooLarge)?;
        if len > limit {
            return Err(BodyError::TooLarge);
        }
        if !budget.take(charge, len) {
            return Err(BodyError::OverBudget);
        }
    }
    let reading = async {
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(BodyError::Read)?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            *received += data.len();
            if *received > limit {
                return Err(BodyError::TooLarge);
            }
            // Without a stated length, charge what has arrived beyond the charge.
            let more = received.saturating_sub(charge.bytes());
            if more > 0 && !budget.take(charge, more) {
                return Err(BodyError::OverBudget);
            }
            pieces.push(data);
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, reading).await {
        Ok(Ok(())) => Ok(pieces),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(BodyError::TimedOut),
    }
}

/// Reads and drops a body that will not be used, so that the connection can
/// carry the next request: at most `limit` bytes within `timeout`. Returns
/// whether the body ended (if not, the connection must be closed). A body the
/// client waits to send (`Expect: 100-continue`) is not asked for.
pub async fn discard(
    body: Incoming,
    stated_len: Option<u64>,
    expects_continue: bool,
    limit: usize,
    timeout: Duration,
) -> bool {
    if expects_continue || stated_len.is_some_and(|len| len > limit as u64) {
        return false;
    }
    let draining = async {
        let mut body = body;
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return false;
            };
            if let Some(data) = frame.data_ref() {
                seen += data.len();
                if seen > limit {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(timeout, draining)
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_charges_in_units_and_gives_back_on_drop() {
        let budget = Budget::new(10 * UNIT);
        let mut a = Charge::default();
        assert!(budget.take(&mut a, 1));
        assert!(budget.take(&mut a, 4 * UNIT));
        assert_eq!(a.bytes(), 5 * UNIT);
        let mut b = Charge::default();
        assert!(!budget.take(&mut b, 6 * UNIT));
        assert!(budget.take(&mut b, 5 * UNIT));
        assert!(!budget.take(&mut b, 1));
        drop(a);
        assert!(budget.take(&mut b, 5 * UNIT));
        assert!(budget.take(&mut b, 0));
        // More than a u32 of units is refused, not wrapped.
        assert!(!budget.take(&mut Charge::default(), usize::MAX));
    }

    #[test]
    fn settling_gives_back_the_excess_takes_the_lack_and_caps_at_the_budget() {
        let budget = Budget::new(10 * UNIT);
        let mut a = Charge::default();
        assert!(budget.take(&mut a, 6 * UNIT));
        assert!(budget.settle(&mut a, 2 * UNIT));
        assert_eq!(a.bytes(), 2 * UNIT);
        let mut b = Charge::default();
        assert!(budget.settle(&mut b, 8 * UNIT), "given back by a");
        assert!(!budget.settle(&mut a, 3 * UNIT), "one unit short");
        assert_eq!(a.bytes(), 2 * UNIT, "unchanged when refused");
        drop(b);
        // More than the whole budget holds all of it, no more.
        assert!(budget.settle(&mut a, 1 << 30));
        assert_eq!(a.bytes(), 10 * UNIT);
        assert!(budget.settle(&mut a, 0));
        assert_eq!(a.bytes(), 0);
        assert!(budget.take(&mut Charge::default(), 10 * UNIT));
    }

    #[test]
    fn pieces_join_only_when_there_are_several() {
        let one = Pieces::from(Bytes::from_static(b"abcdef"));
        assert_eq!(one.joined(), Bytes::from_static(b"abcdef"));
        assert_eq!(one.joined().as_ptr(), one.pieces()[0].as_ptr(), "no copy");
        let mut many = Pieces::default();
        for piece in [&b"ab"[..], b"", b"cde", b"f"] {
            many.push(Bytes::copy_from_slice(piece));
        }
        assert_eq!(
            (many.len(), many.pieces().len()),
            (6, 3),
            "empty pieces dropped"
        );
        assert_eq!(many.joined(), Bytes::from_static(b"abcdef"));
        let empty = Pieces::default();
        assert!(empty.is_empty());
        assert_eq!(empty.joined().len(), 0);
    }
}
