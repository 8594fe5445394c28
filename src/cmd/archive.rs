//! `breves archive`: the web archive of some issues, as a static site.

use std::path::PathBuf;

use breves::archive::{self, Settings};
use breves::subscribers::List;
use breves::{ExitStatus, Result};

/// Arguments of `breves archive`.
#[derive(clap::Args)]
pub struct Args {
    /// The issue files (every issue published so far).
    #[arg(required = true, value_name = "ISSUE")]
    issues: Vec<PathBuf>,
    /// The folder to write the site into.
    #[arg(long, value_name = "DIR", default_value = "site")]
    out: PathBuf,
    /// The subscriber list: gives the site's address (`archive_url`) and title.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: Option<PathBuf>,
    /// The site's address (default: the list's `archive_url`).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// Runs `breves archive`.
pub fn run(args: Args) -> Result<ExitStatus> {
    let (entries, mut warnings) = archive::load(&args.issues)?;
    let list = match &args.subscribers {
        Some(path) => {
            let (list, list_warnings) = List::load(path)?;
            warnings.extend(list_warnings);
            Some(list)
        }
        None => None,
    };
    let settings = Settings::new(args.url.as_deref(), list.as_ref())?;
    let site = archive::build(entries, &settings)?;
    let written = site.write(&args.out)?;
    match &settings.base {
        Some(base) => say!(
            "Archive of {} issue(s) written to {}, for {base}/:",
            site.issues.len(),
            args.out.display(),
        ),
        None => say!(
            "Archive of {} issue(s) written to {}:",
            site.issues.len(),
            args.out.display(),
        ),
    }
    for path in &written {
        say!("  {}", path.display());
    }
    if !site.feed {
        say!(
            "  No feed and no canonical addresses: the site's address is unknown (give --url, or archive_url under [list])."
        );
    }
    if warnings.warning_count() > 0 {
        say!(
            "  {} warning(s) about the input: run `breves check` to see them.",
            warnings.warning_count()
        );
    }
    Ok(ExitStatus::Success)
}
