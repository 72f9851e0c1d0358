//! Long work on a core that lets the core's sockets in every so often.
//!
//! A shard shares its core with the broker's connections, so work that runs for milliseconds
//! (copying a full write batch, flushing the consume queues of a checkpoint) holds up every
//! request on that core for as long. Yielding alone does not help: glommio runs the task queue
//! until it is empty or its preemption timer fires (100 ms by default) before it polls its
//! rings again, so a task that merely yields is run again before a single new request is read.
//! Nor can the timer be shortened: glommio 0.9 can then park with a task still queued (when the
//! timer fires again between its poll and its run of the queues), which stalled a test until
//! some unrelated event came.
//!
//! [`IoTurns`] is a preemption point of our own: after `every` of work it waits on a glommio
//! timer that is not yet due. Timers fire only from the reactor, so the work resumes after one
//! poll of the rings and the requests it brought.

use std::time::{Duration, Instant};

/// Hands the core to the executor's I/O once work has held it for `every`.
pub(crate) struct IoTurns {
    every: Duration,
    since: Instant,
}

impl IoTurns {
    pub(crate) fn every(every: Duration) -> Self {
        Self {
            every,
            since: Instant::now(),
        }
    }

    /// Lets the executor poll its I/O and run what that woke, if this work has had the core for
    /// `every` since it last did. Returns whether it did.
    pub(crate) async fn take_if_due(&mut self) -> bool {
        if self.since.elapsed() < self.every {
            return false;
        }
        let_io_in().await;
        self.since = Instant::now();
        true
    }
}

/// Returns after the executor has polled its rings (see the module docs). Should the timer be
/// due by its first poll (the thread was descheduled in between), it returns at once: a missed
/// turn, never a stall.
async fn let_io_in() {
    glommio::timer::sleep(Duration::from_micros(1)).await;
}
