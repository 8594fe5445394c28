//! The plain-text part and French typography, read back from the messages
//! through mail-parser, so what is checked is what a mail client decodes.

use crate::common;

use std::fs;

use common::{eml_files, parse, tempdir};

const NBSP: char = '\u{a0}';
const NNBSP: char = '\u{202f}';

/// The text and HTML parts of the small fixture's digest for Zoé, who
/// receives every section.
fn small_digest() -> (String, String) {
    let dir = tempdir();
    common::send(common::SMALL_ISSUE, common::SMALL_LIST, dir.path());
    let bytes = fs::read(dir.path().join("zoe_at_example.org.eml")).expect("Zoé's digest");
    let message = parse(&bytes);
    let text = message.body_text(0).expect("text").replace("\r\n", "\n");
    let html = message.body_html(0).expect("html").into_owned();
    (text, html)
}

#[test]
fn lines_stay_within_76_columns_except_long_urls() {
    let dir = tempdir();
    common::dry_run(dir.path());
    let mut files = eml_files(dir.path());
    let small = tempdir();
    common::send(common::SMALL_ISSUE, common::SMALL_LIST, small.path());
    files.extend(eml_files(small.path()));
    let mut long_urls = 0;
    for file in files {
        let bytes = fs::read(&file).expect("readable");
        let text = parse(&bytes).body_text(0).expect("text").into_owned();
        for line in text.lines() {
            let width = line.chars().count();
            if width > 76 {
                // Only a long URL: alone on its line (an unsubscription
                // link), or in a reference line `[n] URL`.
                let url = line
                    .strip_prefix('[')
                    .and_then(|l| l.split_once("] "))
                    .filter(|(n, _)| n.parse::<u32>().is_ok())
                    .map_or(line, |(_, url)| url);
                let long_url =
                    url.starts_with("https://") && !url.contains(' ') && url.chars().count() > 70;
                assert!(
                    long_url,
                    "{file:?}: a line of {width} columns is not a long URL: «{line}»"
                );
                long_urls += 1;
            }
        }
    }
    assert!(long_urls >= 1, "the fixture's long URL is kept whole");
}

#[test]
fn links_are_numbered_references_under_their_article() {
    let (text, _) = small_digest();
    let highlight = &text[text.find("FAIT MARQUANT").expect("highlight")..];
    let highlight = &highlight[..highlight.find("ÉCONOMIE").expect("next section")];
    assert!(
        highlight.contains(&format!("un lien{NBSP}[1]")),
        "{highlight}"
    );
    assert!(
        highlight.contains(&format!("le même lien{NBSP}[1]")),
        "the same URL keeps its number"
    );
    assert!(
        highlight.contains(&format!("un autre{NBSP}[2]")),
        "{highlight}"
    );
    assert!(highlight.contains("[1] https://example.org/rapport\n[2] https://example.org/autre\n"));
    // A link without a target is its text alone.
    assert!(highlight.contains("le communiqué."), "{highlight}");
    assert!(!highlight.contains("le communiqué [") && !highlight.contains("(#)"));
    // Numbering starts again under each article.
    assert!(text.contains("le document\u{a0}[1]."), "{text}");
    assert!(text.contains("\n[1] https://example.org/salon\n"), "{text}");
    // The sommaire shows titles without reference numbers.
    let sommaire = &text[..text.find("FAIT MARQUANT").expect("highlight")];
    assert!(sommaire.contains("  - Le salon spatial\n"), "{sommaire}");
}

#[test]
fn headings_and_lists_are_kept() {
    let (text, _) = small_digest();
    assert!(
        text.starts_with(
            "BRÈVES D'ESSAI\nRoyaume-Uni\nUne publication du SER de Londres\n1er au 31 mai 2026\n"
        ),
        "{text}"
    );
    let rule = "=".repeat(76);
    assert!(
        text.contains(&format!("{rule}\nFAIT MARQUANT\n{rule}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{rule}\nSPATIAL\n{rule}\n")),
        "{text}"
    );
    assert!(
        text.contains("Un article sur les œuvres\n-------------------------\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  - premier point, avec le même lien{NBSP}[1]{NNBSP};\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("  1. Numéroté un\n  2. Numéroté deux\n"),
        "{text}"
    );
    assert!(text.contains("Le 1er mai, rien."), "{text}");
}

#[test]
fn french_spacing_survives_transport_in_both_parts() {
    let (text, html) = small_digest();
    for part in [&text, &html] {
        assert!(
            part.contains(&format!("mot gras{NNBSP};"))
                || part.contains(&format!("</strong>{NNBSP};")),
            "narrow space before ;"
        );
        assert!(
            part.contains(&format!("question{NNBSP}?")),
            "narrow space before ?"
        );
        assert!(
            part.contains(&format!("exclamation{NNBSP}!")),
            "narrow space before !"
        );
        assert!(
            part.contains(&format!("«{NNBSP}citation{NNBSP}»")),
            "narrow spaces inside « »"
        );
        assert!(
            part.contains(&format!("Les mesures{NBSP}:")) || part.contains("Les mesures&nbsp;:"),
            "no-break space before :"
        );
        assert!(
            !part.contains(" :") && !part.contains(" ;") && !part.contains(" ?"),
            "no breakable space is left before a sign"
        );
    }
    // URLs and times keep their colons untouched.
    assert!(html.contains("href=\"https://example.org/rapport\""));
    assert!(text.contains("[1] https://example.org/rapport"));
}

#[test]
fn accents_and_signs_survive_in_headers() {
    let dir = tempdir();
    common::send(common::SMALL_ISSUE, common::SMALL_LIST, dir.path());
    let bytes = fs::read(dir.path().join("zoe_at_example.org.eml")).expect("Zoé's digest");
    let message = parse(&bytes);
    assert_eq!(
        message.subject(),
        // French spacing in the subject too, no-break spaces intact.
        Some("Brèves d'essai\u{a0}: mai 2026 — «\u{202f}tout\u{202f}»\u{202f}?")
    );
    let to = message.to().and_then(|t| t.first()).expect("To");
    assert_eq!(to.name(), Some("Zoé « Zo » Œuvray"));
    assert_eq!(
        message
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.name()),
        Some("Brèves d'essai")
    );
}

#[test]
fn the_preheader_names_the_sections_received() {
    let dir = tempdir();
    common::send(common::SMALL_ISSUE, common::SMALL_LIST, dir.path());
    let ada = fs::read(dir.path().join("ada_at_example.org.eml")).expect("Ada's digest");
    let html = parse(&ada).body_html(0).expect("html").into_owned();
    let start = html.find("class=\"preheader\"").expect("preheader");
    let preheader = &html[start..start + 400];
    assert!(
        preheader.contains("Le point du mois")
            && preheader.contains("Au sommaire")
            && preheader.contains("Spatial"),
        "{preheader}"
    );
    assert!(
        !preheader.contains("Économie"),
        "Ada did not choose it: {preheader}"
    );
}
