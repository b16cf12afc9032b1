//! The recent samples of one series, in a fixed-capacity ring.

use std::collections::VecDeque;

/// A retained sample: timestamp and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Sample time, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Value (for histogram series: the observation count).
    pub value: f64,
}

/// Up to `capacity` most recent points of a series, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    points: VecDeque<Point>,
}

impl Ring {
    /// Appends a point, dropping the oldest when `capacity` is reached.
    pub fn push(&mut self, point: Point, capacity: usize) {
        if capacity == 0 {
            return;
        }
        while self.points.len() >= capacity {
            self.points.pop_front();
        }
        self.points.push_back(point);
    }

    /// The newest point.
    pub fn last(&self) -> Option<Point> {
        self.points.back().copied()
    }

    /// Points, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Point> + ExactSizeIterator + Clone + '_ {
        self.points.iter().copied()
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_up_to_capacity() {
        let mut r = Ring::default();
        for i in 0..10 {
            r.push(
                Point {
                    timestamp_ms: i,
                    value: i as f64,
                },
                4,
            );
        }
        assert_eq!(r.len(), 4);
        assert_eq!(
            r.iter().map(|p| p.timestamp_ms).collect::<Vec<_>>(),
            [6, 7, 8, 9]
        );
        assert_eq!(r.last().unwrap().timestamp_ms, 9);
    }
}
