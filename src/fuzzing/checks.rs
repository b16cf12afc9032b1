//! What must hold whatever a sender sent.

use ratatui::buffer::Buffer;

use crate::ingest::model::{MAX_WARNINGS, StrId, WriteData, histogram_heap_bytes};
use crate::text::escape::is_hidden;

/// What decoded elements may take per byte of the body they came in: the
/// decoder's bound on elements (16, see `decode::GROWTH`) plus what the buckets
/// of histograms take (a packed varint of one byte becomes an `i64`, in a
/// vector of up to twice the capacity it needs).
const DECODED_PER_BODY_BYTE: usize = 32;

/// ... and this much more, for tiny bodies.
const DECODED_SLACK: usize = 64 << 10;

/// Decoded data refers only to what it holds (every range of every series
/// within its vectors, every string within the buffer and UTF-8), and what its
/// `body`-byte body decoded to takes memory in proportion to it.
pub fn decoded(data: &WriteData, body: usize) {
    let buckets: usize = data.histograms.iter().map(histogram_heap_bytes).sum();
    let decoded = data.element_bytes() + buckets;
    assert!(
        decoded <= DECODED_PER_BODY_BYTE * body + DECODED_SLACK,
        "a {body}-byte body decoded to {decoded} bytes: {:?}",
        data.counts()
    );
    let string = |id: StrId, what: &str| {
        let bytes = data.bytes(id);
        assert_eq!(
            bytes.len(),
            id.range().len(),
            "{what} {id:?} is outside the buffer"
        );
        assert!(
            std::str::from_utf8(bytes).is_ok(),
            "{what} {id:?} is not UTF-8"
        );
    };
    let within = |range: &std::ops::Range<u32>, len: usize, what: &str| {
        assert!(
            range.start <= range.end && range.end as usize <= len,
            "{what} {range:?} is outside the {len} decoded"
        );
    };
    for label in &data.labels {
        string(label.name, "label name");
        string(label.value, "label value");
    }
    for s in &data.series {
        within(&s.labels, data.labels.len(), "labels");
        within(&s.samples, data.samples.len(), "samples");
        within(&s.histograms, data.histograms.len(), "histograms");
        within(&s.exemplars, data.exemplars.len(), "exemplars");
        for e in data.exemplars_of(s) {
            within(&e.labels, data.labels.len(), "exemplar labels");
        }
    }
    let metadata = data
        .metadata
        .iter()
        .chain(data.series.iter().flat_map(|s| &s.metadata));
    for m in metadata {
        string(m.family, "metric family");
        string(m.help, "help");
        string(m.unit, "unit");
    }
    assert!(data.warnings.len() <= MAX_WARNINGS, "{:?}", data.warnings);
}

/// `text` has no character that [`is_hidden`] but the newlines between lines.
pub fn visible(text: &str, what: &str) {
    if let Some(c) = text.chars().find(|&c| c != '\n' && is_hidden(c)) {
        panic!("{what} holds {c:?} unescaped: {text:?}");
    }
}

/// No cell of the screen holds a character that [`is_hidden`]. ratatui drops
/// control characters and graphemes of no width when it writes a cell, so
/// this mostly finds joiners (U+200C, U+200D) that joined a grapheme unescaped;
/// it is there for when that changes, or text reaches a cell another way.
pub fn screen(buffer: &Buffer, what: &str) {
    for (i, cell) in buffer.content.iter().enumerate() {
        if let Some(c) = cell.symbol().chars().find(|&c| is_hidden(c)) {
            let area = buffer.area;
            let width = usize::from(area.width.max(1));
            let (x, y) = (i % width, i / width);
            panic!(
                "the {what} view at {}x{}: the cell at {x},{y} holds {c:?} unescaped",
                area.width, area.height
            );
        }
    }
}
