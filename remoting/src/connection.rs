//! One client connection as its handlers see it: an identity and an outbox.
//!
//! Handlers answer by returning a response; anything else (a broker notifying a consumer, the name
//! server dropping an expired broker) goes through [`Connection::send`] and [`Connection::close`].
//! Encoded frames collect in the outbox until the connection's writer task drains them all in one
//! write, so responses that became ready in the same wake-up share a system call.

use bytes::BytesMut;
use ringmq_protocol::RemotingCommand;
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::task::{Poll, Waker};

pub struct Connection {
    id: u64,
    peer: SocketAddr,
    outbox: RefCell<BytesMut>,
    writer: Cell<Option<Waker>>,
    reader: Cell<Option<Waker>>,
    closed: Cell<bool>,
}

impl Connection {
    pub(crate) fn new(id: u64, peer: SocketAddr) -> Self {
        Self {
            id,
            peer,
            outbox: RefCell::new(BytesMut::new()),
            writer: Cell::new(None),
            reader: Cell::new(None),
            closed: Cell::new(false),
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
        cmd.encode(&mut self.outbox.borrow_mut());
        wake(&self.writer);
    }

    /// Closes the connection: reading stops, queued frames are dropped, the socket is shut.
    pub fn close(&self) {
        self.closed.set(true);
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

    /// Everything queued so far, or `None` once closed. Waits while the outbox is empty.
    pub(crate) async fn next_batch(&self) -> Option<BytesMut> {
        poll_fn(|cx| {
            if self.closed.get() {
                return Poll::Ready(None);
            }
            let mut out = self.outbox.borrow_mut();
            if out.is_empty() {
                self.writer.set(Some(cx.waker().clone()));
                return Poll::Pending;
            }
            let batch = out.split();
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

fn wake(slot: &Cell<Option<Waker>>) {
    if let Some(w) = slot.take() {
        w.wake();
    }
}
