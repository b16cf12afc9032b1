//! The problems of a request as headless mode prints them: what the
//! [`Checker`](crate::problems::Checker) found as the request arrived
//! ([`WriteData::problems`]), with the labels of the series each is about.

use std::ops::Range;

use crate::ingest::model::WriteData;
use crate::problems::{Problem, Subject};

/// The labels of what `problem` is about (a range of `data.labels`), or none
/// for the request as a whole; and whether the series was refused.
pub fn labels_of(data: &WriteData, problem: &Problem) -> (Option<Range<u32>>, bool) {
    match &problem.subject {
        Subject::Request => (None, false),
        Subject::Series(i) => (
            data.series.get(*i as usize).map(|s| s.labels.clone()),
            false,
        ),
        Subject::Refused { labels, .. } => (Some(labels.clone()), true),
    }
}
