//! The top-level views, their names in the tab bar and the keys that open them.

/// Top-level views, cycled with Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Metric names, drilling into series and one series.
    Metrics,
    /// The latest samples across all series.
    Log,
    /// The latest requests.
    Requests,
    /// The rules that fired.
    Problems,
    /// Metrics by active series and churn, their labels and values.
    Cardinality,
}

impl Tab {
    /// All tabs, in order.
    pub const ALL: [Tab; 5] = [
        Tab::Metrics,
        Tab::Log,
        Tab::Requests,
        Tab::Problems,
        Tab::Cardinality,
    ];

    /// Title shown in the tab bar.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Metrics => "Metrics",
            Tab::Log => "Recent samples",
            Tab::Requests => "Requests",
            Tab::Problems => "Problems",
            Tab::Cardinality => "Cardinality",
        }
    }

    /// Title in a narrower tab bar, leaving room for the filter.
    pub fn short_title(self) -> &'static str {
        match self {
            Tab::Log => "Samples",
            other => other.title(),
        }
    }

    /// The fewest letters that still say which tab it is, for the narrowest
    /// tab bars (beside the tab's number, the key that opens it).
    pub fn abbreviation(self) -> &'static str {
        match self {
            Tab::Metrics => "Metr",
            Tab::Log => "Smpl",
            Tab::Requests => "Req",
            Tab::Problems => "Prob",
            Tab::Cardinality => "Card",
        }
    }

    /// The key that opens it (`1`, `2`, ...): its place in [`Tab::ALL`].
    pub fn number(self) -> usize {
        self.index() + 1
    }

    /// Its place in [`Tab::ALL`], from 0.
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub(super) fn offset(self, by: isize) -> Tab {
        let i = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Tab::ALL[(i + by).rem_euclid(Tab::ALL.len() as isize) as usize]
    }
}
