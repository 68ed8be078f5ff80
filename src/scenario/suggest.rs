//! "Did you mean …?" for near misses: a word that differs from a known one
//! by case, `_` or a space for `-`, or a typo or two.

/// Words longer than this are not compared (the distance is quadratic in
/// length, and nothing that long is a typo of a short name).
const MAX_LEN: usize = 64;

/// The candidate closest to `word`, if it is close: equal once case, `_`, `-`
/// and spaces are ignored, or within edit distance 2 (1 for words of four
/// letters or fewer, so that short names are not "corrected" into others).
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.chars().count() > MAX_LEN {
        return None;
    }
    let fold = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let w = fold(word);
    if let Some(c) = candidates.iter().find(|c| fold(c) == w) {
        return Some(c);
    }
    let limit = if w.len() <= 4 { 1 } else { 2 };
    candidates
        .iter()
        .filter(|c| c.chars().count() <= MAX_LEN)
        .map(|c| (distance(&w, &fold(c)), *c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `"; did you mean `x`?"` when there is a close candidate, else `""`.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    closest(word, candidates).map_or(String::new(), |c| format!("; did you mean `{c}`?"))
}

/// Levenshtein distance (insertions, deletions, substitutions).
fn distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [&str; 4] = ["node-crash", "node-loss", "az-outage", "az-loss"];

    // See: issue 11
    #[test]
    fn issue_11_kind_spelled_with_an_underscore() {
        // The `[failures.az_outage]` table is spelled with `_`, events with `-`.
        assert_eq!(closest("az_outage", &KINDS), Some("az-outage"));
        assert_eq!(closest("AZ-Outage", &KINDS), Some("az-outage"));
        assert_eq!(closest("node-crsh", &KINDS), Some("node-crash"));
        assert_eq!(closest("reboot", &KINDS), None);
        assert_eq!(did_you_mean("reboot", &KINDS), "");
    }

    #[test]
    fn short_words_need_a_closer_match() {
        assert_eq!(closest("azs", &["azs", "seed"]), Some("azs"));
        assert_eq!(closest("ab", &["azs"]), None);
        assert_eq!(closest(&"x".repeat(100), &["x"]), None);
        assert_eq!(distance(&['a', 'b'], &['b', 'a']), 2);
    }
}
