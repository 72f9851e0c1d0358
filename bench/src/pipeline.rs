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
use bytes::{Bytes, BytesMut};
use ringmq_protocol::header::offset::GetMaxOffsetRequestHeader;
use ringmq_protocol::{RemotingCommand, RequestCode, SerializeType};
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

/// GET_MAX_OFFSET of `TBW102` queue 0 with a header in `encoding`, encoded once: every request
/// on the wire is these bytes.
pub fn trivial_request(encoding: SerializeType) -> Bytes {
    let h = GetMaxOffsetRequestHeader {
        topic: "TBW102".into(),
        queue_id: 0,
        ..Default::default()
    };
    RemotingCommand::request_with(RequestCode::GET_MAX_OFFSET, 1, &h)
        .with_serialize_type(encoding)
        .to_bytes()
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

/// Frames read from a stream, counted by their length prefix and thrown away: only the prefix
/// of each is looked at, so nothing is buffered or copied beyond the one read buffer.
struct Frames {
    buf: Vec<u8>,
    /// The prefix of the frame being read, as far as it has come.
    prefix: [u8; 4],
    prefix_len: usize,
    /// Bytes of the current frame's body still to come (0 while reading a prefix).
    body_left: usize,
}

impl Default for Frames {
    fn default() -> Self {
        Self {
            buf: vec![0; READ_BUF],
            prefix: [0; 4],
            prefix_len: 0,
            body_left: 0,
        }
    }
}

impl Frames {
    /// Reads once; returns how many frames it completed, or `None` at end of stream.
    fn read_from(&mut self, stream: &mut impl Read) -> std::io::Result<Option<usize>> {
        let n = stream.read(&mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        let mut rest = &self.buf[..n];
        let mut complete = 0;
        while !rest.is_empty() {
            if self.body_left > 0 {
                let skip = self.body_left.min(rest.len());
                self.body_left -= skip;
                rest = &rest[skip..];
                if self.body_left == 0 {
                    complete += 1;
                }
                continue;
            }
            let take = (4 - self.prefix_len).min(rest.len());
            self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&rest[..take]);
            self.prefix_len += take;
            rest = &rest[take..];
            if self.prefix_len == 4 {
                self.prefix_len = 0;
                match body_len(self.prefix)? {
                    0 => complete += 1,
                    len => self.body_left = len,
                }
            }
        }
        Ok(Some(complete))
    }
}

/// The whole length of the frame at the start of `buf` (prefix included), once the prefix is in.
fn frame_len(buf: &[u8]) -> std::io::Result<Option<usize>> {
    match buf.first_chunk::<4>() {
        Some(prefix) => Ok(Some(4 + body_len(*prefix)?)),
        None => Ok(None),
    }
}

/// The length a frame's prefix announces, refused when no trivial answer is that long.
fn body_len(prefix: [u8; 4]) -> std::io::Result<usize> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("a {len}-byte frame is no answer to a trivial request"),
        ));
    }
    Ok(len)
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
        let request = trivial_request(SerializeType::Json);
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

    /// Hands out its bytes `step` at a time, so frames arrive split at every position.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(self.data.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn frames_are_counted_wherever_reads_split_them() {
        let mut stream = Vec::new();
        for body in [&b"abc"[..], b"", &[7u8; 300], b"z"] {
            stream.extend_from_slice(&(body.len() as u32).to_be_bytes());
            stream.extend_from_slice(body);
        }
        for step in [1, 2, 3, 5, 64, 4096] {
            let mut from = Trickle {
                data: &stream,
                step,
            };
            let mut frames = Frames::default();
            let mut counted = 0;
            while let Some(n) = frames.read_from(&mut from).unwrap() {
                counted += n;
            }
            assert_eq!(counted, 4, "reads of {step} bytes");
        }
    }

    #[test]
    fn an_oversized_frame_is_refused() {
        assert!(frame_len(&[0xff, 0, 0, 0]).is_err());
        assert_eq!(frame_len(&[0, 0, 0, 2]).unwrap(), Some(6));
        assert_eq!(frame_len(&[0, 0]).unwrap(), None);
    }
}
