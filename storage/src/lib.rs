//! Storage engine: per-core O_DIRECT commit log, consume queues, index files, checkpoints and crash recovery.
//!
//! Not implemented yet: this crate is an empty placeholder in the workspace so the layout and
//! the dependency direction are fixed from the start. It exports nothing.
