//! Offsets as types, so a commit-log position can never be passed where a queue index is meant.

use std::fmt;

/// Bits of a [`CommitLogOffset`] that hold the position inside one shard's log (256 TiB).
pub const SHARD_SHIFT: u32 = 48;
const LOCAL_MASK: u64 = (1 << SHARD_SHIFT) - 1;
/// Shard ids fit in the 15 bits above the local position, keeping offsets positive as Java expects.
pub const MAX_SHARDS: u32 = 1 << 15;

/// A byte position in the commit log, unique across shards: the shard id sits in the top bits.
///
/// Message ids carry this value and clients send it back (VIEW_MESSAGE_BY_ID, send-back of a
/// failed message), so it must name one record of one shard without a lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CommitLogOffset(pub i64);

impl CommitLogOffset {
    pub fn new(shard: u32, local: u64) -> Self {
        debug_assert!(shard < MAX_SHARDS && local <= LOCAL_MASK);
        CommitLogOffset(((u64::from(shard) << SHARD_SHIFT) | local) as i64)
    }

    pub fn shard(self) -> u32 {
        (self.0 as u64 >> SHARD_SHIFT) as u32
    }

    /// Position inside the shard's own log.
    pub fn local(self) -> u64 {
        self.0 as u64 & LOCAL_MASK
    }
}

impl std::ops::Add<u64> for CommitLogOffset {
    type Output = CommitLogOffset;

    fn add(self, n: u64) -> Self {
        CommitLogOffset(self.0 + n as i64)
    }
}

impl fmt::Display for CommitLogOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.shard(), self.local())
    }
}

/// The index of a message within its (topic, queue): 0, 1, 2, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct QueueOffset(pub i64);

impl fmt::Display for QueueOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_and_local_parts_round_trip() {
        let o = CommitLogOffset::new(3, 123_456);
        assert_eq!((o.shard(), o.local()), (3, 123_456));
        assert!(o.0 > 0);
        let top = CommitLogOffset::new(MAX_SHARDS - 1, LOCAL_MASK);
        assert!(top.0 > 0, "offsets stay positive for Java");
        assert_eq!(top.shard(), MAX_SHARDS - 1);
        assert!(CommitLogOffset::new(1, 0) > CommitLogOffset::new(0, LOCAL_MASK));
    }
}
