//! The policy engine: pure functions from a call to allow, ask or deny, with the reason.
//!
//! `subject` says what a gated request is about, `matcher` and `pointer` and `predicate`
//! are the pieces a rule is made of, `rule` matches one rule against a call, and `engine`
//! holds the compiled policy and decides. `reading`, `number` and `path` list the other
//! readings a lenient server could make of an argument, which deny and ask rules match too.
//! `show` makes names and values safe to print. The configuration compiles `[[rules]]` into
//! a [`Policy`] once; nothing here reads files: what the machine says about paths comes
//! through the [`Host`] seam.

mod action;
mod engine;
mod matcher;
mod number;
mod path;
mod pointer;
mod predicate;
mod reading;
mod rule;
mod show;
mod subject;

pub(crate) use action::Action;
pub(crate) use engine::{Call, Decider, Explanation, Policy, ServerPolicy, Source};
pub(crate) use matcher::NameMatcher;
pub(crate) use path::Host;
pub(crate) use pointer::Pointer;
pub(crate) use predicate::{Predicate, Test};
pub(crate) use rule::Rule;
pub(crate) use subject::{Method, Subject};

#[cfg(test)]
mod tests;
