//! The broker: thread-per-core send, pull, offsets and consumer groups over the remoting protocol.
//!
//! In progress. So far it owns its settings ([`config`], Java's `broker.conf` keys), its topic
//! table ([`topics`], Java's `TopicConfigManager` and `topics.json`) and the committed consumer
//! offsets ([`offsets`], Java's `ConsumerOffsetManager` and `consumerOffset.json`).

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
