-- The call log, SQLite dialect (keep in step with ../postgres/0001_initial.sql).
-- Times: *_at are wall-clock epoch seconds; *_s are seconds from the start of the call's audio.

CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    platform_call_id TEXT NOT NULL,
    caller_number TEXT,
    agent_id TEXT NOT NULL,
    language TEXT NOT NULL,
    caller TEXT NOT NULL DEFAULT '{}',
    started_at REAL NOT NULL,
    ended_at REAL,
    duration_s REAL,
    status TEXT NOT NULL DEFAULT 'live',
    end_reason TEXT,
    transferred_from TEXT,
    qa_score REAL,
    qa TEXT,
    summary TEXT
);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_agent ON calls (agent_id, started_at);
CREATE INDEX calls_platform_id ON calls (platform_call_id);
CREATE INDEX calls_caller ON calls (caller_number, started_at);
CREATE INDEX calls_status ON calls (status, node_id);

CREATE TABLE utterances (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    speaker TEXT NOT NULL,
    utterance_id INTEGER NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    emitted_s REAL NOT NULL,
    text TEXT NOT NULL,
    search_text TEXT NOT NULL,
    words TEXT NOT NULL DEFAULT '[]',
    confidence REAL,
    language TEXT,
    latency TEXT NOT NULL DEFAULT '{}',
    redactions TEXT NOT NULL DEFAULT '[]',
    UNIQUE (call_id, speaker, utterance_id)
);
CREATE INDEX utterances_call ON utterances (call_id, start_s);

-- Full-text search over what was said (porter stemming; CJK characters are spaced apart in
-- search_text so each one is a term).
CREATE VIRTUAL TABLE utterances_fts USING fts5 (
    search_text, content = 'utterances', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER utterances_ai AFTER INSERT ON utterances BEGIN
    INSERT INTO utterances_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER utterances_ad AFTER DELETE ON utterances BEGIN
    INSERT INTO utterances_fts (utterances_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER utterances_au AFTER UPDATE ON utterances BEGIN
    INSERT INTO utterances_fts (utterances_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO utterances_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;

-- Every event the agent's sidebar received (transcripts, cards, offers, signals, feedback), in
-- order: the source of replay, QA and the summary.
CREATE TABLE events (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    emitted_s REAL NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);

-- What a call is about, for filtering: intents matched, signals raised, offers shown.
CREATE TABLE call_tags (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (call_id, kind, value)
);
CREATE INDEX call_tags_value ON call_tags (kind, value);

CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    card_id TEXT NOT NULL,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX feedback_call ON feedback (call_id);
