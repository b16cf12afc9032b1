//! Inside a request (Requests view, Enter): its facts, headers, answers and
//! decoded content with hostile strings at three sizes, the keys that move,
//! open a series and write the body, and a request whose body is no longer kept.

mod dashboard;

use dashboard::hostile::{HOSTILE_TEXT, hostile};
use dashboard::request::{hostile_request, ingest_request, symbols, with_request};
use dashboard::{SIZES, apply, screen};
use promscope::app::request_content::LineKind;
use promscope::app::{Action, App, OpenList, Tab};
use promscope::store::Store;
use prost::Message;

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
    // The series opens in the Requests tab, over the request: the Metrics tab
    // is left as it was, and Back returns to the request, then to the requests.
    assert_eq!(app.tab, Tab::Requests);
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Metrics)]);
    assert_eq!(app.open_list(), OpenList::Metrics);
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    assert_eq!(app.current_detail(), Some(id));
    apply(&mut app, &mut store, &[Action::Back]);
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
    app.request_limits.max_decoded_bytes = 64 << 20;
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

/// An opened request is checked with the receiver's rule switches: the series
/// a rule at `reject` refused live is shown refused, not among those written.
#[test]
fn an_opened_request_is_checked_with_the_receivers_rules() {
    let series_heading = |app: &App| {
        let view = app.request.as_ref().expect("a request is open");
        let heading = view.lines.iter().find(|l| l.text.starts_with("Series ("));
        let refusal = view
            .lines
            .iter()
            .find(|l| l.kind == LineKind::Note && l.text.contains("label-value-too-long"));
        (
            heading.map(|l| l.text.clone()),
            refusal.map(|l| l.text.clone()),
        )
    };
    let (mut app, mut store, _) = with_request(None);
    open(&mut app, &mut store);
    assert_eq!(series_heading(&app), (Some("Series (2)".into()), None));
    let (mut app, mut store, _) = with_request(None);
    // As `--rule label-value-too-long=reject` sets it: the huge value (5005 bytes).
    app.request_limits
        .rules
        .set_rule("label-value-too-long", "reject")
        .expect("a rule");
    open(&mut app, &mut store);
    let (heading, refusal) = series_heading(&app);
    assert_eq!(heading.as_deref(), Some("Series (1)"));
    let refusal = refusal.expect("the refusal is noted");
    assert!(refusal.contains("huge_vvv"), "{refusal}");
}

/// An RW 1.0 request's metadata (Prometheus sends it in requests of its own)
/// is a section of its own: listed straight after the headers, indented as
/// a series' items, `metadata  up gauge "…"` read as one of the headers.
#[test]
fn rw1_metadata_has_a_section_of_its_own() {
    use promscope::capture::Header;
    use promscope::ingest::decode;
    use promscope::ingest::model::{Batch, Outcome, Protocol, RawRequest};
    use promscope::proto::rw1;
    let (mut app, mut store) = hostile();
    let request = rw1::WriteRequest {
        timeseries: Vec::new(),
        metadata: vec![rw1::MetricMetadata {
            r#type: rw1::metric_metadata::MetricType::Gauge as i32,
            metric_family_name: "up".into(),
            help: "Whether the target is up.".into(),
            unit: String::new(),
        }],
    };
    let encoded = request.encode_to_vec();
    let body = bytes::Bytes::from(snap::raw::Encoder::new().compress_vec(&encoded).unwrap());
    let header = |name: &str, value: &str| Header::new(name, value.to_owned());
    let mut info = dashboard::info(dashboard::T0 - 100, Protocol::V1);
    info.raw = Some(std::sync::Arc::new(RawRequest {
        method: "POST".into(),
        target: "/api/v1/write".into(),
        headers: vec![
            header("content-type", "application/x-protobuf"),
            header("content-encoding", "snappy"),
            header("x-prometheus-remote-write-version", "0.1.0"),
        ],
        body,
        body_complete: true,
    }));
    let data = decode::decode(Protocol::V1, encoded).expect("decodes");
    store.ingest(&Batch {
        info,
        outcome: Outcome::Accepted,
        data,
    });
    open(&mut app, &mut store);
    let view = app.request.as_ref().unwrap();
    let metadata = view
        .lines
        .iter()
        .position(|l| l.name == "metadata")
        .expect("the metadata line");
    let section = view.lines[..metadata]
        .iter()
        .rev()
        .find(|l| l.kind == LineKind::Section)
        .expect("a section above it");
    assert_eq!(section.text, "Metadata (1)", "{:#?}", view.lines);
}

/// The filter narrows an opened request's series: their labels with the
/// request's fields (`status`, `path`, `__tenant__`...), so the filter the
/// request was found by keeps them all.
#[test]
fn the_filter_narrows_an_opened_requests_series() {
    use promscope::proto::rw2;
    let (mut app, mut store) = hostile();
    let series = |labels_refs: Vec<u32>| rw2::TimeSeries {
        labels_refs,
        samples: vec![rw2::Sample {
            value: 1.0,
            timestamp: dashboard::T0 - 1_000,
            start_timestamp: 0,
        }],
        ..Default::default()
    };
    let request = rw2::Request {
        symbols: ["", "__name__", "up", "job", "a", "b", "down"]
            .map(String::from)
            .to_vec(),
        timeseries: vec![
            series(vec![1, 2, 3, 4]),
            series(vec![1, 2, 3, 5]),
            series(vec![1, 6, 3, 5]),
        ],
    };
    ingest_request(&mut store, request.encode_to_vec());
    open(&mut app, &mut store);
    let shown = |app: &App| {
        let view = app.request.as_ref().expect("a request is open");
        let texts = |kind: fn(LineKind) -> bool| -> Vec<String> {
            let lines = view.lines.iter().filter(|l| kind(l.kind));
            lines.map(|l| l.text.clone()).collect()
        };
        let series = texts(|k| matches!(k, LineKind::Series(_)));
        let title = texts(|k| k == LineKind::Section)
            .into_iter()
            .find(|t| t.starts_with("Series"));
        (
            title.expect("a series section"),
            series,
            texts(|k| k == LineKind::Note),
        )
    };
    let (title, series, _) = shown(&app);
    assert_eq!((title.as_str(), series.len()), ("Series (3)", 3));
    let filter = |app: &mut App, store: &mut Store, text: &str| {
        apply(
            app,
            store,
            &[
                Action::FilterEdit,
                Action::FilterSet(text.into()),
                Action::FilterAccept,
            ],
        );
    };
    // Typed inside the open request, a label narrows its series.
    filter(&mut app, &mut store, r#"{job="b"}"#);
    let (title, series, _) = shown(&app);
    assert_eq!(title, "Series (2 of 3 match the filter)");
    assert_eq!(series, [r#"up{job="b"}"#, r#"down{job="b"}"#]);
    // The request's own fields keep them all; with a label, they narrow.
    filter(&mut app, &mut store, r#"{status="204"}"#);
    assert_eq!(shown(&app).0, "Series (3)");
    filter(&mut app, &mut store, r#"{status="204", job="a"}"#);
    assert_eq!(shown(&app).1, [r#"up{job="a"}"#]);
    // A regex searches the series' text.
    filter(&mut app, &mut store, "down");
    assert_eq!(shown(&app).1, [r#"down{job="b"}"#]);
    filter(&mut app, &mut store, "!down");
    assert_eq!(shown(&app).1.len(), 2);
    // None passing says so, and how to change it.
    filter(&mut app, &mut store, "no_such_metric");
    let (title, series, notes) = shown(&app);
    assert_eq!(
        (title.as_str(), series.len()),
        ("Series (0 of 3 match the filter)", 0)
    );
    let said = "None of its series match the filter no_such_metric. Press / to change it.";
    assert!(notes.iter().any(|n| n == said), "{notes:?}");
    filter(&mut app, &mut store, "");
    assert_eq!(shown(&app).1.len(), 3);
    // Narrowed, Enter on a series opens that one.
    filter(&mut app, &mut store, r#"{job="b"}"#);
    let view = app.request.as_ref().expect("a request is open");
    let down = view.lines.iter().position(|l| l.text == r#"down{job="b"}"#);
    let down = down.expect("its line");
    apply(
        &mut app,
        &mut store,
        &[Action::Top, Action::Down(down), Action::Enter],
    );
    let id = app.current_detail().expect("a series is open");
    let opened = store.series_text(&store.series(id).unwrap().labels);
    assert_eq!(opened, r#"down{job="b"}"#);
    // On one of its samples too.
    apply(&mut app, &mut store, &[Action::Back]);
    assert_eq!(app.open_list(), OpenList::Request);
    let sample = app.request.as_ref().map(|view| &view.lines[down + 1]);
    assert_eq!(
        sample.map(|l| (l.kind, l.name.as_str())),
        Some((LineKind::Item, "sample"))
    );
    apply(
        &mut app,
        &mut store,
        &[Action::Top, Action::Down(down + 1), Action::Enter],
    );
    assert_eq!(app.current_detail(), Some(id));
}
