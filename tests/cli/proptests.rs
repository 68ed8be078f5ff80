//! Property tests: random scenario texts never make the binary panic, and
//! valid ones give availabilities in [0, 1] with reads ≥ writes (default
//! quorums: 4 up-and-current replicas imply 3 up with one current).

use super::bin;
use proptest::prelude::*;

/// Horizons up to 30 days keep each case fast (no hour-long random runs).
fn horizon() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "3600", "\"6h\"", "\"2d\"", "\"30d\"", "\"0s\"", "\"-1h\"", "\"1x\"", "7.5",
    ])
    .prop_map(String::from)
}

fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..5000).prop_map(|n| n.to_string()),
        (
            0u32..100,
            prop::sample::select(vec!["ms", "s", "m", "h", "d", "y", "x", ""])
        )
            .prop_map(|(n, u)| format!("\"{n}{u}\"")),
        Just("\"-1s\"".to_string()),
        Just("{ dist = \"weibull\", shape = 0.7, scale = \"2h\" }".to_string()),
        Just("{ dist = \"lognormal\", median = \"10m\", sigma = 1.5 }".to_string()),
        Just("{ dist = \"fixed\", value = \"30m\" }".to_string()),
        Just("{ dist = \"exponential\" }".to_string()),
    ]
}

fn event() -> impl Strategy<Value = String> {
    (
        duration(),
        prop::sample::select(vec![
            "node-crash",
            "node-loss",
            "az-outage",
            "az-loss",
            "bogus",
        ]),
        prop::sample::select(vec![
            "node = \"az-a-1\"",
            "node = \"az-c-2\"",
            "az = \"az-b\"",
            "az = \"nope\"",
            "",
        ]),
        prop::option::of(duration()),
    )
        .prop_map(|(at, kind, target, lasts)| {
            let lasts = lasts.map(|l| format!("lasts = {l}\n")).unwrap_or_default();
            format!("[[events]]\nat = {at}\nkind = \"{kind}\"\n{target}\n{lasts}")
        })
}

fn scenario() -> impl Strategy<Value = String> {
    (
        horizon(),
        prop::option::of((1u32..4, 1u32..7, 1u32..7)),
        prop::collection::vec(
            (
                prop::sample::select(vec!["node_crash", "node_loss", "az_outage", "az_loss"]),
                duration(),
                prop::option::of(duration()),
            ),
            0..4,
        ),
        prop::collection::vec(event(), 0..6),
        prop::option::of(duration()),
    )
        .prop_map(|(horizon, cluster, fails, events, rda)| {
            let mut s = format!("name = \"p\"\nhorizon = {horizon}\n");
            s.push_str("[cluster]\n");
            if let Some((n, w, r)) = cluster {
                s.push_str(&format!(
                    "nodes_per_az = {n}\nwrite_quorum = {w}\nread_quorum = {r}\n"
                ));
            }
            if let Some(d) = rda {
                s.push_str(&format!("replace_down_after = {d}\n"));
            }
            for (name, every, lasts) in fails {
                s.push_str(&format!("[failures.{name}]\nevery = {every}\n"));
                if let Some(l) = lasts {
                    s.push_str(&format!("lasts = {l}\n"));
                }
            }
            for e in events {
                s.push_str(&e);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_never_panic(text in scenario(), junk in prop::option::of(prop::collection::vec(any::<u8>(), 0..40))) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = text.into_bytes();
        if let Some(j) = junk { bytes.extend(j); }
        let p = dir.path().join("p.toml");
        std::fs::write(&p, &bytes).unwrap();
        let out = bin().arg("run").arg(&p).arg("--json").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        prop_assert!(!err.contains("panicked") && !err.contains("internal"), "{}", err);
        match out.status.code() {
            Some(0) => {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let w = v["write_availability"].as_f64().unwrap();
                let r = v["read_availability"].as_f64().unwrap();
                prop_assert!((0.0..=1.0).contains(&w) && (0.0..=1.0).contains(&r));
                let text = String::from_utf8_lossy(&bytes);
                if !text.contains("write_quorum") {
                    prop_assert!(r >= w, "read {} < write {}", r, w);
                }
            }
            Some(2) => prop_assert!(err.starts_with("error: "), "{}", err),
            other => prop_assert!(false, "exit {:?}: {}", other, err),
        }
    }
}
