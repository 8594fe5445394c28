//! `breves check`: every problem of an issue and a list at once, each with
//! its file, line and column; and `send` refusing to start while errors
//! remain.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::{Run, breves, tempdir};

const ISSUE: &str = r#"[issue]
title = "Brèves"
period = { from = 2026-02-26, to = 2026-04-03 }
language = "fr"
subject = "Brèves de mars"

[highlight]
title = "Le fait du mois"
body = "Un paragraphe."

[[section]]
id = "spatial"
title = "Spatial"

[[section.article]]
title = "Un article"
body = "Son texte."
"#;

const LIST: &str = r#"[list]
id = "essai"
from = "Essai <breves@example.fr>"
topics = { spatial = "Spatial", cyber = "Cybersécurité" }

[[member]]
email = "alice@example.org"
interests = ["spatial"]
"#;

/// A folder with an issue, a list and maybe a CSV file of members.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(issue: &str, list: &str) -> Self {
        let dir = tempdir();
        fs::write(dir.path().join("issue.toml"), issue).expect("write");
        fs::write(dir.path().join("list.toml"), list).expect("write");
        Files { dir }
    }

    fn with(self, name: &str, bytes: impl AsRef<[u8]>) -> Self {
        fs::write(self.dir.path().join(name), bytes).expect("write");
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn check(&self) -> Run {
        breves([
            "check".as_ref(),
            self.path("issue.toml").as_os_str(),
            "--subscribers".as_ref(),
            self.path("list.toml").as_os_str(),
        ])
    }

    /// The problems `check` printed, with the folder's path taken out.
    fn problems(&self) -> (Run, String) {
        let run = self.check();
        let prefix = format!("{}/", self.dir.path().display());
        let shown = run.stderr.replace(&prefix, "");
        (run, shown)
    }
}

fn with_member(extra: &str) -> String {
    format!("{LIST}{extra}")
}

#[test]
fn valid_files_pass() {
    let files = Files::new(ISSUE, LIST);
    let (run, shown) = files.problems();
    assert!(run.ok(), "{run:?}");
    assert!(shown.contains("0 error(s), 0 warning(s)"), "{shown}");
}

#[test]
fn shipped_issue_and_list_pass_with_warnings_for_missing_links() {
    let run = breves(["check", common::ISSUE, "--subscribers", common::LIST]);
    assert!(run.ok(), "{run:?}");
    assert!(run.stderr.contains("0 error(s)"), "{run:?}");
    assert!(
        run.stderr
            .contains("issues/2026-03-royaume-uni.toml:60:50\n"),
        "the first link without a target, at its line and column: {run:?}"
    );
    assert_eq!(
        run.stderr.matches("has no target").count(),
        43,
        "every link of the seed lacks its target"
    );
}

#[test]
fn malformed_toml_is_located() {
    let issue = ISSUE.replace("subject = \"Brèves de mars\"", "subject = \"Brèves de mars");
    let files = Files::new(&issue, LIST);
    let (run, shown) = files.problems();
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(shown);
}

#[test]
fn missing_and_unknown_fields_are_named() {
    let issue = ISSUE
        .replace("subject = \"Brèves de mars\"\n", "")
        .replace("title = \"Spatial\"", "titel = \"Spatial\"");
    let (run, shown) = Files::new(&issue, LIST).problems();
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("missing_field", shown);

    let issue = ISSUE.replace("title = \"Spatial\"", "titel = \"Spatial\"");
    let (run, shown) = Files::new(&issue, LIST).problems();
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("unknown_field", shown);
}

#[test]
fn every_problem_of_both_files_at_once() {
    let issue = format!(
        "{ISSUE}\n[[section]]\nid = \"spatial\"\ntitle = \"Encore\"\n[[section.article]]\ntitle = \"[lien](#)\"\nbody = \"x\"\n"
    );
    let list = with_member(
        "\n[[member]]\nemail = \"pas-une-adresse\"\n\n[[member]]\nemail = \"ALICE@example.ORG\"\n\n[[member]]\nemail = \"bob@example.org\"\ninterests = [\"spatial\", \"espace\"]\n",
    );
    let (run, shown) = Files::new(&issue, &list).problems();
    assert_eq!(run.code, 1, "{run:?}");
    // Errors first, in file order, then the warnings, set apart.
    insta::assert_snapshot!(shown);
}

#[test]
fn csv_members_are_checked_at_their_line() {
    let list = with_member("").replace("topics =", "members = \"membres.csv\"\ntopics =");
    let csv = "\u{feff}email,name,interests\r\n\
               bob@example.org,\"Martin, Bob\",spatial\r\n\
               pas une adresse,X,\r\n\
               carol@example.org,Carol,spatial;espace\r\n\
               Alice@Example.org,Alice,\r\n";
    let files = Files::new(ISSUE, &list).with("membres.csv", csv);
    let (run, shown) = files.problems();
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(shown);
}

#[test]
fn skip_invalid_sends_to_every_member_written_right_and_lists_the_others() {
    let list = with_member(
        "\n[[member]]\nemail = \"mauvaise adresse\"\n\n[[member]]\nemail = \"dora@example.org\"\n",
    )
    .replace("topics =", "members = \"membres.csv\"\ntopics =");
    let csv = "email,name,interests\r\n\
               bob@example.org,Bob,spatial\r\n\
               pas une adresse,X,\r\n\
               carol@example.org,Carol,spatial\r\n\
               Alice@Example.org,Alice,cyber\r\n\
               eve@example.org,Eve,spatial\r\n";
    let files = Files::new(ISSUE, &list).with("membres.csv", csv);
    let prefix = format!("{}/", files.dir.path().display());
    let send = |extra: &[&str], out: &std::path::Path| {
        let mut args = vec![
            "send".to_owned(),
            files.path("issue.toml").display().to_string(),
            "--subscribers".to_owned(),
            files.path("list.toml").display().to_string(),
            "--dry-run".to_owned(),
            out.display().to_string(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        breves(args)
    };
    // Without the flag, one member written wrong stops the send.
    let out = tempdir();
    let run = send(&[], out.path());
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("nothing was written"), "{run:?}");
    assert!(common::eml_files(out.path()).is_empty());
    // With it, every other member is sent to, and those left out are
    // listed with their place before anything is written.
    let out = tempdir();
    let run = send(&["--skip-invalid"], out.path());
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!(run.stderr.replace(&prefix, ""));
    let mut sent: Vec<String> = common::eml_files(out.path())
        .iter()
        .map(|f| {
            f.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            "alice_at_example.org.eml",
            "bob_at_example.org.eml",
            "carol_at_example.org.eml",
            "dora_at_example.org.eml",
            "eve_at_example.org.eml",
        ],
        "every member written right, Alice as first written"
    );
    let alice = fs::read_to_string(out.path().join("alice_at_example.org.eml")).expect("alice");
    assert!(alice.contains("To: alice@example.org"), "{alice}");
    // Those left out are in the manifest, with their place, and on the
    // page a reviewer reads (their place, no address in full).
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.path().join("manifest.json")).expect("manifest"),
    )
    .expect("JSON");
    let places: Vec<String> = manifest["left_out"]
        .as_array()
        .expect("left_out")
        .iter()
        .map(|l| l["place"].as_str().unwrap_or_default().replace(&prefix, ""))
        .collect();
    assert_eq!(places.len(), 3, "{manifest}");
    assert!(places.iter().any(|p| p == "membres.csv:3:1"), "{places:?}");
    let summary = files.path("summary.md");
    let out = tempdir();
    let run = send(
        &[
            "--skip-invalid",
            "--summary",
            summary.to_str().expect("utf-8"),
        ],
        out.path(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let page = fs::read_to_string(&summary)
        .expect("summary")
        .replace(&prefix, "");
    assert!(
        page.contains("; 3 member(s) left out for their row;"),
        "{page}"
    );
    assert!(
        page.contains(
            "#### Members left out for what is wrong in their row (`--skip-invalid`): 3\n"
        ),
        "{page}"
    );
    assert!(page.contains("- `membres.csv:3:1`: "), "{page}");
    assert!(
        !page.contains("pas une adresse") && !page.contains("alice@"),
        "{page}"
    );
}

#[test]
fn a_spreadsheet_csv_loads_as_is() {
    let list = LIST.replace("topics =", "members = \"membres.csv\"\ntopics =");
    let csv = "\u{feff}email,name,interests\r\n\
               bob@example.org,\"Martin, Bob\",spatial\r\n\
               \r\n\
               carol@example.org,\"Carol \"\"Caro\"\" Dupré\",\"cyber; spatial\"\r\n";
    let files = Files::new(ISSUE, &list).with("membres.csv", csv);
    let run = files.check();
    assert!(run.ok(), "{run:?}");
    let out = tempdir();
    common::send(
        files.path("issue.toml"),
        files.path("list.toml"),
        out.path(),
    );
    let carol = fs::read(out.path().join("carol_at_example.org.eml")).expect("carol's digest");
    let message = common::parse(&carol);
    let to = message.to().and_then(|t| t.first()).expect("To");
    assert_eq!(to.name(), Some("Carol \"Caro\" Dupré"));
    let bob = fs::read(out.path().join("bob_at_example.org.eml")).expect("bob's digest");
    let message = common::parse(&bob);
    assert_eq!(
        message.to().and_then(|t| t.first()).and_then(|a| a.name()),
        Some("Martin, Bob")
    );
}

#[test]
fn a_missing_or_latin1_csv_is_an_error_not_a_panic() {
    let list = LIST.replace("topics =", "members = \"absent.csv\"\ntopics =");
    let (run, shown) = Files::new(ISSUE, &list).problems();
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!("missing_csv", shown);

    let list = LIST.replace("topics =", "members = \"latin1.csv\"\ntopics =");
    let latin1: &[u8] = b"email,name,interests\nbob@example.org,Ren\xe9,spatial\n";
    let (run, shown) = Files::new(ISSUE, &list)
        .with("latin1.csv", latin1)
        .problems();
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!("latin1_csv", shown);
}

#[test]
fn garbage_files_get_a_clear_error() {
    let mut all = String::new();
    for garbage in [
        &b""[..],
        b"\0\0\0\xff\xfe",
        b"[issue",
        b"[[[[[[[[[[[[",
        b"issue = 3\n",
    ] {
        let files = Files::new("", LIST).with("issue.toml", garbage);
        let (run, shown) = files.problems();
        assert_eq!(run.code, 1, "{garbage:?}: {run:?}");
        all.push_str(&format!(
            "==== {}\n{shown}\n",
            String::from_utf8_lossy(garbage).escape_debug()
        ));
    }
    insta::assert_snapshot!(all);
    let run = breves(["check", "issues/absent.toml"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: cannot read issues/absent.toml: No such file or directory (os error 2)\n"
    );
}

#[test]
fn send_refuses_while_errors_remain() {
    let list = with_member("\n[[member]]\nemail = \"alice@example.org\"\n");
    let files = Files::new(ISSUE, &list);
    let out = files.path("outbox");
    let run = breves([
        "send".as_ref(),
        files.path("issue.toml").as_os_str(),
        "--subscribers".as_ref(),
        files.path("list.toml").as_os_str(),
        "--dry-run".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let prefix = format!("{}/", files.dir.path().display());
    insta::assert_snapshot!(run.stderr.replace(&prefix, ""));
    assert!(!out.exists(), "no message may be written");
}

#[test]
fn an_html_part_gmail_would_clip_is_a_warning() {
    let long = "Un paragraphe assez long pour remplir la lettre. ".repeat(40);
    let mut issue = ISSUE.to_owned();
    for n in 0..60 {
        issue.push_str(&format!(
            "\n[[section.article]]\ntitle = \"Article {n}\"\nbody = \"{long}\"\n"
        ));
    }
    let (run, shown) = Files::new(&issue, LIST).problems();
    assert!(run.ok(), "a warning, not an error: {run:?}");
    assert!(shown.contains("Gmail clips messages over"), "{shown}");
    assert!(shown.contains("sections spatial"), "{shown}");
    let files = Files::new(&issue, LIST);
    let run = breves(["check".as_ref(), files.path("issue.toml").as_os_str()]);
    assert!(
        run.stderr.contains("Gmail clips"),
        "without a list too: {run:?}"
    );
}

#[test]
fn github_format_gives_annotations() {
    let list = with_member("\n[[member]]\nemail = \"x\"\n");
    let files = Files::new(ISSUE, &list);
    let run = breves([
        "check".as_ref(),
        files.path("issue.toml").as_os_str(),
        "--subscribers".as_ref(),
        files.path("list.toml").as_os_str(),
        "--format".as_ref(),
        "github".as_ref(),
    ]);
    assert_eq!(run.code, 1);
    let prefix = format!("{}/", files.dir.path().display());
    insta::assert_snapshot!(run.stdout.replace(&prefix, ""));
}

#[test]
fn paths_in_messages_are_the_ones_given() {
    // Relative paths stay relative, as the editor typed them.
    let run = breves(["check", common::ISSUE]);
    assert!(
        run.stderr.contains("issues/2026-03-royaume-uni.toml:"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains(&*common::root().to_string_lossy()),
        "{run:?}"
    );
}

#[test]
fn errors_come_before_warnings() {
    // The link warning is on line 23, the duplicate-section error on 20 and
    // the address error in the list: errors are listed first all the same.
    let issue = format!(
        "{ISSUE}\n[[section]]\nid = \"spatial\"\ntitle = \"Encore\"\n[[section.article]]\ntitle = \"[lien](#)\"\nbody = \"x\"\n"
    );
    let list = with_member("\n[[member]]\nemail = \"pas-une-adresse\"\n");
    let (_, shown) = Files::new(&issue, &list).problems();
    insta::assert_snapshot!(shown);
}

#[test]
fn topics_must_be_a_table() {
    let list = LIST.replace(
        "topics = { spatial = \"Spatial\", cyber = \"Cybersécurité\" }",
        "topics = \"Spatial\"",
    );
    let (run, shown) = Files::new(ISSUE, &list).problems();
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(shown);
}

#[test]
fn a_sender_needs_a_domain_and_errors_come_without_the_empty_list_warning() {
    // No member, and a sender whose domain has no dot: the error alone is
    // shown; "the list has no member" only comes once the list is valid.
    let list = LIST
        .replace("breves@example.fr", "breves@localhost")
        .replace(
            "[[member]]\nemail = \"alice@example.org\"\ninterests = [\"spatial\"]\n",
            "",
        );
    let (run, shown) = Files::new(ISSUE, &list).problems();
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(shown);
}

#[test]
fn csv_headers_and_rows_are_located_after_a_byte_order_mark() {
    let list = with_member("").replace("topics =", "members = \"membres.csv\"\ntopics =");
    let csv = "\u{feff}email,name,interests,telephone\r\n\
               bob@example.org,Bob,spatial,0102\r\n\
               ,Sans adresse,spatial,0304\r\n";
    let files = Files::new(ISSUE, &list).with("membres.csv", csv);
    let (run, shown) = files.problems();
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(shown);
}
