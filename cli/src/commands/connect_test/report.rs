//! What a connection test prints: one line per stage with ✓/✗ and its
//! duration, the round trips, and on failure the usual causes; the same as
//! JSON with a stable shape.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::session::{Outcome, Plan, RoundTrip, payload};
use crate::outcome::Report;

/// The report: exit 0 when every message came back, 1 otherwise.
pub(crate) fn report(plan: &Plan, certificate_id: &str, outcome: &Outcome) -> Report {
    let mut report = Report::ok(
        text(plan, certificate_id, outcome),
        json(plan, certificate_id, outcome),
    );
    if let Some(failure) = &outcome.failure {
        report.status = 1;
        report.errors.push(format!(
            "connect-test failed at {} ({})",
            failure.stage.label(),
            failure.code
        ));
    }
    report
}

fn text(plan: &Plan, certificate_id: &str, outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "endpoint:       {}", plan.endpoint);
    let _ = writeln!(out, "client id:      {}", plan.client_id);
    let _ = writeln!(out, "topic:          {}", plan.topic);
    let _ = writeln!(out, "certificate ID: {certificate_id}");
    let _ = writeln!(out, "trusting:       {}", plan.trust);
    out.push('\n');
    let width = outcome
        .stages
        .iter()
        .map(|s| s.stage.label().len())
        .max()
        .unwrap_or(0);
    for stage in &outcome.stages {
        // A failed stage shows its code; the message and causes follow below.
        let detail = match &outcome.failure {
            Some(failure) if !stage.ok => failure.code,
            _ => &stage.detail,
        };
        let _ = writeln!(
            out,
            "{} {:<width$}  {:>9}  {detail}",
            if stage.ok { "✓" } else { "✗" },
            stage.stage.label(),
            duration(stage.duration),
        );
    }
    if !outcome.round_trips.is_empty() {
        out.push_str("\nround trips (PUBLISH until the message came back):\n");
        for trip in &outcome.round_trips {
            let _ = writeln!(
                out,
                "  {:<40} {:>9}",
                payload(trip.counter),
                duration(trip.duration)
            );
        }
        if let Some((min, median, max)) = summary(&outcome.round_trips) {
            let _ = writeln!(
                out,
                "  min {}, median {}, max {}",
                duration(min),
                duration(median),
                duration(max)
            );
        }
    }
    out.push('\n');
    match &outcome.failure {
        None => {
            let _ = writeln!(
                out,
                "OK: connected as \"{}\", subscribed, and all {} messages came back.",
                plan.client_id, plan.count
            );
        }
        Some(failure) => {
            let _ = writeln!(
                out,
                "FAILED at {}: {}.",
                failure.stage.label(),
                failure.message
            );
            if !failure.causes.is_empty() {
                out.push_str("Usual causes:\n");
                for cause in &failure.causes {
                    let _ = writeln!(out, "  - {cause}");
                }
            }
        }
    }
    out
}

fn json(plan: &Plan, certificate_id: &str, outcome: &Outcome) -> Value {
    let stages: Vec<Value> = outcome
        .stages
        .iter()
        .map(|s| {
            json!({
                "stage": s.stage.code(),
                "ok": s.ok,
                "durationMs": millis(s.duration),
                "detail": s.detail,
            })
        })
        .collect();
    let round_trips: Vec<Value> = outcome
        .round_trips
        .iter()
        .map(|t| json!({"counter": t.counter, "durationMs": millis(t.duration)}))
        .collect();
    let summary = summary(&outcome.round_trips).map(|(min, median, max)| {
        json!({"min": millis(min), "median": millis(median), "max": millis(max)})
    });
    let failure = outcome.failure.as_ref().map(|f| {
        json!({
            "stage": f.stage.code(),
            "code": f.code,
            "message": f.message,
            "causes": f.causes,
        })
    });
    json!({
        "ok": outcome.failure.is_none(),
        "endpoint": {
            "host": plan.endpoint.host,
            "port": plan.endpoint.port,
            "sni": plan.endpoint.sni(),
            "alpn": plan.endpoint.alpn(),
        },
        "clientId": plan.client_id,
        "topic": plan.topic,
        "certificateId": certificate_id,
        "trust": plan.trust,
        "count": plan.count,
        "timeoutSeconds": plan.timeout.as_secs(),
        "stages": stages,
        "roundTrips": round_trips,
        "roundTripMs": summary,
        "failure": failure,
    })
}

/// (min, median, max); the median of an even count is the mean of the middle two.
fn summary(trips: &[RoundTrip]) -> Option<(Duration, Duration, Duration)> {
    let mut sorted: Vec<Duration> = trips.iter().map(|t| t.duration).collect();
    sorted.sort();
    let (first, last) = (*sorted.first()?, *sorted.last()?);
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    };
    Some((first, median, last))
}

/// Milliseconds with microsecond precision, for JSON.
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `0.8 ms`, `12.3 ms`, `10.00 s`.
fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trips(ms: &[u64]) -> Vec<RoundTrip> {
        ms.iter()
            .enumerate()
            .map(|(i, ms)| RoundTrip {
                counter: u32::try_from(i).unwrap(),
                duration: Duration::from_millis(*ms),
            })
            .collect()
    }

    #[test]
    fn summaries() {
        let ms = Duration::from_millis;
        assert_eq!(summary(&trips(&[3, 1, 2])), Some((ms(1), ms(2), ms(3))));
        assert_eq!(summary(&trips(&[4, 1, 2, 9])), Some((ms(1), ms(3), ms(9))));
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Duration::from_micros(840)), "0.8 ms");
        assert_eq!(duration(Duration::from_millis(10_000)), "10.00 s");
        assert!((millis(Duration::from_micros(1234)) - 1.234).abs() < 1e-9);
    }
}
