//! One issue sent to one list: the audience worked out, each distinct digest
//! rendered once, and the letter of each recipient built as it is asked for
//! (by [`crate::dispatch`], which hands it to a transport).
//!
//! ```no_run
//! # async fn run() -> breves::Result<()> {
//! use breves::{campaign::Campaign, dispatch, issue::Issue, subscribers::List};
//! use breves::deliver::files::Outbox;
//! use std::path::Path;
//! use std::sync::atomic::AtomicBool;
//!
//! let (issue, _) = Issue::load(Path::new("issues/2026-03-royaume-uni.toml"))?;
//! let (list, _) = List::load(Path::new("subscribers/londres.toml"))?;
//! let campaign = Campaign::prepare(&issue, &list)?;
//! let outbox = Outbox::create(Path::new("outbox"), &issue.id, &list.id)?;
//! let options = dispatch::Options {
//!     concurrency: 1,
//!     rate: None,
//!     retry: dispatch::Retry::default(),
//!     date: issue.default_date(),
//! };
//! let stop = AtomicBool::new(false);
//! // The list is read again as the letters are handed over.
//! let recipients = dispatch::Recipients::new(
//!     campaign.audience().recipients,
//!     campaign.recipients(list.members()),
//! );
//! let report = dispatch::run(&campaign, &outbox, recipients, None, &options, &dispatch::Silent, &stop).await?;
//! println!("{} written", report.delivered);
//! # Ok(()) }
//! ```

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};

use crate::deliver::files::Skipped;
use crate::diagnostics::{Problem, ProblemKind, Problems};

use crate::Result;
use crate::address::Key;
use crate::issue::Issue;
use crate::message::{self, Dkim, EncodedDigest, Encodings, Letter, Skeleton};
use crate::render::{Digest, Renderer};
use crate::select::{Audience, Selection};
use crate::subscribers::{List, Member};
use crate::unsubscribe::Signer;
use crate::unsubscribe::{Labels, Links};

/// Gmail clips a message whose HTML part, as it travels (encoded), is
/// larger than about 102 KB, hiding the rest, the footer included. Sizes
/// are shown in KB of 1,000 bytes, as this limit is given.
pub const GMAIL_CLIP_BYTES: usize = 102_000;

/// The size of a digest's HTML part as Gmail counts it: as it travels,
/// quoted-printable, its links to each reader not filled in
/// ([`Campaign::html_size`] fills them).
pub fn gmail_size(digest: &Digest) -> usize {
    crate::message::encoded_len(&digest.html)
}

/// A size as the editors read it: "48.5 KB", in KB of 1,000 bytes (the
/// unit of [`GMAIL_CLIP_BYTES`]).
pub fn kilobytes(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// A size of any magnitude, in the same unit as [`kilobytes`]: "48.5 KB",
/// "141.0 MB" (of 1,000,000 bytes) from a million bytes on. What every
/// command prints sizes with, so that they agree with the desk and the
/// CI summary.
pub fn size(bytes: usize) -> String {
    match bytes {
        0..1_000_000 => kilobytes(bytes),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

/// The most a message's images should weigh together: past this, every
/// subscriber downloads a heavy message, and some providers slow it down.
pub const IMAGES_BYTES: usize = 200 * 1024;

/// The sections of a digest, as a warning names them.
fn named(digest: &Digest) -> String {
    if digest.section_ids.is_empty() {
        "the highlight only".to_owned()
    } else {
        format!("sections {}", digest.section_ids.join(", "))
    }
}

/// The warnings for a digest whose HTML Gmail would clip, or whose images
/// weigh too much, if it is one.
pub fn size_warnings(digest: &Digest) -> Vec<Problem> {
    warnings_of_sizes(digest, gmail_size(digest))
}

/// [`size_warnings`], the HTML part measured as `html` bytes.
fn warnings_of_sizes(digest: &Digest, html: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    if html > GMAIL_CLIP_BYTES {
        problems.push(
            Problem::warning(ProblemKind::HtmlTooLarge {
                sections: named(digest),
                size: html,
                limit: GMAIL_CLIP_BYTES,
            })
            .hint("shorten the articles, or split the issue"),
        );
    }
    let images: usize = digest.images.iter().map(|i| i.bytes.len()).sum();
    if images > IMAGES_BYTES {
        problems.push(
            Problem::warning(ProblemKind::ImagesTooLarge {
                sections: named(digest),
                size: images,
                limit: IMAGES_BYTES,
            })
            .hint("make the images smaller (a photo 960 pixels wide as a JPEG is about 100 KB), or use fewer"),
        );
    }
    problems
}

/// Renders the issue once and assembles and encodes every variant of
/// `audience` from it, the variants shared out among the machine's cores
/// (encoding each takes a fraction of a millisecond, and a list can have
/// dozens).
fn render_all(
    issue: &Issue,
    list: &List,
    audience: &Audience,
) -> Result<(Vec<Digest>, Vec<EncodedDigest>)> {
    let everything = Selection::for_interests(issue, &[]);
    let template = Renderer::new().template(issue, Some(list), &everything)?;
    let template = &template;
    let variants = &audience.variants;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let per_thread = variants.len().div_ceil(cores).max(1);
    let assemble = |part: &[crate::select::Variant]| -> Vec<(Digest, EncodedDigest)> {
        let mut encodings = Encodings::default();
        part.iter()
            .map(|v| {
                let digest = template.digest(&v.selection);
                let encoded = EncodedDigest::with(&digest, &mut encodings);
                (digest, encoded)
            })
            .collect()
    };
    let parts = std::thread::scope(|scope| {
        let threads: Vec<_> = variants
            .chunks(per_thread)
            .map(|part| scope.spawn(move || assemble(part)))
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join().map_err(|_| crate::Error::Task {
                    what: "a renderer",
                    reason: "it panicked".into(),
                })
            })
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(parts.into_iter().flatten().unzip())
}

/// A send, ready to go: who receives which digest, every digest rendered.
pub struct Campaign<'a> {
    issue: &'a Issue,
    list: &'a List,
    audience: Audience,
    digests: Vec<Digest>,
    encoded: Vec<EncodedDigest>,
    /// Each variant's skeleton, made with its first message (`None` if it
    /// could not be made: its messages are then built by lettre whole).
    skeletons: Vec<OnceLock<Option<Skeleton>>>,
    signer: Signer,
    labels: Labels,
    dkim: Option<Dkim>,
}

impl<'a> Campaign<'a> {
    /// Works out the audience of `issue` in `list` and renders each distinct
    /// digest once.
    pub fn prepare(issue: &'a Issue, list: &'a List) -> Result<Self> {
        Campaign::new(issue, list, Audience::of(issue, list)?)
    }

    /// The same for some members only (a preview, a test send), as they
    /// are read.
    pub fn for_members(
        issue: &'a Issue,
        list: &'a List,
        members: impl IntoIterator<Item = Result<Member>>,
    ) -> Result<Self> {
        Campaign::new(issue, list, Audience::of_members(issue, members)?)
    }

    /// Renders each distinct digest of `audience` once.
    pub fn new(issue: &'a Issue, list: &'a List, audience: Audience) -> Result<Self> {
        let (digests, encoded) = render_all(issue, list, &audience)?;
        Ok(Campaign {
            issue,
            list,
            audience,
            digests,
            skeletons: encoded.iter().map(|_| OnceLock::new()).collect(),
            encoded,
            signer: Signer::test(),
            labels: Labels::new(issue),
            dkim: None,
        })
    }

    /// The same campaign with its messages signed with DKIM.
    pub fn with_dkim(mut self, dkim: Dkim) -> Self {
        self.dkim = Some(dkim);
        self
    }

    /// The same campaign with its unsubscription links signed by `signer`
    /// (by default, the test secret of dry runs and previews).
    pub fn with_signer(mut self, signer: Signer) -> Self {
        self.signer = signer;
        self
    }

    /// What signs the unsubscription links, with the list and issue.
    pub fn links(&self) -> Links<'_> {
        Links {
            list: self.list,
            issue: self.issue,
            signer: &self.signer,
            labels: &self.labels,
        }
    }

    /// The issue.
    pub fn issue(&self) -> &'a Issue {
        self.issue
    }

    /// The list.
    pub fn list(&self) -> &'a List {
        self.list
    }

    /// Who receives what.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    /// The rendered digests, one per variant.
    pub fn digests(&self) -> &[Digest] {
        &self.digests
    }

    /// Warnings about the rendered digests: any whose HTML Gmail would
    /// clip, or whose images weigh too much.
    pub fn check_sizes(&self) -> Problems {
        let mut problems = Problems::new();
        for (variant, digest) in self.digests.iter().enumerate() {
            let html = self
                .html_size(variant)
                .unwrap_or_else(|_| gmail_size(digest));
            for problem in warnings_of_sizes(digest, html) {
                problems.push(problem);
            }
        }
        problems
    }

    /// The size of variant `variant`'s HTML part as Gmail counts it: as it
    /// travels, in a message filled for a reader (every reader's links are
    /// of the same length).
    pub fn html_size(&self, variant: usize) -> Result<usize> {
        let digest = &self.digests[variant];
        let letter = message::build(
            &self.links(),
            &List::preview_reader(),
            &self.encoded[variant],
            self.issue.default_date(),
            None,
        )?;
        let parsed = mail_parser::MessageParser::default().parse(&letter.bytes);
        let html = parsed.as_ref().and_then(|m| {
            m.parts.iter().find(|p| {
                mail_parser::MimeHeaders::content_type(*p)
                    .is_some_and(|c| c.c_type == "text" && c.subtype() == Some("html"))
            })
        });
        Ok(html.map_or_else(
            || gmail_size(digest),
            |part| (part.offset_end - part.offset_body) as usize,
        ))
    }

    /// `members` as recipients of this campaign, in their order: each with
    /// the variant they receive; those who receive none of this
    /// campaign's are passed over.
    pub fn recipients<'m>(
        &'m self,
        members: impl IntoIterator<Item = Result<Member>> + 'm,
    ) -> impl Iterator<Item = Result<Recipient>> + 'm {
        members.into_iter().filter_map(move |member| match member {
            Ok(member) => self
                .audience
                .variant_of(self.issue, &member)
                .map(|variant| Ok(Recipient::new(member, variant))),
            Err(e) => Some(Err(e)),
        })
    }

    /// The letter of one recipient, signed when the campaign signs.
    pub fn letter(&self, recipient: &Recipient, date: DateTime<FixedOffset>) -> Result<Letter> {
        self.building(recipient, date).map(message::Built::signed)
    }

    /// [`Campaign::letter`], the signature of a signed letter left to be
    /// made ([`message::ToSign::sign`], on another thread by the send).
    pub fn building(
        &self,
        recipient: &Recipient,
        date: DateTime<FixedOffset>,
    ) -> Result<message::Built> {
        let letter = self.unsigned(recipient, date)?;
        Ok(match &self.dkim {
            None => message::Built::Ready(letter),
            // Assembled as an unsigned letter is, then signed.
            Some(dkim) => message::Built::ToSign(message::ToSign::new(letter, dkim, date)),
        })
    }

    /// The letter of one recipient as it is sent unsigned: from its
    /// variant's skeleton, unless dated otherwise than the variant's first.
    fn unsigned(&self, recipient: &Recipient, date: DateTime<FixedOffset>) -> Result<Letter> {
        let links = self.links();
        let digest = &self.encoded[recipient.variant];
        let to = recipient.member.mailbox();
        let skeleton =
            self.skeletons[recipient.variant].get_or_init(|| Skeleton::new(&links, digest, date));
        if let Some(skeleton) = skeleton.as_ref().filter(|s| s.date() == date) {
            return Ok(skeleton.letter(&links, &to, digest));
        }
        message::build(&links, &to, digest, date, None)
    }

    /// The letters of the whole list, in list order, built as they are
    /// asked for.
    pub fn letters(
        &self,
        date: DateTime<FixedOffset>,
    ) -> impl Iterator<Item = Result<Letter>> + '_ {
        self.recipients(self.list.members())
            .map(move |recipient| self.letter(&recipient?, date))
    }

    /// The members who receive nothing from this issue.
    pub fn skipped(&self) -> Vec<Skipped> {
        self.audience
            .skipped
            .iter()
            .map(|member| Skipped {
                recipient: member.email.to_string(),
                reason: format!(
                    "none of their interests ({}) is a section of this issue",
                    member.interests.join(", ")
                ),
            })
            .collect()
    }
}

/// One member as a campaign's recipient: who, and which digest.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// The member.
    pub member: Member,
    /// The key the ledger knows them by.
    pub key: Key,
    /// The index of the variant (digest) they receive.
    pub variant: usize,
}

impl Recipient {
    /// `member`, who receives the variant `variant`.
    pub fn new(member: Member, variant: usize) -> Recipient {
        Recipient {
            key: Key::of(&member.email),
            member,
            variant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;
    use std::sync::Arc;

    #[test]
    fn sizes_are_in_one_unit_of_1000_bytes_everywhere() {
        assert_eq!(kilobytes(48_500), "48.5 KB");
        assert_eq!(kilobytes(GMAIL_CLIP_BYTES), "102.0 KB");
        assert_eq!(size(999_949), "999.9 KB");
        assert_eq!(size(1_000_000), "1.0 MB");
        assert_eq!(size(141_000_000), "141.0 MB");
    }

    #[test]
    fn each_distinct_digest_is_rendered_once_however_many_members_share_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (issue, _) =
            Issue::load(&root.join("tests/fixtures/small/issue.toml")).expect("the small issue");
        let mut text = String::from(
            "[list]\nid = \"l\"\nfrom = \"L <l@example.fr>\"\ntopics = { economie-numerique = \"E\", spatial = \"S\" }\n",
        );
        let choices = ["[\"spatial\"]", "[\"economie-numerique\"]", "[]"];
        for i in 0..60 {
            text.push_str(&format!(
                "[[member]]\nemail = \"m{i}@example.org\"\ninterests = {}\n",
                choices[i % 3]
            ));
        }
        let (list, problems) = List::parse(&Arc::new(SourceFile::new("l.toml", text)));
        let list = list.unwrap_or_else(|| panic!("{problems:?}"));
        let rendered = crate::render::templates_rendered();
        let campaign = Campaign::prepare(&issue, &list).expect("campaign");
        assert_eq!(
            crate::render::templates_rendered() - rendered,
            1,
            "the issue rendered once, in pieces, for every variant"
        );
        // (The variants are encoded on threads of their own; the letters,
        // on this one: each is counted here.)
        let (rendered, encoded) = (
            crate::render::templates_rendered(),
            message::digests_encoded(),
        );
        assert_eq!(campaign.audience().variants.len(), 3);
        assert_eq!(campaign.digests().len(), 3, "one rendering per variant");
        assert_eq!(campaign.encoded.len(), 3, "one encoding per variant");
        let date = issue.default_date();
        let letters: Vec<Letter> = campaign
            .letters(date)
            .collect::<Result<_>>()
            .expect("letters");
        assert_eq!(letters.len(), 60);
        assert_eq!(
            (
                crate::render::templates_rendered() - rendered,
                message::digests_encoded() - encoded
            ),
            (0, 0),
            "sixty letters, nothing rendered or encoded for any of them"
        );
    }
}
