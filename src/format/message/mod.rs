//! Object header messages (spec IV.A.2): one file per message type.
//!
//! Every parser takes the message data and `at`, the absolute file address
//! of its first byte (for error messages), plus the file's [`Sizes`] where
//! addresses or lengths occur.
//!
//! [`Sizes`]: crate::format::Sizes

pub mod attribute;
pub mod attribute_info;
pub mod dataspace;
pub mod datatype;
mod dense_info;
pub mod fill_value;
pub mod filter_pipeline;
pub mod group_info;
pub mod layout;
pub mod link;
pub mod link_info;
pub mod shared;
pub mod sohm;
pub mod symbol_table;

pub use attribute::AttributeMessage;
pub use attribute_info::AttributeInfo;
pub use dataspace::{Dataspace, DataspaceKind};
pub use datatype::Datatype;
pub use fill_value::FillValue;
pub use group_info::GroupInfo;
pub use layout::Layout;
pub use link::LinkMessage;
pub use link_info::LinkInfo;
pub use shared::SharedRef;
pub use symbol_table::SymbolTableMessage;

use crate::error::{Error, Result};

/// Checks a message's version byte against the versions a parser knows.
pub(crate) fn check_version(what: &str, at: u64, version: u8, known: &[u8]) -> Result<()> {
    if known.contains(&version) {
        Ok(())
    } else {
        Err(Error::format(
            at,
            format!("{what}: unknown version {version} (expected one of {known:?})"),
        ))
    }
}

/// Rounds `n` up to a multiple of 8 (v1 attribute fields, v1 filter names).
pub(crate) fn pad8(n: usize) -> Option<usize> {
    n.checked_add(7).map(|v| v & !7)
}

/// Decodes a name as UTF-8 (ASCII is a subset), naming the field on error.
pub(crate) fn utf8_name(bytes: &[u8], at: u64, what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::format(at, format!("{what}: not valid UTF-8")))
}

#[cfg(test)]
mod encode_real_files;
#[cfg(test)]
mod real_files;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Sizes;

    /// A tiny deterministic generator (xorshift) for garbage inputs.
    fn garbage(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn no_parser_panics_on_garbage() {
        for sizes in [
            Sizes::DEFAULT,
            Sizes {
                offset: 4,
                length: 2,
            },
        ] {
            for seed in 0..2000u64 {
                let mut d = garbage(seed, (seed % 97) as usize);
                // Give the version byte a plausible value half the time.
                if seed % 2 == 0 && !d.is_empty() {
                    d[0] = (seed % 6) as u8;
                }
                let _ = Dataspace::parse(&d, 0, sizes);
                let _ = Datatype::parse(&d, 0, sizes);
                if seed % 3 == 0 && !d.is_empty() {
                    d[0] = 0x10 | (d[0] & 0x0f) | ((seed % 5) as u8) << 4;
                    let _ = Datatype::parse(&d, 0, sizes);
                }
                let _ = FillValue::parse(&d, 0);
                let _ = FillValue::parse_old(&d, 0);
                let _ = Layout::parse(&d, 0, sizes);
                let _ = filter_pipeline::parse(&d, 0);
                let _ = AttributeMessage::parse(&d, 0, sizes);
                let _ = LinkMessage::parse(&d, 0, sizes);
                let _ = LinkInfo::parse(&d, 0, sizes);
                let _ = AttributeInfo::parse(&d, 0, sizes);
                let _ = GroupInfo::parse(&d, 0, sizes);
                let _ = SymbolTableMessage::parse(&d, 0, sizes);
                let _ = shared::parse(&d, 0, sizes);
                let _ = sohm::SharedMessageTableMessage::parse(&d, 0, sizes);
                let _ = Dataspace::parse(&d, u64::MAX, sizes);
                let _ = Layout::parse(&d, u64::MAX, sizes);
            }
        }
    }
}
