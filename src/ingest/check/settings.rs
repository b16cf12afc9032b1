//! How each rule is switched (`--rule ID=off|warn|reject`) and the thresholds
//! of the rules that have one (`--limit RULE=VALUE`): one [`Settings`] that
//! the flags and the config file fill the same way, through
//! [`Settings::set_rule`] and [`Settings::set_limit`].

use std::time::Duration;

use crate::problems::{Rule, RuleSet, Thresholds};

/// What promscope does when a rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    /// Not checked at all.
    Off,
    /// Reported (views, records, summary); the request is answered as usual.
    #[default]
    Warn,
    /// Reported, and the series it fired on refused: the request is answered
    /// 400 naming the rule and the series (RW 2.0: with the Written headers
    /// counting the rest, which is kept).
    Reject,
}

impl Action {
    /// As in flags and config: `off`, `warn`, `reject`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Off => "off",
            Action::Warn => "warn",
            Action::Reject => "reject",
        }
    }

    /// The action called `name`.
    pub fn from_name(name: &str) -> Option<Action> {
        [Action::Off, Action::Warn, Action::Reject]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

/// The rules with a threshold, by the id `--limit` names them with, and how
/// the value is written: a count, bytes, characters or a duration.
pub const LIMITS: &[(Rule, &str)] = &[
    (Rule::TooManyLabels, "labels per series"),
    (Rule::LabelNameTooLong, "bytes"),
    (Rule::LabelValueTooLong, "bytes"),
    (Rule::MetricNameTooLong, "bytes"),
    (Rule::TooOld, "duration, e.g. 1h"),
    (Rule::TooFarInFuture, "duration, e.g. 10m"),
    (Rule::HistogramTooManyBuckets, "buckets"),
    (Rule::ExemplarLabelsTooLong, "UTF-8 characters"),
    (Rule::SeriesPerTenant, "active series"),
    (Rule::SeriesPerMetric, "active series"),
];

/// Every rule's action and the thresholds: what the checks run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    actions: [Action; Rule::ALL.len()],
    pub thresholds: Thresholds,
}

impl Default for Settings {
    /// Every rule at `warn`, the thresholds at their defaults.
    fn default() -> Self {
        Settings {
            actions: [Action::Warn; Rule::ALL.len()],
            thresholds: Thresholds::default(),
        }
    }
}

impl Settings {
    /// What `rule` is set to.
    pub fn action(&self, rule: Rule) -> Action {
        self.actions[rule as usize]
    }

    /// Sets `rule` to `action`.
    pub fn set(&mut self, rule: Rule, action: Action) {
        self.actions[rule as usize] = action;
    }

    /// The rules set to `action`.
    pub fn rules_at(&self, action: Action) -> RuleSet {
        let mut set = RuleSet::default();
        for &rule in Rule::ALL {
            if self.action(rule) == action {
                set.insert(rule);
            }
        }
        set
    }

    /// Sets rule `id` to the action called `action`; the error names what is
    /// wrong and what would be right.
    pub fn set_rule(&mut self, id: &str, action: &str) -> Result<(), String> {
        let rule = Rule::from_id(id).ok_or_else(|| {
            format!(
                "unknown rule {id:?}; the rules are: {}",
                Rule::ALL
                    .iter()
                    .map(|r| r.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let action = Action::from_name(action).ok_or_else(|| {
            format!("rule {id}: unknown action {action:?}; use off, warn or reject")
        })?;
        self.set(rule, action);
        Ok(())
    }

    /// Sets the threshold of rule `id` from `value`.
    pub fn set_limit(&mut self, id: &str, value: &str) -> Result<(), String> {
        let names = || {
            LIMITS
                .iter()
                .map(|(r, unit)| format!("{} ({unit})", r.id()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rule = Rule::from_id(id)
            .filter(|r| LIMITS.iter().any(|(l, _)| l == r))
            .ok_or_else(|| format!("no limit is called {id:?}; the limits are: {}", names()))?;
        let count = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("limit {id}: {value:?} is not a whole number"))
        };
        let millis = || -> Result<i64, String> {
            let d: Duration = crate::calendar::parse_duration(value)
                .map_err(|e| format!("limit {id}: {value:?}: {e}"))?;
            i64::try_from(d.as_millis()).map_err(|_| format!("limit {id}: {value:?} is too long"))
        };
        let t = &mut self.thresholds;
        match rule {
            Rule::TooManyLabels => t.max_labels = count()?,
            Rule::LabelNameTooLong => t.max_label_name_bytes = count()?,
            Rule::LabelValueTooLong => t.max_label_value_bytes = count()?,
            Rule::MetricNameTooLong => t.max_metric_name_bytes = count()?,
            Rule::TooOld => t.too_old_ms = millis()?,
            Rule::TooFarInFuture => t.future_ms = millis()?,
            Rule::HistogramTooManyBuckets => t.max_histogram_buckets = count()?,
            Rule::ExemplarLabelsTooLong => t.max_exemplar_label_chars = count()?,
            Rule::SeriesPerTenant => t.max_series_per_tenant = count()?,
            Rule::SeriesPerMetric => t.max_series_per_metric = count()?,
            _ => return Err(format!("no limit is called {id:?}")),
        }
        Ok(())
    }

    /// Applies `ID=ACTION` (a `--rule` flag).
    pub fn apply_rule_flag(&mut self, flag: &str) -> Result<(), String> {
        let (id, action) = flag
            .split_once('=')
            .ok_or_else(|| format!("--rule {flag:?}: expected ID=off|warn|reject"))?;
        self.set_rule(id.trim(), action.trim())
    }

    /// Applies `RULE=VALUE` (a `--limit` flag).
    pub fn apply_limit_flag(&mut self, flag: &str) -> Result<(), String> {
        let (id, value) = flag
            .split_once('=')
            .ok_or_else(|| format!("--limit {flag:?}: expected RULE=VALUE"))?;
        self.set_limit(id.trim(), value.trim())
    }
}

/// `--rule`'s long help: the actions and every rule with its severity.
pub fn rule_flag_help() -> String {
    let mut help = String::from(
        "Switch a problem rule: ID=off (not checked), ID=warn (reported; the default) or ID=reject \
         (reported, and the series it fires on refused: 400 naming the rule and the series; RW 2.0 \
         with Written headers counting the rest). Repeatable. The rules:",
    );
    for &rule in Rule::ALL {
        help += &format!(
            "\n  {} ({}): {}",
            rule.id(),
            rule.severity().name(),
            rule.info().explanation
        );
    }
    help
}

/// `--limit`'s long help: every threshold, its unit and default.
pub fn limit_flag_help() -> String {
    let mut help =
        String::from("Set the threshold of a problem rule that has one. Repeatable. The limits:");
    let t = Thresholds::default();
    for &(rule, unit) in LIMITS {
        let default = match rule {
            Rule::TooManyLabels => t.max_labels.to_string(),
            Rule::LabelNameTooLong => t.max_label_name_bytes.to_string(),
            Rule::LabelValueTooLong => t.max_label_value_bytes.to_string(),
            Rule::MetricNameTooLong => t.max_metric_name_bytes.to_string(),
            Rule::TooOld => format!("{}m", t.too_old_ms / 60_000),
            Rule::TooFarInFuture => format!("{}m", t.future_ms / 60_000),
            Rule::HistogramTooManyBuckets => t.max_histogram_buckets.to_string(),
            Rule::ExemplarLabelsTooLong => t.max_exemplar_label_chars.to_string(),
            Rule::SeriesPerTenant | Rule::SeriesPerMetric => "none".to_owned(),
            _ => String::new(),
        };
        help += &format!("\n  {}=N ({unit}; default {default})", rule.id());
    }
    help
}

/// `--rule` and `--limit` after a subcommand that checks requests (`check`,
/// `replay`), as `promscope --rule` and `--limit` before it.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ProblemFlags {
    /// Switch a problem rule, as promscope --rule does (applied after the --rule flags before the subcommand and a --config file's rules). Repeatable.
    #[arg(long = "rule", value_name = "ID=ACTION", help_heading = "Problems")]
    pub rules: Vec<String>,

    /// Set a rule's threshold, as promscope --limit does. Repeatable.
    #[arg(long = "limit", value_name = "RULE=VALUE", help_heading = "Problems")]
    pub limits: Vec<String>,
}
