//! What a run records while it runs: latency histograms, counters, failures by kind, and
//! per-second interval histograms for the progress line and the histogram log.
//!
//! Only samples in the measured window count towards the figures; warm-up traffic is counted
//! separately (`total`) because the progress line and the "every send failed" check need it.
//! A run lives on one executor, so one `Rc<RefCell<Recorder>>` is shared by all its tasks.

use hdrhistogram::Histogram;
use ringmq_client::ClientError;
use ringmq_protocol::ResponseCode;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Largest latency recorded exactly; larger ones are clamped (and still counted).
pub const MAX_LATENCY_US: u64 = 60_000_000;

/// Sends that must all fail, with none succeeding, before a run stops early.
pub const ABORT_AFTER_FAILURES: u64 = 32;

/// A latency histogram: 1 us to 60 s at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant histogram bounds are valid")
}

/// Why a request did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// The broker answered with this response code.
    Code(i32),
    /// No answer within the call timeout.
    Timeout,
    /// The connection closed (or was closed) with the request outstanding.
    Closed,
    /// The connection could not be opened.
    Connect,
    /// The answer could not be decoded.
    Protocol,
}

impl Failure {
    pub fn of(e: &ClientError) -> Self {
        match e {
            ClientError::Connect { .. } => Failure::Connect,
            ClientError::Timeout { .. } => Failure::Timeout,
            ClientError::Closed { .. } => Failure::Closed,
            ClientError::Protocol { .. } => Failure::Protocol,
        }
    }

    /// `SYSTEM_BUSY(2)`, `timeout`, ...: the key used in tables and JSON.
    pub fn label(&self) -> String {
        match self {
            Failure::Code(c) => ResponseCode(*c).to_string(),
            Failure::Timeout => "timeout".into(),
            Failure::Closed => "closed".into(),
            Failure::Connect => "connect".into(),
            Failure::Protocol => "bad_response".into(),
        }
    }
}

/// Event counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub ok_bytes: u64,
    pub consumed: u64,
    pub consumed_bytes: u64,
}

/// One second (or less, at the end) of measured samples.
pub struct Interval {
    /// Since the run's start.
    pub start: Duration,
    pub length: Duration,
    pub publish: Histogram<u64>,
    pub e2e: Histogram<u64>,
}

pub struct Recorder {
    pub started: Instant,
    /// Publish latency: request to response, from the intended send time in open-loop runs.
    pub publish: Histogram<u64>,
    /// End-to-end latency: the producer's timestamp to the consumer's arrival.
    pub e2e: Histogram<u64>,
    /// Open loop: how late the harness sent after the intended time (its own scheduling lag).
    pub lag: Histogram<u64>,
    /// Measured-window events.
    pub measured: Counters,
    /// All events, warm-up included.
    pub total: Counters,
    /// Measured send failures by kind.
    pub errors: BTreeMap<Failure, u64>,
    /// Pull failures by kind (all of them: a consumer has no warm-up of its own).
    pub pull_errors: BTreeMap<Failure, u64>,
    pub first_error: Option<(Failure, String)>,
    /// PULL_OFFSET_MOVED answers: the broker moved a consumer's offset.
    pub offset_moved: u64,
    /// Last measured send completion and last measured arrival.
    pub last_publish: Option<Instant>,
    pub last_consume: Option<Instant>,
    pub intervals: Vec<Interval>,
    current: Interval,
}

impl Recorder {
    pub fn new(started: Instant) -> Self {
        Recorder {
            started,
            publish: histogram(),
            e2e: histogram(),
            lag: histogram(),
            measured: Counters::default(),
            total: Counters::default(),
            errors: BTreeMap::new(),
            pull_errors: BTreeMap::new(),
            first_error: None,
            offset_moved: 0,
            last_publish: None,
            last_consume: None,
            intervals: Vec::new(),
            current: Interval {
                start: Duration::ZERO,
                length: Duration::ZERO,
                publish: histogram(),
                e2e: histogram(),
            },
        }
    }

    pub fn sent(&mut self, measured: bool, lag_us: Option<u64>) {
        self.total.sent += 1;
        if measured {
            self.measured.sent += 1;
            if let Some(l) = lag_us {
                self.lag.saturating_record(l.max(1));
            }
        }
    }

    /// A successful send; `latency_us` is `None` for oneway sends, which get no answer.
    pub fn send_ok(&mut self, measured: bool, latency_us: Option<u64>, bytes: usize, at: Instant) {
        self.total.ok += 1;
        self.total.ok_bytes += bytes as u64;
        if !measured {
            return;
        }
        self.measured.ok += 1;
        self.measured.ok_bytes += bytes as u64;
        self.last_publish = Some(at);
        if let Some(l) = latency_us {
            let l = l.max(1);
            self.publish.saturating_record(l);
            self.current.publish.saturating_record(l);
        }
    }

    pub fn send_failed(&mut self, measured: bool, failure: Failure, remark: String, at: Instant) {
        self.total.failed += 1;
        if self.first_error.is_none() {
            self.first_error = Some((failure, remark));
        }
        if measured {
            self.measured.failed += 1;
            self.last_publish = Some(at);
            *self.errors.entry(failure).or_default() += 1;
        }
    }

    /// One consumed message; `e2e_us` when it carried a producer timestamp.
    pub fn consumed(&mut self, measured: bool, e2e_us: Option<u64>, bytes: usize, at: Instant) {
        self.total.consumed += 1;
        self.total.consumed_bytes += bytes as u64;
        if !measured {
            return;
        }
        self.measured.consumed += 1;
        self.measured.consumed_bytes += bytes as u64;
        self.last_consume = Some(at);
        if let Some(l) = e2e_us {
            let l = l.max(1);
            self.e2e.saturating_record(l);
            self.current.e2e.saturating_record(l);
        }
    }

    pub fn pull_failed(&mut self, failure: Failure) {
        *self.pull_errors.entry(failure).or_default() += 1;
    }

    /// Whether enough sends failed, with none succeeding, to stop the run.
    pub fn all_failed(&self) -> bool {
        self.total.ok == 0 && self.total.failed >= ABORT_AFTER_FAILURES
    }

    /// Closes the current interval at `now` and starts the next. Returns the closed one.
    pub fn rotate(&mut self, now: Instant) -> &Interval {
        let start = self.current.start;
        let end = now.saturating_duration_since(self.started).max(start);
        let next = Interval {
            start: end,
            length: Duration::ZERO,
            publish: histogram(),
            e2e: histogram(),
        };
        let mut closed = std::mem::replace(&mut self.current, next);
        closed.length = end - start;
        self.intervals.push(closed);
        self.intervals.last().expect("just pushed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_is_counted_but_not_measured() {
        let t = Instant::now();
        let mut r = Recorder::new(t);
        r.sent(false, None);
        r.send_ok(false, Some(5000), 100, t);
        r.sent(true, Some(3));
        r.send_ok(true, Some(200), 100, t);
        r.sent(true, None);
        r.send_failed(true, Failure::Code(2), "busy".into(), t);
        assert_eq!(r.total.sent, 3);
        assert_eq!(
            (r.measured.sent, r.measured.ok, r.measured.failed),
            (2, 1, 1)
        );
        assert_eq!(r.publish.len(), 1);
        assert_eq!(r.publish.max(), 200);
        assert_eq!(r.errors.get(&Failure::Code(2)), Some(&1));
        assert_eq!(Failure::Code(2).label(), "SYSTEM_BUSY(2)");
        let closed = r.rotate(t + Duration::from_secs(1));
        assert_eq!(closed.publish.len(), 1);
        assert_eq!(closed.length, Duration::from_secs(1));
    }

    #[test]
    fn stops_only_when_nothing_succeeded() {
        let t = Instant::now();
        let mut r = Recorder::new(t);
        for _ in 0..ABORT_AFTER_FAILURES {
            assert!(!r.all_failed());
            r.send_failed(false, Failure::Timeout, String::new(), t);
        }
        assert!(r.all_failed());
        r.send_ok(false, Some(1), 1, t);
        assert!(!r.all_failed());
    }
}
