//! The issue: what one newsletter says, loaded from its TOML file or its
//! Markdown form ([`md`]).
//!
//! An issue has metadata shared by every digest, a highlight that every
//! subscriber receives, and sections, each with a stable id that subscribers
//! choose as an interest. Titles and bodies are Markdown, parsed here once
//! (see [`crate::markdown`]). Loading checks everything it can and reports
//! all problems at once, each at its line and column.
//!
//! ```
//! use breves::issue::Issue;
//! use breves::diagnostics::SourceFile;
//! use std::sync::Arc;
//!
//! let text = r#"
//! [issue]
//! title = "Brèves"
//! period = { from = 2026-02-26, to = 2026-04-03 }
//! language = "fr"
//! subject = "Brèves de mars"
//!
//! [highlight]
//! title = "Le fait du mois"
//! body = "Un paragraphe."
//!
//! [[section]]
//! id = "spatial"
//! title = "Spatial"
//! [[section.article]]
//! title = "Un article"
//! body = "Son texte."
//! "#;
//! let file = Arc::new(SourceFile::new("issues/2026-03.toml", text));
//! let (issue, problems) = Issue::parse(&file);
//! let issue = issue.expect("valid");
//! assert!(problems.is_empty());
//! // No `id` under [issue]: it is made from the title and the period.
//! assert_eq!(issue.id, "be8-260226-260403");
//! assert_eq!(issue.sections[0].id, "spatial");
//! ```

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::value::Datetime;

pub mod dates;
pub mod docx;
pub mod md;
pub mod write;

pub use md::is_markdown;

use crate::Result;
use crate::diagnostics::{
    Problem, ProblemKind, Problems, SourceFile, load_file, locate_in_string, parse_toml,
};
use crate::image::{Image, Logo, RawLogo, image_folder, logo};
use crate::markdown::{self, Block, Inline, Note, Parsed, Picture};

/// One issue of the newsletter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// A stable id: `[issue] id`, or made from what the issue says (its
    /// title, subtitle and period, see [`default_id`]), never from its
    /// file's name: two issues saved under the same name in two folders are
    /// two issues. It names the issue in Message-IDs and in the record of
    /// what was sent.
    pub id: String,
    /// The id breves made for this issue before ids were short (its title,
    /// subtitle and period in full, [`former_default_id`]), when the issue
    /// gives none: what a ledger, a published archive or a feed may know it
    /// by.
    pub former_id: Option<String>,
    /// The newsletter's title, "Brèves numériques".
    pub title: String,
    /// What it covers, "Royaume-Uni".
    pub subtitle: Option<String>,
    /// Who publishes it, "Une publication du SER de Londres".
    pub publisher: Option<String>,
    /// The weeks it covers.
    pub period: Period,
    /// The language of the text (only `fr` is supported).
    pub language: String,
    /// The Subject of every digest.
    pub subject: String,
    /// The line a mail client shows after the subject; breves adds the
    /// subscriber's sections to it.
    pub preheader: Option<String>,
    /// The Date of dry-run messages, so that they are reproducible.
    pub date: Option<DateTime<FixedOffset>>,
    /// What every subscriber receives.
    pub highlight: Highlight,
    /// The sections, in the order they are printed.
    pub sections: Vec<Section>,
    /// The closing block.
    pub colophon: Option<Colophon>,
    /// The masthead's logo, when the issue gives one (else the list's).
    pub logo: Option<Logo>,
    /// Every distinct image of the articles and the colophon.
    pub images: Vec<Image>,
    /// A digest of the file's bytes and of its images', to tell whether
    /// it changed.
    pub fingerprint: String,
}

/// The issue `breves new` wrote ([`Issue::next`]).
#[derive(Debug)]
pub struct Next {
    /// Where.
    pub path: std::path::PathBuf,
    /// What the editor should look at: what could not be moved on.
    pub notes: Vec<String>,
}

/// The dates an issue covers, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
}

impl std::str::FromStr for Period {
    type Err = String;

    /// A period written `2026-04-04..2026-05-01`, first and last days.
    fn from_str(text: &str) -> std::result::Result<Period, String> {
        let (from, to) = text.split_once("..").ok_or_else(|| {
            format!("`{text}` is not a period: write it as 2026-04-04..2026-05-01")
        })?;
        let day = |d: &str| {
            NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| format!("`{d}` is not a date: write it as 2026-04-04"))
        };
        let (from, to) = (day(from)?, day(to)?);
        if from > to {
            return Err(format!("the period `{text}` ends before it starts"));
        }
        Ok(Period { from, to })
    }
}

/// The highlight ("Fait marquant"), sent to everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    /// Its heading, "Fait marquant".
    pub label: String,
    /// The article itself.
    pub article: Article,
}

/// A section: an interest subscribers can choose, and its articles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The interest id, such as `cybersecurite`.
    pub id: String,
    /// Its heading.
    pub title: String,
    /// Its articles, in order.
    pub articles: Vec<Article>,
}

/// One article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// Its title, inline Markdown.
    pub title: Vec<Inline>,
    /// Its text.
    pub body: Vec<Block>,
}

/// The closing block: who publishes, who writes, how to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Colophon {
    /// Free text about the publisher.
    pub about: Vec<Block>,
    /// Who is responsible for the publication.
    pub publication: Option<String>,
    /// Contact addresses.
    pub contacts: Vec<String>,
    /// Editorial credits.
    pub editorial: Option<String>,
    /// The address to write to for a subscription.
    pub subscribe: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    issue: RawMeta,
    highlight: RawHighlight,
    #[serde(default)]
    section: Vec<RawSection>,
    colophon: Option<RawColophon>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    id: Option<Spanned<String>>,
    title: Spanned<String>,
    subtitle: Option<Spanned<String>>,
    publisher: Option<Spanned<String>>,
    period: Spanned<RawPeriod>,
    language: Spanned<String>,
    subject: Spanned<String>,
    preheader: Option<Spanned<String>>,
    date: Option<Spanned<Datetime>>,
    logo: Option<Spanned<RawLogo>>,
    /// The colophon but for its text, in the front matter of the Markdown
    /// form; the TOML form has `[colophon]` for it.
    colophon: Option<Spanned<RawColophon>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    from: Spanned<Datetime>,
    to: Spanned<Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHighlight {
    label: Option<Spanned<String>>,
    title: Spanned<String>,
    body: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    article: Vec<RawArticle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArticle {
    title: Spanned<String>,
    body: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawColophon {
    about: Option<Spanned<String>>,
    publication: Option<Spanned<String>>,
    #[serde(default)]
    contacts: Vec<Spanned<String>>,
    editorial: Option<Spanned<String>>,
    subscribe: Option<Spanned<String>>,
}

impl RawColophon {
    /// A colophon of text alone.
    fn with_about(about: Spanned<String>) -> RawColophon {
        RawColophon {
            about: Some(about),
            ..RawColophon::default()
        }
    }
}

/// The two forms an issue is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One TOML file (`.toml`).
    Toml,
    /// One Markdown file with a front matter (`.md`).
    Markdown,
}

impl Form {
    /// The form of the file at `path`, by its extension.
    pub fn of(path: &Path) -> Form {
        match is_markdown(path) {
            true => Form::Markdown,
            false => Form::Toml,
        }
    }

    /// The extension of a file of this form.
    pub fn extension(self) -> &'static str {
        match self {
            Form::Toml => "toml",
            Form::Markdown => "md",
        }
    }

    /// How a missing article is added, in this form.
    fn add_article(self) -> &'static str {
        match self {
            Form::Toml => "add a [[section.article]] after it, or remove the section",
            Form::Markdown => {
                "add an article after it (its title as a ## heading, then its text), or remove the section"
            }
        }
    }
}

/// Whether `id` is a lowercase slug: letters a–z, digits, single hyphens.
pub fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

/// Turns raw values into the model, recording problems as it goes.
struct Checker<'a> {
    file: &'a Arc<SourceFile>,
    form: Form,
    problems: Problems,
    /// The images read so far, each once.
    images: Vec<Image>,
}

/// The issue's header, checked: what the front matter or `[issue]` says.
struct Meta {
    /// The id written, if any.
    id: Option<String>,
    title: String,
    subtitle: Option<String>,
    publisher: Option<String>,
    subject: String,
    preheader: Option<String>,
    language: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    date: Option<DateTime<FixedOffset>>,
}

/// What identifies an issue's content: its text, and the name of each
/// image it shows (another image under the same name is other content).
fn fingerprint(file: &SourceFile, images: &[Image], logo: Option<&Logo>) -> String {
    if images.is_empty() && logo.is_none() {
        return hex(&Sha256::digest(file.text().as_bytes()));
    }
    let mut hasher = Sha256::new();
    hasher.update(file.text().as_bytes());
    for image in images.iter().chain(logo.map(|l| &l.image)) {
        hasher.update(image.cid.as_bytes());
    }
    hex(&hasher.finalize())
}

impl Checker<'_> {
    /// The header: every field checked at its place.
    fn meta(&mut self, meta: &RawMeta) -> Meta {
        if let (Form::Toml, Some(colophon)) = (self.form, &meta.colophon) {
            self.invalid(
                colophon.span(),
                "colophon",
                "the colophon is a table of its own, [colophon], after the sections",
                None,
            );
        }
        let id = meta.id.as_ref().map(|id| {
            if !is_slug(id.get_ref()) {
                self.invalid(
                    id.span(),
                    "id",
                    "use lowercase letters, digits and hyphens",
                    None,
                );
            }
            id.get_ref().clone()
        });
        // In the order they are written, so are their problems.
        let title = self.line(&meta.title, "title");
        let subtitle = meta.subtitle.as_ref().map(|s| self.line(s, "subtitle"));
        let publisher = meta.publisher.as_ref().map(|s| self.line(s, "publisher"));
        let subject = self.line(&meta.subject, "subject");
        let preheader = meta.preheader.as_ref().map(|s| self.line(s, "preheader"));
        let language = meta.language.get_ref().clone();
        if language != "fr" {
            self.invalid(
                meta.language.span(),
                "language",
                &format!(
                    "`{language}` is not supported: breves writes its labels in French (`fr`)"
                ),
                None,
            );
        }
        let from = self.date(&meta.period.get_ref().from, "period.from");
        let to = self.date(&meta.period.get_ref().to, "period.to");
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            self.invalid(
                meta.period.span(),
                "period",
                "it ends before it starts",
                None,
            );
        }
        let date = meta.date.as_ref().and_then(|d| {
            match DateTime::parse_from_rfc3339(&d.get_ref().to_string()) {
                Ok(dt) => Some(dt),
                Err(_) => {
                    self.invalid(
                        d.span(),
                        "date",
                        "it needs a date, a time and an offset",
                        Some("write it as 2026-04-07T09:00:00+01:00, without quotes"),
                    );
                    None
                }
            }
        });
        Meta {
            id,
            title,
            subtitle,
            publisher,
            subject,
            preheader,
            language,
            from,
            to,
            date,
        }
    }

    /// The sections, in order: each id a slug, once, each with articles.
    fn sections(&mut self, raw: &[RawSection]) -> Vec<Section> {
        let mut sections: Vec<Section> = Vec::new();
        for raw_section in raw {
            let id = raw_section.id.get_ref();
            if !is_slug(id) {
                self.invalid(
                    raw_section.id.span(),
                    "id",
                    "a section id is lowercase letters, digits and hyphens, like `donnees-ia`",
                    None,
                );
            } else if sections.iter().any(|s| &s.id == id) {
                self.error(
                    raw_section.id.span(),
                    ProblemKind::DuplicateSection(id.clone()),
                    Some("each section needs its own id: subscribers choose sections by it"),
                );
            }
            let title = self.line(&raw_section.title, "title");
            if raw_section.article.is_empty() {
                self.error(
                    raw_section.title.span(),
                    ProblemKind::Other(format!("the section `{id}` has no article")),
                    Some(self.form.add_article()),
                );
            }
            let articles = raw_section
                .article
                .iter()
                .map(|a| self.article(&a.title, &a.body))
                .collect();
            sections.push(Section {
                id: id.clone(),
                title,
                articles,
            });
        }
        sections
    }

    fn colophon(&mut self, col: &RawColophon) -> Colophon {
        Colophon {
            about: col
                .about
                .as_ref()
                .map(|a| self.body(a, "about"))
                .unwrap_or_default(),
            publication: col
                .publication
                .as_ref()
                .map(|s| self.line(s, "publication")),
            contacts: col
                .contacts
                .iter()
                .map(|s| self.line(s, "contacts"))
                .collect(),
            editorial: col.editorial.as_ref().map(|s| self.line(s, "editorial")),
            subscribe: col.subscribe.as_ref().map(|s| self.line(s, "subscribe")),
        }
    }
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, kind: ProblemKind, hint: Option<&str>) {
        let mut p = Problem::error(kind).at(self.file.locate(span));
        if let Some(h) = hint {
            p = p.hint(h);
        }
        self.problems.push(p);
    }

    fn invalid(&mut self, span: Range<usize>, field: &str, reason: &str, hint: Option<&str>) {
        let kind = ProblemKind::InvalidValue {
            field: field.into(),
            reason: reason.into(),
        };
        self.error(span, kind, hint);
    }

    /// A one-line text: trimmed, not empty, no line breaks (it may end up in
    /// a header).
    fn line(&mut self, value: &Spanned<String>, field: &str) -> String {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.invalid(value.span(), field, "it is empty", None);
        } else if text.contains(['\r', '\n']) {
            self.invalid(
                value.span(),
                field,
                "it must be on one line",
                Some("remove the line breaks"),
            );
        }
        text.to_owned()
    }

    fn notes(&mut self, value: &Spanned<String>, notes: Vec<Note>) {
        for note in notes {
            let at = locate_in_string(self.file, value.span(), value.get_ref(), note.range);
            let hint = match note.kind {
                ProblemKind::LinkWithoutTarget { .. } => {
                    Some("write its address between the parentheses: [text](https://…)")
                }
                ProblemKind::UnsafeLink { .. } => {
                    Some("only https://, http:// and mailto: links are sent")
                }
                _ => None,
            };
            let mut p = Problem::warning(note.kind).at(at);
            if let Some(h) = hint {
                p = p.hint(h);
            }
            self.problems.push(p);
        }
    }

    fn body(&mut self, value: &Spanned<String>, field: &str) -> Vec<Block> {
        if value.get_ref().trim().is_empty() {
            self.invalid(value.span(), field, "it is empty", None);
        }
        let Parsed {
            mut blocks,
            notes,
            images,
        } = markdown::parse_blocks(value.get_ref());
        self.notes(value, notes);
        let mut pictures = Vec::new();
        markdown::pictures_mut(&mut blocks, &mut pictures);
        for (picture, range) in pictures.into_iter().zip(images) {
            self.picture(value, picture, range);
        }
        blocks
    }

    /// Reads the file of an article's image and says how it is sent, or
    /// records why it cannot be.
    fn picture(&mut self, value: &Spanned<String>, picture: &mut Picture, range: Range<usize>) {
        let at = locate_in_string(self.file, value.span(), value.get_ref(), range);
        if picture.alt.is_empty() {
            self.problems.push(
                Problem::error(ProblemKind::ImageWithoutAlt {
                    src: picture.src.clone(),
                })
                .at(at.clone())
                .hint("say what it shows between the brackets: ![Carte des centres de données](images/carte.png)"),
            );
        }
        let image = match self.images.iter().find(|i| i.src == picture.src) {
            Some(image) => image.clone(),
            None => match Image::load(&image_folder(self.file), &picture.src) {
                Ok(image) => {
                    self.images.push(image.clone());
                    image
                }
                Err(refused) => {
                    self.problems.push(
                        Problem::error(ProblemKind::ImageRefused {
                            src: picture.src.clone(),
                            reason: refused.to_string(),
                        })
                        .at(at),
                    );
                    return;
                }
            },
        };
        let (width, height) = image.shown();
        picture.cid = image.cid;
        picture.width = width;
        picture.height = height;
    }

    fn title(&mut self, value: &Spanned<String>) -> Vec<Inline> {
        self.line(value, "title");
        let Parsed {
            blocks,
            notes,
            images,
        } = markdown::parse_inline(value.get_ref());
        self.notes(value, notes);
        for range in images {
            let at = locate_in_string(self.file, value.span(), value.get_ref(), range);
            self.problems.push(
                Problem::error(ProblemKind::Unsupported(
                    "an image cannot be in a title: the sommaire and the subject repeat titles"
                        .into(),
                ))
                .at(at)
                .hint("put it at the start of the article's body"),
            );
        }
        blocks
    }

    fn article(&mut self, title: &Spanned<String>, body: &Spanned<String>) -> Article {
        if title.get_ref().trim() == write::PLACEHOLDER_TITLE
            || body.get_ref().trim() == write::PLACEHOLDER_BODY
        {
            self.error(
                title.span(),
                ProblemKind::Placeholder(title.get_ref().trim().to_owned()),
                None,
            );
        }
        Article {
            title: self.title(title),
            body: self.body(body, "body"),
        }
    }

    fn date(&mut self, value: &Spanned<Datetime>, field: &str) -> Option<NaiveDate> {
        let v = value.get_ref();
        match (v.date, v.time) {
            (Some(_), None) => NaiveDate::parse_from_str(&v.to_string(), "%Y-%m-%d").ok(),
            _ => {
                self.invalid(
                    value.span(),
                    field,
                    "it must be a date alone",
                    Some("write it as 2026-02-26, without quotes"),
                );
                None
            }
        }
    }
}

impl Issue {
    /// Reads and checks an issue file. On success, the issue and its
    /// warnings; on problems, every one of them as [`crate::Error::Invalid`].
    pub fn load(path: &Path) -> Result<(Issue, Problems)> {
        load_file(path, Issue::parse)
    }

    /// The issue at `path` written in `form`: the same issue, each title
    /// and text as the editor wrote it. The file must load (its problems
    /// are the error otherwise).
    pub fn convert(path: &Path, form: Form) -> Result<String> {
        let ((_, raw), _) = load_file(path, Issue::parse_raw)?;
        Ok(write::write(&raw, form))
    }

    /// [`Issue::convert`], written to `out`, or beside `path` with the
    /// form's extension ([`write::beside`]), never over an existing file:
    /// where it was written.
    pub fn convert_to(path: &Path, form: Form, out: Option<&Path>) -> Result<std::path::PathBuf> {
        let text = Issue::convert(path, form)?;
        let out = out.map_or_else(|| write::beside(path, form), Path::to_path_buf);
        write::write_new(&out, &text)?;
        Ok(out)
    }

    /// Writes the issue after the one at `from`, for `period`
    /// ([`write::next`]), at `out` or where [`write::next_path`] says, in
    /// the form of the file it writes, never over an existing file: where,
    /// and what the editor should look at.
    pub fn next(from: &Path, period: Period, out: Option<&Path>) -> Result<Next> {
        let ((_, raw), _) = load_file(from, Issue::parse_raw)?;
        let path = out.map_or_else(|| write::next_path(from, period), Path::to_path_buf);
        let (raw, notes) = write::next(raw, period);
        write::write_new(&path, &write::write(&raw, Form::of(&path)))?;
        Ok(Next { path, notes })
    }

    /// Brings in the Word document at `document` as an issue in Markdown
    /// ([`docx::import`]), written at `out` or beside it (its name, `.md`),
    /// never over an existing file: where, and what was left out.
    pub fn import(
        document: &Path,
        options: &docx::Options,
        out: Option<&Path>,
    ) -> Result<(std::path::PathBuf, docx::Imported)> {
        let out = out.map_or_else(|| document.with_extension("md"), Path::to_path_buf);
        if !is_markdown(&out) {
            return Err(crate::Error::ImportToMarkdown { path: out });
        }
        let imported = docx::import(document, options)?;
        write::write_new(&out, &imported.text)?;
        Ok((out, imported))
    }

    /// Checks an issue's text. The issue comes back only when there is no
    /// error; the problems hold every error and warning found.
    pub fn parse(file: &Arc<SourceFile>) -> (Option<Issue>, Problems) {
        let (read, problems) = Issue::parse_raw(file);
        (read.map(|(issue, _)| issue), problems)
    }

    /// [`Issue::parse`], and the raw values the issue was made of.
    fn parse_raw(file: &Arc<SourceFile>) -> (Option<(Issue, RawFile)>, Problems) {
        let (raw, mut problems) = read_raw(file);
        let Some(raw) = raw else {
            return (None, problems);
        };
        let (issue, found) = Issue::check(file, &raw);
        problems.extend(found);
        match (problems.has_errors(), issue) {
            (false, Some(issue)) => (Some((issue, raw)), problems),
            _ => (None, problems),
        }
    }

    /// Checks the raw values of either form.
    fn check(file: &Arc<SourceFile>, raw: &RawFile) -> (Option<Issue>, Problems) {
        let mut problems = Problems::new();
        let mut c = Checker {
            file,
            form: Form::of(file.path()),
            problems: Problems::new(),
            images: Vec::new(),
        };
        let meta = c.meta(&raw.issue);
        let highlight = Highlight {
            label: raw
                .highlight
                .label
                .as_ref()
                .map_or_else(|| "Fait marquant".to_owned(), |l| c.line(l, "label")),
            article: c.article(&raw.highlight.title, &raw.highlight.body),
        };
        let sections = c.sections(&raw.section);
        let colophon = raw.colophon.as_ref().map(|col| c.colophon(col));
        let logo = raw
            .issue
            .logo
            .as_ref()
            .and_then(|l| logo(file, l, &mut c.problems));
        problems.extend(c.problems);
        if problems.has_errors() {
            return (None, problems);
        }
        let (Some(from), Some(to)) = (meta.from, meta.to) else {
            return (None, problems);
        };
        let period = Period { from, to };
        // The images are part of what was sent: another image under the
        // same name is another issue's content.
        let mut images = c.images;
        let fingerprint = fingerprint(file, &images, logo.as_ref());
        images.dedup_by(|a, b| a.cid == b.cid);
        let written = &raw.issue;
        let subtitle_text = written.subtitle.as_ref().map(|s| s.get_ref().as_str());
        let former_id = match meta.id {
            Some(_) => None,
            None => Some(former_default_id(
                written.title.get_ref(),
                subtitle_text,
                period,
            )),
        };
        let id = meta
            .id
            .unwrap_or_else(|| default_id(written.title.get_ref(), subtitle_text, period));
        let issue = Issue {
            id,
            former_id,
            title: meta.title,
            subtitle: meta.subtitle,
            publisher: meta.publisher,
            period,
            language: meta.language,
            subject: meta.subject,
            preheader: meta.preheader,
            date: meta.date,
            highlight,
            sections,
            colophon,
            logo,
            images,
            fingerprint,
        };
        (Some(issue), problems)
    }

    /// The Date of a dry run when none is given: the issue's `date`, or the
    /// last day of its period at 09:00 UTC.
    pub fn default_date(&self) -> DateTime<FixedOffset> {
        self.date.unwrap_or_else(|| {
            let nine = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
            self.period.to.and_time(nine).and_utc().fixed_offset()
        })
    }

    /// The section with this id.
    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }
}

/// The raw values of the issue in `file`, in either form, and the problems
/// of reading them.
fn read_raw(file: &Arc<SourceFile>) -> (Option<RawFile>, Problems) {
    if is_markdown(file.path()) {
        return md::read(file);
    }
    let mut problems = Problems::new();
    match parse_toml(file) {
        Ok(raw) => (Some(raw), problems),
        Err(p) => {
            problems.push(p.hint(
                "compare with issues/2026-03-royaume-uni.toml, and see \"The issue file\" in README.md",
            ));
            (None, problems)
        }
    }
}

/// The id of an issue that gives none, made from what it says and short
/// enough for a `Message-ID` line of 78 octets and an archive address on
/// one line of the text part: the initials of its title and subtitle (four
/// at most), two hexadecimal digits of a digest of their words (so that two
/// titles of the same initials differ, 255 times in 256), then the first and
/// last days of its period, `bnru5c-260226-260403` for "Brèves numériques",
/// "Royaume-Uni", 26 February to 3 April 2026: 20 characters at most.
pub fn default_id(title: &str, subtitle: Option<&str>, period: Period) -> String {
    let words = match subtitle {
        Some(subtitle) => format!("{} {}", title.trim(), subtitle.trim()),
        None => title.trim().to_owned(),
    };
    let initials: String = slug(&words)
        .split('-')
        .filter_map(|word| word.chars().next())
        .take(4)
        .collect();
    let digest = Sha256::digest(words.as_bytes());
    format!(
        "{initials}{:02x}-{}-{}",
        digest[0],
        period.from.format("%y%m%d"),
        period.to.format("%y%m%d")
    )
}

/// The id breves made for an issue that gives none before ids were short:
/// its title and subtitle as a slug, then the first and last days of its
/// period, such as `breves-numeriques-royaume-uni-2026-02-26-2026-04-03`.
pub fn former_default_id(title: &str, subtitle: Option<&str>, period: Period) -> String {
    let words = match subtitle {
        Some(subtitle) => format!("{title} {subtitle}"),
        None => title.to_owned(),
    };
    let mut name = slug(&words);
    if name.len() > 48 {
        let cut = name[..48].rfind('-').unwrap_or(48);
        name.truncate(cut);
    }
    let dates = format!("{}-{}", period.from, period.to);
    if name.is_empty() {
        dates
    } else {
        format!("{name}-{dates}")
    }
}

/// Lowercase ASCII letters and digits, accents taken off the letters of
/// French (and the like), everything else one hyphen.
fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut hyphen = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => "a",
            'ç' => "c",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'ñ' => "n",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'ÿ' | 'ý' => "y",
            'œ' => "oe",
            'æ' => "ae",
            'ß' => "ss",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                hyphen = false;
                continue;
            }
            _ => "",
        };
        if plain.is_empty() {
            if !hyphen && !out.is_empty() {
                out.push('-');
                hyphen = true;
            }
        } else {
            out.push_str(plain);
            hyphen = false;
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<Issue>, Problems) {
        Issue::parse(&Arc::new(SourceFile::new("t.toml", text)))
    }

    const MINIMAL: &str = "[issue]\ntitle = \"T\"\nperiod = { from = 2026-02-26, to = 2026-04-03 }\nlanguage = \"fr\"\nsubject = \"S\"\n[highlight]\ntitle = \"H\"\nbody = \"B\"\n";

    #[test]
    fn minimal_issue_loads() {
        let (issue, problems) = parse(MINIMAL);
        assert!(problems.is_empty(), "{problems:?}");
        let issue = issue.expect("valid");
        assert!(
            issue.id.starts_with('t') && issue.id.ends_with("-260226-260403"),
            "{}",
            issue.id
        );
        assert_eq!(issue.former_id.as_deref(), Some("t-2026-02-26-2026-04-03"));
        assert_eq!(issue.highlight.label, "Fait marquant");
    }

    #[test]
    fn the_default_id_comes_from_what_the_issue_says_not_its_file_name() {
        let issue = |path: &str, text: &str| {
            Issue::parse(&Arc::new(SourceFile::new(path, text)))
                .0
                .expect("valid")
        };
        let load = |path: &str, text: &str| issue(path, text).id;
        let march = MINIMAL.replace(
            "title = \"T\"",
            "title = \"Brèves numériques\"\nsubtitle = \"Royaume-Uni\"",
        );
        let april = march.replace(
            "{ from = 2026-02-26, to = 2026-04-03 }",
            "{ from = 2026-04-04, to = 2026-05-01 }",
        );
        let march_id = load("mars/lettre.toml", &march);
        assert_eq!(march_id, "bnru68-260226-260403");
        assert!(is_slug(&march_id));
        assert_eq!(load("avril/lettre.toml", &april), "bnru68-260404-260501");
        // The id it had before ids were short is known, for the ledgers
        // and the archives that hold it.
        assert_eq!(
            issue("mars/lettre.toml", &march).former_id.as_deref(),
            Some("breves-numeriques-royaume-uni-2026-02-26-2026-04-03")
        );
        // The same issue under another name is the same issue.
        assert_eq!(load("copie.toml", &march), march_id);
        // Another title of the same initials is another issue.
        let other = march.replace("Brèves numériques", "Bulletin numérique");
        assert_ne!(load("mars/lettre.toml", &other), march_id);
        assert!(load("mars/lettre.toml", &other).starts_with("bnru"));
        // An explicit id stays possible, and has no former one.
        let explicit = march.replacen("[issue]\n", "[issue]\nid = \"2026-03\"\n", 1);
        assert_eq!(load("mars/lettre.toml", &explicit), "2026-03");
        assert_eq!(issue("mars/lettre.toml", &explicit).former_id, None);
        // Any title makes a valid id of 20 characters at most: a
        // Message-ID line of 78 octets on a domain of 10.
        for title in [
            "« Œuvres & Cie » !",
            "***",
            "Ünïcödé — ß",
            "x".repeat(200).as_str(),
            "Un titre de bien des mots qui se suivent",
        ] {
            let text = MINIMAL.replace("title = \"T\"", &format!("title = \"{title}\""));
            let id = load("t.toml", &text);
            assert!(is_slug(&id) && id.len() <= 20, "{title}: {id}");
        }
    }

    #[test]
    fn all_problems_are_reported_with_lines() {
        let text = format!(
            "{MINIMAL}[[section]]\nid = \"a\"\ntitle = \"A\"\n[[section.article]]\ntitle = \"x\"\nbody = \"[y](#)\"\n[[section]]\nid = \"a\"\ntitle = \"A2\"\n[[section]]\nid = \"Bad Id\"\ntitle = \"\"\n[[section.article]]\ntitle = \"x\"\nbody = \"y\"\n"
        );
        let (issue, problems) = parse(&text);
        assert!(issue.is_none());
        let shown: Vec<String> = problems.sorted().iter().map(|p| p.to_string()).collect();
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.toml:14:9: warning: the link `y`")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.toml:16:6: error: the section id `a` is used twice")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.contains("t.toml:17:9: error: the section `a` has no article")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.toml:19:6: error: id:")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.toml:20:9: error: title: it is empty")),
            "{shown:#?}"
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let (_, problems) = parse("[issue]\ntitle = \"T\nsubject = 3\n");
        let p = problems.sorted()[0].to_string();
        assert!(p.starts_with("t.toml:2:"), "{p}");
        let (_, problems) = parse(&MINIMAL.replace("subject = \"S\"\n", ""));
        let p = problems.sorted()[0].to_string();
        assert!(p.contains("missing field `subject`"), "{p}");
        let (_, problems) = parse(&MINIMAL.replace("subject", "subjet"));
        let p = problems.sorted()[0].to_string();
        assert!(
            p.starts_with("t.toml:5:1") && p.contains("unknown field `subjet`"),
            "{p}"
        );
    }

    #[test]
    fn dates_are_checked() {
        let (_, problems) = parse(&MINIMAL.replace("to = 2026-04-03", "to = 2026-01-03"));
        assert!(problems.to_string().contains("ends before it starts"));
        let (_, problems) = parse(&MINIMAL.replace("to = 2026-04-03", "to = \"3 avril\""));
        assert!(problems.has_errors());
        let (issue, _) = parse(&MINIMAL.replace(
            "language = \"fr\"",
            "language = \"fr\"\ndate = 2026-04-07T09:00:00+01:00",
        ));
        assert_eq!(
            issue.and_then(|i| i.date).map(|d| d.to_rfc3339()),
            Some("2026-04-07T09:00:00+01:00".into())
        );
    }
}
