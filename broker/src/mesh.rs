//! The channels between the broker's cores, and asking another core for something.
//!
//! A core never touches another core's state. It sends an [`Ask`] and awaits the [`Answer`], or a
//! [`Tell`] that needs none (what the messages mean, and how a core serves them, is in
//! [`crate::hops`]). Between two cores there is one FIFO channel each way (glommio's channel
//! mesh: a lock-free ring per ordered pair), so a core reads another's messages in the order they
//! were sent. The broker relies on that: a topic change applied on every core before the change
//! is answered is visible to any request that follows the answer.
//!
//! Answers are matched to asks by a token, like responses to requests by `opaque` on a
//! connection. If a peer's channel closes (its executor ended), every ask waiting on it fails with
//! [`MeshError::PeerGone`] instead of waiting forever.

use crate::hops::{Answer, Ask, Tell};
use glommio::channels::channel_mesh::{Full, MeshBuilder, Receivers, Senders};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// A core's index in the mesh: 0 is the control core (see the crate docs).
pub type CoreId = usize;

/// The core that owns state that is not per queue.
pub const CONTROL_CORE: CoreId = 0;

/// Messages queued per ordered pair of cores before a sender waits.
const CHANNEL_CAPACITY: usize = 1024;

/// What travels between cores.
pub enum Envelope {
    Ask { token: u64, ask: Ask },
    Answer { token: u64, answer: Answer },
    Tell(Tell),
}

/// The mesh every core of one broker joins.
pub type MeshPlan = MeshBuilder<Envelope, Full>;

pub fn plan(cores: usize) -> MeshPlan {
    MeshBuilder::full(cores, CHANNEL_CAPACITY)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MeshError {
    #[error("core {0} is gone (its executor stopped)")]
    PeerGone(CoreId),
    #[error("core {0} answered an ask with an answer of another kind")]
    WrongAnswer(CoreId),
}

/// An ask waiting for its answer.
struct Waiting {
    core: CoreId,
    answer: Option<Result<Answer, MeshError>>,
    waker: Option<Waker>,
}

/// This core's end of the mesh.
pub struct Mesh {
    id: CoreId,
    cores: usize,
    /// `None` with a single core: there is nobody to talk to.
    senders: Option<Senders<Envelope>>,
    waiting: RefCell<HashMap<u64, Waiting>>,
    next_token: Cell<u64>,
}

impl Mesh {
    /// A broker of one core.
    pub fn single() -> Self {
        Self {
            id: CONTROL_CORE,
            cores: 1,
            senders: None,
            waiting: RefCell::new(HashMap::new()),
            next_token: Cell::new(1),
        }
    }

    /// Joins `plan` (every core must) and returns this core's end and its receivers, to pass to
    /// [`Mesh::receive`] once the core's state exists.
    pub async fn join(plan: MeshPlan) -> Result<(Self, Receivers<Envelope>), MeshError> {
        let cores = plan.nr_peers();
        let (senders, receivers) = plan.join().await.map_err(|_| MeshError::PeerGone(0))?;
        let mesh = Self {
            id: senders.peer_id(),
            cores,
            senders: Some(senders),
            waiting: RefCell::new(HashMap::new()),
            next_token: Cell::new(1),
        };
        Ok((mesh, receivers))
    }

    pub fn id(&self) -> CoreId {
        self.id
    }

    pub fn cores(&self) -> usize {
        self.cores
    }

    /// Every core but this one.
    pub fn peers(&self) -> impl Iterator<Item = CoreId> {
        let me = self.id;
        (0..self.cores).filter(move |&c| c != me)
    }

    /// Sends `ask` to `core` and waits for its answer.
    pub async fn ask(&self, core: CoreId, ask: Ask) -> Result<Answer, MeshError> {
        self.post(core, ask).await?.answer().await
    }

    /// Asks every other core the same thing. All asks are sent before the first answer is
    /// awaited, so the cores work on them at the same time. Answers come in core order.
    pub async fn ask_all(&self, ask: impl Fn() -> Ask) -> Vec<(CoreId, Result<Answer, MeshError>)> {
        let mut posted = Vec::with_capacity(self.cores);
        for core in self.peers() {
            posted.push((core, self.post(core, ask()).await));
        }
        let mut answers = Vec::with_capacity(posted.len());
        for (core, ticket) in posted {
            let answer = match ticket {
                Ok(ticket) => ticket.answer().await,
                Err(e) => Err(e),
            };
            answers.push((core, answer));
        }
        answers
    }

    /// Sends `ask` to `core`; the ticket waits for the answer.
    async fn post(&self, core: CoreId, ask: Ask) -> Result<Ticket<'_>, MeshError> {
        let senders = self.senders.as_ref().ok_or(MeshError::PeerGone(core))?;
        let token = self.next_token.get();
        self.next_token.set(token + 1);
        self.waiting.borrow_mut().insert(
            token,
            Waiting {
                core,
                answer: None,
                waker: None,
            },
        );
        // From here on, dropping the ticket (or this future) forgets the ask.
        let ticket = Ticket {
            waiting: &self.waiting,
            core,
            token,
        };
        senders
            .send_to(core, Envelope::Ask { token, ask })
            .await
            .map_err(|_| MeshError::PeerGone(core))?;
        Ok(ticket)
    }

    /// Sends `tell` to `core`; waits only if its channel is full.
    pub async fn tell(&self, core: CoreId, tell: Tell) -> Result<(), MeshError> {
        let senders = self.senders.as_ref().ok_or(MeshError::PeerGone(core))?;
        senders
            .send_to(core, Envelope::Tell(tell))
            .await
            .map_err(|_| MeshError::PeerGone(core))
    }

    /// Answers the ask `token` from `core`.
    pub async fn answer(&self, core: CoreId, token: u64, answer: Answer) {
        if let Some(senders) = &self.senders {
            if senders
                .send_to(core, Envelope::Answer { token, answer })
                .await
                .is_err()
            {
                log::debug!("core {core} left before its answer {token} was sent");
            }
        }
    }

    /// Reads every peer's channel on this core until they close: answers complete their asks;
    /// asks and tells go to `serve` in arrival order (it must not block: it spawns what waits).
    /// `gone` is called once per peer whose channel closed.
    pub fn receive(
        self: &Rc<Self>,
        mut receivers: Receivers<Envelope>,
        serve: impl Fn(CoreId, Envelope) + 'static,
        gone: impl Fn(CoreId) + 'static,
    ) {
        let serve = Rc::new(serve);
        let gone = Rc::new(gone);
        for (core, stream) in receivers.streams() {
            let (mesh, serve, gone) = (Rc::downgrade(self), serve.clone(), gone.clone());
            glommio::spawn_local(async move {
                while let Some(envelope) = stream.recv().await {
                    let Some(mesh) = mesh.upgrade() else { return };
                    match envelope {
                        Envelope::Answer { token, answer } => mesh.complete(token, Ok(answer)),
                        other => serve(core, other),
                    }
                }
                if let Some(mesh) = mesh.upgrade() {
                    mesh.fail_asks_to(core);
                }
                gone(core);
            })
            .detach();
        }
    }

    fn complete(&self, token: u64, answer: Result<Answer, MeshError>) {
        if let Some(w) = self.waiting.borrow_mut().get_mut(&token) {
            w.answer = Some(answer);
            if let Some(waker) = w.waker.take() {
                waker.wake();
            }
        }
    }

    fn fail_asks_to(&self, core: CoreId) {
        let tokens: Vec<u64> = self
            .waiting
            .borrow()
            .iter()
            .filter(|(_, w)| w.core == core)
            .map(|(t, _)| *t)
            .collect();
        for token in tokens {
            self.complete(token, Err(MeshError::PeerGone(core)));
        }
    }
}

/// An ask on its way; [`Ticket::answer`] waits for the reply. Dropping it forgets the ask, so
/// an abandoned request leaves nothing behind.
struct Ticket<'a> {
    waiting: &'a RefCell<HashMap<u64, Waiting>>,
    core: CoreId,
    token: u64,
}

impl Ticket<'_> {
    async fn answer(self) -> Result<Answer, MeshError> {
        poll_fn(|cx| {
            let mut waiting = self.waiting.borrow_mut();
            let Some(w) = waiting.get_mut(&self.token) else {
                return Poll::Ready(Err(MeshError::PeerGone(self.core)));
            };
            match w.answer.take() {
                Some(answer) => Poll::Ready(answer),
                None => {
                    w.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.waiting.borrow_mut().remove(&self.token);
    }
}
