//! JSON bodies: the Java bean types RocketMQ sends as command bodies, declared with
//! [`json_bean!`](crate::json_bean) under their Java field names.
//!
//! Read them with [`crate::json::from_slice`]; write them with [`crate::json::to_vec`] in
//! [`JsonStyle::Fastjson`](crate::json::JsonStyle) unless the peer asked for standard JSON.

pub mod admin;
pub mod client;
pub mod group;
pub mod register;
pub mod route;

pub use admin::*;
pub use client::*;
pub use group::*;
pub use register::*;
pub use route::*;

#[cfg(test)]
mod tests;
