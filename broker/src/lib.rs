//! The broker: thread-per-core send, pull, offsets and consumer groups over the remoting protocol.
//!
//! Not implemented yet: this crate is an empty placeholder in the workspace so the layout and
//! the dependency direction are fixed from the start. It exports nothing.
