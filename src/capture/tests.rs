//! Captures written and read back, whole, cut short and damaged at every byte.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;

use super::writer::{EncodedExchange, record_id, warcinfo};
use super::*;

fn exchanges() -> Vec<Exchange> {
    let at = |ms: u64| UNIX_EPOCH + Duration::from_micros(1_795_000_000_000_000 + ms * 1000);
    let accepted = Exchange {
        received_at: at(0),
        peer: Some("127.0.0.1:40000".parse().unwrap()),
        url: "http://127.0.0.1:9201/api/v1/write".into(),
        method: "POST".into(),
        target: "/api/v1/write".into(),
        headers: vec![
            Header::new("content-encoding", "snappy"),
            Header::new(
                "content-type",
                "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            ),
            Header::new("content-length", "6"),
        ],
        body: Bytes::from_static(b"\x04\x08\x0a\x00\r\n"),
        body_complete: true,
        answer: Some(Answer {
            status: 204,
            headers: vec![Header::new(
                "x-prometheus-remote-write-samples-written",
                "0",
            )],
            body: Bytes::new(),
            reject_reason: None,
            relay: None,
        }),
    };
    let mut rejected = accepted.clone();
    rejected.received_at = at(1_500);
    rejected.peer = Some("[::1]:40001".parse().unwrap());
    rejected.headers[0].value = Bytes::from_static(b"g\xffzip");
    rejected.body = Bytes::from_static(b"WARC/1.1\r\n\r\n");
    rejected.answer = Some(Answer {
        status: 415,
        headers: vec![Header::new("content-type", "text/plain")],
        body: Bytes::from_static(b"Content-Encoding \"gzip\" is not supported\n"),
        reject_reason: Some("unsupported_encoding".into()),
        relay: None,
    });
    let mut unread = accepted.clone();
    unread.received_at = at(2_000);
    unread.peer = None;
    unread.body = Bytes::new();
    unread.body_complete = false;
    unread.answer = Some(Answer {
        status: 413,
        headers: vec![],
        body: Bytes::from_static(b"too large\n"),
        reject_reason: Some("too_large".into()),
        relay: None,
    });
    let mut unanswered = accepted.clone();
    unanswered.received_at = at(2_001);
    unanswered.answer = None;
    let (backend, nobody) = (by_backend(&accepted), by_nobody(&accepted));
    vec![accepted, rejected, unread, unanswered, backend, nobody]
}

/// Forward mode: the backend's refusal, passed on.
fn by_backend(request: &Exchange) -> Exchange {
    let mut e = request.clone();
    e.received_at += Duration::from_secs(3);
    e.answer = Some(Answer {
        status: 400,
        headers: vec![Header::new("content-type", "text/plain")],
        body: Bytes::from_static(b"out of order sample\n"),
        reject_reason: Some("backend".into()),
        relay: Some(Relay {
            backend: "http://10.0.0.9:9090/api/v1/write".into(),
            answered: true,
            backend_latency: Duration::from_nanos(1_874_501),
            latency: Duration::from_nanos(2_113_007),
            mirrors: vec!["204".into(), "queue full".into()],
            sender_gave_up: None,
        }),
    });
    e
}

/// Forward mode: no answer from the backend; promscope's 502 says why.
fn by_nobody(request: &Exchange) -> Exchange {
    let mut e = by_backend(request);
    e.received_at += Duration::from_millis(5);
    e.answer = Some(Answer {
        status: 502,
        headers: vec![],
        body: Bytes::from_static(b"could not connect to http://10.0.0.9:9090\n"),
        reject_reason: Some("backend_unavailable".into()),
        relay: Some(Relay {
            backend: "http://10.0.0.9:9090/api/v1/write".into(),
            answered: false,
            backend_latency: Duration::from_micros(300),
            latency: Duration::from_secs(30),
            mirrors: vec![],
            // Prometheus's remote_timeout, passed.
            sender_gave_up: Some(Duration::from_nanos(10_000_250_001)),
        }),
    });
    e
}

/// A capture of `exchanges`, and where each record ends: (request end, answer end).
fn capture(exchanges: &[Exchange]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let info_id = record_id();
    let mut file = warcinfo(&info_id, Path::new("test.warc"));
    let mut ends = Vec::new();
    for e in exchanges {
        let mut alone = e.clone();
        alone.answer = None;
        let request_len = EncodedExchange::new(&alone, &info_id).len() as usize;
        let encoded = EncodedExchange::new(e, &info_id);
        encoded.write_to(&mut file).unwrap();
        let start = file.len() - encoded.len() as usize;
        ends.push((start + request_len, file.len()));
    }
    (file, ends)
}

fn read(bytes: &[u8]) -> (Vec<Exchange>, Option<Damage>) {
    let mut good = Vec::new();
    let mut damage = None;
    for item in CaptureReader::new(bytes) {
        match item {
            Ok(e) => {
                assert!(damage.is_none(), "nothing is returned after the damage");
                good.push(e);
            }
            Err(d) => damage = Some(d),
        }
    }
    (good, damage)
}

#[test]
fn exchanges_round_trip_exactly() {
    let all = exchanges();
    let (file, _) = capture(&all);
    let (read_back, damage) = read(&file);
    assert_eq!(damage, None);
    assert_eq!(read_back, all);
}

#[test]
fn records_hold_http_messages_as_received() {
    let (file, _) = capture(&exchanges()[..1]);
    let text = String::from_utf8_lossy(&file);
    assert!(text.starts_with("WARC/1.1\r\nWARC-Type: warcinfo\r\n"));
    assert!(text.contains("promscope-capture: 1\r\n"));
    assert!(text.contains("WARC-Type: request\r\n"));
    assert!(text.contains("WARC-Date: 2026-11-18T11:06:40.000000Z\r\n"));
    assert!(text.contains("Promscope-Peer: 127.0.0.1:40000\r\n"));
    assert!(text.contains("WARC-Block-Digest: sha256:"));
    assert!(text.contains("Content-Type: application/http;msgtype=request\r\n"));
    assert!(text.contains("\r\n\r\nPOST /api/v1/write HTTP/1.1\r\ncontent-encoding: snappy\r\n"));
    assert!(text.contains("WARC-Concurrent-To: <urn:uuid:"));
    assert!(text.contains("HTTP/1.1 204 No Content\r\n"));
}

#[test]
fn answers_say_who_answered_and_in_forward_mode_how() {
    let all = exchanges();
    let (file, _) = capture(&[all[0].clone(), by_backend(&all[0]), by_nobody(&all[0])]);
    let text = String::from_utf8_lossy(&file);
    let answers: Vec<&str> = text
        .split("WARC/1.1\r\n")
        .filter(|r| r.starts_with("WARC-Type: response"))
        .collect();
    assert_eq!(answers.len(), 3);
    assert!(answers[0].contains("Promscope-Answer-From: promscope\r\n"));
    assert!(!answers[0].contains("Promscope-Backend"));
    for (answer, from) in answers[1..].iter().zip(["backend", "nobody"]) {
        assert!(answer.contains(&format!("Promscope-Answer-From: {from}\r\n")));
        assert!(answer.contains("Promscope-Backend: http://10.0.0.9:9090/api/v1/write\r\n"));
    }
    assert!(answers[1].contains("Promscope-Backend-Latency: 0.001874501\r\n"));
    assert!(answers[1].contains("Promscope-Latency: 0.002113007\r\n"));
    assert!(answers[1].contains("Promscope-Mirrors: 204, queue full\r\n"));
    assert!(!answers[2].contains("Promscope-Mirrors"));
    assert!(!answers[1].contains("Promscope-Sender-Gave-Up"));
    assert!(answers[2].contains("Promscope-Sender-Gave-Up: 10.000250001\r\n"));
}

#[test]
fn an_answer_from_someone_this_version_does_not_know_is_passed_over() {
    let all = exchanges();
    let (file, _) = capture(&[by_backend(&all[0])]);
    let text = String::from_utf8_lossy(&file).replace("From: backend", "From: mirror1");
    let mut reader = CaptureReader::new(text.as_bytes());
    let read: Vec<_> = reader.by_ref().collect();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].as_ref().map(|e| e.answer.is_none()), Ok(true));
    assert_eq!(reader.skipped(), 1);
}

#[test]
fn a_capture_cut_anywhere_keeps_every_record_before_the_cut() {
    let all = exchanges();
    let (file, ends) = capture(&all);
    let info_end = capture(&[]).0.len();
    let boundaries: Vec<usize> = [0, info_end]
        .into_iter()
        .chain(ends.iter().flat_map(|&(req, ans)| [req, ans]))
        .collect();
    for cut in 0..=file.len() {
        let (good, damage) = read(&file[..cut]);
        let whole = ends.iter().filter(|&&(_, end)| end <= cut).count();
        assert_eq!(good[..whole], all[..whole], "cut at {cut}");
        match good.len() - whole {
            0 => {}
            1 => {
                // The next request is whole; its answer is not.
                assert!(ends[whole].0 <= cut, "cut at {cut}");
                let mut unanswered = all[whole].clone();
                unanswered.answer = None;
                assert_eq!(good[whole], unanswered, "cut at {cut}");
            }
            n => panic!("cut at {cut}: {n} records too many"),
        }
        assert_eq!(
            damage.is_some(),
            !boundaries.contains(&cut),
            "cut at {cut}: {damage:?}"
        );
        if let Some(d) = damage {
            assert!(d.offset as usize <= cut);
            assert!(d.problem.contains("ends"), "cut at {cut}: {d}");
        }
    }
}

#[test]
fn a_changed_byte_anywhere_keeps_every_record_before_it() {
    let all = exchanges();
    let (file, ends) = capture(&all);
    for at in 0..file.len() {
        for change in [0x01, 0x20, 0x80] {
            let mut damaged = file.clone();
            damaged[at] ^= change;
            let (good, damage) = read(&damaged);
            let before = ends.iter().filter(|&&(_, end)| end <= at).count();
            assert!(good.len() >= before, "byte {at}");
            assert_eq!(good[..before], all[..before], "byte {at}");
            if let Some(d) = &damage {
                assert!(d.offset as usize <= at, "byte {at}: {d}");
            }
        }
    }
}

#[test]
fn a_changed_body_byte_is_caught_by_the_digest() {
    let all = exchanges();
    let (file, _) = capture(&all);
    let body_at = file
        .windows(all[1].body.len())
        .position(|w| w == &all[1].body[..])
        .unwrap();
    let mut damaged = file.clone();
    damaged[body_at + 3] ^= 1;
    let (good, damage) = read(&damaged);
    assert_eq!(good, all[..1]);
    let damage = damage.unwrap();
    assert!(damage.problem.contains("WARC-Block-Digest"), "{damage}");
    assert_eq!(damage.record, 4);
}

#[test]
fn other_files_are_refused_at_the_first_byte() {
    for (bytes, says) in [
        (&b"HTTP/1.1 200 OK\r\n\r\n"[..], "found \"HTTP/1.1 200 OK"),
        (&[0u8; 100_000][..], "expected a record"),
        (
            &b"WARC/1.1\r\nContent-Length: 0\r\n"[..],
            "ends inside a record header",
        ),
    ] {
        let (good, damage) = read(bytes);
        assert!(good.is_empty());
        let damage = damage.unwrap();
        assert_eq!((damage.offset, damage.record), (0, 1));
        assert!(damage.problem.contains(says), "{damage}");
    }
}

#[test]
fn a_newer_format_is_refused_with_what_to_do() {
    let body = b"software: promscope 9\r\npromscope-capture: 7\r\n";
    let fields = [
        ("WARC-Type", "warcinfo"),
        ("WARC-Record-ID", "<urn:uuid:0>"),
        ("Content-Type", "application/warc-fields"),
    ];
    let mut file = warc::record_head(&fields, &[body]);
    file.extend_from_slice(body);
    file.extend_from_slice(warc::TRAILER);
    let (good, damage) = read(&file);
    assert!(good.is_empty());
    assert!(damage.unwrap().problem.contains("use a newer promscope"));
}

/// A fresh path in the temporary directory, removed when dropped.
struct TempPath(std::path::PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "promscope-capture-{}-{name}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn read_file(path: &Path) -> (Vec<Exchange>, Option<Damage>) {
    read(&std::fs::read(path).unwrap())
}

#[test]
fn a_recording_appends_and_repairs_a_record_cut_short() {
    let all = exchanges();
    let file = TempPath::new("append");
    let recorder = Recorder::start(&file.0, RecordLimits::default()).unwrap();
    let handle = recorder.handle();
    handle.place().record(all[0].clone());
    handle.place().record(all[1].clone());
    let stats = recorder.finish().stats;
    assert_eq!(stats.recorded.load(Ordering::Relaxed), 2);
    handle.place().record(all[2].clone());
    assert_eq!(read_file(&file.0), (all[..2].to_vec(), None));

    // A crash in the middle of a record: half of it is on disk.
    let (partial, ends) = capture(&all[2..3]);
    let mut bytes = std::fs::read(&file.0).unwrap();
    let good_len = bytes.len();
    let info_len = capture(&[]).0.len();
    bytes.extend_from_slice(&partial[info_len..ends[0].0 - 10]);
    std::fs::write(&file.0, &bytes).unwrap();

    let recorder = Recorder::start(&file.0, RecordLimits::default()).unwrap();
    let repaired = recorder.repaired().cloned().unwrap();
    assert_eq!(repaired.offset as usize, good_len);
    recorder.handle().place().record(all[3].clone());
    recorder.finish();
    let expected = vec![all[0].clone(), all[1].clone(), all[3].clone()];
    assert_eq!(read_file(&file.0), (expected, None));
}

#[test]
fn a_recording_stops_before_its_size_limit() {
    let all = exchanges();
    let file = TempPath::new("limit");
    let limits = RecordLimits {
        max_file_bytes: Some(
            (warcinfo(&record_id(), &file.0).len() + capture(&all[..2]).0.len()
                - capture(&[]).0.len()
                + 10) as u64,
        ),
        ..RecordLimits::default()
    };
    let recorder = Recorder::start(&file.0, limits).unwrap();
    for e in &all {
        recorder.handle().place().record(e.clone());
    }
    let stats = recorder.finish().stats;
    assert_eq!(read_file(&file.0), (all[..2].to_vec(), None));
    let reason = stats.stop_reason().unwrap();
    assert!(reason.starts_with("--record-max-bytes"), "{reason}");
    assert_eq!(
        stats.not_recorded.load(Ordering::Relaxed),
        all.len() as u64 - 2
    );
    assert_eq!(
        stats.file_bytes.load(Ordering::Relaxed),
        std::fs::metadata(&file.0).unwrap().len()
    );
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_waiting() {
    let all = exchanges();
    let file = TempPath::new("queue");
    let limits = RecordLimits {
        queue_bytes: all[0].heap_bytes() - 1,
        ..RecordLimits::default()
    };
    let recorder = Recorder::start(&file.0, limits).unwrap();
    recorder.handle().place().record(all[0].clone());
    let stats = recorder.stats();
    recorder.finish();
    assert_eq!(stats.dropped.load(Ordering::Relaxed), 1);
    assert_eq!(read_file(&file.0), (vec![], None));
}

#[test]
fn recording_refuses_to_write_into_a_file_that_is_not_a_capture() {
    let file = TempPath::new("pcap");
    std::fs::write(&file.0, b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00").unwrap();
    let err = Recorder::start(&file.0, RecordLimits::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("not a capture (it looks like a pcap packet capture)"),
        "{err}"
    );
    assert_eq!(std::fs::read(&file.0).unwrap().len(), 8);
}
