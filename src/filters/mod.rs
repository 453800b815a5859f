//! HDF5 filters: deflate, shuffle, fletcher32, LZF.

/// One filter of a pipeline, as the filter pipeline message stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSpec {
    /// Filter id: 1 deflate, 2 shuffle, 3 fletcher32, 4 szip, 5 nbit,
    /// 6 scaleoffset, 32000 lzf, ...
    pub id: u16,
    /// Name stored in the file, if any.
    pub name: Option<String>,
    /// Flags; bit 0 set means the filter is optional.
    pub flags: u16,
    /// Client data values.
    pub cd_values: Vec<u32>,
}
