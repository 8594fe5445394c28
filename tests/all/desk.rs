//! The editor's desk (`breves preview --serve`) in a real browser: the
//! first page lists the distinct digests, a digest shows both parts at
//! either width and in either scheme, a saved change shows up without a
//! reload by hand, a broken file shows `check`'s diagnostic and the page
//! recovers when it is fixed.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::browser::Browser;
use common::{dry_run, tempdir};
use serde_json::Value;

/// A running `breves preview --serve`, stopped when dropped.
struct Desk {
    child: Child,
    url: String,
}

impl Desk {
    fn start(issue: &Path, list: &Path) -> Desk {
        let mut child = common::command()
            .args([
                "preview",
                "--serve",
                "--listen",
                "127.0.0.1:0",
                "--subscribers",
            ])
            .arg(list)
            .arg(issue)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("breves starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("its first line");
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in «{first}»"))
            .to_owned();
        assert_eq!(
            first,
            format!(
                "Preview of {} for {} on {url}\n",
                issue.display(),
                list.display()
            )
        );
        Desk { child, url }
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shipped issue and list, copied where a test can change them.
fn copies(dir: &Path) -> (PathBuf, PathBuf) {
    copies_in(dir, "toml")
}

/// [`copies`], the issue in the form `form` (`toml` or `md`).
fn copies_in(dir: &Path, form: &str) -> (PathBuf, PathBuf) {
    let root = common::root();
    let issue = format!("issues/2026-03-royaume-uni.{form}");
    for file in [
        issue.as_str(),
        common::LIST,
        "subscribers/londres-membres.csv",
    ] {
        let from = root.join(file);
        fs::copy(&from, dir.join(from.file_name().expect("name"))).expect("copied");
    }
    (
        dir.join(format!("2026-03-royaume-uni.{form}")),
        dir.join("londres.toml"),
    )
}

/// Saves `path` with `from` replaced by `to`, as an editor would.
fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).expect("readable");
    assert!(text.contains(from), "{from}");
    fs::write(path, text.replacen(from, to, 1)).expect("saved");
}

/// The text of the HTML part shown in the page's frame.
const FRAME_TEXT: &str = "document.querySelector('iframe')?.contentDocument?.body?.innerText";

#[test]
fn the_first_page_lists_every_distinct_digest_with_its_subscribers_and_size() {
    let desk = Desk::start(
        &common::root().join(common::ISSUE),
        &common::root().join(common::LIST),
    );
    let mut browser = Browser::open(&desk.url, 1200);
    let rows = browser.wait_for(
        "document.querySelector('table.variants') && Array.from(document.querySelectorAll('table.variants tbody tr')).map(r => [new URL(r.querySelector('a').href).searchParams.get('interests'), r.cells[1].innerText, r.cells[2].innerText])",
        20,
    );
    // As many digests, for as many subscribers each, as the dry run writes.
    let out = tempdir();
    dry_run(out.path());
    let manifest: Value =
        serde_json::from_slice(&fs::read(out.path().join("manifest.json")).expect("manifest"))
            .expect("json");
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for message in manifest["messages"].as_array().expect("messages") {
        let sections: Vec<&str> = message["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s.as_str().expect("id"))
            .collect();
        *expected.entry(sections.join(",")).or_default() += 1;
    }
    // The size of a digest's HTML part as it travels (what Gmail counts),
    // by its sections, from a message of the dry run.
    let mut travels: BTreeMap<String, f64> = BTreeMap::new();
    for message in manifest["messages"].as_array().expect("messages") {
        let sections: Vec<&str> = message["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s.as_str().expect("id"))
            .collect();
        let file = out.path().join(message["file"].as_str().expect("file"));
        let bytes = fs::read(&file).expect("message");
        let parsed = common::parse(&bytes);
        let html = parsed
            .parts
            .iter()
            .find(|p| {
                mail_parser::MimeHeaders::content_type(*p)
                    .is_some_and(|c| c.subtype() == Some("html"))
            })
            .expect("an HTML part");
        let size = (html.offset_end - html.offset_body) as f64 / 1000.0;
        travels.insert(sections.join(","), size);
    }
    let mut shown: BTreeMap<String, usize> = BTreeMap::new();
    let mut compared = 0;
    for row in rows.as_array().expect("rows") {
        let size = row[2].as_str().expect("size");
        assert!(size.ends_with(" KB of 102.0 KB"), "{size}");
        let kb: f64 = size
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a size");
        let interests = row[0].as_str().expect("interests");
        if let Some(actual) = travels.get(interests) {
            compared += 1;
            assert!(
                (kb - actual).abs() <= 0.1,
                "{interests}: {kb} KB shown, {actual} KB as it travels"
            );
        }
        shown.insert(
            row[0].as_str().expect("interests").to_owned(),
            row[1].as_str().expect("count").parse().expect("a number"),
        );
    }
    assert!(
        compared >= 5,
        "sizes compared with the messages: {compared}"
    );
    assert_eq!(shown, expected);
    assert_eq!(shown.len(), 9);
    let said = browser
        .eval("document.querySelector('main').innerText")
        .expect("text");
    let said = said.as_str().expect("text");
    assert!(
        said.contains("9 distinct digest(s) for 11 subscriber(s)"),
        "{said}"
    );
    assert!(
        said.contains("1 member(s) receive nothing of this issue"),
        "{said}"
    );
}

#[test]
fn a_digest_shows_both_parts_at_either_width_in_either_scheme_and_by_subscriber() {
    let desk = Desk::start(
        &common::root().join(common::ISSUE),
        &common::root().join(common::LIST),
    );
    let mut browser = Browser::open(
        &format!(
            "{}digest?subscriber=helene.durand%40example.fr&width=375&dark=1",
            desk.url
        ),
        1200,
    );
    let measures = browser.wait_for(
        "(() => { const f = document.querySelector('iframe'); const d = f?.contentDocument; \
         if (!d?.querySelector('table.container') || !f.dataset.fitted) return null; \
         return { frame: f.clientWidth, inner: d.documentElement.clientWidth, \
                  background: getComputedStyle(d.querySelector('table.container')).backgroundColor, \
                  heading: document.querySelector('h1').innerText, \
                  text: document.querySelector('pre.text').textContent.slice(0, 40) }; })()",
        20,
    );
    assert_eq!(measures["frame"], 375, "{measures}");
    assert_eq!(
        measures["inner"], 375,
        "no scroll bar narrows it: {measures}"
    );
    assert_eq!(
        measures["background"], "rgb(28, 28, 28)",
        "dark: {measures}"
    );
    assert_eq!(
        measures["heading"],
        "For Hélène Durand <helene.durand@example.fr>"
    );
    assert_eq!(
        measures["text"],
        "Voir la version en ligne\u{a0}:\nhttps://breve"
    );

    // Light, 600 pixels: the switches are links to the same digest.
    browser.eval("location.href = [...document.querySelectorAll('.switches a')].find(a => a.innerText === 'Light').href");
    let light = browser.wait_for(
        "(() => { const d = document.querySelector('iframe')?.contentDocument; const c = d?.querySelector('table.container'); \
         return c && location.search.includes('subscriber') && !location.search.includes('dark') && getComputedStyle(c).backgroundColor; })()",
        20,
    );
    assert_eq!(light, "rgb(255, 255, 255)");

    // Anyone not on the list is said to be so.
    browser.eval(&format!(
        "location.href = '{}digest?subscriber=personne%40example.org'",
        desk.url
    ));
    let said = browser.wait_for("document.querySelector('p.error')?.innerText", 20);
    assert_eq!(said, "personne@example.org is not a member of the list");
}

#[test]
fn a_saved_change_shows_up_without_a_reload_by_hand() {
    saved_change_shows_up("toml");
}

#[test]
fn a_saved_change_to_an_issue_in_markdown_shows_up_the_same() {
    saved_change_shows_up("md");
}

fn saved_change_shows_up(form: &str) {
    let dir = tempdir();
    let (issue, list) = copies_in(dir.path(), form);
    let desk = Desk::start(&issue, &list);
    let mut browser = Browser::open(&format!("{}digest?interests=spatial", desk.url), 1200);
    let before = browser.wait_for(
        &format!("{FRAME_TEXT}?.includes('Spatial') && {FRAME_TEXT}"),
        20,
    );
    assert!(
        before
            .as_str()
            .expect("text")
            .contains("Les annonces du gouvernement britannique à l'occasion du salon spatial"),
        "{before}"
    );
    browser.eval("window.untouched = true");

    edit(
        &issue,
        "Les annonces du gouvernement britannique à l'occasion du salon spatial",
        "Les annonces du gouvernement au salon spatial, revues",
    );
    let after = browser.wait_for(
        &format!("{FRAME_TEXT}?.includes('au salon spatial, revues') && !window.untouched && document.querySelector('pre.text').innerText"),
        20,
    );
    assert!(
        after
            .as_str()
            .expect("text")
            .contains("au salon spatial, revues"),
        "the text part too: {after}"
    );
}

#[test]
fn a_broken_file_shows_its_diagnostic_and_the_page_recovers_when_it_is_fixed() {
    let dir = tempdir();
    let (issue, list) = copies(dir.path());
    let desk = Desk::start(&issue, &list);
    let mut browser = Browser::open(&desk.url, 1200);
    browser.wait_for("document.querySelector('table.variants')", 20);

    edit(
        &issue,
        "[[section]]\nid = \"spatial\"",
        "[[section]]\nid = \"Spatial!\"",
    );
    let problems = browser.wait_for(
        "document.querySelector('main.problems') && Array.from(document.querySelectorAll('main.problems pre')).map(p => p.innerText)",
        20,
    );
    let line = fs::read_to_string(&issue)
        .expect("issue")
        .lines()
        .position(|l| l == "id = \"Spatial!\"")
        .expect("the line")
        + 1;
    let expected = format!(
        "error: id: a section id is lowercase letters, digits and hyphens, like `donnees-ia`\n   --> {path}:{line}:6\n    |\n{line} | id = \"Spatial!\"\n    |      ^^^^^^^^^^",
        path = issue.display()
    );
    assert_eq!(problems[0], expected.as_str(), "{problems}");

    edit(&issue, "id = \"Spatial!\"", "id = \"spatial\"");
    let heading = browser.wait_for("document.querySelector('main h2')?.innerText", 20);
    assert_eq!(heading, "9 distinct digest(s) for 11 subscriber(s)");
}

#[test]
fn the_desk_answers_reading_only_and_on_loopback_by_default() {
    let desk = Desk::start(
        &common::root().join(common::ISSUE),
        &common::root().join(common::LIST),
    );
    let address = desk.url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(address).expect("connects");
    write!(
        stream,
        "POST /digest HTTP/1.0\r\nHost: {address}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("sent");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reply");
    assert!(
        reply.starts_with("HTTP/1.0 405") || reply.starts_with("HTTP/1.1 405"),
        "{reply}"
    );
    let help = common::breves(["preview", "--help"]);
    assert!(
        help.stdout.contains("[default: 127.0.0.1:8026]"),
        "{help:?}"
    );
}

#[test]
fn the_desk_answers_only_at_its_own_address_so_no_other_site_reads_it() {
    let desk = Desk::start(
        &common::root().join(common::ISSUE),
        &common::root().join(common::LIST),
    );
    let address = desk.url.trim_start_matches("http://").trim_end_matches('/');
    let port = address.rsplit_once(':').expect("a port").1;
    let get = |host: &str| {
        let mut stream = TcpStream::connect(address).expect("connects");
        write!(
            stream,
            "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .expect("sent");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("reply");
        reply
    };
    // A page of another site whose name resolves here (DNS rebinding).
    for host in [
        format!("rebind.example.com:{port}"),
        format!("127.0.0.1.example.com:{port}"),
        "localhost".to_owned(),
    ] {
        let reply = get(&host);
        assert!(reply.starts_with("HTTP/1.1 403"), "{host}: {reply}");
        assert!(
            !reply.contains("@example"),
            "{host}: nothing of the list: {reply}"
        );
    }
    for host in [address.to_owned(), format!("localhost:{port}")] {
        let reply = get(&host);
        assert!(reply.starts_with("HTTP/1.1 200"), "{host}: {reply}");
    }
}
