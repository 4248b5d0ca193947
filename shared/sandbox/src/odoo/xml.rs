//! The XML-RPC codec: a small reader for `methodCall` documents and the response and fault
//! encoders.

use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::fault::{fault, type_err, Exc, R};
use super::values::fmt_dt;
use super::Obj;

#[derive(Debug)]
pub(super) struct XEl {
    pub(super) name: String,
    children: Vec<XNode>,
}

#[derive(Debug)]
enum XNode {
    El(XEl),
    Text(String),
}

impl XEl {
    pub(super) fn elements(&self) -> impl Iterator<Item = &XEl> {
        self.children.iter().filter_map(|c| match c {
            XNode::El(e) => Some(e),
            XNode::Text(_) => None,
        })
    }
    pub(super) fn child(&self, name: &str) -> Option<&XEl> {
        self.elements().find(|e| e.name == name)
    }
    pub(super) fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                XNode::Text(t) => s.push_str(t),
                XNode::El(e) => s.push_str(&e.text()),
            }
        }
        s
    }
}

/// A small XML reader, enough for XML-RPC requests.
struct XmlReader<'s> {
    s: &'s str,
    i: usize,
}

fn xml_unescape(t: &str) -> Result<String, String> {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let end = rest[p..]
            .find(';')
            .ok_or_else(|| "undefined entity".to_string())?;
        let ent = &rest[p + 1..p + end];
        let ch = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or("bad character reference")?,
            e if e.starts_with('#') => e[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .ok_or("bad character reference")?,
            _ => return Err(format!("undefined entity &{ent};")),
        };
        out.push(ch);
        rest = &rest[p + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl<'s> XmlReader<'s> {
    fn rest(&self) -> &'s str {
        &self.s[self.i..]
    }
    fn skip_ws(&mut self) {
        let r = self.rest();
        self.i += r.len() - r.trim_start().len();
    }
    fn skip_until(&mut self, end: &str) -> Result<(), String> {
        let p = self
            .rest()
            .find(end)
            .ok_or_else(|| format!("unclosed token: expected {end}"))?;
        self.i += p + end.len();
        Ok(())
    }
    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("<?") {
                self.skip_until("?>")?;
            } else if r.starts_with("<!--") {
                self.skip_until("-->")?;
            } else if r.starts_with("<!") {
                self.skip_until(">")?;
            } else {
                return Ok(());
            }
        }
    }
    pub(super) fn document(&mut self) -> Result<XEl, String> {
        self.skip_misc()?;
        let root = self.element()?;
        self.skip_misc()?;
        if !self.rest().is_empty() {
            return Err("junk after document element".into());
        }
        Ok(root)
    }
    fn element(&mut self) -> Result<XEl, String> {
        if !self.rest().starts_with('<') {
            return Err("syntax error".into());
        }
        self.i += 1;
        let r = self.rest();
        let n = r
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or("unclosed token")?;
        let name = r[..n].to_string();
        if name.is_empty() {
            return Err("not well-formed (invalid token)".into());
        }
        self.i += n;
        // Attributes are skipped (quotes respected).
        let mut quote: Option<char> = None;
        let empty;
        loop {
            let c = self.rest().chars().next().ok_or("unclosed token")?;
            self.i += c.len_utf8();
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"') | (None, '\'') => quote = Some(c),
                (None, '/') if self.rest().starts_with('>') => {
                    self.i += 1;
                    empty = true;
                    break;
                }
                (None, '>') => {
                    empty = false;
                    break;
                }
                _ => {}
            }
        }
        let mut el = XEl {
            name,
            children: Vec::new(),
        };
        if empty {
            return Ok(el);
        }
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err("no element found".into());
            }
            if let Some(close) = r.strip_prefix("</") {
                let end = close.find('>').ok_or("unclosed token")?;
                if close[..end].trim() != el.name {
                    return Err("mismatched tag".into());
                }
                self.i += 2 + end + 1;
                return Ok(el);
            }
            if r.starts_with("<!--") {
                self.skip_until("-->")?;
            } else if let Some(cdata) = r.strip_prefix("<![CDATA[") {
                let end = cdata.find("]]>").ok_or("unclosed CDATA section")?;
                el.children.push(XNode::Text(cdata[..end].to_string()));
                self.i += 9 + end + 3;
            } else if r.starts_with('<') {
                el.children.push(XNode::El(self.element()?));
            } else {
                let end = r.find('<').unwrap_or(r.len());
                el.children.push(XNode::Text(xml_unescape(&r[..end])?));
                self.i += end;
            }
        }
    }
}

/// Parses an XML-RPC request body into its root element.
pub(super) fn parse_document(s: &str) -> Result<XEl, String> {
    XmlReader { s, i: 0 }.document()
}

/// Decodes an XML-RPC `<value>`. 18 parses `dateTime.iso8601` into a
/// datetime (sent on as `YYYY-MM-DD HH:MM:SS`); 16/17 pass the raw text on,
/// which a datetime field then rejects [§3].
pub(super) fn xml_value(v: &XEl, version: u8) -> Result<Value, String> {
    let Some(k) = v.elements().next() else {
        return Ok(Value::String(v.text()));
    };
    let t = k.text();
    Ok(match k.name.as_str() {
        "int" | "i4" | "i8" => json!(t.trim().parse::<i64>().map_err(|e| e.to_string())?),
        "boolean" => json!(t.trim() == "1"),
        "string" => json!(t),
        "double" => json!(t.trim().parse::<f64>().map_err(|e| e.to_string())?),
        "nil" => Value::Null,
        "base64" => json!(t.trim()),
        "dateTime.iso8601" => {
            let raw = t.trim();
            if version >= 18 {
                match NaiveDateTime::parse_from_str(raw, "%Y%m%dT%H:%M:%S")
                    .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
                {
                    Ok(d) => json!(fmt_dt(d)),
                    Err(_) => json!(raw),
                }
            } else {
                json!(raw)
            }
        }
        "array" => {
            let data = k.child("data").ok_or("array without data")?;
            let mut out = Vec::new();
            for e in data.elements().filter(|e| e.name == "value") {
                out.push(xml_value(e, version)?);
            }
            Value::Array(out)
        }
        "struct" => {
            let mut o = Obj::new();
            for m in k.elements().filter(|e| e.name == "member") {
                let name = m.child("name").map(XEl::text).unwrap_or_default();
                let val = m.child("value").ok_or("member without value")?;
                o.insert(name, xml_value(val, version)?);
            }
            Value::Object(o)
        }
        other => return Err(format!("unknown XML-RPC type <{other}>")),
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Python float `repr`.
fn py_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// Marshals like Python's `xmlrpc.client` without `allow_none`.
fn xml_encode(v: &Value, out: &mut String) -> R<()> {
    out.push_str("<value>");
    match v {
        Value::Null => {
            return Err(type_err("cannot marshal None unless allow_none is enabled"));
        }
        Value::Bool(b) => out.push_str(&format!("<boolean>{}</boolean>", u8::from(*b))),
        Value::Number(n) => {
            if let Some(i) = n.as_i64().filter(|_| !n.is_f64()) {
                if i > i64::from(i32::MAX) || i < i64::from(i32::MIN) {
                    return Err(fault(Exc::Overflow, "int exceeds XML-RPC limits"));
                }
                out.push_str(&format!("<int>{i}</int>"));
            } else if n.is_u64() {
                return Err(fault(Exc::Overflow, "int exceeds XML-RPC limits"));
            } else {
                out.push_str(&format!(
                    "<double>{}</double>",
                    py_float(n.as_f64().unwrap_or(0.0))
                ));
            }
        }
        Value::String(s) => {
            out.push_str("<string>");
            out.push_str(&xml_escape(s));
            out.push_str("</string>");
        }
        Value::Array(a) => {
            out.push_str("<array><data>\n");
            for x in a {
                xml_encode(x, out)?;
                out.push('\n');
            }
            out.push_str("</data></array>");
        }
        Value::Object(o) => {
            out.push_str("<struct>\n");
            for (k, x) in o {
                out.push_str("<member>\n<name>");
                out.push_str(&xml_escape(k));
                out.push_str("</name>\n");
                xml_encode(x, out)?;
                out.push_str("\n</member>\n");
            }
            out.push_str("</struct>");
        }
    }
    out.push_str("</value>");
    Ok(())
}

pub(super) fn xml_response(result: &Value) -> R<String> {
    let mut body = String::new();
    xml_encode(result, &mut body)?;
    Ok(format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{body}\n</param>\n</params>\n</methodResponse>\n"
    ))
}

pub(super) fn xml_fault(code: Value, string: &str) -> String {
    let mut c = String::new();
    let _ = xml_encode(&code, &mut c);
    format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n{c}\n</member>\n<member>\n<name>faultString</name>\n<value><string>{}</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n",
        xml_escape(string)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn xml_rpc_values_round_trip() {
        let v = json!({"a": [1, 2.5, "x<y", true], "b": {"c": false}});
        let body = xml_response(&v).unwrap();
        let root = XmlReader { s: &body, i: 0 }.document().unwrap();
        let value = root
            .child("params")
            .and_then(|p| p.child("param"))
            .and_then(|p| p.child("value"))
            .unwrap();
        assert_eq!(xml_value(value, 17).unwrap(), v);
        assert!(xml_response(&json!([null])).is_err());
        assert!(xml_response(&json!(1u64 << 40)).is_err());
        let dt = XmlReader {
            s: "<value><dateTime.iso8601>20260101T10:00:00</dateTime.iso8601></value>",
            i: 0,
        }
        .document()
        .unwrap();
        assert_eq!(xml_value(&dt, 18).unwrap(), json!("2026-01-01 10:00:00"));
        assert_eq!(xml_value(&dt, 17).unwrap(), json!("20260101T10:00:00"));
    }
}
