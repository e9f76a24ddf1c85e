//! Idempotency keys: a retried write happens once.
//!
//! A write whose outcome is unknown (the call timed out after the server committed) is unsafe to
//! retry blindly: the retry commits again. With a key derived from the operation and its
//! arguments, the server remembers what it did and answers a repeat from memory instead.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A key naming one logical write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdempotencyKey(pub u64);

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "idem-{:012x}", self.0 & 0xffff_ffff_ffff)
    }
}

/// Builds a key from an operation's parts with FNV-1a: the same parts give the same key on
/// every platform and every run.
#[derive(Clone, Copy, Debug)]
pub struct KeyBuilder(u64);

impl Default for KeyBuilder {
    fn default() -> Self {
        KeyBuilder::new()
    }
}

impl KeyBuilder {
    /// An empty key.
    pub const fn new() -> Self {
        KeyBuilder(0xcbf2_9ce4_8422_2325)
    }

    /// Adds bytes (with a separator, so `("ab", "c")` differs from `("a", "bc")`).
    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        for &b in bytes.iter().chain(&[0xff]) {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// Adds a string.
    pub fn str(self, s: &str) -> Self {
        self.bytes(s.as_bytes())
    }

    /// Adds a number.
    pub fn num(self, n: i64) -> Self {
        self.bytes(&n.to_le_bytes())
    }

    /// The key.
    pub const fn finish(self) -> IdempotencyKey {
        IdempotencyKey(self.0)
    }
}

/// The server side: what each key's write returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyStore<T> {
    done: BTreeMap<IdempotencyKey, T>,
}

impl<T> Default for IdempotencyStore<T> {
    fn default() -> Self {
        IdempotencyStore {
            done: BTreeMap::new(),
        }
    }
}

impl<T: Clone> IdempotencyStore<T> {
    /// An empty store.
    pub const fn new() -> Self {
        IdempotencyStore {
            done: BTreeMap::new(),
        }
    }

    /// The remembered result of `key`, if that write already happened.
    pub fn get(&self, key: IdempotencyKey) -> Option<T> {
        self.done.get(&key).cloned()
    }

    /// Remembers the result of `key`'s write.
    pub fn record(&mut self, key: IdempotencyKey, result: T) {
        self.done.insert(key, result);
    }

    /// How many writes are remembered.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_parts_same_key_and_separators_matter() {
        let k = |a: &str, b: &str| KeyBuilder::new().str(a).str(b).finish();
        assert_eq!(k("charge", "cus_42"), k("charge", "cus_42"));
        assert_ne!(k("ab", "c"), k("a", "bc"));
        assert_ne!(
            KeyBuilder::new().num(1).finish(),
            KeyBuilder::new().num(2).finish()
        );
    }

    #[test]
    fn the_store_answers_a_repeat_from_memory() {
        let mut s = IdempotencyStore::new();
        let key = KeyBuilder::new().str("charge").finish();
        assert_eq!(s.get(key), None);
        s.record(key, "ch_1");
        assert_eq!(s.get(key), Some("ch_1"));
        assert_eq!(s.len(), 1);
    }
}
