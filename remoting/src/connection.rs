//! One client connection as its handlers see it: an identity and an outbox.
//!
//! Handlers answer by returning a response; anything else (a broker notifying a consumer, the name
//! server dropping an expired broker) goes through [`Connection::send`] and [`Connection::close`],
//! and a request of our own whose answer matters through [`Connection::call`].
//! Frames collect in the outbox until the connection's writer task drains them all at once, so
//! responses that became ready in the same wake-up share a system call. Headers and small bodies
//! are encoded into one staging buffer; large bodies and body parts are queued by reference.

use crate::calls::OwnCalls;
use crate::reply::{BodyPart, Reply};
use bytes::{Bytes, BytesMut};
use ringmq_protocol::RemotingCommand;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::task::{Poll, Waker};
use std::time::Duration;

/// Bodies at least this long are queued by reference instead of copied into the staging buffer.
/// Below it a copy costs less than one more entry in the write's buffer list.
const BY_REFERENCE: usize = 16 * 1024;

pub struct Connection {
    id: u64,
    peer: SocketAddr,
    outbox: RefCell<Outbox>,
    writer: Cell<Option<Waker>>,
    reader: Cell<Option<Waker>>,
    closed: Cell<bool>,
    calls: OwnCalls,
}

impl Connection {
    pub(crate) fn new(id: u64, peer: SocketAddr) -> Self {
        Self {
            id,
            peer,
            outbox: RefCell::new(Outbox::default()),
            writer: Cell::new(None),
            reader: Cell::new(None),
            closed: Cell::new(false),
            calls: OwnCalls::default(),
        }
    }

    /// Unique among the connections of this executor.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Queues `cmd` for writing. Ignored once the connection is closed.
    pub fn send(&self, cmd: &RemotingCommand) {
        if self.closed.get() {
            return;
        }
        let mut out = self.outbox.borrow_mut();
        cmd.encode_head(cmd.body.len(), &mut out.staged);
        out.push_body(&cmd.body);
        drop(out);
        wake(&self.writer);
    }

    /// Queues `reply` for writing, its parts by reference. Ignored once the connection is closed.
    pub fn send_reply(&self, reply: Reply) {
        if self.closed.get() {
            return;
        }
        let mut out = self.outbox.borrow_mut();
        reply.command.encode_head(reply.body_len(), &mut out.staged);
        out.push_body(&reply.command.body);
        for part in reply.parts {
            out.push_part(part);
        }
        drop(out);
        wake(&self.writer);
    }

    /// Sends `request` as one of our own and waits for the peer's answer, at most `timeout`.
    /// `None` when no answer came in time or the connection closed.
    pub async fn call(
        &self,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Option<RemotingCommand> {
        if self.closed.get() {
            return None;
        }
        let opaque = self.calls.open();
        request.opaque = opaque;
        self.send(&request);
        let answer = futures_lite::future::or(self.calls.answer(opaque), async {
            glommio::timer::sleep(timeout).await;
            None
        })
        .await;
        self.calls.forget(opaque);
        answer
    }

    /// A response from the peer: the answer to one of our [`call`](Self::call)s. `false` if
    /// none waits for it.
    pub(crate) fn answered(&self, response: RemotingCommand) -> bool {
        self.calls.answered(response)
    }

    /// Closes the connection: reading stops, queued frames are dropped, the socket is shut.
    pub fn close(&self) {
        self.closed.set(true);
        self.calls.close();
        wake(&self.writer);
        wake(&self.reader);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Bytes queued and not yet written.
    pub fn pending_bytes(&self) -> usize {
        self.outbox.borrow().len()
    }

    /// Everything queued so far, in order, or `None` once closed. Waits while the outbox is empty.
    pub(crate) async fn next_batch(&self) -> Option<VecDeque<BodyPart>> {
        poll_fn(|cx| {
            if self.closed.get() {
                return Poll::Ready(None);
            }
            let mut out = self.outbox.borrow_mut();
            if out.len() == 0 {
                self.writer.set(Some(cx.waker().clone()));
                return Poll::Pending;
            }
            let batch = out.take();
            drop(out);
            // The reader may be waiting for room.
            wake(&self.reader);
            Poll::Ready(Some(batch))
        })
        .await
    }

    /// Waits until fewer than `limit` bytes are queued, so a peer that does not read its
    /// responses stops being read from instead of growing our memory. `false` once closed.
    pub(crate) async fn room_below(&self, limit: usize) -> bool {
        poll_fn(|cx| {
            if self.closed.get() {
                Poll::Ready(false)
            } else if self.outbox.borrow().len() < limit {
                Poll::Ready(true)
            } else {
                self.reader.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }

    /// Resolves once the connection is closed.
    pub(crate) async fn closed(&self) {
        poll_fn(|cx| {
            if self.closed.get() {
                Poll::Ready(())
            } else {
                self.reader.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}

/// Frames waiting to be written: `queued` in order, then whatever is in `staged`.
#[derive(Default)]
struct Outbox {
    queued: VecDeque<BodyPart>,
    queued_bytes: usize,
    staged: BytesMut,
}

impl Outbox {
    fn len(&self) -> usize {
        self.queued_bytes + self.staged.len()
    }

    /// Appends a frame's own body: copied when small, by reference when large.
    fn push_body(&mut self, body: &Bytes) {
        if body.len() < BY_REFERENCE {
            self.staged.extend_from_slice(body);
        } else {
            self.push_part(BodyPart::Memory(body.clone()));
        }
    }

    fn push_part(&mut self, part: BodyPart) {
        if part.is_empty() {
            return;
        }
        self.seal_staged();
        self.queued_bytes += part.len();
        self.queued.push_back(part);
    }

    /// Moves the staged bytes to the end of the queue, keeping their order before what follows.
    fn seal_staged(&mut self) {
        if !self.staged.is_empty() {
            let staged = self.staged.split().freeze();
            self.queued_bytes += staged.len();
            self.queued.push_back(BodyPart::Memory(staged));
        }
    }

    fn take(&mut self) -> VecDeque<BodyPart> {
        self.seal_staged();
        self.queued_bytes = 0;
        std::mem::take(&mut self.queued)
    }
}

fn wake(slot: &Cell<Option<Waker>>) {
    if let Some(w) = slot.take() {
        w.wake();
    }
}
