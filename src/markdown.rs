//! Article text: Markdown parsed once into a small tree that both renderers walk.
//!
//! Editors write titles and bodies in Markdown. They are parsed with
//! pulldown-cmark when the issue is loaded, into [`Block`]s and [`Inline`]s,
//! and never again: the HTML and the plain-text renderers read the same tree,
//! so the two parts of a digest cannot disagree on the content.
//!
//! The tree is also where input is made safe. Raw HTML typed into a body
//! becomes text (the HTML renderer escapes it); a link whose target is
//! missing, `#`, or not `http:`, `https:` or `mailto:` keeps its text and
//! loses its target. Each such decision is reported as a [`Note`] so that
//! `breves check` can point at it.
//!
//! ```
//! use breves::markdown::{parse_blocks, Block, Inline};
//!
//! let parsed = parse_blocks("Voir [le rapport](#) et **ceci**.");
//! let Block::Paragraph(inlines) = &parsed.blocks[0] else { panic!() };
//! assert!(matches!(&inlines[1], Inline::Link { href: None, .. }));
//! assert_eq!(parsed.notes.len(), 1); // the link without a target
//! ```

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::diagnostics::ProblemKind;

/// A block of article text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A heading inside an article (below the article's own title).
    Heading(Vec<Inline>),
    /// A bulleted list (`start` is `None`) or a numbered one.
    List {
        /// The first number of a numbered list.
        start: Option<u64>,
        /// Each item's blocks.
        items: Vec<Vec<Block>>,
    },
    /// A quotation.
    Quote(Vec<Block>),
    /// Preformatted text, shown as typed.
    Code(String),
    /// A horizontal rule.
    Rule,
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Text as typed (French spacing is applied when rendering).
    Text(String),
    /// Code, shown as typed.
    Code(String),
    /// `**bold**`.
    Strong(Vec<Inline>),
    /// `*italic*`.
    Emphasis(Vec<Inline>),
    /// `^superscript^`, as in 1^er^.
    Superscript(Vec<Inline>),
    /// A link; `href` is `None` when the target is missing or refused, and
    /// the text is then shown without a link.
    Link {
        /// The target, when it is usable.
        href: Option<String>,
        /// The link's text.
        children: Vec<Inline>,
    },
    /// A forced line break.
    LineBreak,
    /// An image, `![alternative text](file)`.
    Image(Picture),
}

/// An image as an article shows it: what the Markdown says, and, once the
/// issue has read the file, how it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Picture {
    /// The file, as written (relative to the issue file).
    pub src: String,
    /// The alternative text, said in its place where it is not shown.
    pub alt: String,
    /// Its `Content-ID` (empty until the issue has read the file).
    pub cid: String,
    /// The width it is shown at, in pixels.
    pub width: u32,
    /// The height it is shown at, in pixels.
    pub height: u32,
}

/// Something the parser decided that the editor should know about, at a
/// byte range of the Markdown source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Where in the Markdown text.
    pub range: Range<usize>,
    /// What was decided.
    pub kind: ProblemKind,
}

/// The result of parsing one Markdown text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed<T> {
    /// The tree.
    pub blocks: T,
    /// What the editor should know about (all warnings).
    pub notes: Vec<Note>,
    /// Where each image is in the Markdown text, in the tree's order.
    pub images: Vec<Range<usize>>,
}

/// Parses a body of Markdown into blocks.
pub fn parse_blocks(source: &str) -> Parsed<Vec<Block>> {
    let mut builder = Builder::default();
    let options = Options::ENABLE_SUPERSCRIPT;
    for (event, range) in Parser::new_ext(source, options).into_offset_iter() {
        builder.event(event, range, source);
    }
    let notes = std::mem::take(&mut builder.notes);
    let images = std::mem::take(&mut builder.images);
    let mut blocks = builder.finish();
    blocks.iter_mut().for_each(superscripts_in_block);
    Parsed {
        blocks,
        notes,
        images,
    }
}

/// Parses a one-line title: its inline Markdown (emphasis, links) is kept,
/// and a leading `1.`, `-` or `#` is read as text, not as a list or heading.
pub fn parse_inline(source: &str) -> Parsed<Vec<Inline>> {
    let escaped = escape_block_start(source.trim());
    let Parsed {
        blocks,
        notes,
        images,
    } = parse_blocks(&escaped);
    let mut inlines = Vec::new();
    for block in blocks {
        flatten_into(block, &mut inlines);
    }
    // The ranges are of the escaped text: one byte further for an image
    // after the escape, which no image can be before.
    let shift = escaped.len() - source.trim().len();
    let start = source.len() - source.trim_start().len();
    Parsed {
        blocks: inlines,
        notes,
        images: images
            .into_iter()
            .map(|r| r.start + start - shift..r.end + start - shift)
            .collect(),
    }
}

/// Makes a title's first characters read as text even when they look like
/// the start of a list, a heading or a quotation.
fn escape_block_start(title: &str) -> String {
    let bytes = title.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let marker = match bytes.first() {
        Some(b'#' | b'>' | b'-' | b'+' | b'=') => Some(0),
        Some(b'*') if bytes.get(1) == Some(&b' ') => Some(0),
        _ if digits > 0 && matches!(bytes.get(digits), Some(b'.' | b')')) => Some(digits),
        _ => None,
    };
    match marker {
        Some(at) => format!("{}\\{}", &title[..at], &title[at..]),
        None => title.to_owned(),
    }
}

fn flatten_into(block: Block, out: &mut Vec<Inline>) {
    match block {
        Block::Paragraph(inlines) | Block::Heading(inlines) => {
            if !out.is_empty() && !inlines.is_empty() {
                push_text(out, " ");
            }
            for inline in inlines {
                push_inline(out, inline);
            }
        }
        Block::List { items, .. } => {
            for item in items {
                for b in item {
                    flatten_into(b, out);
                }
            }
        }
        Block::Quote(blocks) => blocks.into_iter().for_each(|b| flatten_into(b, out)),
        Block::Code(code) => push_text(out, &code),
        Block::Rule => {}
    }
}

/// pulldown-cmark opens a `^superscript^` only at the start of a word, as it
/// does `_emphasis_`; French ordinals need it inside one: 1^er^, 2^e^. So
/// a `^…^` left in the text, short and without spaces, becomes one here.
fn superscripts_in_block(block: &mut Block) {
    match block {
        Block::Paragraph(inlines) | Block::Heading(inlines) => superscripts(inlines),
        Block::List { items, .. } => items.iter_mut().flatten().for_each(superscripts_in_block),
        Block::Quote(blocks) => blocks.iter_mut().for_each(superscripts_in_block),
        Block::Code(_) | Block::Rule => {}
    }
}

fn superscripts(inlines: &mut Vec<Inline>) {
    let mut out = Vec::with_capacity(inlines.len());
    for inline in inlines.drain(..) {
        match inline {
            Inline::Text(text) => split_superscripts(&text, &mut out),
            Inline::Strong(mut c) => {
                superscripts(&mut c);
                out.push(Inline::Strong(c));
            }
            Inline::Emphasis(mut c) => {
                superscripts(&mut c);
                out.push(Inline::Emphasis(c));
            }
            Inline::Link { href, mut children } => {
                superscripts(&mut children);
                out.push(Inline::Link { href, children });
            }
            other => out.push(other),
        }
    }
    *inlines = out;
}

/// The longest superscript taken inside a word.
const MAX_SUPERSCRIPT: usize = 12;

fn split_superscripts(text: &str, out: &mut Vec<Inline>) {
    let mut rest = text;
    while let Some(open) = rest.find('^') {
        let after = &rest[open + 1..];
        let close = after.find('^').filter(|&len| {
            len > 0 && len <= MAX_SUPERSCRIPT && !after[..len].contains(char::is_whitespace)
        });
        match close {
            Some(len) => {
                if open > 0 {
                    push_text(out, &rest[..open]);
                }
                out.push(Inline::Superscript(vec![Inline::Text(
                    after[..len].to_owned(),
                )]));
                rest = &after[len + 1..];
            }
            None => {
                push_text(out, &rest[..open + 1]);
                rest = after;
            }
        }
    }
    if !rest.is_empty() {
        push_text(out, rest);
    }
}

/// Link targets a newsletter may carry.
fn usable_target(target: &str) -> bool {
    let lower = target.trim().to_ascii_lowercase();
    ["https://", "http://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
}

/// What an open Markdown element will become when it closes.
#[derive(Debug)]
enum Open {
    Root,
    Paragraph,
    Heading,
    List(Option<u64>),
    Item,
    Quote,
    CodeBlock,
    Strong,
    Emphasis,
    Superscript,
    Link(Option<String>),
    /// An image, its alternative text inside.
    Image(String),
    /// Containers whose text is kept plain.
    Transparent,
}

#[derive(Debug)]
struct Frame {
    open: Open,
    blocks: Vec<Block>,
    inlines: Vec<Inline>,
    items: Vec<Vec<Block>>,
    code: String,
}

impl Frame {
    fn new(open: Open) -> Self {
        Frame {
            open,
            blocks: Vec::new(),
            inlines: Vec::new(),
            items: Vec::new(),
            code: String::new(),
        }
    }

    /// Text that stood directly in a container (a tight list item) becomes
    /// a paragraph before the next block.
    fn flush_inlines(&mut self) {
        if !self.inlines.is_empty() {
            let inlines = std::mem::take(&mut self.inlines);
            self.blocks.push(Block::Paragraph(inlines));
        }
    }
}

struct Builder {
    stack: Vec<Frame>,
    notes: Vec<Note>,
    images: Vec<Range<usize>>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            stack: vec![Frame::new(Open::Root)],
            notes: Vec::new(),
            images: Vec::new(),
        }
    }
}

fn push_text(inlines: &mut Vec<Inline>, text: &str) {
    if let Some(Inline::Text(last)) = inlines.last_mut() {
        last.push_str(text);
    } else {
        inlines.push(Inline::Text(text.to_owned()));
    }
}

fn push_inline(inlines: &mut Vec<Inline>, inline: Inline) {
    match inline {
        Inline::Text(t) => push_text(inlines, &t),
        other => inlines.push(other),
    }
}

fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Strong(c)
            | Inline::Emphasis(c)
            | Inline::Superscript(c)
            | Inline::Link { children: c, .. } => out.push_str(&plain_text(c)),
            Inline::LineBreak => out.push(' '),
            Inline::Image(p) => out.push_str(&p.alt),
        }
    }
    out
}

impl Builder {
    fn top(&mut self) -> &mut Frame {
        // The root frame is never popped, so the stack is never empty.
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn note(&mut self, range: Range<usize>, kind: ProblemKind) {
        self.notes.push(Note { range, kind });
    }

    fn text(&mut self, text: &str) {
        let top = self.top();
        match top.open {
            Open::CodeBlock => top.code.push_str(text),
            _ => push_text(&mut top.inlines, text),
        }
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>, source: &str) {
        match event {
            Event::Start(tag) => self.start(tag, range, source),
            Event::End(end) => self.end(end),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => self.top().inlines.push(Inline::Code(code.into_string())),
            Event::Html(html) | Event::InlineHtml(html) => {
                self.note(
                    range,
                    ProblemKind::Unsupported(
                        "HTML in an article is shown as text, not interpreted".into(),
                    ),
                );
                self.text(&html);
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.top().inlines.push(Inline::LineBreak),
            Event::Rule => {
                let top = self.top();
                top.flush_inlines();
                top.blocks.push(Block::Rule);
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
            Event::FootnoteReference(t) => self.text(&format!("[^{t}]")),
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>, source: &str) {
        let open = match tag {
            Tag::Paragraph => Open::Paragraph,
            Tag::Heading { .. } => Open::Heading,
            Tag::BlockQuote(_) => Open::Quote,
            Tag::CodeBlock(_) => Open::CodeBlock,
            Tag::HtmlBlock => {
                // Its text arrives as Html events, noted there.
                Open::Paragraph
            }
            Tag::List(start) => Open::List(start),
            Tag::Item => Open::Item,
            Tag::Emphasis => Open::Emphasis,
            Tag::Strong => Open::Strong,
            Tag::Superscript => Open::Superscript,
            Tag::Link { dest_url, .. } => {
                let text = source.get(range.clone()).unwrap_or_default();
                let text = text
                    .strip_prefix('[')
                    .and_then(|t| t.rsplit_once("]("))
                    .map_or(text, |(t, _)| t)
                    .to_owned();
                if dest_url.trim().is_empty() || dest_url.trim() == "#" {
                    self.note(range, ProblemKind::LinkWithoutTarget { text });
                    Open::Link(None)
                } else if !usable_target(&dest_url) {
                    self.note(
                        range,
                        ProblemKind::UnsafeLink {
                            text,
                            target: dest_url.to_string(),
                        },
                    );
                    Open::Link(None)
                } else {
                    Open::Link(Some(dest_url.trim().to_owned()))
                }
            }
            Tag::Image { dest_url, .. } => {
                self.images.push(range);
                Open::Image(dest_url.trim().to_owned())
            }
            _ => Open::Transparent,
        };
        self.stack.push(Frame::new(open));
    }

    fn end(&mut self, _end: TagEnd) {
        if self.stack.len() < 2 {
            return;
        }
        let Some(mut frame) = self.stack.pop() else {
            return;
        };
        let parent = self.top();
        match frame.open {
            Open::Paragraph => {
                parent.flush_inlines();
                if !frame.inlines.is_empty() {
                    parent.blocks.push(Block::Paragraph(frame.inlines));
                }
            }
            Open::Heading => {
                parent.flush_inlines();
                parent.blocks.push(Block::Heading(frame.inlines));
            }
            Open::CodeBlock => {
                parent.flush_inlines();
                parent.blocks.push(Block::Code(frame.code));
            }
            Open::Quote => {
                frame.flush_inlines();
                parent.flush_inlines();
                parent.blocks.push(Block::Quote(frame.blocks));
            }
            Open::Item => {
                frame.flush_inlines();
                parent.items.push(frame.blocks);
            }
            Open::List(start) => {
                parent.flush_inlines();
                parent.blocks.push(Block::List {
                    start,
                    items: frame.items,
                });
            }
            Open::Strong => parent.inlines.push(Inline::Strong(frame.inlines)),
            Open::Emphasis => parent.inlines.push(Inline::Emphasis(frame.inlines)),
            Open::Superscript => parent.inlines.push(Inline::Superscript(frame.inlines)),
            Open::Link(href) => parent.inlines.push(Inline::Link {
                href,
                children: frame.inlines,
            }),
            Open::Image(src) => parent.inlines.push(Inline::Image(Picture {
                src,
                alt: plain_text(&frame.inlines).trim().to_owned(),
                ..Picture::default()
            })),
            Open::Transparent | Open::Root => {
                for inline in frame.inlines {
                    push_inline(&mut parent.inlines, inline);
                }
                parent.blocks.extend(frame.blocks);
            }
        }
    }

    fn finish(mut self) -> Vec<Block> {
        while self.stack.len() > 1 {
            self.end(TagEnd::Paragraph);
        }
        let mut root = self.stack.pop().unwrap_or_else(|| Frame::new(Open::Root));
        root.flush_inlines();
        root.blocks
    }
}

/// Every picture of some blocks, in order, to be filled in once their
/// files are read.
pub fn pictures_mut<'a>(blocks: &'a mut [Block], out: &mut Vec<&'a mut Picture>) {
    for block in blocks {
        match block {
            Block::Paragraph(i) | Block::Heading(i) => inline_pictures_mut(i, out),
            Block::List { items, .. } => {
                for item in items {
                    pictures_mut(item, out);
                }
            }
            Block::Quote(b) => pictures_mut(b, out),
            Block::Code(_) | Block::Rule => {}
        }
    }
}

/// Every picture of some inlines, in order.
pub fn inline_pictures_mut<'a>(items: &'a mut [Inline], out: &mut Vec<&'a mut Picture>) {
    for item in items {
        match item {
            Inline::Image(p) => out.push(p),
            Inline::Strong(c)
            | Inline::Emphasis(c)
            | Inline::Superscript(c)
            | Inline::Link { children: c, .. } => inline_pictures_mut(c, out),
            Inline::Text(_) | Inline::Code(_) | Inline::LineBreak => {}
        }
    }
}

/// The `Content-ID`s of every picture of some blocks, in order.
pub fn picture_ids<'a>(blocks: &'a [Block], out: &mut Vec<&'a str>) {
    fn inline_ids<'a>(items: &'a [Inline], out: &mut Vec<&'a str>) {
        for item in items {
            match item {
                Inline::Image(p) => out.push(&p.cid),
                Inline::Strong(c)
                | Inline::Emphasis(c)
                | Inline::Superscript(c)
                | Inline::Link { children: c, .. } => inline_ids(c, out),
                Inline::Text(_) | Inline::Code(_) | Inline::LineBreak => {}
            }
        }
    }
    for block in blocks {
        match block {
            Block::Paragraph(i) | Block::Heading(i) => inline_ids(i, out),
            Block::List { items, .. } => {
                for item in items {
                    picture_ids(item, out);
                }
            }
            Block::Quote(b) => picture_ids(b, out),
            Block::Code(_) | Block::Rule => {}
        }
    }
}

/// The text of some inlines without any markup, for places that cannot
/// carry it (a subject line, a preheader).
pub fn to_plain(inlines: &[Inline]) -> String {
    plain_text(inlines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn nested_emphasis_closes_together() {
        let p = parse_blocks("**confirmé dans l'*AI Plan de 2025***, fondée");
        assert_eq!(
            p.blocks,
            vec![Block::Paragraph(vec![
                Inline::Strong(vec![
                    text("confirmé dans l'"),
                    Inline::Emphasis(vec![text("AI Plan de 2025")])
                ]),
                text(", fondée"),
            ])]
        );
    }

    #[test]
    fn tight_list_items_become_paragraphs() {
        let p = parse_blocks("Intro :\n\n- un ;\n- deux.\n");
        assert_eq!(
            p.blocks[1],
            Block::List {
                start: None,
                items: vec![
                    vec![Block::Paragraph(vec![text("un ;")])],
                    vec![Block::Paragraph(vec![text("deux.")])],
                ]
            }
        );
    }

    #[test]
    fn raw_html_is_text_and_noted() {
        let p = parse_blocks("a <b onclick=x>b</b>\n\n<script>alert(1)</script>\n");
        let all = format!("{:?}", p.blocks);
        assert!(all.contains("<script>"), "{all}");
        assert_eq!(p.notes.len(), 3);
    }

    #[test]
    fn links_without_usable_target_lose_it() {
        let p = parse_blocks("[a](#) [b]() [c](javascript:alert(1)) [d](https://example.org/x)");
        let Block::Paragraph(inl) = &p.blocks[0] else {
            panic!()
        };
        let hrefs: Vec<_> = inl
            .iter()
            .filter_map(|i| match i {
                Inline::Link { href, .. } => Some(href.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            hrefs,
            vec![None, None, None, Some("https://example.org/x".into())]
        );
        assert_eq!(p.notes.len(), 3);
        assert!(matches!(
            &p.notes[0].kind,
            ProblemKind::LinkWithoutTarget { text } if text == "a"
        ));
    }

    #[test]
    fn superscript_and_titles() {
        let p = parse_inline("les 31 mars et 1^er^ avril");
        assert_eq!(p.blocks[1], Inline::Superscript(vec![text("er")]));
        let t = parse_inline("2026. Une année - bilan");
        assert_eq!(t.blocks, vec![text("2026. Une année - bilan")]);
        let t = parse_inline("- tiret");
        assert_eq!(t.blocks, vec![text("- tiret")]);
        let t = parse_inline("*Palantir* a signé");
        assert_eq!(t.blocks[0], Inline::Emphasis(vec![text("Palantir")]));
    }
}
