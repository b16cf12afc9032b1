//! The promscope binary started for a test: spawned with stderr piped, and
//! waited for until its first stderr line says where it listens.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::thread::JoinHandle;

use super::url_in;

/// A child process that is killed (and reaped) when dropped still running:
/// a test that fails half-way leaves no promscope behind, holding the pipes
/// of whatever ran the tests.
pub struct Owned(Option<Child>);

impl Owned {
    /// The process, no longer killed on drop.
    pub fn into_inner(mut self) -> Child {
        self.0.take().expect("taken once")
    }
}

impl std::ops::Deref for Owned {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("not taken")
    }
}

impl std::ops::DerefMut for Owned {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("not taken")
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0
            && let Ok(None) = child.try_wait()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A running promscope that said where it listens.
pub struct Started {
    pub child: Owned,
    /// The URL of its first line (`receiving remote-write on URL`).
    pub url: String,
    /// That first line.
    pub first_line: String,
    /// The rest of its stderr.
    pub stderr: BufReader<ChildStderr>,
}

/// `promscope ARGS` with stdout to `stdout`.
pub fn start_promscope<S: AsRef<OsStr>>(args: &[S], stdout: Stdio) -> Started {
    let mut command = Command::new(env!("CARGO_BIN_EXE_promscope"));
    command.args(args).stdout(stdout);
    start(command)
}

/// `command` (which runs promscope, e.g. through a shell), stderr piped.
pub fn start(mut command: Command) -> Started {
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut first_line = String::new();
    stderr.read_line(&mut first_line).unwrap();
    Started {
        url: url_in(&first_line),
        first_line,
        child: Owned(Some(child)),
        stderr,
    }
}

/// Reads the rest of `stderr` on a thread of its own, so that the child never
/// blocks on it; joined, the thread gives the text.
pub fn read_in_background(mut stderr: BufReader<ChildStderr>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    })
}
