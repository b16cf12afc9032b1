//! Calendar dates: days since 1970-01-01 to proleptic Gregorian dates and back,
//! for every place that writes or reads a date (Howard Hinnant's algorithms);
//! and durations as people write them. A leaf: it uses nothing of the crate.

use std::time::Duration;

/// Parses a duration as people write it on a command line: a number with `ms`,
/// `s`, `m` or `h`, or seconds without a unit (`500ms`, `10s`, `1.5m`, `2h`).
/// Zero is refused: every duration promscope takes is a timeout or a limit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (like 500ms, 10s, 2m)"))?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown unit {other:?} in {text:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} must be a positive duration"))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) to days since 1970-01-01, the inverse of
/// [`civil_from_days`] (Howard Hinnant's `days_from_civil`); `month` in 1..=12.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch as RFC 3339 in UTC with milliseconds,
/// `2024-11-19T07:06:40.123Z`; timestamps outside years 0..=9999 (no sender
/// means them) are shown as the raw number with `ms`.
pub fn rfc3339_ms(ms: i64) -> String {
    const MIN: i64 = -62_167_219_200_000; // 0000-01-01
    const MAX: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999
    if !(MIN..=MAX).contains(&ms) {
        return format!("{ms}ms");
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (min, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// A span of milliseconds, exact to the millisecond, as people read it:
/// `0 ms`, `5 ms`, `12.3 s`, `4 min 2.05 s`, `2 h 3 min 4 s`, `3 d 4 h 5 min`
/// (seconds lose their milliseconds past an hour, minutes their seconds past a day).
pub fn span_ms(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let seconds = |ms: u64| {
        let (s, milli) = (ms / 1000, ms % 1000);
        if milli == 0 {
            format!("{s} s")
        } else {
            let frac = format!("{milli:03}");
            format!("{s}.{} s", frac.trim_end_matches('0'))
        }
    };
    let text = match ms {
        0..1000 => format!("{ms} ms"),
        1000..60_000 => seconds(ms),
        60_000..3_600_000 => format!("{} min {}", ms / 60_000, seconds(ms % 60_000)),
        3_600_000..86_400_000 => format!(
            "{} h {} min {} s",
            ms / 3_600_000,
            ms % 3_600_000 / 60_000,
            ms % 60_000 / 1000
        ),
        _ => format!(
            "{} d {} h {} min",
            ms / 86_400_000,
            ms % 86_400_000 / 3_600_000,
            ms % 3_600_000 / 60_000
        ),
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_convert_both_ways() {
        for days in [-719_468, -1, 0, 1, 59, 60, 365, 11_016, 20_424, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn times_read_as_rfc3339_and_spans_with_units() {
        assert_eq!(rfc3339_ms(1_732_000_000_123), "2024-11-19T07:06:40.123Z");
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(i64::MAX), format!("{}ms", i64::MAX));
        let spans = [
            (0, "0 ms"),
            (5, "5 ms"),
            (999, "999 ms"),
            (1000, "1 s"),
            (12_300, "12.3 s"),
            (242_050, "4 min 2.05 s"),
            (7_384_567, "2 h 3 min 4 s"),
            (273_900_000, "3 d 4 h 5 min"),
            (-5000, "-5 s"),
        ];
        for (ms, text) in spans {
            assert_eq!(span_ms(ms), text, "{ms}");
        }
        assert!(span_ms(i64::MIN).starts_with('-'));
    }
}
