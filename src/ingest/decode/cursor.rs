//! A position in a body held in pieces (as it arrived), for reading headers
//! here and there in it without joining the pieces into one buffer.

use std::borrow::Cow;

/// Where reading has got to in `pieces`: `offset` bytes into the first.
#[derive(Debug, Clone)]
pub(super) struct Cursor<'a, T> {
    pieces: &'a [T],
    offset: usize,
}

impl<'a, T: AsRef<[u8]>> Cursor<'a, T> {
    /// At the start of the body.
    pub(super) fn new(pieces: &'a [T]) -> Self {
        let mut cursor = Cursor { pieces, offset: 0 };
        cursor.skip_spent();
        cursor
    }

    /// Drops the pieces read to their end (and empty ones) off the front.
    fn skip_spent(&mut self) {
        while let [first, rest @ ..] = self.pieces
            && self.offset >= first.as_ref().len()
        {
            self.offset -= first.as_ref().len();
            self.pieces = rest;
        }
    }

    /// Whether all of it has been read.
    pub(super) fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Up to `n` bytes from here (fewer at the end), borrowed when they lie in
    /// one piece, else copied.
    pub(super) fn peek(&self, n: usize) -> Cow<'a, [u8]> {
        let Some((first, rest)) = self.pieces.split_first() else {
            return Cow::Borrowed(&[]);
        };
        let here = &first.as_ref()[self.offset..];
        if here.len() >= n || rest.is_empty() {
            return Cow::Borrowed(&here[..n.min(here.len())]);
        }
        let mut bytes = here.to_vec();
        for piece in rest {
            let piece = piece.as_ref();
            bytes.extend_from_slice(&piece[..(n - bytes.len()).min(piece.len())]);
            if bytes.len() == n {
                break;
            }
        }
        Cow::Owned(bytes)
    }

    /// Moves `n` bytes on; `None` when fewer are left.
    pub(super) fn advance(&mut self, n: usize) -> Option<()> {
        self.offset = self.offset.checked_add(n)?;
        self.skip_spent();
        if self.pieces.is_empty() && self.offset > 0 {
            return None;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_reads_across_pieces_and_borrows_within_one() {
        let pieces: [&[u8]; 4] = [b"abc", b"", b"defg", b"h"];
        let mut at = Cursor::new(&pieces[..]);
        assert!(matches!(at.peek(2), Cow::Borrowed(b"ab")));
        assert_eq!(&*at.peek(6), b"abcdef");
        assert_eq!(at.advance(3), Some(()));
        assert!(matches!(at.peek(4), Cow::Borrowed(b"defg")));
        assert_eq!(&*at.peek(99), b"defgh");
        assert_eq!(at.advance(5), Some(()));
        assert!(at.is_empty());
        assert_eq!(&*at.peek(3), b"");
        assert_eq!(at.advance(0), Some(()));
        assert_eq!(at.advance(1), None, "past the end");
        let mut short = Cursor::new(&pieces[..]);
        assert_eq!(short.advance(9), None);
        assert!(short.is_empty());
        assert_eq!(short.advance(usize::MAX), None);
        let none: [&[u8]; 2] = [b"", b""];
        assert!(Cursor::new(&none[..]).is_empty());
    }
}
