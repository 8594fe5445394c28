//! What the integration tests share: running the real `breves` binary in
//! the project folder, and reading what it writes back with independent
//! parsers.
#![allow(dead_code)]

pub mod browser;
pub mod dns;
pub mod imap;
#[path = "../../support/postgres.rs"]
pub mod postgres;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shipped issue and list, as the README's main command uses them.
pub const ISSUE: &str = "issues/2026-03-royaume-uni.toml";
pub const LIST: &str = "subscribers/londres.toml";

/// The project's folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file's path.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// What a run of `breves` printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `breves` with `args` in the project folder.
pub fn breves<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    breves_with(args, &[])
}

/// The `breves` command, ready to run in the project folder with a clean
/// environment for what it reads (no ledger, relay or credentials but
/// those a test gives).
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_breves"));
    command.current_dir(root()).env("NO_COLOR", "1");
    for var in [
        "BREVES_LEDGER",
        "BREVES_SMTP_URL",
        "BREVES_SMTP_USER",
        "BREVES_SMTP_PASSWORD",
        "BREVES_SMTP_CA",
        "BREVES_UNSUBSCRIBE_SECRET",
    ] {
        command.env_remove(var);
    }
    command
}

/// Runs `breves` with `args` and these environment variables.
pub fn breves_with<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = command();
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the breves binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs `breves` as [`breves_with`] does, unable to write any file past
/// `kib` KiB (`ulimit -f`), as on a disk that is full: its writes fail with
/// an error (the signal that would kill it is ignored).
pub fn breves_with_file_limit<I, S>(kib: u64, args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_breves"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1");
    for var in [
        "BREVES_LEDGER",
        "BREVES_SMTP_URL",
        "BREVES_SMTP_USER",
        "BREVES_SMTP_PASSWORD",
        "BREVES_SMTP_CA",
        "BREVES_UNSUBSCRIBE_SECRET",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("sh runs breves");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A fresh temporary folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// Dry-runs `issue` to `list` into `dir`, which must succeed.
/// `breves status` of the shipped issue for `list`, with `ledger`.
pub fn status(list: &Path, ledger: &Path) -> Run {
    breves_with(
        [
            "status",
            ISSUE,
            "--subscribers",
            &list.display().to_string(),
            "--ledger",
            &ledger.display().to_string(),
        ],
        &[],
    )
}

pub fn send(issue: impl AsRef<Path>, list: impl AsRef<Path>, dir: &Path) -> Run {
    let run = breves([
        "send".as_ref(),
        issue.as_ref().as_os_str(),
        "--subscribers".as_ref(),
        list.as_ref().as_os_str(),
        "--dry-run".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(run.ok(), "{run:?}");
    run
}

/// The small fixture issue and list, for rendering tests.
pub const SMALL_ISSUE: &str = "tests/fixtures/small/issue.toml";
pub const SMALL_LIST: &str = "tests/fixtures/small/list.toml";

/// Runs the main job (dry run of the shipped issue to the shipped list)
/// into `dir`.
pub fn dry_run(dir: &Path) -> Run {
    send(ISSUE, LIST, dir)
}

/// The `.eml` files of `dir`, at least one: a test that loops over the
/// messages of an outbox must not pass on an empty one.
pub fn some_eml_files(dir: &Path) -> Vec<PathBuf> {
    let files = eml_files(dir);
    assert!(!files.is_empty(), "no .eml file in {}", dir.display());
    files
}

/// The `.eml` files of a folder, sorted by name.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the folder exists")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

/// Parses a message with mail-parser, an implementation independent of
/// the one that wrote it.
pub fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("mail-parser reads the message")
}

/// Text with its white space folded and French no-break spaces made
/// ordinary, for comparing content regardless of wrapping.
pub fn fold(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
