//! PromQL series selectors (`name{label="v", other=~"re"}`) parsed into label matchers.

use regex::Regex;

use super::{FilterError, describe_regex_error};

/// One label matcher of a selector.
#[derive(Debug, Clone)]
pub(super) struct Matcher {
    label: String,
    op: Op,
}

#[derive(Debug, Clone)]
enum Op {
    Equal(String),
    NotEqual(String),
    /// Compiled as `^(?s:re)$`, as Prometheus does.
    Regex(Regex),
    NotRegex(Regex),
}

impl Matcher {
    /// The label it looks at.
    pub(super) fn label(&self) -> &str {
        &self.label
    }

    /// Whether a series passes; a label it lacks has the value "", as in Prometheus.
    pub(super) fn matches<'a>(&self, labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let value = labels
            .into_iter()
            .find(|(name, _)| *name == self.label)
            .map_or("", |(_, value)| value);
        match &self.op {
            Op::Equal(want) => value == want,
            Op::NotEqual(want) => value != want,
            Op::Regex(regex) => regex.is_match(value),
            Op::NotRegex(regex) => !regex.is_match(value),
        }
    }
}

/// Whether `text` is a selector rather than a regex: it starts with `{`, or with a
/// metric name and a `{` that does not open a regex repetition such as `a{2}`.
pub(super) fn looks_like_selector(text: &str) -> bool {
    if text.starts_with('{') {
        return true;
    }
    let name = metric_name(text);
    if name.is_empty() {
        return false;
    }
    match text[name.len()..].trim_start().strip_prefix('{') {
        Some(inside) => !inside
            .trim_start()
            .starts_with(|c: char| c.is_ascii_digit() || c == ','),
        None => false,
    }
}

/// The legacy metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) at the start of `text`, or "".
fn metric_name(text: &str) -> &str {
    identifier(text, true)
}

fn identifier(text: &str, allow_colon: bool) -> &str {
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':');
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        return "";
    }
    let end = text.find(|c: char| !is_part(c)).unwrap_or(text.len());
    &text[..end]
}

/// Parses the selector starting at byte `start` of `input`, to the end of `input`.
/// Errors carry 1-based character positions in `input`.
pub(super) fn parse(input: &str, start: usize) -> Result<Vec<Matcher>, FilterError> {
    let mut p = Parser { input, pos: start };
    let mut matchers = Vec::new();
    let name = metric_name(p.rest());
    if !name.is_empty() {
        p.pos += name.len();
        matchers.push(Matcher {
            label: "__name__".to_owned(),
            op: Op::Equal(name.to_owned()),
        });
    }
    p.skip_whitespace();
    if !p.eat("{") {
        return Err(p.error(p.pos, "expected \"{\""));
    }
    loop {
        p.skip_whitespace();
        if p.eat("}") {
            break;
        }
        if p.rest().is_empty() {
            return Err(p.error(p.pos, "missing closing \"}\""));
        }
        matchers.push(p.matcher()?);
        p.skip_whitespace();
        if p.eat("}") {
            break;
        }
        if p.rest().is_empty() {
            return Err(p.error(p.pos, "missing closing \"}\""));
        }
        if !p.eat(",") {
            return Err(p.error(p.pos, "expected \",\" or \"}\""));
        }
    }
    p.skip_whitespace();
    if let Some(c) = p.rest().chars().next() {
        return Err(p.error(
            p.pos,
            format!("unexpected {:?} after \"}}\"", c.to_string()),
        ));
    }
    // Equality checks are cheaper than regexes, so let them reject series first.
    matchers.sort_by_key(|m| matches!(m.op, Op::Regex(_) | Op::NotRegex(_)));
    Ok(matchers)
}

struct Parser<'a> {
    input: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.rest().starts_with(token);
        if found {
            self.pos += token.len();
        }
        found
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        self.pos = self.input.len() - self.rest().trim_start().len();
    }

    fn error(&self, byte: usize, message: impl Into<String>) -> FilterError {
        FilterError::Selector {
            message: message.into(),
            position: Some(self.input[..byte].chars().count() + 1),
        }
    }

    /// `label op "value"`, or a bare string naming the metric.
    fn matcher(&mut self) -> Result<Matcher, FilterError> {
        let quoted = self.rest().starts_with(['"', '\'', '`']);
        let label = if quoted {
            self.string()?
        } else {
            let name = identifier(self.rest(), false);
            if name.is_empty() {
                return Err(self.error(self.pos, "expected a label name"));
            }
            self.pos += name.len();
            name.to_owned()
        };
        self.skip_whitespace();
        let op_start = self.pos;
        let op = ["=~", "!=", "!~", "="].into_iter().find(|op| self.eat(op));
        let Some(op) = op else {
            if quoted {
                return Ok(Matcher {
                    label: "__name__".to_owned(),
                    op: Op::Equal(label),
                });
            }
            return Err(self.error(
                op_start,
                format!("expected \"=\", \"!=\", \"=~\" or \"!~\" after label name {label:?}"),
            ));
        };
        self.skip_whitespace();
        let value_start = self.pos;
        if !self.rest().starts_with(['"', '\'', '`']) {
            return Err(self.error(
                value_start,
                format!("expected a quoted string after {op:?}"),
            ));
        }
        let value = self.string()?;
        let compile = |value: &str| {
            // Check the regex alone first: wrapped, "a)|(b" would compile as "^(?s:a)|(b)$".
            Regex::new(value)
                .and_then(|_| Regex::new(&format!("^(?s:{value})$")))
                .map_err(|err| {
                    let (message, _) = describe_regex_error(value, &err);
                    self.error(
                        value_start,
                        format!("invalid regex for label {label:?}: {message}"),
                    )
                })
        };
        let op = match op {
            "=" => Op::Equal(value),
            "!=" => Op::NotEqual(value),
            "=~" => Op::Regex(compile(&value)?),
            _ => Op::NotRegex(compile(&value)?),
        };
        Ok(Matcher { label, op })
    }

    /// A PromQL string: `"…"` or `'…'` with Go escapes, or raw `` `…` ``.
    fn string(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        let unterminated = |p: &Self| p.error(start, "unterminated string");
        let Some(quote) = self.bump() else {
            return Err(unterminated(self));
        };
        if quote == '`' {
            let end = self.rest().find('`').ok_or_else(|| unterminated(self))?;
            let raw = self.rest()[..end].to_owned();
            self.pos += end + 1;
            return Ok(raw);
        }
        // Bytes, because `\xNN` and octal escapes are bytes that may form UTF-8 together.
        let mut out = Vec::new();
        loop {
            match self.bump().ok_or_else(|| unterminated(self))? {
                c if c == quote => break,
                '\\' => self.escape(quote, &mut out, start)?,
                c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        String::from_utf8(out).map_err(|_| self.error(start, "string is not valid UTF-8"))
    }

    /// The escape after a backslash, as Go's `strconv.Unquote` reads it.
    fn escape(&mut self, quote: char, out: &mut Vec<u8>, start: usize) -> Result<(), FilterError> {
        let backslash = self.pos - 1;
        let c = self
            .bump()
            .ok_or_else(|| self.error(start, "unterminated string"))?;
        let simple = match c {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            c if c == quote => Some(quote as u8),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            return Ok(());
        }
        let invalid = |p: &Self| p.error(backslash, format!("invalid escape sequence \"\\{c}\""));
        match c {
            'x' => {
                let byte = self.digits(2, 16).ok_or_else(|| invalid(self))?;
                out.push(byte as u8);
            }
            '0'..='7' => {
                // Three octal digits, the first already read; at most \377.
                let rest = self.digits(2, 8).ok_or_else(|| invalid(self))?;
                let byte =
                    u8::try_from((c as u32 - '0' as u32) * 64 + rest).map_err(|_| invalid(self))?;
                out.push(byte);
            }
            'u' | 'U' => {
                let len = if c == 'u' { 4 } else { 8 };
                let ch = self
                    .digits(len, 16)
                    .and_then(char::from_u32)
                    .ok_or_else(|| invalid(self))?;
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
            }
            _ => {
                return Err(self.error(backslash, format!("unknown escape sequence \"\\{c}\"")));
            }
        }
        Ok(())
    }

    /// Exactly `count` digits in `radix`, as a number.
    fn digits(&mut self, count: usize, radix: u32) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..count {
            let digit = self.bump()?.to_digit(radix)?;
            value = value * radix + digit;
        }
        Some(value)
    }
}
