//! The ledger in PostgreSQL (`--ledger postgres://…`): the same sends,
//! resumptions, locks and readers' acts as with SQLite, against a real
//! PostgreSQL the tests start on loopback (`common::postgres`).

use crate::common;
use crate::smtp::{
    Kill, Sender, everyone_once_but_those_in_flight, kill_9_then_resume_when,
    kill_9_then_resume_with,
};

use breves::address::Key;
use breves::issue::Issue;
use breves::ledger::{Ledger, LedgerError, Planned, Resume, Scope};
use common::smtp::smtp_sink;

#[test]
fn a_send_recorded_in_postgresql_serves_everyone_once_and_a_second_run_no_one() {
    let sink = smtp_sink(&[]);
    let run = Sender::with_postgres();
    let list = run.list(30);
    // Five of the list at a time, in its order, then the rest: reading
    // who is to send (to plan the limit) claims none of them.
    for upto in [5, 10] {
        let limited = run.send(&list, &sink.plain_url(), &["--yes", "--limit", "5"], &[]);
        assert_eq!(limited.code, 0, "{limited:?}");
        let mut served: Vec<String> = sink.counts().into_keys().collect();
        let mut first: Vec<String> = (0..upto)
            .map(|i| format!("abonne{i}@example.org"))
            .collect();
        served.sort();
        first.sort();
        assert_eq!(served, first);
    }
    let first = run.send(&list, &sink.plain_url(), &["--yes"], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    let counts = sink.counts();
    assert_eq!(counts.len(), 30);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let again = run.send(&list, &sink.plain_url(), &["--yes"], &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("Nothing to send"), "{}", again.stdout);
    assert_eq!(sink.messages().len(), 30, "nobody mailed twice");
    let status = run.status(&list);
    assert!(status.stdout.contains("sent"), "{status:?}");
    assert!(
        status.stdout.contains("30"),
        "the status counts the thirty: {}",
        status.stdout
    );
    // The password of the URL is never shown: there is none here, and the
    // URL shown is the one given.
    assert!(!status.stdout.contains("password"), "{status:?}");
}

#[test]
fn kill_9_with_the_ledger_in_postgresql_then_the_same_command_serves_everyone() {
    let sink = smtp_sink(&["-W", ".:1"]);
    let run = Sender::with_postgres();
    let (counts, out, before) =
        kill_9_then_resume_with(&run, &sink, 24, &["--concurrency", "4", "--yes"], 6, |_| {});
    let dups = everyone_once_but_those_in_flight(&counts, 24, 4);
    let uncertain = crate::smtp::uncertain_resent(&out);
    assert!(
        (dups..=4).contains(&uncertain),
        "{uncertain} uncertain for {dups} duplicates: {out:?}"
    );
    println!("PostgreSQL ledger, kill -9 after {before} messages: {dups} duplicate(s)");
}

#[test]
fn one_send_at_a_time_per_issue_and_list_held_by_the_database() {
    let url = common::postgres::database();
    let one = Ledger::connect(&url).expect("a ledger in PostgreSQL");
    let other = Ledger::connect(&url).expect("another machine's connection");
    let scope = Scope::list("2026-03", "londres");
    let held = one.lock(&scope).expect("the first lock");
    assert!(matches!(other.lock(&scope), Err(LedgerError::Busy { .. })));
    assert!(
        other.lock(&Scope::test("2026-03", "londres")).is_ok(),
        "a test send is apart"
    );
    drop(held);
    assert!(
        other.lock(&scope).is_ok(),
        "released with the connection that held it"
    );
}

#[test]
fn the_ledger_keeps_the_same_records_in_postgresql() {
    let url = common::postgres::database();
    let ledger = Ledger::connect(&url).expect("ledger");
    let scope = Scope::list("2026-03", "londres");
    let a = Key::from_text("a@example.org");
    let b = Key::from_text("b@example.org");
    let audience = [
        Planned {
            recipient: a.clone(),
            sections: "spatial".into(),
            served: true,
        },
        Planned {
            recipient: b.clone(),
            sections: "spatial,cybersecurite".into(),
            served: true,
        },
    ];
    let start = ledger
        .begin(&scope, "empreinte", &audience, Resume::default())
        .expect("begin");
    assert_eq!(start.to_send, 2);
    let picked: Vec<Key> = ledger
        .to_send(&scope, Resume::default(), false)
        .map(|p| p.expect("pick").recipient)
        .collect();
    assert_eq!(picked, [a.clone(), b.clone()]);
    // The readers' acts: leave, stop a section, join.
    ledger
        .suppress("londres", &a, "one-click")
        .expect("suppress");
    ledger.opt_out("londres", &b, "spatial").expect("opt out");
    let prefs = ledger.preferences("londres").expect("preferences");
    assert!(prefs.suppressed.contains(&a));
    assert_eq!(prefs.opted_out[&b], ["spatial"]);
    // A second connection, as another machine, sees the same.
    let again = Ledger::connect(&url).expect("another connection");
    let resumed = again
        .begin(&scope, "empreinte", &audience, Resume::default())
        .expect("resume");
    assert!(resumed.resumed);
    let held = again.held("londres", &a).expect("held");
    assert_eq!(
        held.left.as_ref().map(|(how, _)| how.as_str()),
        Some("one-click")
    );
    // Forgetting erases the rows, a keyed hash kept.
    again.forget("londres", &a).expect("forget");
    let after = again.held("londres", &a).expect("held");
    assert!(after.left.is_none() && after.deliveries.is_empty());
    assert!(after.forgotten.is_some());
}

#[test]
fn a_password_in_the_ledgers_url_is_never_shown() {
    let dir = common::tempdir();
    let list = dir.path().join("list.toml");
    std::fs::write(
        &list,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\ntopics = { spatial = \"Spatial\" }\n\
         [[member]]\nemail = \"a@example.org\"\n",
    )
    .expect("list");
    // Nothing listens on port 1: the connection fails, and says where.
    let port = common::smtp::free_port();
    let url = format!("postgres://breves:s3cr3t-mot-de-passe@127.0.0.1:{port}/ledger");
    let run = common::breves_with(
        [
            "status",
            common::ISSUE,
            "--subscribers",
            list.to_str().expect("utf-8"),
            "--ledger",
            &url,
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "error: the ledger postgres://breves@127.0.0.1:{port}/ledger: "
        )),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("s3cr3t") && !run.stdout.contains("s3cr3t"),
        "{run:?}"
    );
}

#[test]
fn a_ledger_copied_from_sqlite_goes_on_in_postgresql_where_it_stood() {
    let sink = smtp_sink(&[]);
    let file = Sender::new();
    let list = file.list(40);
    let first = file.send(&list, &sink.plain_url(), &["--yes", "--limit", "25"], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    let left = file.readers(&list, &["suppress", "abonne30@example.org"]);
    assert_eq!(left.code, 0, "{left:?}");
    let url = common::postgres::database();
    let copy = |to: &str| {
        common::breves_with(
            [
                "ledger",
                "copy",
                "--from",
                file.ledger().to_str().expect("utf-8"),
                "--to",
                to,
            ],
            &[],
        )
    };
    let copied = copy(&url);
    assert_eq!(copied.code, 0, "{copied:?}");
    assert!(
        copied.stdout.contains("  deliveries: 40\n")
            && copied.stdout.contains("  sends: 1\n")
            && copied.stdout.contains("  suppressions: 1\n")
            && copied.stdout.contains("checked them row for row"),
        "{}",
        copied.stdout
    );
    // Both ledgers say the same of the send.
    let status = |ledger: &std::path::Path| {
        common::status(&list, ledger)
            .stdout
            .replace(&ledger.display().to_string(), "LEDGER")
    };
    let in_postgres = std::path::PathBuf::from(&url);
    assert_eq!(status(&file.ledger()), status(&in_postgres));
    // Copying again into a ledger that holds rows is refused.
    let again = copy(&url);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("holds a ledger already"), "{again:?}");
    // The send goes on from PostgreSQL: the 14 left, never the one who
    // left, nobody twice.
    let run = common::breves_with(
        [
            "send",
            common::ISSUE,
            "--subscribers",
            list.to_str().expect("utf-8"),
            "--smtp",
            &sink.plain_url(),
            "--ledger",
            &url,
            "--yes",
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", crate::smtp::SECRET)],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let counts = sink.counts();
    assert_eq!(counts.len(), 39, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1));
    assert!(!counts.contains_key("abonne30@example.org"));
}

#[test]
fn kill_9_at_full_speed_with_the_ledger_in_postgresql_duplicates_no_more_than_in_flight() {
    let sink = smtp_sink(&[]);
    let run = Sender::with_postgres();
    let (counts, out, before) = kill_9_then_resume_with(
        &run,
        &sink,
        1000,
        &["--concurrency", "4", "--yes"],
        150,
        |_| {},
    );
    let dups = everyone_once_but_those_in_flight(&counts, 1000, 4);
    if dups > 0 {
        assert!(out.stdout.contains("of uncertain outcome"), "{out:?}");
    }
    println!(
        "PostgreSQL ledger, kill -9 at full speed after {before} messages: {dups} duplicate(s)"
    );
}

#[test]
fn after_a_restart_of_the_database_server_every_recipient_set_aside_is_sent_again_as_uncertain() {
    // As for SQLite after a power cut: the marks the writer committed
    // asynchronously may be lost when the database server stops, which a
    // resumed send knows from the server's start time. The restart is
    // made as SQLite's test makes the power cut: the start time recorded
    // changed, the marks of the messages on the wire lost.
    let sink = smtp_sink(&["-W", ".:1"]);
    let run = Sender::with_postgres();
    // Killed once a message on the wire is one its connection had set
    // aside, however fast the send went until then.
    let on_the_wire_set_aside = |ledger: &std::path::Path| {
        postgres::Client::connect(&ledger.to_string_lossy(), postgres::NoTls)
            .and_then(|mut db| {
                db.query_one(
                    "SELECT count(*) FROM deliveries WHERE state = 'sending' AND held",
                    &[],
                )
            })
            .is_ok_and(|row| row.get::<_, i64>(0) > 0)
    };
    let at = Kill {
        after: 6,
        once: &on_the_wire_set_aside,
    };
    let (counts, out, before) = kill_9_then_resume_when(
        &run,
        &sink,
        24,
        &["--concurrency", "4", "--yes"],
        at,
        |ledger| {
            let mut db = postgres::Client::connect(&ledger.to_string_lossy(), postgres::NoTls)
                .expect("the ledger's database");
            db.execute("UPDATE sends SET boot = 'before the restart'", &[])
                .expect("another start");
            let lost = db
                .execute(
                    "UPDATE deliveries SET state = 'pending' WHERE state = 'sending' AND held",
                    &[],
                )
                .expect("marks lost");
            assert!(lost > 0, "messages on the wire were set aside first");
        },
    );
    let dups = everyone_once_but_those_in_flight(&counts, 24, 4);
    let uncertain = crate::smtp::uncertain_resent(&out);
    assert!(
        (dups.max(1)..=8).contains(&uncertain),
        "{uncertain} uncertain for {dups} duplicates: {out:?}"
    );
    println!(
        "PostgreSQL restarted after {before} messages: {dups} duplicate(s), {uncertain} uncertain"
    );
}

/// Starts `breves send` with `extra` arguments in the background.
fn start_send(
    run: &Sender,
    list: &std::path::Path,
    url: &str,
    extra: &[&str],
) -> std::process::Child {
    run.command(list, url, extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("breves starts")
}

/// Waits until `sink` holds `n` messages, for at most a minute.
fn wait_for(sink: &common::smtp::Server, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while sink.messages().len() < n && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn two_machines_split_one_send_and_when_one_is_killed_the_other_finishes_it() {
    let sink = smtp_sink(&[]);
    let run = Sender::with_postgres();
    let list = run.list(600);
    let pace = ["--rate", "150/s", "--concurrency", "2", "--yes"];
    // The send starts on one machine; another joins it.
    let first = start_send(&run, &list, &sink.plain_url(), &pace);
    wait_for(&sink, 30);
    let joined = [&pace[..], &["--join"]].concat();
    let second = start_send(&run, &list, &sink.plain_url(), &joined);
    let (first, second) = (
        first.wait_with_output().expect("first"),
        second.wait_with_output().expect("second"),
    );
    assert!(first.status.success(), "{first:?}");
    assert!(second.status.success(), "{second:?}");
    let counts = sink.counts();
    assert_eq!(counts.len(), 600, "everyone served");
    assert!(counts.values().all(|n| *n == 1), "nobody twice");
    let sent_by = |out: &std::process::Output| {
        String::from_utf8_lossy(&out.stdout)
            .split(" sent, ")
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let (a, b) = (sent_by(&first), sent_by(&second));
    assert!(
        a > 0 && b > 0 && a + b == 600,
        "split {a} + {b}: {first:?} {second:?}"
    );
    assert!(
        String::from_utf8_lossy(&second.stdout).starts_with("Joining the send of "),
        "{second:?}"
    );
    println!("two senders split 600: {a} and {b}");

    // Again, and the joining one is killed half-way: the first finishes
    // the rest, its in-flight messages counted as of uncertain outcome.
    let sink = smtp_sink(&[]);
    let run = Sender::with_postgres();
    let list = run.list(600);
    let first = start_send(&run, &list, &sink.plain_url(), &pace);
    wait_for(&sink, 30);
    let mut second = start_send(&run, &list, &sink.plain_url(), &joined);
    wait_for(&sink, 200);
    second.kill().expect("kill -9");
    second.wait().expect("reaped");
    let first = first.wait_with_output().expect("first");
    assert!(first.status.success(), "{first:?}");
    let counts = sink.counts();
    assert_eq!(counts.len(), 600, "everyone served by the one left");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= 2,
        "{duplicates} duplicates, more than the killed one's 2 connections"
    );
    println!("one of two killed: {duplicates} duplicate(s)");
}

#[test]
fn the_ledger_is_reached_in_tls_as_its_url_asks_and_only_from_a_trusted_certificate() {
    // A server that takes connections in TLS only, its certificate signed
    // by an authority of its own.
    let (url, authority) = common::postgres::database_in_tls();
    let sink = smtp_sink(&[]);
    let authority = authority.display().to_string();
    let in_tls = Sender::with_database(format!("{url}?sslmode=require"));
    let list = in_tls.list(3);
    // The authority not trusted: no connection, and nobody mailed.
    let untrusted = in_tls.send(&list, &sink.plain_url(), &["--yes"], &[]);
    assert_eq!(untrusted.code, 1, "{untrusted:?}");
    // (What follows the URL is said as PostgreSQL's client says it.)
    let said = |run: &crate::common::Run| run.stderr.replace(&url, "URL");
    assert_eq!(
        said(&untrusted),
        "error: the ledger URL?sslmode=require: error performing TLS handshake: \
         invalid peer certificate: UnknownIssuer\n"
    );
    assert!(sink.messages().is_empty());
    // Trusted as libpq would have it (`PGSSLROOTCERT`): the send is made,
    // its ledger in TLS, the server refusing anything else.
    let trusted = in_tls.send(
        &list,
        &sink.plain_url(),
        &["--yes"],
        &[("PGSSLROOTCERT", &authority)],
    );
    assert_eq!(trusted.code, 0, "{trusted:?}");
    assert_eq!(sink.counts().len(), 3);
    // Without `sslmode`, TLS when the server offers it (libpq's `prefer`):
    // the same ledger, nobody to send to again.
    let preferred = Sender::with_database(url.clone()).send(
        &list,
        &sink.plain_url(),
        &["--yes"],
        &[("PGSSLROOTCERT", &authority)],
    );
    assert_eq!(preferred.code, 0, "{preferred:?}");
    assert!(
        preferred.stdout.contains("Nothing to send"),
        "{preferred:?}"
    );
    // In the clear, the server refuses.
    let clear = Sender::with_database(format!("{url}?sslmode=disable")).send(
        &list,
        &sink.plain_url(),
        &["--yes"],
        &[],
    );
    assert_eq!(clear.code, 1, "{clear:?}");
    let database = url.rsplit('/').next().unwrap_or_default();
    assert_eq!(
        said(&clear),
        format!(
            "error: the ledger URL?sslmode=disable: pg_hba.conf rejects connection for host \
             \"127.0.0.1\", user \"breves\", database \"{database}\", no encryption\n"
        )
    );
    // A file of authorities that cannot be read is said so.
    let missing = in_tls.send(
        &list,
        &sink.plain_url(),
        &["--yes"],
        &[("PGSSLROOTCERT", "/nonexistent/root.crt")],
    );
    assert_eq!(missing.code, 1, "{missing:?}");
    assert_eq!(
        said(&missing),
        "error: the ledger URL?sslmode=require: PGSSLROOTCERT names \
         /nonexistent/root.crt, which cannot be read: No such file or directory (os error 2)\n"
    );
    assert_eq!(sink.messages().len(), 3, "nobody mailed twice");
}

#[test]
fn a_joining_run_takes_the_send_as_it_stands_and_only_with_the_same_issue_file() {
    use crate::plan::{issue, keys, list, prepare, run};
    use breves::plan::{Plan, Request};
    use breves::unsubscribe::Signer;
    use std::sync::Arc;
    let dir = common::tempdir();
    let (issue, list) = (issue(), list(dir.path(), 6));
    let signer = || Signer::new(b"a secret of at least sixteen bytes").expect("secret");
    let join =
        |ledger: &Arc<Ledger>, issue| Plan::join(issue, &list, Arc::clone(ledger), signer(), None);
    // Only a database is shared.
    let in_a_file = Arc::new(Ledger::open(&dir.path().join("l.sqlite3")).expect("ledger"));
    assert!(matches!(
        join(&in_a_file, &issue),
        Err(breves::Error::JoinNeedsDatabase)
    ));
    let url = common::postgres::database();
    let ledger = Arc::new(Ledger::open(std::path::Path::new(&url)).expect("ledger"));
    // Nothing started: nothing to join.
    assert!(matches!(
        join(&ledger, &issue),
        Err(breves::Error::NothingToJoin { .. })
    ));
    // Started on another machine: two sent, four left, one of whom left
    // the list since.
    let canary = Request {
        limit: Some(2),
        ..Request::default()
    };
    let first = prepare(&issue, &list, &ledger, &canary).expect("plan");
    run(&first, &issue);
    drop(first);
    ledger
        .suppress(&list.id, &keys(&["m5"])[0], "one-click")
        .expect("suppress");
    let joining = join(&ledger, &issue).expect("joins");
    assert!(joining.is_joining());
    assert_eq!(
        (
            joining.to_send,
            joining.start.resumed,
            joining.start.to_send,
            joining.left_out
        ),
        (4, true, 4, 1),
        "to send, resumed, the send's own count, left out"
    );
    drop(joining);
    // The issue file changed since the send started: refused.
    let changed = dir.path().join("issue.toml");
    let text = std::fs::read_to_string(common::root().join(common::SMALL_ISSUE)).expect("issue");
    std::fs::write(&changed, text.replacen("marquant", "saillant", 1)).expect("changed");
    let changed = Issue::load(&changed).expect("still valid").0;
    assert_eq!(changed.id, issue.id);
    assert_ne!(changed.fingerprint, issue.fingerprint);
    assert!(matches!(
        join(&ledger, &changed),
        Err(breves::Error::JoinChanged { .. })
    ));
}
