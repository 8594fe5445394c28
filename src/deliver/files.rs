//! The dry run: one `.eml` file per subscriber, and a manifest.
//!
//! File names come from the address, so they are stable from one run to the
//! next and safe on every file system: `alice.martin_at_example.org.eml`.
//! `manifest.json` lists every file with its recipient, sections, subject
//! and size, in list order, and the members who were skipped. It is written
//! as the files are (to `manifest.json.part`, renamed once complete), so
//! that a run's memory does not grow with the list. The files hold
//! addresses, so they are readable by their owner only.

use std::collections::HashSet;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{BufWriter, Write};
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
    /// Its envelope sender (`MAIL FROM`), where it would bounce to.
    pub sender: String,
}

/// A member who received nothing, as the manifest lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Their address.
    pub recipient: String,
    /// Why.
    pub reason: String,
}

/// A member of the list left out for what is wrong in their row
/// (`--skip-invalid`), as the manifest lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// Where their row is: `file:line:column`.
    pub place: String,
    /// What is wrong with it.
    pub reason: String,
}

impl LeftOut {
    /// The members `problems` (a list's [`crate::subscribers::List::left_out`])
    /// leave out.
    pub fn of(problems: &crate::diagnostics::Problems) -> Vec<LeftOut> {
        problems
            .sorted()
            .into_iter()
            .filter(|p| p.severity == crate::diagnostics::Severity::Error)
            .map(|p| LeftOut {
                place: p
                    .location
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                reason: p.kind.to_string(),
            })
            .collect()
    }
}

/// What a finished dry run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The manifest.
    pub manifest: PathBuf,
    /// The `.eml` files, in list order.
    pub messages: usize,
}

/// A folder that receives `.eml` files.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The hashes of the file names taken, so that two addresses that
    /// clean to one name get two files (a collision of hashes only adds a
    /// number to a name: still unique, still the same from run to run).
    names: HashSet<u64>,
    /// The manifest being written (taken by `finish`).
    manifest: Option<BufWriter<fs::File>>,
    messages: usize,
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

/// Creates a file readable by its owner only, anew: a link planted at its
/// name is replaced, never followed ([`crate::folder::create_fresh`]).
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    crate::folder::create_fresh(path, true)
}

/// `value` as pretty JSON, each line after the first indented by `indent`.
fn indented<T: Serialize>(value: &T, indent: &str) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_default()
        .replace('\n', &format!("\n{indent}"))
}

/// Writes a file readable by its owner only, whole or not at all: the
/// bytes go to `NAME.part`, which is renamed to `NAME` once written, and
/// removed if the write fails (a full disk leaves no half-written message).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".");
    partial.push(PARTIAL);
    let partial = PathBuf::from(partial);
    // A dry run's files are for reading, not a record: no fsync.
    let written = create_private(&partial)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&partial, path));
    if written.is_err() {
        let _ = fs::remove_file(&partial);
    }
    written
}

impl Outbox {
    /// Prepares `dir` for the messages of `issue` to `list`, creating it
    /// if needed. The `.eml` files and manifest of an earlier run there are
    /// removed, so the folder holds exactly this run's messages; nothing
    /// else in it is touched.
    pub fn create(dir: &Path, issue: &str, list: &str) -> Result<Outbox> {
        let write_err = |source| Error::Write {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(write_err)?;
        for entry in fs::read_dir(dir).map_err(write_err)? {
            let path = entry.map_err(write_err)?.path();
            let is_ours = path.extension().is_some_and(|e| e == "eml" || e == PARTIAL)
                || path.file_name().is_some_and(|n| n == MANIFEST);
            // A link is removed, not followed.
            let is_file_or_link = fs::symlink_metadata(&path)
                .is_ok_and(|m| m.is_file() || m.file_type().is_symlink());
            if is_ours && is_file_or_link {
                fs::remove_file(&path).map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        let path = dir.join(format!("{MANIFEST}.{PARTIAL}"));
        let mut manifest = create_private(&path)
            .map(BufWriter::new)
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        write!(
            manifest,
            "{{\n  \"issue\": {},\n  \"list\": {},\n  \"messages\": [",
            indented(&issue, ""),
            indented(&list, "")
        )
        .map_err(|source| Error::Write { path, source })?;
        Ok(Outbox {
            dir: dir.to_path_buf(),
            state: Mutex::new(State {
                names: HashSet::new(),
                manifest: Some(manifest),
                messages: 0,
            }),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Ends the manifest with the number of variants, the members who
    /// received nothing and those left out for their row, and puts it in
    /// place.
    pub fn finish(
        self,
        variants: usize,
        skipped: &[Skipped],
        left_out: &[LeftOut],
    ) -> Result<Written> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.dir.join(MANIFEST);
        let partial = self.dir.join(format!("{MANIFEST}.{PARTIAL}"));
        let Some(mut manifest) = state.manifest.take() else {
            return Err(Error::Write {
                path,
                source: std::io::Error::other("the manifest was already finished"),
            });
        };
        let close = if state.messages == 0 { "]" } else { "\n  ]" };
        write!(
            manifest,
            "{close},\n  \"variants\": {variants},\n  \"skipped\": {},\n  \"left_out\": {}\n}}\n",
            indented(&skipped, "  "),
            indented(&left_out, "  ")
        )
        .and_then(|()| manifest.into_inner().map_err(|e| e.into_error()))
        .and_then(|file| {
            drop(file);
            fs::rename(&partial, &path)
        })
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Written {
            manifest: path,
            messages: state.messages,
        })
    }

    /// Chooses the file name of a letter: from its address, with a number
    /// added in the rare case two addresses clean to the same name.
    fn name_for(&self, letter: &Letter) -> String {
        let stem = file_stem(letter.recipient.as_ref());
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let hash = |name: &str| {
            let mut hasher = std::hash::DefaultHasher::new();
            name.hash(&mut hasher);
            hasher.finish()
        };
        let mut name = format!("{stem}.eml");
        let mut n = 2;
        while !state.names.insert(hash(&name)) {
            name = format!("{stem}-{n}.eml");
            n += 1;
        }
        name
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // A run that stopped before `finish` leaves no partial manifest.
        let _ = fs::remove_file(self.dir.join(format!("{MANIFEST}.{PARTIAL}")));
    }
}

impl Transport for Outbox {
    type Session = ();

    async fn open(&self) -> Result<(), DeliveryError> {
        Ok(())
    }

    fn usable(&self, _session: &()) -> bool {
        // (Mutation testing: `false` only makes each letter open a new,
        // empty session: nothing observable changes.)
        true
    }

    async fn close(&self, _session: ()) {}

    async fn deliver(
        &self,
        _session: &mut (),
        letter: &Letter,
        ready: impl std::future::Future<Output = bool> + Send + 'static,
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
        let entry = Entry {
            file: name.clone(),
            recipient: letter.recipient.to_string(),
            sections: letter.sections.clone(),
            subject: letter.subject.clone(),
            size: letter.bytes.len(),
            message_id: letter.message_id.clone(),
            sender: letter.sender.to_string(),
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let comma = if state.messages == 0 { "" } else { "," };
        state.messages += 1;
        let written = match state.manifest.as_mut() {
            Some(manifest) => write!(manifest, "{comma}\n    {}", indented(&entry, "    ")),
            None => Err(std::io::Error::other("the manifest was already finished")),
        };
        written.map_err(|source| DeliveryError::Write {
            path: self.dir.join(MANIFEST),
            source,
        })?;
        Ok(Receipt { detail: name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_is_whole_json_even_with_no_message_and_partial_until_finished() {
        let dir = tempfile::tempdir().expect("temp");
        let outbox = Outbox::create(dir.path(), "n°1", "l").expect("outbox");
        assert!(
            !dir.path().join(MANIFEST).exists(),
            "only a partial one yet"
        );
        let skipped = [Skipped {
            recipient: "a@example.org".into(),
            reason: "rien".into(),
        }];
        let left_out = [LeftOut {
            place: "l.csv:3:1".into(),
            reason: "invalid address `x`".into(),
        }];
        let written = outbox.finish(0, &skipped, &left_out).expect("finished");
        assert_eq!(written.messages, 0);
        let text = fs::read_to_string(&written.manifest).expect("manifest");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(json["issue"], "n°1");
        assert_eq!(json["messages"], serde_json::json!([]));
        assert_eq!(json["skipped"][0]["reason"], "rien");
        assert_eq!(json["left_out"][0]["place"], "l.csv:3:1");
        assert!(text.contains("\"messages\": [],\n"), "{text}");
        let left: Vec<_> = fs::read_dir(dir.path()).expect("dir").collect();
        assert_eq!(left.len(), 1, "no partial manifest left: {left:?}");
    }

    #[tokio::test]
    async fn two_addresses_that_clean_to_one_name_get_two_files() {
        let dir = tempfile::tempdir().expect("temp");
        let outbox = Outbox::create(dir.path(), "i", "l").expect("outbox");
        let letter = |address: &str| Letter {
            recipient: address.parse().expect("address"),
            sender: "l@example.fr".parse().expect("address"),
            message_id: format!("<{address}>"),
            subject: "s".into(),
            sections: Vec::new(),
            bytes: address.as_bytes().to_vec(),
        };
        let mut names = Vec::new();
        for address in ["a+b@example.org", "a_b@example.org", "A+B@example.org"] {
            let receipt = outbox
                .deliver(&mut (), &letter(address), async { true })
                .await
                .expect("written");
            names.push(receipt.detail);
        }
        assert_eq!(
            names,
            [
                "a_b_at_example.org.eml",
                "a_b_at_example.org-2.eml",
                "a_b_at_example.org-3.eml"
            ]
        );
        let held = outbox
            .deliver(&mut (), &letter("c@example.org"), async { false })
            .await;
        assert!(matches!(held, Err(DeliveryError::Withheld)), "{held:?}");
        assert!(!dir.path().join("c_at_example.org.eml").exists());
        let written = outbox.finish(1, &[], &[]).expect("finished");
        assert_eq!(written.messages, 3);
        let text = fs::read_to_string(&written.manifest).expect("manifest");
        assert!(
            text.contains("\n    }\n  ],\n  \"variants\": 1,\n"),
            "one entry a block, the list closed on a line of its own: {text}"
        );
    }

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
