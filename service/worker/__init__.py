"""Background work: the worker loop, its cadence, the daily sweep, what serve runs beside requests."""
