//! What kind of aurora-sim file some text is, so a file given to the wrong
//! command is answered with the command it is for.

/// The files aurora-sim writes or reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `run --timeline` CSV.
    Timeline,
    /// `sweep` or `merge` CSV.
    Sweep,
    /// `sweep --shard` partial file (JSON).
    Part,
    /// A scenario (TOML).
    Scenario,
    /// None of these.
    Unknown,
}

impl FileKind {
    /// Guesses from the first line (CSV header), JSON format tag or TOML keys.
    pub fn of(text: &str) -> FileKind {
        let text = text.trim_start_matches('\u{feff}');
        let head = text.trim_start();
        if head.starts_with('{') {
            // The tag sits near the top of a part file; look no further.
            let mut end = head.len().min(256);
            while !head.is_char_boundary(end) {
                end -= 1; // never cut a multibyte character
            }
            let top = &head[..end];
            return if top.contains("aurora-sim sweep part") {
                FileKind::Part
            } else {
                FileKind::Unknown
            };
        }
        let first = text.lines().next().unwrap_or("");
        let cols: Vec<&str> = first.split(',').map(str::trim).collect();
        if cols.len() > 2 && cols[0] == "time_s" && cols[1] == "event" {
            return FileKind::Timeline;
        }
        if cols.contains(&"trials") && cols.contains(&"p_data_loss") {
            return FileKind::Sweep;
        }
        let toml_like = text.lines().take(200).any(|l| {
            let l = l.trim_start();
            l.starts_with("[cluster]")
                || l.starts_with("[[events]]")
                || l.starts_with("[failures.")
                || (l.starts_with("name") && l[4..].trim_start().starts_with('='))
        });
        if toml_like {
            FileKind::Scenario
        } else {
            FileKind::Unknown
        }
    }

    /// "this is …: use …", for an error about a file given to the wrong command.
    pub fn advice(self) -> &'static str {
        match self {
            FileKind::Timeline => {
                "this is a timeline CSV (from `run --timeline`): draw it with \
                 `aurora-sim plot timeline FILE.csv --out FILE.svg`"
            }
            FileKind::Sweep => {
                "this is a sweep CSV (from `sweep` or `merge`): draw it with \
                 `aurora-sim plot sweep FILE.csv --x KEY --y COLUMN --out FILE.svg`"
            }
            FileKind::Part => {
                "this is a partial sweep file (from `sweep --shard K/N`): combine all \
                 the parts with `aurora-sim merge PART… --out FILE.csv` first"
            }
            FileKind::Scenario => {
                "this is a scenario file: `aurora-sim run` or `aurora-sim sweep` it first"
            }
            FileKind::Unknown => "not a file aurora-sim wrote",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See: issue 11 (fuzz finding): a JSON file whose 256th byte falls inside
    /// a multibyte character is classified, not a panic.
    #[test]
    fn issue_11_multibyte_character_at_the_cut() {
        let text = format!("{{\"a\": \"{}ü\"}}", "x".repeat(248));
        assert!(!text.is_char_boundary(256));
        assert_eq!(FileKind::of(&text), FileKind::Unknown);
    }

    #[test]
    fn kinds_from_their_first_lines() {
        let cases = [
            ("time_s,event,target,up\n0,start,,6\n", FileKind::Timeline),
            (
                "time_s,event,target,write_available,read_available,pgs_write_unavailable\n",
                FileKind::Timeline,
            ),
            ("k,trials,p_data_loss\n1,10,0\n", FileKind::Sweep),
            (
                "{\n  \"format\": \"aurora-sim sweep part v1\",\n",
                FileKind::Part,
            ),
            ("# x\nname = \"a\"\nhorizon = \"1d\"\n", FileKind::Scenario),
            ("{}", FileKind::Unknown),
            ("a,b\n1,2\n", FileKind::Unknown),
            ("", FileKind::Unknown),
        ];
        for (text, kind) in cases {
            assert_eq!(FileKind::of(text), kind, "{text:?}");
        }
    }
}
