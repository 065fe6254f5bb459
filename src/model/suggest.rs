//! "Did you mean": the known name closest to a misspelt one. The candidates are indexed
//! once per configuration — built-in names by length, per-service names by their
//! service — so one suggestion costs a bounded amount of work whatever the size of the
//! configuration, and suggestions are computed only for the names that are reported, at
//! most [`LIMIT`] per configuration.

use std::cell::Cell;
use std::collections::HashMap;

use super::config::Config;

/// The most suggestions one configuration gets; later unknown names are reported without.
pub const LIMIT: usize = 1000;

/// The candidates of one configuration.
pub struct Suggester<'c> {
    /// Built-in parameter names of the target version, by length.
    by_length: Vec<Vec<&'static str>>,
    /// Per-service names (`dovecot_destination_recipient_limit`), by service name: the
    /// rest of each name after the service.
    services: HashMap<&'c [u8], Vec<&'static str>>,
    left: Cell<usize>,
}

impl<'c> Suggester<'c> {
    /// Indexes the names `config` knows.
    pub fn new(config: &'c Config<'_>) -> Suggester<'c> {
        let version = config.version;
        let mut by_length: Vec<Vec<&'static str>> = Vec::new();
        for p in super::params::table().all() {
            if p.available_in(version) && !p.is_legacy_in(version) {
                let len = p.name.len();
                if by_length.len() <= len {
                    by_length.resize_with(len + 1, Vec::new);
                }
                by_length[len].push(p.name);
            }
        }
        let services: HashMap<&'c [u8], Vec<&'static str>> = config
            .service_parameters()
            .map(|(service, suffixes)| (service, suffixes.collect()))
            .collect();
        Suggester {
            by_length,
            services,
            left: Cell::new(LIMIT),
        }
    }

    /// The known name `name` is probably a misspelling of (the nearest within one edit
    /// per five characters, at most three; the first in name order among equals).
    pub fn suggest(&self, name: &[u8]) -> Option<String> {
        let left = self.left.get();
        if left == 0 {
            return None;
        }
        self.left.set(left - 1);
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        let query: Vec<char> = lower.chars().collect();
        let limit = (lower.len() / 5).clamp(1, 3);
        let mut best: Option<(usize, String)> = None;
        let mut consider = |distance: usize, candidate: String| {
            if best
                .as_ref()
                .is_none_or(|(d, known)| (distance, &candidate) < (*d, known))
            {
                best = Some((distance, candidate));
            }
        };
        let lengths = lower.len().saturating_sub(limit)..=lower.len() + limit;
        for len in lengths {
            for known in self.by_length.get(len).into_iter().flatten() {
                if let Some(d) = within(&query, known.chars(), limit) {
                    consider(d, (*known).to_owned());
                }
            }
        }
        // A misspelt per-service name keeps its service: look only at that service's.
        for (i, _) in lower.bytes().enumerate().filter(|(_, b)| *b == b'_') {
            let Some(suffixes) = self.services.get(&lower.as_bytes()[..i]) else {
                continue;
            };
            for suffix in suffixes {
                let candidate = [&lower.as_bytes()[..i], suffix.as_bytes()].concat();
                let candidate = String::from_utf8_lossy(&candidate).into_owned();
                if let Some(d) = within(&query, candidate.chars(), limit) {
                    consider(d, candidate);
                }
            }
        }
        best.map(|(_, known)| known)
    }
}

/// The edit distance between `a` and `b` when it is at most `limit`: Levenshtein's
/// table, only the diagonal band that can stay within the limit, stopping as soon as
/// every entry of a row exceeds it.
fn within(a: &[char], b: impl Iterator<Item = char>, limit: usize) -> Option<usize> {
    let b: Vec<char> = b.collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let over = limit + 1;
    let mut previous: Vec<usize> = (0..=b.len()).map(|j| j.min(over)).collect();
    let mut current = vec![over; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let row = i + 1;
        let from = row.saturating_sub(limit).max(1);
        let to = (row + limit).min(b.len());
        current.fill(over);
        current[0] = row.min(over);
        let mut smallest = current[0];
        for j in from..=to {
            let substitution = previous[j - 1] + usize::from(*ca != b[j - 1]);
            let value = substitution
                .min(previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(over);
            current[j] = value;
            smallest = smallest.min(value);
        }
        if smallest > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= limit).then_some(distance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str, limit: usize) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        within(&a, b.chars(), limit)
    }

    #[test]
    fn bounded_distances() {
        assert_eq!(
            d("smtpd_tls_security_levle", "smtpd_tls_security_level", 3),
            Some(2)
        );
        assert_eq!(d("myhostname", "myhostname", 1), Some(0));
        assert_eq!(d("", "abc", 3), Some(3));
        assert_eq!(d("", "abcd", 3), None);
        assert_eq!(d("abcdef", "azcdef", 1), Some(1));
        assert_eq!(d("abcdef", "badcfe", 2), None);
        assert_eq!(d("kitten", "sitting", 3), Some(3));
        assert_eq!(d("kitten", "sitting", 2), None);
    }
}
