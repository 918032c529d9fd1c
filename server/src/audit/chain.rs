//! The hash chain: how a record is encoded canonically, how a batch of entries is linked to
//! the head, and how a chain is checked.
//!
//! A record's hash is SHA-256 over `gatehouse-audit-v1\n` followed by a JSON array of its
//! fields in a fixed order, the previous record's hash last. JSON arrays have one encoding per
//! value with serde_json (no maps, no floats), so a verifier in any language can recompute it.

use app::audit::{AuditError, AuditLog};
use app::models::audit::{AuditEntry, AuditRecord};
use app::models::pipeline::Timestamp;

/// The previous hash of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const DOMAIN: &[u8] = b"gatehouse-audit-v1\n";

/// The bytes a record's hash is taken over.
pub fn canonical_bytes(seq: u64, at: Timestamp, entry: &AuditEntry, prev_hash: &str) -> Vec<u8> {
    let fields = serde_json::json!([
        seq,
        at.millis(),
        entry.actor,
        entry.roles,
        entry.action,
        entry.target,
        entry.outcome.as_str(),
        entry.request_id,
        entry.source_ip,
        entry.details,
        prev_hash,
    ]);
    let mut bytes = DOMAIN.to_vec();
    bytes.extend_from_slice(fields.to_string().as_bytes());
    bytes
}

pub fn hash_of(seq: u64, at: Timestamp, entry: &AuditEntry, prev_hash: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &canonical_bytes(seq, at, entry, prev_hash),
    );
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The records `entries` become when appended after `head` (`None`: the log is empty), all
/// stamped `at`.
pub fn link(
    head: Option<(u64, String)>,
    entries: impl IntoIterator<Item = AuditEntry>,
    at: Timestamp,
) -> Vec<AuditRecord> {
    let (mut seq, mut prev) = head.unwrap_or((0, GENESIS.to_string()));
    entries
        .into_iter()
        .map(|entry| {
            let entry = entry.bounded();
            seq += 1;
            let hash = hash_of(seq, at, &entry, &prev);
            AuditRecord {
                seq,
                at,
                entry,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
            }
        })
        .collect()
}

/// Where a chain stops being what was appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {expected} is missing: the chain goes from {} to {found}", expected - 1)]
    Missing { expected: u64, found: u64 },
    #[error("record {seq} was changed: its content does not match its hash")]
    Changed { seq: u64 },
    #[error(
        "record {seq} does not follow record {}: a record was changed and re-hashed, removed or moved",
        seq - 1
    )]
    Unlinked { seq: u64 },
    #[error("records {} to {head} are missing: the log ends at {last} but its head says {head}", last + 1)]
    Truncated { last: u64, head: u64 },
    #[error("record {seq} is not the record the head was written for")]
    HeadMismatch { seq: u64 },
    #[error("the head names record {head} but the log has records after it, up to {last}")]
    BeyondHead { last: u64, head: u64 },
}

impl ChainBreak {
    /// The first record that is not as appended.
    pub fn record(&self) -> u64 {
        match self {
            ChainBreak::Missing { expected, .. } => *expected,
            ChainBreak::Changed { seq }
            | ChainBreak::Unlinked { seq }
            | ChainBreak::HeadMismatch { seq } => *seq,
            ChainBreak::Truncated { last, .. } => last + 1,
            ChainBreak::BeyondHead { head, .. } => head + 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Broken(ChainBreak),
    #[error(transparent)]
    Store(#[from] AuditError),
}

/// Walks a chain in order; call [`Verifier::finish`] with the head the store keeps.
#[derive(Debug)]
pub struct Verifier {
    expected: u64,
    prev: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            expected: 1,
            prev: GENESIS.to_string(),
        }
    }
}

impl Verifier {
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        if record.seq != self.expected {
            return Err(ChainBreak::Missing {
                expected: self.expected,
                found: record.seq,
            });
        }
        if hash_of(record.seq, record.at, &record.entry, &record.prev_hash) != record.hash {
            return Err(ChainBreak::Changed { seq: record.seq });
        }
        if record.prev_hash != self.prev {
            return Err(ChainBreak::Unlinked { seq: record.seq });
        }
        self.expected += 1;
        self.prev.clone_from(&record.hash);
        Ok(())
    }

    /// How many records were checked.
    pub fn count(&self) -> u64 {
        self.expected - 1
    }

    pub fn finish(self, head: Option<(u64, String)>) -> Result<u64, ChainBreak> {
        let last = self.count();
        match head {
            None if last == 0 => Ok(0),
            None => Err(ChainBreak::BeyondHead { last, head: 0 }),
            Some((seq, _)) if seq > last => Err(ChainBreak::Truncated { last, head: seq }),
            Some((seq, _)) if seq < last => Err(ChainBreak::BeyondHead { last, head: seq }),
            Some((seq, hash)) if hash != self.prev => Err(ChainBreak::HeadMismatch { seq }),
            Some(_) => Ok(last),
        }
    }
}

/// Checks the whole log; the number of records when intact.
pub async fn verify(log: &dyn AuditLog) -> Result<u64, VerifyError> {
    // The head first: records appended while the walk runs come after it and are not judged.
    let head = log.head().await?;
    let mut verifier = Verifier::default();
    let until = head.as_ref().map(|(seq, _)| *seq).unwrap_or(0);
    let mut after = 0;
    loop {
        let records = log.scan(after, 1000).await?;
        let Some(last) = records.last() else { break };
        after = last.seq;
        for record in records.iter().filter(|r| r.seq <= until || until == 0) {
            verifier.check(record).map_err(VerifyError::Broken)?;
        }
        if after >= until {
            break;
        }
    }
    verifier.finish(head).map_err(VerifyError::Broken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::models::audit::AuditOutcome;

    fn entry(actor: &str) -> AuditEntry {
        AuditEntry {
            actor: actor.into(),
            roles: vec!["approver".into()],
            action: "approval.decide".into(),
            target: "c0ffee00-1".into(),
            outcome: AuditOutcome::Success,
            request_id: "r-1".into(),
            source_ip: "127.0.0.1".into(),
            details: r#"{"comment":"ok"}"#.into(),
        }
    }

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut records = link(None, (0..n).map(|i| entry(&format!("u{i}"))), Timestamp(5));
        let head = records.last().map(|r| (r.seq, r.hash.clone()));
        records.extend(link(head, [entry("late")], Timestamp(9)));
        records
    }

    fn walk(records: &[AuditRecord], head: Option<(u64, String)>) -> Result<u64, ChainBreak> {
        let mut verifier = Verifier::default();
        for record in records {
            verifier.check(record)?;
        }
        verifier.finish(head)
    }

    fn head_of(records: &[AuditRecord]) -> Option<(u64, String)> {
        records.last().map(|r| (r.seq, r.hash.clone()))
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let records = chain(5);
        assert_eq!(records[0].prev_hash, GENESIS);
        assert_eq!(records[5].prev_hash, records[4].hash);
        assert_eq!(walk(&records, head_of(&records)), Ok(6));
        assert_eq!(walk(&[], None), Ok(0));
    }

    #[test]
    fn a_changed_field_names_its_record() {
        let mut records = chain(5);
        let head = head_of(&records);
        records[2].entry.actor = "mallory".into();
        assert_eq!(walk(&records, head), Err(ChainBreak::Changed { seq: 3 }));
    }

    #[test]
    fn a_rehashed_change_breaks_the_next_link() {
        let mut records = chain(5);
        let head = head_of(&records);
        let r = &mut records[2];
        r.entry.outcome = AuditOutcome::Refused;
        r.hash = hash_of(r.seq, r.at, &r.entry, &r.prev_hash);
        assert_eq!(walk(&records, head), Err(ChainBreak::Unlinked { seq: 4 }));
    }

    #[test]
    fn removed_records_are_named() {
        let mut records = chain(5);
        let head = head_of(&records);
        records.remove(1);
        assert_eq!(
            walk(&records, head.clone()),
            Err(ChainBreak::Missing {
                expected: 2,
                found: 3
            })
        );
        let mut records = chain(5);
        records.pop();
        assert_eq!(
            walk(&records, head),
            Err(ChainBreak::Truncated { last: 5, head: 6 })
        );
    }

    #[test]
    fn reordered_records_are_named() {
        let mut records = chain(5);
        let head = head_of(&records);
        // Swap the contents of records 2 and 3 but keep the sequence numbers in place.
        let (a, b) = (records[1].clone(), records[2].clone());
        records[1] = AuditRecord { seq: 2, ..b };
        records[2] = AuditRecord { seq: 3, ..a };
        assert_eq!(walk(&records, head), Err(ChainBreak::Changed { seq: 2 }));
    }

    #[test]
    fn encoding_is_stable() {
        // A fixed vector: changing the encoding would orphan every stored chain.
        let bytes = canonical_bytes(1, Timestamp(5), &entry("alice"), GENESIS);
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            format!(
                "gatehouse-audit-v1\n[1,5,\"alice\",[\"approver\"],\"approval.decide\",\"c0ffee00-1\",\"success\",\"r-1\",\"127.0.0.1\",\"{{\\\"comment\\\":\\\"ok\\\"}}\",\"{GENESIS}\"]"
            )
        );
    }
}
