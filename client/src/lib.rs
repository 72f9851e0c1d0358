//! A RocketMQ remoting client on glommio.
//!
//! One [`RemotingClient`] is one TCP connection used by any number of tasks of its executor at
//! once: each request gets a fresh `opaque`, requests leave in one write per wake-up, and a reader
//! task hands each response to whoever waits for that opaque, in whatever order the server answers.
//! The broker uses it to register with name servers; the benchmark and tests use it to drive
//! brokers. It owns no retry or routing policy: callers decide what a failure means.

use bytes::BytesMut;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use ringmq_protocol::{FrameDecoder, ProtocolError, RemotingCommand};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("no response from {addr} within {timeout:?}")]
    Timeout { addr: String, timeout: Duration },
    #[error("connection to {addr} closed: {reason}")]
    Closed { addr: String, reason: String },
    #[error("bad frame from {addr}: {source}")]
    Protocol { addr: String, source: ProtocolError },
}

/// A response slot for one in-flight request.
#[derive(Default)]
struct Pending {
    response: Option<RemotingCommand>,
    waker: Option<Waker>,
}

struct Shared {
    addr: String,
    next_opaque: Cell<i32>,
    outbox: RefCell<BytesMut>,
    writer_waker: Cell<Option<Waker>>,
    pending: RefCell<HashMap<i32, Pending>>,
    /// Requests the server sent us (e.g. NOTIFY_CONSUMER_IDS_CHANGED).
    server_requests: RefCell<Vec<RemotingCommand>>,
    closed: RefCell<Option<String>>,
}

impl Shared {
    fn close(&self, reason: &str) {
        self.closed
            .borrow_mut()
            .get_or_insert_with(|| reason.to_owned());
        if let Some(w) = self.writer_waker.take() {
            w.wake();
        }
        for p in self.pending.borrow_mut().values_mut() {
            if let Some(w) = p.waker.take() {
                w.wake();
            }
        }
    }

    fn closed_error(&self) -> Option<ClientError> {
        self.closed.borrow().as_ref().map(|r| ClientError::Closed {
            addr: self.addr.clone(),
            reason: r.clone(),
        })
    }
}

/// A connection to one RocketMQ server. Cheap to clone; all clones share the connection.
#[derive(Clone)]
pub struct RemotingClient {
    shared: Rc<Shared>,
}

impl RemotingClient {
    /// Connects and starts the connection's reader and writer tasks on the current executor.
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Self, ClientError> {
        let connect_error = |reason: String| ClientError::Connect {
            addr: addr.to_owned(),
            reason,
        };
        let sock: std::net::SocketAddr = match addr.parse() {
            Ok(a) => a,
            Err(_) => std::net::ToSocketAddrs::to_socket_addrs(addr)
                .map_err(|e| connect_error(e.to_string()))?
                .next()
                .ok_or_else(|| connect_error("no address".into()))?,
        };
        let stream = TcpStream::connect_timeout(sock, timeout)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let shared = Rc::new(Shared {
            addr: addr.to_owned(),
            next_opaque: Cell::new(1),
            outbox: RefCell::new(BytesMut::new()),
            writer_waker: Cell::new(None),
            pending: RefCell::new(HashMap::new()),
            server_requests: RefCell::new(Vec::new()),
            closed: RefCell::new(None),
        });
        let (reader, writer) = futures_lite::io::split(stream);
        glommio::spawn_local(write_loop(writer, shared.clone())).detach();
        glommio::spawn_local(read_loop(reader, shared.clone())).detach();
        Ok(Self { shared })
    }

    pub fn addr(&self) -> &str {
        &self.shared.addr
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.borrow().is_some()
    }

    pub fn close(&self) {
        self.shared.close("closed by the client");
    }

    fn enqueue(&self, cmd: &RemotingCommand) {
        cmd.encode(&mut self.shared.outbox.borrow_mut());
        if let Some(w) = self.shared.writer_waker.take() {
            w.wake();
        }
    }

    /// Sends `cmd` (its opaque is replaced) and waits for the response.
    pub async fn call(
        &self,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, ClientError> {
        if let Some(e) = self.shared.closed_error() {
            return Err(e);
        }
        let opaque = self.shared.next_opaque.get();
        self.shared.next_opaque.set(opaque.wrapping_add(1));
        cmd.opaque = opaque;
        self.shared
            .pending
            .borrow_mut()
            .insert(opaque, Pending::default());
        self.enqueue(&cmd);
        let shared = self.shared.clone();
        let response = poll_fn(move |cx| {
            let mut pending = shared.pending.borrow_mut();
            let Some(slot) = pending.get_mut(&opaque) else {
                return Poll::Ready(None);
            };
            if let Some(r) = slot.response.take() {
                pending.remove(&opaque);
                return Poll::Ready(Some(Ok(r)));
            }
            if let Some(e) = shared.closed_error() {
                pending.remove(&opaque);
                return Poll::Ready(Some(Err(e)));
            }
            slot.waker = Some(cx.waker().clone());
            Poll::Pending
        });
        let timed_out = async {
            glommio::timer::sleep(timeout).await;
            None
        };
        match futures_lite::future::or(response, timed_out).await {
            Some(result) => result,
            None => {
                self.shared.pending.borrow_mut().remove(&opaque);
                Err(ClientError::Timeout {
                    addr: self.shared.addr.clone(),
                    timeout,
                })
            }
        }
    }

    /// Sends `cmd` as a oneway request: no response is expected.
    pub fn send_oneway(&self, cmd: RemotingCommand) -> Result<(), ClientError> {
        if let Some(e) = self.shared.closed_error() {
            return Err(e);
        }
        let mut cmd = cmd.mark_oneway();
        let opaque = self.shared.next_opaque.get();
        self.shared.next_opaque.set(opaque.wrapping_add(1));
        cmd.opaque = opaque;
        self.enqueue(&cmd);
        Ok(())
    }

    /// Requests the server has sent on this connection since the last call, oldest first.
    pub fn take_server_requests(&self) -> Vec<RemotingCommand> {
        std::mem::take(&mut *self.shared.server_requests.borrow_mut())
    }
}

async fn write_loop(mut writer: futures_lite::io::WriteHalf<TcpStream>, shared: Rc<Shared>) {
    loop {
        let batch = poll_fn(|cx| {
            if shared.closed.borrow().is_some() {
                return Poll::Ready(None);
            }
            let mut out = shared.outbox.borrow_mut();
            if out.is_empty() {
                shared.writer_waker.set(Some(cx.waker().clone()));
                Poll::Pending
            } else {
                Poll::Ready(Some(out.split()))
            }
        })
        .await;
        let Some(batch) = batch else { break };
        if let Err(e) = writer.write_all(&batch).await {
            shared.close(&format!("write failed: {e}"));
            break;
        }
    }
    let _ = writer.close().await;
}

async fn read_loop(mut reader: futures_lite::io::ReadHalf<TcpStream>, shared: Rc<Shared>) {
    let decoder = FrameDecoder::default();
    let mut buf = BytesMut::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk).await {
            Ok(0) => {
                shared.close("the server closed the connection");
                return;
            }
            Ok(n) => n,
            Err(e) => {
                shared.close(&format!("read failed: {e}"));
                return;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(cmd)) if cmd.is_response() => {
                    let mut pending = shared.pending.borrow_mut();
                    if let Some(slot) = pending.get_mut(&cmd.opaque) {
                        slot.response = Some(cmd);
                        if let Some(w) = slot.waker.take() {
                            w.wake();
                        }
                    }
                    // A response nobody waits for (timed out) is dropped.
                }
                Ok(Some(cmd)) => shared.server_requests.borrow_mut().push(cmd),
                Ok(None) => break,
                Err(e) => {
                    log::warn!("bad frame from {}: {e}", shared.addr);
                    shared.close(&format!("bad frame: {e}"));
                    return;
                }
            }
        }
        if shared.closed.borrow().is_some() {
            return;
        }
    }
}
