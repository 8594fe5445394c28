//! Problems found in the files an editor writes, with the place they stand.
//!
//! Every problem that comes from input carries a [`Location`]: the file, the
//! byte range, and from them the line and column an editor looks for. Loading
//! never stops at the first semantic problem: it gathers them all into
//! [`Problems`], so that `breves check` can list everything wrong at once.
//!
//! ```
//! use breves::diagnostics::{Problem, ProblemKind, Severity, SourceFile};
//! use std::sync::Arc;
//!
//! let file = Arc::new(SourceFile::new("issue.toml", "[issue]\ntitle = 3\n"));
//! let loc = file.locate(16..17);
//! assert_eq!((loc.line(), loc.column()), (2, 9));
//! let problem = Problem::error(ProblemKind::Syntax("expected a string".into())).at(loc);
//! assert_eq!(problem.severity, Severity::Error);
//! ```

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// The text of one input file, kept so that positions can be shown with the
/// line they stand on; or of an excerpt of it (one row of a members file
/// read as it streams), which knows the line it starts on.
#[derive(Debug, PartialEq, Eq)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// The line of the file on which `text` starts (1 for a whole file).
    first_line: usize,
}

impl SourceFile {
    /// Keeps `text` as the contents of `path`.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
            first_line: 1,
        }
    }

    /// Keeps `text`, which starts on line `first_line` of `path`: positions
    /// in it are reported as positions in the file.
    pub fn excerpt(path: impl Into<PathBuf>, first_line: usize, text: impl Into<String>) -> Self {
        SourceFile {
            first_line: first_line.max(1),
            ..SourceFile::new(path, text)
        }
    }

    /// The line of the file on which this text starts.
    pub fn first_line(&self) -> usize {
        self.first_line
    }

    /// The file's path as it was given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's contents.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// A location for a byte range of this file (clamped to the file).
    pub fn locate(self: &Arc<Self>, span: Range<usize>) -> Location {
        let end = span.end.min(self.text.len());
        let start = span.start.min(end);
        Location {
            file: Arc::clone(self),
            span: start..end,
        }
    }

    /// 1-based line (of the file) and column (in characters) of a byte
    /// offset.
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |prefix| prefix.chars().count() + 1);
        (line + self.first_line - 1, column)
    }

    /// The byte offset of line `line` (1-based), column `column` (1-based, in
    /// characters): the inverse of what [`Location`] reports, for positions
    /// that other parsers give as lines and columns.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let line = line.saturating_sub(self.first_line - 1);
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// A place in an input file.
#[derive(Clone, PartialEq, Eq)]
pub struct Location {
    file: Arc<SourceFile>,
    span: Range<usize>,
}

impl Location {
    /// The file this location is in.
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// 1-based line number.
    pub fn line(&self) -> usize {
        self.file.line_column(self.span.start).0
    }

    /// 1-based column, counted in characters.
    pub fn column(&self) -> usize {
        self.file.line_column(self.span.start).1
    }

    /// The byte range in the file.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The file's text, for showing the line.
    pub fn file(&self) -> &Arc<SourceFile> {
        &self.file
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.file.path.display(),
            self.line(),
            self.column()
        )
    }
}

/// Whether a problem stops a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The digest would be wrong, or cannot be built: `send` refuses to start.
    Error,
    /// Worth a look before sending, but the digest can be built.
    Warning,
}

/// What is wrong, in the editor's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The TOML or CSV could not be parsed or does not have the expected shape.
    #[error("{0}")]
    Syntax(String),
    /// A field is present but its value is not acceptable.
    #[error("{field}: {reason}")]
    InvalidValue {
        /// The field's name.
        field: String,
        /// Why it is not acceptable.
        reason: String,
    },
    /// Two sections share one id.
    #[error("the section id `{0}` is used twice")]
    DuplicateSection(String),
    /// A member chose an interest the list does not offer: left out.
    #[error("unknown interest `{interest}` (the list offers: {offered}); {outcome}")]
    UnknownInterest {
        /// The interest as written.
        interest: Box<str>,
        /// The ids the list offers, comma-separated.
        offered: Box<str>,
        /// What the member receives without it.
        outcome: Box<str>,
    },
    /// An interest written in another case than the list's id.
    #[error("the interest `{written}` is taken as `{id}`")]
    InterestCase {
        /// The interest as written.
        written: String,
        /// The list's id it stands for.
        id: String,
    },
    /// An address whose local part is not ASCII: only a relay that offers
    /// SMTPUTF8 (RFC 6531) can take it.
    #[error(
        "`{address}` has a non-ASCII local part: it can only be delivered through a relay that offers SMTPUTF8, which most do not"
    )]
    NeedsSmtpUtf8 {
        /// The address as written.
        address: String,
    },
    /// An issue section that is not a topic of the list.
    #[error(
        "the section `{0}` is not a topic of the list: only members with no interests will receive it"
    )]
    SectionNotOffered(String),
    /// An address that cannot be mailed.
    #[error("invalid address `{address}`: {reason}")]
    InvalidAddress {
        /// The address as written.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same address twice in one list.
    #[error("`{address}` is already a member (first at {first})")]
    DuplicateMember {
        /// The address as written the second time.
        address: String,
        /// Where it was first seen, as `file:line:column`.
        first: String,
    },
    /// A Markdown link with no usable target: shown as plain text.
    #[error("the link `{text}` has no target: it is shown as plain text")]
    LinkWithoutTarget {
        /// The link's text.
        text: String,
    },
    /// A Markdown link whose scheme is not allowed in a newsletter.
    #[error(
        "the link `{text}` points to `{target}`, which is not allowed: it is shown as plain text"
    )]
    UnsafeLink {
        /// The link's text.
        text: String,
        /// The refused target.
        target: String,
    },
    /// Markdown that breves does not render as such (raw HTML, images).
    #[error("{0}")]
    Unsupported(String),
    /// A digest whose HTML part is large enough for Gmail to clip it.
    #[error(
        "the HTML part of the digest with {sections} is {size} bytes: Gmail clips messages over {limit} bytes and hides the footer"
    )]
    HtmlTooLarge {
        /// Which sections the digest holds.
        sections: String,
        /// Its size in bytes.
        size: usize,
        /// The size past which it is clipped.
        limit: usize,
    },
    /// An image without alternative text: a reader who does not see it
    /// (images off, a screen reader, the text part) would not know it is
    /// there.
    #[error("the image `{src}` has no alternative text")]
    ImageWithoutAlt {
        /// The file, as written.
        src: String,
    },
    /// An image that cannot be sent.
    #[error("the image `{src}` cannot be sent: {reason}")]
    ImageRefused {
        /// The file, as written.
        src: String,
        /// Why.
        reason: String,
    },
    /// A digest whose images weigh more than a message should.
    #[error(
        "the images of the digest with {sections} weigh {size} bytes together, more than {limit}: every subscriber downloads them with the message"
    )]
    ImagesTooLarge {
        /// Which sections the digest holds.
        sections: String,
        /// Their size in bytes.
        size: usize,
        /// The size past which it is too much.
        limit: usize,
    },
    /// The headings of an issue in Markdown that do not make an issue: an
    /// article before any section, a highlight without its article.
    #[error("{0}")]
    Structure(String),
    /// What the DNS publishes for the sending domain falls short
    /// (`check --dns`).
    #[error("{0}")]
    Dns(String),
    /// A placeholder article of a new issue, still to be written.
    #[error("the article `{0}` is a placeholder: write it, or remove it")]
    Placeholder(String),
    /// A list whose members are all skipped, or a similar whole-file problem.
    #[error("{0}")]
    Other(String),
}

/// One problem, where it stands, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where, when it comes from a file.
    pub location: Option<Location>,
    /// A suggestion for the editor.
    pub hint: Option<String>,
}

impl Problem {
    /// An error, which stops a send.
    pub fn error(kind: ProblemKind) -> Self {
        Problem {
            severity: Severity::Error,
            kind,
            location: None,
            hint: None,
        }
    }

    /// A warning, which does not.
    pub fn warning(kind: ProblemKind) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(kind)
        }
    }

    /// The same problem at `location`.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// The same problem with a suggestion.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this problem stops a send.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The problem with the offending line shown and the place marked, for a
    /// terminal (`color`) or a log.
    pub fn render(&self, color: bool) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let message = self.kind.to_string();
        let title = level.primary_title(message.as_str());
        let group = match &self.location {
            Some(location) => {
                let span = location.span();
                // A zero-width span still deserves a caret.
                let span = if span.is_empty() {
                    let text = location.file().text();
                    let end = text[span.start..]
                        .chars()
                        .next()
                        .map_or(span.start, |c| span.start + c.len_utf8());
                    span.start..end
                } else {
                    span
                };
                title.element(
                    Snippet::source(location.file().text())
                        .line_start(location.file().first_line())
                        .path(location.path().display().to_string())
                        .annotation(AnnotationKind::Primary.span(span)),
                )
            }
            None => Group::with_title(title),
        };
        let mut report = vec![group];
        if let Some(hint) = &self.hint {
            report.push(Group::with_title(
                Level::HELP.secondary_title(hint.as_str()),
            ));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&report)
    }

    /// One line for CI logs in GitHub's workflow-command form, which turns it
    /// into an annotation on the file.
    pub fn github_annotation(&self) -> String {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = escape_github(&self.to_string_without_location());
        match &self.location {
            Some(l) => format!(
                "::{level} file={},line={},col={}::{message}",
                l.path().display(),
                l.line(),
                l.column()
            ),
            None => format!("::{level}::{message}"),
        }
    }

    fn to_string_without_location(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{} ({hint})", self.kind),
            None => self.kind.to_string(),
        }
    }
}

fn escape_github(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{level}: {}", self.to_string_without_location())
    }
}

/// Most warnings kept to be shown: past them, warnings are counted only,
/// so that a file of millions of rows that each deserve one (the same
/// member over and over) is read in bounded memory and time.
pub const MAX_WARNINGS_KEPT: usize = 1_000;

/// Every problem found in a set of input files, errors and warnings
/// together; warnings past [`MAX_WARNINGS_KEPT`] counted, not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    kept: Vec<Problem>,
    errors: usize,
    warnings_not_kept: usize,
}

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Problems::default()
    }

    /// Records one more problem.
    pub fn push(&mut self, problem: Problem) {
        if problem.is_error() {
            self.errors += 1;
        } else if self.kept.len() - self.errors >= MAX_WARNINGS_KEPT {
            self.warnings_not_kept += 1;
            return;
        }
        self.kept.push(problem);
    }

    /// Records all of `other`.
    pub fn extend(&mut self, other: Problems) {
        self.warnings_not_kept += other.warnings_not_kept;
        for problem in other.kept {
            self.push(problem);
        }
    }

    /// Whether any of them stops a send.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// How many errors.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    /// How many warnings, kept or not.
    pub fn warning_count(&self) -> usize {
        self.kept.len() - self.errors + self.warnings_not_kept
    }

    /// How many warnings were counted but not kept (past
    /// [`MAX_WARNINGS_KEPT`]).
    pub fn warnings_not_kept(&self) -> usize {
        self.warnings_not_kept
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.warnings_not_kept == 0
    }

    /// The problems in the order of the files and places they stand, errors
    /// of one place before its warnings.
    pub fn sorted(&self) -> Vec<&Problem> {
        let mut all: Vec<&Problem> = self.kept.iter().collect();
        all.sort_by_key(|p| {
            (
                p.location.as_ref().map(|l| l.path().to_path_buf()),
                p.location.as_ref().map(|l| (l.line(), l.column())),
                p.severity,
            )
        });
        all
    }

    /// Iterates in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.kept.iter()
    }

    /// The warnings alone, for a run that goes on despite them.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.kept.iter().filter(|p| !p.is_error())
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors: Vec<&Problem> = self.sorted().into_iter().filter(|p| p.is_error()).collect();
        match errors.as_slice() {
            [] => write!(f, "no errors"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more errors)", rest.len()),
        }
    }
}

impl std::error::Error for Problems {}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.kept.into_iter()
    }
}

/// The largest input file read: far above any issue or list (10,000 CSV
/// members take about 600 KB), far below what would strain memory.
pub const MAX_INPUT: u64 = 16_000_000;

/// Why `path` cannot be read as an input, if it is a pipe or a socket:
/// opening a pipe waits for a writer that may never come, and neither has
/// an end to read to. (A device such as `/dev/zero` is read within the
/// bounds.)
pub fn not_a_file(path: &Path) -> Option<std::io::Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::metadata(path).ok()?.file_type();
        if kind.is_fifo() || kind.is_socket() {
            return Some(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a pipe or a socket, not a file: give the path of a file",
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// Reads an input file whole, keeping its text for positions.
///
/// A file that is not UTF-8 is an input problem (with the place of the
/// first bad byte), not an I/O error: spreadsheets sometimes save Latin-1.
pub fn read_source(path: &Path) -> crate::Result<Result<Arc<SourceFile>, Problem>> {
    let read_error = |source| crate::Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let too_large = |size: Option<u64>| {
        let file = Arc::new(SourceFile::new(path, ""));
        let what = match size {
            Some(size) => format!("this file is {:.1} MB", size as f64 / 1e6),
            None => format!("this file is larger than {} MB", MAX_INPUT / 1_000_000),
        };
        Problem::error(ProblemKind::Syntax(format!(
            "{what}: an issue, a list or a members file is at most {} MB",
            MAX_INPUT / 1_000_000
        )))
        .at(file.locate(0..0))
        .hint("is it the right file?")
    };
    if let Some(refused) = not_a_file(path) {
        return Err(read_error(refused));
    }
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.is_file() && metadata.len() > MAX_INPUT {
        return Ok(Err(too_large(Some(metadata.len()))));
    }
    // A device or a pipe has no size to look at first (`/dev/zero` never
    // ends): whatever it is, no more than the limit is read.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_INPUT + 1), &mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_INPUT {
        return Ok(Err(too_large(None)));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Ok(Arc::new(SourceFile::new(path, text)))),
        Err(e) => Ok(Err(not_utf8(path, 1, e.as_bytes()))),
    }
}

/// The problem of text that is not UTF-8: `bytes`, which start on line
/// `first_line` of `path` (a whole file, or one row of a members file read
/// as it streams), shown with a caret at the first bad byte. Spreadsheets
/// sometimes save Latin-1.
pub fn not_utf8(path: &Path, first_line: usize, bytes: &[u8]) -> Problem {
    // The bytes before the first bad one are UTF-8: their length is the
    // same in the text shown, where the bad byte becomes U+FFFD.
    let at = std::str::from_utf8(bytes)
        .err()
        .map_or(0, |e| e.valid_up_to());
    let text = String::from_utf8_lossy(bytes).into_owned();
    let file = Arc::new(SourceFile::excerpt(path, first_line, text));
    Problem::error(ProblemKind::Syntax("this file is not UTF-8 text".into()))
        .at(file.locate(at..at))
        .hint("save it again as \"UTF-8\" (in a spreadsheet: CSV UTF-8)")
}

/// Reads `path` and checks it with `parse`, gathering every problem: the
/// value comes back only when there is no error. An unreadable file is an
/// error of the run; a file that is not UTF-8 is a problem of the input.
pub fn check_file<T>(
    path: &Path,
    parse: impl FnOnce(&Arc<SourceFile>) -> (Option<T>, Problems),
) -> crate::Result<(Option<T>, Problems)> {
    match read_source(path)? {
        Ok(file) => Ok(parse(&file)),
        Err(problem) => {
            let mut problems = Problems::new();
            problems.push(problem);
            Ok((None, problems))
        }
    }
}

/// [`check_file`] for a caller that stops on errors: the value and its
/// warnings, or every problem as [`crate::Error::Invalid`].
pub fn load_file<T>(
    path: &Path,
    parse: impl FnOnce(&Arc<SourceFile>) -> (Option<T>, Problems),
) -> crate::Result<(T, Problems)> {
    match check_file(path, parse)? {
        (Some(value), problems) => Ok((value, problems)),
        (None, problems) => Err(crate::Error::Invalid(problems)),
    }
}

/// Parses a TOML file into `T`, turning a syntax or shape error into a
/// located problem.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &Arc<SourceFile>) -> Result<T, Problem> {
    parse_toml_text(file, file.text())
}

/// [`parse_toml`] of `text`, a part of `file` as long as it and standing
/// at its place (the rest made blank): the problems at their place in
/// `file`.
pub fn parse_toml_text<T: serde::de::DeserializeOwned>(
    file: &Arc<SourceFile>,
    text: &str,
) -> Result<T, Problem> {
    toml::from_str(text).map_err(|e| {
        let problem = Problem::error(ProblemKind::Syntax(plain_words(e.message().trim())));
        match e.span() {
            Some(span) => problem.at(file.locate(span)),
            None => problem.at(file.locate(0..0)),
        }
    })
}

/// serde's message in the editor's terms: the names of breves' own types
/// (`expected struct RawMeta`) mean nothing to them.
fn plain_words(message: &str) -> String {
    let Some(at) = message.find("struct Raw") else {
        return message.to_owned();
    };
    let rest = &message[at + "struct Raw".len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    format!("{}a table{}", &message[..at], &rest[end..])
}

/// Where a part of a string value stands in the file that holds it.
///
/// `span` is the whole TOML string, quotes included; `value` its decoded text
/// and `range` a part of it. The part is looked for in the file as written,
/// nearest to where it would stand if the string has no escapes; when it
/// cannot be found (escapes changed it), the string's start is given.
pub fn locate_in_string(
    file: &Arc<SourceFile>,
    span: Range<usize>,
    value: &str,
    range: Range<usize>,
) -> Location {
    let part = value.get(range.clone()).unwrap_or_default();
    let raw = file.text().get(span.clone()).unwrap_or_default();
    if part.is_empty() {
        return file.locate(span.start..span.start);
    }
    let expected = range.start + 3;
    let found = raw
        .match_indices(part)
        .map(|(i, _)| i)
        .min_by_key(|&i| i.abs_diff(expected));
    match found {
        Some(i) => file.locate(span.start + i..span.start + i + part.len()),
        None => file.locate(span.start..span.start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_become_plain_words() {
        assert_eq!(
            plain_words("invalid type: integer `3`, expected struct RawMeta"),
            "invalid type: integer `3`, expected a table"
        );
        assert_eq!(
            plain_words("missing field `issue`"),
            "missing field `issue`"
        );
    }

    #[test]
    fn lines_and_columns_count_characters() {
        let file = Arc::new(SourceFile::new("a.toml", "é = 1\nabc = «x»\n"));
        let at = file.locate(13..14);
        assert_eq!(at.to_string(), "a.toml:2:7");
        assert_eq!(file.offset_of(2, 7), 13);
        assert_eq!(file.locate(0..0).line(), 1);
    }

    #[test]
    fn render_marks_the_place() {
        let file = Arc::new(SourceFile::new("a.toml", "x = 1\ny = 2\n"));
        let p = Problem::error(ProblemKind::Other("bad y".into()))
            .at(file.locate(6..7))
            .hint("remove it");
        let shown = p.render(false);
        assert!(shown.contains("a.toml:2:1"), "{shown}");
        assert!(shown.contains("y = 2"), "{shown}");
        assert!(shown.contains('^'), "{shown}");
        assert!(shown.contains("remove it"), "{shown}");
    }

    #[test]
    fn an_excerpt_reports_lines_of_the_whole_file() {
        let file = Arc::new(SourceFile::excerpt("m.csv", 41, "jo@example.org,Jo,«x»"));
        let at = file.locate(18..20);
        assert_eq!(at.to_string(), "m.csv:41:19");
        assert_eq!(file.offset_of(41, 19), 18);
        let shown = Problem::error(ProblemKind::Other("bad".into()))
            .at(at)
            .render(false);
        assert_eq!(
            shown,
            "error: bad\n  --> m.csv:41:19\n   |\n41 | jo@example.org,Jo,«x»\n   |                   ^"
        );
    }
}
