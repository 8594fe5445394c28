//! A send, planned before anything leaves: who is served, who is left out
//! and why, what an earlier run already did, then the run itself.
//!
//! The order is what keeps a resend safe, and it is kept here, in one place:
//!
//! 1. **Take the lock** of this send ([`Ledger::lock`]): no second process
//!    sends the same issue to the same list meanwhile.
//! 2. **Freeze the audience** as the list writes it: every member who
//!    receives something, with their sections ([`Planned`]), staged in the
//!    ledger as the list is read ([`Ledger::stage`]). What subscribers
//!    asked for since (to leave, to stop sections) is *not* a change of
//!    the list.
//! 3. **Apply their preferences** ([`crate::select::Preferences::apply`]),
//!    in the same reading: the unsubscribed are left out, stopped sections
//!    taken off; each staged member is marked served or not.
//! 4. **Peek** at the ledger ([`Ledger::peek_staged`]), recording nothing:
//!    already sent, refused for good, of uncertain outcome, or changed
//!    since the send started (refused unless the changes are accepted).
//! 5. **Trim**: audience members who unsubscribed are never mailed; with
//!    `skip_uncertain` the uncertain are left alone; `limit` keeps the
//!    first recipients not yet served.
//!
//! [`Plan::prepare`] does all of that and records nothing, so that the
//! caller can show the plan and ask for confirmation. [`Plan::run`] then
//! **begins** (records the audience, marks the unsubscribed) and
//! **dispatches** through a transport, marking each message *sending*
//! before it leaves; its recipients are the list read again, matched with
//! the ledger's rows still to send ([`Plan::recipients`]), so that nothing
//! of a list of a million is held in memory. A dry run is the same plan
//! with no ledger, against the `.eml` files of [`Outbox`] ([`Plan::write`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::address::{Key, parse_address};
use crate::campaign::{Campaign, Recipient};
use crate::deliver::Transport;
use crate::deliver::files::{Outbox, Written};
use crate::diagnostics::Problems;
use crate::dispatch::{self, Journal, Options, Progress, Recipients, Report};
use crate::issue::Issue;
use crate::ledger::{Ledger, Planned, Resume, Scope, SendLock, Start};
use crate::message::Dkim;
use crate::select::{Audience, Preferences, Selection};
use crate::subscribers::{List, Member};
use crate::unsubscribe::Signer;
use crate::{Error, Result};

/// What was asked of a send, beyond the issue and the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Send only to these addresses (a test send, kept apart in the
    /// ledger); list members among them keep their name and sections,
    /// others get every section.
    pub only: Vec<String>,
    /// Send to the first `limit` recipients not yet served (a canary).
    pub limit: Option<usize>,
    /// Leave alone the recipients whose earlier delivery is of unknown
    /// outcome.
    pub skip_uncertain: bool,
    /// Go on although the issue or the list changed since the send started.
    pub accept_changes: bool,
    /// Send again to the recipients refused for good by an earlier run.
    pub retry_failed: bool,
}

impl Request {
    fn resume(&self) -> Resume {
        Resume {
            accept_changes: self.accept_changes,
            retry_failed: self.retry_failed,
        }
    }
}

/// A send, worked out and ready to run.
pub struct Plan<'a> {
    campaign: Campaign<'a>,
    whom: Whom,
    /// What subscribers asked for (nothing, for a dry run).
    preferences: Preferences,
    ledger: Option<Arc<Ledger>>,
    scope: Option<Scope>,
    resume: Resume,
    skip_uncertain: bool,
    test: bool,
    /// Whether this run joins a send started elsewhere (`send --join`).
    joining: bool,
    /// Where the ledger says the send stands (nothing, for a dry run).
    pub start: Start,
    /// How many recipients this run hands a message to
    /// ([`Plan::to_send_keys`] lists them).
    pub to_send: usize,
    /// Members of the frozen audience who unsubscribed (or stopped every
    /// section) since: recorded as such, never mailed.
    pub suppressed: Vec<Key>,
    /// How many members the preferences left out in all.
    pub left_out: usize,
    /// Of the recipients served, how many joined by themselves (the
    /// others are the list file's).
    pub joined: usize,
    /// Of the uncertain recipients, how many this run sends to again.
    pub uncertain_resent: usize,
    /// Of the uncertain recipients, how many are left alone.
    pub uncertain_left_alone: usize,
    /// Recipients not yet served that `limit` holds back for a later run.
    pub held_back: usize,
    /// Warnings about the rendered digests (an HTML part Gmail would clip).
    pub warnings: Problems,
    _lock: Option<SendLock>,
}

impl std::fmt::Debug for Plan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("scope", &self.scope)
            .field("start", &self.start)
            .field("to_send", &self.to_send)
            .field("suppressed", &self.suppressed)
            .field("left_out", &self.left_out)
            .finish_non_exhaustive()
    }
}

/// Whom a send is for: the whole list (read again each time it is
/// needed), or a few addresses (a test send).
#[derive(Debug, Clone)]
enum Whom {
    List,
    Only(Vec<Member>),
}

impl Whom {
    /// The `only` addresses, each once (list members keep their name and
    /// sections; others get every section); the list, when there are none.
    fn of(list: &List, only: &[String]) -> Result<Whom> {
        if only.is_empty() {
            return Ok(Whom::List);
        }
        let mut keys: Vec<(Key, lettre::Address)> = Vec::new();
        for text in only {
            let address = parse_address(text).map_err(|reason| Error::InvalidAddress {
                text: text.clone(),
                reason,
            })?;
            let key = Key::of(&address);
            if !keys.iter().any(|(k, _)| *k == key) {
                keys.push((key, address));
            }
        }
        let wanted: Vec<Key> = keys.iter().map(|(k, _)| k.clone()).collect();
        let mut found = list.find(&wanted)?;
        Ok(Whom::Only(
            keys.into_iter()
                .map(|(key, address)| {
                    found
                        .remove(&key)
                        .unwrap_or_else(|| Member::outsider(address))
                })
                .collect(),
        ))
    }

    /// Whether `member`, of this audience, joined by themselves (is not
    /// the list file's).
    fn joined(&self, member: &Member) -> bool {
        matches!(self, Whom::List) && member.origin.is_none()
    }

    /// The members, in order, read as they are asked for: for the list,
    /// the list file's, then the readers who `joined` by themselves and
    /// are not in it.
    fn members<'l>(
        &'l self,
        list: &'l List,
        joined: &'l [(Key, Option<String>)],
    ) -> Box<dyn Iterator<Item = Result<Member>> + Send + 'l> {
        match self {
            Whom::List => crate::select::with_joined(list, joined),
            Whom::Only(members) => Box::new(members.iter().cloned().map(Ok)),
        }
    }
}

/// One member as the frozen audience holds them, if they receive
/// something from `issue` as the list writes them: their sections, and
/// whether this send serves them (`served`, from what the preferences
/// leave of them).
fn planned(issue: &Issue, member: &Member, served: bool) -> Option<Planned> {
    let selection = Selection::for_interests(issue, &member.interests);
    (!selection.is_empty()).then(|| Planned {
        recipient: Key::of(&member.email),
        sections: selection.ids(issue).join(","),
        served,
    })
}

/// The audience as the list writes it: every member who receives something
/// from `issue`, with their sections, in list order, in memory (a send
/// stages it in the ledger as it reads the list instead).
pub fn freeze(
    issue: &Issue,
    members: impl IntoIterator<Item = Result<Member>>,
) -> Result<Vec<Planned>> {
    let mut frozen = Vec::new();
    for m in members {
        frozen.extend(planned(issue, &m?, true));
    }
    Ok(frozen)
}

/// The recipients the ledger still has to send, found in the list: both
/// are in list order, so each is read once (the ledger a page at a time).
struct Wanted<M, W, F> {
    members: M,
    wanted: W,
    /// The members again from the start, for a recipient before the last
    /// one (claimed back from a sender that stopped, in PostgreSQL).
    again: F,
}

impl<M, W, F> Iterator for Wanted<M, W, F>
where
    M: Iterator<Item = Result<Recipient>>,
    W: Iterator<Item = std::result::Result<Key, crate::ledger::LedgerError>>,
    F: Fn() -> M,
{
    type Item = Result<Recipient>;

    fn next(&mut self) -> Option<Result<Recipient>> {
        let want = match self.wanted.next()? {
            Ok(key) => key,
            Err(e) => return Some(Err(e.into())),
        };
        let mut restarted = false;
        loop {
            match self.members.next() {
                Some(Ok(r)) if r.key == want => return Some(Ok(r)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Some(Err(e)),
                // Read again once only: a recipient not found in a whole
                // reading is not in the list. (No send reaches this with
                // such a recipient: a list changed since the plan is refused
                // by its fingerprint, or taken with `--accept-changes`, which
                // marks the recipients no longer in it `removed`, never to
                // send. `tests::a_recipient_before_the_last_is_found_by_reading_the_list_once_more_and_one_not_in_it_is_an_error`
                // reads it.)
                None if !restarted => {
                    restarted = true;
                    self.members = (self.again)();
                }
                None => {
                    return Some(Err(Error::NotInList {
                        recipient: want.as_str().to_owned(),
                    }));
                }
            }
        }
    }
}

impl<'a> Plan<'a> {
    /// Plans a real send, recording nothing: takes the send's lock, then
    /// works out who is served (see the module's documentation for the
    /// order). A send whose issue or list changed since it started is
    /// refused as [`crate::ledger::LedgerError::Changed`] unless
    /// `request.accept_changes`.
    pub fn prepare(
        issue: &'a Issue,
        list: &'a List,
        ledger: Arc<Ledger>,
        request: &Request,
        signer: Signer,
        dkim: Option<Dkim>,
    ) -> Result<Plan<'a>> {
        let test = !request.only.is_empty();
        let scope = if test {
            Scope::test(&issue.id, &list.id)
        } else {
            Scope::list(&issue.id, &list.id)
        };
        let lock = ledger.lock(&scope)?;
        let whom = Whom::of(list, &request.only)?;
        let preferences = ledger.preferences(&list.id)?;
        // One reading of the list: the audience as it writes it, staged in
        // the ledger, and as the preferences leave it, counted.
        let mut audience = Audience::default();
        let mut left_out = 0;
        let mut joined = 0;
        let mut failure = None;
        let staged = {
            let frozen = whom
                .members(list, &preferences.joined)
                .map_while(|m| m.map_err(|e| failure = Some(e)).ok())
                .filter_map(|member| {
                    // A reader forgotten at their request is not even
                    // staged: their address goes into the ledger no more.
                    if preferences.is_forgotten(&crate::address::Key::of(&member.email)) {
                        left_out += 1;
                        return None;
                    }
                    let as_written = planned(issue, &member, false);
                    let from_form = whom.joined(&member);
                    let kept = preferences.apply(list, member);
                    left_out += usize::from(kept.is_none());
                    let served = kept.and_then(|m| audience.add(issue, m)).is_some();
                    joined += usize::from(served && from_form);
                    as_written.map(|p| Planned { served, ..p })
                });
            ledger.stage(&scope, frozen)
        };
        if let Some(e) = failure {
            return Err(e);
        }
        staged?;
        let mut campaign = Campaign::new(issue, list, audience)?.with_signer(signer);
        if let Some(dkim) = dkim {
            campaign = campaign.with_dkim(dkim);
        }
        let resume = request.resume();
        let start = ledger.peek_staged(&scope, &issue.fingerprint, resume)?;
        let skip_uncertain = request.skip_uncertain;
        let uncertain_left_alone = if skip_uncertain { start.uncertain } else { 0 };
        let available = start.to_send - uncertain_left_alone;
        let to_send = request
            .limit
            .map_or(available, |limit| limit.min(available));
        let uncertain_resent = match request.limit {
            _ if skip_uncertain => 0,
            None => start.uncertain,
            // Those of the first `limit` whose outcome is unknown.
            Some(_) => ledger
                .to_send(&scope, resume, false)
                .take(to_send)
                .filter(|r| r.as_ref().is_ok_and(|r| r.uncertain))
                .count(),
        };
        Ok(Plan {
            warnings: campaign.check_sizes(),
            campaign,
            whom,
            preferences,
            ledger: Some(ledger),
            scope: Some(scope),
            resume,
            skip_uncertain,
            test,
            joining: false,
            suppressed: start.suppressed.clone(),
            start,
            to_send,
            left_out,
            joined,
            uncertain_resent,
            uncertain_left_alone,
            held_back: available - to_send,
            _lock: Some(lock),
        })
    }

    /// Plans a run that joins the send of `issue` to `list` another
    /// machine started, its ledger in PostgreSQL (`send --join`): no lock,
    /// nothing staged or compared; the recipients are claimed from the
    /// frozen audience as they are taken, so that no two senders take the
    /// same ([`crate::ledger::Ledger::to_send_joining`]).
    pub fn join(
        issue: &'a Issue,
        list: &'a List,
        ledger: Arc<Ledger>,
        signer: Signer,
        dkim: Option<Dkim>,
    ) -> Result<Plan<'a>> {
        let scope = Scope::list(&issue.id, &list.id);
        if !ledger.is_shared() {
            return Err(Error::JoinNeedsDatabase);
        }
        match ledger.started(&scope)? {
            None => {
                return Err(Error::NothingToJoin {
                    issue: issue.id.clone(),
                    list: list.id.clone(),
                });
            }
            Some(recorded) if recorded != issue.fingerprint => {
                return Err(Error::JoinChanged {
                    issue: issue.id.clone(),
                });
            }
            Some(_) => {}
        }
        let preferences = ledger.preferences(&list.id)?;
        let whom = Whom::List;
        let mut left_out = 0;
        let members = whom
            .members(list, &preferences.joined)
            .filter_map(|m| match m {
                Ok(member) => {
                    let kept = preferences.apply(list, member);
                    left_out += usize::from(kept.is_none());
                    kept.map(Ok)
                }
                Err(e) => Some(Err(e)),
            });
        let audience = Audience::of_members(issue, members)?;
        let mut campaign = Campaign::new(issue, list, audience)?.with_signer(signer);
        if let Some(dkim) = dkim {
            campaign = campaign.with_dkim(dkim);
        }
        let to_send = ledger.still_to_send(&scope)?;
        Ok(Plan {
            warnings: campaign.check_sizes(),
            campaign,
            whom,
            preferences,
            ledger: Some(ledger),
            scope: Some(scope),
            resume: Resume::default(),
            skip_uncertain: true,
            test: false,
            joining: true,
            start: Start {
                resumed: true,
                to_send,
                ..Start::default()
            },
            to_send,
            suppressed: Vec::new(),
            left_out,
            joined: 0,
            uncertain_resent: 0,
            uncertain_left_alone: 0,
            held_back: 0,
            _lock: None,
        })
    }

    /// Plans a dry run: every member who receives something, no ledger,
    /// no preferences (nothing is sent).
    pub fn dry_run(
        issue: &'a Issue,
        list: &'a List,
        only: &[String],
        dkim: Option<Dkim>,
    ) -> Result<Plan<'a>> {
        Plan::dry_run_with(issue, list, only, dkim, Preferences::default())
    }

    /// The same, leaving out (and counting) those who left the list or
    /// stopped every section they receive, as a send would: what the
    /// ledger says of the list, read and never written.
    pub fn dry_run_with(
        issue: &'a Issue,
        list: &'a List,
        only: &[String],
        dkim: Option<Dkim>,
        preferences: Preferences,
    ) -> Result<Plan<'a>> {
        let whom = Whom::of(list, only)?;
        let mut left_out = 0;
        let mut joined = 0;
        let members = whom
            .members(list, &preferences.joined)
            .filter_map(|m| match m {
                Ok(member) => {
                    let from_form = whom.joined(&member);
                    let kept = preferences.apply(list, member);
                    left_out += usize::from(kept.is_none());
                    // Counted as the audience counts recipients: those who
                    // receive something.
                    joined += usize::from(
                        from_form
                            && kept.as_ref().is_some_and(|m| {
                                !Selection::for_interests(issue, &m.interests).is_empty()
                            }),
                    );
                    kept.map(Ok)
                }
                Err(e) => Some(Err(e)),
            });
        let audience = Audience::of_members(issue, members)?;
        let to_send = audience.recipients;
        let mut campaign = Campaign::new(issue, list, audience)?;
        if let Some(dkim) = dkim {
            campaign = campaign.with_dkim(dkim);
        }
        Ok(Plan {
            warnings: campaign.check_sizes(),
            to_send,
            campaign,
            whom,
            preferences,
            ledger: None,
            scope: None,
            resume: Resume::default(),
            skip_uncertain: false,
            test: !only.is_empty(),
            joining: false,
            start: Start::default(),
            suppressed: Vec::new(),
            left_out,
            joined,
            uncertain_resent: 0,
            uncertain_left_alone: 0,
            held_back: 0,
            _lock: None,
        })
    }

    /// The campaign: the digests rendered, one per variant.
    pub fn campaign(&self) -> &Campaign<'a> {
        &self.campaign
    }

    /// Of the recipients served, how many the list file names (the
    /// others joined by themselves: [`Plan::joined`]).
    pub fn from_file(&self) -> usize {
        self.campaign.audience().recipients - self.joined
    }

    /// Whether this run joins a send started elsewhere (`send --join`).
    pub fn is_joining(&self) -> bool {
        self.joining
    }

    /// What is sent to whom: "ISSUE to the list LIST", or "ISSUE to N
    /// test address(es)".
    pub fn what(&self) -> String {
        let (issue, list) = (self.campaign.issue(), self.campaign.list());
        if self.test {
            format!("{} to {} test address(es)", issue.id, self.to_send)
        } else {
            format!("{} to the list {}", issue.id, list.id)
        }
    }

    /// Whether this is a test send (`only`), kept apart in the ledger.
    pub fn is_test(&self) -> bool {
        self.test
    }

    /// The ledger this plan records in, if it is a real send.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_deref()
    }

    /// Whether there is nothing to hand over.
    pub fn is_empty(&self) -> bool {
        self.to_send == 0
    }

    /// Why there is nothing to hand over, if there is nothing.
    pub fn idle(&self) -> Option<Idle> {
        if !self.is_empty() {
            None
        } else if self.uncertain_left_alone > 0 {
            Some(Idle::UncertainLeftAlone(self.uncertain_left_alone))
        } else if self.start.already_failed > 0 {
            Some(Idle::RefusedRemain(self.start.already_failed))
        } else {
            Some(Idle::AllServed)
        }
    }

    /// Records the start of the send (the frozen audience, the
    /// unsubscribed never to be mailed), then hands each message to
    /// `transport`, marking it *sending* in the ledger before it leaves.
    /// Nothing is recorded before this is called.
    pub async fn run<T: Transport>(
        &self,
        transport: &T,
        options: &Options,
        progress: &dyn Progress,
        stop: &AtomicBool,
    ) -> Result<Report> {
        let journal = match (&self.ledger, &self.scope) {
            (Some(ledger), Some(scope)) => {
                if !self.joining {
                    ledger.begin_staged(scope, &self.campaign.issue().fingerprint, self.resume)?;
                }
                Some(Journal {
                    ledger: Arc::clone(ledger),
                    scope: scope.clone(),
                })
            }
            _ => None,
        };
        dispatch::run(
            &self.campaign,
            transport,
            self.recipients(),
            journal.as_ref(),
            options,
            progress,
            stop,
        )
        .await
    }

    /// The recipients this run hands a message to, in list order: the
    /// members (read again) as the preferences leave them, each with their
    /// digest; for a real send, those the ledger still has to send (read
    /// a page at a time), the first `to_send` of them.
    pub fn recipients(&self) -> Recipients<'_> {
        let recipients = move || {
            let list = self.campaign.list();
            let members = self
                .whom
                .members(list, &self.preferences.joined)
                .filter_map(move |m| m.map(|m| self.preferences.apply(list, m)).transpose());
            self.campaign.recipients(members)
        };
        match (&self.ledger, &self.scope) {
            (Some(ledger), Some(scope)) => {
                let to_send = match self.joining {
                    true => ledger.to_send_joining(scope, self.resume),
                    false => ledger.to_claim(scope, self.resume, self.skip_uncertain),
                };
                let wanted = to_send.map(|r| r.map(|r| r.recipient)).take(self.to_send);
                let source = Wanted {
                    members: recipients(),
                    wanted,
                    again: recipients,
                };
                Recipients::new(self.to_send, source)
            }
            _ => Recipients::new(self.to_send, recipients()),
        }
    }

    /// Whom this run hands a message to, in list order.
    pub fn to_send_keys(&self) -> Result<Vec<Key>> {
        self.recipients().map(|r| r.map(|r| r.key)).collect()
    }

    /// Runs a dry run into `dir`: one `.eml` file per recipient, in list
    /// order, and `manifest.json`.
    pub async fn write(
        &self,
        dir: &Path,
        options: &Options,
        stop: &AtomicBool,
    ) -> Result<(Report, Written)> {
        let outbox = Outbox::create(dir, &self.campaign.issue().id, &self.campaign.list().id)?;
        // One at a time, so that the manifest is in list order. (Mutation
        // testing: two workers over a few files usually finish in list
        // order too, so no test can tell reliably; the manifest's order is
        // checked by `plan::a_dry_run_is_the_same_plan_without_a_ledger`
        // and `dry_run::manifest_lists_every_file`.)
        let options = Options {
            concurrency: 1,
            ..options.clone()
        };
        let report = self.run(&outbox, &options, &dispatch::Silent, stop).await?;
        let left_out = crate::deliver::files::LeftOut::of(&self.campaign.list().left_out);
        let written = outbox.finish(report.variants, &report.skipped, &left_out)?;
        Ok((report, written))
    }
}

/// Why a plan hands nothing over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// The only ones left are of uncertain outcome, left alone.
    UncertainLeftAlone(usize),
    /// Everyone was served, these many refused for good (`retry_failed`
    /// would send to them again).
    RefusedRemain(usize),
    /// Everyone was served.
    AllServed,
}

/// More recipients than this, and a send on a terminal asks first.
pub const HANDFUL: usize = 5;

/// Whether `answer` (typed at the question before a send) says yes: `y`,
/// `yes`, `o` or `oui`, in any case; anything else, nothing included, is
/// no.
pub fn says_yes(answer: &str) -> bool {
    matches!(
        answer.trim().to_lowercase().as_str(),
        "y" | "yes" | "o" | "oui"
    )
}

/// Whether the plan is big enough to ask before sending: more than a
/// [`HANDFUL`] of recipients.
pub fn worth_confirming(plan: &Plan<'_>) -> bool {
    plan.to_send > HANDFUL
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// The members `names`, as a reading of the list gives them.
    fn reading(names: &[&str]) -> std::vec::IntoIter<Result<Recipient>> {
        let members: Vec<Result<Recipient>> = names
            .iter()
            .map(|n| {
                let email = parse_address(n).expect("an address");
                Ok(Recipient::new(Member::outsider(email), 0))
            })
            .collect();
        members.into_iter()
    }

    /// What [`Wanted`] finds of `wanted` in the list `names`, and how many
    /// times it read the list again (at most twice, then it panics: a
    /// reading that restarts for ever would never end).
    fn find(names: &[&str], wanted: &[&str]) -> (Vec<std::result::Result<String, String>>, usize) {
        let again = Cell::new(0);
        let keys: Vec<_> = wanted
            .iter()
            .map(|w| Ok(Key::of(&parse_address(w).expect("an address"))))
            .collect();
        let found: Vec<_> = Wanted {
            members: reading(names),
            wanted: keys.into_iter(),
            again: || {
                again.set(again.get() + 1);
                assert!(again.get() <= 2, "the list read again for ever");
                reading(names)
            },
        }
        .map(|r| {
            r.map(|r| r.key.as_str().to_owned())
                .map_err(|e| e.to_string())
        })
        .collect();
        (found, again.get())
    }

    #[test]
    fn a_recipient_before_the_last_is_found_by_reading_the_list_once_more_and_one_not_in_it_is_an_error()
     {
        let list = ["a@example.org", "b@example.org", "c@example.org"];
        // In list order: one reading.
        let (found, again) = find(&list, &["a@example.org", "c@example.org"]);
        assert_eq!(
            found,
            [Ok("a@example.org".into()), Ok("c@example.org".into())]
        );
        assert_eq!(again, 0);
        // A recipient before the last one found (claimed back from a sender
        // that stopped): the list read once more, from the start.
        let (found, again) = find(&list, &["c@example.org", "a@example.org", "b@example.org"]);
        assert_eq!(
            found,
            [
                Ok("c@example.org".into()),
                Ok("a@example.org".into()),
                Ok("b@example.org".into())
            ]
        );
        assert_eq!(again, 1);
        // Not in a whole reading: not in the list, said after one more
        // reading, never looked for again and again.
        let (found, again) = find(&list, &["b@example.org", "z@example.org"]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0], Ok("b@example.org".into()));
        let said = found[1].as_ref().expect_err("not in the list");
        assert!(
            said.contains("z@example.org") && said.contains("no longer has them"),
            "{said}"
        );
        assert_eq!(again, 1);
    }
}
