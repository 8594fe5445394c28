//! The ledger: who was sent what, durable across crashes.
//!
//! Every delivery of a real send is a row keyed by issue, list, recipient and
//! kind (the list's send, or a test send with `--only`). A row moves from
//! `pending` to `sending` just before its message is handed to the relay,
//! then to `sent` (with the relay's reply) once the relay accepts it, or to
//! `failed` (a permanent refusal) or `uncertain` (the connection was lost
//! after the message's last line, before the reply). Each move is committed
//! before the step it guards (a message's final dot is sent only once its
//! mark and the connection's previous outcome are committed), so a crash,
//! a `kill -9` or a power cut loses nobody: a resumed send mails only those
//! not recorded as `sent` or `failed`, and those whose fate is unknown are
//! counted and sent again.
//!
//! Two depths of commit ([`Durability`]). The mark and the previous
//! outcome a final dot waits for are *written* (to the operating system,
//! not flushed: they survive the end of breves, not of the machine), so no
//! disk flush is on a message's way. What a power cut could take away is
//! covered ahead of time: a connection sets its next recipient aside
//! (`held`) in the commit of its current message's mark, and sends them
//! only once that commit is *flushed*, which takes every written commit
//! before it to the disk (the flush is made while the current message is
//! on the wire). A
//! resumed send that finds the machine has not started again since (the
//! same boot) knows every written commit is there: held rows that were
//! never `sending` go back as they were, and at most one message per
//! connection is of unknown outcome. After a power cut (another boot),
//! every held row may have been sent: at most three per connection (the
//! one set aside, the one on the wire, the one whose outcome was not yet
//! flushed), each counted as of unknown outcome and sent again.
//!
//! The audience and the content are frozen when a send starts: the issue's
//! fingerprint and every recipient's sections are recorded, and a resumed
//! send compares them with the files as they are now ([`Ledger::begin`]).
//! The audience is staged first, as the list is read, in a temporary table
//! of the ledger's connection ([`Ledger::stage`]): compared, recorded and
//! counted in SQL, and read back a page at a time ([`Ledger::to_send`]),
//! so that a list of a million is never in memory.
//!
//! One file per concern: `schema` (the tables and their migration),
//! `deliveries` (the frozen audience and each delivery's state), `preferences`
//! (who unsubscribed or stopped sections, recorded here and applied by
//! [`crate::select`]), `lock` (one send at a time), `writer` (the group
//! commit of a running send's marks and outcomes: one flush for whatever
//! every connection has waiting).
//!
//! ```
//! use breves::address::Key;
//! use breves::ledger::{Ledger, Planned, Resume, Scope};
//! let dir = tempfile::tempdir().unwrap();
//! let ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).unwrap();
//! let scope = Scope::list("2026-03", "londres");
//! let a = Key::from_text("a@example.org");
//! // The audience is staged as the list is read, then the send begins.
//! let audience = [Planned { recipient: a.clone(), sections: "spatial".into(), served: true }];
//! ledger.stage(&scope, audience).unwrap();
//! let start = ledger.begin_staged(&scope, "fingerprint", Resume::default()).unwrap();
//! assert_eq!(start.to_send, 1);
//! let next: Vec<Key> = ledger
//!     .to_send(&scope, Resume::default(), false)
//!     .map(|pick| pick.unwrap().recipient)
//!     .collect();
//! assert_eq!(next, vec![a]);
//! ```

pub mod copy;
pub(crate) mod deliveries;
mod lock;
mod preferences;
pub mod readers;
pub mod reports;
mod schema;
mod store;
pub mod subscriptions;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use store::Db;
pub use store::StoreError;

pub use deliveries::{
    Changes, Durability, Entry, Outcome, Pick, Planned, Resume, Sample, Scope, Start, Status,
    ToSend,
};
pub use lock::SendLock;
pub use writer::{Pending, Writer};

/// Where the ledger lives unless told otherwise: `$BREVES_LEDGER`, else
/// `$XDG_STATE_HOME/breves/ledger.sqlite3`, else
/// `~/.local/state/breves/ledger.sqlite3`.
pub fn default_path() -> PathBuf {
    path_from(
        std::env::var_os("BREVES_LEDGER"),
        std::env::var_os("XDG_STATE_HOME"),
        std::env::var_os("HOME"),
    )
}

/// [`default_path`] from the values of its three variables.
fn path_from(
    ledger: Option<std::ffi::OsString>,
    state_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> PathBuf {
    if let Some(path) = ledger.filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let state = state_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("breves").join("ledger.sqlite3")
}

/// Why the ledger could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The database failed.
    #[error("the ledger {}: {source}", path.display())]
    Database {
        /// The ledger file.
        path: PathBuf,
        /// The database's error.
        #[source]
        source: StoreError,
    },
    /// The ledger's file or folder could not be made or opened.
    #[error("the ledger {}: {source}", path.display())]
    File {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The ledger file has other names (hard links): a send under another
    /// name could not be told apart, and would not be stopped by the lock.
    #[error(
        "the ledger {} has {links} names (hard links): breves cannot tell whether another send uses it; copy it to a file of its own",
        path.display()
    )]
    HardLinked {
        /// The ledger file.
        path: PathBuf,
        /// How many names it has.
        links: u64,
    },
    /// No random bytes to make the key of forgotten readers' hashes.
    #[error("the ledger {}: no random bytes from /dev/urandom: {source}", path.display())]
    Random {
        /// The ledger file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The lock file could not be made.
    #[error("the ledger's lock {}: {source}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another `send` of the same issue to the same list is running.
    #[error(
        "another `breves send` of {issue} to {list} is running (it holds {}): wait for it to end",
        path.display()
    )]
    Busy {
        /// The issue's id.
        issue: String,
        /// The list's id.
        list: String,
        /// The lock file it holds.
        path: PathBuf,
    },
    /// The files changed since the send started.
    #[error("{0}")]
    Changed(Changes),
    /// A commit that also carried this record failed (the first record of
    /// the batch got SQLite's own error).
    #[error("the ledger {} could not record: {reason}", path.display())]
    Commit {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's error, in words.
        reason: String,
    },
    /// The file system does not let SQLite keep a write-ahead journal
    /// (a network share without shared memory).
    #[error(
        "the ledger {}: SQLite cannot keep its journal ahead of the file here (journal mode {mode}); keep the ledger on a local disk",
        path.display()
    )]
    NoJournalAhead {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// The ledger's writer thread is gone.
    #[error("the ledger {}: its writer stopped", path.display())]
    WriterGone {
        /// The ledger file.
        path: PathBuf,
    },
}

/// The ledger, opened: an SQLite file, or a PostgreSQL database.
pub struct Ledger {
    /// The file, or the database's URL without its password.
    path: PathBuf,
    canonical: PathBuf,
    /// The database's URL, for PostgreSQL.
    url: Option<String>,
    db: Mutex<Db>,
    /// The key of this connection's claims of rows to send, in
    /// PostgreSQL, once it claims any.
    claimer: std::sync::OnceLock<i64>,
}

/// Whether `location` names a PostgreSQL database rather than a file.
pub fn is_database_url(location: &Path) -> bool {
    location
        .to_str()
        .is_some_and(|text| text.starts_with("postgres://") || text.starts_with("postgresql://"))
}

/// `url` without its password, to show.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(None);
            }
            parsed.to_string()
        }
        Err(_) => "a PostgreSQL URL that cannot be read".to_owned(),
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

/// The machine's current boot, where the system tells it (Linux). What a
/// run writes without flushing ([`Durability::Written`]) lasts until the
/// machine stops: a ledger that finds another boot, or none, knows it may
/// have been lost.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Ledger {
    /// Opens (and creates, with its folder) the ledger at `path`. A new
    /// ledger and its folder are readable by their owner only (0600 and
    /// 0700): the ledger holds every subscriber's address.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
        if is_database_url(path) {
            return Ledger::connect(&path.to_string_lossy());
        }
        let db_err = |source: rusqlite::Error| LedgerError::Database {
            path: path.to_path_buf(),
            source: source.into(),
        };
        let io_err = |source| LedgerError::File {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| LedgerError::File {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(io_err)?;
        let metadata = file.metadata().map_err(io_err)?;
        // (Mutation testing: `|` or `^` for `&` here chmods every ledger,
        // not only open ones, to the same 0600: nothing observable changes.)
        if metadata.mode() & 0o077 != 0 {
            // An older ledger, made readable by others: closed to them now.
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io_err)?;
        }
        if metadata.nlink() > 1 {
            return Err(LedgerError::HardLinked {
                path: path.to_path_buf(),
                links: metadata.nlink(),
            });
        }
        drop(file);
        // The lock of a send is named after the file itself, so that any
        // path to it (a symbolic link, another spelling) finds the same lock.
        let canonical = std::fs::canonicalize(path).map_err(io_err)?;
        let db = Connection::open(path).map_err(db_err)?;
        db.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        // The journal ahead of the file (WAL): what lets a reader look while
        // a send writes, and what a send's flushes flush (`Writer`).
        let mode: String = db
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LedgerError::NoJournalAhead {
                path: path.to_path_buf(),
                mode,
            });
        }
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        // The audience a send stages (`Ledger::stage`) goes to a temporary
        // file, unlinked as soon as it is made, never to memory: a list of
        // a million would otherwise cost tens of megabytes.
        db.pragma_update(None, "temp_store", "FILE")
            .map_err(db_err)?;
        schema::migrate(&db).map_err(db_err)?;
        Ok(Ledger {
            path: path.to_path_buf(),
            canonical,
            url: None,
            db: Mutex::new(Db::sqlite(db)),
            claimer: std::sync::OnceLock::new(),
        })
    }

    /// Connects to the ledger in the PostgreSQL database at `url`
    /// (`postgres://user@host/db`), making its tables the first time.
    pub fn connect(url: &str) -> Result<Ledger, LedgerError> {
        let shown = PathBuf::from(redacted(url));
        let db_err = |source| LedgerError::Database {
            path: shown.clone(),
            source,
        };
        let db = Db::postgres(url).map_err(db_err)?;
        schema::migrate_postgres(&db).map_err(db_err)?;
        Ok(Ledger {
            path: shown.clone(),
            canonical: shown,
            url: Some(url.to_owned()),
            db: Mutex::new(db),
            claimer: std::sync::OnceLock::new(),
        })
    }

    /// Whether the ledger is in a database several machines share
    /// (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.url.is_some()
    }

    /// The machine whose stopping can lose a commit written and not
    /// flushed: this one for SQLite ([`boot_id`]), the database server
    /// for PostgreSQL (when it started).
    pub(crate) fn boot(&self) -> Result<Option<String>, LedgerError> {
        let db = self.db();
        if !db.is_postgres() {
            return Ok(boot_id());
        }
        db.query_row(
            "SELECT CAST(pg_postmaster_start_time() AS TEXT)",
            &[],
            |row| row.get(0),
        )
        .map(Some)
        .map_err(|e| self.err(e))
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's journal of the ledger (its write-ahead log), named after
    /// the file as SQLite opened it: through any symbolic link, the
    /// journal is beside the file itself. None for PostgreSQL.
    pub(crate) fn journal(&self) -> Option<PathBuf> {
        let db = self.db();
        let connection = db.connection()?;
        let mut journal = connection
            .path()
            .filter(|p| !p.is_empty())
            .map_or_else(|| self.path.clone().into_os_string(), Into::into);
        journal.push("-wal");
        Some(PathBuf::from(journal))
    }

    /// A second connection to the ledger, for a send's writer thread
    /// alone ([`Writer`]): its commits are written, not flushed
    /// ([`Durability::Written`]; SQLite's normal synchronous mode,
    /// PostgreSQL's asynchronous commit), while every other commit of the
    /// ledger stays flushed. Opened by that thread: for PostgreSQL, its
    /// calls run there.
    fn writing_connection(&self) -> Result<Db, LedgerError> {
        if let Some(url) = &self.url {
            let db = Db::postgres_here(url).map_err(|e| self.err(e))?;
            db.batch("SET synchronous_commit = off")
                .map_err(|e| self.err(e))?;
            return Ok(db);
        }
        let sqlite = |e: rusqlite::Error| self.err(e.into());
        let db = Connection::open(&self.path).map_err(sqlite)?;
        db.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite)?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        Ok(Db::sqlite(db))
    }

    /// A connection to the same PostgreSQL database for a send's flushing
    /// thread alone, opened by it (its calls run there); SQLite has none
    /// (its journal is flushed).
    fn flushing_connection(&self) -> Result<Db, LedgerError> {
        match &self.url {
            Some(url) => Db::postgres_here(url).map_err(|e| self.err(e)),
            None => Err(LedgerError::WriterGone {
                path: self.path.clone(),
            }),
        }
    }

    /// Another connection to the same PostgreSQL database (its commits
    /// flushed), for a thread of its own; none for SQLite.
    fn another_connection(&self) -> Result<Option<Db>, LedgerError> {
        self.url
            .as_deref()
            .map(|url| Db::postgres(url).map_err(|e| self.err(e)))
            .transpose()
    }

    /// The issue as this ledger knows it: under its former id
    /// ([`crate::issue::Issue::former_id`]) when its send to `list` was
    /// recorded under that id by a breves of longer ids and not under its
    /// own, so that a send begun then goes on rather than starting again,
    /// and its status and reports are found; as it is otherwise.
    pub fn known_issue(
        &self,
        mut issue: crate::issue::Issue,
        list: &str,
    ) -> Result<crate::issue::Issue, LedgerError> {
        let Some(former) = issue.former_id.clone() else {
            return Ok(issue);
        };
        let recorded = |id: &str| -> Result<bool, LedgerError> {
            self.db()
                .query_row(
                    "SELECT COUNT(*) FROM sends WHERE issue = ?1 AND list = ?2",
                    rusqlite::params![id, list],
                    |row| row.get::<_, i64>(0),
                )
                .map(|n| n > 0)
                .map_err(|e| self.err(e))
        };
        if !recorded(&issue.id)? && recorded(&former)? {
            issue.id = former;
        }
        Ok(issue)
    }

    fn err(&self, source: StoreError) -> LedgerError {
        LedgerError::Database {
            path: self.path.clone(),
            source,
        }
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
#[path = "../../tests/support/postgres.rs"]
pub(crate) mod test_postgres;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs `test` with a ledger in each store: a new SQLite file, then a
    /// new database of the test run's own PostgreSQL server. `test` is
    /// given where the ledger is, to open it as often as it needs.
    pub(crate) fn each_store(test: impl Fn(&Path)) {
        let dir = tempfile::tempdir().expect("dir");
        let sqlite = dir.path().join("l.sqlite3");
        let postgres = PathBuf::from(test_postgres::database());
        for (store, path) in [("SQLite", sqlite), ("PostgreSQL", postgres)] {
            println!("with the ledger in {store}");
            test(&path);
        }
    }

    #[test]
    fn a_ledger_shows_its_path_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("l.sqlite3");
        let ledger = Ledger::open(&path).expect("open");
        assert_eq!(
            format!("{ledger:?}"),
            format!("Ledger {{ path: {path:?} }}")
        );
    }

    #[test]
    fn the_default_ledger_follows_the_environment() {
        let some = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(
            path_from(some("/srv/l.sqlite3"), some("/state"), some("/home/e")),
            PathBuf::from("/srv/l.sqlite3")
        );
        assert_eq!(
            path_from(None, some("/state"), some("/home/e")),
            PathBuf::from("/state/breves/ledger.sqlite3")
        );
        // XDG asks that a relative XDG_STATE_HOME be ignored.
        assert_eq!(
            path_from(some(""), some("state"), some("/home/e")),
            PathBuf::from("/home/e/.local/state/breves/ledger.sqlite3")
        );
        assert_eq!(
            path_from(None, None, None),
            PathBuf::from("./breves/ledger.sqlite3")
        );
        assert_eq!(default_path().file_name(), Some("ledger.sqlite3".as_ref()));
    }

    #[test]
    fn the_ledger_and_its_folder_are_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("state/breves/l.sqlite3");
        let ledger = Ledger::open(&path).expect("a ledger in folders that do not exist");
        ledger
            .begin(
                &Scope::list("i", "l"),
                "f",
                &deliveries::tests::planned(&[("a@x.org", "s")]),
                Resume::default(),
            )
            .expect("begin");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("state/breves")), 0o700);
        let wal = path.with_file_name("l.sqlite3-wal");
        assert_eq!(
            mode(&wal),
            0o600,
            "SQLite gives its journal the ledger's mode"
        );
        // An older ledger readable by others is closed to them.
        drop(ledger);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        Ledger::open(&path).expect("reopen");
        assert_eq!(mode(&path), 0o600);
    }
}
