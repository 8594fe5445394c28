//! The per-subscriber unsubscription links, made in one place.
//!
//! A digest is rendered once per variant, with a [`Slot`] line where each
//! subscriber's links go: the list's link in the footer, one link per
//! section after it. [`pieces`] cuts a rendered part at those lines, so that
//! the shared text can be encoded once per variant; [`Links`] fills each
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
use crate::render::text::options;
use crate::render::typography::french;
use crate::subscribers::List;

/// A place in a rendered part filled for each subscriber: their signed
/// unsubscription links. It stands on a line of its own, so that the parts
/// around it can be encoded once per variant and only the slot per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// The link that unsubscribes from the list.
    Unsubscribe,
    /// The link that stops one section (its id).
    Section(String),
}

const SLOT_MARK: char = '\u{E000}';

impl Slot {
    /// The line that stands for the slot in a rendered part.
    pub fn marker(&self) -> String {
        match self {
            Slot::Unsubscribe => format!("{SLOT_MARK}slot:unsubscribe{SLOT_MARK}"),
            Slot::Section(id) => format!("{SLOT_MARK}slot:section:{id}{SLOT_MARK}"),
        }
    }

    fn parse(line: &str) -> Option<Slot> {
        let inner = line
            .trim()
            .strip_prefix(SLOT_MARK)?
            .strip_suffix(SLOT_MARK)?;
        match inner.strip_prefix("slot:")? {
            "unsubscribe" => Some(Slot::Unsubscribe),
            other => other
                .strip_prefix("section:")
                .map(|id| Slot::Section(id.to_owned())),
        }
    }
}

/// A rendered part cut at its slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text shared by every subscriber; it ends at a line end (but the last).
    Fixed(&'a str),
    /// A per-subscriber line.
    Slot(Slot),
}

/// Cuts a rendered part at its slot lines.
pub fn pieces(part: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in part.split_inclusive('\n') {
        if let Some(slot) = Slot::parse(line) {
            if at > start {
                out.push(Piece::Fixed(&part[start..at]));
            }
            out.push(Piece::Slot(slot));
            start = at + line.len();
        }
        at += line.len();
    }
    if start < part.len() {
        out.push(Piece::Fixed(&part[start..]));
    }
    out
}

/// A part with its slots filled by `fill` (each fill is a line or more,
/// without the final line end).
pub fn personalise(part: &str, fill: impl Fn(&Slot) -> String) -> String {
    let mut out = String::with_capacity(part.len() + 512);
    for piece in pieces(part) {
        match piece {
            Piece::Fixed(text) => out.push_str(text),
            Piece::Slot(slot) => {
                out.push_str(&fill(&slot));
                out.push('\n');
            }
        }
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_cut_out_and_filled() {
        let part = format!(
            "début\n{}\nmilieu\n{}\nfin",
            Slot::Section("spatial".into()).marker(),
            Slot::Unsubscribe.marker()
        );
        let cut = pieces(&part);
        assert_eq!(
            cut,
            vec![
                Piece::Fixed("début\n"),
                Piece::Slot(Slot::Section("spatial".into())),
                Piece::Fixed("milieu\n"),
                Piece::Slot(Slot::Unsubscribe),
                Piece::Fixed("fin"),
            ]
        );
        let filled = personalise(&part, |slot| match slot {
            Slot::Unsubscribe => "U".into(),
            Slot::Section(id) => format!("S {id}"),
        });
        assert_eq!(filled, "début\nS spatial\nmilieu\nU\nfin");
    }
}
