//! One issue sent to one list: the audience worked out, each distinct digest
//! rendered once, one letter per recipient handed to a transport.
//!
//! ```no_run
//! # async fn run() -> breves::Result<()> {
//! use breves::{campaign::Campaign, deliver::files::Outbox, issue::Issue, subscribers::List};
//! use std::path::Path;
//!
//! let (issue, _) = Issue::load(Path::new("issues/2026-03-royaume-uni.toml"))?;
//! let (list, _) = List::load(Path::new("subscribers/londres.toml"))?;
//! let campaign = Campaign::prepare(&issue, &list)?;
//! let outbox = Outbox::create(Path::new("outbox"))?;
//! let report = campaign.deliver(&outbox, issue.default_date()).await?;
//! println!("{} written", report.delivered);
//! # Ok(()) }
//! ```

use chrono::{DateTime, FixedOffset};

use crate::deliver::files::Skipped;
use crate::deliver::{DeliveryError, Transport};
use crate::diagnostics::{Problem, ProblemKind, Problems};

use crate::issue::Issue;
use crate::message::{self, EncodedDigest, Letter};
use crate::render::{Digest, Renderer};
use crate::select::Audience;
use crate::subscribers::{List, Member};
use crate::{Error, Result};

/// Gmail clips a message whose HTML is larger than this, hiding the rest.
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// The warning for a digest whose HTML Gmail would clip, if it is one.
pub fn clip_warning(digest: &Digest) -> Option<Problem> {
    if digest.html.len() <= GMAIL_CLIP_BYTES {
        return None;
    }
    let sections = if digest.section_ids.is_empty() {
        "the highlight only".to_owned()
    } else {
        format!("sections {}", digest.section_ids.join(", "))
    };
    Some(
        Problem::warning(ProblemKind::HtmlTooLarge {
            sections,
            size: digest.html.len(),
            limit: GMAIL_CLIP_BYTES,
        })
        .hint("shorten the articles, or split the issue"),
    )
}

/// A send, ready to go: who receives which digest, every digest rendered.
pub struct Campaign<'a> {
    issue: &'a Issue,
    list: &'a List,
    members: Vec<Member>,
    audience: Audience,
    digests: Vec<Digest>,
    encoded: Vec<EncodedDigest>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// Letters the transport took.
    pub delivered: usize,
    /// Members who received nothing, with the reason.
    pub skipped: Vec<Skipped>,
    /// Letters the transport refused, with the reason.
    pub failed: Vec<(String, String)>,
    /// Distinct digests rendered.
    pub variants: usize,
    /// Total bytes of the letters delivered.
    pub bytes: usize,
    /// The largest letter, in bytes.
    pub largest: usize,
}

impl<'a> Campaign<'a> {
    /// Works out the audience of `issue` in `list` and renders each distinct
    /// digest once.
    pub fn prepare(issue: &'a Issue, list: &'a List) -> Result<Self> {
        Campaign::for_members(issue, list, list.members.clone())
    }

    /// The same for some members only (a preview, a test send).
    pub fn for_members(issue: &'a Issue, list: &'a List, members: Vec<Member>) -> Result<Self> {
        let audience = Audience::of_members(issue, &members);
        let renderer = Renderer::new();
        let digests = audience
            .variants
            .iter()
            .map(|v| renderer.render(issue, Some(list), &v.selection))
            .collect::<Result<Vec<_>>>()?;
        let encoded = digests.iter().map(EncodedDigest::new).collect();
        Ok(Campaign {
            issue,
            list,
            members,
            audience,
            digests,
            encoded,
        })
    }

    /// Who receives what.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    /// The rendered digests, one per variant.
    pub fn digests(&self) -> &[Digest] {
        &self.digests
    }

    /// The members this campaign is for.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Warnings about the rendered digests: any whose HTML Gmail would clip.
    pub fn check_sizes(&self) -> Problems {
        let mut problems = Problems::new();
        for problem in self.digests.iter().filter_map(clip_warning) {
            problems.push(problem);
        }
        problems
    }

    /// The letters, in list order, built as they are asked for.
    pub fn letters(
        &self,
        date: DateTime<FixedOffset>,
    ) -> impl Iterator<Item = Result<Letter>> + '_ {
        self.audience.recipients.iter().map(move |&(m, v)| {
            let member = &self.members[m];
            message::build(
                self.list,
                self.issue,
                &member.mailbox(),
                &self.encoded[v],
                date,
            )
        })
    }

    /// The members who receive nothing from this issue.
    pub fn skipped(&self) -> Vec<Skipped> {
        self.audience
            .skipped
            .iter()
            .map(|&m| {
                let member = &self.members[m];
                Skipped {
                    recipient: member.email.to_string(),
                    reason: format!(
                        "none of their interests ({}) is a section of this issue",
                        member.interests.join(", ")
                    ),
                }
            })
            .collect()
    }

    /// Builds every letter and hands it to `transport`, in list order.
    pub async fn deliver<T: Transport>(
        &self,
        transport: &T,
        date: DateTime<FixedOffset>,
    ) -> Result<Report> {
        let mut report = Report {
            variants: self.digests.len(),
            skipped: self.skipped(),
            ..Report::default()
        };
        for letter in self.letters(date) {
            let letter = letter?;
            match transport.deliver(&letter).await {
                Ok(_) => {
                    report.delivered += 1;
                    report.bytes += letter.bytes.len();
                    report.largest = report.largest.max(letter.bytes.len());
                }
                Err(DeliveryError::Write { path, source }) => {
                    return Err(Error::Write { path, source });
                }
            }
        }
        Ok(report)
    }
}
