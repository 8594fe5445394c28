//! Keeping the list clean: the bounces and complaints a bounce mailbox
//! holds, read ([`report`]), matched with the list's members, and acted on
//! in the ledger.
//!
//! - A permanent failure (5.x.x) suppresses the address.
//! - A temporary failure (4.x.x) is counted; an address whose messages of
//!   [`SOFT_ISSUES`] separate issues failed for now is suppressed.
//! - A complaint (a reader's "this is spam") unsubscribes the address.
//!
//! Each decision is recorded with its evidence (the status, what the
//! server said, the report's date and Message-ID), in the same transaction
//! as the suppression it leads to, and each report once: reading the same
//! mailbox again changes nothing. A report is matched to its member by the
//! VERP code of the address it came back to ([`crate::unsubscribe::Verp`]),
//! else by the address it names, else (complaints often hide it) by the
//! unsubscription link of the message it quotes.

pub mod imap;
pub mod report;
pub mod source;

use std::collections::{HashMap, HashSet};

use crate::Result;
use crate::address::Key;
use crate::ledger::Ledger;
use crate::ledger::reports::Recorded;
use crate::subscribers::List;
use crate::unsubscribe::{MEMBER_LEN, Read, Signer, Verp};
use report::{Format, Kind, Reading};
use source::Raw;

/// Temporary failures in this many separate issues suppress an address.
pub const SOFT_ISSUES: usize = 3;

/// What was decided about one address of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Where the report is.
    pub place: String,
    /// The address, as the list has it (or as the report names it).
    pub address: String,
    /// The failure.
    pub kind: Kind,
    /// Its status.
    pub status: String,
    /// What was decided, in words.
    pub decision: String,
    /// Whether it was new (not read before).
    pub new: bool,
}

/// What reading a mailbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Messages read.
    pub read: usize,
    /// Delivery status notifications.
    pub dsn: usize,
    /// Complaints.
    pub arf: usize,
    /// Bounces written as plain text.
    pub plain: usize,
    /// Messages that are neither: left alone, where they are.
    pub not_bounces: Vec<String>,
    /// Reports that could not be read: where, and why.
    pub malformed: Vec<(String, String)>,
    /// Reports about nobody this list knows: where, and whom they name.
    pub unmatched: Vec<(String, String)>,
    /// Every decision, in the order read.
    pub decisions: Vec<Decision>,
    /// The messages (by their place in the input) that are reports whose
    /// every decision is recorded: those a mailbox can file away.
    pub handled: Vec<usize>,
}

impl Outcome {
    /// How many new decisions of each kind: suppressed for a permanent
    /// failure, counted or suppressed for temporary ones, unsubscribed for
    /// a complaint.
    pub fn count(&self, what: &str) -> usize {
        self.decisions
            .iter()
            .filter(|d| d.new && d.decision.starts_with(what))
            .count()
    }
}

/// The members the reports name, found in one reading of the list: by
/// VERP code, by address. Only those wanted are kept, so memory follows
/// the mailbox, not the list.
struct Members<'a> {
    list: &'a List,
    signer: Option<&'a Signer>,
    by_code: HashMap<[u8; MEMBER_LEN], Key>,
    by_address: HashSet<Key>,
    issues: Vec<String>,
}

impl<'a> Members<'a> {
    /// Reads the list once for the codes and addresses `reports` carry.
    fn find(
        list: &'a List,
        signer: Option<&'a Signer>,
        issues: Vec<String>,
        reports: &[(usize, Raw, Reading)],
    ) -> Result<Self> {
        let mut codes: HashSet<[u8; MEMBER_LEN]> = HashSet::new();
        let mut addresses: HashSet<Key> = HashSet::new();
        for (_, _, reading) in reports {
            let Reading::Report(report) = reading else {
                continue;
            };
            if let Some(signer) = signer
                && let Some(verp) = report.sent_to.iter().find_map(|a| signer.read_verp(a))
            {
                codes.insert(verp.member);
            }
            for finding in &report.findings {
                if let Some(address) = &finding.address {
                    addresses.insert(Key::from_text(address));
                }
            }
        }
        let mut members = Members {
            list,
            signer,
            by_code: HashMap::new(),
            by_address: HashSet::new(),
            issues,
        };
        if codes.is_empty() && addresses.is_empty() {
            return Ok(members);
        }
        for member in list.members() {
            let key = Key::of(&member?.email);
            if let Some(signer) = signer {
                let code = signer.member_code(&list.id, &key);
                if codes.contains(&code) {
                    members.by_code.insert(code, key.clone());
                }
            }
            if addresses.contains(&key) {
                members.by_address.insert(key);
            }
        }
        Ok(members)
    }

    fn verp(&self, sent_to: &[String]) -> Option<Verp> {
        let signer = self.signer?;
        sent_to.iter().find_map(|a| signer.read_verp(a))
    }

    fn issue_of(&self, verp: Option<Verp>, original: Option<&str>) -> Option<String> {
        if let (Some(verp), Some(signer)) = (verp, self.signer) {
            let found = self
                .issues
                .iter()
                .find(|i| signer.issue_code(&self.list.id, i) == verp.issue);
            if found.is_some() {
                return found.cloned();
            }
        }
        // breves' Message-IDs are `<ISSUE.HASH@domain>`.
        let local = original?.trim_matches(['<', '>']).split('@').next()?;
        let (issue, _) = local.rsplit_once('.')?;
        Some(issue.to_owned())
    }

    /// The member a link of the quoted message names.
    fn by_link(&self, links: &[String]) -> Result<Option<Key>> {
        let Some(signer) = self.signer else {
            return Ok(None);
        };
        for link in links {
            let token = link.rsplit('/').next().unwrap_or_default();
            if let Ok(Read::Short(short)) = signer.read(token)
                && let Some(token) = signer.resolve(&short, self.list)?
            {
                return Ok(Some(token.address));
            }
        }
        Ok(None)
    }
}

/// Reads `messages` and acts on them for `list`, recording in `ledger`.
/// Without `signer` (no secret), VERP codes and links cannot be checked:
/// reports are matched by the addresses they name.
pub fn process(
    list: &List,
    ledger: &Ledger,
    signer: Option<&Signer>,
    messages: impl IntoIterator<Item = Raw>,
) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let readings: Vec<(usize, Raw, Reading)> = messages
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let reading = report::read(&raw.bytes);
            (i, raw, reading)
        })
        .collect();
    let members = Members::find(list, signer, ledger.issues_sent(&list.id)?, &readings)?;
    for (index, raw, reading) in readings {
        outcome.read += 1;
        let report = match reading {
            Reading::Report(report) => report,
            Reading::NotABounce => {
                outcome.not_bounces.push(raw.place);
                continue;
            }
            Reading::Malformed(why) => {
                outcome.malformed.push((raw.place, why));
                continue;
            }
        };
        match report.format {
            Format::Dsn => outcome.dsn += 1,
            Format::Arf => outcome.arf += 1,
            Format::Plain => outcome.plain += 1,
        }
        let verp = members.verp(&report.sent_to);
        let issue = members.issue_of(verp, report.original_id.as_deref());
        let one_finding = report.findings.len() == 1;
        for finding in &report.findings {
            // The VERP code names the one recipient of the message; a
            // report about several names each.
            let mut key = match (verp, one_finding) {
                (Some(verp), true) => members.by_code.get(&verp.member).cloned(),
                _ => None,
            };
            if key.is_none()
                && let Some(address) = &finding.address
                && members.by_address.contains(&Key::from_text(address))
            {
                key = Some(Key::from_text(address));
            }
            if key.is_none() && finding.kind == Kind::Complaint {
                key = members.by_link(&report.original_links)?;
            }
            let Some(key) = key else {
                outcome.unmatched.push((
                    raw.place.clone(),
                    finding
                        .address
                        .clone()
                        .unwrap_or_else(|| "nobody it names".into()),
                ));
                continue;
            };
            let (decision, suppress) = match finding.kind {
                Kind::Permanent => (
                    "suppressed: permanent failure".to_owned(),
                    Some(format!("bounce {}: {}", finding.status, finding.diagnostic)),
                ),
                Kind::Complaint => (
                    "unsubscribed: complaint".to_owned(),
                    Some(format!(
                        "complaint ({}) {}",
                        finding.status,
                        report.date.as_deref().unwrap_or_default()
                    )),
                ),
                Kind::Temporary => match &issue {
                    Some(issue) => {
                        let issues = ledger.soft_bounced_issues(&list.id, &key, issue)? + 1;
                        if issues >= SOFT_ISSUES {
                            (
                                format!("suppressed: temporary failures in {issues} issues"),
                                Some(format!(
                                    "soft bounces in {issues} issues, the last {}",
                                    finding.status
                                )),
                            )
                        } else {
                            (
                                format!(
                                    "counted: temporary failure, {issues} of {SOFT_ISSUES} issues"
                                ),
                                None,
                            )
                        }
                    }
                    None => (
                        "counted: temporary failure of an unknown issue".to_owned(),
                        None,
                    ),
                },
            };
            let recorded = Recorded {
                report: report.id.clone(),
                address: key.clone(),
                kind: finding.kind.as_str().to_owned(),
                status: finding.status.clone(),
                diagnostic: finding.diagnostic.clone(),
                issue: issue.clone(),
                reported_at: report.date.clone(),
                decision: decision.clone(),
            };
            let new = ledger.record_report(&list.id, &recorded, suppress.as_deref())?;
            outcome.decisions.push(Decision {
                place: raw.place.clone(),
                address: key.as_str().to_owned(),
                kind: finding.kind,
                status: finding.status.clone(),
                decision: if new {
                    decision
                } else {
                    "already recorded".to_owned()
                },
                new,
            });
        }
        outcome.handled.push(index);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_of_a_bounce_is_its_codes_else_the_quoted_message_ids() {
        let list = List::preview();
        let signer = Signer::test();
        let members = Members {
            list: &list,
            signer: Some(&signer),
            by_code: HashMap::new(),
            by_address: HashSet::new(),
            issues: vec!["2026-03".into(), "2026-04".into(), "2026-05".into()],
        };
        let bounce: lettre::Address = "rebonds@example.fr".parse().expect("address");
        let member = signer.member_code(&list.id, &Key::from_text("a@example.org"));
        let sent_to = signer
            .verp_address(&bounce, &member, &list.id, "2026-04")
            .expect("an address")
            .to_string();
        let verp = members.verp(&[sent_to]);
        assert!(verp.is_some());
        assert_eq!(members.issue_of(verp, None).as_deref(), Some("2026-04"));
        // The code wins over a quoted Message-ID; without a code, the
        // Message-ID's issue; without either, none.
        let quoted = Some("<2026-03.0123abcd@example.fr>");
        assert_eq!(members.issue_of(verp, quoted).as_deref(), Some("2026-04"));
        assert_eq!(members.issue_of(None, quoted).as_deref(), Some("2026-03"));
        assert_eq!(members.issue_of(None, Some("<no-dot@example.fr>")), None);
        assert_eq!(members.issue_of(None, None), None);
    }
}
