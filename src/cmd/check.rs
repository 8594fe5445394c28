//! `breves check`: every problem of an issue and a list, at once.

use std::path::PathBuf;
use std::process::ExitCode;

use breves::Result;
use breves::campaign::{Campaign, clip_warning};
use breves::diagnostics::{Problems, check_file};
use breves::issue::Issue;
use breves::render::Renderer;
use breves::select::{Selection, check_pairing};
use breves::subscribers::List;

/// How problems are printed.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// The line shown, the place marked.
    Human,
    /// One GitHub Actions annotation per line.
    Github,
}

/// Arguments of `breves check`.
#[derive(clap::Args)]
pub struct Args {
    /// The issue file.
    issue: PathBuf,
    /// The subscriber list to check with it.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: Option<PathBuf>,
    /// How to print the problems.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Runs `breves check`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut problems = Problems::new();
    let (issue, found) = check_file(&args.issue, Issue::parse)?;
    problems.extend(found);
    let list = match &args.subscribers {
        Some(path) => {
            let (list, found) = check_file(path, List::parse)?;
            problems.extend(found);
            list
        }
        None => None,
    };
    let mut variants = 0;
    match (&issue, &list) {
        (Some(issue), Some(list)) => {
            problems.extend(check_pairing(issue, list));
            let campaign = Campaign::prepare(issue, list)?;
            variants = campaign.digests().len();
            problems.extend(campaign.check_sizes());
        }
        (Some(issue), None) if args.subscribers.is_none() => {
            // Without a list, the largest digest: every section.
            let everything = Selection::from_indices((0..issue.sections.len()).collect());
            let digest = Renderer::new().render(issue, None, &everything)?;
            if let Some(problem) = clip_warning(&digest) {
                problems.push(problem);
            }
        }
        _ => {}
    }
    match args.format {
        Format::Human => super::print_problems(&problems),
        Format::Github => {
            for p in problems.sorted() {
                println!("{}", p.github_annotation());
            }
        }
    }
    let files = match &args.subscribers {
        Some(list) => format!("{} and {}", args.issue.display(), list.display()),
        None => args.issue.display().to_string(),
    };
    let summary = format!(
        "{files}: {} error(s), {} warning(s){}",
        problems.error_count(),
        problems.warning_count(),
        if variants > 0 {
            format!(", {variants} distinct digest(s)")
        } else {
            String::new()
        }
    );
    if problems.has_errors() {
        eprintln!("{summary}: fix the errors before sending.");
        Ok(ExitCode::FAILURE)
    } else {
        eprintln!("{summary}.");
        Ok(ExitCode::SUCCESS)
    }
}
