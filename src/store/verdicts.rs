//! Judging every series under a new filter, in parallel over the machine's
//! cores, giving way to the user when asked.

use super::GiveWay;
use super::intern::Interner;
use super::parties::Origin;
use super::series::{GIVE_WAY_EVERY, Series, SeriesIndex};
use crate::filter::Filter;

/// Below this many series a filter is applied on one thread.
const PARALLEL_FILTER_SERIES: usize = 50_000;

/// A series' pseudo-labels for the filter, from who created it (see
/// [`crate::filter::PSEUDO_LABELS`]).
pub type Pseudo<'a> = &'a (dyn Fn(Origin) -> [(&'static str, &'a str); 2] + Sync);

impl SeriesIndex {
    /// Every series' verdict under `filter`, by slot, worked out in parallel
    /// over the machine's cores when there are many series, unless `give_way`
    /// turns true meanwhile: then `None`. Nothing is changed either way (see
    /// [`SeriesIndex::set_verdicts`]), so a pass that gives way leaves the
    /// filter in force as it was.
    pub fn judge(
        &self,
        filter: &Filter,
        strings: &Interner,
        pseudo: Option<Pseudo>,
        give_way: GiveWay,
    ) -> Option<Vec<bool>> {
        let judge = |part: &[Option<Series>], verdicts: &mut [bool]| {
            let mut pass = filter.pass();
            let mut scratch = String::new();
            for (i, (s, verdict)) in part.iter().zip(verdicts).enumerate() {
                if i % GIVE_WAY_EVERY == 0 && give_way() {
                    return false;
                }
                if let (Some(s), Some(pseudo)) = (s, pseudo) {
                    // A selector: labels looked up, no text to search.
                    let labels = s
                        .labels
                        .iter()
                        .map(|&(n, v)| (strings.resolve(n), strings.resolve(v)));
                    *verdict = filter.matches(labels.chain(pseudo(s.origin)), &mut scratch);
                } else if let Some(s) = s {
                    *verdict = pass.matches(
                        s.labels.iter(),
                        |&(n, v)| (strings.resolve(n), strings.resolve(v)),
                        // Interned ids: equal pairs, equal keys, while the pass lasts.
                        |&(n, v)| u64::from(n.0) << 32 | u64::from(v.0),
                    );
                }
            }
            true
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let slots = self.slots.values();
        let mut verdicts = vec![false; slots.len()];
        let judged = if threads > 1 && slots.len() >= PARALLEL_FILTER_SERIES {
            let chunk = slots.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let parts = slots.chunks(chunk).zip(verdicts.chunks_mut(chunk));
                let workers: Vec<_> = parts
                    .map(|(part, out)| scope.spawn(move || judge(part, out)))
                    .collect();
                let joined = workers.into_iter().map(|w| w.join());
                // A panic goes on up, as if the pass had run on this thread.
                let judged: Vec<bool> = joined
                    .map(|r| r.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                    .collect();
                judged.into_iter().all(|done| done)
            })
        } else {
            judge(slots, &mut verdicts)
        };
        judged.then_some(verdicts)
    }

    /// Sets every series' verdict, by slot, as [`SeriesIndex::judge`] gave them.
    pub fn set_verdicts(&mut self, verdicts: &[bool]) {
        for (s, &verdict) in self.slots.values_mut().iter_mut().zip(verdicts) {
            if let Some(s) = s {
                s.matched = verdict;
            }
        }
    }
}
