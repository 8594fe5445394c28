//! The issue file holds the whole seed newsletter, nothing dropped and
//! nothing invented, and each digest holds exactly the chosen sections.
//!
//! The seed (tests/fixtures/seed-2026-03.txt, the March 2026 issue as plain
//! text) is compared with what breves renders, not with the issue file.

use crate::common;

use std::fs;

use common::{breves, fold, tempdir};

/// The seed's text from the highlight to the end, line by line, with the
/// conversion debris cleaned as the issue file cleans it and the Markdown
/// markers removed.
fn seed_lines() -> Vec<String> {
    let seed = fs::read_to_string(common::fixture("seed-2026-03.txt")).expect("the seed");
    let start = seed.find("Fait marquant :").expect("the highlight");
    seed[start..]
        .lines()
        .map(|l| {
            l.replace("\\\\$", "$")
                .replace("\\$", "$")
                .replace("\\(", "(")
                .replace("\\)", ")")
                .replace("1^{er}", "1er")
                .replace("](#)", "")
                .replace(['[', '*'], "")
        })
        .map(|l| fold(&l))
        .filter(|l| !l.is_empty() && l != "Fait marquant :")
        .collect()
}

/// The seed's sommaire: each section title and its article titles.
fn seed_contents() -> Vec<(String, Vec<String>)> {
    let seed = fs::read_to_string(common::fixture("seed-2026-03.txt")).expect("the seed");
    let start = seed.find("Sommaire").expect("the sommaire");
    let end = seed.find("Fait marquant :").expect("the highlight");
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in seed[start..end]
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        match line.strip_prefix("- ") {
            Some(title) => sections
                .last_mut()
                .expect("a section first")
                .1
                .push(title.replace('*', "")),
            None => sections.push((line.trim().to_owned(), Vec::new())),
        }
    }
    sections
}

/// Accents on capitals differ between the seed's sommaire and its body
/// ("Echiquier", "Échiquier"); compare without them.
fn no_capital_accents(s: &str) -> String {
    s.replace('É', "E")
}

/// The text of some HTML, tags removed and the few entities the renderer
/// writes decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Renders the digest of some interests (empty: all) and returns the
/// folded text part and the HTML part.
fn preview(interests: &str) -> (String, String) {
    let dir = tempdir();
    let run = breves([
        "preview",
        common::ISSUE,
        "--interests",
        interests,
        "--out",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    let file = fs::read_dir(dir.path())
        .expect("files")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "txt"))
        .expect("a .txt file");
    let text = fs::read_to_string(&file).expect("text");
    let html = fs::read_to_string(file.with_extension("html")).expect("html");
    (text, html)
}

#[test]
fn every_line_of_the_seed_is_in_the_full_digest() {
    let (text, _) = preview("");
    let digest = fold(&text);
    let missing: Vec<String> = seed_lines()
        .into_iter()
        .filter(|line| {
            !digest.contains(line.as_str()) && !digest.to_uppercase().contains(&line.to_uppercase())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} seed lines are not in the digest:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn the_digest_holds_nothing_the_seed_does_not() {
    // Every paragraph of the full digest's articles comes from the seed:
    // the words breves adds itself are its labels and footer.
    let (text, _) = preview("");
    let seed = fold(&seed_lines().join(" "));
    let body_start = text.find("FAIT MARQUANT").expect("highlight");
    let body_end = text.rfind("\n---").expect("footer rule");
    let invented: Vec<String> = text[body_start..body_end]
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter(|p| !p.starts_with('['))
        .map(|p| {
            // Headings are underlined; banners are framed: drop those rules.
            p.lines()
                .filter(|l| !l.chars().all(|c| c == '=' || c == '-' || c == '~'))
                .collect::<Vec<_>>()
                .join("\n")
        })
        // The highlight's label is breves' own banner, not seed text.
        .filter(|p| fold(p) != "FAIT MARQUANT")
        .filter(|p| {
            let p = fold(p);
            let p = p.as_str();
            !seed.contains(p) && !seed.to_uppercase().contains(&p.to_uppercase())
        })
        .collect();
    assert!(invented.is_empty(), "not in the seed:\n{invented:#?}");
}

#[test]
fn every_article_title_is_in_the_sommaire_and_body() {
    let (text, html) = preview("");
    let folded = no_capital_accents(&fold(&text));
    let contents = seed_contents();
    assert_eq!(contents.len(), 7, "the highlight and six sections");
    for (section, titles) in &contents {
        assert!(
            folded.contains(&no_capital_accents(section)),
            "section {section}"
        );
        for title in titles {
            let t = no_capital_accents(&fold(title));
            assert!(
                folded.matches(&t).count() >= 2,
                "{title}: in the sommaire and as a heading"
            );
        }
    }
    // The HTML holds the titles too, once its tags are set aside.
    let html = no_capital_accents(&fold(&strip_tags(&html)));
    for (_, titles) in &contents {
        for title in titles {
            let t = no_capital_accents(&fold(title));
            assert!(
                html.matches(&t).count() >= 2,
                "{title}: in the HTML sommaire and body"
            );
        }
    }
}

#[test]
fn a_section_not_chosen_is_absent() {
    let contents = seed_contents();
    let ids = [
        "economie-numerique",
        "donnees-ia",
        "cybersecurite",
        "spatial",
        "nouvelles-technologies",
        "ecosysteme-tech",
    ];
    for (i, id) in ids.iter().enumerate() {
        let others: Vec<&str> = ids.iter().copied().filter(|o| o != id).collect();
        let (without, html_without) = preview(&others.join(","));
        let (with, _) = preview(id);
        let without = no_capital_accents(&fold(&without));
        let with = no_capital_accents(&fold(&with));
        let (_, titles) = &contents[i + 1];
        for title in titles {
            let t = no_capital_accents(&fold(title));
            assert!(!without.contains(&t), "{title} sent without {id}");
            assert!(with.contains(&t), "{title} missing with {id}");
        }
        assert!(!html_without.contains(&format!("id=\"{id}\"")));
        // The highlight is always there.
        let highlight = no_capital_accents(&fold(&contents[0].1[0]));
        assert!(without.contains(&highlight) && with.contains(&highlight));
    }
}
