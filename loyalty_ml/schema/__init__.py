"""Data contracts: canonical columns, column mapping and validation of the input tables."""
