"""Shared helpers for the collection's tests (emulator process, leak scanning)."""
