//! The accept loop: what tonic's `TcpIncoming` does, with the limits a public listener needs.
//!
//! - A cap on open connections. At the cap the loop stops accepting until a connection closes:
//!   new connections wait in the kernel's backlog (and are accepted in turn), nothing is spent
//!   on them, and connections already open are served as before. (Accepting and closing at
//!   once would spend a file descriptor and a wake-up per attempt, at the attacker's rate.)
//! - No busy loop when accepting fails (EMFILE/ENFILE): it waits 100 ms and logs at most once
//!   a second.
//! - A handshake timeout: a connection that has not sent the 24 bytes of an HTTP/2 preface (or
//!   a TLS hello, when tonic's TLS is layered on top) within it is closed.
//! - An idle backstop: a connection from which nothing was read for the idle timeout is
//!   closed (live peers answer the server's HTTP/2 keepalive pings well within it).
//! - A maximum age: a connection still open `max_age` after it was accepted is closed. The
//!   server's `max_connection_age` sends its GOAWAY earlier (by the grace); this closes what
//!   a long stream keeps open after it (tonic's own grace would skip the GOAWAY).
//!   Over HTTP/1.1 (gRPC-Web) there are no pings: a connection whose server stream holds it
//!   open ([`KillSwitch::hold_open`]) is not idle while the stream lives (the stream's own
//!   slow-subscriber timeout and the watchdog still end it).
//! - A kill switch per connection ([`Connections::kill_switch`], found by the peer's address):
//!   a change stream whose subscriber takes nothing past the slow-subscriber timeout ends its
//!   connection with it, since hyper neither polls a stream's body while the peer grants no
//!   window nor lets a single HTTP/2 stream be reset from outside.
//!
//! Each connection is tonic's `TcpConnectInfo` to handlers, so `Request::remote_addr` works.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use futures::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// The client's first bytes on an HTTP/2 connection (`PRI * HTTP/2.0...`).
const PREFACE_LEN: u64 = 24;
/// How long the loop waits after accepting failed for another reason than the peer.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct ListenerSettings {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub tcp_keepalive: Duration,
    /// A connection is closed this long after it was accepted (`None`: never).
    pub max_age: Option<Duration>,
}

/// Ends one connection from outside: its next read or write fails, hyper drops it.
#[derive(Debug, Default)]
pub struct KillSwitch {
    killed: AtomicBool,
    waker: AtomicWaker,
    /// Streams holding the connection open against the idle timeout.
    held: AtomicUsize,
}

/// A stream's hold on its connection (see [`KillSwitch::hold_open`]); let go when dropped.
#[derive(Debug)]
pub struct HeldOpen(Arc<KillSwitch>);

impl Drop for HeldOpen {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Ordering::AcqRel);
    }
}

impl KillSwitch {
    /// Keeps the connection from being closed as idle while the guard lives: for a server
    /// stream over HTTP/1.1, whose client has nothing to send and no pings to answer.
    pub fn hold_open(self: &Arc<Self>) -> HeldOpen {
        self.held.fetch_add(1, Ordering::AcqRel);
        HeldOpen(self.clone())
    }

    fn held_open(&self) -> bool {
        self.held.load(Ordering::Acquire) > 0
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.waker.wake();
    }

    fn check(&self, cx: &Context<'_>) -> io::Result<()> {
        self.waker.register(cx.waker());
        if self.killed.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the connection was ended by the server",
            ));
        }
        Ok(())
    }
}

/// The open connections' kill switches, by the peer's address.
#[derive(Debug, Default)]
pub struct Connections {
    open: Mutex<HashMap<SocketAddr, Arc<KillSwitch>>>,
}

impl Connections {
    /// The kill switch of the open connection from `peer`.
    pub fn kill_switch(&self, peer: SocketAddr) -> Option<Arc<KillSwitch>> {
        self.lock().get(&peer).cloned()
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<KillSwitch>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The accepted connections of `listener`, for `serve_with_incoming_shutdown`. Never yields
/// an error: failures are handled here.
pub fn incoming(
    listener: TcpListener,
    settings: ListenerSettings,
    connections: Arc<Connections>,
) -> impl Stream<Item = io::Result<Conn>> + Send + 'static {
    let state = Accept {
        listener,
        slots: Arc::new(Semaphore::new(settings.max_connections.max(1))),
        settings,
        connections,
        last_logged: None,
    };
    futures::stream::unfold(state, |mut state| async move {
        let conn = state.next().await;
        Some((Ok(conn), state))
    })
}

struct Accept {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    settings: ListenerSettings,
    connections: Arc<Connections>,
    last_logged: Option<Instant>,
}

impl Accept {
    async fn next(&mut self) -> Conn {
        // At the cap: wait for a connection to close before accepting.
        let permit = match self.slots.clone().acquire_owned().await {
            Ok(permit) => permit,
            // Never closed; waiting for ever is the right answer if it were.
            Err(_) => std::future::pending().await,
        };
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => return self.open(stream, peer, permit),
                // The peer gave up before it was accepted: nothing wrong here.
                Err(e) if is_peer_error(&e) => {}
                Err(e) => {
                    if self
                        .last_logged
                        .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
                    {
                        self.last_logged = Some(Instant::now());
                        tracing::warn!(error = %e, open = self.connections.len(), "accepting a connection failed; backing off");
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }

    fn open(&self, stream: TcpStream, peer: SocketAddr, permit: OwnedSemaphorePermit) -> Conn {
        // Without nodelay every response waits for the client's delayed ACK (up to 40 ms).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let keepalive = socket2::TcpKeepalive::new().with_time(self.settings.tcp_keepalive);
        if let Err(e) = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive) {
            tracing::debug!(error = %e, "cannot set TCP keepalive");
        }
        let info = TcpConnectInfo {
            local_addr: stream.local_addr().ok(),
            remote_addr: Some(peer),
        };
        let switch = Arc::new(KillSwitch::default());
        self.connections.lock().insert(peer, switch.clone());
        Conn {
            deadline: Box::pin(tokio::time::sleep(self.settings.handshake_timeout)),
            stream,
            info,
            switch,
            connections: self.connections.clone(),
            _slot: permit,
            read: 0,
            last_read: Instant::now(),
            idle_timeout: self.settings.idle_timeout,
            closes_at: self.settings.max_age.map(|age| Instant::now() + age),
        }
    }
}

/// Errors of one connection, not of the listener.
fn is_peer_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// An accepted connection under the handshake and idle timeouts and its kill switch.
pub struct Conn {
    stream: TcpStream,
    info: TcpConnectInfo,
    switch: Arc<KillSwitch>,
    connections: Arc<Connections>,
    /// Its place under the connection cap, given back when it closes.
    _slot: OwnedSemaphorePermit,
    /// Bytes read, counted up to the preface's length.
    read: u64,
    last_read: Instant,
    idle_timeout: Duration,
    /// When it is closed whatever it does (its maximum age).
    closes_at: Option<Instant>,
    /// The handshake deadline, then the next idle check (moved lazily: reads only note the
    /// time).
    deadline: Pin<Box<Sleep>>,
}

impl Conn {
    /// Fails once the connection must end; when it need not, arms the deadline's wake-up.
    fn check_deadline(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        while self.deadline.as_mut().poll(cx).is_ready() {
            if self.read < PREFACE_LEN {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no HTTP/2 preface within the handshake timeout",
                ));
            }
            let now = Instant::now();
            if self.closes_at.is_some_and(|at| at <= now) {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "open past its maximum age and grace",
                ));
            }
            if self.switch.held_open() {
                self.last_read = now;
            }
            let idle_until = self.last_read + self.idle_timeout;
            if idle_until <= now {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "nothing read within the idle timeout",
                ));
            }
            let next = self.next_check(idle_until);
            self.deadline.as_mut().reset(next.into());
        }
        Ok(())
    }

    /// The earlier of `idle_until` and the maximum age.
    fn next_check(&self, idle_until: Instant) -> Instant {
        self.closes_at.map_or(idle_until, |at| at.min(idle_until))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        // A new connection from the same address may have replaced it already.
        if let Some(peer) = self.info.remote_addr
            && open
                .get(&peer)
                .is_some_and(|switch| Arc::ptr_eq(switch, &self.switch))
        {
            open.remove(&peer);
        }
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.switch.check(cx)?;
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let n = (buf.filled().len() - before) as u64;
                if n > 0 {
                    let before = this.read;
                    this.read = this.read.saturating_add(n);
                    this.last_read = Instant::now();
                    if before < PREFACE_LEN && this.read >= PREFACE_LEN {
                        // Handshake done: from here the deadline is the idle one.
                        let idle_until = this.last_read + this.idle_timeout;
                        let next = this.next_check(idle_until);
                        this.deadline.as_mut().reset(next.into());
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                this.check_deadline(cx)?;
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.switch.check(cx)?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.switch.check(cx)?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.switch.check(cx)?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
