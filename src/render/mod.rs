//! Rendering: one digest, as an HTML part and a plain-text part.
//!
//! Both parts are built from the same [`Outline`]: the highlight, the chosen
//! sections, the sommaire, the footer line naming the sections received.
//! [`html`] writes email-client HTML with maud and moves the stylesheet into
//! `style` attributes with css-inline; [`text`] writes wrapped plain text
//! from the same Markdown tree. French spacing ([`typography`]) is applied
//! to every run of text in both.
//!
//! A [`Renderer`] is built once per run; [`Renderer::template`] renders an
//! issue once with all its sections, and each distinct set of sections is
//! assembled from its pieces ([`template`]), not rendered again, nor once
//! per subscriber.

pub mod html;
pub mod slots;
pub mod template;
pub mod text;
pub mod typography;

pub use slots::Slot;
pub use template::Template;

use crate::Result;
use crate::image::{Image, Logo};
use crate::issue::{Issue, Section};
use crate::markdown::to_plain;
use crate::select::Selection;
use crate::subscribers::List;
use typography::{french, french_list, french_period};

/// One rendered digest: what every subscriber of one variant receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The HTML part, styles inlined.
    pub html: String,
    /// The plain-text part.
    pub text: String,
    /// The preview line shown after the subject.
    pub preheader: String,
    /// The ids of the sections it holds.
    pub section_ids: Vec<String>,
    /// The images it shows, each once, in order: sent inside its message.
    pub images: Vec<Image>,
}

/// Labels printed by breves itself, in the issue's language.
pub(crate) mod labels {
    pub const CONTENTS: &str = "Sommaire";
    pub const BACK_TO_CONTENTS: &str = "Retour au sommaire";
    pub const PUBLICATION: &str = "Responsable de la publication";
    pub const EDITORIAL: &str = "Rédaction";
    pub const SUBSCRIBE: &str = "Abonnez-vous";
    pub const CONTACTS: &str = "Contacts";
    pub const MANAGE: &str = "Gérer mon abonnement";
    pub const MANAGE_TEXT: &str = "Pour choisir vos rubriques ou vous désabonner :";
    pub const UNSUBSCRIBE: &str = "Se désabonner de cette lettre";
    pub const UNSUBSCRIBE_TEXT: &str = "Pour vous désabonner de cette lettre :";
    pub const STOP_SECTION: &str = "Ne plus recevoir la rubrique";
    pub const ONLINE: &str = "Voir la version en ligne";
    pub const IMAGE: &str = "Image";
    pub const ALL_ISSUES: &str = "Toutes les lettres";
    pub const FEED: &str = "Suivre les nouvelles lettres (fil Atom)";
}

/// Everything both parts print, worked out once per digest.
#[derive(Debug)]
pub struct Outline<'a> {
    /// The issue.
    pub issue: &'a Issue,
    /// The chosen sections, in the issue's order, with their indices.
    pub sections: Vec<(usize, &'a Section)>,
    /// "26 février au 3 avril 2026".
    pub period: String,
    /// The preview line.
    pub preheader: String,
    /// "Vous recevez les rubriques : …".
    pub topics_line: String,
    /// How to change sections or leave the list, when the list says and
    /// gives no page of their own to readers.
    pub manage_line: Option<String>,
    /// The issue's page in the web archive, when the list gives one.
    pub online: Option<String>,
    /// The masthead's logo: the issue's, or else the list's.
    pub logo: Option<&'a Logo>,
}

impl<'a> Outline<'a> {
    /// Works out the outline of the digest of `selection`.
    pub fn new(issue: &'a Issue, list: Option<&'a List>, selection: &Selection) -> Self {
        let sections: Vec<(usize, &Section)> = selection
            .indices()
            .iter()
            .filter_map(|&i| issue.sections.get(i).map(|s| (i, s)))
            .collect();
        let titles: Vec<&str> = sections.iter().map(|(_, s)| s.title.as_str()).collect();
        let topics_line = if selection.is_everything(issue) && !titles.is_empty() {
            "Vous recevez toutes les rubriques de cette lettre.".to_owned()
        } else {
            match titles.as_slice() {
                [] => "Vous recevez le fait marquant de cette lettre.".to_owned(),
                [one] => format!("Vous recevez la rubrique : {one}."),
                more => format!("Vous recevez les rubriques : {}.", french_list(more)),
            }
        };
        let preheader = preview_line(issue);
        let preheader = if titles.is_empty() {
            preheader
        } else {
            format!("{preheader} — Au sommaire : {}", titles.join(", "))
        };
        // A list with an unsubscription server gives each reader a link to
        // their own page instead ([`slots::Slot::Manage`]).
        let manage_line = list.filter(|l| l.unsubscribe_url.is_none()).map(|list| {
            let contact = list
                .reply_to
                .as_ref()
                .unwrap_or(&list.from)
                .email
                .to_string();
            match &list.unsubscribe {
                Some(u) => format!(
                    "Pour changer de rubriques, écrivez à {contact} ; pour vous désabonner, écrivez à {u}."
                ),
                None => format!(
                    "Pour changer de rubriques ou vous désabonner, écrivez à {contact}."
                ),
            }
        });
        Outline {
            issue,
            sections,
            period: french_period(issue.period.from, issue.period.to),
            preheader: french(&preheader).into_owned(),
            topics_line: french(&topics_line).into_owned(),
            manage_line: manage_line.map(|l| french(&l).into_owned()),
            online: list.and_then(|l| l.archive_page(&issue.id)),
            logo: issue.logo.as_ref().or(list.and_then(|l| l.logo.as_ref())),
        }
    }

    /// The images a digest of these sections shows, each once, in order:
    /// the logo, then those of the highlight, the sections and the
    /// colophon.
    pub fn images(&self) -> Vec<Image> {
        let issue = self.issue;
        let mut ids: Vec<&str> = Vec::new();
        crate::markdown::picture_ids(&issue.highlight.article.body, &mut ids);
        for (_, section) in &self.sections {
            for article in &section.articles {
                crate::markdown::picture_ids(&article.body, &mut ids);
            }
        }
        if let Some(c) = &issue.colophon {
            crate::markdown::picture_ids(&c.about, &mut ids);
        }
        let mut images: Vec<Image> = self.logo.iter().map(|l| l.image.clone()).collect();
        for id in ids {
            if !images.iter().any(|i| i.cid == id)
                && let Some(image) = issue.images.iter().find(|i| i.cid == id)
            {
                images.push(image.clone());
            }
        }
        images
    }

    /// The anchor of the `article`-th article (from 0) of a section: the
    /// section's id and the article's number from 1, such as `spatial-1`.
    /// Section ids are slugs, so anchors need no escaping, and they end
    /// with a number, so none is the highlight's `fait-marquant`.
    pub fn anchor(section: &Section, article: usize) -> String {
        format!("{}-{}", section.id, article + 1)
    }
}

/// The issue's preview line, before the sections of a digest are named:
/// its `preheader`, or the highlight's label and title.
pub(crate) fn preview_line(issue: &Issue) -> String {
    match &issue.preheader {
        Some(p) => p.clone(),
        None => format!(
            "{} : {}",
            issue.highlight.label,
            to_plain(&issue.highlight.article.title)
        ),
    }
}

/// Renders digests; holds what is prepared once per run (the stylesheet).
pub struct Renderer {
    html: html::HtmlRenderer,
}

thread_local! {
    /// How many templates this thread rendered ([`templates_rendered`]).
    static TEMPLATES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many templates (the issue rendered, in pieces) this thread has
/// rendered: what a test counts to know that a send renders once per
/// campaign, never per member.
pub fn templates_rendered() -> usize {
    TEMPLATES.with(std::cell::Cell::get)
}

impl Renderer {
    /// Prepares the stylesheet.
    pub fn new() -> Self {
        Renderer {
            html: html::HtmlRenderer::new(),
        }
    }

    /// Renders the digest holding the highlight and `selection`'s sections.
    pub fn render(
        &self,
        issue: &Issue,
        list: Option<&List>,
        selection: &Selection,
    ) -> Result<Digest> {
        Ok(self.template(issue, list, selection)?.digest(selection))
    }

    /// Renders the digest of `sections` once, in pieces, from which the
    /// digest of any set of them is assembled ([`Template::digest`]): the
    /// way to render many variants of one issue.
    pub fn template<'a>(
        &self,
        issue: &'a Issue,
        list: Option<&'a List>,
        sections: &Selection,
    ) -> Result<Template<'a>> {
        TEMPLATES.with(|n| n.set(n.get() + 1));
        let outline = Outline::new(issue, list, sections);
        let html = self.html.template(&outline)?;
        let text = text::template(&outline);
        Ok(Template::new(&outline, list, html, text))
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}
