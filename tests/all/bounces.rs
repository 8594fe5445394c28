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
