//! Progress of long work on stderr: a bar in a terminal, a line per tenth in
//! logs (CI, pipes), so stdout stays clean for `--json` and tables.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

/// A progress report over `total` units.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicU64,
    what: &'static str,
    quiet: bool,
}

impl Progress {
    /// Starts reporting `what` (e.g. "registering") over `total` units.
    pub(crate) fn new(total: u64, what: &'static str) -> Progress {
        // One unit is not long work: nothing to show.
        let quiet = total <= 1;
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{msg} [{bar:32}] {pos}/{len} ({elapsed}, about {eta} left)",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(what);
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicU64::new(0),
            what,
            quiet,
        }
    }

    /// Records `n` more units done.
    pub(crate) fn inc(&self, n: u64) {
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        let after = before + n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.quiet => {}
            None => {
                // A line each time another tenth is passed, and at the end.
                let step = self.total.div_ceil(10).max(1);
                if after / step != before / step || after == self.total {
                    eprintln!("{}: {after}/{}", self.what, self.total);
                }
            }
        }
    }

    /// Clears the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
