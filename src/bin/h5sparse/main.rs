//! The `h5sparse` command-line tool.
fn main() {}
