//! The broker: thread-per-core send, pull, offsets and consumer groups over the remoting protocol.
//!
//! What it owns: its settings ([`config`], Java's `broker.conf` keys), its topic table
//! ([`topics`], Java's `TopicConfigManager` and `topics.json`), its subscription groups
//! ([`groups`], `subscriptionGroup.json`), the committed consumer offsets
//! ([`offsets`], `consumerOffset.json`), connected clients and queue locks ([`clients`],
//! [`locks`]), delayed delivery ([`schedule`], `delayOffset.json`), transactional messages
//! ([`transaction`]), what a pull selects
//! ([`filter`]: tags and SQL92), and one handler per request family ([`handlers`]). [`persist`]
//! writes those JSON files crash-safely; [`replica`] is how the control core's tables reach the
//! other cores' copies; [`traffic`] counts what was stored and served, and [`stats`] keeps the
//! per-topic and per-group windows of it.
//!
//! One glommio executor runs on each core ([`server`]), each with its own listener on the same
//! port (SO_REUSEPORT). Who owns what:
//!
//! | state | owner |
//! |---|---|
//! | a shard's commit log, consume queues, index | core `shard % cores` |
//! | a queue's committed offsets and held pulls | the core of the queue's shard |
//! | a delay level's progress and delivery task | the core of its `SCHEDULE_TOPIC_XXXX` queue |
//! | the transaction ledger, its check rounds and END_TRANSACTION | the core of `RMQ_SYS_TRANS_HALF_TOPIC` queue 0 |
//! | a client connection | the core that accepted it |
//! | traffic counts of a send or a pull | the core that stored or answered it |
//! | topic table (written, registered), subscription groups, client registry, queue locks | the control core, 0 |
//! | copies of the topic table, the subscription groups and what consumer groups announced (subscriptions, message model) | every core, kept by core 0 |
//! | the settings in force (UPDATE_BROKER_CONFIG changes them, [`config::live`]) | every core has its own; core 0 applies an update and hands it to the others |
//!
//! [`service`] runs each request on the core that owns what it touches; [`hops`] is everything
//! cores ask of each other, over the channels of [`mesh`], and [`survey`] the admin's views
//! that gather every core's part; [`cleanup`] deletes stored data on the admin's request, on
//! every core. No state is shared between cores and nothing on the data path
//! takes a lock.

pub mod cleanup;
pub mod clients;
pub mod config;
pub mod core;
pub mod filter;
pub mod groups;
pub mod handlers;
pub mod hops;
pub mod locks;
pub mod mesh;
pub mod offsets;
pub mod persist;
pub mod registration;
pub mod replica;
pub mod schedule;
pub mod server;
pub mod service;
pub mod stats;
pub mod survey;
pub mod topics;
pub mod traffic;
pub mod transaction;
