//! Where bounces are read from: a Maildir (a folder with `cur/` and
//! `new/`), a folder of `.eml` files, or an mbox file.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One message of a bounce mailbox, and where it is.
#[derive(Debug, Clone)]
pub struct Raw {
    /// Where: a file, or an mbox file and the message's number in it.
    pub place: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn files(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && keep(p))
        .collect();
    files.sort();
    Ok(files)
}

/// Every message at `path`, in order.
pub fn messages(path: &Path) -> Result<Vec<Raw>> {
    let whole = |path: &Path| -> Result<Raw> {
        Ok(Raw {
            place: path.display().to_string(),
            bytes: read(path)?,
        })
    };
    if path.join("cur").is_dir() && path.join("new").is_dir() {
        let mut all = files(&path.join("new"), |_| true)?;
        all.extend(files(&path.join("cur"), |_| true)?);
        return all.iter().map(|p| whole(p)).collect();
    }
    if path.is_dir() {
        let emls = files(path, |p| p.extension().is_some_and(|e| e == "eml"))?;
        return emls.iter().map(|p| whole(p)).collect();
    }
    Ok(mbox(&read(path)?, &path.display().to_string()))
}

/// The messages of an mbox file: each starts at a `From ` line at the
/// start of the file or after a blank line; `>From ` lines inside are
/// given back their `From `.
pub fn mbox(bytes: &[u8], name: &str) -> Vec<Raw> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut previous_blank = true;
    for line in text.split_inclusive('\n') {
        if previous_blank && line.starts_with("From ") {
            if let Some(message) = current.take() {
                out.push(message);
            }
            current = Some(String::new());
            previous_blank = false;
            continue;
        }
        previous_blank = line.trim_end_matches(['\r', '\n']).is_empty();
        if let Some(message) = current.as_mut() {
            let line = match line.strip_prefix('>') {
                Some(rest) if rest.trim_start_matches('>').starts_with("From ") => rest,
                _ => line,
            };
            message.push_str(line);
        }
    }
    if let Some(message) = current.take() {
        out.push(message);
    }
    out.into_iter()
        .enumerate()
        .map(|(n, m)| Raw {
            place: format!("{name} (message {})", n + 1),
            bytes: m.into_bytes(),
        })
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
}
