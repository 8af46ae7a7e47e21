//! Progress of long work on stderr: a bar in a terminal, a line per tenth in
//! logs (CI, pipes), so stdout stays clean for `--json` and tables.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// A progress report over `total` units.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    /// Lines under the bar (one per target of a job), in a terminal only.
    details: Vec<ProgressBar>,
    /// Draws the bar and its lines together; kept alive with them.
    _multi: Option<MultiProgress>,
    total: u64,
    done: AtomicU64,
    what: &'static str,
    quiet: bool,
}

impl Progress {
    /// Starts reporting `what` (e.g. "registering") over `total` units.
    pub(crate) fn new(total: u64, what: &'static str) -> Progress {
        Progress::build(
            total,
            what,
            "{prefix} [{bar:32}] {pos}/{len} ({elapsed}, about {eta} left)",
            0,
        )
    }

    /// Starts reporting `what` over `total` units whose pace someone else
    /// measures (a job on the server): the bar is followed by the summary
    /// given to [`Progress::set`], with `lines` lines of detail under it.
    pub(crate) fn measured(total: u64, what: &'static str, lines: usize) -> Progress {
        Progress::build(total, what, "{prefix} [{bar:32}] {pos}/{len}  {msg}", lines)
    }

    fn build(total: u64, what: &'static str, template: &str, lines: usize) -> Progress {
        // One unit is not long work: nothing to show.
        let quiet = total <= 1;
        let terminal = !quiet && std::io::stderr().is_terminal();
        let multi = (terminal && lines > 0).then(MultiProgress::new);
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(template)
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(what);
            match &multi {
                Some(multi) => multi.add(bar),
                None => bar,
            }
        });
        let details = multi
            .as_ref()
            .map(|multi| {
                let style = ProgressStyle::with_template("  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                (0..lines)
                    .map(|_| multi.add(ProgressBar::new(0).with_style(style.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Progress {
            bar,
            details,
            _multi: multi,
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
                if self.passes_a_tenth(before, after) {
                    eprintln!("{}: {after}/{}", self.what, self.total);
                }
            }
        }
    }

    /// Records that `done` units are done (never fewer than before), with a
    /// summary after the count and the lines of detail.
    pub(crate) fn set(&self, done: u64, summary: &str, details: &[String]) {
        let before = self.done.fetch_max(done, Ordering::Relaxed);
        let after = before.max(done);
        match &self.bar {
            Some(bar) => {
                bar.set_position(after);
                bar.set_message(summary.to_owned());
                for (line, text) in self.details.iter().zip(details) {
                    line.set_message(text.clone());
                }
            }
            None if self.quiet => {}
            None => {
                if self.passes_a_tenth(before, after) {
                    eprintln!("{}: {after}/{} ({summary})", self.what, self.total);
                    for line in details {
                        eprintln!("  {line}");
                    }
                }
            }
        }
    }

    /// A line on stderr that is not progress, above the bar in a terminal.
    pub(crate) fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// A line each time another tenth is passed, and at the end.
    fn passes_a_tenth(&self, before: u64, after: u64) -> bool {
        let step = self.total.div_ceil(10).max(1);
        after != before && (after / step != before / step || after == self.total)
    }

    /// Clears the bar.
    pub(crate) fn finish(&self) {
        for line in &self.details {
            line.finish_and_clear();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn a_line_is_due_at_each_tenth_and_at_the_end_only() {
        let progress = Progress::new(95, "registering");
        let due: Vec<u64> = (1..=95)
            .filter(|&n| progress.passes_a_tenth(n - 1, n))
            .collect();
        assert_eq!(due, [10, 20, 30, 40, 50, 60, 70, 80, 90, 95]);
        assert!(!progress.passes_a_tenth(40, 40), "no line without progress");
        assert!(progress.passes_a_tenth(0, 95), "a jump to the end is shown");
    }
}
