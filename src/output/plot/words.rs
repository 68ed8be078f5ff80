//! Words for axis labels: what a scenario key or sweep column means, and the
//! human unit its values are shown in.

/// How a column's values are measured, which decides their unit and axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Measure {
    /// A fraction of time available: shown as unavailability on a log axis.
    Availability,
    /// Seconds: shown in one human unit.
    Duration,
    /// Bytes.
    Size,
    /// Bits per second.
    Bandwidth,
    /// A plain number (probability, count, quorum …).
    Plain,
}

/// The failure process names of `failures.*`: (key, plural, singular, what
/// each process runs on).
const PROCESSES: [(&str, &str, &str, &str); 7] = [
    ("node_crash", "node crashes", "node crash", "node"),
    ("node_loss", "node losses", "node loss", "node"),
    ("az_outage", "AZ outages", "AZ outage", "AZ"),
    ("az_loss", "AZ losses", "AZ loss", "AZ"),
    ("rack_outage", "rack outages", "rack outage", "rack"),
    (
        "instance_crash",
        "instance crashes",
        "instance crash",
        "instance",
    ),
    ("ebs_loss", "EBS volume losses", "EBS volume loss", "volume"),
];

/// A varied scenario key in words, e.g. `failures.node_loss.every` →
/// "mean time between node losses".
pub(crate) fn key_words(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    if let ["failures", p, field] = parts[..] {
        let (plural, single, per) = PROCESSES
            .iter()
            .find(|x| x.0 == p)
            .map_or((p.replace('_', " "), p.replace('_', " "), "target"), |x| {
                (x.1.to_string(), x.2.to_string(), x.3)
            });
        match field {
            "every" => return format!("mean time between {plural} per {per}"),
            "lasts" => return format!("{single} duration"),
            _ => {}
        }
    }
    let known = [
        ("cluster.repair_time", "repair time"),
        ("cluster.detection_delay", "detection delay"),
        ("cluster.catchup_time", "catch-up time"),
        ("cluster.restore_time", "restore time from backup"),
        ("cluster.backup_lag", "backup lag"),
        ("cluster.replace_down_after", "give up a down replica after"),
        ("cluster.write_quorum", "write quorum (replicas)"),
        ("cluster.read_quorum", "read quorum (replicas)"),
        ("cluster.nodes_per_az", "nodes per AZ"),
        ("cluster.segment_size", "segment size"),
        ("cluster.repair_bandwidth", "repair bandwidth"),
        ("horizon", "simulated time per trial"),
    ];
    if let Some((_, w)) = known.iter().find(|k| k.0 == key) {
        return w.to_string();
    }
    parts.last().unwrap_or(&key).replace('_', " ")
}

/// A sweep column in words, and how it is measured.
pub(crate) fn column_words(col: &str) -> (String, Measure) {
    let (base, bound) = match (col.strip_suffix("_ci_low"), col.strip_suffix("_ci_high")) {
        (Some(b), _) => (b, Some("lower 95 % bound of ")),
        (_, Some(b)) => (b, Some("upper 95 % bound of ")),
        _ => (col, None),
    };
    let base = base.strip_suffix("_mean").unwrap_or(base);
    let (words, measure) = match base {
        "write_availability" => ("write availability".to_string(), Measure::Availability),
        "read_availability" => ("read availability".to_string(), Measure::Availability),
        "p_data_loss" => (
            "probability that a trial loses data".to_string(),
            Measure::Plain,
        ),
        "data_loss_events" => ("data-loss events, all trials".to_string(), Measure::Plain),
        "simulated_seconds" => ("simulated time, all trials".to_string(), Measure::Duration),
        "mttdl_seconds" => ("mean time to data loss".to_string(), Measure::Duration),
        "lost_bytes" => ("bytes put at risk per trial".to_string(), Measure::Size),
        "pgs_with_data_loss" => (
            "protection groups that lost data, per trial".to_string(),
            Measure::Plain,
        ),
        other => match other.strip_suffix("_seconds") {
            Some(s) => (s.replace('_', " "), Measure::Duration),
            None => (other.replace('_', " "), Measure::Plain),
        },
    };
    (format!("{}{words}", bound.unwrap_or("")), measure)
}

/// The unit to show values of `measure` in, picked so the largest reads as
/// a number ≥ 2 of it: (name, size of one unit in the base unit).
pub(crate) fn unit(measure: Measure, max: f64) -> (&'static str, f64) {
    let table: &[(&'static str, f64)] = match measure {
        Measure::Duration => &[
            ("years", 365.0 * 86_400.0),
            ("days", 86_400.0),
            ("hours", 3_600.0),
            ("minutes", 60.0),
            ("seconds", 1.0),
            ("milliseconds", 1e-3),
        ],
        Measure::Size => &[
            ("TiB", 1_099_511_627_776.0),
            ("GiB", 1_073_741_824.0),
            ("MiB", 1_048_576.0),
            ("KiB", 1_024.0),
            ("bytes", 1.0),
        ],
        Measure::Bandwidth => &[
            ("Gbit/s", 1e9),
            ("Mbit/s", 1e6),
            ("kbit/s", 1e3),
            ("bit/s", 1.0),
        ],
        Measure::Availability | Measure::Plain => return ("", 1.0),
    };
    table
        .iter()
        .copied()
        .find(|(_, u)| max >= 2.0 * u)
        .unwrap_or(table[table.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_columns_in_words() {
        assert_eq!(
            key_words("failures.node_loss.every"),
            "mean time between node losses per node"
        );
        assert_eq!(key_words("failures.az_outage.lasts"), "AZ outage duration");
        assert_eq!(key_words("cluster.repair_time"), "repair time");
        assert_eq!(key_words("cluster.some_new_key"), "some new key");
        assert_eq!(
            column_words("mttdl_seconds"),
            ("mean time to data loss".into(), Measure::Duration)
        );
        assert_eq!(
            column_words("write_availability_ci_low"),
            (
                "lower 95 % bound of write availability".into(),
                Measure::Availability
            )
        );
        // 3.15e9 s is 100 years: years; 7200 s: hours (2 of them).
        assert_eq!(unit(Measure::Duration, 3.15e9).0, "years");
        assert_eq!(unit(Measure::Duration, 7200.0).0, "hours");
        assert_eq!(unit(Measure::Plain, 7200.0), ("", 1.0));
    }
}
