//! `promscope replay`: a capture recorded by the real binary replays headless
//! exactly as it printed live, re-sends to a second promscope the same data,
//! stops at damage after the good requests, and names files that are not captures.

mod common;

use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Output, Stdio};

use common::temp::TempFile;
use common::*;

/// `promscope --no-tui --format json` on an ephemeral port, with extra args.
struct Live {
    child: Child,
    url: String,
    stderr: BufReader<ChildStderr>,
}

impl Live {
    fn start(extra: &[&std::ffi::OsStr]) -> Self {
        let base = ["--no-tui", "--format", "json", "--listen", "127.0.0.1:0"];
        let args: Vec<&std::ffi::OsStr> = base
            .iter()
            .map(|a| a.as_ref())
            .chain(extra.iter().copied())
            .collect();
        let started = binary::start_promscope(&args, Stdio::piped());
        Live {
            url: started.url,
            child: started.child,
            stderr: started.stderr,
        }
    }

    /// Stops it with SIGTERM; its stdout and stderr.
    fn stop(self) -> (String, String) {
        let stderr = binary::read_in_background(self.stderr);
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = self.child.wait_with_output().unwrap();
        assert!(output.status.success());
        (
            String::from_utf8(output.stdout).unwrap(),
            stderr.join().unwrap(),
        )
    }
}

fn replay(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promscope"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

/// Sends a mix of requests: RW 1.0, RW 2.0, one without Content-Encoding
/// (accepted with a warning), one gzip (refused).
fn send_mix(url: &str) {
    let rw1 = [
        ("content-encoding", "snappy"),
        ("user-agent", "replay-test"),
    ];
    let rw2 = [
        ("content-encoding", "snappy"),
        ("content-type", RW2_CONTENT_TYPE),
    ];
    assert_eq!(post_blocking(url, &rw1, rw1_body(&[1.0, 2.5])), 204);
    assert_eq!(post_blocking(url, &rw2, rw2_body()), 204);
    assert_eq!(post_blocking(url, &[], rw1_body(&[3.0])), 204);
    assert_eq!(
        post_blocking(url, &[("content-encoding", "gzip")], rw1_body(&[4.0])),
        415
    );
    assert_eq!(post_blocking(url, &rw1, rw1_body(&[f64::NAN, 5.0])), 204);
}

fn record(file: &Path) -> String {
    let live = Live::start(&[os("--record"), file.as_os_str()]);
    send_mix(&live.url);
    let (stdout, stderr) = live.stop();
    assert!(stderr.contains("recorded    5 requests"), "{stderr}");
    stdout
}

#[test]
fn a_capture_replays_headless_exactly_as_it_printed_live() {
    let file = TempFile::new("exact.warc");
    let live = record(&file.0);
    assert!(live.lines().count() > 10);
    let replayed = replay(&[
        file.0.as_os_str(),
        os("--no-tui"),
        os("--format"),
        os("json"),
    ]);
    assert!(replayed.status.success());
    assert_eq!(String::from_utf8(replayed.stdout).unwrap(), live);
    let summary = String::from_utf8(replayed.stderr).unwrap();
    assert!(summary.contains("4 accepted, 1 rejected"), "{summary}");
    // A --config file's no-tui and format switch replay as the flags do.
    let config = TempFile::new("headless.yml");
    std::fs::write(&config.0, "no-tui: true\nformat: json\n").unwrap();
    let configured = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .arg("--config")
        .arg(&config.0)
        .arg("replay")
        .arg(&file.0)
        .output()
        .unwrap();
    assert!(configured.status.success(), "{configured:?}");
    assert_eq!(String::from_utf8(configured.stdout).unwrap(), live);
}

/// The records of a JSON output that say what was written (not who sent it).
fn data_records(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.starts_with(r#"{"kind":"sample""#) || l.starts_with(r#"{"kind":"metadata""#))
        .map(str::to_owned)
        .collect()
}

#[test]
fn replay_to_resends_the_same_data_to_another_receiver() {
    let file = TempFile::new("resend.warc");
    let live = record(&file.0);
    let second = Live::start(&[]);
    let resent = replay(&[
        file.0.as_os_str(),
        os("--to"),
        os(&second.url),
        os("--speed"),
        os("max"),
    ]);
    let report = String::from_utf8(resent.stderr).unwrap();
    assert!(resent.status.success(), "{report}");
    // The gzip request was refused on its headers: its body was not recorded.
    assert!(report.contains("sent 4 requests"), "{report}");
    assert!(report.contains("1 requests not re-sent"), "{report}");
    let (output, _) = second.stop();
    assert_eq!(data_records(&output), data_records(&live));
}

#[test]
fn a_damaged_capture_replays_what_comes_before_the_damage_and_says_where() {
    let file = TempFile::new("damaged.warc");
    record(&file.0);
    let mut bytes = std::fs::read(&file.0).unwrap();
    // Cut inside the body of the last request.
    let last = bytes
        .windows(b"WARC-Type: request".len())
        .rposition(|w| w == b"WARC-Type: request")
        .unwrap();
    bytes.truncate(last + 400);
    std::fs::write(&file.0, &bytes).unwrap();
    let replayed = replay(&[
        file.0.as_os_str(),
        os("--no-tui"),
        os("--format"),
        os("json"),
    ]);
    assert!(!replayed.status.success());
    let stderr = String::from_utf8(replayed.stderr).unwrap();
    assert!(stderr.contains("3 accepted, 1 rejected"), "{stderr}");
    assert!(stderr.contains("stopped at byte"), "{stderr}");
    assert!(stderr.contains("the file ends inside"), "{stderr}");
    assert!(
        stderr.contains("the 4 requests before it were replayed"),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_named_for_what_it_looks_like() {
    let file = TempFile::new("output.json");
    std::fs::write(&file.0, "{\"kind\":\"sample\"}\n").unwrap();
    let replayed = replay(&[file.0.as_os_str(), os("--no-tui")]);
    assert!(!replayed.status.success());
    let mut stderr = String::new();
    replayed
        .stderr
        .as_slice()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("is not a capture: it looks like JSON"),
        "{stderr}"
    );
}

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

/// The rules of the problem records of a JSON output, each once.
fn problem_rules(output: &[u8]) -> std::collections::BTreeSet<String> {
    String::from_utf8_lossy(output)
        .lines()
        .filter(|l| l.starts_with(r#"{"kind":"problem""#))
        .map(|l| {
            let record: serde_json::Value = serde_json::from_str(l).expect(l);
            record["rule"].as_str().expect("a rule id").to_owned()
        })
        .collect()
}

#[test]
fn replay_and_check_switch_rules_and_limits_as_live_mode_does() {
    let file = TempFile::new("rules.warc");
    record(&file.0);
    let capture = file.0.to_str().unwrap();
    let json = ["--no-tui", "--format", "json"];
    let run = |before: &[&str], after: &[&str]| -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_promscope"))
            .args(before)
            .args(["replay", capture])
            .args(after)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out
    };
    // The mix sends `up` back in time: out-of-order fires; two labels are within 30.
    let plain = problem_rules(&run(&[], &json).stdout);
    assert!(plain.contains("out-of-order"), "{plain:?}");
    assert!(!plain.contains("too-many-labels"), "{plain:?}");
    // Switched off before `replay` or after it; a limit at its new threshold.
    for (before, after) in [
        (&["--rule", "out-of-order=off"][..], &[][..]),
        (&[], &["--rule", "out-of-order=off"][..]),
    ] {
        let rules = problem_rules(&run(before, &[&json[..], after].concat()).stdout);
        assert!(
            !rules.contains("out-of-order"),
            "{before:?} {after:?}: {rules:?}"
        );
        assert!(rules.contains("duplicate-timestamp"), "{rules:?}");
    }
    let limited = problem_rules(
        &run(
            &[],
            &[&json[..], &["--limit", "too-many-labels=1"]].concat(),
        )
        .stdout,
    );
    assert!(limited.contains("too-many-labels"), "{limited:?}");
    let at_two = problem_rules(&run(&["--limit", "too-many-labels=2"], &json).stdout);
    assert!(!at_two.contains("too-many-labels"), "{at_two:?}");
    // A flag after `replay` is applied after one before it.
    let both = run(
        &["--limit", "too-many-labels=1"],
        &[&json[..], &["--rule", "too-many-labels=off"]].concat(),
    );
    assert!(!problem_rules(&both.stdout).contains("too-many-labels"));
    // A --config file's rules and limits, before or after `replay`, and for `check`.
    let config = TempFile::new("rules.yml");
    std::fs::write(
        &config.0,
        "rules:\n  out-of-order: off\nlimits:\n  too-many-labels: 1\n",
    )
    .unwrap();
    let config = config.0.to_str().unwrap().to_owned();
    for (before, after) in [
        (vec!["--config", config.as_str()], json.to_vec()),
        (vec![], [&json[..], &["--config", config.as_str()]].concat()),
    ] {
        let rules = problem_rules(&run(&before, &after).stdout);
        assert!(rules.contains("too-many-labels"), "{rules:?}");
        assert!(!rules.contains("out-of-order"), "{rules:?}");
    }
    let checked = Command::new(env!("CARGO_BIN_EXE_promscope"))
        .args(["check", capture, "--format", "json", "--config", &config])
        .output()
        .unwrap();
    let report = String::from_utf8(checked.stdout).unwrap();
    assert!(report.contains("\"too-many-labels\""), "{report}");
    assert!(!report.contains("\"out-of-order\""), "{report}");
    assert_eq!(
        checked.status.code(),
        Some(1),
        "too-many-labels is an error"
    );
}
