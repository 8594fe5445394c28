//! Everything the ledger holds about one reader, as a request for access
//! needs it: whether they left and how, the sections they stopped, every
//! delivery of every issue, every report read about them.

use rusqlite::params;

use super::reports::Recorded;
use super::{Ledger, LedgerError};
use crate::address::Key;

/// One delivery of one issue to the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldDelivery {
    /// The issue's id.
    pub issue: String,
    /// `list` for the send to the list, `test` for a test send.
    pub kind: String,
    /// `sent`, `failed`, `pending`…
    pub state: String,
    /// The sections their digest held.
    pub sections: String,
    /// How many times it was tried.
    pub attempts: i64,
    /// The relay's last reply, if any.
    pub reply: Option<String>,
    /// When its state was last written.
    pub updated_at: String,
}

/// What the ledger holds about one reader of one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// That they left the list: how (the one-click link, by hand, a
    /// bounce) and when.
    pub left: Option<(String, String)>,
    /// The sections they stopped, with when.
    pub stopped: Vec<(String, String)>,
    /// Every delivery, oldest first.
    pub deliveries: Vec<HeldDelivery>,
    /// Every report read about them, in the order read.
    pub reports: Vec<Recorded>,
}

impl Held {
    /// Whether the ledger holds nothing about them.
    pub fn is_empty(&self) -> bool {
        self.left.is_none()
            && self.stopped.is_empty()
            && self.deliveries.is_empty()
            && self.reports.is_empty()
    }
}

impl Ledger {
    /// Everything held about `address` on `list`.
    pub fn held(&self, list: &str, address: &Key) -> Result<Held, LedgerError> {
        let db = self.db();
        let err = |e| self.err(e);
        let left = db
            .query_row(
                "SELECT source, at FROM suppressions WHERE list = ?1 AND address = ?2",
                params![list, address],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(err)?;
        let stopped = db
            .prepare(
                "SELECT section, at FROM section_opt_outs WHERE list = ?1 AND address = ?2 ORDER BY at, section",
            )
            .and_then(|mut s| {
                s.query_map(params![list, address], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(err)?;
        let deliveries = db
            .prepare(
                "SELECT d.issue, d.kind, d.state, d.sections, d.attempts, d.reply, d.updated_at
                 FROM deliveries d LEFT JOIN sends s ON s.issue = d.issue AND s.list = d.list AND s.kind = d.kind
                 WHERE d.list = ?1 AND d.recipient = ?2
                 ORDER BY s.started_at, d.issue, d.kind",
            )
            .and_then(|mut s| {
                s.query_map(params![list, address], |row| {
                    Ok(HeldDelivery {
                        issue: row.get(0)?,
                        kind: row.get(1)?,
                        state: row.get(2)?,
                        sections: row.get(3)?,
                        attempts: row.get(4)?,
                        reply: row.get(5)?,
                        updated_at: row.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(err)?;
        drop(db);
        let reports = self
            .reports(list)?
            .into_iter()
            .filter(|r| r.address == *address)
            .collect();
        Ok(Held {
            left,
            stopped,
            deliveries,
            reports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_held_about_one_reader_and_nothing_about_another() {
        let dir = tempfile::tempdir().expect("dir");
        let ledger = Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger");
        let anne = Key::from_text("anne@example.org");
        let other = Key::from_text("autre@example.org");
        ledger
            .opt_out("londres", &anne, "spatial")
            .expect("opt out");
        ledger
            .suppress("londres", &anne, "one-click")
            .expect("suppress");
        ledger
            .suppress("londres", &other, "by hand")
            .expect("suppress");
        ledger
            .suppress("ailleurs", &anne, "by hand")
            .expect("suppress");
        let held = ledger.held("londres", &anne).expect("held");
        assert_eq!(
            held.left.as_ref().map(|(how, _)| how.as_str()),
            Some("one-click")
        );
        assert_eq!(
            held.stopped
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>(),
            ["spatial"]
        );
        assert!(held.deliveries.is_empty() && held.reports.is_empty());
        assert!(
            ledger
                .held("londres", &Key::from_text("nul@example.org"))
                .expect("held")
                .is_empty()
        );
    }
}
