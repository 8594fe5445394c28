//! Keeping the list clean: the bounces and complaints a bounce mailbox
//! holds, read ([`report`]), each failure given a [`reason::Reason`],
//! matched with the list's members, and acted on in the ledger.
//!
//! What is done follows whom the reason is about ([`reason::Side`]):
//!
//! - the address is gone (user or domain unknown, moved, a domain that
//!   takes no mail): the address is suppressed at once;
//! - a state of the mailbox or its server that may pass (full, suspended,
//!   expired, a system error, a reason that cannot be told): counted, and
//!   an address whose messages of [`SOFT_ISSUES`] separate issues failed
//!   so is suppressed;
//! - the sender, its servers, its message or its authentication (blocked,
//!   spam, policy, SPF/DKIM/DMARC, too big, …): recorded as a problem of
//!   the sender, shown by receiving domain, never held against the reader;
//! - a complaint (a reader's "this is spam"): the address is unsubscribed.
//!
//! **Proof.** Anyone can write to the bounce address. When the list has a
//! `bounce_address`, a report may act on a reader only if it came back to
//! that reader's own signed address (VERP), carries that reader's signed
//! unsubscription link, or quotes the Message-ID of a message the ledger
//! knows this list sent to that reader, and names no other member (a
//! breves message has one recipient). Anything else is recorded as
//! unproven and shown, never acted on. A list without a `bounce_address`
//! receives its bounces at its `From`, and reports are matched by the
//! addresses they name.
//!
//! **Guard.** A reading that would take more than [`GUARD_SHARE`] of the
//! list off it at once (and more than [`GUARD_FLOOR`] readers), or
//! [`GUARD_DOMAIN`] readers or more of one domain, stops before recording
//! anything and says why, unless told to go on.
//!
//! Each decision is recorded with its evidence (the reason, the status,
//! what the server said, the report's date and Message-ID), in the same
//! transaction as the suppression it leads to, and each report once:
//! reading the same mailbox again changes nothing.

pub mod imap;
pub mod report;
pub mod source;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::Result;
use crate::address::Key;
use crate::ledger::Ledger;
use crate::ledger::reports::Recorded;
use crate::reason::{Reason, Side};
use crate::subscribers::List;
use crate::unsubscribe::{MEMBER_LEN, Read, Signer, Verp};
use report::{Format, Reading, Report};
use source::Raw;

/// Temporary failures in this many separate issues suppress an address.
pub const SOFT_ISSUES: usize = 3;

/// The share of the list one reading may take off it without being told
/// to go on.
pub const GUARD_SHARE: f64 = 0.02;

/// Up to this many readers taken off, a reading goes on whatever the
/// share (a small list).
pub const GUARD_FLOOR: usize = 5;

/// This many readers of one domain taken off at once stop a reading.
pub const GUARD_DOMAIN: usize = 10;

/// What is done about one reader of one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Taken off the list: the address is gone, or failed for now in
    /// [`SOFT_ISSUES`] issues.
    Suppressed,
    /// Taken off the list: they complained.
    Unsubscribed,
    /// A temporary failure, counted.
    Counted,
    /// A refusal of the sender: nothing done about the reader.
    SenderProblem,
    /// A report that proves nothing about the reader: shown, not acted on.
    Unproven,
}

impl Action {
    /// Its name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Suppressed => "suppressed",
            Action::Unsubscribed => "unsubscribed",
            Action::Counted => "counted",
            Action::SenderProblem => "sender-problem",
            Action::Unproven => "unproven",
        }
    }

    /// Whether it takes the reader off the list.
    pub fn removes(self) -> bool {
        matches!(self, Action::Suppressed | Action::Unsubscribed)
    }
}

/// What was decided about one address of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Where the report is.
    pub place: String,
    /// The address, as the list has it.
    pub address: String,
    /// Why it failed.
    pub reason: Reason,
    /// Its status.
    pub status: String,
    /// What the server said, on one line.
    pub diagnostic: String,
    /// What is done.
    pub action: Action,
    /// What was decided, in words.
    pub decision: String,
    /// Whether it was new (not read before).
    pub new: bool,
}

/// Why a reading stopped before recording anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// How many readers it would have taken off the list.
    pub removed: usize,
    /// How many members the list has.
    pub members: usize,
    /// The domains with the most readers taken off, most first.
    pub domains: Vec<(String, usize)>,
    /// Why, in words.
    pub why: String,
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
    /// Set when the guard stopped the reading: nothing was recorded.
    pub stopped: Option<Stopped>,
}

impl Outcome {
    /// How many new decisions took `action`.
    pub fn count(&self, action: Action) -> usize {
        self.decisions
            .iter()
            .filter(|d| d.new && d.action == action)
            .count()
    }

    /// The refusals of the sender, by receiving domain and reason, most
    /// readers first: what the editor should look into.
    pub fn sender_problems(&self) -> Vec<(String, Reason, usize)> {
        let mut by: BTreeMap<(String, Reason), HashSet<&str>> = BTreeMap::new();
        for d in self
            .decisions
            .iter()
            .filter(|d| d.action == Action::SenderProblem)
        {
            let domain = d.address.rsplit('@').next().unwrap_or_default().to_owned();
            by.entry((domain, d.reason))
                .or_default()
                .insert(d.address.as_str());
        }
        let mut out: Vec<_> = by
            .into_iter()
            .map(|((domain, reason), readers)| (domain, reason, readers.len()))
            .collect();
        out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

/// How a report was tied to a member, and so what it proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// The signed code of the address it came back to.
    Verp,
    /// The signed unsubscription link of the message it quotes.
    Link,
    /// The Message-ID of a message the ledger knows was sent to them.
    MessageId,
    /// Only the address it names.
    Address,
}

/// A member a finding is tied to, and how.
type Tied = (Key, Proof);

/// The members the reports name (of the list file, or readers who joined
/// by themselves), found in one reading of the list: by
/// VERP code, by address. Only those wanted are kept, so memory follows
/// the mailbox, not the list.
struct Members<'a> {
    list: &'a List,
    signer: Option<&'a Signer>,
    by_code: HashMap<[u8; MEMBER_LEN], Key>,
    by_address: HashSet<Key>,
    issues: Vec<String>,
    /// How many members the list has, in all and by domain.
    count: usize,
    by_domain: HashMap<String, usize>,
}

impl<'a> Members<'a> {
    /// Reads the list once for the codes and addresses `reports` carry.
    fn find(
        list: &'a List,
        joined: &[(Key, Option<String>)],
        signer: Option<&'a Signer>,
        issues: Vec<String>,
        reports: &[(usize, String, Reading)],
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
            count: 0,
            by_domain: HashMap::new(),
        };
        for member in crate::select::with_joined(list, joined) {
            let key = Key::of(&member?.email);
            members.count += 1;
            let domain = key.as_str().rsplit('@').next().unwrap_or_default();
            if let Some(n) = members.by_domain.get_mut(domain) {
                *n += 1;
            } else {
                members.by_domain.insert(domain.to_owned(), 1);
            }
            if let Some(signer) = signer
                && !codes.is_empty()
            {
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

    /// The issue a report is about: its VERP code's, else that of a
    /// quoted Message-ID of breves' own form (`<ISSUE.HEX32@the list's
    /// domain>`).
    fn issue_of(&self, verp: Option<Verp>, quoted: &[String]) -> Option<String> {
        if let (Some(verp), Some(signer)) = (verp, self.signer) {
            let found = self
                .issues
                .iter()
                .find(|i| signer.issue_code(&self.list.id, i) == verp.issue);
            if found.is_some() {
                return found.cloned();
            }
        }
        quoted.iter().find_map(|id| self.issue_of_message_id(id))
    }

    /// The issue of one of breves' Message-IDs, if it is one.
    fn issue_of_message_id(&self, id: &str) -> Option<String> {
        let (local, domain) = id.trim().trim_matches(['<', '>']).rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(self.list.from.email.domain()) {
            return None;
        }
        let (issue, hash) = local.rsplit_once('.')?;
        let ours = !issue.is_empty()
            && hash.len() == 32
            && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ours.then(|| issue.to_owned())
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

    /// Whether `report` quotes the Message-ID of a message the ledger
    /// knows this list sent to `key`.
    fn quotes_a_message_to(&self, ledger: &Ledger, report: &Report, key: &Key) -> Result<bool> {
        for id in &report.original_ids {
            let Some(issue) = self.issue_of_message_id(id) else {
                continue;
            };
            let expected = crate::message::message_id_of(self.list, &issue, key);
            if expected.eq_ignore_ascii_case(id.trim())
                && ledger.was_sent(&self.list.id, &issue, key)?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The members `report` names, each with what ties it.
    fn named(&self, report: &Report) -> Result<Vec<(usize, Option<Tied>)>> {
        let verp = self.verp(&report.sent_to);
        let verp_key = verp.and_then(|v| self.by_code.get(&v.member).cloned());
        let mut out = Vec::new();
        for (i, finding) in report.findings.iter().enumerate() {
            let by_address = finding
                .address
                .as_deref()
                .map(Key::from_text)
                .filter(|k| self.by_address.contains(k));
            let tied = match (&verp_key, by_address) {
                // The code names the one recipient of the message: a
                // finding naming another member is about someone else.
                (Some(code), Some(named)) if *code != named => Some((named, Proof::Address)),
                (Some(code), _) => Some((code.clone(), Proof::Verp)),
                (None, Some(named)) => Some((named, Proof::Address)),
                (None, None) if finding.reason == Reason::Complaint => self
                    .by_link(&report.original_links)?
                    .map(|k| (k, Proof::Link)),
                (None, None) => None,
            };
            out.push((i, tied));
        }
        Ok(out)
    }
}

/// What a reading is told.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Go on past the guard.
    pub yes: bool,
}

/// One decision made, still to record.
struct Planned {
    recorded: Recorded,
    suppress: Option<String>,
    decision: Decision,
}

/// Reads `messages` one at a time and acts on them for `list`, recording
/// in `ledger`. Without `signer` (no secret), VERP codes and links cannot
/// be checked: a list with a `bounce_address` then has every report
/// recorded as unproven.
pub fn process(
    list: &List,
    ledger: &Ledger,
    signer: Option<&Signer>,
    messages: impl IntoIterator<Item = Result<Raw>>,
    options: Options,
) -> Result<Outcome> {
    // Each message is read, and its bytes dropped, before the next.
    let readings = messages
        .into_iter()
        .map(|raw| raw.map(reading))
        .collect::<Result<Vec<_>>>()?;
    decide(list, ledger, signer, readings, options)
}

/// One message read: where it is, and what it is. Only the reading is
/// kept, never the message's bytes.
pub fn reading(raw: Raw) -> (String, Reading) {
    let reading = if raw.too_large {
        Reading::Malformed(format!(
            "larger than {} MB, left alone",
            source::MAX_MESSAGE / (1024 * 1024)
        ))
    } else {
        report::read(&raw.bytes)
    };
    (raw.place, reading)
}

/// What a finding tied to a member calls for: the action, the decision
/// as it is said, and the reason kept with the address when it is taken
/// off the list.
struct Verdict {
    action: Action,
    decision: String,
    suppress: Option<String>,
}

/// The verdict on `finding` of `report`: nothing done unless it is
/// trusted (`trust`, or why not); then by whose side the reason is on, a
/// mailbox's temporary failures counted by issue (`soft_issues` adds the
/// issue and says how many there are).
fn verdict(
    finding: &report::Finding,
    report: &Report,
    trust: std::result::Result<(), &str>,
    issue: Option<&String>,
    soft_issues: impl FnOnce(&String) -> Result<usize>,
) -> Result<Verdict> {
    let reason = finding.reason;
    let verdict = |action, decision, suppress| Verdict {
        action,
        decision,
        suppress,
    };
    if let Err(why) = trust {
        return Ok(verdict(
            Action::Unproven,
            format!("unproven ({}): not acted on, {why}", reason.as_str()),
            None,
        ));
    }
    Ok(match reason.side() {
        Side::Address => verdict(
            Action::Suppressed,
            format!("suppressed: {}", reason.as_str()),
            Some(format!(
                "bounce {} ({}): {}",
                finding.status,
                reason.as_str(),
                finding.diagnostic
            )),
        ),
        Side::Reader => verdict(
            Action::Unsubscribed,
            "unsubscribed: complaint".to_owned(),
            Some(format!(
                "complaint ({}) {}",
                finding.status,
                report.date.as_deref().unwrap_or_default()
            )),
        ),
        Side::Sender => verdict(
            Action::SenderProblem,
            format!(
                "kept: a refusal of the sender ({}), not of the reader",
                reason.as_str()
            ),
            None,
        ),
        Side::Mailbox => match issue {
            None => verdict(
                Action::Counted,
                format!("counted: {}, of an unknown issue", reason.as_str()),
                None,
            ),
            Some(issue) => match soft_issues(issue)? {
                issues if issues >= SOFT_ISSUES => verdict(
                    Action::Suppressed,
                    format!(
                        "suppressed: temporary failures in {issues} issues ({})",
                        reason.as_str()
                    ),
                    Some(format!(
                        "soft bounces in {issues} issues, the last {} ({})",
                        finding.status,
                        reason.as_str()
                    )),
                ),
                issues => verdict(
                    Action::Counted,
                    format!(
                        "counted: {}, {issues} of {SOFT_ISSUES} issues",
                        reason.as_str()
                    ),
                    None,
                ),
            },
        },
    })
}

/// Decides and records, for `list`, what the messages read (in order)
/// ask; the guard and the proof as [`process`] says.
pub fn decide(
    list: &List,
    ledger: &Ledger,
    signer: Option<&Signer>,
    readings: Vec<(String, Reading)>,
    options: Options,
) -> Result<Outcome> {
    let readings: Vec<(usize, String, Reading)> = readings
        .into_iter()
        .enumerate()
        .map(|(i, (place, reading))| (i, place, reading))
        .collect();
    let joined = ledger.joined(&list.id)?;
    let members = Members::find(
        list,
        &joined,
        signer,
        ledger.issues_sent(&list.id)?,
        &readings,
    )?;
    let mut deciding = Deciding {
        list,
        ledger,
        members: &members,
        needs_proof: list.bounce_address.is_some(),
        outcome: Outcome::default(),
        planned: Vec::new(),
        soft: HashMap::new(),
    };
    let mut handled = Vec::new();
    for (index, place, reading) in readings {
        if deciding.reading(&place, reading)? {
            handled.push(index);
        }
    }
    let Deciding {
        mut outcome,
        planned,
        ..
    } = deciding;
    if let Some(stopped) = guard(&members, &planned)
        && !options.yes
    {
        outcome.decisions = planned.into_iter().map(|p| p.decision).collect();
        outcome.stopped = Some(stopped);
        return Ok(outcome);
    }
    for p in planned {
        let new = ledger.record_report(&list.id, &p.recorded, p.suppress.as_deref())?;
        let mut decision = p.decision;
        if !new {
            decision.new = false;
            decision.decision = "already recorded".to_owned();
        }
        outcome.decisions.push(decision);
    }
    outcome.handled = handled;
    Ok(outcome)
}

/// What [`decide`] gathers as it goes through the messages read.
struct Deciding<'a> {
    list: &'a List,
    ledger: &'a Ledger,
    members: &'a Members<'a>,
    /// Whether a report must prove it is about a message of the list
    /// (the list has a bounce address whose codes are signed).
    needs_proof: bool,
    outcome: Outcome,
    planned: Vec<Planned>,
    /// Temporary failures counted in this reading, by address: the issues.
    soft: HashMap<Key, HashSet<String>>,
}

impl Deciding<'_> {
    /// Plans what one message read asks: whether it was a report to act
    /// on (then handled).
    fn reading(&mut self, place: &str, reading: Reading) -> Result<bool> {
        let outcome = &mut self.outcome;
        outcome.read += 1;
        let report = match reading {
            Reading::Report(report) => report,
            Reading::NotABounce => {
                outcome.not_bounces.push(place.to_owned());
                return Ok(false);
            }
            Reading::Malformed(why) => {
                outcome.malformed.push((place.to_owned(), why));
                return Ok(false);
            }
        };
        match report.format {
            Format::Dsn => outcome.dsn += 1,
            Format::Arf => outcome.arf += 1,
            Format::Plain => outcome.plain += 1,
        }
        let verp = self.members.verp(&report.sent_to);
        let issue = self.members.issue_of(verp, &report.original_ids);
        let named = self.members.named(&report)?;
        let distinct: HashSet<&Key> = named
            .iter()
            .filter_map(|(_, t)| t.as_ref().map(|(k, _)| k))
            .collect();
        let several = distinct.len() > 1;
        for (i, tied) in named {
            let finding = &report.findings[i];
            let Some((key, proof)) = tied else {
                self.outcome.unmatched.push((
                    place.to_owned(),
                    finding
                        .address
                        .clone()
                        .unwrap_or_else(|| "nobody it names".into()),
                ));
                continue;
            };
            let about = About {
                report: &report,
                finding,
                place,
                issue: issue.as_ref(),
                several,
            };
            let planned = self.finding(&about, key, proof)?;
            self.planned.push(planned);
        }
        Ok(true)
    }

    /// Plans what a finding tied to member `key` (by `proof`) calls for.
    fn finding(&mut self, about: &About<'_>, key: Key, mut proof: Proof) -> Result<Planned> {
        let (report, finding) = (about.report, about.finding);
        if proof == Proof::Address
            && self.needs_proof
            && !about.several
            && self
                .members
                .quotes_a_message_to(self.ledger, report, &key)?
        {
            proof = Proof::MessageId;
        }
        let trust = match proof != Proof::Address || !self.needs_proof {
            true => Ok(()),
            false if about.several => {
                Err("it names several members, and a message of the list has one recipient")
            }
            false if self.members.signer.is_none() => {
                Err("the secret is not set, so its codes cannot be checked")
            }
            false => Err(
                "it did not come back to the reader's signed address nor quote a message sent to them",
            ),
        };
        let reason = finding.reason;
        // The issues with a temporary failure of this address: those
        // already recorded, those read before in this reading, and this
        // one.
        let (ledger, list, soft) = (self.ledger, self.list, &mut self.soft);
        let soft_issues = |issue: &String| -> Result<usize> {
            let here = soft.entry(key.clone()).or_default();
            here.insert(issue.clone());
            here.extend(ledger.soft_bounced_issues(&list.id, &key)?);
            Ok(here.len())
        };
        let Verdict {
            action,
            decision,
            suppress,
        } = verdict(finding, report, trust, about.issue, soft_issues)?;
        let kind = match action {
            Action::Unproven => "unproven",
            Action::SenderProblem => "sender",
            Action::Unsubscribed => "complaint",
            Action::Counted => "temporary",
            Action::Suppressed if reason.side() == Side::Address => "permanent",
            Action::Suppressed => "temporary",
        };
        let new = !ledger.report_known(&list.id, &report.id, &key)?;
        Ok(Planned {
            recorded: Recorded {
                report: report.id.clone(),
                address: key.clone(),
                kind: kind.to_owned(),
                reason: Some(reason.as_str().to_owned()),
                status: finding.status.clone(),
                diagnostic: finding.diagnostic.clone(),
                issue: about.issue.cloned(),
                reported_at: report.date.clone(),
                decision: decision.clone(),
            },
            suppress,
            decision: Decision {
                place: about.place.to_owned(),
                address: key.as_str().to_owned(),
                reason,
                status: finding.status.clone(),
                diagnostic: finding.diagnostic.clone(),
                action,
                decision,
                new,
            },
        })
    }
}

/// One finding of a report, and what is known around it.
struct About<'a> {
    report: &'a Report,
    finding: &'a report::Finding,
    /// Where the message is.
    place: &'a str,
    /// The issue it is about, when known.
    issue: Option<&'a String>,
    /// Whether the report names several members.
    several: bool,
}

/// Whether the decisions would take too many readers off the list at
/// once: why, when they would.
fn guard(members: &Members<'_>, planned: &[Planned]) -> Option<Stopped> {
    let removed: HashSet<&str> = planned
        .iter()
        .filter(|p| p.decision.new && p.decision.action.removes())
        .map(|p| p.decision.address.as_str())
        .collect();
    let mut domains: HashMap<&str, usize> = HashMap::new();
    for address in &removed {
        *domains
            .entry(address.rsplit('@').next().unwrap_or_default())
            .or_default() += 1;
    }
    let mut domains: Vec<(String, usize)> = domains
        .into_iter()
        .map(|(d, n)| (d.to_owned(), n))
        .collect();
    domains.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let share = removed.len() as f64 / members.count.max(1) as f64;
    let why = if removed.len() > GUARD_FLOOR && share > GUARD_SHARE {
        format!(
            "it would take {} of the list's {} members off it at once ({:.1} %, more than {:.0} %)",
            removed.len(),
            members.count,
            share * 100.0,
            GUARD_SHARE * 100.0
        )
    } else if let Some((domain, n)) = domains.first().filter(|(_, n)| *n >= GUARD_DOMAIN) {
        let at = members.by_domain.get(domain).copied().unwrap_or(*n);
        format!("it would take {n} of the list's {at} members at {domain} off it at once")
    } else {
        return None;
    };
    domains.truncate(5);
    Some(Stopped {
        removed: removed.len(),
        members: members.count,
        domains,
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_of_a_bounce_is_its_codes_else_breves_own_message_ids() {
        let list = List::preview();
        let signer = Signer::test();
        let members = Members {
            list: &list,
            signer: Some(&signer),
            by_code: HashMap::new(),
            by_address: HashSet::new(),
            issues: vec!["2026-03".into(), "2026-04".into(), "2026-05".into()],
            count: 0,
            by_domain: HashMap::new(),
        };
        let bounce: lettre::Address = "rebonds@example.fr".parse().expect("address");
        let member = signer.member_code(&list.id, &Key::from_text("a@example.org"));
        let sent_to = signer
            .verp_address(&bounce, &member, &list.id, "2026-04")
            .expect("an address")
            .to_string();
        let verp = members.verp(&[sent_to]);
        assert!(verp.is_some());
        assert_eq!(members.issue_of(verp, &[]).as_deref(), Some("2026-04"));
        // The code wins over a quoted Message-ID; without a code, the
        // Message-ID's issue, only in breves' own form on the list's
        // domain and for an issue sent to the list.
        let domain = list.from.email.domain().to_owned();
        let ours = format!("<2026-03.0123456789abcdef0123456789abcdef@{domain}>");
        assert_eq!(
            members
                .issue_of(verp, std::slice::from_ref(&ours))
                .as_deref(),
            Some("2026-04")
        );
        assert_eq!(
            members
                .issue_of(None, std::slice::from_ref(&ours))
                .as_deref(),
            Some("2026-03")
        );
        for foreign in [
            format!("<2026-03.0123abcd@{domain}>"),
            "<2026-03.0123456789abcdef0123456789abcdef@elsewhere.example>".to_owned(),
            format!("<X-Mailman-2.1.5.0123456789ABCDEF0123456789ABCDEF@{domain}>"),
            "<20260407.ABC123.mail@mx.example.org>".to_owned(),
            format!("<no-dot@{domain}>"),
        ] {
            assert_eq!(
                members.issue_of(None, std::slice::from_ref(&foreign)),
                None,
                "{foreign}"
            );
        }
        assert_eq!(members.issue_of(None, &[]), None);
    }
}
