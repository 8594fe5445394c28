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

use super::template::Piece;
use super::typography::french;
use super::{Outline, Slot, labels};
use crate::issue::{Article, Colophon};
use crate::markdown::{Block, Inline, Picture};
use crate::{Error, Result};

/// The stylesheet, written once as CSS.
pub const STYLESHEET: &str = include_str!("style.css");

/// Outlook for Windows lays out with Word, which ignores `max-width` and
/// `display: none`: a table of fixed width around the container holds the
/// 600-pixel layout there, and a stylesheet only Outlook reads hides the
/// preview line and gives cells and paragraphs the font, size and colour
/// they otherwise inherit from the outer table (Word does not pass them
/// down). Conditional comments, which every other client (and the
/// HTML validator) takes for comments.
pub const OUTLOOK_OPEN: &str = "<!--[if mso]><table role=\"presentation\" width=\"600\" align=\"center\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td width=\"600\"><![endif]-->";
/// The end of [`OUTLOOK_OPEN`]'s table.
pub const OUTLOOK_CLOSE: &str = "<!--[if mso]></td></tr></table><![endif]-->";
/// What only Outlook reads in the head.
pub const OUTLOOK_STYLE: &str = "<!--[if mso]><style>.preheader { display: none !important; mso-hide: all; } td, p, li, h1, h2, h3, a { font-family: Arial, Helvetica, sans-serif; } td, p, li { font-size: 16px; line-height: 24px; color: #161616; }</style><![endif]-->";

/// Keeps mail clients from filling the preview line with the start of the
/// body after the preheader.
const PREHEADER_PADDING: &str = "&#847;&zwnj;&nbsp;";

/// How many times: with the preview line itself, past what any inbox shows
/// (about 140 characters).
const PREHEADER_FILL: usize = 24;

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
            // `margin:0` rather than `margin: 0;`: a byte or two on each of
            // hundreds of declarations.
            .minify_css(true)
            .build();
        HtmlRenderer { inliner }
    }

    /// The inlined HTML of the outline's sections, cut into pieces at the
    /// marks [`page`] leaves (see [`super::template`]).
    pub(crate) fn template(&self, outline: &Outline<'_>) -> Result<Vec<Piece>> {
        let page = page(outline).into_string();
        let inlined = self
            .inliner
            .inline(&page)
            .map_err(|e| Error::Style(e.to_string()))?;
        cut(
            &drop_unused_classes(&charset_first(inlined)),
            outline.sections.len(),
        )
    }
}

/// The class names a stylesheet of the page names (`.name`), in its
/// `<style>` elements, Outlook's included.
fn classes_styled(page: &str) -> std::collections::HashSet<&str> {
    let mut used = std::collections::HashSet::new();
    let mut rest = page;
    while let Some(start) = rest.find("<style") {
        let sheet = &rest[start..];
        let end = sheet.find("</style>").unwrap_or(sheet.len());
        for name in sheet[..end].split('.').skip(1) {
            let len = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(name.len());
            used.insert(&name[..len]);
        }
        rest = &sheet[end..];
    }
    used
}

/// The page without the class names no rule left in it selects: once the
/// styles are inlined, only the `@media` rules (and Outlook's) still select
/// by class, and the rest are bytes every subscriber downloads (a sixth of
/// a kilobyte in the March issue). Tags are read as the serializer writes
/// them (attribute values in double quotes), comments and text untouched.
fn drop_unused_classes(page: &str) -> String {
    let used = classes_styled(page);
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            let end = rest.find("-->").map_or(rest.len(), |e| e + "-->".len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if rest.starts_with("<style") {
            let end = rest
                .find("</style>")
                .map_or(rest.len(), |e| e + "</style>".len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        // One tag, to its `>` outside quotes.
        let mut quoted = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                c == '>' && !quoted
            })
            .map_or(rest.len(), |(i, _)| i + 1);
        let tag = &rest[..end];
        rest = &rest[end..];
        match tag.find(" class=\"") {
            Some(at) => {
                let value = &tag[at + " class=\"".len()..];
                let close = value.find('"').unwrap_or(value.len());
                let kept: Vec<&str> = value[..close]
                    .split_whitespace()
                    .filter(|c| used.contains(c))
                    .collect();
                out.push_str(&tag[..at]);
                if !kept.is_empty() {
                    out.push_str(" class=\"");
                    out.push_str(&kept.join(" "));
                    out.push('"');
                }
                out.push_str(value.get(close + 1..).unwrap_or_default());
            }
            None => out.push_str(tag),
        }
    }
    out.push_str(rest);
    out
}

/// How a mark starts: an HTML comment, which css-inline keeps where it is.
const MARK: &str = "<!--breves:";

/// A mark: `preheader`, `topics`, `section:N` (a section's share starts),
/// or `end` (it ends).
fn mark(what: &str) -> Markup {
    PreEscaped(format!("{MARK}{what}-->"))
}

/// Cuts the inlined page at its marks. Content never makes one (text is
/// escaped); an attribute that did would be found by the count, as a page
/// whose marks are not the two of each of `sections` and one of each line.
fn cut(page: &str, sections: usize) -> Result<Vec<Piece>> {
    let broken = || Error::Style("the digest's markup lost the marks of its sections".into());
    let mut pieces = Vec::new();
    let mut open: Option<usize> = None;
    let mut rest = page;
    while let Some(at) = rest.find(MARK) {
        let before = &rest[..at];
        let after = &rest[at + MARK.len()..];
        let close = after.find("-->").ok_or_else(broken)?;
        let name = &after[..close];
        rest = &after[close + "-->".len()..];
        match (open, name) {
            (Some(i), "end") => {
                pieces.push(Piece::Section(i, before.to_owned()));
                open = None;
            }
            (None, "preheader" | "topics") => {
                pieces.push(Piece::Fixed(before.to_owned()));
                pieces.push(if name == "topics" {
                    Piece::Topics
                } else {
                    Piece::Preheader
                });
            }
            (None, section) => {
                let i = section
                    .strip_prefix("section:")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(broken)?;
                pieces.push(Piece::Fixed(before.to_owned()));
                open = Some(i);
            }
            (Some(_), _) => return Err(broken()),
        }
    }
    if open.is_some() {
        return Err(broken());
    }
    pieces.push(Piece::Fixed(rest.to_owned()));
    let count = |f: fn(&Piece) -> bool| pieces.iter().filter(|p| f(p)).count();
    if count(|p| matches!(p, Piece::Section(..))) != 2 * sections
        || count(|p| matches!(p, Piece::Preheader)) != 1
        || count(|p| matches!(p, Piece::Topics)) != 1
    {
        return Err(broken());
    }
    pieces.retain(|p| !matches!(p, Piece::Fixed(s) if s.is_empty()));
    Ok(pieces)
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

pub(crate) fn text(t: &str) -> Markup {
    html! { (french(t)) }
}

/// An image, sent inside the message: its `Content-ID`, the size it is
/// shown at (which Outlook needs), and no wider than the screen on a phone.
pub(crate) fn picture(p: &Picture) -> Markup {
    html! {
        img src={ "cid:" (p.cid) } alt=(french(&p.alt)) width=(p.width) height=(p.height)
            style="display:block;max-width:100%;height:auto;border:0";
    }
}

pub(crate) fn inlines(items: &[Inline]) -> Markup {
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
                Inline::Image(p) => (picture(p)),
            }
        }
    }
}

pub(crate) fn blocks(items: &[Block]) -> Markup {
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
                @if let Some(logo) = o.logo {
                    @let (width, height) = logo.image.shown();
                    img.logo src={ "cid:" (logo.image.cid) } alt=(french(&logo.alt)) width=(width) height=(height)
                        style="display:block;max-width:100%;height:auto;border:0";
                }
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
                @for (i, section) in &o.sections {
                    (mark(&format!("section:{i}")))
                    p.toc-section { a href={ "#" (section.id) } { (text(&section.title)) } }
                    ul.toc-list {
                        @for (n, a) in section.articles.iter().enumerate() {
                            li.toc-item {
                                a href={ "#" (Outline::anchor(section, n)) } { (inlines(&plain_links(&a.title))) }
                            }
                        }
                    }
                    (mark("end"))
                }
            }
        }
    }
}

/// A title inside a sommaire link cannot hold another link: its links
/// become their text.
pub(crate) fn plain_links(items: &[Inline]) -> Vec<Inline> {
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

pub(crate) fn colophon(c: &Colophon) -> Markup {
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

/// The whole document, before its styles are inlined, with a mark where
/// each section's share starts and ends and in place of the two lines that
/// name the sections (see [`super::template`]).
pub fn page(o: &Outline<'_>) -> Markup {
    let issue = o.issue;
    html! {
        (DOCTYPE)
        html lang=(issue.language) dir="ltr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="X-UA-Compatible" content="IE=edge";
                meta name="x-apple-disable-message-reformatting" content="";
                meta name="color-scheme" content="light dark";
                meta name="supported-color-schemes" content="light dark";
                title { (text(&issue.subject)) }
                style { (PreEscaped(STYLESHEET)) }
                (PreEscaped(OUTLOOK_STYLE))
            }
            body.body {
                div.preheader {
                    (mark("preheader"))
                    @for _ in 0..PREHEADER_FILL { (PreEscaped(PREHEADER_PADDING)) }
                }
                table.wrapper role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" {
                    tr {
                        td align="center" {
                            (PreEscaped(OUTLOOK_OPEN))
                            table.container role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" {
                                @if let Some(url) = &o.online {
                                    tr { td.online { a href=(url) { (labels::ONLINE) } } }
                                }
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
                                @for (i, section) in &o.sections {
                                    (mark(&format!("section:{i}")))
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
                                    (mark("end"))
                                }
                                tr {
                                    td.footer-cell {
                                        p.footer-topics { (mark("topics")) }
                                        @if let Some(line) = &o.manage_line {
                                            p { (line) }
                                        }
                                        p.footer-manage { (slot(&Slot::Manage)) }
                                        p.footer-unsubscribe { (slot(&Slot::Unsubscribe)) }
                                        @if let Some(c) = &issue.colophon {
                                            (colophon(c))
                                        }
                                    }
                                }
                            }
                            (PreEscaped(OUTLOOK_CLOSE))
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_classes_a_remaining_rule_selects_are_kept() {
        let page = concat!(
            "<style>@media (x) { .kept, td.also { color: red; } p { margin: 1.5em; } }</style>",
            "<!--[if mso]><style>.mso { a: b; }</style><![endif]-->",
            "<p class=\"gone kept\" title=\"a > b\">Un texte class=\"gone\"</p>",
            "<td class=\"gone\" style=\"x\">",
            "<td class=\"also\"><!-- class=\"gone\" --><span class=\"mso\"></span>",
        );
        assert_eq!(
            drop_unused_classes(page),
            concat!(
                "<style>@media (x) { .kept, td.also { color: red; } p { margin: 1.5em; } }</style>",
                "<!--[if mso]><style>.mso { a: b; }</style><![endif]-->",
                "<p class=\"kept\" title=\"a > b\">Un texte class=\"gone\"</p>",
                "<td style=\"x\">",
                "<td class=\"also\"><!-- class=\"gone\" --><span class=\"mso\"></span>",
            )
        );
    }

    #[test]
    fn a_page_is_cut_only_where_its_marks_are_whole_and_in_order() {
        let good = "<div><!--breves:preheader--></div><!--breves:section:3--><p>S</p><!--breves:end--><!--breves:section:3--><tr>T</tr><!--breves:end--><p><!--breves:topics--></p>";
        assert_eq!(
            cut(good, 1).expect("cut"),
            vec![
                Piece::Fixed("<div>".into()),
                Piece::Preheader,
                Piece::Fixed("</div>".into()),
                Piece::Section(3, "<p>S</p>".into()),
                Piece::Section(3, "<tr>T</tr>".into()),
                Piece::Fixed("<p>".into()),
                Piece::Topics,
                Piece::Fixed("</p>".into()),
            ]
        );
        for (n, page) in [
            // Too few sections, or too many.
            good.to_owned(),
            good.replace("<!--breves:section:3--><tr>T</tr><!--breves:end-->", ""),
            // A line missing, or twice.
            good.replace("<!--breves:topics-->", ""),
            good.replace(
                "<!--breves:topics-->",
                "<!--breves:topics--><!--breves:topics-->",
            ),
            good.replace("<!--breves:preheader-->", ""),
            good.replace(
                "<!--breves:preheader-->",
                "<!--breves:preheader--><!--breves:preheader-->",
            ),
            // A section never closed, or closed twice, or a line inside it.
            good.replace("<p>S</p><!--breves:end-->", "<p>S</p>"),
            good.replace("<!--breves:end-->", "<!--breves:end--><!--breves:end-->"),
            good.replace("<p>S</p>", "<!--breves:topics-->"),
            // A mark without its end, or of no known kind.
            good.replace("<!--breves:topics-->", "<!--breves:topics"),
            good.replace("section:3", "section:three"),
        ]
        .iter()
        .enumerate()
        {
            let sections = if n == 0 { 2 } else { 1 };
            assert!(cut(page, sections).is_err(), "{n}: {page}");
        }
    }
}
