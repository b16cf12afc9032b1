use super::*;

fn row<'a>(labels: &[(&'a str, &'a str)], more: bool) -> SetRow<'a> {
    SetRow {
        labels: labels.to_vec(),
        more,
        told: vec![true; labels.len()],
    }
}

fn http(code: &'static str, instance: &'static str, method: &'static str) -> SetRow<'static> {
    row(
        &[
            ("code", code),
            ("handler", "/api/orders"),
            ("instance", instance),
            ("method", method),
        ],
        false,
    )
}

#[test]
fn whole_where_it_fits() {
    let rows = [
        row(&[("__name__", "up"), ("pod", "a")], true),
        row(&[("__name__", "my.metric"), ("pod", "b")], false),
        row(&[("pod", "c")], true),
        row(&[("__name__", "up")], true),
        row(&[], false),
    ];
    let fitted = fit(&rows, 100, Form::Bare);
    assert_eq!(
        fitted.rows,
        [
            r#"up{pod="a", …}"#,
            r#"{"my.metric", pod="b"}"#,
            r#"{pod="c", …}"#,
            "up{…}",
            "{}"
        ]
    );
    assert_eq!(fitted.header, None);
    let room = room(&rows, Form::Bare, 100);
    assert_eq!(room.want, 22);
    assert!(room.need <= room.want);
}

/// The series list of the demo's http_requests_total at 80 columns: rows
/// cut as one text all read `{code=…tance="api-1:8080", method="GET"}`.
#[test]
fn each_value_is_cut_by_itself() {
    let rows = [
        http("200", "api-1:8080", "GET"),
        http("500", "api-1:8080", "GET"),
        http("200", "api-2:8080", "GET"),
        http("200", "api-1:8080", "POST"),
    ];
    let shorter = Form::Columns;
    let room = room(&rows, shorter, 80);
    assert_eq!(room.want, 73);
    let fitted = fit(&rows, 36, shorter);
    assert_eq!(
        fitted.header.as_deref(),
        Some("code handler     instance   method")
    );
    assert_eq!(
        fitted.rows,
        [
            "200  /api/orders api-1:8080 GET",
            "500  /api/orders api-1:8080 GET",
            "200  /api/orders api-2:8080 GET",
            "200  /api/orders api-1:8080 POST",
        ]
    );
    let narrow = fit(&rows, 24, shorter);
    for r in &narrow.rows {
        assert!(fit::width(r) <= 24, "{r}");
    }
    let distinct: std::collections::HashSet<_> = narrow.rows.iter().collect();
    assert_eq!(distinct.len(), rows.len(), "{narrow:#?}");
    // Every value whole in sub-columns.
    assert_eq!(room.need, 34);
}

#[test]
fn names_then_values_shrink_inline() {
    let rows = [
        row(
            &[
                ("__name__", "node_network_transmit_bytes_total"),
                ("device", "eth0"),
            ],
            true,
        ),
        row(
            &[
                ("__name__", "node_network_receive_bytes_total"),
                ("device", "eth0"),
            ],
            true,
        ),
        row(
            &[
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("handler", "/api/orders"),
                ("method", "GET"),
            ],
            true,
        ),
        row(
            &[
                ("__name__", "http_requests_total"),
                ("code", "500"),
                ("handler", "/api/users"),
                ("method", "GET"),
            ],
            true,
        ),
    ];
    let shorter = Form::Bare;
    // Each name is cut by itself, only as far as its row needs.
    assert_eq!(
        fit(&rows, 40, shorter).rows,
        [
            "node_network_transmit_bytes_to…{eth0, …}",
            "node_network_receive_bytes_tot…{eth0, …}",
            "http_requests…{200, /api/orders, GET, …}",
            "http_requests…{500, /api/users, GET, …}",
        ]
    );
    // Names down to their floor, then values to theirs, then the end
    // goes; what differs stays.
    assert_eq!(
        fit(&rows, 30, shorter).rows,
        [
            "nod…_transmit…{eth0, …}",
            "nod…_receive_…{eth0, …}",
            "http_requests…{200, /…/o…, GE…",
            "http_requests…{500, /…/u…, GE…",
        ]
    );
}
