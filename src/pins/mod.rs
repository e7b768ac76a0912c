//! Tool pinning (DESIGN.md §5): a tool's model-visible definition is hashed when a server
//! lists it, trusted on first use, and a later change is held back until a person approves
//! it.
//!
//! `definition` makes the canonical definition and its hash, `hygiene` looks for hidden
//! instructions and look-alike names in a list, `store` keeps pins in the audit database,
//! `diff` shows a change to a person.

mod definition;
mod diff;
mod hygiene;
mod store;

pub(crate) use definition::ToolDef;
pub(crate) use definition::{definitions, instructions_hash};
pub(crate) use diff::diff_text;
#[cfg_attr(not(test), expect(unused_imports, reason = "the relay uses them next"))]
pub(crate) use hygiene::Flag;
pub(crate) use hygiene::hygiene;
pub(crate) use store::State;
pub(crate) use store::{PinRow, Pins, ServerRow};
