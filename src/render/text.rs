//! The plain-text part, written from the same tree as the HTML part.
//!
//! It is read in mail clients that show no HTML, by screen readers, and by
//! spam filters that compare the two parts, so it carries the whole content
//! in the same order. Paragraphs are wrapped at [`WIDTH`] columns (only a
//! word longer than that, such as a URL, may stick out), headings are
//! underlined, lists keep their bullets, and links become numbered
//! references listed under their article.

use textwrap::{Options, WordSeparator, WordSplitter, wrap};

use super::template::Piece;
use super::typography::french;
use super::{Outline, Slot, labels};
use crate::issue::Article;
use crate::markdown::{Block, Inline};

/// The widest a line may be, in characters.
pub const WIDTH: usize = 76;

/// Collects the text of one article and its link references.
struct Writer {
    out: String,
}

/// The links of one article, numbered in order of appearance; a link seen
/// twice keeps its first number.
#[derive(Default)]
struct References(Vec<String>);

impl References {
    fn number(&mut self, href: &str) -> usize {
        match self.0.iter().position(|h| h == href) {
            Some(i) => i + 1,
            None => {
                self.0.push(href.to_owned());
                self.0.len()
            }
        }
    }
}

/// Whether a word is an address a reader copies whole: a URL or an e-mail
/// address, which may pass the width rather than be cut.
pub fn looks_like_link(word: &str) -> bool {
    word.contains("://") || word.starts_with("www.") || word.contains('@')
}

/// Whether a line keeps the text part's promise: at most [`WIDTH`] columns
/// (as a terminal shows them), unless it holds a long link kept whole.
pub fn line_fits(line: &str) -> bool {
    use unicode_width::UnicodeWidthStr;
    line.width() <= WIDTH
        || line
            .split_whitespace()
            .any(|w| looks_like_link(w) && w.chars().count() > 30)
}

/// The longest word kept whole (bullets and indents need the rest).
const LONGEST_WORD: usize = WIDTH - 8;

/// Text with every run of ASCII white space (tabs, stray line ends) made
/// one ordinary space, so that it wraps; no-break spaces are kept. A word
/// too long for a line that is not a link is cut into pieces that fit.
fn squeeze(text: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| c.is_ascii_whitespace() || c == '\u{b}')
        .filter(|w| !w.is_empty())
    {
        if word.chars().count() > LONGEST_WORD && !looks_like_link(word) {
            let chars: Vec<char> = word.chars().collect();
            words.extend(chars.chunks(LONGEST_WORD).map(|c| c.iter().collect()));
        } else {
            words.push(word.to_owned());
        }
    }
    words.join(" ")
}

pub(crate) fn options<'a>(indent: &'a str, subsequent: &'a str) -> Options<'a> {
    Options::new(WIDTH)
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(false)
        .initial_indent(indent)
        .subsequent_indent(subsequent)
}

/// The text of some inlines, with French spacing; links are numbered in
/// `refs`, or left bare when there is nowhere to list them (the sommaire).
fn inline_text(items: &[Inline], refs: &mut Option<&mut References>) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            Inline::Text(t) => out.push_str(&french(t)),
            Inline::Code(c) => out.push_str(c),
            Inline::Strong(c) | Inline::Emphasis(c) | Inline::Superscript(c) => {
                out.push_str(&inline_text(c, refs));
            }
            Inline::Link {
                href: Some(href),
                children,
            } => {
                out.push_str(&inline_text(children, refs));
                if let Some(refs) = refs {
                    let n = refs.number(href);
                    out.push_str(&format!("\u{a0}[{n}]"));
                }
            }
            Inline::Link {
                href: None,
                children,
            } => out.push_str(&inline_text(children, refs)),
            Inline::LineBreak => out.push('\n'),
            Inline::Image(p) => out.push_str(&french(&format!("[{} : {}]", labels::IMAGE, p.alt))),
        }
    }
    out
}

impl Writer {
    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn line(&mut self, line: &str) {
        self.out.push_str(line.trim_end());
        self.out.push('\n');
    }

    /// Wrapped text, each forced line break starting a new line.
    fn wrapped(&mut self, text: &str, first: &str, rest: &str) {
        for (i, part) in text.split('\n').enumerate() {
            let indent = if i == 0 { first } else { rest };
            let squeezed = squeeze(part);
            for line in wrap(&squeezed, options(indent, rest)) {
                self.line(&line);
            }
        }
    }

    /// A heading underlined with `mark`, as wide as its longest line.
    fn heading(&mut self, text: &str, mark: char) {
        let text = squeeze(text);
        let lines = wrap(&text, options("", ""));
        let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        for line in &lines {
            self.line(line);
        }
        self.line(&mark.to_string().repeat(width.min(WIDTH)));
    }

    fn banner(&mut self, text: &str) {
        let rule = "=".repeat(WIDTH);
        self.blank();
        self.line(&rule);
        self.wrapped(&text.to_uppercase(), "", "");
        self.line(&rule);
        self.blank();
    }

    fn blocks(&mut self, blocks: &[Block], indent: &str, refs: &mut References) {
        for block in blocks {
            match block {
                Block::Paragraph(c) => {
                    self.wrapped(&inline_text(c, &mut Some(&mut *refs)), indent, indent);
                    self.blank();
                }
                Block::Heading(c) => {
                    self.heading(&inline_text(c, &mut Some(&mut *refs)), '~');
                    self.blank();
                }
                Block::List { start, items } => {
                    for (n, item) in items.iter().enumerate() {
                        let bullet = match start {
                            Some(s) => format!("{indent}  {}. ", s + n as u64),
                            None => format!("{indent}  - "),
                        };
                        let hang = " ".repeat(bullet.chars().count());
                        self.item(item, &bullet, &hang, refs);
                    }
                    self.blank();
                }
                Block::Quote(b) => self.blocks(b, &format!("{indent}> "), refs),
                Block::Code(code) => {
                    for line in code.lines() {
                        self.line(&format!("{indent}    {line}"));
                    }
                    self.blank();
                }
                Block::Rule => {
                    self.line(&format!("{indent}{}", "-".repeat(24)));
                    self.blank();
                }
            }
        }
    }

    fn item(&mut self, item: &[Block], bullet: &str, hang: &str, refs: &mut References) {
        let mut first = true;
        for block in item {
            match block {
                Block::Paragraph(c) => {
                    let lead = if first { bullet } else { hang };
                    self.wrapped(&inline_text(c, &mut Some(&mut *refs)), lead, hang);
                }
                other => self.blocks(std::slice::from_ref(other), hang, refs),
            }
            first = false;
        }
    }

    fn article(&mut self, article: &Article) {
        let mut refs = References::default();
        let title = inline_text(&article.title, &mut Some(&mut refs));
        self.heading(&title, '-');
        self.blank();
        self.blocks(&article.body, "", &mut refs);
        if !refs.0.is_empty() {
            for (n, href) in refs.0.iter().enumerate() {
                self.line(&format!("[{}] {href}", n + 1));
            }
            self.blank();
        }
    }
}

/// A line wrapped as the text part wraps it, with its line end.
pub(crate) fn wrapped(text: &str) -> String {
    let mut w = Writer { out: String::new() };
    w.wrapped(text, "", "");
    w.out
}

/// Where the pieces of a text part start, as it is written.
#[derive(Default)]
struct Cuts(Vec<(usize, Piece)>);

impl Cuts {
    /// From `at` on, the text belongs to `piece` (its text left empty).
    fn at(&mut self, at: usize, piece: Piece) {
        self.0.push((at, piece));
    }

    /// `text` cut where it was marked.
    fn apply(self, text: &str) -> Vec<Piece> {
        let mut pieces = Vec::with_capacity(self.0.len() + 1);
        let mut marks = self.0.into_iter().peekable();
        let mut start = 0;
        let mut current = Piece::Fixed(String::new());
        loop {
            // (The part's trailing blank lines are trimmed after the last
            // mark was set: no mark is past its end.)
            let end = marks
                .peek()
                .map_or(text.len(), |(at, _)| *at)
                .min(text.len());
            let share = text[start.min(end)..end].to_owned();
            match current {
                Piece::Fixed(_) => pieces.push(Piece::Fixed(share)),
                Piece::Section(i, _) => pieces.push(Piece::Section(i, share)),
                other => pieces.push(other),
            }
            match marks.next() {
                Some((at, piece)) => {
                    start = at;
                    current = piece;
                }
                None => break,
            }
        }
        pieces.retain(|p| !matches!(p, Piece::Fixed(s) if s.is_empty()));
        pieces
    }
}

/// The plain-text part of the outline's sections, cut into pieces (see
/// [`super::template`]): each section's entry in the sommaire and its
/// articles, and the line naming the sections, written per variant.
pub(crate) fn template(o: &Outline<'_>) -> Vec<Piece> {
    let issue = o.issue;
    let mut w = Writer { out: String::new() };
    let mut cuts = Cuts::default();

    if let Some(url) = &o.online {
        w.line(&french(&format!("{} :", labels::ONLINE)));
        w.line(url);
        w.blank();
    }
    w.wrapped(&french(&issue.title).to_uppercase(), "", "");
    if let Some(subtitle) = &issue.subtitle {
        w.wrapped(&french(subtitle), "", "");
    }
    if let Some(publisher) = &issue.publisher {
        w.wrapped(&french(publisher), "", "");
    }
    w.line(&o.period);
    w.blank();

    w.heading(labels::CONTENTS, '=');
    w.blank();
    w.wrapped(&french(&issue.highlight.label), "", "");
    let title = inline_text(&issue.highlight.article.title, &mut None);
    w.wrapped(&title, "  - ", "    ");
    for (i, section) in &o.sections {
        cuts.at(w.out.len(), Piece::Section(*i, String::new()));
        w.blank();
        w.wrapped(&french(&section.title), "", "");
        for article in &section.articles {
            let title = inline_text(&article.title, &mut None);
            w.wrapped(&title, "  - ", "    ");
        }
        cuts.at(w.out.len(), Piece::Fixed(String::new()));
    }

    w.banner(&french(&issue.highlight.label));
    w.article(&issue.highlight.article);

    for (i, section) in &o.sections {
        cuts.at(w.out.len(), Piece::Section(*i, String::new()));
        w.banner(&french(&section.title));
        for article in &section.articles {
            w.article(article);
        }
        w.blank();
        w.line(&Slot::Section(section.id.clone()).marker());
        w.blank();
        cuts.at(w.out.len(), Piece::Fixed(String::new()));
    }

    w.blank();
    w.line(&"-".repeat(WIDTH));
    cuts.at(w.out.len(), Piece::Topics);
    w.wrapped(&o.topics_line, "", "");
    cuts.at(w.out.len(), Piece::Fixed(String::new()));
    if let Some(line) = &o.manage_line {
        w.wrapped(line, "", "");
    }
    w.line(&Slot::Manage.marker());
    w.line(&Slot::Unsubscribe.marker());
    if let Some(c) = &issue.colophon {
        w.blank();
        let mut refs = References::default();
        w.blocks(&c.about, "", &mut refs);
        for (n, href) in refs.0.iter().enumerate() {
            w.line(&format!("[{}] {href}", n + 1));
        }
        let mut fields = Vec::new();
        if let Some(p) = &c.publication {
            fields.push(format!("{} : {p}", labels::PUBLICATION));
        }
        if !c.contacts.is_empty() {
            fields.push(format!("{} : {}", labels::CONTACTS, c.contacts.join(", ")));
        }
        if let Some(e) = &c.editorial {
            fields.push(format!("{} : {e}", labels::EDITORIAL));
        }
        if let Some(s) = &c.subscribe {
            fields.push(format!("{} : {s}", labels::SUBSCRIBE));
        }
        w.blank();
        for field in fields {
            w.wrapped(&french(&field), "", "  ");
        }
    }
    let mut text = w.out.trim_end().to_owned();
    text.push('\n');
    cuts.apply(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_and_odd_spaces_wrap_like_spaces() {
        // Found by the issue fuzzer: a run of tabs kept a line from wrapping.
        let mut w = Writer { out: String::new() };
        let text = format!(
            "Une réunion du Quantum {}Development Group (QDG), l'initiative américaine et la suite",
            "\t".repeat(27)
        );
        w.wrapped(&text, "", "");
        assert!(
            w.out.lines().all(|l| l.chars().count() <= WIDTH),
            "{}",
            w.out
        );
        assert!(
            w.out
                .starts_with("Une réunion du Quantum Development Group")
        );
    }

    #[test]
    fn only_links_may_pass_the_width() {
        // Found by the issue fuzzer: a 90-character word in a list item.
        let mut w = Writer { out: String::new() };
        let word = "É".repeat(90);
        let url = format!("https://example.org/{}", "x".repeat(90));
        w.wrapped(&format!("L'{word} et {url}"), "  - ", "    ");
        for line in w.out.lines() {
            assert!(
                line.chars().count() <= WIDTH || line.contains(&url),
                "«{line}»"
            );
        }
        assert!(w.out.contains(&url), "the link is kept whole");
    }
}
