//! The invariants of ARCHITECTURE.md that are about the code's shape,
//! checked on the source itself: the library never prints; data flows one
//! way between the stages; the binary stays thin.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("source");
            out.push((path, text));
        }
    }
    out.sort();
    out
}

/// The code of a file, without its comments and its tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The library's files: everything in src/ but the binary.
fn library() -> Vec<(String, String)> {
    let src = common::root().join("src");
    sources(&src)
        .into_iter()
        .filter_map(|(path, text)| {
            let name = path
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .into_owned();
            (name != "main.rs" && !name.starts_with("cmd/")).then(|| (name, code(&text)))
        })
        .collect()
}

#[test]
fn the_library_never_prints() {
    let printing: Vec<String> = library()
        .into_iter()
        .filter(|(_, code)| {
            [
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
                "dbg!(",
                "std::process::exit",
            ]
            .iter()
            .any(|m| code.contains(m))
        })
        .map(|(name, _)| name)
        .collect();
    assert!(
        printing.is_empty(),
        "these library files print: {printing:?}"
    );
}

/// The stage of each library module, in the order data flows. A module may
/// use modules of its own stage or earlier ones, never later ones.
const STAGES: &[(&str, usize)] = &[
    ("error", 0),
    ("diagnostics", 0),
    ("folder", 0),
    ("http", 0),
    ("address", 1),
    ("reason", 1),
    ("markdown", 1),
    ("image", 1),
    ("issue", 2),
    ("subscribers", 2),
    ("select", 3),
    ("render", 4),
    ("unsubscribe", 5),
    ("message", 6),
    ("deliver", 7),
    ("campaign", 7),
    ("check", 8),
    ("domain", 8),
    ("preview", 8),
    ("archive", 8),
    ("ledger", 8),
    ("dispatch", 9),
    ("plan", 10),
    ("bounce", 9),
    ("summary", 11),
    ("readers", 12),
];

fn stage(module: &str) -> Option<usize> {
    STAGES.iter().find(|(m, _)| *m == module).map(|(_, s)| *s)
}

#[test]
fn data_flows_one_way_between_the_stages() {
    let mut backwards = Vec::new();
    for (name, code) in library() {
        let module = name
            .trim_end_matches(".rs")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if module == "lib" {
            continue;
        }
        // The one error type wraps the errors of every stage.
        if name == "error.rs" {
            continue;
        }
        let own = stage(&module).unwrap_or_else(|| panic!("{name}: add {module} to STAGES"));
        for used in code.split("crate::").skip(1) {
            let used: String = used
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if used.is_empty() || used == "Result" {
                continue;
            }
            if let Some(theirs) = stage(&used)
                && theirs > own
            {
                backwards.push(format!("{name} (stage {own}) uses {used} (stage {theirs})"));
            }
        }
    }
    assert!(backwards.is_empty(), "{backwards:#?}");
}

#[test]
fn the_binary_stays_thin() {
    let cmd = common::root().join("src/cmd");
    let send = fs::read_to_string(cmd.join("send.rs")).expect("send.rs");
    assert!(
        send.lines().count() < 200,
        "src/cmd/send.rs has {} lines",
        send.lines().count()
    );
    let mut long = Vec::new();
    for (path, text) in sources(&cmd) {
        let lines: Vec<&str> = text.lines().collect();
        let mut start = None;
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if start.is_none()
                && indent <= 4
                && (trimmed.starts_with("fn ")
                    || trimmed.starts_with("pub fn ")
                    || trimmed.starts_with("async fn ")
                    || trimmed.starts_with("pub async fn "))
            {
                start = Some((i, indent));
            } else if let Some((from, at)) = start
                && indent == at
                && trimmed == "}"
            {
                if i - from > 65 {
                    long.push(format!(
                        "{}:{}: {} lines",
                        path.display(),
                        from + 1,
                        i - from
                    ));
                }
                start = None;
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions of the binary over 65 lines: {long:#?}"
    );
}
