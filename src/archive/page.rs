//! The archive's HTML: a page per issue and the index, laid out for a
//! browser with one stylesheet in the head (no inlining: browsers read
//! `<style>`), fluid from a phone to a desk, light and dark.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{feed, page_url, with_image_files};
use crate::issue::{Issue, Section};
use crate::render::html::{blocks, colophon, inlines, plain_links, text};
use crate::render::typography::{french, french_period};
use crate::render::{Outline, labels, preview_line};

/// The stylesheet of every page.
const STYLESHEET: &str = include_str!("style.css");

/// What every page says of the site.
pub(super) struct SiteInfo<'a> {
    pub title: &'a str,
    pub base: Option<&'a str>,
    pub logo: Option<&'a crate::image::Logo>,
}

/// The head of a page: `canonical` is its address on the site, when the
/// site's is known; `up` leads from the page to the site's root.
fn head(
    site: &SiteInfo<'_>,
    title: &str,
    description: &str,
    canonical: Option<String>,
    up: &str,
) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) }
            meta name="description" content=(description);
            @if let Some(canonical) = canonical {
                link rel="canonical" href=(canonical);
                link rel="alternate" type="application/atom+xml" title=(site.title) href={ (up) (feed::FILE) };
            }
            style { (PreEscaped(STYLESHEET)) }
        }
    }
}

/// The sommaire: the highlight, then each section with its articles.
fn contents(issue: &Issue) -> Markup {
    let highlight = &issue.highlight;
    html! {
        nav.toc aria-labelledby="sommaire" {
            h2 #sommaire { (labels::CONTENTS) }
            ul {
                li {
                    a href="#fait-marquant" { (text(&highlight.label)) }
                    (french(" : ")) (inlines(&plain_links(&highlight.article.title)))
                }
                @for section in &issue.sections {
                    li {
                        a href={ "#" (section.id) } { (text(&section.title)) }
                        ul {
                            @for (n, a) in section.articles.iter().enumerate() {
                                li { a href={ "#" (Outline::anchor(section, n)) } { (inlines(&plain_links(&a.title))) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn section(section: &Section) -> Markup {
    html! {
        section aria-labelledby=(section.id) {
            h2.section-title #(section.id) { (text(&section.title)) }
            @for (n, a) in section.articles.iter().enumerate() {
                article {
                    h3 #(Outline::anchor(section, n)) { (inlines(&a.title)) }
                    (blocks(&a.body))
                }
            }
            p.back { a href="#sommaire" { "↑ " (labels::BACK_TO_CONTENTS) } }
        }
    }
}

/// The issue's content, as the page shows it and the feed carries it:
/// the highlight, then every section.
pub(super) fn content(issue: &Issue) -> Markup {
    let highlight = &issue.highlight;
    html! {
        section.highlight aria-labelledby="fait-marquant" {
            p.highlight-label { (text(&highlight.label)) }
            article {
                h2 #fait-marquant { (inlines(&highlight.article.title)) }
                (blocks(&highlight.article.body))
            }
        }
        @for s in &issue.sections { (section(s)) }
    }
}

/// The description of an issue: its preview line, as the digests start it.
pub(super) fn description(issue: &Issue) -> String {
    french(&preview_line(issue)).into_owned()
}

/// An issue's page.
pub(super) fn issue(site: &SiteInfo<'_>, issue: &Issue) -> String {
    let period = french_period(issue.period.from, issue.period.to);
    let page = html! {
        (DOCTYPE)
        html lang=(issue.language) dir="ltr" {
            (head(site, &french(&issue.subject), &description(issue), site.base.map(|b| page_url(b, issue)), "../"))
            body {
                header.masthead {
                    div.inner {
                        p.all { a href="../" { "← " (labels::ALL_ISSUES) } }
                        @if let Some(logo) = issue.logo.as_ref().or(site.logo) {
                            @let (width, height) = logo.image.shown();
                            img.logo src={ "cid:" (logo.image.cid) } alt=(french(&logo.alt)) width=(width) height=(height);
                        }
                        h1 { (text(&issue.title)) }
                        @if let Some(subtitle) = &issue.subtitle {
                            p.subtitle { (text(subtitle)) }
                        }
                        p.meta {
                            @if let Some(publisher) = &issue.publisher {
                                (text(publisher)) br;
                            }
                            (period)
                        }
                    }
                }
                div.band {}
                div.inner {
                    (contents(issue))
                    main { (content(issue)) }
                    @if let Some(c) = &issue.colophon {
                        footer { (colophon(c)) }
                    }
                }
            }
        }
    };
    with_image_files(&page.into_string(), site, issue, "")
}

/// The page left at an issue's former address (its former id, before ids
/// were short): a link to its page, which a browser follows at once, so
/// that the "online version" links of digests already sent keep working.
pub(super) fn moved(site: &SiteInfo<'_>, issue: &Issue) -> String {
    let to = format!("../{}/", issue.id);
    let page = html! {
        (DOCTYPE)
        html lang=(issue.language) dir="ltr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                meta http-equiv="refresh" content={ "0; url=" (to) };
                title { (french(&issue.subject)) }
                @if let Some(base) = site.base {
                    link rel="canonical" href=(page_url(base, issue));
                }
            }
            body {
                p { a href=(to) { (french(&issue.subject)) } }
            }
        }
    };
    page.into_string()
}

/// The index: every issue, newest first, with its period and highlight.
pub(super) fn index(site: &SiteInfo<'_>, issues: &[&Issue]) -> String {
    let language = issues.first().map_or("fr", |i| i.language.as_str());
    let description = format!("{} : {}", labels::ALL_ISSUES, site.title);
    let page = html! {
        (DOCTYPE)
        html lang=(language) dir="ltr" {
            (head(site, &french(site.title), &french(&description), site.base.map(|b| format!("{b}/")), ""))
            body {
                header.masthead {
                    div.inner {
                        h1 { (text(site.title)) }
                        p.subtitle { (labels::ALL_ISSUES) }
                    }
                }
                div.band {}
                main.inner {
                    ol.issues {
                        @for issue in issues {
                            li {
                                h2 { a href={ (issue.id) "/" } { (text(&issue.subject)) } }
                                p.meta { (french_period(issue.period.from, issue.period.to)) }
                                p { (text(&issue.highlight.label)) (french(" : ")) (inlines(&plain_links(&issue.highlight.article.title))) }
                            }
                        }
                    }
                    @if site.base.is_some() {
                        p.feed { a href=(feed::FILE) { (labels::FEED) } }
                    }
                }
            }
        }
    };
    page.into_string()
}
