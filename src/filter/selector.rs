//! PromQL series selectors (`name{label="v", other=~"re"}`) parsed into label matchers.

use regex::Regex;

use super::{FilterError, describe_regex_error};
use crate::text::promql;

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
        let written = p.matcher()?;
        matchers.push(p.compile(written)?);
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
    Ok(cheapest_first(matchers))
}

/// Label matchers written without the braces, from byte `start` of `input` to
/// its end: `job="api"`, `series_id=~"1.", code!="200"` (each a label name, an
/// operator and a quoted value; a comma may follow the last). `Ok(None)` when
/// the text is not that, so it is a regex; an error only for an invalid regex
/// in a matcher that is clearly one.
pub(super) fn parse_braceless(
    input: &str,
    start: usize,
) -> Result<Option<Vec<Matcher>>, FilterError> {
    let mut p = Parser { input, pos: start };
    let mut written = Vec::new();
    loop {
        p.skip_whitespace();
        match p.matcher() {
            Ok(w) if !w.bare => written.push(w),
            _ => return Ok(None),
        }
        p.skip_whitespace();
        if !p.rest().is_empty() && !p.eat(",") {
            return Ok(None);
        }
        p.skip_whitespace();
        if p.rest().is_empty() {
            break;
        }
    }
    let matchers = written.into_iter().map(|w| p.compile(w));
    Ok(Some(cheapest_first(matchers.collect::<Result<_, _>>()?)))
}

/// Equality checks are cheaper than regexes, so they reject series first.
fn cheapest_first(mut matchers: Vec<Matcher>) -> Vec<Matcher> {
    matchers.sort_by_key(|m| matches!(m.op, Op::Regex(_) | Op::NotRegex(_)));
    matchers
}

/// Whether an exact matcher's value has characters that are special in a
/// regex (`job="a.*"`): its writer may have meant `=~`.
pub(super) fn exact_value_looks_like_regex(matchers: &[Matcher]) -> bool {
    matchers.iter().any(|m| match &m.op {
        Op::Equal(v) | Op::NotEqual(v) => v.contains(|c| "\\.*+?()[]{}|^$".contains(c)),
        Op::Regex(_) | Op::NotRegex(_) => false,
    })
}

/// Whether braceless matchers are better read as the regex they also are:
/// all exact, and a value has regex characters (`code="5.."`).
pub(super) fn may_mean_a_regex(matchers: &[Matcher]) -> bool {
    let exact = |m: &Matcher| matches!(m.op, Op::Equal(_));
    matchers.iter().all(exact) && exact_value_looks_like_regex(matchers)
}

/// The selector a regex over the series text stands for, if it is label
/// matchers: with quotes (`code="5.."`, true), the same values as `=~`
/// matchers, which find the same series; without (`job=api, code=~5..`,
/// false), quoted, which no series text has. `None` for anything else.
pub(super) fn regex_meant(text: &str) -> Option<(String, bool)> {
    if let Ok(Some(matchers)) = parse_braceless(text, 0) {
        let mut out = String::from("{");
        for (i, m) in matchers.iter().enumerate() {
            let Op::Equal(value) = &m.op else {
                return None;
            };
            if i > 0 {
                out.push_str(", ");
            }
            write_name(&mut out, &m.label);
            out.push_str("=~");
            promql::write_quoted(&mut out, value);
        }
        out.push('}');
        return Some((out, true));
    }
    if text.contains(['"', '\'', '`']) {
        return None;
    }
    let mut out = String::from("{");
    for (i, item) in text.split(',').map(str::trim).enumerate() {
        // Empty: a trailing comma (`job=api,`) is still being typed.
        let name = identifier(item, false);
        let rest = item[name.len()..].trim_start();
        let op = ["=~", "!=", "!~", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))?;
        let value = rest[op.len()..].trim_start();
        if name.is_empty() || value.is_empty() || value.contains(char::is_whitespace) {
            return None;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push_str(op);
        promql::write_quoted(&mut out, value);
    }
    out.push('}');
    Some((out, false))
}

/// A label name as a selector takes it: bare if an identifier, else quoted.
fn write_name(out: &mut String, name: &str) {
    if identifier(name, false) == name && !name.is_empty() {
        out.push_str(name);
    } else {
        promql::write_quoted(out, name);
    }
}

/// A matcher as written, before a regex in it is compiled.
struct Written {
    label: String,
    op: &'static str,
    value: String,
    /// Byte offset of the value's opening quote.
    value_start: usize,
    /// A bare quoted string: the metric name, `__name__="…"`.
    bare: bool,
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
    fn matcher(&mut self) -> Result<Written, FilterError> {
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
                return Ok(Written {
                    label: "__name__".to_owned(),
                    op: "=",
                    value: label,
                    value_start: op_start,
                    bare: true,
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
        Ok(Written {
            label,
            op,
            value,
            value_start,
            bare: false,
        })
    }

    /// The matcher, its regex (if any) compiled and fully anchored.
    fn compile(&self, w: Written) -> Result<Matcher, FilterError> {
        let compile = |value: &str| {
            // Check the regex alone first: wrapped, "a)|(b" would compile as "^(?s:a)|(b)$".
            Regex::new(value)
                .and_then(|_| Regex::new(&format!("^(?s:{value})$")))
                .map_err(|err| {
                    let (message, _) = describe_regex_error(value, &err);
                    self.error(
                        w.value_start,
                        format!("invalid regex for label {:?}: {message}", w.label),
                    )
                })
        };
        let op = match w.op {
            "=" => Op::Equal(w.value),
            "!=" => Op::NotEqual(w.value),
            "=~" => Op::Regex(compile(&w.value)?),
            _ => Op::NotRegex(compile(&w.value)?),
        };
        Ok(Matcher { label: w.label, op })
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
