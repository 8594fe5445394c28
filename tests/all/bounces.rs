//! Bounces: each message's envelope sender names its recipient in a signed
//! code (VERP), so that a bounce is matched to its subscriber whatever the
//! remote server writes; the `From` stays the list's.

use crate::common;

use std::fs;

use common::smtp::smtp_sink;
use common::{breves, breves_with, parse, tempdir};

const SECRET: &str = "a test secret of more than sixteen bytes";

const LIST: &str = r#"[list]
id = "essai"
from = "Essai <breves@example.fr>"
bounce_address = "rebonds@example.fr"
unsubscribe_url = "https://breves.example.fr/desabonnement"
topics = { spatial = "Spatial", cybersecurite = "Cybersécurité" }

[[member]]
email = "ada@example.org"
interests = ["spatial"]

[[member]]
email = "zoe@example.com"
"#;

/// `rebonds+` and 30 hexadecimal digits at example.fr.
fn is_verp(sender: &str) -> bool {
    sender
        .strip_prefix("rebonds+")
        .and_then(|s| s.strip_suffix("@example.fr"))
        .is_some_and(|code| {
            code.len() == 30
                && code
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
}

#[test]
fn the_envelope_sender_names_the_recipient_in_a_signed_code_and_the_from_is_unchanged() {
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(&list, LIST).expect("written");
    let sink = smtp_sink(&[]);
    let run = breves_with(
        [
            "send",
            common::ISSUE,
            "--subscribers",
            list.to_str().expect("utf-8"),
            "--smtp",
            &sink.plain_url(),
            "--ledger",
            dir.path().join("ledger.sqlite3").to_str().expect("utf-8"),
            "--yes",
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
    );
    assert!(run.ok(), "{run:?}");
    let mut senders = Vec::new();
    for (rcpt, bytes) in sink.messages() {
        // smtp-sink writes the envelope it was given before the message.
        let head = String::from_utf8_lossy(&bytes[..2000.min(bytes.len())]).into_owned();
        let sender = head
            .lines()
            .find_map(|l| l.strip_prefix("X-Mail-Args: <"))
            .and_then(|l| l.split('>').next())
            .expect("the envelope sender")
            .to_owned();
        assert!(is_verp(&sender), "{rcpt}: {sender}");
        let message = parse(&bytes);
        let from = message
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address());
        assert_eq!(from, Some("breves@example.fr"), "the From is the list's");
        senders.push(sender);
    }
    senders.sort();
    senders.dedup();
    assert_eq!(
        senders.len(),
        2,
        "each recipient their own code: {senders:?}"
    );

    // A dry run writes each message's envelope sender in its manifest.
    let out = dir.path().join("outbox");
    common::send(common::ISSUE, &list, &out);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    for message in manifest["messages"].as_array().expect("messages") {
        assert!(
            is_verp(message["sender"].as_str().expect("sender")),
            "{message}"
        );
    }
    // Without a bounce address, bounces go to the From, as before.
    let plain = tempdir();
    common::dry_run(plain.path());
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(plain.path().join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["messages"][0]["sender"], "breves@example.fr");
}

#[test]
fn a_bounce_address_with_no_room_for_the_code_is_refused() {
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(&list, LIST.replace("rebonds@", "rebonds+deja@")).expect("written");
    let run = breves([
        "check",
        common::ISSUE,
        "--subscribers",
        list.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("error: bounce_address: breves adds `+` and the recipient's code to `rebonds+deja@example.fr`: its part before the `@` must have no `+` and at most 33 characters"),
        "{run:?}"
    );
}

/// The secret of dry runs, with which the corpus's codes are made.
const TEST_SECRET: &str = breves::unsubscribe::TEST_SECRET;

const CORPUS: &str = "tests/fixtures/bounces";

/// The corpus as the bounce mailbox holds it after a dry run of the
/// shipped issue to the corpus's list: the VERP codes and unsubscription
/// links that servers quote filled in from the dry run's messages.
fn mailbox(dir: &std::path::Path) -> Vec<(String, String)> {
    let out = dir.join("outbox");
    common::send(common::ISSUE, format!("{CORPUS}/list.toml"), &out);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let mut fill: Vec<(String, String)> = Vec::new();
    for message in manifest["messages"].as_array().expect("messages") {
        let to = message["recipient"].as_str().expect("recipient");
        let sender = message["sender"].as_str().expect("sender");
        let code = sender.split(['+', '@']).nth(1).expect("a code");
        fill.push((format!("{{{{VERP {to}}}}}"), code.to_owned()));
        let bytes = fs::read(out.join(message["file"].as_str().expect("file"))).expect("message");
        let parsed = parse(&bytes);
        let header = parsed
            .header_raw("List-Unsubscribe")
            .expect("List-Unsubscribe");
        let link = header
            .split(['<', '>'])
            .find(|p| p.starts_with("https://"))
            .expect("a link");
        fill.push((
            format!("{{{{TOKEN {to}}}}}"),
            link.rsplit('/').next().expect("token").to_owned(),
        ));
    }
    let mut messages = Vec::new();
    let mut names: Vec<_> = fs::read_dir(common::root().join(CORPUS))
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    for path in names {
        let mut text = fs::read_to_string(&path).expect("a report");
        for (mark, value) in &fill {
            text = text.replace(mark, value);
        }
        assert!(!text.contains("{{"), "{path:?}");
        messages.push((
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
            text,
        ));
    }
    messages
}

/// A dry run of the shipped issue to `list` into `out`, told the ledger.
fn dry_run_with(list: &str, ledger: &std::path::Path, out: &std::path::Path) -> common::Run {
    let run = common::breves([
        "send",
        common::ISSUE,
        "--subscribers",
        list,
        "--dry-run",
        out.to_str().expect("utf-8"),
        "--ledger",
        ledger.to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    run
}

fn bounces(list: &str, ledger: &std::path::Path, source: &std::path::Path) -> common::Run {
    breves_with(
        [
            "bounces",
            "--subscribers",
            list,
            "--ledger",
            ledger.to_str().expect("utf-8"),
            "--yes",
            source.to_str().expect("utf-8"),
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", TEST_SECRET)],
    )
}

/// A folder of `.eml` files at `path` holding `messages` (name, text).
fn folder_of(path: &std::path::Path, messages: &[(String, String)]) -> std::path::PathBuf {
    fs::create_dir(path).expect("folder");
    for (name, text) in messages {
        fs::write(path.join(name), text).expect("written");
    }
    path.to_path_buf()
}

/// The corpus's list without its `bounce_address`: its bounces come back
/// to its `From`, and reports are matched by the addresses they name.
fn list_without_bounce_address(dir: &std::path::Path) -> String {
    let text = fs::read_to_string(common::root().join(CORPUS).join("list.toml")).expect("list");
    let path = dir.join("list.toml");
    fs::write(
        &path,
        text.lines()
            .filter(|l| !l.starts_with("bounce_address"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("written");
    path.to_str().expect("utf-8").to_owned()
}

#[test]
fn the_corpus_is_read_decided_once_and_the_next_dry_run_leaves_the_right_members_out() {
    the_corpus_read_and_decided(|dir| dir.join("ledger.sqlite3"));
}

#[test]
fn the_corpus_is_read_and_decided_the_same_with_the_ledger_in_postgresql() {
    the_corpus_read_and_decided(|_| std::path::PathBuf::from(common::postgres::database()));
}

/// Reads the corpus into the ledger `ledger` makes in a folder, twice,
/// then checks the next dry run and the status.
fn the_corpus_read_and_decided(ledger: impl FnOnce(&std::path::Path) -> std::path::PathBuf) {
    let dir = tempdir();
    let messages = mailbox(dir.path());
    let list = list_without_bounce_address(dir.path());
    let ledger = ledger(dir.path());
    // A Maildir, as Postfix or Dovecot keep one.
    let maildir = dir.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(maildir.join(sub)).expect("Maildir");
    }
    for (name, text) in &messages {
        fs::write(maildir.join("new").join(name), text).expect("written");
    }
    let run = bounces(&list, &ledger, &maildir);
    assert!(run.ok(), "{run:?}");
    let at = format!("{}/new/", maildir.display());
    assert_eq!(
        run.stdout.replace(&at, ""),
        format!("Read 12 message(s) from {}: 5 delivery report(s), 2 complaint(s), 3 plain bounce(s), 2 not a bounce (left alone), 0 malformed.
  gus@example.com abuse (arf-complaint.eml): unsubscribed: complaint
  hal@example.org abuse (arf-redacted.eml): unsubscribed: complaint
  dan@example.com 5.1.10 (exchange-5.1.10.eml): suppressed: user-unknown
  bob@example.com 5.1.1 (exim-plain.eml): suppressed: user-unknown
  chloe@example.org 5.2.1 (gmail-5.2.1.eml): counted: suspended, 1 of 3 issues
  jo@example.org  (malformed-dsn.eml): counted: undetermined, of an unknown issue
  eve@example.org 4.2.2 (postfix-4.2.2.eml): counted: mailbox-full, 1 of 3 issues
  ada@example.org 5.1.1 (postfix-5.1.1.eml): suppressed: user-unknown
  fay@example.org 5.1.1 (qmail-plain.eml): suppressed: user-unknown
  ian@example.org 5.0.0 (verp-only.eml): suppressed: user-unknown
5 suppressed, 2 unsubscribed, 3 counted, 0 refusal(s) of the sender, 0 unproven, 0 already recorded.
", maildir.display())
    );
    // The same reports again, as an mbox: nothing changes.
    let mbox = dir.path().join("rebonds.mbox");
    let mut text = String::new();
    for (_, message) in &messages {
        text.push_str("From MAILER-DAEMON Tue Apr  7 09:01:12 2026\n");
        for line in message.lines() {
            if line.starts_with("From ") {
                text.push('>');
            }
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
    }
    fs::write(&mbox, text).expect("mbox");
    let again = bounces(&list, &ledger, &mbox);
    assert!(again.ok(), "{again:?}");
    assert!(
        again
            .stdout
            .ends_with("0 suppressed, 0 unsubscribed, 0 counted, 0 refusal(s) of the sender, 0 unproven, 10 already recorded.\n"),
        "{again:?}"
    );
    // The next dry run, told the ledger, leaves the seven out.
    let out = dir.path().join("after");
    let run = dry_run_with(&list, &ledger, &out);
    assert!(
        run.stdout.starts_with("7 subscriber(s) who left the list (unsubscribed, bounced, complained or stopped every section) are left out.\n"),
        "{run:?}"
    );
    let recipients = |dir: &std::path::Path| -> Vec<String> {
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("manifest.json")).expect("manifest"))
                .expect("json");
        manifest["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["recipient"].as_str().expect("recipient").to_owned())
            .collect()
    };
    assert_eq!(
        recipients(&out),
        ["chloe@example.org", "eve@example.org", "jo@example.org"]
    );

    // status lists every decision with its evidence.
    let status = common::status(std::path::Path::new(&list), &ledger);
    assert!(
        status
            .stdout
            .contains("Bounces and complaints read for the list rebonds (breves bounces): 10\n"),
        "{status:?}"
    );
    assert!(
        status.stdout.contains("  ada@example.org permanent 5.1.1 (2026-04-07T09:01:12+01:00): suppressed: user-unknown; 550 5.1.1 <ada@example.org>: Recipient address rejected: User unknown in virtual mailbox table"),
        "{status:?}"
    );

    // A report that was wrong: the address is given back, and reading
    // the mailbox again does not take it away again.
    let undo = common::breves([
        "suppress",
        "--undo",
        "ada@example.org",
        "--subscribers",
        &list,
        "--ledger",
        ledger.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        undo.stdout,
        "ada@example.org is on the list rebonds again (it had left: bounce 5.1.1 (user-unknown): 550 5.1.1 <ada@example.org>: Recipient address rejected: User unknown in virtual mailbox table).\n"
    );
    assert!(bounces(&list, &ledger, &mbox).ok());
    let out = dir.path().join("given-back");
    dry_run_with(&list, &ledger, &out);
    assert_eq!(
        recipients(&out),
        [
            "ada@example.org",
            "chloe@example.org",
            "eve@example.org",
            "jo@example.org"
        ]
    );
}

/// The corpus's report of a full mailbox as report number `n`, about
/// the message of `issue`.
fn soft_report(n: usize, issue: &str) -> String {
    fs::read_to_string(common::root().join(CORPUS).join("postfix-4.2.2.eml"))
        .expect("report")
        .replace(
            "<20260407080112.7Qm9@mx.example.fr>",
            &format!("<soft-{n}@mx.example.fr>"),
        )
        .replace(
            "breves-numeriques-royaume-uni-2026-02-26-2026-04-03.",
            &format!("{issue}."),
        )
}

#[test]
fn temporary_failures_in_three_separate_issues_suppress_the_address() {
    let dir = tempdir();
    let list = list_without_bounce_address(dir.path());
    let ledger = dir.path().join("ledger.sqlite3");
    let folder = dir.path().join("reports");
    fs::create_dir(&folder).expect("folder");
    let mut decisions = Vec::new();
    // Two reports of one issue count once; the third issue suppresses.
    for (n, issue) in ["2026-03", "2026-03", "2026-04", "2026-05"]
        .iter()
        .enumerate()
    {
        fs::write(folder.join(format!("{n}.eml")), soft_report(n, issue)).expect("written");
        let run = bounces(&list, &ledger, &folder);
        assert!(run.ok(), "{run:?}");
        decisions.push(
            run.stdout
                .lines()
                .filter(|l| l.contains(&format!("{n}.eml")))
                .map(str::to_owned)
                .collect::<Vec<_>>()
                .join(""),
        );
        fs::remove_file(folder.join(format!("{n}.eml"))).expect("read");
    }
    let decided: Vec<&str> = decisions
        .iter()
        .map(|d| d.rsplit(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        decided,
        [
            "mailbox-full, 1 of 3 issues",
            "mailbox-full, 1 of 3 issues",
            "mailbox-full, 2 of 3 issues",
            "temporary failures in 3 issues (mailbox-full)",
        ],
        "{decisions:?}"
    );
    assert!(decisions[3].contains("suppressed"), "{decisions:?}");
}

#[test]
fn the_corpus_is_read_over_imaps_and_each_report_filed_once_decided() {
    use common::imap::{Imap, PASSWORD};
    let dir = tempdir();
    let messages = mailbox(dir.path());
    let server = Imap::start(&messages);
    let list = list_without_bounce_address(dir.path());
    let ledger = dir.path().join("ledger.sqlite3");
    let read = |password: &str| {
        breves_with(
            [
                "bounces",
                "--subscribers",
                &list,
                "--ledger",
                ledger.to_str().expect("utf-8"),
                "--yes",
                "--imap-ca",
                server.ca.to_str().expect("utf-8"),
                &server.url(),
            ],
            &[
                ("BREVES_UNSUBSCRIBE_SECRET", TEST_SECRET),
                ("BREVES_IMAP_PASSWORD", password),
            ],
        )
    };
    let wrong = read("pas le bon");
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(
        wrong
            .stderr
            .starts_with("error: IMAP: cannot log in as rebonds: "),
        "{wrong:?}"
    );
    let run = read(PASSWORD);
    assert!(run.ok(), "{run:?}\n{}", server.log());
    assert!(
        run.stdout.starts_with(&format!("Read 12 message(s) from {}: 5 delivery report(s), 2 complaint(s), 3 plain bounce(s), 2 not a bounce (left alone), 0 malformed.\n", server.url())),
        "{run:?}"
    );
    assert!(run.stdout.ends_with("5 suppressed, 2 unsubscribed, 3 counted, 0 refusal(s) of the sender, 0 unproven, 0 already recorded.\n10 report(s) moved to the folder breves-processed, their decisions recorded.\n"), "{run:?}");
    // The reports are filed away; the rest stay for a person to read.
    assert_eq!(
        (server.count(""), server.count("breves-processed")),
        (2, 10)
    );
    // Read again: the two left are looked at again, nothing changes.
    let again = read(PASSWORD);
    assert!(again.ok(), "{again:?}");
    assert!(
        again
            .stdout
            .starts_with(&format!("Read 2 message(s) from {}", server.url())),
        "{again:?}"
    );
    assert!(again.stdout.ends_with("0 suppressed, 0 unsubscribed, 0 counted, 0 refusal(s) of the sender, 0 unproven, 0 already recorded.\n0 report(s) moved to the folder breves-processed, their decisions recorded.\n"), "{again:?}");
    assert_eq!(
        (server.count(""), server.count("breves-processed")),
        (2, 10)
    );
    // And the next dry run, told the ledger, leaves the seven out.
    let out = dir.path().join("after");
    let run = dry_run_with(&list, &ledger, &out);
    assert!(
        run.stdout.starts_with("7 subscriber(s) who left the list"),
        "{run:?}"
    );
    assert_eq!(
        common::eml_files(&out).len(),
        3,
        "Chloe (suspended), Eve (a full mailbox) and Jo (undetermined), each counted once"
    );
}

#[test]
fn an_issue_already_counted_is_counted_once_when_read_again_beside_another() {
    let dir = tempdir();
    let list = list_without_bounce_address(dir.path());
    let ledger = dir.path().join("ledger.sqlite3");
    let folder = folder_of(
        &dir.path().join("reports"),
        &[("0.eml".to_owned(), soft_report(0, "2026-03"))],
    );
    assert!(bounces(&list, &ledger, &folder).ok());
    // Another report of the same issue, then one of the next: two issues.
    fs::write(folder.join("1.eml"), soft_report(1, "2026-03")).expect("written");
    fs::write(folder.join("2.eml"), soft_report(2, "2026-04")).expect("written");
    let run = bounces(&list, &ledger, &folder);
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stdout
            .contains("/1.eml): counted: mailbox-full, 1 of 3 issues\n")
            && run
                .stdout
                .contains("/2.eml): counted: mailbox-full, 2 of 3 issues\n"),
        "{run:?}"
    );
}

#[test]
fn a_report_that_proves_nothing_about_its_reader_is_shown_and_never_acted_on() {
    let dir = tempdir();
    let messages = mailbox(dir.path());
    // The corpus's list has a bounce address: only what came back to a
    // reader's signed address, or carries their signed link, may act.
    let list = format!("{CORPUS}/list.toml");
    let ledger = dir.path().join("ledger.sqlite3");
    let folder = folder_of(&dir.path().join("reports"), &messages);
    let run = bounces(&list, &ledger, &folder);
    assert!(run.ok(), "{run:?}");
    let decided: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains("@"))
        .collect();
    let unproven = "not acted on, it did not come back to the reader's signed address nor quote a message sent to them";
    for line in &decided {
        if line.contains("/arf-redacted.eml)") {
            assert!(line.ends_with("unsubscribed: complaint"), "{line}");
        } else if line.contains("/verp-only.eml)") {
            assert!(line.ends_with("suppressed: user-unknown"), "{line}");
        } else if line.contains("@") && line.contains(".eml)") {
            assert!(line.ends_with(unproven), "{line}");
        }
    }
    assert!(
        run.stdout
            .ends_with("1 suppressed, 1 unsubscribed, 0 counted, 0 refusal(s) of the sender, 8 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
    // A forged report naming many readers of one message proves nothing,
    // and a forged one after `suppress --undo` takes nobody away again.
    let (_, forged) = dsn(
        0,
        "rebonds@example.fr",
        &[
            ("gus@example.com", "5.1.1", "550 5.1.1 user unknown"),
            ("eve@example.org", "5.1.1", "550 5.1.1 user unknown"),
        ],
        "",
    );
    let again = folder_of(
        &dir.path().join("forged"),
        &[("forged.eml".to_owned(), forged)],
    );
    let run = bounces(&list, &ledger, &again);
    assert!(
        run.stdout.ends_with("0 suppressed, 0 unsubscribed, 0 counted, 0 refusal(s) of the sender, 2 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("gus@example.com 5.1.1 (") && run.stdout.contains("): unproven (user-unknown): not acted on, it names several members, and a message of the list has one recipient"),
        "{run:?}"
    );
}

#[test]
fn a_reading_that_would_empty_much_of_the_list_stops_before_recording_anything() {
    let dir = tempdir();
    let messages = mailbox(dir.path());
    let list = list_without_bounce_address(dir.path());
    let ledger = dir.path().join("ledger.sqlite3");
    let folder = folder_of(&dir.path().join("reports"), &messages);
    let read = |yes: bool| {
        let mut args = vec![
            "bounces",
            "--subscribers",
            &list,
            "--ledger",
            ledger.to_str().expect("utf-8"),
        ];
        if yes {
            args.push("--yes");
        }
        args.push(folder.to_str().expect("utf-8"));
        breves_with(args, &[("BREVES_UNSUBSCRIBE_SECRET", TEST_SECRET)])
    };
    let stopped = read(false);
    assert_eq!(stopped.code, 1, "{stopped:?}");
    assert!(
        stopped.stdout.ends_with("Stopped before recording anything: it would take 7 of the list's 10 members off it at once (70.0 %, more than 2 %).\n  The most: 4 at example.org, 3 at example.com.\n  Look at the decisions above; if they are right, run the same command with --yes to record them.\n"),
        "{stopped:?}"
    );
    // Nothing was recorded: the next dry run mails everyone.
    let out = dir.path().join("out");
    let run = dry_run_with(&list, &ledger, &out);
    assert_eq!(common::eml_files(&out).len(), 10, "{run:?}");
    let run = read(true);
    assert!(
        run.stdout.ends_with("5 suppressed, 2 unsubscribed, 3 counted, 0 refusal(s) of the sender, 0 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
}

/// Report number `n`, a delivery report of a mail system to `to` about
/// each of `failed` (address, status, diagnostic), quoting the headers
/// `quoted` of the message that bounced when there are some.
fn dsn(n: usize, to: &str, failed: &[(&str, &str, &str)], quoted: &str) -> (String, String) {
    let mut text = format!(
        "From: MAILER-DAEMON@mx.example.net\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <report-{n}@mx.example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n"
    );
    for (whom, status, said) in failed {
        text.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {whom}\r\nAction: failed\r\nStatus: {status}\r\nDiagnostic-Code: smtp; {said}\r\n"
        ));
    }
    if !quoted.is_empty() {
        text.push_str(&format!(
            "\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{quoted}\r\n"
        ));
    }
    text.push_str("--b--\r\n");
    (format!("{n}.eml"), text)
}

/// A report of the relay's, to the bounce address without a code, about
/// `whom`, quoting the headers of the message whose Message-ID is `id`.
fn report_quoting(n: usize, whom: &str, id: &str) -> (String, String) {
    dsn(
        n,
        "rebonds@example.fr",
        &[(whom, "5.1.1", "550 5.1.1 user unknown")],
        &format!("From: breves@example.fr\r\nTo: {whom}\r\nMessage-ID: {id}\r\n"),
    )
}

/// A real send of the shipped issue to `list` through a new smtp-sink,
/// recorded in `ledger`: the sink, holding the messages.
fn send_through_a_sink(list: &str, ledger: &std::path::Path) -> common::smtp::Server {
    let sink = smtp_sink(&[]);
    let sent = breves_with(
        [
            "send",
            common::ISSUE,
            "--subscribers",
            list,
            "--smtp",
            &sink.plain_url(),
            "--ledger",
            ledger.to_str().expect("utf-8"),
            "--yes",
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
    );
    assert!(sent.ok(), "{sent:?}");
    sink
}

#[test]
fn a_report_without_a_code_proves_its_reader_only_by_a_message_the_ledger_sent_them() {
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(&list, LIST).expect("written");
    let list = list.to_str().expect("utf-8");
    let ledger = dir.path().join("ledger.sqlite3");
    let sink = send_through_a_sink(list, &ledger);
    // The Message-ID of the message ada received.
    let ada_id = sink
        .messages()
        .into_iter()
        .find(|(rcpt, _)| rcpt.contains("ada@example.org"))
        .and_then(|(_, bytes)| parse(&bytes).message_id().map(|id| format!("<{id}>")))
        .expect("ada's message");
    // breves' form, the issue sent, a hash of nobody's.
    let (local, domain) = ada_id.split_once('@').expect("an id");
    let issue = local.rsplit_once('.').expect("issue.hash").0;
    let forged_id = format!("{issue}.{}@{domain}", "0".repeat(32));
    let read = |messages: &[(String, String)], name: &str| {
        let folder = folder_of(&dir.path().join(name), messages);
        breves_with(
            [
                "bounces",
                "--subscribers",
                list,
                "--ledger",
                ledger.to_str().expect("utf-8"),
                folder.to_str().expect("utf-8"),
            ],
            &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
        )
    };
    // Zoe named with ada's message, or with a Message-ID breves never
    // sent her: nothing is done.
    let run = read(
        &[
            report_quoting(1, "zoe@example.com", &ada_id),
            report_quoting(2, "zoe@example.com", &forged_id),
        ],
        "forged",
    );
    assert!(
        run.stdout.ends_with("0 suppressed, 0 unsubscribed, 0 counted, 0 refusal(s) of the sender, 2 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
    // Ada named with the message she received: suppressed.
    let run = read(&[report_quoting(3, "ada@example.org", &ada_id)], "true");
    assert!(
        run.stdout.ends_with("1 suppressed, 0 unsubscribed, 0 counted, 0 refusal(s) of the sender, 0 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
}

#[test]
fn a_refusal_of_the_sender_keeps_its_readers_and_is_shown_by_receiving_domain() {
    let dir = tempdir();
    let list = list_without_bounce_address(dir.path());
    let ledger = dir.path().join("ledger.sqlite3");
    let blocked = |n: usize, whom: &str| {
        dsn(
            n,
            "breves@example.fr",
            &[(
                whom,
                "5.7.1",
                "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org",
            )],
            "",
        )
    };
    let folder = folder_of(
        &dir.path().join("reports"),
        &[
            blocked(1, "ada@example.org"),
            blocked(2, "chloe@example.org"),
            blocked(3, "bob@example.com"),
        ],
    );
    let json = breves_with(
        [
            "bounces",
            "--subscribers",
            &list,
            "--ledger",
            dir.path().join("json.sqlite3").to_str().expect("utf-8"),
            "--format",
            "json",
            folder.to_str().expect("utf-8"),
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", TEST_SECRET)],
    );
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON object");
    let actions: Vec<(&str, &str)> = value["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| {
            (
                d["reason"].as_str().expect("reason"),
                d["action"].as_str().expect("action"),
            )
        })
        .collect();
    assert_eq!(actions, [("blocked", "sender-problem"); 3], "{json:?}");

    let run = bounces(&list, &ledger, &folder);
    assert!(
        run.stdout.contains("  ada@example.org 5.7.1 (")
            && run
                .stdout
                .contains("/1.eml): kept: a refusal of the sender (blocked), not of the reader\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.ends_with("Refusals of the sender, not of the readers (nobody is taken off the list for them; look into the sending servers, their reputation and authentication):\n  2 reader(s) at example.org: blocked\n  1 reader(s) at example.com: blocked\n0 suppressed, 0 unsubscribed, 0 counted, 3 refusal(s) of the sender, 0 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
    let status = common::status(std::path::Path::new(&list), &ledger);
    assert!(
        status.stdout.contains("Refusals of the sender, not of the readers, by receiving domain:\n  2 reader(s) at example.org: blocked\n  1 reader(s) at example.com: blocked\n"),
        "{status:?}"
    );
    // Everyone is still mailed.
    let out = dir.path().join("out");
    dry_run_with(&list, &ledger, &out);
    assert_eq!(common::eml_files(&out).len(), 10);
}

const SYSTEMS: &str = "tests/fixtures/bounces/systems";

#[test]
fn every_mail_systems_report_is_decided_as_its_table_says() {
    // tests/fixtures/bounces/systems/: one report a file, written as each
    // mail system lays its reports out; expected.tsv gives, for each, the
    // readers it is about with their reason and what is done (`-`: it is
    // no report, and nothing is).
    let table =
        fs::read_to_string(common::root().join(SYSTEMS).join("expected.tsv")).expect("the table");
    let mut expected: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut systems = std::collections::BTreeSet::new();
    let mut members = std::collections::BTreeSet::new();
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, system, address, reason, action] = fields[..] else {
            panic!("a row of five fields: {line}");
        };
        systems.insert(system.split(" (").next().unwrap_or(system).to_owned());
        let decisions = expected.entry(file.to_owned()).or_default();
        if address != "-" {
            decisions.push(format!("{address} {reason} {action}"));
            members.insert(address.to_owned());
        }
    }
    assert!(expected.len() >= 80, "{} reports", expected.len());
    assert!(systems.len() >= 25, "{systems:?}");
    let on_disk = fs::read_dir(common::root().join(SYSTEMS))
        .expect("the folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
        })
        .count();
    assert_eq!(on_disk, expected.len(), "every report is in the table");

    let dir = tempdir();
    let mut list = String::from(
        "[list]\nid = \"systemes\"\nfrom = \"Breves <breves@example.fr>\"\ntopics = { a = \"A\" }\n",
    );
    for address in &members {
        list.push_str(&format!("[[member]]\nemail = \"{address}\"\n"));
    }
    let list_path = dir.path().join("list.toml");
    fs::write(&list_path, list).expect("written");
    let run = breves_with(
        [
            "bounces",
            "--subscribers",
            list_path.to_str().expect("utf-8"),
            "--ledger",
            dir.path().join("ledger.sqlite3").to_str().expect("utf-8"),
            "--yes",
            "--format",
            "json",
            SYSTEMS,
        ],
        &[],
    );
    assert!(run.ok(), "{run:?}");
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let mut decided: std::collections::BTreeMap<String, Vec<String>> =
        expected.keys().map(|k| (k.clone(), Vec::new())).collect();
    for d in value["decisions"].as_array().expect("decisions") {
        let place = d["place"].as_str().expect("place");
        let file = place.rsplit('/').next().unwrap_or(place).to_owned();
        decided.entry(file).or_default().push(format!(
            "{} {} {}",
            d["address"].as_str().expect("address"),
            d["reason"].as_str().expect("reason"),
            d["action"].as_str().expect("action")
        ));
    }
    for decisions in expected.values_mut().chain(decided.values_mut()) {
        decisions.sort();
    }
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(file, want)| decided.get(*file) != Some(*want))
        .map(|(file, want)| format!("{file}: expected {want:?}, decided {:?}", decided[file]))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(value["unmatched"], serde_json::json!([]), "{run:?}");
    assert_eq!(value["malformed"], serde_json::json!([]), "{run:?}");
}

#[test]
fn an_endless_mailbox_is_refused_at_its_bound_and_nothing_is_recorded() {
    let dir = tempdir();
    let list = list_without_bounce_address(dir.path());
    let ledger = dir.path().join("ledger.sqlite3");
    let run = bounces(&list, &ledger, std::path::Path::new("/dev/zero"));
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: cannot read /dev/zero: a mailbox larger than 1000 MB: read it in parts\n"
    );
    let reports: i64 = rusqlite::Connection::open(&ledger)
        .and_then(|db| db.query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0)))
        .expect("the ledger");
    assert_eq!(reports, 0);
}

#[test]
fn without_the_secret_a_list_with_a_bounce_address_acts_on_no_report() {
    let dir = tempdir();
    let messages = mailbox(dir.path());
    let folder = folder_of(&dir.path().join("reports"), &messages);
    let run = breves_with(
        [
            "bounces",
            "--subscribers",
            &format!("{CORPUS}/list.toml"),
            "--ledger",
            dir.path().join("ledger.sqlite3").to_str().expect("utf-8"),
            "--yes",
            folder.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stdout.starts_with("BREVES_UNSUBSCRIBE_SECRET is not set: no report can be proved to be about its reader, so none is acted on.\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.ends_with("0 suppressed, 0 unsubscribed, 0 counted, 0 refusal(s) of the sender, 8 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
}

#[test]
fn a_reader_who_joined_by_themselves_is_found_by_their_bounce_code_and_taken_off() {
    use breves::address::Key;
    use breves::ledger::subscriptions::Request;
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(&list, LIST).expect("written");
    let list = list.to_str().expect("utf-8");
    let ledger_path = dir.path().join("ledger.sqlite3");
    let signer = breves::unsubscribe::Signer::new(SECRET.as_bytes()).expect("secret");
    let key = Key::from_text("nouvelle@example.org");
    let ledger = breves::ledger::Ledger::open(&ledger_path).expect("ledger");
    let sections = ["spatial".to_owned()];
    let code = signer.request_code("essai", &key);
    let request = Request {
        name: None,
        sections: &sections,
        consent: "J’accepte.",
        evidence: "https://breves.example.fr/abonnement",
        code: &code,
    };
    ledger
        .request_subscription("essai", &key, &request)
        .expect("request");
    ledger.confirm_subscription("essai", &key).expect("confirm");
    drop(ledger);
    let sink = send_through_a_sink(list, &ledger_path);
    // The envelope sender of her message: the bounce address and her code.
    let message = sink
        .messages()
        .into_iter()
        .find(|(rcpt, _)| rcpt == "nouvelle@example.org")
        .expect("her message")
        .1;
    let verp = String::from_utf8_lossy(&message)
        .lines()
        .find_map(|l| l.strip_prefix("X-Mail-Args: <"))
        .and_then(|l| l.split('>').next())
        .expect("the envelope sender")
        .to_owned();
    assert!(is_verp(&verp), "{verp}");
    // Her mailbox is gone; the report names her by another address, as
    // forwarding does: only the code says who she is.
    let folder = folder_of(
        &dir.path().join("reports"),
        &[dsn(
            1,
            &verp,
            &[("n.lectrice@example.net", "5.1.1", "550 5.1.1 user unknown")],
            "",
        )],
    );
    let run = breves_with(
        [
            "bounces",
            "--subscribers",
            list,
            "--ledger",
            ledger_path.to_str().expect("utf-8"),
            "--yes",
            folder.to_str().expect("utf-8"),
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
    );
    assert!(
        run.stdout.ends_with("1 suppressed, 0 unsubscribed, 0 counted, 0 refusal(s) of the sender, 0 unproven, 0 already recorded.\n"),
        "{run:?}"
    );
    let out = dir.path().join("out");
    dry_run_with(list, &ledger_path, &out);
    assert!(
        !out.join("nouvelle_at_example.org.eml").exists(),
        "the next send leaves her out"
    );
}
