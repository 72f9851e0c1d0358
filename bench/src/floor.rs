//! The raw floors a broker's figures are divided by, measured by the harness in the same run:
//!
//! - loopback RTT: request/response ping-pong over one 127.0.0.1 connection with the frame sizes of
//!   a send and its answer. The client is the harness's own glommio remoting client (the same code
//!   path the broker figures go through); the server is a std thread with blocking sockets that
//!   decodes each frame and writes a response of the answer's size, so the floor is the network
//!   stack plus frame handling and no broker work at all.
//! - disk sync: 4 KiB O_DIRECT write + fdatasync into a pre-zeroed file on the store's file system,
//!   which is what one SYNC_FLUSH send must wait for at least.

use crate::error::BenchError;
use crate::metrics::histogram;
use bytes::Bytes;
use glommio::io::{DmaFile, OpenOptions};
use hdrhistogram::Histogram;
use ringmq_client::RemotingClient;
use ringmq_protocol::{RemotingCommand, ResponseCode};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Says what the loopback floor's server is, for the report.
pub const LOOPBACK_SERVER: &str = "std thread, blocking sockets";

const DISK_BLOCK: usize = 4096;
/// The floor file's size: writes cycle over it, so it is pre-zeroed once and never extended.
const DISK_FILE_BYTES: u64 = 4 << 20;
const TIMEOUT: Duration = Duration::from_secs(5);

/// How many samples each floor takes (after as many again / 10 thrown away).
#[derive(Debug, Clone)]
pub struct FloorSpec {
    pub loopback_samples: usize,
    pub disk_samples: usize,
    /// Where the disk floor's file goes: the store's file system.
    pub disk_dir: PathBuf,
}

/// One floor's result: a histogram, or why it could not be measured.
pub type Floor = Result<Histogram<u64>, String>;

pub struct Floors {
    pub loopback: Floor,
    pub request_bytes: usize,
    pub response_bytes: usize,
    pub disk: Floor,
    pub disk_dir: PathBuf,
}

/// Measures both floors. Failures are recorded, not returned: a missing floor leaves the broker
/// figures valid, just without ratios.
pub async fn measure(spec: &FloorSpec, request: RemotingCommand, response_bytes: usize) -> Floors {
    let request_bytes = request.to_bytes().len();
    let loopback = loopback_rtt(request, response_bytes, spec.loopback_samples)
        .await
        .map_err(|e| e.to_string());
    let disk = disk_sync(&spec.disk_dir, spec.disk_samples)
        .await
        .map_err(|e| e.to_string());
    Floors {
        loopback,
        request_bytes,
        response_bytes,
        disk,
        disk_dir: spec.disk_dir.clone(),
    }
}

/// Ping-pong of `request` against an echo thread answering with `response_bytes`-byte frames.
pub async fn loopback_rtt(
    request: RemotingCommand,
    response_bytes: usize,
    samples: usize,
) -> Result<Histogram<u64>, BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::io("loopback floor: bind 127.0.0.1", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| BenchError::io("loopback floor: local address", e))?;
    std::thread::Builder::new()
        .name("bench-echo".into())
        .spawn(move || {
            if let Err(e) = echo(listener, response_bytes) {
                log::debug!("loopback echo server: {e}");
            }
        })
        .map_err(|e| BenchError::io("loopback floor: start the echo thread", e))?;
    let client = RemotingClient::connect(&addr.to_string(), TIMEOUT)
        .await
        .map_err(|e| BenchError::Settings(format!("loopback floor: {e}")))?;
    let mut h = histogram();
    for i in 0..samples + samples / 10 {
        let t = Instant::now();
        client
            .call(request.clone(), TIMEOUT)
            .await
            .map_err(|e| BenchError::Settings(format!("loopback floor: {e}")))?;
        if i >= samples / 10 {
            h.saturating_record((t.elapsed().as_micros() as u64).max(1));
        }
    }
    // Closing ends the echo thread: its next read sees end of file.
    client.close();
    Ok(h)
}

/// Serves one connection: each request frame gets a SUCCESS response padded to `response_bytes`.
fn echo(listener: TcpListener, response_bytes: usize) -> std::io::Result<()> {
    let (mut stream, _) = listener.accept()?;
    stream.set_nodelay(true)?;
    let mut pad: Option<String> = None;
    let mut len = [0u8; 4];
    loop {
        if stream.read_exact(&mut len).is_err() {
            return Ok(());
        }
        let mut frame = vec![0u8; 4 + u32::from_be_bytes(len) as usize];
        frame[..4].copy_from_slice(&len);
        stream.read_exact(&mut frame[4..])?;
        let req = RemotingCommand::decode(Bytes::from(frame))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let pad = pad.get_or_insert_with(|| {
            let bare =
                RemotingCommand::response_to(&req, ResponseCode::SUCCESS, Some(String::new()));
            "x".repeat(response_bytes.saturating_sub(bare.to_bytes().len()))
        });
        let resp = RemotingCommand::response_to(&req, ResponseCode::SUCCESS, Some(pad.clone()));
        stream.write_all(&resp.to_bytes())?;
    }
}

/// 4 KiB O_DIRECT writes, each followed by fdatasync, into a pre-zeroed file in `dir`.
pub async fn disk_sync(dir: &Path, samples: usize) -> Result<Histogram<u64>, BenchError> {
    let path = dir.join(format!("ringmq-bench-floor-{}", std::process::id()));
    let shown = path.display().to_string();
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(true);
    let file = options.dma_open(&path).await.map_err(|e| {
        BenchError::io(
            format!("disk floor: open {shown} with O_DIRECT (use --floor-dir on the store's file system)"),
            e.into(),
        )
    })?;
    let result = sync_samples(&file, samples).await;
    let _ = file.remove().await;
    let _ = file.close().await;
    result.map_err(|e| BenchError::io(format!("disk floor: {shown}"), e.into()))
}

async fn sync_samples(file: &DmaFile, samples: usize) -> glommio::Result<Histogram<u64>, ()> {
    file.pre_allocate(DISK_FILE_BYTES, false).await?;
    let chunk = 1 << 20;
    let mut zeros = file.alloc_dma_buffer(chunk);
    zeros.as_bytes_mut().fill(0);
    let zeros = Rc::new(zeros);
    for pos in (0..DISK_FILE_BYTES).step_by(chunk) {
        file.write_rc_at(zeros.clone(), pos).await?;
    }
    file.fdatasync().await?;
    let mut block = file.alloc_dma_buffer(DISK_BLOCK);
    block.as_bytes_mut().fill(0x5a);
    let block = Rc::new(block);
    let slots = DISK_FILE_BYTES / DISK_BLOCK as u64;
    let mut h = histogram();
    for i in 0..(samples + samples / 10) as u64 {
        let t = Instant::now();
        file.write_rc_at(block.clone(), (i % slots) * DISK_BLOCK as u64)
            .await?;
        file.fdatasync().await?;
        if i >= (samples / 10) as u64 {
            h.saturating_record((t.elapsed().as_micros() as u64).max(1));
        }
    }
    Ok(h)
}
