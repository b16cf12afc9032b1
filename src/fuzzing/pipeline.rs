//! One run of promscope without a socket or a terminal: request bodies decoded
//! as the receiver decodes them, recorded as the summary records them, printed
//! as headless mode prints them, fed to a dashboard, and its views drawn into a
//! [`TestBackend`] at the sizes of [`SIZES`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::checks;
use crate::app::{Action, App, Tab};
use crate::ingest::decode;
use crate::ingest::model::{Batch, Outcome, Protocol, RejectReason, RequestInfo, WriteData};
use crate::output::{self, Format, MetadataDedup};
use crate::store::{Store, StoreLimits};
use crate::summary::RunSummary;
use crate::text::promql;

/// When the last request arrives; the ones before it came [`INTERVAL_MS`] apart.
const T0: i64 = 1_732_000_000_000;
/// Time between requests: a usual scrape and send interval.
const INTERVAL_MS: i64 = 5_000;

/// Terminal sizes views are drawn at: the usual one, then the smallest, a
/// small one and a large one. Drawing is most of a run's time, so each view is
/// drawn at the usual size and at one of the others, in turn.
const SIZES: [(u16, u16); 4] = [(80, 24), (1, 1), (40, 12), (200, 50)];

/// Which views a run draws.
pub enum Tour {
    /// The metrics list, the first series' detail and the recent samples.
    Histogram,
    /// Every view, with the first metric and series `rows_down` rows down opened.
    Everything {
        /// Pause the dashboard before the last request arrives (so the paused
        /// view holds it), resume at the end.
        pause_before_last: bool,
        /// Rows to move down before opening a metric and a series.
        rows_down: usize,
    },
}

/// Runs `bodies` (decompressed) through everything; panics on a defect.
pub fn run<B: AsRef<[u8]>>(protocol: Protocol, bodies: &[B], tour: Tour) {
    let started = T0 - INTERVAL_MS * (bodies.len() as i64 + 1);
    let mut app = App::new(SocketAddr::from(([127, 0, 0, 1], 9201)), started);
    let mut store = Store::new(StoreLimits::default());
    let mut summary = RunSummary::new(Arc::default());
    let mut outputs = [Format::Text, Format::Json].map(|f| (f, MetadataDedup::default()));
    let mut out = String::new();
    let mut filter = None;
    for (i, body) in bodies.iter().enumerate() {
        let arrival = T0 - INTERVAL_MS * (bodies.len() - 1 - i) as i64;
        let batch = request(protocol, body.as_ref(), arrival);
        summary.record(&batch);
        for (format, dedup) in &mut outputs {
            out.clear();
            output::write_batch(&mut out, *format, &batch, dedup);
            checks::visible(&out, &format!("{format:?} output"));
        }
        if let Some(s) = batch.data.series.first() {
            filter.get_or_insert_with(|| promql::series(batch.data.label_pairs(s.labels.clone())));
        }
        app.tick(arrival, &store);
        if i + 1 == bodies.len()
            && let Tour::Everything {
                pause_before_last: true,
                ..
            } = tour
        {
            app.apply(Action::TogglePause, &mut store);
        }
        app.receive(batch, &mut store);
    }
    checks::visible(&summary.to_string(), "the summary");
    let stops = match tour {
        Tour::Histogram => vec![
            ("metrics", vec![]),
            ("detail", vec![Action::Enter, Action::Enter]),
            ("recent samples", vec![Action::GoTab(Tab::Log)]),
        ],
        Tour::Everything { rows_down, .. } => every_view(rows_down, filter.unwrap_or_default()),
    };
    // A terminal per size: resizing one costs more than drawing in it.
    let mut terminals = SIZES
        .map(|(w, h)| Terminal::new(TestBackend::new(w, h)).expect("a TestBackend never fails"));
    for (i, (view, actions)) in stops.into_iter().enumerate() {
        for action in actions {
            app.apply(action, &mut store);
        }
        // What the dashboard does a slice per frame.
        app.catch_up(&mut store, Duration::MAX);
        let [usual, others @ ..] = &mut terminals;
        for terminal in [usual, &mut others[i % others.len()]] {
            app.tick(T0, &store);
            let mut drawn = None;
            terminal
                .draw(|frame| drawn = Some(crate::ui::render_frame(frame, &app, &store)))
                .expect("a TestBackend never fails");
            if let Some(drawn) = drawn {
                app.set_viewport(drawn.list_rows, &store);
            }
            checks::screen(terminal.backend().buffer(), view);
        }
    }
}

/// A request as the receiver hands it on: decoded, or rejected with the
/// decoder's message.
fn request(protocol: Protocol, body: &[u8], arrival_ms: i64) -> Batch {
    let info = RequestInfo {
        received_at: UNIX_EPOCH + Duration::from_millis(arrival_ms as u64),
        remote_addr: Some(SocketAddr::from(([10, 0, 0, 1], 40_000))),
        path: "/api/v1/write".into(),
        user_agent: Some("promscope-fuzz".into()),
        protocol: Some(protocol),
        compressed_bytes: body.len(),
        decoded_bytes: body.len(),
        ..RequestInfo::default()
    };
    match decode::decode(protocol, body.to_vec()) {
        Ok(data) => {
            checks::decoded(&data, body.len());
            Batch {
                info,
                outcome: Outcome::Accepted,
                data,
            }
        }
        Err(e) => Batch {
            info,
            outcome: Outcome::Rejected {
                status: 400,
                reason: RejectReason::Protobuf,
                message: e.to_string(),
            },
            data: WriteData::default(),
        },
    }
}

/// Each view, as the actions that lead to it from the one before, starting
/// from the metrics list; `filter` is typed into the filter line.
fn every_view(rows_down: usize, filter: String) -> Vec<(&'static str, Vec<Action>)> {
    vec![
        ("metrics", vec![Action::Down(rows_down)]),
        ("series", vec![Action::Enter, Action::Down(rows_down)]),
        ("detail", vec![Action::Enter]),
        ("detail scrolled", vec![Action::PageDown]),
        (
            "recent samples",
            vec![Action::Back, Action::Back, Action::GoTab(Tab::Log)],
        ),
        ("recent samples scrolled back", vec![Action::Up(3)]),
        ("detail from recent samples", vec![Action::Enter]),
        ("requests", vec![Action::GoTab(Tab::Requests)]),
        (
            "help",
            vec![Action::GoTab(Tab::Metrics), Action::ToggleHelp],
        ),
        (
            "filter editing",
            vec![
                Action::ToggleHelp,
                Action::FilterEdit,
                Action::FilterSet(filter),
            ],
        ),
        ("filtered", vec![Action::FilterAccept, Action::Enter]),
        ("paused or resumed", vec![Action::TogglePause]),
    ]
}
