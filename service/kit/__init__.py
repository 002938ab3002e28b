"""Checks and row lookups every domain shares (Polar's `kit/`); imports only models and errors."""
