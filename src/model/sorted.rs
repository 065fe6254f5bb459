//! A map kept as one sorted vector. Most maps of the model hold a few entries (a
//! service's `-o` options), where a B-tree's first node alone costs a kilobyte: a large
//! master.cf has a hundred thousand of them. A large map is also hashed: the rules look
//! each main.cf name up several times, and a binary search over a few hundred thousand
//! names sharing a prefix costs more than everything else they do.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

/// Maps shorter than this are searched; a hash index would cost more than it saves.
const HASHED_FROM: usize = 64;

/// Entries sorted by key, found by binary search or, in a large map, by hash; built once,
/// then read.
#[derive(Debug)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
    /// Positions in `entries` by key hash, when the map is large (five bytes an entry;
    /// boxed, as most maps are small and a table's header is thirty-two bytes).
    index: Option<Box<HashTable<u32>>>,
}

impl<K: Ord + Hash, V> SortedMap<K, V> {
    /// The map of `entries` in the order they were set: of equal keys the last one wins,
    /// as when each replaces the one before.
    pub fn last_wins(entries: Vec<(K, V)>) -> SortedMap<K, V> {
        SortedMap::last_wins_noting(entries, |_, _| {})
    }

    /// [`SortedMap::last_wins`], calling `replaced(earlier, later)` for each entry that a
    /// later one of the same key replaces.
    pub fn last_wins_noting(
        mut entries: Vec<(K, V)>,
        mut replaced: impl FnMut(&(K, V), &(K, V)),
    ) -> SortedMap<K, V> {
        sort_keeping_order(&mut entries);
        entries.dedup_by(|later, kept| {
            if later.0 != kept.0 {
                return false;
            }
            replaced(kept, later);
            // The slot kept is the earlier one: it takes the later entry.
            std::mem::swap(later, kept);
            true
        });
        entries.shrink_to_fit();
        let mut map = SortedMap {
            entries,
            index: None,
        };
        map.index = map.build_index();
        map
    }

    fn build_index(&self) -> Option<Box<HashTable<u32>>> {
        if self.entries.len() < HASHED_FROM || u32::try_from(self.entries.len()).is_err() {
            return None;
        }
        let mut index = HashTable::with_capacity(self.entries.len());
        for (i, (k, _)) in self.entries.iter().enumerate() {
            index.insert_unique(hash(k), i as u32, |&j| hash(&self.entries[j as usize].0));
        }
        Some(Box::new(index))
    }

    fn position<Q: Ord + Hash + ?Sized>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        match &self.index {
            Some(index) => index
                .find(hash(key), |&i| self.entries[i as usize].0.borrow() == key)
                .map(|&i| i as usize),
            None => self
                .entries
                .binary_search_by(|(k, _)| k.borrow().cmp(key))
                .ok(),
        }
    }

    /// The value of `key`.
    pub fn get<Q: Ord + Hash + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// The stored key equal to `key`, and its value.
    pub fn get_key_value<Q: Ord + Hash + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.position(key).map(|i| {
            let (k, v) = &self.entries[i];
            (k, v)
        })
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q: Ord + Hash + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_some()
    }

    /// Removes `key` and returns its value.
    pub fn remove<Q: Ord + Hash + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key)?;
        let (_, value) = self.entries.remove(i);
        // The positions after `i` moved down by one.
        self.index = self.build_index();
        Some(value)
    }

    /// The entry at `index` (in key order).
    pub fn at(&self, index: usize) -> Option<(&K, &V)> {
        self.entries.get(index).map(|(k, v)| (k, v))
    }

    /// The index of `key`, if it has a value.
    pub fn index_of<Q: Ord + Hash + ?Sized>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        self.position(key)
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A key's hash, for the index: fixed, so that a run is repeatable.
fn hash<Q: Hash + ?Sized>(key: &Q) -> u64 {
    foldhash::fast::FixedState::default().hash_one(key)
}

/// Sorts by key, entries of one key staying in the order set. A stable sort of the
/// entries themselves would borrow half of them again as scratch (tens of MB for a large
/// main.cf); sorting their positions costs four bytes each, and the entries are then
/// moved into place along the permutation's cycles.
fn sort_keeping_order<K: Ord, V>(entries: &mut [(K, V)]) {
    let Ok(len) = u32::try_from(entries.len()) else {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        return;
    };
    let mut order: Vec<u32> = (0..len).collect();
    order.sort_unstable_by(|&a, &b| {
        entries[a as usize]
            .0
            .cmp(&entries[b as usize].0)
            .then(a.cmp(&b))
    });
    // Position j must receive the entry at order[j]; a finished position points at itself.
    for start in 0..order.len() {
        let mut j = start;
        loop {
            let from = order[j] as usize;
            order[j] = j as u32;
            if from == start {
                break;
            }
            entries.swap(j, from);
            j = from;
        }
    }
}

/// The entries of a [`SortedMap`] in key order.
pub type Iter<'m, K, V> = std::iter::Map<std::slice::Iter<'m, (K, V)>, fn(&(K, V)) -> (&K, &V)>;

impl<'m, K: Ord + Hash, V> IntoIterator for &'m SortedMap<K, V> {
    type Item = (&'m K, &'m V);
    type IntoIter = Iter<'m, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_equal_keys_wins_and_keys_come_sorted() {
        let map = SortedMap::last_wins(vec![("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]);
        assert_eq!(
            map.iter().collect::<Vec<_>>(),
            [(&"a", &5), (&"b", &3), (&"c", &4)]
        );
        assert_eq!(map.get("b"), Some(&3));
        assert!(!map.contains_key("d"));
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn removes_one_key() {
        let mut map = SortedMap::last_wins(vec![("a", 1), ("b", 2)]);
        assert_eq!(map.remove("a"), Some(1));
        assert_eq!(map.remove("a"), None);
        assert_eq!(map.iter().collect::<Vec<_>>(), [(&"b", &2)]);
        assert!(!map.is_empty());
    }

    #[test]
    fn a_large_map_finds_by_hash_what_a_search_finds() {
        let keys: Vec<String> = (0..500).map(|i| format!("name_{}", i * 7 % 500)).collect();
        let mut map = SortedMap::last_wins(keys.iter().map(|k| (k.clone(), k.len())).collect());
        assert!(map.index.is_some(), "{} entries are hashed", map.len());
        for key in &keys {
            assert_eq!(map.get(key.as_str()), Some(&key.len()), "{key}");
            assert_eq!(
                map.at(map.index_of(key.as_str()).unwrap_or(usize::MAX))
                    .map(|(k, _)| k),
                Some(key)
            );
        }
        assert!(!map.contains_key("name_500"));
        // Removing moves the later entries: they are still found where they now are.
        assert_eq!(map.remove("name_0"), Some(6));
        assert!(!map.contains_key("name_0"));
        assert_eq!(map.index_of("name_1"), Some(0));
        assert_eq!(map.get("name_499"), Some(&8));
    }

    #[test]
    fn sorting_positions_gives_what_a_stable_sort_gives() {
        let mut seed = 0x2545_f491_u32;
        for len in [0usize, 1, 2, 3, 7, 64, 1000] {
            let entries: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 28, i)
                })
                .collect();
            let mut expected = entries.clone();
            expected.sort_by_key(|e| e.0);
            let mut sorted = entries;
            sort_keeping_order(&mut sorted);
            assert_eq!(sorted, expected, "{len} entries");
        }
    }
}
