//! RingMQ's storage engine: what a shard of the broker keeps on disk, and how it comes back after
//! a crash.
//!
//! A [`shard::Shard`] owns a set of (topic, queue) pairs and its own commit log; its API is
//! single-threaded (one glommio executor owns a shard; no locks). Layers, bottom up:
//! [`commitlog`] holds every message of the shard in arrival order and finds its end again after a
//! crash; [`consume_queue`] indexes each queue's messages into the commit log; [`checkpoint`]
//! records how far both are safely on disk; [`shard`] ties them together for puts and reads;
//! [`store`] fixes the shard count and which shard owns a queue. [`offset`] gives positions their
//! own types. Byte layouts of every file: `storage/FORMAT.md`.
//!
//! A shard shares its core with the broker's connections, so its long work (copying a write
//! batch, a checkpoint over many queues) stops every 200 us to let that core's sockets be
//! read (`io_turns`).

mod atomic;
pub mod checkpoint;
pub mod commitlog;
pub mod consume_queue;
pub mod disk;
pub mod error;
pub mod index_file;
mod io_turns;
pub mod offset;
mod pending_syncs;
pub mod shard;
pub mod signal;
pub mod store;

pub use error::{Result, StorageError};
pub use offset::{CommitLogOffset, QueueOffset};
