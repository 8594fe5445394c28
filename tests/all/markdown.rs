//! Issues written in Markdown: the same issue as its TOML form, byte for
//! byte; the same problems, each at its own place; a heading structure
//! that cannot be read, refused at its place; `convert` there and back.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Run, breves, tempdir};

const LIST: &str = r#"[list]
id = "essai"
from = "Essai <breves@example.fr>"
topics = { spatial = "Spatial", cyber = "Cybersécurité" }

[[member]]
email = "alice@example.org"
interests = ["spatial"]
"#;

/// `check` of the issue `text`, saved as `name` beside the list: what it
/// printed, the folder's path taken out.
fn check(name: &str, text: &str) -> (Run, String) {
    let dir = tempdir();
    fs::write(dir.path().join(name), text).expect("write");
    fs::write(dir.path().join("list.toml"), LIST).expect("write");
    let run = breves([
        "check".as_ref(),
        dir.path().join(name).as_os_str(),
        "--subscribers".as_ref(),
        dir.path().join("list.toml").as_os_str(),
    ]);
    let shown = run
        .stderr
        .replace(&format!("{}/", dir.path().display()), "");
    (run, shown)
}

/// The first line of each problem (what, not where nor how to fix it),
/// sorted: the two forms write the parts of an issue in another order
/// (a section's id before its title in TOML, after it in Markdown).
fn what(shown: &str) -> Vec<&str> {
    let mut found: Vec<&str> = shown
        .lines()
        .filter(|l| l.starts_with("error: ") || l.starts_with("warning: "))
        .collect();
    found.sort();
    found
}

/// Every file of `dir`, by name, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(dir)
        .expect("the folder")
        .map(|e| {
            let path = e.expect("entry").path();
            let bytes = fs::read(&path).expect("read");
            (PathBuf::from(path.file_name().expect("name")), bytes)
        })
        .collect();
    all.sort();
    all
}

#[test]
fn the_march_issue_in_markdown_and_in_toml_gives_the_same_messages_byte_for_byte() {
    let out = tempdir();
    for form in ["toml", "md"] {
        let run = breves([
            "send".as_ref(),
            format!("issues/2026-03-royaume-uni.{form}").as_ref(),
            "--subscribers".as_ref(),
            common::LIST.as_ref(),
            "--dry-run".as_ref(),
            out.path().join(form).as_os_str(),
        ]);
        assert!(run.ok(), "{run:?}");
    }
    let (toml, md) = (
        files(&out.path().join("toml")),
        files(&out.path().join("md")),
    );
    assert_eq!(toml.len(), 12, "eleven messages and the manifest");
    for ((name, a), (other, b)) in toml.iter().zip(&md) {
        assert_eq!(name, other);
        assert!(a == b, "{} differs", name.display());
    }
    assert_eq!(toml.len(), md.len());
}

/// An issue in TOML with a problem of every kind `check` finds in an
/// issue, and the same issue in Markdown.
const TOML_PROBLEMS: &str = r#"[issue]
title = "Brèves"
period = { from = 2026-04-03, to = 2026-02-26 }
language = "fr"
subject = "Brèves de mars"

[highlight]
title = "Le fait du [mois](#)"
body = "Un paragraphe et ![](carte.png)."

[[section]]
id = "spatial"
title = "Spatial"

[[section.article]]
title = "Un article"
body = "   "

[[section]]
id = "spatial"
title = "Encore"

[[section.article]]
title = "[lien](javascript:alert(1))"
body = "x"

[[section]]
id = "Pas_un_id"
title = "Cyber"
"#;

const MD_PROBLEMS: &str = r#"+++
title = "Brèves"
period = { from = 2026-04-03, to = 2026-02-26 }
language = "fr"
subject = "Brèves de mars"
+++

# Fait marquant

## Le fait du [mois](#)

Un paragraphe et ![](carte.png).

# Spatial {#spatial}

## Un article

# Encore {#spatial}

## [lien](javascript:alert(1))

x

# Cyber {#Pas_un_id}
"#;

#[test]
fn every_problem_of_an_issue_in_markdown_is_found_at_its_own_place() {
    let (run, toml) = check("issue.toml", TOML_PROBLEMS);
    assert_eq!(run.code, 1, "{run:?}");
    let (run, md) = check("issue.md", MD_PROBLEMS);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(what(&md), what(&toml), "{md}");
    assert!(what(&md).len() >= 8, "{md}");
    insta::assert_snapshot!("problems_in_toml", toml);
    insta::assert_snapshot!("problems_in_markdown", md);
}

#[test]
fn a_heading_structure_that_cannot_be_read_is_an_error_at_its_place() {
    let front = "+++\ntitle = \"Brèves\"\nperiod = { from = 2026-02-26, to = 2026-04-03 }\nlanguage = \"fr\"\nsubject = \"Brèves de mars\"\n+++\n";
    let cases = [
        (
            "structure",
            format!(
                "{front}\nUn mot perdu.\n\n# Fait marquant\n\nUn chapeau sans titre.\n\n## Le fait\n\nSon texte.\n\n## Un second fait\n\nx\n\n# Spatial\n\n# Cyber {{#cyber}}\n\n## Un article\n\nx\n\n# Colophon\n\nÀ propos.\n\n## Pas ici\n\nx\n"
            ),
        ),
        (
            "article_before_any_section",
            format!("{front}\n## Un article\n\nx\n"),
        ),
        (
            "highlight_without_article",
            format!("{front}\n# Fait marquant\n\n# Spatial\n\n## Un article\n\nx\n"),
        ),
        (
            "missing_front_matter_field",
            "+++\ntitle = \"Brèves\"\nperiod = { from = 2026-02-26, to = 2026-04-03 }\nlanguage = \"fr\"\n+++\n\n# Fait marquant\n\n## Le fait\n\nx\n".to_owned(),
        ),
        (
            "unknown_front_matter_field",
            front.replace("language", "langue") + "\n# Fait marquant\n\n## Le fait\n\nx\n",
        ),
        ("no_front_matter", "# Fait marquant\n\n## Le fait\n\nx\n".to_owned()),
    ];
    for (name, text) in cases {
        let (run, shown) = check("issue.md", &text);
        assert_eq!(run.code, 1, "{name}: {run:?}");
        insta::assert_snapshot!(name, shown);
    }
}

#[test]
fn convert_writes_one_form_from_the_other_and_never_over_a_file() {
    let dir = tempdir();
    let md = dir.path().join("mars.md");
    let run = breves([
        "convert".as_ref(),
        common::ISSUE.as_ref(),
        "--to".as_ref(),
        "md".as_ref(),
        "--out".as_ref(),
        md.as_os_str(),
    ]);
    assert!(run.ok(), "{run:?}");
    assert_eq!(
        fs::read_to_string(&md).expect("written"),
        fs::read_to_string("issues/2026-03-royaume-uni.md").expect("shipped"),
        "the shipped Markdown issue is the TOML one, converted"
    );
    // Back to TOML, beside it by default; then never over it.
    let run = breves([
        "convert".as_ref(),
        md.as_os_str(),
        "--to".as_ref(),
        "toml".as_ref(),
    ]);
    assert!(run.ok(), "{run:?}");
    let toml = dir.path().join("mars.toml");
    assert_eq!(
        run.stdout,
        format!(
            "Wrote {}: the issue of {}, in its toml form.\n",
            toml.display(),
            md.display()
        )
    );
    let before = fs::read(&toml).expect("written");
    let again = breves([
        "convert".as_ref(),
        md.as_os_str(),
        "--to".as_ref(),
        "toml".as_ref(),
    ]);
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(
        again.stderr,
        format!(
            "error: {} exists already: breves never writes over an issue file; give another --out, or move it away\n",
            toml.display()
        )
    );
    assert_eq!(fs::read(&toml).expect("kept"), before);
    // The issue converted there and back is the same: the same digests.
    let out = tempdir();
    for (name, issue) in [("first", PathBuf::from(common::ISSUE)), ("back", toml)] {
        let run = breves([
            "send".as_ref(),
            issue.as_os_str(),
            "--subscribers".as_ref(),
            common::LIST.as_ref(),
            "--dry-run".as_ref(),
            out.path().join(name).as_os_str(),
        ]);
        assert!(run.ok(), "{run:?}");
    }
    assert!(files(&out.path().join("first")) == files(&out.path().join("back")));
    // A file with errors is not converted: its problems are said.
    fs::write(&md, "# Fait marquant\n").expect("broken");
    let broken = breves([
        "convert".as_ref(),
        md.as_os_str(),
        "--to".as_ref(),
        "toml".as_ref(),
        "--out".as_ref(),
        dir.path().join("x.toml").as_os_str(),
    ]);
    assert_eq!(broken.code, 1, "{broken:?}");
    assert!(broken.stderr.contains("front matter"), "{broken:?}");
    assert!(!dir.path().join("x.toml").exists());
}

#[test]
fn the_next_issue_starts_from_the_last_with_every_article_to_write() {
    let dir = tempdir();
    let last = dir.path().join("2026-03-royaume-uni.md");
    fs::copy("issues/2026-03-royaume-uni.md", &last).expect("copied");
    let run = breves([
        "new".as_ref(),
        "--from".as_ref(),
        last.as_os_str(),
        "--period".as_ref(),
        "2026-04-04..2026-05-01".as_ref(),
    ]);
    assert!(run.ok(), "{run:?}");
    let next = dir.path().join("2026-04-royaume-uni.md");
    assert_eq!(
        run.stdout,
        format!(
            "Wrote {}: the issue after {}, with one article to write in the highlight and in each section (`breves check` refuses them until they are written or removed).\n",
            next.display(),
            last.display()
        )
    );
    let text = fs::read_to_string(&next).expect("written");
    assert!(
        text.contains("\nperiod = { from = 2026-04-04, to = 2026-05-01 }\n"),
        "{text}"
    );
    assert!(
        text.contains("\nsubject = \"Brèves numériques Royaume-Uni, 4 avril au 1er mai 2026\"\n"),
        "{text}"
    );
    assert!(
        text.contains("\ndate = 2026-05-05T09:00:00+01:00\n"),
        "{text}"
    );
    // A placeholder cannot be sent: each is an error at its place.
    let (run, shown) = check_file(&next);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        shown
            .matches("is a placeholder: write it, or remove it")
            .count(),
        7,
        "the highlight and six sections: {shown}"
    );
    assert!(shown.contains("2026-04-royaume-uni.md:19:4\n"), "{shown}");
    // Written, or removed, the issue passes: its own id, the same sections.
    let written = text.replacen(
        "## Titre de l'article, à écrire\n\nLe texte de l'article, à écrire. Tant que cet article est là, `breves check` le signale et breves refuse d'envoyer le numéro.\n",
        "## Le fait d'avril\n\nSon texte.\n",
        7,
    );
    fs::write(&next, &written).expect("saved");
    let (run, shown) = check_file(&next);
    assert!(run.ok(), "{shown}");
    let out = tempdir();
    let run = breves([
        "send".as_ref(),
        next.as_os_str(),
        "--subscribers".as_ref(),
        common::LIST.as_ref(),
        "--dry-run".as_ref(),
        out.path().as_os_str(),
    ]);
    assert!(run.ok(), "{run:?}");
    let manifest = fs::read_to_string(out.path().join("manifest.json")).expect("manifest");
    assert!(
        manifest.contains("\"issue\": \"bnru68-260404-260501\""),
        "a fresh id: {manifest}"
    );
    // In the other form when asked, and never over a file.
    let toml = dir.path().join("avril.toml");
    let run = breves([
        "new".as_ref(),
        "--from".as_ref(),
        last.as_os_str(),
        "--period".as_ref(),
        "2026-04-04..2026-05-01".as_ref(),
        "--out".as_ref(),
        toml.as_os_str(),
    ]);
    assert!(run.ok(), "{run:?}");
    assert!(
        fs::read_to_string(&toml)
            .expect("toml")
            .starts_with("[issue]\n")
    );
    let again = breves([
        "new".as_ref(),
        "--from".as_ref(),
        last.as_os_str(),
        "--period".as_ref(),
        "2026-04-04..2026-05-01".as_ref(),
    ]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("exists already"), "{again:?}");
    assert_eq!(fs::read_to_string(&next).expect("kept"), written);
    let wrong = breves([
        "new".as_ref(),
        "--from".as_ref(),
        last.as_os_str(),
        "--period".as_ref(),
        "2026-05-01..2026-04-04".as_ref(),
    ]);
    assert_eq!(wrong.code, 2, "{wrong:?}");
    assert!(
        wrong
            .stderr
            .contains("the period `2026-05-01..2026-04-04` ends before it starts"),
        "{wrong:?}"
    );
}

/// `check` of the issue at `path`, alone.
fn check_file(path: &Path) -> (Run, String) {
    let run = breves(["check".as_ref(), path.as_os_str()]);
    let shown = run.stderr.replace(
        &format!("{}/", path.parent().expect("folder").display()),
        "",
    );
    (run, shown)
}

#[test]
fn the_archive_of_the_issue_in_markdown_is_the_archive_of_its_toml() {
    let sites = tempdir();
    for form in ["toml", "md"] {
        let run = breves([
            "archive".as_ref(),
            format!("issues/2026-03-royaume-uni.{form}").as_ref(),
            "--subscribers".as_ref(),
            common::LIST.as_ref(),
            "--out".as_ref(),
            sites.path().join(form).as_os_str(),
        ]);
        assert!(run.ok(), "{run:?}");
    }
    for page in ["index.html", "feed.xml", "bnru68-260226-260403/index.html"] {
        let read = |form: &str| fs::read(sites.path().join(form).join(page)).expect("written");
        assert!(read("toml") == read("md"), "{page} differs");
    }
}
