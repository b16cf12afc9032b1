//! What one request prints: written as it is formatted (bounded memory), and
//! stopped at its limit with what was left out said.

use super::*;

/// Peak resident memory of process `pid` (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib << 10
}

#[test]
fn what_one_request_prints_is_written_as_it_is_formatted_not_held_whole() {
    // One series with a 32 KiB label and 2,000 samples: a body of 70 KB (a
    // few KB of snappy) prints 64 MiB of text, a line per sample. Held whole
    // before writing, twice that took 225 MiB of RSS; written as it is
    // formatted, 35 MiB (what promscope takes idle, in a debug build).
    const SAMPLES: usize = 2_000;
    for format in ["text", "json"] {
        let mut p = Headless::start(format);
        let value = "v".repeat(32 << 10);
        let series = rw1::TimeSeries {
            labels: vec![label("__name__", "wide"), label("blob", &value)],
            samples: (0..SAMPLES)
                .map(|i| rw1::Sample {
                    value: i as f64,
                    timestamp: 1_732_000_000_000 + i as i64,
                })
                .collect(),
            ..Default::default()
        };
        let request = rw1::WriteRequest {
            timeseries: vec![series],
            metadata: vec![],
        };
        assert_eq!(p.post(RW1_HEADERS, snappy(&request.encode_to_vec())), 204);
        let mut stdout = p.stdout.take().unwrap();
        let (mut lines, mut line) = (0, Vec::new());
        while lines < SAMPLES {
            line.clear();
            assert!(stdout.read_until(b'\n', &mut line).unwrap() > value.len());
            lines += 1;
        }
        let peak = peak_rss(p.child.id());
        assert!(peak < 64 << 20, "{format}: peak RSS {} MiB", peak >> 20);
        let (code, _) = p.terminate();
        assert_eq!(code, Some(0));
    }
}

/// A 32 MiB RW 1.0 body: one series with a 16 MiB label and a million samples.
/// Printed whole, each sample's line repeats the label: 16 TiB of output.
fn label_times_a_million() -> (Vec<u8>, usize) {
    const SAMPLES: usize = 1_000_000;
    let blob = "v".repeat(16 << 20);
    let request = rw1::WriteRequest {
        timeseries: vec![rw1::TimeSeries {
            labels: vec![label("__name__", "wide"), label("blob", &blob)],
            samples: (0..SAMPLES)
                .map(|i| rw1::Sample {
                    value: 1.0,
                    timestamp: 1 + i as i64,
                })
                .collect(),
            ..Default::default()
        }],
        metadata: vec![],
    };
    let raw = request.encode_to_vec();
    assert!(raw.len() <= 32 << 20, "{} bytes", raw.len());
    (snappy(&raw), SAMPLES)
}

#[test]
fn what_one_request_prints_stops_at_its_limit_and_says_what_was_left_out() {
    // Before the limit, this request kept the output busy for hours (a
    // 16 MiB line per sample) while every other sender got 503s. Released,
    // two such requests print in 2-3 s; this debug build takes ~40 s for one.
    // (The text format's line: src/output's unit tests.)
    let (hostile, samples) = label_times_a_million();
    let mut p = Headless::start("json");
    assert_eq!(p.post(RW1_HEADERS, hostile), 204);
    // A sender after it is taken, and printed right after it.
    assert_eq!(p.post(RW1_HEADERS, rw1_body(&[7.0])), 204);
    let mut stdout = p.stdout.take().unwrap();
    let (mut printed_samples, mut printed_bytes, mut line) = (0, 0usize, Vec::new());
    let omitted = loop {
        line.clear();
        assert!(stdout.read_until(b'\n', &mut line).unwrap() > 0, "EOF");
        printed_bytes += line.len();
        assert!(printed_bytes < 1 << 30, "a GiB printed and no end in sight");
        let text = String::from_utf8_lossy(&line);
        if text.starts_with(r#"{"kind":"problem""#) {
            continue; // the label's length: one record
        }
        if text.starts_with(r#"{"kind":"sample""#) {
            // Whole lines only, each with the whole label.
            assert!(line.len() > 16 << 20);
            assert!(
                text.starts_with(r#"{"kind":"sample","labels":{"__name__":"wide","blob":"vvvv"#)
            );
            assert!(text.ends_with("\"value\":\"1\"}\n"));
            printed_samples += 1;
            continue;
        }
        break serde_json::from_str::<Value>(&text).expect(&text);
    };
    assert!(printed_samples >= 1);
    assert_eq!(omitted["kind"], "omitted", "{omitted}");
    assert_eq!(omitted["reason"], "output_limit");
    assert_eq!(
        omitted["samples"],
        (samples - printed_samples) as u64,
        "{omitted}"
    );
    assert_eq!(omitted["series"], 1);
    assert_eq!(omitted["histograms"], 0);
    assert_eq!(omitted["problems"], 0);
    assert_eq!(omitted["user_agent"], "test-sender/1.0");
    let limit = omitted["limit_bytes"].as_u64().unwrap() as usize;
    assert!((64 << 20..=512 << 20).contains(&limit), "{limit}");
    // The limit is passed by one record at most.
    assert!(
        printed_bytes <= limit + (17 << 20),
        "{printed_bytes} of {limit}"
    );
    line.clear();
    stdout.read_until(b'\n', &mut line).unwrap();
    let next: Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(next["labels"], json!({"__name__": "up", "job": "test"}));
    assert_eq!(next["value"], "7");
    let (code, stderr) = p.terminate();
    assert_eq!(code, Some(0));
    let left = samples - printed_samples;
    assert!(
        stderr.contains(&format!(
            "  output      1 request printed up to its output limit: {left} records not printed"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("received    1000001 samples"), "{stderr}");
}
