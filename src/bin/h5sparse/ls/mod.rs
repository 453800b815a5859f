//! `h5sparse ls [-r] [-v] [-d] FILE[/PATH]`: lists objects the way `h5ls` does.
//!
//! The output follows h5ls (HDF5 1.10–2.0) line for line in the common cases:
//! the name padded to 24 columns, then `Group`, `Dataset {4/Inf, 3}`,
//! `Soft Link {/target}` or `External Link {file//path}`; objects reached
//! again through another hard link print `Group, same as /first/path`. With
//! `-v`, attributes (with their values, which h5ls only shows with `-d`),
//! chunk shape, logical storage size, filters and the type follow, in h5ls's
//! wording (`native long`, `IEEE 64-bit big-endian float`, ...). h5ls's
//! `Links:` lines (reference counts), allocated sizes and the `shared-`
//! prefix of committed types are not shown: the object model does not expose
//! them.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use clap::Args;
use h5sparse::format::Address;
use h5sparse::{Dataset, Dtype, File, Group, LinkTarget, Node};

use crate::CliError;

mod words;

use words::{type_description, value_texts};

/// Arguments of `h5sparse ls`.
#[derive(Args)]
pub struct LsArgs {
    /// List groups recursively, with full paths.
    #[arg(short, long)]
    recursive: bool,
    /// Also show attributes (with values), storage, filters and types.
    #[arg(short, long)]
    verbose: bool,
    /// Also show the values of datasets.
    #[arg(short, long)]
    data: bool,
    /// The file, optionally followed by a path inside it (`file.h5/X/data`).
    target: String,
}

/// Line width of data output, as h5ls.
const DATASET_DATA_WIDTH: usize = 80;
/// h5ls wraps attribute data three columns earlier.
const ATTRIBUTE_DATA_WIDTH: usize = 77;

/// Runs `h5sparse ls`.
pub fn run(args: &LsArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (file_path, object_path) = split_target(&args.target)
        .ok_or_else(|| CliError::Message(format!("{}: no such file", args.target)))?;
    let file =
        File::open_any(file_path).map_err(|e| CliError::Message(format!("{file_path}: {e}")))?;
    let mut lister = Lister {
        args,
        file: &file,
        visited: HashMap::new(),
        out,
    };
    if args.verbose {
        writeln!(lister.out, "Opened \"{file_path}\" with mmap driver.")?;
    }
    lister.list_target(&object_path)
}

/// Splits `file.h5/group/ds` at the first prefix that is an existing file.
/// Returns the file name and the absolute path inside it.
fn split_target(target: &str) -> Option<(&str, String)> {
    if h5sparse::io::source::url_scheme(target).is_some() {
        // A URL: the file ends at the first path component with an HDF5
        // extension (`https://host/pbmc.h5ad/obs`); else it is all file.
        let at = target
            .match_indices('/')
            .map(|(i, _)| i)
            .chain([target.len()])
            .find(|&i| {
                let head = target[..i].to_ascii_lowercase();
                [".h5", ".h5ad", ".hdf5", ".hdf", ".he5", ".nc"]
                    .iter()
                    .any(|e| head.ends_with(e))
            })
            .unwrap_or(target.len());
        return Some((&target[..at], normalize(&target[at..])));
    }
    if Path::new(target).is_file() {
        return Some((target, "/".to_string()));
    }
    for (i, _) in target.match_indices('/') {
        let (file, rest) = target.split_at(i);
        if !file.is_empty() && Path::new(file).is_file() {
            return Some((file, normalize(rest)));
        }
    }
    None
}

/// `//a//b/` → `/a/b`; empty → `/`.
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

/// State of one listing.
struct Lister<'a, 'f, W: Write> {
    args: &'a LsArgs,
    file: &'f File,
    /// Objects already listed, by address, with the absolute path they were
    /// first listed at (h5ls's "same as").
    visited: HashMap<Address, String>,
    out: &'a mut W,
}

impl<W: Write> Lister<'_, '_, W> {
    /// Lists what the command line named.
    fn list_target(&mut self, path: &str) -> Result<(), CliError> {
        if path == "/" {
            let root = self.file.root()?;
            if self.args.recursive {
                self.visited.insert(root.address(), "/".to_string());
                self.line("/", "Group")?;
                if self.args.verbose {
                    self.group_details(&root)?;
                }
            }
            return self.list_members(&root, "/", "", 0);
        }
        // The last component may be a soft or external link, which h5ls
        // shows as such instead of following it.
        let (parent_path, name) = match path.rfind('/') {
            Some(0) => ("/", &path[1..]),
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("/", path),
        };
        let parent = self
            .file
            .group(parent_path)
            .map_err(|e| CliError::Message(format!("{path}: {e}")))?;
        let links = parent.links()?;
        let link = links
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| CliError::Message(format!("{path}: not found")))?;
        // h5ls names a link by its own name, but a dataset by the path as
        // given, without the leading slash (`X/data`).
        let shown = path.trim_start_matches('/');
        match &link.target {
            LinkTarget::Soft(_) | LinkTarget::External { .. } => self.link_line(name, &link.target),
            LinkTarget::Hard(_) => match parent.follow(link)? {
                Node::Group(group) => self.list_members(&group, path, "", 0),
                Node::Dataset(dataset) => self.dataset_entry(shown, &dataset),
                Node::Datatype { .. } => self.line(shown, "Type"),
            },
        }
    }

    /// Lists the members of `group` (at absolute path `abs`); `shown` is the
    /// name prefix displayed in recursive mode.
    fn list_members(
        &mut self,
        group: &Group<'_>,
        abs: &str,
        shown: &str,
        depth: u32,
    ) -> Result<(), CliError> {
        let links = match group.links() {
            Ok(links) => links,
            Err(e) => {
                writeln!(self.out, "{}  **ERROR** {e}", display_name(shown))?;
                return Ok(());
            }
        };
        for link in &links {
            let name = if self.args.recursive {
                format!("{shown}/{}", link.name)
            } else {
                link.name.clone()
            };
            let child_abs = join(abs, &link.name);
            let LinkTarget::Hard(address) = link.target else {
                self.link_line(&name, &link.target)?;
                continue;
            };
            let node = match group.follow(link) {
                Ok(node) => node,
                Err(e) => {
                    self.line(&name, &format!("**ERROR** {e}"))?;
                    continue;
                }
            };
            let kind = match &node {
                Node::Group(_) => "Group",
                Node::Dataset(_) => "Dataset",
                Node::Datatype { .. } => "Type",
            };
            if let Some(first) = self.visited.get(&address) {
                let text = format!("{kind}, same as {first}");
                self.line(&name, &text)?;
                continue;
            }
            self.visited.insert(address, child_abs.clone());
            match node {
                Node::Group(child) => {
                    self.line(&name, "Group")?;
                    if self.args.verbose {
                        self.group_details(&child)?;
                    }
                    if self.args.recursive {
                        if depth >= self.file.limits().max_depth {
                            self.line(&name, "**ERROR** groups nested too deeply")?;
                        } else {
                            self.list_members(&child, &child_abs, &name, depth + 1)?;
                        }
                    }
                }
                Node::Dataset(dataset) => self.dataset_entry(&name, &dataset)?,
                Node::Datatype { .. } => {
                    self.line(&name, "Type")?;
                    if self.args.verbose {
                        writeln!(self.out, "    Location:  1:{}", address.0)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `name` padded to 24 columns, a space, then `what`.
    fn line(&mut self, name: &str, what: &str) -> Result<(), CliError> {
        writeln!(self.out, "{:<24} {what}", display_name(name))?;
        Ok(())
    }

    /// The line of a soft or external link.
    fn link_line(&mut self, name: &str, target: &LinkTarget) -> Result<(), CliError> {
        let what = match target {
            LinkTarget::Soft(t) => format!("Soft Link {{{t}}}"),
            LinkTarget::External { file, path } => format!("External Link {{{file}/{path}}}"),
            LinkTarget::Hard(_) => "Hard Link".to_string(),
        };
        self.line(name, &what)
    }

    /// The `-v` lines of a group.
    fn group_details(&mut self, group: &Group<'_>) -> Result<(), CliError> {
        self.attributes(group.attributes())?;
        writeln!(self.out, "    Location:  1:{}", group.address().0)?;
        Ok(())
    }

    /// A dataset's line and, with `-v`/`-d`, its details.
    fn dataset_entry(&mut self, name: &str, dataset: &Dataset<'_>) -> Result<(), CliError> {
        let shape = shape_text(dataset, self.args.verbose);
        self.line(name, &format!("Dataset {shape}"))?;
        if self.args.verbose {
            self.attributes(dataset.attributes())?;
            writeln!(self.out, "    Location:  1:{}", dataset.address().0)?;
            let dtype = dataset.dtype();
            if let Some(chunks) = dataset.chunks() {
                let elements = chunks.iter().try_fold(1u64, |a, &c| a.checked_mul(c));
                let bytes = elements.and_then(|n| n.checked_mul(memory_size(dtype)));
                let dims = join_u64(chunks);
                match bytes {
                    Some(b) => writeln!(self.out, "    Chunks:    {{{dims}}} {b} bytes")?,
                    None => writeln!(self.out, "    Chunks:    {{{dims}}}")?,
                }
            }
            let elements = dataset.shape().map_or(Some(0), |s| {
                s.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
            });
            if storage_unknown(dtype) {
                // h5ls cannot size references and vlen sequences.
                writeln!(self.out, "    Storage:   information not available")?;
            } else if let Some(logical) = elements.and_then(|n| n.checked_mul(memory_size(dtype))) {
                let unit = if logical == 1 { "byte" } else { "bytes" };
                writeln!(self.out, "    Storage:   {logical} logical {unit}")?;
            }
            for (i, filter) in dataset.filters().iter().enumerate() {
                let opt = if filter.optional { "OPT" } else { "" };
                let cd: Vec<String> = filter.cd_values.iter().map(u32::to_string).collect();
                writeln!(
                    self.out,
                    "    Filter-{i}:  {}-{} {opt} {{{}}}",
                    filter.name,
                    filter.id,
                    cd.join(", ")
                )?;
            }
            self.type_lines("    ", dtype)?;
        }
        if self.args.data {
            writeln!(self.out, "    Data:")?;
            if dataset.shape().is_none() {
                writeln!(self.out)?;
            } else if raw_len(dataset) > STREAM_ABOVE {
                self.streamed_data(dataset)?;
            } else {
                match dataset.values() {
                    Ok(values) => {
                        let items = value_texts(dataset.dtype(), &values);
                        self.wrapped(9, DATASET_DATA_WIDTH, &items)?;
                    }
                    Err(e) => writeln!(self.out, "         **ERROR** {e}")?,
                }
            }
        }
        Ok(())
    }

    /// The `-v` attribute block.
    fn attributes(
        &mut self,
        attrs: h5sparse::Result<Vec<h5sparse::Attribute<'_>>>,
    ) -> Result<(), CliError> {
        let attrs = match attrs {
            Ok(a) => a,
            Err(e) => {
                writeln!(self.out, "    Attribute: **ERROR** {e}")?;
                return Ok(());
            }
        };
        for attr in &attrs {
            let shape = match attr.shape() {
                None => "null".to_string(),
                Some([]) => "scalar".to_string(),
                Some(dims) => format!("{{{}}}", join_u64(dims)),
            };
            writeln!(
                self.out,
                "    Attribute: {} {shape}",
                display_name(attr.name())
            )?;
            self.type_lines("        ", attr.dtype())?;
            let readable = !matches!(attr.dtype(), Dtype::Unsupported { .. });
            // An empty attribute has no data lines (h5ls prints none).
            let empty = attr.shape().is_some_and(|d| d.contains(&0));
            if attr.shape().is_some() && readable && !empty {
                writeln!(self.out, "        Data:")?;
                match attr.values() {
                    Ok(values) => {
                        let items = value_texts(attr.dtype(), &values);
                        self.wrapped(15, ATTRIBUTE_DATA_WIDTH, &items)?;
                    }
                    Err(e) => writeln!(self.out, "               **ERROR** {e}")?,
                }
            }
        }
        Ok(())
    }

    /// `Type:` and its continuation lines (at fixed columns, as h5ls).
    fn type_lines(&mut self, indent: &str, dtype: &Dtype) -> Result<(), CliError> {
        let mut lines = type_description(dtype).into_iter();
        if let Some(first) = lines.next() {
            writeln!(self.out, "{indent}Type:      {first}")?;
        }
        for line in lines {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// A large dataset's `Data:` lines, read and written block by block
    /// (the same text as a whole read; a block that fails ends the data
    /// with an `**ERROR**` line).
    fn streamed_data(&mut self, dataset: &Dataset<'_>) -> Result<(), CliError> {
        let total = dataset
            .shape()
            .unwrap_or(&[])
            .iter()
            .fold(1u64, |a, &d| a.saturating_mul(d));
        let mut wrap = Wrap::new(9, DATASET_DATA_WIDTH);
        let mut written = 0u64;
        for (i, block) in dataset.values_in_blocks(STREAM_BLOCK).enumerate() {
            match block {
                Ok(values) => {
                    for item in value_texts(dataset.dtype(), &values) {
                        written += 1;
                        wrap.push(&mut *self.out, &item, written == total)?;
                    }
                }
                Err(e) if i == 0 => {
                    writeln!(self.out, "         **ERROR** {e}")?;
                    return Ok(());
                }
                Err(e) => {
                    wrap.finish(&mut *self.out)?;
                    writeln!(self.out, "         **ERROR** {e}")?;
                    return Ok(());
                }
            }
        }
        wrap.finish(&mut *self.out)
    }

    /// Values separated by `, `, wrapped so no line exceeds `width`.
    fn wrapped(&mut self, indent: usize, width: usize, items: &[String]) -> Result<(), CliError> {
        if items.is_empty() {
            writeln!(self.out)?;
            return Ok(());
        }
        let mut wrap = Wrap::new(indent, width);
        for (i, item) in items.iter().enumerate() {
            wrap.push(&mut *self.out, item, i + 1 == items.len())?;
        }
        wrap.finish(&mut *self.out)
    }
}

/// Datasets whose raw values are larger than this many bytes are printed
/// block by block rather than read whole.
const STREAM_ABOVE: u64 = 4 << 20;
/// Elements per block when streaming.
const STREAM_BLOCK: u64 = 1 << 18;

/// A dataset's raw size in bytes (saturating; 0 for a null dataspace).
fn raw_len(dataset: &Dataset<'_>) -> u64 {
    dataset.shape().map_or(0, |s| {
        s.iter()
            .fold(dataset.dtype().size() as u64, |a, &d| a.saturating_mul(d))
    })
}

/// Values separated by `, `, wrapped so no line exceeds a width, written one
/// at a time.
struct Wrap {
    pad: String,
    width: usize,
    line: String,
    on_line: usize,
}

impl Wrap {
    fn new(indent: usize, width: usize) -> Wrap {
        let pad = " ".repeat(indent);
        Wrap {
            line: pad.clone(),
            pad,
            width,
            on_line: 0,
        }
    }

    /// Adds `item` (followed by a comma unless it is the `last`).
    fn push(&mut self, out: &mut dyn Write, item: &str, last: bool) -> Result<(), CliError> {
        let piece_len = item.chars().count() + usize::from(!last);
        let sep = usize::from(self.on_line > 0);
        if self.on_line > 0 && self.line.chars().count() + sep + piece_len > self.width {
            writeln!(out, "{}", self.line)?;
            self.line.clone_from(&self.pad);
            self.on_line = 0;
        }
        if self.on_line > 0 {
            self.line.push(' ');
        }
        self.line.push_str(item);
        if !last {
            self.line.push(',');
        }
        self.on_line += 1;
        Ok(())
    }

    /// Writes the last line.
    fn finish(self, out: &mut dyn Write) -> Result<(), CliError> {
        writeln!(out, "{}", self.line)?;
        Ok(())
    }
}

/// `parent/name`, with a single slash after the root.
fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// A name as h5ls prints it: spaces, quotes and backslashes escaped.
fn display_name(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            ' ' | '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            c if c.is_control() => s.push_str(&format!("\\{:03o}", u32::from(c))),
            c => s.push(c),
        }
    }
    s
}

/// Comma-separated dimensions.
fn join_u64(dims: &[u64]) -> String {
    dims.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `{SCALAR}`, `{NULL}`, `{4/Inf, 3}`; with `always_max`, every dimension
/// shows its maximum (h5ls -v).
fn shape_text(dataset: &Dataset<'_>, always_max: bool) -> String {
    let Some(shape) = dataset.shape() else {
        return "{NULL}".to_string();
    };
    if shape.is_empty() {
        return "{SCALAR}".to_string();
    }
    let max = dataset.maxshape().unwrap_or_default();
    let dims: Vec<String> = shape
        .iter()
        .enumerate()
        .map(|(i, &cur)| match max.get(i) {
            Some(None) => format!("{cur}/Inf"),
            Some(Some(m)) if *m != cur || always_max => format!("{cur}/{m}"),
            None if always_max => format!("{cur}/{cur}"),
            _ => cur.to_string(),
        })
        .collect();
    format!("{{{}}}", dims.join(", "))
}

/// Bytes of one element in memory, as h5ls counts logical storage
/// (a variable-length string is a pointer).
fn memory_size(dtype: &Dtype) -> u64 {
    h5sparse::dump::api_size(dtype) as u64
}

/// Whether h5ls reports a dataset's storage as "information not available":
/// a reference, or a type holding a vlen sequence anywhere.
fn storage_unknown(dtype: &Dtype) -> bool {
    fn has_sequence(d: &Dtype) -> bool {
        match d {
            Dtype::VarSequence { .. } => true,
            Dtype::Compound { fields, .. } => fields.iter().any(|f| has_sequence(&f.dtype)),
            Dtype::Array { base, .. } => has_sequence(base),
            _ => false,
        }
    }
    matches!(dtype, Dtype::ObjectRef | Dtype::RegionRef) || has_sequence(dtype)
}

#[cfg(test)]
mod tests {
    use super::words::{format_g, int_name, quote};
    use super::*;
    use h5sparse::{ByteOrder, CharSet, StringPadding};

    #[test]
    fn format_g_matches_c() {
        assert_eq!(format_g(std::f64::consts::PI, 15), "3.14159265358979");
        assert_eq!(format_g(1.0 / 3.0, 15), "0.333333333333333");
        assert_eq!(format_g(1e-5, 15), "1e-05");
        assert_eq!(format_g(123456789.0, 15), "123456789");
        assert_eq!(format_g(1e16, 15), "1e+16");
        assert_eq!(format_g(0.5e-300, 15), "5e-301");
        assert_eq!(format_g(-0.0, 15), "-0");
        assert_eq!(format_g(f64::from(std::f32::consts::PI), 6), "3.14159");
        assert_eq!(format_g(123456789.0, 6), "1.23457e+08");
        assert_eq!(format_g(1e300, 15), "1e+300");
        assert_eq!(format_g(1.5, 15), "1.5");
        assert_eq!(format_g(100000.0, 6), "100000");
        assert_eq!(format_g(1000000.0, 6), "1e+06");
    }

    #[test]
    fn names_and_types_in_h5ls_words() {
        assert_eq!(display_name("sp ace\"q"), "sp\\ ace\\\"q");
        let le = ByteOrder::Little;
        let be = ByteOrder::Big;
        assert_eq!(int_name(8, true, le), "native long");
        assert_eq!(int_name(1, false, le), "native unsigned char");
        assert_eq!(int_name(1, true, le), "native signed char");
        assert_eq!(int_name(2, false, be), "16-bit big-endian unsigned integer");
        assert_eq!(int_name(4, true, be), "32-bit big-endian integer");
        assert_eq!(
            type_description(&Dtype::Float { size: 8, order: be }),
            vec!["IEEE 64-bit big-endian float"]
        );
        assert_eq!(
            type_description(&Dtype::FixedString {
                size: 3,
                padding: StringPadding::NullPadded,
                charset: CharSet::Ascii
            }),
            vec!["3-byte null-padded ASCII string"]
        );
    }

    #[test]
    fn quotes_like_h5ls() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(quote("x\0"), "\"x\\000\"");
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("//a//b/"), "/a/b");
    }
}
