//! Forward mode on the dashboard, rendered into a TestBackend: the header's
//! backend line, the backend's side of each request (its whole message), and
//! series the backend refused.

mod common;
mod dashboard;
// The header's lines (a test crate's root finds modules beside it, not below).
#[path = "forward_dashboard/header_lines.rs"]
mod header_lines;

use std::time::Duration;

use bytes::Bytes;
use dashboard::{T0, apply, info, sample, screen};
use promscope::app::{Action, App, Tab};
use promscope::ingest::forward::{
    ForwardSnapshot, ForwardStats, MirrorSnapshot, MirrorStatus, MirrorStatuses, RejectionGroup,
};
use promscope::ingest::model::{
    Batch, Forwarded, Outcome, Protocol, RejectReason, Sender, Undecodable, Upstream, WriteData,
};
use promscope::store::{Store, StoreLimits};

const BACKEND: &str = "http://backend.example:9090/api/v1/write";

fn forwarded(upstream: Upstream, undecodable: Option<Undecodable>) -> Outcome {
    Outcome::Forwarded(Box::new(Forwarded {
        upstream,
        backend_latency: Duration::from_micros(1_240),
        total_latency: Duration::from_micros(1_900),
        undecodable,
        mirrors: MirrorStatuses::from(&[MirrorStatus::Answered(202), MirrorStatus::QueueFull][..]),
        sender_gave_up: None,
    }))
}

fn answered(status: u16, body: &str) -> Upstream {
    Upstream::Answered {
        status,
        headers: Default::default(),
        body: Bytes::from(body.to_owned()),
    }
}

/// A backend message longer than the 1 KiB other notes are cut at, ending
/// with the series it refused.
fn long_message() -> String {
    let filler = "x".repeat(1_500);
    format!(
        "out of order sample ({filler}) for series {{__name__=\"up\", job=\"b\"}} END-OF-MESSAGE"
    )
}

fn forward_fixture() -> (App, Store) {
    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0 - 60_000);
    let up = |job| [("__name__", "up"), ("job", job)];
    let mut data = WriteData::default();
    data.push_series(&up("a"), &[sample(T0 - 3_000, 1.0)], &[]);
    data.push_series(&up("b"), &[sample(T0 - 3_000, 1.0)], &[]);
    let mut request = info(T0 - 3_000, Protocol::V2);
    request.tenant = Some("team-a".into());
    // Its series are team-a's, as decoding makes them.
    data.belong_to_tenant("team-a");
    store.ingest(&Batch {
        info: request.clone(),
        outcome: forwarded(answered(204, ""), None),
        data: data.clone(),
    });
    store.ingest(&Batch {
        info: info(T0 - 2_000, Protocol::V1),
        outcome: forwarded(
            answered(400, "snappy: corrupt input"),
            Some(Undecodable {
                reason: RejectReason::Snappy,
                message: "body is not valid snappy block data".into(),
            }),
        ),
        data: WriteData::default(),
    });
    store.ingest(&Batch {
        info: info(T0 - 1_500, Protocol::V2),
        outcome: forwarded(
            Upstream::Failed {
                status: 502,
                message: format!("promscope could not connect to the backend {BACKEND}"),
            },
            None,
        ),
        data: data.clone(),
    });
    request.received_at += Duration::from_secs(2);
    store.ingest(&Batch {
        info: request,
        outcome: forwarded(answered(400, &long_message()), None),
        data,
    });
    app.forward = Some(ForwardSnapshot {
        backend: BACKEND.into(),
        insecure: false,
        ok: 1,
        rejected: 2,
        failed: 1,
        uninspected: 7,
        pending: 0,
        latency: Some((Duration::from_micros(1_240), Duration::from_millis(31))),
        rejections: vec![
            RejectionGroup {
                status: 400,
                answered: true,
                text: "out of order sample (x…) for series {…} END-OF-MESSAGE".into(),
                count: 1,
            },
            RejectionGroup {
                status: 400,
                answered: true,
                text: "snappy: corrupt input".into(),
                count: 1,
            },
        ],
        other_rejections: 0,
        mirrors: vec![MirrorSnapshot {
            url: "http://mirror.example:9090/api/v1/write".into(),
            ok: 3,
            failed: 1,
            overflow: 2,
            pending: 0,
        }],
        waiting: vec![],
    });
    (app, store)
}

#[test]
fn the_header_shows_the_backend_and_what_it_did() {
    let (mut app, mut store) = forward_fixture();
    apply(&mut app, &mut store, &[]);
    let screen = screen(&app, &store, 240, 32);
    let line = screen
        .lines()
        .find(|l| l.contains("forwarded ok"))
        .unwrap_or_else(|| panic!("no backend line:\n{screen}"));
    for part in [
        BACKEND,
        "forwarded ok 1",
        "rejected 2",
        "failed 1",
        "p50 1.2ms p99 31ms (1 min)",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    assert!(
        screen.contains("7 forwarded uninspected (dashboard behind)"),
        "{screen}"
    );
    // At 80 columns too: it is why the request count is under the backend's.
    let narrow = dashboard::screen(&app, &store, 80, 24);
    assert!(narrow.contains("7 uninspected"), "{narrow}");
    app.forward.as_mut().unwrap().insecure = true;
    let insecure = dashboard::screen(&app, &store, 240, 32);
    assert!(
        insecure.contains("TLS NOT VERIFIED (--forward-insecure-skip-verify)"),
        "{insecure}"
    );
    let rejected = screen
        .lines()
        .find(|l| l.contains("backend rejected:"))
        .unwrap_or_else(|| panic!("no rejections line:\n{screen}"));
    for part in [
        "400 out of order sample",
        "END-OF-MESSAGE ×1",
        "400 snappy: corrupt input ×1",
    ] {
        assert!(
            rejected.contains(part),
            "{part:?} missing from {rejected:?}"
        );
    }
}

#[test]
fn requests_show_the_backends_side_and_its_whole_message() {
    let (mut app, mut store) = forward_fixture();
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    let screen = screen(&app, &store, 160, 40);
    assert!(screen.contains("BACKEND"), "{screen}");
    assert!(screen.contains("TENANT"), "{screen}");
    assert!(screen.contains("team-a"), "{screen}");
    assert!(screen.contains("1.24ms"), "{screen}");
    assert!(screen.contains("no answer"), "{screen}");
    assert!(screen.contains("MIRRORS"), "{screen}");
    assert!(screen.contains("202, queue full"), "{screen}");
    // The latest request is selected: its message is shown whole, past 1 KiB.
    assert!(
        screen.contains("400 from the backend in 1.24ms"),
        "{screen}"
    );
    assert!(screen.contains("END-OF-MESSAGE"), "{screen}");
    // A backend that did not answer: the 502 is promscope's.
    apply(&mut app, &mut store, &[Action::Up(1), Action::Enter]);
    let opened = dashboard::screen(&app, &store, 160, 40);
    assert!(opened.contains("502 (promscope's)"), "{opened}");
    assert!(opened.contains("did not answer"), "{opened}");
    // Each mirror's status, as known when opened (lines are quoted).
    let field = |name: &str| {
        let words = |l: &str| {
            l.trim_matches('"')
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        opened.lines().map(words).find(|l| l.starts_with(name))
    };
    assert_eq!(
        field("mirror 1").as_deref(),
        Some("mirror 1 202"),
        "{opened}"
    );
    assert_eq!(
        field("mirror 2").as_deref(),
        Some("mirror 2 queue full"),
        "{opened}"
    );
}

/// A sender that gave up waiting (past its `remote_timeout`) got nothing,
/// whatever the backend answered after: the Requests view says so rather
/// than the backend's 204 it never saw.
#[test]
fn a_sender_that_gave_up_is_shown_to_have_got_no_answer() {
    let (mut app, mut store) = forward_fixture();
    let Outcome::Forwarded(mut late) = forwarded(answered(204, ""), None) else {
        unreachable!()
    };
    late.backend_latency = Duration::from_millis(14_500);
    late.sender_gave_up = Some(Duration::from_secs(10));
    let mut data = WriteData::default();
    data.push_series(
        &[("__name__", "up"), ("job", "late")],
        &[sample(T0, 1.0)],
        &[],
    );
    store.ingest(&Batch {
        info: info(T0 - 100, Protocol::V2),
        outcome: Outcome::Forwarded(late),
        data,
    });
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    let list = screen(&app, &store, 160, 40);
    let row = list
        .lines()
        .find(|l| l.contains("/api/v1/write") && l.contains("gave up"));
    let row = row.unwrap_or_else(|| panic!("{list}"));
    // The backend's latency stays in its column; the sender's status is none.
    assert!(row.ends_with("15s 202, queue full gave up\""), "{row}");
    assert!(
        list.contains(
            "the sender gave up waiting after 10s and closed its connection: it got no answer"
        ),
        "{list}"
    );
    apply(&mut app, &mut store, &[Action::Enter]);
    let opened = screen(&app, &store, 160, 40);
    assert!(
        opened.contains("none: the sender gave up waiting after 10s"),
        "{opened}"
    );
}

#[test]
fn series_the_backend_refused_are_flagged_with_its_message() {
    let (mut app, mut store) = forward_fixture();
    let mut open = vec![Action::GoTab(Tab::Metrics)];
    open.extend(dashboard::open_series("up"));
    apply(&mut app, &mut store, &open);
    let list = screen(&app, &store, 160, 32);
    let refused = list
        .lines()
        .find(|l| l.contains("job=\"b\""))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(refused.contains("rejected upstream"), "{refused}");
    let fine = list.lines().find(|l| l.contains("job=\"a\"")).unwrap();
    assert!(!fine.contains("rejected upstream"), "{fine}");
    // Both team-a's, said once above the rows.
    assert!(
        list.contains(r#"same on every series: {__tenant__="team-a"}"#),
        "{list}"
    );
    apply(
        &mut app,
        &mut store,
        &dashboard::open_detail("up{job=\"b\"}"),
    );
    let detail = screen(&app, &store, 160, 32);
    assert!(detail.contains("backend said"), "{detail}");
    assert!(detail.contains("out of order sample"), "{detail}");
}

#[test]
fn tenants_are_shown_per_sender_and_requests_filtered_on_them() {
    let (mut app, mut store) = forward_fixture();
    // team-a's sender is now the busiest: the header names it with its tenant.
    let mut request = info(T0 - 500, Protocol::V2);
    request.tenant = Some("team-a".into());
    store.ingest(&Batch {
        info: request,
        outcome: forwarded(answered(204, ""), None),
        data: WriteData::default(),
    });
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    let all = screen(&app, &store, 200, 40);
    let header = all.lines().find(|l| l.contains(" senders ")).unwrap();
    assert!(header.contains("tenant team-a"), "{header}");
    // Request rows show the path; the header's backend URL has one too.
    let rows = |screen: &str| {
        let row = |l: &&str| l.contains("/api/v1/write") && !l.contains(BACKEND);
        screen.lines().filter(row).count()
    };
    assert_eq!(rows(&all), 5, "{all}");
    assert!(all.contains("no answer"), "{all}");

    let filter = |text: &str| [Action::FilterSet(text.into())];
    apply(&mut app, &mut store, &filter("{tenant=\"team-a\"}"));
    let team_a = screen(&app, &store, 200, 40);
    assert_eq!(rows(&team_a), 3, "{team_a}");
    assert!(!team_a.contains("no answer"), "{team_a}");
    // Inverted: the requests without that tenant.
    apply(&mut app, &mut store, &filter("!{tenant=\"team-a\"}"));
    let others = screen(&app, &store, 200, 40);
    assert_eq!(rows(&others), 2, "{others}");
    assert!(others.contains("no answer"), "{others}");
    // A regex searches every field, the backend's message too.
    apply(&mut app, &mut store, &filter("END-OF-MESSAGE"));
    assert_eq!(rows(&screen(&app, &store, 200, 40)), 1);
    // None matches: the box below says so, not that no request came.
    apply(&mut app, &mut store, &filter("avalanche"));
    let none = screen(&app, &store, 200, 40);
    assert!(none.contains("none matches the filter"), "{none}");
    assert!(!none.contains("no requests yet"), "{none}");
}

/// A capture recorded in forward mode, replayed: the backend's refusals come
/// as rejections of reason `backend` or `backend_unavailable` (no latency was
/// recorded). They say whose they were, in the Requests view and inside the
/// request, and the series the backend refused are flagged as live.
#[test]
fn replayed_refusals_say_whose_they_were() {
    let mut store = Store::new(StoreLimits::default());
    let mut app = dashboard::app(T0 - 60_000);
    let unreachable = format!("promscope could not connect to the backend {BACKEND}");
    let mut data = WriteData::default();
    data.push_series(&[("__name__", "up")], &[sample(T0 - 3_000, 1.0)], &[]);
    for (at, status, reason, message) in [
        (
            T0 - 2_000,
            502,
            RejectReason::BackendUnavailable,
            &*unreachable,
        ),
        (
            T0 - 1_000,
            400,
            RejectReason::Backend,
            "out of order sample",
        ),
    ] {
        let message = message.to_owned();
        store.ingest(&Batch {
            info: info(at, Protocol::V1),
            outcome: Outcome::Rejected {
                status,
                reason,
                message,
            },
            data: data.clone(),
        });
    }
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    let latest = screen(&app, &store, 160, 40);
    assert!(
        latest.contains("400 from the backend: out of order sample"),
        "{latest}"
    );
    apply(&mut app, &mut store, &[Action::Up(1)]);
    let unanswered = screen(&app, &store, 160, 40);
    let said = format!("502 (no answer from the backend): {unreachable}");
    assert!(unanswered.contains(&said), "{unanswered}");
    apply(&mut app, &mut store, &[Action::Enter]);
    let opened = screen(&app, &store, 160, 40);
    assert!(opened.contains("502 (promscope's)"), "{opened}");
    apply(
        &mut app,
        &mut store,
        &[Action::Back, Action::Down(1), Action::Enter],
    );
    let opened = screen(&app, &store, 160, 40);
    assert!(
        opened.contains("400 (the backend's, passed on)"),
        "{opened}"
    );

    let mut open = vec![Action::GoTab(Tab::Metrics)];
    open.extend(dashboard::open_series("up"));
    apply(&mut app, &mut store, &open);
    let series = screen(&app, &store, 160, 40);
    assert!(series.contains("rejected upstream"), "{series}");
}

/// The whole way: a real receiver forwards to a real (test) backend that
/// refuses one series; the batch the receiver hands on is what the dashboard
/// shows.
#[tokio::test]
async fn a_real_backends_refusal_shows_in_requests_header_and_series() {
    use common::backend::{BackendAnswer, TestBackend};
    use promscope::ingest::forward::ForwardConfig;
    use promscope::ingest::server::Limits;

    let message = "out of order sample for series {__name__=\"up\", job=\"b\"}";
    let backend = TestBackend::start(BackendAnswer::status(400).with_body(message)).await;
    let mut r = common::TestReceiver::start_forwarding(
        Limits::default(),
        8,
        ForwardConfig::to(backend.url("")),
    )
    .await;
    let body = common::rw1_series_body(
        &[
            &[("__name__", "up"), ("job", "a")],
            &[("__name__", "up"), ("job", "b")],
        ],
        T0 - 5_000,
    );
    let mut headers = common::RW1_HEADERS.to_vec();
    headers.push(("x-scope-orgid", "team-a"));
    let reply = r.post("/api/v1/write", &headers, body).await;
    assert_eq!((reply.status.as_u16(), reply.body.as_str()), (400, message));

    let mut store = Store::new(StoreLimits::default());
    let mut app = App::new("127.0.0.1:9201".parse().unwrap(), T0 - 60_000);
    let mut batch = r.next_batch().await;
    // The receiver stamps arrival with the wall clock; the dashboard here
    // runs on the fixtures' (T0).
    batch.info.received_at = std::time::UNIX_EPOCH + Duration::from_millis(T0 as u64 - 1_000);
    store.ingest(&batch);
    app.forward = r.stats.forward.get().map(|f| f.snapshot());
    apply(&mut app, &mut store, &[Action::GoTab(Tab::Requests)]);
    let requests = screen(&app, &store, 200, 40);
    let row = requests
        .lines()
        .find(|l| l.contains("team-a") && l.contains("/api/v1/write"))
        .unwrap_or_else(|| panic!("no request row:\n{requests}"));
    assert!(row.trim_end_matches(['"', ' ']).ends_with("400"), "{row}");
    assert!(requests.contains("400 from the backend"), "{requests}");
    assert!(requests.contains("job=\"b\""), "{requests}");
    assert!(
        requests.contains("400 out of order sample for series {…} ×1"),
        "{requests}"
    );

    let mut open = vec![Action::GoTab(Tab::Metrics)];
    open.extend(dashboard::open_series("up"));
    apply(&mut app, &mut store, &open);
    let series = screen(&app, &store, 200, 40);
    let refused = series.lines().find(|l| l.contains("job=\"b\"")).unwrap();
    assert!(refused.contains("rejected upstream"), "{series}");
    let fine = series.lines().find(|l| l.contains("job=\"a\"")).unwrap();
    assert!(!fine.contains("rejected upstream"), "{series}");
}
