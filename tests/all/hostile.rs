//! Hostile and broken input: names that try to add headers, international
//! addresses, and files that are truncated, of the wrong types, binary,
//! deeply nested or huge. Each gets a clear error, in bounded time and
//! memory, and nothing is sent twice or to anyone extra.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::smtp::{smtp_sink, smtpd};
use common::{breves_with, parse, tempdir};

const SECRET: &str = "a test secret of more than sixteen bytes";

/// A list whose members are in `membres.csv`, which says `rows`.
fn write_list_of_file(dir: &Path, rows: &str) -> String {
    fs::write(dir.join("membres.csv"), rows).expect("csv");
    let list = write_list(dir, "");
    let text = fs::read_to_string(&list).expect("list");
    let text = text.replace("topics =", "members = \"membres.csv\"\ntopics =");
    fs::write(&list, text).expect("list");
    list
}

fn write_list(dir: &Path, members: &str) -> String {
    let path = dir.join("list.toml");
    fs::write(
        &path,
        format!(
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
             unsubscribe_url = \"https://breves.example.fr/desabonnement\"\n\
             topics = {{ spatial = \"Spatial\" }}\n{members}"
        ),
    )
    .expect("list");
    path.display().to_string()
}

fn send(list: &str, url: &str, ledger: &Path) -> common::Run {
    breves_with(
        [
            "send",
            common::ISSUE,
            "--subscribers",
            list,
            "--smtp",
            url,
            "--ledger",
            &ledger.display().to_string(),
        ],
        &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
    )
}

#[test]
fn a_name_cannot_smuggle_a_header_or_a_recipient() {
    let dir = tempdir();
    let list = write_list(
        dir.path(),
        "[[member]]\nemail = \"eve@example.org\"\nname = \"Eve\\r\\nBcc: mallory@example.org\\r\\nX-Evil: 1\"\n",
    );
    let check = breves_with(["check", common::ISSUE, "--subscribers", &list], &[]);
    assert!(
        check.stderr.contains("replaced by spaces"),
        "a warning says so: {check:?}"
    );
    let sink = smtp_sink(&[]);
    let out = send(&list, &sink.plain_url(), &dir.path().join("l.sqlite3"));
    assert_eq!(out.code, 0, "{out:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one message, to one recipient");
    let (rcpt, bytes) = &messages[0];
    assert_eq!(rcpt, "eve@example.org");
    let raw = String::from_utf8_lossy(bytes);
    let head = &raw[..raw
        .find("\n\n")
        .or_else(|| raw.find("\r\n\r\n"))
        .expect("head")];
    assert!(
        !head
            .lines()
            .any(|l| l.starts_with("Bcc:") || l.starts_with("X-Evil:")),
        "{head}"
    );
    let message = parse(bytes);
    let to: Vec<_> = message.to().expect("To").iter().collect();
    assert_eq!(to.len(), 1);
    assert_eq!(to[0].address(), Some("eve@example.org"));
    assert_eq!(to[0].name(), Some("Eve Bcc: mallory@example.org X-Evil: 1"));
    assert!(message.bcc().is_none());
}

#[test]
fn international_domains_travel_in_ascii() {
    let dir = tempdir();
    let list = write_list(
        dir.path(),
        "[[member]]\nemail = \"anne@bücher.example.org\"\n",
    );
    let sink = smtp_sink(&[]);
    let out = send(&list, &sink.plain_url(), &dir.path().join("l.sqlite3"));
    assert_eq!(out.code, 0, "{out:?}");
    let messages = sink.messages();
    assert_eq!(messages[0].0, "anne@xn--bcher-kva.example.org");
    let to = parse(&messages[0].1)
        .to()
        .and_then(|t| t.first())
        .and_then(|a| a.address())
        .map(str::to_owned);
    assert_eq!(to.as_deref(), Some("anne@xn--bcher-kva.example.org"));
}

#[test]
fn a_utf8_address_needs_a_relay_that_offers_smtputf8() {
    let dir = tempdir();
    let list = write_list(
        dir.path(),
        "[[member]]\nemail = \"rené@example.org\"\n[[member]]\nemail = \"rene@example.org\"\n",
    );
    // smtp-sink does not offer SMTPUTF8: refused for that address only.
    let sink = smtp_sink(&[]);
    let out = send(&list, &sink.plain_url(), &dir.path().join("a.sqlite3"));
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout
            .contains("does not offer SMTPUTF8, which the address rené@example.org needs"),
        "{out:?}"
    );
    assert_eq!(sink.messages().len(), 1, "the other recipient is served");
    // aiosmtpd offers it: delivered.
    let server = smtpd(&[]);
    let out = send(&list, &server.plain_url(), &dir.path().join("b.sqlite3"));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.messages().len(), 2);
}

/// Runs `breves check` on a file with at most 1 GiB of address space and a
/// minute of time: a clear error, not a crash, a hang or a memory blow-up.
fn check_bounded(args: &[&str]) -> (i32, String) {
    let script = format!(
        "ulimit -v 1048576; exec timeout 60 {} check {} 2>&1",
        env!("CARGO_BIN_EXE_breves"),
        args.iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn every_broken_file_gets_a_clear_error_in_bounded_time_and_memory() {
    let broken = common::fixture("broken");
    let mut checked = 0;
    for entry in fs::read_dir(&broken).expect("tests/fixtures/broken") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let shown = format!("tests/fixtures/broken/{name}");
        let (code, out) = if name.starts_with("issue-") {
            check_bounded(&[&shown])
        } else if name.starts_with("list-") {
            check_bounded(&[common::ISSUE, "--subscribers", &shown])
        } else {
            continue;
        };
        assert_eq!(code, 1, "{name}: exit {code}\n{out}");
        assert!(
            !out.contains("panicked") && !out.contains("RUST_BACKTRACE"),
            "{name}:\n{out}"
        );
        assert!(out.contains("error"), "{name}:\n{out}");
        assert!(
            out.contains(&format!("{shown}:")) || out.contains("members-broken.csv:"),
            "{name}: the error names the file and line:\n{out}"
        );
        checked += 1;
    }
    assert!(checked >= 12, "{checked} broken files checked");
}

#[test]
fn a_50_mb_file_is_refused_at_once() {
    let dir = tempdir();
    let huge = dir.path().join("huge.toml");
    let line = "# ".to_owned() + &"x".repeat(98) + "\n";
    fs::write(&huge, line.repeat(500_000)).expect("50 MB");
    let (code, out) = check_bounded(&[huge.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("this file is 50.5 MB"), "{out}");
}

#[test]
fn an_endless_members_file_is_cut_at_the_limit() {
    // A device or a pipe has no size to look at: the limit must hold while
    // reading, whatever the input.
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(
        &list,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\nmembers = \"/dev/zero\"\n[list.topics]\nspatial = \"Spatial\"\n",
    )
    .expect("list");
    let (code, out) = check_bounded(&[
        common::ISSUE,
        "--subscribers",
        list.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("/dev/zero:1:1") && out.contains("this file has a row longer than 64 KB"),
        "{out}"
    );
}

#[test]
fn a_file_of_errors_is_read_up_to_a_thousand_of_them() {
    let dir = tempdir();
    let mut text = String::from("email,name,interests\n");
    for i in 0..5_000 {
        text.push_str(&format!("pas une adresse {i},X,\n"));
    }
    let list = write_list_of_file(dir.path(), &text);
    let (code, out) = check_bounded(&[common::ISSUE, "--subscribers", &list]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("error: invalid address").count(), 1_000);
    assert!(
        out.contains("membres.csv has more than 1000 errors: the rest of it was not read"),
        "{}",
        &out[out.len().saturating_sub(600)..]
    );
}

#[test]
fn a_members_file_larger_than_any_other_input_is_read() {
    // Other inputs are read whole, up to 16 MB; a members file streams.
    let dir = tempdir();
    let mut text = String::from("email,name,interests\n");
    let mut i = 0;
    while text.len() <= 17_000_000 {
        text.push_str(&format!(
            "abonne.numero.{i}@example.org,Abonné numéro {i},spatial\n"
        ));
        i += 1;
    }
    let list = write_list_of_file(dir.path(), &text);
    let (code, out) = check_bounded(&[common::ISSUE, "--subscribers", &list]);
    assert_eq!(code, 0, "{out}");
    let (list, _) = breves::subscribers::List::load(Path::new(&list)).expect("the list");
    assert_eq!(list.size, i);
}

#[test]
fn a_members_file_of_one_member_over_and_over_is_refused_in_bounded_memory() {
    // 200,000 rows of one member: each a warning once the first is read.
    // A few are shown, the others counted; past 10,000 repeats the list is
    // refused, so that the rows left out stay few.
    let dir = tempdir();
    let mut text = String::from("email,name,interests\n");
    text.push_str(&"dup@example.org,Dup,spatial\n".repeat(200_000));
    let list = write_list_of_file(dir.path(), &text);
    let (code, out) = check_bounded(&[common::ISSUE, "--subscribers", &list]);
    assert_eq!(code, 1, "{}", &out[out.len().saturating_sub(2000)..]);
    // A thousand warnings shown in all: the issue's 43, then the repeats.
    assert_eq!(
        out.matches("warning: `dup@example.org` is already a member")
            .count(),
        1_000 - 43,
        "{}",
        &out[..2000.min(out.len())]
    );
    assert!(
        out.contains(
            "error: more than 10000 members are written again: the rest of the list was not checked"
        ),
        "{}",
        &out[..3000.min(out.len())]
    );
    assert!(
        out.contains(
            "… and 9043 more warning(s), not shown: fix those above, then run `breves check` again."
        ) && out.contains(": 1 error(s), 10043 warning(s): fix the errors before sending."),
        "{}",
        &out[out.len().saturating_sub(2000)..]
    );
}

#[test]
fn a_pipe_given_as_an_input_is_refused_at_once() {
    // Opening a pipe waits for a writer: nobody writes to this one.
    let dir = tempdir();
    let fifo = dir.path().join("membres.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let list = dir.path().join("list.toml");
    fs::write(
        &list,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\nmembers = \"membres.csv\"\n[list.topics]\nspatial = \"Spatial\"\n",
    )
    .expect("list");
    let (code, out) = check_bounded(&[
        common::ISSUE,
        "--subscribers",
        list.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "error: members: cannot read {}: a pipe or a socket, not a file: give the path of a file\n --> {}:4:11\n",
            fifo.display(),
            list.display()
        )),
        "{out}"
    );
    let (code, out) = check_bounded(&[fifo.to_str().expect("utf-8")]);
    assert_eq!(
        (code, out.as_str()),
        (
            1,
            format!(
                "error: cannot read {}: a pipe or a socket, not a file: give the path of a file\n",
                fifo.display()
            )
            .as_str()
        )
    );
}
