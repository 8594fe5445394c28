//! The HTML part: a table layout for mail clients, styles inlined.
//!
//! Mail clients are not browsers: Outlook lays out with Word, Gmail drops
//! `<style>` elements in some views, and nothing runs scripts. So the layout
//! is nested tables (`role="presentation"`, so screen readers do not announce
//! them), 600 pixels wide and shrinking on phones, and every rule of
//! `style.css` is copied into `style` attributes by css-inline. Only the
//! `@media` rules (small screens, dark mode) stay in a `<style>` element,
//! since they cannot be inlined.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::typography::french;
use super::{Outline, Slot, labels};
use crate::issue::{Article, Colophon};
use crate::markdown::{Block, Inline};
use crate::{Error, Result};

/// The stylesheet, written once as CSS.
pub const STYLESHEET: &str = include_str!("style.css");

/// Keeps mail clients from filling the preview line with the start of the
/// body after the preheader.
const PREHEADER_PADDING: &str = "&#847;&zwnj;&nbsp;";

/// Renders the HTML part; holds the css-inline configuration.
pub struct HtmlRenderer {
    inliner: css_inline::CSSInliner<'static>,
}

impl HtmlRenderer {
    /// Prepares css-inline: no remote stylesheets are ever fetched, and
    /// `@media` rules are kept in a `<style>` element.
    pub fn new() -> Self {
        let inliner = css_inline::CSSInliner::options()
            .load_remote_stylesheets(false)
            .keep_style_tags(false)
            .keep_link_tags(false)
            .keep_at_rules(true)
            .build();
        HtmlRenderer { inliner }
    }

    /// The inlined HTML of one digest.
    pub fn render(&self, outline: &Outline<'_>) -> Result<String> {
        let page = page(outline).into_string();
        let inlined = self
            .inliner
            .inline(&page)
            .map_err(|e| Error::Style(e.to_string()))?;
        Ok(charset_first(inlined))
    }
}

impl Default for HtmlRenderer {
    fn default() -> Self {
        HtmlRenderer::new()
    }
}

/// css-inline puts the kept `@media` rules at the top of `<head>`; the
/// charset must come first, within the first 1024 bytes, for a browser
/// opening a saved preview to read the accents right.
fn charset_first(html: String) -> String {
    const CHARSET: &str = "<meta charset=\"utf-8\">";
    match (html.find("<head>"), html.find(CHARSET)) {
        (Some(head), Some(at)) if at > head => {
            let mut out = String::with_capacity(html.len());
            let after_head = head + "<head>".len();
            out.push_str(&html[..after_head]);
            out.push_str(CHARSET);
            out.push_str(&html[after_head..at]);
            out.push_str(&html[at + CHARSET.len()..]);
            out
        }
        _ => html,
    }
}

/// The line that stands for a slot, filled per subscriber after inlining.
fn slot(slot: &Slot) -> Markup {
    PreEscaped(format!("\n{}\n", slot.marker()))
}

fn text(t: &str) -> Markup {
    html! { (french(t)) }
}

fn inlines(items: &[Inline]) -> Markup {
    html! {
        @for item in items {
            @match item {
                Inline::Text(t) => (text(t)),
                Inline::Code(c) => code { (c) },
                Inline::Strong(c) => strong { (inlines(c)) },
                Inline::Emphasis(c) => em { (inlines(c)) },
                Inline::Superscript(c) => sup { (inlines(c)) },
                Inline::Link { href: Some(href), children } => a href=(href) { (inlines(children)) },
                Inline::Link { href: None, children } => (inlines(children)),
                Inline::LineBreak => br;
            }
        }
    }
}

fn blocks(items: &[Block]) -> Markup {
    html! {
        @for block in items {
            @match block {
                Block::Paragraph(c) => p { (inlines(c)) },
                Block::Heading(c) => p.article-subheading { (inlines(c)) },
                Block::List { start: None, items } => ul {
                    @for item in items { li { (list_item(item)) } }
                },
                Block::List { start: Some(n), items } => ol start=(n) {
                    @for item in items { li { (list_item(item)) } }
                },
                Block::Quote(b) => blockquote { (blocks(b)) },
                Block::Code(c) => pre { (c) },
                Block::Rule => hr;
            }
        }
    }
}

/// A list item of one paragraph is written without `<p>`, which some
/// clients would space out.
fn list_item(item: &[Block]) -> Markup {
    match item {
        [Block::Paragraph(c)] => inlines(c),
        _ => blocks(item),
    }
}

fn article(a: &Article, anchor: &str, heading: u8) -> Markup {
    html! {
        @if heading == 2 {
            h2.article-title id=(anchor) { (inlines(&a.title)) }
        } @else {
            h3.article-title id=(anchor) { (inlines(&a.title)) }
        }
        (blocks(&a.body))
    }
}

fn masthead(o: &Outline<'_>) -> Markup {
    let issue = o.issue;
    html! {
        tr {
            td.masthead {
                h1.masthead-title { (text(&issue.title)) }
                @if let Some(subtitle) = &issue.subtitle {
                    p.masthead-subtitle { (text(subtitle)) }
                }
                p.masthead-meta {
                    @if let Some(publisher) = &issue.publisher {
                        (text(publisher)) br;
                    }
                    (o.period)
                }
            }
        }
        tr { td.masthead-rule { (PreEscaped("&nbsp;")) } }
    }
}

fn contents(o: &Outline<'_>) -> Markup {
    let highlight = &o.issue.highlight;
    html! {
        tr {
            td.toc id="sommaire" {
                p.toc-heading { (labels::CONTENTS) }
                p.toc-section { a href="#fait-marquant" { (text(&highlight.label)) } }
                ul.toc-list {
                    li.toc-item { a href="#fait-marquant" { (inlines(&plain_links(&highlight.article.title))) } }
                }
                @for (_, section) in &o.sections {
                    p.toc-section { a href={ "#" (section.id) } { (text(&section.title)) } }
                    ul.toc-list {
                        @for (n, a) in section.articles.iter().enumerate() {
                            li.toc-item {
                                a href={ "#" (Outline::anchor(section, n)) } { (inlines(&plain_links(&a.title))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A title inside a sommaire link cannot hold another link: its links
/// become their text.
fn plain_links(items: &[Inline]) -> Vec<Inline> {
    items
        .iter()
        .map(|i| match i {
            Inline::Link { children, .. } => Inline::Link {
                href: None,
                children: plain_links(children),
            },
            Inline::Strong(c) => Inline::Strong(plain_links(c)),
            Inline::Emphasis(c) => Inline::Emphasis(plain_links(c)),
            Inline::Superscript(c) => Inline::Superscript(plain_links(c)),
            other => other.clone(),
        })
        .collect()
}

fn colophon(c: &Colophon) -> Markup {
    html! {
        (blocks(&c.about))
        @if let Some(p) = &c.publication {
            p { (text(&format!("{} : {p}", labels::PUBLICATION))) }
        }
        @if !c.contacts.is_empty() {
            p {
                (text(&format!("{} : ", labels::CONTACTS)))
                @for (i, contact) in c.contacts.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "mailto:" (contact) } { (contact) }
                }
            }
        }
        @if let Some(e) = &c.editorial {
            p { (text(&format!("{} : {e}", labels::EDITORIAL))) }
        }
        @if let Some(s) = &c.subscribe {
            p { (text(&format!("{} : ", labels::SUBSCRIBE))) a href={ "mailto:" (s) } { (s) } }
        }
    }
}

/// The whole document, before its styles are inlined.
pub fn page(o: &Outline<'_>) -> Markup {
    let issue = o.issue;
    html! {
        (DOCTYPE)
        html lang=(issue.language) dir="ltr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="X-UA-Compatible" content="IE=edge";
                meta name="x-apple-disable-message-reformatting";
                meta name="color-scheme" content="light dark";
                meta name="supported-color-schemes" content="light dark";
                title { (text(&issue.subject)) }
                style { (PreEscaped(STYLESHEET)) }
            }
            body.body {
                div.preheader {
                    (o.preheader)
                    @for _ in 0..40 { (PreEscaped(PREHEADER_PADDING)) }
                }
                table.wrapper role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" {
                    tr {
                        td align="center" {
                            table.container role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" {
                                (masthead(o))
                                (contents(o))
                                tr {
                                    td.highlight-cell {
                                        table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" {
                                            tr {
                                                td.highlight {
                                                    p.highlight-label { (text(&issue.highlight.label)) }
                                                    (article(&issue.highlight.article, "fait-marquant", 2))
                                                }
                                            }
                                        }
                                    }
                                }
                                @for (_, section) in &o.sections {
                                    tr {
                                        td.section-cell {
                                            h2.section-title id=(section.id) { (text(&section.title)) }
                                            @for (n, a) in section.articles.iter().enumerate() {
                                                (article(a, &Outline::anchor(section, n), 3))
                                            }
                                            p.section-unsubscribe { (slot(&Slot::Section(section.id.clone()))) }
                                            p.back { a href="#sommaire" { "↑ " (labels::BACK_TO_CONTENTS) } }
                                        }
                                    }
                                }
                                tr {
                                    td.footer-cell {
                                        p.footer-topics { (o.topics_line) }
                                        @if let Some(line) = &o.manage_line {
                                            p { (line) }
                                        }
                                        p.footer-unsubscribe { (slot(&Slot::Unsubscribe)) }
                                        @if let Some(c) = &issue.colophon {
                                            (colophon(c))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
