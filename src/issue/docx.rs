//! A digest drafted in Word (or LibreOffice, saved as `.docx`) brought in
//! as an issue in Markdown ([`super::md`]): `breves import`.
//!
//! The document is read from its own XML (a `.docx` is a zip of XML parts):
//! the paragraphs of `word/document.xml` with their styles, named as
//! `word/styles.xml` names them (`heading 1`, `Title`: the names Word keeps
//! in every language), the addresses of its hyperlinks
//! (`word/_rels/document.xml.rels`) and its numbered lists
//! (`word/numbering.xml`). What the issue can hold is kept: the title
//! (style Title) and subtitle (Subtitle), each Heading 1 a part of the issue
//! (the first the highlight, one titled `Colophon` the colophon, the others
//! sections), each Heading 2 an article, deeper headings inside its text,
//! paragraphs, bold, italic, superscripts, bulleted and numbered lists, and
//! hyperlinks with their addresses. What it cannot hold (tables, images,
//! comments, footnotes, tracked changes) is left out, each listed with its
//! place in the document. Nothing is sent anywhere.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};

use super::Period;
use super::dates::{french_period, parse_french_period};
use super::md::{COLOPHON, FENCE};

/// Why a document cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DocxError {
    /// The file could not be opened.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a `.docx` (a zip holding `word/document.xml`).
    #[error("{} is not a Word document (.docx): {reason}", path.display())]
    NotDocx {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A part of the document is not XML breves can read.
    #[error("{} is not a Word document breves can read: {part}: {reason}", path.display())]
    Xml {
        /// The file.
        path: PathBuf,
        /// The part, such as `word/document.xml`.
        part: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The document has no title (a paragraph in the style Title).
    #[error(
        "{} has no title: give the newsletter's name the style Title (Titre), its first paragraph",
        path.display()
    )]
    NoTitle {
        /// The file.
        path: PathBuf,
    },
    /// The period is neither given nor written in the document.
    #[error(
        "{} does not say its period as \"26 février au 3 avril 2026\" before its first heading: give it with --period 2026-02-26..2026-04-03",
        path.display()
    )]
    NoPeriod {
        /// The file.
        path: PathBuf,
    },
}

/// What the import is told besides the document.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The weeks the issue covers, when the document does not say them.
    pub period: Option<Period>,
    /// The sections a list offers (id, label): a section whose title is a
    /// label takes its id.
    pub topics: Vec<(String, String)>,
}

/// A document brought in.
#[derive(Debug)]
pub struct Imported {
    /// The issue in Markdown.
    pub text: String,
    /// What the document holds that the issue cannot, each with its place.
    pub left_out: Vec<LeftOut>,
}

/// Something of the document the issue cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// What: "a table", "an image", "a comment".
    pub what: &'static str,
    /// Where: the paragraph's number in the document, and the heading
    /// above it.
    pub place: String,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, {}", self.what, self.place)
    }
}

/// The largest part of a document read, uncompressed: a digest is text.
const LARGEST_PART: u64 = 32 * 1024 * 1024;

/// Reads the `.docx` at `path` into an issue in Markdown.
pub fn import(path: &Path, options: &Options) -> Result<Imported, DocxError> {
    let file = std::fs::File::open(path).map_err(|source| DocxError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| DocxError::NotDocx {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let mut part = |name: &str| -> Result<Option<String>, DocxError> {
        let Ok(entry) = zip.by_name(name) else {
            return Ok(None);
        };
        let mut text = String::new();
        entry
            .take(LARGEST_PART)
            .read_to_string(&mut text)
            .map_err(|e| DocxError::Xml {
                path: path.to_owned(),
                part: name.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Some(text))
    };
    let document = part("word/document.xml")?.ok_or_else(|| DocxError::NotDocx {
        path: path.to_owned(),
        reason: "it holds no word/document.xml".into(),
    })?;
    let styles = part("word/styles.xml")?.unwrap_or_default();
    let relations = part("word/_rels/document.xml.rels")?.unwrap_or_default();
    let numbering = part("word/numbering.xml")?.unwrap_or_default();
    let xml_error = |part: &str| {
        let path = path.to_owned();
        let part = part.to_owned();
        move |reason: String| DocxError::Xml { path, part, reason }
    };
    let context = Context {
        styles: style_names(&styles).map_err(xml_error("word/styles.xml"))?,
        links: link_targets(&relations).map_err(xml_error("word/_rels/document.xml.rels"))?,
        numbered: numbered_lists(&numbering).map_err(xml_error("word/numbering.xml"))?,
    };
    let read = paragraphs(&document, &context).map_err(xml_error("word/document.xml"))?;
    write_issue(path, read, options)
}

/// What the other parts say about the document's paragraphs.
struct Context {
    /// Each style's name, lowercase, by its id.
    styles: HashMap<String, String>,
    /// Each hyperlink's address, by its relation's id.
    links: HashMap<String, String>,
    /// The lists (by `numId`) whose first level is numbered, not bulleted.
    numbered: std::collections::HashSet<String>,
}

/// What one paragraph is, by its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Title,
    Subtitle,
    Heading(u8),
    Bullet,
    Numbered,
    Text,
}

/// A run of text and how it is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Run {
    text: String,
    bold: bool,
    italic: bool,
    superscript: bool,
    link: Option<String>,
}

/// A paragraph read.
#[derive(Debug)]
struct Paragraph {
    kind: Kind,
    runs: Vec<Run>,
}

/// The paragraphs, and what was left out of them.
struct Read {
    paragraphs: Vec<Paragraph>,
    left_out: Vec<(&'static str, usize)>,
}

/// The value of the attribute `name` (its local name, any prefix).
fn attribute(element: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Whether a run property such as `<w:b/>` is on: present, and not
/// `w:val="0"` or `"false"`.
fn on(element: &BytesStart<'_>) -> bool {
    !matches!(
        attribute(element, b"val").as_deref(),
        Some("0" | "false" | "none")
    )
}

/// Every element of `xml`, as its start (or empty) event, and its end.
fn events(
    xml: &str,
    mut each: impl FnMut(&Event<'_>, &mut Vec<String>) -> Result<(), String>,
) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut open: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match &event {
            Event::Eof => return Ok(()),
            Event::Start(e) => {
                open.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                each(&event, &mut open)?;
            }
            Event::End(_) => {
                each(&event, &mut open)?;
                open.pop();
            }
            _ => each(&event, &mut open)?,
        }
    }
}

/// Each style's name, lowercase, by its id.
fn style_names(xml: &str) -> Result<HashMap<String, String>, String> {
    let mut names = HashMap::new();
    let mut id = None;
    events(xml, |event, _| {
        if let Event::Start(e) | Event::Empty(e) = event {
            match e.local_name().as_ref() {
                b"style" => id = attribute(e, b"styleId"),
                b"name" => {
                    if let (Some(id), Some(name)) = (id.clone(), attribute(e, b"val")) {
                        names.insert(id, name.to_lowercase());
                    }
                }
                _ => {}
            }
        }
        Ok(())
    })?;
    Ok(names)
}

/// Each external hyperlink's address, by its relation's id.
fn link_targets(xml: &str) -> Result<HashMap<String, String>, String> {
    let mut links = HashMap::new();
    events(xml, |event, _| {
        if let Event::Start(e) | Event::Empty(e) = event
            && e.local_name().as_ref() == b"Relationship"
            && attribute(e, b"Type").is_some_and(|t| t.ends_with("/hyperlink"))
            && let (Some(id), Some(target)) = (attribute(e, b"Id"), attribute(e, b"Target"))
        {
            links.insert(id, target);
        }
        Ok(())
    })?;
    Ok(links)
}

/// The lists (`numId`) whose first level is numbered rather than bulleted.
fn numbered_lists(xml: &str) -> Result<std::collections::HashSet<String>, String> {
    // abstractNumId → whether its level 0 is numbered; numId → abstractNumId.
    let mut abstract_numbered: HashMap<String, bool> = HashMap::new();
    let mut lists: Vec<(String, String)> = Vec::new();
    let (mut abstract_id, mut level, mut num_id) = (None, None::<String>, None);
    events(xml, |event, _| {
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"abstractNum" => abstract_id = attribute(e, b"abstractNumId"),
                b"lvl" => level = attribute(e, b"ilvl"),
                b"numFmt" if level.as_deref() == Some("0") => {
                    if let Some(id) = abstract_id.clone() {
                        let numbered =
                            attribute(e, b"val").is_some_and(|f| f != "bullet" && f != "none");
                        abstract_numbered.insert(id, numbered);
                    }
                }
                b"num" => num_id = attribute(e, b"numId"),
                b"abstractNumId" => {
                    if let (Some(num), Some(of)) = (num_id.clone(), attribute(e, b"val")) {
                        lists.push((num, of));
                    }
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    })?;
    Ok(lists
        .into_iter()
        .filter(|(_, of)| abstract_numbered.get(of).copied().unwrap_or(false))
        .map(|(num, _)| num)
        .collect())
}

/// A paragraph's kind by its style's name (and its list, if any).
fn kind_of(style: Option<&str>, list: Option<&str>, context: &Context) -> Kind {
    let name = style
        .map(|s| {
            context
                .styles
                .get(s)
                .cloned()
                .unwrap_or_else(|| s.to_lowercase())
        })
        .unwrap_or_default();
    let compact: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    if compact == "title" || compact == "titre" {
        return Kind::Title;
    }
    if compact == "subtitle" || compact == "sous-titre" {
        return Kind::Subtitle;
    }
    for prefix in ["heading", "titre"] {
        if let Some(level) = compact
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<u8>().ok())
        {
            return Kind::Heading(level.clamp(1, 6));
        }
    }
    if let Some(list) = list {
        return match context.numbered.contains(list) {
            true => Kind::Numbered,
            false => Kind::Bullet,
        };
    }
    if compact.starts_with("listnumber") {
        return Kind::Numbered;
    }
    if compact.starts_with("listbullet") || compact.starts_with("listparagraph") {
        return Kind::Bullet;
    }
    Kind::Text
}

/// The paragraphs of the document's body, in order, and what is left out.
fn paragraphs(xml: &str, context: &Context) -> Result<Read, String> {
    let mut read = Read {
        paragraphs: Vec::new(),
        left_out: Vec::new(),
    };
    // The paragraph being read: its style, its list, its runs.
    let mut style: Option<String> = None;
    let mut list: Option<String> = None;
    let mut runs: Vec<Run> = Vec::new();
    let mut run = Run::default();
    let mut link: Option<String> = None;
    let mut in_text = false;
    // How deep inside a table, a deletion or a drawing: their text is not
    // read.
    let mut skipped = 0usize;
    let leave = |what: &'static str, at: usize, left: &mut Vec<(&'static str, usize)>| {
        if !left.iter().any(|(w, p)| *w == what && *p == at) {
            left.push((what, at));
        }
    };
    events(xml, |event, open| {
        let here = read.paragraphs.len() + 1;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    b"tbl" if !empty => {
                        leave("a table", here, &mut read.left_out);
                        skipped += 1;
                    }
                    b"del" | b"moveFrom" if !empty => {
                        leave(
                            "a tracked change (the text as changed is kept)",
                            here,
                            &mut read.left_out,
                        );
                        skipped += 1;
                    }
                    b"ins" | b"moveTo" => {
                        leave(
                            "a tracked change (the text as changed is kept)",
                            here,
                            &mut read.left_out,
                        );
                    }
                    b"drawing" | b"pict" | b"object" if !empty => {
                        if skipped == 0 {
                            leave("an image or a drawing", here, &mut read.left_out);
                        }
                        skipped += 1;
                    }
                    _ if skipped > 0 => {}
                    b"p" => {
                        style = None;
                        list = None;
                        runs.clear();
                    }
                    b"pStyle" => style = attribute(e, b"val"),
                    b"numId" => list = attribute(e, b"val").filter(|v| v != "0"),
                    // A link to a place of the document itself (an anchor)
                    // has no address a reader can follow: its text is kept.
                    b"hyperlink" if !empty => {
                        link = attribute(e, b"id").and_then(|id| context.links.get(&id).cloned());
                    }
                    b"r" => {
                        run = Run {
                            link: link.clone(),
                            ..Run::default()
                        }
                    }
                    b"b" => run.bold = on(e),
                    b"i" => run.italic = on(e),
                    b"vertAlign" => {
                        run.superscript = attribute(e, b"val").as_deref() == Some("superscript");
                    }
                    b"t" if !empty => in_text = true,
                    b"tab" | b"br" | b"cr" if open.iter().any(|p| p == "r") => run.text.push(' '),
                    b"noBreakHyphen" => run.text.push('‑'),
                    b"commentReference" | b"commentRangeStart" => {
                        leave("a comment", here, &mut read.left_out);
                    }
                    b"footnoteReference" | b"endnoteReference" => {
                        leave("a footnote", here, &mut read.left_out);
                    }
                    _ => {}
                }
                if empty && e.local_name().as_ref() == b"p" && skipped == 0 {
                    // An empty paragraph, ended where it starts.
                    read.paragraphs.push(Paragraph {
                        kind: Kind::Text,
                        runs: Vec::new(),
                    });
                }
            }
            Event::Text(t) if in_text && skipped == 0 => {
                run.text
                    .push_str(&t.xml10_content().map_err(|e| e.to_string())?);
            }
            Event::GeneralRef(r) if in_text && skipped == 0 => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => Some(c),
                    None => match name.as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                run.text.extend(c);
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"tbl" | b"del" | b"moveFrom" | b"drawing" | b"pict" | b"object" => {
                    skipped = skipped.saturating_sub(1);
                }
                _ if skipped > 0 => {}
                b"t" => in_text = false,
                b"hyperlink" => link = None,
                b"r" if !run.text.is_empty() => runs.push(std::mem::take(&mut run)),
                b"p" => {
                    let kind = kind_of(style.as_deref(), list.as_deref(), context);
                    read.paragraphs.push(Paragraph {
                        kind,
                        runs: std::mem::take(&mut runs),
                    });
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    })?;
    Ok(read)
}

/// Text as Markdown reads it back as typed: the characters that would
/// mark it up are escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '[' | ']' | '^' | '`' | '<' | '>' | '#' | '~' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A mark around runs: a link (its address), bold, italic.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mark {
    Link(String),
    Bold,
    Italic,
}

impl Mark {
    fn of(run: &Run) -> Vec<Mark> {
        let mut marks = Vec::new();
        marks.extend(run.link.clone().map(Mark::Link));
        if run.bold {
            marks.push(Mark::Bold);
        }
        if run.italic {
            marks.push(Mark::Italic);
        }
        marks
    }

    fn open(&self) -> &'static str {
        match self {
            Mark::Link(_) => "[",
            Mark::Bold => "**",
            Mark::Italic => "*",
        }
    }

    fn close(&self) -> String {
        match self {
            Mark::Link(target) if target.contains([' ', '(', ')', '<', '>']) => {
                format!("](<{}>)", target.replace(['<', '>'], ""))
            }
            Mark::Link(target) => format!("]({target})"),
            Mark::Bold => "**".into(),
            Mark::Italic => "*".into(),
        }
    }
}

/// A paragraph's runs as inline Markdown. Marks nest as the runs share
/// them: one that lasts longer is opened first and closed last, so that
/// bold text with an italic part reads `**a *b***`; spaces stand outside
/// the marks, as Markdown asks.
fn inline(runs: &[Run]) -> String {
    // Runs set alike are one.
    let mut merged: Vec<Run> = Vec::new();
    for run in runs {
        match merged.last_mut() {
            Some(last)
                if last.bold == run.bold
                    && last.italic == run.italic
                    && last.superscript == run.superscript
                    && last.link == run.link =>
            {
                last.text.push_str(&run.text);
            }
            _ => merged.push(run.clone()),
        }
    }
    // How many runs from `k` on keep `mark`.
    let lasting = |mark: &Mark, k: usize| {
        merged[k..]
            .iter()
            .take_while(|r| Mark::of(r).contains(mark))
            .count()
    };
    let mut out = String::new();
    let mut open: Vec<Mark> = Vec::new();
    let mut spaces = String::new();
    for (k, run) in merged.iter().enumerate() {
        let (lead, words, trail) = split_spaces(&run.text);
        if words.is_empty() {
            spaces.push_str(&run.text);
            continue;
        }
        let wanted = Mark::of(run);
        if let Some(lowest) = open.iter().position(|m| !wanted.contains(m)) {
            while open.len() > lowest {
                if let Some(mark) = open.pop() {
                    out.push_str(&mark.close());
                }
            }
        }
        out.push_str(&spaces);
        out.push_str(lead);
        spaces = trail.to_owned();
        let mut opening: Vec<Mark> = wanted.into_iter().filter(|m| !open.contains(m)).collect();
        opening.sort_by_key(|m| std::cmp::Reverse(lasting(m, k)));
        for mark in opening {
            out.push_str(mark.open());
            open.push(mark);
        }
        let words = escape(words);
        match run.superscript {
            true => {
                let _ = write!(out, "^{}^", words.replace(' ', "\\ "));
            }
            false => out.push_str(&words),
        }
    }
    while let Some(mark) = open.pop() {
        out.push_str(&mark.close());
    }
    out.push_str(&spaces);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The spaces before, the words, and the spaces after.
fn split_spaces(text: &str) -> (&str, &str, &str) {
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len().max(start);
    (&text[..start], &text[start..end], &text[end..])
}

/// The words of a paragraph, without marks.
fn plain(paragraph: &Paragraph) -> String {
    let text: String = paragraph.runs.iter().map(|r| r.text.as_str()).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The place of paragraph `n` for an editor: its number, and the heading
/// above it.
fn place(n: usize, paragraphs: &[Paragraph]) -> String {
    let heading = paragraphs[..n.saturating_sub(1).min(paragraphs.len())]
        .iter()
        .rev()
        .find(|p| matches!(p.kind, Kind::Heading(_) | Kind::Title))
        .map(plain);
    match heading {
        Some(h) => format!("paragraph {n}, under « {h} »"),
        None => format!("paragraph {n}"),
    }
}

/// The id of a section titled `title`: the list's topic of that label,
/// else one made from the title.
fn section_id(title: &str, topics: &[(String, String)]) -> String {
    let key = super::slug(title);
    topics
        .iter()
        .find(|(_, label)| super::slug(label) == key)
        .map_or(key, |(id, _)| id.clone())
}

/// The issue in Markdown from the paragraphs read.
fn write_issue(path: &Path, read: Read, options: &Options) -> Result<Imported, DocxError> {
    let Read {
        paragraphs,
        left_out,
    } = read;
    let left_out = left_out
        .into_iter()
        .map(|(what, n)| LeftOut {
            what,
            place: place(n, &paragraphs),
        })
        .collect();
    let first_heading = paragraphs
        .iter()
        .position(|p| matches!(p.kind, Kind::Heading(1)))
        .unwrap_or(paragraphs.len());
    let (head, body) = paragraphs.split_at(first_heading);
    let title = head
        .iter()
        .find(|p| p.kind == Kind::Title)
        .map(plain)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| DocxError::NoTitle {
            path: path.to_owned(),
        })?;
    let subtitle = head.iter().find(|p| p.kind == Kind::Subtitle).map(plain);
    let written_period = head.iter().find_map(|p| parse_french_period(&plain(p)));
    let period = options
        .period
        .or(written_period)
        .ok_or_else(|| DocxError::NoPeriod {
            path: path.to_owned(),
        })?;
    // Before the first heading, but for the title, the subtitle and the
    // period: the publisher, on one line.
    let publisher: Vec<String> = head
        .iter()
        .filter(|p| p.kind == Kind::Text && parse_french_period(&plain(p)).is_none())
        .map(plain)
        .filter(|t| !t.is_empty())
        .collect();
    let quoted = |t: &str| toml::Value::String(t.to_owned()).to_string();
    let name = match &subtitle {
        Some(s) => format!("{title} {s}"),
        None => title.clone(),
    };
    let mut out = format!("{FENCE}\ntitle = {}\n", quoted(&title));
    if let Some(subtitle) = &subtitle {
        let _ = writeln!(out, "subtitle = {}", quoted(subtitle));
    }
    if !publisher.is_empty() {
        let _ = writeln!(out, "publisher = {}", quoted(&publisher.join(" ")));
    }
    let _ = writeln!(
        out,
        "period = {{ from = {}, to = {} }}\nlanguage = \"fr\"\nsubject = {}\n{FENCE}",
        period.from,
        period.to,
        quoted(&format!(
            "{name}, {}",
            french_period(period.from, period.to)
        ))
    );
    let mut first = true;
    let mut previous: Option<Kind> = None;
    for paragraph in body {
        let text = inline(&paragraph.runs);
        if text.is_empty() {
            continue;
        }
        let kind = paragraph.kind;
        // A blank line between blocks, none between the items of a list.
        let same_list = matches!(
            (previous, kind),
            (Some(Kind::Bullet), Kind::Bullet) | (Some(Kind::Numbered), Kind::Numbered)
        );
        if !same_list {
            out.push('\n');
        }
        match kind {
            Kind::Heading(1) => {
                let words = plain(paragraph);
                match (first, words == COLOPHON) {
                    (false, false) => {
                        let _ = writeln!(
                            out,
                            "# {words} {{#{}}}",
                            section_id(&words, &options.topics)
                        );
                    }
                    _ => {
                        let _ = writeln!(out, "# {words}");
                    }
                }
                first = false;
            }
            Kind::Heading(2) => {
                let _ = writeln!(out, "## {text}");
            }
            Kind::Heading(_) => {
                let _ = writeln!(out, "### {text}");
            }
            Kind::Bullet => {
                let _ = writeln!(out, "- {text}");
            }
            Kind::Numbered => {
                let _ = writeln!(out, "1. {text}");
            }
            Kind::Title | Kind::Subtitle | Kind::Text => {
                // A paragraph that would read as a list or a heading is
                // kept a paragraph.
                let digits =
                    text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let text = match text.chars().next() {
                    Some('-' | '+' | '=') => format!("\\{text}"),
                    Some(_) if digits > 0 && text[digits..].starts_with(['.', ')']) => {
                        format!("{}\\{}", &text[..digits], &text[digits..])
                    }
                    _ => text,
                };
                let _ = writeln!(out, "{text}");
            }
        }
        previous = Some(kind);
    }
    Ok(Imported {
        text: out,
        left_out,
    })
}
