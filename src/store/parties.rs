//! Tenants and senders: who wrote each series (the request that created it),
//! and per tenant and per sender the series active and kept, samples per
//! second and new series per second. Tenants and senders are text a sender
//! chooses, so the table is bounded: past [`MAX_PARTIES`], a newcomer takes
//! the place of one with no series left, or else is counted with the others
//! under [`OTHERS_NAME`].

use hashbrown::HashMap;

use super::cardinality::{CHURN_SPAN_MS, Churn};
use super::rate::{HISTORY_SECS, RateBuckets};

/// Tenants (and, apart, senders) with numbers of their own.
pub const MAX_PARTIES: usize = 512;

/// A series' tenant when its request had none.
pub const NO_PARTY: u16 = u16::MAX;

/// The place of everyone past [`MAX_PARTIES`].
const OTHERS: u16 = 0;

/// What the place of everyone past [`MAX_PARTIES`] is called.
pub const OTHERS_NAME: &str = "(others)";

/// Samples and new series per second are averaged over this many seconds.
pub const PARTY_RATE_SECS: i64 = 60;

/// Who created a series: its tenant's and its sender's numbers in
/// [`Parties`] ([`NO_PARTY`] for a request without a tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub tenant: u16,
    pub sender: u16,
}

impl Origin {
    /// Nobody known (stores that do not track tenants and senders).
    pub const NONE: Origin = Origin {
        tenant: NO_PARTY,
        sender: NO_PARTY,
    };
}

/// A series' `__tenant__` and `__sender__` for the filter, from who created
/// it ("" when unknown).
pub fn pseudo_labels<'a>(
    tenants: &'a Parties,
    senders: &'a Parties,
    origin: Origin,
) -> [(&'static str, &'a str); 2] {
    let [tenant, sender] = crate::filter::PSEUDO_LABELS;
    [
        (tenant, tenants.name(origin.tenant).unwrap_or_default()),
        (sender, senders.name(origin.sender).unwrap_or_default()),
    ]
}

/// One tenant or sender.
#[derive(Debug)]
struct Party {
    /// As shown and matched by the filter (bounded by the caller).
    name: String,
    /// Its series created, seen and gone.
    churn: Churn,
    /// Samples and histograms per second.
    samples: RateBuckets,
    /// Series kept that it created.
    kept: u64,
}

impl Party {
    fn new(name: String, stale_after_ms: i64) -> Self {
        Party {
            name,
            churn: Churn::new(stale_after_ms),
            samples: RateBuckets::default(),
            kept: 0,
        }
    }

    fn bytes(&self) -> usize {
        size_of::<Self>() + self.name.capacity() + self.churn.bytes() + HISTORY_SECS * 4
    }
}

/// A tenant's or sender's numbers, as the views and reports show them.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyCard {
    pub name: String,
    /// Series it created that were seen within the staleness window.
    pub active: u64,
    /// Series kept that it created.
    pub kept: u64,
    /// Samples and histograms per second over the last [`PARTY_RATE_SECS`]
    /// (`None`: not yet known).
    pub samples_per_s: Option<f64>,
    /// Series created per second over the last
    /// [`crate::store::cardinality::CHURN_SPAN_MS`], as the rest of the
    /// cardinality view counts them.
    pub new_per_s: f64,
}

/// Tenants, or senders, by a small number each series keeps.
#[derive(Debug)]
pub struct Parties {
    /// Slot [`OTHERS`] first.
    slots: Vec<Party>,
    /// Keyed (see [`crate::hashing`]): a sender names its tenant and itself.
    by_name: HashMap<String, u16, crate::hashing::Keyed>,
    stale_after_ms: i64,
    /// What the slots hold, kept up to date.
    bytes: usize,
}

impl Parties {
    /// None yet; series not seen for `stale_after_ms` are no longer active.
    pub fn new(stale_after_ms: i64) -> Self {
        let others = Party::new(OTHERS_NAME.to_owned(), stale_after_ms);
        Parties {
            bytes: others.bytes(),
            slots: vec![others],
            by_name: HashMap::default(),
            stale_after_ms,
        }
    }

    /// The number of `name`, made if new: a free place, the place of one
    /// with no series kept, or the others'.
    pub fn number(&mut self, name: &str) -> u16 {
        if let Some(&n) = self.by_name.get(name) {
            return n;
        }
        let party = Party::new(name.to_owned(), self.stale_after_ms);
        let n = if self.slots.len() <= MAX_PARTIES {
            self.slots.push(party);
            (self.slots.len() - 1) as u16
        } else {
            // Linear, but only for a newcomer when the table is full.
            let idle = self.slots.iter().skip(1).position(|p| p.kept == 0);
            let Some(i) = idle.map(|i| i + 1) else {
                return OTHERS;
            };
            let old = std::mem::replace(&mut self.slots[i], party);
            self.by_name.remove(&old.name);
            self.bytes -= old.bytes() + old.name.len();
            i as u16
        };
        let party = &self.slots[n as usize];
        // The name's copy as the key, too.
        self.bytes += party.bytes() + party.name.len();
        self.by_name.insert(party.name.clone(), n);
        n
    }

    fn get_mut(&mut self, n: u16) -> Option<&mut Party> {
        self.slots.get_mut(usize::from(n))
    }

    /// What `n` is called (`None` for [`NO_PARTY`]).
    pub fn name(&self, n: u16) -> Option<&str> {
        self.slots.get(usize::from(n)).map(|p| p.name.as_str())
    }

    /// `n` sent `samples` samples and histograms at `now_ms`.
    pub fn sent(&mut self, n: u16, now_ms: i64, samples: u64) {
        if let Some(p) = self.get_mut(n) {
            p.samples.add(now_ms, samples);
        }
    }

    /// `n` created a series at `now_ms`.
    pub fn created(&mut self, n: u16, now_ms: i64) {
        if let Some(p) = self.get_mut(n) {
            p.kept += 1;
            p.churn.created(now_ms);
        }
    }

    /// `series` series of `n` whose latest sample had arrived at `before_ms`
    /// (0: none, or a stale marker) got one at `now_ms`, a stale marker if
    /// `marked`.
    pub fn seen(&mut self, n: u16, before_ms: i64, (now_ms, marked): (i64, bool), series: u32) {
        if let Some(p) = self.get_mut(n) {
            p.churn.seen_n(before_ms, now_ms, marked, series);
        }
    }

    /// A series of `n` whose latest sample arrived at `last_ms` (0: none, or
    /// a stale marker) was evicted.
    pub fn removed(&mut self, n: u16, last_ms: i64) {
        if let Some(p) = self.get_mut(n) {
            p.kept = p.kept.saturating_sub(1);
            p.churn.forget(last_ms);
        }
    }

    /// `p`'s numbers at `now_ms`, new series per second over `counted_ms`
    /// (that of all traffic, so that rows add up to the total).
    fn card(&self, p: &Party, now_ms: i64, counted_ms: i64) -> PartyCard {
        PartyCard {
            name: p.name.clone(),
            active: p.churn.active(now_ms, self.stale_after_ms),
            kept: p.kept,
            samples_per_s: p.samples.per_second(now_ms, PARTY_RATE_SECS),
            new_per_s: (p.churn.turnover(now_ms, CHURN_SPAN_MS, self.stale_after_ms))
                .per_second(counted_ms)
                .0,
        }
    }

    /// Whether `p` is listed: series kept, or samples lately (a rate not yet
    /// known is not nothing); with its samples per second (0 when not yet
    /// known) for the order.
    fn listed(p: &Party, now_ms: i64) -> Option<f64> {
        let samples = p.samples.per_second(now_ms, PARTY_RATE_SECS);
        (p.kept > 0 || samples != Some(0.0)).then(|| samples.unwrap_or(0.0))
    }

    /// Every tenant or sender with series kept or samples lately, most
    /// active series first (then most samples, then by name); new series per
    /// second over `counted_ms` (see [`Parties::card`]).
    pub fn cards(&self, now_ms: i64, counted_ms: i64) -> Vec<PartyCard> {
        let mut cards: Vec<(f64, PartyCard)> = self
            .slots
            .iter()
            .filter_map(|p| Some((Self::listed(p, now_ms)?, self.card(p, now_ms, counted_ms))))
            .collect();
        cards.sort_by(|(sa, a), (sb, b)| {
            b.active
                .cmp(&a.active)
                .then(sb.total_cmp(sa))
                .then_with(|| a.name.cmp(&b.name))
        });
        cards.into_iter().map(|(_, c)| c).collect()
    }

    /// How many have series kept or samples lately, and the one with the most
    /// active series (then samples, then by name) among them: what the
    /// dashboard's header shows every frame, without sorting them all.
    pub fn top(&self, now_ms: i64, counted_ms: i64) -> (usize, Option<PartyCard>) {
        let mut count = 0;
        let mut best: Option<(u64, f64, &Party)> = None;
        for p in &self.slots {
            let Some(samples) = Self::listed(p, now_ms) else {
                continue;
            };
            count += 1;
            let active = p.churn.active(now_ms, self.stale_after_ms);
            let better = best.is_none_or(|(a, s, b)| {
                (active, samples) > (a, s) || ((active, samples) == (a, s) && p.name < b.name)
            });
            if better {
                best = Some((active, samples, p));
            }
        }
        (
            count,
            best.map(|(_, _, p)| self.card(p, now_ms, counted_ms)),
        )
    }

    /// Bytes it holds.
    pub fn bytes(&self) -> usize {
        self.bytes
            + self.by_name.capacity() * (size_of::<(String, u16)>() + 1)
            + self.slots.capacity() * size_of::<Party>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_732_000_000_000;

    #[test]
    fn each_party_counts_its_own_series_and_samples() {
        let mut parties = Parties::new(300_000);
        let (a, b) = (parties.number("team-a"), parties.number("team-b"));
        assert_eq!(parties.number("team-a"), a);
        for _ in 0..3 {
            parties.created(a, T0);
            parties.seen(a, 0, (T0, false), 1);
        }
        parties.created(b, T0);
        parties.seen(b, 0, (T0, false), 1);
        for s in 0..5 {
            parties.sent(a, T0 + s * 1000, 30);
            parties.sent(b, T0 + s * 1000, 10);
        }
        parties.removed(a, T0);
        assert_eq!(
            parties.cards(T0 + 1000, 1000)[0].samples_per_s,
            None,
            "not yet known"
        );
        let cards = parties.cards(T0 + 5000, 5000);
        let names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["team-a", "team-b"]);
        assert_eq!((cards[0].active, cards[0].kept), (2, 2));
        assert_eq!((cards[1].active, cards[1].kept), (1, 1));
        assert_eq!(cards[0].samples_per_s, Some(30.0));
        assert_eq!(cards[1].samples_per_s, Some(10.0));
        // Long after, nothing is active, but the series are still kept.
        let later = parties.cards(T0 + 3_600_000, 60_000);
        assert_eq!(later[0].active + later[1].active, 0);
    }

    #[test]
    fn the_top_one_is_the_first_card() {
        let mut parties = Parties::new(300_000);
        assert_eq!(parties.top(T0, 1000), (0, None));
        for (name, series, samples) in [("b", 2, 5), ("a", 2, 5), ("c", 3, 1), ("d", 0, 9)] {
            let n = parties.number(name);
            for _ in 0..series {
                parties.created(n, T0);
                parties.seen(n, 0, (T0, false), 1);
            }
            parties.sent(n, T0, samples);
        }
        for now in [T0 + 1000, T0 + 3_600_000] {
            let cards = parties.cards(now, 1000);
            let (count, top) = parties.top(now, 1000);
            assert_eq!(
                (count, top.as_ref()),
                (cards.len(), cards.first()),
                "at {now}"
            );
        }
        assert_eq!(parties.top(T0 + 1000, 1000).1.unwrap().name, "c");
    }

    #[test]
    fn a_flood_of_names_stays_bounded_and_keeps_those_with_series() {
        let mut parties = Parties::new(300_000);
        let busy = parties.number("busy");
        parties.created(busy, T0);
        for i in 0..10_000 {
            let n = parties.number(&format!("one-off-{i}-{}", "x".repeat(100)));
            if i % 2 == 0 {
                parties.created(n, T0);
            }
        }
        assert!(parties.slots.len() <= MAX_PARTIES + 1);
        assert_eq!(parties.by_name.len(), parties.slots.len() - 1);
        assert_eq!(parties.name(busy), Some("busy"));
        assert_eq!(parties.number("busy"), busy);
        // With every place holding series, newcomers are the others.
        assert_eq!(parties.number("late"), OTHERS);
        assert!(parties.bytes() < 4 << 20, "{}", parties.bytes());
        let recount: usize = parties
            .slots
            .iter()
            .map(|p| {
                p.bytes()
                    + if p.name == OTHERS_NAME {
                        0
                    } else {
                        p.name.len()
                    }
            })
            .sum();
        assert_eq!(parties.bytes, recount);
    }
}
