//! The header's backend line and the senders' line in forward mode: what the
//! backend rejected, what never reached it, mirrors in trouble, at every width.

use super::*;

/// The line under the backend's: what it rejected or did not answer.
fn rejections_line(screen: &str, width: u16) -> &str {
    screen
        .lines()
        .skip_while(|l| !l.contains("forwarded ok"))
        .nth(1)
        .unwrap_or_else(|| panic!("no rejections line at {width}:\n{screen}"))
}

#[test]
fn a_backend_that_cannot_be_reached_is_not_said_to_reject() {
    let stats = ForwardStats::new(BACKEND, false, Vec::new());
    let record = |upstream: Upstream| {
        let Outcome::Forwarded(forwarded) = forwarded(upstream, None) else {
            unreachable!()
        };
        stats.record(&forwarded);
    };
    let refused = format!(
        "promscope could not connect to the backend {BACKEND}: tcp connect error: Connection refused (os error 111)"
    );
    for _ in 0..3 {
        record(Upstream::Failed {
            status: 502,
            message: refused.clone(),
        });
    }
    let (mut app, store) = forward_fixture();
    app.forward = Some(stats.snapshot());
    // A refused connection is no answer: not a fast backend.
    assert_eq!(stats.snapshot().latency, None);
    let wide = screen(&app, &store, 240, 32);
    assert!(wide.contains("no answer in the last minute"), "{wide}");
    // promscope's own message as it is: its numbers are the backend's address.
    let line = format!(" no answer from the backend: 502 {refused} ×3");
    assert!(wide.contains(&line), "{line:?} in\n{wide}");
    assert!(!wide.contains("backend rejected"), "{wide}");
    let narrow = screen(&app, &store, 80, 24);
    assert!(
        narrow.contains(" no answer from the backend: 502 promscope could not"),
        "{narrow}"
    );

    // The backend's own messages are grouped with their numbers blanked.
    record(answered(
        400,
        "out of order sample, timestamp 1700000000000",
    ));
    app.forward = Some(stats.snapshot());
    let answered = Duration::from_micros(1_240);
    assert_eq!(
        stats
            .snapshot()
            .latency
            .map(|(p50, _)| p50 > answered / 2 && p50 < answered * 2),
        Some(true)
    );
    let wide = screen(&app, &store, 240, 32);
    let line = wide
        .lines()
        .find(|l| l.contains(" backend rejected or did not answer: 502 promscope"))
        .unwrap_or_else(|| panic!("no rejections line:\n{wide}"));
    assert!(
        line.contains("400 out of order sample, timestamp N ×1"),
        "{line}"
    );
    // Narrower, the 400 is counted with the rest (`· 1 more`, or the line
    // is only a count): the label still speaks of it.
    for (width, height) in [(60, 15), (40, 10)] {
        let narrow = screen(&app, &store, width, height);
        assert!(!narrow.contains("no answer from the backend"), "{narrow}");
        assert!(
            narrow.contains(" backend rejected or did not answer: 502")
                || narrow.contains(" rejected or no answer: 4 requests"),
            "{width}×{height}:\n{narrow}"
        );
    }
}

#[test]
fn a_mirror_in_trouble_shows_at_every_width() {
    let (mut app, mut store) = forward_fixture();
    apply(&mut app, &mut store, &[]);
    let backend_line = |app: &App, width| {
        let screen = screen(app, &store, width, 32);
        let line = screen
            .lines()
            .find(|l| l.contains("forwarded ok"))
            .map(str::to_owned);
        line.unwrap_or_else(|| panic!("no backend line:\n{screen}"))
    };
    let wide = backend_line(&app, 240);
    let full = "mirror http://mirror.example:9090/api/v1/write ok 3 failed 1 queue full 2";
    assert!(wide.contains(full), "{wide}");
    for width in [110, 120, 160] {
        let line = backend_line(&app, width);
        assert!(
            line.contains("mirror") && line.contains("failed 1 queue full 2"),
            "{width}: {line}"
        );
    }
    // Narrower, the backend's latency goes first.
    let narrow = backend_line(&app, 80);
    assert!(narrow.contains("p50 1.2ms p99 31ms (1 min)"), "{narrow}");
    // Two mirrors without their URLs are told apart by number.
    let forward = app.forward.as_mut().unwrap();
    let second = MirrorSnapshot {
        url: "http://other.example/api/v1/write".into(),
        ok: 5,
        failed: 0,
        overflow: 0,
        pending: 0,
    };
    forward.mirrors.push(second);
    let line = backend_line(&app, 110);
    assert!(line.contains("mirror 1 failed 1 queue full 2"), "{line}");
}

#[test]
fn the_senders_line_counts_only_what_promscope_refused_itself() {
    let (mut app, mut store) = forward_fixture();
    let sender_line = |app: &App, store: &Store, width| {
        let screen = screen(app, store, width, 32);
        let line = screen
            .lines()
            .find(|l| l.contains("senders"))
            .map(str::to_owned);
        line.unwrap_or_else(|| panic!("no senders line:\n{screen}"))
    };
    // The backend's 400s and the 502 are the backend lines', not "rejected"
    // beside the sender while the line below says `rejected 2 · failed 1`.
    for width in [80, 240] {
        let line = sender_line(&app, &store, width);
        assert!(!line.contains("rejected"), "{line}");
        assert!(!line.contains("backend"), "{line}");
    }
    store.ingest(&Batch {
        info: info(T0 - 500, Protocol::V1),
        outcome: Outcome::Rejected {
            status: 413,
            reason: RejectReason::TooLarge,
            message: "body over --max-bytes".into(),
        },
        data: WriteData::default(),
    });
    apply(&mut app, &mut store, &[]);
    let line = sender_line(&app, &store, 240);
    assert!(
        line.contains("promscope refused 1 (too_large: 1)"),
        "{line}"
    );
}

#[test]
fn every_rejected_request_is_counted_on_the_line_at_any_width() {
    let (mut app, store) = forward_fixture();
    let group = |status, answered, text: &str, count| RejectionGroup {
        status,
        answered,
        text: text.into(),
        count,
    };
    let long = "x".repeat(90);
    let forward = app.forward.as_mut().unwrap();
    forward.rejections = vec![
        group(
            502,
            false,
            &format!("promscope could not connect {long}"),
            26,
        ),
        group(
            400,
            true,
            &format!("out of order sample for series {{…}} {long}"),
            7,
        ),
        group(400, true, "too old", 3),
        group(429, true, "slow down", 2),
    ];
    forward.other_rejections = 1;
    let total = 26 + 7 + 3 + 2 + 1;
    for width in 50..=250u16 {
        let screen = screen(&app, &store, width, 32);
        let line = rejections_line(&screen, width);
        let counted: u64 = line
            .split('×')
            .skip(1)
            .map(|after| {
                let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u64>().unwrap()
            })
            .sum();
        let more: u64 = line
            .trim_matches(|c| c == '"' || c == ' ')
            .split("  ·  ")
            .filter_map(|part| {
                let part = part
                    .strip_suffix(" more")
                    .or(part.strip_suffix(" requests"))?;
                part.rsplit(' ').next()?.parse::<u64>().ok()
            })
            .sum();
        assert_eq!(counted + more, total, "at {width}: {line}");
        // From 80 columns on, the largest group shows, at least its status and count.
        if width >= 80 {
            assert!(
                line.contains(": 502 promsc") && line.contains("×26"),
                "at {width}: {line}"
            );
        }
    }
}

/// Two messages one of which starts the other are never both cut to what
/// reads as the same message (`400 out of order… ×19  ·  400 out of orde…
/// ×12`): the line shows fewer groups instead, or enough to tell them apart.
#[test]
fn groups_are_never_cut_to_look_alike() {
    let (mut app, store) = forward_fixture();
    let group = |text: &str, count| RejectionGroup {
        status: 400,
        answered: true,
        text: text.into(),
        count,
    };
    let forward = app.forward.as_mut().unwrap();
    forward.rejections = vec![
        group("out of order sample for series {…}", 19),
        group("out of order sample", 12),
    ];
    let mut both_shown = 0;
    for width in 50..=250u16 {
        let screen = screen(&app, &store, width, 32);
        let line = rejections_line(&screen, width);
        if line.matches("400 out of ord").count() == 2 {
            both_shown += 1;
            assert!(
                line.contains("400 out of order sample ×12"),
                "{width}: {line}"
            );
            assert!(
                line.contains("400 out of order sample f"),
                "{width}: {line}"
            );
        }
    }
    assert!(both_shown > 0, "never both shown");
}

/// A sender whose requests wait on a stalled backend sends nothing new, and
/// is heard of only when they are answered: it is waiting, not idle.
#[test]
fn a_sender_waiting_on_the_backend_is_not_said_to_be_idle() {
    let (mut app, store) = forward_fixture();
    // 34 s after the fixture's latest request.
    app.tick(T0 + 34_000, &store);
    let sender_line = |app: &App| {
        let screen = screen(app, &store, 200, 40);
        let line = screen
            .lines()
            .find(|l| l.contains(" senders "))
            .map(str::to_owned);
        line.unwrap_or_else(|| panic!("no senders line:\n{screen}"))
    };
    let idle = sender_line(&app);
    assert!(idle.contains(" idle "), "{idle}");
    let sender = Sender::of(&info(T0, Protocol::V2));
    app.forward.as_mut().unwrap().waiting = vec![(sender, Duration::from_secs(34))];
    let waiting = sender_line(&app);
    assert!(
        waiting.contains("@ 10.1.2.3 RW1+RW2 waiting on the backend 34s"),
        "{waiting}"
    );
    // The other sender (team-a's) sent nothing since, and waits on nothing.
    assert!(waiting.contains("+1 more, 1 idle"), "{waiting}");
}
