//! The terminal loop: sets up and always restores the terminal, reads keys on a
//! thread of their own, and multiplexes keys, batches and frame ticks with input
//! first, so heavy ingest never starves the keyboard.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use crate::app::{App, keymap};
use crate::ingest::model::Batch;
use crate::ingest::server::ReceiverStats;
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

/// Restores the terminal: mouse capture off, raw mode off, main screen back.
fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// Runs the dashboard until the user quits or `shutdown` completes; returns the store.
pub async fn run(
    mut rx: mpsc::Receiver<Batch>,
    stats: Arc<ReceiverStats>,
    listen: std::net::SocketAddr,
    limits: StoreLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Store> {
    // ratatui's hook restores raw mode and the screen; ours, installed after it,
    // runs first and also releases the mouse. The panic message prints afterwards.
    let mut terminal = ratatui::try_init()?;
    let ratatui_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui_hook(info);
    }));
    if let Err(e) = execute!(io::stdout(), EnableMouseCapture) {
        restore();
        return Err(e);
    }
    let result = event_loop(&mut terminal, &mut rx, &stats, listen, limits, shutdown).await;
    restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    rx: &mut mpsc::Receiver<Batch>,
    stats: &ReceiverStats,
    listen: std::net::SocketAddr,
    limits: StoreLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Store> {
    let (key_tx, mut keys) = mpsc::channel::<io::Result<Event>>(256);
    std::thread::spawn(move || {
        loop {
            let ev = event::read();
            let failed = ev.is_err();
            if key_tx.blocking_send(ev).is_err() || failed {
                break;
            }
        }
    });
    let mut store = Store::new(limits);
    let mut app = App::new(listen, now_ms());
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(shutdown);
    let mut dirty = true;
    let mut last_draw = Instant::now() - IDLE_REDRAW;
    loop {
        tokio::select! {
            biased;
            ev = keys.recv() => {
                let Some(ev) = ev else { break };
                if let Some(action) = keymap::action_for(&ev?, app.filter.editing, app.help) {
                    app.apply(action, &mut store);
                    dirty = true;
                }
                if app.quit {
                    break;
                }
            }
            _ = &mut shutdown => break,
            _ = tick.tick() => {
                if dirty || last_draw.elapsed() >= IDLE_REDRAW {
                    app.dropped_requests = stats.dropped_requests.load(Ordering::Relaxed);
                    app.body_rows = crate::ui::body_rows(terminal.size()?.height);
                    app.tick(now_ms(), &store);
                    terminal.draw(|frame| crate::ui::render(frame, &app, &store))?;
                    dirty = false;
                    last_draw = Instant::now();
                }
            }
            batch = rx.recv() => {
                let Some(batch) = batch else { break };
                app.receive(batch, &mut store);
                dirty = true;
            }
        }
    }
    Ok(store)
}
