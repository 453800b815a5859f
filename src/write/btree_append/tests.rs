//! Path-copy appends checked against a model of the chunk set and against
//! the B-tree's invariants, including sibling links.

use super::*;
use crate::format::btree_v1::{chunk_records, BTreeV1Node};
use crate::format::Sizes;
use crate::write::btree::write_chunk_tree;

/// A file image and the transactions applied to it.
struct Image {
    bytes: Vec<u8>,
}

impl Image {
    fn new() -> Image {
        Image { bytes: vec![0; 64] }
    }

    fn view(&self) -> FileView<'_> {
        FileView::new(&self.bytes, Sizes::DEFAULT, 0)
    }

    fn tx(&self) -> Tx<'static> {
        Tx {
            eoa: self.bytes.len() as u64,
            base: 0,
            sizes: Sizes::DEFAULT,
            limits: Limits::default(),
            latest: false,
            fresh: Vec::new(),
            publish: Vec::new(),
            claimed: Vec::new(),
            count_deltas: Vec::new(),
            shadow: false,
            private_from: None,
            after_commit: Vec::new(),
            placement: Default::default(),
        }
    }

    /// Applies `tx` as the writer does: fresh bytes, then the publishing
    /// writes in order. Returns how many publishing writes there were.
    fn apply(&mut self, tx: Tx<'_>) -> usize {
        let end = tx.eoa as usize;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        for (at, b) in &tx.fresh {
            self.bytes[*at as usize..*at as usize + b.len()].copy_from_slice(b);
        }
        for (at, b) in &tx.publish {
            self.bytes[*at as usize..*at as usize + b.len()].copy_from_slice(b);
        }
        tx.publish.len()
    }
}

/// A chunk entry whose address encodes its offset and generation, so a
/// replaced chunk is told from its predecessor.
fn entry(offset: Vec<u64>, generation: u64) -> ChunkEntry {
    let id = offset.iter().fold(generation, |a, &o| a * 1_000_003 + o);
    ChunkEntry {
        offset,
        address: Address((1 << 40) + id % (1 << 40)),
        size: (id % 1000) as u32 + 1,
        filter_mask: (generation % 2) as u32,
    }
}

/// Checks what the reader and libhdf5 rely on: child levels one below
/// their parent, at most 2K children, every child's chunks within its
/// parent's keys, and on every level the nodes linked left to right in
/// key order. Returns the height.
fn check_structure(img: &Image, root: Address, rank: usize, k: u16) -> u8 {
    let view = img.view();
    let key_size = chunk_key_size(rank);
    let limits = Limits::default();
    let node =
        |a: Address| BTreeV1Node::parse(&view, a, NODE_TYPE_CHUNK, key_size, &limits).unwrap();
    let key = |raw: (u64, &[u8])| ChunkKey::parse(raw.1, raw.0, rank, Sizes::DEFAULT).unwrap();
    let top = node(root);
    assert_eq!(top.left, Address::UNDEFINED);
    assert_eq!(top.right, Address::UNDEFINED);
    let mut level_nodes = vec![root];
    for level in (0..=top.level).rev() {
        let mut next = Vec::new();
        for (i, &a) in level_nodes.iter().enumerate() {
            let n = node(a);
            assert_eq!(n.level, level);
            assert!(n.children.len() <= 2 * usize::from(k));
            assert!(!n.children.is_empty());
            let want_left = if i == 0 {
                Address::UNDEFINED
            } else {
                level_nodes[i - 1]
            };
            let want_right = level_nodes
                .get(i + 1)
                .copied()
                .unwrap_or(Address::UNDEFINED);
            if level < top.level {
                assert_eq!(n.left, want_left, "left link of node {i} at level {level}");
                assert_eq!(
                    n.right, want_right,
                    "right link of node {i} at level {level}"
                );
            }
            let keys: Vec<ChunkKey> = n.keys.iter().map(|&r| key(r)).collect();
            for w in keys.windows(2) {
                assert!(
                    w[0].offset < w[1].offset,
                    "keys out of order at level {level}"
                );
            }
            if level > 0 {
                for (j, &c) in n.children.iter().enumerate() {
                    let child = node(c);
                    let first = key(child.keys[0]);
                    assert_eq!(first.offset, keys[j].offset, "a child's first key");
                    let last = key(child.keys[child.children.len()]);
                    assert!(
                        last.offset <= keys[j + 1].offset,
                        "a child past its right key"
                    );
                    next.push(c);
                }
            }
        }
        level_nodes = next;
    }
    top.level
}

fn records(img: &Image, root: Address, rank: usize) -> Vec<ChunkEntry> {
    chunk_records(&img.view(), root, rank, &Limits::default())
        .unwrap()
        .into_iter()
        .map(|r| ChunkEntry {
            offset: r.offset,
            address: r.address,
            size: r.size as u32,
            filter_mask: r.filter_mask,
        })
        .collect()
}

/// Appends chunk rows to a tree of K = `k`, rewriting the last row now and
/// then as an append after a partial edge chunk does, and checks each
/// state. `cols` chunks per row (rank 2 when more than one).
fn grow(k: u16, cols: u64, steps: &[(u64, bool)], placement: RootPlacement) {
    let rank = if cols > 1 { 2 } else { 1 };
    let offset = |row: u64, col: u64| -> Vec<u64> {
        if rank == 1 {
            vec![row * 4]
        } else {
            vec![row * 4, col * 3]
        }
    };
    let mut img = Image::new();
    let mut model: Vec<ChunkEntry> = (0..cols).map(|c| entry(offset(0, c), 0)).collect();
    let mut tx = img.tx();
    let mut root = write_chunk_tree(&mut tx, &model, rank, 8, k, None).unwrap();
    img.apply(tx);
    let mut rows = 1;
    let mut height = 0;
    for (generation, &(new_rows, rewrite_last)) in steps.iter().enumerate() {
        let generation = generation as u64 + 1;
        let mut changes = Vec::new();
        if rewrite_last {
            changes.extend((0..cols).map(|c| entry(offset(rows - 1, c), generation)));
        }
        for r in rows..rows + new_rows {
            changes.extend((0..cols).map(|c| entry(offset(r, c), generation)));
        }
        rows += new_rows;
        let (old_root, old_model) = (root, {
            let mut m = model.clone();
            m.sort_by(|a, b| a.offset.cmp(&b.offset));
            m
        });
        for c in &changes {
            match model.iter_mut().find(|e| e.offset == c.offset) {
                Some(e) => *e = c.clone(),
                None => model.push(c.clone()),
            }
        }
        let mut tx = img.tx();
        let mut rebuilt = false;
        let appended =
            append_chunk_tree(&img.view(), &mut tx, root, rank, &changes, 8, k, placement).unwrap();
        match appended {
            Some(t) => {
                if placement == RootPlacement::InPlace {
                    assert_eq!(t.root, root);
                    assert!(t.sibling_fixes.is_empty());
                    // The root's write publishes; fixes come after it.
                    assert_eq!(tx.publish[0].0, root.0);
                } else {
                    assert!(
                        tx.publish.is_empty(),
                        "a fresh root publishes nothing itself"
                    );
                    for (at, b) in t.sibling_fixes {
                        tx.publish(at, b);
                    }
                }
                root = t.root;
            }
            None => {
                // Some rewritten chunk lies before the last leaf.
                assert!(rewrite_last && cols > 1);
                rebuilt = true;
                let mut all = model.clone();
                all.sort_by(|a, b| a.offset.cmp(&b.offset));
                root = write_chunk_tree(&mut tx, &all, rank, 8, k, Some(root)).unwrap();
            }
        }
        img.apply(tx);
        if placement == RootPlacement::Fresh && !rebuilt {
            assert_eq!(
                records(&img, old_root, rank),
                old_model,
                "the old tree changed"
            );
        }
        model.sort_by(|a, b| a.offset.cmp(&b.offset));
        assert_eq!(records(&img, root, rank), model, "after step {generation}");
        let h = check_structure(&img, root, rank, k);
        assert!(rebuilt || h >= height, "an append never loses a level");
        height = h;
    }
}

#[test]
fn single_appends_grow_five_levels_with_k_1() {
    // K = 1: nodes of 2, so 20 chunks need 5 levels.
    let steps: Vec<(u64, bool)> = (0..20).map(|i| (1, i % 3 == 1)).collect();
    grow(1, 1, &steps, RootPlacement::InPlace);
}

#[test]
fn batches_and_rewrites_of_the_last_chunk_with_k_2_and_3() {
    let steps = [
        (1, false),
        (7, true),
        (0, true),
        (13, false),
        (1, true),
        (40, true),
        (2, false),
        (100, true),
    ];
    grow(2, 1, &steps, RootPlacement::InPlace);
    grow(3, 1, &steps, RootPlacement::InPlace);
}

#[test]
fn two_dimensional_rows_of_chunks() {
    let steps: Vec<(u64, bool)> = (0..30).map(|i| (1 + i % 3, i % 4 == 0)).collect();
    grow(2, 3, &steps, RootPlacement::InPlace);
    grow(2, 5, &steps, RootPlacement::InPlace);
}

#[test]
fn a_fresh_root_leaves_the_old_tree_intact() {
    let steps: Vec<(u64, bool)> = (0..25).map(|i| (1 + i % 2, i % 5 == 0)).collect();
    grow(2, 1, &steps, RootPlacement::Fresh);
    grow(1, 2, &steps, RootPlacement::Fresh);
}

/// A 1-D tree of K = 2 over `n` chunks of 2 elements, rebuilt whole.
fn tree_of(n: u64) -> (Image, Address) {
    let model: Vec<ChunkEntry> = (0..n).map(|i| entry(vec![i * 2], 0)).collect();
    let mut img = Image::new();
    let mut tx = img.tx();
    let root = write_chunk_tree(&mut tx, &model, 1, 4, 2, None).unwrap();
    img.apply(tx);
    (img, root)
}

/// Appends one chunk at `offset` to the 1-D tree at `root` (K = 2,
/// 4-byte elements), its root in place.
fn append_one(
    img: &Image,
    tx: &mut Tx<'_>,
    root: Address,
    offset: u64,
) -> Result<Option<AppendedTree>> {
    let change = [entry(vec![offset], 1)];
    append_chunk_tree(
        &img.view(),
        tx,
        root,
        1,
        &change,
        4,
        2,
        RootPlacement::InPlace,
    )
}

#[test]
fn an_append_writes_the_path_not_the_tree() {
    // 4096 chunks at K = 2: 6 full levels. One more chunk splits the path:
    // two nodes per level and a new root level, nothing else.
    let (mut img, root) = tree_of(4096);
    let height = check_structure(&img, root, 1, 2);
    let before = img.bytes.len();
    let mut tx = img.tx();
    append_one(&img, &mut tx, root, 8192).unwrap().unwrap();
    let fresh = tx.fresh.len();
    let publishes = img.apply(tx);
    let node = node_size_chunk(2, 1, Sizes::DEFAULT);
    let most = 2 * (usize::from(height) + 1);
    assert!(fresh <= most, "{fresh} fresh nodes for height {height}");
    assert!(img.bytes.len() - before <= most * (node + 8));
    assert_eq!(check_structure(&img, root, 1, 2), height + 1);
    // The root, then at most one sibling fix per level below it.
    assert!(publishes <= usize::from(height) + 1);
    assert_eq!(records(&img, root, 1).len(), 4097);
    // The next append finds room: the path again, not a split.
    let mut tx = img.tx();
    append_one(&img, &mut tx, root, 8194).unwrap().unwrap();
    assert!(tx.fresh.len() <= usize::from(height) + 1);
    img.apply(tx);
    assert_eq!(records(&img, root, 1).len(), 4098);
    check_structure(&img, root, 1, 2);
}

#[test]
fn changes_before_the_last_leaf_are_declined() {
    let (img, root) = tree_of(50);
    let mut tx = img.tx();
    let got = append_one(&img, &mut tx, root, 0).unwrap();
    assert!(got.is_none());
    assert!(tx.fresh.is_empty() && tx.publish.is_empty());
    // Unsorted changes are the caller's mistake.
    let path = RightmostPath::read(&img.view(), root, 1, &Limits::default()).unwrap();
    let unsorted = [entry(vec![200], 1), entry(vec![100], 1)];
    assert!(path
        .apply(&mut tx, &unsorted, 4, 2, RootPlacement::InPlace)
        .is_err());
}
