//! What a gated request asks for: the method, and the name rules match against.
//!
//! `tools/call` is always gated; the others only when `[defaults] gate` lists them. For a
//! request that is not a tool call, the name a rule's `tool` pattern sees is the resource
//! URI (`resources/read`), the prompt name (`prompts/get`), or the method name itself for
//! the requests a server sends to the client (`sampling/createMessage`,
//! `elicitation/create`), which name nothing more specific.

use std::fmt;

use serde::Deserialize;

/// A method peta can gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub(crate) enum Method {
    #[serde(rename = "tools/call")]
    ToolsCall,
    #[serde(rename = "resources/read")]
    ResourcesRead,
    #[serde(rename = "prompts/get")]
    PromptsGet,
    #[serde(rename = "sampling/createMessage")]
    SamplingCreateMessage,
    #[serde(rename = "elicitation/create")]
    ElicitationCreate,
}

impl Method {
    pub(crate) const ALL: [Method; 5] = [
        Method::ToolsCall,
        Method::ResourcesRead,
        Method::PromptsGet,
        Method::SamplingCreateMessage,
        Method::ElicitationCreate,
    ];

    /// The method's JSON-RPC name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::ToolsCall => "tools/call",
            Method::ResourcesRead => "resources/read",
            Method::PromptsGet => "prompts/get",
            Method::SamplingCreateMessage => "sampling/createMessage",
            Method::ElicitationCreate => "elicitation/create",
        }
    }

    /// The gated method with this exact JSON-RPC name.
    pub(crate) fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One gated request, reduced to what rules match on besides the server and arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject<'a> {
    /// `tools/call`: the tool's name.
    Tool(&'a str),
    /// `resources/read`: the resource's URI.
    Resource(&'a str),
    /// `prompts/get`: the prompt's name.
    Prompt(&'a str),
    /// `sampling/createMessage`, from the server.
    Sampling,
    /// `elicitation/create`, from the server.
    Elicitation,
}

impl<'a> Subject<'a> {
    /// The subject of a `method` request naming `name` (ignored for the server's requests).
    pub(crate) fn new(method: Method, name: &'a str) -> Subject<'a> {
        match method {
            Method::ToolsCall => Subject::Tool(name),
            Method::ResourcesRead => Subject::Resource(name),
            Method::PromptsGet => Subject::Prompt(name),
            Method::SamplingCreateMessage => Subject::Sampling,
            Method::ElicitationCreate => Subject::Elicitation,
        }
    }

    pub(crate) fn method(&self) -> Method {
        match self {
            Subject::Tool(_) => Method::ToolsCall,
            Subject::Resource(_) => Method::ResourcesRead,
            Subject::Prompt(_) => Method::PromptsGet,
            Subject::Sampling => Method::SamplingCreateMessage,
            Subject::Elicitation => Method::ElicitationCreate,
        }
    }

    /// What a rule's `tool` pattern is matched against.
    pub(crate) fn name(&self) -> &'a str {
        match *self {
            Subject::Tool(name) | Subject::Resource(name) | Subject::Prompt(name) => name,
            Subject::Sampling | Subject::Elicitation => self.method().as_str(),
        }
    }
}
