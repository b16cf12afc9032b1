//! Files and directories in the temporary directory, named for the test
//! process, removed when dropped (also when the test fails).

use std::ops::Deref;
use std::path::{Path, PathBuf};

/// `promscope-test-PID-NAME` in the temporary directory.
fn path_for(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("promscope-test-{}-{name}", std::process::id()))
}

pub struct TempFile(pub PathBuf);

impl TempFile {
    /// `promscope-test-PID-NAME` in the temporary directory (not created).
    pub fn new(name: &str) -> Self {
        TempFile(path_for(name))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A directory of its own, created empty; derefs to its path.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `promscope-test-PID-NAME` in the temporary directory, created.
    pub fn new(name: &str) -> Self {
        let dir = path_for(name);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `text` to the file `name` in the directory; its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
