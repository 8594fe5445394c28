//! A digest rendered once for every section, cut into pieces, from which
//! the digest of any set of sections is assembled.
//!
//! Rendering is the costly part of preparing a send (css-inline parses and
//! styles the whole document, the text part wraps every paragraph), and a
//! list can ask for dozens of combinations of sections. The parts are
//! rendered once with every section, each section's share marked (an HTML
//! comment, which css-inline keeps where it stands, even between table
//! rows; a byte offset in the text part); a variant is the pieces of its
//! sections put back together, with the two lines that name them (the
//! preview line and "Vous recevez les rubriques : …") written for it.
//!
//! This holds because nothing a section's share looks like depends on the
//! sections beside it: the stylesheet selects by class and ancestry only
//! (no sibling or position selectors), and in the text part every section
//! starts and ends at a blank line.
//! `tests::every_combination_is_the_digest_rendered_for_it_alone` compares
//! every combination of the March issue's sections, and of an issue written
//! to catch escaping and spacing, with the digest rendered for it alone.

use super::{Digest, Outline};
use crate::issue::Issue;
use crate::select::Selection;
use crate::subscribers::List;

/// One piece of a rendered part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Shared by every variant.
    Fixed(String),
    /// The share of the section of this index in the issue: its entry in
    /// the sommaire, or its articles.
    Section(usize, String),
    /// The preview line (HTML part).
    Preheader,
    /// The line that names the sections received.
    Topics,
}

/// Both parts of a digest of some sections, in pieces.
#[derive(Debug)]
pub struct Template<'a> {
    issue: &'a Issue,
    list: Option<&'a List>,
    /// The sections it holds, by index in the issue.
    sections: Vec<usize>,
    html: Vec<Piece>,
    text: Vec<Piece>,
}

impl<'a> Template<'a> {
    pub(crate) fn new(
        outline: &Outline<'a>,
        list: Option<&'a List>,
        html: Vec<Piece>,
        text: Vec<Piece>,
    ) -> Self {
        Template {
            issue: outline.issue,
            list,
            sections: outline.sections.iter().map(|(i, _)| *i).collect(),
            html,
            text,
        }
    }

    /// Whether the digest of `selection` can be assembled from it.
    pub fn holds(&self, selection: &Selection) -> bool {
        selection
            .indices()
            .iter()
            .all(|i| self.sections.contains(i))
    }

    /// The digest of `selection`'s sections, which the template must hold
    /// ([`Template::holds`]; a section it lacks is left out).
    pub fn digest(&self, selection: &Selection) -> Digest {
        debug_assert!(self.holds(selection), "a section the template lacks");
        let outline = Outline::new(self.issue, self.list, selection);
        let chosen = selection.indices();
        let html = assemble(
            &self.html,
            chosen,
            &escape_text(&outline.preheader),
            &escape_text(&outline.topics_line),
        );
        let text = assemble(
            &self.text,
            chosen,
            "",
            &super::text::wrapped(&outline.topics_line),
        );
        Digest {
            images: outline.images(),
            html,
            text,
            preheader: outline.preheader,
            section_ids: selection.ids(self.issue),
        }
    }
}

/// The pieces of one part, those of unchosen sections left out.
fn assemble(pieces: &[Piece], chosen: &[usize], preheader: &str, topics: &str) -> String {
    let size: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Fixed(s) | Piece::Section(_, s) => s.len(),
            Piece::Preheader => preheader.len(),
            Piece::Topics => topics.len(),
        })
        .sum();
    let mut out = String::with_capacity(size);
    for piece in pieces {
        match piece {
            Piece::Fixed(s) => out.push_str(s),
            Piece::Section(i, s) if chosen.contains(i) => out.push_str(s),
            Piece::Section(..) => {}
            Piece::Preheader => out.push_str(preheader),
            Piece::Topics => out.push_str(topics),
        }
    }
    out
}

/// Text as css-inline writes it in an element's content: `&`, `<`, `>` and
/// the no-break space U+00A0 as references, everything else as it is.
/// (`tests::text_is_escaped_as_css_inline_escapes_it` holds it to
/// css-inline's own output.)
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::render::Renderer;

    fn march() -> Issue {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Issue::load(&root.join("issues/2026-03-royaume-uni.toml"))
            .expect("the March issue")
            .0
    }

    /// An issue whose titles and preview line hold every character the
    /// HTML part escapes, French spacing, and sections of one article, of
    /// several, with lists and quotes at their ends.
    fn awkward() -> Issue {
        let mut issue = march();
        issue.preheader = Some("R&D <ouverte> : « 100 % » ; fin\u{a0}!".to_owned());
        for (n, section) in issue.sections.iter_mut().enumerate() {
            section.title = format!("Rubrique {n} & <{n}> : « x »\u{a0}?");
            section.articles.truncate(n % 3 + 1);
        }
        issue
    }

    fn every_combination(issue: &Issue) {
        let renderer = Renderer::new();
        let all = Selection::for_interests(issue, &[]);
        let template = renderer.template(issue, None, &all).expect("template");
        let count = issue.sections.len();
        for bits in 0..(1usize << count) {
            let chosen: Vec<usize> = (0..count).filter(|i| bits & (1 << i) != 0).collect();
            let selection = Selection::from_indices(chosen);
            assert!(template.holds(&selection));
            let alone = renderer.render(issue, None, &selection).expect("render");
            let cut = template.digest(&selection);
            assert_eq!(cut.html, alone.html, "HTML of {:?}", selection.indices());
            assert_eq!(cut.text, alone.text, "text of {:?}", selection.indices());
            assert_eq!(cut, alone);
            assert!(!cut.html.contains("<!--breves"), "no mark is left");
        }
    }

    #[test]
    fn every_combination_is_the_digest_rendered_for_it_alone() {
        every_combination(&march());
        every_combination(&awkward());
    }

    #[test]
    fn a_template_of_some_sections_does_not_hold_the_others() {
        let issue = march();
        let renderer = Renderer::new();
        let some = Selection::from_indices(vec![0, 2]);
        let template = renderer.template(&issue, None, &some).expect("template");
        assert!(template.holds(&Selection::from_indices(vec![2])));
        assert!(!template.holds(&Selection::from_indices(vec![1, 2])));
    }

    #[test]
    fn text_is_escaped_as_css_inline_escapes_it() {
        let text = "R&D <b> \"x\" 'y' \u{a0}: \u{202f}; é & &amp;";
        let page = format!(
            "<html><head></head><body><p>{}</p></body></html>",
            maud::html! { (text) }.into_string()
        );
        let inlined = css_inline::inline(&page).expect("css-inline");
        let start = inlined.find("<p>").expect("p") + 3;
        let end = inlined.find("</p>").expect("/p");
        assert_eq!(&inlined[start..end], escape_text(text));
    }
}
