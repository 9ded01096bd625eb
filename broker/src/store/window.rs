//! Sliding counter windows, as both stores count them: each counter keeps the times of its
//! events (from the store's clock), and the count at `now` is the number of events after
//! `now - window`. A burst across any boundary is counted in full, and an event stops counting
//! exactly one window length after it happened. A counter keeps at most [`MAX_EVENTS`] times
//! (the newest): every limit Leerpoort sets is far below that.

use std::time::Duration;

/// A duration in whole milliseconds, saturating at `i64::MAX`.
pub fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The most event times a counter keeps (the newest); a count never exceeds it.
pub const MAX_EVENTS: usize = 4096;

/// A sliding counter window: its length in milliseconds (at least 1), and the first moment
/// that still counts at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Length in milliseconds, at least 1.
    pub len_ms: i64,
    /// Events at or before this moment no longer count.
    pub cutoff_ms: i64,
}

impl Window {
    pub fn current(window: Duration, now_ms: i64) -> Self {
        let len_ms = duration_millis(window).max(1);
        Self {
            len_ms,
            cutoff_ms: now_ms.saturating_sub(len_ms),
        }
    }
}
