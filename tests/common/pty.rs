//! A program in a pseudo-terminal, its output read on a thread of its own and
//! parsed into a screen by `vt100`: for the dashboard tests and for timing a
//! key's echo (each chunk of output is timestamped when read, before parsing).

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// A terminal's size.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub rows: u16,
    pub cols: u16,
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("terminal size is not zero")
}

/// Everything the program wrote to the terminal, parsed (and raw, if kept).
pub struct Output {
    pub parser: vt100::Parser,
    /// The raw bytes, when [`Pty::spawn`] was asked to keep them.
    pub raw: Option<Vec<u8>>,
    pub last_byte: Instant,
    /// The slave side closed: the program and everything it started are gone.
    pub eof: bool,
    /// Text looked for by [`Pty::time_echo`], and when the chunk of output
    /// that put it on the screen was read.
    wanted: Option<String>,
    seen_at: Option<Instant>,
}

/// A program running in a pty.
pub struct Pty {
    pub child: Box<dyn Child + Send + Sync>,
    /// Kept for the child's use of the pty (and its termios).
    pub master: Box<dyn MasterPty + Send>,
    keys: Box<dyn Write + Send>,
    output: Arc<(Mutex<Output>, Condvar)>,
    pub size: Size,
}

impl Pty {
    /// Starts `program` with `args` in a terminal of `size`; `keep_raw`
    /// keeps every byte it writes (not for long runs at a high frame rate).
    pub fn spawn(program: &str, args: &[&str], size: Size, keep_raw: bool) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: size.rows,
                cols: size.cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).unwrap();
        // Only the child may hold the slave, so reads end when it exits.
        drop(pair.slave);
        let output = Arc::new((
            Mutex::new(Output {
                parser: vt100::Parser::new(nonzero(size.rows), nonzero(size.cols), 0),
                raw: keep_raw.then(Vec::new),
                last_byte: Instant::now(),
                eof: false,
                wanted: None,
                seen_at: None,
            }),
            Condvar::new(),
        ));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                // Linux reports EIO once the slave is closed.
                let n = reader.read(&mut buf).unwrap_or(0);
                let read_at = Instant::now();
                let (lock, wake) = &*sink;
                let mut out = lock.lock().unwrap();
                if n == 0 {
                    out.eof = true;
                    wake.notify_all();
                    break;
                }
                out.parser.process(&buf[..n]);
                if let Some(raw) = &mut out.raw {
                    raw.extend_from_slice(&buf[..n]);
                }
                out.last_byte = read_at;
                if out.seen_at.is_none()
                    && let Some(wanted) = &out.wanted
                    && out.parser.screen().contents().contains(wanted.as_str())
                {
                    out.seen_at = Some(read_at);
                    wake.notify_all();
                }
            }
        });
        let keys = pair.master.take_writer().unwrap();
        Pty {
            child,
            master: pair.master,
            keys,
            output,
            size,
        }
    }

    /// The output so far.
    pub fn output(&self) -> MutexGuard<'_, Output> {
        self.output.0.lock().unwrap()
    }

    /// The screen's text.
    pub fn contents(&self) -> String {
        self.output().parser.screen().contents()
    }

    /// The screen once `ready` holds on its text and no output came for
    /// `quiet` (a frame is written in several chunks); panics after `limit`
    /// or if the program's output ended.
    pub fn wait_screen(
        &self,
        what: &str,
        limit: Duration,
        quiet: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> vt100::Screen {
        let deadline = Instant::now() + limit;
        loop {
            {
                let out = self.output();
                let screen = out.parser.screen();
                let text = screen.contents();
                if out.last_byte.elapsed() >= quiet && ready(&text) {
                    return screen.clone();
                }
                if out.eof || Instant::now() > deadline {
                    let eof = out.eof;
                    panic!("timed out waiting for {what} (eof: {eof}); the screen:\n{text}");
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn press(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    /// Writes `key` and waits until the screen contains `echo`: how long from
    /// the write to reading the output that put it there.
    pub fn time_echo(&mut self, key: &str, echo: &str) -> Duration {
        {
            let mut out = self.output();
            out.wanted = Some(echo.to_owned());
            out.seen_at = None;
        }
        let start = Instant::now();
        self.press(key);
        let (lock, wake) = &*self.output;
        let mut out = lock.lock().unwrap();
        let deadline = start + Duration::from_secs(10);
        while out.seen_at.is_none() {
            assert!(!out.eof, "the program ended");
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no echo {echo:?}; the screen:\n{}",
                out.parser.screen().contents()
            );
            out = wake.wait_timeout(out, left).unwrap().0;
        }
        out.wanted = None;
        out.seen_at
            .take()
            .unwrap_or(start)
            .saturating_duration_since(start)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // A failed test must not leave the program running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The remote-write URL a welcome screen shows.
pub fn welcome_url(screen: &str) -> String {
    screen
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:") && w.ends_with("/api/v1/write"))
        .unwrap_or_else(|| panic!("no URL on the welcome screen:\n{screen}"))
        .to_owned()
}
