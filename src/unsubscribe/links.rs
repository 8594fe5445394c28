//! The per-subscriber unsubscription links, made in one place.
//!
//! A digest is rendered once per variant, with a [`Slot`] line where each
//! subscriber's links go: the list's link in the footer, one link per
//! section after it ([`crate::render::slots`] cuts a rendered part at those
//! lines, so that the shared text is encoded once per variant). [`Links`]
//! fills each
//! slot for one subscriber, with a token signed by the campaign's
//! [`Signer`], in both the HTML and the text of the part, with the words
//! around it ([`Label`]) worked out once per send.

use lettre::Address;
use std::fmt::Write as _;

use maud::html;
use textwrap::wrap;

use super::{MEMBER_LEN, Signer};
use crate::address::Key;
use crate::issue::Issue;
use crate::render::Digest;
use crate::render::labels;
use crate::render::slots::{Slot, personalise};
use crate::render::text::options;
use crate::render::typography::french;
use crate::subscribers::List;

/// What a filled slot says around its link, worked out once per send (it
/// takes French spacing, escaping and wrapping, and a message has a slot per
/// section): [`Label::html`] and [`Label::text`] put a link in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The HTML after the link: the end of the `href` attribute, the
    /// style, the words.
    html_after: String,
    /// The text before the link: the words, wrapped, each line ended.
    text_before: String,
}

impl Label {
    /// The label of `slot` in `issue`.
    pub fn of(slot: &Slot, issue: &Issue) -> Label {
        let (style, html_words, text_words) = match slot {
            Slot::Manage => (
                "color: #4a4a4a;",
                labels::MANAGE.to_owned(),
                labels::MANAGE_TEXT.to_owned(),
            ),
            Slot::Unsubscribe => (
                "color: #4a4a4a;",
                labels::UNSUBSCRIBE.to_owned(),
                labels::UNSUBSCRIBE_TEXT.to_owned(),
            ),
            Slot::Section(id) => {
                let title = issue.section(id).map_or("", |s| s.title.as_str());
                (
                    "color: #666666; font-size: 13px;",
                    format!("{} « {title} »", labels::STOP_SECTION),
                    format!("{} « {title} » :", labels::STOP_SECTION),
                )
            }
        };
        // The link is written by `html`, between `<a href="` and this.
        let html_after = html! { a href="" style=(style) { (french(&html_words)) } }
            .into_string()
            .split_off(r#"<a href=""#.len());
        let mut text_before = String::new();
        for line in wrap(&french(&text_words), options("", "")) {
            text_before.push_str(&line);
            text_before.push('\n');
        }
        Label {
            html_after,
            text_before,
        }
    }

    /// The HTML of the filled slot: a link, styled by hand since
    /// css-inline has already run. Empty when there is no link to give.
    pub fn html(&self, url: Option<&str>) -> String {
        let Some(url) = url else {
            return String::new();
        };
        let mut out = String::with_capacity(url.len() + self.html_after.len() + 16);
        out.push_str(r#"<a href=""#);
        // As maud escapes an attribute.
        maud::Escaper::new(&mut out)
            .write_str(url)
            .unwrap_or_else(|_| unreachable!("writing to a String"));
        out.push_str(&self.html_after);
        out
    }

    /// The text of the filled slot: its words, then the link on a line of
    /// its own (a long URL may pass the width, the words may not). Empty
    /// when there is no link to give.
    pub fn text(&self, url: Option<&str>) -> String {
        let Some(url) = url else {
            return String::new();
        };
        let mut out = String::with_capacity(self.text_before.len() + url.len());
        out.push_str(&self.text_before);
        out.push_str(url);
        out
    }
}

/// The labels of every slot of an issue's digests: the list's and one per
/// section.
#[derive(Debug, Clone)]
pub struct Labels(Vec<(Slot, Label)>);

impl Labels {
    /// Works out the label of every slot of `issue`.
    pub fn new(issue: &Issue) -> Labels {
        let slots = [Slot::Manage, Slot::Unsubscribe]
            .into_iter()
            .chain(issue.sections.iter().map(|s| Slot::Section(s.id.clone())));
        Labels(
            slots
                .map(|slot| (slot.clone(), Label::of(&slot, issue)))
                .collect(),
        )
    }

    fn get(&self, slot: &Slot) -> Option<&Label> {
        self.0
            .iter()
            .find(|(s, _)| s == slot)
            .map(|(_, label)| label)
    }
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
    /// The words around each link ([`Labels::new`] of the issue).
    pub labels: &'a Labels,
}

impl Links<'_> {
    /// Who `address` is in this list's tokens: worked out once for all the
    /// links of a message.
    pub fn code(&self, address: &Address) -> [u8; MEMBER_LEN] {
        self.signer.member_code(&self.list.id, &Key::of(address))
    }

    /// The URL that unsubscribes the member whose code is `member` from
    /// the list, or from one section; none when the list has no
    /// unsubscription address.
    pub fn url_of(&self, member: &[u8; MEMBER_LEN], section: Option<&str>) -> Option<String> {
        let base = self.list.unsubscribe_url.as_deref()?;
        let token = self.signer.sign_short_of(member, &self.list.id, section);
        Some(format!("{base}/{token}"))
    }

    /// The HTML and the text of a slot for `address`.
    pub fn fill(&self, slot: &Slot, address: &Address) -> (String, String) {
        self.fill_of(slot, &self.code(address))
    }

    /// [`Links::fill`] for the member whose code is `member`.
    pub fn fill_of(&self, slot: &Slot, member: &[u8; MEMBER_LEN]) -> (String, String) {
        let url = match slot {
            Slot::Manage => self
                .url_of(member, None)
                .map(|url| format!("{url}/{}", super::MANAGE)),
            Slot::Unsubscribe => self.url_of(member, None),
            Slot::Section(id) => self.url_of(member, Some(id.as_str())),
        };
        // A slot the labels lack has its label made here. (Mutation
        // testing: `Labels::get` finding nothing survives, as it should:
        // the label made is the same, only made again for each letter.)
        let made;
        let label = match self.labels.get(slot) {
            Some(label) => label,
            None => {
                made = Label::of(slot, self.issue);
                &made
            }
        };
        (label.html(url.as_deref()), label.text(url.as_deref()))
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
    use std::path::Path;

    use super::*;

    /// A filled slot as maud and textwrap write it in one go, as they did
    /// before the labels were worked out once.
    fn whole(slot: &Slot, url: &str, issue: &Issue) -> (String, String) {
        let (style, label, text) = match slot {
            Slot::Manage => (
                "color: #4a4a4a;",
                french(labels::MANAGE).into_owned(),
                labels::MANAGE_TEXT.to_owned(),
            ),
            Slot::Unsubscribe => (
                "color: #4a4a4a;",
                labels::UNSUBSCRIBE.to_owned(),
                labels::UNSUBSCRIBE_TEXT.to_owned(),
            ),
            Slot::Section(id) => {
                let t = issue.section(id).map_or("", |s| s.title.as_str());
                (
                    "color: #666666; font-size: 13px;",
                    french(&format!("{} « {t} »", labels::STOP_SECTION)).into_owned(),
                    format!("{} « {t} » :", labels::STOP_SECTION),
                )
            }
        };
        let html = html! { a href=(url) style=(style) { (label) } }.into_string();
        let mut out = String::new();
        for line in wrap(&french(&text), options("", "")) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str(url);
        (html, out)
    }

    #[test]
    fn a_label_worked_out_once_fills_a_slot_as_maud_and_textwrap_would() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (mut issue, _) =
            Issue::load(&root.join("issues/2026-03-royaume-uni.toml")).expect("the March issue");
        // A title that needs escaping, and one long enough to wrap.
        issue.sections[0].title = "R&D <ouverte> \"x\" : 'y'".to_owned();
        issue.sections[1].title = "mot ".repeat(30);
        let labels = Labels::new(&issue);
        let mut slots = vec![
            Slot::Manage,
            Slot::Unsubscribe,
            Slot::Section("absente".into()),
        ];
        slots.extend(issue.sections.iter().map(|s| Slot::Section(s.id.clone())));
        for slot in &slots {
            let label = labels
                .get(slot)
                .cloned()
                .unwrap_or_else(|| Label::of(slot, &issue));
            for url in [
                "https://example.org/u/abc.def",
                "https://example.org/u?a=1&b=\"2\"<3>",
            ] {
                let (html, text) = whole(slot, url, &issue);
                assert_eq!(label.html(Some(url)), html, "{slot:?}");
                assert_eq!(label.text(Some(url)), text, "{slot:?}");
            }
            assert_eq!(label.html(None), "");
            assert_eq!(label.text(None), "");
        }
        assert!(labels.get(&Slot::Section("absente".into())).is_none());
    }
}
