//! Replay's clock: the time a replayed capture is at, for the dashboard's
//! rates, lags and "last seen", and when the reader hands over each request.
//!
//! The clock is recorded time. Flat out, it is the arrival time of the latest
//! request the dashboard took; at `--speed N`, it runs N times as fast as the
//! wall clock from the first request's arrival time, and stops while paused
//! (the reader waits too) and once the capture has ended. Wall instants are
//! passed in: nothing here reads a clock, so tests step time by hand.
//!
//! ```text
//! replay reader ─▶ SharedReplay::wait_turn (paused? due?) ─▶ channel ─▶ tui: taken(); tick: now_ms(), status()
//! ```

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How fast requests are replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// The recorded gaps between requests divided by this factor.
    Times(f64),
    /// No waiting.
    Max,
}

/// Milliseconds since the epoch of `t` (negative before it).
pub fn epoch_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// Maps recorded time onto the wall clock.
#[derive(Debug)]
pub struct ReplayClock {
    speed: Speed,
    /// The first request's recorded time, and the wall instant it stands at
    /// (moved on by the length of each pause).
    origin: Option<(i64, Instant)>,
    /// Set while paused: since when.
    paused_at: Option<Instant>,
    /// The latest recorded time among the requests the dashboard took.
    latest_ms: Option<i64>,
    /// The reader reached the end of the capture (or its damage).
    ended: bool,
}

impl ReplayClock {
    /// A clock for a replay at `speed`.
    pub fn new(speed: Speed) -> Self {
        ReplayClock {
            speed,
            origin: None,
            paused_at: None,
            latest_ms: None,
            ended: false,
        }
    }

    /// When the request recorded at `recorded_ms` is due, read at `wall`:
    /// `None` when it is due now (flat out, or its time has come). The first
    /// request sets the origin.
    pub fn due(&mut self, recorded_ms: i64, wall: Instant) -> Option<Instant> {
        let (t0, at) = *self.origin.get_or_insert((recorded_ms, wall));
        let Speed::Times(factor) = self.speed else {
            return None;
        };
        let gap = recorded_ms.saturating_sub(t0).max(0) as f64 / 1000.0;
        let due = at + Duration::from_secs_f64(gap / factor);
        (due > wall).then_some(due)
    }

    /// Pauses at `wall` (no request is due and the clock stands still).
    pub fn pause(&mut self, wall: Instant) {
        self.paused_at.get_or_insert(wall);
    }

    /// Resumes at `wall`: the time paused is taken out of the pace.
    pub fn resume(&mut self, wall: Instant) {
        if let (Some(since), Some((_, at))) = (self.paused_at.take(), self.origin.as_mut()) {
            *at += wall.saturating_duration_since(since);
        }
    }

    /// Whether paused.
    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// The dashboard took a request recorded at `recorded_ms`.
    pub fn taken(&mut self, recorded_ms: i64) {
        self.latest_ms = Some(self.latest_ms.map_or(recorded_ms, |l| l.max(recorded_ms)));
    }

    /// The reader handed over its last request.
    pub fn end(&mut self) {
        self.ended = true;
    }

    /// The recorded time at `wall`; `None` before the first request.
    pub fn now_ms(&self, wall: Instant) -> Option<i64> {
        let latest = self.latest_ms?;
        match (self.speed, self.origin) {
            (Speed::Times(factor), Some((t0, at))) if !self.ended => {
                let wall = self.paused_at.unwrap_or(wall);
                let elapsed = wall.saturating_duration_since(at).as_secs_f64();
                Some((t0 + (elapsed * factor * 1000.0) as i64).max(latest))
            }
            _ => Some(latest),
        }
    }

    /// The first request's recorded time.
    pub fn start_ms(&self) -> Option<i64> {
        self.origin.map(|(t0, _)| t0)
    }
}

/// What the whole capture holds, once counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureTotals {
    /// Requests in it.
    pub requests: u64,
    /// From the first request's arrival to the last's.
    pub span_ms: i64,
}

/// What the header says about a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayStatus {
    /// The file replayed, as given.
    pub file: String,
    /// The pace.
    pub speed: Speed,
    /// Recorded time since the first request.
    pub position_ms: i64,
    /// Requests the dashboard took.
    pub requests: u64,
    /// What the capture holds, once counted.
    pub totals: Option<CaptureTotals>,
    /// The reader is done: the capture ended, or was damaged (then: where and why).
    pub ended: Option<Result<(), String>>,
}

/// A replay's state, shared by the reader thread, the capture's counter and
/// the dashboard.
#[derive(Debug)]
pub struct SharedReplay {
    state: Mutex<ReplayState>,
    changed: Condvar,
}

#[derive(Debug)]
struct ReplayState {
    clock: ReplayClock,
    file: String,
    requests: u64,
    totals: Option<CaptureTotals>,
    ended: Option<Result<(), String>>,
    /// Nobody wants more requests: the reader stops waiting.
    cancelled: bool,
}

impl SharedReplay {
    /// A replay of `file` at `speed`, nothing read yet.
    pub fn new(file: String, speed: Speed) -> Self {
        SharedReplay {
            state: Mutex::new(ReplayState {
                clock: ReplayClock::new(speed),
                file,
                requests: 0,
                totals: None,
                ended: None,
                cancelled: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ReplayState> {
        // The state stays consistent whatever panicked while holding it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks the reader until the request recorded at `recorded_ms` is due:
    /// while paused, and at `--speed N` until its time comes. False once
    /// cancelled: the reader should stop.
    pub fn wait_turn(&self, recorded_ms: i64) -> bool {
        let mut state = self.lock();
        loop {
            if state.cancelled {
                return false;
            }
            if state.clock.is_paused() {
                state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            let now = Instant::now();
            let Some(due) = state.clock.due(recorded_ms, now) else {
                return true;
            };
            state = self
                .changed
                .wait_timeout(state, due - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Pauses or resumes at `wall`, waking the reader.
    pub fn set_paused(&self, paused: bool, wall: Instant) {
        let mut state = self.lock();
        if paused == state.clock.is_paused() {
            return;
        }
        match paused {
            true => state.clock.pause(wall),
            false => state.clock.resume(wall),
        }
        self.changed.notify_all();
    }

    /// Stops the reader, wherever it waits.
    pub fn cancel(&self) {
        self.lock().cancelled = true;
        self.changed.notify_all();
    }

    /// Whether [`SharedReplay::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// A request was read that makes no batch (vmagent's handshake): it
    /// counts as replayed all the same.
    pub fn passed_over(&self) {
        self.lock().requests += 1;
    }

    /// The dashboard took a request that arrived at `received_at`.
    pub fn taken(&self, received_at: SystemTime) {
        let mut state = self.lock();
        state.requests += 1;
        state.clock.taken(epoch_ms(received_at));
    }

    /// The reader is done: `Err` says where the capture was damaged and why.
    pub fn end(&self, how: Result<(), String>) {
        let mut state = self.lock();
        state.clock.end();
        state.ended = Some(how);
    }

    /// The capture was counted.
    pub fn set_totals(&self, totals: CaptureTotals) {
        self.lock().totals = Some(totals);
    }

    /// The recorded time at `wall`; `None` before the first request.
    pub fn now_ms(&self, wall: Instant) -> Option<i64> {
        self.lock().clock.now_ms(wall)
    }

    /// What the header shows at `wall`.
    pub fn status(&self, wall: Instant) -> ReplayStatus {
        let state = self.lock();
        let position_ms = match (state.clock.now_ms(wall), state.clock.start_ms()) {
            (Some(now), Some(start)) => now - start,
            _ => 0,
        };
        ReplayStatus {
            file: state.file.clone(),
            speed: state.clock.speed,
            position_ms,
            requests: state.requests,
            totals: state.totals,
            ended: state.ended.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_732_000_000_000;

    #[test]
    fn flat_out_the_clock_is_the_latest_request_taken() {
        let wall = Instant::now();
        let mut clock = ReplayClock::new(Speed::Max);
        assert_eq!(clock.now_ms(wall), None);
        assert_eq!(clock.due(T0, wall), None);
        assert_eq!(clock.due(T0 + 60_000, wall), None);
        clock.taken(T0);
        clock.taken(T0 + 60_000);
        // Hours of wall time later, the screen is still at the last request.
        let later = wall + Duration::from_secs(7200);
        assert_eq!(clock.now_ms(later), Some(T0 + 60_000));
        // A request recorded out of order does not turn the clock back.
        clock.taken(T0 + 30_000);
        assert_eq!(clock.now_ms(later), Some(T0 + 60_000));
    }

    #[test]
    fn at_a_speed_requests_are_due_at_their_gap_divided_by_it_and_the_clock_runs_as_fast() {
        let wall = Instant::now();
        let mut clock = ReplayClock::new(Speed::Times(2.0));
        assert_eq!(clock.due(T0, wall), None);
        clock.taken(T0);
        assert_eq!(
            clock.due(T0 + 10_000, wall),
            Some(wall + Duration::from_secs(5))
        );
        // 3 s of wall time are 6 s of recorded time.
        assert_eq!(
            clock.now_ms(wall + Duration::from_secs(3)),
            Some(T0 + 6_000)
        );
        assert_eq!(clock.due(T0 + 10_000, wall + Duration::from_secs(5)), None);
        clock.taken(T0 + 10_000);
        // Once the capture ended, the clock stays at its last request.
        clock.end();
        assert_eq!(
            clock.now_ms(wall + Duration::from_secs(60)),
            Some(T0 + 10_000)
        );
    }

    #[test]
    fn a_pause_stops_the_clock_and_is_taken_out_of_the_pace() {
        let wall = Instant::now();
        let s = Duration::from_secs;
        let mut clock = ReplayClock::new(Speed::Times(1.0));
        clock.due(T0, wall);
        clock.taken(T0);
        clock.pause(wall + s(2));
        assert_eq!(clock.now_ms(wall + s(100)), Some(T0 + 2_000));
        clock.resume(wall + s(100));
        // 98 s paused: the request recorded 10 s in is due 108 s in.
        assert_eq!(clock.due(T0 + 10_000, wall + s(100)), Some(wall + s(108)));
        assert_eq!(clock.now_ms(wall + s(101)), Some(T0 + 3_000));
    }

    #[test]
    fn the_status_counts_requests_and_the_position_from_the_first() {
        let shared = SharedReplay::new("cap.warc".into(), Speed::Max);
        let wall = Instant::now();
        for secs in [0, 4, 9] {
            assert!(shared.wait_turn(T0 + secs * 1000));
            shared.taken(UNIX_EPOCH + Duration::from_millis((T0 + secs * 1000) as u64));
        }
        shared.set_totals(CaptureTotals {
            requests: 5,
            span_ms: 20_000,
        });
        shared.passed_over();
        let status = shared.status(wall);
        assert_eq!(status.position_ms, 9_000);
        assert_eq!(status.requests, 4);
        assert_eq!(status.totals.map(|t| t.requests), Some(5));
        assert_eq!(status.ended, None);
        shared.end(Err("stopped at byte 10".into()));
        assert_eq!(
            shared.status(wall).ended,
            Some(Err("stopped at byte 10".into()))
        );
    }

    #[test]
    fn a_cancelled_replay_stops_a_reader_waiting_in_a_pause() {
        let shared = std::sync::Arc::new(SharedReplay::new("cap".into(), Speed::Times(1.0)));
        assert!(shared.wait_turn(T0));
        shared.set_paused(true, Instant::now());
        let reader = {
            let shared = shared.clone();
            std::thread::spawn(move || shared.wait_turn(T0 + 1))
        };
        shared.cancel();
        assert!(!reader.join().unwrap());
    }
}
