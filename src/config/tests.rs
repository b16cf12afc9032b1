use std::net::SocketAddr;

use clap::{Arg, ArgAction, Command, value_parser};

use super::*;

fn cmd() -> Command {
    Command::new("promscope")
        .arg(
            Arg::new("listen")
                .long("listen")
                .value_parser(value_parser!(SocketAddr)),
        )
        .arg(Arg::new("demo").long("demo").action(ArgAction::SetTrue))
        .arg(
            Arg::new("max_series")
                .long("max-series")
                .value_parser(value_parser!(usize)),
        )
        .arg(Arg::new("rule").long("rule").action(ArgAction::Append))
        .arg(Arg::new("limit").long("limit").action(ArgAction::Append))
        .arg(Arg::new("config").long("config"))
}

/// Knows two rules and one limit.
fn check(option: &str, flag: &str) -> Result<(), String> {
    let (name, value) = flag.split_once('=').ok_or("no =")?;
    match option {
        "rule" if !["out-of-order", "too-old"].contains(&name) => {
            Err(format!("unknown rule {name:?}"))
        }
        "rule" if !["off", "warn", "reject"].contains(&value) => {
            Err(format!("unknown action {value:?}"))
        }
        "limit" if name != "too-old" => Err(format!("no limit {name:?}")),
        _ => Ok(()),
    }
}

fn args(text: &str) -> Result<Vec<String>, String> {
    args_of(text, &cmd(), &check)
}

#[test]
fn a_file_stands_for_the_flags_it_names_in_order() {
    let text = "\
# promscope.yml
listen: 0.0.0.0:9201
demo: true
max-series: 1000
rules:
  out-of-order: reject
  too-old: off
limits:
  too-old: 2h
";
    assert_eq!(
        args(text).unwrap(),
        [
            "--listen",
            "0.0.0.0:9201",
            "--demo",
            "--max-series",
            "1000",
            "--rule",
            "out-of-order=reject",
            "--rule",
            "too-old=off",
            "--limit",
            "too-old=2h",
        ]
    );
    assert_eq!(args("").unwrap(), Vec::<String>::new());
    assert_eq!(args("# nothing\n").unwrap(), Vec::<String>::new());
    assert_eq!(args("demo: false\nrules:\n").unwrap(), Vec::<String>::new());
}

#[test]
fn errors_name_the_key_and_its_line() {
    let e = args("demo: true\nmax-series: lots\n").unwrap_err();
    assert!(e.contains("max-series: invalid value 'lots'"), "{e}");
    assert!(e.contains("line 2"), "{e}");
    let e = args("demo: true\nlisten:\n  - 1.2.3.4:9\n  - nowhere\n").unwrap_err();
    assert!(
        e.contains("listen[1]: invalid value 'nowhere'") && e.contains("line 4"),
        "{e}"
    );
    let e = args("demo: true\n\nmax-seriess: 10\n").unwrap_err();
    assert!(
        e.contains("max-seriess: no such option") && e.contains("line 3"),
        "{e}"
    );
    let e = args("rules:\n  out-of-order: warn\n  out-of-ordr: reject\n").unwrap_err();
    assert!(
        e.contains("rules.out-of-ordr: unknown rule \"out-of-ordr\"") && e.contains("line 3"),
        "{e}"
    );
    let e = args("limits:\n  too-old: 1h\n  too-new: 1h\n").unwrap_err();
    assert!(
        e.contains("limits.too-new: no limit") && e.contains("line 3"),
        "{e}"
    );
    let e = args("demo: yes please\n").unwrap_err();
    assert!(
        e.contains("demo: \"yes please\" is not true or false"),
        "{e}"
    );
    for not_here in ["config: other.yml", "help: true"] {
        let e = args(not_here).unwrap_err();
        assert!(e.contains("no such option"), "{e}");
    }
    let e = args("- listen\n").unwrap_err();
    assert!(e.contains("a map of option names to values"), "{e}");
    let e = args("rules: [out-of-order]\n").unwrap_err();
    assert!(e.contains("a map of names to values under rules:"), "{e}");
    let e = args("listen: {a: b}\n").unwrap_err();
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn the_config_path_is_found_before_and_after_a_subcommand() {
    let argv =
        |words: &[&str]| -> Vec<std::ffi::OsString> { words.iter().map(Into::into).collect() };
    assert_eq!(
        path_in(&argv(&["promscope", "--demo", "--config", "p.yml"])),
        Some("p.yml".into())
    );
    assert_eq!(
        path_in(&argv(&["promscope", "--config=q.yml", "check"])),
        Some("q.yml".into())
    );
    assert_eq!(path_in(&argv(&["promscope", "--demo"])), None);
    assert_eq!(
        path_in(&argv(&[
            "promscope",
            "check",
            "--duration",
            "1s",
            "--config",
            "x"
        ])),
        Some("x".into())
    );
    assert_eq!(
        path_in(&argv(&[
            "promscope",
            "--config",
            "a",
            "check",
            "--config=b"
        ])),
        Some("b".into())
    );
    assert_eq!(
        path_in(&argv(&["promscope", "replay", "--", "--config"])),
        None
    );
}

#[test]
fn check_takes_the_config_and_receiver_options_after_it_send_refuses_them() {
    let file = TempFile::new(
        "after-check.yml",
        "max-body-bytes: 1000\nrules:\n  out-of-order: off\n",
    );
    let path = file.0.to_string_lossy().into_owned();
    let words = |w: &[&str]| -> Vec<std::ffi::OsString> { w.iter().map(Into::into).collect() };
    let cli = cli_from(words(&[
        "promscope",
        "check",
        "--requests",
        "1",
        "--config",
        &path,
        "--max-connections",
        "7",
    ]))
    .expect("check takes --config after it");
    assert_eq!(cli.config.as_deref(), Some(file.0.as_path()));
    assert_eq!((cli.max_body_bytes, cli.max_connections), (1000, 7));
    // A flag after `check` overrides the file, as one before it does.
    let cli = cli_from(words(&[
        "promscope",
        "check",
        "--config",
        &path,
        "--max-body-bytes",
        "2000",
    ]))
    .expect("check takes receiver options after it");
    assert_eq!(cli.max_body_bytes, 2000);
    let settings = cli.problem_settings().expect("the file's rules");
    assert_eq!(
        settings.action(crate::problems::Rule::OutOfOrder),
        crate::ingest::check::Action::Off
    );
    for args in [
        &["promscope", "send", "--config", path.as_str()][..],
        &["promscope", "send", "--max-body-bytes", "10"],
        &["promscope", "replay", "x.warc", "--idle-timeout", "5s"],
    ] {
        let e = cli_from(words(args)).expect_err("send and replay receive nothing");
        assert!(e.contains("is not an option of `promscope"), "{e}");
    }
    // Replay decodes and checks as the receiver did: the file and the body limits.
    let cli = cli_from(words(&[
        "promscope",
        "replay",
        "x.warc",
        "--config",
        &path,
        "--max-body-bytes",
        "3000",
    ]))
    .expect("replay takes --config after it");
    assert_eq!(cli.max_body_bytes, 3000);
    let settings = cli.problem_settings().expect("the file's rules");
    assert_eq!(
        settings.action(crate::problems::Rule::OutOfOrder),
        crate::ingest::check::Action::Off
    );
}

#[test]
fn each_subcommands_help_lists_only_the_receiver_options_it_takes() {
    let mut cmd = command();
    let mut help_of = |name: &str| {
        let sub = cmd.find_subcommand_mut(name).expect("a subcommand");
        sub.render_long_help().to_string()
    };
    let send = help_of("send");
    for long in [
        "--config",
        "--max-body-bytes",
        "--header-timeout",
        "--web.config.file",
        "--auth-token-file",
    ] {
        assert!(!send.contains(long), "send --help lists {long}:\n{send}");
    }
    let check = help_of("check");
    for long in ["--config", "--header-timeout", "--web.config.file"] {
        assert!(check.contains(long), "check --help lacks {long}:\n{check}");
    }
    let replay = help_of("replay");
    assert!(replay.contains("--max-body-bytes"), "{replay}");
    assert!(!replay.contains("--header-timeout"), "{replay}");
    assert!(!replay.contains("--auth-token-file"), "{replay}");
    // The inspector's own help still lists them all.
    let top = cmd.render_long_help().to_string();
    assert!(top.contains("--header-timeout"), "{top}");
    assert!(top.contains("--web.config.file"), "{top}");
}

#[test]
fn send_and_replay_refuse_the_listeners_tls_and_token() {
    let words = |w: &[&str]| -> Vec<std::ffi::OsString> { w.iter().map(Into::into).collect() };
    for args in [
        &["promscope", "send", "--web.config.file", "web.yml"][..],
        &["promscope", "send", "--auth-token-file", "token"],
        &["promscope", "--auth-token-file", "token", "send"],
        &[
            "promscope",
            "replay",
            "x.warc",
            "--web.config.file",
            "web.yml",
        ],
    ] {
        let e = cli_from(words(args)).expect_err("nothing listens");
        assert!(e.contains("is not an option of `promscope"), "{e}");
    }
    let cli =
        cli_from(words(&["promscope", "check", "--auth-token-file", "t"])).expect("check listens");
    assert_eq!(cli.auth_token_file.as_deref(), Some(Path::new("t")));
}

/// A config file with `text`, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("promscope-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("temp file written");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn cli(file: &TempFile, flags: &[&str]) -> Result<Cli, String> {
    let mut argv: Vec<std::ffi::OsString> = vec!["promscope".into(), "--config".into()];
    argv.push(file.0.clone().into());
    argv.extend(flags.iter().map(Into::into));
    cli_from(argv)
}

#[test]
fn the_promscope_command_line_takes_a_file_and_flags_override_it() {
    let file = TempFile::new(
        "override.yml",
        "listen: 127.0.0.1:9333\nmax-series: 5000\nno-tui: true\nrules:\n  out-of-order: reject\n  too-old: off\nlimits:\n  too-many-labels: 40\n",
    );
    let parsed = cli(&file, &["--max-series", "7", "--rule", "out-of-order=warn"]).unwrap();
    assert_eq!(parsed.listen.to_string(), "127.0.0.1:9333");
    assert_eq!(parsed.max_series, 7);
    assert!(parsed.no_tui);
    let settings = parsed.problem_settings().unwrap();
    use crate::ingest::check::settings::Action;
    use crate::problems::Rule;
    assert_eq!(settings.action(Rule::OutOfOrder), Action::Warn);
    assert_eq!(settings.action(Rule::TooOld), Action::Off);
    assert_eq!(settings.thresholds.max_labels, 40);
    // Repeated flags all count, after the file's.
    let flags = ["--rule", "too-old=reject", "--rule", "duplicate-sample=off"];
    let settings = cli(&file, &flags).unwrap().problem_settings().unwrap();
    assert_eq!(settings.action(Rule::OutOfOrder), Action::Reject);
    assert_eq!(settings.action(Rule::TooOld), Action::Reject);
    assert_eq!(settings.action(Rule::DuplicateSample), Action::Off);
}

#[test]
fn a_wrong_file_is_an_error_naming_it_the_key_and_the_line() {
    let file = TempFile::new(
        "wrong.yml",
        "listen: 127.0.0.1:9333\nrules:\n  out-of-ordr: reject\n",
    );
    let e = cli(&file, &[]).unwrap_err();
    assert!(e.contains("wrong.yml"), "{e}");
    assert!(
        e.contains("rules.out-of-ordr") && e.contains("line 3"),
        "{e}"
    );
    assert!(e.contains("unknown rule"), "{e}");
    let file = TempFile::new("limit.yml", "limits:\n  too-old: soon\n");
    let e = cli(&file, &[]).unwrap_err();
    assert!(e.contains("limits.too-old") && e.contains("line 2"), "{e}");
    let missing = TempFile("/nonexistent/promscope.yml".into());
    let e = cli(&missing, &[]).unwrap_err();
    assert!(e.contains("/nonexistent/promscope.yml"), "{e}");
}

#[test]
fn series_limits_and_the_tenant_header_come_from_the_file() {
    let file = TempFile::new(
        "tenants.yml",
        "tenant-header: X-Tenant\nstale-after: 2m\nlimits:\n  series-per-tenant: 1000\n  series-per-metric: 50\n",
    );
    let parsed = cli(&file, &[]).unwrap();
    let limits = parsed.receiver_limits().unwrap();
    assert_eq!(
        limits.tenant_header.map(|h| h.to_string()).as_deref(),
        Some("x-tenant")
    );
    let t = limits.problems.settings().thresholds;
    assert_eq!(
        (t.max_series_per_tenant, t.max_series_per_metric),
        (1000, 50)
    );
    assert_eq!(t.series_stale_after_ms, 120_000);
    let wrong = TempFile::new("tenants-wrong.yml", "limits:\n  series-per-tenant: many\n");
    let e = cli(&wrong, &[]).unwrap_err();
    assert!(e.contains("series-per-tenant"), "{e}");
}
