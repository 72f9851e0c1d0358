//! What a service answers with: a command, and a body that need not sit in one buffer.
//!
//! A pull response carries stored records. Copying them into the frame would touch every byte
//! once more on the way out, so a [`Reply`] lists them instead: [`BodyPart::Memory`] for records
//! still in the broker's tail cache (written with one `sendmsg` over many buffers) and
//! [`BodyPart::File`] for records only on disk (sent with `sendfile`, so they go from the page
//! cache to the socket without passing through user space). Everything here is `Send`, because a
//! reply built on the core that owns a queue travels to the core that holds the connection.

use bytes::Bytes;
use ringmq_protocol::RemotingCommand;
use std::fs::File;
use std::sync::Arc;

/// A response (or a request a server sends) and the body parts that follow its own body.
#[derive(Debug)]
pub struct Reply {
    /// The frame's header; its `body` goes first on the wire, before `parts`.
    pub command: RemotingCommand,
    pub parts: Vec<BodyPart>,
}

impl Reply {
    /// A reply whose body is `parts`, after whatever body `command` has.
    pub fn with_parts(command: RemotingCommand, parts: Vec<BodyPart>) -> Self {
        Reply { command, parts }
    }

    /// Bytes of body on the wire: the command's own body and every part.
    pub fn body_len(&self) -> usize {
        self.command.body.len() + self.parts.iter().map(BodyPart::len).sum::<usize>()
    }
}

impl From<RemotingCommand> for Reply {
    fn from(command: RemotingCommand) -> Self {
        Reply {
            command,
            parts: Vec::new(),
        }
    }
}

/// A piece of a body, sent as it is.
#[derive(Debug, Clone)]
pub enum BodyPart {
    /// Bytes already in memory, written by reference.
    Memory(Bytes),
    /// A range of a file, written with `sendfile`.
    File(FileRegion),
}

impl BodyPart {
    pub fn len(&self) -> usize {
        match self {
            BodyPart::Memory(b) => b.len(),
            BodyPart::File(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `len` bytes of `file` from `pos`. The shared handle keeps the data readable even when the
/// file is unlinked (a commit-log segment deleted by retention) before the region is sent.
///
/// The handle must allow plain buffered reads: `sendfile` from a file opened with `O_DIRECT`
/// would need block-aligned offsets and lengths, which records do not have.
#[derive(Debug, Clone)]
pub struct FileRegion {
    file: Arc<File>,
    pos: u64,
    len: usize,
}

impl FileRegion {
    pub fn new(file: Arc<File>, pos: u64, len: usize) -> Self {
        FileRegion { file, pos, len }
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops the first `n` bytes (they were sent).
    pub(crate) fn advance(&mut self, n: usize) {
        let n = n.min(self.len);
        self.pos += n as u64;
        self.len -= n;
    }
}
