//! Object header messages.
