//! WARC 1.1 record framing: a version line, `Name: value` fields, an empty
//! line, `Content-Length` bytes of content (the block), and `\r\n\r\n`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::calendar;

/// The version line promscope writes.
pub const VERSION_LINE: &[u8] = b"WARC/1.1\r\n";
/// What ends every record after its block.
pub const TRAILER: &[u8] = b"\r\n\r\n";
/// Largest record header read: far above what any writer puts there, so a
/// larger one means this is not a record boundary.
pub const MAX_HEAD_BYTES: usize = 64 << 10;
/// Largest block read (a request body promscope would accept is at most its
/// `--max-compressed-bytes`, 32 MiB by default).
pub const MAX_BLOCK_BYTES: u64 = 1 << 30;

/// The block digest promscope writes and checks: `sha256:` and base32, as WARC
/// tools (warcio, jwarc) expect.
pub fn block_digest(parts: &[&[u8]]) -> String {
    let mut sha = Sha256::new();
    for part in parts {
        sha.update(part);
    }
    format!("sha256:{}", data_encoding::BASE32.encode(&sha.finalize()))
}

/// A record header with `fields` and the `Content-Length` and
/// `WARC-Block-Digest` of the block made of `parts`.
pub fn record_head(fields: &[(&str, &str)], parts: &[&[u8]]) -> Vec<u8> {
    let length: usize = parts.iter().map(|p| p.len()).sum();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(VERSION_LINE);
    let digest = block_digest(parts);
    let length = length.to_string();
    let computed = [
        ("WARC-Block-Digest", digest.as_str()),
        ("Content-Length", length.as_str()),
    ];
    for (name, value) in fields.iter().chain(&computed) {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// A record's header as read.
#[derive(Debug)]
pub struct RecordHead {
    fields: Vec<(String, String)>,
    /// The block's length.
    pub content_length: u64,
}

impl RecordHead {
    /// The value of field `name` (case-insensitive), if present.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a record header: `head` runs from the version line up to and
/// including the empty line that ends it.
pub fn parse_head(head: &[u8]) -> Result<RecordHead, String> {
    let text = std::str::from_utf8(head).map_err(|e| {
        format!(
            "the record header is not UTF-8 text (byte {})",
            e.valid_up_to()
        )
    })?;
    let mut lines = text.split("\r\n");
    let version = lines.next().unwrap_or_default();
    if !matches!(version, "WARC/1.1" | "WARC/1.0") {
        return Err(format!(
            "expected a record starting with WARC/1.1 (or WARC/1.0), found {:?}",
            cut(version)
        ));
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            // A continuation line extends the field above it.
            let Some((_, value)) = fields.last_mut() else {
                return Err("the record header starts with a continuation line".into());
            };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("record header line {:?} has no colon", cut(line)));
        };
        fields.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut head = RecordHead {
        fields,
        content_length: 0,
    };
    let length = head
        .field("Content-Length")
        .ok_or("the record header has no Content-Length")?;
    head.content_length = length
        .parse()
        .map_err(|_| format!("Content-Length {:?} is not a number", cut(length)))?;
    if head.content_length > MAX_BLOCK_BYTES {
        return Err(format!(
            "Content-Length {} is over the {} bytes a record may hold here",
            head.content_length, MAX_BLOCK_BYTES
        ));
    }
    Ok(head)
}

/// At most 40 characters of `s`, for messages about damaged input.
fn cut(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// `2026-12-02T07:24:28.123456Z`: UTC with microseconds (WARC 1.1 allows a
/// fraction of a second); times before 1970 are written as 1970.
pub fn format_date(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (y, m, d) = calendar::civil_from_days(secs.div_euclid(86_400));
    let in_day = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        since.subsec_micros()
    )
}

/// Parses a WARC-Date: `YYYY-MM-DDThh:mm:ssZ` with an optional fraction of up
/// to nine digits, years 1970 to 9999.
pub fn parse_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b.get(i) != Some(&c)) || b.last() != Some(&b'Z') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let valid = year >= 1970
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    if !valid {
        return None;
    }
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = number(20..20 + digits.len())?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let days = calendar::days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_to_the_microsecond() {
        let t = UNIX_EPOCH + Duration::new(1_795_000_000, 123_456_789);
        let text = format_date(t);
        assert_eq!(text, "2026-11-18T11:06:40.123456Z");
        assert_eq!(
            parse_date(&text),
            Some(UNIX_EPOCH + Duration::new(1_795_000_000, 123_456_000))
        );
        assert_eq!(
            parse_date("2026-11-18T11:06:40Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_795_000_000))
        );
        for bad in [
            "",
            "2026-11-18",
            "2026-11-18T11:06:40",
            "2026-13-18T10:26:40Z",
            "2026-11-18T11:06:40.Z",
            "2026-11-18T11:06:40.1234567890Z",
            "2026-11-18T1a:26:40Z",
            "1969-12-31T23:59:59Z",
            "2026-11-18T11:06:40.12é",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn heads_round_trip() {
        let head = record_head(
            &[("WARC-Type", "request"), ("Promscope-Peer", "127.0.0.1:5")],
            &[b"abc", b"de"],
        );
        let text = String::from_utf8(head.clone()).unwrap();
        assert!(text.starts_with("WARC/1.1\r\nWARC-Type: request\r\n"));
        assert!(text.ends_with("Content-Length: 5\r\n\r\n"));
        let parsed = parse_head(&head).unwrap();
        assert_eq!(parsed.content_length, 5);
        assert_eq!(parsed.field("warc-type"), Some("request"));
        assert_eq!(parsed.field("Promscope-Peer"), Some("127.0.0.1:5"));
        assert_eq!(
            parsed.field("WARC-Block-Digest"),
            Some(block_digest(&[b"abcde"]).as_str())
        );
    }

    #[test]
    fn bad_heads_say_what_is_wrong() {
        let err = |head: &str| parse_head(head.as_bytes()).unwrap_err();
        assert!(err("HTTP/1.1 200 OK\r\n\r\n").contains("WARC/1.1"));
        assert!(err("WARC/1.1\r\nWARC-Type: x\r\n\r\n").contains("no Content-Length"));
        assert!(err("WARC/1.1\r\nContent-Length: x1\r\n\r\n").contains("not a number"));
        assert!(err("WARC/1.1\r\nContent-Length: 99999999999\r\n\r\n").contains("over"));
        assert!(err("WARC/1.1\r\nbroken\r\n\r\n").contains("no colon"));
        let folded = parse_head(b"WARC/1.1\r\nA: b\r\n  c\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(folded.field("a"), Some("b c"));
    }
}
