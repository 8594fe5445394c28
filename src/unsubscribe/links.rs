//! The per-subscriber unsubscription links, made in one place.
//!
//! A digest is rendered once per variant, with a [`Slot`] line where each
//! subscriber's links go: the list's link in the footer, one link per
//! section after it ([`crate::render::slots`] cuts a rendered part at those
//! lines, so that the shared text is encoded once per variant). [`Links`]
//! fills each
//! slot for one subscriber, with a token signed by the campaign's
//! [`Signer`], in both the HTML ([`html_link`]) and the text
//! ([`text_link`]) of the part.

use lettre::Address;
use maud::html;
use textwrap::wrap;

use super::{Signer, Token};
use crate::address::Key;
use crate::issue::Issue;
use crate::render::Digest;
use crate::render::labels;
use crate::render::slots::{Slot, personalise};
use crate::render::text::options;
use crate::render::typography::french;
use crate::subscribers::List;

/// The HTML of a filled slot: a link, styled by hand since css-inline has
/// already run. Empty when there is no link to give.
pub fn html_link(slot: &Slot, url: Option<&str>, section_title: Option<&str>) -> String {
    let Some(url) = url else {
        return String::new();
    };
    let (style, label) = match slot {
        Slot::Unsubscribe => ("color: #4a4a4a;", labels::UNSUBSCRIBE.to_owned()),
        Slot::Section(_) => (
            "color: #666666; font-size: 13px;",
            french(&format!(
                "{} « {} »",
                labels::STOP_SECTION,
                section_title.unwrap_or_default()
            ))
            .into_owned(),
        ),
    };
    html! { a href=(url) style=(style) { (label) } }.into_string()
}

/// The text of a filled slot: its label, then the link on a line of its
/// own (a long URL may pass the width, its label may not). Empty when there
/// is no link to give.
pub fn text_link(slot: &Slot, url: Option<&str>, section_title: Option<&str>) -> String {
    let Some(url) = url else {
        return String::new();
    };
    let label = match slot {
        Slot::Unsubscribe => labels::UNSUBSCRIBE_TEXT.to_owned(),
        Slot::Section(_) => format!(
            "{} « {} » :",
            labels::STOP_SECTION,
            section_title.unwrap_or_default()
        ),
    };
    let mut out = String::new();
    for line in wrap(&french(&label), options("", "")) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(url);
    out
}

/// A subscriber's unsubscription links: signed tokens added to the list's
/// unsubscription address.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// The list.
    pub list: &'a List,
    /// The issue (for section titles).
    pub issue: &'a Issue,
    /// Signs the tokens.
    pub signer: &'a Signer,
}

impl Links<'_> {
    /// The URL that unsubscribes `address` from the list, or from one
    /// section; none when the list has no unsubscription address.
    pub fn url(&self, address: &Address, section: Option<&str>) -> Option<String> {
        let base = self.list.unsubscribe_url.as_deref()?;
        let token = self.signer.sign(&Token {
            list: self.list.id.clone(),
            address: Key::of(address),
            section: section.map(str::to_owned),
        });
        Some(format!("{base}/{token}"))
    }

    /// The HTML and the text of a slot for `address`.
    pub fn fill(&self, slot: &Slot, address: &Address) -> (String, String) {
        let (section, title) = match slot {
            Slot::Unsubscribe => (None, None),
            Slot::Section(id) => (
                Some(id.as_str()),
                self.issue.section(id).map(|s| s.title.as_str()),
            ),
        };
        let url = self.url(address, section);
        (
            html_link(slot, url.as_deref(), title),
            text_link(slot, url.as_deref(), title),
        )
    }

    /// Both parts of a digest with the slots filled for `address`, for a
    /// preview.
    pub fn personalise(&self, digest: &Digest, address: &Address) -> (String, String) {
        (
            personalise(&digest.html, |slot| self.fill(slot, address).0),
            personalise(&digest.text, |slot| self.fill(slot, address).1),
        )
    }
}
