//! The broker: thread-per-core send, pull, offsets and consumer groups over the remoting protocol.
//!
//! What it owns: its settings ([`config`], Java's `broker.conf` keys), its topic table
//! ([`topics`], Java's `TopicConfigManager` and `topics.json`), the committed consumer offsets
//! ([`offsets`], `consumerOffset.json`), connected clients and queue locks ([`clients`],
//! [`locks`]), delayed delivery ([`schedule`], `delayOffset.json`), and one handler per request
//! family ([`handlers`]). Everything runs on one executor for now ([`core`]); the store is already
//! sharded so that the move to one executor per core changes who owns a shard, not its data.

pub mod clients;
pub mod config;
pub mod core;
pub mod handlers;
pub mod locks;
pub mod offsets;
pub mod registration;
pub mod schedule;
pub mod server;
pub mod service;
pub mod topics;
