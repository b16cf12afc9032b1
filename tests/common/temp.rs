//! A file in the temporary directory, named for the test process, removed
//! when dropped.

use std::path::PathBuf;

pub struct TempFile(pub PathBuf);

impl TempFile {
    /// `promscope-test-PID-NAME` in the temporary directory (not created).
    pub fn new(name: &str) -> Self {
        TempFile(std::env::temp_dir().join(format!("promscope-test-{}-{name}", std::process::id())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
