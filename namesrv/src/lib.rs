//! RingMQ's name server: the stateless route registry RocketMQ clients and brokers talk to.
//!
//! Brokers register their topics and stay registered while they re-register (every 30 s) and keep
//! their connection; clients ask for topic routes and cluster info. All state lives on one glommio
//! executor: [`route_table`] holds the routes, [`kv_config`] the namespaced settings, [`config`] the
//! server settings, and [`processor`] maps each request code to its answer. [`server`] ties them to
//! the network and the expiry timer.

pub mod atomic_file;
pub mod config;
pub mod kv_config;
pub mod processor;
pub mod route_table;
pub mod server;
