//! What a file is, from its first bytes: a capture, a packet capture, or
//! something else named well enough for the user to see their mistake.

/// Bytes [`identify`] looks at.
pub const SNIFF_BYTES: usize = 512;

/// The kinds of file told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A WARC file: a promscope capture, or another tool's web archive.
    Warc,
    /// A classic pcap file (`tcpdump -w`).
    Pcap,
    /// A pcapng file (`tcpdump -w` on newer systems, Wireshark, dumpcap).
    PcapNg,
    /// Nothing at all.
    Empty,
    /// gzip-compressed data.
    Gzip,
    /// zstd-compressed data.
    Zstd,
    /// xz-compressed data.
    Xz,
    /// bzip2-compressed data.
    Bzip2,
    /// A zip archive.
    Zip,
    /// Framed snappy (a `.sz` file), not a capture.
    FramedSnappy,
    /// An executable.
    Elf,
    /// JSON, such as promscope's own `--format json` output or a HAR file.
    Json,
    /// Other text.
    Text,
    /// Binary data of no kind recognised here.
    Binary,
}

impl FileKind {
    /// What it is, in words: "gzip-compressed data".
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Warc => "a WARC file",
            FileKind::Pcap => "a pcap packet capture",
            FileKind::PcapNg => "a pcapng packet capture",
            FileKind::Empty => "an empty file",
            FileKind::Gzip => "gzip-compressed data (decompress it first: gunzip)",
            FileKind::Zstd => "zstd-compressed data (decompress it first: unzstd)",
            FileKind::Xz => "xz-compressed data (decompress it first: unxz)",
            FileKind::Bzip2 => "bzip2-compressed data (decompress it first: bunzip2)",
            FileKind::Zip => "a zip archive (unzip it first)",
            FileKind::FramedSnappy => "framed snappy data",
            FileKind::Elf => "an executable (ELF)",
            FileKind::Json => "JSON (promscope's --format json output, or a HAR file?)",
            FileKind::Text => "text (promscope's --format text output, or a log?)",
            FileKind::Binary => "binary data of an unknown kind",
        }
    }
}

/// The kind of a file that starts with `start` (its first [`SNIFF_BYTES`], or all of it).
pub fn identify(start: &[u8]) -> FileKind {
    const MAGIC: &[(&[u8], FileKind)] = &[
        (b"WARC/1.", FileKind::Warc),
        (b"\xd4\xc3\xb2\xa1", FileKind::Pcap),
        (b"\xa1\xb2\xc3\xd4", FileKind::Pcap),
        (b"\x4d\x3c\xb2\xa1", FileKind::Pcap),
        (b"\xa1\xb2\x3c\x4d", FileKind::Pcap),
        (b"\x0a\x0d\x0d\x0a", FileKind::PcapNg),
        (b"\x1f\x8b", FileKind::Gzip),
        (b"\x28\xb5\x2f\xfd", FileKind::Zstd),
        (b"\xfd7zXZ\x00", FileKind::Xz),
        (b"BZh", FileKind::Bzip2),
        (b"PK\x03\x04", FileKind::Zip),
        (b"\xff\x06\x00\x00sNaPpY", FileKind::FramedSnappy),
        (b"\x7fELF", FileKind::Elf),
    ];
    if start.is_empty() {
        return FileKind::Empty;
    }
    if let Some(&(_, kind)) = MAGIC.iter().find(|(magic, _)| start.starts_with(magic)) {
        return kind;
    }
    // The sample may end inside a character: only what comes before it counts.
    let text = match std::str::from_utf8(start) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&start[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return FileKind::Binary,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !c.is_ascii_whitespace())
    {
        return FileKind::Binary;
    }
    match text.trim_start().chars().next() {
        Some('{' | '[') => FileKind::Json,
        _ => FileKind::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let cases: &[(&[u8], FileKind)] = &[
            (b"WARC/1.1\r\n", FileKind::Warc),
            (b"WARC/1.0\r\n", FileKind::Warc),
            (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", FileKind::Pcap),
            (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", FileKind::PcapNg),
            (b"", FileKind::Empty),
            (b"\x1f\x8b\x08\x00", FileKind::Gzip),
            (b"\x28\xb5\x2f\xfd\x00", FileKind::Zstd),
            (b"PK\x03\x04", FileKind::Zip),
            (b"\x7fELF\x02\x01", FileKind::Elf),
            (b"  {\"kind\":\"sample\"}\n", FileKind::Json),
            (b"up{job=\"node\"} 1\n", FileKind::Text),
            (b"caf\xc3", FileKind::Text),
            (b"\x00\x01\x02\x03", FileKind::Binary),
            (b"abc\xff\xfe", FileKind::Binary),
        ];
        for (start, kind) in cases {
            assert_eq!(identify(start), *kind, "{start:?}");
        }
    }
}
