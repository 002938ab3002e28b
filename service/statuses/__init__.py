"""Status tracking: key-result statuses stored, rechecked after ingestion, windows kept."""
