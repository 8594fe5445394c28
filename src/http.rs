//! Serving HTTP/1.1 within bounds, so that no client can hold the server:
//! at most [`Limits::connections`] connections at once, and when they are
//! all taken a new one closes the oldest that is not in the middle of a
//! request; the request's headers within [`Limits::header_timeout`] (a
//! client that sends nothing, or a byte at a time, is dropped), at most
//! 16 KB of them; the whole request within [`Limits::request_timeout`],
//! its body at most [`Limits::max_body`] bytes. A full table of file
//! descriptors closes the oldest idle connection too, rather than leaving
//! new clients unanswered. A connection ends with a lingering close, so
//! that a client still sending a refused body reads its answer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

/// What one server allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub connections: usize,
    /// Time to send a request's headers, from the connection's start or
    /// the end of the previous response.
    pub header_timeout: Duration,
    /// Time for a whole request, body and answer.
    pub request_timeout: Duration,
    /// Bytes of a request's body.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 4096,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            max_body: 16 * 1024,
        }
    }
}

/// The most bytes of headers a request may send (hyper's buffer; it
/// answers `431` past it).
const MAX_HEADERS: usize = 16 * 1024;

/// An open connection: whether it is in the middle of a request, and how
/// to close it.
type Open = (Arc<AtomicBool>, Arc<Notify>);

/// The open connections, oldest first.
#[derive(Default)]
struct Table {
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, Open>>,
}

/// One connection's place in the [`Table`], given back when dropped.
struct Seat {
    id: u64,
    busy: Arc<AtomicBool>,
    close: Arc<Notify>,
    table: Arc<Table>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.table.lock().remove(&self.id);
    }
}

impl Table {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Open>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the oldest connection that is not in the middle of a
    /// request; whether there was one.
    fn close_oldest_idle(&self) -> bool {
        let mut open = self.lock();
        let Some(id) = open
            .iter()
            .find(|(_, (busy, _))| !busy.load(Ordering::SeqCst))
            .map(|(id, _)| *id)
        else {
            return false;
        };
        if let Some((_, close)) = open.remove(&id) {
            close.notify_one();
        }
        true
    }

    /// A seat for a new connection, closing the oldest idle one if every
    /// seat is taken; none if every connection is busy.
    fn seat(self: &Arc<Self>, limit: usize) -> Option<Seat> {
        if self.lock().len() >= limit && !self.close_oldest_idle() {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let busy = Arc::new(AtomicBool::new(false));
        let close = Arc::new(Notify::new());
        self.lock()
            .insert(id, (Arc::clone(&busy), Arc::clone(&close)));
        Some(Seat {
            id,
            busy,
            close,
            table: Arc::clone(self),
        })
    }
}

/// Answers `408` to a request not done within its time.
async fn within(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "the request took too long\n").into_response(),
    }
}

/// The most a closing connection reads of what its client still sends,
/// and for how long.
const LINGER_BYTES: usize = 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(2);

/// A connection's socket that, once hyper lets go of it (after its last
/// answer, or after refusing headers too large), is closed the way a
/// client can read that answer: no more writing, then what the client is
/// still sending (the rest of a body refused with `413`, say) read and
/// dropped until it stops, within [`LINGER_BYTES`] and [`LINGER_TIME`].
/// Closing with unread bytes would make the system answer them with a
/// reset, which on the client's side can destroy the answer before it is
/// read. The connection keeps its [`Seat`] until then; a connection
/// closed to make room (`evicted`) does not linger.
struct Lingering {
    stream: Option<tokio::net::TcpStream>,
    seat: Option<Seat>,
    evicted: Arc<AtomicBool>,
}

impl Lingering {
    fn new(stream: tokio::net::TcpStream, seat: Seat) -> (Self, Arc<AtomicBool>) {
        let evicted = Arc::new(AtomicBool::new(false));
        let io = Lingering {
            stream: Some(stream),
            seat: Some(seat),
            evicted: Arc::clone(&evicted),
        };
        (io, evicted)
    }

    fn stream(&mut self) -> Pin<&mut tokio::net::TcpStream> {
        Pin::new(self.stream.as_mut().expect("taken only when dropped"))
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let (Some(stream), seat) = (self.stream.take(), self.seat.take()) else {
            return;
        };
        if self.evicted.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                linger(stream).await;
                drop(seat);
            });
        }
    }
}

impl tokio::io::AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

/// Stops writing to `stream`, then reads what its client still sends
/// until it stops, within [`LINGER_BYTES`] and [`LINGER_TIME`].
async fn linger(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut buffer = [0u8; 8192];
        let mut read = 0;
        while read < LINGER_BYTES {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}

/// Serves `router` on `listener` within `limits` until the listener fails
/// for good. Each request carries its peer as [`ConnectInfo`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
) -> std::io::Result<()> {
    use hyper::service::Service as _;
    let router = router
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            within,
        ))
        .layer(DefaultBodyLimit::max(limits.max_body));
    let table = Arc::new(Table::default());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors (or another passing failure):
                // make room by closing the oldest idle connection, and
                // give the system a moment.
                if !table.close_oldest_idle() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                continue;
            }
        };
        let Some(seat) = table.seat(limits.connections) else {
            // Every connection is in the middle of a request, each bounded
            // in time: this one waits for none of them.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(ConnectInfo::<SocketAddr>(peer))),
        );
        tokio::spawn(async move {
            let busy = Arc::clone(&seat.busy);
            let close = Arc::clone(&seat.close);
            let marked = hyper::service::service_fn(move |request| {
                busy.store(true, Ordering::SeqCst);
                let answer = service.call(request);
                let busy = Arc::clone(&busy);
                async move {
                    let response = answer.await;
                    busy.store(false, Ordering::SeqCst);
                    response
                }
            });
            let (io, evicted) = Lingering::new(stream, seat);
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(MAX_HEADERS)
                .serve_connection(hyper_util::rt::TokioIo::new(io), marked);
            tokio::select! {
                _ = connection => {}
                () = close.notified() => evicted.store(true, Ordering::SeqCst),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_closes_its_oldest_idle_connection_never_a_busy_one() {
        let table = Arc::new(Table::default());
        let first = table.seat(2).expect("a seat");
        let second = table.seat(2).expect("a seat");
        first.busy.store(true, Ordering::SeqCst);
        // Full: the oldest idle one (the second) is asked to close.
        let third = table.seat(2).expect("a seat");
        assert_eq!(
            table.lock().keys().copied().collect::<Vec<_>>(),
            [first.id, third.id]
        );
        // Both left busy: a new connection gets no seat.
        third.busy.store(true, Ordering::SeqCst);
        assert!(table.seat(2).is_none());
        drop(second);
        drop(first);
        assert_eq!(table.lock().len(), 1);
        assert!(table.seat(2).is_some());
    }

    /// A client that sends a body or headers too large reads the `413` or
    /// `431`, however the race between its writing and the server's
    /// closing turns out.
    #[test]
    fn a_refused_body_still_reads_its_answer() {
        use std::io::{Read, Write};
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let router = Router::new().route(
            "/",
            axum::routing::post(|body: axum::body::Bytes| async move { body.len().to_string() }),
        );
        let limits = Limits {
            max_body: 1024,
            ..Limits::default()
        };
        runtime.spawn(serve(listener, router, limits));
        let body = vec![b'x'; 300_000];
        for _ in 0..20 {
            let mut stream = std::net::TcpStream::connect(address).expect("connects");
            write!(
                stream,
                "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .expect("headers");
            stream.write_all(&body).expect("the whole body is taken");
            let mut answer = String::new();
            stream
                .read_to_string(&mut answer)
                .expect("the answer is read");
            assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        }
        // Headers too large are refused by hyper itself, and read too.
        let pad = "y".repeat(40_000);
        for _ in 0..20 {
            let mut stream = std::net::TcpStream::connect(address).expect("connects");
            write!(
                stream,
                "GET / HTTP/1.1\r\nHost: {address}\r\nX-Pad: {pad}\r\nConnection: close\r\n\r\n"
            )
            .expect("the whole request is taken");
            let mut answer = String::new();
            stream
                .read_to_string(&mut answer)
                .expect("the answer is read");
            assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
        }
    }
}
