//! Membership of link-message groups (the groups of libver v18 and later):
//! link messages in the group's object header ("compact" storage) or, past
//! the group's phase-change threshold, dense storage (see [`super::dense`]).
//!
//! As libhdf5 does, a group whose link count rises above its maximum for
//! compact storage (group info message; 8 by default) moves to dense
//! storage, and one whose count falls below its minimum for dense storage
//! (6 by default) moves back. Groups that track creation order number new
//! links from the link info message's maximum creation index, which is
//! raised in the same header write.

use std::borrow::Cow;

use super::dense::{self, Entry, Kind};
use super::header::{self, Edit};
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::message::group_info::GroupInfo;
use crate::format::message::link::LinkMessage;
use crate::format::message::link_info::LinkInfo;
use crate::format::object_header::{kind, NewMessage, ObjectHeader, Slot};
use crate::format::{Address, FileView};
use crate::read::LinkTarget;

/// libhdf5's default (maximum compact, minimum dense) link counts.
const DEFAULT_PHASE_CHANGE: (u16, u16) = (8, 6);

/// One member as stored.
struct Member {
    name: String,
    /// The encoded link message.
    message: Vec<u8>,
    order: u64,
    /// Its header slot, for compact storage.
    slot: Option<Slot>,
}

/// The members of a link-message group and how they are stored.
pub(crate) struct Links {
    oh: Address,
    header_version: u8,
    info: Option<(Slot, LinkInfo)>,
    phase_change: (u16, u16),
    dense: bool,
    members: Vec<Member>,
}

fn link_message(data: &[u8]) -> NewMessage<'static> {
    NewMessage {
        kind: kind::LINK,
        flags: 0,
        data: Cow::Owned(data.to_vec()),
    }
}

impl Links {
    /// Reads the members of the link-message group at `oh` (header `hdr`).
    pub(crate) fn from_header(
        view: &FileView<'_>,
        tx: &Tx<'_>,
        oh: Address,
        hdr: &ObjectHeader<'_>,
    ) -> Result<Links> {
        let sizes = view.sizes;
        let info = match header::slots_of(view, hdr, kind::LINK_INFO)?
            .into_iter()
            .next()
        {
            Some((slot, m)) => Some((slot, LinkInfo::parse(&m.data, slot.header_at, sizes)?)),
            None => None,
        };
        let phase_change = match hdr.first(kind::GROUP_INFO) {
            Some(m) => GroupInfo::parse(m.data, m.at, sizes)?
                .link_phase_change
                .unwrap_or(DEFAULT_PHASE_CHANGE),
            None => DEFAULT_PHASE_CHANGE,
        };
        let mut members = Vec::new();
        for (slot, m) in header::slots_of(view, hdr, kind::LINK)? {
            let link = LinkMessage::parse(&m.data, slot.header_at, sizes)?;
            members.push(Member {
                name: link.name,
                message: m.data.into_owned(),
                order: link.creation_order.unwrap_or(0),
                slot: Some(slot),
            });
        }
        let mut dense = false;
        if let Some((_, i)) = &info {
            if !i.fractal_heap.is_undefined() {
                dense = true;
                for e in dense::read(view, &tx.limits, Kind::Links, i.fractal_heap, i.name_index)? {
                    members.push(Member {
                        name: String::from_utf8(e.name)
                            .map_err(|_| Error::invalid("link name is not UTF-8"))?,
                        message: e.message,
                        order: e.order,
                        slot: None,
                    });
                }
            }
        }
        Ok(Links {
            oh,
            header_version: hdr.version,
            info,
            phase_change,
            dense,
            members,
        })
    }

    /// Member names, in storage order.
    pub(crate) fn names(&self) -> Vec<Vec<u8>> {
        self.members
            .iter()
            .map(|m| m.name.clone().into_bytes())
            .collect()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.members.iter().position(|m| m.name == name)
    }

    fn info(&self) -> Result<&(Slot, LinkInfo)> {
        self.info
            .as_ref()
            .ok_or_else(|| Error::invalid("link-message group has no link info message"))
    }

    /// Adds member `name` pointing at `target`.
    pub(crate) fn insert(
        mut self,
        view: &FileView<'_>,
        tx: &mut Tx<'_>,
        name: &str,
        target: LinkTarget,
    ) -> Result<()> {
        if self.position(name).is_some() {
            return Err(Error::invalid(format!(
                "a member named {name:?} already exists"
            )));
        }
        let mut info = self.info.as_ref().map(|(_, i)| *i);
        let order = info.as_mut().and_then(|i| {
            i.max_creation_index.as_mut().map(|m| {
                let order = *m;
                *m += 1;
                order
            })
        });
        let message = LinkMessage {
            name: name.to_string(),
            target,
            creation_order: order,
        }
        .encode()?;
        let count = self.members.len() + 1;
        if self.dense || self.should_be_dense(count) {
            self.members.push(Member {
                name: name.to_string(),
                message,
                order: order.unwrap_or(0),
                slot: None,
            });
            return self.store(view, tx, info);
        }
        let mut edits = vec![Edit::Add(link_message(&message))];
        if let (Some((slot, _)), Some(info)) = (&self.info, info) {
            if order.is_some() {
                edits.insert(0, Edit::Replace(*slot, info_message(&info)?));
            }
        }
        header::edit(view, tx, self.oh, edits)
    }

    /// Removes member `name`.
    pub(crate) fn remove(mut self, view: &FileView<'_>, tx: &mut Tx<'_>, name: &str) -> Result<()> {
        let i = self
            .position(name)
            .ok_or_else(|| Error::invalid(format!("no member named {name:?}")))?;
        let gone = self.members.remove(i);
        match gone.slot {
            Some(slot) => header::remove_message(view, tx, self.oh, &slot),
            None => {
                let info = self.info.as_ref().map(|(_, i)| *i);
                self.store(view, tx, info)
            }
        }
    }

    /// Points member `name` where member `replacement` points and removes
    /// `replacement`.
    pub(crate) fn retarget(
        mut self,
        view: &FileView<'_>,
        tx: &mut Tx<'_>,
        name: &str,
        replacement: &str,
    ) -> Result<()> {
        let (Some(old), Some(new)) = (self.position(name), self.position(replacement)) else {
            return Err(Error::invalid(format!(
                "{name:?} or {replacement:?} is not a member"
            )));
        };
        let at = self.members[new].slot.map_or(0, |s| s.header_at);
        let target = LinkMessage::parse(&self.members[new].message, at, view.sizes)?.target;
        let keep = &self.members[old];
        let message = LinkMessage {
            name: name.to_string(),
            target,
            creation_order: self.info()?.1.max_creation_index.map(|_| keep.order),
        }
        .encode()?;
        if let (Some(old_slot), Some(new_slot)) = (keep.slot, self.members[new].slot) {
            // Compact: retarget `name` (one slot write), then drop the
            // temporary link (a crash in between leaves a stray member only).
            return header::edit(
                view,
                tx,
                self.oh,
                vec![
                    Edit::Replace(old_slot, link_message(&message)),
                    Edit::Remove(new_slot),
                ],
            );
        }
        self.members[old].message = message;
        self.members.remove(new);
        let info = self.info.as_ref().map(|(_, i)| *i);
        self.store(view, tx, info)
    }

    /// Points member `name` at `target`, keeping its creation order.
    pub(crate) fn set_target(
        mut self,
        view: &FileView<'_>,
        tx: &mut Tx<'_>,
        name: &str,
        target: LinkTarget,
    ) -> Result<()> {
        let i = self
            .position(name)
            .ok_or_else(|| Error::invalid(format!("no member named {name:?}")))?;
        let tracked = self.info.as_ref().and_then(|(_, i)| i.max_creation_index);
        let message = LinkMessage {
            name: name.to_string(),
            target,
            creation_order: tracked.map(|_| self.members[i].order),
        }
        .encode()?;
        if let Some(slot) = self.members[i].slot {
            return header::edit(
                view,
                tx,
                self.oh,
                vec![Edit::Replace(slot, link_message(&message))],
            );
        }
        self.members[i].message = message;
        let info = self.info.as_ref().map(|(_, i)| *i);
        self.store(view, tx, info)
    }

    fn should_be_dense(&self, count: usize) -> bool {
        self.header_version >= 2 && count > usize::from(self.phase_change.0)
    }

    /// Stores the members afresh: dense when above the group's thresholds,
    /// else as link messages, publishing with the link info message.
    fn store(self, view: &FileView<'_>, tx: &mut Tx<'_>, info: Option<LinkInfo>) -> Result<()> {
        let (info_slot, _) = *self.info()?;
        let mut info = info.ok_or_else(|| Error::invalid("link-message group has no link info"))?;
        let count = self.members.len();
        let dense = if self.dense {
            count >= usize::from(self.phase_change.1)
        } else {
            self.should_be_dense(count)
        };
        let mut edits = Vec::new();
        for m in &self.members {
            if let Some(slot) = m.slot {
                edits.push(Edit::Remove(slot));
            }
        }
        if dense {
            let entries: Vec<Entry> = self
                .members
                .iter()
                .map(|m| Entry {
                    name: m.name.clone().into_bytes(),
                    message: m.message.clone(),
                    order: m.order,
                    flags: 0,
                })
                .collect();
            let stored =
                dense::write(tx, Kind::Links, &entries, info.max_creation_index.is_some())?;
            info.fractal_heap = stored.heap;
            info.name_index = stored.name_index;
            info.order_index = stored.order_index;
        } else {
            info.fractal_heap = Address::UNDEFINED;
            info.name_index = Address::UNDEFINED;
            info.order_index = Address::UNDEFINED;
            for m in &self.members {
                if m.slot.is_none() {
                    edits.push(Edit::Add(link_message(&m.message)));
                }
            }
        }
        // The link info message first: when the group's messages span
        // several header chunks (published one write each), a crash
        // part-way can show a member twice, but never loses one.
        edits.insert(0, Edit::Replace(info_slot, info_message(&info)?));
        header::edit(view, tx, self.oh, edits)
    }
}

fn info_message(info: &LinkInfo) -> Result<NewMessage<'static>> {
    Ok(NewMessage {
        kind: kind::LINK_INFO,
        flags: 0,
        data: Cow::Owned(info.encode()?),
    })
}
