//! The official receiver compliance cases (prometheus/compliance, remotewrite).

use super::*;

/// The official receiver compliance cases (prometheus/compliance, remotewrite).
#[tokio::test]
async fn compliance_names_with_dots_and_spaces_are_accepted() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    let rw1 = rw1_series_body(
        &[&[("__name__", "my.metric name"), ("my.label key", "v")]],
        now_ms(),
    );
    let reply = r.post("/", RW1_HEADERS, rw1).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    let data = &batch.data;
    assert_eq!(
        data.metric_name(data.series[0].labels.clone()),
        "my.metric name"
    );
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    let mut req = rw2_request();
    req.symbols[2] = "requests.total per second".into();
    req.symbols[3] = "job name.x".into();
    let reply = r.post("/", RW2_HEADERS, snappy(&req.encode_to_vec())).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let batch = r.next_batch().await;
    let labels: Vec<_> = batch
        .data
        .label_pairs(batch.data.series[0].labels.clone())
        .collect();
    assert_eq!(
        labels,
        [
            ("__name__", "requests.total per second"),
            ("job name.x", "api")
        ]
    );
}

#[tokio::test]
async fn compliance_rw2_series_without_name_is_refused_and_the_others_counted_as_written() {
    let mut r = TestReceiver::start(Limits::default(), 8).await;
    // Series 0 (two samples, an exemplar) loses its __name__; series 1 (a
    // histogram) is fine.
    let mut req = rw2_request();
    req.timeseries[0].labels_refs.drain(..2);
    let reply = r.post("/", RW2_HEADERS, snappy(&req.encode_to_vec())).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.body.contains("timeseries[0] has no __name__ label"),
        "{}",
        reply.body
    );
    assert_eq!(written(&reply), [0, 1, 0]);
    let batch = r.next_batch().await;
    assert!(matches!(
        batch.outcome,
        Outcome::Rejected {
            status: 400,
            reason: RejectReason::Invalid,
            ..
        }
    ));
    // What was written reaches the consumers.
    assert_eq!(batch.data.series.len(), 1);
    assert_eq!(batch.data.histograms.len(), 1);
    // A symbol out of range refuses its series alone too.
    let mut req = rw2_request();
    req.timeseries[1].labels_refs[3] = 99;
    let reply = r.post("/", RW2_HEADERS, snappy(&req.encode_to_vec())).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.body.contains(
            "timeseries[1].labels_refs[3] refers to symbol 99, but the request has only 8 symbols"
        ),
        "{}",
        reply.body
    );
    assert_eq!(written(&reply), [2, 0, 1]);
    assert_eq!(r.next_batch().await.data.samples.len(), 2);
}
