//! The dashboard's terminal loop, on a thread of its own: sets up and always
//! restores the terminal, reads keys on another thread, and multiplexes keys,
//! batches and frame ticks with input first, so heavy ingest never starves the
//! keyboard: a big request gives way to a key between parts of it.
//!
//! Shutdown does not depend on this loop: the process waits for termination
//! signals elsewhere, asks the loop to stop, and if it does not within a grace
//! period (a frame that never finishes), restores the terminal itself and goes on
//! without it. The summary is recorded outside the loop for the same reason.

use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{Clear, ClearType};
use tokio::sync::{mpsc, oneshot, watch};

use crate::app::replay::SharedReplay;
use crate::app::{App, CATCH_UP_SLICE, KeysWaiting, keymap};
use crate::ingest::queue::QueueReceiver;
use crate::ingest::server::{Access, ReceiverStats};
use crate::store::{Store, StoreLimits};

/// At most this many frames per second.
const FRAME: Duration = Duration::from_millis(33);
/// Redraw at least this often (ages and uptime move even without data).
const IDLE_REDRAW: Duration = Duration::from_secs(1);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Releases the mouse and blanks the alternate screen before it is left: tmux
/// (3.3a) reflows it to its size when entered, so after a resize rows wider than
/// that wrap into the pane's history and show above the prompt (`less` too).
fn release_screen() {
    let _ = execute!(io::stdout(), DisableMouseCapture, Clear(ClearType::All));
}

/// Restores the terminal: mouse off, screen blanked, raw mode off, main screen
/// back. Errors are ignored: after SIGHUP the terminal may be gone.
fn restore() {
    release_screen();
    ratatui::restore();
}

/// Why the dashboard cannot start here, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum NoTerminal {
    /// Standard output is a pipe or a file.
    #[error(
        "the dashboard needs a terminal, and standard output is not one; run with --no-tui to print what arrives instead (--format text|json|none)"
    )]
    NotATerminal,
    /// The terminal could not be set up (e.g. no controlling terminal).
    #[error(
        "the dashboard needs a terminal and could not set it up ({0}); run with --no-tui to print what arrives instead (--format text|json|none)"
    )]
    Setup(io::Error),
}

/// Checks that the dashboard has a terminal to draw on.
pub fn check_terminal() -> Result<(), NoTerminal> {
    if io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(NoTerminal::NotATerminal)
    }
}

/// What the dashboard keeps.
#[derive(Debug, Clone, Copy)]
pub struct DashboardLimits {
    /// The store's bounds.
    pub store: StoreLimits,
    /// The most a pause holds (see [`crate::app::Pause`]).
    pub pause_buffer_bytes: usize,
    /// What the receiver decodes and checks with, to open a kept request with.
    pub request_limits: crate::app::request::RequestLimits,
}

/// How the dashboard ended.
pub enum DashboardExit {
    /// Its loop returned its store: the user quit, or it stopped when asked.
    Returned(io::Result<Box<Store>>),
    /// Its thread panicked (the panic hook restored the terminal).
    Panicked,
    /// It did not stop within the grace period: the terminal was restored from
    /// outside, and its thread is left to end with the process.
    Wedged,
}

/// The dashboard, running on a thread of its own.
pub struct Dashboard {
    thread: StoppableThread<io::Result<Box<Store>>>,
    /// Set when the terminal was restored from outside: the loop must not draw again.
    released: Arc<AtomicBool>,
}

impl Dashboard {
    /// Sets up the terminal and starts the dashboard on batches from `rx`:
    /// live traffic, or with `replay`, a capture replayed on its clock.
    pub fn start(
        rx: QueueReceiver,
        stats: Arc<ReceiverStats>,
        (listen, access): (std::net::SocketAddr, Access),
        limits: DashboardLimits,
        replay: Option<Arc<SharedReplay>>,
    ) -> Result<Dashboard, NoTerminal> {
        check_terminal()?;
        // ratatui's hook restores raw mode and the screen; ours, installed after it,
        // runs first and also releases the mouse and blanks the alternate screen.
        // The panic message prints afterwards.
        let mut terminal = ratatui::try_init().map_err(NoTerminal::Setup)?;
        let ratatui_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            release_screen();
            ratatui_hook(info);
        }));
        if let Err(e) = execute!(io::stdout(), EnableMouseCapture) {
            restore();
            return Err(NoTerminal::Setup(e));
        }
        let released = Arc::new(AtomicBool::new(false));
        let released_by_loop = released.clone();
        // In forward mode the dashboard gets what inspection lets through
        // (within its share of the CPU); when it falls behind, inspection
        // drops, counted, and forwarding goes on.
        let thread = StoppableThread::spawn("dashboard", move |stop| {
            let mut rx = rx;
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .and_then(|runtime| {
                    runtime.block_on(event_loop(
                        &mut terminal,
                        &mut rx,
                        &stats,
                        (listen, access),
                        limits,
                        (stop, replay),
                        &released_by_loop,
                    ))
                });
            if !released_by_loop.load(Ordering::SeqCst) {
                restore();
            }
            result
        });
        match thread {
            Ok(thread) => Ok(Dashboard { thread, released }),
            Err(e) => {
                restore();
                Err(NoTerminal::Setup(e))
            }
        }
    }

    /// Completes when the dashboard ends by itself (the user quit).
    pub async fn finished(&mut self) -> DashboardExit {
        match self.thread.finished().await {
            Some(result) => DashboardExit::Returned(result),
            None => DashboardExit::Panicked,
        }
    }

    /// Asks the dashboard to stop and waits up to `grace` for it; if it does not
    /// stop, restores the terminal without it.
    pub async fn stop(mut self, grace: Duration) -> DashboardExit {
        match self.thread.stop(grace).await {
            Stopped::Returned(result) => DashboardExit::Returned(result),
            Stopped::Panicked => DashboardExit::Panicked,
            Stopped::Wedged => {
                self.released.store(true, Ordering::SeqCst);
                restore();
                DashboardExit::Wedged
            }
        }
    }
}

/// How a [`StoppableThread`] answered a request to stop.
#[derive(Debug, PartialEq)]
enum Stopped<T> {
    /// It returned this.
    Returned(T),
    /// It ended without returning.
    Panicked,
    /// It was still running when the grace period ended.
    Wedged,
}

/// A thread that is asked to stop through a watch channel and may not listen:
/// whoever waits for it never waits longer than they chose to.
struct StoppableThread<T> {
    stop: watch::Sender<bool>,
    done: oneshot::Receiver<T>,
}

impl<T: Send + 'static> StoppableThread<T> {
    /// Runs `work` on a new thread; `work` should return soon after its
    /// receiver turns true.
    fn spawn(
        name: &str,
        work: impl FnOnce(watch::Receiver<bool>) -> T + Send + 'static,
    ) -> io::Result<Self> {
        let (stop, stop_rx) = watch::channel(false);
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = done_tx.send(work(stop_rx));
            })?;
        Ok(StoppableThread { stop, done })
    }

    /// What the thread returned once it ends by itself; `None` if it panicked.
    async fn finished(&mut self) -> Option<T> {
        (&mut self.done).await.ok()
    }

    /// Asks the thread to stop and waits for it up to `grace`.
    async fn stop(&mut self, grace: Duration) -> Stopped<T> {
        let _ = self.stop.send(true);
        match tokio::time::timeout(grace, &mut self.done).await {
            Ok(Ok(value)) => Stopped::Returned(value),
            Ok(Err(_)) => Stopped::Panicked,
            Err(_) => Stopped::Wedged,
        }
    }
}

/// Whether a terminal event is a key (mouse moves do not make a filter pass
/// give way: they come by the dozen).
fn is_key(ev: &io::Result<Event>) -> bool {
    matches!(ev, Ok(Event::Key(_)))
}

/// Asks the terminal to put `text` on the clipboard (OSC 52). Terminals that
/// do not support it, or do not allow it, ignore it; the screen shows the text
/// to select with the mouse either way.
fn send_to_clipboard(out: &mut impl io::Write, text: &str) -> io::Result<()> {
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

/// The OSC 52 sequence that sets the clipboard to `text`.
/// Writes a request's body to a new file in the current directory; says what came of it.
fn write_body(file: &crate::app::request::BodyFile) -> String {
    let dir = std::path::Path::new(".");
    match crate::output::new_file::write_new(dir, &file.name, &file.bytes) {
        Ok(path) => format!(
            "wrote {} ({})",
            path.display(),
            crate::format::bytes(file.bytes.len() as f64)
        ),
        Err(e) => format!("could not write {}: {e}", file.name),
    }
}

fn osc52(text: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x07")
}

/// Draws the dashboard as of now (`clock`'s now).
fn draw(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    store: &Store,
    stats: &ReceiverStats,
    clock: &Clock,
) -> io::Result<()> {
    app.set_receiver_counts(
        stats.dropped_requests.load(Ordering::Relaxed),
        stats.forward.get().map(|f| f.snapshot()),
    );
    app.replay = clock.status();
    app.tick_at(clock.now_ms(app.now_ms), now_ms(), store);
    let mut drawn = None;
    terminal.draw(|frame| drawn = Some(crate::ui::render_frame(frame, app, store)))?;
    if let Some(drawn) = drawn {
        app.set_viewport(drawn.list_rows, store);
        if let Some(max) = drawn.help_scroll_max {
            app.limit_help_scroll(max);
        }
    }
    Ok(())
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    rx: &mut QueueReceiver,
    stats: &ReceiverStats,
    // Where the receiver listens and what senders need there.
    (listen, access): (std::net::SocketAddr, Access),
    limits: DashboardLimits,
    (mut stop, replay): (watch::Receiver<bool>, Option<Arc<SharedReplay>>),
    released: &AtomicBool,
) -> io::Result<Box<Store>> {
    let (key_tx, mut keys) = mpsc::channel::<io::Result<Event>>(256);
    let keys_waiting = KeysWaiting::default();
    let sent = keys_waiting.clone();
    std::thread::spawn(move || {
        loop {
            let ev = event::read();
            let failed = ev.is_err();
            let key = is_key(&ev);
            if key_tx.blocking_send(ev).is_err() || failed {
                break;
            }
            // Counted once sent: the loop may be in a filter pass that gives way.
            if key {
                sent.sent();
            }
        }
    });
    let mut store = Store::new(limits.store);
    let clock = Clock(replay);
    let mut app = App::new(listen, clock.now_ms(now_ms()));
    app.access = access;
    app.keys_waiting = keys_waiting;
    app.pause_buffer_bytes = limits.pause_buffer_bytes;
    app.request_limits = limits.request_limits;
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_draw = Instant::now() - IDLE_REDRAW;
    // A replay's capture ends; the dashboard stays until the user quits.
    let mut receiving = true;
    loop {
        tokio::select! {
            biased;
            ev = keys.recv() => {
                let Some(ev) = ev else { break };
                if is_key(&ev) {
                    app.keys_waiting.taken();
                }
                if let Some(action) = keymap::action_for(&ev?, app.key_mode()) {
                    app.apply(action, &mut store);
                    clock.follow_pause(&app);
                    dirty = true;
                }
                if let Some(selector) = app.copied.take_unsent() {
                    send_to_clipboard(terminal.backend_mut(), &selector)?;
                }
                if let Some(file) = app.take_body_to_write() {
                    app.body_written(write_body(&file));
                }
                if app.quit {
                    break;
                }
                // The key shows at once, not at the next tick (up to a frame
                // later), unless more keys wait: after the last of them.
                if dirty && !app.keys_waiting.any() {
                    draw(terminal, &mut app, &store, stats, &clock)?;
                    dirty = false;
                    last_draw = Instant::now();
                }
            }
            _ = stop.changed() => break,
            _ = tick.tick() => {
                if released.load(Ordering::SeqCst) {
                    break;
                }
                dirty |= app.catch_up(&mut store, CATCH_UP_SLICE);
                if dirty || last_draw.elapsed() >= IDLE_REDRAW {
                    draw(terminal, &mut app, &store, stats, &clock)?;
                    dirty = false;
                    last_draw = Instant::now();
                }
                // After the draw, so the keys typed so far are on screen while it runs.
                if app.filter_waiting() {
                    app.apply_typed_filter(now_ms(), &mut store);
                    dirty = true;
                }
            }
            // The rest of a request that gave way to a key (after the key).
            _ = std::future::ready(()), if app.receiving() => {
                let keys = app.keys_waiting.clone();
                app.go_on_receiving(&mut store, &|| keys.any());
                dirty = true;
            }
            batch = rx.recv(), if receiving && !app.receiving() => {
                let Some(batch) = batch else {
                    receiving = clock.0.is_some();
                    if receiving { continue } else { break }
                };
                let batch = batch.into_batch();
                clock.taken(&batch);
                let keys = app.keys_waiting.clone();
                app.receive_giving_way(batch, &mut store, &|| keys.any());
                dirty = true;
            }
        }
    }
    Ok(Box::new(store))
}

/// The time the dashboard shows: the wall clock, or a replay's.
struct Clock(Option<Arc<SharedReplay>>);

impl Clock {
    /// The time now; a replay before its first request keeps `before`.
    fn now_ms(&self, before: i64) -> i64 {
        match &self.0 {
            None => now_ms(),
            Some(replay) => replay.now_ms(Instant::now()).unwrap_or(before),
        }
    }

    /// A replay pauses its reader and its clock with the dashboard.
    fn follow_pause(&self, app: &App) {
        if let Some(replay) = &self.0 {
            replay.set_paused(app.paused.is_some(), Instant::now());
        }
    }

    /// The dashboard took `batch`.
    fn taken(&self, batch: &crate::ingest::model::Batch) {
        if let Some(replay) = &self.0 {
            replay.taken(batch.info.received_at);
        }
    }

    /// What the header says about the replay.
    fn status(&self) -> Option<crate::app::replay::ReplayStatus> {
        Some(self.0.as_ref()?.status(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clipboard_gets_the_text_base64_encoded_in_one_osc_52_sequence() {
        let mut out = Vec::new();
        send_to_clipboard(&mut out, r#"up{job="a"}"#).unwrap();
        assert_eq!(out, b"\x1b]52;c;dXB7am9iPSJhIn0=\x07");
    }

    /// Blocks the calling thread until `stop` turns true.
    fn wait_for_stop(mut stop: watch::Receiver<bool>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            while !*stop.borrow_and_update() && stop.changed().await.is_ok() {}
        });
    }

    #[tokio::test]
    async fn a_thread_that_stops_when_asked_returns_what_it_returned() {
        let mut thread = StoppableThread::spawn("test", |stop| {
            wait_for_stop(stop);
            7
        })
        .unwrap();
        // The grace period only bounds the wait; it ends as soon as the thread does.
        assert_eq!(
            thread.stop(Duration::from_secs(600)).await,
            Stopped::Returned(7)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_thread_that_does_not_stop_is_given_up_after_the_grace_period() {
        // Stands for a dashboard stuck in a frame: it never looks at `stop`.
        let stuck = Arc::new(AtomicBool::new(true));
        let still_stuck = stuck.clone();
        let mut thread = StoppableThread::spawn("test", move |_stop| {
            while still_stuck.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .unwrap();
        // Paused time moves on by itself while nothing else can happen.
        assert_eq!(thread.stop(Duration::from_secs(3)).await, Stopped::Wedged);
        stuck.store(false, Ordering::SeqCst);
    }

    #[tokio::test]
    async fn a_thread_that_panics_is_reported_and_does_not_hold_up_the_caller() {
        let panics = |_stop| -> () { panic!("a frame failed") };
        let mut thread = StoppableThread::spawn("test", panics).unwrap();
        assert_eq!(thread.finished().await, None);
        let mut thread = StoppableThread::spawn("test", panics).unwrap();
        assert_eq!(
            thread.stop(Duration::from_secs(600)).await,
            Stopped::Panicked
        );
    }
}
