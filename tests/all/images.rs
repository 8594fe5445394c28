//! Images: sent inside each message that shows them (`multipart/related`,
//! each once, by `Content-ID`), never fetched from anywhere; said in words
//! in the text part; refused by `check` when they cannot be sent; copied
//! beside the archive's pages.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{breves, eml_files, tempdir};
use mail_parser::{MessageParser, MimeHeaders, PartType};

const ISSUE: &str = "tests/fixtures/images/issue.toml";
const LIST: &str = "tests/fixtures/images/list.toml";

/// A message's structure as content types, nested, and its images by
/// `Content-ID` with their bytes and file name.
struct Shape {
    tree: String,
    images: BTreeMap<String, (Vec<u8>, String)>,
    html: String,
    text: String,
}

fn shape(bytes: &[u8]) -> Shape {
    let message = MessageParser::default().parse(bytes).expect("a message");
    fn walk(message: &mail_parser::Message<'_>, id: u32, out: &mut String) {
        let part = &message.parts[id as usize];
        let ct = part.content_type().expect("a content type");
        out.push_str(&format!(
            "{}/{}",
            ct.ctype(),
            ct.subtype().unwrap_or_default()
        ));
        // A multipart/related names its root's type (RFC 2387 §3.1).
        if ct.subtype() == Some("related") {
            out.push_str(&format!(
                "[type={}]",
                ct.attribute("type").unwrap_or("none")
            ));
        }
        if let PartType::Multipart(children) = &part.body {
            out.push('(');
            for (n, child) in children.iter().enumerate() {
                if n > 0 {
                    out.push(' ');
                }
                walk(message, *child, out);
            }
            out.push(')');
        }
    }
    let mut tree = String::new();
    walk(&message, 0, &mut tree);
    let mut images = BTreeMap::new();
    for part in &message.parts {
        if let Some(cid) = part.content_id() {
            images.insert(
                cid.to_owned(),
                (
                    part.contents().to_vec(),
                    part.attachment_name().unwrap_or_default().to_owned(),
                ),
            );
        }
    }
    Shape {
        tree,
        images,
        html: message.body_html(0).expect("html").into_owned(),
        text: message.body_text(0).expect("text").into_owned(),
    }
}

/// The `cid:` references of some HTML, in order, each once.
fn references(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for chunk in html.split("src=\"").skip(1) {
        let src = &chunk[..chunk.find('"').expect("closed")];
        let cid = src
            .strip_prefix("cid:")
            .unwrap_or_else(|| panic!("an image fetched from elsewhere: {src}"));
        if !out.iter().any(|c| c == cid) {
            out.push(cid.to_owned());
        }
    }
    out
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(
        common::root()
            .join("tests/fixtures/images/images")
            .join(name),
    )
    .expect("fixture")
}

#[test]
fn each_message_carries_the_images_its_digest_shows_once_each_and_nothing_else() {
    let dir = tempdir();
    common::send(ISSUE, LIST, dir.path());
    let files = eml_files(dir.path());
    assert_eq!(files.len(), 2);
    let ada = shape(&fs::read(dir.path().join("ada_at_example.org.eml")).expect("Ada"));
    let zoe = shape(&fs::read(dir.path().join("zoe_at_example.org.eml")).expect("Zoé"));

    // The images go with the HTML part; the text part has no use for them.
    assert_eq!(
        zoe.tree,
        "multipart/alternative(text/plain multipart/related[type=text/html](text/html image/png image/jpeg image/gif))"
    );
    // Ada receives Spatial alone: the logo and the highlight's photo, not
    // the chart of a section she does not receive.
    assert_eq!(
        ada.tree,
        "multipart/alternative(text/plain multipart/related[type=text/html](text/html image/png image/jpeg))"
    );
    for shape in [&ada, &zoe] {
        // Every reference has its part, every part its reference, each once
        // (the chart is shown twice and sent once).
        let referenced = references(&shape.html);
        let sent: Vec<String> = shape.images.keys().cloned().collect();
        let mut sorted = referenced.clone();
        sorted.sort();
        assert_eq!(sorted, sent);
    }
    assert_eq!(zoe.html.matches("src=\"cid:").count(), 4);
    // The same image is the same part for everyone, with its own bytes and
    // the editor's file name.
    for (cid, (bytes, name)) in &ada.images {
        assert_eq!(zoe.images.get(cid), Some(&(bytes.clone(), name.clone())));
    }
    let by_name: BTreeMap<&str, &Vec<u8>> =
        zoe.images.values().map(|(b, n)| (n.as_str(), b)).collect();
    for name in ["logo.png", "carte.jpg", "graphique.gif"] {
        assert_eq!(
            by_name.get(name).map(|b| b.as_slice()),
            Some(fixture(name).as_slice()),
            "{name}"
        );
    }
    // Shown at their size, the wide photo at the column's width.
    assert!(
        zoe.html.contains(
            "alt=\"Carte des centres de données du Royaume-Uni\" width=\"480\" height=\"270\""
        ),
        "{}",
        zoe.html
    );
    assert!(
        zoe.html
            .contains("alt=\"SER de Londres\" width=\"360\" height=\"72\"")
    );
}

#[test]
fn the_text_part_says_each_image_in_words() {
    let dir = tempdir();
    common::send(ISSUE, LIST, dir.path());
    let zoe = shape(&fs::read(dir.path().join("zoe_at_example.org.eml")).expect("Zoé"));
    let text = common::fold(&zoe.text);
    assert!(
        text.contains("[Image : Carte des centres de données du Royaume-Uni]"),
        "{text}"
    );
    assert_eq!(
        text.matches("[Image : Graphique des investissements, de 2023 à 2026]")
            .count(),
        2
    );
    assert!(
        !zoe.text.contains("cid:") && !zoe.text.contains(".gif"),
        "{}",
        zoe.text
    );
}

#[test]
fn check_refuses_an_image_it_cannot_send_at_its_place() {
    let dir = tempdir();
    let images = dir.path().join("images");
    fs::create_dir(&images).expect("folder");
    for name in ["logo.png", "carte.jpg"] {
        fs::write(images.join(name), fixture(name)).expect("copied");
    }
    fs::copy(
        common::root().join("tests/fixtures/images/carre.bmp"),
        images.join("carre.bmp"),
    )
    .expect("copied");
    let issue = r#"[issue]
title = "Brèves"
period = { from = 2026-06-01, to = 2026-06-30 }
language = "fr"
subject = "Brèves de juin"
logo = { file = "images/logo.png", alt = " " }

[highlight]
title = "Un titre ![logo](images/logo.png)"
body = '''
![](images/carte.jpg)

Texte, puis ![Une carte](images/absente.png) et ![Un carré](images/carre.bmp).

![Une photo](https://example.org/photo.jpg)
'''
"#;
    fs::write(dir.path().join("issue.toml"), issue).expect("written");
    let run = breves([
        "check",
        dir.path().join("issue.toml").to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let shown = run
        .stderr
        .replace(&format!("{}/", dir.path().display()), "");
    insta::assert_snapshot!(shown);
}

#[test]
fn check_warns_when_a_digests_images_weigh_more_than_200_kb() {
    let dir = tempdir();
    let images = dir.path().join("images");
    fs::create_dir(&images).expect("folder");
    // A PNG of 210 KB: the logo, and bytes after its end that any reader
    // skips.
    let mut heavy = fixture("logo.png");
    heavy.extend(std::iter::repeat_n(0u8, 210 * 1024));
    fs::write(images.join("logo.png"), heavy).expect("written");
    for name in ["carte.jpg", "graphique.gif"] {
        fs::write(images.join(name), fixture(name)).expect("copied");
    }
    let root = common::root();
    fs::copy(root.join(ISSUE), dir.path().join("issue.toml")).expect("copied");
    fs::copy(root.join(LIST), dir.path().join("list.toml")).expect("copied");
    let run = breves([
        "check",
        dir.path().join("issue.toml").to_str().expect("utf-8"),
        "--subscribers",
        dir.path().join("list.toml").to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "a warning: {run:?}");
    let size = 6027 + 210 * 1024 + 11252 + 580;
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .collect::<Vec<_>>(),
        [
            format!(
                "warning: the images of the digest with sections spatial weigh {} bytes together, more than 204800: every subscriber downloads them with the message",
                size - 580
            ),
            format!(
                "warning: the images of the digest with sections economie-numerique, spatial weigh {size} bytes together, more than 204800: every subscriber downloads them with the message"
            ),
        ]
    );
}

#[test]
fn the_archive_and_the_preview_show_the_images_from_files_beside_them() {
    let site = tempdir();
    let run = breves([
        "archive",
        ISSUE,
        "--subscribers",
        LIST,
        "--out",
        site.path().to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    let folder = site.path().join("images-2026-06");
    let page = fs::read_to_string(folder.join("index.html")).expect("page");
    let sources: Vec<&str> = page
        .split("src=\"")
        .skip(1)
        .map(|c| &c[..c.find('"').expect("closed")])
        .collect();
    assert_eq!(
        sources.len(),
        4,
        "the logo and the three images: {sources:?}"
    );
    for src in &sources {
        assert!(src.starts_with("images/img-"), "{src}");
        assert!(folder.join(src).is_file(), "{src}");
    }
    let feed = fs::read_to_string(site.path().join("feed.xml")).expect("feed");
    assert!(
        feed.contains("src=&quot;https://breves.example.fr/archives/images-2026-06/images/img-")
    );
    assert!(!feed.contains("cid:") && !page.contains("cid:"));

    let preview = tempdir();
    let run = breves([
        "preview",
        ISSUE,
        "--subscribers",
        LIST,
        "--subscriber",
        "ada@example.org",
        "--out",
        preview.path().to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    let html = fs::read_to_string(preview.path().join("ada_at_example.org.html")).expect("html");
    let files: Vec<&str> = html
        .split("src=\"")
        .skip(1)
        .map(|c| &c[..c.find('"').expect("closed")])
        .collect();
    assert_eq!(files.len(), 2);
    assert!(
        files
            .iter()
            .all(|f| Path::new(preview.path()).join(f).is_file()),
        "{files:?}"
    );
}
