-- The call log, PostgreSQL dialect (keep in step with ../sqlite/0001_initial.sql).
-- Times: *_at are wall-clock epoch seconds; *_s are seconds from the start of the call's audio.

CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    platform_call_id TEXT NOT NULL,
    caller_number TEXT,
    agent_id TEXT NOT NULL,
    language TEXT NOT NULL,
    caller JSONB NOT NULL DEFAULT '{}',
    started_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION,
    duration_s DOUBLE PRECISION,
    status TEXT NOT NULL DEFAULT 'live',
    end_reason TEXT,
    transferred_from TEXT,
    qa_score DOUBLE PRECISION,
    qa JSONB,
    summary JSONB
);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_agent ON calls (agent_id, started_at);
CREATE INDEX calls_platform_id ON calls (platform_call_id);
CREATE INDEX calls_caller ON calls (caller_number, started_at);
CREATE INDEX calls_status ON calls (status, node_id);

CREATE TABLE utterances (
    id BIGSERIAL PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    speaker TEXT NOT NULL,
    utterance_id INTEGER NOT NULL,
    start_s DOUBLE PRECISION NOT NULL,
    end_s DOUBLE PRECISION NOT NULL,
    emitted_s DOUBLE PRECISION NOT NULL,
    text TEXT NOT NULL,
    search_text TEXT NOT NULL,
    words JSONB NOT NULL DEFAULT '[]',
    confidence DOUBLE PRECISION,
    language TEXT,
    latency JSONB NOT NULL DEFAULT '{}',
    redactions JSONB NOT NULL DEFAULT '[]',
    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', search_text)) STORED,
    UNIQUE (call_id, speaker, utterance_id)
);
CREATE INDEX utterances_call ON utterances (call_id, start_s);
CREATE INDEX utterances_search ON utterances USING GIN (search);

CREATE TABLE events (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    emitted_s DOUBLE PRECISION NOT NULL,
    payload JSONB NOT NULL,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE call_tags (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (call_id, kind, value)
);
CREATE INDEX call_tags_value ON call_tags (kind, value);

CREATE TABLE feedback (
    id BIGSERIAL PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    card_id TEXT NOT NULL,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX feedback_call ON feedback (call_id);
