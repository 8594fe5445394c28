//! Sending for real, against SMTP servers the tests start on loopback:
//! Postfix's smtp-sink, and aiosmtpd (tests/support/smtpd.py) for TLS,
//! AUTH and faults on a share of messages.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::smtp::{Server, certificate, smtp_sink, smtpd};
use common::{Run, breves_with, parse, tempdir};

/// The secret shared by the tests' sends and unsubscription server.
pub(crate) const SECRET: &str = "a test secret of more than sixteen bytes";

/// The receiving members of the shipped list, lowercase.
const SHIPPED: usize = 11;

/// A folder holding a ledger (or the URL of one in PostgreSQL) and, if
/// asked, a generated list.
pub(crate) struct Sender {
    dir: tempfile::TempDir,
    database: Option<String>,
}

impl Sender {
    pub(crate) fn new() -> Self {
        Sender {
            dir: tempdir(),
            database: None,
        }
    }

    /// A sender whose ledger is a new database of the tests' PostgreSQL.
    pub(crate) fn with_postgres() -> Self {
        Sender {
            dir: tempdir(),
            database: Some(common::postgres::database()),
        }
    }

    /// The same, its ledger in the PostgreSQL database at `url`.
    pub(crate) fn with_database(url: String) -> Self {
        Sender {
            dir: tempdir(),
            database: Some(url),
        }
    }

    pub(crate) fn ledger(&self) -> PathBuf {
        match &self.database {
            Some(url) => PathBuf::from(url),
            None => self.dir.path().join("ledger.sqlite3"),
        }
    }

    /// A list of `n` members of the shipped issue's sections.
    pub(crate) fn list(&self, n: usize) -> PathBuf {
        let mut text = String::from(
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
             unsubscribe = \"desabonnement@example.fr\"\n\
             unsubscribe_url = \"https://breves.example.fr/desabonnement\"\n\
             topics = { economie-numerique = \"E\", donnees-ia = \"D\", cybersecurite = \"C\", spatial = \"S\", nouvelles-technologies = \"N\", ecosysteme-tech = \"T\" }\n",
        );
        let ids = ["spatial", "cybersecurite", "donnees-ia"];
        for i in 0..n {
            text.push_str(&format!(
                "[[member]]\nemail = \"abonne{i}@example.org\"\ninterests = [\"{}\"]\n",
                ids[i % ids.len()]
            ));
        }
        let path = self.dir.path().join("list.toml");
        fs::write(&path, text).expect("write list");
        path
    }

    /// A list of `n` members spread over three domains.
    fn list_across_domains(&self, n: usize) -> PathBuf {
        let path = self.list(n);
        let text = fs::read_to_string(&path).expect("list");
        let mut out = String::new();
        let mut i = 0;
        for line in text.lines() {
            if line.starts_with("email = ") {
                let domain = ["example.org", "example.com", "example.fr"][i % 3];
                out.push_str(&line.replace("example.org", domain));
                i += 1;
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        fs::write(&path, out).expect("write list");
        path
    }

    pub(crate) fn send(&self, list: &Path, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mut args: Vec<String> = vec![
            "send".into(),
            common::ISSUE.into(),
            "--subscribers".into(),
            list.display().to_string(),
            "--smtp".into(),
            url.into(),
            "--ledger".into(),
            self.ledger().display().to_string(),
            "--retry-delay".into(),
            "0.05".into(),
        ];
        if !extra.contains(&"--timeout") {
            args.extend(["--timeout".into(), "10".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut env = env.to_vec();
        if !env.iter().any(|(k, _)| *k == "BREVES_UNSUBSCRIBE_SECRET") {
            env.push(("BREVES_UNSUBSCRIBE_SECRET", SECRET));
        }
        breves_with(args, &env)
    }

    /// The command of a send of the shipped issue to `list` through `url`,
    /// recording in this ledger, with `extra` arguments: for a test that
    /// runs it as a process of its own.
    pub(crate) fn command(&self, list: &Path, url: &str, extra: &[&str]) -> std::process::Command {
        let mut command = common::command();
        command
            .env("BREVES_UNSUBSCRIBE_SECRET", SECRET)
            .arg("send")
            .arg(common::ISSUE)
            .arg("--subscribers")
            .arg(list)
            .arg("--smtp")
            .arg(url)
            .arg("--ledger")
            .arg(self.ledger())
            .args(extra);
        command
    }

    /// `breves ARGS --subscribers LIST --ledger LEDGER`: a command about
    /// the readers of `list` in this ledger.
    pub(crate) fn readers(&self, list: &Path, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend([
            "--subscribers".to_owned(),
            list.display().to_string(),
            "--ledger".to_owned(),
            self.ledger().display().to_string(),
        ]);
        breves_with(all, &[])
    }

    pub(crate) fn status(&self, list: &Path) -> Run {
        common::status(list, &self.ledger())
    }
}

fn shipped() -> PathBuf {
    common::root().join(common::LIST)
}

fn assert_each_once(server: &Server, expected: usize) -> HashMap<String, usize> {
    let counts = server.counts();
    assert_eq!(counts.len(), expected, "recipients reached: {counts:?}");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mailed more than once: {twice:?}");
    counts
}

/// An aiosmtpd server speaking TLS (`mode`: `--implicit` or `--starttls`)
/// with a certificate made for the test, and more options; the certificate
/// (its own authority) is returned for `--smtp-ca`.
pub(crate) fn tls_server(mode: &str, options: &[&str]) -> (Server, PathBuf, tempfile::TempDir) {
    let certs = tempdir();
    let (cert, key) = certificate(certs.path());
    let mut all = vec![
        mode,
        cert.to_str().expect("utf-8"),
        key.to_str().expect("utf-8"),
    ];
    all.extend_from_slice(options);
    let server = smtpd(&all);
    (server, cert, certs)
}

#[test]
fn every_recipient_once_with_the_right_message() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let out = run.send(&shipped(), &sink.plain_url(), &["--concurrency", "3"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("11 sent, 1 skipped, 0 failed, 0 uncertain"),
        "{out:?}"
    );
    assert_each_once(&sink, SHIPPED);
    for (rcpt, bytes) in sink.messages() {
        let message = parse(&bytes);
        let to = message
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.address())
            .expect("To");
        assert_eq!(to.to_lowercase(), rcpt, "each envelope matches its To");
        assert_eq!(
            message.subject(),
            Some("Brèves numériques Royaume-Uni, 26 février au 3 avril 2026")
        );
        assert!(message.body_html(0).is_some() && message.body_text(0).is_some());
    }
    // Chloé chose Spatial only.
    let chloe = sink
        .messages()
        .into_iter()
        .find(|(r, _)| r == "chloe.oconnor@example.org")
        .expect("Chloé's message");
    let text = parse(&chloe.1).body_text(0).expect("text").into_owned();
    assert!(text.contains("SPATIAL") && !text.contains("CYBERSÉCURITÉ"));

    // Run again: nobody is mailed twice.
    let again = run.send(&shipped(), &sink.plain_url(), &[], &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("Nothing to send"), "{again:?}");
    assert_each_once(&sink, SHIPPED);
    let status = run.status(&shipped());
    assert!(status.stdout.contains("sent       11"), "{status:?}");
}

#[test]
fn transient_failures_and_dropped_connections_cost_time_not_recipients() {
    let server = smtpd(&["--soft", "35", "--drop", "25"]);
    let run = Sender::new();
    let list = run.list(60);
    let out = run.send(&list, &server.plain_url(), &["--concurrency", "4"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("60 sent"), "{out:?}");
    assert!(
        out.stdout.contains("transient failure(s) were retried"),
        "{out:?}"
    );
    assert_each_once(&server, 60);
    let log = server.log();
    let retried = log
        .iter()
        .filter(|e| e["attempt"].as_u64() == Some(2))
        .count();
    assert!(
        retried >= 10,
        "the faults did happen: {retried} second attempts"
    );
}

#[test]
fn a_retry_waits_its_back_off_and_each_is_counted() {
    // Every recipient gets a 451 on the first attempt; with --retry-delay 1
    // a second attempt comes 0.5 to 1.5 s later (±50 %), never sooner.
    let server = smtpd(&["--soft", "100"]);
    let run = Sender::new();
    let list = run.list(3);
    let started = Instant::now();
    let out = breves_with(
        [
            "send",
            common::ISSUE,
            "--subscribers",
            list.to_str().expect("utf-8"),
            "--smtp",
            &server.plain_url(),
            "--ledger",
            run.ledger().to_str().expect("utf-8"),
            "--retry-delay",
            "1",
            "--concurrency",
            "1",
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("  3 transient failure(s) were retried."),
        "{out:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the back-off was waited: {:?}",
        started.elapsed()
    );
    assert_each_once(&server, 3);
}

#[test]
fn permanent_failures_are_recorded_not_retried_and_reported() {
    let server = smtpd(&[
        "--reject",
        "abonne3@example.org",
        "--reject",
        "abonne7@example.org",
    ]);
    let run = Sender::new();
    let list = run.list(10);
    let out = run.send(&list, &server.plain_url(), &[], &[]);
    assert_eq!(out.code, 3, "not everyone was served: {out:?}");
    assert!(
        out.stdout.contains("8 sent, 0 skipped, 2 failed"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains(
            "failed abonne3@example.org: 550 5.1.1 <abonne3@example.org>: mailbox unavailable"
        ),
        "{out:?}"
    );
    let status = run.status(&list);
    assert!(status.stdout.contains("failed     2"), "{status:?}");
    assert!(
        status.stdout.contains("failed abonne7@example.org: 550"),
        "{status:?}"
    );
    // Not retried, now or on the next run.
    let again = run.send(&list, &server.plain_url(), &[], &[]);
    assert!(again.stdout.contains("Nothing to send"), "{again:?}");
    let attempts = server
        .log()
        .iter()
        .filter(|e| e["address"] == "abonne3@example.org")
        .count();
    assert_eq!(attempts, 1);
    assert_each_once(&server, 8);
}

#[test]
fn a_send_begun_under_the_issues_former_id_goes_on_under_it() {
    // A breves of longer ids began the send: it recorded the issue under
    // its title, subtitle and period in full.
    let former = "breves-numeriques-royaume-uni-2026-02-26-2026-04-03";
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(12);
    let first = run.send(&list, &sink.plain_url(), &["--yes", "--limit", "5"], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    let db = rusqlite::Connection::open(run.ledger()).expect("the ledger");
    for table in ["sends", "deliveries"] {
        db.execute(&format!("UPDATE {table} SET issue = ?1"), [former])
            .expect("as an older breves recorded it");
    }
    drop(db);
    // The same file, read by this breves: the send goes on where it stood,
    // under the id it began with, and nobody is mailed twice.
    let rest = run.send(&list, &sink.plain_url(), &["--yes"], &[]);
    assert_eq!(rest.code, 0, "{rest:?}");
    assert!(
        rest.stdout.starts_with(&format!(
            "Resuming the send of {former} to the list essai: 5 already sent"
        )),
        "{rest:?}"
    );
    assert_each_once(&sink, 12);
    let later: Vec<String> = sink
        .messages()
        .iter()
        .filter_map(|(_, bytes)| {
            let text = String::from_utf8_lossy(bytes);
            let id = text.lines().find_map(|l| l.strip_prefix("Message-ID: <"))?;
            Some(id.to_owned())
        })
        .filter(|id| id.starts_with(former))
        .collect();
    assert_eq!(
        later.len(),
        7,
        "the messages of the resumed send: {later:?}"
    );
    let status = run.status(&list);
    assert!(status.stdout.contains(former), "{status:?}");
}

#[test]
fn retry_failed_sends_again_to_those_refused_for_good() {
    let refusing = smtpd(&["--reject", "abonne3@example.org"]);
    let run = Sender::new();
    let list = run.list(6);
    let out = run.send(&list, &refusing.plain_url(), &[], &[]);
    assert_eq!(out.code, 3, "{out:?}");
    // The next run does not send to them, and says how to.
    let sink = smtp_sink(&[]);
    let out = run.send(&list, &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(
            "Nothing to send: every recipient of bnru68-260226-260403 to the list essai has been served, 1 of them refused for good. `breves status` lists them; once the cause is fixed, --retry-failed sends to them again."
        ),
        "{out:?}"
    );
    assert!(sink.messages().is_empty());
    // The address was fixed at the recipient's end: --retry-failed.
    let out = run.send(&list, &sink.plain_url(), &["--retry-failed"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("1 to send, of which 1 refused for good before sent again (--retry-failed)"),
        "{out:?}"
    );
    assert_eq!(
        sink.counts(),
        HashMap::from([("abonne3@example.org".to_owned(), 1)])
    );
}

/// Runs a send that must stop on a problem that is not the recipients',
/// then the same command through a relay that works: everyone is served
/// once, nobody was charged with the problem.
fn stops_then_serves_everyone(run: &Sender, list: &Path, broken: &str, expected: &str, n: usize) {
    let out = run.send(list, broken, &[], &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.contains(expected), "{out:?}");
    assert!(
        out.stdout.contains(", 0 failed,")
            && out
                .stdout
                .contains(&format!("{n} recipient(s) not attempted")),
        "{out:?}"
    );
    let status = run.status(list);
    assert!(
        !status.stdout.contains("failed") && status.stdout.contains(&format!("pending    {n}")),
        "nobody is recorded as refused: {status:?}"
    );
    // Those the connections had set aside next are given back: a power cut
    // now would not count them as maybe sent.
    let held: usize = rusqlite::Connection::open(run.ledger())
        .and_then(|db| {
            db.query_row("SELECT COUNT(*) FROM deliveries WHERE held", [], |r| {
                r.get(0)
            })
        })
        .expect("the ledger");
    assert_eq!(held, 0, "rows left set aside");
    let sink = smtp_sink(&[]);
    let out = run.send(list, &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_each_once(&sink, n);
}

#[test]
fn a_refused_sender_stops_the_run_and_charges_no_recipient() {
    let server = smtpd(&["--reject-sender"]);
    let run = Sender::new();
    let list = run.list(12);
    stops_then_serves_everyone(
        &run,
        &list,
        &server.plain_url(),
        "stopped: the relay refused the sender (553 5.7.1 <breves@example.fr>: sender address rejected: not owned by the user)",
        12,
    );
    assert!(server.log().iter().all(|e| e["event"] != "rcpt"));
}

#[test]
fn a_message_refused_for_its_content_again_and_again_stops_the_run() {
    // Every message refused for its content, at one domain: after
    // RELAY_STREAK in a row, the relay's (or the sender's) problem, not
    // each reader's; they are given back.
    let server = smtpd(&["--reply-data", "554 5.7.1 message content rejected"]);
    let run = Sender::new();
    let list = run.list(12);
    stops_then_serves_everyone(
        &run,
        &list,
        &server.plain_url(),
        "stopped: the relay refused 10 recipients in a row with the same reply (554 5.7.1 message content rejected)",
        12,
    );
}

#[test]
fn one_message_refused_after_its_content_is_its_recipients_and_the_send_goes_on() {
    let server = smtpd(&["--refuse-data-for", "abonne3@example.org"]);
    let run = Sender::new();
    let list = run.list(12);
    let out = run.send(&list, &server.plain_url(), &[], &[]);
    assert!(
        out.stdout
            .contains("11 sent, 0 skipped, 1 failed, 0 uncertain"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("\n  failed abonne3@example.org: 554 5.7.1 <abonne3@example.org>: message refused by the recipient's filter\n"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("stopped"), "{out:?}");
    // The next run does not stop at them: there is nobody left to send.
    let again = run.send(&list, &server.plain_url(), &[], &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(!again.stdout.contains("stopped"), "{again:?}");
    let counts = server.counts();
    assert_eq!(counts.len(), 11, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[test]
fn a_relay_that_drops_every_message_unanswered_is_stopped_early() {
    // Each message taken, then the connection closed before the reply:
    // every outcome unknown. The run stops after UNCERTAIN_STREAK in a
    // row, leaving the rest not attempted rather than uncertain.
    let server = smtpd(&["--lose-all"]);
    let run = Sender::new();
    let list = run.list(60);
    let out = run.send(&list, &server.plain_url(), &[], &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout.contains(
            "stopped: the connection to the relay was lost after the message 10 times in a row"
        ),
        "{out:?}"
    );
    let number = |label: &str| -> usize {
        let at = out
            .stdout
            .find(label)
            .unwrap_or_else(|| panic!("{label}: {out:?}"));
        out.stdout[..at]
            .rsplit(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{label}: {out:?}"))
    };
    let uncertain = number(" uncertain");
    let untried = number(" recipient(s) not attempted");
    // Ten, and at most those already in flight on the other connections.
    assert!((10..=20).contains(&uncertain), "{uncertain}: {out:?}");
    assert_eq!(uncertain + untried, 60, "{out:?}");
    let status = run.status(&list);
    assert!(
        status.stdout.contains(&format!("uncertain  {uncertain}")),
        "{status:?}"
    );
}

#[test]
fn a_message_larger_than_the_relay_takes_is_never_uploaded() {
    let server = smtpd(&["--max-size", "20000"]);
    let run = Sender::new();
    let list = run.list(12);
    stops_then_serves_everyone(
        &run,
        &list,
        &server.plain_url(),
        "takes messages of at most 20000 bytes (EHLO SIZE)",
        12,
    );
    assert!(
        server.log().iter().all(|e| e["event"] != "mail"),
        "not even MAIL FROM was sent: {:?}",
        server.log()
    );
}

#[test]
fn the_same_refusal_for_many_in_a_row_is_the_relays() {
    // A reply whose words say nothing of the sender: only its repetition
    // across domains shows it is the relay's.
    let server = smtpd(&["--reject-every-rcpt", "550 5.7.1 delivery not authorized"]);
    let run = Sender::new();
    let list = run.list_across_domains(30);
    stops_then_serves_everyone(
        &run,
        &list,
        &server.plain_url(),
        "the relay refused 10 recipients in a row with the same reply (550 5.7.1 delivery not authorized)",
        30,
    );
}

#[test]
fn a_refusal_about_the_sender_at_rcpt_stops_the_run_whatever_the_domains() {
    // Every member at one domain: no count across domains can tell the
    // relay's refusal from theirs, its reason does.
    for reply in [
        "553 5.1.8 <breves@example.fr>: Sender address rejected: Domain not found",
        "554 5.7.1 <abonne0@example.org>: Relay access denied",
    ] {
        let server = smtpd(&["--reject-every-rcpt", reply]);
        let run = Sender::new();
        let list = run.list(30);
        stops_then_serves_everyone(
            &run,
            &list,
            &server.plain_url(),
            &format!("stopped: the relay refused the sender ({reply})"),
            30,
        );
    }
}

#[test]
fn a_relay_down_longer_than_the_retry_window_leaves_everyone_to_send() {
    let run = Sender::new();
    let list = run.list(8);
    // Nothing listens there.
    let closed = format!("smtp://127.0.0.1:{}?tls=none", common::smtp::free_port());
    let out = run.send(&list, &closed, &["--attempts", "2"], &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout
            .contains("stopped: the relay could not be reached for 2 attempts"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("8 recipient(s) not attempted"),
        "{out:?}"
    );
    let sink = smtp_sink(&[]);
    let out = run.send(&list, &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_each_once(&sink, 8);
}

#[test]
fn a_reply_lost_after_the_message_is_uncertain_and_resent() {
    let server = smtpd(&["--lose", "abonne2@example.org"]);
    let run = Sender::new();
    let list = run.list(5);
    let out = run.send(&list, &server.plain_url(), &[], &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout
            .contains("4 sent, 0 skipped, 0 failed, 1 uncertain"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("uncertain abonne2@example.org"),
        "{out:?}"
    );
    let status = run.status(&list);
    assert!(status.stdout.contains("uncertain  1"), "{status:?}");
    let again = run.send(&list, &server.plain_url(), &[], &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains("of which 1 of uncertain outcome"),
        "{again:?}"
    );
    assert!(again.stdout.contains("1 sent"), "{again:?}");
    let counts = server.counts();
    assert_eq!(
        counts["abonne2@example.org"], 2,
        "the relay had it: the one possible duplicate"
    );
    assert_eq!(counts.values().filter(|n| **n == 1).count(), 4);
}

/// Starts a send in the background, kills it with SIGKILL once the server
/// holds `after` messages, then runs the same command to its end. Returns
/// the server's count of messages per recipient and the second run.
fn kill_9_then_resume(
    sink: &Server,
    members: usize,
    extra: &[&str],
    after: usize,
    meanwhile: impl FnOnce(&Path),
) -> (HashMap<String, usize>, Run, usize) {
    kill_9_then_resume_with(&Sender::new(), sink, members, extra, after, meanwhile)
}

/// [`kill_9_then_resume`], recording in `run`'s ledger.
pub(crate) fn kill_9_then_resume_with(
    run: &Sender,
    sink: &Server,
    members: usize,
    extra: &[&str],
    after: usize,
    meanwhile: impl FnOnce(&Path),
) -> (HashMap<String, usize>, Run, usize) {
    let at = Kill {
        after,
        once: &|_: &Path| true,
    };
    kill_9_then_resume_when(run, sink, members, extra, at, meanwhile)
}

/// When a send is killed: once the sink holds `after` messages and the
/// ledger passes `once`, so that a test never depends on how fast the
/// send went meanwhile.
pub(crate) struct Kill<'a> {
    pub(crate) after: usize,
    pub(crate) once: &'a dyn Fn(&Path) -> bool,
}

/// [`kill_9_then_resume_with`], killed at `at`.
pub(crate) fn kill_9_then_resume_when(
    run: &Sender,
    sink: &Server,
    members: usize,
    extra: &[&str],
    at: Kill<'_>,
    meanwhile: impl FnOnce(&Path),
) -> (HashMap<String, usize>, Run, usize) {
    let list = run.list(members);
    let mut args = vec![
        "send".to_owned(),
        common::ISSUE.to_owned(),
        "--subscribers".to_owned(),
        list.display().to_string(),
        "--smtp".to_owned(),
        sink.plain_url(),
        "--ledger".to_owned(),
        run.ledger().display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut child = common::command()
        .env("BREVES_UNSUBSCRIBE_SECRET", SECRET)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("breves starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while (sink.messages().len() < at.after || !(at.once)(&run.ledger()))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let before = sink.messages().len();
    assert!(
        before > 0 && before < members,
        "killed part-way: {before} messages"
    );
    meanwhile(&run.ledger());
    let out = breves_with(&args[..], &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)]);
    assert_eq!(out.code, 0, "{out:?}");
    (sink.counts(), out, before)
}

pub(crate) fn duplicates(counts: &HashMap<String, usize>) -> usize {
    counts.values().map(|n| n - 1).sum()
}

/// Checks that each of `members` was served, and at most `connections`
/// twice; gives the duplicates.
pub(crate) fn everyone_once_but_those_in_flight(
    counts: &HashMap<String, usize>,
    members: usize,
    connections: usize,
) -> usize {
    assert_eq!(counts.len(), members, "everyone served in the end");
    let dups = duplicates(counts);
    assert!(
        dups <= connections,
        "{dups} duplicates, more than the {connections} connections in flight"
    );
    dups
}

#[test]
fn kill_9_at_full_speed_then_the_same_command_serves_everyone() {
    let sink = smtp_sink(&[]);
    let (counts, out, before) =
        kill_9_then_resume(&sink, 1000, &["--concurrency", "4"], 150, |_| {});
    assert_eq!(counts.len(), 1000, "everyone served in the end");
    let dups = duplicates(&counts);
    assert!(
        dups <= 4,
        "{dups} duplicates, more than the 4 connections in flight"
    );
    if dups > 0 {
        assert!(out.stdout.contains("of uncertain outcome"), "{out:?}");
    }
    println!("kill -9 at full speed after {before} messages: {dups} duplicate(s)");
}

#[test]
fn kill_9_with_every_connection_in_flight_resends_only_those() {
    // The sink waits a second before answering each message's final dot,
    // so at the kill every connection has a message of unknown outcome.
    let sink = smtp_sink(&["-W", ".:1"]);
    let (counts, out, before) = kill_9_then_resume(&sink, 24, &["--concurrency", "4"], 6, |_| {});
    let dups = everyone_once_but_those_in_flight(&counts, 24, 4);
    // The resumed run says how many were uncertain: every connection's
    // message, of which those the sink had stored are the duplicates. (The
    // next recipient each connection had set aside is not among them: on
    // the same boot, its mark would be there had it left.)
    let uncertain = uncertain_resent(&out);
    assert!(
        (dups..=4).contains(&uncertain),
        "{uncertain} uncertain for {dups} duplicates: {out:?}"
    );
    println!(
        "kill -9 with the relay slow to reply, after {before} messages: {dups} duplicate(s); {}",
        out.stdout.lines().next().unwrap_or_default()
    );
}

/// How many of uncertain outcome a resumed run says it sends again.
pub(crate) fn uncertain_resent(out: &Run) -> usize {
    out.stdout
        .split("of which ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of uncertain messages: {out:?}"))
}

#[test]
fn after_a_power_cut_every_recipient_set_aside_is_sent_again_as_uncertain() {
    // As above, every connection in flight at the kill. Then what a power
    // cut does to the ledger: the machine starts again (another boot), and
    // the marks written since the last flush are gone (the messages on the
    // wire are back to pending, only set aside).
    let sink = smtp_sink(&["-W", ".:1"]);
    // Killed once a message on the wire is one its connection had set
    // aside, however fast the send went until then.
    let on_the_wire_set_aside = |ledger: &Path| {
        rusqlite::Connection::open(ledger)
            .and_then(|db| {
                db.query_row(
                    "SELECT count(*) FROM deliveries WHERE state = 'sending' AND held",
                    [],
                    |row| row.get::<_, i64>(0),
                )
            })
            .is_ok_and(|n| n > 0)
    };
    let at = Kill {
        after: 6,
        once: &on_the_wire_set_aside,
    };
    let run = Sender::new();
    let (counts, out, before) =
        kill_9_then_resume_when(&run, &sink, 24, &["--concurrency", "4"], at, |ledger| {
            let db = rusqlite::Connection::open(ledger).expect("the ledger");
            db.execute("UPDATE sends SET boot = 'before the power cut'", [])
                .expect("another boot");
            let lost = db
                .execute(
                    "UPDATE deliveries SET state = 'pending' WHERE state = 'sending' AND held",
                    [],
                )
                .expect("marks lost");
            assert!(lost > 0, "messages on the wire were set aside first");
        });
    let dups = everyone_once_but_those_in_flight(&counts, 24, 4);
    // Each connection's message on the wire and the next it had set aside
    // are of unknown outcome: at most two a connection (three when the
    // outcome before was not flushed either), every duplicate among them.
    let uncertain = uncertain_resent(&out);
    assert!(
        (dups.max(1)..=8).contains(&uncertain),
        "{uncertain} uncertain for {dups} duplicates: {out:?}"
    );
    println!("a power cut after {before} messages: {dups} duplicate(s), {uncertain} uncertain");
}

#[test]
fn starttls_with_auth_delivers_and_keeps_the_password_out_of_sight() {
    let (server, cert, _certs) = tls_server("--starttls", &["--auth", "editeur:s3cret-Pa55"]);
    let run = Sender::new();
    let url = format!("smtp://editeur@127.0.0.1:{}", server.port);
    let out = run.send(
        &shipped(),
        &url,
        &["--smtp-ca", cert.to_str().expect("utf-8")],
        &[("BREVES_SMTP_PASSWORD", "s3cret-Pa55")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_each_once(&server, SHIPPED);
    let auth: Vec<_> = server
        .log()
        .into_iter()
        .filter(|e| e["event"] == "auth")
        .collect();
    assert!(
        !auth.is_empty() && auth.iter().all(|e| e["ok"] == true && e["tls"] == true),
        "{auth:?}"
    );
    assert!(!out.stdout.contains("s3cret") && !out.stderr.contains("s3cret"));

    // A wrong password stops the run with a clear message, nothing sent.
    let other = Sender::new();
    let out = other.send(
        &shipped(),
        &url,
        &["--smtp-ca", cert.to_str().expect("utf-8")],
        &[("BREVES_SMTP_PASSWORD", "wrong")],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("refused the credentials of editeur"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("wrong"), "{out:?}");
}

#[test]
fn data_injected_after_the_starttls_reply_ends_the_connection() {
    // The server (or someone on the path) appends a forged EHLO reply
    // offering AUTH to its reply to STARTTLS. Read as if it came through
    // TLS, it would shift every later reply by one and draw the password
    // out; breves must stop before the handshake.
    let (server, cert, _certs) = tls_server(
        "--starttls",
        &["--auth", "editeur:s3cret-Pa55", "--inject-after-starttls"],
    );
    let run = Sender::new();
    let out = run.send(
        &shipped(),
        &format!("smtp://editeur@127.0.0.1:{}", server.port),
        &["--smtp-ca", cert.to_str().expect("utf-8")],
        &[("BREVES_SMTP_PASSWORD", "s3cret-Pa55")],
    );
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout
            .contains("sent data after its reply to STARTTLS, before the TLS handshake"),
        "{out:?}"
    );
    assert!(
        server.log().iter().all(|e| e["event"] != "auth"),
        "no AUTH reached the server: {:?}",
        server.log()
    );
    assert!(server.messages().is_empty());
}

#[test]
fn a_ledger_that_cannot_grow_stops_the_send_with_its_summary() {
    // The ledger's files may not grow past 400 KiB, as on a full disk: the
    // send stops when a mark cannot be recorded, says what was sent, and
    // exits 3; the next run, with room again, serves the rest, nobody twice.
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(300);
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "send",
            common::ISSUE,
            "--subscribers",
            list.to_str().expect("utf-8"),
            "--smtp",
            &sink.plain_url(),
            "--ledger",
            run.ledger().to_str().expect("utf-8"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let out = common::breves_with_file_limit(
        400,
        args(&["--concurrency", "1"]),
        &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
    );
    assert_eq!(out.code, 3, "{out:?}");
    let sent = sink.messages().len();
    assert!(
        sent > 0 && sent < 300,
        "{sent} sent before the ledger was full"
    );
    assert!(
        out.stdout
            .contains(&format!("to the list essai: {sent} sent"))
            && out
                .stdout
                .contains("stopped: the ledger cannot record any more")
            // With SQLite's own reason, whichever request met it first.
            && out.stdout.contains("disk I/O error")
            && out
                .stdout
                .contains("not attempted: run the same command again"),
        "{out:?}"
    );
    let out = breves_with(args(&[]), &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)]);
    assert_eq!(out.code, 0, "{out:?}");
    let counts = sink.counts();
    assert_eq!(counts.len(), 300);
    // The one whose outcome could not be recorded may be sent twice.
    assert!(duplicates(&counts) <= 1, "{counts:?}");
}

#[test]
fn two_issues_saved_under_one_file_name_are_two_sends() {
    // March and April, each saved as lettre.toml in a folder of its own,
    // with no `id`: each is sent to everyone, with its own Message-IDs.
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(3);
    let shipped = fs::read_to_string(common::root().join(common::ISSUE)).expect("issue");
    let april_text = shipped.replace(
        "period = { from = 2026-02-26, to = 2026-04-03 }",
        "period = { from = 2026-04-04, to = 2026-05-01 }",
    );
    assert_ne!(april_text, shipped);
    for (month, text) in [("mars", &shipped), ("avril", &april_text)] {
        let dir = run.dir.path().join(month);
        fs::create_dir(&dir).expect("folder");
        let issue = dir.join("lettre.toml");
        fs::write(&issue, text).expect("issue");
        let out = breves_with(
            [
                "send",
                issue.to_str().expect("utf-8"),
                "--subscribers",
                list.to_str().expect("utf-8"),
                "--smtp",
                &sink.plain_url(),
                "--ledger",
                run.ledger().to_str().expect("utf-8"),
            ],
            &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
        );
        assert_eq!(out.code, 0, "{month}: {out:?}");
        assert!(out.stdout.contains(": 3 sent"), "{month}: {out:?}");
    }
    assert_eq!(sink.messages().len(), 6, "each issue to each member");
    let message_ids: HashSet<String> = sink
        .messages()
        .iter()
        .map(|(_, bytes)| parse(bytes).message_id().expect("a Message-ID").to_owned())
        .collect();
    assert_eq!(message_ids.len(), 6, "{message_ids:?}");
}

#[test]
fn implicit_tls_delivers() {
    let (server, cert, _certs) = tls_server("--implicit", &[]);
    let run = Sender::new();
    let out = run.send(
        &shipped(),
        &format!("smtps://127.0.0.1:{}", server.port),
        &["--smtp-ca", cert.to_str().expect("utf-8")],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_each_once(&server, SHIPPED);
}

#[test]
fn an_untrusted_certificate_stops_before_anything_is_sent() {
    for (mode, scheme) in [("--implicit", "smtps"), ("--starttls", "smtp")] {
        let (server, _cert, _certs) = tls_server(mode, &[]);
        let run = Sender::new();
        let out = run.send(
            &shipped(),
            &format!("{scheme}://127.0.0.1:{}", server.port),
            &[],
            &[],
        );
        assert_ne!(out.code, 0, "{mode}: {out:?}");
        assert!(
            out.stdout.contains("certificate cannot be trusted"),
            "{mode}: {out:?}"
        );
        assert!(!out.stdout.contains("refused STARTTLS"), "{mode}: {out:?}");
        assert!(server.messages().is_empty(), "{mode}");
    }
}

#[test]
fn a_relay_that_refuses_starttls_is_said_to_refuse_it_and_gets_nothing_in_plain_text() {
    let (server, cert, _certs) = tls_server(
        "--starttls",
        &[
            "--refuse-starttls",
            "454 4.7.0 TLS not available due to local problem",
        ],
    );
    let run = Sender::new();
    let out = run.send(
        &shipped(),
        &format!("smtp://127.0.0.1:{}", server.port),
        &["--smtp-ca", cert.to_str().expect("utf-8")],
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(
            "the relay refused STARTTLS (454 4.7.0 TLS not available due to local problem): breves sends neither credentials nor mail in plain text"
        ),
        "{out:?}"
    );
    assert!(!out.stdout.contains("certificate"), "{out:?}");
    assert!(server.log().iter().all(|e| e["event"] != "mail"));
    assert!(server.messages().is_empty());
}

#[test]
fn a_temporary_authentication_failure_is_retried_not_called_a_wrong_password() {
    let (server, cert, _certs) = tls_server(
        "--starttls",
        &[
            "--auth",
            "editeur:s3cret",
            "--auth-reply",
            "454 4.7.0 Temporary authentication failure",
        ],
    );
    let run = Sender::new();
    let list = run.list(3);
    let out = run.send(
        &list,
        &format!("smtp://editeur@127.0.0.1:{}", server.port),
        &[
            "--smtp-ca",
            cert.to_str().expect("utf-8"),
            "--attempts",
            "2",
        ],
        &[("BREVES_SMTP_PASSWORD", "s3cret")],
    );
    // The relay's, not the password's, nor the recipients': tried again,
    // then the run stops with everyone left to send.
    assert_eq!(out.code, 3, "{out:?}");
    assert!(!out.stdout.contains("refused the credentials"), "{out:?}");
    assert!(
        out.stdout.contains(
            "stopped: the relay could not be reached for 2 attempts over 0 s (it answered but would not open a session for now: 454 4.7.0 Temporary authentication failure)"
        ),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("0 sent, 0 skipped, 0 failed, 0 uncertain")
            && out.stdout.contains("3 recipient(s) not attempted"),
        "{out:?}"
    );
    let tries = server.log().iter().filter(|e| e["event"] == "auth").count();
    assert!(tries >= 2, "one AUTH an attempt: {tries}");
    assert!(server.messages().is_empty());
}

#[test]
fn a_relay_that_greets_with_a_refusal_stops_the_run_and_charges_no_recipient() {
    // smtp-sink `-r connect` greets with 4xx (try later), `-f connect`
    // with 5xx (no service here).
    for (option, stopped) in [
        (
            "-r",
            "stopped: the relay could not be reached for 2 attempts over 0 s (it answered but would not open a session for now: 4",
        ),
        ("-f", "stopped: the relay refused to open a session: 5"),
    ] {
        let sink = smtp_sink(&[option, "connect"]);
        let run = Sender::new();
        let list = run.list(3);
        let out = run.send(&list, &sink.plain_url(), &["--attempts", "2"], &[]);
        assert_eq!(out.code, 3, "{option}: {out:?}");
        assert!(out.stdout.contains(stopped), "{option}: {out:?}");
        assert!(
            out.stdout
                .contains("0 sent, 0 skipped, 0 failed, 0 uncertain")
                && out.stdout.contains("3 recipient(s) not attempted"),
            "{option}: {out:?}"
        );
        assert!(sink.messages().is_empty(), "{option}");
    }
}

#[test]
fn no_starttls_means_no_credentials_and_no_mail() {
    let server = smtpd(&["--auth", "editeur:s3cret", "--auth-plain"]);
    let run = Sender::new();
    let out = run.send(
        &shipped(),
        &format!("smtp://editeur@127.0.0.1:{}", server.port),
        &[],
        &[("BREVES_SMTP_PASSWORD", "s3cret")],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("does not offer STARTTLS"), "{out:?}");
    assert!(
        server.log().iter().all(|e| e["event"] != "auth"),
        "no AUTH was tried"
    );
    assert!(server.messages().is_empty());
    // smtp-sink offers no STARTTLS either.
    let sink = smtp_sink(&[]);
    let out = run.send(
        &shipped(),
        &format!("smtp://127.0.0.1:{}", sink.port),
        &[],
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(sink.messages().is_empty());
}

#[test]
fn plain_text_to_a_non_loopback_host_is_refused() {
    let run = Sender::new();
    for url in [
        "smtp://192.0.2.25:25?tls=none",
        "smtp://relay.example.org:25?tls=none",
    ] {
        let out = run.send(&shipped(), url, &[], &[]);
        assert_eq!(out.code, 1, "{url}: {out:?}");
        assert!(out.stderr.contains("only to a loopback address"), "{out:?}");
    }
    let out = run.send(&shipped(), "smtp://u:pw@relay.example.org", &[], &[]);
    assert!(out.stderr.contains("BREVES_SMTP_PASSWORD"), "{out:?}");
    assert!(
        !run.ledger().exists(),
        "refused before the ledger is touched"
    );
}

#[test]
fn send_needs_a_destination() {
    let out = breves_with(["send", common::ISSUE, "--subscribers", common::LIST], &[]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("--dry-run") && out.stderr.contains("--smtp"),
        "{out:?}"
    );
}

#[test]
fn only_and_limit_are_recorded_like_any_send() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    // A test send to an editor outside the list: every section.
    let out = run.send(
        &shipped(),
        &sink.plain_url(),
        &["--only", "editrice@example.fr"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let text = parse(&messages[0].1)
        .body_text(0)
        .expect("text")
        .into_owned();
    assert!(text.contains("Vous recevez toutes les rubriques"));
    let again = run.send(
        &shipped(),
        &sink.plain_url(),
        &["--only", "editrice@example.fr"],
        &[],
    );
    assert!(again.stdout.contains("Nothing to send"), "{again:?}");

    // A canary of 3, then the rest.
    let out = run.send(&shipped(), &sink.plain_url(), &["--limit", "3"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("3 sent"), "{out:?}");
    let out = run.send(&shipped(), &sink.plain_url(), &[], &[]);
    assert!(
        out.stdout.contains("3 already sent") && out.stdout.contains("8 sent"),
        "{out:?}"
    );
    let counts = sink.counts();
    assert_eq!(counts.len(), SHIPPED + 1);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[test]
fn a_changed_list_is_refused_on_resume_unless_accepted() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(6);
    let out = run.send(&list, &sink.plain_url(), &["--limit", "2"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    // abonne5 leaves, abonne9 joins.
    let text = fs::read_to_string(&list).expect("list");
    let text = text.replace("abonne5@example.org", "abonne9@example.org");
    fs::write(&list, text).expect("write");
    let out = run.send(&list, &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("1 new recipient(s): abonne9@example.org"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("no longer in the list (they will not be mailed): abonne5@example.org"),
        "{out:?}"
    );
    assert!(out.stderr.contains("--accept-changes"), "{out:?}");
    let out = run.send(&list, &sink.plain_url(), &["--accept-changes"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("Going on with the files as they are now (--accept-changes): 1 new recipient(s), 1 no longer in the list, 0 with other sections.\n"),
        "{out:?}"
    );
    let counts = sink.counts();
    assert!(
        !counts.contains_key("abonne5@example.org"),
        "a removed member is never mailed"
    );
    assert_eq!(counts.get("abonne9@example.org"), Some(&1));
    assert_eq!(counts.len(), 6);
}

#[test]
fn two_sends_of_one_issue_to_one_list_cannot_run_at_once() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(40);
    let mut first = run
        .command(&list, &sink.plain_url(), &["--rate", "10/s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("first send");
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.messages().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = run.send(&list, &sink.plain_url(), &[], &[]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(second.code, 1, "{second:?}");
    assert!(
        second.stderr.contains("another `breves send`"),
        "{second:?}"
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_the_next_run_finishes() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(100);
    let args = [
        "send".to_owned(),
        common::ISSUE.to_owned(),
        "--subscribers".to_owned(),
        list.display().to_string(),
        "--smtp".to_owned(),
        sink.plain_url(),
        "--ledger".to_owned(),
        run.ledger().display().to_string(),
        "--rate".to_owned(),
        "50/s".to_owned(),
    ];
    let child = common::command()
        .env("BREVES_UNSUBSCRIBE_SECRET", SECRET)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("breves starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.messages().len() < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success());
    let output = child.wait_with_output().expect("it ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("not attempted: run the same command again"),
        "{stdout}"
    );
    let stopped_at = sink.messages().len();
    assert!(stopped_at < 100, "it stopped early");
    let status = run.status(&list);
    assert!(
        !status.stdout.contains("sending"),
        "nothing left in flight: {status:?}"
    );
    let out = breves_with(&args[..], &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stdout.contains("uncertain outcome"),
        "a clean stop leaves nothing uncertain: {out:?}"
    );
    assert_each_once(&sink, 100);
}

#[test]
fn the_dry_run_never_touches_the_ledger() {
    let run = Sender::new();
    let out_dir = tempdir();
    let out = breves_with(
        [
            "send",
            common::ISSUE,
            "--subscribers",
            common::LIST,
            "--dry-run",
            &out_dir.path().display().to_string(),
        ],
        &[("BREVES_LEDGER", &run.ledger().display().to_string())],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!run.ledger().exists());
}

#[test]
fn on_a_terminal_a_send_is_confirmed_first_and_declining_records_nothing() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let command = format!(
        "{} send {} --subscribers {} --smtp '{}' --ledger {}",
        env!("CARGO_BIN_EXE_breves"),
        common::ISSUE,
        common::LIST,
        sink.plain_url(),
        run.ledger().display()
    );
    // `script` gives breves a real terminal; the answer comes on its input.
    let answer = |text: &str| {
        let mut script = std::process::Command::new("script")
            .env("BREVES_UNSUBSCRIBE_SECRET", SECRET)
            .args(["-qec", &command, "/dev/null"])
            .current_dir(common::root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux) runs");
        use std::io::Write;
        script
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("answer");
        let output = script.wait_with_output().expect("it ends");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let declined = answer("n\n");
    assert!(
        declined.contains("About to send bnru68-260226-260403 to the list londres"),
        "{declined}"
    );
    assert!(
        declined.contains("11 recipient(s) through smtp://127.0.0.1:"),
        "{declined}"
    );
    assert!(declined.contains("Nothing was sent."), "{declined}");
    assert!(sink.messages().is_empty());
    let status = run.status(&shipped());
    assert!(
        status.stdout.contains("has no send"),
        "declining records nothing: {status:?}"
    );

    let accepted = answer("y\n");
    assert!(accepted.contains("11 sent"), "{accepted}");
    assert_each_once(&sink, SHIPPED);
}

#[test]
fn a_log_gets_plain_progress_lines() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let out = run.send(&shipped(), &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("sent 11/11, failed 0,"), "{out:?}");
    assert!(
        !out.stderr.contains('\u{1b}'),
        "no terminal codes in a log: {out:?}"
    );
}

#[test]
fn uncertain_recipients_can_be_left_alone() {
    let server = smtpd(&["--lose", "abonne1@example.org"]);
    let run = Sender::new();
    let list = run.list(3);
    let out = run.send(&list, &server.plain_url(), &[], &[]);
    assert_eq!(out.code, 3, "{out:?}");
    let again = run.send(&list, &server.plain_url(), &["--skip-uncertain"], &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .contains("1 recipient(s) of uncertain outcome left alone"),
        "{again:?}"
    );
    assert_eq!(server.counts()["abonne1@example.org"], 1, "not sent again");
}

#[test]
fn lines_that_start_with_a_dot_arrive_as_written() {
    // lettre doubles a dot that starts a line (and the relay takes it off
    // again); breves carries a faster version of that code (see README.md,
    // "Patched dependencies"): every kind of line start goes through a
    // real server and arrives byte for byte.
    use breves::deliver::Transport;
    use breves::deliver::smtp::{Relay, RelayConfig};
    let server = smtpd(&[]);
    let message = "From: <breves@example.fr>\r\nTo: <a@example.org>\r\nSubject: points\r\n\r\n\
                   .\r\n..\r\n.a point\r\nau milieu. d'une ligne.\r\n\r\n.\r\n\n.\r\n\r\r\n.fin\r\n"
        .as_bytes()
        .to_vec();
    let letter = breves::message::Letter {
        recipient: "a@example.org".parse().expect("address"),
        sender: "breves@example.fr".parse().expect("address"),
        message_id: "<points@example.fr>".into(),
        subject: "points".into(),
        sections: Vec::new(),
        bytes: message.clone(),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let config = RelayConfig::from_url(&server.plain_url(), None, None).expect("url");
        let relay = Relay::new(config).await.expect("relay");
        let mut session = relay.open().await.expect("session");
        relay
            .deliver(&mut session, &letter, async { true })
            .await
            .expect("delivered");
        relay.close(session).await;
    });
    let received = server.messages();
    assert_eq!(received.len(), 1);
    let stored = String::from_utf8_lossy(&received[0].1).into_owned();
    let content = stored
        .strip_prefix("X-Rcpt-To: <a@example.org>\r\n")
        .expect("the server's own line first");
    // lettre ends every message with CRLF . CRLF, so one that already ends
    // with a line break arrives with an empty line more.
    assert_eq!(
        content,
        format!("{}\r\n", String::from_utf8_lossy(&message)),
        "the message as received"
    );
}

#[test]
fn the_envelope_goes_in_one_write_to_a_relay_that_offers_pipelining_and_in_three_otherwise() {
    for (options, pipelined) in [(&[][..], true), (&["--no-pipelining"][..], false)] {
        let server = smtpd(options);
        let run = Sender::new();
        let list = run.list(4);
        let out = run.send(&list, &server.plain_url(), &["--concurrency", "1"], &[]);
        assert_eq!(out.code, 0, "{options:?}: {out:?}");
        assert_each_once(&server, 4);
        // What had arrived behind each MAIL FROM when the relay read it:
        // RCPT TO and DATA, when they came in the same write.
        let behind: Vec<u64> = server
            .log()
            .iter()
            .filter(|e| e["event"] == "mail")
            .map(|e| e["behind"].as_u64().expect("a count"))
            .collect();
        assert_eq!(behind.len(), 4, "{options:?}");
        let rcpt_and_data = "RCPT TO:<abonne0@example.org>\r\nDATA\r\n".len() as u64;
        assert!(
            behind.iter().all(|&b| if pipelined {
                b >= rcpt_and_data
            } else {
                b == 0
            }),
            "{options:?}: {behind:?}"
        );
    }
}

#[test]
fn a_refused_recipient_whose_data_the_relay_takes_is_never_sent_their_message() {
    // The relay refuses RCPT, yet answers 354 to the DATA pipelined behind
    // it: the content must not follow, and the connection is dropped at
    // once so that the relay discards the transaction. (Not a measure of
    // speed: a client that went on talking would wait for a reply that
    // cannot come, here 60 s.)
    let server = smtpd(&["--refuse-yet-take", "abonne1@example.org"]);
    let run = Sender::new();
    let list = run.list(4);
    let started = Instant::now();
    let out = run.send(
        &list,
        &server.plain_url(),
        &["--concurrency", "1", "--timeout", "60"],
        &[],
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no reply was waited for: {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout.contains("3 sent, 0 skipped, 1 failed"),
        "{out:?}"
    );
    let counts = assert_each_once(&server, 3);
    assert!(!counts.contains_key("abonne1@example.org"), "{counts:?}");
}

#[test]
fn a_refused_recipient_or_message_costs_a_reset_not_the_connection_and_the_relay_is_told_goodbye() {
    // One recipient refused at RCPT (the DATA pipelined behind it refused
    // too), another's message refused after its content: each transaction
    // is reset and the next goes on over the same connection, which ends
    // with QUIT.
    let server = smtpd(&[
        "--reject",
        "abonne1@example.org",
        "--refuse-data-for",
        "abonne2@example.org",
    ]);
    let run = Sender::new();
    let list = run.list(5);
    let out = run.send(&list, &server.plain_url(), &["--concurrency", "1"], &[]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout.contains("3 sent, 0 skipped, 2 failed"),
        "{out:?}"
    );
    assert_each_once(&server, 3);
    let log = server.log();
    let on = |event: &str| -> Vec<u64> {
        log.iter()
            .filter(|e| e["event"] == event)
            .map(|e| e["conn"].as_u64().expect("a connection number"))
            .collect()
    };
    assert_eq!(on("mail"), [1, 1, 1, 1, 1], "{log:?}");
    assert_eq!(on("rset"), [1, 1], "{log:?}");
    assert_eq!(on("quit"), [1], "{log:?}");
    assert_eq!(log.last().map(|e| &e["event"]), Some(&"quit".into()));
}

#[test]
fn a_closed_output_ends_the_printing_never_the_send() {
    // `breves send … 2>&1 | head -1`: the reader of both outputs is gone
    // before the first line.
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(300);
    let mut child = run
        .command(&list, &sink.plain_url(), &["--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("breves starts");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().expect("reaped");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(sink.counts().len(), 300, "everyone served");
    assert!(sink.counts().values().all(|&n| n == 1), "nobody twice");
    // `breves check … | head -1` too: its 44 warnings go nowhere.
    let mut check = common::command()
        .args([
            "check",
            common::ISSUE,
            "--subscribers",
            list.to_str().expect("utf-8"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("breves starts");
    drop(check.stdout.take());
    drop(check.stderr.take());
    assert_eq!(check.wait().expect("reaped").code(), Some(0));
}

#[test]
fn a_password_typed_into_the_relay_url_without_its_at_sign_is_never_shown() {
    let run = Sender::new();
    let list = run.list(2);
    for url in ["smtps://tester:S3cret", "smtp://tester:S3cret/"] {
        let out = run.send(&list, url, &[], &[]);
        let scheme = url.split("://").next().expect("a scheme");
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                1,
                "",
                format!("error: `{scheme}://***` is not a relay URL (invalid port number): write it as smtps://host:465 or smtp://host:587\n").as_str()
            ),
            "{url}"
        );
    }
}

#[test]
fn everything_held_about_a_reader_is_shown_to_them_and_nothing_of_others() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(3);
    let out = run.send(&list, &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let ledger = run.ledger();
    let suppress = run.readers(&list, &["suppress", "abonne1@example.org"]);
    assert_eq!(suppress.code, 0, "{suppress:?}");
    let show = |who: &str| run.readers(&list, &["subscribers", "show", who]);
    // Times as the ledger writes them, replaced to compare whole outputs.
    let timeless = |text: &str| {
        text.split(' ')
            .map(|w| {
                if w.len() >= 20 && w.as_bytes()[4] == b'-' && w.as_bytes()[10] == b'T' {
                    let end =
                        w.trim_end_matches(|c: char| !c.is_ascii_digit() && c != 'Z' && c != ':');
                    format!("TIME{}", &w[end.len()..])
                } else {
                    w.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let one = show("Abonne1@Example.org");
    assert_eq!(one.code, 0, "{one:?}");
    assert_eq!(
        timeless(&one.stdout),
        format!(
            "abonne1@example.org, on the list essai:\n  in the list file, at {list}:10:1: name (none), interests cybersecurite\n  in the ledger {ledger}:\n    left the list on TIME (by hand)\n    bnru68-260226-260403 (list): sent, sections cybersecurite, 1 attempt(s), on TIME, reply: 250 2.0.0 Ok\n",
            list = list.display(),
            ledger = ledger.display()
        )
    );
    let nobody = show("personne@example.org");
    assert_eq!(
        nobody.stdout,
        format!(
            "personne@example.org, on the list essai:\n  not in the list file\n  in the ledger {}:\n    nothing\n",
            ledger.display()
        )
    );
}

#[test]
fn a_forgotten_reader_leaves_no_trace_in_the_ledger_and_is_never_mailed_again() {
    let sink = smtp_sink(&[]);
    let run = Sender::new();
    let list = run.list(3);
    let out = run.send(&list, &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let ledger = run.ledger();
    let forget = run.readers(&list, &["subscribers", "forget", "abonne1@example.org"]);
    assert_eq!(
        (forget.code, forget.stdout.as_str(), forget.stderr.as_str()),
        (
            0,
            format!(
                "abonne1@example.org is forgotten by the ledger {ledger}: 1 delivery(ies), 0 report(s) and 0 preference(s) erased; only a keyed hash is kept, so that no send of the list essai mails them again.\nThe address is still in the list file, at {list}:10:1: remove it there.\n",
                ledger = ledger.display(),
                list = list.display()
            )
            .as_str(),
            ""
        )
    );
    // Byte by byte, in the ledger and its journal.
    let mut files = 0;
    for entry in fs::read_dir(ledger.parent().expect("folder")).expect("folder") {
        let path = entry.expect("entry").path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("ledger"))
        {
            continue;
        }
        let bytes = fs::read(&path).expect("bytes");
        assert!(
            !bytes.windows(7).any(|w| w == b"abonne1"),
            "{path:?} still holds the address"
        );
        files += 1;
    }
    assert!(files >= 1);
    // The list file still names them: neither a dry run nor a send mails them.
    let out = run.send(&list, &sink.plain_url(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let dry = tempdir();
    let dry_run = common::breves_with(
        [
            "send".to_owned(),
            common::ISSUE.to_owned(),
            "--subscribers".to_owned(),
            list.display().to_string(),
            "--dry-run".to_owned(),
            dry.path().display().to_string(),
            "--ledger".to_owned(),
            ledger.display().to_string(),
        ],
        &[],
    );
    assert_eq!(dry_run.code, 0, "{dry_run:?}");
    let written: Vec<String> = common::eml_files(dry.path())
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        written.iter().all(|n| !n.contains("abonne1")),
        "{written:?}"
    );
    let counts = sink.counts();
    assert_eq!(counts.get("abonne1@example.org"), Some(&1), "{counts:?}");
}

#[test]
fn the_export_is_the_list_the_next_send_takes_and_reads_back_as_a_members_file() {
    let run = Sender::new();
    let list = run.list(3);
    let suppress = run.readers(&list, &["suppress", "abonne1@example.org"]);
    assert_eq!(suppress.code, 0, "{suppress:?}");
    let csv = run.dir.path().join("export.csv");
    let export = run.readers(
        &list,
        &[
            "subscribers",
            "export",
            "--out",
            csv.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(
        (export.code, export.stdout.as_str(), export.stderr.as_str()),
        (
            0,
            "",
            format!(
                "2 member(s) written to {}; 1 left out (they left the list, were forgotten, or stopped every section).\n",
                csv.display()
            )
            .as_str()
        )
    );
    assert_eq!(
        fs::read_to_string(&csv).expect("csv"),
        "email,name,interests\nabonne0@example.org,,spatial\nabonne2@example.org,,donnees-ia\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&csv).expect("csv").permissions().mode();
        assert_eq!(mode & 0o077, 0, "addresses are their owner's alone");
    }
    // Folded back as the list's members file, it checks clean.
    let folded = run.dir.path().join("folded.toml");
    let text = fs::read_to_string(&list).expect("list");
    let head: String = text
        .lines()
        .take_while(|l| !l.starts_with("[[member]]"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(
        &folded,
        head.replacen(
            "topics =",
            &format!("members = \"{}\"\ntopics =", csv.display()),
            1,
        ),
    )
    .expect("folded");
    let (folded_list, _) =
        breves::subscribers::List::load(&folded).expect("the exported file reads back");
    assert_eq!(folded_list.size, 2);
}
