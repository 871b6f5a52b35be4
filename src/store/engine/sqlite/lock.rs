//! One server per SQLite file: a process that writes the file holds an exclusive advisory lock
//! on `<file>-lock`, with its pid written in it. A second server (or `migrate`, `import`) on
//! the same file refuses to start and names the holder. The kernel drops the lock with the
//! process however it ends (SIGKILL included), so a crash never leaves the file locked; the
//! lock file itself stays (removing it would let two processes lock two different files).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use crate::domain::DomainError;

/// The lock on a database file, held until dropped (or the process ends).
#[derive(Debug)]
pub(in crate::store::engine) struct FileLock {
    _file: File,
}

/// The lock file beside `database`.
pub(in crate::store::engine) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-lock");
    PathBuf::from(name)
}

impl FileLock {
    /// Takes the lock of `database` for this process, or says which process holds it.
    pub(in crate::store::engine) fn take(database: &Path) -> Result<Self, DomainError> {
        let path = lock_path(database);
        let failed = |e: std::io::Error| {
            DomainError::Internal(format!("sqlite lock file {}: {e}", path.display()))
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(failed)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The holder writes its pid right after locking: empty only in that instant.
                let holder = match file.read_to_string(&mut holder) {
                    Ok(_) if !holder.trim().is_empty() => format!("process {}", holder.trim()),
                    _ => "another process".to_owned(),
                };
                return Err(DomainError::Unavailable(format!(
                    "the SQLite database {} is in use by {holder} (it holds {}): one server \
                     per SQLite file",
                    database.display(),
                    path.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(failed(e)),
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush())
            .map_err(failed)?;
        Ok(Self { _file: file })
    }
}
