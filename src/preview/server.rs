//! The desk's web server (`breves preview --serve`): the pages of
//! [`Desk`], and a watcher that reloads it when a file is saved and tells
//! every open page, which reloads itself (a server-sent event).
//!
//! It listens where it is told (loopback by default), answers `GET` only,
//! and can neither send nor record anything. It answers only requests
//! addressed to it by an IP address or `localhost` and its own port: a web
//! page of another site whose name is made to resolve to this machine (DNS
//! rebinding) gets `403` and reads nothing.

use std::collections::HashSet;
use std::convert::Infallible;
use std::path::PathBuf as FilePath;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use notify::{RecursiveMode, Watcher};
use tokio::sync::watch;

use super::desk::{Desk, Files, View};

/// How long a burst of file events (an editor's save is often several)
/// settles before the files are read again.
const SETTLE: Duration = Duration::from_millis(120);

/// How often the files are looked at without any event (their size, time
/// and inode only; their bytes when those changed).
const LOOK: Duration = Duration::from_secs(1);

#[derive(Clone)]
struct App {
    desk: Arc<RwLock<Desk>>,
    generation: watch::Receiver<u64>,
}

impl App {
    fn read<T>(&self, f: impl FnOnce(&Desk) -> T) -> T {
        let desk = self.desk.read().unwrap_or_else(|e| e.into_inner());
        f(&desk)
    }
}

fn view(uri: &Uri) -> View {
    View::from_query(uri.query().unwrap_or_default())
}

async fn index(State(app): State<App>) -> Html<String> {
    Html(app.read(Desk::index))
}

async fn digest(State(app): State<App>, uri: Uri) -> Html<String> {
    Html(app.read(|d| d.digest(&view(&uri))))
}

fn unavailable(e: &crate::Error) -> Response {
    (StatusCode::NOT_FOUND, e.to_string()).into_response()
}

async fn part_html(State(app): State<App>, uri: Uri) -> Response {
    match app.read(|d| d.part(&view(&uri))) {
        Ok(html) => Html(html).into_response(),
        Err(e) => unavailable(&e),
    }
}

async fn part_text(State(app): State<App>, uri: Uri) -> Response {
    match app.read(|d| d.preview(&view(&uri))) {
        Ok(p) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            p.text,
        )
            .into_response(),
        Err(e) => unavailable(&e),
    }
}

async fn message(State(app): State<App>, uri: Uri) -> Response {
    match app.read(|d| d.preview(&view(&uri))) {
        Ok(p) => ([(header::CONTENT_TYPE, "message/rfc822")], p.letter.bytes).into_response(),
        Err(e) => unavailable(&e),
    }
}

async fn image(State(app): State<App>, Path(cid): Path<String>) -> Response {
    match app.read(|d| d.image(&cid).map(|i| (i.format.mime(), i.bytes.to_vec()))) {
        Some((mime, bytes)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        None => (StatusCode::NOT_FOUND, "no such image").into_response(),
    }
}

/// The generation now, then each time it moves on.
async fn events(State(app): State<App>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold(
        (app.generation.clone(), true),
        |(mut generation, first)| async move {
            if !first && generation.changed().await.is_err() {
                return None;
            }
            let now = *generation.borrow_and_update();
            Some((
                Ok(Event::default().data(now.to_string())),
                (generation, false),
            ))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Follows the folders of the desk's files (editors often save by writing
/// another file and renaming it over the first) and reloads the desk when
/// one of its files changed. Runs on its own thread until the server ends.
fn follow(desk: Arc<RwLock<Desk>>, generation: watch::Sender<u64>) -> notify::Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx)?;
    let mut folders: HashSet<FilePath> = HashSet::new();
    let mut watch_folders = move |watcher: &mut notify::RecommendedWatcher, desk: &Desk| {
        for file in desk.watched() {
            let folder = match file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => FilePath::from("."),
            };
            if folders.insert(folder.clone()) {
                // A folder that cannot be followed (removed) leaves the
                // others followed.
                let _ = watcher.watch(&folder, RecursiveMode::NonRecursive);
            }
        }
    };
    watch_folders(
        &mut watcher,
        &desk.read().unwrap_or_else(|e| e.into_inner()),
    );
    std::thread::spawn(move || {
        loop {
            // An event, or a look anyway now and then: a change the
            // watcher missed (a network file system, a folder replaced)
            // is seen within `LOOK`.
            match rx.recv_timeout(LOOK) {
                Ok(_) => {
                    // Let the burst settle, then take every event it made.
                    std::thread::sleep(SETTLE);
                    while rx.try_recv().is_ok() {}
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            let mut desk = desk.write().unwrap_or_else(|e| e.into_inner());
            if desk.reload() {
                watch_folders(&mut watcher, &desk);
                if generation.send(desk.generation()).is_err() {
                    break;
                }
            }
        }
    });
    Ok(())
}

/// Whether a request's `Host` names this server: an IP address or
/// `localhost`, with the port it listens on (none for port 80). A name
/// can be made to resolve to this machine by anyone's DNS; an address
/// cannot be chosen by a web page of another site.
pub fn is_own_host(host: &str, port: u16) -> bool {
    let (name, given) = if let Some(rest) = host.strip_prefix('[') {
        // `[::1]:8026`
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        (None, after.strip_prefix(':'))
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(host), None),
        }
    };
    let port_matches = match given {
        Some(p) => p.parse::<u16>() == Ok(port),
        None => port == 80,
    };
    let name_ok = name.is_none_or(|n| {
        n.eq_ignore_ascii_case("localhost") || n.parse::<std::net::Ipv4Addr>().is_ok()
    });
    port_matches && name_ok
}

/// What to say when the desk listens beyond this machine, if it does.
pub fn exposure(address: std::net::SocketAddr) -> Option<String> {
    (!address.ip().is_loopback()).then(|| {
        format!(
            "warning: listening on {address}, not only on this machine: anyone who can reach it reads every digest, the members' names and the addresses in the list's warnings. Use --listen 127.0.0.1:PORT unless that is what you want."
        )
    })
}

/// Refuses a request whose `Host` is not this server's (see
/// [`is_own_host`]).
async fn own_host_only(
    State(port): State<u16>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|h| is_own_host(h, port)) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This desk answers only at its own address (http://127.0.0.1:PORT/ or http://localhost:PORT/).\n",
    )
        .into_response()
}

/// Serves the desk of `files` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, files: Files) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    let desk = Arc::new(RwLock::new(Desk::new(files)));
    let (sender, receiver) = watch::channel(0);
    follow(desk.clone(), sender).map_err(std::io::Error::other)?;
    let app = App {
        desk,
        generation: receiver,
    };
    let router = Router::new()
        .route("/", get(index))
        .route("/digest", get(digest))
        .route("/part.html", get(part_html))
        .route("/part.txt", get(part_text))
        .route("/message.eml", get(message))
        .route("/image/{cid}", get(image))
        .route("/events", get(events))
        .with_state(app)
        .layer(axum::middleware::from_fn_with_state(port, own_host_only));
    crate::http::serve(listener, router, crate::http::Limits::default()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_address_or_localhost_at_its_own_port_is_answered() {
        for host in [
            "127.0.0.1:8026",
            "localhost:8026",
            "LocalHost:8026",
            "[::1]:8026",
            "192.0.2.7:8026",
        ] {
            assert!(is_own_host(host, 8026), "{host}");
        }
        for host in [
            "evil.example.com:8026",
            "127.0.0.1.nip.example.com:8026",
            "localhost:80",
            "127.0.0.1:8027",
            "127.0.0.1",
            "[::1]",
            "[evil]:8026",
            "",
        ] {
            assert!(!is_own_host(host, 8026), "{host}");
        }
        assert!(is_own_host("localhost", 80));
        assert!(exposure("127.0.0.1:8026".parse().expect("addr")).is_none());
        assert!(exposure("[::1]:8026".parse().expect("addr")).is_none());
        assert!(exposure("0.0.0.0:8026".parse().expect("addr")).is_some());
    }
}
