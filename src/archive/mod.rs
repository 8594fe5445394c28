//! The web archive: every issue as a page anyone can read, an index of the
//! issues, newest first, and an Atom feed, as a static site.
//!
//! A page holds the whole issue (every section) and nothing personal: no
//! subscriber, no unsubscription link. It is laid out for a browser
//! (semantic HTML, one stylesheet in the head, fluid to a phone's width)
//! from the same Markdown tree as the digests ([`crate::render::html`]'s
//! blocks). The site is a folder to publish as it is: `index.html`,
//! `feed.xml` (when the site's address is known), and
//! `ISSUE-ID/index.html` for each issue, which is the
//! address every digest links to when the list gives `archive_url`
//! ([`crate::subscribers::archive_page`]).

mod feed;
mod page;

use std::path::{Path, PathBuf};

use crate::diagnostics::Problems;
use crate::image::{Image, Logo, replace_cids};
use crate::issue::Issue;
use crate::subscribers::{List, archive_page, web_address};
use crate::{Error, Result};

/// Loads every issue file, or stops with the problems of all of them; the
/// warnings of all.
pub fn load(paths: &[PathBuf]) -> Result<(Vec<Entry>, Problems)> {
    let mut entries = Vec::new();
    let mut problems = Problems::new();
    let mut broken = false;
    for path in paths {
        match Issue::load(path) {
            Ok((issue, warnings)) => {
                problems.extend(warnings);
                entries.push(Entry {
                    path: path.clone(),
                    issue,
                });
            }
            Err(Error::Invalid(these)) => {
                broken = true;
                problems.extend(these);
            }
            Err(e) => return Err(e),
        }
    }
    if broken {
        return Err(Error::Invalid(problems));
    }
    Ok((entries, problems))
}

/// One issue to publish, with the file it was read from.
#[derive(Debug)]
pub struct Entry {
    /// The issue file.
    pub path: PathBuf,
    /// The issue.
    pub issue: Issue,
}

/// The site, made in memory: each file's path inside the site and its
/// bytes.
#[derive(Debug)]
pub struct Site {
    /// The files, the index first, then the feed, then the issues' pages,
    /// newest first, each followed by its images.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// The issues' ids, newest first.
    pub issues: Vec<String>,
    /// Whether it has a feed (it knows its address).
    pub feed: bool,
}

/// What the site is called and where it lives.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The site's address, without a final slash (a list's `archive_url`):
    /// without it, the pages have no canonical address and the site no
    /// feed (a feed's entries need one).
    pub base: Option<String>,
    /// Its title (default: the newest issue's title).
    pub title: Option<String>,
    /// The logo of issues that give none (the list's).
    pub logo: Option<Logo>,
}

impl Settings {
    /// The site at `url`, or else at the list's `archive_url`, called by
    /// the list's name.
    pub fn new(url: Option<&str>, list: Option<&List>) -> Result<Settings> {
        let base = match url {
            Some(url) => {
                Some(web_address(url).ok_or_else(|| Error::NotAWebAddress(url.to_owned()))?)
            }
            None => list.and_then(|l| l.archive_url.clone()),
        };
        Ok(Settings {
            base,
            title: list.and_then(|l| l.name.clone()),
            logo: list.and_then(|l| l.logo.clone()),
        })
    }
}

/// Builds the site of `entries`, ordered newest first (by the end of their
/// period, then their date). Two files of one issue id are refused.
pub fn build(mut entries: Vec<Entry>, settings: &Settings) -> Result<Site> {
    for (i, entry) in entries.iter().enumerate() {
        if let Some(first) = entries[..i].iter().find(|e| e.issue.id == entry.issue.id) {
            return Err(Error::SameIssueTwice {
                id: entry.issue.id.clone(),
                first: first.path.clone(),
                second: entry.path.clone(),
            });
        }
    }
    entries.sort_by(|a, b| {
        (b.issue.period.to, b.issue.default_date(), &b.issue.id).cmp(&(
            a.issue.period.to,
            a.issue.default_date(),
            &a.issue.id,
        ))
    });
    let issues: Vec<&Issue> = entries.iter().map(|e| &e.issue).collect();
    let title = settings
        .title
        .clone()
        .or_else(|| issues.first().map(|i| i.title.clone()))
        .unwrap_or_default();
    let site = page::SiteInfo {
        title: &title,
        base: settings.base.as_deref(),
        logo: settings.logo.as_ref(),
    };
    let mut files = vec![(
        PathBuf::from("index.html"),
        page::index(&site, &issues).into_bytes(),
    )];
    if let Some(base) = site.base {
        files.push((
            PathBuf::from(feed::FILE),
            feed::feed(&site, base, &issues)?.into_bytes(),
        ));
    }
    for issue in &issues {
        let folder = Path::new(&issue.id);
        files.push((
            folder.join("index.html"),
            page::issue(&site, issue).into_bytes(),
        ));
        for image in images_of(&site, issue) {
            files.push((
                folder.join(IMAGES).join(image.file_name()),
                image.bytes.to_vec(),
            ));
        }
        if let Some(former) = issue.former_id.as_ref().filter(|f| **f != issue.id) {
            files.push((
                Path::new(former).join("index.html"),
                page::moved(&site, issue).into_bytes(),
            ));
        }
    }
    Ok(Site {
        files,
        issues: issues.iter().map(|i| i.id.clone()).collect(),
        feed: site.base.is_some(),
    })
}

impl Site {
    /// Writes the site into `dir` (made if needed), leaving other files
    /// there as they are, and only inside it: a symbolic link planted at a
    /// file's name is replaced, a linked subfolder refused
    /// ([`crate::folder`]); the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut written = Vec::new();
        for (path, text) in &self.files {
            let path = crate::folder::write_inside(dir, path, text, false)
                .map_err(|(path, source)| Error::Write { path, source })?;
            written.push(path);
        }
        Ok(written)
    }
}

/// The folder of an issue's images, beside its page.
const IMAGES: &str = "images";

/// Every image an issue's page shows: its logo (or the site's), then
/// those of its articles and colophon.
fn images_of<'a>(site: &page::SiteInfo<'a>, issue: &'a Issue) -> Vec<&'a Image> {
    issue
        .logo
        .as_ref()
        .or(site.logo)
        .map(|l| &l.image)
        .into_iter()
        .chain(&issue.images)
        .collect()
}

/// An issue's HTML with its images' `cid:` references made addresses:
/// `prefix` (the page's own folder, or its address) and the image's file.
fn with_image_files(html: &str, site: &page::SiteInfo<'_>, issue: &Issue, prefix: &str) -> String {
    replace_cids(html, images_of(site, issue), |i| {
        format!("{prefix}{IMAGES}/{}", i.file_name())
    })
}

/// The address of an issue's page on the site at `base`.
fn page_url(base: &str, issue: &Issue) -> String {
    archive_page(base, &issue.id)
}

/// The address an issue was first published at on the site at `base`: its
/// page's, or for an issue that had a former id, the former page's (which
/// leads to it), so that the feed's id of an issue never changes.
fn first_url(base: &str, issue: &Issue) -> String {
    archive_page(base, issue.former_id.as_deref().unwrap_or(&issue.id))
}
