//! Inside a request (Requests view, Enter): its facts, headers, answers and
//! decoded content with hostile strings at three sizes, the keys that move,
//! open a series and write the body, and a request whose body is no longer kept.

mod dashboard;

use std::sync::Arc;

use bytes::Bytes;
use dashboard::{HOSTILE_TEXT, T0, apply, hostile, info, screen};
use promscope::app::request_content::LineKind;
use promscope::app::{Action, App, OpenList, Tab};
use promscope::capture::Header;
use promscope::ingest::decode;
use promscope::ingest::model::{Batch, Outcome, Protocol, RawRequest};
use promscope::proto::rw2;
use promscope::store::Store;
use prost::Message;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// Symbols of [`hostile_request`]: the texts, a huge value, and names.
fn symbols() -> Vec<String> {
    let mut symbols: Vec<String> = ["", "__name__", "hostile_request_metric", "case", "trace_id"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    symbols.extend(HOSTILE_TEXT.iter().map(|s| s.to_string()));
    symbols.push(format!("huge_{}", "v".repeat(5000)));
    symbols
}

/// An RW 2.0 request of two series holding hostile texts, NaN and extreme
/// values, an exemplar and metadata; its symbols are referred to unevenly.
fn hostile_request() -> rw2::Request {
    let text = |i: usize| 5 + i as u32;
    let huge = 5 + HOSTILE_TEXT.len() as u32;
    let samples = [f64::NAN, 1e308, f64::NEG_INFINITY, -0.0]
        .iter()
        .enumerate()
        .map(|(i, &value)| rw2::Sample {
            value,
            timestamp: T0 - 2_000 + i as i64,
            start_timestamp: 0,
        })
        .collect();
    rw2::Request {
        symbols: symbols(),
        timeseries: vec![
            rw2::TimeSeries {
                labels_refs: vec![1, 2, 3, text(1)],
                samples,
                exemplars: vec![rw2::Exemplar {
                    labels_refs: vec![4, text(0)],
                    value: f64::NAN,
                    timestamp: T0 - 2_000,
                }],
                metadata: Some(rw2::Metadata {
                    r#type: rw2::metadata::MetricType::Gauge as i32,
                    help_ref: text(3),
                    unit_ref: text(4),
                }),
                ..Default::default()
            },
            rw2::TimeSeries {
                labels_refs: vec![1, 2, 3, huge],
                samples: vec![rw2::Sample {
                    value: 13.705352776068167,
                    timestamp: T0 - 1_000,
                    start_timestamp: 0,
                }],
                ..Default::default()
            },
        ],
    }
}

fn raw_request(body: Bytes) -> RawRequest {
    let header = |name: &str, value: &str| Header::new(name, value.to_owned());
    RawRequest {
        method: "POST".into(),
        target: format!("/api/v1/write?x={}", HOSTILE_TEXT[1]),
        headers: vec![
            header("host", "127.0.0.1:9201"),
            header(
                "content-type",
                "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            ),
            header("content-encoding", "snappy"),
            header("x-prometheus-remote-write-version", "2.0.0"),
            header("user-agent", HOSTILE_TEXT[1]),
            header("x-long", &"h".repeat(3000)),
            Header::new("x-binary", Bytes::from_static(b"\xff\xfe\x1b[31m")),
            header("authorization", "<redacted by promscope>"),
        ],
        body,
        body_complete: true,
    }
}

/// [`hostile`]'s dashboard after one more request, kept as it arrived.
fn with_request(store_bytes: Option<usize>) -> (App, Store, Bytes) {
    let (app, store) = hostile();
    let mut store = match store_bytes {
        Some(bytes) => store.keeping_request_bytes(bytes),
        None => store,
    };
    let body = ingest_request(&mut store, hostile_request().encode_to_vec());
    (app, store, body)
}

/// Adds the RW 2.0 request `encoded` to `store`, kept as it arrived
/// (compressed); returns its body.
fn ingest_request(store: &mut Store, encoded: Vec<u8>) -> Bytes {
    let body = Bytes::from(
        snap::raw::Encoder::new()
            .compress_vec(&encoded)
            .expect("compresses"),
    );
    let mut request = info(T0 - 100, Protocol::V2);
    request.compressed_bytes = body.len();
    request.decoded_bytes = encoded.len();
    request.raw = Some(Arc::new(raw_request(body.clone())));
    let data = decode::decode(Protocol::V2, encoded).expect("decodes");
    store.ingest(&Batch {
        info: request,
        outcome: Outcome::Accepted,
        data,
    });
    body
}

fn open(app: &mut App, store: &mut Store) {
    apply(app, store, &[Action::GoTab(Tab::Requests), Action::Enter]);
}

#[test]
fn an_open_request_with_hostile_content_at_three_sizes() {
    for (width, height) in SIZES {
        let (mut app, mut store, _) = with_request(None);
        open(&mut app, &mut store);
        assert_eq!(app.open_list(), OpenList::Request);
        let shown = screen(&app, &store, width, height);
        assert!(!shown.contains('\u{1b}'), "an escape reached the screen");
        insta::assert_snapshot!(format!("request_top_{width}x{height}"), shown);
        // Further down: the series, their items, and the symbols.
        let series = first_line(&app, |k| matches!(k, LineKind::Series(_)));
        apply(&mut app, &mut store, &[Action::Down(series)]);
        insta::assert_snapshot!(
            format!("request_series_{width}x{height}"),
            screen(&app, &store, width, height)
        );
        apply(&mut app, &mut store, &[Action::Bottom]);
        insta::assert_snapshot!(
            format!("request_symbols_{width}x{height}"),
            screen(&app, &store, width, height)
        );
    }
}

/// The index of the first line whose kind passes `kind`.
fn first_line(app: &App, kind: impl Fn(LineKind) -> bool) -> usize {
    let view = app.request.as_ref().expect("a request is open");
    view.lines
        .iter()
        .position(|l| kind(l.kind))
        .expect("such a line")
}

#[test]
fn the_symbol_table_counts_the_references_to_each_symbol() {
    let (mut app, mut store, _) = with_request(None);
    open(&mut app, &mut store);
    let view = app.request.as_ref().unwrap();
    let refs = |symbol: &str| {
        let mut quoted = String::new();
        promscope::text::promql::write_quoted(&mut quoted, symbol);
        view.lines
            .iter()
            .find(|l| {
                l.kind == LineKind::Item && l.name.starts_with('#') && l.text.ends_with(&quoted)
            })
            .map(|l| l.text.split_whitespace().next().unwrap().to_owned())
    };
    // __name__ and its value and "case" in both series; the exemplar's name once.
    assert_eq!(refs("__name__").as_deref(), Some("2"));
    assert_eq!(refs("hostile_request_metric").as_deref(), Some("2"));
    assert_eq!(refs("trace_id").as_deref(), Some("1"));
    assert_eq!(refs(HOSTILE_TEXT[2]).as_deref(), Some("0"));
    let table = view
        .lines
        .iter()
        .find(|l| l.text.starts_with("Symbols ("))
        .unwrap();
    assert_eq!(table.text, format!("Symbols ({})", symbols().len()));
}

#[test]
fn enter_on_a_series_opens_its_detail_and_back_closes_the_request() {
    let (mut app, mut store, _) = with_request(None);
    open(&mut app, &mut store);
    // Enter on a line that is not a series does nothing.
    apply(&mut app, &mut store, &[Action::Enter]);
    assert_eq!(app.open_list(), OpenList::Request);
    let series = first_line(&app, |k| matches!(k, LineKind::Series(_)));
    apply(&mut app, &mut store, &[Action::Down(series), Action::Enter]);
    assert_eq!(app.open_list(), OpenList::Samples);
    let id = app.current_detail().expect("a series is open");
    let opened = store.series_text(&store.series(id).unwrap().labels);
    assert!(opened.contains("hostile_request_metric"), "{opened}");
    assert!(opened.contains("case="), "{opened}");
    // Back in the Requests tab the request is still open; Back closes it.
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    assert_eq!(app.open_list(), OpenList::Request);
    apply(&mut app, &mut store, &[Action::Back]);
    assert_eq!(app.open_list(), OpenList::Requests);
}

#[test]
fn the_write_keys_give_the_body_as_received_and_decoded_as_json_lines() {
    let (mut app, mut store, body) = with_request(None);
    open(&mut app, &mut store);
    apply(
        &mut app,
        &mut store,
        &[Action::WriteBody { decoded: false }],
    );
    let raw = app.take_body_to_write().expect("a body to write");
    assert_eq!(raw.bytes, body.to_vec());
    assert!(raw.name.starts_with("promscope-request-") && raw.name.ends_with(".bin"));
    assert_eq!(app.take_body_to_write(), None, "asked once, written once");
    apply(&mut app, &mut store, &[Action::WriteBody { decoded: true }]);
    let json = app.take_body_to_write().expect("a body to write");
    assert!(json.name.ends_with(".json"), "{}", json.name);
    let text = String::from_utf8(json.bytes).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let samples = records.iter().filter(|r| r["kind"] == "sample").count();
    assert_eq!(samples, 5, "{text}");
    assert!(records.iter().any(|r| r["kind"] == "exemplar"), "{text}");
    // What the loop says about the file is shown until the next key.
    app.body_written("wrote ./promscope-request-9.json (1.2 KB)".into());
    let shown = screen(&app, &store, 120, 40);
    assert!(
        shown.contains("wrote ./promscope-request-9.json"),
        "{shown}"
    );
    apply(&mut app, &mut store, &[Action::Down(1)]);
    assert!(!screen(&app, &store, 120, 40).contains("wrote ./"));
}

#[test]
fn a_request_whose_body_is_no_longer_kept_says_so_and_writes_nothing() {
    // A budget smaller than the request: its row is there, its body is not.
    let (mut app, mut store, _) = with_request(Some(100));
    open(&mut app, &mut store);
    let view = app.request.as_ref().unwrap();
    assert!(
        view.lines.iter().any(|l| l.text.contains("no longer kept")),
        "{:?}",
        view.lines
    );
    assert!(
        !view
            .lines
            .iter()
            .any(|l| matches!(l.kind, LineKind::Series(_)))
    );
    apply(
        &mut app,
        &mut store,
        &[Action::WriteBody { decoded: false }],
    );
    assert_eq!(app.take_body_to_write(), None);
    let shown = screen(&app, &store, 120, 40);
    assert!(shown.contains("no longer kept: nothing written"), "{shown}");
}

#[test]
fn the_request_view_renders_at_every_size_without_panicking() {
    let (mut app, mut store, _) = with_request(None);
    open(&mut app, &mut store);
    for width in (1..=100).step_by(7) {
        for height in (1..=40).step_by(3) {
            screen(&app, &store, width, height);
        }
    }
}

#[test]
fn w_and_shift_w_are_the_write_keys() {
    use promscope::app::keymap::{Mode, action_for};
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let key = |c: char, modifiers| Event::Key(KeyEvent::new(KeyCode::Char(c), modifiers));
    assert_eq!(
        action_for(&key('w', KeyModifiers::NONE), Mode::Normal),
        Some(Action::WriteBody { decoded: false })
    );
    assert_eq!(
        action_for(&key('W', KeyModifiers::SHIFT), Mode::Normal),
        Some(Action::WriteBody { decoded: true })
    );
    // While typing a filter, w is a letter.
    assert_eq!(
        action_for(&key('w', KeyModifiers::NONE), Mode::Filter),
        Some(Action::FilterType('w'))
    );
}

/// A request accepted under a `--max-body-bytes` above the default (32 MiB)
/// opens as it was accepted: decoded within the receiver's limits, not the
/// defaults (it showed "decoded body ... over the limit" and no content).
#[test]
fn a_request_larger_than_the_default_limits_opens_within_the_receivers() {
    let (mut app, mut store) = hostile();
    let mut encoded = hostile_request().encode_to_vec();
    // An unknown field (99, bytes) takes the decoded body past 32 MiB.
    let padding = 33 << 20;
    prost::encoding::encode_varint((99 << 3) | 2, &mut encoded);
    prost::encoding::encode_varint(padding as u64, &mut encoded);
    encoded.resize(encoded.len() + padding, 0);
    ingest_request(&mut store, encoded);
    // As `--max-body-bytes 64MiB` sets it.
    app.body_limits.max_decoded_bytes = 64 << 20;
    open(&mut app, &mut store);
    let view = app.request.as_ref().expect("a request is open");
    let series = view
        .lines
        .iter()
        .filter(|l| matches!(l.kind, LineKind::Series(_)))
        .count();
    assert_eq!(series, 2, "{:?}", &view.lines[..view.lines.len().min(40)]);
    assert!(
        view.lines.iter().any(|l| l.text.starts_with("Symbols (")),
        "the symbol table is decoded within the same limit"
    );
}
