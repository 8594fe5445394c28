//! Previews: one digest as files an editor opens before sending: the HTML
//! part (for a browser), the text part and the whole message, with the
//! unsubscription links signed with the test secret (a preview is never
//! sent); and the desk, which serves every digest of an issue as its files
//! are saved ([`desk`], [`server`]).

pub mod desk;
pub mod server;

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use lettre::message::Mailbox;

use crate::campaign::Campaign;
use crate::deliver::files::file_stem;
use crate::image::{Image, replace_cids};
use crate::issue::Issue;
use crate::message::{self, EncodedDigest, Letter};
use crate::render::Renderer;
use crate::select::{Selection, parse_interests};
use crate::subscribers::List;
use crate::unsubscribe::{Labels, Links, Signer};
use crate::{Error, Result};

/// Whose digest to preview.
#[derive(Debug, Clone, Copy)]
pub enum Whom<'a> {
    /// A member of the list, by address.
    Member(&'a str),
    /// A set of sections, as `--interests` writes them (`""` for all).
    Interests(&'a str),
}

/// One digest, ready to be written as files.
#[derive(Debug)]
pub struct Preview {
    /// Who it is for.
    pub to: Mailbox,
    /// The sections it holds.
    pub sections: Vec<String>,
    /// The HTML part, links filled in.
    pub html: String,
    /// The text part, links filled in.
    pub text: String,
    /// The whole message.
    pub letter: Letter,
    /// The name of its files, without extension.
    pub stem: String,
    /// The images it shows (sent inside the message).
    pub images: Vec<Image>,
}

/// The digest of `whom`, as `list` would send it.
pub fn preview(
    issue: &Issue,
    list: &List,
    whom: Whom<'_>,
    date: DateTime<FixedOffset>,
) -> Result<Preview> {
    let (to, selection) = match whom {
        Whom::Member(email) => {
            let member = list
                .member(email)?
                .ok_or_else(|| Error::NoSuchMember(email.to_owned()))?;
            let campaign = Campaign::for_members(issue, list, [Ok(member.clone())])?;
            let Some(variant) = campaign.audience().variants.first() else {
                return Err(Error::ReceivesNothing {
                    address: email.to_owned(),
                    interests: member.interests.join(", "),
                });
            };
            (member.mailbox(), variant.selection.clone())
        }
        Whom::Interests(ids) => (List::preview_reader(), parse_interests(issue, ids)?),
    };
    let digest = Renderer::new().render(issue, Some(list), &selection)?;
    let signer = Signer::test();
    let labels = Labels::new(issue);
    let links = Links {
        list,
        issue,
        signer: &signer,
        labels: &labels,
    };
    let letter = message::build(&links, &to, &EncodedDigest::new(&digest), date, None)?;
    let (html, text) = links.personalise(&digest, &to.email);
    let stem = match whom {
        Whom::Member(_) => file_stem(to.email.as_ref()),
        Whom::Interests(_) => stem(issue, &selection),
    };
    Ok(Preview {
        to,
        images: digest.images,
        sections: digest.section_ids,
        html,
        text,
        letter,
        stem,
    })
}

/// The file name of a set of sections.
fn stem(issue: &Issue, selection: &Selection) -> String {
    if selection.is_everything(issue) {
        "toutes-rubriques".to_owned()
    } else {
        selection.ids(issue).join("+")
    }
}

impl Preview {
    /// Writes `STEM.html`, `STEM.txt` and `STEM.eml` into `dir` (made if
    /// needed), and the images beside them, which the `.html` file shows
    /// (the message refers to them by `Content-ID`); their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut written = Vec::new();
        let html = replace_cids(&self.html, &self.images, Image::file_name);
        let mut files = vec![
            (format!("{}.html", self.stem), html.as_bytes()),
            (format!("{}.txt", self.stem), self.text.as_bytes()),
            (format!("{}.eml", self.stem), self.letter.bytes.as_slice()),
        ];
        for image in &self.images {
            files.push((image.file_name(), image.bytes.as_slice()));
        }
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }
}
