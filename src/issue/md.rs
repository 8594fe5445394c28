//! The Markdown form of an issue: one `.md` file, as editors write prose.
//!
//! ```text
//! +++
//! title = "Brèves numériques"
//! period = { from = 2026-02-26, to = 2026-04-03 }
//! language = "fr"
//! subject = "Brèves numériques, 26 février au 3 avril 2026"
//! [colophon]
//! publication = "Service économique régional de Londres"
//! +++
//!
//! # Fait marquant
//! ## The highlight's title
//! Its text.
//!
//! # Cybersécurité {#cybersecurite}
//! ## An article's title
//! Its text.
//!
//! # Colophon
//! The colophon's text.
//! ```
//!
//! The front matter (TOML between `+++` lines, as Zola and Hugo write it)
//! holds what is not prose: the fields of the TOML form's `[issue]`, and
//! its `[colophon]` but for the text. The headings give the structure: the
//! first level-1 heading is the highlight (its text is the label), each
//! other one a section (its id written `{#id}`, or made from its title),
//! and one titled `Colophon` the closing block; each level-2 heading an
//! article, its text running to the next heading of level 1 or 2. Deeper
//! headings belong to the article's text.
//!
//! The file is read into the same raw values as the TOML form, each at its
//! place in the `.md` file, so that the same checks find the same problems
//! at their own line and column.

use std::ops::Range;
use std::sync::Arc;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use toml::Spanned;

use super::{RawArticle, RawColophon, RawFile, RawHighlight, RawMeta, RawSection, slug};
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile, parse_toml_text};

/// The line that opens and closes the front matter.
pub(crate) const FENCE: &str = "+++";

/// The title of the level-1 heading that holds the colophon.
pub(crate) const COLOPHON: &str = "Colophon";

/// Whether `path` names an issue in its Markdown form.
pub fn is_markdown(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// A level-1 or level-2 heading at the top of the document.
struct Heading {
    level: HeadingLevel,
    /// The whole heading, its line (or lines) included.
    whole: Range<usize>,
    /// Its line as written, without the line's end: where a problem of
    /// the heading is shown.
    line: Range<usize>,
    /// Its text as written, without the marks around it nor `{#id}`.
    text: Range<usize>,
    /// The `{#id}` written after it: the id and where it stands.
    id: Option<(String, Range<usize>)>,
}

/// Reads an issue's Markdown form into the raw values of its TOML form,
/// each spanned at its place in the file. The problems of its structure
/// come with it; no raw values when there is nothing to check further.
pub(super) fn read(file: &Arc<SourceFile>) -> (Option<RawFile>, Problems) {
    let mut problems = Problems::new();
    let text = file.text();
    let Some((front, body_start)) = front_matter(text) else {
        problems.push(
            Problem::error(ProblemKind::Structure(
                "an issue in Markdown starts with its front matter, between two lines of +++"
                    .into(),
            ))
            .at(file.locate(0..0))
            .hint("begin the file with +++, the title, period, language and subject, then +++"),
        );
        return (None, problems);
    };
    let mut meta: RawMeta = match parse_toml_text(file, &blank_but(text, front)) {
        Ok(meta) => meta,
        Err(p) => {
            problems.push(p.hint(
                "compare with issues/2026-03-royaume-uni.md, and see \"The issue in Markdown\" in README.md",
            ));
            return (None, problems);
        }
    };
    let mut reader = Reader {
        file,
        problems,
        begun: false,
        highlight: None,
        sections: Vec::new(),
        about: None,
    };
    reader.structure(body_start);
    let mut colophon = meta.colophon.take().map(Spanned::into_inner);
    if let Some(about) = reader.about.take() {
        match colophon.as_mut() {
            Some(c) if c.about.is_some() => reader.structure_error(
                about.span(),
                "the colophon's text is given twice: in the front matter and under # Colophon",
                "keep the one under # Colophon",
            ),
            Some(c) => c.about = Some(about),
            None => colophon = Some(RawColophon::with_about(about)),
        }
    }
    let Reader {
        mut problems,
        begun,
        highlight,
        sections,
        ..
    } = reader;
    let Some(highlight) = highlight else {
        // A highlight without its article was said to be so.
        if !begun {
            let first = headings(text, body_start)
                .first()
                .map_or(body_start..body_start, |h| h.line.clone());
            problems.push(
                Problem::error(ProblemKind::Structure(
                    "the issue has no highlight: its first # heading is the highlight".into(),
                ))
                .at(file.locate(first))
                .hint(
                    "write # Fait marquant, then the highlight's title as a ## heading and its text",
                ),
            );
        }
        return (None, problems);
    };
    let raw = RawFile {
        issue: meta,
        highlight,
        section: sections,
        colophon,
    };
    (Some(raw), problems)
}

/// Where the front matter's TOML stands, and where the document after it
/// begins; none when the file does not open with one.
fn front_matter(text: &str) -> Option<(Range<usize>, usize)> {
    let first = text.strip_prefix('\u{feff}').unwrap_or(text);
    let skipped = text.len() - first.len();
    let mut lines = line_ranges(text).skip_while(|l| l.end <= skipped);
    let opening = lines.next()?;
    if text[opening.clone()].trim() != FENCE {
        return None;
    }
    let closing = lines.find(|l| text[l.clone()].trim_end() == FENCE)?;
    let after = text[closing.end..]
        .find('\n')
        .map_or(text.len(), |i| closing.end + i + 1);
    Some((opening.end..closing.start, after))
}

/// The ranges of `text`'s lines, without their line ends.
fn line_ranges(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = start..end.min(text.len());
        start = end + 1;
        Some(line.start..text[line.clone()].trim_end_matches('\r').len() + line.start)
    })
}

/// `text` with everything outside `kept` made blank, line ends kept: a
/// text of the same length, where what is parsed stands at its place.
fn blank_but(text: &str, kept: Range<usize>) -> String {
    text.char_indices()
        .map(|(i, c)| match c {
            _ if kept.contains(&i) => c.to_string(),
            '\n' => "\n".into(),
            _ => " ".repeat(c.len_utf8()),
        })
        .collect()
}

/// What the headings make of the document, as it is read.
struct Reader<'a> {
    file: &'a Arc<SourceFile>,
    problems: Problems,
    /// Whether the first level-1 heading (the highlight's) was read.
    begun: bool,
    highlight: Option<RawHighlight>,
    sections: Vec<RawSection>,
    about: Option<Spanned<String>>,
}

/// Where the next article goes.
enum Under {
    Nothing,
    Highlight(Spanned<String>),
    Section,
    Colophon,
}

impl Reader<'_> {
    fn structure_error(&mut self, at: Range<usize>, message: &str, hint: &str) {
        self.problems.push(
            Problem::error(ProblemKind::Structure(message.into()))
                .at(self.file.locate(at))
                .hint(hint),
        );
    }

    fn spanned(&self, range: Range<usize>) -> Spanned<String> {
        Spanned::new(range.clone(), self.file.text()[range].to_owned())
    }

    /// Reads the headings after `start`, and the text between them.
    fn structure(&mut self, start: usize) {
        let text = self.file.text();
        let headings = headings(text, start);
        // Where each part's text ends: the next heading, or the end.
        let ends: Vec<usize> = headings
            .iter()
            .skip(1)
            .map(|h| h.whole.start)
            .chain([text.len()])
            .collect();
        let first = headings.first().map_or(text.len(), |h| h.whole.start);
        if let Some(stray) = written(text, start..first) {
            self.structure_error(
                stray,
                "text before the first heading belongs to no part of the issue",
                "begin with # Fait marquant, or move this text under a ## heading",
            );
        }
        let mut under = Under::Nothing;
        for (heading, end) in headings.iter().zip(ends) {
            let after = heading.whole.end..end;
            let title = self.spanned(heading.text.clone());
            if heading.level == HeadingLevel::H1 {
                self.highlight_complete(&under);
                under = self.part(heading, title, after, &headings);
                continue;
            }
            // A body of blank lines is an empty one, shown at its title.
            let body = match written(text, after.clone()) {
                Some(_) => self.spanned(after),
                None => Spanned::new(heading.text.clone(), String::new()),
            };
            match &under {
                Under::Nothing => self.structure_error(
                    heading.line.clone(),
                    "an article before any section",
                    "write the section's # heading above it",
                ),
                Under::Highlight(label) if self.highlight.is_none() => {
                    self.highlight = Some(RawHighlight {
                        label: Some(label.clone()),
                        title,
                        body,
                    });
                }
                Under::Highlight(_) => self.structure_error(
                    heading.line.clone(),
                    "the highlight has one article, and this is a second one",
                    "give it a section of its own (a # heading above it)",
                ),
                Under::Section => {
                    if let Some(section) = self.sections.last_mut() {
                        section.article.push(RawArticle { title, body });
                    }
                }
                Under::Colophon => self.structure_error(
                    heading.line.clone(),
                    "the colophon has no articles",
                    "move this article into a section above # Colophon",
                ),
            }
        }
        self.highlight_complete(&under);
    }

    /// At the end of the highlight's part: its article was there.
    fn highlight_complete(&mut self, under: &Under) {
        if let Under::Highlight(label) = under
            && self.highlight.is_none()
        {
            self.structure_error(
                label.span(),
                "the highlight has no article: its title is a ## heading under it",
                "write the highlight's title as a ## heading, then its text",
            );
        }
    }

    /// A level-1 heading begins a part: the highlight (the first), the
    /// colophon, or a section. What stands between it and its first
    /// article must be blank, but for the colophon, whose text it is.
    fn part(
        &mut self,
        heading: &Heading,
        title: Spanned<String>,
        after: Range<usize>,
        headings: &[Heading],
    ) -> Under {
        let text = self.file.text();
        let first_article = headings
            .iter()
            .find(|h| h.whole.start >= after.start)
            .map_or(after.end, |h| h.whole.start.min(after.end));
        let before_article = after.start..first_article;
        let first = !self.begun;
        self.begun = true;
        if !first && title.get_ref() == COLOPHON {
            if self.about.is_some() {
                self.structure_error(
                    heading.line.clone(),
                    "a second # Colophon",
                    "keep one colophon, at the end",
                );
            }
            self.about = Some(self.spanned(before_article));
            return Under::Colophon;
        }
        if self.about.is_some() {
            self.structure_error(
                heading.line.clone(),
                "a section after the colophon",
                "move # Colophon and its text to the end",
            );
        }
        if let Some(stray) = written(text, before_article) {
            self.structure_error(
                stray,
                "text under a # heading before its first article",
                "give it a title as a ## heading, or move it into an article",
            );
        }
        if first {
            return Under::Highlight(title);
        }
        let id = match &heading.id {
            Some((id, at)) => Spanned::new(at.clone(), id.clone()),
            None => Spanned::new(heading.text.clone(), slug(title.get_ref())),
        };
        self.sections.push(RawSection {
            id,
            title,
            article: Vec::new(),
        });
        Under::Section
    }
}

/// The first thing written in `range` other than blank lines, if any.
fn written(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let part = &text[range.clone()];
    let start = part.find(|c: char| !c.is_whitespace())?;
    let end = part.trim_end().len();
    let line_end = part[start..].find('\n').map_or(end, |i| start + i);
    Some(range.start + start..range.start + line_end.min(end))
}

/// The headings of level 1 and 2 at the top of the document after `start`
/// (not those inside a quotation or a list), in order.
fn headings(text: &str, start: usize) -> Vec<Heading> {
    let options = Options::ENABLE_SUPERSCRIPT | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut found = Vec::new();
    // How deep the parser is in blocks and inlines; inside a heading,
    // its own level counts as one.
    let mut depth = 0usize;
    let mut open: Option<(Heading, Option<Range<usize>>)> = None;
    for (event, range) in Parser::new_ext(&text[start..], options).into_offset_iter() {
        let range = range.start + start..range.end + start;
        if let Some((heading, inner)) = open.as_mut() {
            match event {
                Event::End(TagEnd::Heading(_)) if depth == 1 => {
                    depth = 0;
                    heading.text = inner
                        .take()
                        .map_or(heading.whole.end..heading.whole.end, |r| trimmed(text, r));
                    if let Some((heading, _)) = open.take() {
                        found.push(heading);
                    }
                }
                event => {
                    // Every part of the title widens it: its text, and the
                    // marks of emphasis and links around it.
                    *inner = Some(match inner.take() {
                        Some(r) => r.start.min(range.start)..r.end.max(range.end),
                        None => range,
                    });
                    match event {
                        Event::Start(_) => depth += 1,
                        Event::End(_) => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            continue;
        }
        match event {
            Event::Start(Tag::Heading { level, id, .. })
                if depth == 0 && level <= HeadingLevel::H2 =>
            {
                let id = id.map(|id| {
                    let line = &text[range.clone()];
                    let at = line.rfind(&format!("#{id}")).map_or(range.clone(), |i| {
                        range.start + i + 1..range.start + i + 1 + id.len()
                    });
                    (id.to_string(), at)
                });
                let heading = Heading {
                    level,
                    line: trimmed(text, range.clone()),
                    whole: range,
                    text: 0..0,
                    id,
                };
                open = Some((heading, None));
                depth = 1;
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    found
}

/// `range` without the white space at either end.
fn trimmed(text: &str, range: Range<usize>) -> Range<usize> {
    let part = &text[range.clone()];
    let start = range.start + (part.len() - part.trim_start().len());
    start..range.start + part.trim_end().len()
}
