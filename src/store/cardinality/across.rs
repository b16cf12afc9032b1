//! Label names across metrics, derived from the metrics' own counts when the
//! view is built (not kept up to date per series: that doubled what every
//! new and evicted series cost). A name's values are the sum of its values
//! in each metric: exact while every metric counts the name exactly; where a
//! metric sketched it (past [`super::METRIC_EXACT_VALUES`] values), its
//! distinct values join a merged sketch and only its heaviest values are
//! counted (by the series they surely have).

use hashbrown::HashMap;

use super::MetricCardinality;
use super::filtered::GaveWay;
use super::values::{Distinct, LabelValues, looks_unbounded, text_hash};
use crate::store::GiveWay;
use crate::store::intern::{Interner, Sym};
use crate::store::series::GIVE_WAY_EVERY;
use crate::summary::distinct::Hll;

/// A label name's values across metrics.
#[derive(Debug)]
pub struct AcrossLabel {
    pub name: Sym,
    /// Live series carrying it.
    pub series: u64,
    /// Series per value (of sketched metrics, their heaviest values only).
    pub values: HashMap<Sym, u64>,
    /// The merged sketch of the metrics that sketched it.
    sketch: Option<Hll>,
    /// When a value was first seen last in any metric.
    last_new_ms: i64,
}

impl AcrossLabel {
    fn new(name: Sym) -> Self {
        AcrossLabel {
            name,
            series: 0,
            values: HashMap::new(),
            sketch: None,
            last_new_ms: i64::MIN,
        }
    }

    /// Adds a metric's values of this name.
    fn add(&mut self, label: &LabelValues) {
        self.series += label.series();
        self.last_new_ms = self.last_new_ms.max(label.last_new_ms());
        if let Some(seen) = label.sketch_seen() {
            match &mut self.sketch {
                Some(sketch) => sketch.merge(seen),
                None => self.sketch = Some(seen.clone()),
            }
        }
        for (value, series) in label.counted() {
            *self.values.entry(value).or_default() += series;
        }
    }

    /// Distinct values: exact unless a metric sketched the name; then the
    /// merged sketch, with the exactly counted values observed into it.
    pub fn distinct(&self, strings: &Interner) -> Distinct {
        let Some(sketch) = &self.sketch else {
            return Distinct::Exact(self.values.len() as u64);
        };
        let mut sketch = sketch.clone();
        for &value in self.values.keys() {
            sketch.observe(text_hash(strings.resolve(value)));
        }
        Distinct::Estimated(sketch.estimate().max(self.values.len() as u64))
    }

    /// Whether its values look unbounded at `now_ms`, as
    /// [`LabelValues::unbounded`] says of a metric's label.
    pub fn unbounded(&self, distinct: Distinct, now_ms: i64) -> bool {
        looks_unbounded(distinct.value(), self.series, self.last_new_ms, now_ms)
    }
}

/// Each label name's values across `metrics`, in no order, unless
/// `give_way` turns true first (at a million series in 10,000 metrics this
/// takes a good part of 100 ms).
pub fn across<'a>(
    metrics: impl Iterator<Item = &'a MetricCardinality>,
    give_way: GiveWay,
) -> Result<Vec<AcrossLabel>, GaveWay> {
    let mut places: HashMap<Sym, usize> = HashMap::new();
    let mut names: Vec<AcrossLabel> = Vec::new();
    let mut values = 0;
    for label in metrics.flat_map(|m| m.labels()) {
        // Values added between two looks at the keyboard, as series are for a filter.
        values += label.counted_len();
        if values >= GIVE_WAY_EVERY {
            values = 0;
            if give_way() {
                return Err(GaveWay);
            }
        }
        let place = *places.entry(label.name).or_insert_with(|| {
            names.push(AcrossLabel::new(label.name));
            names.len() - 1
        });
        names[place].add(label);
    }
    Ok(names)
}
