//! What `promscope replay` takes from the top-level options (and so from a
//! `--config` file, whose keys stand before the subcommand): live mode's
//! `--no-tui`, `--format` and `--report` pick headless output as
//! `replay --no-tui --format F` does, the dashboard keeps series and holds
//! pauses within the same limits as live mode's, and requests are decoded
//! and checked within the receiver's limits and rules.

use crate::ingest::server::Limits;
use crate::output::Format;
use crate::output::cardinality::CardinalityTracker;
use crate::tui::DashboardLimits;

use super::ReplayArgs;

/// How a replay runs.
pub enum Mode {
    /// Into the dashboard, within these limits.
    Dashboard(DashboardLimits),
    /// Printed as headless mode prints, with the report asked for at exit.
    Headless(Format, Option<Box<CardinalityTracker>>),
    /// Re-sent to this URL.
    Resend(String),
}

/// A replay's mode and the limits its requests are decoded and checked within.
pub struct Setup {
    pub limits: Limits,
    pub mode: Mode,
}

/// What live mode would do with the top-level options (and a --config
/// file's): see [`crate::cli::Cli::replay_setup`].
pub struct Live {
    /// The receiver's limits, with every --rule and --limit (`replay`'s last).
    pub limits: Limits,
    /// `--no-tui`, and what it prints: `--format`, and the `--report` tracker.
    pub no_tui: bool,
    pub format: Format,
    pub report: Option<Box<CardinalityTracker>>,
    /// The dashboard's limits (`--max-series`, `--pause-buffer-bytes`...).
    pub dashboard: DashboardLimits,
}

/// The replay `args` ask for, with live mode's options where `args` say
/// nothing: `replay`'s own flags override them, as flags override a config file.
pub fn setup(live: Live, args: &ReplayArgs) -> Result<Setup, String> {
    let limits = live.limits;
    // Re-sending prints nothing: a --no-tui meant for live mode does not stop it.
    if let Some(url) = &args.to {
        return Ok(Setup {
            limits,
            mode: Mode::Resend(url.clone()),
        });
    }
    let mode = if args.no_tui || live.no_tui {
        if args.max_series.is_some() || args.max_store_bytes.is_some() {
            return Err(
                "`replay --max-series` and `--max-store-bytes` are the dashboard's; --no-tui \
                 (given, or `no-tui: true` in the --config file) prints the records instead"
                    .into(),
            );
        }
        Mode::Headless(args.format.unwrap_or(live.format), live.report)
    } else {
        if args.format.is_some() {
            return Err("`replay --format` is what --no-tui prints: give --no-tui too".into());
        }
        let mut dashboard = live.dashboard;
        let store = &mut dashboard.store;
        store.max_series = args.max_series.unwrap_or(store.max_series);
        store.max_bytes = args.max_store_bytes.unwrap_or(store.max_bytes);
        dashboard.request_limits = crate::app::request::RequestLimits::of(&limits);
        Mode::Dashboard(dashboard)
    };
    Ok(Setup { limits, mode })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;

    /// The setup of the replay in the command line `argv` (after `promscope`),
    /// read as `main` reads it (a --config file's options included).
    fn setup_of(argv: &[&str]) -> Result<Setup, String> {
        let argv = std::iter::once("promscope").chain(argv.iter().copied());
        let mut cli = crate::config::cli_from(argv.map(Into::into).collect())?;
        let Some(Command::Replay(args)) = cli.command.take() else {
            panic!("not a replay: {argv:?}", argv = cli.command);
        };
        cli.replay_setup(&args)
    }

    fn config(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "promscope-replay-options-{}-{name}.yml",
            std::process::id()
        ));
        std::fs::write(&path, text).expect("a temporary config file");
        path
    }

    fn dashboard(argv: &[&str]) -> DashboardLimits {
        match setup_of(argv).map(|s| s.mode) {
            Ok(Mode::Dashboard(limits)) => limits,
            Ok(_) => panic!("{argv:?}: not the dashboard"),
            Err(e) => panic!("{argv:?}: {e}"),
        }
    }

    /// The format, and whether a report is printed at exit.
    fn headless(argv: &[&str]) -> (Format, bool) {
        match setup_of(argv).map(|s| s.mode) {
            Ok(Mode::Headless(format, report)) => (format, report.is_some()),
            Ok(_) => panic!("{argv:?}: not headless"),
            Err(e) => panic!("{argv:?}: {e}"),
        }
    }

    #[test]
    fn the_dashboard_holds_pauses_and_series_within_the_top_level_limits() {
        let default = dashboard(&["replay", "f.warc"]);
        assert_eq!(default.pause_buffer_bytes, crate::app::PAUSE_BUFFER_BYTES);
        let given = dashboard(&["--pause-buffer-bytes", "4096", "replay", "f.warc"]);
        assert_eq!(given.pause_buffer_bytes, 4096);
        let file = config("pause", "pause-buffer-bytes: 8192\nsamples-per-series: 7\n");
        let path = file.to_str().expect("a UTF-8 temporary path");
        let from_file = dashboard(&["replay", "f.warc", "--config", path]);
        std::fs::remove_file(&file).ok();
        assert_eq!(from_file.pause_buffer_bytes, 8192);
        assert_eq!(from_file.store.samples_per_series, 7);
        // replay's own store flags over the top-level ones.
        let store = dashboard(&[
            "--max-series",
            "10",
            "--max-store-bytes",
            "123456",
            "replay",
            "f.warc",
            "--max-series",
            "20",
        ]);
        assert_eq!(
            (store.store.max_series, store.store.max_bytes),
            (20, 123456)
        );
    }

    #[test]
    fn a_config_files_no_tui_and_format_replay_headless_as_the_flags_do() {
        assert_eq!(
            headless(&["replay", "f.warc", "--no-tui", "--format", "json"]),
            (Format::Json, false)
        );
        assert_eq!(
            headless(&["--no-tui", "--format", "json", "replay", "f.warc"]),
            (Format::Json, false)
        );
        let file = config(
            "headless",
            "no-tui: true\nformat: json\nreport: cardinality\n",
        );
        let path = file.to_str().expect("a UTF-8 temporary path");
        let from_file = headless(&["--config", path, "replay", "f.warc"]);
        let after = headless(&["replay", "f.warc", "--config", path]);
        // replay's own --format over the file's.
        let own = headless(&["replay", "f.warc", "--config", path, "--format", "text"]);
        // --to re-sends whatever the file says about printing.
        let resend = setup_of(&["replay", "f.warc", "--config", path, "--to", "http://x/"]);
        std::fs::remove_file(&file).ok();
        assert_eq!(from_file, (Format::Json, true));
        assert_eq!(after, from_file);
        assert_eq!(own, (Format::Text, true));
        assert!(matches!(resend.map(|s| s.mode), Ok(Mode::Resend(_))));
    }

    #[test]
    fn format_without_no_tui_and_store_flags_with_no_tui_are_refused() {
        let e = setup_of(&["replay", "f.warc", "--format", "json"]).err();
        assert!(e.is_some_and(|e| e.contains("--no-tui")));
        let e = setup_of(&["--no-tui", "replay", "f.warc", "--max-series", "5"]).err();
        assert!(e.is_some_and(|e| e.contains("dashboard")));
    }
}
