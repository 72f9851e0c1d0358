//! The RocketMQ remoting wire layer, shared by the name server, the broker and the benchmark client.
//!
//! It owns everything that crosses the socket and nothing that touches a socket or a disk:
//! [`frame`] (commands and both header encodings), [`codes`] (request, response and language codes),
//! [`header`] (typed `extFields` headers), [`message`] (the stored message layout, properties, batches,
//! message ids), [`body`] (the JSON bodies) and [`json`] (a fastjson-tolerant reader and writer).
//! Decoding never panics on bad input: every failure is a [`ProtocolError`].

pub mod body;
pub mod codes;
pub mod error;
pub mod ext_fields;
pub mod frame;
pub mod header;
pub mod json;
pub mod message;

pub use codes::{LanguageCode, RequestCode, ResponseCode};
pub use error::ProtocolError;
pub use ext_fields::ExtFields;
pub use frame::{FrameDecoder, RemotingCommand, SerializeType, DEFAULT_MAX_FRAME_LEN};

/// Captured Java frames from `../shared/wire-vectors/`, for tests.
#[cfg(test)]
pub(crate) mod wire_vectors {
    use std::path::PathBuf;

    pub fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/wire-vectors")
    }

    /// The decoded frame in `name` (file name without `.bin`).
    pub fn frame(name: &str) -> crate::RemotingCommand {
        let path = dir().join(format!("{name}.bin"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        crate::RemotingCommand::decode(bytes.into()).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}
