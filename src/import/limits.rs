//! The caps every import reads under, whatever the files' origin (upload, import folder, CLI):
//! bytes per file, bytes per month, bytes per record. The record cap is enforced while reading,
//! before the CSV reader buffers a record, so memory stays bounded whatever the input.

use std::io::{self, Read};

/// Echoed file content is cut to this many characters.
pub const ECHO_CHARS: usize = 64;

/// Size caps of one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Bytes of one file.
    pub max_file_bytes: u64,
    /// Bytes of all the files of a month together.
    pub max_month_bytes: u64,
    /// Bytes of one CSV record (a line, or several when a quoted field holds line breaks).
    pub max_record_bytes: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 256 << 20,
            max_month_bytes: 1 << 30,
            max_record_bytes: 64 << 10,
        }
    }
}

/// A cell or header echoed in a message: quoted, cut to `ECHO_CHARS` characters.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}… ({} bytes)", &text[..end], text.len()),
    }
}

/// Which cap a file crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossed {
    File,
    Record,
}

impl Crossed {
    /// A stable rule code (BadRequest `reason`).
    pub fn reason(self) -> &'static str {
        match self {
            Crossed::File => "FILE_TOO_LARGE",
            Crossed::Record => "RECORD_TOO_LONG",
        }
    }

    pub fn describe(self, limits: &ImportLimits) -> String {
        match self {
            Crossed::File => format!(
                "the file is larger than the import's limit of {} bytes",
                limits.max_file_bytes
            ),
            Crossed::Record => format!(
                "a record (line) is longer than the import's limit of {} bytes",
                limits.max_record_bytes
            ),
        }
    }
}

/// Follows a file's bytes and tells when a cap is crossed: the file's size, and each record's
/// length. A record ends at a line break outside quotes (the csv crate's default dialect:
/// `"` quotes, `""` escapes, `\r`, `\n` or `\r\n` ends a record).
#[derive(Debug, Clone)]
pub struct Meter {
    file_limit: u64,
    record_limit: u64,
    total: u64,
    record: u64,
    quoted: bool,
}

impl Meter {
    pub fn new(limits: &ImportLimits) -> Self {
        Self {
            file_limit: limits.max_file_bytes,
            record_limit: limits.max_record_bytes,
            total: 0,
            record: 0,
            quoted: false,
        }
    }

    /// Counts `bytes`; the first cap they cross, if any.
    pub fn take(&mut self, bytes: &[u8]) -> Result<(), Crossed> {
        self.total = self.total.saturating_add(bytes.len() as u64);
        if self.total > self.file_limit {
            return Err(Crossed::File);
        }
        for &b in bytes {
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\n' | b'\r' if !self.quoted => {
                    self.record = 0;
                    continue;
                }
                _ => {}
            }
            self.record += 1;
            if self.record > self.record_limit {
                return Err(Crossed::Record);
            }
        }
        Ok(())
    }
}

/// The error a `Capped` reader fails with; `Crossed` is inside for whoever wants it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CapError(pub String, pub Crossed);

/// Reads through a `Meter`: fails (and keeps failing) once a cap is crossed, so no reader
/// downstream ever holds more than a record's cap plus its buffer.
pub struct Capped<R> {
    inner: R,
    meter: Meter,
    limits: ImportLimits,
    failed: Option<Crossed>,
}

impl<R: Read> Capped<R> {
    pub fn new(inner: R, limits: &ImportLimits) -> Self {
        Self {
            inner,
            meter: Meter::new(limits),
            limits: *limits,
            failed: None,
        }
    }

    fn error(&self, crossed: Crossed) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            CapError(crossed.describe(&self.limits), crossed),
        )
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(crossed) = self.failed {
            return Err(self.error(crossed));
        }
        let n = self.inner.read(buf)?;
        match self.meter.take(&buf[..n]) {
            Ok(()) => Ok(n),
            Err(crossed) => {
                self.failed = Some(crossed);
                Err(self.error(crossed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(file: u64, record: u64) -> ImportLimits {
        ImportLimits {
            max_file_bytes: file,
            max_month_bytes: file,
            max_record_bytes: record,
        }
    }

    #[test]
    fn a_record_is_measured_up_to_its_unquoted_line_break() {
        let mut m = Meter::new(&limits(1000, 4));
        assert_eq!(m.take(b"abcd\nabcd\r\nab"), Ok(()));
        assert_eq!(m.take(b"cd"), Ok(()));
        assert_eq!(m.take(b"e"), Err(Crossed::Record));
        // A quoted line break does not end the record.
        let mut m = Meter::new(&limits(1000, 6));
        assert_eq!(m.take(b"\"a\nb\"c"), Ok(()));
        assert_eq!(m.take(b"d"), Err(Crossed::Record));
    }

    #[test]
    fn the_file_cap_counts_every_byte() {
        let mut m = Meter::new(&limits(5, 100));
        assert_eq!(m.take(b"a\nb\n"), Ok(()));
        assert_eq!(m.take(b"cd"), Err(Crossed::File));
    }

    #[test]
    fn a_capped_reader_keeps_failing() {
        let mut r = Capped::new(io::repeat(b'x'), &limits(u64::MAX, 10));
        let mut buf = [0u8; 64];
        assert!(r.read(&mut buf).is_err());
        assert!(r.read(&mut buf).is_err());
    }

    #[test]
    fn clipped_echoes_are_short() {
        assert_eq!(clip("abc"), "\"abc\"");
        let long = "é".repeat(1000);
        let clipped = clip(&long);
        assert!(clipped.chars().count() < ECHO_CHARS + 30, "{clipped}");
    }
}
