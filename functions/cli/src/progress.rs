//! A progress bar on terminals (indicatif), nothing elsewhere.

use indicatif::{ProgressBar, ProgressStyle};
use puente_runtime::Progress;
use std::sync::Mutex;

pub struct Bar {
    on: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    pub fn new(on: bool) -> Bar {
        Bar {
            on,
            bar: Mutex::new(None),
        }
    }
}

impl Progress for Bar {
    fn stage(&self, label: &str, total: Option<u64>) {
        if !self.on {
            return;
        }
        let mut g = self.bar.lock().expect("bar lock");
        if let Some(b) = g.take() {
            b.finish_and_clear();
        }
        let b = match total {
            Some(t) => ProgressBar::new(t).with_style(
                ProgressStyle::with_template(
                    "{msg:32} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
                )
                .expect("template")
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{msg:32} {spinner} {pos}").expect("template"),
            ),
        };
        b.set_message(label.to_string());
        *g = Some(b);
    }

    fn inc(&self, n: u64) {
        if let Some(b) = self.bar.lock().expect("bar lock").as_ref() {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("bar lock").take() {
            b.finish_and_clear();
        }
    }
}
