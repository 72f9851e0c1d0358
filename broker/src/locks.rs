//! Queue locks for orderly consumers (Java's `RebalanceLockManager`).
//!
//! An orderly consumer locks the queues it consumes (LOCK_BATCH_MQ) so no other member of its
//! group consumes them at the same time, and renews the lock every 20 s; a lock not renewed for
//! 60 s expires and may be taken by another member, which is how a crashed consumer's queues move.

use ringmq_protocol::body::MessageQueue;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Java's `rocketmq.broker.rebalance.lockMaxLiveTime`.
pub const LOCK_MAX_LIVE_TIME: Duration = Duration::from_secs(60);

struct Lock {
    client_id: String,
    renewed: Instant,
}

#[derive(Default)]
pub struct QueueLocks {
    /// (group, queue) -> holder.
    table: HashMap<(String, MessageQueue), Lock>,
}

impl QueueLocks {
    /// Locks (or renews) each queue for `client_id` unless another client holds an unexpired
    /// lock on it; returns the queues `client_id` now holds.
    pub fn try_lock_batch(
        &mut self,
        group: &str,
        queues: &[MessageQueue],
        client_id: &str,
        now: Instant,
    ) -> Vec<MessageQueue> {
        let mut locked = Vec::new();
        for mq in queues {
            let key = (group.to_owned(), mq.clone());
            let held_by_other = self.table.get(&key).is_some_and(|l| {
                l.client_id != client_id
                    && now.saturating_duration_since(l.renewed) <= LOCK_MAX_LIVE_TIME
            });
            if held_by_other {
                continue;
            }
            self.table.insert(
                key,
                Lock {
                    client_id: client_id.to_owned(),
                    renewed: now,
                },
            );
            locked.push(mq.clone());
        }
        locked
    }

    /// Releases the queues `client_id` holds among `queues`.
    pub fn unlock_batch(&mut self, group: &str, queues: &[MessageQueue], client_id: &str) {
        for mq in queues {
            let key = (group.to_owned(), mq.clone());
            if self
                .table
                .get(&key)
                .is_some_and(|l| l.client_id == client_id)
            {
                self.table.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(id: i32) -> MessageQueue {
        MessageQueue {
            topic: "T".into(),
            broker_name: "b".into(),
            queue_id: id,
        }
    }

    #[test]
    fn one_holder_per_queue_until_the_lock_expires() {
        let mut locks = QueueLocks::default();
        let t0 = Instant::now();
        assert_eq!(
            locks.try_lock_batch("g", &[mq(0), mq(1)], "c1", t0),
            [mq(0), mq(1)]
        );
        // Another member gets only what is free.
        assert_eq!(
            locks.try_lock_batch("g", &[mq(1), mq(2)], "c2", t0),
            [mq(2)]
        );
        // Another group is independent.
        assert_eq!(locks.try_lock_batch("other", &[mq(1)], "c2", t0), [mq(1)]);
        // Renewal keeps it; expiry frees it.
        assert_eq!(
            locks.try_lock_batch("g", &[mq(1)], "c1", t0 + Duration::from_secs(50)),
            [mq(1)]
        );
        assert!(locks
            .try_lock_batch("g", &[mq(1)], "c2", t0 + Duration::from_secs(100))
            .is_empty());
        assert_eq!(
            locks.try_lock_batch("g", &[mq(1)], "c2", t0 + Duration::from_secs(111)),
            [mq(1)]
        );
        // Only the holder can unlock.
        locks.unlock_batch("g", &[mq(0)], "c2");
        assert!(locks.try_lock_batch("g", &[mq(0)], "c2", t0).is_empty());
        locks.unlock_batch("g", &[mq(0)], "c1");
        assert_eq!(locks.try_lock_batch("g", &[mq(0)], "c2", t0), [mq(0)]);
    }
}
