//! Group commit: the marks and outcomes of every connection of a send,
//! committed together by one thread, flushed together by another.
//!
//! A worker [`Writer::submit`]s what it has to record and goes on (building
//! its letter, opening its transaction with the relay); it waits on the
//! [`Pending`] answer only before the message's content leaves. Whatever
//! the other workers submitted meanwhile is committed in the same
//! transaction, as databases and Postfix's queue manager do.
//!
//! Every commit is *written* ([`Durability::Written`]): answered as soon
//! as SQLite has handed it to the system (the writer commits on a
//! connection of its own, in SQLite's normal synchronous mode), so no disk
//! flush is on a message's way. What asks to be *flushed* (the next
//! recipient a worker sets aside with its current message's mark,
//! [`Writer::submit_holding`], and [`Writer::flush`]) is answered by the
//! flushing thread, once it has flushed the ledger's journal (SQLite's
//! write-ahead log) to the disk: one flush for whatever every connection
//! has waiting, taking every commit before it along. The writer does not
//! wait for it: a slow flush holds back only those who asked for one.
//! With several connections, both threads gather a moment before a commit
//! or a flush ([`gathering`]).

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::{Durability, Entry, Ledger, LedgerError, Scope};
use crate::address::Key;

/// The most requests one commit carries.
const MAX_BATCH: usize = 1024;

type Answer = oneshot::Sender<Result<(), LedgerError>>;

/// What one submission asks, and where its answer goes.
struct Request {
    entries: Vec<Entry>,
    durability: Durability,
    done: Answer,
    /// For a recipient set aside in the same commit: answered once
    /// flushed.
    held: Option<Answer>,
}

/// The threads that commit and flush one send's records in batches.
#[derive(Debug)]
pub struct Writer {
    requests: Option<mpsc::Sender<Request>>,
    threads: Vec<JoinHandle<()>>,
    path: PathBuf,
    counts: Arc<Counts>,
}

/// Transactions committed, and flushes made.
#[derive(Debug, Default)]
struct Counts {
    commits: AtomicUsize,
    flushes: AtomicUsize,
}

/// The answer to a submission: committed as asked, or why not.
#[derive(Debug)]
pub struct Pending {
    answer: Option<oneshot::Receiver<Result<(), LedgerError>>>,
    path: PathBuf,
}

impl Pending {
    /// An answer for nothing to record: ready at once.
    pub fn ready() -> Pending {
        Pending {
            answer: None,
            path: PathBuf::new(),
        }
    }

    /// Waits until the records are committed as asked.
    pub async fn wait(self) -> Result<(), LedgerError> {
        match self.answer {
            None => Ok(()),
            Some(answer) => answer
                .await
                .unwrap_or(Err(LedgerError::WriterGone { path: self.path })),
        }
    }
}

impl Writer {
    /// Starts the writer of `scope` in `ledger`.
    pub fn start(
        ledger: Arc<Ledger>,
        scope: Scope,
        connections: usize,
    ) -> Result<Writer, LedgerError> {
        let path = ledger.path().to_path_buf();
        let io_err = |source| LedgerError::File {
            path: path.clone(),
            source,
        };
        // What the flusher flushes: SQLite's journal (open as long as the
        // ledger is, so never replaced under this handle), or, for
        // PostgreSQL, a connection whose commit waits for the server's
        // disk. Each PostgreSQL connection is opened by the thread that
        // uses it, so that its calls run there.
        let journal = match ledger.journal() {
            Some(journal) => Some(File::open(journal).map_err(io_err)?),
            None => None,
        };
        let connections_opened = if journal.is_some() { 1 } else { 2 };
        let (requests, inbox) = mpsc::channel::<Request>();
        let (to_flush, flushes) = mpsc::channel::<Vec<Answer>>();
        let (opened, open) = mpsc::channel::<Result<(), LedgerError>>();
        let counts = Arc::new(Counts::default());
        let (committed, flushed) = (Arc::clone(&counts), Arc::clone(&counts));
        let flusher_path = path.clone();
        let flusher_ledger = Arc::clone(&ledger);
        let flusher_opened = opened.clone();
        let threads = vec![
            std::thread::Builder::new()
                .name("ledger-writer".into())
                .spawn(move || {
                    let Some(db) = answer_opened(&opened, ledger.writing_connection()) else {
                        return;
                    };
                    commit_batches(
                        &ledger,
                        &db,
                        &scope,
                        &inbox,
                        &to_flush,
                        &committed,
                        connections,
                    )
                })
                .map_err(io_err)?,
            std::thread::Builder::new()
                .name("ledger-flusher".into())
                .spawn(move || {
                    let flush = match journal {
                        Some(journal) => Flush::Journal(journal),
                        None => match answer_opened(
                            &flusher_opened,
                            flusher_ledger.flushing_connection(),
                        ) {
                            Some(db) => Flush::Database(db),
                            None => return,
                        },
                    };
                    drop(flusher_opened);
                    flush_batches(&flush, &flusher_path, &flushes, connections, &flushed)
                })
                .map_err(io_err)?,
        ];
        // The threads' connections open (the writer's, and the flusher's
        // for PostgreSQL), or the first error: a thread that failed has
        // ended, and the other ends with the requests.
        for answer in open.iter().take(connections_opened) {
            answer?;
        }
        Ok(Writer {
            requests: Some(requests),
            threads,
            path,
            counts,
        })
    }

    /// The ledger file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// How many transactions it has committed so far.
    pub fn commits(&self) -> usize {
        self.counts.commits.load(Ordering::SeqCst)
    }

    /// How many times it has flushed them to the disk.
    pub fn flushes(&self) -> usize {
        self.counts.flushes.load(Ordering::SeqCst)
    }

    /// Hands `entries` to the writer; they are committed, in order, with
    /// whatever else is waiting, and answered once written
    /// ([`Durability::Written`]). Nothing to record is ready at once.
    pub fn submit(&self, entries: Vec<Entry>) -> Pending {
        if entries.is_empty() {
            return Pending::ready();
        }
        self.request(entries, Durability::Written, None)
    }

    /// The same, answered once flushed to the disk with everything
    /// committed before ([`Durability::Flushed`]), even with no entries.
    pub fn flush(&self, entries: Vec<Entry>) -> Pending {
        self.request(entries, Durability::Flushed, None)
    }

    /// Hands `entries` to the writer, answered once `durability` is
    /// reached, and sets `next` aside in the same commit as this run's
    /// next to send ([`Entry::Held`]), answered once flushed.
    pub fn submit_holding(
        &self,
        mut entries: Vec<Entry>,
        durability: Durability,
        next: Key,
    ) -> (Pending, Pending) {
        entries.push(Entry::Held(next));
        let (held, answer) = oneshot::channel();
        let done = self.request(entries, durability, Some(held));
        (done, self.pending(answer))
    }

    fn request(
        &self,
        entries: Vec<Entry>,
        durability: Durability,
        held: Option<Answer>,
    ) -> Pending {
        let (done, answer) = oneshot::channel();
        if let Some(requests) = &self.requests {
            // A thread that is gone drops the request, and with it its
            // answers: they are then `WriterGone`.
            let _ = requests.send(Request {
                entries,
                durability,
                done,
                held,
            });
        }
        self.pending(answer)
    }

    fn pending(&self, answer: oneshot::Receiver<Result<(), LedgerError>>) -> Pending {
        Pending {
            answer: Some(answer),
            path: self.path.clone(),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the writer once it has answered (or
        // passed on) every request already sent, and the flusher after it.
        // (Mutation testing: not joining them, they end all the same a
        // moment later; joining is what makes "every commit is made" true
        // when this returns, which no test can catch in that moment.)
        self.requests.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Tells the thread that starts the writer whether a connection opened:
/// the connection, if it did.
fn answer_opened(
    opened: &mpsc::Sender<Result<(), LedgerError>>,
    connection: Result<super::store::Db, LedgerError>,
) -> Option<super::store::Db> {
    match connection {
        Ok(db) => {
            let _ = opened.send(Ok(()));
            Some(db)
        }
        Err(e) => {
            let _ = opened.send(Err(e));
            None
        }
    }
}

/// The writer's loop: takes every request waiting, commits them in order
/// in one transaction, written; answers those that asked no more, and
/// passes the others on to the flusher.
fn commit_batches(
    ledger: &Ledger,
    db: &super::store::Db,
    scope: &Scope,
    inbox: &mpsc::Receiver<Request>,
    to_flush: &mpsc::Sender<Vec<Answer>>,
    counts: &Counts,
    connections: usize,
) {
    let window = gathering(connections);
    while let Ok(first) = inbox.recv() {
        let mut batch = vec![first];
        // With several connections, gathers for a while (or until each
        // connection has asked): a connection's mark is needed only at its
        // final dot, after its envelope and content, and one commit for
        // several costs the machine less than one each (the relay shares
        // its cores with breves).
        gather(inbox, window, &mut batch, |batch| {
            batch.len() >= connections
        });
        // (Mutation testing: `<=` makes the bound 1,025 instead of 1,024,
        // an arbitrary bound either way.)
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let entries: Vec<Entry> = batch
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.entries))
            .collect();
        let recorded = match entries.is_empty() {
            true => Ok(()),
            false => ledger.record_written(db, scope, &entries),
        };
        if !entries.is_empty() {
            counts.commits.fetch_add(1, Ordering::SeqCst);
        }
        match recorded {
            Ok(()) => {
                let mut flushed = Vec::new();
                for request in batch {
                    match request.durability {
                        Durability::Written => {
                            let _ = request.done.send(Ok(()));
                        }
                        Durability::Flushed => flushed.push(request.done),
                    }
                    flushed.extend(request.held);
                }
                if !flushed.is_empty() {
                    // A flusher that is gone drops them: `WriterGone`.
                    let _ = to_flush.send(flushed);
                }
            }
            Err(e) => answer_all(
                batch
                    .into_iter()
                    .flat_map(|r| std::iter::once(r.done).chain(r.held)),
                e,
                ledger.path().to_path_buf(),
            ),
        }
    }
}

/// The flusher's loop: takes every flush waiting, flushes the journal
/// once, answers each. What was committed before a request was passed on
/// is in the journal by then, and on the disk after it.
/// How the flusher makes what is written durable.
enum Flush {
    /// SQLite: its journal, flushed to the disk.
    Journal(File),
    /// PostgreSQL: a commit of this connection, which waits for the
    /// server to flush its journal up to it, and so every commit before.
    Database(super::store::Db),
}

impl Flush {
    /// (Mutation testing: a flush that does nothing answers the same, and
    /// what it loses is lost only when the machine or the database server
    /// loses power before the system writes its caches out, which no test
    /// here can cause. What a lost flush would cost is what the power-cut
    /// tests simulate in the ledger itself:
    /// `smtp::after_a_power_cut_every_recipient_set_aside_is_sent_again_as_uncertain`.)
    fn flush(&self) -> Result<(), LedgerError> {
        match self {
            Flush::Journal(journal) => journal.sync_data().map_err(|source| LedgerError::File {
                path: PathBuf::new(),
                source,
            }),
            Flush::Database(db) => db
                .batch("BEGIN; SELECT pg_current_xact_id(); COMMIT;")
                .map_err(|source| LedgerError::Database {
                    path: PathBuf::new(),
                    source,
                }),
        }
    }
}

fn flush_batches(
    journal: &Flush,
    path: &std::path::Path,
    inbox: &mpsc::Receiver<Vec<Answer>>,
    connections: usize,
    counts: &Counts,
) {
    let window = gathering(connections);
    while let Ok(first) = inbox.recv() {
        // Gathers for a while when several connections share the flush,
        // but no longer than once every connection waits on it. (Mutation
        // testing: `>` waits for one request more than there are
        // connections, which does not come: the window ends the wait, a
        // difference in time only. `<` flushes at once whatever waits:
        // more flushes, each as safe, and the requests that come during
        // one are taken by the next, so that a test of eight requests
        // 0.1 ms apart may still see two.)
        let mut batches = vec![first];
        gather(inbox, window, &mut batches, |batches| {
            batches.iter().map(Vec::len).sum::<usize>() >= connections
        });
        while let Ok(more) = inbox.try_recv() {
            batches.push(more);
        }
        let answers = batches.into_iter().flatten();
        let flushed = journal.flush();
        counts.flushes.fetch_add(1, Ordering::SeqCst);
        match flushed {
            Ok(()) => {
                for done in answers {
                    let _ = done.send(Ok(()));
                }
            }
            Err(e) => {
                let e = match e {
                    LedgerError::File { source, .. } => LedgerError::File {
                        path: path.to_path_buf(),
                        source,
                    },
                    LedgerError::Database { source, .. } => LedgerError::Database {
                        path: path.to_path_buf(),
                        source,
                    },
                    other => other,
                };
                answer_all(answers, e, path.to_path_buf())
            }
        }
    }
}

/// Adds to `items` what comes into `inbox` within `window`, until
/// `enough` of them.
fn gather<T>(
    inbox: &mpsc::Receiver<T>,
    window: Duration,
    items: &mut Vec<T>,
    enough: impl Fn(&[T]) -> bool,
) {
    let until = Instant::now() + window;
    while !enough(items) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match inbox.recv_timeout(left) {
            Ok(more) => items.push(more),
            Err(_) => return,
        }
    }
}

/// How long the writer gathers requests before a commit, and the flusher
/// before a flush, for a send of `connections`: none for one (its next
/// message needs the commit and the flush as soon as it can have them),
/// then 0.2 ms more for each other connection, at most 1.4 ms. A
/// connection's mark is needed at its final dot, after its envelope and
/// content, and its hold at its next final dot, after the relay has taken
/// the current message; at eight connections that takes several
/// milliseconds (each connection waits its turn at the relay), so
/// gathering stays off the path while one commit or flush serves several
/// connections. For flushes, at eight, medians of four pairs in turn:
/// 1,775 against 1,656 messages/s with a fixed 1.5 ms, 2,076 against 2,043
/// with this; a fifth fewer samples in the flushing thread in `perf`
/// (`docs/PERFORMANCE.md`).
fn gathering(connections: usize) -> Duration {
    let others = u32::try_from(connections.saturating_sub(1)).unwrap_or(u32::MAX);
    (Duration::from_micros(200) * others.min(7)).min(Duration::from_micros(1400))
}

/// Answers every request of a batch that failed: the first with the
/// error, the others with what it said. (Mutation testing: answers
/// dropped unsent say "its writer stopped" instead of why, which
/// `smtp::a_ledger_that_cannot_grow_stops_the_send_with_its_summary`
/// reads.)
fn answer_all(answers: impl IntoIterator<Item = Answer>, error: LedgerError, path: PathBuf) {
    let reason = error.to_string();
    let mut first = Some(error);
    for done in answers {
        let answer = first.take().unwrap_or_else(|| LedgerError::Commit {
            path: path.clone(),
            reason: reason.clone(),
        });
        let _ = done.send(Err(answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::deliveries::tests::{held, k, planned, row};
    use crate::ledger::{Outcome, Resume};

    /// Sets `recipient` aside, answered once flushed.
    fn hold(writer: &Writer, recipient: Key) -> Pending {
        writer
            .submit_holding(Vec::new(), Durability::Written, recipient)
            .1
    }

    /// The ledger at `path` with a send of `scope` to `names` begun.
    fn begun(path: &std::path::Path, scope: &Scope, names: &[String]) -> Arc<Ledger> {
        let ledger = Arc::new(Ledger::open(path).expect("ledger"));
        let rows: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
        ledger
            .begin(scope, "f", &planned(&rows), Resume::default())
            .expect("begin");
        ledger
    }

    /// Another connection to the ledger at `path`, holding its write lock
    /// until it is released (PostgreSQL's on a thread of its own: its
    /// client blocks, and the tests run in a runtime).
    enum Blocker {
        Sqlite(rusqlite::Connection),
        Postgres(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>),
    }

    impl Blocker {
        fn hold(path: &std::path::Path) -> Blocker {
            let url = path.to_string_lossy().into_owned();
            if url.starts_with("postgres://") {
                let (held, locked) = std::sync::mpsc::channel();
                let (release, released) = std::sync::mpsc::channel::<()>();
                let thread = std::thread::spawn(move || {
                    let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("second");
                    db.batch_execute("BEGIN; LOCK TABLE deliveries IN EXCLUSIVE MODE")
                        .expect("write lock");
                    held.send(()).expect("told");
                    let _ = released.recv();
                    db.batch_execute("COMMIT").expect("released");
                });
                locked.recv().expect("the lock taken");
                return Blocker::Postgres(release, thread);
            }
            let db = rusqlite::Connection::open(path).expect("second");
            db.execute_batch("BEGIN IMMEDIATE").expect("write lock");
            Blocker::Sqlite(db)
        }

        fn release(self) {
            match self {
                Blocker::Sqlite(db) => db.execute_batch("COMMIT").expect("released"),
                Blocker::Postgres(release, thread) => {
                    release.send(()).expect("told");
                    thread.join().expect("released");
                }
            }
        }
    }

    /// Runs the asynchronous `test` with a ledger in each store
    /// ([`each_store`]).
    fn each_store_async<F: std::future::Future<Output = ()>>(
        test: impl Fn(std::path::PathBuf) -> F,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        crate::ledger::tests::each_store(|path| runtime.block_on(test(path.to_owned())));
    }

    #[test]
    fn what_waits_meanwhile_is_committed_together() {
        each_store_async(|path| async move { waits_meanwhile(&path).await });
    }

    async fn waits_meanwhile(path: &std::path::Path) {
        let scope = Scope::list("i", "l");
        let names: Vec<String> = (0..50).map(|i| format!("m{i}@example.org")).collect();
        let ledger = begun(path, &scope, &names);
        // Another connection holds the database's write lock, so the
        // writer's first commit waits and every later submission queues.
        let blocker = Blocker::hold(path);
        let writer = Writer::start(Arc::clone(&ledger), scope.clone(), 1).expect("writer");
        let pending: Vec<Pending> = names
            .iter()
            .map(|n| {
                writer.submit(vec![
                    Entry::Leaving(k(n)),
                    Entry::Ended(k(n), Outcome::Sent("250 ok".into()), 1),
                ])
            })
            .collect();
        blocker.release();
        for p in pending {
            p.wait().await.expect("durable");
        }
        assert!(
            writer.commits() <= 2,
            "50 submissions in {} commits: the first, maybe alone, then the rest together",
            writer.commits()
        );
        assert!(Pending::ready().wait().await.is_ok());
        let before = writer.commits();
        assert!(before >= 1);
        writer
            .submit(vec![Entry::Ended(
                k(&names[0]),
                Outcome::Sent("250 ok".into()),
                0,
            )])
            .wait()
            .await
            .expect("durable");
        assert_eq!(writer.commits(), before + 1, "one more commit on its own");
        drop(writer);
        assert_eq!(
            Arc::strong_count(&ledger),
            1,
            "the writer's thread has ended, and let go of the ledger"
        );
        let status = ledger.status(&scope).expect("status");
        assert_eq!(status.counts, vec![("sent".to_owned(), 50)]);
    }

    #[tokio::test]
    async fn several_connections_share_a_commit_and_a_flush_and_one_connection_never_waits() {
        assert_eq!(gathering(1), Duration::ZERO, "one connection: at once");
        assert_eq!(gathering(2), Duration::from_micros(200));
        assert_eq!(gathering(8), Duration::from_micros(1400));
        assert_eq!(gathering(64), Duration::from_micros(1400));
        let dir = tempfile::tempdir().expect("temp");
        let scope = Scope::list("i", "l");
        let names: Vec<String> = (0..8).map(|i| format!("m{i}@example.org")).collect();
        let ledger = begun(&dir.path().join("l.sqlite3"), &scope, &names);
        // Eight connections set their next aside one after the other, as
        // their messages leave: one commit and one flush for the eight,
        // made as soon as the eighth has asked. (Two of each when a loaded
        // machine stretched the eight requests past the window, and then
        // it is tried again, up to three times; each alone without
        // gathering, every time.)
        let mut tries = Vec::new();
        while tries.len() < 3 {
            let writer = Writer::start(Arc::clone(&ledger), scope.clone(), 8).expect("writer");
            let started = Instant::now();
            let mut pending = Vec::new();
            for name in &names {
                pending.push(hold(&writer, k(name)));
                std::thread::sleep(Duration::from_micros(100));
            }
            for p in pending {
                p.wait().await.expect("flushed");
            }
            tries.push((writer.commits(), writer.flushes(), started.elapsed()));
            if writer.commits() <= 2 && writer.flushes() <= 2 {
                break;
            }
        }
        assert!(
            tries.iter().any(|&(c, f, _)| c <= 2 && f <= 2),
            "commits, flushes and time of each try: {tries:?}"
        );
        // One connection: each hold committed and flushed on its own, at
        // once. (The ledger opened through a symbolic link: the journal
        // flushed is the one beside the file.)
        let link = dir.path().join("link.sqlite3");
        std::os::unix::fs::symlink(dir.path().join("l.sqlite3"), &link).expect("symlink");
        let ledger = Arc::new(Ledger::open(&link).expect("through the link"));
        let writer = Writer::start(Arc::clone(&ledger), scope, 1).expect("writer");
        for name in &names[..2] {
            hold(&writer, k(name)).wait().await.expect("flushed");
        }
        assert_eq!((writer.commits(), writer.flushes()), (2, 2));
    }

    #[test]
    fn a_mark_is_answered_once_written_and_a_hold_once_flushed_after_it() {
        each_store_async(|path| async move { answered_once_written(&path).await });
    }

    async fn answered_once_written(path: &std::path::Path) {
        let scope = Scope::list("i", "l");
        let names = ["a@x.org", "b@x.org", "c@x.org"].map(String::from);
        let ledger = begun(path, &scope, &names);
        let writer = Writer::start(Arc::clone(&ledger), scope.clone(), 1).expect("writer");
        writer
            .submit(vec![Entry::Leaving(k("a@x.org"))])
            .wait()
            .await
            .expect("written");
        assert_eq!((writer.commits(), writer.flushes()), (1, 0));
        // A mark with the next recipient set aside: one commit, the mark
        // answered once written, the hold once flushed.
        let (mark, set_aside) =
            writer.submit_holding(Vec::new(), Durability::Written, k("b@x.org"));
        mark.wait().await.expect("written");
        assert_eq!(writer.commits(), 2);
        set_aside.wait().await.expect("flushed");
        assert_eq!((writer.commits(), writer.flushes()), (2, 1));
        // What waits together is committed together, written, and what
        // asks for a flush is flushed together after.
        let blocker = Blocker::hold(path);
        // The writer takes the first request, most likely alone, and
        // waits for the lock; the others queue.
        let first = writer.submit(vec![Entry::Ended(
            k("a@x.org"),
            Outcome::Sent("250 ok".into()),
            1,
        )]);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let pending = [
            hold(&writer, k("c@x.org")),
            writer.submit(vec![Entry::Leaving(k("b@x.org"))]),
            hold(&writer, k("a@x.org")),
        ];
        blocker.release();
        first.wait().await.expect("written");
        for p in pending {
            p.wait().await.expect("committed");
        }
        // The first alone or not (it is the writer's to take), the mark
        // of b and both holds are in one commit, and the holds in one
        // flush.
        assert_eq!(writer.flushes(), 2);
        assert!((3..=4).contains(&writer.commits()), "{}", writer.commits());
        // A flush with nothing to record still flushes.
        let commits = writer.commits();
        writer.flush(Vec::new()).wait().await.expect("flushed");
        assert_eq!((writer.commits(), writer.flushes()), (commits, 3));
        drop(writer);
        assert_eq!(
            held(path),
            vec![
                row("a@x.org", "sent", true),
                row("b@x.org", "sending", true),
                row("c@x.org", "pending", true),
            ]
        );
    }
}
