//! `check`: every problem of an issue, and of a list with it, at once.
//!
//! Both files are read and checked whatever the other holds, so that one
//! run lists everything to fix. With a list, every distinct digest it makes
//! is rendered and measured (an HTML part Gmail would clip, images that
//! weigh too much); without one,
//! the largest digest, every section.

use std::path::Path;

use crate::Result;
use crate::campaign::{Campaign, size_warnings};
use crate::diagnostics::{Problems, check_file};
use crate::issue::Issue;
use crate::render::Renderer;
use crate::select::{Selection, check_pairing};
use crate::subscribers::List;

/// What `check` found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Every problem, errors and warnings.
    pub problems: Problems,
    /// How many distinct digests the list makes of the issue (0 without a
    /// list, or when a file has errors).
    pub variants: usize,
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
