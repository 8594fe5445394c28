//! The ledger: who was sent what, durable across crashes.
//!
//! Every delivery of a real send is a row keyed by issue, list, recipient and
//! kind (the list's send, or a test send with `--only`). A row moves from
//! `pending` to `sending` just before its message is handed to the relay,
//! then to `sent` (with the relay's reply) once the relay accepts it, or to
//! `failed` (a permanent refusal) or `uncertain` (the connection was lost
//! after the message's last line, before the reply). Each move is committed
//! with SQLite's full synchronous mode before the next step, so a crash, a
//! `kill -9` or a power cut loses nothing: a resumed send mails only those
//! not recorded as `sent` or `failed`, and the rows still `sending` are the
//! few messages whose fate is unknown (at most one per connection).
//!
//! The audience and the content are frozen when a send starts: the issue's
//! fingerprint and every recipient's sections are recorded, and a resumed
//! send compares them with the files as they are now ([`Ledger::begin`]).
//!
//! ```
//! use breves::ledger::{Ledger, Scope, Planned};
//! let dir = tempfile::tempdir().unwrap();
//! let ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).unwrap();
//! let scope = Scope::list("2026-03", "londres");
//! let audience = vec![Planned { recipient: "a@example.org".into(), sections: "spatial".into() }];
//! let start = ledger.begin(&scope, "fingerprint", &audience, false).unwrap();
//! assert_eq!(start.to_send, vec!["a@example.org".to_owned()]);
//! ```

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// Where the ledger lives unless told otherwise: `$BREVES_LEDGER`, else
/// `$XDG_STATE_HOME/breves/ledger.sqlite3`, else
/// `~/.local/state/breves/ledger.sqlite3`.
pub fn default_path() -> PathBuf {
    if let Some(path) = std::env::var_os("BREVES_LEDGER") {
        return PathBuf::from(path);
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("breves").join("ledger.sqlite3")
}

/// Why the ledger could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// SQLite failed.
    #[error("the ledger {}: {source}", path.display())]
    Database {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
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
}

/// What changed between the start of a send and its resumption.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// The issue file's content changed.
    pub issue_changed: bool,
    /// Recipients in the list now, not when the send started.
    pub added: Vec<String>,
    /// Recipients gone from the list since (never mailed).
    pub removed: Vec<String>,
    /// Recipients whose sections changed.
    pub resectioned: Vec<String>,
    /// Recipients the send had already served (sent, or refused for good).
    pub served: usize,
    /// Recipients the send had still to serve.
    pub unserved: usize,
}

impl Changes {
    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        !self.issue_changed
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.resectioned.is_empty()
    }
}

fn sample(list: &[String]) -> String {
    let shown: Vec<&str> = list.iter().take(5).map(String::as_str).collect();
    if list.len() > shown.len() {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

impl std::fmt::Display for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "the issue or the list changed since this send started:")?;
        if self.issue_changed {
            writeln!(f, "  - the issue file's content is different")?;
        }
        if !self.added.is_empty() {
            writeln!(
                f,
                "  - {} new recipient(s): {}",
                self.added.len(),
                sample(&self.added)
            )?;
        }
        if !self.removed.is_empty() {
            writeln!(
                f,
                "  - {} recipient(s) no longer in the list (they will not be mailed): {}",
                self.removed.len(),
                sample(&self.removed)
            )?;
        }
        if !self.resectioned.is_empty() {
            writeln!(
                f,
                "  - {} recipient(s) with other sections: {}",
                self.resectioned.len(),
                sample(&self.resectioned)
            )?;
        }
        if self.issue_changed && self.unserved == 0 && self.added.is_empty() {
            // Going on would send nothing: the issue is most likely another
            // one that was given this one's id.
            return write!(
                f,
                "every recipient of this send was served with the earlier version ({} in all): if this is another issue, give it an id of its own under [issue] (id = \"…\"); --accept-changes would send nothing",
                self.served
            );
        }
        if self.issue_changed && self.served > 0 {
            writeln!(
                f,
                "  ({} recipient(s) already served will not receive the new version)",
                self.served
            )?;
        }
        write!(
            f,
            "run the same command with --accept-changes to go on with the files as they are now"
        )
    }
}

/// Which send a row belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The issue's id.
    pub issue: String,
    /// The list's id.
    pub list: String,
    /// `list` for the send to the list, `test` for `--only` sends.
    pub kind: &'static str,
}

impl Scope {
    /// The send of an issue to a list.
    pub fn list(issue: &str, list: &str) -> Self {
        Scope {
            issue: issue.into(),
            list: list.into(),
            kind: "list",
        }
    }

    /// A test send (`--only`), kept apart so that it neither freezes nor
    /// serves the send to the list.
    pub fn test(issue: &str, list: &str) -> Self {
        Scope {
            kind: "test",
            ..Scope::list(issue, list)
        }
    }
}

/// One recipient as planned: address (lowercase) and the sections they get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The address, lowercase.
    pub recipient: String,
    /// The section ids, comma-separated.
    pub sections: String,
}

/// Where a send stands when it (re)starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Start {
    /// Whether this is a resumption.
    pub resumed: bool,
    /// Recipients to mail now, in list order.
    pub to_send: Vec<String>,
    /// Of those, the ones whose earlier delivery is of unknown outcome
    /// (in flight at a crash, or connection lost before the reply).
    pub uncertain: Vec<String>,
    /// Recipients already served (accepted by the relay).
    pub already_sent: usize,
    /// Recipients already refused for good.
    pub already_failed: usize,
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The relay accepted the message; its reply.
    Sent(String),
    /// The relay refused it for good; its reply.
    Failed(String),
    /// The outcome is unknown; why.
    Uncertain(String),
    /// Given up on after transient failures; the last reply or error.
    GaveUp(String),
    /// A transient failure: back to pending, to be tried again; why.
    Retry(String),
}

/// Counts by state, and the failures, for `breves status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Whether the ledger knows this send at all.
    pub known: bool,
    /// When it started (RFC 3339).
    pub started: Option<String>,
    /// Rows per state.
    pub counts: Vec<(String, usize)>,
    /// Failed, uncertain or given-up recipients with their last reply.
    pub problems: Vec<(String, String, String)>,
}

/// The ledger file, opened.
pub struct Ledger {
    path: PathBuf,
    canonical: PathBuf,
    db: Mutex<Connection>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sends (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    issue_fingerprint TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (issue, list, kind)
);
CREATE TABLE IF NOT EXISTS deliveries (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    position INTEGER NOT NULL,
    sections TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'gave-up', 'removed', 'suppressed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    reply TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (issue, list, kind, recipient)
);
CREATE TABLE IF NOT EXISTS suppressions (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, address)
);
CREATE TABLE IF NOT EXISTS section_opt_outs (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    section TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, address, section)
);
";

/// What subscribers asked for since they subscribed: to leave the list, or
/// to stop some sections. Every send applies it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    /// Addresses (lowercase) never to mail again.
    pub suppressed: std::collections::HashSet<String>,
    /// Sections each address (lowercase) no longer wants.
    pub opted_out: std::collections::HashMap<String, Vec<String>>,
}

impl Preferences {
    /// The members still to mail, with the sections they stopped taken out
    /// of their interests, and how many were left out as suppressed.
    pub fn apply(
        &self,
        list: &crate::subscribers::List,
        members: Vec<crate::subscribers::Member>,
    ) -> (Vec<crate::subscribers::Member>, usize) {
        let mut kept = Vec::with_capacity(members.len());
        let mut left_out = 0;
        for mut member in members {
            let key = member.email.to_string().to_lowercase();
            if self.suppressed.contains(&key) {
                left_out += 1;
                continue;
            }
            if let Some(stopped) = self.opted_out.get(&key) {
                if member.interests.is_empty() {
                    // Every section, less those stopped.
                    member.interests = list.topics.iter().map(|t| t.id.clone()).collect();
                }
                member.interests.retain(|i| !stopped.contains(i));
                if member.interests.is_empty() {
                    // Every topic stopped: nothing left to send.
                    left_out += 1;
                    continue;
                }
            }
            kept.push(member);
        }
        (kept, left_out)
    }
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
        let db_err = |source| LedgerError::Database {
            path: path.to_path_buf(),
            source,
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
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        db.execute_batch(SCHEMA).map_err(db_err)?;
        Ok(Ledger {
            path: path.to_path_buf(),
            canonical,
            db: Mutex::new(db),
        })
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError::Database {
            path: self.path.clone(),
            source,
        }
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the lock of one send: while it is held, no other process can
    /// send the same issue to the same list. The operating system releases
    /// it when the process ends, however it ends.
    pub fn lock(&self, scope: &Scope) -> Result<SendLock, LedgerError> {
        use std::os::unix::fs::OpenOptionsExt;
        let name = format!(
            "{}.{}.{}.{}.lock",
            self.canonical
                .file_name()
                .map_or_else(|| "ledger".into(), |n| n.to_string_lossy().into_owned()),
            scope.issue,
            scope.list,
            scope.kind
        );
        let path = self.canonical.with_file_name(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| LedgerError::Lock {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(SendLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LedgerError::Busy {
                issue: scope.issue.clone(),
                list: scope.list.clone(),
                path,
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(LedgerError::Lock { path, source }),
        }
    }

    /// Starts or resumes a send. The first time, the issue's fingerprint
    /// and the audience are recorded. Afterwards they are compared with
    /// what is recorded: a difference is refused as [`LedgerError::Changed`]
    /// unless `accept_changes`, in which case new recipients are added,
    /// removed ones are marked never to be mailed, and sections updated.
    ///
    /// Rows left `sending` by a crash become `uncertain`; uncertain rows
    /// are sent again.
    pub fn begin(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        accept_changes: bool,
    ) -> Result<Start, LedgerError> {
        self.start(scope, fingerprint, audience, accept_changes, true)
    }

    /// What [`Ledger::begin`] would find, without recording anything: for
    /// stating what a send is about to do before it is confirmed.
    pub fn peek(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        accept_changes: bool,
    ) -> Result<Start, LedgerError> {
        self.start(scope, fingerprint, audience, accept_changes, false)
    }

    fn start(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        accept_changes: bool,
        commit: bool,
    ) -> Result<Start, LedgerError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(|e| self.err(e))?;
        let recorded: Option<String> = tx
            .query_row(
                "SELECT issue_fingerprint FROM sends WHERE issue = ?1 AND list = ?2 AND kind = ?3",
                params![scope.issue, scope.list, scope.kind],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let stamp = now();
        let resumed = recorded.is_some();
        match recorded {
            None => {
                tx.execute(
                    "INSERT INTO sends VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![scope.issue, scope.list, scope.kind, fingerprint, stamp],
                )
                .map_err(|e| self.err(e))?;
                let mut insert = tx
                    .prepare(
                        "INSERT INTO deliveries (issue, list, kind, recipient, position, sections, state, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
                    )
                    .map_err(|e| self.err(e))?;
                for (i, p) in audience.iter().enumerate() {
                    insert
                        .execute(params![
                            scope.issue,
                            scope.list,
                            scope.kind,
                            p.recipient,
                            i as i64,
                            p.sections,
                            stamp
                        ])
                        .map_err(|e| self.err(e))?;
                }
            }
            Some(recorded_fingerprint) => {
                let changes =
                    self.changes(&tx, scope, &recorded_fingerprint, fingerprint, audience)?;
                if !changes.is_empty() {
                    if !accept_changes {
                        return Err(LedgerError::Changed(changes));
                    }
                    self.apply(&tx, scope, fingerprint, audience, &changes, &stamp)?;
                }
            }
        }
        // Rows a crash left in flight are of unknown outcome.
        tx.execute(
            "UPDATE deliveries SET state = 'uncertain', reply = 'in flight when an earlier run stopped', updated_at = ?4
             WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND state = 'sending'",
            params![scope.issue, scope.list, scope.kind, stamp],
        )
        .map_err(|e| self.err(e))?;
        let mut start = Start {
            resumed,
            ..Start::default()
        };
        {
            let mut rows = tx
                .prepare(
                    "SELECT recipient, state FROM deliveries
                     WHERE issue = ?1 AND list = ?2 AND kind = ?3 ORDER BY position",
                )
                .map_err(|e| self.err(e))?;
            let mut query = rows
                .query(params![scope.issue, scope.list, scope.kind])
                .map_err(|e| self.err(e))?;
            while let Some(row) = query.next().map_err(|e| self.err(e))? {
                let recipient: String = row.get(0).map_err(|e| self.err(e))?;
                let state: String = row.get(1).map_err(|e| self.err(e))?;
                match state.as_str() {
                    "pending" | "gave-up" | "suppressed" => start.to_send.push(recipient),
                    "uncertain" => {
                        start.uncertain.push(recipient.clone());
                        start.to_send.push(recipient);
                    }
                    "sent" => start.already_sent += 1,
                    "failed" => start.already_failed += 1,
                    _ => {}
                }
            }
        }
        if commit {
            tx.commit().map_err(|e| self.err(e))?;
        }
        Ok(start)
    }

    fn changes(
        &self,
        tx: &rusqlite::Transaction<'_>,
        scope: &Scope,
        recorded_fingerprint: &str,
        fingerprint: &str,
        audience: &[Planned],
    ) -> Result<Changes, LedgerError> {
        let mut recorded = std::collections::HashMap::new();
        let mut changes = Changes {
            issue_changed: recorded_fingerprint != fingerprint,
            ..Changes::default()
        };
        let mut rows = tx
            .prepare(
                "SELECT recipient, sections, state FROM deliveries
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND state <> 'removed'",
            )
            .map_err(|e| self.err(e))?;
        let mut query = rows
            .query(params![scope.issue, scope.list, scope.kind])
            .map_err(|e| self.err(e))?;
        while let Some(row) = query.next().map_err(|e| self.err(e))? {
            let r: String = row.get(0).map_err(|e| self.err(e))?;
            let s: String = row.get(1).map_err(|e| self.err(e))?;
            let state: String = row.get(2).map_err(|e| self.err(e))?;
            match state.as_str() {
                "sent" | "failed" => changes.served += 1,
                _ => changes.unserved += 1,
            }
            recorded.insert(r, s);
        }
        let mut now: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for p in audience {
            now.insert(&p.recipient);
            match recorded.get(&p.recipient) {
                None => changes.added.push(p.recipient.clone()),
                Some(s) if *s != p.sections => changes.resectioned.push(p.recipient.clone()),
                Some(_) => {}
            }
        }
        let mut removed: Vec<String> = recorded
            .keys()
            .filter(|r| !now.contains(r.as_str()))
            .cloned()
            .collect();
        removed.sort();
        changes.removed = removed;
        Ok(changes)
    }

    fn apply(
        &self,
        tx: &rusqlite::Transaction<'_>,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        changes: &Changes,
        stamp: &str,
    ) -> Result<(), LedgerError> {
        tx.execute(
            "UPDATE sends SET issue_fingerprint = ?4, updated_at = ?5 WHERE issue = ?1 AND list = ?2 AND kind = ?3",
            params![scope.issue, scope.list, scope.kind, fingerprint, stamp],
        )
        .map_err(|e| self.err(e))?;
        for r in &changes.removed {
            tx.execute(
                "UPDATE deliveries SET state = 'removed', updated_at = ?5
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient = ?4 AND state IN ('pending', 'uncertain', 'gave-up', 'sending')",
                params![scope.issue, scope.list, scope.kind, r, stamp],
            )
            .map_err(|e| self.err(e))?;
        }
        for (i, p) in audience.iter().enumerate() {
            tx.execute(
                "INSERT INTO deliveries (issue, list, kind, recipient, position, sections, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)
                 ON CONFLICT (issue, list, kind, recipient) DO UPDATE SET
                    position = excluded.position, sections = excluded.sections,
                    state = CASE WHEN deliveries.state = 'removed' THEN 'pending' ELSE deliveries.state END",
                params![scope.issue, scope.list, scope.kind, p.recipient, i as i64, p.sections, stamp],
            )
            .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Records, in one durable transaction, how the previous delivery of a
    /// connection ended and that the next one is about to be handed over.
    pub fn record(
        &self,
        scope: &Scope,
        finished: Option<(&str, &Outcome, u32)>,
        starting: Option<&str>,
    ) -> Result<(), LedgerError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(|e| self.err(e))?;
        let stamp = now();
        if let Some((recipient, outcome, attempts)) = finished {
            let (state, reply) = match outcome {
                Outcome::Sent(r) => ("sent", r),
                Outcome::Failed(r) => ("failed", r),
                Outcome::Uncertain(r) => ("uncertain", r),
                Outcome::GaveUp(r) => ("gave-up", r),
                Outcome::Retry(r) => ("pending", r),
            };
            tx.prepare_cached(
                "UPDATE deliveries SET state = ?5, reply = ?6, attempts = attempts + ?7, updated_at = ?8
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient = ?4",
            )
            .and_then(|mut update| update.execute(params![
                    scope.issue,
                    scope.list,
                    scope.kind,
                    recipient,
                    state,
                    reply,
                    attempts,
                    stamp
                ]))
            .map_err(|e| self.err(e))?;
        }
        if let Some(recipient) = starting {
            tx.prepare_cached(
                "UPDATE deliveries SET state = 'sending', updated_at = ?5
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient = ?4",
            )
            .and_then(|mut update| {
                update.execute(params![
                    scope.issue,
                    scope.list,
                    scope.kind,
                    recipient,
                    stamp
                ])
            })
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Records that `address` leaves `list` for good (`source`: the one-click
    /// link, a mailto request, by hand). Whether it was new.
    pub fn suppress(&self, list: &str, address: &str, source: &str) -> Result<bool, LedgerError> {
        let db = self.db();
        let changed = db
            .execute(
                "INSERT INTO suppressions VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![list, address.to_lowercase(), source, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Records that `address` no longer wants `section` of `list`.
    pub fn opt_out(&self, list: &str, address: &str, section: &str) -> Result<bool, LedgerError> {
        let db = self.db();
        let changed = db
            .execute(
                "INSERT INTO section_opt_outs VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![list, address.to_lowercase(), section, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Everything subscribers of `list` asked for.
    pub fn preferences(&self, list: &str) -> Result<Preferences, LedgerError> {
        let db = self.db();
        let mut prefs = Preferences::default();
        let mut rows = db
            .prepare("SELECT address FROM suppressions WHERE list = ?1")
            .map_err(|e| self.err(e))?;
        for address in rows
            .query_map(params![list], |row| row.get::<_, String>(0))
            .map_err(|e| self.err(e))?
        {
            prefs.suppressed.insert(address.map_err(|e| self.err(e))?);
        }
        let mut rows = db
            .prepare("SELECT address, section FROM section_opt_outs WHERE list = ?1 ORDER BY at")
            .map_err(|e| self.err(e))?;
        for pair in rows
            .query_map(params![list], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?
        {
            let (address, section) = pair.map_err(|e| self.err(e))?;
            prefs.opted_out.entry(address).or_default().push(section);
        }
        Ok(prefs)
    }

    /// Marks recipients of a send as suppressed: they are never mailed.
    pub fn mark_suppressed(&self, scope: &Scope, recipients: &[String]) -> Result<(), LedgerError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(|e| self.err(e))?;
        let stamp = now();
        for r in recipients {
            tx.execute(
                "UPDATE deliveries SET state = 'suppressed', updated_at = ?5
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient = ?4 AND state <> 'sent'",
                params![scope.issue, scope.list, scope.kind, r, stamp],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// What the ledger knows of one send.
    pub fn status(&self, scope: &Scope) -> Result<Status, LedgerError> {
        let db = self.db();
        let started: Option<String> = db
            .query_row(
                "SELECT started_at FROM sends WHERE issue = ?1 AND list = ?2 AND kind = ?3",
                params![scope.issue, scope.list, scope.kind],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let mut status = Status {
            known: started.is_some(),
            started,
            ..Status::default()
        };
        let mut counts = db
            .prepare(
                "SELECT state, COUNT(*) FROM deliveries WHERE issue = ?1 AND list = ?2 AND kind = ?3
                 GROUP BY state ORDER BY CASE state WHEN 'sent' THEN 0 WHEN 'pending' THEN 1
                 WHEN 'sending' THEN 2 WHEN 'uncertain' THEN 3 WHEN 'gave-up' THEN 4 WHEN 'failed' THEN 5 ELSE 6 END",
            )
            .map_err(|e| self.err(e))?;
        status.counts = counts
            .query_map(params![scope.issue, scope.list, scope.kind], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as usize))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let mut problems = db
            .prepare(
                "SELECT recipient, state, COALESCE(reply, '') FROM deliveries
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND state IN ('failed', 'uncertain', 'gave-up')
                 ORDER BY position",
            )
            .map_err(|e| self.err(e))?;
        status.problems = problems
            .query_map(params![scope.issue, scope.list, scope.kind], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        Ok(status)
    }
}

/// The lock of one send, held until dropped (or the process ends).
#[derive(Debug)]
pub struct SendLock {
    _file: std::fs::File,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(list: &[(&str, &str)]) -> Vec<Planned> {
        list.iter()
            .map(|(r, s)| Planned {
                recipient: (*r).into(),
                sections: (*s).into(),
            })
            .collect()
    }

    #[test]
    fn a_crash_leaves_in_flight_rows_uncertain_and_sent_rows_served() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("l.sqlite3");
        let scope = Scope::list("i", "l");
        let audience = planned(&[("a@x.org", "s"), ("b@x.org", "s"), ("c@x.org", "s")]);
        {
            let ledger = Ledger::open(&path).expect("open");
            let start = ledger.begin(&scope, "f", &audience, false).expect("begin");
            assert_eq!(start.to_send.len(), 3);
            ledger
                .record(&scope, None, Some("a@x.org"))
                .expect("record");
            ledger
                .record(
                    &scope,
                    Some(("a@x.org", &Outcome::Sent("250 ok".into()), 1)),
                    Some("b@x.org"),
                )
                .expect("record");
            // The process dies here, b in flight.
        }
        let ledger = Ledger::open(&path).expect("reopen");
        let start = ledger.begin(&scope, "f", &audience, false).expect("resume");
        assert!(start.resumed);
        assert_eq!(start.already_sent, 1);
        assert_eq!(start.uncertain, vec!["b@x.org".to_owned()]);
        assert_eq!(
            start.to_send,
            vec!["b@x.org".to_owned(), "c@x.org".to_owned()]
        );
    }

    #[test]
    fn changes_are_refused_unless_accepted() {
        let dir = tempfile::tempdir().expect("dir");
        let ledger = Ledger::open(&dir.path().join("l.sqlite3")).expect("open");
        let scope = Scope::list("i", "l");
        ledger
            .begin(
                &scope,
                "f",
                &planned(&[("a@x.org", "s"), ("b@x.org", "s")]),
                false,
            )
            .expect("begin");
        let now = planned(&[("a@x.org", "s,t"), ("c@x.org", "s")]);
        let Err(LedgerError::Changed(changes)) = ledger.begin(&scope, "g", &now, false) else {
            panic!("a change must be refused")
        };
        assert!(changes.issue_changed);
        assert_eq!(changes.added, vec!["c@x.org".to_owned()]);
        assert_eq!(changes.removed, vec!["b@x.org".to_owned()]);
        assert_eq!(changes.resectioned, vec!["a@x.org".to_owned()]);
        let start = ledger.begin(&scope, "g", &now, true).expect("accepted");
        assert_eq!(
            start.to_send,
            vec!["a@x.org".to_owned(), "c@x.org".to_owned()]
        );
        let start = ledger
            .begin(&scope, "g", &now, false)
            .expect("no change now");
        assert!(
            !start.to_send.contains(&"b@x.org".to_owned()),
            "a removed member is never mailed"
        );
    }

    #[test]
    fn another_issue_under_a_served_id_is_never_advised_to_go_on() {
        let dir = tempfile::tempdir().expect("dir");
        let ledger = Ledger::open(&dir.path().join("l.sqlite3")).expect("open");
        let scope = Scope::list("i", "l");
        let audience = planned(&[("a@x.org", "s"), ("b@x.org", "s")]);
        ledger
            .begin(&scope, "march", &audience, false)
            .expect("begin");
        // Half served, then the issue is corrected: going on is the advice.
        ledger
            .record(
                &scope,
                Some(("a@x.org", &Outcome::Sent("250".into()), 1)),
                None,
            )
            .expect("record");
        let Err(LedgerError::Changed(changes)) = ledger.peek(&scope, "fixed", &audience, false)
        else {
            panic!("a change must be refused")
        };
        assert_eq!((changes.served, changes.unserved), (1, 1));
        assert_eq!(
            changes.to_string(),
            "the issue or the list changed since this send started:\n  - the issue file's content is different\n  (1 recipient(s) already served will not receive the new version)\nrun the same command with --accept-changes to go on with the files as they are now"
        );
        // Everyone served, and another content under the same id: the
        // advice is an id of its own, never a flag that sends nothing.
        ledger
            .record(
                &scope,
                Some(("b@x.org", &Outcome::Failed("550".into()), 1)),
                None,
            )
            .expect("record");
        let Err(LedgerError::Changed(changes)) = ledger.peek(&scope, "april", &audience, false)
        else {
            panic!("a change must be refused")
        };
        assert_eq!(
            changes.to_string(),
            "the issue or the list changed since this send started:\n  - the issue file's content is different\nevery recipient of this send was served with the earlier version (2 in all): if this is another issue, give it an id of its own under [issue] (id = \"…\"); --accept-changes would send nothing"
        );
        // Only the list changed (a member added): nothing like that.
        let more = planned(&[("a@x.org", "s"), ("b@x.org", "s"), ("c@x.org", "s")]);
        let Err(LedgerError::Changed(changes)) = ledger.peek(&scope, "march", &more, false) else {
            panic!("a change must be refused")
        };
        assert!(!changes.is_empty() && !changes.issue_changed);
        assert!(
            changes
                .to_string()
                .ends_with("--accept-changes to go on with the files as they are now")
        );
    }

    #[test]
    fn one_send_at_a_time() {
        let dir = tempfile::tempdir().expect("dir");
        let ledger = Ledger::open(&dir.path().join("l.sqlite3")).expect("open");
        let scope = Scope::list("i", "l");
        let held = ledger.lock(&scope).expect("first lock");
        assert!(matches!(ledger.lock(&scope), Err(LedgerError::Busy { .. })));
        assert!(
            ledger.lock(&Scope::test("i", "l")).is_ok(),
            "a test send is apart"
        );
        drop(held);
        assert!(ledger.lock(&scope).is_ok());
    }
    #[test]
    fn any_path_to_the_ledger_finds_the_same_lock() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir(dir.path().join("sub")).expect("sub");
        let path = dir.path().join("l.sqlite3");
        let ledger = Ledger::open(&path).expect("open");
        let scope = Scope::list("i", "l");
        let _held = ledger.lock(&scope).expect("first lock");
        let link = dir.path().join("link.sqlite3");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        let spelled = dir.path().join("sub/../l.sqlite3");
        for other in [link, spelled] {
            let again = Ledger::open(&other).expect("open by another path");
            assert!(
                matches!(again.lock(&scope), Err(LedgerError::Busy { .. })),
                "{} is the same ledger",
                other.display()
            );
        }
        // A hard link is another name that no lock can see: refused.
        let hard = dir.path().join("hard.sqlite3");
        std::fs::hard_link(&path, &hard).expect("hard link");
        assert!(matches!(
            Ledger::open(&hard),
            Err(LedgerError::HardLinked { links: 2, .. })
        ));
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
                &planned(&[("a@x.org", "s")]),
                false,
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
