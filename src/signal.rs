//! Termination signals. promscope ends the same way whichever of them arrives:
//! it stops receiving, prints (or counts) everything it acknowledged, restores
//! the terminal and prints its summary.
//!
//! Caught: SIGINT, SIGTERM, SIGHUP (the terminal went away, or `kill -HUP`) and
//! SIGQUIT; Ctrl-C elsewhere. SIGPIPE is not among them: Rust ignores it in every
//! program, so a write to a closed pipe fails with `BrokenPipe`, which the outputs
//! take as a quiet end. SIGKILL and SIGSTOP cannot be caught.

use std::io;

/// Handlers for every termination signal, installed when this is created, so a
/// signal that arrives before anyone waits for it is not lost.
pub struct Termination {
    #[cfg(unix)]
    signals: [tokio::signal::unix::Signal; 4],
}

/// Names of the caught signals, in the order of [`Termination::signals`].
#[cfg(unix)]
const NAMES: [&str; 4] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

impl Termination {
    /// Starts catching the termination signals (must be called within the Tokio runtime).
    pub fn catch() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Termination {
                signals: [
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::hangup())?,
                    signal(SignalKind::quit())?,
                ],
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Termination {})
        }
    }

    /// Completes when a termination signal arrives; returns its name.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            let [int, term, hup, quit] = &mut self.signals;
            let caught = tokio::select! {
                _ = int.recv() => 0,
                _ = term.recv() => 1,
                _ = hup.recv() => 2,
                _ = quit.recv() => 3,
            };
            NAMES[caught]
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Sends `signal` to this process.
    fn raise(signal: &str) {
        let status = std::process::Command::new("kill")
            .args([
                &format!("-{}", &signal[3..]),
                &std::process::id().to_string(),
            ])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    #[tokio::test]
    async fn every_termination_signal_is_caught_and_named() {
        let mut termination = Termination::catch().unwrap();
        for name in NAMES {
            // Sent before anyone waits: the handler is already installed.
            raise(name);
            assert_eq!(termination.recv().await, name);
        }
    }
}
