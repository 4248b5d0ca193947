//! Text logs that a value cannot forge (issue 17, log injection): a record's name, an id
//! from a webhook or a vendor's error message may hold a newline, and in a text log a
//! newline starts what looks like another entry. Every control character inside an event
//! is escaped (`\n`, `\r`, `\u{1b}`…); the newline that ends the event stays. JSON logs
//! (`--log-format json`) are escaped by the JSON encoder already.

use std::io::{self, Write};

/// A writer for one formatted event (tracing-subscriber writes each event whole).
pub struct Escaping<W> {
    inner: W,
    /// Keep ESC when the formatter colours its own output (a terminal): colour codes are
    /// the formatter's, and a terminal shows a value's own ESC no worse than its colours.
    keep_esc: bool,
}

impl<W: Write> Escaping<W> {
    pub fn new(inner: W, keep_esc: bool) -> Self {
        Escaping { inner, keep_esc }
    }
}

/// `buf` with its control characters escaped, but a final newline and tabs.
pub fn escape(buf: &[u8], keep_esc: bool) -> Vec<u8> {
    let (body, end) = match buf.strip_suffix(b"\n") {
        Some(b) => (b, true),
        None => (buf, false),
    };
    let mut out = Vec::with_capacity(buf.len() + 8);
    for &c in body {
        match c {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.push(c),
            0x1b if keep_esc => out.push(c),
            c if c < 0x20 || c == 0x7f => out.extend_from_slice(format!("\\u{{{c:x}}}").as_bytes()),
            c => out.push(c),
        }
    }
    if end {
        out.push(b'\n');
    }
    out
}

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_all(&escape(buf, self.keep_esc))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A value with a newline and a carriage return stays on its event's line, through the
    /// same subscriber set-up as `puente`'s text logs.
    #[test]
    fn log_newline_in_a_value_cannot_forge_a_second_entry() {
        let out = Captured::default();
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Escaping::new(sink.clone(), false))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let name = "Ana\n2026-12-03T10:00:00Z  INFO puente: all good\r\u{1b}[2K";
            tracing::info!(record = %name, "skipped contact");
            tracing::info!("second");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("Ana\\n2026-12-03T10:00:00Z  INFO puente: all good\\r\\u{1b}[2K"),
            "{text}"
        );
        assert!(lines[1].ends_with("second"), "{text}");
    }

    #[test]
    fn log_newline_escaping_keeps_tabs_the_final_newline_and_colours_when_asked() {
        assert_eq!(escape(b"a\tb\n", false), b"a\tb\n");
        assert_eq!(escape(b"a\nb", false), b"a\\nb");
        assert_eq!(escape(b"\x1b[1mx\x00\n", true), b"\x1b[1mx\\u{0}\n");
        assert_eq!(escape(b"\x1b", false), b"\\u{1b}");
    }
}
