"""The model path: a client for vLLM's OpenAI-compatible API and the embedded CPU vLLM.

`client` (LLMClient, ChatStream), `errors` (typed failures with user-facing
phrases), `metrics` (Prometheus on an injected registry), `sse` (pure stream
framing); `embedded`/`model_prep`/`cli` need the `[local]` extra only when run.
"""
