//! The summary of a dry run in Markdown, for the page of a CI job
//! (`$GITHUB_STEP_SUMMARY`): what a reviewer of a change to an issue or a
//! list needs to see. The distinct digests with their sections, recipients
//! and sizes; who receives nothing, by their place in the list; every
//! warning, at its place.
//!
//! Nobody's address is written in full (`a…@example.com`): a summary may be
//! read more widely than the list.

use std::io::Write as _;
use std::path::Path;

use crate::campaign::{GMAIL_CLIP_BYTES, IMAGES_BYTES, gmail_size, kilobytes};
use crate::diagnostics::Problems;
use crate::dispatch::Report;
use crate::plan::Plan;
use crate::{Error, Result};

/// Text safe inside a Markdown table cell or list item.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// `text` with every e-mail address in it reduced to its first letter and
/// its domain (`a…@example.com`): a warning about a member names them.
fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match word.split_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => {
                let first: String = local.chars().take(1).collect();
                out.push_str(&format!("{first}…@{domain}"));
            }
            _ => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || matches!(c, '`' | '<' | '>' | '(' | ')' | ',' | ';' | '"') {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `text` with what it quotes between backticks left out: a row written
/// wrong is a reader's address, or part of one, whatever its shape.
fn unquoted(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "`…`" } else { part })
        .collect()
}

/// The summary of a finished dry run of `plan`, with the input's
/// `warnings`.
pub fn dry_run(plan: &Plan<'_>, report: &Report, warnings: &Problems) -> String {
    let campaign = plan.campaign();
    let (issue, list) = (campaign.issue(), campaign.list());
    let mut out = String::new();
    out.push_str(&format!(
        "### {}: dry run to the list {}\n\n",
        cell(&issue.subject),
        cell(&list.id)
    ));
    out.push_str(&format!(
        "**{} message(s)** in **{} distinct digest(s)**; {} member(s) receive nothing; {} member(s) left out for their row; {} warning(s).\n\n",
        report.delivered,
        report.variants,
        report.skipped.len(),
        list.left_out.error_count(),
        warnings.warning_count()
    ));
    out.push_str("| Sections | Recipients | HTML part | Images |\n|---|---:|---:|---:|\n");
    for (index, (variant, digest)) in campaign
        .audience()
        .variants
        .iter()
        .zip(campaign.digests())
        .enumerate()
    {
        let titles: Vec<&str> = variant
            .selection
            .sections(issue)
            .map(|s| s.title.as_str())
            .collect();
        let sections = if titles.is_empty() {
            "The highlight only".to_owned()
        } else if variant.selection.is_everything(issue) {
            "Every section".to_owned()
        } else {
            cell(&titles.join(", "))
        };
        let html = campaign
            .html_size(index)
            .unwrap_or_else(|_| gmail_size(digest));
        let images: usize = digest.images.iter().map(|i| i.bytes.len()).sum();
        let flag = |over: bool, what: &str| {
            if over {
                format!(" ⚠ {what}")
            } else {
                String::new()
            }
        };
        out.push_str(&format!(
            "| {sections} | {} | {}{} | {}{} |\n",
            variant.members,
            kilobytes(html),
            flag(html > GMAIL_CLIP_BYTES, "Gmail clips it"),
            if images == 0 {
                "none".to_owned()
            } else {
                kilobytes(images)
            },
            flag(images > IMAGES_BYTES, "over 200 KB"),
        ));
    }
    let skipped = &campaign.audience().skipped;
    if !skipped.is_empty() {
        out.push_str("\n#### Members who receive nothing of this issue\n\n");
        for member in skipped {
            let place = member.place();
            out.push_str(&format!(
                "- `{}`: none of their interests ({}) is a section of this issue\n",
                cell(&place),
                cell(&member.interests.join(", "))
            ));
        }
    }
    let left_out = crate::deliver::files::LeftOut::of(&list.left_out);
    if !left_out.is_empty() {
        out.push_str(&format!(
            "\n#### Members left out for what is wrong in their row (`--skip-invalid`): {}\n\n",
            left_out.len()
        ));
        for left in &left_out {
            out.push_str(&format!(
                "- `{}`: {}\n",
                cell(&left.place),
                cell(&unquoted(&left.reason))
            ));
        }
    }
    let sorted = warnings.sorted();
    if !sorted.is_empty() {
        out.push_str(&format!(
            "\n<details><summary>{} warning(s) about the input</summary>\n\n",
            sorted.len()
        ));
        for problem in sorted {
            let place = problem
                .location
                .as_ref()
                .map_or_else(String::new, |l| format!("`{l}`: "));
            out.push_str(&format!(
                "- {place}{}\n",
                cell(&masked(&problem.kind.to_string()))
            ));
        }
        out.push_str("\n</details>\n");
    }
    out.push('\n');
    out
}

/// Adds `summary` at the end of `path` (made if needed), as
/// `$GITHUB_STEP_SUMMARY` takes each step's part.
pub fn append(path: &Path, summary: &str) -> Result<()> {
    let write = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(write)?;
    file.write_all(summary.as_bytes()).map_err(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_and_the_rest_kept() {
        assert_eq!(
            masked(
                "agenda.only@example.com receives nothing: `Zoé@example.fr`, (x@y.fr); a@b, @c.fr, une adresse"
            ),
            "a…@example.com receives nothing: `Z…@example.fr`, (x…@y.fr); a@b, @c.fr, une adresse"
        );
    }
}
