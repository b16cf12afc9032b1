//! Replaying tcpdump captures (pcap): segments split, reordered and sent
//! again replay the same data, and a pcap cut or changed at any byte keeps
//! the requests before the damage.

use super::*;

/// A TCP segment of a test connection: its packet, sequence number relative
/// to the first data byte.
fn packet(client_port: u16, seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
        .tcp(client_port, 9201, seq, 65535);
    let builder = if syn { builder.syn() } else { builder.ack(1) };
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

/// A classic pcap file (microseconds, Ethernet) of `packets`, 1 ms apart.
fn pcap_file(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut file = Vec::new();
    for word in [
        0xa1b2_c3d4u32.to_le_bytes().to_vec(),
        vec![2, 0, 4, 0],
        vec![0; 8],
    ] {
        file.extend_from_slice(&word);
    }
    file.extend_from_slice(&262_144u32.to_le_bytes());
    file.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        let micros = 1_700_000_000_000_000u64 + i as u64 * 1000;
        file.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        file.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        file.extend_from_slice(&(p.len() as u32).to_le_bytes());
        file.extend_from_slice(&(p.len() as u32).to_le_bytes());
        file.extend_from_slice(p);
    }
    file
}

/// The bytes of `e` on the wire, chunked if asked.
fn wire(e: &promscope::capture::Exchange, chunked: bool) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.1\r\n", e.method, e.target).into_bytes();
    for h in &e.headers {
        if chunked && h.name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        out.extend_from_slice(format!("{}: ", h.name).as_bytes());
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    }
    if chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
        for chunk in e.body.chunks(7) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&e.body);
    }
    out
}

/// The segments of one connection's bytes, 50 bytes each, delivered out of
/// order (each pair swapped), with every third one sent again and one
/// retransmission overlapping the next segment.
fn segments(port: u16, bytes: &[u8]) -> Vec<Vec<u8>> {
    let isn = 1000u32;
    let mut out = vec![packet(port, isn - 1, true, &[])];
    let pieces: Vec<(usize, &[u8])> = bytes
        .chunks(50)
        .enumerate()
        .map(|(i, c)| (i * 50, c))
        .collect();
    for pair in pieces.chunks(2) {
        for (i, &(at, piece)) in pair.iter().rev().enumerate() {
            out.push(packet(port, isn + at as u32, false, piece));
            if (at / 50) % 3 == 0 || i == 1 {
                out.push(packet(port, isn + at as u32, false, piece));
            }
        }
        if let [(at, _), _] = pair {
            let end = (at + 80).min(bytes.len());
            out.push(packet(
                port,
                isn + *at as u32 + 10,
                false,
                &bytes[at + 10..end],
            ));
        }
    }
    out
}

#[test]
fn a_tcpdump_capture_with_split_reordered_retransmitted_segments_replays_the_same_data() {
    let file = TempFile::new("forpcap.warc");
    let live = record(&file.0);
    let reader = std::io::BufReader::new(std::fs::File::open(&file.0).unwrap());
    let recorded: Vec<_> = promscope::capture::CaptureReader::new(reader)
        .map(Result::unwrap)
        .filter(|e| e.body_complete)
        .collect();
    assert_eq!(recorded.len(), 4);
    // Connection A: two requests pipelined; connection B: chunked, then plain.
    let a = [wire(&recorded[0], false), wire(&recorded[1], false)].concat();
    let b = [wire(&recorded[2], true), wire(&recorded[3], false)].concat();
    let mut packets = segments(40001, &a);
    packets.extend(segments(40002, &b));
    let pcap = TempFile::new("test.pcap");
    std::fs::write(&pcap.0, pcap_file(&packets)).unwrap();

    let replayed = replay(&[
        pcap.0.as_os_str(),
        os("--no-tui"),
        os("--format"),
        os("json"),
    ]);
    let stderr = String::from_utf8(replayed.stderr).unwrap();
    assert!(replayed.status.success(), "{stderr}");
    assert!(stderr.contains("4 accepted, 0 rejected"), "{stderr}");
    assert!(stderr.contains("retransmitted segments"), "{stderr}");
    let output = String::from_utf8(replayed.stdout).unwrap();
    assert_eq!(data_records(&output), data_records(&live));

    // Cut short in the middle of a packet: what came before is still read.
    let whole = std::fs::read(&pcap.0).unwrap();
    let last_packet = whole.len() - packets.last().unwrap().len() - 16;
    let cut_at = last_packet - packets[packets.len() - 2].len() - 16 - 30;
    std::fs::write(&pcap.0, &whole[..cut_at]).unwrap();
    let cut = replay(&[
        pcap.0.as_os_str(),
        os("--no-tui"),
        os("--format"),
        os("none"),
    ]);
    let stderr = String::from_utf8(cut.stderr).unwrap();
    assert!(!cut.status.success());
    assert!(stderr.contains("3 accepted"), "{stderr}");
    // The reordered segment before the cut waits for one that never came.
    assert!(
        stderr.contains("the request they belong to was dropped"),
        "{stderr}"
    );
    assert!(stderr.contains("the file ends inside a packet"), "{stderr}");
}

/// A remote-write POST on the wire, with `body`.
fn post_bytes(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /api/v1/write HTTP/1.1\r\nhost: 127.0.0.1:9201\r\ncontent-type: application/x-protobuf\r\ncontent-encoding: snappy\r\nx-prometheus-remote-write-version: 0.1.0\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Every request `path` holds up to its damage, and whether it was damaged;
/// `None` when it cannot be opened as requests at all.
fn requests_in(path: &Path) -> Option<(Vec<Vec<u8>>, bool)> {
    let source = promscope::capture::open(path).ok()?;
    let mut bodies = Vec::new();
    for item in source {
        match item {
            Ok(exchange) => bodies.push(exchange.body.to_vec()),
            Err(_) => return Some((bodies, true)),
        }
    }
    Some((bodies, false))
}

#[test]
fn a_pcap_cut_or_changed_at_any_byte_never_panics_and_keeps_the_requests_before() {
    let bodies = [rw1_body(&[1.0]), rw1_body(&[2.0]), rw1_body(&[3.0])];
    // One connection, one request a packet, in order, after the handshake.
    let mut packets = vec![packet(40003, 999, true, &[])];
    let mut seq = 1000u32;
    for body in &bodies {
        let bytes = post_bytes(body);
        packets.push(packet(40003, seq, false, &bytes));
        seq += bytes.len() as u32;
    }
    let file = pcap_file(&packets);
    // Where each request's packet ends in the file.
    let mut ends = Vec::new();
    let mut at = 24;
    for p in &packets {
        at += 16 + p.len();
        ends.push(at);
    }
    let ends = &ends[1..];
    let whole = TempFile::new("whole.pcap");
    std::fs::write(&whole.0, &file).unwrap();
    let all: Vec<Vec<u8>> = bodies.to_vec();
    assert_eq!(requests_in(&whole.0), Some((all.clone(), false)));
    let damaged = TempFile::new("damaged.pcap");
    let check = |bytes: &[u8], intact_until: usize, what: &str| {
        std::fs::write(&damaged.0, bytes).unwrap();
        let Some((read, _)) = requests_in(&damaged.0) else {
            // Only a file whose own header is damaged is not read at all.
            assert!(intact_until < 24, "{what}: not opened");
            return;
        };
        let before = ends.iter().filter(|&&end| end <= intact_until).count();
        assert!(read.len() >= before, "{what}: {} of {before}", read.len());
        assert_eq!(read[..before], all[..before], "{what}");
    };
    for cut in 0..=file.len() {
        check(&file[..cut], cut, &format!("cut at {cut}"));
    }
    for at in 0..file.len() {
        let mut changed = file.clone();
        changed[at] ^= 0x80;
        check(&changed, at, &format!("byte {at} changed"));
    }
}
