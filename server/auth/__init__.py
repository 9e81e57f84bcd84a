"""Signing in and out, first-run set-up, the idle lock, and the guard in front of every route."""
