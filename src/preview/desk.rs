//! The editor's desk: what `breves preview --serve` shows of an issue and a
//! list as they are saved. [`Desk`] reads the files, checks them as `check`
//! does, and writes the pages; [`super::server`] serves them and reloads
//! the desk when a file changes.
//!
//! Nothing here can send or record anything: a digest shown is a
//! [`super::preview`], its links signed with the test secret.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Preview, Whom, preview};
use crate::campaign::{Campaign, GMAIL_CLIP_BYTES, gmail_size, kilobytes};
use crate::check::check;
use crate::image::{Image, replace_cids};
use crate::issue::Issue;
use crate::subscribers::List;
use crate::{Error, Result};

/// The files a desk follows.
#[derive(Debug, Clone)]
pub struct Files {
    /// The issue file.
    pub issue: PathBuf,
    /// The list file.
    pub list: PathBuf,
}

/// One distinct digest of the issue for the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Its sections' ids, separated by commas (`--interests`).
    pub interests: String,
    /// Its sections' titles.
    pub titles: Vec<String>,
    /// How many members receive it.
    pub members: usize,
    /// The size of its HTML part as Gmail counts it (as it travels), in
    /// bytes.
    pub html_bytes: usize,
}

/// The files, checked and ready to preview.
#[derive(Debug)]
pub struct Ready {
    /// The issue.
    pub issue: Issue,
    /// The list.
    pub list: List,
    /// The warnings of `check`, each as it prints them.
    pub warnings: Vec<String>,
    /// The distinct digests, in the order the list first asks for them.
    pub variants: Vec<Variant>,
    /// Members who receive nothing of this issue.
    pub skipped: usize,
}

/// What the files are now.
#[derive(Debug)]
pub enum State {
    /// Checked without errors.
    Ready(Box<Ready>),
    /// A file has errors (or cannot be read): what `check` says, each
    /// problem as it prints it.
    Broken(Vec<String>),
}

/// The desk: the files, what they are now, and a number that changes each
/// time they do.
#[derive(Debug)]
pub struct Desk {
    files: Files,
    state: State,
    stamps: Vec<Option<(u64, std::time::SystemTime, u64)>>,
    inputs: u64,
    generation: u64,
}

/// Which digest a page shows, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// A member of the list, by address.
    pub subscriber: Option<String>,
    /// Or these sections (ids separated by commas; empty for all).
    pub interests: Option<String>,
    /// The width the HTML part is shown at (600 or 375).
    pub width: u32,
    /// Whether it is shown as a mail program in dark mode shows it.
    pub dark: bool,
}

impl View {
    /// Reads a page's query: `subscriber=`, `interests=` (or `section=`
    /// repeated, as a form of check boxes sends them), `width=375`,
    /// `dark=1`.
    pub fn from_query(query: &str) -> View {
        let mut view = View {
            width: 600,
            ..View::default()
        };
        let mut sections: Vec<String> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "subscriber" if !value.trim().is_empty() => {
                    view.subscriber = Some(value.trim().to_owned());
                }
                "interests" => view.interests = Some(value.into_owned()),
                "section" => sections.push(value.into_owned()),
                "width" => view.width = if value == "375" { 375 } else { 600 },
                "dark" => view.dark = value == "1",
                _ => {}
            }
        }
        if view.interests.is_none() && view.subscriber.is_none() {
            view.interests = Some(sections.join(","));
        }
        view
    }

    /// The query that shows this view, with `width` and `dark` changed.
    pub fn query(&self, width: u32, dark: bool) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        match (&self.subscriber, &self.interests) {
            (Some(s), _) => query.append_pair("subscriber", s),
            (None, i) => query.append_pair("interests", i.as_deref().unwrap_or_default()),
        };
        if width != 600 {
            query.append_pair("width", &width.to_string());
        }
        if dark {
            query.append_pair("dark", "1");
        }
        query.finish()
    }

    fn whom(&self) -> Whom<'_> {
        match &self.subscriber {
            Some(email) => Whom::Member(email),
            None => Whom::Interests(self.interests.as_deref().unwrap_or_default()),
        }
    }
}

/// What the file system says of the files (size, time of change, inode),
/// to tell cheaply whether they may have changed.
fn stamps(paths: &[&Path]) -> Vec<Option<(u64, std::time::SystemTime, u64)>> {
    use std::os::unix::fs::MetadataExt;
    paths
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).ok()?;
            Some((m.len(), m.modified().ok()?, m.ino()))
        })
        .collect()
}

/// A hash of every byte of the files, to tell a save that changed them
/// from an editor touching them.
fn fingerprint(paths: &[&Path]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for path in paths {
        std::fs::read(path).ok().hash(&mut hasher);
    }
    hasher.finish()
}

/// Each problem as `check` prints it, without colour: the errors first,
/// then the warnings, each in file order.
fn rendered(problems: &crate::diagnostics::Problems) -> Vec<String> {
    let (errors, warnings): (Vec<_>, Vec<_>) =
        problems.sorted().into_iter().partition(|p| p.is_error());
    errors
        .into_iter()
        .chain(warnings)
        .map(|p| p.render(false).trim_end().to_owned())
        .collect()
}

/// Checks the files as `check` does, then prepares what the pages show.
fn load(files: &Files) -> State {
    let checked = match check(&files.issue, Some(&files.list)) {
        Ok(checked) => checked,
        Err(e) => return State::Broken(vec![format!("error: {e}")]),
    };
    if checked.problems.has_errors() {
        return State::Broken(rendered(&checked.problems));
    }
    let ready = (|| -> Result<Ready> {
        let (issue, _) = Issue::load(&files.issue)?;
        let (list, _) = List::load(&files.list)?;
        let campaign = Campaign::prepare(&issue, &list)?;
        let audience = campaign.audience();
        let variants = audience
            .variants
            .iter()
            .zip(campaign.digests())
            .enumerate()
            .map(|(index, (variant, digest))| Variant {
                interests: variant.selection.ids(&issue).join(","),
                titles: variant
                    .selection
                    .sections(&issue)
                    .map(|s| s.title.clone())
                    .collect(),
                members: variant.members,
                html_bytes: campaign
                    .html_size(index)
                    .unwrap_or_else(|_| gmail_size(digest)),
            })
            .collect();
        let skipped = audience.skipped.len();
        Ok(Ready {
            warnings: rendered(&checked.problems),
            variants,
            skipped,
            issue,
            list,
        })
    })();
    match ready {
        Ok(ready) => State::Ready(Box::new(ready)),
        Err(Error::Invalid(problems)) => State::Broken(rendered(&problems)),
        Err(e) => State::Broken(vec![format!("error: {e}")]),
    }
}

impl Desk {
    /// Reads and checks the files.
    pub fn new(files: Files) -> Desk {
        let mut desk = Desk {
            state: State::Broken(Vec::new()),
            stamps: Vec::new(),
            inputs: 0,
            generation: 0,
            files,
        };
        desk.state = load(&desk.files);
        desk.stamps = stamps(&desk.watched_refs());
        desk.inputs = fingerprint(&desk.watched_refs());
        desk
    }

    /// Reads the files again if any changed since; whether they did (and
    /// the generation moved on).
    pub fn reload(&mut self) -> bool {
        let now = stamps(&self.watched_refs());
        if now == self.stamps {
            return false;
        }
        self.stamps = now;
        let inputs = fingerprint(&self.watched_refs());
        if inputs == self.inputs {
            return false;
        }
        self.state = load(&self.files);
        // The members file may be another one now.
        self.stamps = stamps(&self.watched_refs());
        self.inputs = fingerprint(&self.watched_refs());
        self.generation += 1;
        true
    }

    /// A number that changes each time the files do.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What the files are now.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The files followed: the issue, the list, and its members file.
    pub fn watched(&self) -> Vec<PathBuf> {
        self.watched_refs()
            .into_iter()
            .map(Path::to_path_buf)
            .collect()
    }

    fn watched_refs(&self) -> Vec<&Path> {
        let mut paths = vec![self.files.issue.as_path(), self.files.list.as_path()];
        if let State::Ready(ready) = &self.state
            && let Some(members) = ready.list.members_file()
        {
            paths.push(members);
        }
        paths
    }

    /// The first page: every distinct digest, how many receive it and
    /// its size; a form to look up a member or choose sections.
    pub fn index(&self) -> String {
        let body = match &self.state {
            State::Broken(problems) => broken(problems),
            State::Ready(ready) => index_body(ready, &self.files),
        };
        self.page("breves preview", body)
    }

    /// The page of one digest: its HTML part beside its text part.
    pub fn digest(&self, view: &View) -> String {
        let body = match &self.state {
            State::Broken(problems) => broken(problems),
            State::Ready(ready) => match self.preview(view) {
                Ok(preview) => digest_body(ready, view, &preview),
                Err(e) => html! {
                    p { a href="/" { "← Every digest" } }
                    p.error { (e.to_string()) }
                },
            },
        };
        self.page("breves preview: a digest", body)
    }

    /// The digest of a view, as `preview` writes it.
    pub fn preview(&self, view: &View) -> Result<Preview> {
        match &self.state {
            State::Ready(ready) => preview(
                &ready.issue,
                &ready.list,
                view.whom(),
                ready.issue.default_date(),
            ),
            State::Broken(_) => Err(Error::Preview),
        }
    }

    /// The HTML part of a view, with the digest's dark-mode rules applied
    /// whatever the browser's scheme when `view.dark`.
    pub fn part(&self, view: &View) -> Result<String> {
        let preview = self.preview(view)?;
        let html = replace_cids(&preview.html, &preview.images, |i| {
            format!("/image/{}", i.cid)
        });
        Ok(if view.dark {
            html.replace("@media (prefers-color-scheme: dark)", "@media all")
        } else {
            html
        })
    }

    /// An image the digests show, by `Content-ID`.
    pub fn image(&self, cid: &str) -> Option<&Image> {
        let State::Ready(ready) = &self.state else {
            return None;
        };
        let logos = [&ready.issue.logo, &ready.list.logo];
        ready
            .issue
            .images
            .iter()
            .chain(logos.into_iter().flatten().map(|l| &l.image))
            .find(|i| i.cid == cid)
    }

    fn page(&self, title: &str, body: Markup) -> String {
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    (body)
                    script { (PreEscaped(RELOAD.replace("GENERATION", &self.generation.to_string()))) }
                }
            }
        }
        .into_string()
    }
}

/// Reloads the page when the files change: the server sends the
/// generation on `/events` when a page connects and whenever it moves on.
const RELOAD: &str = r#"
const shown = "GENERATION";
new EventSource("/events").onmessage = (event) => {
  if (event.data !== shown) location.reload();
};
// The HTML part's frame as tall as the digest: no scroll bar takes from
// its width, and the page scrolls as a whole.
const frame = document.querySelector("iframe");
const fit = () => {
  frame.style.height = frame.contentDocument.documentElement.scrollHeight + "px";
  frame.dataset.fitted = "yes";
};
if (frame) {
  frame.addEventListener("load", fit);
  // Already loaded (not the blank page a frame starts with).
  const inside = frame.contentDocument;
  if (inside?.readyState === "complete" && inside.URL !== "about:blank") fit();
}
"#;

const STYLE: &str = r#"
body { margin: 0; font: 15px/1.5 system-ui, Arial, sans-serif; color: #161616; background: #f4f5f7; }
header, main { padding: 12px 20px; }
header { background: #000091; color: #fff; }
header a { color: #fff; }
h1 { font-size: 20px; margin: 0; }
table { border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: 6px 12px; border-bottom: 1px solid #d0d0d0; vertical-align: top; }
td.number { text-align: right; }
.over { color: #b00020; font-weight: bold; }
.error, .problems { color: #b00020; }
pre { background: #fff; padding: 12px; overflow-x: auto; }
.problems pre { color: #161616; border-left: 4px solid #b00020; }
.parts { display: flex; gap: 20px; align-items: flex-start; flex-wrap: wrap; }
.parts iframe { border: 1px solid #d0d0d0; background: #fff; height: 2400px; box-sizing: content-box; }
.parts pre { margin: 0; white-space: pre; font: 13px/1.45 ui-monospace, monospace; max-width: 80ch; }
.switches a, .switches strong { margin-right: 10px; }
form { margin: 12px 0; }
"#;

/// What every page shows while a file has errors.
fn broken(problems: &[String]) -> Markup {
    html! {
        header { h1 { "breves preview" } }
        main.problems {
            p { strong { "The files have errors; no digest can be shown until they are fixed." }
                " This page reloads by itself when a file is saved." }
            @for problem in problems {
                pre { (problem) }
            }
        }
    }
}

fn index_body(ready: &Ready, files: &Files) -> Markup {
    let issue = &ready.issue;
    let receiving: usize = ready.variants.iter().map(|v| v.members).sum();
    html! {
        header {
            h1 { (issue.subject) }
            p { (files.issue.display()) " for the list " (ready.list.id) " (" (files.list.display()) ")" }
        }
        main {
            h2 { (ready.variants.len()) " distinct digest(s) for " (receiving) " subscriber(s)" }
            table.variants {
                thead { tr { th { "Sections" } th { "Subscribers" } th { "HTML part" } } }
                tbody {
                    @for variant in &ready.variants {
                        tr {
                            td {
                                a href={ "/digest?" (View { interests: Some(variant.interests.clone()), width: 600, ..View::default() }.query(600, false)) } {
                                    @if variant.titles.is_empty() { "The highlight only" }
                                    @else if variant.titles.len() == issue.sections.len() { "Every section" }
                                    @else { (variant.titles.join(", ")) }
                                }
                            }
                            td.number { (variant.members) }
                            @let over = variant.html_bytes > GMAIL_CLIP_BYTES;
                            td.number.over[over] {
                                (kilobytes(variant.html_bytes)) " of " (kilobytes(GMAIL_CLIP_BYTES))
                                @if over { " — Gmail clips it" }
                            }
                        }
                    }
                }
            }
            @if ready.skipped > 0 {
                p { (ready.skipped) " member(s) receive nothing of this issue (none of their interests is one of its sections)." }
            }
            form action="/digest" method="get" {
                label { "A subscriber's digest: " input type="email" name="subscriber" required placeholder="name@example.fr"; }
                " " button { "Show" }
            }
            form action="/digest" method="get" {
                "Any sections: "
                @for section in &issue.sections {
                    label { input type="checkbox" name="section" value=(section.id); " " (section.title) } " "
                }
                button { "Show" }
            }
            @if !ready.warnings.is_empty() {
                details {
                    summary { (ready.warnings.len()) " warning(s) from breves check" }
                    @for warning in &ready.warnings { pre { (warning) } }
                }
            }
        }
    }
}

fn digest_body(ready: &Ready, view: &View, preview: &Preview) -> Markup {
    let sections: Vec<&str> = preview
        .sections
        .iter()
        .filter_map(|id| ready.issue.section(id).map(|s| s.title.as_str()))
        .collect();
    let switch = |label: &str, width: u32, dark: bool| {
        let current = width == view.width && dark == view.dark;
        html! {
            @if current { strong { (label) } }
            @else { a href={ "/digest?" (view.query(width, dark)) } { (label) } }
        }
    };
    html! {
        header {
            p { a href="/" { "← Every digest" } }
            h1 { "For " (preview.to.to_string()) }
            p {
                "The highlight"
                @if !sections.is_empty() { " and " (sections.join(", ")) }
                ". HTML part " (kilobytes(crate::message::encoded_len(&preview.html))) " as it travels, whole message " (kilobytes(preview.letter.bytes.len())) "."
            }
        }
        main {
            p.switches {
                (switch("600 px", 600, view.dark)) (switch("375 px", 375, view.dark))
                " · "
                (switch("Light", view.width, false)) (switch("Dark", view.width, true))
                " · "
                a href={ "/message.eml?" (view.query(600, false)) } download={ (preview.stem) ".eml" } { "The .eml file" }
            }
            div.parts {
                iframe title="The HTML part" width=(view.width) src={ "/part.html?" (view.query(view.width, view.dark)) } {}
                pre.text { (preview.text) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_the_queries_its_pages_and_forms_write() {
        let view = View::from_query("subscriber=h%C3%A9l%C3%A8ne%40example.fr&width=375&dark=1");
        assert_eq!(
            view,
            View {
                subscriber: Some("hélène@example.fr".into()),
                interests: None,
                width: 375,
                dark: true,
            }
        );
        assert_eq!(View::from_query(&view.query(375, true)), view);
        assert_eq!(
            View::from_query(&view.query(600, false)),
            View {
                width: 600,
                dark: false,
                ..view
            }
        );
        // Check boxes send one `section` each; nothing chosen is every
        // section; any other width is the desk's.
        let boxes = View::from_query("section=spatial&section=cybersecurite&width=9999&dark=yes");
        assert_eq!(boxes.interests.as_deref(), Some("spatial,cybersecurite"));
        assert_eq!((boxes.width, boxes.dark), (600, false));
        assert_eq!(View::from_query("").interests.as_deref(), Some(""));
        assert_eq!(
            View::from_query("subscriber=+&interests=spatial").subscriber,
            None
        );
    }

    #[test]
    fn the_desk_reloads_when_a_file_changes_and_only_then() {
        let dir = tempfile::tempdir().expect("dir");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
        let issue = dir.path().join("issue.toml");
        let list = dir.path().join("list.toml");
        std::fs::copy(fixtures.join("issue.toml"), &issue).expect("copied");
        std::fs::copy(fixtures.join("list.toml"), &list).expect("copied");
        let mut desk = Desk::new(Files {
            issue: issue.clone(),
            list: list.clone(),
        });
        let State::Ready(ready) = desk.state() else {
            panic!("{:?}", desk.state())
        };
        assert!(!ready.variants.is_empty());
        assert_eq!(desk.watched(), vec![issue.clone(), list.clone()]);
        assert!(!desk.reload(), "nothing changed");

        // Saved again as it was: no new generation.
        let text = std::fs::read_to_string(&issue).expect("issue");
        std::fs::write(&issue, &text).expect("saved");
        assert!(!desk.reload());
        assert_eq!(desk.generation(), 0);

        std::fs::write(&issue, text.replacen("[issue]", "[issue", 1)).expect("saved");
        assert!(desk.reload());
        assert_eq!(desk.generation(), 1);
        let State::Broken(problems) = desk.state() else {
            panic!("{:?}", desk.state())
        };
        assert!(problems[0].starts_with("error: "), "{problems:?}");
        assert!(desk.index().contains("The files have errors"));
        assert!(desk.preview(&View::from_query("")).is_err());

        std::fs::write(&issue, &text).expect("fixed");
        assert!(desk.reload());
        assert_eq!(desk.generation(), 2);
        assert!(matches!(desk.state(), State::Ready(_)));
        let page = desk.index();
        assert!(
            page.contains("const shown = \"2\";"),
            "the generation it shows"
        );
        assert!(
            desk.part(&View::from_query("dark=1"))
                .expect("part")
                .contains("@media all")
        );
    }
}

#[cfg(test)]
mod image_tests {
    use super::*;

    #[test]
    fn the_desk_serves_a_digests_images_by_their_content_id() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images");
        let desk = Desk::new(Files {
            issue: fixtures.join("issue.toml"),
            list: fixtures.join("list.toml"),
        });
        let part = desk.part(&View::from_query("")).expect("the part");
        let sources: Vec<&str> = part
            .split("src=\"")
            .skip(1)
            .map(|c| &c[..c.find('"').unwrap_or(0)])
            .collect();
        assert_eq!(sources.len(), 4, "{sources:?}");
        for src in sources {
            let cid = src.strip_prefix("/image/").expect("served by the desk");
            assert!(desk.image(cid).is_some(), "{cid}");
        }
        assert!(desk.image("img-0000000000000000@breves").is_none());
    }
}
