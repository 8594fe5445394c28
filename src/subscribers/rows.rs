//! The members file, read row by row as it streams: a list of a million
//! members is never held in memory, only the row being read.
//!
//! Each row comes with an excerpt of the file (the row's own line, and the
//! line number it stands on), so that a problem in it is shown with its
//! line and caret like a problem anywhere else. A file is read within
//! bounds, whatever it is (a device or a pipe has no size to look at
//! first): a row is at most [`MAX_ROW`] bytes, the file at most
//! [`MAX_MEMBERS_FILE`].

use std::fs::File;
use std::hash::Hasher;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostics::{Location, Problem, ProblemKind, SourceFile, not_utf8};

/// The longest row read: far above any member's address, name and
/// interests; a file with no line end (`/dev/zero`) stops here.
pub const MAX_ROW: usize = 64 * 1024;

/// The largest members file read: about ten million members.
pub const MAX_MEMBERS_FILE: u64 = 1_000_000_000;

/// What a members file is when it is opened: a change in any of these
/// between two readings means it was saved again meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Identity {
    fn of(file: &File) -> io::Result<Identity> {
        let metadata = file.metadata()?;
        Ok(Identity {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (metadata.dev(), metadata.ino())
            },
        })
    }
}

/// Why the tape stopped reading.
#[derive(Debug, Clone, Copy, thiserror::Error)]
enum Cut {
    #[error("a row longer than {} KB", MAX_ROW / 1024)]
    Row,
    #[error("more than {} MB", MAX_MEMBERS_FILE / 1_000_000)]
    File,
}

/// The reader under the CSV parser: keeps what was read since the start of
/// the current row (so that the row can be shown), counts lines, hashes
/// everything (so that a second reading can tell the file changed), and
/// enforces the bounds.
struct Tape<R> {
    inner: R,
    /// The bounds: [`MAX_ROW`] and [`MAX_MEMBERS_FILE`], but for tests.
    row_limit: usize,
    file_limit: u64,
    /// Bytes read from `kept_from` on.
    kept: Vec<u8>,
    kept_from: u64,
    /// Line ends before `kept_from`.
    lines_before: usize,
    total: u64,
    digest: std::hash::DefaultHasher,
}

impl<R: Read> Read for Tape<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.kept.len() > self.row_limit {
            return Err(io::Error::other(Cut::Row));
        }
        if self.total > self.file_limit {
            return Err(io::Error::other(Cut::File));
        }
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        self.digest.write(&buf[..n]);
        self.total += n as u64;
        Ok(n)
    }
}

impl<R> Tape<R> {
    fn new(inner: R, row_limit: usize, file_limit: u64) -> Tape<R> {
        Tape {
            inner,
            row_limit,
            file_limit,
            kept: Vec::new(),
            kept_from: 0,
            lines_before: 0,
            total: 0,
            digest: std::hash::DefaultHasher::new(),
        }
    }

    /// Forgets what comes before `offset` (stepping over line ends there),
    /// and returns the 1-based line on which `offset` stands and the text
    /// of that line.
    fn row_at(&mut self, offset: u64) -> (usize, &[u8]) {
        let mut skip = usize::try_from(offset.saturating_sub(self.kept_from))
            .unwrap_or(usize::MAX)
            .min(self.kept.len());
        // csv places a record after the `\r` of a CRLF: step over line ends.
        skip += self.kept[skip..]
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        self.lines_before += self.kept[..skip].iter().filter(|b| **b == b'\n').count();
        self.kept.drain(..skip);
        self.kept_from += skip as u64;
        let end = self
            .kept
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(self.kept.len());
        let row = &self.kept[..end];
        let row = row.strip_suffix(b"\r").unwrap_or(row);
        (self.lines_before + 1, row)
    }
}

/// Which column holds what.
#[derive(Debug, Clone, Copy)]
struct Columns {
    email: usize,
    name: Option<usize>,
    interests: Option<usize>,
}

/// One member as a row writes them, with the row's excerpt for locations.
pub(super) struct Row {
    /// The row's line, as an excerpt of the file.
    pub excerpt: Arc<SourceFile>,
    pub email: String,
    pub name: Option<String>,
    pub interests: Vec<String>,
}

impl Row {
    /// Where `value` stands in the row (its start, when it is not found
    /// as written: a quoted field).
    pub fn locate(&self, value: &str) -> Location {
        let text = self.excerpt.text();
        match (!value.is_empty()).then(|| text.find(value)).flatten() {
            Some(i) => self.excerpt.locate(i..i + value.len()),
            None => self.start(),
        }
    }

    /// The start of the row.
    pub fn start(&self) -> Location {
        self.excerpt.locate(0..0)
    }
}

/// The rows of a members file, in order.
pub(super) struct Rows {
    path: PathBuf,
    reader: csv::Reader<Tape<BufReader<File>>>,
    columns: Columns,
    record: csv::ByteRecord,
    identity: Identity,
    done: bool,
}

/// A members file opened: its rows, and the warnings about its header.
pub(super) struct Opened {
    pub rows: Rows,
    pub warnings: Vec<Problem>,
}

fn excerpt(path: &Path, line: usize, row: &[u8]) -> Arc<SourceFile> {
    Arc::new(SourceFile::excerpt(
        path,
        line,
        String::from_utf8_lossy(row).into_owned(),
    ))
}

impl Rows {
    /// Opens `path` and reads its header. A header without an `email`
    /// column is a problem of the input; a file that cannot be opened,
    /// an error of the run.
    pub fn open(path: &Path) -> io::Result<Result<Opened, Problem>> {
        if let Some(refused) = crate::diagnostics::not_a_file(path) {
            return Err(refused);
        }
        let file = File::open(path)?;
        let identity = Identity::of(&file)?;
        let mut buffered = BufReader::new(file);
        // A spreadsheet's byte-order mark is not part of the first column's name.
        if buffered.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
            buffered.consume(3);
        }
        let tape = Tape::new(buffered, MAX_ROW, MAX_MEMBERS_FILE);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(tape);
        let headers = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let offset = e.position().map_or(0, csv::Position::byte);
                return Ok(Err(read_problem(path, &mut reader, &e, offset)));
            }
        };
        let (line, row) = reader.get_mut().row_at(0);
        let header_at = excerpt(path, line, row);
        if std::str::from_utf8(row).is_err() {
            return Ok(Err(not_utf8(path, line, row)));
        }
        let names: Vec<String> = headers
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_owned())
            .collect();
        let column = |name: &str| names.iter().position(|h| h.eq_ignore_ascii_case(name));
        let Some(email) = column("email") else {
            return Ok(Err(Problem::error(ProblemKind::Syntax(
                "the first line must name the columns: email,name,interests".into(),
            ))
            .at(header_at.locate(0..0))));
        };
        let columns = Columns {
            email,
            name: column("name"),
            interests: column("interests"),
        };
        let warnings = names
            .iter()
            .enumerate()
            .filter(|(i, _)| ![Some(email), columns.name, columns.interests].contains(&Some(*i)))
            .map(|(_, header)| {
                Problem::warning(ProblemKind::Other(format!(
                    "the column `{header}` is not used (breves reads email, name and interests)"
                )))
                .at(header_at.locate(0..0))
            })
            .collect();
        Ok(Ok(Opened {
            rows: Rows {
                path: path.to_path_buf(),
                reader,
                columns,
                record: csv::ByteRecord::new(),
                identity,
                done: false,
            },
            warnings,
        }))
    }

    /// What the file was when it was opened.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// A digest of every byte read so far: once the rows are all read,
    /// the same file gives the same digest.
    pub fn digest(&self) -> u64 {
        self.reader.get_ref().digest.finish()
    }

    /// The next row that is not empty; a problem for a row that cannot be
    /// read (after a problem that stops the reading, such as a file that is
    /// not UTF-8, nothing more).
    pub fn next_row(&mut self) -> Option<Result<Row, Problem>> {
        loop {
            if self.done {
                return None;
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {}
                Err(e) => {
                    let offset = e
                        .position()
                        .unwrap_or_else(|| self.reader.position())
                        .byte();
                    let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                    self.done = fatal;
                    return Some(Err(read_problem(&self.path, &mut self.reader, &e, offset)));
                }
            }
            if self.record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue;
            }
            let offset = self.record.position().map_or(0, csv::Position::byte);
            let (line, row) = self.reader.get_mut().row_at(offset);
            let fields: Option<Vec<&str>> = self
                .record
                .iter()
                .map(|f| std::str::from_utf8(f).ok().map(str::trim))
                .collect();
            let (Some(fields), Ok(_)) = (fields, std::str::from_utf8(row)) else {
                self.done = true;
                return Some(Err(not_utf8(&self.path, line, row)));
            };
            let field = |c: Option<usize>| c.and_then(|c| fields.get(c)).copied().unwrap_or("");
            return Some(Ok(Row {
                excerpt: excerpt(&self.path, line, row),
                email: field(Some(self.columns.email)).to_owned(),
                name: Some(field(self.columns.name))
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                interests: field(self.columns.interests)
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }));
        }
    }
}

/// A problem for a record csv could not read: the bounds of the tape, an
/// I/O error, or (defensively: rows may have any number of fields and are
/// read as bytes, so csv reports nothing else a test can cause) csv's own.
fn read_problem(
    path: &Path,
    reader: &mut csv::Reader<Tape<BufReader<File>>>,
    e: &csv::Error,
    offset: u64,
) -> Problem {
    let (line, row) = reader.get_mut().row_at(offset);
    let row = &row[..row.len().min(200)];
    let at = excerpt(path, line, row).locate(0..0);
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => match io.get_ref().and_then(|e| e.downcast_ref::<Cut>()) {
            Some(cut) => format!("this file has {cut}: a members file has one member per row"),
            None => format!("cannot read this file: {io}"),
        },
        _ => e.to_string(),
    };
    Problem::error(ProblemKind::Syntax(message))
        .at(at)
        .hint("is it the right file?")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives one byte at a time.
    struct Trickle<R>(R);

    impl<R: Read> Read for Trickle<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let end = buf.len().min(1);
            self.0.read(&mut buf[..end])
        }
    }

    fn cut(result: io::Result<usize>) -> Option<Cut> {
        result
            .err()
            .and_then(|e| e.get_ref().and_then(|e| e.downcast_ref::<Cut>()).copied())
    }

    #[test]
    fn the_tape_stops_a_row_or_a_file_past_its_bound() {
        let mut byte = [0; 1];
        // A row: read until it is longer than the bound, then no more.
        let mut tape = Tape::new(Trickle(io::repeat(b'x')), 4, u64::MAX);
        for _ in 0..5 {
            assert_eq!(tape.read(&mut byte).expect("within the bound"), 1);
        }
        assert!(matches!(cut(tape.read(&mut byte)), Some(Cut::Row)));
        // A file of short rows: each row forgotten once read, the file
        // still counts.
        let mut tape = Tape::new(Trickle(io::repeat(b'\n')), 4, 6);
        for read in 1..=7 {
            assert_eq!(tape.read(&mut byte).expect("within the bound"), 1);
            let (line, row) = tape.row_at(read);
            assert_eq!((line, row), (read as usize + 1, &b""[..]));
        }
        assert!(matches!(cut(tape.read(&mut byte)), Some(Cut::File)));
    }
}
