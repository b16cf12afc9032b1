//! Numbers and times for people, shared by every output: sample values (exact,
//! or rounded to a column), timestamps, and counts, bytes and durations with units.

use std::fmt::Write;
use std::time::Duration;

pub use crate::calendar::parse_duration;
use crate::proto::is_stale_nan;

/// A sample value as text: the shortest decimal that parses back to the same
/// f64, or `NaN`, `StaleNaN` (Prometheus's stale marker), `+Inf`, `-Inf`.
pub fn value(v: f64) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

/// Appends [`value`]'s text to `out`.
pub fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str(if is_stale_nan(v) { "StaleNaN" } else { "NaN" });
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == v.trunc() && v.abs() < 1e15 {
        // Integers (most samples) print without the exponent check below.
        let _ = write!(out, "{}", v as i64);
        if v == 0.0 && v.is_sign_negative() {
            out.insert(out.len() - 1, '-');
        }
    } else {
        // Rust's float formatting is shortest-round-trip; like JavaScript, use
        // positional notation for exponents in [-7, 21) and scientific otherwise.
        let sci = format!("{v:e}");
        let exp: i32 = sci
            .rsplit_once('e')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0);
        if (-7..21).contains(&exp) {
            let _ = write!(out, "{v}");
        } else {
            out.push_str(&sci);
        }
    }
}

/// Milliseconds since the epoch as `2024-11-19T07:06:40.123Z` (UTC); timestamps
/// outside years 0..=9999 are shown as the raw number.
pub fn timestamp(ms: i64) -> String {
    crate::calendar::rfc3339_ms(ms)
}

/// Time of day `07:06:40.123` (UTC) for compact columns.
pub fn time_of_day(ms: i64) -> String {
    let full = timestamp(ms);
    match full.find('T') {
        Some(t) => full[t + 1..full.len() - 1].to_owned(),
        None => full,
    }
}

/// `one` for a count of exactly 1, else `many`: `1 sample`, `0 samples`,
/// `2 samples`.
pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// A count with an SI suffix: `999`, `1.2k`, `3.4M`, `5.6G`.
/// A rate: below 1/s with two decimals, so that one a minute does not read
/// 0.0; from 1/s as [`count`].
pub fn rate(r: f64) -> String {
    match r {
        0.0 => "0".into(),
        r if r < 0.995 => format!("{r:.2}"),
        r => count(r),
    }
}

pub fn count(n: f64) -> String {
    let abs = n.abs();
    let (scaled, suffix) = if abs >= 1e9 {
        (n / 1e9, "G")
    } else if abs >= 1e6 {
        (n / 1e6, "M")
    } else if abs >= 1e3 {
        (n / 1e3, "k")
    } else {
        return if n == n.trunc() {
            format!("{n:.0}")
        } else {
            format!("{n:.1}")
        };
    };
    if scaled.abs() >= 100.0 {
        format!("{scaled:.0}{suffix}")
    } else {
        format!("{scaled:.1}{suffix}")
    }
}

/// What a rate not yet known shows (see [`crate::store::rate::RateBuckets::per_second`]).
pub const UNKNOWN: &str = "…";

/// A rate as [`count`] has it, or [`UNKNOWN`].
pub fn count_or_unknown(n: Option<f64>) -> String {
    n.map_or_else(|| UNKNOWN.to_owned(), count)
}

/// A byte count with a binary suffix: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A duration in seconds as `850ms`, `12s`, `3m04s`, `2h05m`, `3d04h`, rounded
/// to the last unit shown (4.999 s is `5s`, never `4s`).
pub fn duration_secs(secs: f64) -> String {
    if !secs.is_finite() {
        return "?".into();
    }
    let neg = if secs < 0.0 { "-" } else { "" };
    let s = secs.abs();
    // Each form is chosen by the value rounded to its own unit, so that a
    // rounding that carries over (59.6 s, 999.7 ms) takes the next form.
    let ms = (s * 1000.0).round() as u64;
    if ms < 1000 {
        return format!("{neg}{ms}ms");
    }
    let whole = s.round() as u64;
    if whole < 3600 {
        return match whole {
            0..=59 => format!("{neg}{whole}s"),
            _ => format!("{neg}{}m{:02}s", whole / 60, whole % 60),
        };
    }
    let minutes = (s / 60.0).round() as u64;
    if minutes < 24 * 60 {
        return format!("{neg}{}h{:02}m", minutes / 60, minutes % 60);
    }
    let hours = (s / 3600.0).round() as u64;
    format!("{neg}{}d{:02}h", hours / 24, hours % 24)
}

/// A latency with three significant digits where they matter: `85µs`,
/// `1.24ms`, `31.2ms`, `850ms`, `2.50s`, then as [`duration_secs`].
pub fn latency(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    match micros {
        m if m < 1_000.0 => format!("{m:.0}µs"),
        m if m < 10_000.0 => format!("{:.2}ms", m / 1e3),
        m if m < 100_000.0 => format!("{:.1}ms", m / 1e3),
        m if m < 1_000_000.0 => format!("{:.0}ms", m / 1e3),
        m if m < 10_000_000.0 => format!("{:.2}s", m / 1e6),
        m => duration_secs(m / 1e6),
    }
}

/// A latency quantile read from buckets about 9% wide (the backend's p50 and
/// p99), known to about ±5%: two significant digits, `85µs`, `1.2ms`, `31ms`,
/// `850ms`, `2.5s`, then as [`duration_secs`]. Three would claim a precision
/// the buckets do not have.
pub fn quantile_latency(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    // Rounded first, so that 9,960µs reads 10ms, not 10.0ms or 9.96ms.
    let rounded = if micros >= 1.0 {
        let unit = 10f64.powi(micros.log10().floor() as i32 - 1);
        (micros / unit).round() * unit
    } else {
        micros.round()
    };
    match rounded {
        m if m < 1_000.0 => format!("{m:.0}µs"),
        m if m < 10_000.0 => format!("{:.1}ms", m / 1e3),
        m if m < 1_000_000.0 => format!("{:.0}ms", m / 1e3),
        m if m < 10_000_000.0 => format!("{:.1}s", m / 1e6),
        m => duration_secs(m / 1e6),
    }
}

/// How long after its timestamp a sample arrived (`duration_secs`), whatever
/// the timestamp: one at `i64::MIN` is some 106,752,011,213 days behind, not
/// the 106,751,991,167 a saturated difference of milliseconds held it at.
pub fn lag(arrival_ms: i64, timestamp_ms: i64) -> String {
    let ms = i128::from(arrival_ms) - i128::from(timestamp_ms);
    duration_secs(ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::STALE_NAN_BITS;

    #[test]
    fn lags_of_any_timestamp() {
        let now = 1_732_000_000_000;
        assert_eq!(lag(now, now - 1_500), "2s");
        assert_eq!(lag(now, now + 61_000), "-1m01s");
        assert_eq!(lag(now, i64::MIN), "106752011213d14h");
        assert_eq!(lag(now, i64::MAX), "-106751971121d00h");
    }

    #[test]
    fn latencies() {
        let cases = [
            (Duration::from_micros(85), "85µs"),
            (Duration::from_micros(1_240), "1.24ms"),
            (Duration::from_micros(31_240), "31.2ms"),
            (Duration::from_micros(850_400), "850ms"),
            (Duration::from_millis(2_500), "2.50s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(90), "1m30s"),
        ];
        for (d, text) in cases {
            assert_eq!(latency(d), text);
        }
    }

    #[test]
    fn quantile_latencies_have_two_digits() {
        let cases = [
            (Duration::ZERO, "0µs"),
            (Duration::from_micros(85), "85µs"),
            (Duration::from_micros(854), "850µs"),
            (Duration::from_micros(996), "1.0ms"),
            (Duration::from_micros(1_240), "1.2ms"),
            (Duration::from_micros(9_960), "10ms"),
            (Duration::from_micros(31_240), "31ms"),
            (Duration::from_micros(850_400), "850ms"),
            (Duration::from_micros(996_000), "1.0s"),
            (Duration::from_millis(2_540), "2.5s"),
            (Duration::from_millis(9_960), "10s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(94), "1m34s"),
        ];
        for (d, text) in cases {
            assert_eq!(quantile_latency(d), text, "{d:?}");
        }
    }

    #[test]
    fn values_are_shortest_round_trip() {
        for v in [
            0.1,
            1.0 / 3.0,
            1e21,
            1e-7,
            123456.789,
            1e300,
            5e-324,
            -2.5,
            1e15,
            12345678901234567.0,
        ] {
            let text = value(v);
            assert_eq!(text.parse::<f64>().unwrap(), v, "{text}");
        }
        assert_eq!(value(1.0), "1");
        assert_eq!(value(-0.0), "-0");
        assert_eq!(value(0.5), "0.5");
        assert_eq!(value(1e21), "1e21");
        assert_eq!(value(f64::from_bits(STALE_NAN_BITS)), "StaleNaN");
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_732_000_000_123), "2024-11-19T07:06:40.123Z");
        assert_eq!(timestamp(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(timestamp(i64::MAX), format!("{}ms", i64::MAX));
        assert_eq!(time_of_day(1_732_000_000_123), "07:06:40.123");
    }

    #[test]
    fn human_units() {
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1234.0), "1.2k");
        assert_eq!(count(2_500_000.0), "2.5M");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(duration_secs(0.25), "250ms");
        assert_eq!(duration_secs(184.0), "3m04s");
    }

    #[test]
    fn durations_are_rounded_not_cut() {
        assert_eq!(duration_secs(4.999), "5s");
        assert_eq!(duration_secs(4.4), "4s");
        assert_eq!(duration_secs(-4.6), "-5s");
        assert_eq!(duration_secs(0.9996), "1s");
        assert_eq!(duration_secs(0.0004), "0ms");
        assert_eq!(duration_secs(59.6), "1m00s");
        assert_eq!(duration_secs(3599.6), "1h00m");
        assert_eq!(duration_secs(2.0 * 3600.0 + 5.0 * 60.0 + 40.0), "2h06m");
        assert_eq!(duration_secs(86_399.0), "1d00h");
        assert_eq!(duration_secs(3.0 * 86_400.0 + 4.6 * 3600.0), "3d05h");
        assert_eq!(
            duration_secs(f64::MAX),
            format!("{}d{:02}h", u64::MAX / 24, u64::MAX % 24)
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration(" 10 s "), Ok(Duration::from_secs(10)));
        assert!(parse_duration("10d").unwrap_err().contains("unknown unit"));
        for bad in ["", "s", "0s", "ten", "5 parsecs", "-1s", "1e999"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
