//! Writing a file the user asked for (a request's body) without ever
//! overwriting one: `name`, else `stem-2.ext`, `stem-3.ext`…

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Names tried before giving up.
const TRIES: usize = 1000;

/// Writes `bytes` to a file in `dir` that did not exist, named `name` or a
/// numbered variant of it; returns its path.
pub fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) => (stem, format!(".{ext}")),
        None => (name, String::new()),
    };
    for n in 1..=TRIES {
        let path = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}-{n}{ext}"))
        };
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                file.write_all(bytes)?;
                file.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{name} and {TRIES} numbered variants of it exist already"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("promscope-new-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = write_new(&dir, "body.json", b"one").unwrap();
        let second = write_new(&dir, "body.json", b"two").unwrap();
        let third = write_new(&dir, "body.json", b"three").unwrap();
        assert_eq!(first, dir.join("body.json"));
        assert_eq!(second, dir.join("body-2.json"));
        assert_eq!(third, dir.join("body-3.json"));
        assert_eq!(std::fs::read(&first).unwrap(), b"one");
        assert_eq!(std::fs::read(&second).unwrap(), b"two");
        let missing = write_new(&dir.join("no-such-dir"), "body.bin", b"x");
        assert!(missing.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
