//! The dry run: one `.eml` file per subscriber, and a manifest.
//!
//! File names come from the address, so they are stable from one run to the
//! next and safe on every file system: `alice.martin_at_example.org.eml`.
//! `manifest.json` lists every file with its recipient, sections, subject
//! and size, in list order, and the members who were skipped. The files hold
//! addresses, so they are readable by their owner only.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::{DeliveryError, Receipt, Transport};
use crate::message::Letter;
use crate::{Error, Result};

/// The name of the manifest beside the `.eml` files.
pub const MANIFEST: &str = "manifest.json";

/// One written message, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The file name inside the folder.
    pub file: String,
    /// The recipient's address.
    pub recipient: String,
    /// The sections it holds.
    pub sections: Vec<String>,
    /// Its subject.
    pub subject: String,
    /// Its size in bytes.
    pub size: usize,
    /// Its Message-ID.
    pub message_id: String,
}

/// A member who received nothing, as the manifest lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Their address.
    pub recipient: String,
    /// Why.
    pub reason: String,
}

/// Everything `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The issue's id.
    pub issue: String,
    /// The list's id.
    pub list: String,
    /// How many distinct digests were rendered.
    pub variants: usize,
    /// The messages, in list order.
    pub messages: Vec<Entry>,
    /// The members who received nothing.
    pub skipped: Vec<Skipped>,
}

/// A folder that receives `.eml` files.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    names: HashSet<String>,
    entries: Vec<Entry>,
}

/// A file-system-safe name for an address: lowercase letters, digits, `.`,
/// `-` and `_`, with `@` written `_at_`.
pub fn file_stem(address: &str) -> String {
    let lower = address.to_lowercase();
    let (local, domain) = lower.rsplit_once('@').unwrap_or((&lower, ""));
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'a'..='z' | '0'..='9' | '.' | '-' => c,
                _ => '_',
            })
            .collect()
    };
    let mut stem = format!("{}_at_{}", clean(local), clean(domain));
    stem.truncate(120);
    stem.trim_start_matches('.').to_owned()
}

/// The suffix of a file being written; renamed to its real name once whole.
const PARTIAL: &str = "part";

/// Writes a file readable by its owner only, whole or not at all: the
/// bytes go to `NAME.part`, which is renamed to `NAME` once written, and
/// removed if the write fails (a full disk leaves no half-written message).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".");
    partial.push(PARTIAL);
    let partial = PathBuf::from(partial);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // A dry run's files are for reading, not a record: no fsync.
    let written = options
        .open(&partial)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&partial, path));
    if written.is_err() {
        let _ = fs::remove_file(&partial);
    }
    written
}

impl Outbox {
    /// Prepares `dir`, creating it if needed. The `.eml` files and manifest
    /// of an earlier run there are removed, so the folder holds exactly this
    /// run's messages; nothing else in it is touched.
    pub fn create(dir: &Path) -> Result<Outbox> {
        let write_err = |source| Error::Write {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(write_err)?;
        for entry in fs::read_dir(dir).map_err(write_err)? {
            let path = entry.map_err(write_err)?.path();
            let is_ours = path.extension().is_some_and(|e| e == "eml" || e == PARTIAL)
                || path.file_name().is_some_and(|n| n == MANIFEST);
            if is_ours && path.is_file() {
                fs::remove_file(&path).map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        Ok(Outbox {
            dir: dir.to_path_buf(),
            state: Mutex::new(State::default()),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the manifest and returns it.
    pub fn finish(
        self,
        issue: &str,
        list: &str,
        variants: usize,
        skipped: Vec<Skipped>,
    ) -> Result<Manifest> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        let manifest = Manifest {
            issue: issue.to_owned(),
            list: list.to_owned(),
            variants,
            messages: state.entries,
            skipped,
        };
        let path = self.dir.join(MANIFEST);
        let mut json = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        json.push('\n');
        write_private(&path, json.as_bytes()).map_err(|source| Error::Write { path, source })?;
        Ok(manifest)
    }

    /// Chooses the file name of a letter: from its address, with a number
    /// added in the rare case two addresses clean to the same name.
    fn name_for(&self, letter: &Letter) -> String {
        let stem = file_stem(letter.recipient.as_ref());
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut name = format!("{stem}.eml");
        let mut n = 2;
        while state.names.contains(&name) {
            name = format!("{stem}-{n}.eml");
            n += 1;
        }
        state.names.insert(name.clone());
        name
    }
}

impl Transport for Outbox {
    type Session = ();

    async fn open(&self) -> Result<(), DeliveryError> {
        Ok(())
    }

    fn usable(&self, _session: &()) -> bool {
        true
    }

    async fn close(&self, _session: ()) {}

    async fn deliver(
        &self,
        _session: &mut (),
        letter: &Letter,
        ready: impl std::future::Future<Output = bool> + Send,
    ) -> Result<Receipt, DeliveryError> {
        if !ready.await {
            return Err(DeliveryError::Withheld);
        }
        let name = self.name_for(letter);
        let path = self.dir.join(&name);
        write_private(&path, &letter.bytes).map_err(|source| DeliveryError::Write {
            path: path.clone(),
            source,
        })?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.entries.push(Entry {
            file: name.clone(),
            recipient: letter.recipient.to_string(),
            sections: letter.sections.clone(),
            subject: letter.subject.clone(),
            size: letter.bytes.len(),
            message_id: letter.message_id.clone(),
        });
        Ok(Receipt { detail: name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe() {
        assert_eq!(
            file_stem("Alice.Martin@Example.org"),
            "alice.martin_at_example.org"
        );
        assert_eq!(file_stem("a+b/../c@example.org"), "a_b_.._c_at_example.org");
        assert_eq!(file_stem("..x@example.org"), "x_at_example.org");
    }
}
