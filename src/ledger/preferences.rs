//! What subscribers asked for: to leave the list, or to stop sections.
//! The ledger records it; [`crate::select`] applies it to every send.

use rusqlite::params;

use super::{Ledger, LedgerError, now};
use crate::address::Key;
use crate::select::Preferences;

impl Ledger {
    /// Records that `address` leaves `list` for good (`source`: the one-click
    /// link, a mailto request, by hand). Whether it was new.
    pub fn suppress(&self, list: &str, address: &Key, source: &str) -> Result<bool, LedgerError> {
        let db = self.db();
        let changed = db
            .execute(
                "INSERT INTO suppressions VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![list, address, source, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Records that `address` no longer wants `section` of `list`.
    pub fn opt_out(&self, list: &str, address: &Key, section: &str) -> Result<bool, LedgerError> {
        let db = self.db();
        let changed = db
            .execute(
                "INSERT INTO section_opt_outs VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![list, address, section, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Records the sections `address` chose for `list` (their whole
    /// choice: it replaces their interests in the list file and the
    /// sections they stopped before), with its evidence (the page it was
    /// made on).
    pub fn choose(
        &self,
        list: &str,
        address: &Key,
        sections: &[String],
        evidence: &str,
    ) -> Result<(), LedgerError> {
        let db = self.db();
        let err = |e| self.err(e);
        let tx = db.transaction().map_err(err)?;
        tx.execute(
            "DELETE FROM section_opt_outs WHERE list = ?1 AND address = ?2",
            params![list, address],
        )
        .map_err(err)?;
        tx.execute(
            "INSERT INTO choices VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (list, address) DO UPDATE SET sections = excluded.sections, at = excluded.at, evidence = excluded.evidence",
            params![list, address, sections.join(" "), now(), evidence],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Everything subscribers of `list` asked for.
    pub fn preferences(&self, list: &str) -> Result<Preferences, LedgerError> {
        let mut prefs = self.asked(list)?;
        prefs.list = list.to_owned();
        prefs.joined = self.joined(list)?;
        if !prefs.forgotten.is_empty() {
            prefs.forget_key = self.forget_key()?;
        }
        Ok(prefs)
    }

    /// What the readers of `list` asked, as the tables hold it.
    fn asked(&self, list: &str) -> Result<Preferences, LedgerError> {
        let db = self.db();
        let mut prefs = Preferences::default();
        let err = |e| self.err(e);
        db.query_each(
            "SELECT address FROM suppressions WHERE list = ?1",
            params![list],
            |row| {
                prefs.suppressed.insert(row.get(0)?);
                Ok(())
            },
        )
        .map_err(err)?;
        db.query_each(
            "SELECT address, section FROM section_opt_outs WHERE list = ?1 ORDER BY at",
            params![list],
            |row| {
                let address: Key = row.get(0)?;
                prefs
                    .opted_out
                    .entry(address)
                    .or_default()
                    .push(row.get(1)?);
                Ok(())
            },
        )
        .map_err(err)?;
        let chosen = db
            .query_map(
                "SELECT address, sections FROM choices WHERE list = ?1",
                params![list],
                |row| Ok((row.get::<_, Key>(0)?, row.get::<_, String>(1)?)),
            )
            .map_err(err)?;
        prefs.chosen = chosen
            .into_iter()
            .map(|(k, s)| (k, s.split_whitespace().map(str::to_owned).collect()))
            .collect();
        let hashes = db
            .query_map(
                "SELECT hash FROM forgotten WHERE list = ?1",
                params![list],
                |row| row.get::<_, Vec<u8>>(0),
            )
            .map_err(err)?;
        prefs.forgotten = hashes
            .into_iter()
            .filter_map(|h| <[u8; 16]>::try_from(h).ok())
            .collect();
        Ok(prefs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::each_store;

    #[test]
    fn each_request_is_recorded_once_and_says_whether_it_was_new() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("open");
            let a = Key::from_text("a@example.org");
            let b = Key::from_text("b@example.org");
            assert_eq!(ledger.suppress("l", &a, "by hand").ok(), Some(true));
            assert_eq!(ledger.suppress("l", &a, "one-click").ok(), Some(false));
            assert_eq!(ledger.suppress("other", &a, "by hand").ok(), Some(true));
            assert_eq!(ledger.opt_out("l", &b, "spatial").ok(), Some(true));
            assert_eq!(ledger.opt_out("l", &b, "spatial").ok(), Some(false));
            assert_eq!(ledger.opt_out("l", &b, "cyber").ok(), Some(true));
            let prefs = ledger.preferences("l").expect("preferences");
            assert_eq!(prefs.suppressed, [a].into());
            let mut stopped = prefs.opted_out.get(&b).cloned().unwrap_or_default();
            stopped.sort();
            assert_eq!(stopped, ["cyber", "spatial"]);
            assert!(
                ledger
                    .preferences("nobody")
                    .expect("empty")
                    .suppressed
                    .is_empty()
            );
        });
    }

    #[test]
    fn a_choice_replaces_the_files_interests_and_the_sections_stopped_before() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("ledger");
            let a = Key::from_text("a@example.org");
            ledger.opt_out("l", &a, "spatial").expect("opt out");
            ledger
                .choose(
                    "l",
                    &a,
                    &["spatial".into(), "cyber".into()],
                    "the manage page",
                )
                .expect("choose");
            let prefs = ledger.preferences("l").expect("preferences");
            assert_eq!(prefs.chosen[&a], ["spatial", "cyber"]);
            assert!(
                !prefs.opted_out.contains_key(&a),
                "the choice takes them back"
            );
            // A section stopped after the choice is stopped again.
            ledger.opt_out("l", &a, "cyber").expect("opt out");
            let prefs = ledger.preferences("l").expect("preferences");
            assert_eq!(prefs.opted_out[&a], ["cyber"]);
        });
    }
}
