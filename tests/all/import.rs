//! `breves import`: a digest drafted in Word comes in as an issue in
//! Markdown. The documents are written by the tests with python-docx, as
//! Word writes them (its styles, its hyperlinks, its lists).

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Command;

use breves::issue::Issue;
use common::{Run, breves, tempdir};

/// Writes a Word document with `tests/support/make_docx.py ARGS`.
fn make_docx(args: &[&Path]) {
    let python = std::env::var("BREVES_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .arg(common::root().join("tests/support/make_docx.py"))
        .args(args)
        .output()
        .expect("python3 with python-docx and markdown-it-py (.ci/test installs them)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn import(args: &[&std::ffi::OsStr]) -> Run {
    let mut all: Vec<&std::ffi::OsStr> = vec!["import".as_ref()];
    all.extend(args);
    breves(all)
}

#[test]
fn the_march_issue_drafted_in_word_comes_in_as_the_same_issue() {
    let dir = tempdir();
    let document = dir.path().join("mars.docx");
    make_docx(&[
        Path::new("issue"),
        &common::root().join(common::ISSUE),
        &document,
    ]);
    let run = import(&[
        document.as_os_str(),
        "--subscribers".as_ref(),
        common::LIST.as_ref(),
    ]);
    assert!(run.ok(), "{run:?}");
    let issue = dir.path().join("mars.md");
    assert_eq!(
        run.stdout,
        format!(
            "Wrote {}: the issue of {}, in Markdown.\nNext: `breves check {}`.\n",
            issue.display(),
            document.display(),
            issue.display()
        ),
        "nothing left out"
    );
    // It passes `check` with the list, with no more warnings than the
    // shipped issue (the links the seed has no address for).
    let checked = |path: &Path| {
        let run = breves([
            "check".as_ref(),
            path.as_os_str(),
            "--subscribers".as_ref(),
            common::LIST.as_ref(),
        ]);
        assert!(run.ok(), "{run:?}");
        run.stderr.matches("\nwarning: ").count() + usize::from(run.stderr.starts_with("warning: "))
    };
    assert_eq!(checked(&issue), checked(Path::new(common::ISSUE)));
    // What it says is what the shipped issue says: the title, the period,
    // the subject, the highlight, every section with its id and every
    // article, word for word and mark for mark, and the colophon's text.
    let (imported, _) = Issue::load(&issue).expect("the imported issue");
    let (shipped, _) = Issue::load(Path::new(common::ISSUE)).expect("the shipped issue");
    assert_eq!(
        (
            &imported.id,
            &imported.title,
            &imported.subtitle,
            &imported.publisher
        ),
        (
            &shipped.id,
            &shipped.title,
            &shipped.subtitle,
            &shipped.publisher
        )
    );
    assert_eq!(
        (imported.period, &imported.subject),
        (shipped.period, &shipped.subject)
    );
    assert_eq!(imported.highlight, shipped.highlight);
    assert_eq!(imported.sections, shipped.sections);
    assert_eq!(
        imported.colophon.map(|c| c.about),
        shipped.colophon.map(|c| c.about)
    );
}

#[test]
fn what_a_word_document_holds_is_kept_or_listed_with_its_place() {
    let dir = tempdir();
    let document = dir.path().join("essai.docx");
    make_docx(&[
        Path::new("features"),
        &document,
        &common::root().join("tests/fixtures/images/images/logo.png"),
    ]);
    let issue = dir.path().join("avril.md");
    let run = import(&[document.as_os_str(), "--out".as_ref(), issue.as_os_str()]);
    assert!(run.ok(), "{run:?}");
    let folder = format!("{}/", dir.path().display());
    insta::assert_snapshot!("features_said", run.stdout.replace(&folder, ""));
    let text = fs::read_to_string(&issue).expect("written");
    insta::assert_snapshot!("features_written", text);
    // What it wrote is an issue `check` reads, with no error.
    let run = breves(["check".as_ref(), issue.as_os_str()]);
    assert!(run.ok(), "{run:?}");
    // Never over a file; only Markdown; a file that is not a document, or
    // a document that does not say its period, is said to be so.
    let again = import(&[document.as_os_str(), "--out".as_ref(), issue.as_os_str()]);
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stderr.replace(&folder, ""),
        "error: avril.md exists already: breves never writes over an issue file; give another --out, or move it away\n"
    );
    let toml = dir.path().join("avril.toml");
    let refused = import(&[document.as_os_str(), "--out".as_ref(), toml.as_os_str()]);
    assert_eq!(
        refused.stderr.replace(&folder, ""),
        "error: breves import writes an issue in Markdown: give --out a .md file (avril.toml is not one), then `breves convert` for TOML\n"
    );
    let text_file = dir.path().join("pas-un-document.docx");
    fs::write(&text_file, "Du texte.").expect("written");
    let refused = import(&[text_file.as_os_str()]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .replace(&folder, "")
            .starts_with("error: pas-un-document.docx is not a Word document (.docx): "),
        "{refused:?}"
    );
    let undated = dir.path().join("sans-date.docx");
    make_docx(&[
        Path::new("undated"),
        &common::root().join("tests/fixtures/small/issue.toml"),
        &undated,
    ]);
    let refused = import(&[undated.as_os_str()]);
    assert_eq!(
        refused.stderr.replace(&folder, ""),
        "error: sans-date.docx does not say its period as \"26 février au 3 avril 2026\" before its first heading: give it with --period 2026-02-26..2026-04-03\n"
    );
    let given = import(&[
        undated.as_os_str(),
        "--period".as_ref(),
        "2026-02-26..2026-04-03".as_ref(),
    ]);
    assert!(given.ok(), "{given:?}");
}
