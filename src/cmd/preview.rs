//! `breves preview`: one digest as files an editor can open.

use std::path::PathBuf;
use std::process::ExitCode;

use breves::campaign::Campaign;
use breves::deliver::files::file_stem;
use breves::issue::Issue;
use breves::message;
use breves::render::Renderer;
use breves::select::parse_interests;
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::{Error, Result};
use chrono::{DateTime, FixedOffset};

/// Arguments of `breves preview`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["subscriber", "interests"]))]
pub struct Args {
    /// The issue file.
    issue: PathBuf,
    /// The subscriber list (needed with --subscriber; gives the sender with --interests).
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: Option<PathBuf>,
    /// Preview the digest of this member of the list.
    #[arg(long, value_name = "EMAIL", requires = "subscribers")]
    subscriber: Option<String>,
    /// Preview the digest of these sections (ids separated by commas; empty for all).
    #[arg(long, value_name = "ID,ID,…")]
    interests: Option<String>,
    /// The folder to write the .html, .txt and .eml files into.
    #[arg(long, value_name = "DIR", default_value = "preview")]
    out: PathBuf,
    /// The Date of the message (default: the issue's `date`).
    #[arg(long, value_parser = super::parse_date)]
    date: Option<DateTime<FixedOffset>>,
}

/// Runs `breves preview`.
pub async fn run(args: Args) -> Result<ExitCode> {
    let (issue, list, warnings) = match &args.subscribers {
        Some(list) => super::load(&args.issue, list)?,
        None => {
            let (issue, warnings) = Issue::load(&args.issue)?;
            (issue, List::preview(), warnings)
        }
    };
    let (to, selection) = match (&args.subscriber, &args.interests) {
        (Some(email), _) => {
            let member = list
                .member(email)
                .ok_or_else(|| Error::NoSuchMember(email.clone()))?;
            let campaign = Campaign::for_members(&issue, &list, vec![member.clone()])?;
            let Some(variant) = campaign.audience().variants.first() else {
                return Err(Error::Usage(format!(
                    "{email} receives nothing from this issue: none of their interests ({}) is one of its sections",
                    member.interests.join(", ")
                )));
            };
            (member.mailbox(), variant.selection.clone())
        }
        (None, Some(ids)) => {
            let selection = parse_interests(&issue, ids).map_err(Error::Usage)?;
            (List::preview_reader(), selection)
        }
        (None, None) => {
            return Err(Error::Usage(
                "give --subscriber EMAIL (with --subscribers LIST) or --interests ID,ID".into(),
            ));
        }
    };
    let digest = Renderer::new().render(&issue, Some(&list), &selection)?;
    let date = args.date.unwrap_or_else(|| issue.default_date());
    // Previews are never sent: their links are signed with the test secret.
    let signer = Signer::test();
    let links = message::Links {
        list: &list,
        issue: &issue,
        signer: &signer,
    };
    let letter = message::build(
        &links,
        &to,
        &message::EncodedDigest::new(&digest),
        date,
        None,
    )?;
    let (html, text) = links.personalise(&digest, &to.email);

    let stem = if args.subscriber.is_some() {
        file_stem(to.email.as_ref())
    } else if selection.is_everything(&issue) {
        "toutes-rubriques".to_owned()
    } else {
        selection.ids(&issue).join("+")
    };
    std::fs::create_dir_all(&args.out).map_err(|source| Error::Write {
        path: args.out.clone(),
        source,
    })?;
    let mut written = Vec::new();
    for (ext, bytes) in [
        ("html", html.as_bytes()),
        ("txt", text.as_bytes()),
        ("eml", letter.bytes.as_slice()),
    ] {
        let path = args.out.join(format!("{stem}.{ext}"));
        std::fs::write(&path, bytes).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    let sections = if digest.section_ids.is_empty() {
        "the highlight only".to_owned()
    } else {
        format!("the highlight and {}", digest.section_ids.join(", "))
    };
    println!("Preview of {} for {}: {sections}.", issue.id, to);
    for path in &written {
        println!("  {}", path.display());
    }
    println!(
        "  HTML part {}, whole message {}.",
        super::size(digest.html.len()),
        super::size(letter.bytes.len())
    );
    if warnings.warning_count() > 0 {
        println!(
            "  {} warning(s) about the input: run `breves check` to see them.",
            warnings.warning_count()
        );
    }
    Ok(ExitCode::SUCCESS)
}
