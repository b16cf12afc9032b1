//! Label sets quoted in a backend's error message, as Prometheus writes them
//! (`out of order sample for series {__name__="up", job="a"}`) and Mimir
//! quotes them (`... series: 'up{job="a"}'`): `{name="value", ...}`, the
//! metric name before the brace or as `__name__`, names bare or quoted, values
//! in Go's string syntax.

/// Label sets found in one message at most: a message naming more is cut
/// there (Prometheus names one series per refused series).
pub const MAX_SETS: usize = 1024;

/// One label set, in the order written.
pub type LabelSet = Vec<(String, String)>;

/// Every label set written in `message`, in order (at most [`MAX_SETS`]).
pub fn label_sets_in(message: &str) -> Vec<LabelSet> {
    let mut sets = Vec::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        if sets.len() >= MAX_SETS {
            break;
        }
        let name = metric_name_before(&rest[..open]);
        let mut reader = Reader(&rest[open + 1..]);
        match reader.labels() {
            Some(mut labels) => {
                if let Some(name) = name
                    && !labels.iter().any(|(n, _)| n == "__name__")
                {
                    labels.insert(0, ("__name__".to_owned(), name.to_owned()));
                }
                if !labels.is_empty() {
                    sets.push(labels);
                }
                rest = reader.0;
            }
            None => rest = &rest[open + 1..],
        }
    }
    sets
}

/// The metric name written right before a `{`, if any.
fn metric_name_before(text: &str) -> Option<&str> {
    let start = text
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .map_or(0, |i| i + 1);
    let name = &text[start..];
    let first = name.chars().next()?;
    (first.is_ascii_alphabetic() || first == '_' || first == ':').then_some(name)
}

/// A cursor over the text after a `{`.
struct Reader<'a>(&'a str);

impl Reader<'_> {
    /// `name="value", ...}`; `None` when the text is not a label set.
    fn labels(&mut self) -> Option<LabelSet> {
        let mut labels = Vec::new();
        loop {
            self.skip_spaces();
            if self.eat('}') {
                return Some(labels);
            }
            let name = self.name()?;
            self.skip_spaces();
            if !self.eat('=') {
                return None;
            }
            self.skip_spaces();
            let value = self.quoted()?;
            labels.push((name, value));
            self.skip_spaces();
            if !self.eat(',') && !self.0.starts_with('}') {
                return None;
            }
        }
    }

    fn skip_spaces(&mut self) {
        self.0 = self.0.trim_start_matches(' ');
    }

    fn eat(&mut self, c: char) -> bool {
        match self.0.strip_prefix(c) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    /// A bare name, or a quoted one (UTF-8 names, Prometheus 3).
    fn name(&mut self) -> Option<String> {
        if self.0.starts_with('"') {
            return self.quoted();
        }
        let end = self
            .0
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.0.len());
        if end == 0 {
            return None;
        }
        let (name, rest) = self.0.split_at(end);
        self.0 = rest;
        Some(name.to_owned())
    }

    /// A string in Go's syntax (`strconv.Quote`): `"..."` with backslash escapes.
    fn quoted(&mut self) -> Option<String> {
        let mut chars = self.0.strip_prefix('"')?.char_indices();
        let mut out = String::new();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.0 = &self.0[i + 2..];
                    return Some(out);
                }
                '\\' => {
                    let (_, e) = chars.next()?;
                    let simple = match e {
                        'n' => Some('\n'),
                        't' => Some('\t'),
                        'r' => Some('\r'),
                        'a' => Some('\u{7}'),
                        'b' => Some('\u{8}'),
                        'f' => Some('\u{c}'),
                        'v' => Some('\u{b}'),
                        '\\' | '"' | '\'' => Some(e),
                        _ => None,
                    };
                    match simple {
                        Some(c) => out.push(c),
                        None => {
                            let digits = match e {
                                'x' => 2,
                                'u' => 4,
                                'U' => 8,
                                _ => return None,
                            };
                            let hex: String = (0..digits)
                                .map(|_| chars.next().map(|(_, c)| c))
                                .collect::<Option<_>>()?;
                            let code = u32::from_str_radix(&hex, 16).ok()?;
                            // \xNN is a byte; as text it stands for that code point.
                            out.push(char::from_u32(code)?);
                        }
                    }
                }
                c => out.push(c),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn prometheus_names_each_refused_series() {
        let message = "out of order sample for series {__name__=\"up\", instance=\"localhost:9090\", job=\"prometheus\"}\n\
                       duplicate sample for timestamp for series {__name__=\"x\", path=\"a\\\"b\\\\c\\n\"}";
        assert_eq!(
            label_sets_in(message),
            vec![
                set(&[
                    ("__name__", "up"),
                    ("instance", "localhost:9090"),
                    ("job", "prometheus")
                ]),
                set(&[("__name__", "x"), ("path", "a\"b\\c\n")]),
            ]
        );
    }

    #[test]
    fn mimir_quotes_the_metric_name_before_the_labels() {
        let message = "the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old). The affected sample has timestamp 1970-01-01T00:00:00Z and is from series http_requests_total{job=\"api\", \"utf8.name\"=\"\\u00e9\"}";
        assert_eq!(
            label_sets_in(message),
            vec![set(&[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("utf8.name", "é")
            ])]
        );
    }

    #[test]
    fn braces_that_are_not_label_sets_are_skipped() {
        assert!(label_sets_in("no sets here").is_empty());
        assert!(label_sets_in("{} {not a set} {a=b} {a=\"unterminated").is_empty());
        assert_eq!(
            label_sets_in("json {\"a\": 1} then {a=\"1\"}"),
            vec![set(&[("a", "1")])]
        );
        let many = "{a=\"1\"} ".repeat(MAX_SETS + 10);
        assert_eq!(label_sets_in(&many).len(), MAX_SETS);
    }
}
