//! Writing queued body parts to a socket without copying them.
//!
//! Runs of in-memory parts go out in one `sendmsg` over a list of buffers (buffers adjacent in
//! memory, such as records appended one after another, merge into one entry). File regions go
//! out with `sendfile`, at most [`SENDFILE_STEP`] per call so one large region cannot hold the
//! core for long.
//!
//! glommio's sockets are blocking descriptors on which glommio passes `MSG_DONTWAIT` per call.
//! `sendfile` takes no flags, so the connection's socket is switched to `O_NONBLOCK` first
//! ([`set_nonblocking`]); glommio itself only ever waits for readiness, so it is unaffected.
//! When the socket is full, the wait for room goes through glommio's own write of the next
//! bytes: for memory that is the part itself; for a file region, up to [`BOUNCE`] bytes read
//! from the file. That small copy happens only while the peer is not keeping up, which is when
//! an extra copy delays nobody.

use crate::reply::BodyPart;
use bytes::Buf;
use futures_lite::io::{AsyncWrite, AsyncWriteExt};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileExt;

/// Most bytes one `sendfile` call moves.
pub const SENDFILE_STEP: usize = 1 << 20;
/// Most buffers one `sendmsg` names (well below the kernel's `IOV_MAX` of 1024).
const MAX_IOVECS: usize = 64;
/// Bytes of a file region copied to wait for room on a full socket.
const BOUNCE: usize = 64 * 1024;

/// Sets `O_NONBLOCK` on `fd`, so `sendfile` returns `EAGAIN` instead of blocking the executor.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we hold open; no pointers involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes every part of `parts` to `socket` (whose descriptor is `fd`), in order.
pub(crate) async fn write_parts<W: AsyncWrite + Unpin>(
    socket: &mut W,
    fd: RawFd,
    parts: &mut VecDeque<BodyPart>,
) -> io::Result<()> {
    while let Some(front) = parts.front_mut() {
        let sent = match front {
            BodyPart::Memory(_) => match send_memory_run(fd, parts) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let Some(BodyPart::Memory(bytes)) = parts.front() else {
                        unreachable!("the front part was memory")
                    };
                    socket.write(bytes).await
                }
                other => other,
            },
            BodyPart::File(region) => match send_file(fd, region) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let mut bounce = vec![0; region.len().min(BOUNCE)];
                    region.file().read_exact_at(&mut bounce, region.pos())?;
                    socket.write(&bounce).await
                }
                other => other,
            },
        };
        match sent {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => consume(parts, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One `sendmsg` of the memory parts at the front of `parts`.
fn send_memory_run(fd: RawFd, parts: &VecDeque<BodyPart>) -> io::Result<usize> {
    let mut iov: [libc::iovec; MAX_IOVECS] = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_IOVECS];
    let mut used = 0;
    for part in parts {
        let BodyPart::Memory(bytes) = part else {
            break;
        };
        let ptr = bytes.as_ptr() as *mut libc::c_void;
        if used > 0 {
            let last = &mut iov[used - 1];
            // SAFETY: only computes an address one past the end of a live buffer.
            if unsafe { last.iov_base.add(last.iov_len) } == ptr {
                last.iov_len += bytes.len();
                continue;
            }
        }
        if used == MAX_IOVECS {
            break;
        }
        iov[used] = libc::iovec {
            iov_base: ptr,
            iov_len: bytes.len(),
        };
        used += 1;
    }
    // SAFETY: a zeroed msghdr is valid; it is filled with buffers that `parts` keeps alive
    // for the duration of the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = used;
    // SAFETY: `msg` points at `used` valid iovecs; the kernel only reads them.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// One `sendfile` of at most [`SENDFILE_STEP`] bytes of `region`.
fn send_file(fd: RawFd, region: &crate::reply::FileRegion) -> io::Result<usize> {
    let mut offset = region.pos() as libc::off_t;
    let count = region.len().min(SENDFILE_STEP);
    // SAFETY: both descriptors are open; `offset` is a valid out-parameter.
    let n = unsafe { libc::sendfile(fd, region.file().as_raw_fd(), &mut offset, count) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n == 0 {
        // The file ends before the region does: the frame cannot be completed.
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "a file region to send ends early",
        ));
    }
    Ok(n as usize)
}

/// Drops the first `n` sent bytes from `parts`.
fn consume(parts: &mut VecDeque<BodyPart>, mut n: usize) {
    while n > 0 {
        let Some(front) = parts.front_mut() else {
            return;
        };
        let len = front.len();
        if n < len {
            match front {
                BodyPart::Memory(bytes) => bytes.advance(n),
                BodyPart::File(region) => region.advance(n),
            }
            return;
        }
        n -= len;
        parts.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::FileRegion;
    use bytes::Bytes;
    use std::sync::Arc;

    fn total(parts: &VecDeque<BodyPart>) -> usize {
        parts.iter().map(BodyPart::len).sum()
    }

    #[test]
    fn consume_drops_whole_parts_and_trims_the_next() {
        let file = Arc::new(tempfile_with(&[7u8; 100]));
        let mut parts: VecDeque<BodyPart> = VecDeque::from(vec![
            BodyPart::Memory(Bytes::from_static(b"abc")),
            BodyPart::File(FileRegion::new(file, 10, 50)),
            BodyPart::Memory(Bytes::from_static(b"xyz")),
        ]);
        consume(&mut parts, 5);
        assert_eq!(parts.len(), 2);
        match &parts[0] {
            BodyPart::File(r) => assert_eq!((r.pos(), r.len()), (12, 48)),
            other => panic!("{other:?}"),
        }
        consume(&mut parts, 49);
        assert_eq!(total(&parts), 2);
        consume(&mut parts, 2);
        assert!(parts.is_empty());
    }

    fn tempfile_with(bytes: &[u8]) -> std::fs::File {
        let path = std::env::temp_dir().join(format!("ringmq-writer-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        f
    }
}
