//! Text shared by every output (dashboard, headless text and JSON, the summary):
//! escaping what a sender controls, series in PromQL notation, and the block-wise
//! byte tests both use; label sets quoted in a backend's messages. Human-readable numbers and times are in [`crate::format`].

pub mod escape;
pub mod labelsets;
pub mod promql;
pub mod scan;

/// `s` as kept from a sender: at most `max_bytes` (3 or more), ending with `…` when cut (at
/// a character boundary), so a header or message of any length costs a
/// bounded amount wherever it is kept.
pub fn bounded(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_owned();
    }
    let cut = s.floor_char_boundary(max_bytes.saturating_sub('…'.len_utf8()));
    format!("{}…", &s[..cut])
}

/// A message's first line, without the blanks around it.
pub fn first_line(message: &str) -> &str {
    message.trim().lines().next().unwrap_or_default()
}

/// An error and its causes on one line: hyper's top-level message alone
/// ("client error (Connect)", "error reading a body from connection") does
/// not say what happened.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn bounded_cuts_at_a_character_boundary_and_says_so() {
        assert_eq!(super::bounded("short", 8), "short");
        assert_eq!(super::bounded("abcdefgh", 8), "abcdefgh");
        assert_eq!(super::bounded("abcdefghi", 8), "abcde…");
        // 'é' is two bytes: never cut inside it.
        assert_eq!(super::bounded("abcdéfgh", 8), "abcd…");
    }
}
