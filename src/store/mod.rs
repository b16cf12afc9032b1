//! Pure state built from received batches: run totals and series identity.

pub mod totals;

use std::hash::{BuildHasher, Hasher};
use std::ops::Range;

use crate::ingest::model::WriteData;

/// Identity of a label set, independent of label order (Prometheus sorts labels,
/// so `{b="1",a="2"}` and `{a="2",b="1"}` are one series).
pub fn label_set_hash(data: &WriteData, labels: Range<u32>) -> u64 {
    let pairs = data
        .labels
        .get(labels.start as usize..labels.end as usize)
        .unwrap_or(&[]);
    let sorted = pairs
        .windows(2)
        .all(|w| data.str(w[0].name) < data.str(w[1].name));
    let mut h = foldhash::fast::FixedState::with_seed(0x7072_6f6d).build_hasher();
    let mut feed = |name: &str, value: &str| {
        // 0xff never occurs in UTF-8, so it separates strings unambiguously.
        h.write(name.as_bytes());
        h.write_u8(0xff);
        h.write(value.as_bytes());
        h.write_u8(0xff);
    };
    if sorted {
        for l in pairs {
            feed(data.str(l.name), data.str(l.value));
        }
    } else {
        let mut owned: Vec<(&str, &str)> = pairs
            .iter()
            .map(|l| (data.str(l.name), data.str(l.value)))
            .collect();
        owned.sort_unstable();
        for (n, v) in owned {
            feed(n, v);
        }
    }
    h.finish()
}
