//! The web archive (`breves archive`): a page per issue with its whole
//! content and nothing personal, an index newest first, an Atom feed read
//! back by an independent parser (Python's feedparser), and the link every
//! digest carries to its issue's page.

use crate::common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::{breves, dry_run, parse, tempdir};

/// The shipped list's archive.
const BASE: &str = "https://breves.example.fr/archives";
/// The shipped issue's id, and the small fixture's.
const MARCH: &str = "bnru68-260226-260403";
/// The id breves gave the March issue before ids were short.
const MARCH_FORMER: &str = "breves-numeriques-royaume-uni-2026-02-26-2026-04-03";
const MAY: &str = "essai-2026-05";

/// Builds the archive of the shipped issue and the small one into `dir`.
pub fn build(dir: &Path) -> common::Run {
    let run = breves([
        "archive",
        common::ISSUE,
        common::SMALL_ISSUE,
        "--subscribers",
        common::LIST,
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    run
}

/// The values of `id="…"` in a page.
fn ids(html: &str) -> BTreeSet<String> {
    html.split(" id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').expect("closed")].to_owned())
        .collect()
}

#[test]
fn every_digest_links_to_its_issue_page_in_both_parts_when_the_list_gives_the_archive() {
    let page = format!("{BASE}/{MARCH}/");
    let dir = tempdir();
    dry_run(dir.path());
    for file in common::some_eml_files(dir.path()) {
        let bytes = fs::read(&file).expect("message");
        let message = parse(&bytes);
        let html = message.body_html(0).expect("html");
        let text = message.body_text(0).expect("text");
        assert!(
            html.contains(&format!(
                "<a href=\"{page}\" style=\"color:#4a4a4a\">Voir la version en ligne</a>"
            )),
            "{file:?}"
        );
        assert!(
            text.starts_with(&format!(
                "Voir la version en ligne\u{a0}:\r\n{page}\r\n\r\n"
            )),
            "{file:?}: {}",
            &text[..200]
        );
    }
    // A list without `archive_url` links to no archive.
    let small = tempdir();
    common::send(common::SMALL_ISSUE, common::SMALL_LIST, small.path());
    for file in common::some_eml_files(small.path()) {
        let bytes = fs::read(&file).expect("message");
        let message = parse(&bytes);
        assert!(!message.body_html(0).expect("html").contains("en ligne"));
        assert!(!message.body_text(0).expect("text").contains("en ligne"));
    }
}

#[test]
fn a_page_holds_the_whole_issue_and_nothing_personal() {
    let site = tempdir();
    let run = build(site.path());
    assert_eq!(
        run.stdout.lines().take(5).collect::<Vec<_>>().join("\n"),
        format!(
            "Archive of 2 issue(s) written to {dir}, for {BASE}/:\n  {dir}/index.html\n  {dir}/feed.xml\n  {dir}/{MAY}/index.html\n  {dir}/{MARCH}/index.html",
            dir = site.path().display()
        )
    );
    let page = fs::read_to_string(site.path().join(MARCH).join("index.html")).expect("the page");
    // The March issue's former address (before ids were short), which the
    // digests already sent link to, leads to its page.
    let moved = fs::read_to_string(site.path().join(MARCH_FORMER).join("index.html"))
        .expect("the former page");
    assert!(
        moved.contains(&format!(
            "<meta http-equiv=\"refresh\" content=\"0; url=../{MARCH}/\">"
        )) && moved.contains(&format!("<a href=\"../{MARCH}/\">"))
            && moved.contains(&format!(
                "<link rel=\"canonical\" href=\"{BASE}/{MARCH}/\">"
            )),
        "{moved}"
    );
    assert!(
        !moved.contains('@') && !moved.contains("http-equiv=\"refresh\" content=\"0; url=http")
    );

    // Every heading of the full digest (the highlight, every section, every
    // article), with the same anchors.
    let digests = tempdir();
    dry_run(digests.path());
    let full = fs::read(digests.path().join("helene.durand_at_example.fr.eml")).expect("full");
    let full = parse(&full).body_html(0).expect("html").into_owned();
    assert_eq!(ids(&page), ids(&full));
    // The sommaire, the highlight, six sections and their 16 articles.
    assert_eq!(ids(&page).len(), 2 + 6 + 16, "{:?}", ids(&page));
    // And every paragraph's words, as the digest writes them.
    let mut paragraphs = 0;
    for paragraph in full.split("<p style=\"margin:0 0 14px\">").skip(1) {
        // css-inline writes a no-break space as `&nbsp;`, maud as itself.
        let words = paragraph[..paragraph.find('<').expect("end")].replace("&nbsp;", "\u{a0}");
        assert!(page.contains(&words), "{words}");
        paragraphs += 1;
    }
    assert_eq!(paragraphs, 40);

    // Nothing about any subscriber: no address of the list, no
    // unsubscription link, no line naming the sections received.
    for file in common::some_eml_files(digests.path()) {
        let bytes = fs::read(&file).expect("message");
        let to = parse(&bytes)
            .to()
            .expect("To")
            .first()
            .expect("one")
            .address()
            .expect("address")
            .to_owned();
        assert!(!page.contains(&to), "{to}");
    }
    for personal in [
        "desabonnement",
        "Vous recevez",
        "Se désabonner",
        "preheader",
    ] {
        assert!(!page.contains(personal), "{personal}");
    }
    assert!(page.contains(&format!(
        "<link rel=\"canonical\" href=\"{BASE}/{MARCH}/\">"
    )));
    assert!(page.contains("<a href=\"../\">← Toutes les lettres</a>"));
}

#[test]
fn the_index_lists_the_issues_newest_first() {
    let site = tempdir();
    build(site.path());
    let index = fs::read_to_string(site.path().join("index.html")).expect("the index");
    let may = index
        .find(&format!("<a href=\"{MAY}/\">"))
        .expect("May's issue");
    let march = index
        .find(&format!("<a href=\"{MARCH}/\">"))
        .expect("March's issue");
    assert!(may < march, "newest first");
    assert!(index.contains("<title>Brèves numériques du SER de Londres</title>"));
    assert!(index.contains("1er au 31 mai 2026"));
    assert!(index.contains("26 février au 3 avril 2026"));
    assert!(index.contains("<a href=\"feed.xml\">"));
}

#[test]
fn the_feed_reads_in_an_independent_parser() {
    let site = tempdir();
    build(site.path());
    let python = std::env::var("BREVES_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import feedparser, json, sys
d = feedparser.parse(sys.argv[1])
print(json.dumps({
  "bozo": bool(d.bozo), "version": d.version, "title": d.feed.title,
  "id": d.feed.id, "self": [l.href for l in d.feed.links if l.rel == "self"],
  "entries": [{"title": e.title, "id": e.id, "link": e.link, "updated": e.updated,
               "summary": e.summary, "content": len(e.content[0].value),
               "anchor": 'id="fait-marquant"' in e.content[0].value} for e in d.entries],
}, ensure_ascii=False))
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(site.path().join("feed.xml"))
        .output()
        .expect("python3 with feedparser (PyPI; .ci/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let feed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(feed["bozo"], false, "well-formed: {feed}");
    assert_eq!(feed["version"], "atom10");
    assert_eq!(feed["title"], "Brèves numériques du SER de Londres");
    assert_eq!(feed["id"], format!("{BASE}/"));
    assert_eq!(feed["self"][0], format!("{BASE}/feed.xml"));
    let entries = feed["entries"].as_array().expect("entries");
    let titles: Vec<&str> = entries
        .iter()
        .map(|e| e["title"].as_str().expect("title"))
        .collect();
    assert_eq!(
        titles,
        [
            "Brèves d'essai\u{a0}: mai 2026 — «\u{202f}tout\u{202f}»\u{202f}?",
            "Brèves numériques Royaume-Uni, 26 février au 3 avril 2026",
        ]
    );
    // An entry's id is the address the issue was first published at: for
    // March, made before ids were short, its former page's, which leads
    // to its page.
    for ((entry, id), first) in entries.iter().zip([MAY, MARCH]).zip([MAY, MARCH_FORMER]) {
        let page = format!("{BASE}/{id}/");
        assert_eq!(entry["id"], format!("{BASE}/{first}/").as_str());
        assert_eq!(entry["link"], page.as_str());
        assert_eq!(entry["anchor"], true, "the whole content: {entry}");
    }
    assert_eq!(entries[0]["updated"], "2026-06-02T08:30:00+01:00");
    assert!(entries[1]["content"].as_u64().expect("length") > 30_000);
}

#[test]
fn an_archive_without_its_address_has_no_feed_and_says_so() {
    let site = tempdir();
    let out = site.path().to_str().expect("utf-8");
    let run = breves(["archive", common::ISSUE, "--out", out]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            format!(
                "Archive of 1 issue(s) written to {out}:\n  {out}/index.html\n  {out}/{MARCH}/index.html\n  {out}/{MARCH_FORMER}/index.html\n  No feed and no canonical addresses: the site's address is unknown (give --url, or archive_url under [list]).\n  43 warning(s) about the input: run `breves check` to see them.\n"
            )
            .as_str(),
            ""
        )
    );
    let index = fs::read_to_string(site.path().join("index.html")).expect("index");
    assert!(
        !index.contains("feed.xml") && !index.contains("canonical"),
        "{index}"
    );
    assert!(!site.path().join("feed.xml").exists());
}

#[test]
fn an_archive_with_an_issue_twice_or_an_address_it_cannot_use_says_what_to_do() {
    let site = tempdir();
    let out = site.path().to_str().expect("utf-8");
    let twice = breves([
        "archive",
        common::ISSUE,
        common::ISSUE,
        "--url",
        "https://breves.example.fr/a/",
        "--out",
        out,
    ]);
    assert_eq!(
        (twice.code, twice.stdout.as_str(), twice.stderr.as_str()),
        (
            1,
            "",
            format!("error: {i} and {i} are both the issue {MARCH}: give each issue once, or an `id` of its own\n", i = common::ISSUE).as_str()
        )
    );
    let plain = breves([
        "archive",
        common::ISSUE,
        "--url",
        "http://breves.example.fr",
        "--out",
        out,
    ]);
    assert_eq!(
        (plain.code, plain.stderr.as_str()),
        (
            1,
            "error: `http://breves.example.fr` is not an https:// address without a query (or http:// on this machine)\n"
        )
    );
    assert_eq!(
        fs::read_dir(site.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn an_archive_writes_only_inside_its_folder_whatever_links_are_planted_there() {
    let dir = tempdir();
    let out = dir.path().join("site");
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(&out).expect("out");
    fs::create_dir_all(&elsewhere).expect("elsewhere");
    let victim = elsewhere.join("victim.html");
    fs::write(&victim, "keep me").expect("victim");
    // A link where the index goes, and one where the issue's folder goes.
    std::os::unix::fs::symlink(&victim, out.join("index.html")).expect("link");
    std::os::unix::fs::symlink(&elsewhere, out.join(MARCH)).expect("link");
    let out_text = out.to_str().expect("utf-8");
    let run = breves(["archive", common::ISSUE, "--out", out_text]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            1,
            "",
            format!(
                "error: cannot write {out_text}/{MARCH}: a symbolic link: breves writes only inside the output folder, never through a link (remove it)\n"
            )
            .as_str()
        )
    );
    assert_eq!(fs::read_to_string(&victim).expect("victim"), "keep me");
    assert_eq!(fs::read_dir(&elsewhere).expect("list").count(), 1);
    // Once the linked folder is gone, the site is written, the link at
    // the index replaced by the page itself.
    fs::remove_file(out.join(MARCH)).expect("unlink");
    let run = breves(["archive", common::ISSUE, "--out", out_text]);
    assert_eq!(run.code, 0, "{run:?}");
    let index = fs::symlink_metadata(out.join("index.html")).expect("index");
    assert!(index.is_file(), "a file of its own");
    assert!(
        fs::read_to_string(out.join("index.html"))
            .expect("index")
            .contains("<html")
    );
    assert_eq!(fs::read_to_string(&victim).expect("victim"), "keep me");
}
