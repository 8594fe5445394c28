//! Group commit: the marks and outcomes of every connection of a send, made
//! durable together by one thread, one disk flush per batch.
//!
//! A worker [`Writer::submit`]s what it has to record and goes on (building
//! its letter, opening its transaction with the relay); it waits on the
//! [`Pending`] answer only before the message's content leaves. Whatever
//! the other workers submitted meanwhile is committed in the same
//! transaction, as databases and Postfix's queue manager do: with eight
//! connections, one flush serves up to eight messages.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{Entry, Ledger, LedgerError, Scope};

/// The most records one commit carries.
const MAX_BATCH: usize = 1024;

/// What one submission asks, and where its answer goes.
struct Request {
    entries: Vec<Entry>,
    done: oneshot::Sender<Result<(), LedgerError>>,
}

/// The thread that commits one send's records in batches.
#[derive(Debug)]
pub struct Writer {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
    commits: Arc<AtomicUsize>,
}

/// The answer to a submission: durable, or why not.
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

    /// Waits until the records are durable.
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
        let commits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&commits);
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
            commits,
        })
    }

    /// The ledger file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// How many transactions (disk flushes) it has committed so far.
    pub fn commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }

    /// Hands `entries` to the writer; they are committed, in order, with
    /// whatever else is waiting. Nothing to record is ready at once.
    pub fn submit(&self, entries: Vec<Entry>) -> Pending {
        if entries.is_empty() {
            return Pending::ready();
        }
        let (done, answer) = oneshot::channel();
        if let Some(requests) = &self.requests {
            // A thread that is gone drops the request, and with it `done`:
            // the answer is then `WriterGone`.
            let _ = requests.send(Request { entries, done });
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

/// The writer's loop: takes every request waiting, commits them in one
/// transaction, answers each.
fn commit_batches(
    ledger: &Ledger,
    scope: &Scope,
    inbox: &mpsc::Receiver<Request>,
    commits: &AtomicUsize,
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
        let entries: Vec<Entry> = batch
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.entries))
            .collect();
        let recorded = ledger.record_all(scope, &entries);
        commits.fetch_add(1, Ordering::SeqCst);
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
}
