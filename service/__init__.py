"""Lodestar: goal alignment around a North Star metric tree."""
