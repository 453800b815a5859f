//! Reading compound datasets: one numeric field without the others, and
//! whole records.

use super::blocks::SlabBlocks;
use super::decode::to_native;
use super::{ByteOrder, Dataset, Dtype, H5Type, Value, Values};
use crate::error::{Error, Result};

/// Records read per block by [`Dataset::read_field`]: the raw block is
/// this many records, whatever their size, so memory stays bounded.
const FIELD_BLOCK_BYTES: u64 = 4 << 20;

impl Dataset<'_> {
    /// One numeric field of a compound dataset, as `T` (which must match the
    /// field's stored type; byte order is converted), in C order. The
    /// records are read block by block and only this field is kept, so a
    /// 1 GB table costs the field's memory, not the table's.
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata06_compound.h5ad");
    /// let f = h5sparse::File::open(path)?;
    /// let obs = f.dataset("/obs")?;
    /// let n_genes = obs.read_field::<i64>("n_genes")?;
    /// assert_eq!(n_genes.len(), 8);
    /// assert!(obs.read_field::<f64>("n_genes").is_err());   // stored as int64
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_field<T: H5Type>(&self, name: &str) -> Result<Vec<T>> {
        let Dtype::Compound { fields, size } = self.dtype() else {
            return Err(Error::invalid(format!(
                "{} holds {}, not records with fields",
                self.path(),
                self.dtype().numpy_str()
            )));
        };
        let field = fields.iter().find(|f| f.name == name).ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            Error::invalid(format!(
                "{} has no field {name:?} (its fields: {})",
                self.path(),
                names.join(", ")
            ))
        })?;
        if !T::matches(&field.dtype) {
            return Err(Error::invalid(format!(
                "{} field {name:?} holds {}, cannot read it as {}",
                self.path(),
                field.dtype.numpy_str(),
                std::any::type_name::<T>()
            )));
        }
        let order = match field.dtype {
            Dtype::Int { order, .. } | Dtype::Float { order, .. } => order,
            _ => ByteOrder::NATIVE,
        };
        let width = std::mem::size_of::<T>();
        let dims = self.shape().unwrap_or(&[]).to_vec();
        let n = usize::try_from(self.len())
            .map_err(|_| Error::invalid(format!("{}: too many records", self.path())))?;
        // Each block is checked as it is read; the field's values of every
        // block, kept together, are checked here.
        self.file
            .limits
            .check_alloc("compound field", (n as u64).saturating_mul(width as u64))?;
        let mut out: Vec<T> = crate::buf::try_with_capacity(n, "compound field")?;
        let per_block = (FIELD_BLOCK_BYTES / (*size).max(1) as u64).max(1);
        let mut blocks = SlabBlocks::new(&dims, per_block);
        while let Some((start, count)) = blocks.next() {
            let raw = self.read_raw(&start, &count)?;
            for record in raw.chunks_exact(*size) {
                let mut v = T::zeroed();
                let bytes = bytemuck::bytes_of_mut(&mut v);
                let src = record
                    .get(field.offset..field.offset + width)
                    .ok_or_else(|| {
                        Error::format(
                            0,
                            format!("{}: field {name:?} outside its record", self.path()),
                        )
                    })?;
                bytes.copy_from_slice(src);
                to_native(bytes, width, order);
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Every record of a compound dataset, each field decoded by its own
    /// type (strings, nested records, arrays, references...).
    ///
    /// ```
    /// use h5sparse::read::Value;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata06_compound.h5ad");
    /// let f = h5sparse::File::open(path)?;
    /// let obs = f.dataset("/obs")?.read_records()?;
    /// assert!(matches!(obs[0].field("index"), Some(Value::Str(_))));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_records(&self) -> Result<Vec<Value>> {
        if !matches!(self.dtype(), Dtype::Compound { .. }) {
            return Err(Error::invalid(format!(
                "{} holds {}, not records",
                self.path(),
                self.dtype().numpy_str()
            )));
        }
        match self.values()? {
            Values::Nested(v) => Ok(v),
            _ => Err(Error::invalid(format!(
                "{}: records did not decode as records",
                self.path()
            ))),
        }
    }
}
