//! Reading libFuzzer's output: the final `#N DONE … exec/s: R …` line and
//! where a crashing input was written.

/// What a finished run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Inputs run, the replayed corpus included.
    pub(crate) executions: u64,
    /// libFuzzer's own rate.
    pub(crate) per_second: u64,
}

/// What has been read of one run's output so far.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) summary: Option<Summary>,
    /// The crashing (or timing out, or leaking) input's file.
    pub(crate) artifact: Option<String>,
    /// Inside the dictionary libFuzzer recommends at the end (dozens of lines).
    in_dictionary: bool,
}

impl Report {
    /// Takes in one line; whether it is worth showing (the progress lines
    /// of new coverage are not: thousands in a minute; nor is the
    /// recommended dictionary).
    pub(crate) fn read(&mut self, line: &str) -> bool {
        if let Some(summary) = done(line) {
            self.summary = Some(summary);
        }
        if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.artifact = Some(path.trim().to_owned());
        }
        if line.starts_with("###### Recommended dictionary") {
            self.in_dictionary = true;
        }
        let dictionary = self.in_dictionary;
        if line.starts_with("###### End of recommended dictionary") {
            self.in_dictionary = false;
        }
        !dictionary && !is_progress(line)
    }
}

/// `#1234\tDONE   cov: 1 ft: 2 corp: 3/4b lim: 5 exec/s: 617 rss: 40Mb`.
fn done(line: &str) -> Option<Summary> {
    let mut words = line.split_whitespace();
    let executions = words.next()?.strip_prefix('#')?.parse().ok()?;
    if words.next()? != "DONE" {
        return None;
    }
    let per_second = words.skip_while(|&w| w != "exec/s:").nth(1)?.parse().ok()?;
    Some(Summary {
        executions,
        per_second,
    })
}

/// `#77\tNEW …`, `#128\tpulse …`, `#500\tREDUCE …` and the like.
fn is_progress(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next().is_some_and(|w| {
        w.strip_prefix('#')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }) && words.next().is_some_and(|w| w != "DONE" && w != "INITED")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_done_line_gives_executions_and_rate() {
        let mut report = Report::default();
        let line =
            "#1234567\tDONE   cov: 1021 ft: 3310 corp: 412/60Kb lim: 4096 exec/s: 20576 rss: 401Mb";
        assert!(report.read(line));
        assert_eq!(
            report.summary,
            Some(Summary {
                executions: 1_234_567,
                per_second: 20_576
            })
        );
    }

    #[test]
    fn progress_is_hidden_and_the_rest_shown() {
        let mut report = Report::default();
        assert!(!report.read("#77\tNEW    cov: 10 ft: 11 corp: 5/30b lim: 4 exec/s: 0 rss: 30Mb L: 4/4 MS: 1 ChangeBit-"));
        assert!(
            !report
                .read("#262144\tpulse  cov: 10 ft: 11 corp: 5/30b lim: 4 exec/s: 87381 rss: 30Mb")
        );
        assert!(report.read("#40\tINITED cov: 10 ft: 11 corp: 5/30b exec/s: 0 rss: 30Mb"));
        assert!(report.read("INFO: Seed: 1234"));
        assert!(report.read("==1234== ERROR: libFuzzer: deadly signal"));
        assert!(!report.read("###### Recommended dictionary. ######"));
        assert!(!report.read("\"-----END \" # Uses: 3"));
        assert!(!report.read("###### End of recommended dictionary. ######"));
        assert!(report.read("Done 8705 runs in 6 second(s)"));
        assert_eq!(report.summary, None);
    }

    #[test]
    fn a_crash_names_its_input() {
        let mut report = Report::default();
        report.read("artifact_prefix='/w/fuzz/artifacts/pem/'; Test unit written to /w/fuzz/artifacts/pem/crash-da39a3ee");
        assert_eq!(
            report.artifact.as_deref(),
            Some("/w/fuzz/artifacts/pem/crash-da39a3ee")
        );
    }
}
