//! `breves preview`: one digest as .html, .txt and .eml, for a member of
//! the list or for a set of sections.

use crate::common;

use std::fs;

use common::{breves, parse, tempdir};

#[test]
fn a_members_digest_is_written_three_ways() {
    let dir = tempdir();
    let run = breves([
        "preview",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--subscriber",
        "Chloe.OConnor@example.org",
        "--out",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.contains("the highlight and spatial"), "{run:?}");
    let file = |ext: &str| {
        dir.path()
            .join(format!("chloe.oconnor_at_example.org.{ext}"))
    };
    let html = fs::read_to_string(file("html")).expect("html");
    let text = fs::read_to_string(file("txt")).expect("txt");
    let eml = fs::read(file("eml")).expect("eml");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(text.contains("SPATIAL") && !text.contains("CYBERSÉCURITÉ"));
    let message = parse(&eml);
    let to = message.to().and_then(|t| t.first()).expect("To");
    assert_eq!(to.address(), Some("chloe.oconnor@example.org"));
    // The preview is exactly what that member is sent.
    let out = tempdir();
    common::dry_run(out.path());
    let sent = fs::read(out.path().join("chloe.oconnor_at_example.org.eml")).expect("sent");
    assert_eq!(eml, sent, "preview and send render the same message");
}

#[test]
fn an_unknown_or_unserved_member_is_explained() {
    let dir = tempdir();
    let out = dir.path().to_str().expect("utf-8");
    let run = breves([
        "preview",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--subscriber",
        "nobody@example.org",
        "--out",
        out,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("nobody@example.org is not a member of the list"),
        "{run:?}"
    );

    let run = breves([
        "preview",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--subscriber",
        "agenda.only@example.com",
        "--out",
        out,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("receives nothing from this issue"),
        "{run:?}"
    );
}

#[test]
fn interests_must_be_sections_of_the_issue() {
    let dir = tempdir();
    let run = breves([
        "preview",
        common::ISSUE,
        "--interests",
        "spatial,espace",
        "--out",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no section `espace`"), "{run:?}");
    assert!(
        run.stderr.contains("economie-numerique, donnees-ia"),
        "the valid ids are listed: {run:?}"
    );

    let run = breves([
        "preview",
        common::ISSUE,
        "--interests",
        "cybersecurite,spatial",
        "--out",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    assert!(dir.path().join("cybersecurite+spatial.html").exists());
}

#[test]
fn a_member_of_an_internationalised_domain_is_found_as_typed_or_in_ascii() {
    let dir = tempdir();
    let list = dir.path().join("liste.toml");
    std::fs::write(
        &list,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\ntopics = { spatial = \"Spatial\" }\n\n[[member]]\nemail = \"anne@bücher.example.org\"\ninterests = [\"spatial\"]\n",
    )
    .expect("written");
    for typed in ["anne@bücher.example.org", "Anne@xn--bcher-kva.example.org"] {
        let out = dir.path().join(typed);
        let run = breves([
            "preview".as_ref(),
            common::ISSUE.as_ref(),
            "--subscribers".as_ref(),
            list.as_os_str(),
            "--subscriber".as_ref(),
            typed.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(run.code, 0, "{typed}: {run:?}");
        assert!(
            run.stdout.contains("anne@xn--bcher-kva.example.org"),
            "{run:?}"
        );
    }
}
