//! Pipelined request rate of a trivial request, next to a plain blocking-socket server that
//! answers the same frames.
//!
//! The question is what the broker's network path costs, not its storage: GET_MAX_OFFSET of
//! `TBW102` queue 0 (every broker has it) is answered from memory. Each connection keeps `depth`
//! requests in flight: whenever answers arrive it sends as many new requests, in one write. The
//! peer is a thread per connection with blocking sockets that answers every complete frame of a
//! read with the broker's own answer bytes, all in one write: what any server must at least do
//! for these frames on this machine. Both are driven by the same client (std threads, blocking
//! sockets, no decoding beyond the length prefix), so the ratio compares only the servers.

use crate::error::BenchError;
use bytes::{Buf, Bytes, BytesMut};
use ringmq_protocol::header::offset::GetMaxOffsetRequestHeader;
use ringmq_protocol::{RemotingCommand, RequestCode};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Answers longer than this are not what a trivial request gets: the peer is not a broker.
const MAX_FRAME: usize = 1 << 20;
const READ_BUF: usize = 256 << 10;
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct PipelineSpec {
    pub connections: usize,
    /// Requests in flight per connection.
    pub depth: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub struct PipelineResult {
    pub answers: u64,
    pub elapsed: Duration,
}

impl PipelineResult {
    pub fn rate(&self) -> f64 {
        self.answers as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// GET_MAX_OFFSET of `TBW102` queue 0, encoded once: every request on the wire is these bytes.
pub fn trivial_request() -> Bytes {
    let h = GetMaxOffsetRequestHeader {
        topic: "TBW102".into(),
        queue_id: 0,
        ..Default::default()
    };
    RemotingCommand::request_with(RequestCode::GET_MAX_OFFSET, 1, &h).to_bytes()
}

/// What `addr` answers to one `request`: the bytes the echo server sends back for each frame.
pub fn sample_answer(addr: SocketAddr, request: &[u8]) -> Result<Bytes, BenchError> {
    let mut stream = connect(addr)?;
    stream.write_all(request).map_err(io(addr))?;
    let mut pending = BytesMut::new();
    let mut buf = vec![0u8; 4096];
    loop {
        if let Some(len) = frame_len(&pending).map_err(io(addr))? {
            if pending.len() >= len {
                return Ok(pending.split_to(len).freeze());
            }
        }
        match stream.read(&mut buf).map_err(io(addr))? {
            0 => return Err(closed(addr)),
            n => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// Starts a server on 127.0.0.1 (a thread per connection, blocking sockets) that answers every
/// complete frame it reads with `answer`, the answers to one read in one write. It runs until
/// the process ends.
pub fn start_echo(answer: Bytes) -> Result<SocketAddr, BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::io("binding the echo server", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| BenchError::io("the echo server's address", e))?;
    std::thread::Builder::new()
        .name("echo-accept".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let answer = answer.clone();
                let _ = std::thread::Builder::new()
                    .name("echo".into())
                    .spawn(move || echo(stream, &answer));
            }
        })
        .map_err(|e| BenchError::io("starting the echo server", e))?;
    Ok(addr)
}

fn echo(mut stream: TcpStream, answer: &[u8]) {
    let _ = stream.set_nodelay(true);
    let mut frames = Frames::default();
    let mut out = Vec::new();
    loop {
        let complete = match frames.read_from(&mut stream) {
            Ok(Some(n)) => n,
            _ => return,
        };
        out.clear();
        for _ in 0..complete {
            out.extend_from_slice(answer);
        }
        if stream.write_all(&out).is_err() {
            return;
        }
    }
}

/// Drives `addr` with `spec.connections` connections of `spec.depth` requests in flight and
/// counts the answers that arrive in the measured window (after the warm-up).
pub fn drive(
    addr: SocketAddr,
    request: Bytes,
    spec: &PipelineSpec,
) -> Result<PipelineResult, BenchError> {
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let until = measure_from + spec.duration;
    let drivers: Vec<_> = (0..spec.connections)
        .map(|i| {
            let request = request.clone();
            let depth = spec.depth.max(1);
            std::thread::Builder::new()
                .name(format!("pipeline-{i}"))
                .spawn(move || keep_in_flight(addr, &request, depth, measure_from, until))
        })
        .collect();
    let mut answers = 0;
    for driver in drivers {
        let joined = driver
            .map_err(|e| BenchError::io("starting a pipeline connection", e))?
            .join()
            .map_err(|_| BenchError::Executor("a pipeline connection panicked".into()))?;
        answers += joined?;
    }
    Ok(PipelineResult {
        answers,
        elapsed: until.saturating_duration_since(measure_from),
    })
}

/// One connection: `depth` requests out, then one new request per answer, until `until`.
fn keep_in_flight(
    addr: SocketAddr,
    request: &[u8],
    depth: usize,
    measure_from: Instant,
    until: Instant,
) -> Result<u64, BenchError> {
    let mut stream = connect(addr)?;
    let burst: Vec<u8> = request.repeat(depth);
    stream.write_all(&burst).map_err(io(addr))?;
    let mut frames = Frames::default();
    let mut counted = 0;
    loop {
        let answered = frames.read_from(&mut stream).map_err(io(addr))?;
        let Some(answered) = answered else {
            return Err(closed(addr));
        };
        let now = Instant::now();
        if now >= until {
            return Ok(counted);
        }
        if now >= measure_from {
            counted += answered as u64;
        }
        // Never more in flight than `depth`: at most that many answers can arrive at once.
        let resend = answered.min(depth);
        stream
            .write_all(&burst[..resend * request.len()])
            .map_err(io(addr))?;
    }
}

/// Frames read from a stream, counted by their length prefix and thrown away.
#[derive(Default)]
struct Frames {
    pending: BytesMut,
}

impl Frames {
    /// Reads once; returns how many frames it completed, or `None` at end of stream.
    fn read_from(&mut self, stream: &mut TcpStream) -> std::io::Result<Option<usize>> {
        if self.pending.capacity() - self.pending.len() < READ_BUF / 2 {
            self.pending.reserve(READ_BUF);
        }
        let len = self.pending.len();
        self.pending.resize(self.pending.capacity(), 0);
        let n = match stream.read(&mut self.pending[len..]) {
            Ok(n) => n,
            Err(e) => {
                self.pending.truncate(len);
                return Err(e);
            }
        };
        self.pending.truncate(len + n);
        if n == 0 {
            return Ok(None);
        }
        let mut complete = 0;
        while let Some(frame) = frame_len(&self.pending)? {
            if self.pending.len() < frame {
                break;
            }
            self.pending.advance(frame);
            complete += 1;
        }
        Ok(Some(complete))
    }
}

/// The whole length of the frame at the start of `buf` (prefix included), once the prefix is in.
fn frame_len(buf: &[u8]) -> std::io::Result<Option<usize>> {
    let Some(prefix) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*prefix) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("a {len}-byte frame is no answer to a trivial request"),
        ));
    }
    Ok(Some(4 + len))
}

fn connect(addr: SocketAddr) -> Result<TcpStream, BenchError> {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(io(addr))?;
    stream.set_nodelay(true).map_err(io(addr))?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io(addr))?;
    Ok(stream)
}

fn io(addr: SocketAddr) -> impl Fn(std::io::Error) -> BenchError {
    move |source| BenchError::io(format!("pipelining to {addr}"), source)
}

fn closed(addr: SocketAddr) -> BenchError {
    io(addr)(std::io::Error::new(
        ErrorKind::UnexpectedEof,
        "the peer closed the connection",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_echo_server_answers_every_pipelined_frame() {
        let request = trivial_request();
        let answer = Bytes::from_static(b"\0\0\0\x06answer");
        let echo = start_echo(answer.clone()).unwrap();
        assert_eq!(sample_answer(echo, &request).unwrap(), answer);
        let spec = PipelineSpec {
            connections: 2,
            depth: 4,
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(200),
        };
        let r = drive(echo, request, &spec).unwrap();
        assert!(r.answers > 0 && r.rate() > 0.0, "{r:?}");
    }

    #[test]
    fn an_oversized_frame_is_refused() {
        assert!(frame_len(&[0xff, 0, 0, 0]).is_err());
        assert_eq!(frame_len(&[0, 0, 0, 2]).unwrap(), Some(6));
        assert_eq!(frame_len(&[0, 0]).unwrap(), None);
    }
}
