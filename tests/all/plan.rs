//! The order of a send, checked at the library's level: what `Plan`
//! works out from the issue, the list and the ledger before anything is
//! recorded, and what a run leaves behind. The transport is the dry run's
//! `.eml` folder, the ledger a real SQLite file.

use crate::common;

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use breves::address::Key;
use breves::dispatch::{Options, Retry, Silent};
use breves::issue::Issue;
use breves::ledger::{Ledger, LedgerError, Scope};
use breves::plan::{Plan, Request};
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::{Error, ExitStatus};
use common::tempdir;

const SECRET: &str = "a secret of at least sixteen bytes";

pub(crate) fn issue() -> Issue {
    Issue::load(&common::root().join(common::SMALL_ISSUE))
        .expect("the small issue")
        .0
}

/// A list of members `m0…m{n-1}@example.org`, each with the Spatial section.
pub(crate) fn list(dir: &Path, n: usize) -> List {
    let mut text = String::from(
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
         unsubscribe_url = \"https://breves.example.fr/desabonnement\"\n\
         topics = { economie-numerique = \"E\", spatial = \"S\" }\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "[[member]]\nemail = \"m{i}@example.org\"\ninterests = [\"spatial\"]\n"
        ));
    }
    let path = dir.join(format!("list-{n}.toml"));
    fs::write(&path, text).expect("list");
    List::load(&path).expect("a valid list").0
}

pub(crate) fn keys(names: &[&str]) -> Vec<Key> {
    names
        .iter()
        .map(|n| Key::from_text(&format!("{n}@example.org")))
        .collect()
}

/// Whom `plan` sends to, in order: as many as it says.
fn to_send(plan: &Plan<'_>) -> Vec<Key> {
    let keys = plan.to_send_keys().expect("readable");
    assert_eq!(
        keys.len(),
        plan.to_send,
        "the count and the recipients agree"
    );
    keys
}

pub(crate) fn prepare<'a>(
    issue: &'a Issue,
    list: &'a List,
    ledger: &Arc<Ledger>,
    request: &Request,
) -> breves::Result<Plan<'a>> {
    let signer = Signer::new(SECRET.as_bytes()).expect("secret");
    Plan::prepare(issue, list, Arc::clone(ledger), request, signer, None)
}

fn options(issue: &Issue) -> Options {
    Options {
        concurrency: 2,
        rate: None,
        retry: Retry::default(),
        date: issue.default_date(),
    }
}

/// Runs `plan` into a fresh folder; the report's exit status.
pub(crate) fn run(plan: &Plan<'_>, issue: &Issue) -> ExitStatus {
    report_of(plan, issue).exit_status()
}

/// Runs `plan` into a fresh folder; its report.
fn report_of(plan: &Plan<'_>, issue: &Issue) -> breves::dispatch::Report {
    let out = tempdir();
    let outbox = breves::deliver::files::Outbox::create(out.path(), "i", "l").expect("outbox");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(plan.run(&outbox, &options(issue), &Silent, &AtomicBool::new(false)))
        .expect("run")
}

fn count(ledger: &Ledger, scope: &Scope, state: &str) -> usize {
    ledger
        .status(scope)
        .expect("status")
        .counts
        .iter()
        .find(|(s, _)| s == state)
        .map_or(0, |(_, n)| *n)
}

#[test]
fn a_plan_records_nothing_until_it_runs() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 4));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let scope = Scope::list(&issue.id, &list.id);
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert_eq!(to_send(&plan), keys(&["m0", "m1", "m2", "m3"]));
    assert!(!plan.start.resumed);
    assert!(!ledger.status(&scope).expect("status").known, "peeked only");
    assert_eq!(
        plan.ledger().map(Ledger::path),
        Some(dir.path().join("l.sqlite3").as_path())
    );
    assert!(!plan.is_test());
    let shown = format!("{plan:?}");
    assert!(
        shown.starts_with("Plan { scope: Some(Scope { issue: \"essai-2026-05\"")
            && shown.contains("to_send: 4"),
        "{shown}"
    );
    assert_eq!(run(&plan, &issue), ExitStatus::Success);
    drop(plan);
    assert_eq!(count(&ledger, &scope, "sent"), 4);
}

#[test]
fn limit_holds_back_and_the_next_plan_resumes_where_it_stopped() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 5));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let canary = Request {
        limit: Some(2),
        ..Request::default()
    };
    let plan = prepare(&issue, &list, &ledger, &canary).expect("plan");
    assert_eq!(to_send(&plan), keys(&["m0", "m1"]));
    assert_eq!(plan.held_back, 3);
    run(&plan, &issue);
    drop(plan);
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert!(plan.start.resumed);
    assert_eq!(plan.start.already_sent, 2);
    assert_eq!(to_send(&plan), keys(&["m2", "m3", "m4"]));
    assert_eq!(plan.held_back, 0);
}

#[test]
fn uncertain_recipients_are_sent_again_unless_left_alone() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 3));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let scope = Scope::list(&issue.id, &list.id);
    {
        // A run that dies with m1 handed over, its outcome unknown.
        let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
        let planned = breves::plan::freeze(&issue, list.members()).expect("frozen");
        ledger
            .begin(&scope, &issue.fingerprint, &planned, Default::default())
            .expect("begin");
        ledger
            .record(&scope, None, Some(&keys(&["m1"])[0]))
            .expect("mark sending");
        drop(plan);
    }
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert_eq!(plan.start.uncertain, 1);
    assert_eq!(plan.uncertain_resent, 1);
    assert_eq!(to_send(&plan), keys(&["m0", "m1", "m2"]));
    drop(plan);
    let alone = Request {
        skip_uncertain: true,
        ..Request::default()
    };
    let plan = prepare(&issue, &list, &ledger, &alone).expect("plan");
    assert_eq!(plan.uncertain_left_alone, 1);
    assert_eq!(plan.uncertain_resent, 0, "left alone, none is sent again");
    assert_eq!(to_send(&plan), keys(&["m0", "m2"]));
    assert_eq!(plan.idle(), None);
}

#[test]
fn who_unsubscribed_is_left_out_and_is_not_a_change_of_the_list() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 4));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let scope = Scope::list(&issue.id, &list.id);
    let canary = Request {
        limit: Some(1),
        ..Request::default()
    };
    let plan = prepare(&issue, &list, &ledger, &canary).expect("plan");
    run(&plan, &issue);
    drop(plan);
    // m2 leaves; m3 stops the only section they had.
    ledger
        .suppress(&list.id, &keys(&["m2"])[0], "one-click")
        .expect("suppress");
    ledger
        .opt_out(&list.id, &keys(&["m3"])[0], "spatial")
        .expect("opt out");
    let plan = prepare(&issue, &list, &ledger, &Request::default())
        .expect("preferences are applied on top of the frozen audience, not a change");
    assert_eq!(plan.left_out, 2);
    assert_eq!(plan.suppressed, keys(&["m2", "m3"]));
    assert_eq!(to_send(&plan), keys(&["m1"]));
    run(&plan, &issue);
    drop(plan);
    assert_eq!(count(&ledger, &scope, "suppressed"), 2);
    assert_eq!(count(&ledger, &scope, "sent"), 2);
}

#[test]
fn a_changed_list_is_refused_unless_accepted() {
    let dir = tempdir();
    let issue = issue();
    let (three, four) = (list(dir.path(), 3), list(dir.path(), 4));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let plan = prepare(
        &issue,
        &three,
        &ledger,
        &Request {
            limit: Some(1),
            ..Request::default()
        },
    )
    .expect("plan");
    run(&plan, &issue);
    drop(plan);
    let Err(Error::Ledger(LedgerError::Changed(changes))) =
        prepare(&issue, &four, &ledger, &Request::default())
    else {
        panic!("a new member is a change of the list");
    };
    assert_eq!(changes.added.first, keys(&["m3"]));
    let accept = Request {
        accept_changes: true,
        ..Request::default()
    };
    let plan = prepare(&issue, &four, &ledger, &accept).expect("accepted");
    assert_eq!(to_send(&plan), keys(&["m1", "m2", "m3"]));
    let accepted = plan
        .start
        .accepted
        .as_ref()
        .expect("the plan says what changed");
    assert_eq!(accepted.added.first, keys(&["m3"]));
    assert!(!accepted.issue_changed);
}

#[test]
fn a_test_send_is_kept_apart_from_the_lists() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 3));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let only = Request {
        only: vec![
            "M1@Example.org".into(),
            "guest@example.com".into(),
            "m1@example.org".into(),
        ],
        ..Request::default()
    };
    let plan = prepare(&issue, &list, &ledger, &only).expect("plan");
    assert!(plan.is_test());
    assert_eq!(
        to_send(&plan),
        vec![
            Key::from_text("m1@example.org"),
            Key::from_text("guest@example.com")
        ],
        "each address once, a member with their sections, a guest with all"
    );
    run(&plan, &issue);
    drop(plan);
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("the list's send");
    assert!(
        !plan.start.resumed,
        "the test send did not start the list's"
    );
    assert_eq!(plan.to_send, 3);
    let bad = Request {
        only: vec!["not an address".into()],
        ..Request::default()
    };
    drop(plan);
    let Err(Error::InvalidAddress { text, .. }) = prepare(&issue, &list, &ledger, &bad) else {
        panic!("a bad --only address is refused");
    };
    assert_eq!(text, "not an address");
}

#[test]
fn two_plans_of_one_send_cannot_exist_at_once() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 2));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let first = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert!(matches!(
        prepare(&issue, &list, &ledger, &Request::default()),
        Err(Error::Ledger(LedgerError::Busy { .. }))
    ));
    drop(first);
    assert!(prepare(&issue, &list, &ledger, &Request::default()).is_ok());
}

#[test]
fn a_dry_run_is_the_same_plan_without_a_ledger() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 3));
    let plan = Plan::dry_run(&issue, &list, &[], None).expect("plan");
    assert_eq!(to_send(&plan), keys(&["m0", "m1", "m2"]));
    assert!(plan.ledger().is_none() && !plan.is_test());
    let only = Plan::dry_run(&issue, &list, &["m2@example.org".into()], None).expect("plan");
    assert_eq!(to_send(&only), keys(&["m2"]));
    assert!(only.is_test());
    assert_eq!(plan.what(), "essai-2026-05 to the list essai");
    assert_eq!(only.what(), "essai-2026-05 to 1 test address(es)");
    let out = tempdir();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (report, written) = runtime
        .block_on(plan.write(out.path(), &options(&issue), &AtomicBool::new(false)))
        .expect("written");
    assert_eq!(report.exit_status(), ExitStatus::Success);
    assert_eq!(written.messages, 3);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written.manifest).expect("manifest")).expect("JSON");
    let files: Vec<&str> = manifest["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["file"].as_str())
        .collect();
    assert_eq!(
        files,
        [
            "m0_at_example.org.eml",
            "m1_at_example.org.eml",
            "m2_at_example.org.eml"
        ]
    );
}

#[test]
fn more_than_a_handful_of_recipients_is_worth_confirming() {
    let dir = tempdir();
    let issue = issue();
    let (five, six) = (list(dir.path(), 5), list(dir.path(), 6));
    assert_eq!(breves::plan::HANDFUL, 5);
    let plan = Plan::dry_run(&issue, &five, &[], None).expect("plan");
    assert!(!breves::plan::worth_confirming(&plan));
    let plan = Plan::dry_run(&issue, &six, &[], None).expect("plan");
    assert!(breves::plan::worth_confirming(&plan));
}

#[test]
fn a_plan_with_nothing_to_send_says_why() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 2));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let scope = Scope::list(&issue.id, &list.id);
    let planned = breves::plan::freeze(&issue, list.members()).expect("frozen");
    ledger
        .begin(&scope, &issue.fingerprint, &planned, Default::default())
        .expect("begin");
    let (m0, m1) = (&keys(&["m0"])[0], &keys(&["m1"])[0]);
    let done = breves::ledger::Outcome::Sent("250".into());
    ledger
        .record(&scope, Some((m0, &done, 1)), None)
        .expect("m0 sent");
    ledger.record(&scope, None, Some(m1)).expect("m1 in flight");
    let alone = Request {
        skip_uncertain: true,
        ..Request::default()
    };
    let plan = prepare(&issue, &list, &ledger, &alone).expect("plan");
    assert_eq!(plan.idle(), Some(breves::plan::Idle::UncertainLeftAlone(1)));
    drop(plan);
    let refused = breves::ledger::Outcome::Failed("550".into());
    ledger
        .record(&scope, Some((m1, &refused, 1)), None)
        .expect("m1 refused");
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert_eq!(plan.idle(), Some(breves::plan::Idle::RefusedRemain(1)));
    drop(plan);
    let again = Request {
        retry_failed: true,
        ..Request::default()
    };
    let plan = prepare(&issue, &list, &ledger, &again).expect("plan");
    assert_eq!(plan.idle(), None);
    assert_eq!(to_send(&plan), keys(&["m1"]));
    drop(plan);
    ledger
        .record(&scope, Some((m1, &done, 1)), None)
        .expect("m1 sent");
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert_eq!(plan.idle(), Some(breves::plan::Idle::AllServed));
}

#[test]
fn a_run_says_where_its_time_went_and_how_many_commits_it_made() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 6));
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    let out = tempdir();
    let outbox = breves::deliver::files::Outbox::create(out.path(), "i", "l").expect("outbox");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let report = runtime
        .block_on(plan.run(&outbox, &options(&issue), &Silent, &AtomicBool::new(false)))
        .expect("run");
    assert_eq!(report.delivered, 6);
    let stages = report.stages;
    assert!(
        stages.build > std::time::Duration::ZERO
            && stages.hand_over > std::time::Duration::ZERO
            && stages.ledger > std::time::Duration::ZERO,
        "{stages:?}"
    );
    // One mark a message, each outcome with the next mark or on its own
    // at the end; the next recipient set aside in a commit of its own, the
    // only ones flushed with a connection's first mark and its last
    // outcome: at most two commits a message, one flush a message, and two
    // a connection more.
    assert!(
        (1..=2 * 6 + 2).contains(&report.commits) && (1..=6 + 2).contains(&report.flushes),
        "{} commits, {} flushed, for 6 messages",
        report.commits,
        report.flushes
    );
    assert_eq!(report.latency.count(), 6);
    let sizes: Vec<usize> = fs::read_dir(out.path())
        .expect("outbox")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| fs::metadata(p).map_or(0, |m| m.len() as usize))
        .collect();
    assert_eq!(sizes.len(), 6);
    assert_eq!(report.bytes, sizes.iter().sum::<usize>());
    assert_eq!(Some(report.largest), sizes.iter().max().copied());
}

#[test]
fn a_members_file_saved_again_after_the_plan_stops_the_run_with_what_was_done() {
    let dir = tempdir();
    let issue = issue();
    let rows = |n: usize| {
        let mut text = String::from("email,name,interests\n");
        for i in 0..n {
            text.push_str(&format!("m{i}@example.org,M{i},spatial\n"));
        }
        text
    };
    fs::write(dir.path().join("membres.csv"), rows(3)).expect("members");
    let path = dir.path().join("list.toml");
    fs::write(
        &path,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
         unsubscribe_url = \"https://breves.example.fr/desabonnement\"\n\
         members = \"membres.csv\"\n\
         topics = { economie-numerique = \"E\", spatial = \"S\" }\n",
    )
    .expect("list");
    let list = List::load(&path).expect("a valid list").0;
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert_eq!(to_send(&plan), keys(&["m0", "m1", "m2"]));
    // Saved again between the plan and the run.
    fs::write(dir.path().join("membres.csv"), rows(4)).expect("saved again");
    let report = report_of(&plan, &issue);
    assert_eq!(report.exit_status(), ExitStatus::Incomplete);
    assert_eq!((report.delivered, report.not_attempted), (0, 3));
    let fatal = report.fatal.expect("the reason");
    assert!(
        fatal.starts_with(&format!(
            "{} changed while breves was reading it",
            dir.path().join("membres.csv").display()
        )),
        "{fatal}"
    );
    let scope = Scope::list(&issue.id, &list.id);
    assert_eq!(count(&ledger, &scope, "pending"), 3, "left to send");
}

/// A transport that writes as the dry run does, and first looks in the
/// ledger, once the gate it is handed opens, at the state of the letter's
/// recipient: what a send promises it is then (`sending`, durably).
struct Watching {
    outbox: breves::deliver::files::Outbox,
    ledger: std::path::PathBuf,
    seen: std::sync::Mutex<Vec<(String, String)>>,
}

impl breves::deliver::Transport for Watching {
    type Session = ();

    async fn open(&self) -> Result<(), breves::deliver::DeliveryError> {
        Ok(())
    }

    async fn deliver(
        &self,
        session: &mut (),
        letter: &breves::message::Letter,
        ready: impl std::future::Future<Output = bool> + Send + 'static,
    ) -> Result<breves::deliver::Receipt, breves::deliver::DeliveryError> {
        if !ready.await {
            return Err(breves::deliver::DeliveryError::Withheld);
        }
        let db = rusqlite::Connection::open(&self.ledger).expect("another connection");
        let state: String = db
            .query_row(
                "SELECT state FROM deliveries WHERE recipient = ?1",
                [letter.recipient.to_string()],
                |row| row.get(0),
            )
            .expect("the recipient's row");
        self.seen
            .lock()
            .expect("seen")
            .push((letter.recipient.to_string(), state));
        self.outbox.deliver(session, letter, async { true }).await
    }

    fn usable(&self, _session: &()) -> bool {
        true
    }

    async fn close(&self, _session: ()) {}
}

#[test]
fn a_letter_is_completed_only_once_its_recipient_is_marked_as_leaving_in_the_ledger() {
    let dir = tempdir();
    let (issue, list) = (issue(), list(dir.path(), 12));
    let path = dir.path().join("l.sqlite3");
    let ledger = Arc::new(Ledger::open(&path).expect("ledger"));
    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    let out = tempdir();
    let watching = Watching {
        outbox: breves::deliver::files::Outbox::create(out.path(), "i", "l").expect("outbox"),
        ledger: path,
        seen: std::sync::Mutex::new(Vec::new()),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let report = runtime
        .block_on(plan.run(
            &watching,
            &options(&issue),
            &Silent,
            &AtomicBool::new(false),
        ))
        .expect("run");
    assert_eq!(report.delivered, 12);
    let seen = watching.seen.into_inner().expect("seen");
    assert_eq!(seen.len(), 12);
    for (recipient, state) in &seen {
        assert_eq!(
            state, "sending",
            "{recipient} was completed before its mark"
        );
    }
}

#[test]
fn a_send_goes_on_only_on_an_answer_that_says_yes() {
    for yes in ["y", "Y", "yes", " YES\n", "o", "oui", "Oui\r\n"] {
        assert!(breves::plan::says_yes(yes), "{yes:?}");
    }
    for no in ["", "\n", "n", "no", "non", "yess", "y e s", "ok"] {
        assert!(!breves::plan::says_yes(no), "{no:?}");
    }
}

/// Records that `name@example.org` joined `list` by themselves with
/// `sections`, confirmed.
fn joins(ledger: &Ledger, list: &str, name: &str, sections: &[&str]) {
    let key = keys(&[name]).remove(0);
    let sections: Vec<String> = sections.iter().map(|s| (*s).to_owned()).collect();
    let request = breves::ledger::subscriptions::Request {
        name: None,
        sections: &sections,
        consent: "J'accepte.",
        evidence: "https://breves.example.fr/abonnement",
        code: name,
    };
    assert!(
        ledger
            .request_subscription(list, &key, &request)
            .expect("request")
    );
    assert!(ledger.confirm_subscription(list, &key).expect("confirm"));
}

#[test]
fn a_plan_counts_who_comes_from_the_file_who_joined_and_who_left() {
    let dir = tempdir();
    let issue = issue();
    // `autre` is a section of the list this issue does not have.
    let path = dir.path().join("list.toml");
    let mut text = String::from(
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
         topics = { economie-numerique = \"E\", spatial = \"S\", autre = \"A\" }\n",
    );
    for name in ["m0", "m1", "m2", "m3"] {
        text.push_str(&format!(
            "[[member]]\nemail = \"{name}@example.org\"\ninterests = [\"spatial\"]\n"
        ));
    }
    fs::write(&path, text).expect("list");
    let list = List::load(&path).expect("a valid list").0;
    let ledger = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    joins(&ledger, &list.id, "j0", &["spatial"]);
    joins(&ledger, &list.id, "j1", &["economie-numerique"]);
    joins(&ledger, &list.id, "j2", &["autre"]);
    joins(&ledger, &list.id, "j3", &["spatial"]);
    // Three leave: one of the file, one who joined, one forgotten.
    for name in ["m3", "j3"] {
        let key = keys(&[name]).remove(0);
        ledger
            .suppress(&list.id, &key, "one-click")
            .expect("suppress");
    }
    ledger.forget(&list.id, &keys(&["m2"])[0]).expect("forget");

    let dry = Plan::dry_run_with(
        &issue,
        &list,
        &[],
        None,
        ledger.preferences(&list.id).expect("preferences"),
    )
    .expect("dry run");
    // j2 is kept but receives nothing of this issue: not counted.
    assert_eq!(
        (dry.to_send, dry.from_file(), dry.joined, dry.left_out),
        (4, 2, 2, 3),
        "to send, from the file, joined, left out"
    );
    assert_eq!(to_send(&dry), keys(&["m0", "m1", "j0", "j1"]));

    let plan = prepare(&issue, &list, &ledger, &Request::default()).expect("plan");
    assert_eq!(
        (plan.to_send, plan.from_file(), plan.joined, plan.left_out),
        (4, 2, 2, 3),
        "to send, from the file, joined, left out"
    );
    assert_eq!(to_send(&plan), keys(&["m0", "m1", "j0", "j1"]));
}
