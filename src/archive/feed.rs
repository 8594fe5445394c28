//! The archive's Atom feed (RFC 4287), written by atom_syndication: one
//! entry per issue, newest first, each carrying the issue's whole content
//! so that a feed reader shows it without visiting the site.

use atom_syndication::{Content, Entry, Feed, Link, Person, Text};

use super::page::{self, SiteInfo};
use super::{first_url, page_url, with_image_files};
use crate::issue::Issue;
use crate::render::typography::french;
use crate::{Error, Result};

/// The feed's file name, at the site's root.
pub(super) const FILE: &str = "feed.xml";

fn link(href: String, rel: &str, mime_type: &str) -> Link {
    Link {
        href,
        rel: rel.to_owned(),
        mime_type: Some(mime_type.to_owned()),
        ..Link::default()
    }
}

fn entry(site: &SiteInfo<'_>, base: &str, issue: &Issue) -> Entry {
    let url = page_url(base, issue);
    let date = issue.default_date();
    Entry {
        title: Text::plain(french(&issue.subject)),
        // The address the issue was first published at: it stays the same
        // when the issue is published again with corrections, or under
        // the short id of a later breves (its former page leads to it).
        id: first_url(base, issue),
        updated: date,
        published: Some(date),
        authors: issue
            .publisher
            .iter()
            .map(|p| Person {
                name: p.clone(),
                ..Person::default()
            })
            .collect(),
        links: vec![link(url.clone(), "alternate", "text/html")],
        summary: Some(Text::plain(page::description(issue))),
        content: Some(Content {
            // The content's links to its own anchors resolve against it.
            base: Some(url.clone()),
            lang: Some(issue.language.clone()),
            value: Some(with_image_files(
                &page::content(issue).into_string(),
                site,
                issue,
                &url,
            )),
            content_type: Some("html".to_owned()),
            src: None,
        }),
        ..Entry::default()
    }
}

/// The feed of `issues`, newest first.
pub(super) fn feed(site: &SiteInfo<'_>, base: &str, issues: &[&Issue]) -> Result<String> {
    let root = format!("{base}/");
    let newest = issues.first();
    let feed = Feed {
        title: Text::plain(french(site.title)),
        id: root.clone(),
        updated: newest.map(|i| i.default_date()).unwrap_or_default(),
        authors: vec![Person {
            name: newest
                .and_then(|i| i.publisher.clone())
                .unwrap_or_else(|| site.title.to_owned()),
            ..Person::default()
        }],
        links: vec![
            link(format!("{root}{FILE}"), "self", "application/atom+xml"),
            link(root, "alternate", "text/html"),
        ],
        lang: newest.map(|i| i.language.clone()),
        entries: issues.iter().map(|i| entry(site, base, i)).collect(),
        ..Feed::default()
    };
    let mut bytes = feed
        .write_to(Vec::new())
        .map_err(|e| Error::Feed(e.to_string()))?;
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(|e| Error::Feed(e.to_string()))
}
