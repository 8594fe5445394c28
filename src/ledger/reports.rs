//! Bounces and complaints, as `breves bounces` read them: each report
//! recorded once (by its Message-ID) with its evidence and the decision
//! taken, and the suppressions they lead to.

use rusqlite::params;

use super::store::Optional;

use super::{Ledger, LedgerError, now};
use crate::address::Key;

/// One report about one address, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The report's Message-ID.
    pub report: String,
    /// The address it is about.
    pub address: Key,
    /// `permanent` (the address is gone), `temporary` (counted),
    /// `complaint`, `sender` (a refusal of the sender, never held against
    /// the reader) or `unproven` (a report that proves nothing: shown,
    /// never acted on).
    pub kind: String,
    /// Why, in the vocabulary of [`crate::reason::Reason`] (none
    /// for reports read before it existed).
    pub reason: Option<String>,
    /// `5.1.1`, or the feedback type.
    pub status: String,
    /// What the remote server said.
    pub diagnostic: String,
    /// The issue that bounced, when known.
    pub issue: Option<String>,
    /// The report's date, as written.
    pub reported_at: Option<String>,
    /// What was decided.
    pub decision: String,
}

impl Ledger {
    /// Whether the query `sql` finds a row.
    fn finds(&self, sql: &str, params: super::store::Params<'_>) -> Result<bool, LedgerError> {
        self.db()
            .query_row(sql, params, |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| self.err(e))
    }

    /// Whether the report `report` about `address` was recorded already.
    pub fn report_known(
        &self,
        list: &str,
        report: &str,
        address: &Key,
    ) -> Result<bool, LedgerError> {
        self.finds(
            "SELECT 1 FROM reports WHERE list = ?1 AND report = ?2 AND address = ?3",
            params![list, report, address],
        )
    }

    /// Records a report and, when `suppress` says why, that the address
    /// leaves the list, in one transaction; whether the report was new.
    pub fn record_report(
        &self,
        list: &str,
        recorded: &Recorded,
        suppress: Option<&str>,
    ) -> Result<bool, LedgerError> {
        let db = self.db();
        let tx = db.transaction().map_err(|e| self.err(e))?;
        let new = tx
            .execute(
                "INSERT INTO reports VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
                params![
                    list,
                    recorded.report,
                    recorded.address,
                    recorded.kind,
                    recorded.status,
                    recorded.diagnostic,
                    recorded.issue,
                    recorded.reported_at,
                    now(),
                    recorded.decision,
                    recorded.reason
                ],
            )
            .map_err(|e| self.err(e))?
            > 0;
        if new && let Some(source) = suppress {
            tx.execute(
                "INSERT INTO suppressions VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![list, recorded.address, source, now()],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(new)
    }

    /// The distinct issues whose messages to `address` bounced for now
    /// (temporary failures), those of reports whose issue is not known
    /// left out.
    pub fn soft_bounced_issues(
        &self,
        list: &str,
        address: &Key,
    ) -> Result<Vec<String>, LedgerError> {
        let db = self.db();
        db.query_map(
            "SELECT DISTINCT issue FROM reports WHERE list = ?1 AND address = ?2 AND kind = 'temporary' AND issue IS NOT NULL",
            params![list, address],
            |row| row.get(0),
        )
        .map_err(|e| self.err(e))
    }

    /// The refusals of the sender recorded for `list`, by receiving domain
    /// and reason: how many readers each, most first.
    pub fn sender_problems(&self, list: &str) -> Result<Vec<(String, String, usize)>, LedgerError> {
        let db = self.db();
        db.query_map(
            "SELECT substr(address, instr(address, '@') + 1) AS domain, COALESCE(reason, ''), COUNT(DISTINCT address) AS n
             FROM reports WHERE list = ?1 AND kind = 'sender'
             GROUP BY domain, reason ORDER BY n DESC, domain",
            params![list],
            |row| {
                let n: i64 = row.get(2)?;
                Ok((row.get(0)?, row.get(1)?, usize::try_from(n).unwrap_or(0)))
            },
        )
        .map_err(|e| self.err(e))
    }

    /// Every report recorded for `list`, in the order they were read.
    pub fn reports(&self, list: &str) -> Result<Vec<Recorded>, LedgerError> {
        let db = self.db();
        db.query_map(
            "SELECT report, address, kind, status, diagnostic, issue, reported_at, decision, reason FROM reports WHERE list = ?1 ORDER BY read_at, rowid",
            params![list],
            |row| {
                Ok(Recorded {
                    report: row.get(0)?,
                    address: row.get(1)?,
                    kind: row.get(2)?,
                    status: row.get(3)?,
                    diagnostic: row.get(4)?,
                    issue: row.get(5)?,
                    reported_at: row.get(6)?,
                    decision: row.get(7)?,
                    reason: row.get(8)?,
                })
            },
        )
        .map_err(|e| self.err(e))
    }

    /// Gives an address back to the list (a report that was wrong): its
    /// suppression is removed; the reports stay recorded, so reading the
    /// same mailbox again does not take it away again. Why it had left,
    /// when it had.
    pub fn unsuppress(&self, list: &str, address: &Key) -> Result<Option<String>, LedgerError> {
        let db = self.db();
        let tx = db.transaction().map_err(|e| self.err(e))?;
        let source: Option<String> = tx
            .query_row(
                "SELECT source FROM suppressions WHERE list = ?1 AND address = ?2",
                params![list, address],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        tx.execute(
            "DELETE FROM suppressions WHERE list = ?1 AND address = ?2",
            params![list, address],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE reports SET decision = decision || ' (given back by hand)' WHERE list = ?1 AND address = ?2 AND decision NOT LIKE '%(given back by hand)'",
            params![list, address],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(source)
    }

    /// Whether the ledger knows that `issue` was handed over to `address`
    /// by a send to `list` (sent, or of uncertain outcome).
    pub fn was_sent(&self, list: &str, issue: &str, address: &Key) -> Result<bool, LedgerError> {
        self.finds(
            "SELECT 1 FROM deliveries WHERE list = ?1 AND issue = ?2 AND recipient = ?3 AND kind = 'list' AND state IN ('sent', 'uncertain', 'sending')",
            params![list, issue, address],
        )
    }

    /// The issues the ledger knows were sent to `list`.
    pub fn issues_sent(&self, list: &str) -> Result<Vec<String>, LedgerError> {
        let db = self.db();
        db.query_map(
            "SELECT DISTINCT issue FROM sends WHERE list = ?1",
            params![list],
            |row| row.get(0),
        )
        .map_err(|e| self.err(e))
    }
}
