//! Deliveries: the audience frozen when a send starts, then each
//! recipient's state as its message is handed over.

use rusqlite::{OptionalExtension, params};

use super::{Ledger, LedgerError, now};
use crate::address::Key;

/// What changed between the start of a send and its resumption.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// The issue file's content changed.
    pub issue_changed: bool,
    /// Recipients in the list now, not when the send started.
    pub added: Vec<Key>,
    /// Recipients gone from the list since (never mailed).
    pub removed: Vec<Key>,
    /// Recipients whose sections changed.
    pub resectioned: Vec<Key>,
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

fn sample(list: &[Key]) -> String {
    let shown: Vec<&str> = list.iter().take(5).map(Key::as_str).collect();
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

/// One recipient as planned: who, and the sections they get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Who.
    pub recipient: Key,
    /// The section ids, comma-separated.
    pub sections: String,
}

/// Where a send stands when it (re)starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Start {
    /// Whether this is a resumption.
    pub resumed: bool,
    /// Recipients to mail now, in list order.
    pub to_send: Vec<Key>,
    /// Of those, the ones whose earlier delivery is of unknown outcome
    /// (in flight at a crash, or connection lost before the reply).
    pub uncertain: Vec<Key>,
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
    /// The recipient's message is about to be handed over (`sending`).
    Leaving(Key),
    /// How the recipient's delivery ended, after how many attempts.
    Ended(Key, Outcome, u32),
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

impl Ledger {
    /// Starts or resumes a send. The first time, the issue's fingerprint
    /// and the audience are recorded. Afterwards they are compared with
    /// what is recorded: a difference is refused as [`LedgerError::Changed`]
    /// unless `resume.accept_changes`, in which case new recipients are
    /// added, removed ones are marked never to be mailed, and sections
    /// updated.
    ///
    /// Rows left `sending` by a crash become `uncertain`; uncertain rows
    /// are sent again, and so are failed ones with `resume.retry_failed`.
    pub fn begin(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        resume: Resume,
    ) -> Result<Start, LedgerError> {
        self.start(scope, fingerprint, audience, resume, true)
    }

    /// What [`Ledger::begin`] would find, without recording anything: for
    /// stating what a send is about to do before it is confirmed.
    pub fn peek(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        resume: Resume,
    ) -> Result<Start, LedgerError> {
        self.start(scope, fingerprint, audience, resume, false)
    }

    fn start(
        &self,
        scope: &Scope,
        fingerprint: &str,
        audience: &[Planned],
        resume: Resume,
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
        let mut accepted = None;
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
                    if !resume.accept_changes {
                        return Err(LedgerError::Changed(changes));
                    }
                    self.apply(&tx, scope, fingerprint, audience, &changes, &stamp)?;
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
        let mut start = Start {
            resumed,
            accepted,
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
                let recipient: Key = row.get(0).map_err(|e| self.err(e))?;
                let state: String = row.get(1).map_err(|e| self.err(e))?;
                match state.as_str() {
                    "pending" | "gave-up" | "suppressed" => start.to_send.push(recipient),
                    "uncertain" => {
                        start.uncertain.push(recipient.clone());
                        start.to_send.push(recipient);
                    }
                    "sent" => start.already_sent += 1,
                    "failed" if resume.retry_failed => {
                        start.failed_again += 1;
                        start.to_send.push(recipient);
                    }
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
            let r: Key = row.get(0).map_err(|e| self.err(e))?;
            let s: String = row.get(1).map_err(|e| self.err(e))?;
            let state: String = row.get(2).map_err(|e| self.err(e))?;
            match state.as_str() {
                "sent" | "failed" => changes.served += 1,
                _ => changes.unserved += 1,
            }
            recorded.insert(r, s);
        }
        let mut now: std::collections::HashSet<&Key> = std::collections::HashSet::new();
        for p in audience {
            now.insert(&p.recipient);
            match recorded.get(&p.recipient) {
                None => changes.added.push(p.recipient.clone()),
                Some(s) if *s != p.sections => changes.resectioned.push(p.recipient.clone()),
                Some(_) => {}
            }
        }
        let mut removed: Vec<Key> = recorded
            .keys()
            .filter(|r| !now.contains(r))
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

    /// Records `entries` in order, in one durable transaction: one disk
    /// flush for the marks and outcomes of every connection (group commit).
    pub fn record_all(&self, scope: &Scope, entries: &[Entry]) -> Result<(), LedgerError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut db = self.db();
        let tx = db.transaction().map_err(|e| self.err(e))?;
        let stamp = now();
        for entry in entries {
            // One statement for both kinds: a mark leaves the reply and
            // the attempts as they are.
            let (recipient, state, reply, attempts) = match entry {
                Entry::Leaving(recipient) => (recipient, "sending", None, 0),
                Entry::Ended(recipient, outcome, attempts) => {
                    let (state, reply) = match outcome {
                        Outcome::Sent(r) => ("sent", r),
                        Outcome::Failed(r) => ("failed", r),
                        Outcome::Uncertain(r) => ("uncertain", r),
                        Outcome::GaveUp(r) => ("gave-up", r),
                        Outcome::Retry(r) => ("pending", r),
                    };
                    (recipient, state, Some(reply), *attempts)
                }
            };
            tx.prepare_cached(
                "UPDATE deliveries SET state = ?5, reply = COALESCE(?6, reply),
                    attempts = attempts + ?7, updated_at = ?8
                 WHERE issue = ?1 AND list = ?2 AND kind = ?3 AND recipient = ?4",
            )
            .and_then(|mut update| {
                update.execute(params![
                    scope.issue,
                    scope.list,
                    scope.kind,
                    recipient,
                    state,
                    reply,
                    attempts,
                    stamp
                ])
            })
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Sets recipients recorded as refused for good back to be sent: their
    /// refusal turned out not to be theirs (the relay refused everyone).
    pub fn reopen(&self, scope: &Scope, recipients: &[Key]) -> Result<(), LedgerError> {
        let mut db = self.db();
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

    /// Marks recipients of a send as suppressed: they are never mailed.
    pub fn mark_suppressed(&self, scope: &Scope, recipients: &[Key]) -> Result<(), LedgerError> {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn k(text: &str) -> Key {
        Key::from_text(text)
    }

    pub(crate) fn planned(list: &[(&str, &str)]) -> Vec<Planned> {
        list.iter()
            .map(|(r, s)| Planned {
                recipient: k(r),
                sections: (*s).into(),
            })
            .collect()
    }

    #[test]
    fn changes_are_told_with_a_sample_of_five_addresses() {
        let many: Vec<Key> = (0..6).map(|i| k(&format!("m{i}@x.org"))).collect();
        let changes = Changes {
            added: many.clone(),
            removed: many[..5].to_vec(),
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
                resectioned: vec![k("a@x.org")],
                ..Changes::default()
            },
            Changes {
                removed: vec![k("a@x.org")],
                ..Changes::default()
            },
        ] {
            assert!(!one.is_empty(), "{one:?}");
        }
    }

    #[test]
    fn a_send_records_when_it_started() {
        let dir = tempfile::tempdir().expect("dir");
        let ledger = Ledger::open(&dir.path().join("l.sqlite3")).expect("open");
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
    }

    #[test]
    fn a_crash_leaves_in_flight_rows_uncertain_and_sent_rows_served() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("l.sqlite3");
        let scope = Scope::list("i", "l");
        let audience = planned(&[("a@x.org", "s"), ("b@x.org", "s"), ("c@x.org", "s")]);
        {
            let ledger = Ledger::open(&path).expect("open");
            let start = ledger
                .begin(&scope, "f", &audience, Resume::default())
                .expect("begin");
            assert_eq!(start.to_send.len(), 3);
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
        let ledger = Ledger::open(&path).expect("reopen");
        let start = ledger
            .begin(&scope, "f", &audience, Resume::default())
            .expect("resume");
        assert!(start.resumed);
        assert_eq!(start.already_sent, 1);
        assert_eq!(start.uncertain, vec![k("b@x.org")]);
        assert_eq!(start.to_send, vec![k("b@x.org"), k("c@x.org")]);
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
                Resume::default(),
            )
            .expect("begin");
        let now = planned(&[("a@x.org", "s,t"), ("c@x.org", "s")]);
        let Err(LedgerError::Changed(changes)) = ledger.begin(&scope, "g", &now, Resume::default())
        else {
            panic!("a change must be refused")
        };
        assert!(changes.issue_changed);
        assert_eq!(changes.added, vec![k("c@x.org")]);
        assert_eq!(changes.removed, vec![k("b@x.org")]);
        assert_eq!(changes.resectioned, vec![k("a@x.org")]);
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
        assert_eq!(start.to_send, vec![k("a@x.org"), k("c@x.org")]);
        let start = ledger
            .begin(&scope, "g", &now, Resume::default())
            .expect("no change now");
        assert!(
            !start.to_send.contains(&k("b@x.org")),
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
    }
}
