//! Walks an HDF5 file and prints every object, attribute and (short) value.
//!
//! `cargo run --example walk -- FILE`

use h5sparse::{File, Group, Node, Values};

fn show(v: &Values) -> String {
    let s = format!("{v:?}");
    if s.len() > 120 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(120).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

fn walk(g: &Group<'_>, depth: usize) -> h5sparse::Result<()> {
    let pad = "  ".repeat(depth);
    for a in g.attributes()? {
        println!(
            "{pad}@{} {} {:?} = {}",
            a.name(),
            a.dtype().numpy_str(),
            a.shape(),
            a.values()
                .map(|v| show(&v))
                .unwrap_or_else(|e| format!("ERR {e}"))
        );
    }
    for link in g.links()? {
        match g.follow(&link) {
            Ok(Node::Group(child)) => {
                println!("{pad}{}/", link.name);
                if depth < 16 {
                    walk(&child, depth + 1)?;
                }
            }
            Ok(Node::Dataset(d)) => {
                println!(
                    "{pad}{} {} shape={:?} max={:?} {:?} chunks={:?} filters={:?} index={:?}",
                    link.name,
                    d.dtype().numpy_str(),
                    d.shape(),
                    d.maxshape(),
                    d.layout(),
                    d.chunks(),
                    d.filters()
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>(),
                    d.chunk_index().map(|i| format!("{i:?}")
                        .split(' ')
                        .next()
                        .unwrap_or("")
                        .to_string())
                );
                println!(
                    "{pad}  = {}",
                    d.values()
                        .map(|v| show(&v))
                        .unwrap_or_else(|e| format!("ERR {e}"))
                );
                for a in d.attributes()? {
                    println!(
                        "{pad}  @{} {} = {}",
                        a.name(),
                        a.dtype().numpy_str(),
                        a.values()
                            .map(|v| show(&v))
                            .unwrap_or_else(|e| format!("ERR {e}"))
                    );
                }
            }
            Ok(Node::Datatype { .. }) => println!("{pad}{} (datatype)", link.name),
            Err(e) => println!("{pad}{} -> {:?}: ERR {e}", link.name, link.target),
        }
    }
    Ok(())
}

fn main() {
    for path in std::env::args().skip(1) {
        println!("== {path}");
        match File::open(&path).and_then(|f| {
            println!("superblock v{}", f.superblock_version());
            walk(&f.root()?, 0)
        }) {
            Ok(()) => {}
            Err(e) => println!("ERROR {e}"),
        }
    }
}
