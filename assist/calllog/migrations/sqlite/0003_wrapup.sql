-- After-call work: what the system proposed when the call ended (summary, disposition, outcome)
-- and what the agent saved; QA sees both.
-- depends: 0002_utterance_revision
CREATE TABLE wrapups (
    call_id TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL,
    proposed TEXT NOT NULL,
    saved TEXT NOT NULL,
    saved_at REAL NOT NULL
);
