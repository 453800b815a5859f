//! Spec-level value types that several on-disk structures share: the byte
//! order, padding and character set of datatype messages, and the targets
//! of links (symbol-table entries, link messages). Defined here, at the
//! bottom, and re-exported by the layers above.

/// Byte order of a stored number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl ByteOrder {
    /// The byte order of this machine.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "little") {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    };
}

/// How a fixed-length string fills its unused bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringPadding {
    /// Terminated by a NUL; bytes after it are garbage.
    NullTerminated,
    /// Padded with NULs.
    NullPadded,
    /// Padded with spaces (Fortran).
    SpacePadded,
}

/// Character set of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharSet {
    /// 7-bit ASCII.
    Ascii,
    /// UTF-8.
    Utf8,
}

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// A hard link to an object header.
    Hard(super::Address),
    /// A soft link to a path in this file.
    Soft(String),
    /// An external link to a path in another file.
    External {
        /// The other file's name as stored.
        file: String,
        /// The path inside it.
        path: String,
    },
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Name of the member.
    pub name: String,
    /// Where it points.
    pub target: LinkTarget,
    /// Creation order, when the group tracks it.
    pub creation_order: Option<u64>,
}
