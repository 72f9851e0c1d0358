//! Serving RocketMQ remoting frames on a glommio executor.
//!
//! What a server process needs between the socket and its request handlers, shared by the name
//! server and the broker: [`server`] accepts connections and drives each one ([`connection`]),
//! decoding every complete frame per read and writing all ready responses in one write
//! ([`reply`]: bodies that stay where they are, in memory or in a file, until the socket takes them),
//! and matching the answers to requests of the server's own (`calls`);
//! [`startup`] checks the limits glommio needs and sets up logging; [`properties`] reads Java
//! `.properties` files so existing `namesrv.properties` / `broker.conf` files keep working.

mod calls;
pub mod connection;
pub mod properties;
pub mod reply;
pub mod server;
pub mod startup;
mod writer;

pub use connection::Connection;
pub use reply::{BodyPart, FileRegion, Reply};
pub use server::{serve, AtOnce, ServerOptions, Service};
