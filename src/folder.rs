//! Files written inside one folder and only there: a symbolic link planted
//! in the folder is replaced, never written through, and a linked
//! subfolder is refused, so that whoever can write into an output folder
//! cannot make breves overwrite a file elsewhere.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};

/// Creates the file at `path` anew, readable by its owner only when
/// `private`: whatever was there (a file, a symbolic link) is removed
/// first, and the file is created only if nothing took its place since
/// (`O_EXCL`, which never follows a link).
pub fn create_fresh(path: &Path, private: bool) -> io::Result<fs::File> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    options.open(path)
}

/// Makes the folders of `relative` inside `dir`, refusing any of them that
/// is a symbolic link; the folder that will hold the file, or the folder
/// at fault and why.
pub fn folders_inside(dir: &Path, relative: &Path) -> Result<PathBuf, (PathBuf, io::Error)> {
    let mut at = dir.to_path_buf();
    let parent = relative.parent().unwrap_or(Path::new(""));
    for component in parent.components() {
        let Component::Normal(name) = component else {
            return Err((
                dir.join(relative),
                io::Error::new(io::ErrorKind::InvalidInput, "a path that leaves the folder"),
            ));
        };
        at.push(name);
        let refused = |kind, why: &str| Err((at.clone(), io::Error::new(kind, why.to_owned())));
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return refused(
                    io::ErrorKind::InvalidInput,
                    "a symbolic link: breves writes only inside the output folder, never through a link (remove it)",
                );
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return refused(
                    io::ErrorKind::AlreadyExists,
                    "a file where a folder should be",
                );
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&at).map_err(|e| (at.clone(), e))?;
            }
            Err(e) => return Err((at, e)),
        }
    }
    Ok(at)
}

/// Writes `bytes` to `relative` inside `dir`, whole or not at all (to
/// `NAME.part`, then renamed, which replaces a link at `NAME` rather than
/// following it); the path written, or the path at fault and why.
pub fn write_inside(
    dir: &Path,
    relative: &Path,
    bytes: &[u8],
    private: bool,
) -> Result<PathBuf, (PathBuf, io::Error)> {
    let folder = folders_inside(dir, relative)?;
    let Some(name) = relative.file_name() else {
        return Err((
            dir.join(relative),
            io::Error::new(io::ErrorKind::InvalidInput, "no file name"),
        ));
    };
    let path = folder.join(name);
    let mut partial = path.clone().into_os_string();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    let written = create_fresh(&partial, private)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&partial, &path));
    if let Err(e) = written {
        let _ = fs::remove_file(&partial);
        return Err((path, e));
    }
    Ok(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_link_planted_in_the_folder_is_replaced_or_refused_never_followed() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("out");
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&out).expect("out");
        fs::create_dir_all(&elsewhere).expect("elsewhere");
        let victim = elsewhere.join("victim.txt");
        fs::write(&victim, "keep me").expect("victim");
        // A link at the file's name, and one at its partial name.
        std::os::unix::fs::symlink(&victim, out.join("a.html")).expect("link");
        std::os::unix::fs::symlink(&victim, out.join("b.html.part")).expect("link");
        for name in ["a.html", "b.html"] {
            write_inside(&out, Path::new(name), b"new", false).expect("written");
            let meta = fs::symlink_metadata(out.join(name)).expect("meta");
            assert!(meta.is_file(), "{name} is a file of its own now");
        }
        // A linked subfolder is refused, and named.
        std::os::unix::fs::symlink(&elsewhere, out.join("2026-03")).expect("link");
        let (at, e) = write_inside(&out, Path::new("2026-03/victim.txt"), b"new", false)
            .expect_err("refused");
        assert_eq!(at, out.join("2026-03"));
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(write_inside(&out, Path::new("../x"), b"new", false).is_err());
        assert_eq!(fs::read_to_string(&victim).expect("read"), "keep me");
        assert_eq!(fs::read_dir(&elsewhere).expect("list").count(), 1);
    }
}
