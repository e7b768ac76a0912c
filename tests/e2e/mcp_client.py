#!/usr/bin/env python3
"""End-to-end MCP client for testing peta, built on the official MCP Python SDK (mcp 2.x).

Starts an MCP server over stdio, runs a scenario against it and prints ONE
deterministic JSON report on stdout (no timestamps, no request ids), so the
report obtained against a server directly can be compared with the report
obtained through the proxy (`peta run -- <server>`).

Usage:
    python mcp_client.py --scenario NAME [options] -- <command> [args...]

Scenarios:
    everything  against @modelcontextprotocol/server-everything, e.g.
                -- node /tmp/e2e/node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio
                steps: initialize, tools/list, echo, sampling round trip,
                elicitation round trip, roots round trip, progress
                notifications, cancellation (+ echo afterwards).
    demo        against peta's demo server (`peta demo-server`): initialize,
                tools/list, echo "héllo ✓ 🚀", add 2+3, get_env --env-name.
    basic       initialize, tools/list, call --tool with JSON --args.

Options:
    --env-name NAME   variable for the demo get_env step (default PATH)
    --tool NAME       tool to call in the basic scenario (required there)
    --args JSON       JSON object of arguments for --tool (default {})
    --timeout SECS    per-step timeout (default 30)

The server inherits this process's whole environment; its stderr goes to
our stderr. Exit status is 0 on success; on any failed or timed-out step it is
1 and the reason is printed on stderr (nothing is printed on stdout). Usage
errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import anyio
import mcp.types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.session import ClientRequestContext

CLIENT_INFO = types.Implementation(name="peta-e2e-client", version="1.0.0")
UNICODE_TEXT = "héllo ✓ 🚀"
SAMPLING_REPLY = "peta sampling reply ✓"
SAMPLING_MODEL = "peta-e2e-model"
ELICITATION_CONTENT: dict[str, Any] = {
    "name": "Peta Tester",
    "check": True,
    "email": "peta@example.com",
    "integer": 7,
}
ROOTS = [{"uri": "file:///tmp/peta-e2e-root", "name": "peta e2e root"}]


class StepError(Exception):
    """A scenario step failed; the message says which and why."""


# --------------------------------------------------------------------------
# Wire taps: wrap the transport streams to observe JSON-RPC traffic in order.
# --------------------------------------------------------------------------


def _wire_record(direction: str, message: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"dir": direction, "method": getattr(message, "method", None)}
    rec["id"] = getattr(message, "id", None)
    params = getattr(message, "params", None)
    rec["params"] = params if isinstance(params, dict) else None
    rec["is_response"] = rec["method"] is None
    rec["is_error"] = hasattr(message, "error") and rec["method"] is None
    return rec


class TapSend:
    """Write-stream wrapper recording every outgoing JSON-RPC message."""

    def __init__(self, inner: Any, log: list[dict[str, Any]]) -> None:
        self._inner = inner
        self._log = log

    async def send(self, item: Any, /) -> None:
        self._log.append(_wire_record("out", item.message))
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> TapSend:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._inner.__aexit__(*exc)


class TapReceive:
    """Read-stream wrapper recording every incoming JSON-RPC message."""

    def __init__(self, inner: Any, log: list[dict[str, Any]]) -> None:
        self._inner = inner
        self._log = log

    def _record(self, item: Any) -> Any:
        if isinstance(item, Exception):
            self._log.append({"dir": "in", "method": None, "id": None, "params": None,
                              "is_response": False, "is_error": False, "exception": repr(item)})
        else:
            self._log.append(_wire_record("in", item.message))
        return item

    async def receive(self) -> Any:
        return self._record(await self._inner.receive())

    def __aiter__(self) -> TapReceive:
        return self

    async def __anext__(self) -> Any:
        return self._record(await self._inner.__anext__())

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> TapReceive:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._inner.__aexit__(*exc)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class Runner:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.wire: list[dict[str, Any]] = []
        # Set by the client callbacks.
        self.sampling_calls: list[dict[str, Any]] = []
        self.elicitation_calls: list[dict[str, Any]] = []
        self.roots_calls = 0

    async def step(self, name: str, fn: Any, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        limit = self.timeout if timeout is None else timeout
        try:
            with anyio.fail_after(limit):
                return await fn(*args, **kwargs)
        except TimeoutError:
            raise StepError(f"step {name!r} timed out after {limit:g}s") from None
        except StepError:
            raise
        except Exception as exc:  # noqa: BLE001 - report any failure as a step failure
            raise StepError(f"step {name!r} failed: {type(exc).__name__}: {exc}") from exc

    # ---- client callbacks (declaring them also declares the capabilities) ----

    async def sampling_callback(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        texts = [getattr(m.content, "text", None) for m in params.messages]
        self.sampling_calls.append({"messages": texts, "systemPrompt": params.system_prompt,
                                    "maxTokens": params.max_tokens})
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=SAMPLING_REPLY),
            model=SAMPLING_MODEL,
            stop_reason="endTurn",
        )

    async def elicitation_callback(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        self.elicitation_calls.append({"mode": getattr(params, "mode", None),
                                       "message": getattr(params, "message", None)})
        if getattr(params, "mode", "form") == "url":
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content=dict(ELICITATION_CONTENT))

    async def list_roots_callback(self, context: ClientRequestContext) -> types.ListRootsResult:
        self.roots_calls += 1
        return types.ListRootsResult(roots=[types.Root(uri=r["uri"], name=r["name"]) for r in ROOTS])

    # ---- wire queries ----

    def out_requests(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.wire if r["dir"] == "out" and r["method"] == method]

    def last_tool_call_id(self, tool: str) -> Any:
        calls = [r for r in self.out_requests("tools/call") if (r["params"] or {}).get("name") == tool]
        if not calls:
            raise StepError(f"no tools/call for {tool!r} was written to the server")
        return calls[-1]["id"]


def summarize_tool_result(result: Any) -> dict[str, Any]:
    if not isinstance(result, types.CallToolResult):
        raise StepError(f"unexpected tools/call result type {type(result).__name__}")
    texts = [c.text for c in result.content if isinstance(c, types.TextContent)]
    out: dict[str, Any] = {
        "isError": bool(result.is_error),
        "content_types": [getattr(c, "type", type(c).__name__) for c in result.content],
        "text": "\n".join(texts),
    }
    if result.structured_content is not None:
        out["structuredContent"] = result.structured_content
    return out


async def list_all_tools(session: ClientSession) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    for _ in range(100):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools
    raise StepError("tools/list pagination did not terminate after 100 pages")


async def common_start(run: Runner, session: ClientSession, report: dict[str, Any]) -> list[str]:
    init = await run.step("initialize", session.initialize)
    report["protocolVersion"] = init.protocol_version
    report["server"] = init.server_info.name
    tools = await run.step("tools/list", list_all_tools, session)
    names = sorted(t.name for t in tools)
    report["tools"] = names
    return names


async def call(run: Runner, session: ClientSession, name: str, tool: str,
               arguments: dict[str, Any] | None, **kwargs: Any) -> dict[str, Any]:
    result = await run.step(name, session.call_tool, tool, arguments, **kwargs)
    return summarize_tool_result(result)


def require(cond: bool, message: str) -> None:
    if not cond:
        raise StepError(message)


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------


async def scenario_everything(run: Runner, session: ClientSession, args: argparse.Namespace,
                              report: dict[str, Any]) -> None:
    tools = await common_start(run, session, report)
    steps: dict[str, Any] = report["steps"]

    for needed in ("echo", "trigger-sampling-request", "trigger-long-running-operation"):
        require(needed in tools, f"server-everything did not list required tool {needed!r} (tools: {tools})")

    # echo (with non-ASCII text to check byte-exact relaying)
    steps["echo"] = await call(run, session, "echo", "echo", {"message": UNICODE_TEXT})
    require(steps["echo"]["text"] == f"Echo: {UNICODE_TEXT}", f"echo returned {steps['echo']['text']!r}")

    # sampling: server -> client sampling/createMessage round trip
    before = len(run.sampling_calls)
    res = await call(run, session, "sampling", "trigger-sampling-request",
                     {"prompt": "peta e2e prompt", "maxTokens": 42})
    calls = run.sampling_calls[before:]
    steps["sampling"] = {
        "callback_ran": len(calls) > 0,
        "callback_calls": len(calls),
        "request": calls[0] if calls else None,
        "reply_in_result": SAMPLING_REPLY in res["text"],
        "result": res,
    }
    require(steps["sampling"]["callback_ran"], "sampling callback never ran")
    require(steps["sampling"]["reply_in_result"], f"sampling reply missing from tool result: {res['text']!r}")

    # elicitation: server -> client elicitation/create round trip
    if "trigger-elicitation-request" in tools:
        before = len(run.elicitation_calls)
        res = await call(run, session, "elicitation", "trigger-elicitation-request", {})
        calls = run.elicitation_calls[before:]
        steps["elicitation"] = {
            "callback_ran": len(calls) > 0,
            "callback_calls": len(calls),
            "request": calls[0] if calls else None,
            "accepted_in_result": ELICITATION_CONTENT["name"] in res["text"],
            "result": res,
        }
        require(steps["elicitation"]["callback_ran"], "elicitation callback never ran")
        require(steps["elicitation"]["accepted_in_result"], f"elicited content missing: {res['text']!r}")
    else:
        steps["elicitation"] = {"skipped": "no trigger-elicitation-request tool"}

    # roots: server -> client roots/list round trip
    if "get-roots-list" in tools:
        res = await call(run, session, "roots", "get-roots-list", {})
        steps["roots"] = {
            "callback_ran": run.roots_calls > 0,
            "root_in_result": ROOTS[0]["uri"] in res["text"],
            "result": res,
        }
        require(steps["roots"]["root_in_result"], f"root missing from get-roots-list result: {res['text']!r}")
    else:
        steps["roots"] = {"skipped": "no get-roots-list tool"}

    # progress notifications
    progress_values: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        progress_values.append((progress, total))

    n_steps = 3
    res = await call(run, session, "progress", "trigger-long-running-operation",
                     {"duration": 0.6, "steps": n_steps}, progress_callback=on_progress)
    await anyio.sleep(0.05)  # callbacks are spawned tasks; let the last one run
    call_id = run.last_tool_call_id("trigger-long-running-operation")
    out_call = [r for r in run.out_requests("tools/call") if r["id"] == call_id][-1]
    token = ((out_call["params"] or {}).get("_meta") or {}).get("progressToken")
    # Count from the wire tap: everything read before the response, in order (deterministic).
    wire_progress = [r for r in run.wire if r["dir"] == "in" and r["method"] == "notifications/progress"
                     and (r["params"] or {}).get("progressToken") == token]
    steps["progress"] = {
        "token_sent": token is not None,
        "notifications": len(wire_progress),
        "progress_seen": len(progress_values) > 0,
        "callback_count_matches_wire": len(progress_values) == len(wire_progress),
        "last": {"progress": wire_progress[-1]["params"].get("progress"),
                 "total": wire_progress[-1]["params"].get("total")} if wire_progress else None,
        "result": res,
    }
    require(steps["progress"]["progress_seen"], "no progress notification reached the progress callback")

    # cancellation: start a long call, cancel it after the first progress
    # notification (so the server is provably working on it), then check that
    # the SDK sent notifications/cancelled, that no late response shows up,
    # and that the session still works.
    first_progress = anyio.Event()
    completed = False

    async def on_progress_cancel(progress: float, total: float | None, message: str | None) -> None:
        first_progress.set()

    duration, cancel_steps = 2.0, 8  # a progress notification every 0.25 s

    async def long_call() -> None:
        nonlocal completed
        await session.call_tool("trigger-long-running-operation",
                                {"duration": duration, "steps": cancel_steps},
                                progress_callback=on_progress_cancel)
        completed = True

    async def start_and_cancel() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(long_call)
            await first_progress.wait()
            tg.cancel_scope.cancel()

    await run.step("cancel", start_and_cancel)
    require(not completed, "long-running call completed before it could be cancelled")
    cancel_id = run.last_tool_call_id("trigger-long-running-operation")
    require(cancel_id != call_id, "cancelled call was never written to the server")
    cancels = [r for r in run.wire if r["dir"] == "out" and r["method"] == "notifications/cancelled"
               and (r["params"] or {}).get("requestId") == cancel_id]
    after = await call(run, session, "echo-after-cancel", "echo", {"message": "after cancel"})
    # Wait past the operation's nominal end: if the cancel had not reached the
    # server, its (late) response would arrive in the meantime.
    await anyio.sleep(duration + 0.75)
    late = [r for r in run.wire if r["dir"] == "in" and r["is_response"] and r["id"] == cancel_id]
    steps["cancel"] = {
        "sent": len(cancels) == 1,
        "reason": (cancels[0]["params"] or {}).get("reason") if cancels else None,
        "late_response": len(late) > 0,
        "after": "ok" if (not after["isError"] and after["text"] == "Echo: after cancel") else after,
    }
    require(steps["cancel"]["sent"], "no notifications/cancelled was written for the cancelled call")
    require(steps["cancel"]["after"] == "ok", f"echo after cancel failed: {after!r}")
    # Final liveness check.
    await run.step("ping", session.send_ping)
    steps["ping"] = "ok"


async def scenario_demo(run: Runner, session: ClientSession, args: argparse.Namespace,
                        report: dict[str, Any]) -> None:
    tools = await common_start(run, session, report)
    steps: dict[str, Any] = report["steps"]
    for needed in ("echo", "add", "get_env"):
        require(needed in tools, f"demo server did not list required tool {needed!r} (tools: {tools})")
    steps["echo"] = await call(run, session, "echo", "echo", {"text": UNICODE_TEXT})
    steps["add"] = await call(run, session, "add", "add", {"a": 2, "b": 3})
    steps["get_env"] = {"name": args.env_name,
                        **await call(run, session, "get_env", "get_env", {"name": args.env_name})}


async def scenario_basic(run: Runner, session: ClientSession, args: argparse.Namespace,
                         report: dict[str, Any]) -> None:
    await common_start(run, session, report)
    report["steps"]["call"] = {"tool": args.tool, "arguments": args.tool_args,
                               **await call(run, session, "call", args.tool, args.tool_args)}


SCENARIOS = {"everything": scenario_everything, "demo": scenario_demo, "basic": scenario_basic}


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


async def run_scenario(args: argparse.Namespace, command: list[str]) -> dict[str, Any]:
    run = Runner(args.timeout)
    report: dict[str, Any] = {"scenario": args.scenario, "protocolVersion": None, "server": None,
                              "tools": [], "steps": {}}
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with stdio_client(params, errlog=sys.stderr) as (read_stream, write_stream):
        session = ClientSession(
            TapReceive(read_stream, run.wire),
            TapSend(write_stream, run.wire),
            sampling_callback=run.sampling_callback,
            elicitation_callback=run.elicitation_callback,
            list_roots_callback=run.list_roots_callback,
            client_info=CLIENT_INFO,
        )
        async with session:
            await SCENARIOS[args.scenario](run, session, args, report)
    return report


def _leaf_exceptions(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaf_exceptions(sub)]
    return [exc]


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description="Drive an MCP stdio server with the MCP Python SDK and print a JSON report.",
        usage="%(prog)s --scenario {everything,demo,basic} [options] -- <command> [args...]",
    )
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--env-name", default="PATH", help="variable for the demo get_env step")
    parser.add_argument("--tool", help="tool to call in the basic scenario")
    parser.add_argument("--args", default="{}", dest="tool_args_json", help="JSON arguments for --tool")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-step timeout in seconds")
    if "--" not in argv:
        parser.error("missing '-- <command> [args...]' (the server to start)")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]
    if not command:
        parser.error("empty server command after '--'")
    try:
        args.tool_args = json.loads(args.tool_args_json)
    except json.JSONDecodeError as exc:
        parser.error(f"--args is not valid JSON: {exc}")
    if not isinstance(args.tool_args, dict):
        parser.error("--args must be a JSON object")
    if args.scenario == "basic" and not args.tool:
        parser.error("--tool is required for the basic scenario")
    return args, command


def main(argv: list[str]) -> int:
    args, command = parse_args(argv)
    try:
        report = anyio.run(run_scenario, args, command)
    except KeyboardInterrupt:
        print("mcp_client: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # noqa: BLE001 - includes ExceptionGroups from task groups
        leaves = _leaf_exceptions(exc)
        msgs = [str(e) if isinstance(e, StepError) else f"{type(e).__name__}: {e}" for e in leaves]
        print(f"mcp_client: scenario {args.scenario!r} failed: " + "; ".join(msgs), file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(report, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
