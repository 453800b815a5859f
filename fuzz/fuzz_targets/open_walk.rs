//! Arbitrary bytes → open from memory with strict limits → walk every object,
//! reading every attribute and dataset (chunks decoded through the filters).
#![no_main]

use h5sparse::{File, Group, Limits, Node};
use libfuzzer_sys::fuzz_target;

fn walk(group: &Group<'_>, depth: u32) {
    if depth > 16 {
        return;
    }
    if let Ok(attrs) = group.attributes() {
        for a in attrs {
            let _ = a.values();
        }
    }
    let Ok(links) = group.links() else { return };
    for link in links {
        match group.follow(&link) {
            Ok(Node::Group(g)) => walk(&g, depth + 1),
            Ok(Node::Dataset(d)) => {
                let _ = d.values();
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

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_alloc: 16 << 20,
        ..Limits::strict()
    };
    if let Ok(file) = File::from_bytes_with_limits(data.to_vec(), limits) {
        if let Ok(root) = file.root() {
            walk(&root, 0);
        }
    }
});
