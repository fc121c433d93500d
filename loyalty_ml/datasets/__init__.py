"""Datasets: the loyalty simulator with ground truth, and loaders for public data sets."""
