//! Unsubscription in every message: RFC 2369 and RFC 8058 headers, List-Id,
//! the footer's and each section's signed links, and nothing that tracks.

mod common;

use std::collections::HashSet;
use std::fs;

use breves::unsubscribe::Signer;
use common::{breves_with, dry_run, eml_files, parse, tempdir};

const BASE: &str = "https://breves.example.fr/desabonnement/";

/// The raw header lines named `name` (unfolded lines only).
fn raw_headers<'a>(bytes: &'a [u8], name: &str) -> Vec<&'a str> {
    let text = std::str::from_utf8(bytes).expect("ASCII message");
    let head = &text[..text.find("\r\n\r\n").expect("headers end")];
    head.split("\r\n")
        .filter(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l[name.len()..].starts_with(':')
        })
        .collect()
}

#[test]
fn every_message_offers_one_click_unsubscription() {
    let dir = tempdir();
    let run = dry_run(dir.path());
    assert!(
        run.stdout.contains("signed with the test secret"),
        "{run:?}"
    );
    let signer = Signer::test();
    let mut urls = HashSet::new();
    for file in eml_files(dir.path()) {
        let bytes = fs::read(&file).expect("message");
        let message = parse(&bytes);
        let to = message
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.address())
            .expect("To")
            .to_lowercase();

        let list_unsubscribe = raw_headers(&bytes, "List-Unsubscribe");
        assert_eq!(list_unsubscribe.len(), 1, "{file:?}");
        let value = list_unsubscribe[0]
            .trim_start_matches("List-Unsubscribe:")
            .trim();
        // On one line, as a DKIM signature over it expects.
        assert!(bytes.windows(value.len()).any(|w| w == value.as_bytes()));
        let (url, mailto) = value.split_once(", ").expect("two addresses");
        let url = url.trim_matches(['<', '>']);
        assert!(url.starts_with(BASE), "{url}");
        assert_eq!(
            mailto,
            "<mailto:desabonnement@example.fr?subject=unsubscribe>"
        );
        assert_eq!(
            raw_headers(&bytes, "List-Unsubscribe-Post"),
            vec!["List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
        );
        assert_eq!(
            raw_headers(&bytes, "List-Id"),
            vec!["List-Id: <londres.example.fr>"],
            "the list's name is not ASCII, so only its id is given"
        );

        // The token names this subscriber, this list, the whole list.
        let token = signer.verify(&url[BASE.len()..]).expect("a valid token");
        assert_eq!(
            (token.list.as_str(), token.address.as_str(), token.section),
            ("londres", to.as_str(), None)
        );
        assert!(
            urls.insert(url.to_owned()),
            "each subscriber has their own link"
        );

        // The footer repeats it in words, in both parts.
        let html = message.body_html(0).expect("html").into_owned();
        let text = message.body_text(0).expect("text").into_owned();
        assert!(
            html.contains(&format!(
                "<a href=\"{url}\" style=\"color: #4a4a4a;\">Se désabonner de cette lettre</a>"
            )),
            "{file:?}"
        );
        assert!(
            text.contains(&format!(
                "Pour vous désabonner de cette lettre\u{a0}:\r\n{url}"
            )),
            "{file:?}"
        );
    }
}

#[test]
fn each_section_has_its_own_signed_link() {
    let dir = tempdir();
    dry_run(dir.path());
    let bytes = fs::read(dir.path().join("marc.dupont_at_example.org.eml")).expect("Marc's digest");
    let message = parse(&bytes);
    let html = message.body_html(0).expect("html").into_owned();
    let signer = Signer::test();
    let mut sections = Vec::new();
    for chunk in html.split(&format!("href=\"{BASE}")).skip(1) {
        let token = &chunk[..chunk.find('"').expect("end of link")];
        let token = signer.verify(token).expect("valid");
        assert_eq!(token.address, "marc.dupont@example.org");
        sections.push(token.section);
    }
    assert_eq!(
        sections,
        vec![
            Some("cybersecurite".to_owned()),
            Some("spatial".to_owned()),
            None
        ],
        "one link per section received, then the list's"
    );
    assert!(html.contains("Ne plus recevoir la rubrique «\u{202f}Spatial\u{202f}»"));
}

#[test]
fn nothing_in_a_message_tracks_its_reader() {
    let dir = tempdir();
    dry_run(dir.path());
    let issue = fs::read_to_string(common::root().join(common::ISSUE)).expect("issue");
    for file in eml_files(dir.path()) {
        let bytes = fs::read(&file).expect("message");
        let html = parse(&bytes).body_html(0).expect("html").into_owned();
        assert!(
            !html.contains("<img"),
            "no image, so no tracking pixel: {file:?}"
        );
        assert!(
            !html.contains("<link") && !html.contains("@import") && !html.contains("url("),
            "no remote style or font"
        );
        assert!(!html.contains("src="), "nothing is loaded from anywhere");
        for chunk in html.split("href=\"").skip(1) {
            let href = &chunk[..chunk.find('"').expect("end")];
            let allowed = href.starts_with('#')
                || href.starts_with("mailto:")
                || href.starts_with(BASE)
                || issue.contains(&format!("]({href})"));
            assert!(allowed, "{file:?}: a link that is not the editor's: {href}");
        }
    }
}

#[test]
fn a_real_send_needs_the_secret_and_the_unsubscription_address() {
    let sink = common::smtp::smtp_sink(&[]);
    let ledger = tempdir();
    let args = |list: &str| {
        vec![
            "send".to_owned(),
            common::ISSUE.to_owned(),
            "--subscribers".to_owned(),
            list.to_owned(),
            "--smtp".to_owned(),
            sink.plain_url(),
            "--ledger".to_owned(),
            ledger.path().join("l.sqlite3").display().to_string(),
        ]
    };
    let out = breves_with(args(common::LIST), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("set BREVES_UNSUBSCRIBE_SECRET"),
        "{out:?}"
    );
    let out = breves_with(
        args(common::LIST),
        &[("BREVES_UNSUBSCRIBE_SECRET", "short")],
    );
    assert!(out.stderr.contains("at least 16 bytes"), "{out:?}");

    let list = ledger.path().join("list.toml");
    let text = fs::read_to_string(common::root().join(common::LIST)).expect("list");
    let text = text
        .lines()
        .filter(|l| !l.starts_with("unsubscribe_url") && !l.starts_with("members"))
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(&list, text).expect("write");
    let out = breves_with(
        args(&list.display().to_string()),
        &[("BREVES_UNSUBSCRIBE_SECRET", "a long enough secret, surely")],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("has no unsubscribe_url"), "{out:?}");
    assert!(sink.messages().is_empty());
}
