//! The accept loop and the per-connection read/dispatch loop.
//!
//! Each read takes as many bytes as the socket has (into a growing buffer) and dispatches every
//! complete frame in them. A request the service can answer from memory is answered on the spot
//! ([`Service::answer_at_once`]); every other one runs as its own task, so a slow one (a held
//! long poll) never blocks the requests behind it on the same connection, and responses may
//! leave out of order (clients match them by `opaque`). A frame that cannot be decoded closes
//! the connection, as the Java server does: once framing is lost nothing after it can be trusted.

use crate::connection::Connection;
use crate::reply::Reply;
use bytes::BytesMut;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpListener;
use ringmq_protocol::{FrameDecoder, RemotingCommand, DEFAULT_MAX_FRAME_LEN};
use std::cell::Cell;
use std::future::Future;
use std::os::fd::AsRawFd;
use std::rc::Rc;

/// What a server does with requests. One instance serves every connection of an executor.
pub trait Service: 'static {
    /// Handles one request. The returned response is sent unless the request was oneway.
    fn handle(
        &self,
        conn: &Rc<Connection>,
        request: RemotingCommand,
    ) -> impl Future<Output = Option<Reply>>;

    /// Answers `request` on the spot when that needs no waiting, or hands it back to run as a
    /// task of its own through [`handle`](Self::handle). A task costs a heap allocation and a
    /// copy of the largest handler's state (kilobytes) for every request; a lookup answered
    /// from memory need not pay that.
    fn answer_at_once(&self, _conn: &Rc<Connection>, request: RemotingCommand) -> AtOnce {
        AtOnce::Later(request)
    }

    /// Called once for each accepted connection, before its first request.
    fn connection_opened(&self, _conn: &Rc<Connection>) {}

    /// Called once when a connection is gone (peer closed, error, or [`Connection::close`]).
    fn connection_closed(&self, _conn: &Rc<Connection>) {}
}

/// What [`Service::answer_at_once`] made of a request.
pub enum AtOnce {
    /// Served: the response is sent unless the request was oneway (`None` sends nothing).
    Answered(Option<Reply>),
    /// It needs waiting: it runs as a task, through [`Service::handle`].
    Later(RemotingCommand),
}

/// Tunables of [`serve`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Larger frames close the connection (Java: `com.rocketmq.remoting.frameMaxLength`).
    pub max_frame_len: usize,
    /// Bytes asked of the socket per read.
    pub read_chunk: usize,
    /// Stop reading from a connection while this many response bytes wait to be written.
    pub max_pending_write: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            read_chunk: 64 * 1024,
            max_pending_write: 8 * 1024 * 1024,
        }
    }
}

/// Accepts connections on `listener` forever, serving each with `service`.
pub async fn serve<S: Service>(listener: TcpListener, service: Rc<S>, options: ServerOptions) {
    let options = Rc::new(options);
    let next_id = Cell::new(1u64);
    loop {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Typically EMFILE: back off briefly rather than spin.
                log::warn!("accept failed: {e}");
                glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Rc::new(Connection::new(next_id.get(), peer));
        next_id.set(next_id.get() + 1);
        log::debug!("connection {} from {peer}", conn.id());
        service.connection_opened(&conn);
        glommio::spawn_local(drive(stream, conn, service.clone(), options.clone())).detach();
    }
}

async fn drive<S: Service>(
    stream: glommio::net::TcpStream,
    conn: Rc<Connection>,
    service: Rc<S>,
    options: Rc<ServerOptions>,
) {
    let fd = stream.as_raw_fd();
    if let Err(e) = crate::writer::set_nonblocking(fd) {
        log::warn!(
            "closing connection from {}: cannot set O_NONBLOCK: {e}",
            conn.peer()
        );
        conn.close();
        service.connection_closed(&conn);
        return;
    }
    let (mut reader, mut writer) = futures_lite::io::split(stream);
    let writer_conn = conn.clone();
    let writer_task = glommio::spawn_local(async move {
        while let Some(mut batch) = writer_conn.next_batch().await {
            if let Err(e) = crate::writer::write_parts(&mut writer, fd, &mut batch).await {
                log::debug!("connection {}: write failed: {e}", writer_conn.id());
                writer_conn.close();
                break;
            }
        }
        let _ = writer.close().await;
    });

    let decoder = FrameDecoder::new(options.max_frame_len);
    // The socket is read into a scratch buffer zeroed once, and what came is appended to `buf`,
    // from which frames are split off. Reading into `buf` itself would need `read_chunk` fresh
    // zeroed bytes on every read (frames still alive keep its old allocation): a 64 KiB
    // allocation and memset for every 1 KiB request at low depth, most of the read path's cost.
    let mut scratch = vec![0u8; options.read_chunk];
    let mut buf = BytesMut::new();
    'read: while conn.room_below(options.max_pending_write).await {
        let read =
            futures_lite::future::or(async { Some(reader.read(&mut scratch).await) }, async {
                conn.closed().await;
                None
            })
            .await;
        let n = match read {
            Some(Ok(0)) | None => break,
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                log::debug!("connection {}: read failed: {e}", conn.id());
                break;
            }
        };
        buf.extend_from_slice(&scratch[..n]);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(cmd)) => dispatch(&conn, &service, cmd),
                Ok(None) => break,
                Err(e) => {
                    log::warn!("closing connection from {}: {e}", conn.peer());
                    break 'read;
                }
            }
        }
    }
    conn.close();
    service.connection_closed(&conn);
    writer_task.await;
    log::debug!("connection {} closed", conn.id());
}

fn dispatch<S: Service>(conn: &Rc<Connection>, service: &Rc<S>, cmd: RemotingCommand) {
    if cmd.is_response() {
        let opaque = cmd.opaque;
        if !conn.answered(cmd) {
            log::debug!(
                "connection {}: ignoring a response nobody waits for (opaque {opaque})",
                conn.id()
            );
        }
        return;
    }
    let oneway = cmd.is_oneway();
    let cmd = match service.answer_at_once(conn, cmd) {
        AtOnce::Answered(response) => {
            if let (Some(response), false) = (response, oneway) {
                conn.send_reply(response);
            }
            return;
        }
        AtOnce::Later(cmd) => cmd,
    };
    let (conn, service) = (conn.clone(), service.clone());
    // Boxed first: a request's future holds the largest handler's state (kilobytes), and
    // glommio moves what it is given through several calls before it reaches the heap. A box
    // moves as a pointer, so the future is copied once, here.
    glommio::spawn_local(Box::pin(async move {
        if let Some(response) = service.handle(&conn, cmd).await {
            if !oneway {
                conn.send_reply(response);
            }
        }
    }))
    .detach();
}
