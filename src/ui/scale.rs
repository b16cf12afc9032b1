//! Placing values on a few cells or dots: charts, sparklines and bars. Any f64
//! a sender can send must land on the screen, so every scale here works on
//! ranges whose width overflows (`-1e308..1e308`), is zero, or is subnormal,
//! and never hands a non-finite or out-of-range position to the drawing code.

/// The span of the finite values seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    /// Smallest finite value.
    pub lo: f64,
    /// Largest finite value.
    pub hi: f64,
}

impl Extent {
    /// The extent of the finite values among `values`; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Extent> {
        values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(None, |extent, v| {
                Some(match extent {
                    None => Extent { lo: v, hi: v },
                    Some(Extent { lo, hi }) => Extent {
                        lo: lo.min(v),
                        hi: hi.max(v),
                    },
                })
            })
    }

    /// Whether every value is the same.
    pub fn is_flat(&self) -> bool {
        self.span().is_none()
    }

    /// The width of the extent and the factor the values were scaled by to
    /// keep it finite (`hi - lo` overflows for `-1e308..1e308`); `None` when
    /// the extent has no width.
    fn span(&self) -> Option<(f64, f64)> {
        let scale = if (self.hi - self.lo).is_finite() {
            1.0
        } else {
            0.5
        };
        let span = self.hi * scale - self.lo * scale;
        (span > 0.0).then_some((span, scale))
    }

    /// Where `v` lies in the extent: 0 at `lo`, 1 at `hi`, clamped to that;
    /// 0.5 for a flat extent; `None` for a non-finite `v`.
    pub fn fraction(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        let Some((span, scale)) = self.span() else {
            return Some(0.5);
        };
        let f = (v * scale - self.lo * scale) / span;
        // `f` is finite: both terms are, and `span` is positive.
        Some(f.clamp(0.0, 1.0))
    }

    /// Which of `steps` levels `v` falls on (0 at `lo`, `steps - 1` at `hi`);
    /// `None` for a non-finite `v` or no steps.
    pub fn level(&self, v: f64, steps: usize) -> Option<usize> {
        let top = steps.checked_sub(1)?;
        let f = self.fraction(v)?;
        Some(((f * top as f64).round() as usize).min(top))
    }
}

/// `count` as a bar of at most `cells` cells relative to `max` (the largest
/// finite count shown): zero, negative and non-finite counts get no bar.
pub fn bar_cells(count: f64, max: f64, cells: usize) -> usize {
    if !(count > 0.0 && count.is_finite() && max > 0.0 && max.is_finite()) {
        return 0;
    }
    Extent { lo: 0.0, hi: max }
        .level(count, cells + 1)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGES: &[&[f64]] = &[
        &[0.0, 1e307],
        &[-1e308, 1e308],
        &[f64::MIN, f64::MAX],
        &[5e-324, 1e-323, 0.0, -5e-324],
        &[7.0, 7.0],
        &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 3.0],
    ];

    #[test]
    fn every_value_of_every_range_lands_inside() {
        for values in RANGES {
            let extent = Extent::of(values.iter().copied()).unwrap();
            for &v in *values {
                if let Some(f) = extent.fraction(v) {
                    assert!((0.0..=1.0).contains(&f), "{v} in {values:?}: {f}");
                }
                if let Some(level) = extent.level(v, 8) {
                    assert!(level < 8, "{v} in {values:?}: {level}");
                }
            }
        }
    }

    #[test]
    fn ends_of_the_range_are_its_ends() {
        for values in RANGES {
            let extent = Extent::of(values.iter().copied()).unwrap();
            if extent.is_flat() {
                assert_eq!(extent.fraction(extent.lo), Some(0.5));
            } else {
                assert_eq!(extent.fraction(extent.lo), Some(0.0), "{values:?}");
                assert_eq!(extent.fraction(extent.hi), Some(1.0), "{values:?}");
            }
        }
        let wide = Extent::of([-1e308, 1e308]).unwrap();
        assert_eq!(wide.fraction(0.0), Some(0.5));
        assert_eq!(Extent::of([f64::NAN, f64::INFINITY]), None);
        assert_eq!(wide.fraction(f64::NAN), None);
    }

    #[test]
    fn bars_stay_within_their_cells() {
        assert_eq!(bar_cells(5.0, 10.0, 16), 8);
        assert_eq!(bar_cells(10.0, 10.0, 16), 16);
        assert_eq!(bar_cells(1e308, f64::MAX, 16), 9);
        for count in [f64::NAN, f64::INFINITY, -1.0, 0.0] {
            assert_eq!(bar_cells(count, 10.0, 16), 0, "{count}");
        }
        assert_eq!(bar_cells(1.0, f64::NAN, 16), 0);
    }
}
