//! Serving HTTP/1.1 within bounds, so that no client can hold the server:
//! at most [`Limits::connections`] connections at once, and when they are
//! all taken a new one closes the oldest that is not in the middle of a
//! request; the request's headers within [`Limits::header_timeout`] (a
//! client that sends nothing, or a byte at a time, is dropped), at most
//! 16 KB of them; the whole request within [`Limits::request_timeout`],
//! its body at most [`Limits::max_body`] bytes. A full table of file
//! descriptors closes the oldest idle connection too, rather than leaving
//! new clients unanswered.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(MAX_HEADERS)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), marked);
            tokio::select! {
                _ = connection => {}
                () = seat.close.notified() => {}
            }
            drop(seat);
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
}
