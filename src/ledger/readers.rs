//! Everything the ledger holds about one reader, as a request for access
//! needs it: whether they left and how, the sections they stopped, every
//! delivery of every issue, every report read about them; and erasing it
//! at their request, keeping only a keyed hash so that they are never
//! mailed again.

use rusqlite::params;

use super::store::Optional;

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
    /// Their own request to join, if they made one: when they asked, when
    /// they confirmed (if they did), the consent sentence as shown, and
    /// the page it was made on.
    pub joined: Option<(String, Option<String>, String, String)>,
    /// The sections they chose themselves, when, and on what page.
    pub chose: Option<(String, String, String)>,
    /// The sections they stopped, with when.
    pub stopped: Vec<(String, String)>,
    /// Every delivery, oldest first.
    pub deliveries: Vec<HeldDelivery>,
    /// Every report read about them, in the order read.
    pub reports: Vec<Recorded>,
    /// When they were forgotten at their request, if they were: nothing
    /// else is held then.
    pub forgotten: Option<String>,
}

/// What erasing a reader removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Deliveries of issues to them.
    pub deliveries: usize,
    /// Bounces and complaints read about them.
    pub reports: usize,
    /// Their leaving the list, and the sections they stopped.
    pub preferences: usize,
}

impl Held {
    /// Whether they joined by themselves and confirmed.
    pub fn has_joined(&self) -> bool {
        self.joined
            .as_ref()
            .is_some_and(|(_, confirmed, _, _)| confirmed.is_some())
    }

    /// Whether the ledger holds nothing about them.
    pub fn is_empty(&self) -> bool {
        self.left.is_none()
            && self.forgotten.is_none()
            && self.chose.is_none()
            && self.joined.is_none()
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
            .optional()
            .map_err(err)?;
        let chose = db
            .query_row(
                "SELECT sections, at, evidence FROM choices WHERE list = ?1 AND address = ?2",
                params![list, address],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(err)?;
        let joined = db
            .query_row(
                "SELECT requested_at, confirmed_at, consent, evidence FROM subscriptions WHERE list = ?1 AND address = ?2",
                params![list, address],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()
            .map_err(err)?;
        let stopped = db
            .query_map("SELECT section, at FROM section_opt_outs WHERE list = ?1 AND address = ?2 ORDER BY at, section", params![list, address], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(err)?;
        let deliveries = db
            .query_map("SELECT d.issue, d.kind, d.state, d.sections, d.attempts, d.reply, d.updated_at
                 FROM deliveries d LEFT JOIN sends s ON s.issue = d.issue AND s.list = d.list AND s.kind = d.kind
                 WHERE d.list = ?1 AND d.recipient = ?2
                 ORDER BY s.started_at, d.issue, d.kind", params![list, address], |row| {
                    Ok(HeldDelivery {
                        issue: row.get(0)?,
                        kind: row.get(1)?,
                        state: row.get(2)?,
                        sections: row.get(3)?,
                        attempts: row.get(4)?,
                        reply: row.get(5)?,
                        updated_at: row.get(6)?,
                    })
                })
            .map_err(err)?;
        drop(db);
        let reports = self
            .reports(list)?
            .into_iter()
            .filter(|r| r.address == *address)
            .collect();
        let forgotten = self.forgotten_at(list, address)?;
        Ok(Held {
            left,
            joined,
            chose,
            stopped,
            deliveries,
            reports,
            forgotten,
        })
    }

    /// The key of the hashes kept of forgotten readers: 32 random bytes
    /// made the first time, kept in the ledger.
    pub(crate) fn forget_key(&self) -> Result<Vec<u8>, LedgerError> {
        let db = self.db();
        let known: Option<Vec<u8>> = db
            .query_row("SELECT value FROM keys WHERE name = 'forget'", &[], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(key) = known {
            return Ok(key);
        }
        let mut key = vec![0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut key))
            .map_err(|source| LedgerError::Random {
                path: self.path().to_path_buf(),
                source,
            })?;
        db.execute(
            "INSERT INTO keys VALUES ('forget', ?1) ON CONFLICT DO NOTHING",
            params![key],
        )
        .map_err(|e| self.err(e))?;
        drop(db);
        self.forget_key()
    }

    /// When `address` was forgotten on `list`, if it was.
    fn forgotten_at(&self, list: &str, address: &Key) -> Result<Option<String>, LedgerError> {
        let none = self
            .db()
            .query_row(
                "SELECT 1 FROM forgotten WHERE list = ?1 LIMIT 1",
                params![list],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .is_none();
        if none {
            return Ok(None);
        }
        let key = self.forget_key()?;
        let hash = address.keyed_hash(&key, list);
        self.db()
            .query_row(
                "SELECT at FROM forgotten WHERE list = ?1 AND hash = ?2",
                params![list, hash.as_slice()],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Erases everything held about `address` on `list` (deliveries,
    /// reports, preferences), keeping only a keyed hash of it so that no
    /// send mails them again; then rewrites the file so that the erased
    /// rows leave no trace in it (secure delete, a vacuum, the journal
    /// emptied). What was erased.
    pub fn forget(&self, list: &str, address: &Key) -> Result<Erased, LedgerError> {
        let key = self.forget_key()?;
        let hash = address.keyed_hash(&key, list);
        let db = self.db();
        let err = |e| self.err(e);
        let sqlite = !db.is_postgres();
        if sqlite {
            db.batch("PRAGMA secure_delete = ON").map_err(err)?;
        }
        let tx = db.transaction().map_err(err)?;
        let deliveries = tx
            .execute(
                "DELETE FROM deliveries WHERE list = ?1 AND recipient = ?2",
                params![list, address],
            )
            .map_err(err)?;
        let reports = tx
            .execute(
                "DELETE FROM reports WHERE list = ?1 AND address = ?2",
                params![list, address],
            )
            .map_err(err)?;
        let preferences = tx
            .execute(
                "DELETE FROM suppressions WHERE list = ?1 AND address = ?2",
                params![list, address],
            )
            .map_err(err)?
            + tx.execute(
                "DELETE FROM section_opt_outs WHERE list = ?1 AND address = ?2",
                params![list, address],
            )
            .map_err(err)?
            + tx.execute(
                "DELETE FROM choices WHERE list = ?1 AND address = ?2",
                params![list, address],
            )
            .map_err(err)?
            + tx.execute(
                "DELETE FROM subscriptions WHERE list = ?1 AND address = ?2",
                params![list, address],
            )
            .map_err(err)?;
        tx.execute(
            "INSERT INTO forgotten VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![list, hash.as_slice(), super::now()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        if sqlite {
            db.batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(err)?;
        } else {
            // PostgreSQL reuses the space of the rows deleted once they
            // are vacuumed; its journal and backups keep them until they
            // are recycled (README, "PostgreSQL").
            db.batch("VACUUM deliveries, reports, suppressions, section_opt_outs, choices, subscriptions")
                .map_err(err)?;
        }
        Ok(Erased {
            deliveries,
            reports,
            preferences,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::each_store;

    /// Anne stops a section and leaves the list "londres" by one click,
    /// another reader is taken off it by hand, and Anne off another list.
    fn acts_of_anne_and_another(ledger: &Ledger, anne: &Key, other: &Key) {
        ledger.opt_out("londres", anne, "spatial").expect("opt out");
        ledger
            .suppress("londres", anne, "one-click")
            .expect("suppress");
        ledger
            .suppress("londres", other, "by hand")
            .expect("suppress");
        ledger
            .suppress("ailleurs", anne, "by hand")
            .expect("suppress");
    }

    #[test]
    fn everything_held_about_one_reader_and_nothing_about_another() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("ledger");
            let anne = Key::from_text("anne@example.org");
            let other = Key::from_text("autre@example.org");
            acts_of_anne_and_another(&ledger, &anne, &other);
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
        });
    }

    #[test]
    fn a_forgotten_reader_leaves_a_hash_that_keeps_them_off_the_list_and_nothing_else() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("ledger");
            let anne = Key::from_text("anne.oubli@example.org");
            let other = Key::from_text("autre@example.org");
            acts_of_anne_and_another(&ledger, &anne, &other);
            let erased = ledger.forget("londres", &anne).expect("forget");
            assert_eq!(erased.preferences, 2, "her leaving and her stopped section");
            let held = ledger.held("londres", &anne).expect("held");
            assert!(held.forgotten.is_some(), "the date she was forgotten");
            assert!(held.left.is_none() && held.stopped.is_empty());
            let prefs = ledger.preferences("londres").expect("preferences");
            assert!(prefs.is_forgotten(&anne), "never mailed again");
            assert!(!prefs.is_forgotten(&other));
            assert!(prefs.suppressed.contains(&other), "another reader kept");
            assert!(!prefs.suppressed.contains(&anne));
            // Another list is not hers to forget.
            let elsewhere = ledger.preferences("ailleurs").expect("preferences");
            assert!(!elsewhere.is_forgotten(&anne));
            assert!(elsewhere.suppressed.contains(&anne));
        });
        // Held on one list only, her address leaves no byte in the file.
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("l.sqlite3");
        let ledger = Ledger::open(&path).expect("ledger");
        let anne = Key::from_text("anne.oubli@example.org");
        ledger
            .suppress("londres", &anne, "one-click")
            .expect("suppress");
        ledger
            .opt_out("londres", &anne, "spatial")
            .expect("opt out");
        ledger.forget("londres", &anne).expect("forget");
        drop(ledger);
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir.path()).expect("dir") {
            bytes.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
        }
        let needle = b"anne.oubli@example.org";
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        assert!(bytes.windows(b"londres".len()).any(|w| w == b"londres"));
    }
}
