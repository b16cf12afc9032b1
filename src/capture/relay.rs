//! Who answered a recorded request, as fields of its `response` record:
//! `Promscope-Answer-From: promscope` (promscope's own answer), `backend`
//! (forward mode: the backend's answer, passed on) or `nobody` (the backend
//! gave none: promscope's 502 or 504 saying why), and in forward mode the
//! backend, the latencies, the mirrors' statuses and whether the sender gave
//! up waiting.

use std::time::Duration;

use super::Relay;
use super::warc::RecordHead;

/// The field that says who answered.
pub const ANSWER_FROM: &str = "Promscope-Answer-From";
/// The field that says the sender closed its connection before its answer,
/// and how long after its request's headers (in seconds).
const SENDER_GAVE_UP: &str = "Promscope-Sender-Gave-Up";

/// Who answered, as [`ANSWER_FROM`] says it.
pub fn answer_from(relay: Option<&Relay>) -> &'static str {
    match relay {
        None => "promscope",
        Some(r) if r.answered => "backend",
        Some(_) => "nobody",
    }
}

/// The fields besides [`ANSWER_FROM`] that a relayed request's answer carries.
pub fn fields(relay: &Relay) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("Promscope-Backend", relay.backend.clone()),
        ("Promscope-Backend-Latency", seconds(relay.backend_latency)),
        ("Promscope-Latency", seconds(relay.latency)),
    ];
    if !relay.mirrors.is_empty() {
        fields.push(("Promscope-Mirrors", relay.mirrors.join(", ")));
    }
    if let Some(after) = relay.sender_gave_up {
        fields.push((SENDER_GAVE_UP, seconds(after)));
    }
    fields
}

/// What a `response` record says of who answered: `Ok(None)` for promscope's
/// own answer (or a capture that predates the field), `Err(None)` for an
/// answerer this version does not know (the record is passed over), and
/// `Err(Some(problem))` for fields that cannot be read.
pub fn parse(head: &RecordHead) -> Result<Option<Relay>, Option<String>> {
    let answered = match head.field(ANSWER_FROM) {
        None | Some("promscope") => return Ok(None),
        Some("backend") => true,
        Some("nobody") => false,
        Some(_) => return Err(None),
    };
    let field = |name: &str| {
        head.field(name)
            .ok_or_else(|| Some(format!("its answer is relayed but it has no {name}")))
    };
    let latency = |name: &str| {
        let text = field(name)?;
        parse_seconds(text)
            .ok_or_else(|| Some(format!("its {name} {text:?} is not a number of seconds")))
    };
    Ok(Some(Relay {
        backend: field("Promscope-Backend")?.to_owned(),
        answered,
        backend_latency: latency("Promscope-Backend-Latency")?,
        latency: latency("Promscope-Latency")?,
        mirrors: head
            .field("Promscope-Mirrors")
            .map(|m| m.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default(),
        sender_gave_up: match head.field(SENDER_GAVE_UP) {
            Some(_) => Some(latency(SENDER_GAVE_UP)?),
            None => None,
        },
    }))
}

/// `1.002113457`: seconds to the nanosecond, so that a replay prints the
/// latencies live mode printed.
fn seconds(d: Duration) -> String {
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

fn parse_seconds(text: &str) -> Option<Duration> {
    let (secs, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || !digits(secs) || !digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let nanos = format!("{fraction:0<9}").parse::<u32>().ok()?;
    Some(Duration::new(secs.parse().ok()?, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_read_back_to_the_nanosecond() {
        for d in [
            Duration::ZERO,
            Duration::from_nanos(1_874_501),
            Duration::new(30, 999_999_999),
        ] {
            assert_eq!(parse_seconds(&seconds(d)), Some(d));
        }
        assert_eq!(parse_seconds("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_seconds("0.5"), Some(Duration::from_millis(500)));
        for bad in ["", ".5", "-1", "1e3", "0.1234567890", "1.2.3", "NaN"] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }
}
