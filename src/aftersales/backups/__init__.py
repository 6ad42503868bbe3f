"""Backups and restore (SEC-3): `aftersales backup`, `aftersales restore ARCHIVE`, and the worker's daily backup."""
