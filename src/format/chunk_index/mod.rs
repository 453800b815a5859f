//! Chunk indexes.
