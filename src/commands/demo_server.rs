//! `peta demo-server`: a small MCP server on stdio, built with rmcp, for the demo and the
//! tests. Its risky tools only pretend: nothing on disk is touched.

use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::Error;

#[derive(Debug, Clone)]
struct DemoServer {
    #[expect(dead_code, reason = "read by the code #[tool_handler] generates")]
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct WriteFileArgs {
    /// Where the file would be written.
    path: String,
    /// What would be written.
    content: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct PathArgs {
    /// The file that would be deleted.
    path: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct EnvArgs {
    /// The environment variable to read.
    name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct SlowArgs {
    /// How long to take, in seconds (at most 60).
    seconds: f64,
}

fn text(t: impl Into<String>) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(t)]))
}

#[tool_router]
impl DemoServer {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Send the text back.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn echo(
        &self,
        Parameters(EchoArgs { text: t }): Parameters<EchoArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        text(t)
    }

    #[tool(
        description = "Add two integers.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn add(
        &self,
        Parameters(AddArgs { a, b }): Parameters<AddArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        match a.checked_add(b) {
            Some(sum) => text(sum.to_string()),
            None => Ok(CallToolResult::error(vec![ContentBlock::text(
                "the sum overflows",
            )])),
        }
    }

    #[tool(
        description = "Write a file (pretend: nothing is written).",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            open_world_hint = false
        )
    )]
    async fn write_file(
        &self,
        Parameters(WriteFileArgs { path, content }): Parameters<WriteFileArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        text(format!(
            "pretended to write {} bytes to {path}",
            content.len()
        ))
    }

    #[tool(
        description = "Delete a file (pretend: nothing is deleted).",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_file(
        &self,
        Parameters(PathArgs { path }): Parameters<PathArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        text(format!("pretended to delete {path}"))
    }

    #[tool(
        description = "Return the value of one of the server's environment variables.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_env(
        &self,
        Parameters(EnvArgs { name }): Parameters<EnvArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        match std::env::var(&name) {
            Ok(value) => text(value),
            Err(_) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "{name} is not set"
            ))])),
        }
    }

    #[tool(
        description = "Take a while, reporting progress each tenth of the way.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn slow(
        &self,
        Parameters(SlowArgs { seconds }): Parameters<SlowArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let total = seconds.clamp(0.0, 60.0);
        let token = context.meta.get_progress_token();
        for step in 1..=10u32 {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs_f64(total / 10.0)) => {}
                () = context.ct.cancelled() => return text("cancelled"),
            }
            if let Some(token) = token.clone() {
                let _ = context
                    .peer
                    .notify_progress(
                        ProgressNotificationParam::new(token, f64::from(step)).with_total(10.0),
                    )
                    .await;
            }
        }
        text(format!("done after {total}s"))
    }

    #[tool(
        description = "Exit the server at once, mid-request.",
        annotations(destructive_hint = false)
    )]
    async fn crash(&self) -> Result<CallToolResult, ErrorData> {
        eprintln!("demo-server: crashing on request");
        std::process::exit(3)
    }
}

#[tool_handler]
impl ServerHandler for DemoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("peta-demo", env!("CARGO_PKG_VERSION")))
            .with_instructions("peta's demo server: safe tools, and risky ones that only pretend.")
    }
}

pub(crate) fn run() -> Result<u8, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    runtime.block_on(async {
        let service = DemoServer::new()
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::Demo(format!("demo server failed to start: {e}")))?;
        service
            .waiting()
            .await
            .map_err(|e| Error::Demo(format!("demo server failed: {e}")))?;
        Ok(0)
    })
}
