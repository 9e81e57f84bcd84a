"""From a file to a dataset: import jobs (:mod:`.jobs`), the background runner, the pipeline
that reads a file into a new dataset file, the helper processes that do the reading, and the
bulk-load engine that writes rows to SQLite. No Flask here."""
