//! The HTML part as checkers nobody here wrote see it: the Nu HTML checker
//! (vnu.jar, from npm's `vnu-jar`, which the test command installs under
//! `target/tools/`), and the conditional markup Outlook for Windows reads.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::{dry_run, eml_files, parse, tempdir};

/// The HTML parts of the largest digest (every section) and the smallest.
fn html_parts() -> Vec<(PathBuf, String)> {
    let dir = tempdir();
    dry_run(dir.path());
    let mut files: Vec<(u64, PathBuf)> = eml_files(dir.path())
        .into_iter()
        .map(|f| (std::fs::metadata(&f).expect("a file").len(), f))
        .collect();
    files.sort();
    let chosen = [files[0].1.clone(), files[files.len() - 1].1.clone()];
    chosen
        .into_iter()
        .map(|file| {
            let bytes = std::fs::read(&file).expect("readable");
            let html = parse(&bytes)
                .body_html(0)
                .expect("an HTML part")
                .into_owned();
            (file, html)
        })
        .collect()
}

/// Runs the Nu HTML checker on `pages`, errors only; what it says of each
/// page it finds wrong.
pub fn nu_errors(pages: &[PathBuf]) -> String {
    // `VNU_JAR` names another copy (for a tree copied without its
    // `target/`, as `cargo mutants` does).
    let jar = std::env::var_os("VNU_JAR").map_or_else(
        || common::root().join("target/tools/node_modules/vnu-jar/build/dist/vnu.jar"),
        PathBuf::from,
    );
    assert!(
        jar.exists(),
        "{} is missing: .ci/test installs it (npm install --prefix target/tools vnu-jar)",
        jar.display()
    );
    let out = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "text"])
        .args(pages)
        .output()
        .expect("java (Debian package default-jre-headless)");
    if out.status.success() {
        return String::new();
    }
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_nu_html_checker_finds_no_error() {
    let dir = tempdir();
    let mut pages = Vec::new();
    for (n, (_, html)) in html_parts().into_iter().enumerate() {
        let page = dir.path().join(format!("digest-{n}.html"));
        std::fs::write(&page, &html).expect("written");
        pages.push(page);
    }
    assert_eq!(pages.len(), 2);
    assert_eq!(nu_errors(&pages), "");
}

#[test]
fn the_archive_pages_pass_the_nu_html_checker() {
    let site = tempdir();
    crate::archive::build(site.path());
    let pages: Vec<PathBuf> = ["index.html", "essai-2026-05/index.html"]
        .iter()
        .map(|p| site.path().join(p))
        .chain([
            site.path().join("bnru68-260226-260403/index.html"),
            // The page left at the March issue's former address.
            site.path()
                .join("breves-numeriques-royaume-uni-2026-02-26-2026-04-03/index.html"),
        ])
        .collect();
    assert_eq!(nu_errors(&pages), "");
}

#[test]
fn outlook_gets_a_fixed_width_table_around_the_layout_and_balanced_conditionals() {
    for (file, html) in html_parts() {
        let opens = html.matches("<!--[if mso]>").count();
        let ends = html.matches("<![endif]-->").count();
        assert_eq!(
            opens, 3,
            "{file:?}: the wrapper's start and end, and the head's style"
        );
        assert_eq!(opens, ends, "{file:?}: every conditional is closed");
        let open = html
            .find("<!--[if mso]><table role=\"presentation\" width=\"600\" align=\"center\"")
            .expect("the wrapper's start");
        let container = html.find("class=\"container\"").expect("the container");
        let close = html
            .find("<!--[if mso]></td></tr></table><![endif]-->")
            .expect("the wrapper's end");
        assert!(
            open < container && container < close,
            "{file:?}: the container is inside the wrapper"
        );
        assert!(
            html.contains("</table><!--[if mso]></td></tr></table><![endif]--></td>"),
            "{file:?}: the wrapper closes right after the container, in the page's cell"
        );
        let head = &html[..html.find("</head>").expect("a head")];
        assert!(
            head.contains("<!--[if mso]><style>.preheader { display: none !important; mso-hide: all; } td, p, li, h1, h2, h3, a { font-family: Arial, Helvetica, sans-serif; } td, p, li { font-size: 16px; line-height: 24px; color: #161616; }</style><![endif]-->"),
            "{file:?}: Outlook hides the preview line"
        );
        assert!(
            !html[head.len()..].contains("mso-hide"),
            "{file:?}: no Outlook-only property in the inlined styles"
        );
    }
}

#[test]
fn the_full_digest_repeats_no_style_its_cells_can_pass_down() {
    // Gmail clips a message whose HTML passes about 102 KB: the smaller the
    // markup around the words, the longer an issue can be. The March issue
    // in full was 66,489 bytes of HTML when every paragraph carried its own
    // font, size, colour and wrapping (135 `font-family` declarations);
    // inherited from the outer table, it is at most 50,000.
    let (file, html) = html_parts().pop().expect("the full digest");
    assert!(html.len() <= 50_000, "{file:?}: {} bytes", html.len());
    let repeated = html.matches("font-family:").count();
    assert!(
        repeated <= 2,
        "{file:?}: font-family declared {repeated} times"
    );
    assert_eq!(
        html.matches("overflow-wrap:").count(),
        1,
        "{file:?}: wrapping is set once, on the outer table"
    );
}

#[test]
fn every_feature_a_mail_program_ignores_is_listed_in_the_readme() {
    let tools = common::root().join("target/tools/node_modules");
    assert!(
        tools.join("@jsx-email/doiuse-email").exists(),
        "{} lacks @jsx-email/doiuse-email: .ci/test installs it",
        tools.display()
    );
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let start = readme
        .find("### What some mail programs ignore, and why that is safe")
        .expect("the README's section");
    let table = &readme[start..];
    let table = &table[..table[4..].find("\n#").map_or(table.len(), |e| e + 4)];
    let dir = tempdir();
    for (file, html) in html_parts() {
        let page = dir.path().join("digest.html");
        std::fs::write(&page, &html).expect("written");
        let out = Command::new("node")
            .arg(common::root().join("tests/support/doiuse.cjs"))
            .arg(&page)
            .env("NODE_PATH", &tools)
            .output()
            .expect("node (Debian package nodejs)");
        assert!(out.status.success(), "{out:?}");
        let unsupported: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&out.stdout).expect("JSON");
        assert!(!unsupported.is_empty(), "the data says something: {out:?}");
        for feature in unsupported.keys() {
            assert!(
                table.contains(&format!("`{feature}`")),
                "{file:?}: `{feature}` ({}) is not in the README's table",
                unsupported[feature]
            );
        }
    }
}
