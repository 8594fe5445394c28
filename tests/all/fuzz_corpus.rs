//! The inputs the fuzzers found worth keeping (tests/fixtures/fuzz, the
//! minimized corpora of `cargo fuzz run issue` and `list`), replayed on
//! every test run: loading never panics, and every problem it reports is
//! placed in the file.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use breves::diagnostics::{Problems, SourceFile};
use breves::issue::Issue;
use breves::render::Renderer;
use breves::render::text::line_fits;
use breves::select::Selection;
use breves::subscribers::List;

fn corpus(target: &str) -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut files: Vec<(PathBuf, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let text = String::from_utf8_lossy(&fs::read(&p).expect("readable")).into_owned();
            (p, text)
        })
        .collect();
    files.sort();
    files
}

fn all_placed(problems: &Problems, path: &std::path::Path) {
    for p in problems.iter() {
        assert!(
            p.location.is_some(),
            "{}: a problem without a place: {p}",
            path.display()
        );
        let _ = p.render(false);
    }
}

#[test]
fn kept_issue_inputs_load_or_fail_cleanly() {
    let files = corpus("issue");
    assert!(files.len() >= 20, "{} files", files.len());
    let mut loaded = 0;
    for (path, text) in &files {
        let file = Arc::new(SourceFile::new("fuzz/issue.toml", text.clone()));
        let (issue, problems) = Issue::parse(&file);
        all_placed(&problems, path);
        if let Some(issue) = issue {
            loaded += 1;
            // It renders, and only a long link passes the width.
            let all = Selection::for_interests(&issue, &[]);
            let digest = Renderer::new().render(&issue, None, &all).expect("renders");
            for line in digest.text.lines() {
                assert!(line_fits(line), "{}: «{line}»", path.display());
            }
        } else {
            assert!(
                problems.has_errors(),
                "{}: refused without an error",
                path.display()
            );
        }
    }
    assert!(loaded > 0, "some kept inputs are valid issues");
}

#[test]
fn kept_list_inputs_load_or_fail_cleanly() {
    let files = corpus("list");
    assert!(files.len() >= 20, "{} files", files.len());
    for (path, text) in &files {
        let file = Arc::new(SourceFile::new(
            "/nonexistent-breves-fuzz/list.toml",
            text.clone(),
        ));
        let (list, problems) = List::parse(&file);
        if list.is_none() {
            assert!(
                problems.has_errors(),
                "{}: refused without an error",
                path.display()
            );
        }
        for p in problems.iter() {
            let _ = p.render(false);
        }
    }
}
