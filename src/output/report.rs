//! Readable text: the `run` report and the `check` summary.

use crate::analysis::markov::{Analysis, Solver};
use crate::model::{Config, Dist, Process, RunStats, ScriptedKind};
use crate::scenario::Scenario;
use crate::time::{SimTime, format_duration};
use std::fmt::Write;

/// Availability as a percentage with enough digits to show its nines.
pub fn percent(a: f64) -> String {
    if a >= 1.0 {
        return "100%".into();
    }
    let nines = -(1.0 - a).log10();
    let decimals = ((nines - 1e-9).ceil() as usize)
        .saturating_sub(1)
        .clamp(2, 12);
    format!("{:.*}%", decimals, a * 100.0)
}

/// "nines" of an availability: −log10(1 − a); `∞` at 1.
pub fn nines(a: f64) -> String {
    nines_of_unavailability(1.0 - a)
}

/// "nines" from the unavailability itself, −log10(u) (no 1 − a cancellation); `∞` at 0.
pub fn nines_of_unavailability(u: f64) -> String {
    if u <= 0.0 {
        "∞".into()
    } else {
        format!("{:.2}", -u.log10())
    }
}

/// Wall-clock figures the report may add (never in JSON).
pub struct Wall {
    /// Seconds of wall time.
    pub seconds: f64,
}

/// An instant of the run as `day D hh:mm:ss` (to the ms), readable at a
/// glance where a duration would round away the hours.
fn instant(t: SimTime) -> String {
    let ms = t.0 / 1_000;
    let (d, rem) = (ms / 86_400_000, ms % 86_400_000);
    let (h, m, sec, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1_000 % 60,
        rem % 1_000,
    );
    let frac = if milli == 0 {
        String::new()
    } else {
        format!(".{milli:03}")
    };
    format!("day {d} {h:02}:{m:02}:{sec:02}{frac}")
}

/// The `run` report; `sets` are the `--set` arguments as typed (for the replay line).
pub fn run_report(
    sc: &Scenario,
    path: &str,
    sets: &[String],
    seed: u64,
    st: &RunStats,
    wall: &Wall,
) -> String {
    let mut s = String::new();
    let h = st.horizon.0 as f64;
    let wa = 1.0 - st.write.total.0 as f64 / h;
    let ra = 1.0 - st.read.total.0 as f64 / h;
    let cfg = &sc.config;
    let _ = writeln!(
        s,
        "{} — seed {}, horizon {}",
        sc.name,
        seed,
        format_duration(st.horizon)
    );
    if let Some(d) = &sc.description {
        let _ = writeln!(s, "  {}", d.trim());
    }
    let _ = writeln!(
        s,
        "  {} replicas in {} AZs ({}), {}\n",
        cfg.layout.replicas(),
        cfg.layout.azs.len(),
        cfg.layout.azs.join(", "),
        cfg.quorum.describe()
    );
    let _ = writeln!(s, "                      {:<28}reads", "writes");
    let av = |a: f64| format!("{} ({} nines)", percent(a), nines(a));
    let _ = writeln!(s, "  availability        {:<28}{}", av(wa), av(ra));
    let _ = writeln!(
        s,
        "  unavailable         {:<28}{}",
        format_duration(st.write.total),
        format_duration(st.read.total)
    );
    let _ = writeln!(
        s,
        "  outages             {:<28}{}",
        st.write.count, st.read.count
    );
    let longest = |t: SimTime| {
        if t.0 == 0 {
            "-".to_string()
        } else {
            format_duration(t)
        }
    };
    let _ = writeln!(
        s,
        "  longest outage      {:<28}{}\n",
        longest(st.write.longest),
        longest(st.read.longest)
    );
    if cfg.quorum_switch.is_some() {
        let _ = writeln!(s, "  quorum switches     {}\n", st.quorum_switches);
    }
    for (what, t) in [("write", &st.write), ("read", &st.read)] {
        if t.count == 0 {
            continue;
        }
        let _ = writeln!(s, "  longest {what} outages (start → end, length)");
        for (i, (start, len)) in t.top.iter().flatten().enumerate() {
            let end = SimTime(start.0 + len.0);
            let _ = writeln!(
                s,
                "    {}. {} → {}   {}",
                i + 1,
                instant(*start),
                instant(end),
                format_duration(*len)
            );
        }
        s.push('\n');
    }
    match st.first_data_loss {
        None => {
            let _ = writeln!(s, "  data loss           none");
        }
        Some(first) => {
            let _ = writeln!(
                s,
                "  data loss           {} event{}, first at {}; {} of acknowledged writes lost",
                st.data_loss_events,
                if st.data_loss_events == 1 { "" } else { "s" },
                format_duration(first),
                format_duration(SimTime(st.lost_write_us))
            );
        }
    }
    super::database::run_lines(&mut s, cfg, st);
    let rate = if wall.seconds > 0.0 {
        st.events_processed as f64 / wall.seconds
    } else {
        0.0
    };
    let _ = writeln!(
        s,
        "  events processed    {} ({:.3} s wall, {:.2} M events/s)",
        st.events_processed,
        wall.seconds,
        rate / 1e6
    );
    let replay = super::replay_command(path, st.horizon, sets.iter().map(String::as_str), seed);
    let _ = writeln!(s, "  replay              {replay}");
    s
}

fn process_line(s: &mut String, name: &str, per: &str, p: &Option<Process>) {
    if let Some(p) = p {
        let lasts = p.describe_lasts();
        let _ = writeln!(
            s,
            "  {name:<12} per {per}: every {}{lasts}",
            p.every.describe()
        );
    }
}

/// The `check` summary: everything the scenario sets up, resolved.
pub fn check_report(sc: &Scenario, path: &str) -> String {
    let cfg: &Config = &sc.config;
    let mut s = String::new();
    let _ = writeln!(s, "{path}: ok");
    let _ = writeln!(s, "scenario   {}", sc.name);
    if let Some(d) = &sc.description {
        let _ = writeln!(s, "           {}", d.trim());
    }
    let _ = writeln!(s, "horizon    {}", format_duration(sc.horizon));
    let _ = writeln!(s, "seed       {}", sc.seed);
    let _ = writeln!(s, "\ncluster");
    let l = &cfg.layout;
    let st = &cfg.storage;
    // On a fleet, `cluster` is one PG's shape; its nodes are listed under `fleet`.
    let _ = writeln!(
        s,
        "  {} AZs × {} nodes = {} replicas{}",
        l.azs.len(),
        l.nodes_per_az,
        l.replicas(),
        if st.volume_mode { " per PG" } else { "" }
    );
    for (a, az) in l.azs.iter().enumerate().filter(|_| !st.volume_mode) {
        let nodes: Vec<&str> = (a * l.nodes_per_az..(a + 1) * l.nodes_per_az)
            .map(|r| l.node_names[r].as_str())
            .collect();
        let _ = writeln!(s, "  {az}: {}", nodes.join(", "));
    }
    let _ = writeln!(s, "  quorum             {}", cfg.quorum.describe());
    super::segments::describe(&mut s, cfg);
    let _ = writeln!(
        s,
        "  segment size       {:.0} bytes ({:.3} GiB)",
        cfg.segment_size_bytes,
        cfg.segment_size_bytes / 1073741824.0
    );
    let _ = writeln!(
        s,
        "  repair bandwidth   {} Gbps",
        cfg.repair_bandwidth_bits_per_s / 1e9
    );
    let _ = writeln!(s, "  repair time        {}", cfg.repair_time.describe());
    let _ = writeln!(
        s,
        "  repair progress    {} (when the source goes away)",
        cfg.repair_progress.as_str()
    );
    let _ = writeln!(s, "  detection delay    {}", cfg.detection_delay.describe());
    let _ = writeln!(s, "  catch-up time      {}", cfg.catchup_time.describe());
    let _ = writeln!(s, "  restore time       {}", cfg.restore_time.describe());
    let _ = writeln!(
        s,
        "  backup lag         {}",
        format_duration(cfg.backup_lag)
    );
    let _ = writeln!(
        s,
        "  replace down after {}",
        cfg.replace_down_after
            .as_ref()
            .map_or("never".to_string(), Dist::describe)
    );
    if st.volume_mode {
        volume_lines(&mut s, cfg, sc.seed);
    }
    super::database::check_lines(&mut s, cfg);
    let f = &cfg.failures;
    let _ = writeln!(s, "\nbackground failures");
    if f.node_crash.is_none()
        && f.node_loss.is_none()
        && f.az_outage.is_none()
        && f.az_loss.is_none()
        && f.rack_outage.is_none()
    {
        let _ = writeln!(s, "  none");
    }
    process_line(&mut s, "node_crash", "node", &f.node_crash);
    process_line(&mut s, "node_loss", "node", &f.node_loss);
    process_line(&mut s, "az_outage", "AZ", &f.az_outage);
    process_line(&mut s, "az_loss", "AZ", &f.az_loss);
    process_line(&mut s, "rack_outage", "rack", &f.rack_outage);
    let _ = writeln!(
        s,
        "\nscripted events (time order; equal times in file order)"
    );
    if cfg.events.is_empty() {
        let _ = writeln!(s, "  none");
    }
    let mut order: Vec<usize> = (0..cfg.events.len()).collect();
    order.sort_by_key(|&i| (cfg.events[i].at, i));
    for i in order {
        let e = &cfg.events[i];
        let target = match (e.kind, e.burst) {
            (_, Some(b)) => {
                let of = b.az.map_or(String::new(), |a| format!(" of {}", l.azs[a]));
                let nodes = if b.count == 1 { "node" } else { "nodes" };
                format!("{} random {nodes}{of}", b.count)
            }
            (ScriptedKind::NodeCrash | ScriptedKind::NodeLoss, None) => {
                st.node_names[e.target].clone()
            }
            (ScriptedKind::RackOutage, None) => st.rack_name(&l.azs, e.target),
            (ScriptedKind::AzOutage | ScriptedKind::AzLoss, None) => l.azs[e.target].clone(),
            (ScriptedKind::InstanceCrash | ScriptedKind::EbsLoss, None) => {
                format!("instance {}", e.target + 1)
            }
        };
        let lasts = if e.lasts.0 > 0 {
            format!(" for {}", format_duration(e.lasts))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  {:>10}  {:<10} {target}{lasts}",
            format_duration(e.at),
            e.kind.as_str()
        );
    }
    s
}

/// The `check` lines of a volume on a fleet (SPEC §4): the volume's PGs and
/// segments, the fleet's nodes and racks (as ranges: a fleet may have a
/// million nodes), and the repair streams.
fn volume_lines(s: &mut String, cfg: &Config, seed: u64) {
    let (st, azs) = (&cfg.storage, &cfg.layout.azs);
    let _ = writeln!(s, "\nvolume");
    match st.volume_bytes {
        Some(b) => {
            let _ = writeln!(
                s,
                "  size               {b} bytes ({:.3} TiB)",
                b as f64 / 1099511627776.0
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  size               none (no [volume]: one PG on the fleet)"
            );
        }
    }
    let how = if st.volume_bytes.is_some() {
        "size / segment size, rounded up"
    } else {
        "no [volume]"
    };
    let _ = writeln!(s, "  PGs                {} ({how})", st.pgs);
    let _ = writeln!(s, "  placement          {}", st.placement.as_str());
    let v = cfg.layout.replicas();
    let _ = writeln!(
        s,
        "  segments           {} ({} PG{} × {v} replicas)",
        st.pgs as u64 * v as u64,
        st.pgs,
        if st.pgs == 1 { "" } else { "s" }
    );
    let p = crate::model::placement::stats(cfg, seed);
    let of_seed = match st.placement {
        crate::model::Placement::Random => format!(" (the placement of seed {seed})"),
        crate::model::Placement::Copyset => String::new(),
    };
    let _ = writeln!(
        s,
        "  segments per node  {} / {:.1} / {} (min / mean / max){of_seed}",
        p.min, p.mean, p.max
    );
    let _ = writeln!(s, "  copysets           {} distinct node sets", p.copysets);
    let _ = writeln!(s, "\nfleet");
    let (n, a) = (st.nodes_per_az, azs.len());
    let _ = writeln!(
        s,
        "  nodes              {n} per AZ × {a} AZs = {}",
        st.nodes()
    );
    for (i, az) in azs.iter().enumerate() {
        let _ = if n <= 3 {
            writeln!(
                s,
                "  {az}: {}",
                st.node_names[i * n..(i + 1) * n].join(", ")
            )
        } else {
            writeln!(s, "  {az}: {az}-1 … {az}-{n}")
        };
    }
    let r = st.racks_per_az;
    let _ = write!(s, "  racks              {r} per AZ × {a} AZs = {}", r * a);
    let _ = if r == 1 {
        writeln!(s, " (no racks: a rack is its AZ's whole fleet)")
    } else {
        writeln!(
            s,
            " ({}/rack-1 … {}/rack-{r}; node k in rack ((k − 1) mod {r}) + 1)",
            azs[0], azs[0]
        )
    };
    let _ = writeln!(
        s,
        "  repair streams     {}",
        st.repair_streams
            .map_or("no limit".to_string(), |k| format!("{k} per node"))
    );
}

/// The `analyze` report.
pub fn analyze_report(sc: &Scenario, path: &str, a: &Analysis, wall_seconds: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — exact analysis of the background failures (continuous-time Markov chain)",
        sc.name
    );
    let _ = writeln!(
        s,
        "  {} replicas in {} AZs, {}",
        sc.config.layout.replicas(),
        sc.config.layout.azs.len(),
        sc.config.quorum.describe()
    );
    if !sc.config.events.is_empty() {
        let _ = writeln!(
            s,
            "  note: the {} scripted event(s) of {path} are ignored (the chain models background failures only)",
            sc.config.events.len()
        );
    }
    for sub in &a.substitutions {
        let _ = writeln!(
            s,
            "  approximation: {} = {} replaced by exponential(mean {:.6} s)",
            sub.timing.key(),
            sub.was,
            sub.mean_secs
        );
    }
    let _ = writeln!(s, "\n                      {:<28}reads", "writes");
    let av = |a: f64, u: f64| format!("{} ({} nines)", percent(a), nines_of_unavailability(u));
    let _ = writeln!(
        s,
        "  availability        {:<28}{}",
        av(a.write_availability, a.write_unavailability),
        av(a.read_availability, a.read_unavailability)
    );
    let _ = writeln!(
        s,
        "  unavailability      {:<28.6e}{:.6e}",
        a.write_unavailability, a.read_unavailability
    );
    let year = 365.0 * 86_400.0;
    let _ = writeln!(
        s,
        "  per year            {:<28}{}\n",
        format_duration(SimTime::from_secs_f64(a.write_unavailability * year)),
        format_duration(SimTime::from_secs_f64(a.read_unavailability * year))
    );
    match a.mttdl_seconds {
        Some(m) => {
            let _ = writeln!(
                s,
                "  mean time to data loss  {:.6e} s = {:.6e} years (from all replicas current)",
                m,
                m / year
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  mean time to data loss  never (data loss is impossible under these processes)"
            );
        }
    }
    let _ = writeln!(
        s,
        "  states              {} ({} before symmetry reduction)",
        a.states, a.states_before_symmetry
    );
    let how = match a.solver {
        Solver::GaussSeidel { sweeps, bound } => format!(
            "Gauss-Seidel on the cycle equations, {sweeps} sweeps; every figure within {bound:.0e} relative"
        ),
        Solver::Elimination => "sparse GTH elimination".to_string(),
    };
    let _ = writeln!(s, "  solved by           {how}, in {wall_seconds:.3} s");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_shows_the_nines() {
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.5), "50.00%");
        // 1 − 1e-5 has 5 nines: 4 decimals of percent show them all.
        assert_eq!(percent(0.99999), "99.9990%");
        assert_eq!(nines(0.999), "3.00");
    }
}
