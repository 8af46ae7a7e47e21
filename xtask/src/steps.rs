//! Named, timed steps that stop at the first failure and end with a summary.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The steps run so far and how each went.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    done: Vec<Outcome>,
}

#[derive(Debug)]
struct Outcome {
    name: String,
    took: Duration,
    passed: bool,
}

impl Steps {
    /// Runs one step; its error names the step so a CI log says where it broke.
    pub(crate) fn run(&mut self, name: &str, step: impl FnOnce() -> Result<()>) -> Result<()> {
        println!("\n==> {name}");
        let start = Instant::now();
        let result = step();
        self.done.push(Outcome {
            name: name.to_owned(),
            took: start.elapsed(),
            passed: result.is_ok(),
        });
        result.with_context(|| format!("step `{name}` failed"))
    }

    /// Prints each step's outcome and duration.
    pub(crate) fn print_summary(&self) {
        let width = self.done.iter().map(|o| o.name.len()).max().unwrap_or(0);
        println!("\n==> summary");
        for outcome in &self.done {
            let mark = if outcome.passed { "ok  " } else { "FAIL" };
            println!(
                "{mark} {:width$}  {:>8}",
                outcome.name,
                format_duration(outcome.took)
            );
        }
        let total = self.done.iter().map(|o| o.took).sum();
        println!("     {:width$}  {:>8}", "total", format_duration(total));
    }
}

fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let check = |millis, expected: &str| {
            assert_eq!(format_duration(Duration::from_millis(millis)), expected);
        };
        check(0, "0.0s");
        check(1_240, "1.2s");
        check(59_900, "59.9s");
        check(60_000, "1m00s");
        check(3_725_000, "62m05s");
    }
}
