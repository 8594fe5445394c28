//! Where bounces are read from: a Maildir (a folder with `cur/` and
//! `new/`), a folder of `.eml` files, or an mbox file, one message at a
//! time: memory follows the largest message, never the mailbox.
//!
//! Bounds, as for every input: a message of more than [`MAX_MESSAGE`]
//! bytes is named as too large and left alone, and a mailbox (an mbox
//! file, or a pipe) of more than [`MAX_MAILBOX`] bytes is refused.

use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The largest message read: bounces and complaints are small, and a
/// report that quotes a whole message with its attachments stays under it.
pub const MAX_MESSAGE: usize = 32 * 1024 * 1024;

/// The largest mbox file (or pipe) read, as for a members file.
pub const MAX_MAILBOX: u64 = 1_000_000_000;

/// One message of a bounce mailbox, and where it is.
#[derive(Debug, Clone)]
pub struct Raw {
    /// Where: a file, or an mbox file and the message's number in it.
    pub place: String,
    /// Its bytes (empty when it was too large to read).
    pub bytes: Vec<u8>,
    /// Set when the message was larger than [`MAX_MESSAGE`].
    pub too_large: bool,
}

fn read_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn files(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_error(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && keep(p))
        .collect();
    files.sort();
    Ok(files)
}

/// One file, whole, within [`MAX_MESSAGE`].
fn whole(path: &Path) -> Result<Raw> {
    let file = std::fs::File::open(path).map_err(read_error(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_MESSAGE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error(path))?;
    let too_large = bytes.len() > MAX_MESSAGE;
    if too_large {
        bytes = Vec::new();
    }
    Ok(Raw {
        place: path.display().to_string(),
        bytes,
        too_large,
    })
}

/// Every message at `path`, in order, read as they are asked for.
pub fn messages(path: &Path) -> Result<Box<dyn Iterator<Item = Result<Raw>>>> {
    if path.join("cur").is_dir() && path.join("new").is_dir() {
        let mut all = files(&path.join("new"), |_| true)?;
        all.extend(files(&path.join("cur"), |_| true)?);
        return Ok(Box::new(all.into_iter().map(|p| whole(&p))));
    }
    if path.is_dir() {
        let emls = files(path, |p| p.extension().is_some_and(|e| e == "eml"))?;
        return Ok(Box::new(emls.into_iter().map(|p| whole(&p))));
    }
    let file = std::fs::File::open(path).map_err(read_error(path))?;
    Ok(Box::new(Mbox::new(
        BufReader::with_capacity(64 * 1024, file),
        path.to_path_buf(),
        MAX_MESSAGE,
        MAX_MAILBOX,
    )))
}

/// The messages of an mbox: each starts at a `From ` line at the start of
/// the file or after a blank line; `>From ` lines inside are given back
/// their `From `.
pub struct Mbox<R> {
    input: R,
    path: PathBuf,
    message_limit: usize,
    file_limit: u64,
    read: u64,
    number: usize,
    /// The message being gathered (none before the first `From ` line).
    current: Option<Vec<u8>>,
    too_large: bool,
    previous_blank: bool,
    line: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Mbox<R> {
    /// Reads `input`, named `path`, within these bounds.
    pub fn new(input: R, path: PathBuf, message_limit: usize, file_limit: u64) -> Self {
        Mbox {
            input,
            path,
            message_limit,
            file_limit,
            read: 0,
            number: 0,
            current: None,
            too_large: false,
            previous_blank: true,
            line: Vec::new(),
            done: false,
        }
    }

    /// The message gathered so far, if any.
    fn finish(&mut self) -> Option<Raw> {
        let bytes = self.current.take()?;
        self.number += 1;
        let too_large = std::mem::take(&mut self.too_large);
        Some(Raw {
            place: format!("{} (message {})", self.path.display(), self.number),
            bytes: if too_large { Vec::new() } else { bytes },
            too_large,
        })
    }

    /// The next line, cut at the message's bound: `Ok(false)` at the end.
    fn next_line(&mut self) -> Result<bool> {
        self.line.clear();
        let limit = self.message_limit as u64 + 1;
        let n = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .map_err(read_error(&self.path))?;
        self.read += n as u64;
        if self.read > self.file_limit {
            return Err(Error::Read {
                path: self.path.clone(),
                source: std::io::Error::other(format!(
                    "a mailbox larger than {} MB: read it in parts",
                    self.file_limit / 1_000_000
                )),
            });
        }
        Ok(n > 0)
    }
}

impl<R: BufRead> Iterator for Mbox<R> {
    type Item = Result<Raw>;

    fn next(&mut self) -> Option<Result<Raw>> {
        if self.done {
            return None;
        }
        loop {
            match self.next_line() {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(false) => {
                    self.done = true;
                    return self.finish().map(Ok);
                }
                Ok(true) => {}
            }
            let starts = self.previous_blank && self.line.starts_with(b"From ");
            let content = self
                .line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .unwrap_or(&self.line);
            self.previous_blank = content.is_empty();
            if starts {
                let done = self.finish();
                self.current = Some(Vec::new());
                self.previous_blank = false;
                if let Some(raw) = done {
                    return Some(Ok(raw));
                }
                continue;
            }
            let Some(message) = self.current.as_mut() else {
                continue;
            };
            if self.too_large {
                continue;
            }
            let quoted_from = self.line.starts_with(b">")
                && self.line[self.line.iter().position(|&b| b != b'>').unwrap_or(0)..]
                    .starts_with(b"From ");
            let line: &[u8] = if quoted_from {
                &self.line[1..]
            } else {
                &self.line
            };
            if message.len() + line.len() > self.message_limit {
                self.too_large = true;
                *message = Vec::new();
                continue;
            }
            message.extend_from_slice(line);
        }
    }
}

/// The messages of an mbox held in memory (tests, fuzzing).
pub fn mbox(bytes: &[u8], name: &str) -> Vec<Raw> {
    Mbox::new(bytes, PathBuf::from(name), MAX_MESSAGE, MAX_MAILBOX)
        .filter_map(|r| r.ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mbox_is_cut_at_its_from_lines_only() {
        let mbox_text = "From MAILER-DAEMON Thu Nov 26 01:00:00 2026\nSubject: one\n\nbody\n>From here on\n\nFrom MAILER-DAEMON Thu Nov 26 02:00:00 2026\nSubject: two\n\n>From inside a paragraph\n";
        let messages = mbox(mbox_text.as_bytes(), "box");
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(
            String::from_utf8_lossy(&messages[0].bytes),
            "Subject: one\n\nbody\nFrom here on\n\n"
        );
        assert_eq!(messages[1].place, "box (message 2)");
        assert!(
            String::from_utf8_lossy(&messages[1].bytes).ends_with("\nFrom inside a paragraph\n")
        );
    }

    #[test]
    fn a_message_or_a_mailbox_past_its_bound_is_cut_in_bounded_memory() {
        // A message larger than its bound is named and left alone; the
        // next is read.
        let text = "From a\nSubject: big\n\n0123456789abcdef\n\nFrom b\nSubject: small\n\nok\n";
        let read: Vec<Raw> = Mbox::new(text.as_bytes(), "box".into(), 24, u64::MAX)
            .collect::<Result<_>>()
            .expect("read");
        assert_eq!(read.len(), 2);
        assert!(read[0].too_large && read[0].bytes.is_empty());
        assert_eq!(read[1].bytes, b"Subject: small\n\nok\n");
        // An endless input without a line end (/dev/zero) stops at the
        // mailbox's bound, holding no more than a message's.
        let endless = BufReader::new(std::io::repeat(0));
        let mut mbox = Mbox::new(endless, "/dev/zero".into(), 1024, 1_000_000);
        match mbox.next() {
            Some(Err(e)) => assert!(
                e.to_string()
                    .ends_with("a mailbox larger than 1 MB: read it in parts"),
                "{e}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(mbox.next().is_none());
    }
}
