//! RingMQ's storage engine: what a shard of the broker keeps on disk, and how it comes back after
//! a crash.
//!
//! A *shard* owns a set of (topic, queue) pairs and its own commit log; the API is single-threaded
//! (one glommio executor owns a shard, no locks). [`commitlog`] holds every message in arrival order
//! and finds its end again after a crash; [`consume_queue`] indexes each queue's messages into the
//! commit log; [`offset`] gives positions their own types. On-disk formats: `storage/FORMAT.md`.

pub mod commitlog;
pub mod error;
pub mod offset;
mod signal;

pub use error::{Result, StorageError};
pub use offset::{CommitLogOffset, QueueOffset};
