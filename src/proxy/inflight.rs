//! Requests in flight in each direction, so responses reach only the side that asked.
//!
//! MCP ids are chosen by the sender and MUST NOT be reused within a session; responses are
//! matched by id. peta never invents ids in either peer's space, so it keeps the ids each
//! side has outstanding and refuses what does not fit: a reused id (B1), a response to an
//! id never asked for or already answered (B3), a cancellation of the other side's request
//! (B7). `1` and `"1"` are different ids (B2).

use std::collections::HashMap;
use std::time::Instant;

use crate::wire::envelope::Id;

/// One outstanding request.
#[derive(Debug)]
pub(crate) struct Pending {
    /// The id as its sender wrote it, to echo in a reply peta makes itself.
    pub(crate) raw_id: Box<str>,
    pub(crate) method: Box<str>,
    /// For `tools/call`: the tool.
    pub(crate) tool: Option<Box<str>>,
    pub(crate) since: Instant,
}

/// Outstanding requests of one direction, bounded.
#[derive(Debug)]
pub(crate) struct InFlight {
    pending: HashMap<Id, Pending>,
    cap: usize,
}

/// Why a request could not be admitted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    #[error("request id {0} is already in flight (MCP: ids MUST NOT be reused)")]
    Reused(Id),
    #[error("{0} requests are already in flight (relay.max_in_flight)")]
    Full(usize),
}

impl InFlight {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            pending: HashMap::new(),
            cap,
        }
    }

    pub(crate) fn admit(
        &mut self,
        id: Id,
        raw_id: &str,
        method: &str,
        tool: Option<&str>,
    ) -> Result<(), Refused> {
        if self.pending.contains_key(&id) {
            return Err(Refused::Reused(id));
        }
        if self.pending.len() >= self.cap {
            return Err(Refused::Full(self.cap));
        }
        self.pending.insert(
            id,
            Pending {
                raw_id: raw_id.into(),
                method: method.into(),
                tool: tool.map(Into::into),
                since: Instant::now(),
            },
        );
        Ok(())
    }

    /// Takes the request a response answers, if it is outstanding.
    pub(crate) fn answer(&mut self, id: &Id) -> Option<Pending> {
        self.pending.remove(id)
    }

    pub(crate) fn get(&self, id: &Id) -> Option<&Pending> {
        self.pending.get(id)
    }

    /// Everything still outstanding, oldest first.
    pub(crate) fn drain(&mut self) -> Vec<Pending> {
        let mut all: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        all.sort_by_key(|p| p.since);
        all
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(n: &str) -> Id {
        Id::Num(n.into())
    }

    #[test]
    fn reused_ids_are_refused_until_answered() {
        let mut f = InFlight::new(10);
        f.admit(num("7"), "7", "tools/call", None).expect("first");
        assert!(matches!(
            f.admit(num("7"), "7", "ping", None),
            Err(Refused::Reused(_))
        ));
        assert_eq!(
            f.answer(&num("7")).map(|p| p.method),
            Some("tools/call".into())
        );
        assert!(
            f.answer(&num("7")).is_none(),
            "a second response finds nothing"
        );
        f.admit(num("7"), "7", "ping", None).expect("free again");
    }

    #[test]
    fn number_and_string_ids_are_distinct() {
        let mut f = InFlight::new(10);
        f.admit(num("1"), "1", "a", None).expect("number");
        f.admit(Id::Str("1".into()), "\"1\"", "b", None)
            .expect("string");
        assert_eq!(f.len(), 2);
        assert_eq!(
            f.answer(&Id::Str("1".into())).map(|p| p.method),
            Some("b".into())
        );
    }

    #[test]
    fn bounded() {
        let mut f = InFlight::new(2);
        f.admit(num("1"), "1", "a", None).expect("1");
        f.admit(num("2"), "2", "a", None).expect("2");
        assert!(matches!(
            f.admit(num("3"), "3", "a", None),
            Err(Refused::Full(2))
        ));
        assert_eq!(f.drain().len(), 2);
        assert_eq!(f.len(), 0);
    }
}
