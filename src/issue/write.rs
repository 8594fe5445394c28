//! Writing an issue in either form, from what a file of the other form
//! says: `breves convert`, and the next issue from the last (`breves new`).
//!
//! What is written is what the editor wrote (titles and bodies as typed,
//! Markdown and all), never text made again from the model: converting
//! changes the form, not the words. Comments of a TOML file are not kept.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag};

use chrono::NaiveDate;
use toml::Spanned;
use toml::value::Datetime;

use super::dates::french_period;
use super::md::{COLOPHON, FENCE};
use super::{Form, Period, RawArticle, RawColophon, RawFile, RawMeta, RawPeriod};

/// Where an issue converted to `form` goes when no place is given: beside
/// the file it comes from, under the same name, with the form's extension.
pub fn beside(path: &Path, form: Form) -> PathBuf {
    path.with_extension(form.extension())
}

/// Writes `text` as a new file at `path`; a file already there is never
/// replaced.
pub fn write_new(path: &Path, text: &str) -> crate::Result<()> {
    let failed = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::AlreadyExists => crate::Error::Exists {
            path: path.to_owned(),
        },
        _ => crate::Error::Write {
            path: path.to_owned(),
            source,
        },
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)
}

/// The text of the issue `raw` in `form`.
pub(super) fn write(raw: &RawFile, form: Form) -> String {
    match form {
        Form::Toml => toml_form(raw),
        Form::Markdown => markdown_form(raw),
    }
}

/// A TOML string on one line, quoted and escaped as TOML asks.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// A TOML string of several lines: literal (`'''`), as editors write
/// bodies, unless the text holds what a literal string cannot.
fn block(text: &str) -> String {
    let text = text.trim_matches(['\n', '\r']);
    let literal = !text.contains("'''")
        && !text.ends_with('\'')
        && text
            .chars()
            .all(|c| c == '\n' || c == '\t' || !c.is_control());
    match literal {
        true => format!("'''\n{text}\n'''"),
        false => quoted(text),
    }
}

/// `key = value` lines of what the issue says about itself, as both forms
/// write them.
fn meta_lines(meta: &RawMeta) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "{key} = {value}");
    };
    if let Some(id) = &meta.id {
        line("id", quoted(id.get_ref()));
    }
    line("title", quoted(meta.title.get_ref()));
    if let Some(subtitle) = &meta.subtitle {
        line("subtitle", quoted(subtitle.get_ref()));
    }
    if let Some(publisher) = &meta.publisher {
        line("publisher", quoted(publisher.get_ref()));
    }
    let period = meta.period.get_ref();
    line(
        "period",
        format!(
            "{{ from = {}, to = {} }}",
            period.from.get_ref(),
            period.to.get_ref()
        ),
    );
    line("language", quoted(meta.language.get_ref()));
    line("subject", quoted(meta.subject.get_ref()));
    if let Some(preheader) = &meta.preheader {
        line("preheader", quoted(preheader.get_ref()));
    }
    if let Some(date) = &meta.date {
        line("date", date.get_ref().to_string());
    }
    if let Some(logo) = &meta.logo {
        let logo = logo.get_ref();
        line(
            "logo",
            format!(
                "{{ file = {}, alt = {} }}",
                quoted(logo.file.get_ref()),
                quoted(logo.alt.get_ref())
            ),
        );
    }
    out
}

/// The colophon's one-line fields, as `key = value` lines.
fn colophon_lines(colophon: &RawColophon) -> String {
    let mut out = String::new();
    if let Some(publication) = &colophon.publication {
        let _ = writeln!(out, "publication = {}", quoted(publication.get_ref()));
    }
    if !colophon.contacts.is_empty() {
        let contacts: Vec<String> = colophon
            .contacts
            .iter()
            .map(|c| quoted(c.get_ref()))
            .collect();
        let _ = writeln!(out, "contacts = [{}]", contacts.join(", "));
    }
    if let Some(editorial) = &colophon.editorial {
        let _ = writeln!(out, "editorial = {}", quoted(editorial.get_ref()));
    }
    if let Some(subscribe) = &colophon.subscribe {
        let _ = writeln!(out, "subscribe = {}", quoted(subscribe.get_ref()));
    }
    out
}

fn toml_form(raw: &RawFile) -> String {
    let mut out = String::new();
    let _ = write!(out, "[issue]\n{}", meta_lines(&raw.issue));
    let highlight = &raw.highlight;
    out.push_str("\n[highlight]\n");
    if let Some(label) = &highlight.label {
        let _ = writeln!(out, "label = {}", quoted(label.get_ref()));
    }
    let _ = writeln!(
        out,
        "title = {}\nbody = {}",
        quoted(highlight.title.get_ref()),
        block(highlight.body.get_ref())
    );
    for section in &raw.section {
        let _ = writeln!(
            out,
            "\n[[section]]\nid = {}\ntitle = {}",
            quoted(section.id.get_ref()),
            quoted(section.title.get_ref())
        );
        for article in &section.article {
            let _ = writeln!(
                out,
                "\n[[section.article]]\ntitle = {}\nbody = {}",
                quoted(article.title.get_ref()),
                block(article.body.get_ref())
            );
        }
    }
    if let Some(colophon) = &raw.colophon {
        out.push_str("\n[colophon]\n");
        if let Some(about) = &colophon.about {
            let _ = writeln!(out, "about = {}", block(about.get_ref()));
        }
        out.push_str(&colophon_lines(colophon));
    }
    out
}

fn markdown_form(raw: &RawFile) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{FENCE}\n{}", meta_lines(&raw.issue).trim_end());
    if let Some(colophon) = &raw.colophon {
        let lines = colophon_lines(colophon);
        if !lines.is_empty() {
            let _ = write!(out, "\n[colophon]\n{lines}");
        }
    }
    let _ = writeln!(out, "{FENCE}");
    let highlight = &raw.highlight;
    let label = highlight
        .label
        .as_ref()
        .map_or("Fait marquant", |l| l.get_ref().as_str());
    let _ = write!(
        out,
        "\n# {label}\n\n## {}\n\n{}",
        highlight.title.get_ref().trim(),
        prose(highlight.body.get_ref())
    );
    for section in &raw.section {
        let _ = write!(
            out,
            "\n# {} {{#{}}}\n",
            section.title.get_ref().trim(),
            section.id.get_ref()
        );
        for article in &section.article {
            let _ = write!(
                out,
                "\n## {}\n\n{}",
                article.title.get_ref().trim(),
                prose(article.body.get_ref())
            );
        }
    }
    if let Some(about) = raw.colophon.as_ref().and_then(|c| c.about.as_ref()) {
        let _ = write!(out, "\n# {COLOPHON}\n\n{}", prose(about.get_ref()));
    }
    out
}

/// A body as the Markdown form holds it: between its heading and the next,
/// its own headings of level 1 and 2 made level 3 (the article's text
/// knows one level of heading; in the Markdown form, levels 1 and 2 are
/// the issue's parts), ending with its line's end.
fn prose(body: &str) -> String {
    let body = body.trim_matches(['\n', '\r']);
    let mut out = String::with_capacity(body.len() + 2);
    let mut copied = 0;
    let mut depth = 0usize;
    let options = Options::ENABLE_SUPERSCRIPT;
    let mut events = Parser::new_ext(body, options).into_offset_iter();
    while let Some((event, range)) = events.next() {
        match event {
            Event::Start(Tag::Heading { level, .. }) if depth == 0 && level <= HeadingLevel::H2 => {
                // The heading's text, as written, from its first event to
                // its last.
                let mut text: Option<std::ops::Range<usize>> = None;
                let mut inner = 0usize;
                for (event, part) in events.by_ref() {
                    match event {
                        Event::End(_) if inner == 0 => break,
                        Event::Start(_) => inner += 1,
                        Event::End(_) => inner -= 1,
                        _ => {}
                    }
                    text = Some(match text {
                        Some(t) => t.start.min(part.start)..t.end.max(part.end),
                        None => part,
                    });
                }
                out.push_str(&body[copied..range.start]);
                let words = text.map_or("", |t| body[t].trim());
                let _ = writeln!(out, "### {words}");
                copied = range.end;
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out.push_str(&body[copied..]);
    let mut out = out.trim_end().to_owned();
    out.push('\n');
    out
}

/// The title of an article of a new issue still to be written: `check`
/// refuses it until it is written or removed.
pub const PLACEHOLDER_TITLE: &str = "Titre de l'article, à écrire";

/// The text of an article of a new issue still to be written.
pub const PLACEHOLDER_BODY: &str = "Le texte de l'article, à écrire. Tant que cet article est là, `breves check` le signale et breves refuse d'envoyer le numéro.";

/// An article to be written, as a new issue holds it.
fn placeholder() -> RawArticle {
    RawArticle {
        title: Spanned::new(0..0, PLACEHOLDER_TITLE.to_owned()),
        body: Spanned::new(0..0, PLACEHOLDER_BODY.to_owned()),
    }
}

/// The issue after `raw`, for `period`: the same title, sections, colophon
/// and settings; the period, and the dates of the subject and preheader
/// that name it, moved on; the Date of its dry runs as far after its end
/// as it was; no `id` (its own is made from the new period); one article
/// to be written in the highlight and in each section. What the editor
/// should look at comes with it.
pub(super) fn next(mut raw: RawFile, period: Period) -> (RawFile, Vec<String>) {
    let mut notes = Vec::new();
    let meta = &mut raw.issue;
    let old = (
        date_of(meta.period.get_ref().from.get_ref()),
        date_of(meta.period.get_ref().to.get_ref()),
    );
    if let (Some(from), Some(to)) = old {
        let (was, now) = (
            french_period(from, to),
            french_period(period.from, period.to),
        );
        for (field, value) in [
            ("subject", Some(&mut meta.subject)),
            ("preheader", meta.preheader.as_mut()),
        ] {
            let Some(value) = value else { continue };
            let text = value.get_ref();
            if text.contains(&was) {
                *value = Spanned::new(0..0, text.replace(&was, &now));
            } else {
                notes.push(format!(
                    "the {field} does not name the period as \"{was}\": it is kept as it was, to write anew"
                ));
            }
        }
        if let Some(date) = meta.date.as_mut() {
            let moved = chrono::DateTime::parse_from_rfc3339(&date.get_ref().to_string())
                .ok()
                .map(|d| d + (period.to - to))
                .and_then(|d| d.format("%Y-%m-%dT%H:%M:%S%:z").to_string().parse().ok());
            if let Some(moved) = moved {
                *date = Spanned::new(0..0, moved);
            }
        }
    }
    let (Some(from), Some(to)) = (toml_date(period.from), toml_date(period.to)) else {
        return (raw, notes);
    };
    meta.period = Spanned::new(
        0..0,
        RawPeriod {
            from: Spanned::new(0..0, from),
            to: Spanned::new(0..0, to),
        },
    );
    if meta.id.take().is_some() {
        notes.push(
            "the id of the last issue is not kept: the new one is made from the new period".into(),
        );
    }
    raw.highlight.title = placeholder().title;
    raw.highlight.body = placeholder().body;
    for section in &mut raw.section {
        section.article = vec![placeholder()];
    }
    (raw, notes)
}

/// A TOML date as a day, when it is one.
fn date_of(date: &Datetime) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&date.to_string(), "%Y-%m-%d").ok()
}

/// A day as a TOML date.
fn toml_date(date: NaiveDate) -> Option<Datetime> {
    date.to_string().parse().ok()
}

/// Where the issue after `from` goes when no place is given: beside it,
/// its name starting with the month the new period mostly covers (that of
/// its middle day, `2026-04` for 4 April to 1 May) in place of the old
/// one's, in the same form.
pub fn next_path(from: &Path, period: Period) -> PathBuf {
    let middle = period.from + (period.to - period.from) / 2;
    let month = middle.format("%Y-%m").to_string();
    let stem = from
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dated = stem.len() >= 7
        && stem.is_char_boundary(7)
        && NaiveDate::parse_from_str(&format!("{}-01", &stem[..7]), "%Y-%m-%d").is_ok();
    let name = match dated {
        true => format!("{month}{}", &stem[7..]),
        false => format!("{month}-{stem}"),
    };
    let extension = from
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "toml".into());
    from.with_file_name(format!("{name}.{extension}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diagnostics::SourceFile;
    use crate::issue::Issue;

    /// The issue in `text`, read as the file `name` (its form by its
    /// extension), with the digest of its bytes left out: what it says.
    fn says(name: &str, text: &str) -> Issue {
        let (issue, problems) = Issue::parse(&Arc::new(SourceFile::new(name, text)));
        let mut issue = issue.unwrap_or_else(|| panic!("{name} loads: {problems}\n{text}"));
        issue.fingerprint.clear();
        issue
    }

    fn raw(name: &str, text: &str) -> RawFile {
        let file = Arc::new(SourceFile::new(name, text));
        super::super::read_raw(&file).0.expect("raw")
    }

    /// A TOML issue with what a converter could lose: headings of every
    /// level in a body, a setext heading, a heading in a quotation, marks
    /// in titles, a body with `'''` and one with a backslash, a label of
    /// its own, a colophon, an explicit id, a logo-less front matter.
    const TRICKY: &str = r#"[issue]
id = "essai-2026"
title = "Brèves \"numériques\""
subtitle = "Royaume-Uni"
period = { from = 2026-02-26, to = 2026-04-03 }
language = "fr"
subject = "Brèves : mars"
preheader = "L'essentiel"
date = 2026-04-07T09:00:00+01:00

[highlight]
label = "À la une"
title = "Le *fait* du mois"
body = '''
# Un titre de niveau un dans le texte

Un paragraphe ; avec « guillemets ».

Un titre souligné
=================

> # Une citation
> avec un titre dedans
'''

[[section]]
id = "spatial"
title = "Spatial et #espace"

[[section.article]]
title = "[Un lien](https://example.org/a) et **gras**"
body = "Il écrit ''' trois apostrophes\net \\ une barre.\n\n## Un sous-titre\n\n1. un\n2. deux\n\n    du code # pas un titre\n"

[[section.article]]
title = "Deuxième"
body = "Texte^er^."

[[section]]
id = "cyber"
title = "Cybersécurité"

[[section.article]]
title = "Seul"
body = "- a\n- b"

[colophon]
about = "À propos."
publication = "SER"
contacts = ["a@example.fr", "b@example.fr"]
editorial = "Rédaction"
subscribe = "londres@example.fr"
"#;

    #[test]
    fn a_tricky_issue_goes_to_markdown_and_back_saying_the_same() {
        let toml = says("i.toml", TRICKY);
        let markdown = write(&raw("i.toml", TRICKY), Form::Markdown);
        assert_eq!(says("i.md", &markdown), toml, "{markdown}");
        let again = write(&raw("i.md", &markdown), Form::Toml);
        assert_eq!(says("i.toml", &again), toml, "{again}");
        // Written again from its own form, each is the same text.
        assert_eq!(write(&raw("i.md", &markdown), Form::Markdown), markdown);
        assert_eq!(write(&raw("i.toml", &again), Form::Toml), again);
        assert!(
            markdown.contains("\n### Un titre de niveau un dans le texte\n"),
            "{markdown}"
        );
        assert!(
            markdown.contains("\n# Spatial et #espace {#spatial}\n"),
            "{markdown}"
        );
    }

    #[test]
    fn the_shipped_march_issue_in_markdown_is_its_toml_written_in_markdown() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let toml = std::fs::read_to_string(root.join("issues/2026-03-royaume-uni.toml"))
            .expect("the March issue");
        let markdown = std::fs::read_to_string(root.join("issues/2026-03-royaume-uni.md"))
            .expect("the March issue in Markdown");
        assert_eq!(says("i.md", &markdown), says("i.toml", &toml));
        assert_eq!(write(&raw("i.toml", &toml), Form::Markdown), markdown);
        let back = write(&raw("i.md", &markdown), Form::Toml);
        assert_eq!(says("i.toml", &back), says("i.toml", &toml));
    }

    #[test]
    fn the_next_issue_is_named_for_the_month_it_covers_and_says_what_it_could_not_move() {
        let april: Period = "2026-04-04..2026-05-01".parse().expect("period");
        assert_eq!(
            next_path(Path::new("issues/2026-03-royaume-uni.md"), april),
            Path::new("issues/2026-04-royaume-uni.md")
        );
        assert_eq!(
            next_path(Path::new("lettre.toml"), april),
            Path::new("2026-04-lettre.toml")
        );
        for wrong in ["2026-04-04", "2026-04-04..avril", "2026-05-01..2026-04-04"] {
            assert!(wrong.parse::<Period>().is_err(), "{wrong}");
        }
        let text = TRICKY.replace(
            "subject = \"Brèves : mars\"",
            "subject = \"Brèves, 26 février au 3 avril 2026\"",
        );
        let (next, notes) = next(raw("i.toml", &text), april);
        assert_eq!(
            next.issue.subject.get_ref(),
            "Brèves, 4 avril au 1er mai 2026"
        );
        assert_eq!(
            notes,
            [
                "the preheader does not name the period as \"26 février au 3 avril 2026\": it is kept as it was, to write anew",
                "the id of the last issue is not kept: the new one is made from the new period",
            ]
        );
        let written = says(
            "n.toml",
            &write(&next, Form::Toml)
                .replace(PLACEHOLDER_TITLE, "Écrit")
                .replace(PLACEHOLDER_BODY, "Écrit aussi."),
        );
        assert_eq!(written.sections.len(), 2);
        assert!(written.sections.iter().all(|s| s.articles.len() == 1));
        assert!(written.id.ends_with("-260404-260501"), "{}", written.id);
    }
}
