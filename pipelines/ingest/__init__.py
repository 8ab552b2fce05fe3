"""Ingest: a day of landed files into raw.*, every line loaded or quarantined.

landing.py   where files land, and their fingerprints
registry.py  the sources: pattern, loader, raw table
parsers/     one loader per format, each turning a day of files into a Batch (specs.py)
rules.py     the ranges, sets and skew window the loaders apply and the GX suites are built from
writer.py    the one transaction that replaces a day: rows, quarantine, audit"""
