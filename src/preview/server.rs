//! The desk's web server (`breves preview --serve`): the pages of
//! [`Desk`], and a watcher that reloads it when a file is saved and tells
//! every open page, which reloads itself (a server-sent event).
//!
//! It listens where it is told (loopback by default), answers `GET` only,
//! and can neither send nor record anything.

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

/// Serves the desk of `files` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, files: Files) -> std::io::Result<()> {
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
        .with_state(app);
    axum::serve(listener, router).await
}
