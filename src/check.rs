//! `check`: every problem of an issue, and of a list with it, at once.
//!
//! Both files are read and checked whatever the other holds, so that one
//! run lists everything to fix. With a list, every distinct digest it makes
//! is rendered and measured (an HTML part Gmail would clip, images that
//! weigh too much); without one,
//! the largest digest, every section.

use std::path::Path;

use crate::campaign::{Campaign, size_warnings};
use crate::diagnostics::{Problems, check_file};
use crate::issue::Issue;
use crate::render::Renderer;
use crate::select::{Selection, check_pairing};
use crate::subscribers::Invalid;
use crate::subscribers::List;
use crate::{Error, Result};

/// Loads an issue and a list to send one to the other, doing `invalid`
/// with the members written wrong: both, with the warnings of both and of
/// their pairing; or, when either has errors, every error of both at once.
pub fn load(issue: &Path, list: &Path, invalid: Invalid) -> Result<(Issue, List, Problems)> {
    let issue = Issue::load(issue);
    let list = List::load_with(list, invalid);
    match (issue, list) {
        (Ok((issue, mut warnings)), Ok((list, list_warnings))) => {
            warnings.extend(list_warnings);
            let audience = crate::select::Audience::of(&issue, &list)?;
            warnings.extend(check_pairing(&issue, &list, &audience));
            Ok((issue, list, warnings))
        }
        (Err(Error::Invalid(mut a)), Err(Error::Invalid(b))) => {
            a.extend(b);
            Err(Error::Invalid(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// What `check` found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Every problem, errors and warnings.
    pub problems: Problems,
    /// How many distinct digests the list makes of the issue (0 without a
    /// list, or when a file has errors).
    pub variants: usize,
}

/// Where a list's readers come from, as the next send would take them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readers {
    /// Members of the list file.
    pub file: usize,
    /// Readers who joined by themselves, confirmed, who have not left and
    /// are not in the file.
    pub joined: usize,
    /// Requests to join not confirmed (yet).
    pub waiting: usize,
}

/// Counts `list`'s readers by where they come from, with what `ledger`
/// records of those who joined by themselves.
pub fn readers(list: &List, ledger: &crate::ledger::Ledger) -> Result<Readers> {
    let preferences = ledger.preferences(&list.id)?;
    let mut joined: std::collections::HashSet<crate::address::Key> = preferences
        .joined
        .iter()
        .map(|(key, _)| key.clone())
        .filter(|key| !preferences.suppressed.contains(key) && !preferences.is_forgotten(key))
        .collect();
    if !joined.is_empty() {
        for member in list.members() {
            joined.remove(&crate::address::Key::of(&member?.email));
        }
    }
    Ok(Readers {
        file: list.size,
        joined: joined.len(),
        waiting: ledger.waiting(&list.id)?,
    })
}

/// Checks `issue`, and `list` with it when given. An unreadable file is an
/// error of the run; what is wrong inside the files is in the result.
pub fn check(issue: &Path, list: Option<&Path>) -> Result<Checked> {
    let mut checked = Checked::default();
    let (issue, found) = check_file(issue, Issue::parse)?;
    checked.problems.extend(found);
    let Some(list) = list else {
        if let Some(issue) = &issue {
            let everything = Selection::from_indices((0..issue.sections.len()).collect());
            let digest = Renderer::new().render(issue, None, &everything)?;
            for problem in size_warnings(&digest) {
                checked.problems.push(problem);
            }
        }
        return Ok(checked);
    };
    let (list, found) = check_file(list, List::parse)?;
    checked.problems.extend(found);
    if let (Some(issue), Some(list)) = (&issue, &list) {
        // One reading of the members for both: who receives what, and who
        // receives nothing.
        let campaign = Campaign::prepare(issue, list)?;
        checked
            .problems
            .extend(check_pairing(issue, list, campaign.audience()));
        checked.variants = campaign.digests().len();
        checked.problems.extend(campaign.check_sizes());
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_both_files_says_every_error_of_both_at_once() {
        let dir = tempfile::tempdir().expect("dir");
        let issue = dir.path().join("i.toml");
        let list = dir.path().join("l.toml");
        std::fs::write(&issue, "[issue]\ntitle = \"T\"\n").expect("issue");
        std::fs::write(&list, "[list]\nid = \"l\"\n").expect("list");
        let Err(Error::Invalid(problems)) = load(&issue, &list, Invalid::Stop) else {
            panic!("both files are wrong");
        };
        let files: Vec<String> = problems
            .sorted()
            .iter()
            .filter_map(|p| p.location.as_ref().map(|l| l.path().display().to_string()))
            .collect();
        assert!(files.iter().any(|f| f.ends_with("i.toml")), "{files:?}");
        assert!(files.iter().any(|f| f.ends_with("l.toml")), "{files:?}");
        // Right, both come back with the warnings of their pairing.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (_, _, warnings) = load(
            &root.join("issues/2026-03-royaume-uni.toml"),
            &root.join("subscribers/londres.toml"),
            Invalid::Stop,
        )
        .expect("the shipped files");
        assert!(
            warnings
                .sorted()
                .iter()
                .any(|p| p.to_string().contains("receives nothing from this issue")),
            "{warnings:?}"
        );
    }
}
