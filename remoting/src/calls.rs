//! Requests a server sends its peer and waits for the answer to (the broker pushing a reply
//! message to a requester, Java's `Broker2Client.callClient`), matched by `opaque`.
//!
//! The peer numbers its own requests, and we ours: a response from the peer carries one of our
//! opaques, so the two series never meet.

use ringmq_protocol::RemotingCommand;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::poll_fn;
use std::task::{Poll, Waker};

#[derive(Default)]
struct Pending {
    answer: Option<RemotingCommand>,
    waker: Option<Waker>,
}

/// The requests of ours still waiting on one connection.
#[derive(Default)]
pub(crate) struct OwnCalls {
    next_opaque: Cell<i32>,
    pending: RefCell<HashMap<i32, Pending>>,
    closed: Cell<bool>,
}

impl OwnCalls {
    /// A fresh opaque for a request we are about to send, now awaited.
    pub fn open(&self) -> i32 {
        let opaque = self.next_opaque.get().wrapping_add(1);
        self.next_opaque.set(opaque);
        self.pending.borrow_mut().insert(opaque, Pending::default());
        opaque
    }

    /// Hands the peer's answer to whoever waits for it; `false` if nobody does (an answer that
    /// came too late, or one we never asked for).
    pub fn answered(&self, response: RemotingCommand) -> bool {
        let mut pending = self.pending.borrow_mut();
        let Some(call) = pending.get_mut(&response.opaque) else {
            return false;
        };
        call.answer = Some(response);
        if let Some(w) = call.waker.take() {
            w.wake();
        }
        true
    }

    /// The answer to `opaque`, once it comes; `None` if the connection closes first. The caller
    /// [`forget`](Self::forget)s the call afterwards, answered or given up on.
    pub async fn answer(&self, opaque: i32) -> Option<RemotingCommand> {
        poll_fn(|cx| {
            let mut pending = self.pending.borrow_mut();
            let Some(call) = pending.get_mut(&opaque) else {
                return Poll::Ready(None);
            };
            if let Some(answer) = call.answer.take() {
                return Poll::Ready(Some(answer));
            }
            if self.closed.get() {
                return Poll::Ready(None);
            }
            call.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Stops waiting for `opaque` (answered, or given up on).
    pub fn forget(&self, opaque: i32) {
        self.pending.borrow_mut().remove(&opaque);
    }

    /// The connection closed: every waiting call ends without an answer.
    pub fn close(&self) {
        self.closed.set(true);
        for call in self.pending.borrow_mut().values_mut() {
            if let Some(w) = call.waker.take() {
                w.wake();
            }
        }
    }
}
