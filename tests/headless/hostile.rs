//! Sender text that would control a terminal (escape sequences, C1 controls,
//! bidi overrides) in every string a sender controls, the path and User-Agent
//! included: escaped in text and JSON output, nothing lost.

use super::*;

/// Escape sequences that retitle the terminal (OSC 0, OSC 2), clear it (CSI 2J,
/// also as the one-byte C1 CSI), write the clipboard (OSC 52), or reverse the
/// text (U+202E).
const HOSTILE: &[&str] = &[
    "\x1b]0;owned\x07",
    "\x1b]2;owned\x1b\\",
    "\x1b[2J\x1b[H",
    "\x1b]52;c;b3duZWQ=\x07",
    "\u{9b}2J",
    "txt.\u{202e}exe",
];

/// An RW 2.0 request carrying [`HOSTILE`] in every string a sender controls:
/// metric name, label names and values, help, unit and exemplar labels.
fn hostile_request() -> Vec<u8> {
    use promscope::proto::rw2;
    let mut symbols = vec![String::new(), "__name__".into()];
    let mut sym = |s: String| {
        symbols.push(s);
        symbols.len() as u32 - 1
    };
    let mut labels_refs = vec![1, sym(format!("evil{}", HOSTILE[4]))];
    for (i, payload) in HOSTILE.iter().enumerate() {
        labels_refs.extend([sym(format!("l{i}{payload}")), sym(payload.to_string())]);
    }
    let exemplar = vec![sym("trace_id".into()), sym(HOSTILE[3].into())];
    let metadata = rw2::Metadata {
        r#type: rw2::metadata::MetricType::Counter as i32,
        help_ref: sym(format!("help {}", HOSTILE[0])),
        unit_ref: sym(HOSTILE[2].into()),
    };
    let request = rw2::Request {
        symbols,
        timeseries: vec![rw2::TimeSeries {
            labels_refs,
            samples: vec![rw2::Sample {
                value: 1.0,
                timestamp: 1_732_000_000_000,
                start_timestamp: 0,
            }],
            exemplars: vec![rw2::Exemplar {
                labels_refs: exemplar,
                value: 1.0,
                timestamp: 1_732_000_000_000,
            }],
            metadata: Some(metadata),
            ..Default::default()
        }],
    };
    snappy(&request.encode_to_vec())
}

/// POSTs over a plain TCP connection, so that the path and User-Agent can hold
/// bytes an HTTP client would refuse to send; returns the status code.
fn raw_post(url: &str, path: &str, user_agent: &str, body: &[u8]) -> u16 {
    use std::io::Write;
    let addr = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {user_agent}\r\nContent-Encoding: snappy\r\n\
         Content-Type: {RW2_CONTENT_TYPE}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    conn.write_all(&request).unwrap();
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

/// Characters that change a terminal when written to it raw: controls (but the
/// line feed ending each record), C1 controls, and the bidi override.
fn has_terminal_control(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
}

/// The path carries C1 CSI and U+202E as raw UTF-8 bytes (HTTP allows them).
const HOSTILE_PATH: &str = "/api/v1/write\u{9b}2J\u{202e}";
const HOSTILE_AGENT: &str = "evil\u{9b}2J\u{202e}agent";

/// Sends the hostile request and a rejected one, stops the binary, and returns
/// (stdout, stderr).
fn run_hostile(format: &str) -> (String, String) {
    let mut p = Headless::start(format);
    assert_eq!(
        raw_post(&p.url, HOSTILE_PATH, HOSTILE_AGENT, &hostile_request()),
        204
    );
    // Not snappy: rejected, and the rejection names the path.
    assert_eq!(
        raw_post(&p.url, HOSTILE_PATH, HOSTILE_AGENT, b"\x1b[2J"),
        400
    );
    let mut stdout = String::new();
    let mut out = p.stdout.take().unwrap();
    let (code, stderr) = {
        // Records are flushed when the queue is empty; wait for the rejection's.
        let mut line = String::new();
        while out.read_line(&mut line).unwrap() > 0 {
            stdout.push_str(&line);
            if line.contains("REJECTED") || line.contains(r#""kind":"rejected""#) {
                break;
            }
            line.clear();
        }
        p.terminate()
    };
    out.read_to_string(&mut stdout).unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    (stdout, stderr)
}

#[test]
fn text_output_escapes_what_would_control_the_terminal() {
    let (stdout, stderr) = run_hostile("text");
    assert!(!has_terminal_control(&stdout), "{stdout:?}");
    assert!(!has_terminal_control(&stderr), "{stderr:?}");
    // Escaped visibly, in PromQL's string syntax.
    for shown in [
        r#"l0\x1b]0;owned\x07"="\x1b]0;owned\x07""#,
        r#"="\x1b]2;owned\x1b\\""#,
        r#"="\x1b[2J\x1b[H""#,
        r#"="txt.\u202eexe""#,
        r#"{"evil\u009b2J""#,
        r#"{trace_id="\x1b]52;c;b3duZWQ=\x07"}"#,
        r#"metadata  evil\u009b2J counter unit=\x1b[2J\x1b[H "help \x1b]0;owned\x07""#,
        r#"/api/v1/write\u009b2J\u202e: "#,
    ] {
        assert!(stdout.contains(shown), "{shown} not in:\n{stdout}");
    }
    assert!(
        stderr.contains(r"evil\u009b2J\u202eagent @ 127.0.0.1"),
        "{stderr}"
    );
}

#[test]
fn json_output_escapes_what_would_control_the_terminal_and_loses_nothing() {
    let (stdout, stderr) = run_hostile("json");
    assert!(!has_terminal_control(&stdout), "{stdout:?}");
    assert!(!has_terminal_control(&stderr), "{stderr:?}");
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let kind = |k: &str| records.iter().find(|r| r["kind"] == k).unwrap();
    let metadata = kind("metadata");
    assert_eq!(metadata["metric"], format!("evil{}", HOSTILE[4]));
    assert_eq!(metadata["help"], format!("help {}", HOSTILE[0]));
    assert_eq!(metadata["unit"], HOSTILE[2]);
    let sample = kind("sample");
    for (i, payload) in HOSTILE.iter().enumerate() {
        assert_eq!(sample["labels"][format!("l{i}{payload}")], *payload);
    }
    assert_eq!(kind("exemplar")["exemplar_labels"]["trace_id"], HOSTILE[3]);
    let rejected = kind("rejected");
    assert_eq!(rejected["path"], HOSTILE_PATH);
    assert_eq!(rejected["user_agent"], HOSTILE_AGENT);
    assert_eq!(rejected["protocol"], "RW2");
    assert!(stdout.contains(r#""path":"/api/v1/write\u009b2J\u202e""#));
}
