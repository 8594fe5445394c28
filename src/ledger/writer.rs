//! Group commit: the marks and outcomes of every connection of a send,
//! committed together by one thread.
//!
//! A worker [`Writer::submit`]s what it has to record and goes on (building
//! its letter, opening its transaction with the relay); it waits on the
//! [`Pending`] answer only before the message's content leaves. Whatever
//! the other workers submitted meanwhile is committed in the same
//! transaction, as databases and Postfix's queue manager do.
//!
//! What a final dot waits for is *written* ([`Durability::Written`]): no
//! disk flush on a message's way. A worker [`Writer::hold`]s its next
//! recipient while the current message is on the wire; holds are
//! *flushed*, and each flush takes every earlier written commit to the disk
//! with it, so one flush serves the marks and outcomes of every connection.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{Durability, Entry, Ledger, LedgerError, Scope};
use crate::address::Key;

/// The most requests one commit carries.
const MAX_BATCH: usize = 1024;

/// What one submission asks, and where its answer goes.
struct Request {
    entries: Vec<Entry>,
    durability: Durability,
    done: oneshot::Sender<Result<(), LedgerError>>,
}

impl Request {
    /// A hold alone commutes with everything else a batch carries: it
    /// changes only `held`, of a recipient nobody else records meanwhile.
    fn only_holds(&self) -> bool {
        self.entries.iter().all(|e| matches!(e, Entry::Held(_)))
    }
}

/// The thread that commits one send's records in batches.
#[derive(Debug)]
pub struct Writer {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
    counts: Arc<Counts>,
}

/// Transactions committed, and how many of them were flushed.
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
    pub fn start(ledger: Arc<Ledger>, scope: Scope) -> Result<Writer, LedgerError> {
        let path = ledger.path().to_path_buf();
        let (requests, inbox) = mpsc::channel::<Request>();
        let counts = Arc::new(Counts::default());
        let counted = Arc::clone(&counts);
        let thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || commit_batches(&ledger, &scope, &inbox, &counted))
            .map_err(|source| LedgerError::File {
                path: path.clone(),
                source,
            })?;
        Ok(Writer {
            requests: Some(requests),
            thread: Some(thread),
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

    /// How many of them were flushed to the disk.
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
        self.send(entries, Durability::Written)
    }

    /// The same, answered once flushed to the disk with everything
    /// committed before ([`Durability::Flushed`]), even with no entries.
    pub fn flush(&self, entries: Vec<Entry>) -> Pending {
        self.send(entries, Durability::Flushed)
    }

    /// Sets `recipient` aside as this run's next to send ([`Entry::Held`]),
    /// answered once flushed.
    pub fn hold(&self, recipient: Key) -> Pending {
        self.send(vec![Entry::Held(recipient)], Durability::Flushed)
    }

    fn send(&self, entries: Vec<Entry>, durability: Durability) -> Pending {
        let (done, answer) = oneshot::channel();
        if let Some(requests) = &self.requests {
            // A thread that is gone drops the request, and with it `done`:
            // the answer is then `WriterGone`.
            let _ = requests.send(Request {
                entries,
                durability,
                done,
            });
        }
        Pending {
            answer: Some(answer),
            path: self.path.clone(),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread once it has answered every
        // request already sent.
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer's loop: takes every request waiting and commits them, in
/// order, in one transaction, flushed if any of them asks; holds alone are
/// committed after the others, so that written requests are not kept
/// waiting for their flush. Answers each.
fn commit_batches(
    ledger: &Ledger,
    scope: &Scope,
    inbox: &mpsc::Receiver<Request>,
    counts: &Counts,
) {
    while let Ok(first) = inbox.recv() {
        let mut batch = vec![first];
        // (Mutation testing: `<=` makes the bound 1,025 instead of 1,024,
        // an arbitrary bound either way.)
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let (mut holds, mut ordered): (Vec<Request>, Vec<Request>) = batch
            .into_iter()
            .partition(|r| r.durability == Durability::Flushed && r.only_holds());
        let flushed = ordered.iter().any(|r| r.durability == Durability::Flushed);
        if flushed {
            // One flush for all.
            ordered.append(&mut holds);
        }
        if !ordered.is_empty() {
            let durability = match flushed {
                true => Durability::Flushed,
                false => Durability::Written,
            };
            commit(ledger, scope, ordered, durability, counts);
        }
        if !holds.is_empty() {
            commit(ledger, scope, holds, Durability::Flushed, counts);
        }
    }
}

/// Commits the entries of `batch` in one transaction and answers each.
fn commit(
    ledger: &Ledger,
    scope: &Scope,
    mut batch: Vec<Request>,
    durability: Durability,
    counts: &Counts,
) {
    let entries: Vec<Entry> = batch
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.entries))
        .collect();
    let recorded = ledger.record_all(scope, &entries, durability);
    counts.commits.fetch_add(1, Ordering::SeqCst);
    if durability == Durability::Flushed {
        counts.flushes.fetch_add(1, Ordering::SeqCst);
    }
    match recorded {
        Ok(()) => {
            for request in batch {
                let _ = request.done.send(Ok(()));
            }
        }
        Err(e) => {
            let reason = e.to_string();
            let mut first = Some(e);
            for request in batch {
                let answer = first.take().unwrap_or_else(|| LedgerError::Commit {
                    path: ledger.path().to_path_buf(),
                    reason: reason.clone(),
                });
                let _ = request.done.send(Err(answer));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::deliveries::tests::{k, planned};
    use crate::ledger::{Outcome, Resume};

    #[tokio::test]
    async fn what_waits_meanwhile_is_committed_together() {
        let dir = tempfile::tempdir().expect("temp");
        let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
        let scope = Scope::list("i", "l");
        let names: Vec<String> = (0..50).map(|i| format!("m{i}@example.org")).collect();
        let rows: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
        ledger
            .begin(&scope, "f", &planned(&rows), Resume::default())
            .expect("begin");
        // Another connection holds the database's write lock, so the
        // writer's first commit waits and every later submission queues.
        let blocker = rusqlite::Connection::open(dir.path().join("l.sqlite3")).expect("second");
        blocker
            .execute_batch("BEGIN IMMEDIATE")
            .expect("write lock");
        let writer = Writer::start(Arc::clone(&ledger), scope.clone()).expect("writer");
        let pending: Vec<Pending> = names
            .iter()
            .map(|n| {
                writer.submit(vec![
                    Entry::Leaving(k(n)),
                    Entry::Ended(k(n), Outcome::Sent("250 ok".into()), 1),
                ])
            })
            .collect();
        blocker.execute_batch("COMMIT").expect("released");
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
    async fn a_mark_is_answered_once_written_and_a_hold_once_flushed_after_it() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("l.sqlite3");
        let ledger = Arc::new(Ledger::open(&path).expect("ledger"));
        let scope = Scope::list("i", "l");
        let rows = [("a@x.org", ""), ("b@x.org", ""), ("c@x.org", "")];
        ledger
            .begin(&scope, "f", &planned(&rows), Resume::default())
            .expect("begin");
        let writer = Writer::start(Arc::clone(&ledger), scope.clone()).expect("writer");
        writer
            .submit(vec![Entry::Leaving(k("a@x.org"))])
            .wait()
            .await
            .expect("written");
        assert_eq!((writer.commits(), writer.flushes()), (1, 0));
        writer.hold(k("b@x.org")).wait().await.expect("flushed");
        assert_eq!((writer.commits(), writer.flushes()), (2, 1));
        // What waits together: the written requests in one commit, not
        // flushed, then the holds in another, flushed.
        let blocker = rusqlite::Connection::open(&path).expect("second");
        blocker
            .execute_batch("BEGIN IMMEDIATE")
            .expect("write lock");
        // The writer takes the first request, most likely alone, and
        // waits for the lock; the others queue.
        let first = writer.submit(vec![Entry::Ended(
            k("a@x.org"),
            Outcome::Sent("250 ok".into()),
            1,
        )]);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let pending = [
            writer.hold(k("c@x.org")),
            writer.submit(vec![Entry::Leaving(k("b@x.org"))]),
            writer.hold(k("a@x.org")),
        ];
        blocker.execute_batch("COMMIT").expect("released");
        first.wait().await.expect("written");
        for p in pending {
            p.wait().await.expect("committed");
        }
        // The first alone or not (it is the writer's to take), the mark
        // of b is not flushed, and both holds are in one flush.
        assert_eq!(writer.flushes(), 2);
        assert!((4..=5).contains(&writer.commits()), "{}", writer.commits());
        // A flush with nothing to record still flushes.
        let commits = writer.commits();
        writer.flush(Vec::new()).wait().await.expect("flushed");
        assert_eq!((writer.commits(), writer.flushes()), (commits + 1, 3));
        drop(writer);
        let held: Vec<(String, String, bool)> = blocker
            .prepare("SELECT recipient, state, held FROM deliveries ORDER BY position")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("readable");
        let row = |r: &str, state: &str, held: bool| (r.to_owned(), state.to_owned(), held);
        assert_eq!(
            held,
            vec![
                row("a@x.org", "sent", true),
                row("b@x.org", "sending", true),
                row("c@x.org", "pending", true),
            ]
        );
    }
}
