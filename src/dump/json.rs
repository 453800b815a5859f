//! A streaming writer of compact JSON for the dump.

use std::fmt::Write as _;

/// The buffer of a [`JsonWriter`] with a sink is handed over once it holds
/// this many bytes.
pub(super) const FLUSH_AT: usize = 64 << 10;

/// A streaming writer of compact JSON that places commas itself: into a
/// string, or through a buffer into an [`std::io::Write`] sink.
#[derive(Default)]
pub(crate) struct JsonWriter<'s> {
    pub(super) out: String,
    /// One entry per open array/object: has it an element already?
    open: Vec<bool>,
    /// A key was just written; the next value follows its colon.
    after_key: bool,
    /// Where the text goes when `out` fills; `None` keeps it all in `out`.
    sink: Option<&'s mut dyn std::io::Write>,
    /// Bytes handed to the sink so far.
    pub(super) flushed: u64,
    /// The sink's first error; later output is dropped.
    error: Option<std::io::Error>,
}

impl<'s> JsonWriter<'s> {
    /// A writer that hands its text to `sink` as it goes.
    pub(crate) fn to_sink(sink: &'s mut dyn std::io::Write) -> JsonWriter<'s> {
        JsonWriter {
            sink: Some(sink),
            ..JsonWriter::default()
        }
    }

    /// Hands the buffer to the sink if there is one.
    fn drain(&mut self) {
        if let Some(sink) = self.sink.as_mut() {
            if let Err(e) = sink.write_all(self.out.as_bytes()) {
                self.error = Some(e);
                self.sink = None;
            }
            self.flushed += self.out.len() as u64;
            self.out.clear();
        }
    }

    /// Writes what is buffered to the sink and flushes it; the sink's first
    /// error, if any.
    pub(crate) fn flush(mut self) -> std::io::Result<()> {
        self.drain();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.sink.as_mut() {
            Some(sink) => sink.flush(),
            None => Ok(()),
        }
    }

    /// The separator before a new element.
    fn separate(&mut self) {
        if self.out.len() >= FLUSH_AT && self.sink.is_some() {
            self.drain();
        }
        if self.after_key {
            self.after_key = false;
            return;
        }
        if let Some(has_element) = self.open.last_mut() {
            if *has_element {
                self.out.push(',');
            }
            *has_element = true;
        }
    }

    pub(crate) fn begin_object(&mut self) {
        self.separate();
        self.out.push('{');
        self.open.push(false);
    }

    pub(crate) fn end_object(&mut self) {
        self.open.pop();
        self.out.push('}');
    }

    pub(crate) fn begin_array(&mut self) {
        self.separate();
        self.out.push('[');
        self.open.push(false);
    }

    pub(crate) fn end_array(&mut self) {
        self.open.pop();
        self.out.push(']');
    }

    pub(crate) fn key(&mut self, key: &str) {
        self.separate();
        push_json_string(&mut self.out, key);
        self.out.push(':');
        self.after_key = true;
    }

    pub(crate) fn string(&mut self, s: &str) {
        self.separate();
        push_json_string(&mut self.out, s);
    }

    pub(crate) fn int(&mut self, v: i64) {
        self.separate();
        let _ = write!(self.out, "{v}");
    }

    pub(crate) fn uint(&mut self, v: u64) {
        self.separate();
        let _ = write!(self.out, "{v}");
    }

    /// A float that reads back as a float: Rust's `{:?}` always has a `.` or
    /// an exponent and round-trips; non-finite values become strings.
    pub(crate) fn float(&mut self, v: f64) {
        if v.is_nan() {
            self.string("NaN");
        } else if v.is_infinite() {
            self.string(if v > 0.0 { "Infinity" } else { "-Infinity" });
        } else {
            self.separate();
            let _ = write!(self.out, "{v:?}");
        }
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.separate();
        self.out.push_str(if v { "true" } else { "false" });
    }

    pub(crate) fn null(&mut self) {
        self.separate();
        self.out.push_str("null");
    }

    /// Inserts an already serialised value.
    pub(crate) fn raw(&mut self, json: &str) {
        self.separate();
        self.out.push_str(json);
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Appends `s` as a JSON string literal, escaping quotes, backslashes and
/// every control character.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
