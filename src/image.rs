//! Images an issue or a list carries: read from a file beside it, checked
//! (PNG, JPEG or GIF, with its size in pixels), and named by a hash of its
//! bytes, which is its `Content-ID` in every message.
//!
//! An image goes inside each message that shows it (`multipart/related`),
//! never fetched from a server, so that no image load tells anyone a
//! message was opened.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use toml::Spanned;

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};

/// The formats every mail program shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
    /// `image/gif`.
    Gif,
}

impl Format {
    /// Its media type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Gif => "image/gif",
        }
    }

    /// Its usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Gif => "gif",
        }
    }
}

/// The widest an image is shown in a digest, in CSS pixels: the column
/// inside the highlight's frame. A wider image (a photo for high-density
/// screens) is shown at this width, its height in proportion.
pub const MAX_WIDTH: u32 = 480;

/// One image, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Its path as the file wrote it.
    pub src: String,
    /// Its bytes.
    pub bytes: Arc<Vec<u8>>,
    /// Its format.
    pub format: Format,
    /// Its size in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// Its `Content-ID`, without angle brackets: `img-HASH@breves`, the
    /// same for the same bytes wherever they are.
    pub cid: String,
}

/// A masthead logo (`logo = { file = "…", alt = "…" }` under `[issue]`
/// or `[list]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// The image.
    pub image: Image,
    /// Its alternative text (the name it shows).
    pub alt: String,
}

/// Why an image cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// An address on the web rather than a file.
    Remote,
    /// No such file.
    Missing,
    /// The file cannot be read.
    Unreadable(String),
    /// Not PNG, JPEG or GIF (what it is, when known).
    Format(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Remote => f.write_str(
                "an image on the web would be fetched when the message is opened, which tells who read it; images are sent inside the message",
            ),
            Refused::Missing => f.write_str(
                "there is no such file (an image's path is relative to the file that names it)",
            ),
            Refused::Unreadable(reason) => write!(f, "it cannot be read: {reason}"),
            Refused::Format(what) => {
                write!(f, "it is {what}; mail programs show PNG, JPEG and GIF")
            }
        }
    }
}

impl Image {
    /// Reads the image `src` names, relative to `dir`.
    pub fn load(dir: &Path, src: &str) -> Result<Image, Refused> {
        let lower = src.trim().to_ascii_lowercase();
        if lower.contains("://") || lower.starts_with("//") || lower.starts_with("data:") {
            return Err(Refused::Remote);
        }
        let path = dir.join(src.trim());
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Refused::Missing,
            _ => Refused::Unreadable(e.to_string()),
        })?;
        Image::from_bytes(src, bytes)
    }

    /// Checks an image's bytes.
    pub fn from_bytes(src: &str, bytes: Vec<u8>) -> Result<Image, Refused> {
        let format = match imagesize::image_type(&bytes) {
            Ok(imagesize::ImageType::Png) => Format::Png,
            Ok(imagesize::ImageType::Jpeg) => Format::Jpeg,
            Ok(imagesize::ImageType::Gif) => Format::Gif,
            Ok(other) => return Err(Refused::Format(format!("{other:?}").to_uppercase())),
            Err(_) => return Err(Refused::Format("not an image breves knows".into())),
        };
        let size = imagesize::blob_size(&bytes)
            .map_err(|e| Refused::Format(format!("a damaged {format:?} ({e})")))?;
        let (width, height) = (
            u32::try_from(size.width).unwrap_or(0),
            u32::try_from(size.height).unwrap_or(0),
        );
        if width == 0 || height == 0 {
            return Err(Refused::Format(format!("a {format:?} of no pixels")));
        }
        let hash = Sha256::digest(&bytes);
        let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        let cid = format!("img-{hex}@breves");
        Ok(Image {
            src: src.trim().to_owned(),
            bytes: Arc::new(bytes),
            format,
            width,
            height,
            cid,
        })
    }

    /// The size it is shown at: its own, or [`MAX_WIDTH`] wide with its
    /// height in proportion.
    pub fn shown(&self) -> (u32, u32) {
        if self.width <= MAX_WIDTH {
            (self.width, self.height)
        } else {
            let height = u64::from(self.height) * u64::from(MAX_WIDTH) / u64::from(self.width);
            (MAX_WIDTH, u32::try_from(height.max(1)).unwrap_or(1))
        }
    }

    /// Its file name in a folder of images (a preview, the archive): its
    /// `Content-ID`'s hash and its format's extension.
    pub fn file_name(&self) -> String {
        let stem = self.cid.split('@').next().unwrap_or(&self.cid);
        format!("{stem}.{}", self.format.extension())
    }
}

/// `html` with each `cid:` reference to one of `images` replaced by what
/// `to` gives for it (a file name, an address): for showing a digest
/// outside a mail program.
pub fn replace_cids<'a>(
    html: &str,
    images: impl IntoIterator<Item = &'a Image>,
    to: impl Fn(&Image) -> String,
) -> String {
    let mut html = html.to_owned();
    for image in images {
        html = html.replace(
            &format!("\"cid:{}\"", image.cid),
            &format!("\"{}\"", to(image)),
        );
    }
    html
}

/// `logo = { file = "images/logo.png", alt = "…" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLogo {
    pub(crate) file: Spanned<String>,
    pub(crate) alt: Spanned<String>,
}

/// Reads the logo a file gives, relative to it: an error in `problems`
/// for a file that cannot be sent or an empty alternative text.
pub(crate) fn logo(
    file: &Arc<SourceFile>,
    raw: &Spanned<RawLogo>,
    problems: &mut Problems,
) -> Option<Logo> {
    let raw = raw.get_ref();
    let alt = raw.alt.get_ref().trim().to_owned();
    let src = raw.file.get_ref();
    if alt.is_empty() {
        problems.push(
            Problem::error(ProblemKind::ImageWithoutAlt { src: src.clone() })
                .at(file.locate(raw.alt.span()))
                .hint("the name the logo shows, such as alt = \"Direction générale du Trésor\""),
        );
    }
    match Image::load(&image_folder(file), src) {
        Ok(image) => (!alt.is_empty()).then_some(Logo { image, alt }),
        Err(refused) => {
            problems.push(
                Problem::error(ProblemKind::ImageRefused {
                    src: src.clone(),
                    reason: refused.to_string(),
                })
                .at(file.locate(raw.file.span())),
            );
            None
        }
    }
}

/// The folder images are read from: the file's own.
pub(crate) fn image_folder(file: &SourceFile) -> std::path::PathBuf {
    match file.path().parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}
