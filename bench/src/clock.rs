//! One time base for senders and receivers: monotonic instants mapped to wall-clock microseconds.
//!
//! Producers stamp each message with the (intended) send time in microseconds since the Unix epoch
//! and consumers subtract it from their arrival time. Within one process both sides use the same
//! anchor, so the difference is exact monotonic time; across processes on one host it is wall
//! clock, which is what a consumer of someone else's producer can have.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The message property carrying the producer's timestamp (decimal microseconds since the epoch).
pub const TIMESTAMP_PROPERTY: &str = "__BENCH_TS";

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    anchor: Instant,
    anchor_wall_us: u64,
}

impl Clock {
    pub fn new() -> Self {
        let anchor = Instant::now();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Clock {
            anchor,
            anchor_wall_us: wall.as_micros() as u64,
        }
    }

    /// Wall-clock microseconds of `at`.
    pub fn wall_us(&self, at: Instant) -> u64 {
        if at >= self.anchor {
            self.anchor_wall_us + (at - self.anchor).as_micros() as u64
        } else {
            self.anchor_wall_us
                .saturating_sub((self.anchor - at).as_micros() as u64)
        }
    }

    pub fn now_us(&self) -> u64 {
        self.wall_us(Instant::now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// Microseconds between two instants, zero if `to` is earlier.
pub fn micros_between(from: Instant, to: Instant) -> u64 {
    to.saturating_duration_since(from).as_micros() as u64
}

/// Sleeps until `at`; returns at once when `at` has passed.
pub async fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        glommio::timer::sleep(at - now).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_follows_the_monotonic_clock() {
        let c = Clock::new();
        let a = Instant::now();
        let b = a + Duration::from_millis(1500);
        assert_eq!(c.wall_us(b) - c.wall_us(a), 1_500_000);
        assert!(c.wall_us(a) >= c.anchor_wall_us);
    }
}
