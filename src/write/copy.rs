//! Rewriting every object of one file into another through the [`Writer`].

use super::{Backing, DatasetOptions, Writer};
use crate::error::{Error, Result};
use crate::read::{Dtype, File, Group, LayoutKind, LinkTarget, Node};

/// Storage choices for [`copy_file`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyOptions {
    /// Deflate every chunked dataset at this level (`None`: keep each
    /// dataset's own deflate setting).
    pub compression: Option<u32>,
    /// Shuffle every compressed dataset.
    pub shuffle: bool,
    /// Store every dataset contiguously unless it must be chunked
    /// (unlimited maximum shape or compression): `repack`'s compaction.
    pub repack: bool,
}

/// Copies every group, dataset, attribute and link of `src` into `dst`.
///
/// Soft links stay soft links. Objects this crate cannot write (compound
/// and other unsupported datatypes, external links into symbol-table
/// groups, committed datatypes) abort the copy with an error naming the
/// object.
pub fn copy_file<B: Backing>(src: &File, dst: &mut Writer<B>, opts: &CopyOptions) -> Result<()> {
    let root = src.root()?;
    copy_attributes(&root, "/", dst)?;
    let mut ancestors = vec![root.address()];
    copy_group(&root, dst, opts, &mut ancestors, 0)
}

fn copy_attributes<B: Backing>(obj: &Group<'_>, path: &str, dst: &mut Writer<B>) -> Result<()> {
    for a in obj.attributes()? {
        write_attribute(dst, path, a)?;
    }
    Ok(())
}

fn write_attribute<B: Backing>(
    dst: &mut Writer<B>,
    path: &str,
    a: crate::read::Attribute<'_>,
) -> Result<()> {
    let ctx = format!("{path} attribute {:?}", a.name());
    if let Dtype::Unsupported { class, .. } = a.dtype() {
        return Err(Error::unsupported(format!(
            "{ctx}: copying datatype class {class}"
        )));
    }
    let values = a.values().map_err(|e| e.context(&ctx))?;
    dst.set_attr(path, a.name(), a.dtype(), a.shape(), &values)
        .map_err(|e| e.context(&ctx))
}

fn copy_group<B: Backing>(
    g: &Group<'_>,
    dst: &mut Writer<B>,
    opts: &CopyOptions,
    ancestors: &mut Vec<crate::format::Address>,
    depth: u32,
) -> Result<()> {
    if depth > 64 {
        return Err(Error::unsupported(format!(
            "{}: groups nested deeper than 64",
            g.path()
        )));
    }
    for link in g.links()? {
        let path = crate::read::join_path(g.path(), &link.name);
        match &link.target {
            LinkTarget::Soft(target) => dst.soft_link(&path, target)?,
            LinkTarget::External { file, path: target } => {
                dst.external_link(&path, file, target)?
            }
            LinkTarget::Hard(addr) => {
                if ancestors.contains(addr) {
                    return Err(Error::unsupported(format!(
                        "{path}: a hard link back to an enclosing group (a cycle)"
                    )));
                }
                match g.follow(&link)? {
                    Node::Group(child) => {
                        let has_external = child
                            .links()?
                            .iter()
                            .any(|l| matches!(l.target, LinkTarget::External { .. }));
                        if has_external {
                            dst.create_link_group(&path)?;
                        } else {
                            dst.create_group(&path)?;
                        }
                        copy_attributes(&child, &path, dst)?;
                        ancestors.push(*addr);
                        copy_group(&child, dst, opts, ancestors, depth + 1)?;
                        ancestors.pop();
                    }
                    Node::Dataset(d) => copy_dataset(&d, &path, dst, opts)?,
                    Node::Datatype { .. } => {
                        return Err(Error::unsupported(format!(
                            "{path}: copying committed datatypes"
                        )))
                    }
                }
            }
        }
    }
    Ok(())
}

fn copy_dataset<B: Backing>(
    d: &crate::read::Dataset<'_>,
    path: &str,
    dst: &mut Writer<B>,
    opts: &CopyOptions,
) -> Result<()> {
    if let Dtype::Unsupported { class, .. } = d.dtype() {
        return Err(Error::unsupported(format!(
            "{path}: copying datatype class {class}"
        )));
    }
    let Some(shape) = d.shape() else {
        return Err(Error::unsupported(format!(
            "{path}: copying datasets with a null dataspace"
        )));
    };
    let maxshape = d.maxshape().unwrap_or_default();
    let unlimited = maxshape.iter().any(Option::is_none)
        || maxshape.iter().zip(shape).any(|(m, s)| *m != Some(*s));
    let mut o = DatasetOptions::default();
    let src_deflate = d
        .filters()
        .iter()
        .find(|f| f.id == crate::filters::FILTER_DEFLATE)
        .map(|f| f.cd_values.first().copied().unwrap_or(4));
    let compression = opts.compression.or(src_deflate);
    let chunked =
        d.layout() == LayoutKind::Chunked && !(opts.repack && !unlimited && compression.is_none());
    if chunked || unlimited || compression.is_some() {
        o.chunks = d.chunks().map(<[u64]>::to_vec);
        o.maxshape = Some(maxshape);
        o.compression = compression;
        o.shuffle = if opts.compression.is_some() {
            opts.shuffle
        } else {
            d.filters()
                .iter()
                .any(|f| f.id == crate::filters::FILTER_SHUFFLE)
        };
        o.fletcher32 = d
            .filters()
            .iter()
            .any(|f| f.id == crate::filters::FILTER_FLETCHER32);
    }
    let values = d.values().map_err(|e| e.context(path))?;
    dst.create_dataset_values(path, d.dtype(), shape, &values, &o)
        .map_err(|e| e.context(path))?;
    for a in d.attributes()? {
        write_attribute(dst, path, a)?;
    }
    Ok(())
}
