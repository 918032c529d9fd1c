//! A small bounded cache with an optional time to live: what the adapter keeps between calls
//! (the definition, descriptions of finished executions, endpoint configs, the last state seen
//! of a running execution). Oldest entries go first when it is full.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Cache<K, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
    ttl: Option<Duration>,
}

#[derive(Debug)]
struct Inner<K, V> {
    map: HashMap<K, (V, Instant)>,
    order: VecDeque<K>,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    /// Holds at most `capacity` entries, each for at most `ttl` (for ever when `None`).
    pub fn new(capacity: usize, ttl: Option<Duration>) -> Self {
        Cache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity: capacity.max(1),
            ttl,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let mut inner = self.inner.lock().ok()?;
        let (value, at) = inner.map.get(key)?;
        if self.ttl.is_some_and(|ttl| at.elapsed() > ttl) {
            inner.map.remove(key);
            return None;
        }
        Some(value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner
            .map
            .insert(key.clone(), (value, Instant::now()))
            .is_none()
        {
            inner.order.push_back(key);
        }
        while inner.map.len() > self.capacity {
            match inner.order.pop_front() {
                Some(oldest) => {
                    inner.map.remove(&oldest);
                }
                None => break,
            }
        }
        // Keys removed by expiry or `remove` linger in `order`; drop them when it grows.
        if inner.order.len() > self.capacity * 2 {
            let Inner { map, order } = &mut *inner;
            order.retain(|k| map.contains_key(k));
        }
    }

    pub fn remove(&self, key: &K) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.map.remove(key);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|inner| inner.map.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entries_go_when_full() {
        let cache = Cache::new(2, None);
        cache.insert(1, "a");
        cache.insert(2, "b");
        cache.insert(3, "c");
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get(&3), Some("c"));
        assert_eq!(cache.len(), 2);
        for n in 0..100 {
            cache.remove(&n);
            cache.insert(n, "x");
        }
        assert!(cache.len() <= 2);
    }

    #[test]
    fn entries_expire() {
        let cache = Cache::new(4, Some(Duration::from_millis(0)));
        cache.insert("k", 1);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(cache.get(&"k"), None);
    }
}
