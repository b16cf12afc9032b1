//! What the request view lists, line by line: the request's facts, its
//! headers, the answers, and its decoded content (series with their samples,
//! histograms, exemplars and metadata; for RW 2.0 the symbol table with how
//! often each symbol is referenced). Texts are kept as sent: the screen
//! escapes them.

use std::fmt::Write;

use prost::Message;

use crate::capture::Header;
use crate::filter::Filter;
use crate::format;
use crate::ingest::decode;
use crate::ingest::model::{
    Batch, NO_HTTP_STATUS, Protocol, RawRequest, RejectReason, WriteData, shown_status,
};
use crate::output::write_histogram;
use crate::proto::rw2;
use crate::store::RequestRow;
use crate::text::promql;

/// Samples, histograms or exemplars listed per series; the rest are counted.
pub const ITEMS_PER_SERIES: usize = 20;

/// What a line of the request view is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A section's title.
    Section,
    /// A name and its value.
    Field,
    /// A series of the request (its index in the decoded content): Enter opens it.
    Series(usize),
    /// A sample, histogram, exemplar or metadata under a series.
    Item,
    /// Something said about the content (what is left out, why it is missing).
    Note,
}

/// One line of the request view.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub kind: LineKind,
    /// The field's name, or the item's kind.
    pub name: String,
    pub text: String,
}

impl Line {
    fn new(kind: LineKind, name: impl Into<String>, text: impl Into<String>) -> Self {
        Line {
            kind,
            name: name.into(),
            text: text.into(),
        }
    }
}

/// The lines of the request `row`, with what it arrived as (`raw`, `None`
/// when no longer kept) and what that decodes to (`decoded`), its series
/// those `filter` passes; `body` are the limits it was decoded within.
pub fn lines(
    row: &RequestRow,
    raw: Option<&RawRequest>,
    decoded: Option<&Batch>,
    body: super::request::RequestLimits,
    filter: &Filter,
) -> Vec<Line> {
    let mut out = Vec::new();
    let field = |out: &mut Vec<Line>, name: &str, text: String| {
        out.push(Line::new(LineKind::Field, name, text));
    };
    out.push(Line::new(LineKind::Section, "", "Request"));
    field(&mut out, "received", format::timestamp(row.arrival_ms));
    field(&mut out, "sender", row.sender.clone());
    if let Some(raw) = raw {
        field(
            &mut out,
            "request",
            format!("{} {}", raw.method, raw.target),
        );
    } else {
        field(&mut out, "path", row.path.clone());
    }
    let protocol = row.protocol.map_or("not recognized", Protocol::name);
    field(&mut out, "protocol", protocol.to_owned());
    if let Some(tenant) = &row.tenant {
        field(&mut out, "tenant", tenant.clone());
    }
    if let Some(retry) = &row.retry_attempt {
        field(&mut out, "retry", retry.clone());
    }
    let sizes = format!(
        "{} on the wire, {} decoded",
        format::bytes(row.compressed_bytes as f64),
        format::bytes(row.decoded_bytes as f64)
    );
    field(&mut out, "size", sizes);
    let c = row.counts;
    let counts = format!(
        "{} series, {} samples, {} histograms, {} exemplars, {} metadata",
        c.series, c.samples, c.histograms, c.exemplars, c.metadata
    );
    field(&mut out, "carried", counts);
    answers(&mut out, row);
    match raw {
        None if row.status == NO_HTTP_STATUS => out.push(Line::new(
            LineKind::Note,
            "",
            "its TLS handshake failed: no HTTP request was read (the message says why)",
        )),
        None => out.push(Line::new(
            LineKind::Note,
            "",
            "its headers and body are no longer kept (the dashboard keeps the latest requests within 1/16 of --max-store-bytes, at most 64 MiB)",
        )),
        Some(raw) => {
            headers(&mut out, &raw.headers);
            if !raw.body_complete {
                out.push(Line::new(
                    LineKind::Note,
                    "",
                    format!(
                        "the body was not read whole ({} read): nothing to decode",
                        format::bytes(raw.body.len() as f64)
                    ),
                ));
            }
        }
    }
    if let Some(batch) = decoded {
        content(&mut out, &batch.data, filter, row);
        if batch.info.protocol == Some(Protocol::V2)
            && let Some(raw) = raw
        {
            symbols(&mut out, &raw.body, body.max_decoded_bytes);
        }
    }
    out
}

/// promscope's answer and, in forward mode, the backend's.
fn answers(out: &mut Vec<Line>, row: &RequestRow) {
    out.push(Line::new(LineKind::Section, "", "Answer"));
    let status = if row.status == NO_HTTP_STATUS {
        "none: the TLS handshake failed before any HTTP".to_owned()
    } else {
        // Replayed, a backend's refusal has only its reason to say whose it was.
        let backends = row.backend.as_ref().is_some_and(|b| b.answered)
            || row.rejected == Some(RejectReason::Backend);
        let whose = if backends {
            "the backend's, passed on"
        } else {
            "promscope's"
        };
        match row.backend.as_ref().and_then(|b| b.sender_gave_up) {
            Some(after) => format!(
                "none: the sender gave up waiting after {} and closed its connection; {} ({whose}) came after it left",
                format::latency(after),
                shown_status(row.status)
            ),
            None => format!("{} ({whose})", shown_status(row.status)),
        }
    };
    out.push(Line::new(LineKind::Field, "status", status));
    if let Some(note) = &row.note {
        let name = if row.rejected.is_some() {
            "message"
        } else {
            "warning"
        };
        out.push(Line::new(LineKind::Field, name, note.clone()));
    }
    if let Some(backend) = &row.backend {
        let answered = if backend.answered {
            format!("answered in {}", format::latency(backend.latency))
        } else {
            format!(
                "did not answer (gave up after {})",
                format::latency(backend.latency)
            )
        };
        out.push(Line::new(LineKind::Field, "backend", answered));
        // As known when opened: nobody waits for mirrors.
        let mirrors = backend.mirrors.get();
        for (i, status) in mirrors.iter().enumerate() {
            let name = match mirrors.len() {
                1 => "mirror".to_owned(),
                _ => format!("mirror {}", i + 1),
            };
            out.push(Line::new(LineKind::Field, name, status.text()));
        }
        if let Some(undecodable) = &backend.undecodable {
            out.push(Line::new(
                LineKind::Field,
                "inspection",
                undecodable.clone(),
            ));
        }
    }
}

fn headers(out: &mut Vec<Line>, headers: &[Header]) {
    out.push(Line::new(
        LineKind::Section,
        "",
        format!("Headers ({})", headers.len()),
    ));
    for h in headers {
        // `\xff` for a byte that is not UTF-8, not U+FFFD: what was sent.
        let value = crate::text::escape::lossless(&h.value);
        out.push(Line::new(LineKind::Field, h.name.clone(), value));
    }
}

/// Whether a series of the request `row` passes `filter`: its labels with the
/// request's fields as the Requests view filters on them (`status`, `path`,
/// `__tenant__`, ...), so that the filter a request was found by keeps all its
/// series, and a label narrows them (`{status="400", job="api"}`).
fn series_passes<'p>(
    filter: &Filter,
    row: &RequestRow,
    pairs: impl Iterator<Item = (&'p str, &'p str)> + Clone,
) -> bool {
    if filter.is_all() {
        return true;
    }
    let status = shown_status(row.status);
    let fields = row.filter_labels(&status, filter.uses_pseudo_labels());
    let fields = fields.into_iter().filter(|(_, v)| !v.is_empty());
    // The series' pairs, read for as long as the fields are.
    let pairs = pairs.map(|(name, value)| -> (&str, &str) { (name, value) });
    filter.matches(pairs.chain(fields), &mut String::new())
}

/// The series `filter` passes with their samples, histograms, exemplars and
/// metadata.
fn content(out: &mut Vec<Line>, data: &WriteData, filter: &Filter, row: &RequestRow) {
    // RW 1.0 metadata is the request's, not a series': a section of its own
    // (listed straight after the headers, it read as one of them).
    if !data.metadata.is_empty() {
        out.push(Line::new(
            LineKind::Section,
            "",
            format!("Metadata ({})", data.metadata.len()),
        ));
    }
    for m in &data.metadata {
        out.push(Line::new(
            LineKind::Item,
            "metadata",
            metadata_text(data, m),
        ));
    }
    for w in data.warnings.iter().chain(&data.refused) {
        out.push(Line::new(LineKind::Note, "", w.clone()));
    }
    let passing: Vec<bool> = data
        .series
        .iter()
        .map(|s| series_passes(filter, row, data.label_pairs(s.labels.clone())))
        .collect();
    let shown = passing.iter().filter(|&&p| p).count();
    let title = if shown == data.series.len() {
        format!("Series ({shown})")
    } else {
        format!("Series ({shown} of {} match the filter)", data.series.len())
    };
    out.push(Line::new(LineKind::Section, "", title));
    if shown == 0 && !data.series.is_empty() {
        let note = format!(
            "None of its series match the filter {}. Press / to change it.",
            filter.source()
        );
        out.push(Line::new(LineKind::Note, "", note));
    }
    let series = data.series.iter().enumerate().zip(passing);
    for ((i, s), _) in series.filter(|(_, passes)| *passes) {
        let mut text = String::new();
        promql::write_series(&mut text, data.label_pairs(s.labels.clone()));
        out.push(Line::new(LineKind::Series(i), "", text));
        if let Some(m) = &s.metadata {
            out.push(Line::new(
                LineKind::Item,
                "metadata",
                metadata_text(data, m),
            ));
        }
        let samples = data.samples_of(s).iter().map(|p| {
            let mut t = format!("{}  ", format::timestamp(p.timestamp_ms));
            format::write_value(&mut t, p.value);
            t
        });
        items(out, "sample", samples);
        let histograms = data.histograms_of(s).iter().map(|h| {
            let mut t = format!("{}  ", format::timestamp(h.timestamp));
            write_histogram(&mut t, h);
            t
        });
        items(out, "histogram", histograms);
        let exemplars = data.exemplars_of(s).iter().map(|e| {
            let mut t = format!("{}  ", format::timestamp(e.timestamp_ms));
            format::write_value(&mut t, e.value);
            t.push(' ');
            promql::write_series(&mut t, data.label_pairs(e.labels.clone()));
            t
        });
        items(out, "exemplar", exemplars);
    }
}

/// Up to [`ITEMS_PER_SERIES`] items, then how many more there are.
fn items(out: &mut Vec<Line>, kind: &str, texts: impl ExactSizeIterator<Item = String>) {
    let total = texts.len();
    for text in texts.take(ITEMS_PER_SERIES) {
        out.push(Line::new(LineKind::Item, kind, text));
    }
    if total > ITEMS_PER_SERIES {
        let more = total - ITEMS_PER_SERIES;
        out.push(Line::new(
            LineKind::Note,
            "",
            format!("… {more} more {kind}s (all of them in the JSON the write key saves)"),
        ));
    }
}

fn metadata_text(data: &WriteData, m: &crate::ingest::model::Metadata) -> String {
    let mut t = format!("{} {}", data.str(m.family), m.metric_type.name());
    if !data.str(m.unit).is_empty() {
        let _ = write!(t, " unit={}", data.str(m.unit));
    }
    t.push(' ');
    promql::write_quoted(&mut t, data.str(m.help));
    t
}

/// The RW 2.0 symbol table, each symbol with how often the request refers to
/// it (series and exemplar labels, help and unit).
fn symbols(out: &mut Vec<Line>, body: &[u8], max: usize) {
    let table = decode::decompress(body, max)
        .ok()
        .and_then(|buf| rw2::Request::decode(&buf[..]).ok());
    let Some(request) = table else {
        return;
    };
    let counts = symbol_refs(&request);
    out.push(Line::new(
        LineKind::Section,
        "",
        format!("Symbols ({})", request.symbols.len()),
    ));
    for (i, (symbol, refs)) in request.symbols.iter().zip(counts).enumerate() {
        let mut text = String::new();
        promql::write_quoted(&mut text, symbol);
        let plural = if refs == 1 { "" } else { "s" };
        out.push(Line::new(
            LineKind::Item,
            format!("#{i}"),
            format!("{refs:>6} ref{plural}  {text}"),
        ));
    }
}

/// How often each symbol is referred to.
pub fn symbol_refs(request: &rw2::Request) -> Vec<u64> {
    let mut counts = vec![0u64; request.symbols.len()];
    let mut count = |r: u32| {
        if let Some(c) = counts.get_mut(r as usize) {
            *c += 1;
        }
    };
    for ts in &request.timeseries {
        ts.labels_refs.iter().for_each(|&r| count(r));
        for e in &ts.exemplars {
            e.labels_refs.iter().for_each(|&r| count(r));
        }
        if let Some(m) = &ts.metadata {
            count(m.help_ref);
            count(m.unit_ref);
        }
    }
    counts
}
