//! The values of one label name (in one metric, or across all metrics): how
//! many live series carry each, counted exactly up to a limit of distinct
//! values, then as a HyperLogLog estimate of the values seen beside the
//! heaviest values kept by the space-saving algorithm (Metwally et al.), so
//! that an unbounded label (`request_id`) costs a fixed number of bytes.

use std::hash::BuildHasher;

use super::exact::ExactCounts;
use crate::store::intern::{Interner, Sym};
use crate::summary::distinct::Hll;

/// log2 of the registers of a sketched label: 1 KiB, standard error about 3.3%.
pub const SKETCH_PRECISION: u32 = 10;

/// Values whose series counts a sketched label keeps (the heaviest).
pub const TOP_KEPT: usize = 8;

/// A label looks unbounded when it has at least this many distinct values...
pub const UNBOUNDED_MIN_VALUES: u64 = 50;

/// ...each held by at most this many series on average...
pub const UNBOUNDED_SERIES_PER_VALUE: u64 = 2;

/// ...and a new value appeared within this long.
pub const UNBOUNDED_GROWING_MS: i64 = 60_000;

/// How many distinct values a label has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distinct {
    /// Values of live series, counted exactly.
    Exact(u64),
    /// Values seen since the count was too large to keep exactly (an
    /// estimate that never falls: series that went still count).
    Estimated(u64),
}

impl Distinct {
    /// The number, exact or estimated.
    pub fn value(self) -> u64 {
        match self {
            Distinct::Exact(n) | Distinct::Estimated(n) => n,
        }
    }
}

#[derive(Debug)]
enum Values {
    /// Live series per value.
    Exact(ExactCounts),
    Sketched(Box<Sketch>),
}

#[derive(Debug)]
struct Sketch {
    seen: Hll,
    /// The heaviest values (each holding a reference to its string).
    top: Vec<Heavy>,
}

/// A value kept by the space-saving algorithm.
#[derive(Debug, Clone, Copy)]
struct Heavy {
    value: Sym,
    /// Its series count, an over-estimate by at most `error`.
    count: u32,
    /// The count of the entry it replaced.
    error: u32,
}

impl Heavy {
    /// Series it surely has.
    fn sure(&self) -> u64 {
        u64::from(self.count.saturating_sub(self.error))
    }
}

/// The values of one label name and the series that carry them.
#[derive(Debug)]
pub struct LabelValues {
    /// The label name (the caller holds the reference).
    pub name: Sym,
    /// Live series carrying the label.
    series: u32,
    values: Values,
    /// When a value was first seen last (ms since the epoch).
    last_new_ms: i64,
}

/// Hashes a value's text for the sketch (ids are reused for other strings).
pub(super) fn text_hash(text: &str) -> u64 {
    crate::hashing::state(0x5eed).hash_one(text)
}

impl LabelValues {
    /// No series yet.
    pub fn new(name: Sym) -> Self {
        LabelValues {
            name,
            series: 0,
            values: Values::Exact(ExactCounts::default()),
            last_new_ms: i64::MIN,
        }
    }

    /// A live series with `value` appeared at `now_ms`; past `exact_limit`
    /// distinct values the count turns into a sketch. Returns by how many
    /// bytes [`LabelValues::bytes`] changed (only new values change it).
    #[inline]
    pub fn add(
        &mut self,
        value: Sym,
        now_ms: i64,
        exact_limit: usize,
        strings: &mut Interner,
    ) -> isize {
        // Most series repeat the value of the series before them.
        if let Values::Exact(counts) = &mut self.values
            && counts.add_same(value)
        {
            // Live series, far from u32::MAX (as in `ExactCounts`).
            self.series += 1;
            return 0;
        }
        self.add_other(value, now_ms, exact_limit, strings)
    }

    /// [`LabelValues::add`] of a value other than the last counted.
    #[inline(never)]
    fn add_other(
        &mut self,
        value: Sym,
        now_ms: i64,
        exact_limit: usize,
        strings: &mut Interner,
    ) -> isize {
        self.series = self.series.saturating_add(1);
        let (new, grew) = match &mut self.values {
            Values::Exact(counts) => {
                let (new, grew) = counts.add(value);
                if counts.len() > exact_limit {
                    let before = counts.bytes() as isize - grew;
                    self.values = Values::Sketched(Box::new(Sketch::of(counts, strings)));
                    (new, self.bytes() as isize - before)
                } else {
                    (new, grew)
                }
            }
            Values::Sketched(sketch) => sketch.add(value, strings),
        };
        if new {
            self.last_new_ms = self.last_new_ms.max(now_ms);
        }
        grew
    }

    /// A live series with `value` went; returns by how many bytes
    /// [`LabelValues::bytes`] changed.
    #[inline]
    pub fn remove(&mut self, value: Sym, strings: &mut Interner) -> isize {
        if let Values::Exact(counts) = &mut self.values
            && counts.remove_same(value)
        {
            // Other series keep the value: it has at least two.
            self.series -= 1;
            return 0;
        }
        self.remove_other(value, strings)
    }

    /// [`LabelValues::remove`] of a value other than the last counted, or of
    /// its last series.
    #[inline(never)]
    fn remove_other(&mut self, value: Sym, strings: &mut Interner) -> isize {
        self.series = self.series.saturating_sub(1);
        match &mut self.values {
            Values::Exact(counts) => counts.remove(value),
            Values::Sketched(sketch) => {
                if let Some(i) = sketch.top.iter().position(|t| t.value == value) {
                    let heavy = &mut sketch.top[i];
                    heavy.count = heavy.count.saturating_sub(1);
                    heavy.error = heavy.error.min(heavy.count);
                    if heavy.count == 0 {
                        strings.release(sketch.top.swap_remove(i).value);
                    }
                }
                0
            }
        }
    }

    /// Gives back the references it holds (before it is dropped).
    pub fn release(self, strings: &mut Interner) {
        if let Values::Sketched(sketch) = self.values {
            for heavy in sketch.top {
                strings.release(heavy.value);
            }
        }
    }

    /// Live series carrying the label.
    pub fn series(&self) -> u64 {
        u64::from(self.series)
    }

    /// Distinct values.
    pub fn distinct(&self) -> Distinct {
        match &self.values {
            Values::Exact(counts) => Distinct::Exact(counts.len() as u64),
            Values::Sketched(sketch) => {
                // The heaviest are certainly there, whatever the sketch says.
                let floor = sketch.top.len() as u64;
                Distinct::Estimated(sketch.seen.estimate().max(floor))
            }
        }
    }

    /// Up to `n` values with the most series, most first (ties by id, so the
    /// order is stable); for a sketched label, the series each surely has
    /// among the heaviest kept.
    pub fn top(&self, n: usize) -> Vec<(Sym, u64)> {
        heaviest(self.counted().collect(), n)
    }

    /// Whether its values look unbounded at `now_ms` (see [`looks_unbounded`]).
    pub fn unbounded(&self, now_ms: i64) -> bool {
        looks_unbounded(
            self.distinct().value(),
            self.series(),
            self.last_new_ms,
            now_ms,
        )
    }

    /// When a value was first seen last (ms since the epoch).
    pub fn last_new_ms(&self) -> i64 {
        self.last_new_ms
    }

    /// How many values [`LabelValues::counted`] gives.
    pub fn counted_len(&self) -> usize {
        match &self.values {
            Values::Exact(counts) => counts.len(),
            Values::Sketched(sketch) => sketch.top.len(),
        }
    }

    /// The sketch of the values seen, once there are too many to count.
    pub fn sketch_seen(&self) -> Option<&Hll> {
        match &self.values {
            Values::Exact(_) => None,
            Values::Sketched(sketch) => Some(&sketch.seen),
        }
    }

    /// Each value counted with its series: every value while counted
    /// exactly, else the heaviest kept, with the series each surely has.
    pub fn counted(&self) -> impl Iterator<Item = (Sym, u64)> + '_ {
        let (exact, sketch) = match &self.values {
            Values::Exact(counts) => (Some(counts), None),
            Values::Sketched(sketch) => (None, Some(sketch)),
        };
        let exact = exact.into_iter().flat_map(|c| c.iter());
        let heavy = sketch.into_iter().flat_map(|s| s.top.iter());
        exact
            .map(|(v, c)| (v, u64::from(c)))
            .chain(heavy.map(|h| (h.value, h.sure())))
    }

    /// Heap bytes (the strings are the interner's).
    pub fn bytes(&self) -> usize {
        match &self.values {
            Values::Exact(counts) => counts.bytes(),
            Values::Sketched(sketch) => {
                size_of::<Sketch>()
                    + sketch.seen.bytes()
                    + sketch.top.capacity() * size_of::<Heavy>()
            }
        }
    }
}

/// Whether a label's values look unbounded at `now_ms`: many of them
/// (`distinct`), each in few of its `series`, and new ones still coming (the
/// last first seen at `last_new_ms`).
pub fn looks_unbounded(distinct: u64, series: u64, last_new_ms: i64, now_ms: i64) -> bool {
    distinct >= UNBOUNDED_MIN_VALUES
        && series <= distinct * UNBOUNDED_SERIES_PER_VALUE
        && now_ms.saturating_sub(last_new_ms) <= UNBOUNDED_GROWING_MS
}

/// The first `n` of `all` values by series, most first (ties by id, so the
/// order is stable).
pub fn heaviest(mut all: Vec<(Sym, u64)>, n: usize) -> Vec<(Sym, u64)> {
    let by_count = |a: &(Sym, u64), b: &(Sym, u64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    if all.len() > n && n > 0 {
        all.select_nth_unstable_by(n - 1, by_count);
        all.truncate(n);
    }
    all.sort_unstable_by(by_count);
    all.truncate(n);
    all
}

impl Sketch {
    /// The sketch of an exact count: every value observed, the heaviest kept.
    fn of(counts: &ExactCounts, strings: &mut Interner) -> Sketch {
        let mut seen = Hll::new(SKETCH_PRECISION);
        for (v, _) in counts.iter() {
            seen.observe(text_hash(strings.resolve(v)));
        }
        let mut top: Vec<Heavy> = counts
            .iter()
            .map(|(value, count)| Heavy {
                value,
                count,
                error: 0,
            })
            .collect();
        top.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
        top.truncate(TOP_KEPT);
        top.shrink_to_fit();
        for h in &top {
            strings.retain(h.value);
        }
        Sketch { seen, top }
    }

    /// Counts a series with `value`; says whether the value was surely new,
    /// and by how many bytes the kept values grew.
    fn add(&mut self, value: Sym, strings: &mut Interner) -> (bool, isize) {
        let new = self.seen.observe(text_hash(strings.resolve(value)));
        if let Some(heavy) = self.top.iter_mut().find(|t| t.value == value) {
            heavy.count = heavy.count.saturating_add(1);
            return (new, 0);
        }
        strings.retain(value);
        if self.top.len() < TOP_KEPT {
            let before = self.top.capacity();
            self.top.push(Heavy {
                value,
                count: 1,
                error: 0,
            });
            let grew = (self.top.capacity() - before) * size_of::<Heavy>();
            return (new, grew as isize);
        }
        // Space-saving: the newcomer takes the lightest entry's place and count.
        let lightest = self
            .top
            .iter()
            .enumerate()
            .min_by_key(|(_, t)| t.count)
            .map_or(0, |(i, _)| i);
        let old = self.top[lightest];
        strings.release(old.value);
        self.top[lightest] = Heavy {
            value,
            count: old.count.saturating_add(1),
            error: old.count,
        };
        (new, 0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap as StdMap;

    use super::*;
    use crate::test_rng::Rng;

    const T0: i64 = 1_732_000_000_000;

    /// Adds and removes random values, checking against a brute-force count.
    fn run(values: u64, steps: usize, limit: usize, seed: u64) -> (LabelValues, StdMap<Sym, u64>) {
        let mut strings = Interner::default();
        let name = strings.acquire("label");
        let mut label = LabelValues::new(name);
        let mut truth: StdMap<Sym, u64> = StdMap::new();
        let mut live: Vec<Sym> = Vec::new();
        let mut rng = Rng(seed);
        for step in 0..steps {
            if !live.is_empty() && rng.below(4) == 0 {
                let v = live.swap_remove(rng.index(live.len()));
                label.remove(v, &mut strings);
                strings.release(v);
                let c = truth.get_mut(&v).expect("live value");
                *c -= 1;
                if *c == 0 {
                    truth.remove(&v);
                }
            } else {
                // Skewed: low values are much more common.
                let n = rng.below(values).min(rng.below(values));
                let v = strings.acquire(&format!("value-{n}"));
                label.add(v, T0 + step as i64, limit, &mut strings);
                live.push(v);
                *truth.entry(v).or_insert(0) += 1;
            }
        }
        assert_eq!(label.series(), live.len() as u64);
        (label, truth)
    }

    #[test]
    fn below_the_limit_counts_and_top_values_are_exact() {
        for seed in 1..20 {
            let (label, truth) = run(100, 2_000, 128, seed);
            assert_eq!(label.distinct(), Distinct::Exact(truth.len() as u64));
            let mut expected: Vec<(Sym, u64)> = truth.into_iter().collect();
            expected.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            expected.truncate(5);
            assert_eq!(label.top(5), expected, "seed {seed}");
        }
    }

    #[test]
    fn above_the_limit_the_estimate_is_within_the_sketch_error() {
        // The sketch hashes with this process's random keys: each estimate is
        // held to five standard errors of 1.04/32, and the five together to
        // 2.5 in their root mean square (a run fails about once in 100,000).
        const STANDARD_ERROR: f64 = 1.04 / 32.0;
        let mut squares = 0.0;
        for seed in 1..6 {
            let mut strings = Interner::default();
            let mut label = LabelValues::new(strings.acquire("request_id"));
            let mut rng = Rng(seed);
            let mut truth = std::collections::HashSet::new();
            for i in 0..20_000 {
                let n = rng.below(12_000);
                truth.insert(n);
                let v = strings.acquire(&format!("req-{n}"));
                label.add(v, T0 + i, 128, &mut strings);
            }
            let Distinct::Estimated(estimate) = label.distinct() else {
                panic!("expected an estimate");
            };
            let error = (estimate as f64 - truth.len() as f64).abs() / truth.len() as f64;
            assert!(
                error < 5.0 * STANDARD_ERROR,
                "seed {seed}: {estimate} for {}",
                truth.len()
            );
            squares += error * error;
            assert!(label.bytes() < 2048, "{} bytes", label.bytes());
        }
        let rms = (squares / 5.0).sqrt();
        assert!(rms < 2.5 * STANDARD_ERROR, "root mean square error {rms}");
    }

    #[test]
    fn a_heavy_value_stays_on_top_once_sketched() {
        let mut strings = Interner::default();
        let mut label = LabelValues::new(strings.acquire("path"));
        let heavy = strings.acquire("/api");
        for i in 0..5_000 {
            let v = if i % 3 == 0 {
                strings.retain(heavy);
                heavy
            } else {
                strings.acquire(&format!("/item/{i}"))
            };
            label.add(v, T0, 64, &mut strings);
        }
        let top = label.top(1);
        assert_eq!(top[0].0, heavy);
        // What it surely has: at most the 1,667 it has, and not much less.
        assert!((1_500..=1_667).contains(&top[0].1), "{top:?}");
        assert!(label.unbounded(T0));
        assert!(
            !label.unbounded(T0 + UNBOUNDED_GROWING_MS + 1),
            "no longer growing"
        );
        label.release(&mut strings);
    }

    #[test]
    fn a_label_with_few_values_is_not_unbounded() {
        let (label, _) = run(10, 5_000, 128, 7);
        assert!(!label.unbounded(T0 + 5_000));
        let (ids, _) = run(1_000_000, 2_000, 4_096, 7);
        assert!(ids.unbounded(T0 + 2_000));
    }
}
