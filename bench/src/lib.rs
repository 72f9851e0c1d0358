//! Latency benchmark harness: drives any RocketMQ-protocol broker and reports throughput and latency percentiles.
//!
//! Not implemented yet: this crate is an empty placeholder in the workspace so the layout and
//! the dependency direction are fixed from the start. It exports nothing.
