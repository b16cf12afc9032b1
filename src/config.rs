//! `--config promscope.yml`: the command line's options in a YAML file, as
//! Prometheus's own configuration files are written. Each key is an option's
//! long name without `--`; `rules` and `limits` are maps standing for
//! repeated `--rule ID=ACTION` and `--limit RULE=VALUE`:
//!
//! ```yaml
//! listen: 0.0.0.0:9201
//! max-series: 200000
//! rules:
//!   out-of-order: reject
//!   label-value-empty: off
//! limits:
//!   too-old: 2h
//! ```
//!
//! The file becomes command-line arguments put before the user's, so that the
//! user's flags override it. Every value is checked as its option checks it,
//! and an error names the file, the key and the line.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

use clap::{ArgAction, CommandFactory, FromArgMatches};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use crate::cli::Cli;
use crate::ingest::check::settings::Settings;

/// Options a config file cannot set.
const NOT_IN_FILE: &[&str] = &["config", "help", "version"];

/// Keys holding a map of repeated `--KEY NAME=VALUE` options, and that option.
const MAPS: &[(&str, &str)] = &[("rules", "rule"), ("limits", "limit")];

/// Checks one repeated `NAME=VALUE` option beyond its syntax (a rule's id, a
/// limit's value): `(option, value)`.
pub type Check<'a> = &'a dyn Fn(&str, &str) -> Result<(), String>;

/// The arguments `text` (a config file's contents) stands for, each value
/// checked by `cmd`'s parser for its option and by `check`.
pub fn args_of(text: &str, cmd: &clap::Command, check: Check) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let seed = File {
        cmd,
        check,
        args: &mut args,
    };
    match seed.deserialize(serde_yaml_ng::Deserializer::from_str(text)) {
        Ok(()) => Ok(args),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads the file at `path` into arguments (see [`args_of`]); errors start
/// with the path.
pub fn read(path: &Path, cmd: &clap::Command, check: Check) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--config {}: {e}", path.display()))?;
    args_of(&text, cmd, check).map_err(|e| format!("--config {}: {e}", path.display()))
}

/// The top-level options that are global (`promscope check --config f.yml`
/// is `promscope --config f.yml check`): the receiver's, which `check` uses
/// too. `send` receives nothing, so it refuses them; `replay` takes those it
/// uses ([`REPLAY_GLOBALS`]). A subcommand's help lists only those it takes.
pub const RECEIVER_GLOBALS: &[&str] = &[
    "config",
    "max_body_bytes",
    "max_compressed_bytes",
    "max_bytes_in_flight",
    "max_connections",
    "header_timeout",
    "body_timeout",
    "idle_timeout",
    "web_config_file",
    "auth_token_file",
];

/// The [`RECEIVER_GLOBALS`] that `replay` uses: it decodes and checks the
/// requests as the receiver did, with a --config file's rules and limits.
pub const REPLAY_GLOBALS: &[&str] = &["config", "max_body_bytes", "max_compressed_bytes"];

/// The [`RECEIVER_GLOBALS`] the subcommand `name` takes.
fn globals_of(name: &str) -> &'static [&'static str] {
    match name {
        "check" => RECEIVER_GLOBALS,
        "replay" => REPLAY_GLOBALS,
        _ => &[],
    }
}

/// The command line's grammar: [`Cli`]'s, with each subcommand's help
/// leaving out the [`RECEIVER_GLOBALS`] it does not take (clap copies global
/// options into every subcommand; [`cli_from`] refuses those it ignores).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    for sub in cmd.get_subcommands_mut() {
        let used = globals_of(sub.get_name());
        let unused = |a: &clap::Arg| {
            let id = a.get_id().as_str();
            RECEIVER_GLOBALS.contains(&id) && !used.contains(&id)
        };
        // In place: the built command finds its options by their places.
        *sub = std::mem::take(sub).mut_args(|a| {
            let hide = unused(&a) || a.is_hide_set();
            a.hide(hide)
        });
    }
    cmd
}

/// The command line `argv`, with the options of its `--config` file (if
/// any) put before the others, so that flags override the file. Exits as
/// clap does on a wrong command line; an unreadable or wrong file, or a
/// receiver option given to `send` (or one `replay` does not use), is an error naming it.
pub fn cli_from(argv: Vec<OsString>) -> Result<Cli, String> {
    refuse_unused_globals(&argv)?;
    let all = match path_in(&argv) {
        None => argv,
        Some(path) => {
            let file = read(&path, &Cli::command(), &check_problem_flag)?;
            let mut all = argv;
            let rest = all.split_off(1.min(all.len()));
            all.extend(file.into_iter().map(OsString::from));
            all.extend(rest);
            all
        }
    };
    let matches = command().get_matches_from(all);
    Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
}

/// An error if `argv` gives a subcommand other than `check` one of the
/// [`RECEIVER_GLOBALS`] it would ignore. (A command line clap refuses
/// is left to the parse that counts, with the config file's options.)
fn refuse_unused_globals(argv: &[OsString]) -> Result<(), String> {
    let cmd = command();
    let Ok(matches) = cmd.clone().try_get_matches_from(argv) else {
        return Ok(());
    };
    let Some((name, sub)) = matches.subcommand() else {
        return Ok(());
    };
    let used = globals_of(name);
    for &id in RECEIVER_GLOBALS.iter().filter(|id| !used.contains(id)) {
        if sub.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
            let long = cmd
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_long())
                .unwrap_or(id);
            return Err(format!(
                "--{long} is not an option of `promscope {name}`: it sets the receiver of \
                 the inspector and of `promscope check`"
            ));
        }
    }
    Ok(())
}

/// Checks a `--rule` or `--limit` value as the settings will take it.
fn check_problem_flag(option: &str, flag: &str) -> Result<(), String> {
    let mut settings = Settings::default();
    match option {
        "rule" => settings.apply_rule_flag(flag),
        "limit" => settings.apply_limit_flag(flag),
        _ => Ok(()),
    }
}

/// The `--config` path in `argv` (before or after a subcommand; the last
/// one given, as the flag's last value counts), up to a `--`.
pub fn path_in(argv: &[std::ffi::OsString]) -> Option<std::path::PathBuf> {
    let mut words = argv.iter().skip(1);
    let mut path = None;
    while let Some(word) = words.next() {
        let Some(word) = word.to_str() else {
            continue;
        };
        if word == "--config" {
            path = words.next().map(Into::into);
        } else if let Some(given) = word.strip_prefix("--config=") {
            path = Some(given.into());
        } else if word == "--" {
            break;
        }
    }
    path
}

struct File<'a> {
    cmd: &'a clap::Command,
    check: Check<'a>,
    args: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for File<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for File<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of option names to values")
    }

    /// An empty file sets nothing.
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(Key(self.cmd))? {
            if let Some(&(_, option)) = MAPS.iter().find(|(k, _)| *k == key) {
                map.next_value_seed(Pairs {
                    key: &key,
                    option,
                    check: self.check,
                    args: &mut *self.args,
                })?;
                continue;
            }
            let Some(arg) = option_named(self.cmd, &key) else {
                continue;
            };
            map.next_value_seed(Values(OptionValue {
                key: &key,
                arg,
                cmd: self.cmd,
                args: &mut *self.args,
            }))?;
        }
        Ok(())
    }
}

/// The option `key` names, unless a file may not set it.
fn option_named<'c>(cmd: &'c clap::Command, key: &str) -> Option<&'c clap::Arg> {
    if NOT_IN_FILE.contains(&key) {
        return None;
    }
    cmd.get_arguments().find(|a| a.get_long() == Some(key))
}

/// A top-level key, refused where it stands unless it names an option.
struct Key<'c>(&'c clap::Command);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Key<'_> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an option's name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        if MAPS.iter().any(|(k, _)| *k == key) || option_named(self.0, key).is_some() {
            return Ok(key.to_owned());
        }
        Err(E::custom(format!(
            "{key}: no such option (the keys are promscope's long options \
             without --, and rules: and limits:)"
        )))
    }
}

/// Something that takes a YAML scalar, spelled as on the command line.
trait Take {
    fn take(&mut self, value: String) -> Result<(), String>;
}

/// A scalar handed to a [`Take`], its error raised where the scalar stands.
struct Scalar<'t, T>(&'t mut T);

impl<'de, T: Take> DeserializeSeed<'de> for Scalar<'_, T> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<T: Take> Visitor<'_> for Scalar<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.take(v.to_owned()).map_err(E::custom)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.take(v.to_string()).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.take(v.to_string()).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.0.take(v.to_string()).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.take(v.to_string()).map_err(E::custom)
    }
}

/// The value of a top-level key: one scalar, or a list for a repeatable option.
struct Values<T>(T);

impl<'de, T: Take> DeserializeSeed<'de> for Values<T> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Take> Visitor<'de> for Values<T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value or a list of values")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Scalar(&mut self.0))?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        Scalar(&mut self.0).visit_str(v)
    }
    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        Scalar(&mut self.0).visit_bool(v)
    }
    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        Scalar(&mut self.0).visit_i64(v)
    }
    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        Scalar(&mut self.0).visit_u64(v)
    }
    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<(), E> {
        Scalar(&mut self.0).visit_f64(v)
    }
}

/// A value of an option, checked by the option's own parser.
struct OptionValue<'a> {
    key: &'a str,
    arg: &'a clap::Arg,
    cmd: &'a clap::Command,
    args: &'a mut Vec<String>,
}

impl Take for OptionValue<'_> {
    fn take(&mut self, value: String) -> Result<(), String> {
        let key = self.key;
        if matches!(
            self.arg.get_action(),
            ArgAction::SetTrue | ArgAction::SetFalse
        ) {
            return match value.as_str() {
                "true" => {
                    self.args.push(format!("--{key}"));
                    Ok(())
                }
                "false" => Ok(()),
                // serde_yaml_ng names the key (its path) before the message.
                other => Err(format!("{other:?} is not true or false")),
            };
        }
        // Parsed as the command line would; only errors about the value
        // count (what the option requires may come from elsewhere).
        let argv = [self.cmd.get_name(), &format!("--{key}"), &value];
        if let Err(e) = self.cmd.clone().try_get_matches_from(argv) {
            use clap::error::ErrorKind::{InvalidUtf8, InvalidValue, ValueValidation};
            if matches!(e.kind(), InvalidValue | ValueValidation | InvalidUtf8) {
                let e = e.to_string();
                let first = e.lines().next().unwrap_or_default();
                return Err(first.trim_start_matches("error: ").to_owned());
            }
        }
        self.args.push(format!("--{key}"));
        self.args.push(value);
        Ok(())
    }
}

/// `rules:` or `limits:`: a map of names to values, each a repeated option.
struct Pairs<'a> {
    key: &'a str,
    option: &'a str,
    check: Check<'a>,
    args: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Pairs<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pairs<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a map of names to values under {}:", self.key)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            let mut pair = Pair {
                pairs: &mut self,
                name,
            };
            map.next_value_seed(Scalar(&mut pair))?;
        }
        Ok(())
    }
}

/// One entry of [`Pairs`].
struct Pair<'p, 'a> {
    pairs: &'p mut Pairs<'a>,
    name: String,
}

impl Take for Pair<'_, '_> {
    fn take(&mut self, value: String) -> Result<(), String> {
        let p = &mut *self.pairs;
        let flag = format!("{}={value}", self.name);
        (p.check)(p.option, &flag)?;
        p.args.push(format!("--{}", p.option));
        p.args.push(flag);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
