//! Arbitrary bytes → open from memory (and again read range by range in
//! small blocks) with strict limits → walk every
//! object, reading every attribute and dataset (chunks decoded through the
//! filters; compound, array, vlen, opaque and complex values and object and
//! region references decoded as nested values, each field of a compound
//! dataset read on its own) and every sparse matrix the conventions
//! recognise.

use h5sparse::sparse::{self, Sel, SparseDataset};
use h5sparse::{Dataset, Dtype, File, Group, Node};

use super::input::limits;

/// Deepest group nesting walked.
const MAX_DEPTH: u32 = 16;
/// Most objects visited (a diamond of groups has exponentially many paths).
const MAX_OBJECTS: u32 = 4096;

fn walk(group: &Group<'_>, depth: u32, budget: &mut u32) {
    if depth > MAX_DEPTH || *budget == 0 {
        return;
    }
    *budget -= 1;
    if let Ok(attrs) = group.attributes() {
        for a in attrs {
            let _ = a.values();
        }
    }
    if let Ok(Some(_)) = sparse::detect(group) {
        if let Ok(m) = SparseDataset::from_group(group.clone()) {
            let _ = m.to_memory::<f64>();
            let _ = m.read::<f64>(&Sel::range(0, 3), &Sel::Indices(vec![0, -1, 0]));
            let _ = m.get::<f64>(-1, -1);
        }
    }
    let Ok(links) = group.links() else { return };
    for link in links {
        if *budget == 0 {
            return;
        }
        match group.follow(&link) {
            Ok(Node::Group(g)) => walk(&g, depth + 1, budget),
            Ok(Node::Dataset(d)) => {
                *budget -= 1;
                let _ = d.values();
                let _ = d.read_range::<u8>(0, 1);
                read_fields(&d);
                if let Ok(attrs) = d.attributes() {
                    for a in attrs {
                        let _ = a.values();
                    }
                }
            }
            _ => {}
        }
    }
}

/// A compound dataset's fields one at a time (block by block, as each
/// numeric type that could match), and its records.
fn read_fields(d: &Dataset<'_>) {
    let Dtype::Compound { fields, .. } = d.dtype() else {
        return;
    };
    for f in fields.iter().take(4) {
        let _ = d.read_field::<f64>(&f.name);
        let _ = d.read_field::<i64>(&f.name);
        let _ = d.read_field::<i32>(&f.name);
        let _ = d.read_field::<u8>(&f.name);
    }
    let _ = d.read_field::<f64>("");
    let _ = d.read_records();
}

/// Runs one input.
pub fn run(data: &[u8]) {
    if let Ok(file) = File::from_bytes_with_limits(data.to_vec(), limits()) {
        if let Ok(root) = file.root() {
            walk(&root, 0, &mut MAX_OBJECTS.clone());
        }
    }
    // The same bytes read range by range, in blocks small enough that most
    // structures span several.
    let src = h5sparse::io::source::Piecewise::new(data.to_vec(), 13);
    let max_kept = limits().max_metadata_cache;
    if let Ok(paged) = h5sparse::io::paged::PagedFile::new(Box::new(src), 61, max_kept) {
        if let Ok(file) = File::from_paged(paged, limits()) {
            if let Ok(root) = file.root() {
                walk(&root, 0, &mut MAX_OBJECTS.clone());
            }
        }
    }
}
