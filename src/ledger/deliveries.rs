//! Deliveries: the audience frozen when a send starts, then each
//! recipient's state as its message is handed over.

use rusqlite::params;

use super::store::Optional;

use super::store::{Db, Later, StoreError};
use super::{Ledger, LedgerError, now};
use crate::address::Key;

/// What changed between the start of a send and its resumption.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// The issue file's content changed.
    pub issue_changed: bool,
    /// Recipients in the list now, not when the send started.
    pub added: Sample,
    /// Recipients gone from the list since (never mailed).
    pub removed: Sample,
    /// Recipients whose sections changed.
    pub resectioned: Sample,
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

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<&str> = self.first.iter().map(Key::as_str).collect();
        write!(f, "{}", shown.join(", "))?;
        if self.count > shown.len() {
            write!(f, ", …")?;
        }
        Ok(())
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
                self.added.count, self.added
            )?;
        }
        if !self.removed.is_empty() {
            writeln!(
                f,
                "  - {} recipient(s) no longer in the list (they will not be mailed): {}",
                self.removed.count, self.removed
            )?;
        }
        if !self.resectioned.is_empty() {
            writeln!(
                f,
                "  - {} recipient(s) with other sections: {}",
                self.resectioned.count, self.resectioned
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

/// One recipient as planned: who, and the sections they get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Who.
    pub recipient: Key,
    /// The section ids, comma-separated, as the list writes them.
    pub sections: String,
    /// Whether this send mails them: not when they unsubscribed, or
    /// stopped every section they would get, since the list was written
    /// (they are then recorded as `suppressed`).
    pub served: bool,
}

/// Where a send stands when it (re)starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Start {
    /// Whether this is a resumption.
    pub resumed: bool,
    /// How many recipients are to mail now ([`Ledger::to_send`] gives
    /// them).
    pub to_send: usize,
    /// Of those, how many had an earlier delivery of unknown outcome (in
    /// flight at a crash, or connection lost before the reply).
    pub uncertain: usize,
    /// Members of the audience who are not served (they left since), in
    /// list order: recorded as `suppressed`, never mailed.
    pub suppressed: Vec<Key>,
    /// Recipients already served (accepted by the relay).
    pub already_sent: usize,
    /// Recipients already refused for good (and not sent again).
    pub already_failed: usize,
    /// Recipients refused for good before, sent again (`retry_failed`).
    pub failed_again: usize,
    /// What changed since the send started, when the changes were
    /// accepted (`accept_changes`).
    pub accepted: Option<Changes>,
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

/// One change of a delivery's state, as [`Ledger::record_all`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The recipient is set aside to be sent next by this run (`held`):
    /// made durable ahead of their message, so that after a power cut the
    /// next run knows they may have been sent.
    Held(Key),
    /// Set aside, then given back unsent (the run stopped first).
    Released(Key),
    /// The recipient's message is about to be handed over (`sending`).
    Leaving(Key),
    /// How the recipient's delivery ended, after how many attempts.
    Ended(Key, Outcome, u32),
}

/// How far a commit goes before the answer to what a send submits (see
/// [`super::Writer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Flushed to the disk: it survives a power cut or a crash of the
    /// machine (SQLite's full synchronous mode, or the writer's flush of its
    /// journal).
    Flushed,
    /// Written to the operating system, not flushed: it survives the end
    /// of breves (a `kill -9`, a panic), not that of the machine; the next
    /// flushed commit takes it to the disk with it (SQLite's normal
    /// synchronous mode: the journal is flushed later, in order).
    Written,
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

/// How a send that the ledger already knows goes on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resume {
    /// Go on although the issue or the list changed since the send
    /// started (see [`Ledger::begin`]).
    pub accept_changes: bool,
    /// Send again to the recipients refused for good, once the cause (a
    /// relay's setting, an address corrected in the list) is fixed.
    pub retry_failed: bool,
}

/// The audience of the send being planned, as a temporary table of this
/// connection: queried, never loaded, and never part of the ledger's file
/// (SQLite keeps it in a file of its own, deleted when the ledger closes).
const STAGE: &str = "
CREATE TEMP TABLE IF NOT EXISTS planned (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    position INTEGER NOT NULL,
    sections TEXT NOT NULL,
    served INTEGER NOT NULL,
    PRIMARY KEY (issue, list, kind, recipient)
);
CREATE INDEX IF NOT EXISTS temp.planned_in_order ON planned (issue, list, kind, position);
";

/// [`STAGE`] as PostgreSQL writes it.
const STAGE_POSTGRES: &str = "
CREATE TEMP TABLE IF NOT EXISTS planned (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    position BIGINT NOT NULL,
    sections TEXT NOT NULL,
    served BOOLEAN NOT NULL,
    PRIMARY KEY (issue, list, kind, recipient)
);
CREATE INDEX IF NOT EXISTS planned_in_order ON planned (issue, list, kind, position);
";

/// The rows of the staged audience still to send, as `?4` (whether those
/// refused for good are sent again) and `?5` (whether those of uncertain
/// outcome are left alone) ask: a row still `sending` (a crash) is
/// uncertain; a `removed` one back in the list is to send.
const TO_SEND: &str = "
FROM temp.planned p LEFT JOIN deliveries d
  ON d.issue = p.issue AND d.list = p.list AND d.kind = p.kind AND d.recipient = p.recipient
WHERE p.issue = ?1 AND p.list = ?2 AND p.kind = ?3
  AND (COALESCE(d.state, 'pending') IN ('pending', 'gave-up', 'suppressed', 'removed')
       OR (d.state = 'failed' AND ?4)
       OR (d.state IN ('uncertain', 'sending') AND NOT ?5))";

/// A sample of recipients (the first five) and how many there are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sample {
    /// How many.
    pub count: usize,
    /// The first few, to show.
    pub first: Vec<Key>,
}

impl Sample {
    /// How many are shown of a sample.
    pub const SHOWN: usize = 5;

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl Ledger {
    /// Stages the audience of a send as the list writes it, in list order,
    /// as it is read: [`Ledger::peek`] and [`Ledger::begin`] compare it
    /// with what is recorded, and a run picks its recipients from it
    /// ([`Ledger::to_send`]). Nothing is recorded in the ledger's file.
    pub fn stage(
        &self,
        scope: &Scope,
        audience: impl IntoIterator<Item = Planned>,
    ) -> Result<usize, LedgerError> {
        let db = self.db();
        let stage = if db.is_postgres() {
            STAGE_POSTGRES
        } else {
            STAGE
        };
        db.batch(stage).map_err(|e| self.err(e))?;
        let tx = db.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "DELETE FROM temp.planned WHERE issue = ?1 AND list = ?2 AND kind = ?3",
            params![scope.issue, scope.list, scope.kind],
        )
        .map_err(|e| self.err(e))?;
        if let Db::Postgres(pg) = &*tx {
            let count = stage_in_batches(pg, scope, audience).map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
            // PostgreSQL plans its queries by what it knows of the tables:
            // nothing, for a temporary table, until it is looked at.
            db.batch("ANALYZE planned").map_err(|e| self.err(e))?;
            return Ok(count);
        }
        let mut count = 0;
        for p in audience {
            tx.execute(
                "INSERT INTO temp.planned VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    scope.issue,
                    scope.list,
                    scope.kind,
                    p.recipient,
                    count as i64,
                    p.sections,
                    p.served
                ],
            )
            .map_err(|e| self.err(e))?;
            count += 1;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(count)
    }

    /// Starts or resumes a send of the staged audience ([`Ledger::stage`]).
    /// The first time, the issue's fingerprint and the audience are
    /// recorded. Afterwards they are compared with what is recorded: a
    /// difference is refused as [`LedgerError::Changed`] unless
    /// `resume.accept_changes`, in which case new recipients are added,
    /// removed ones are marked never to be mailed, and sections updated.
    ///
    /// Rows left `sending` by a crash become `uncertain`; uncertain rows
    /// are sent again, and so are failed ones with `resume.retry_failed`.
    /// Members of the audience this send does not serve (they left since)
    /// are marked `suppressed`.
    pub fn begin_staged(
        &self,
        scope: &Scope,
        fingerprint: &str,
        resume: Resume,
    ) -> Result<Start, LedgerError> {
        self.start(scope, fingerprint, resume, true)
    }

    /// What [`Ledger::begin_staged`] would find, without recording
    /// anything: for stating what a send is about to do before it is
    /// confirmed.
    pub fn peek_staged(
        &self,
        scope: &Scope,
        fingerprint: &str,
        resume: Resume,
    ) -> Result<Start, LedgerError> {
        self.start(scope, fingerprint, resume, false)
    }

    /// [`Ledger::stage`], then [`Ledger::begin_staged`]: for an audience
    /// already in memory.
    pub fn begin(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        resume: Resume,
    ) -> Result<Start, LedgerError> {
        self.stage(scope, audience.iter().cloned())?;
        self.begin_staged(scope, fingerprint, resume)
    }

    /// [`Ledger::stage`], then [`Ledger::peek_staged`]: for an audience
    /// already in memory.
    pub fn peek(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        resume: Resume,
    ) -> Result<Start, LedgerError> {
        self.stage(scope, audience.iter().cloned())?;
        self.peek_staged(scope, fingerprint, resume)
    }

    fn start(
        &self,
        scope: &Scope,
        fingerprint: &str,
        resume: Resume,
        commit: bool,
    ) -> Result<Start, LedgerError> {
        let boot = self.boot()?;
        let db = self.db();
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
        let mut accepted = None;
        match recorded {
            // A first send only looked at: what it would record is what
            // is staged, and every count below is the same without it
            // (a staged recipient without a row counts as pending).
            None if !commit => {}
            None => {
                tx.execute(
                    "INSERT INTO sends (issue, list, kind, issue_fingerprint, started_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![scope.issue, scope.list, scope.kind, fingerprint, stamp],
                )
                .map_err(|e| self.err(e))?;
                tx.execute(
                    "INSERT INTO deliveries (issue, list, kind, recipient, position, sections, state, updated_at)
                     SELECT issue, list, kind, recipient, position, sections, 'pending', ?4
                     FROM temp.planned WHERE issue = ?1 AND list = ?2 AND kind = ?3 ORDER BY position",
                    params![scope.issue, scope.list, scope.kind, stamp],
                )
                .map_err(|e| self.err(e))?;
            }
            Some(recorded_fingerprint) => {
                let changes = self.changes(&tx, scope, &recorded_fingerprint, fingerprint)?;
                if !changes.is_empty() {
                    if !resume.accept_changes {
                        return Err(LedgerError::Changed(changes));
                    }
                    self.apply(&tx, scope, fingerprint, &stamp)?;
                    accepted = Some(changes);
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
        self.settle_held(&tx, scope, &stamp, boot.as_deref())?;
        let start = self.counts(&tx, scope, resume, resumed, accepted)?;
        if !commit {
            // Looked at, not recorded: what follows would be undone.
            return Ok(start);
        }
        tx.execute(
            &format!(
                "UPDATE deliveries SET state = 'suppressed', updated_at = ?6
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient IN
                   (SELECT p.recipient {TO_SEND} AND NOT p.served)"
            ),
            params![
                scope.issue,
                scope.list,
                scope.kind,
                resume.retry_failed,
                false,
                stamp
            ],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        if db.is_postgres() && !resumed {
            // The audience just recorded, known to the planner at once.
            db.batch("ANALYZE deliveries").map_err(|e| self.err(e))?;
        }
        Ok(start)
    }

    /// Rows an earlier run set aside (`held`) and did not settle. Their
    /// marks and outcomes were written, not all flushed
    /// ([`Durability::Written`]): if the machine has not started again
    /// since, every one of them is there, so a held row not `sending` was
    /// never handed over and goes back to what it was. After a power cut
    /// or a crash of the machine (another boot), or where the boot is not
    /// known, they may have been lost: every held row may have been sent,
    /// and is of unknown outcome.
    fn settle_held(
        &self,
        tx: &Db,
        scope: &Scope,
        stamp: &str,
        boot: Option<&str>,
    ) -> Result<(), LedgerError> {
        tx.execute(
            "UPDATE deliveries SET state = 'uncertain',
                reply = 'about to be sent when the machine stopped (a power cut or a system crash)', updated_at = ?4
             WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND held
               AND NOT COALESCE((SELECT boot = ?5 FROM sends WHERE issue = ?1 AND list = ?2 AND kind = ?3), FALSE)",
            params![scope.issue, scope.list, scope.kind, stamp, boot],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE deliveries SET held = FALSE WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND held",
            params![scope.issue, scope.list, scope.kind],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE sends SET boot = ?4 WHERE issue = ?1 AND list = ?2 AND kind = ?3",
            params![scope.issue, scope.list, scope.kind, boot],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Where the send stands, counted in the ledger.
    fn counts(
        &self,
        tx: &Db,
        scope: &Scope,
        resume: Resume,
        resumed: bool,
        accepted: Option<Changes>,
    ) -> Result<Start, LedgerError> {
        let p = params![
            scope.issue,
            scope.list,
            scope.kind,
            resume.retry_failed,
            false
        ];
        let count = |sql: &str| -> Result<usize, LedgerError> {
            tx.query_row(sql, p, |row| row.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(|e| self.err(e))
        };
        let suppressed = tx
            .query_map(
                &format!("SELECT p.recipient {TO_SEND} AND NOT p.served ORDER BY p.position"),
                p,
                |row| row.get::<_, Key>(0),
            )
            .map_err(|e| self.err(e))?;
        let recorded = |state: &str| -> Result<usize, LedgerError> {
            tx.query_row(
                "SELECT COUNT(*) FROM deliveries WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND state = ?4",
                params![scope.issue, scope.list, scope.kind, state],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
        };
        let failed = recorded("failed")?;
        let failed_again = if resume.retry_failed {
            count(&format!(
                "SELECT COUNT(*) {TO_SEND} AND p.served AND d.state = 'failed'"
            ))?
        } else {
            0
        };
        Ok(Start {
            resumed,
            to_send: count(&format!("SELECT COUNT(*) {TO_SEND} AND p.served"))?,
            uncertain: count(&format!(
                "SELECT COUNT(*) {TO_SEND} AND p.served AND d.state IN ('uncertain', 'sending')"
            ))?,
            suppressed,
            already_sent: recorded("sent")?,
            already_failed: failed - failed_again,
            failed_again,
            accepted,
        })
    }

    /// The recipients of the staged audience still to send, in list
    /// order, read from the ledger a page at a time. `skip_uncertain`
    /// leaves alone those of uncertain outcome. Reading claims nothing:
    /// what a run sends it takes with [`Ledger::to_claim`].
    pub fn to_send<'l>(
        &'l self,
        scope: &Scope,
        resume: Resume,
        skip_uncertain: bool,
    ) -> ToSend<'l> {
        ToSend {
            ledger: self,
            scope: scope.clone(),
            resume,
            skip_uncertain,
            joining: false,
            claiming: false,
            ahead: None,
            after: -1,
            page: std::collections::VecDeque::new(),
            done: false,
        }
    }

    /// The recipients this run sends, as [`Ledger::to_send`] reads them;
    /// in PostgreSQL each block of them is claimed as it is taken, so that
    /// a run joining the send ([`Ledger::to_send_joining`]) takes none of
    /// them while this one lives.
    pub fn to_claim<'l>(
        &'l self,
        scope: &Scope,
        resume: Resume,
        skip_uncertain: bool,
    ) -> ToSend<'l> {
        ToSend {
            claiming: self.db().is_postgres(),
            ..self.to_send(scope, resume, skip_uncertain)
        }
    }

    /// The recipients a run that joins a send started elsewhere takes
    /// (PostgreSQL, `send --join`): those still to send of the frozen
    /// audience that no other live sender claimed, claimed as they are
    /// taken; not those of uncertain outcome, nor those who came back to
    /// the list, which the send that started it handles.
    pub fn to_send_joining<'l>(&'l self, scope: &Scope, resume: Resume) -> ToSend<'l> {
        ToSend {
            joining: true,
            claiming: true,
            ..self.to_send(scope, resume, true)
        }
    }

    /// The fingerprint of the issue the send of `scope` started with, if
    /// one started.
    pub fn started(&self, scope: &Scope) -> Result<Option<String>, LedgerError> {
        self.db()
            .query_row(
                "SELECT issue_fingerprint FROM sends WHERE issue = ?1 AND list = ?2 AND kind = ?3",
                params![scope.issue, scope.list, scope.kind],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// How many of the send of `scope` a joining run could still take.
    pub fn still_to_send(&self, scope: &Scope) -> Result<usize, LedgerError> {
        self.db()
            .query_row(
                "SELECT COUNT(*) FROM deliveries WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND state IN ('pending', 'gave-up')",
                params![scope.issue, scope.list, scope.kind],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| self.err(e))
    }

    /// The key of this connection's claims: a random number it holds a
    /// lock of the database's on, which others see while it lives.
    fn claimer(&self) -> Result<i64, LedgerError> {
        if let Some(key) = self.claimer.get() {
            return Ok(*key);
        }
        let key = (fastrand::u64(..) >> 2) as i64 + 1;
        self.db()
            .query_row("SELECT pg_advisory_lock(?1)", params![key], |_| Ok(()))
            .map_err(|e| self.err(e))?;
        let _ = self.claimer.set(key);
        Ok(key)
    }

    /// Claims for this run the next block of rows to send ([`ToSend::CLAIMED`]
    /// positions of the frozen audience, one row of `claims` a block) after
    /// `after`, skipping the blocks another live sender holds; the rows of
    /// the block still to send, none when no block is left. The claim is
    /// atomic by the table's key: of two senders claiming one block at
    /// once, the second finds it taken and tries the next.
    fn claim_later(
        &self,
        scope: &Scope,
        resume: Resume,
        skip_uncertain: bool,
        joining: bool,
        after: i64,
    ) -> Result<Later<Vec<postgres::Row>>, LedgerError> {
        let me = self.claimer()?;
        // Who is wanted: by their state, and for the run that planned the
        // send, among those its audience serves (looked up one by one: a
        // block is few rows of a large audience).
        let wanted = match joining {
            false => {
                "(d.state IN ('pending', 'gave-up', 'suppressed', 'removed')
                   OR (d.state = 'failed' AND $4) OR (d.state IN ('uncertain', 'sending') AND NOT $5))
                 AND EXISTS (SELECT 1 FROM pg_temp.planned p
                   WHERE p.issue = d.issue AND p.list = d.list AND p.kind = d.kind
                     AND p.recipient = d.recipient AND p.served)"
            }
            true => {
                "(d.state IN ('pending', 'gave-up') OR (d.state = 'failed' AND $4) OR (d.state = 'uncertain' AND NOT $5))"
            }
        };
        let block = ToSend::CLAIMED;
        let sql = format!(
            "WITH live AS MATERIALIZED (
               SELECT (l.classid::bigint << 32) | l.objid::bigint AS claimer FROM pg_locks l
               WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1),
             free AS (
               SELECT d.position / {block} AS block FROM deliveries d
               WHERE d.issue = $1 AND d.list = $2 AND d.kind = $3 AND d.position > $6 AND {wanted}
                 AND NOT EXISTS (
                   SELECT 1 FROM claims c
                   WHERE c.issue = $1 AND c.list = $2 AND c.kind = $3 AND c.block = d.position / {block}
                     AND c.claimer IN (SELECT claimer FROM live))
               ORDER BY d.position LIMIT 1),
             claimed AS (
               INSERT INTO claims (issue, list, kind, block, claimer)
               SELECT $1, $2, $3, block, $7 FROM free
               ON CONFLICT (issue, list, kind, block) DO UPDATE SET claimer = EXCLUDED.claimer
               WHERE NOT EXISTS (
                 SELECT 1 FROM pg_locks l
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                   AND ((l.classid::bigint << 32) | l.objid::bigint) = claims.claimer)
               RETURNING block)
             SELECT d.position, d.recipient, d.state IN ('uncertain', 'sending') FROM free
             LEFT JOIN claimed ON TRUE
             LEFT JOIN LATERAL (
               SELECT d.position, d.recipient, d.state FROM deliveries d
               WHERE d.issue = $1 AND d.list = $2 AND d.kind = $3
                 AND d.position >= claimed.block * {block} AND d.position < (claimed.block + 1) * {block}
                 AND {wanted}) d ON TRUE"
        );
        // Whether the claimer a block names is alive is asked again when
        // the block is found claimed: `live` was read when the statement
        // began, before a sender that started since took its key.
        let (issue, list, kind) = (
            scope.issue.clone(),
            scope.list.clone(),
            scope.kind.to_string(),
        );
        let (retry, skip) = (resume.retry_failed, skip_uncertain || joining);
        let db = self.db();
        let Db::Postgres(pg) = &*db else {
            return Err(self.err(StoreError::Value(
                "only a ledger in PostgreSQL claims recipients".into(),
            )));
        };
        Ok(pg.call_later(move |worker| {
            worker.query_native_unsynced(&sql, &[&issue, &list, &kind, &retry, &skip, &after, &me])
        }))
    }
}

/// The rows of a block [`Ledger::claim_later`] claimed, in order; none when
/// no block was left to claim (an empty block when another sender claimed
/// it first).
fn claimed_rows(found: Vec<postgres::Row>) -> Option<Vec<(i64, Pick)>> {
    if found.is_empty() {
        return None;
    }
    let mut rows = found
        .into_iter()
        .filter_map(|row| {
            let position: Option<i64> = row.get(0);
            let recipient: Option<String> = row.get(1);
            let uncertain: Option<bool> = row.get(2);
            Some((
                position?,
                Pick {
                    recipient: Key::from_text(&recipient?),
                    uncertain: uncertain.unwrap_or(false),
                },
            ))
        })
        .collect::<Vec<_>>();
    rows.sort_by_key(|(position, _)| *position);
    Some(rows)
}

impl Ledger {
    fn to_send_page(
        &self,
        scope: &Scope,
        resume: Resume,
        skip_uncertain: bool,
        after: i64,
    ) -> Result<Vec<(i64, Pick)>, LedgerError> {
        let db = self.db();
        db.query_map(
            &format!(
                "SELECT p.position, p.recipient, COALESCE(d.state IN ('uncertain', 'sending'), FALSE)
                 {TO_SEND} AND p.served AND p.position > ?6
                 ORDER BY p.position LIMIT {}",
                ToSend::PAGE
            ),
            params![
                scope.issue,
                scope.list,
                scope.kind,
                resume.retry_failed,
                skip_uncertain,
                after
            ],
            |row| {
                let pick = Pick {
                    recipient: row.get(1)?,
                    uncertain: row.get(2)?,
                };
                Ok((row.get::<_, i64>(0)?, pick))
            },
        )
        .map_err(|e| self.err(e))
    }

    fn changes(
        &self,
        tx: &Db,
        scope: &Scope,
        recorded_fingerprint: &str,
        fingerprint: &str,
    ) -> Result<Changes, LedgerError> {
        let p = params![scope.issue, scope.list, scope.kind];
        let sample = |column: &str, from: &str, order: &str| -> Result<Sample, LedgerError> {
            let count = tx
                .query_row(&format!("SELECT COUNT(*) {from}"), p, |row| {
                    row.get::<_, i64>(0)
                })
                .map_err(|e| self.err(e))?;
            let first = tx
                .query_map(
                    &format!(
                        "SELECT {column} {from} ORDER BY {order} LIMIT {}",
                        Sample::SHOWN
                    ),
                    p,
                    |row| row.get::<_, Key>(0),
                )
                .map_err(|e| self.err(e))?;
            Ok(Sample {
                count: count as usize,
                first,
            })
        };
        // Rows as recorded (those removed earlier are not part of the send).
        let recorded = "deliveries d WHERE d.issue = ?1 AND d.list = ?2 AND d.kind = ?3 AND d.state <> 'removed'";
        let staged = "temp.planned p WHERE p.issue = ?1 AND p.list = ?2 AND p.kind = ?3";
        let served = tx
            .query_row(
                &format!(
                    "SELECT COALESCE(SUM(CASE WHEN state IN ('sent', 'failed') THEN 1 ELSE 0 END), 0), COUNT(*) FROM {recorded}"
                ),
                p,
                |row| {
                    Ok((
                        row.get::<_, i64>(0)? as usize,
                        row.get::<_, i64>(1)? as usize,
                    ))
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(Changes {
            issue_changed: recorded_fingerprint != fingerprint,
            added: sample(
                "p.recipient",
                &format!(
                    "FROM {staged} AND NOT EXISTS (SELECT 1 FROM {recorded} AND d.recipient = p.recipient)"
                ),
                "p.position",
            )?,
            removed: sample(
                "d.recipient",
                &format!(
                    "FROM {recorded} AND NOT EXISTS (SELECT 1 FROM {staged} AND p.recipient = d.recipient)"
                ),
                "d.recipient",
            )?,
            resectioned: sample(
                "p.recipient",
                &format!(
                    "FROM {staged} AND EXISTS (SELECT 1 FROM {recorded} AND d.recipient = p.recipient AND d.sections <> p.sections)"
                ),
                "p.position",
            )?,
            served: served.0,
            unserved: served.1 - served.0,
        })
    }

    fn apply(
        &self,
        tx: &Db,
        scope: &Scope,
        fingerprint: &str,
        stamp: &str,
    ) -> Result<(), LedgerError> {
        tx.execute(
            "UPDATE sends SET issue_fingerprint = ?4, updated_at = ?5 WHERE issue = ?1 AND list = ?2 AND kind = ?3",
            params![scope.issue, scope.list, scope.kind, fingerprint, stamp],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE deliveries SET state = 'removed', updated_at = ?4
             WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND state IN ('pending', 'uncertain', 'gave-up', 'sending')
               AND recipient NOT IN (SELECT recipient FROM temp.planned WHERE issue = ?1 AND list = ?2 AND kind = ?3)",
            params![scope.issue, scope.list, scope.kind, stamp],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO deliveries (issue, list, kind, recipient, position, sections, state, updated_at)
             SELECT issue, list, kind, recipient, position, sections, 'pending', ?4
             FROM temp.planned WHERE issue = ?1 AND list = ?2 AND kind = ?3
             ON CONFLICT (issue, list, kind, recipient) DO UPDATE SET
                position = excluded.position, sections = excluded.sections,
                state = CASE WHEN deliveries.state = 'removed' THEN 'pending' ELSE deliveries.state END",
            params![scope.issue, scope.list, scope.kind, stamp],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records, in one durable transaction, how the previous delivery of a
    /// connection ended and that the next one is about to be handed over.
    pub fn record(
        &self,
        scope: &Scope,
        finished: Option<(&Key, &Outcome, u32)>,
        starting: Option<&Key>,
    ) -> Result<(), LedgerError> {
        let mut entries = Vec::with_capacity(2);
        if let Some((recipient, outcome, attempts)) = finished {
            entries.push(Entry::Ended(recipient.clone(), outcome.clone(), attempts));
        }
        if let Some(recipient) = starting {
            entries.push(Entry::Leaving(recipient.clone()));
        }
        self.record_all(scope, &entries)
    }

    /// Records `entries` in order, in one flushed transaction. (A
    /// running send records through its [`super::Writer`] instead: one
    /// commit for the marks and outcomes of every connection, written.)
    pub fn record_all(&self, scope: &Scope, entries: &[Entry]) -> Result<(), LedgerError> {
        if entries.is_empty() {
            return Ok(());
        }
        commit_entries(&self.db(), scope, entries).map_err(|e| self.err(e))
    }

    /// Records `entries` in order, in one transaction of `db`, a
    /// connection of [`Ledger::writing_connection`]: written, not flushed.
    pub(super) fn record_written(
        &self,
        db: &Db,
        scope: &Scope,
        entries: &[Entry],
    ) -> Result<(), LedgerError> {
        commit_entries(db, scope, entries).map_err(|e| self.err(e))
    }

    /// Lifts the holds of recipients a run set aside and gave back unsent
    /// (it stopped first); flushed.
    pub fn release_held(&self, scope: &Scope) -> Result<(), LedgerError> {
        self.db()
            .execute(
                "UPDATE deliveries SET held = FALSE
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND held AND state <> 'sending'",
                params![scope.issue, scope.list, scope.kind],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Sets recipients recorded as refused for good back to be sent: their
    /// refusal turned out not to be theirs (the relay refused everyone).
    pub fn reopen(&self, scope: &Scope, recipients: &[Key]) -> Result<(), LedgerError> {
        let db = self.db();
        let tx = db.transaction().map_err(|e| self.err(e))?;
        let stamp = now();
        for r in recipients {
            tx.execute(
                "UPDATE deliveries SET state = 'pending', updated_at = ?5
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient = ?4 AND state = 'failed'",
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
        status.counts = db
            .query_map(
                "SELECT state, COUNT(*) FROM deliveries WHERE issue = ?1 AND list = ?2 AND kind = ?3
                 GROUP BY state ORDER BY CASE state WHEN 'sent' THEN 0 WHEN 'pending' THEN 1
                 WHEN 'sending' THEN 2 WHEN 'uncertain' THEN 3 WHEN 'gave-up' THEN 4 WHEN 'failed' THEN 5 ELSE 6 END",
                params![scope.issue, scope.list, scope.kind],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as usize)),
            )
            .map_err(|e| self.err(e))?;
        status.problems = db
            .query_map(
                "SELECT recipient, state, COALESCE(reply, '') FROM deliveries
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND state IN ('failed', 'uncertain', 'gave-up')
                 ORDER BY position",
                params![scope.issue, scope.list, scope.kind],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(|e| self.err(e))?;
        Ok(status)
    }
}

/// A recipient still to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    /// Who.
    pub recipient: Key,
    /// Whether an earlier delivery to them is of unknown outcome.
    pub uncertain: bool,
}

/// The recipients still to send, in list order, a page at a time
/// ([`Ledger::to_send`]).
pub struct ToSend<'l> {
    ledger: &'l Ledger,
    scope: Scope,
    resume: Resume,
    skip_uncertain: bool,
    /// Whether this run joins a send another one started
    /// ([`Ledger::to_send_joining`]).
    joining: bool,
    /// Whether the rows are claimed as they are taken (PostgreSQL,
    /// [`Ledger::to_claim`]).
    claiming: bool,
    /// The claim of the next block, made while this one is sent: after
    /// which position, and its answer to come.
    ahead: Option<(i64, Later<Vec<postgres::Row>>)>,
    after: i64,
    page: std::collections::VecDeque<(i64, Pick)>,
    done: bool,
}

impl ToSend<'_> {
    /// How many rows a page holds.
    pub const PAGE: usize = 512;

    /// How many positions of the audience a sender claims at once in
    /// PostgreSQL (a block, one row of `claims`): few, so that several
    /// senders share a send evenly, and what one leaves behind when it is
    /// killed is little.
    pub const CLAIMED: usize = 32;
}

impl Iterator for ToSend<'_> {
    type Item = Result<Pick, LedgerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() && !self.done {
            let claims = self.claiming;
            let page = match claims {
                true => self.claim_page(),
                false => self.ledger.to_send_page(
                    &self.scope,
                    self.resume,
                    self.skip_uncertain,
                    self.after,
                ),
            };
            match page {
                Ok(page) => {
                    self.done = !claims && page.len() < ToSend::PAGE;
                    self.page = page.into();
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        let (position, pick) = self.page.pop_front()?;
        self.after = position;
        Some(Ok(pick))
    }
}

impl ToSend<'_> {
    /// The next rows this run claims in PostgreSQL, in list order: those
    /// after the last it took; when there are none, those before it left
    /// by a sender that stopped (a second pass from the start); none when
    /// there are none either. A block another sender claimed at the same
    /// moment is passed over for the next.
    fn claim_page(&mut self) -> Result<Vec<(i64, Pick)>, LedgerError> {
        let mut from = self.after;
        loop {
            let request = match self.ahead.take() {
                Some((ahead_from, later)) => {
                    from = ahead_from;
                    later
                }
                None => self.claim_later(from)?,
            };
            let found = request.wait().map_err(|e| self.ledger.err(e))?;
            match claimed_rows(found) {
                Some(rows) if rows.is_empty() => continue,
                Some(rows) => {
                    // The next block is claimed while these are sent, so
                    // that the send never waits for a claim.
                    if let Some((last, _)) = rows.last() {
                        self.ahead = Some((*last, self.claim_later(*last)?));
                    }
                    return Ok(rows);
                }
                None if from >= 0 => from = -1,
                None => {
                    self.done = true;
                    return Ok(Vec::new());
                }
            }
        }
    }

    fn claim_later(&self, after: i64) -> Result<Later<Vec<postgres::Row>>, LedgerError> {
        self.ledger.claim_later(
            &self.scope,
            self.resume,
            self.skip_uncertain,
            self.joining,
            after,
        )
    }
}

/// Commits `entries` in order, in one transaction of `db`, as its
/// synchronous mode has it. The statements are kept prepared: a send
/// commits thousands of these.
fn commit_entries(db: &Db, scope: &Scope, entries: &[Entry]) -> Result<(), StoreError> {
    if let Db::Postgres(pg) = db
        && each_recipient_once(entries)
    {
        return update_entries_at_once(pg, scope, entries);
    }
    let tx = db.transaction()?;
    update_entries(&tx, scope, entries)?;
    // What failed is undone (the transaction, dropped, rolls back); the
    // error said is the first one.
    tx.commit()
}

/// Rows PostgreSQL takes in one statement when an audience is staged.
const STAGED_AT_ONCE: usize = 5_000;

/// Stages `audience` in PostgreSQL [`STAGED_AT_ONCE`] rows a statement,
/// each column an array: how many.
fn stage_in_batches(
    pg: &super::store::Postgres,
    scope: &Scope,
    audience: impl IntoIterator<Item = Planned>,
) -> Result<usize, StoreError> {
    let mut count = 0usize;
    let mut audience = audience.into_iter().peekable();
    while audience.peek().is_some() {
        let (mut recipients, mut positions, mut sections, mut served) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for p in audience.by_ref().take(STAGED_AT_ONCE) {
            recipients.push(p.recipient.as_str().to_owned());
            positions.push(i64::try_from(count).unwrap_or(i64::MAX));
            sections.push(p.sections);
            served.push(p.served);
            count += 1;
        }
        let (issue, list, kind) = (
            scope.issue.clone(),
            scope.list.clone(),
            scope.kind.to_string(),
        );
        pg.call(move |worker| {
            worker.execute_native(
                "INSERT INTO pg_temp.planned
                 SELECT $1, $2, $3, r, p, s, v FROM unnest($4::text[], $5::bigint[], $6::text[], $7::boolean[]) AS t(r, p, s, v)",
                &[&issue, &list, &kind, &recipients, &positions, &sections, &served],
            )
        })?;
    }
    Ok(count)
}

/// Whether no two of `entries` are about one recipient.
fn each_recipient_once(entries: &[Entry]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    entries.iter().all(|entry| seen.insert(change(entry).0))
}

/// What an entry changes of its recipient's row: the recipient, and the
/// state, reply, attempts to add and hold, each `None` (NULL) where it
/// leaves the row as it is.
fn change(entry: &Entry) -> (&Key, Option<&'static str>, Option<&str>, u32, Option<bool>) {
    match entry {
        Entry::Held(recipient) => (recipient, None, None, 0, Some(true)),
        Entry::Released(recipient) => (recipient, None, None, 0, Some(false)),
        Entry::Leaving(recipient) => (recipient, Some("sending"), None, 0, None),
        Entry::Ended(recipient, outcome, attempts) => {
            let (state, reply) = match outcome {
                Outcome::Sent(r) => ("sent", r),
                Outcome::Failed(r) => ("failed", r),
                Outcome::Uncertain(r) => ("uncertain", r),
                Outcome::GaveUp(r) => ("gave-up", r),
                Outcome::Retry(r) => ("pending", r),
            };
            (
                recipient,
                Some(state),
                Some(reply.as_str()),
                *attempts,
                Some(false),
            )
        }
    }
}

/// Records `entries`, no two about one recipient, in one statement of
/// PostgreSQL (one round trip, atomic as a transaction): each column given
/// as an array.
fn update_entries_at_once(
    pg: &super::store::Postgres,
    scope: &Scope,
    entries: &[Entry],
) -> Result<(), StoreError> {
    let (mut recipients, mut states, mut replies, mut attempts, mut held) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for entry in entries {
        let (recipient, state, reply, added, hold) = change(entry);
        recipients.push(recipient.as_str().to_owned());
        states.push(state.map(str::to_owned));
        replies.push(reply.map(str::to_owned));
        attempts.push(i64::from(added));
        held.push(hold);
    }
    let (issue, list, kind, stamp) = (
        scope.issue.clone(),
        scope.list.clone(),
        scope.kind.to_string(),
        now(),
    );
    pg.call(move |worker| {
        worker.execute_native(
            "UPDATE deliveries d SET state = COALESCE(v.state, d.state), reply = COALESCE(v.reply, d.reply),
                attempts = d.attempts + v.attempts, held = COALESCE(v.held, d.held), updated_at = $4
             FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[], $9::boolean[])
               AS v(recipient, state, reply, attempts, held)
             WHERE d.issue = $1 AND d.list = $2 AND d.kind = $3 AND d.recipient = v.recipient",
            &[
                &issue,
                &list,
                &kind,
                &stamp,
                &recipients,
                &states,
                &replies,
                &attempts,
                &held,
            ],
        )
    })
    .map(drop)
}

fn update_entries(db: &Db, scope: &Scope, entries: &[Entry]) -> Result<(), StoreError> {
    let stamp = now();
    for entry in entries {
        // One statement for every kind: what an entry leaves as it is, it
        // gives as NULL.
        let (recipient, state, reply, attempts, held) = change(entry);
        db.execute(
            "UPDATE deliveries SET state = COALESCE(?5, state), reply = COALESCE(?6, reply),
                attempts = attempts + ?7, held = COALESCE(?9, held), updated_at = ?8
             WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient = ?4",
            params![
                scope.issue,
                scope.list,
                scope.kind,
                recipient,
                state,
                reply,
                attempts,
                stamp,
                held
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ledger::tests::each_store;

    pub(crate) fn k(text: &str) -> Key {
        Key::from_text(text)
    }

    pub(crate) fn planned(list: &[(&str, &str)]) -> Vec<Planned> {
        list.iter()
            .map(|(r, s)| Planned {
                recipient: k(r),
                sections: (*s).into(),
                served: true,
            })
            .collect()
    }

    /// Whom the staged send still has to send, in order.
    pub(crate) fn to_send(ledger: &Ledger, scope: &Scope, resume: Resume) -> Vec<Key> {
        ledger
            .to_send(scope, resume, false)
            .map(|p| p.expect("readable").recipient)
            .collect()
    }

    fn sample(keys: &[&str]) -> Sample {
        Sample {
            count: keys.len(),
            first: keys.iter().map(|r| k(r)).collect(),
        }
    }

    #[test]
    fn changes_are_told_with_a_sample_of_five_addresses() {
        let many: Vec<Key> = (0..6).map(|i| k(&format!("m{i}@x.org"))).collect();
        let changes = Changes {
            added: Sample {
                count: 6,
                first: many[..5].to_vec(),
            },
            removed: Sample {
                count: 5,
                first: many[..5].to_vec(),
            },
            served: 3,
            unserved: 3,
            ..Changes::default()
        };
        assert!(!changes.is_empty());
        assert_eq!(
            changes.to_string(),
            "the issue or the list changed since this send started:\n  - 6 new recipient(s): m0@x.org, m1@x.org, m2@x.org, m3@x.org, m4@x.org, …\n  - 5 recipient(s) no longer in the list (they will not be mailed): m0@x.org, m1@x.org, m2@x.org, m3@x.org, m4@x.org\nrun the same command with --accept-changes to go on with the files as they are now"
        );
        // The issue changed before anyone was served: nothing to warn of.
        let fresh = Changes {
            issue_changed: true,
            unserved: 2,
            ..Changes::default()
        };
        assert_eq!(
            fresh.to_string(),
            "the issue or the list changed since this send started:\n  - the issue file's content is different\nrun the same command with --accept-changes to go on with the files as they are now"
        );
        assert!(Changes::default().is_empty());
        for one in [
            Changes {
                resectioned: sample(&["a@x.org"]),
                ..Changes::default()
            },
            Changes {
                removed: sample(&["a@x.org"]),
                ..Changes::default()
            },
        ] {
            assert!(!one.is_empty(), "{one:?}");
        }
    }

    #[test]
    fn a_send_records_when_it_started() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("open");
            let scope = Scope::list("i", "l");
            let before = chrono::Utc::now() - chrono::Duration::seconds(1);
            ledger
                .begin(
                    &scope,
                    "f",
                    &planned(&[("a@x.org", "s")]),
                    Resume::default(),
                )
                .expect("begin");
            let started = ledger
                .status(&scope)
                .expect("status")
                .started
                .expect("known");
            let at = chrono::DateTime::parse_from_rfc3339(&started).expect("RFC 3339");
            assert!(at >= before && at <= chrono::Utc::now(), "{started}");
        });
    }

    #[test]
    fn a_crash_leaves_in_flight_rows_uncertain_and_sent_rows_served() {
        each_store(|path| {
            let scope = Scope::list("i", "l");
            let audience = planned(&[("a@x.org", "s"), ("b@x.org", "s"), ("c@x.org", "s")]);
            {
                let ledger = Ledger::open(path).expect("open");
                let start = ledger
                    .begin(&scope, "f", &audience, Resume::default())
                    .expect("begin");
                assert_eq!(start.to_send, 3);
                ledger
                    .record(&scope, None, Some(&k("a@x.org")))
                    .expect("record");
                ledger
                    .record(
                        &scope,
                        Some((&k("a@x.org"), &Outcome::Sent("250 ok".into()), 1)),
                        Some(&k("b@x.org")),
                    )
                    .expect("record");
                // The process dies here, b in flight.
            }
            let ledger = Ledger::open(path).expect("reopen");
            let start = ledger
                .begin(&scope, "f", &audience, Resume::default())
                .expect("resume");
            assert!(start.resumed);
            assert_eq!(start.already_sent, 1);
            assert_eq!((start.uncertain, start.to_send), (1, 2));
            assert_eq!(
                to_send(&ledger, &scope, Resume::default()),
                vec![k("b@x.org"), k("c@x.org")]
            );
            let picks: Vec<Pick> = ledger
                .to_send(&scope, Resume::default(), false)
                .collect::<Result<_, _>>()
                .expect("readable");
            assert_eq!(
                picks.iter().map(|p| p.uncertain).collect::<Vec<_>>(),
                vec![true, false]
            );
            assert_eq!(
                ledger.to_send(&scope, Resume::default(), true).count(),
                1,
                "the uncertain left alone"
            );
        });
    }

    /// A row as [`held`] gives it.
    pub(crate) fn row(recipient: &str, state: &str, held: bool) -> (String, String, bool) {
        (recipient.to_owned(), state.to_owned(), held)
    }

    /// Recipient, state and `held` of each row, in list order, read by a
    /// connection of its own.
    pub(crate) fn held(path: &std::path::Path) -> Vec<(String, String, bool)> {
        let ledger = Ledger::open(path).expect("second connection");
        ledger
            .db()
            .query_map(
                "SELECT recipient, state, held FROM deliveries ORDER BY position",
                &[],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("readable")
    }

    #[test]
    fn rows_set_aside_go_back_after_a_crash_and_are_uncertain_after_a_power_cut() {
        each_store(|path| {
            let scope = Scope::list("i", "l");
            let rows = [
                ("a@x.org", "s"),
                ("b@x.org", "s"),
                ("c@x.org", "s"),
                ("d@x.org", "s"),
            ];
            let audience = planned(&rows);
            // A connection's run, as its commits record it: c sent, a on the
            // wire, b set aside next.
            let run = |ledger: &Ledger| {
                for entries in [
                    vec![Entry::Held(k("c@x.org"))],
                    vec![Entry::Leaving(k("c@x.org")), Entry::Held(k("a@x.org"))],
                    vec![
                        Entry::Ended(k("c@x.org"), Outcome::Sent("250 ok".into()), 1),
                        Entry::Leaving(k("a@x.org")),
                        Entry::Held(k("b@x.org")),
                    ],
                ] {
                    ledger.record_all(&scope, &entries).expect("record");
                }
            };
            // The next run: the ledger opened again, the send resumed.
            let resume = || {
                let ledger = Ledger::open(path).expect("reopen");
                let start = ledger
                    .begin(&scope, "f", &audience, Resume::default())
                    .expect("resume");
                (ledger, start)
            };
            {
                let ledger = Ledger::open(path).expect("open");
                ledger
                    .begin(&scope, "f", &audience, Resume::default())
                    .expect("begin");
                run(&ledger);
            }
            assert_eq!(
                held(path),
                vec![
                    row("a@x.org", "sending", true),
                    row("b@x.org", "pending", true),
                    row("c@x.org", "sent", false),
                    row("d@x.org", "pending", false),
                ]
            );
            // breves was killed; the machine runs on (the same boot): every
            // written commit is there, so b was never handed over.
            let (ledger, start) = resume();
            assert_eq!(
                (start.already_sent, start.uncertain, start.to_send),
                (1, 1, 3)
            );
            assert_eq!(
                held(path),
                vec![
                    row("a@x.org", "uncertain", false),
                    row("b@x.org", "pending", false),
                    row("c@x.org", "sent", false),
                    row("d@x.org", "pending", false),
                ]
            );
            // The same again, then a power cut: the machine starts again (its
            // boot is another), and the written commits after the last flush
            // may be gone: here, b's mark and a's outcome.
            ledger
                .record_all(
                    &scope,
                    &[Entry::Held(k("a@x.org")), Entry::Held(k("b@x.org"))],
                )
                .expect("held");
            drop(ledger);
            Ledger::open(path)
                .expect("second connection")
                .db()
                .execute("UPDATE sends SET boot = 'before the power cut'", &[])
                .expect("another boot");
            let (ledger, start) = resume();
            assert_eq!(
                (start.already_sent, start.uncertain, start.to_send),
                (1, 2, 3)
            );
            assert_eq!(
                held(path),
                vec![
                    row("a@x.org", "uncertain", false),
                    row("b@x.org", "uncertain", false),
                    row("c@x.org", "sent", false),
                    row("d@x.org", "pending", false),
                ]
            );
            let status = ledger.status(&scope).expect("status");
            assert!(
                status.problems.iter().any(|(r, _, reply)| r == "b@x.org"
                    && reply
                        == "about to be sent when the machine stopped (a power cut or a system crash)"),
                "{status:?}"
            );
            // Resumed once more on this boot: nothing is held any more.
            drop(ledger);
            let (_, start) = resume();
            assert_eq!((start.uncertain, start.to_send), (2, 3));
        });
    }

    #[test]
    fn changes_are_refused_unless_accepted() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("open");
            let scope = Scope::list("i", "l");
            ledger
                .begin(
                    &scope,
                    "f",
                    &planned(&[("a@x.org", "s"), ("b@x.org", "s")]),
                    Resume::default(),
                )
                .expect("begin");
            let now = planned(&[("a@x.org", "s,t"), ("c@x.org", "s")]);
            let Err(LedgerError::Changed(changes)) =
                ledger.begin(&scope, "g", &now, Resume::default())
            else {
                panic!("a change must be refused")
            };
            assert!(changes.issue_changed);
            assert_eq!(changes.added, sample(&["c@x.org"]));
            assert_eq!(changes.removed, sample(&["b@x.org"]));
            assert_eq!(changes.resectioned, sample(&["a@x.org"]));
            let start = ledger
                .begin(
                    &scope,
                    "g",
                    &now,
                    Resume {
                        accept_changes: true,
                        ..Resume::default()
                    },
                )
                .expect("accepted");
            assert_eq!(start.to_send, 2);
            assert_eq!(
                to_send(&ledger, &scope, Resume::default()),
                vec![k("a@x.org"), k("c@x.org")]
            );
            let start = ledger
                .begin(&scope, "g", &now, Resume::default())
                .expect("no change now");
            assert_eq!(start.to_send, 2);
            assert!(
                !to_send(&ledger, &scope, Resume::default()).contains(&k("b@x.org")),
                "a removed member is never mailed"
            );
        });
    }

    /// Whom `to_send` gives, in order.
    fn taken(to_send: ToSend<'_>) -> Vec<Key> {
        to_send.map(|p| p.expect("readable").recipient).collect()
    }

    #[test]
    fn senders_of_one_send_claim_blocks_apart_and_take_over_those_of_a_sender_gone() {
        let url = std::path::PathBuf::from(crate::ledger::test_postgres::database());
        let scope = Scope::list("i", "l");
        let names: Vec<String> = (0..1000).map(|i| format!("m{i:04}@x.org")).collect();
        let rows: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "s")).collect();
        let first = Ledger::open(&url).expect("first");
        first
            .begin(&scope, "f", &planned(&rows), Resume::default())
            .expect("begin");
        // The one that started and four that joined take at once.
        let joined: Vec<Ledger> = (0..4)
            .map(|_| Ledger::open(&url).expect("another sender"))
            .collect();
        let takes: Vec<Vec<Key>> = std::thread::scope(|threads| {
            let mut running =
                vec![threads.spawn(|| taken(first.to_claim(&scope, Resume::default(), false)))];
            for ledger in &joined {
                let scope = &scope;
                running.push(
                    threads.spawn(move || taken(ledger.to_send_joining(scope, Resume::default()))),
                );
            }
            running
                .into_iter()
                .map(|t| t.join().expect("a sender"))
                .collect()
        });
        let mut all: Vec<Key> = takes.iter().flatten().cloned().collect();
        all.sort();
        let everyone: Vec<Key> = names.iter().map(|n| k(n)).collect();
        assert_eq!(
            all,
            everyone,
            "each recipient taken once: {:?}",
            takes.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // Reading claims nothing, and sees every one still to send.
        assert_eq!(
            taken(first.to_send(&scope, Resume::default(), false)).len(),
            1000
        );
        // A sender gone (its connection closed), another takes what it
        // had claimed, and nothing else.
        drop(joined);
        let late = Ledger::open(&url).expect("a late sender");
        let mut again = taken(late.to_send_joining(&scope, Resume::default()));
        let mut expected: Vec<Key> = takes[1..].iter().flatten().cloned().collect();
        expected.sort();
        again.sort();
        assert_eq!(again, expected, "the four joined are gone, the first lives");
        assert!(taken(late.to_send_joining(&scope, Resume::default())).is_empty());
    }

    #[test]
    fn another_issue_under_a_served_id_is_never_advised_to_go_on() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("open");
            let scope = Scope::list("i", "l");
            let audience = planned(&[("a@x.org", "s"), ("b@x.org", "s")]);
            ledger
                .begin(&scope, "march", &audience, Resume::default())
                .expect("begin");
            // Half served, then the issue is corrected: going on is the advice.
            ledger
                .record(
                    &scope,
                    Some((&k("a@x.org"), &Outcome::Sent("250".into()), 1)),
                    None,
                )
                .expect("record");
            let Err(LedgerError::Changed(changes)) =
                ledger.peek(&scope, "fixed", &audience, Resume::default())
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
                    Some((&k("b@x.org"), &Outcome::Failed("550".into()), 1)),
                    None,
                )
                .expect("record");
            let Err(LedgerError::Changed(changes)) =
                ledger.peek(&scope, "april", &audience, Resume::default())
            else {
                panic!("a change must be refused")
            };
            assert_eq!(
                changes.to_string(),
                "the issue or the list changed since this send started:\n  - the issue file's content is different\nevery recipient of this send was served with the earlier version (2 in all): if this is another issue, give it an id of its own under [issue] (id = \"…\"); --accept-changes would send nothing"
            );
            // Only the list changed (a member added): nothing like that.
            let more = planned(&[("a@x.org", "s"), ("b@x.org", "s"), ("c@x.org", "s")]);
            let Err(LedgerError::Changed(changes)) =
                ledger.peek(&scope, "march", &more, Resume::default())
            else {
                panic!("a change must be refused")
            };
            assert!(!changes.is_empty() && !changes.issue_changed);
            assert!(
                changes
                    .to_string()
                    .ends_with("--accept-changes to go on with the files as they are now")
            );
        });
    }
}
