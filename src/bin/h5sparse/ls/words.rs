//! h5ls's words for types and values: `native int`, `struct {..}`,
//! `IEEE 64-bit big-endian float`, quoted strings, C's `%g`.

use h5sparse::{ByteOrder, CharSet, Dtype, StringPadding, Values};

/// The C type name h5ls uses for a native integer of `size` bytes.
fn native_int_name(size: u8, signed: bool) -> Option<String> {
    let base = match size {
        1 => "char",
        2 => "short",
        4 => "int",
        8 => "long",
        _ => return None,
    };
    Some(match (size, signed) {
        (1, true) => "native signed char".to_string(),
        (_, true) => format!("native {base}"),
        (_, false) => format!("native unsigned {base}"),
    })
}

/// An integer type in h5ls's words.
pub(super) fn int_name(size: u8, signed: bool, order: ByteOrder) -> String {
    if order == ByteOrder::NATIVE {
        if let Some(name) = native_int_name(size, signed) {
            return name;
        }
    }
    let bits = u32::from(size) * 8;
    let unsigned = if signed { "" } else { "unsigned " };
    if size == 1 {
        // A single byte has no byte order.
        return format!("8-bit {unsigned}integer");
    }
    let order = order_name(order);
    format!("{bits}-bit {order}-endian {unsigned}integer")
}

fn order_name(order: ByteOrder) -> &'static str {
    match order {
        ByteOrder::Little => "little",
        ByteOrder::Big => "big",
    }
}

/// A type in h5ls's words: the first line follows `Type:`; the others are
/// printed as they are (h5ls places them at fixed columns).
pub(super) fn type_description(dtype: &Dtype) -> Vec<String> {
    type_at(dtype, 15)
}

/// [`type_description`] for a type whose continuation lines start at
/// column `ind` (members, enum values and vlen bases 4 further in).
fn type_at(dtype: &Dtype, ind: usize) -> Vec<String> {
    let pad = " ".repeat(ind);
    match dtype {
        Dtype::Int {
            size,
            signed,
            order,
        } => vec![int_name(*size, *signed, *order)],
        Dtype::Float { size: 2, order } => vec![
            format!("16-bit {}-endian floating-point", order_name(*order)),
            format!("{pad}(significant for 10 bits at bit 0, msb implied)"),
            format!("{pad}(exponent for 5 bits at bit 10, bias is 0xf)"),
            format!("{pad}(sign bit at 15)"),
        ],
        Dtype::Float { size, order } => vec![float_name(*size, *order)],
        Dtype::Bool => enum_lines(
            "native signed char".to_string(),
            &[("FALSE".to_string(), 0), ("TRUE".to_string(), 1)],
            ind,
        ),
        Dtype::Enum {
            size,
            signed,
            order,
            members,
        } => enum_lines(int_name(*size, *signed, *order), members, ind),
        Dtype::FixedString {
            size,
            padding,
            charset,
        } => vec![format!(
            "{size}-byte {} {} string",
            padding_name(*padding),
            charset_name(*charset)
        )],
        Dtype::VarString { charset } => vec![format!(
            "variable-length null-terminated {} string",
            charset_name(*charset)
        )],
        // h5py's complex numbers are compounds of `r` and `i` to libhdf5.
        Dtype::Complex { size, order } => {
            let part = float_name(size / 2, *order);
            vec![
                "struct {".to_string(),
                format!("{pad}    {:<19}{:<6}{part}", "\"r\"", "+0"),
                format!(
                    "{pad}    {:<19}{:<6}{part}",
                    "\"i\"",
                    format!("+{}", size / 2)
                ),
                format!("{pad}}} {size} bytes"),
            ]
        }
        Dtype::Compound { fields, .. } => {
            let mut lines = vec!["struct {".to_string()];
            for (f, offset) in h5sparse::dump::api_fields(fields) {
                let mut member = type_at(&f.dtype, ind + 4).into_iter();
                let first = member.next().unwrap_or_default();
                lines.push(format!(
                    "{pad}    {:<19}{:<6}{first}",
                    format!("\"{}\"", f.name),
                    format!("+{offset}")
                ));
                lines.extend(member);
            }
            lines.push(format!("{pad}}} {} bytes", h5sparse::dump::api_size(dtype)));
            lines
        }
        Dtype::Array { dims, base } => {
            let mut lines = type_at(base, ind + 4);
            let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
            if let Some(first) = lines.first_mut() {
                *first = format!("[{}] {first}", dims.join(","));
            }
            lines
        }
        Dtype::VarSequence { base } => {
            let mut lines = vec!["variable length of".to_string()];
            let mut inner = type_at(base, ind + 4).into_iter();
            if let Some(first) = inner.next() {
                lines.push(format!("{pad}    {first}"));
            }
            lines.extend(inner);
            lines
        }
        Dtype::Opaque { size, tag } => vec![
            format!("{size}-byte opaque type"),
            format!("{pad}(tag = \"{tag}\")"),
        ],
        Dtype::Bitfield { size, order } if *order == ByteOrder::NATIVE || *size == 1 => {
            vec![format!("native {}-bit field", u32::from(*size) * 8)]
        }
        Dtype::Bitfield { size, order } => vec![format!(
            "{}-bit {}-endian bitfield",
            u32::from(*size) * 8,
            order_name(*order)
        )],
        Dtype::ObjectRef => vec!["object reference".to_string()],
        Dtype::RegionRef => vec!["dataset region reference".to_string()],
        Dtype::Unsupported { class, size } => match class.as_str() {
            "time" => vec![format!("{size}-byte class-2 unknown")],
            _ => vec![format!("{class} ({size} bytes)")],
        },
        other => vec![other.numpy_str()],
    }
}

fn float_name(size: u8, order: ByteOrder) -> String {
    if order == ByteOrder::NATIVE && size == 4 {
        "native float".to_string()
    } else if order == ByteOrder::NATIVE && size == 8 {
        "native double".to_string()
    } else {
        format!(
            "IEEE {}-bit {}-endian float",
            u32::from(size) * 8,
            order_name(order)
        )
    }
}

fn enum_lines(base: String, members: &[(String, i64)], ind: usize) -> Vec<String> {
    let pad = " ".repeat(ind);
    let mut lines = vec![format!("enum {base} {{")];
    for (name, value) in members {
        lines.push(format!("{pad}    {name:<16} = {value}"));
    }
    lines.push(format!("{pad}}}"));
    lines
}

fn padding_name(padding: StringPadding) -> &'static str {
    match padding {
        StringPadding::NullTerminated => "null-terminated",
        StringPadding::NullPadded => "null-padded",
        StringPadding::SpacePadded => "space-padded",
    }
}

fn charset_name(charset: CharSet) -> &'static str {
    match charset {
        CharSet::Ascii => "ASCII",
        CharSet::Utf8 => "UTF-8",
    }
}

/// Each value as h5ls prints it.
pub(super) fn value_texts(dtype: &Dtype, values: &Values) -> Vec<String> {
    let enum_name = |v: i64| -> Option<String> {
        match dtype {
            Dtype::Enum { members, .. } => members
                .iter()
                .find(|(_, m)| *m == v)
                .map(|(name, _)| name.clone()),
            _ => None,
        }
    };
    match values {
        Values::Int(v) => v
            .iter()
            .map(|&x| enum_name(x).unwrap_or_else(|| x.to_string()))
            .collect(),
        Values::UInt(v) => v
            .iter()
            .map(|&x| {
                i64::try_from(x)
                    .ok()
                    .and_then(enum_name)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect(),
        Values::Float(v) => {
            let precision = if matches!(dtype, Dtype::Float { size: 8, .. }) {
                15
            } else {
                6
            };
            v.iter().map(|&x| format_g(x, precision)).collect()
        }
        Values::Bool(v) => v
            .iter()
            .map(|&b| if b { "TRUE" } else { "FALSE" }.to_string())
            .collect(),
        Values::Str(v) => v.iter().map(|s| quote(s)).collect(),
        Values::Nested(v) => v.iter().map(value_text).collect(),
    }
}

/// A structured value as h5ls prints it: records and complex numbers in
/// braces, arrays and sequences in brackets, references as paths.
fn value_text(v: &h5sparse::read::Value) -> String {
    use h5sparse::read::Value;
    let join = |items: Vec<String>| items.join(", ");
    match v {
        Value::Int(x) => x.to_string(),
        Value::UInt(x) => x.to_string(),
        Value::Float(x) => format_g(*x, 6),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Value::Str(s) => quote(s),
        Value::Bytes(b) => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        Value::Complex(re, im) => format!("{{{}, {}}}", format_g(*re, 6), format_g(*im, 6)),
        Value::List(items) => format!("[{}]", join(items.iter().map(value_text).collect())),
        Value::Record(fields) => format!(
            "{{{}}}",
            join(fields.iter().map(|(_, x)| value_text(x)).collect())
        ),
        Value::ObjectRef(None) | Value::RegionRef(None) => "NULL".to_string(),
        Value::ObjectRef(Some(r)) => r
            .path
            .clone()
            .unwrap_or_else(|| format!("{:#x}", r.address)),
        Value::RegionRef(Some(r)) => r
            .dataset
            .path
            .clone()
            .unwrap_or_else(|| format!("{:#x}", r.dataset.address)),
    }
}

/// A string in double quotes with C escapes, as h5ls prints it.
pub(super) fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if c.is_control() && u32::from(c) < 0x100 => {
                q.push_str(&format!("\\{:03o}", u32::from(c)));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// C's `%.{precision}g`.
pub(super) fn format_g(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let precision = precision.max(1);
    let sci = format!("{:.*e}", precision - 1, x);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let p = i32::try_from(precision).unwrap_or(17);
    if exponent < -4 || exponent >= p {
        let mantissa = trim_fraction(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    } else {
        let decimals = usize::try_from(p - 1 - exponent).unwrap_or(0);
        trim_fraction(&format!("{x:.decimals$}")).to_string()
    }
}

/// Drops trailing zeros of a fraction, and the point if nothing is left.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}
