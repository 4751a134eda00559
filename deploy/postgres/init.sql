-- Runs once, when the Postgres volume is first created.
-- The knowledge base stores embeddings in pgvector columns at scale.
CREATE EXTENSION IF NOT EXISTS vector;
