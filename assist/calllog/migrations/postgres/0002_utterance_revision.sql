-- A final may be revised after it was shown (a slower decode that disagreed): the row keeps the
-- latest revision; the events table keeps every version the sidebar saw.
-- depends: 0001_initial
ALTER TABLE utterances ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
