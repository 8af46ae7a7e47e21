//! Zip archives for the page's downloads (device kit, batch): a small writer
//! of "stored" (uncompressed) entries, built in memory and handed to a Blob.
//!
//! Stored, because certificates and keys are small and barely compress, and
//! copying is the fastest thing a browser tab can do with thousands of them.
//! No zip64: an archive is refused before it reaches 4 GiB or 65,535 entries.
//! Paths are checked so that extracting never writes outside the target
//! folder, and never overwrites one of our own entries on a case-insensitive
//! disk (Windows, macOS).

use std::collections::HashSet;
use std::fmt;

/// Who may read an entry once extracted (on systems that keep Unix modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// `-rw-------` (0600): private keys, PKCS#12 files.
    Private,
    /// `-rw-r--r--` (0644): certificates, CA bundles, READMEs.
    Public,
}

impl FileMode {
    /// The regular-file type bits with the permission bits.
    fn unix_mode(self) -> u32 {
        match self {
            Self::Private => 0o100_600,
            Self::Public => 0o100_644,
        }
    }
}

/// Why an entry or an archive was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZipError {
    /// The entry's path is empty.
    EmptyPath,
    /// The path starts with `/` or a drive (`C:`), so it would be extracted
    /// outside the chosen folder.
    AbsolutePath { path: String },
    /// A component of the path is `..`, `.` or empty (`a//b`, a trailing `/`).
    BadComponent { path: String },
    /// The path has a `\`, which Windows tools read as a folder separator.
    Backslash { path: String },
    /// The path has a control character (including NUL).
    ControlCharacter { path: String },
    /// The path is longer than a zip header can say (65,535 bytes).
    PathTooLong { path: String },
    /// The path equals an earlier entry's, ignoring case.
    DuplicatePath { path: String },
    /// The path uses an earlier entry as a folder, or an earlier entry uses
    /// this one as a folder (`a` and `a/b`).
    FileFolderClash { path: String },
    /// The archive already holds [`MAX_ENTRIES`] entries.
    TooManyEntries,
    /// The archive would reach 4 GiB.
    TooLarge,
}

impl fmt::Display for ZipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyPath => write!(f, "a file in the zip archive has an empty name"),
            Self::AbsolutePath { path } => write!(
                f,
                "\"{path}\" is an absolute path; files in a zip archive need relative paths"
            ),
            Self::BadComponent { path } => write!(
                f,
                "\"{path}\" has an empty, \".\" or \"..\" part; zip paths must name plain folders"
            ),
            Self::Backslash { path } => write!(
                f,
                "\"{path}\" contains a backslash; zip paths separate folders with \"/\""
            ),
            Self::ControlCharacter { path } => {
                write!(f, "{path:?} contains a control character")
            }
            Self::PathTooLong { path } => write!(
                f,
                "the path starting \"{}\" is longer than 65,535 bytes",
                path.chars().take(40).collect::<String>()
            ),
            Self::DuplicatePath { path } => write!(
                f,
                "\"{path}\" is already in the zip archive (names are compared ignoring case)"
            ),
            Self::FileFolderClash { path } => write!(
                f,
                "\"{path}\" clashes with another entry: one would have to be both a file and a folder"
            ),
            Self::TooManyEntries => write!(
                f,
                "a zip archive can hold at most {MAX_ENTRIES} files; download in smaller batches"
            ),
            Self::TooLarge => write!(
                f,
                "the zip archive would reach 4 GiB, the most it can hold; download in smaller batches"
            ),
        }
    }
}

impl std::error::Error for ZipError {}

/// The most entries an archive holds. One below `u16::MAX`, because readers
/// take 0xFFFF in the end record to mean "look in the zip64 record".
pub const MAX_ENTRIES: usize = 0xFFFE;

/// Likewise 0xFFFF_FFFF in an offset or size means "see zip64".
const MAX_OFFSET: u64 = 0xFFFF_FFFE;

const LOCAL_HEADER_LEN: u64 = 30;
const CENTRAL_HEADER_LEN: u64 = 46;
const END_RECORD_LEN: u64 = 22;

/// APPNOTE 6.3 (which defines the UTF-8 flag), made on Unix (3), so readers
/// take the high half of the external attributes as a Unix mode.
const VERSION_MADE_BY: u16 = (3 << 8) | 63;
/// 1.0: stored entries need nothing newer.
const VERSION_NEEDED: u16 = 10;
/// Bit 11: names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
const METHOD_STORED: u16 = 0;

/// Builds an archive in memory: [`add`](Self::add) entries, then
/// [`finish`](Self::finish).
#[derive(Debug)]
pub struct ZipWriter {
    /// Local headers and data written so far.
    out: Vec<u8>,
    /// The central directory, appended by `finish`.
    central: Vec<u8>,
    entries: usize,
    dos_time: u16,
    dos_date: u16,
    /// Lower-cased paths of the entries, to refuse duplicates.
    files: HashSet<String>,
    /// Lower-cased folders the entries sit in (`a`, `a/b` for `a/b/c`).
    folders: HashSet<String>,
}

impl ZipWriter {
    /// A writer whose entries are all dated `modified_unix_secs` (UTC; the
    /// page passes `Date.now() / 1000`). Zip dates are MS-DOS dates, kept
    /// to two seconds and clamped to 1980..=2107.
    pub fn new(modified_unix_secs: i64) -> Self {
        let (dos_date, dos_time) = dos_date_time(modified_unix_secs);
        Self {
            out: Vec::new(),
            central: Vec::new(),
            entries: 0,
            dos_time,
            dos_date,
            files: HashSet::new(),
            folders: HashSet::new(),
        }
    }

    /// Adds a file at `path` (`/`-separated, relative). Folders are implied
    /// by the paths. On error nothing is added and the writer stays usable.
    pub fn add(&mut self, path: &str, data: &[u8], mode: FileMode) -> Result<(), ZipError> {
        check_path(path)?;
        // Case-folded for case-insensitive file systems. ASCII only: the
        // paths are thing names (ASCII by AWS IoT's rules) and fixed names,
        // and Unicode case tables would cost the page ~10 KB.
        let key = path.to_ascii_lowercase();
        if self.files.contains(&key) {
            return Err(ZipError::DuplicatePath {
                path: path.to_owned(),
            });
        }
        let clash = self.folders.contains(&key)
            || folders_of(&key).any(|folder| self.files.contains(folder));
        if clash {
            return Err(ZipError::FileFolderClash {
                path: path.to_owned(),
            });
        }
        if self.entries >= MAX_ENTRIES {
            return Err(ZipError::TooManyEntries);
        }
        let (offset, size, name_len) = fit(
            self.out.len() as u64,
            self.central.len() as u64,
            path.len() as u64,
            data.len() as u64,
        )?;
        let crc = crc32(data);

        let out = &mut self.out;
        out.reserve(LOCAL_HEADER_LEN as usize + path.len() + data.len());
        put32(out, 0x0403_4b50);
        put16(out, VERSION_NEEDED);
        put16(out, FLAG_UTF8);
        put16(out, METHOD_STORED);
        put16(out, self.dos_time);
        put16(out, self.dos_date);
        put32(out, crc);
        put32(out, size); // compressed
        put32(out, size); // uncompressed
        put16(out, name_len);
        put16(out, 0); // extra field length
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(data);

        let c = &mut self.central;
        put32(c, 0x0201_4b50);
        put16(c, VERSION_MADE_BY);
        put16(c, VERSION_NEEDED);
        put16(c, FLAG_UTF8);
        put16(c, METHOD_STORED);
        put16(c, self.dos_time);
        put16(c, self.dos_date);
        put32(c, crc);
        put32(c, size);
        put32(c, size);
        put16(c, name_len);
        put16(c, 0); // extra field length
        put16(c, 0); // comment length
        put16(c, 0); // disk number
        put16(c, 0); // internal attributes
        put32(c, mode.unix_mode() << 16);
        put32(c, offset);
        c.extend_from_slice(path.as_bytes());

        self.entries += 1;
        self.folders.extend(folders_of(&key).map(str::to_owned));
        self.files.insert(key);
        Ok(())
    }

    /// The number of entries added so far.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether no entry has been added.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The archive's bytes.
    pub fn finish(self) -> Result<Vec<u8>, ZipError> {
        let Self {
            mut out,
            central,
            entries,
            ..
        } = self;
        // `add` kept the whole archive under MAX_OFFSET and the count under
        // MAX_ENTRIES, so these only guard against a future mistake there.
        let (Ok(entries), Ok(central_offset), Ok(central_len)) = (
            u16::try_from(entries),
            u32::try_from(out.len()),
            u32::try_from(central.len()),
        ) else {
            return Err(ZipError::TooLarge);
        };
        out.reserve(central.len() + END_RECORD_LEN as usize);
        out.extend_from_slice(&central);
        put32(&mut out, 0x0605_4b50);
        put16(&mut out, 0); // this disk
        put16(&mut out, 0); // disk where the central directory starts
        put16(&mut out, entries); // on this disk
        put16(&mut out, entries); // in all
        put32(&mut out, central_len);
        put32(&mut out, central_offset);
        put16(&mut out, 0); // comment length
        Ok(out)
    }
}

/// The entry's offset, size and name length as the headers hold them, if
/// the archive with this entry (and its end record) stays under 4 GiB.
fn fit(written: u64, central: u64, name: u64, data: u64) -> Result<(u32, u32, u16), ZipError> {
    let end = written + LOCAL_HEADER_LEN + name + data;
    // The end record holds the central directory's offset (`end`) and size,
    // so checking the whole archive covers both.
    if end + central + CENTRAL_HEADER_LEN + name + END_RECORD_LEN > MAX_OFFSET {
        return Err(ZipError::TooLarge);
    }
    match (
        u32::try_from(written),
        u32::try_from(data),
        u16::try_from(name),
    ) {
        (Ok(offset), Ok(size), Ok(name)) => Ok((offset, size, name)),
        // Unreachable: all are below MAX_OFFSET, the name checked earlier.
        _ => Err(ZipError::TooLarge),
    }
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, as zip uses it), a byte at a time.
/// crc32fast's sixteen 1 KB tables cost the page 16 KB gzipped; this one
/// table is built at compile time and still does ~300 MB/s.
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut bit = 0;
            while bit < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                bit += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !data.iter().fold(!0u32, |crc, &b| {
        TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8)
    })
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn check_path(path: &str) -> Result<(), ZipError> {
    let owned = || path.to_owned();
    if path.is_empty() {
        return Err(ZipError::EmptyPath);
    }
    if path.chars().any(char::is_control) {
        return Err(ZipError::ControlCharacter { path: owned() });
    }
    if path.contains('\\') {
        return Err(ZipError::Backslash { path: owned() });
    }
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.starts_with('/') || drive {
        return Err(ZipError::AbsolutePath { path: owned() });
    }
    if path.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return Err(ZipError::BadComponent { path: owned() });
    }
    if u16::try_from(path.len()).is_err() {
        return Err(ZipError::PathTooLong { path: owned() });
    }
    Ok(())
}

/// The folders `path` sits in, outermost first: `a`, `a/b` for `a/b/c`.
fn folders_of(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(|(i, _)| &path[..i])
}

/// MS-DOS (date, time) of a Unix time, in UTC, clamped to what it can hold.
fn dos_date_time(unix_secs: i64) -> (u16, u16) {
    const SECS_PER_DAY: i64 = 86_400;
    let days = unix_secs.div_euclid(SECS_PER_DAY);
    let secs = unix_secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (year, month, day, secs) = if year < 1980 {
        (1980, 1, 1, 0)
    } else if year > 2107 {
        (2107, 12, 31, SECS_PER_DAY - 1)
    } else {
        (year, month, day, secs)
    };
    // Every field is now within its bit width (year - 1980 <= 127,
    // hour <= 23, ...), so the casts cannot truncate.
    let date = (((year - 1980) << 9) | (month << 5) | day) as u16;
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    let time = ((hour << 11) | (minute << 5) | (second / 2)) as u16;
    (date, time)
}

/// (year, month 1..=12, day 1..=31) of days since 1970-01-01, proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// Native only: checked against Info-ZIP and Python's zipfile.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
