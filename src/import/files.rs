//! Where an import's files come from: a path under the import folder (the RPC's path form),
//! a local path (the CLI), or an upload spooled to temp files (`Spool`). Each is opened as a
//! regular file within the size caps; reading happens later, off the async workers.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::limits::{Crossed, ImportLimits, Meter};

/// The one folder the RPC's path form may read, as configured and as resolved at start.
#[derive(Debug, Clone)]
pub struct ImportDir {
    given: PathBuf,
    canonical: PathBuf,
}

impl ImportDir {
    /// Resolves the folder (it must exist).
    pub fn new(given: &Path) -> io::Result<Self> {
        Ok(Self {
            given: given.to_path_buf(),
            canonical: given.canonicalize()?,
        })
    }

    /// Opens `path` (relative to the folder, or absolute inside it) if it is a regular file
    /// inside the folder within the file cap. Blocking: call it off the async workers.
    pub fn open(&self, path: &str, limits: &ImportLimits) -> Result<File, PathRefusal> {
        let path = Path::new(path);
        // Lexically first, so nothing outside the folder is even looked up.
        if path.as_os_str().is_empty() {
            return Err(PathRefusal::NotFound);
        }
        if path.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(PathRefusal::Outside);
        }
        let joined = if path.is_absolute() {
            if !path.starts_with(&self.given) && !path.starts_with(&self.canonical) {
                return Err(PathRefusal::Outside);
            }
            path.to_path_buf()
        } else {
            self.canonical.join(path)
        };
        // Then with every link resolved: a link may not lead out of the folder.
        let real = joined.canonicalize().map_err(|_| PathRefusal::NotFound)?;
        if !real.starts_with(&self.canonical) {
            return Err(PathRefusal::Outside);
        }
        // Not following a final link: one swapped in since the check cannot lead out.
        let file = open(&real, limits, libc::O_NOFOLLOW).map_err(|e| match e {
            OpenError::NotRegular => PathRefusal::NotRegular,
            OpenError::TooLarge => PathRefusal::TooLarge,
            OpenError::Io(_) => PathRefusal::NotFound,
        })?;
        Ok(file)
    }
}

/// Why a path of the RPC's path form is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRefusal {
    Outside,
    NotFound,
    NotRegular,
    TooLarge,
}

impl PathRefusal {
    /// A stable rule code (BadRequest `reason`).
    pub fn reason(self) -> &'static str {
        match self {
            PathRefusal::Outside => "OUTSIDE_IMPORT_DIR",
            PathRefusal::NotFound => "NOT_FOUND",
            PathRefusal::NotRegular => "NOT_A_REGULAR_FILE",
            PathRefusal::TooLarge => Crossed::File.reason(),
        }
    }

    pub fn describe(self, limits: &ImportLimits) -> String {
        match self {
            PathRefusal::Outside => "the path leads out of the server's import folder".into(),
            PathRefusal::NotFound => "no readable file at this path in the import folder".into(),
            PathRefusal::NotRegular => "the path is not a regular file".into(),
            PathRefusal::TooLarge => Crossed::File.describe(limits),
        }
    }
}

/// Why a local file cannot be opened for an import.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("not a regular file")]
    NotRegular,
    #[error("larger than the import's file limit")]
    TooLarge,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Opens a regular file within the file cap (the CLI's local files; links are followed).
pub fn open_regular(path: &Path, limits: &ImportLimits) -> Result<File, OpenError> {
    open(path, limits, 0)
}

/// Opened without blocking, then checked with fstat: a FIFO or a device is never read.
fn open(path: &Path, limits: &ImportLimits, flags: libc::c_int) -> Result<File, OpenError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | flags)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular);
    }
    if meta.len() > limits.max_file_bytes {
        return Err(OpenError::TooLarge);
    }
    Ok(file)
}

/// Why an upload stopped while receiving.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("file {0} was not declared")]
    Undeclared(u32),
    #[error("file {index}: {crossed:?}")]
    Crossed { index: usize, crossed: Crossed },
    #[error("the month is larger than its limit")]
    MonthTooLarge,
    #[error("spooling: {0}")]
    Io(#[from] io::Error),
}

/// An upload's files, each spooled to an unnamed temp file (gone when closed) as its chunks
/// arrive, measured against the caps on the way in.
pub struct Spool {
    limits: ImportLimits,
    files: Vec<(tokio::fs::File, Meter)>,
    total: u64,
}

impl Spool {
    /// One temp file per declared file, in `dir` (the system's temp folder if none).
    pub async fn create(
        dir: Option<PathBuf>,
        count: usize,
        limits: &ImportLimits,
    ) -> Result<Self, SpoolError> {
        let files = tokio::task::spawn_blocking(move || -> io::Result<Vec<File>> {
            let dir = dir.unwrap_or_else(std::env::temp_dir);
            (0..count).map(|_| tempfile::tempfile_in(&dir)).collect()
        })
        .await
        .map_err(io::Error::other)??;
        Ok(Self {
            limits: *limits,
            files: files
                .into_iter()
                .map(|f| (tokio::fs::File::from_std(f), Meter::new(limits)))
                .collect(),
            total: 0,
        })
    }

    /// Appends a chunk to file `index`; refuses it at the first cap it crosses.
    pub async fn append(&mut self, index: u32, data: &[u8]) -> Result<(), SpoolError> {
        let (file, meter) = self
            .files
            .get_mut(index as usize)
            .ok_or(SpoolError::Undeclared(index))?;
        meter.take(data).map_err(|crossed| SpoolError::Crossed {
            index: index as usize,
            crossed,
        })?;
        self.total = self.total.saturating_add(data.len() as u64);
        if self.total > self.limits.max_month_bytes {
            return Err(SpoolError::MonthTooLarge);
        }
        file.write_all(data).await?;
        Ok(())
    }

    /// The spooled files, each rewound to its start.
    pub async fn finish(self) -> Result<Vec<File>, SpoolError> {
        let mut out = Vec::with_capacity(self.files.len());
        for (mut file, _) in self.files {
            file.flush().await?;
            file.rewind().await?;
            out.push(file.into_std().await);
        }
        Ok(out)
    }
}
