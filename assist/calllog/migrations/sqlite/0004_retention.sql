-- Retention: the risk assessed after each call, and the worklist of customers at risk, with
-- what the retention team did about them (keep in step with ../postgres/0004_retention.sql).
-- depends: 0003_wrapup
CREATE TABLE risk_assessments (
    call_id TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    caller_number TEXT,
    score REAL NOT NULL,
    value REAL NOT NULL,
    priority REAL NOT NULL,
    at_risk INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    assessed_at REAL NOT NULL
);
CREATE INDEX risk_caller ON risk_assessments (caller_number, assessed_at);

CREATE TABLE retention_customers (
    caller_number TEXT PRIMARY KEY,
    name TEXT,
    segment TEXT,
    value REAL NOT NULL,
    score REAL NOT NULL,
    priority REAL NOT NULL,
    at_risk INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    last_call_id TEXT NOT NULL,
    last_call_at REAL NOT NULL,
    calls INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'open',
    note TEXT,
    contacted_at REAL,
    contacted_by TEXT,
    updated_at REAL NOT NULL
);
CREATE INDEX retention_rank ON retention_customers (at_risk, status, priority DESC);
CREATE INDEX retention_segment ON retention_customers (segment, priority DESC);
