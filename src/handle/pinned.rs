//! An object opened in one snapshot, kept together with the snapshot it
//! borrows from, so handles can cache what they opened (parsed headers,
//! loaded chunk indexes) between calls instead of resolving their path and
//! loading indexes again for every read.

use std::mem::ManuallyDrop;
use std::sync::{Arc, Mutex};

use super::{poisoned, H5File, ReadGuard};
use crate::error::Result;
use crate::read::File;

/// A kind of object that borrows from a [`File`] (`Dataset<'f>`,
/// `SparseDataset<'f>`).
pub(crate) trait Opens {
    /// The object borrowing a file for `'f`.
    type At<'f>;
    /// Opens the object at `path` in `file`.
    fn open<'f>(file: &'f File, path: &str) -> Result<Self::At<'f>>;
}

/// `K::At` opened in `file`, borrowing it.
struct Pinned<K: Opens> {
    /// Borrows `*file`. Declared first, so it is dropped before `file`.
    value: K::At<'static>,
    file: Arc<File>,
    generation: u64,
}

impl<K: Opens> Pinned<K> {
    fn open(file: Arc<File>, path: &str, generation: u64) -> Result<Pinned<K>> {
        let value = ManuallyDrop::new(K::open(&file, path)?);
        // SAFETY: `value` borrows the `File` inside the Arc, whose heap
        // address is fixed for the Arc's life. The Pinned keeps that Arc and
        // drops `value` first, and `get` only lends `value` for as long as
        // the Pinned is borrowed, so the borrow never outlives the File.
        // Only the lifetime parameter changes, so the layout is the same;
        // ManuallyDrop keeps the original from being dropped twice.
        let value =
            unsafe { std::ptr::read((&*value as *const K::At<'_>).cast::<K::At<'static>>()) };
        Ok(Pinned {
            value,
            file,
            generation,
        })
    }

    fn get<'a>(&'a self) -> &'a K::At<'a> {
        // SAFETY: the value borrows `self.file`, which lives at least as
        // long as `'a`; everything reachable from it points into that same
        // file, so narrowing its lifetime to `'a` cannot let it reach
        // anything that dies sooner.
        unsafe { &*(&self.value as *const K::At<'static>).cast::<K::At<'a>>() }
    }
}

/// A handle's cache of the object it names, re-opened when a write has
/// made the snapshot it was opened in stale.
pub(crate) struct Cached<K: Opens> {
    path: String,
    slot: Mutex<Option<Arc<Pinned<K>>>>,
}

impl<K: Opens> Cached<K> {
    pub(crate) fn new(path: String) -> Cached<K> {
        Cached {
            path,
            slot: Mutex::new(None),
        }
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Runs `op` on the object as the file is now, with writes held off
    /// until it returns.
    pub(crate) fn with<R>(
        &self,
        file: &H5File,
        op: impl FnOnce(&K::At<'_>) -> Result<R>,
    ) -> Result<R> {
        let guard: ReadGuard<'_> = file.begin_read()?;
        let pinned = {
            let mut slot = self.slot.lock().map_err(|_| poisoned())?;
            match slot.as_ref() {
                Some(p)
                    if p.generation == guard.generation && Arc::ptr_eq(&p.file, &guard.file) =>
                {
                    p.clone()
                }
                _ => {
                    let p = Arc::new(Pinned::<K>::open(
                        guard.file.clone(),
                        &self.path,
                        guard.generation,
                    )?);
                    *slot = Some(p.clone());
                    p
                }
            }
        };
        let out = op(pinned.get());
        drop(guard);
        out
    }
}
