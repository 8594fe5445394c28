//! Readers who join the list by themselves: a request (its sections, the
//! consent sentence as shown, where it was made), then its confirmation
//! from the link mailed to the address. Until confirmed, the reader is on
//! no list; once confirmed, every send serves them the sections they chose,
//! as if the list file named them ([`crate::select::Preferences::joined`]).

use rusqlite::params;

use super::store::Optional;

use super::{Ledger, LedgerError, now};
use crate::address::Key;

/// A request to join, as the form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// Their name, if they gave one.
    pub name: Option<&'a str>,
    /// The sections they chose.
    pub sections: &'a [String],
    /// The consent sentence, as the form showed it.
    pub consent: &'a str,
    /// Where the request was made (the form's address).
    pub evidence: &'a str,
    /// What the confirmation link names the request by: an opaque code
    /// (a keyed hash of the list and the address), never the address.
    pub code: &'a str,
}

/// A request found by its confirmation code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Who asked.
    pub address: Key,
    /// The sections they chose, in the list's order.
    pub sections: Vec<String>,
    /// Whether it is confirmed already.
    pub confirmed: bool,
}

/// The least time between two confirmation messages to one address.
pub const RESEND_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

impl Ledger {
    /// Records a request to join `list`; whether a confirmation message
    /// should go now: not for an address that joined already (and did not
    /// leave since: one who left asks and confirms again), nor within
    /// [`RESEND_AFTER`] of the last one (the request is recorded all the
    /// same, its sections the latest). When it should, the message is
    /// counted as mailed now, so that two requests at once mail it once;
    /// [`Ledger::confirmation_unsent`] takes that back if it fails.
    pub fn request_subscription(
        &self,
        list: &str,
        address: &Key,
        request: &Request<'_>,
    ) -> Result<bool, LedgerError> {
        let db = self.db();
        let err = |e| self.err(e);
        let tx = db.transaction().map_err(err)?;
        let known: Option<(Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT mailed_at, confirmed_at FROM subscriptions WHERE list = ?1 AND address = ?2",
                params![list, address],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(err)?;
        let left: bool = tx
            .query_row(
                "SELECT COUNT(*) > 0 FROM suppressions WHERE list = ?1 AND address = ?2",
                params![list, address],
                |row| row.get(0),
            )
            .map_err(err)?;
        if let Some((_, Some(_))) = known
            && !left
        {
            return Ok(false);
        }
        let now = chrono::Utc::now();
        let recent = known
            .and_then(|(mailed, _)| mailed)
            .and_then(|m| chrono::DateTime::parse_from_rfc3339(&m).ok())
            .is_some_and(|m| now.signed_duration_since(m) < RESEND_AFTER);
        tx.execute(
            "INSERT INTO subscriptions (list, address, name, sections, consent, evidence, requested_at, code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (list, address) DO UPDATE SET name = excluded.name, sections = excluded.sections,
               consent = excluded.consent, evidence = excluded.evidence, requested_at = excluded.requested_at,
               code = excluded.code, confirmed_at = NULL",
            params![
                list,
                address,
                request.name,
                request.sections.join(" "),
                request.consent,
                request.evidence,
                now.to_rfc3339(),
                request.code,
            ],
        )
        .map_err(err)?;
        if !recent {
            tx.execute(
                "UPDATE subscriptions SET mailed_at = ?3 WHERE list = ?1 AND address = ?2",
                params![list, address, now.to_rfc3339()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(!recent)
    }

    /// Takes back that the confirmation message to `address` went out (it
    /// could not be sent): the next request mails it at once.
    pub fn confirmation_unsent(&self, list: &str, address: &Key) -> Result<(), LedgerError> {
        self.db()
            .execute(
                "UPDATE subscriptions SET mailed_at = NULL WHERE list = ?1 AND address = ?2",
                params![list, address],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The request a confirmation link names by its `code`, if any.
    pub fn pending(&self, list: &str, code: &str) -> Result<Option<Pending>, LedgerError> {
        self.db()
            .query_row(
                "SELECT address, sections, confirmed_at IS NOT NULL FROM subscriptions WHERE list = ?1 AND code = ?2",
                params![list, code],
                |row| {
                    let sections: String = row.get(1)?;
                    Ok(Pending {
                        address: row.get(0)?,
                        sections: sections.split_whitespace().map(str::to_owned).collect(),
                        confirmed: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Confirms the request of `address` (its link was followed): from now
    /// on they are a reader of `list` with the sections they chose; a
    /// reader who had left, or was forgotten, comes back. Whether there
    /// was a request to confirm.
    pub fn confirm_subscription(&self, list: &str, address: &Key) -> Result<bool, LedgerError> {
        // A reader forgotten at their request who asks again, and confirms,
        // is a reader again.
        let forgotten = address.keyed_hash(&self.forget_key()?, list);
        let db = self.db();
        let err = |e| self.err(e);
        let tx = db.transaction().map_err(err)?;
        let sections: Option<String> = tx
            .query_row(
                "SELECT sections FROM subscriptions WHERE list = ?1 AND address = ?2",
                params![list, address],
                |row| row.get(0),
            )
            .optional()
            .map_err(err)?;
        let Some(sections) = sections else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE subscriptions SET confirmed_at = COALESCE(confirmed_at, ?3) WHERE list = ?1 AND address = ?2",
            params![list, address, now()],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM suppressions WHERE list = ?1 AND address = ?2",
            params![list, address],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM forgotten WHERE list = ?1 AND hash = ?2",
            params![list, forgotten.as_slice()],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM section_opt_outs WHERE list = ?1 AND address = ?2",
            params![list, address],
        )
        .map_err(err)?;
        tx.execute(
            "INSERT INTO choices VALUES (?1, ?2, ?3, ?4, 'the confirmed subscription')
             ON CONFLICT (list, address) DO UPDATE SET sections = excluded.sections, at = excluded.at, evidence = excluded.evidence",
            params![list, address, sections, now()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(true)
    }

    /// The reader who joined `list` by themselves, confirmed, whose
    /// request's code is `code` ([`crate::unsubscribe::Signer::request_code`]).
    pub fn joined_by_code(&self, list: &str, code: &str) -> Result<Option<Key>, LedgerError> {
        self.db()
            .query_row(
                "SELECT address FROM subscriptions WHERE list = ?1 AND code = ?2 AND confirmed_at IS NOT NULL",
                params![list, code],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// How many requests to join `list` wait for their confirmation.
    pub fn waiting(&self, list: &str) -> Result<usize, LedgerError> {
        self.db()
            .query_row(
                "SELECT COUNT(*) FROM subscriptions WHERE list = ?1 AND confirmed_at IS NULL",
                params![list],
                |row| row.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The readers who joined `list` by themselves and confirmed: their
    /// key and name, in the order they joined.
    pub(crate) fn joined(&self, list: &str) -> Result<Vec<(Key, Option<String>)>, LedgerError> {
        let db = self.db();
        db.query_map(
            "SELECT address, name FROM subscriptions WHERE list = ?1 AND confirmed_at IS NOT NULL ORDER BY confirmed_at, address",
            params![list],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::each_store;

    #[test]
    fn a_request_is_confirmed_once_and_mailed_at_most_once_an_hour() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("ledger");
            let a = Key::from_text("nouvelle@example.org");
            let sections = ["spatial".to_owned()];
            let request = Request {
                name: Some("Nouvelle"),
                sections: &sections,
                consent: "J’accepte de recevoir la lettre.",
                evidence: "https://breves.example.fr/abonnement",
                code: "c0de",
            };
            assert!(
                ledger
                    .request_subscription("l", &a, &request)
                    .expect("request")
            );
            assert!(
                !ledger
                    .request_subscription("l", &a, &request)
                    .expect("request"),
                "not again within the hour"
            );
            ledger.confirmation_unsent("l", &a).expect("unsent");
            assert!(
                ledger
                    .request_subscription("l", &a, &request)
                    .expect("request"),
                "at once when the last one could not be sent"
            );
            assert_eq!(
                ledger.pending("l", "c0de").expect("pending"),
                Some(Pending {
                    address: a.clone(),
                    sections: sections.to_vec(),
                    confirmed: false
                })
            );
            assert_eq!(ledger.pending("l", "autre").expect("pending"), None);
            assert!(
                ledger.joined("l").expect("joined").is_empty(),
                "on no list until confirmed"
            );
            assert!(ledger.confirm_subscription("l", &a).expect("confirm"));
            assert_eq!(
                ledger.joined("l").expect("joined"),
                [(a.clone(), Some("Nouvelle".to_owned()))]
            );
            assert_eq!(
                ledger.preferences("l").expect("prefs").chosen[&a],
                ["spatial"]
            );
            assert!(
                !ledger
                    .request_subscription("l", &a, &request)
                    .expect("request"),
                "a member already"
            );
            // Once she has left, she may ask again, and is on no list until
            // she confirms again.
            ledger.suppress("l", &a, "one-click").expect("leave");
            ledger
                .db()
                .execute(
                    "UPDATE subscriptions SET mailed_at = '2026-01-01T00:00:00+00:00'",
                    &[],
                )
                .expect("an hour later");
            assert!(
                ledger
                    .request_subscription("l", &a, &request)
                    .expect("request")
            );
            assert!(ledger.joined("l").expect("joined").is_empty());
            assert!(ledger.confirm_subscription("l", &a).expect("confirm"));
            assert!(
                !ledger
                    .preferences("l")
                    .expect("prefs")
                    .suppressed
                    .contains(&a)
            );
            assert!(
                !ledger
                    .confirm_subscription("l", &Key::from_text("x@example.org"))
                    .expect("confirm")
            );
        });
    }
}
