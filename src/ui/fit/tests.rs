use super::*;

#[test]
fn a_cut_never_splits_an_escape() {
    let sender = r"hostile/1.0 \u202eevil\u200b @ 127.0.0.1";
    for width in 8..sender.len() {
        for cut in [
            middle(sender, width),
            end(sender, width),
            start(sender, width),
        ] {
            assert!(cut.width() <= width, "{cut} in {width}");
            // Where it cuts, no escape of the sender's is split.
            let (head, rest) = cut.split_once('…').unwrap_or((&cut, ""));
            let escapes: Vec<(usize, usize)> = sender
                .match_indices('\\')
                .map(|(i, _)| (i, i + escape_len(sender, i)))
                .collect();
            let splits = |at: usize| escapes.iter().any(|&(a, b)| a < at && at < b);
            let tail_at = sender.len() - rest.len();
            assert!(
                sender.starts_with(head) && sender.ends_with(rest),
                "{cut:?}"
            );
            assert!(
                !splits(head.len()) && !splits(tail_at),
                "{cut:?} at {width}"
            );
        }
    }
    assert_eq!(middle(sender, 20), "hostil… @ 127.0.0.1");
    assert_eq!(end(r"a\x1b[31m", 4), "a…");
    assert_eq!(start(r"\x1b[31m", 6), "…[31m");
    assert_eq!(end(r"x\ny", 3), "x…");
}

/// Whether `shown` stands for `v`: its exact text, or `~` and `v` rounded
/// to the significant digits shown.
fn stands_for(shown: &str, v: f64) -> bool {
    if shown == format::value(v) {
        return true;
    }
    let Some(rounded) = shown.strip_prefix(ROUNDED) else {
        return false;
    };
    let Ok(r) = rounded.parse::<f64>() else {
        return false;
    };
    (1..=17).any(|digits| format!("{v:.prec$e}", prec = digits - 1).parse::<f64>() == Ok(r))
}

#[test]
fn numbers_are_rounded_never_cut() {
    let values = [
        13.705352776068167,
        90.90144205269057,
        1e300,
        -1e-300,
        -123456789.125,
        f64::MAX,
        f64::MIN,
        5e-324,
        -1.5e-308,
        999999.7,
        123456789012345.0,
        0.1,
        -0.0,
    ];
    for v in values {
        for width in NUMBER_MIN_WIDTH..30 {
            let shown = number(v, width);
            assert!(shown.len() <= width, "{v} in {width}: {shown}");
            assert!(stands_for(&shown, v), "{v} in {width}: {shown}");
        }
    }
    assert_eq!(number(13.705352776068167, 8), "~13.7054");
    assert_eq!(number(123456789012345.0, 8), "~1.23e14");
    assert_eq!(number(999999.7, 7), "~1.00e6");
    assert_eq!(number(1e300, 5), "1e300");
    assert_eq!(number(f64::MIN, 9), "~-1.8e308");
    assert_eq!(number(f64::MIN, 7), "~-2e308");
    assert_eq!(number(1e300, 4), "…");
    assert_eq!(number(f64::NAN, 3), "NaN");
    assert_eq!(number(f64::NAN, 2), "…");
    assert_eq!(number(1.0, 0), "");
}

#[test]
fn names_are_cut_keeping_what_differs() {
    let names = [
        "avalanche_metric_mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm_0_0",
        "avalanche_metric_mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm_0_1",
        "avalanche_metric_mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm_1_0",
        "up",
    ];
    let starts = differing_starts(&names);
    let shown: Vec<_> = names
        .iter()
        .zip(&starts)
        .map(|(n, &d)| distinct(n, d, 20))
        .collect();
    assert_eq!(
        shown,
        [
            "avala…mmmmmmmmmm_0_0",
            "avala…mmmmmmmmmm_0_1",
            "avala…mmmmmmmmmm_1_0",
            "up"
        ]
    );
    for (s, n) in shown.iter().zip(names) {
        assert!(width(s) <= 20, "{s}");
        assert!(distinct_need(n, 0) >= 2);
    }
    // A differing part that starts early: the end is cut.
    let labels = [
        r#"{code="200", handler="/api/v1/query_range"}"#,
        r#"{code="500", handler="/api/v1/query_range"}"#,
    ];
    let starts = differing_starts(&labels);
    assert_eq!(
        distinct(labels[0], starts[0], 20),
        r#"{code="200", handle…"#
    );
}

#[test]
fn widths_are_display_columns() {
    assert_eq!(width("宽字符🙂"), 8);
    assert_eq!(end("宽字符🙂标签", 6), "宽字…");
    assert_eq!(end("宽字符", 1), "…");
    assert_eq!(end("abc", 0), "");
}

#[test]
fn text_is_never_cut_inside_a_number() {
    let counts = "1198 series, 1159 samples, 39 histograms, 1194 metadata";
    assert_eq!(end(counts, 20), "1198 series, 1159 s…");
    assert_eq!(end(counts, 17), "1198 series, …");
    assert_eq!(end(counts, 26), "1198 series, 1159 samples…");
    assert_eq!(end("/api (12), /b (3)", 9), "/api …");
    assert_eq!(end("value 13.705352776068167", 14), "value …");
    // Digits inside a name are part of the name.
    assert_eq!(end("avalanche_metric_12345", 20), "avalanche_metric_12…");
    assert_eq!(end("12345", 3), "…");
    assert_eq!(differing_starts(&["宽字符_a", "宽字符_b"]), [9, 9]);
    assert_eq!(middle("宽字符🙂标签", 7), "宽…标签");
}

#[test]
fn a_name_cut_in_the_middle_keeps_its_end() {
    let sender = "Prometheus/3.16.0 @ 10.1.2.3";
    assert_eq!(middle(sender, 40), sender);
    assert_eq!(middle(sender, 22), "Promet…16.0 @ 10.1.2.3");
    assert_eq!(middle(sender, 13), "Prom…10.1.2.3");
    assert_eq!(middle(sender, 1), "…");
    assert_eq!(middle(sender, 0), "");
    for w in 0..30 {
        assert!(width(&middle(sender, w)) <= w);
    }
}

#[test]
fn a_sender_loses_its_extras_then_its_product_name_before_its_version() {
    let at = |w| sender("Prometheus/3.16.0", &[" @ 10.1.2.3", " tenant team-a"], w);
    assert_eq!(at(42), "Prometheus/3.16.0 @ 10.1.2.3 tenant team-a");
    assert_eq!(at(41), "Prometheus/3.16.0 @ 10.1.2.3 …");
    assert_eq!(at(29), "Prometheus/3.16.0 …");
    assert_eq!(at(18), "Prometheus/3.16.0");
    assert_eq!(at(12), "Prom…/3.16.0");
    assert_eq!(at(9), "P…/3.16.0");
    assert_eq!(at(8), "Prometh…");
    assert_eq!(
        sender("vmagent/v1.151.0", &[" @ ::1"], 18),
        "vmagent/v1.151.0 …"
    );
    assert_eq!(
        sender("vmagent/v1.151.0", &[" @ ::1"], 17),
        "vmagent/v1.151.0"
    );
    assert_eq!(sender("(no User-Agent)", &[], 10), "(no User-…");
    // In a table the address stays: it may tell two rows apart.
    let row = |w| sender_row("Prometheus/3.16.0 @ 10.1.2.3", w);
    assert_eq!(row(28), "Prometheus/3.16.0 @ 10.1.2.3");
    assert_eq!(row(23), "Prom…/3.16.0 @ 10.1.2.3");
    assert_eq!(row(20), "P…/3.16.0 @ 10.1.2.3");
    assert_eq!(row(15), "Prom…@ 10.1.2.3");
}
