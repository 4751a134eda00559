"""The learning loop: decisions → datasets → LoRA adapters → vLLM → measured lift.

- `rows`     pure mapping from a decision's provenance to TRL / OpenAI rows
- `redact`   PII placeholders (emails, phones, cards, Slack IDs, names)
- `export`   streaming, read-only, de-duplicated JSONL export (`tandem export`)
- `train`    TRL + PEFT LoRA training (`tandem tune train`)
- `deploy`   runtime adapter loading with versioned names (`tandem tune deploy`)
- `traffic`  the per-job traffic split (`choose_model`)
- `stats`    rates with Wilson intervals (`tandem stats`, App Home's `compact_stats`)
- `report`   the HTML report with charts (`tandem report`)
"""
