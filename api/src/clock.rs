//! The server's time. In `serve` it is the system clock; tests move it forward instead of
//! sleeping, so limits, lockouts and expiries are tested without waiting on the wall clock.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// How far this clock runs ahead of the system's, in milliseconds.
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_move_together() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(std::time::Duration::from_secs(3600));
        let moved = copy.now() - before;
        assert!(
            moved >= chrono::Duration::seconds(3600) && moved < chrono::Duration::seconds(3660)
        );
    }
}
